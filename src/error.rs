//! The one error type of xipc. Every variant has a stable status code
//! (see [`Error::code`]) which is what C sees and what Python maps to an
//! exception class.
//!
//! ```
//! use xipc::xdr::Decoder;
//! use xipc::Error;
//!
//! // Three bytes cannot hold an XDR int: the error says where it stopped.
//! let err = Decoder::new(&[0, 0, 1]).get_int().unwrap_err();
//! assert!(matches!(err, Error::Xdr { offset: 0, .. }));
//! assert_eq!(err.code(), xipc::error::code::XDR);
//! ```

use std::io;

/// An RPC authentication status (RFC 5531 `auth_stat`).
pub type AuthStat = u32;

/// Everything that can go wrong in xipc.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An argument was out of range, NULL, or otherwise unusable.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A nonblocking operation could not proceed now.
    #[error("operation would block")]
    WouldBlock,
    /// A timed operation did not complete in time.
    #[error("timed out: {0}")]
    TimedOut(String),
    /// A message exceeds the size its channel or buffer allows.
    #[error("message too large: {size} bytes, at most {limit} allowed")]
    MessageTooLarge {
        /// The message's size in bytes.
        size: usize,
        /// The most the channel or buffer takes.
        limit: usize,
    },
    /// An array has more elements than the buffer given for it holds (a
    /// C caller's array of `limit` items); the same status as
    /// [`Error::MessageTooLarge`], counted in elements instead of bytes.
    #[error("message too large: {count} elements, at most {limit} allowed")]
    TooManyElements {
        /// How many elements the array has.
        count: usize,
        /// How many the buffer holds.
        limit: usize,
    },
    /// A named object (queue, FIFO, socket path, host) does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// An object that was to be created exclusively already exists.
    #[error("already exists: {0}")]
    Exists(String),
    /// The caller may not do this.
    #[error("permission denied: {0}")]
    Permission(String),
    /// The peer closed the connection (possibly in the middle of a message).
    #[error("closed by peer: {0}")]
    Closed(String),
    /// Bytes that are not valid XDR for the type being decoded.
    #[error("malformed XDR at byte {offset}: {reason}")]
    Xdr {
        /// Where in the input the bad item starts.
        offset: usize,
        /// What is wrong there.
        reason: String,
    },
    /// Input that would exceed a configured limit.
    #[error("limit exceeded at byte {offset}: {reason}")]
    Limit {
        /// Where in the input the item over the limit starts.
        offset: usize,
        /// Which limit, and by how much.
        reason: String,
    },
    /// A message that breaks the protocol (record marking, RPC header).
    #[error("protocol error: {0}")]
    Protocol(String),
    /// Something XDR (or this channel) cannot express.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A blocking call was interrupted by a signal.
    #[error("interrupted by a signal")]
    Interrupted,
    /// RPC: the program is not served (PROG_UNAVAIL).
    #[error("RPC: program unavailable")]
    ProgUnavail,
    /// RPC: the version is not served; the supported range is given (PROG_MISMATCH).
    #[error("RPC: program version mismatch; the server serves versions {low} to {high}")]
    ProgMismatch {
        /// The lowest version the server has.
        low: u32,
        /// The highest version the server has.
        high: u32,
    },
    /// RPC: the procedure is not served (PROC_UNAVAIL).
    #[error("RPC: procedure unavailable")]
    ProcUnavail,
    /// RPC: the server could not decode the arguments (GARBAGE_ARGS).
    #[error("RPC: server could not decode the arguments")]
    GarbageArgs,
    /// RPC: the server failed while handling the call (SYSTEM_ERR).
    #[error("RPC: remote system error")]
    SystemErr,
    /// RPC: the server does not speak this RPC version (RPC_MISMATCH).
    #[error("RPC: RPC version mismatch; the server speaks RPC versions {low} to {high}")]
    RpcMismatch {
        /// The lowest RPC version the server speaks.
        low: u32,
        /// The highest RPC version the server speaks.
        high: u32,
    },
    /// RPC: the call was refused by authentication (AUTH_ERROR).
    #[error("RPC: authentication error: {}", auth_stat_text(*.0))]
    Auth(AuthStat),
    /// An operating-system call failed.
    #[error("{context}: {source}")]
    Os {
        /// What xipc was doing (the call and its object).
        context: String,
        /// The operating system's error, with its errno.
        #[source]
        source: io::Error,
    },
    /// A bug in xipc, such as a caught panic.
    #[error("internal error: {0}")]
    Internal(String),
}

