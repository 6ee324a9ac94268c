//! The C face of xipc. This layer converts arguments, runs every body inside
//! the panic boundary and maps errors to status codes; it decides nothing.
//!
//! The conventions every function follows are written once, for C
//! readers, at the top of `xipc.h` (cbindgen.toml's `header`) and in the
//! README's "C API conventions". The doc comment of each exported function
//! is its C documentation: it speaks C and states only what differs from
//! those conventions. The pointer contracts that Rust would put in a
//! `# Safety` section are those conventions (hence the allowed lint).

#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)]

pub mod mq;
mod panic;
pub mod rpc;
pub mod rpcbind;
pub mod status;
pub mod stream;
pub mod tls;
pub mod wellknown;
pub mod xdr;

#[allow(unused_imports)]
pub(crate) use panic::{guard, set_error};

use std::ffi::{c_char, c_int, CStr};

/// A timeout argument: wait as long as it takes.
pub const XIPC_WAIT_FOREVER: i64 = -1;
/// A timeout argument: do not wait (fail with `XIPC_ETIMEDOUT` at once when
/// the call cannot complete without waiting).
pub const XIPC_NO_WAIT: i64 = 0;

/// A C timeout (milliseconds, `XIPC_WAIT_FOREVER` or 0 and more) as a
/// duration, None for forever; other negative values are refused.
pub(crate) fn timeout_arg(ms: i64) -> crate::Result<Option<std::time::Duration>> {
    match ms {
        XIPC_WAIT_FOREVER => Ok(None),
        ms => u64::try_from(ms)
            .map(|ms| Some(std::time::Duration::from_millis(ms)))
            .map_err(|_| {
                crate::Error::InvalidArgument(format!(
                    "timeout {ms} ms: give 0 or more milliseconds, or XIPC_WAIT_FOREVER (-1)"
                ))
            }),
    }
}

/// Fails with `XIPC_EINVAL` ("`name` is NULL") when a pointer argument is NULL.
macro_rules! nonnull {
    ($ptr:expr) => {
        if $ptr.is_null() {
            return Err($crate::Error::InvalidArgument(format!(
                "{} is NULL",
                stringify!($ptr)
            )));
        }
    };
}
pub(crate) use nonnull;

/// The version of the library that is running, as "MAJOR.MINOR.PATCH".
/// Compare with `XIPC_VERSION_STRING`, the version of the header.
#[no_mangle]
pub extern "C" fn xipc_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// A static, human-readable name for a status code. Never NULL.
#[no_mangle]
pub extern "C" fn xipc_strerror(code: c_int) -> *const c_char {
    status::name(code).as_ptr()
}

/// The detail of this thread's last error: what `xipc_strerror` of its
/// status does not say (the object, the call, the byte offset of malformed
/// XDR...), so that `"%s: %s"` of the two reads well. "" when the status
/// says everything or nothing failed yet. Valid until the next xipc call on
/// this thread. Never NULL.
#[no_mangle]
pub extern "C" fn xipc_last_error() -> *const c_char {
    panic::last_error_ptr()
}

/// The errno behind the last `XIPC_EOS` error on this thread (0 when none).
#[no_mangle]
pub extern "C" fn xipc_last_os_error() -> c_int {
    panic::last_os_error()
}

/// Frees a byte buffer that xipc allocated and returned with its length
/// (`xipc_encoder_take`, `xipc_stream_receive_alloc`, `xipc_rpc_client_call`);
/// `data` and `len` are exactly what that function gave. Accepts NULL.
#[no_mangle]
pub unsafe extern "C" fn xipc_bytes_free(data: *mut u8, len: usize) {
    if data.is_null() {
        return;
    }
    if let Some((start, capacity)) = Inside::take(data) {
        // SAFETY: `into_c_bytes_at` recorded the allocation of a Vec<u8>
        // of this start and capacity, and forgot that Vec.
        drop(unsafe { Vec::from_raw_parts(start, 0, capacity) });
        return;
    }
    // SAFETY: by contract `data`/`len` came from `into_c_bytes` (a boxed slice).
    drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(data, len)) });
}

/// Hands a byte vector to C as (pointer, length); C frees it with `xipc_bytes_free`.
pub(crate) fn into_c_bytes(bytes: Vec<u8>) -> (*mut u8, usize) {
    let boxed = bytes.into_boxed_slice();
    let len = boxed.len();
    (Box::into_raw(boxed).cast::<u8>(), len)
}

