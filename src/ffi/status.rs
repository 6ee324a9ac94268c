//! Status codes as the C header spells them. The values never change and are
//! never reused; they mirror `crate::error::code`.

use std::ffi::{c_int, CStr};

use crate::error::code;

/// Success.
pub const XIPC_OK: c_int = 0;
/// An argument was NULL, out of range or otherwise unusable.
pub const XIPC_EINVAL: c_int = -1;
/// A nonblocking operation could not proceed now.
pub const XIPC_EAGAIN: c_int = -2;
/// A timed operation did not complete in time.
pub const XIPC_ETIMEDOUT: c_int = -3;
/// A message exceeds what its channel or buffer allows.
pub const XIPC_EMSGSIZE: c_int = -4;
/// A named object does not exist.
pub const XIPC_ENOENT: c_int = -5;
/// An object to be created exclusively already exists.
pub const XIPC_EEXIST: c_int = -6;
/// Permission denied.
pub const XIPC_EPERM: c_int = -7;
/// The peer closed the connection.
pub const XIPC_ECLOSED: c_int = -8;
/// Malformed XDR.
pub const XIPC_EXDR: c_int = -9;
/// A configured limit would be exceeded.
pub const XIPC_ELIMIT: c_int = -10;
/// A protocol violation (record marking, RPC header).
pub const XIPC_EPROTO: c_int = -11;
/// Something XDR or the channel cannot express.
pub const XIPC_EUNSUPPORTED: c_int = -12;
/// A blocking call was interrupted by a signal.
pub const XIPC_EINTR: c_int = -13;
/// TLS failed: a handshake, a TLS record, or a peer without RPC-with-TLS.
pub const XIPC_ETLS: c_int = -14;
/// RPC PROG_UNAVAIL.
pub const XIPC_EPROG_UNAVAIL: c_int = -20;
/// RPC PROG_MISMATCH.
pub const XIPC_EPROG_MISMATCH: c_int = -21;
/// RPC PROC_UNAVAIL.
pub const XIPC_EPROC_UNAVAIL: c_int = -22;
/// RPC GARBAGE_ARGS.
pub const XIPC_EGARBAGE_ARGS: c_int = -23;
/// RPC SYSTEM_ERR.
pub const XIPC_ESYSTEM_ERR: c_int = -24;
/// RPC RPC_MISMATCH.
pub const XIPC_ERPC_MISMATCH: c_int = -25;
/// RPC AUTH_ERROR.
pub const XIPC_EAUTH: c_int = -26;
/// An operating-system call failed; `xipc_last_os_error()` gives the errno.
pub const XIPC_EOS: c_int = -30;
/// A bug in xipc (a caught panic).
pub const XIPC_EINTERNAL: c_int = -31;

const _: () = {
    assert!(XIPC_EINVAL == code::INVALID_ARGUMENT);
    assert!(XIPC_EAGAIN == code::WOULD_BLOCK);
    assert!(XIPC_ETIMEDOUT == code::TIMED_OUT);
    assert!(XIPC_EMSGSIZE == code::MESSAGE_TOO_LARGE);
    assert!(XIPC_ENOENT == code::NOT_FOUND);
    assert!(XIPC_EEXIST == code::EXISTS);
    assert!(XIPC_EPERM == code::PERMISSION);
    assert!(XIPC_ECLOSED == code::CLOSED);
    assert!(XIPC_EXDR == code::XDR);
    assert!(XIPC_ELIMIT == code::LIMIT);
    assert!(XIPC_EPROTO == code::PROTOCOL);
    assert!(XIPC_EUNSUPPORTED == code::UNSUPPORTED);
    assert!(XIPC_EINTR == code::INTERRUPTED);
    assert!(XIPC_ETLS == code::TLS);
    assert!(XIPC_EPROG_UNAVAIL == code::PROG_UNAVAIL);
    assert!(XIPC_EPROG_MISMATCH == code::PROG_MISMATCH);
    assert!(XIPC_EPROC_UNAVAIL == code::PROC_UNAVAIL);
    assert!(XIPC_EGARBAGE_ARGS == code::GARBAGE_ARGS);
    assert!(XIPC_ESYSTEM_ERR == code::SYSTEM_ERR);
    assert!(XIPC_ERPC_MISMATCH == code::RPC_MISMATCH);
    assert!(XIPC_EAUTH == code::AUTH);
    assert!(XIPC_EOS == code::OS);
    assert!(XIPC_EINTERNAL == code::INTERNAL);
};

/// The NUL-terminated name of a status code.
pub(crate) fn name(status: c_int) -> &'static CStr {
    use std::sync::OnceLock;
    static NAMES: OnceLock<Vec<(c_int, std::ffi::CString)>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        (-40..=0)
            .map(|c| {
                let text = crate::Error::describe_code(c);
                (c, std::ffi::CString::new(text).expect("no NUL in names"))
            })
            .collect()
    });
    names
        .iter()
        .find(|(c, _)| *c == status)
        .map(|(_, s)| s.as_c_str())
        .unwrap_or(c"unknown status code")
}
