//! What generated Rust code builds on: the [`XdrType`] trait.

use crate::xdr::{Decoder, Encoder};
use crate::Result;

/// A type with an XDR encoding; `xipc gen --lang rust` implements it for
/// every struct, union and enum of a `.x` file.
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
