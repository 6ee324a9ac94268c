//! XDR, the External Data Representation of RFC 4506.
//!
//! [`Encoder`] appends XDR items to a growing buffer; [`Decoder`] reads them
//! back from a borrowed slice, checking every length against the input and
//! its [`Limits`] before it allocates. The serde format in this module maps
//! Rust types onto the same encoding (see the README's type table).
//!
//! ```
//! use xipc::xdr::{self, Decoder, Encoder};
//!
//! // By hand: an int, then a string padded to a multiple of 4 bytes.
//! let mut enc = Encoder::new();
//! enc.put_int(-2);
//! enc.put_string("abc")?;
//! assert_eq!(enc.as_bytes(), [0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 3, b'a', b'b', b'c', 0]);
//!
//! // Through serde: the same bytes from a Rust value, and back.
//! #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
//! struct Item { n: i32, name: String }
//! let item = Item { n: -2, name: "abc".into() };
//! assert_eq!(xdr::to_vec(&item)?, enc.as_bytes());
//! assert_eq!(xdr::from_slice::<Item>(enc.as_bytes())?, item);
//!
//! // A truncated message fails with the offset of the item it cut.
//! let mut dec = Decoder::new(&enc.as_bytes()[..9]);
//! dec.get_int()?;
//! assert!(matches!(dec.get_string(None), Err(xipc::Error::Xdr { offset: 4, .. })));
//! # Ok::<(), xipc::Error>(())
//! ```

pub mod bulk;
mod de;
mod decode;
mod encode;
mod error;
mod limits;
mod ser;

pub use de::{from_slice, from_slice_with_limits};
pub use decode::Decoder;
pub use encode::Encoder;
pub use limits::Limits;
pub use ser::{to_vec, to_writer};

/// Bytes of padding that follow `len` bytes of opaque data.
///
/// ```
/// assert_eq!([0, 1, 2, 3, 4].map(xipc::xdr::padding), [0, 3, 2, 1, 0]);
/// ```
#[inline]
pub const fn padding(len: usize) -> usize {
    (4 - (len & 3)) & 3
}

/// Bytes that `len` bytes of opaque data occupy on the wire, padding included.
///
/// ```
/// assert_eq!(xipc::xdr::padded_len(5), 8);
/// ```
#[inline]
pub const fn padded_len(len: usize) -> usize {
    len + padding(len)
}
