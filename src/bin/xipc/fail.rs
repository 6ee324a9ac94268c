//! Why a command failed: a message for stderr and the exit status for it.

use crate::status;
use xipc::Error;

/// A failed command: what to print on stderr and which status to exit with.
#[derive(Debug)]
pub struct Failure {
    pub status: u8,
    pub message: String,
}

/// What every subcommand returns.
pub type Outcome<T = ()> = Result<T, Failure>;

impl Failure {
    /// The operation failed (status 1).
    pub fn failed(message: impl Into<String>) -> Failure {
        Failure {
            status: status::FAILED,
            message: message.into(),
        }
    }

    /// The command line asks for something impossible (status 2).
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            status: status::USAGE,
            message: message.into(),
        }
    }

    /// The object does not exist (status 4).
    pub fn not_found(message: impl Into<String>) -> Failure {
        Failure {
            status: status::NOT_FOUND,
            message: message.into(),
        }
    }

    /// Puts what was being done in front of the message.
    pub fn context(mut self, what: impl std::fmt::Display) -> Failure {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

/// The exit status for a library error: a bad argument is a usage error,
/// a wait that ran out a timeout, a missing queue or RPC program "not found",
/// everything else a failed operation.
pub fn status_of(err: &Error) -> u8 {
    match err {
        Error::InvalidArgument(_) => status::USAGE,
        Error::TimedOut(_) | Error::WouldBlock => status::TIMED_OUT,
        Error::NotFound(_)
        | Error::ProgUnavail
        | Error::ProgMismatch { .. }
        | Error::ProcUnavail => status::NOT_FOUND,
        _ => status::FAILED,
    }
}

impl From<Error> for Failure {
    fn from(err: Error) -> Failure {
        Failure {
            status: status_of(&err),
            message: err.to_string(),
        }
    }
}

/// Adds context to a library result, keeping its exit status.
pub trait Context<T> {
    fn context(self, what: impl std::fmt::Display) -> Outcome<T>;
}

impl<T> Context<T> for Result<T, Error> {
    fn context(self, what: impl std::fmt::Display) -> Outcome<T> {
        self.map_err(|e| Failure::from(e).context(what))
    }
}

impl<T> Context<T> for std::io::Result<T> {
    fn context(self, what: impl std::fmt::Display) -> Outcome<T> {
        self.map_err(|e| {
            let status = if e.kind() == std::io::ErrorKind::NotFound {
                status::NOT_FOUND
            } else {
                status::FAILED
            };
            Failure {
                status,
                message: format!("{what}: {e}"),
            }
        })
    }
}
