//! What generated Rust code builds on: the [`XdrType`] trait.

use crate::xdr::{Decoder, Encoder};
use crate::Result;

/// A type with an XDR encoding; `xipc gen --lang rust` implements it for
/// every struct, union and enum of a `.x` file, much as here by hand:
///
/// ```
/// use xipc::idl::XdrType;
/// use xipc::xdr::{Decoder, Encoder};
///
/// #[derive(Debug, PartialEq)]
/// struct Point { x: i32, y: i32 }
///
/// impl XdrType for Point {
///     fn encode(&self, e: &mut Encoder) -> xipc::Result<()> {
///         e.put_int(self.x);
///         e.put_int(self.y);
///         Ok(())
///     }
///     fn decode(d: &mut Decoder<'_>) -> xipc::Result<Point> {
///         Ok(Point { x: d.get_int()?, y: d.get_int()? })
///     }
/// }
///
/// let bytes = Point { x: 1, y: -1 }.to_bytes()?;
/// assert_eq!(bytes, [0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]);
/// assert_eq!(Point::from_bytes(&bytes)?, Point { x: 1, y: -1 });
/// assert!(Point::from_bytes(&bytes[..6]).is_err());
/// # Ok::<(), xipc::Error>(())
/// ```
pub trait XdrType: Sized {
    /// Appends the value's encoding.
    fn encode(&self, enc: &mut Encoder) -> Result<()>;

    /// Reads a value, enforcing the bounds the `.x` file declares.
    fn decode(dec: &mut Decoder<'_>) -> Result<Self>;

    /// The value's encoding as a new buffer.
    fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut enc = Encoder::new();
        self.encode(&mut enc)?;
        Ok(enc.into_bytes())
    }

    /// Decodes a value that must fill `bytes` exactly.
    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut dec = Decoder::new(bytes);
        let v = Self::decode(&mut dec)?;
        dec.finish()?;
        Ok(v)
    }
}