/// `Result` with xipc's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Stable status codes, as C sees them (0 is success); the header spells
/// them `XIPC_E*` (see `ffi::status`).
///
/// cbindgen:ignore
pub mod code {
    /// Success.
    pub const OK: i32 = 0;
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument).
    pub const INVALID_ARGUMENT: i32 = -1;
    /// [`Error::WouldBlock`](crate::Error::WouldBlock).
    pub const WOULD_BLOCK: i32 = -2;
    /// [`Error::TimedOut`](crate::Error::TimedOut).
    pub const TIMED_OUT: i32 = -3;
    /// [`Error::MessageTooLarge`](crate::Error::MessageTooLarge) and
    /// [`Error::TooManyElements`](crate::Error::TooManyElements).
    pub const MESSAGE_TOO_LARGE: i32 = -4;
    /// [`Error::NotFound`](crate::Error::NotFound).
    pub const NOT_FOUND: i32 = -5;
    /// [`Error::Exists`](crate::Error::Exists).
    pub const EXISTS: i32 = -6;
    /// [`Error::Permission`](crate::Error::Permission).
    pub const PERMISSION: i32 = -7;
    /// [`Error::Closed`](crate::Error::Closed).
    pub const CLOSED: i32 = -8;
    /// [`Error::Xdr`](crate::Error::Xdr).
    pub const XDR: i32 = -9;
    /// [`Error::Limit`](crate::Error::Limit).
    pub const LIMIT: i32 = -10;
    /// [`Error::Protocol`](crate::Error::Protocol).
    pub const PROTOCOL: i32 = -11;
    /// [`Error::Unsupported`](crate::Error::Unsupported).
    pub const UNSUPPORTED: i32 = -12;
    /// [`Error::Interrupted`](crate::Error::Interrupted).
    pub const INTERRUPTED: i32 = -13;
    /// [`Error::ProgUnavail`](crate::Error::ProgUnavail).
    pub const PROG_UNAVAIL: i32 = -20;
    /// [`Error::ProgMismatch`](crate::Error::ProgMismatch).
    pub const PROG_MISMATCH: i32 = -21;
    /// [`Error::ProcUnavail`](crate::Error::ProcUnavail).
    pub const PROC_UNAVAIL: i32 = -22;
    /// [`Error::GarbageArgs`](crate::Error::GarbageArgs).
    pub const GARBAGE_ARGS: i32 = -23;
    /// [`Error::SystemErr`](crate::Error::SystemErr).
    pub const SYSTEM_ERR: i32 = -24;
    /// [`Error::RpcMismatch`](crate::Error::RpcMismatch).
    pub const RPC_MISMATCH: i32 = -25;
    /// [`Error::Auth`](crate::Error::Auth).
    pub const AUTH: i32 = -26;
    /// [`Error::Os`](crate::Error::Os).
    pub const OS: i32 = -30;
    /// [`Error::Internal`](crate::Error::Internal).
    pub const INTERNAL: i32 = -31;
}

