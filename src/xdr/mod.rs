//! XDR, the External Data Representation of RFC 4506.
//!
//! [`Encoder`] appends XDR items to a growing buffer; [`Decoder`] reads them
//! back from a borrowed slice, checking every length against the input and
//! its [`Limits`] before it allocates. The serde format in this module maps
//! Rust types onto the same encoding (see the README's type table).

pub mod bulk;
mod de;
mod decode;
mod encode;
mod limits;
mod ser;

pub use de::{from_slice, from_slice_with_limits};
pub use decode::Decoder;
pub use encode::Encoder;
pub use limits::Limits;
pub use ser::{to_vec, to_writer, Serializer};

/// Bytes of padding that follow `len` bytes of opaque data.
#[inline]
pub const fn padding(len: usize) -> usize {
    (4 - (len & 3)) & 3
}

/// Bytes that `len` bytes of opaque data occupy on the wire, padding included.
#[inline]
pub const fn padded_len(len: usize) -> usize {
    len + padding(len)
}