/// Hands `bytes[from..]` to C as (pointer, length), freed with
/// `xipc_bytes_free` like the others. Bytes behind a header (an RPC call's
/// results behind the reply header they were read with) are handed out in
/// place, not moved to the front: their allocation is recorded in
/// [`Inside`] by the address handed out.
pub(crate) fn into_c_bytes_at(bytes: Vec<u8>, from: usize) -> (*mut u8, usize) {
    let len = bytes.len() - from;
    if from == 0 {
        return into_c_bytes(bytes);
    }
    let mut bytes = std::mem::ManuallyDrop::new(bytes);
    let start = bytes.as_mut_ptr();
    // SAFETY: `from` <= `bytes.len()`, so the result points into the
    // vector or just past its end.
    let data = unsafe { start.add(from) };
    Inside::record(data, start, bytes.capacity());
    (data, len)
}

/// Buffers handed to C that begin inside their allocation: the start and
/// capacity of each one's allocation, by the address handed out. Frees
/// look here only while it holds any.
struct Inside;

type InsideMap = std::collections::HashMap<usize, (usize, usize)>;

static INSIDE: std::sync::OnceLock<std::sync::Mutex<InsideMap>> = std::sync::OnceLock::new();
static INSIDE_COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Inside {
    fn map() -> std::sync::MutexGuard<'static, InsideMap> {
        crate::sync::lock(INSIDE.get_or_init(Default::default))
    }

    fn record(data: *mut u8, start: *mut u8, capacity: usize) {
        let mut map = Inside::map();
        map.insert(data as usize, (start as usize, capacity));
        INSIDE_COUNT.store(map.len(), std::sync::atomic::Ordering::SeqCst);
    }

    /// The allocation (start, capacity) of `data`, forgotten, if `data`
    /// was handed out inside one.
    fn take(data: *mut u8) -> Option<(*mut u8, usize)> {
        if INSIDE_COUNT.load(std::sync::atomic::Ordering::SeqCst) == 0 {
            return None;
        }
        let mut map = Inside::map();
        let (start, capacity) = map.remove(&(data as usize))?;
        INSIDE_COUNT.store(map.len(), std::sync::atomic::Ordering::SeqCst);
        Some((start as *mut u8, capacity))
    }
}

/// Borrows a C byte buffer; a NULL pointer is allowed only with length 0.
///
/// # Safety
/// `data` must point to `len` readable bytes that outlive the returned slice.
pub(crate) unsafe fn slice_arg<'a>(data: *const u8, len: usize) -> crate::Result<&'a [u8]> {
    if data.is_null() {
        if len == 0 {
            return Ok(&[]);
        }
        return Err(crate::Error::InvalidArgument(format!(
            "data is NULL but length is {len}"
        )));
    }
    // SAFETY: non-NULL, and the caller promises `len` readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(data, len) })
}

/// Borrows a NUL-terminated UTF-8 C string argument.
///
/// # Safety
/// `s` must be NULL or point to a NUL-terminated string that outlives the result.
#[allow(dead_code)]
pub(crate) unsafe fn str_arg<'a>(s: *const c_char, what: &str) -> crate::Result<&'a str> {
    if s.is_null() {
        return Err(crate::Error::InvalidArgument(format!("{what} is NULL")));
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    let c = unsafe { CStr::from_ptr(s) };
    c.to_str()
        .map_err(|_| crate::Error::InvalidArgument(format!("{what} is not valid UTF-8")))
}

/// Writes `value` through an out-pointer (which `guard` callers check for NULL).
///
/// # Safety
/// `out` must be NULL or valid for a write of `T`.
pub(crate) unsafe fn write_out<T>(out: *mut T, value: T) -> crate::Result<()> {
    if out.is_null() {
        return Err(crate::Error::InvalidArgument(
            "output pointer is NULL".into(),
        ));
    }
    // SAFETY: non-NULL and writable by the caller's contract.
    unsafe { out.write(value) };
    Ok(())
}

/// Internal, for tests only: panics inside the panic boundary, so tests in
/// C and Python can check that a panic comes back as `XIPC_EINTERNAL`
/// (with "panic" in `xipc_last_error()`) and the library keeps working.
/// Not part of the API: left out of `xipc.h` (see cbindgen.toml) and may
/// change or go away in any release.
#[doc(hidden)]
#[no_mangle]
pub extern "C" fn xipc__test_panic() -> c_int {
    guard(|| panic!("xipc__test_panic: deliberate panic for tests"))
}