impl Error {
    /// The stable status code of this error (negative).
    pub fn code(&self) -> i32 {
        use code::*;
        match self {
            Error::InvalidArgument(_) => INVALID_ARGUMENT,
            Error::WouldBlock => WOULD_BLOCK,
            Error::TimedOut(_) => TIMED_OUT,
            Error::MessageTooLarge { .. } | Error::TooManyElements { .. } => MESSAGE_TOO_LARGE,
            Error::NotFound(_) => NOT_FOUND,
            Error::Exists(_) => EXISTS,
            Error::Permission(_) => PERMISSION,
            Error::Closed(_) => CLOSED,
            Error::Xdr { .. } => XDR,
            Error::Limit { .. } => LIMIT,
            Error::Protocol(_) => PROTOCOL,
            Error::Unsupported(_) => UNSUPPORTED,
            Error::Interrupted => INTERRUPTED,
            Error::ProgUnavail => PROG_UNAVAIL,
            Error::ProgMismatch { .. } => PROG_MISMATCH,
            Error::ProcUnavail => PROC_UNAVAIL,
            Error::GarbageArgs => GARBAGE_ARGS,
            Error::SystemErr => SYSTEM_ERR,
            Error::RpcMismatch { .. } => RPC_MISMATCH,
            Error::Auth(_) => AUTH,
            Error::Os { .. } => OS,
            Error::Internal(_) => INTERNAL,
        }
    }

