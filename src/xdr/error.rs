//! How the serde serializer and deserializer carry [`Error`]: in a box, so
//! that the `Result` of every small call stays two registers wide. With the
//! full-sized error moving through each call, encoding and decoding measured
//! 1.2–1.5× slower. Public functions unbox it before returning.

use serde::{de, ser};

use crate::Error;

/// What the serializer's and deserializer's methods return.
pub(super) type DResult<T> = std::result::Result<T, Boxed>;

/// Offset given to errors raised by serde impls (through `de::Error::custom`),
/// which do not know where they are; the deserializer fills it in with the
/// offset of the value being decoded.
pub(super) const UNLOCATED: usize = usize::MAX;

/// An [`Error`] in a box.
#[derive(Debug)]
pub struct Boxed(Box<Error>);

impl From<Error> for Boxed {
    #[cold]
    fn from(err: Error) -> Boxed {
        Boxed(Box::new(err))
    }
}

impl From<Boxed> for Error {
    fn from(err: Boxed) -> Error {
        *err.0
    }
}

impl std::fmt::Display for Boxed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Boxed {}

impl de::Error for Boxed {
    #[cold]
    fn custom<T: std::fmt::Display>(msg: T) -> Boxed {
        Error::xdr(UNLOCATED, msg.to_string()).into()
    }
}

impl ser::Error for Boxed {
    #[cold]
    fn custom<T: std::fmt::Display>(msg: T) -> Boxed {
        Error::InvalidArgument(msg.to_string()).into()
    }
}

/// Gives an error raised by a serde impl the offset `at`.
#[cold]
pub(super) fn locate(mut err: Boxed, at: usize) -> Boxed {
    if let Error::Xdr { offset, .. } = &mut *err.0 {
        if *offset == UNLOCATED {
            *offset = at;
        }
    }
    err
}

/// The error, out of its box, located at `at` if it was not yet.
pub(super) fn unbox(err: Boxed, at: usize) -> Error {
    *locate(err, at).0
}
