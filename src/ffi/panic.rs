//! The panic boundary and the per-thread error slot.

use std::cell::{Cell, RefCell};
use std::ffi::{c_char, c_int, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{code, Error};

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
    static LAST_OS_ERROR: Cell<c_int> = const { Cell::new(0) };
}

/// Records `err` as this thread's last error and returns its status code.
/// The message is the error's detail: C prints it after `xipc_strerror`
/// and Python after the exception's class, which both name the status.
pub(crate) fn set_error(err: &Error) -> c_int {
    let text = err.detail().replace('\0', "\\0");
    LAST_ERROR.with(|slot| {
        *slot.borrow_mut() = CString::new(text).unwrap_or_default();
    });
    LAST_OS_ERROR.with(|slot| slot.set(err.os_errno().unwrap_or(0)));
    err.code()
}

pub(crate) fn last_error_ptr() -> *const c_char {
    LAST_ERROR.with(|slot| slot.borrow().as_ptr())
}

pub(crate) fn last_os_error() -> c_int {
    LAST_OS_ERROR.with(Cell::get)
}

/// Runs an exported function's body: `Ok` is 0, an error is recorded and
/// its code returned, and a panic becomes `XIPC_EINTERNAL` instead of
/// unwinding into C.
pub(crate) fn guard<F>(body: F) -> c_int
where
    F: FnOnce() -> crate::Result<()>,
{
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => code::OK,
        Ok(Err(err)) => set_error(&err),
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_error(&Error::Internal(format!("panic: {what}")))
        }
    }
}