    /// The errno behind an [`Error::Os`], if any.
    pub fn os_errno(&self) -> Option<i32> {
        match self {
            Error::Os { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }

    /// Wraps an OS error with what was being done. Common errnos become their
    /// own variants (EAGAIN → [`Error::WouldBlock`], ENOENT → [`Error::NotFound`],
    /// EEXIST → [`Error::Exists`], EACCES/EPERM → [`Error::Permission`],
    /// ETIMEDOUT → [`Error::TimedOut`], EINTR → [`Error::Interrupted`]); the
    /// rest stay [`Error::Os`] with their errno.
    pub fn os(context: impl Into<String>, source: io::Error) -> Error {
        let context = context.into();
        match source.raw_os_error() {
            Some(libc::EAGAIN) => Error::WouldBlock,
            Some(libc::ENOENT) => Error::NotFound(format!("{context}: {source}")),
            Some(libc::EEXIST) => Error::Exists(format!("{context}: {source}")),
            Some(libc::EACCES) | Some(libc::EPERM) => {
                Error::Permission(format!("{context}: {source}"))
            }
            Some(libc::ETIMEDOUT) => Error::TimedOut(context),
            Some(libc::EINTR) => Error::Interrupted,
            _ => Error::Os { context, source },
        }
    }

    /// [`Error::os`] for the calling thread's current errno.
    pub fn last_os(context: impl Into<String>) -> Error {
        Error::os(context, io::Error::last_os_error())
    }

    /// [`Error::os`] for a `nix` errno.
    pub fn nix(context: impl Into<String>, errno: nix::errno::Errno) -> Error {
        Error::os(context, io::Error::from_raw_os_error(errno as i32))
    }

    /// Shorthand for a malformed-XDR error.
    pub fn xdr(offset: usize, reason: impl Into<String>) -> Error {
        Error::Xdr {
            offset,
            reason: reason.into(),
        }
    }

    /// Shorthand for a limit error.
    pub fn limit(offset: usize, reason: impl Into<String>) -> Error {
        Error::Limit {
            offset,
            reason: reason.into(),
        }
    }

    /// What this error says beyond its status name ([`Error::describe_code`]),
    /// or "" when the status says everything: the message C gets from
    /// `xipc_last_error()` and Python puts in its exception, both of which
    /// name the status already.
    ///
    /// ```
    /// use xipc::Error;
    /// let err = Error::Closed("write: Broken pipe".into());
    /// assert_eq!(err.to_string(), "closed by peer: write: Broken pipe");
    /// assert_eq!(err.detail(), "write: Broken pipe");
    /// assert_eq!(Error::xdr(4, "int needs 4 bytes").detail(), "at byte 4: int needs 4 bytes");
    /// assert_eq!(Error::WouldBlock.detail(), "");
    /// ```
    pub fn detail(&self) -> String {
        match self {
            Error::InvalidArgument(s)
            | Error::TimedOut(s)
            | Error::NotFound(s)
            | Error::Exists(s)
            | Error::Permission(s)
            | Error::Closed(s)
            | Error::Protocol(s)
            | Error::Unsupported(s)
            | Error::Internal(s) => s.clone(),
            Error::MessageTooLarge { size, limit } => {
                format!("{size} bytes, at most {limit} allowed")
            }
            Error::TooManyElements { count, limit } => {
                format!("{count} elements, at most {limit} allowed")
            }
            Error::Xdr { offset, reason } | Error::Limit { offset, reason } => {
                format!("at byte {offset}: {reason}")
            }
            Error::ProgMismatch { low, high } => {
                format!("the server serves versions {low} to {high}")
            }
            Error::RpcMismatch { low, high } => {
                format!("the server speaks RPC versions {low} to {high}")
            }
            Error::Auth(stat) => auth_stat_text(*stat),
            Error::Os { context, source } => format!("{context}: {source}"),
            Error::WouldBlock
            | Error::Interrupted
            | Error::ProgUnavail
            | Error::ProcUnavail
            | Error::GarbageArgs
            | Error::SystemErr => String::new(),
        }
    }

    /// The name of a status code, as `xipc_strerror` returns it.
    pub fn describe_code(code: i32) -> &'static str {
        use code::*;
        match code {
            OK => "success",
            INVALID_ARGUMENT => "invalid argument",
            WOULD_BLOCK => "operation would block",
            TIMED_OUT => "timed out",
            MESSAGE_TOO_LARGE => "message too large",
            NOT_FOUND => "not found",
            EXISTS => "already exists",
            PERMISSION => "permission denied",
            CLOSED => "closed by peer",
            XDR => "malformed XDR",
            LIMIT => "limit exceeded",
            PROTOCOL => "protocol error",
            UNSUPPORTED => "unsupported",
            INTERRUPTED => "interrupted by a signal",
            PROG_UNAVAIL => "RPC program unavailable",
            PROG_MISMATCH => "RPC program version mismatch",
            PROC_UNAVAIL => "RPC procedure unavailable",
            GARBAGE_ARGS => "RPC garbage arguments",
            SYSTEM_ERR => "RPC remote system error",
            RPC_MISMATCH => "RPC version mismatch",
            AUTH => "RPC authentication error",
            OS => "operating-system error",
            INTERNAL => "internal error",
            _ => "unknown status code",
        }
    }
}

/// An `auth_stat` (RFC 5531 §9) with its name, such as "AUTH_BADCRED (1)".
fn auth_stat_text(stat: AuthStat) -> String {
    let name = match stat {
        0 => "AUTH_OK",
        1 => "AUTH_BADCRED",
        2 => "AUTH_REJECTEDCRED",
        3 => "AUTH_BADVERF",
        4 => "AUTH_REJECTEDVERF",
        5 => "AUTH_TOOWEAK",
        6 => "RPCSEC_GSS_INVALIDRESP",
        7 => "RPCSEC_GSS_FAILED",
        13 => "RPCSEC_GSS_CREDPROBLEM",
        14 => "RPCSEC_GSS_CTXPROBLEM",
        _ => return format!("auth_stat {stat}"),
    };
    format!("{name} ({stat})")
}

impl From<io::Error> for Error {
    fn from(err: io::Error) -> Error {
        match err.kind() {
            io::ErrorKind::UnexpectedEof => Error::Closed(err.to_string()),
            io::ErrorKind::TimedOut => Error::TimedOut(err.to_string()),
            io::ErrorKind::WouldBlock if err.raw_os_error().is_none() => Error::WouldBlock,
            _ => Error::os("I/O", err),
        }
    }
}
