//! Serde serializer: Rust values to XDR (the README's type table says which
//! Rust type becomes which XDR type).

use std::io::Write;

use serde::ser::{self, Serialize};

use super::error::{Boxed, DResult};
use super::padding;
use crate::{Error, Result};

/// Encodes `value` as XDR into a new vector.
///
/// ```
/// #[derive(serde::Serialize)]
/// struct Point { x: i32, y: i32 }
/// let bytes = xipc::xdr::to_vec(&Point { x: 1, y: -1 }).unwrap();
/// assert_eq!(bytes, [0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]);
/// ```
pub fn to_vec<T: ?Sized + Serialize>(value: &T) -> Result<Vec<u8>> {
    // One pass, growing the vector as it goes: a first pass that only
    // counted the size (as bincode does) measured slower overall.
    let mut out = Vec::with_capacity(128);
    value.serialize(&mut Serializer { out: &mut out })?;
    Ok(out)
}

/// Encodes `value` as XDR into `writer`.
///
/// The serializer writes each item as it goes, so an unbuffered writer (a
/// socket, a pipe) should be wrapped in a `BufWriter`; to send one message
/// in one write, encode with [`to_vec`] first.
pub fn to_writer<W: Write, T: ?Sized + Serialize>(writer: W, value: &T) -> Result<()> {
    Ok(value.serialize(&mut Serializer {
        out: Writer(writer),
    })?)
}

/// Appends the XDR of `value` to `out` (for [`Encoder::serialize`](super::Encoder::serialize)).
pub(super) fn append<T: ?Sized + Serialize>(out: &mut Vec<u8>, value: &T) -> Result<()> {
    Ok(value.serialize(&mut Serializer { out })?)
}

/// Where the serializer puts bytes: a vector directly, or any [`Write`].
pub trait Output {
    /// Appends `bytes`.
    fn put(&mut self, bytes: &[u8]) -> DResult<()>;

    /// Appends a 4-byte length, `bytes` and `pad` zero bytes.
    fn put_padded(&mut self, len: [u8; 4], bytes: &[u8], pad: usize) -> DResult<()> {
        self.put(&len)?;
        self.put(bytes)?;
        self.put(&[0u8; 3][..pad])
    }
}

impl Output for &mut Vec<u8> {
    /// Only fixed-size items (4 or 8 bytes) come here; opaque data goes
    /// through `put_padded`.
    #[inline]
    fn put(&mut self, bytes: &[u8]) -> DResult<()> {
        self.extend_from_slice(bytes);
        Ok(())
    }

    #[inline]
    fn put_padded(&mut self, len: [u8; 4], bytes: &[u8], pad: usize) -> DResult<()> {
        // One capacity check for the whole item; the padding is written as
        // a fixed 4-byte store and the vector cut back, cheaper than a
        // variable-length copy.
        let end = self.len() + 4 + bytes.len() + pad;
        self.reserve(4 + bytes.len() + 4);
        self.extend_from_slice(&len);
        crate::copy::extend(self, bytes);
        self.extend_from_slice(&[0; 4]);
        self.truncate(end);
        Ok(())
    }
}

/// A [`Write`] as an [`Output`].
pub struct Writer<W>(W);

impl<W: Write> Output for Writer<W> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) -> DResult<()> {
        Ok(self.0.write_all(bytes).map_err(Error::from)?)
    }
}

/// The serde `Serializer` writing XDR to an [`Output`].
pub struct Serializer<O> {
    out: O,
}

impl<O: Output> Serializer<O> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) -> DResult<()> {
        self.out.put(bytes)
    }

    #[inline]
    fn put_u32(&mut self, v: u32) -> DResult<()> {
        self.put(&v.to_be_bytes())
    }

    /// A count or length, which XDR holds in 32 bits.
    #[inline]
    fn put_len(&mut self, len: usize, what: &str) -> DResult<()> {
        self.put_u32(len32(len, what)?)
    }

    #[inline]
    fn put_opaque(&mut self, bytes: &[u8]) -> DResult<()> {
        let len = len32(bytes.len(), "opaque or string length")?;
        self.out
            .put_padded(len.to_be_bytes(), bytes, padding(bytes.len()))
    }
}

/// `len` as XDR's 32-bit count, or an error naming `what`.
#[inline]
fn len32(len: usize, what: &str) -> DResult<u32> {
    u32::try_from(len).map_err(|_| too_long(len, what))
}

#[cold]
fn too_long(len: usize, what: &str) -> Boxed {
    Error::InvalidArgument(format!("{what} of {len} does not fit XDR's 32-bit length")).into()
}

fn unsupported(what: &str) -> Error {
    Error::Unsupported(format!("XDR cannot express {what}"))
}

impl<O: Output> ser::Serializer for &mut Serializer<O> {
    type Ok = ();
    type Error = Boxed;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn serialize_bool(self, v: bool) -> DResult<()> {
        self.put_u32(u32::from(v))
    }

    fn serialize_i8(self, v: i8) -> DResult<()> {
        self.serialize_i32(i32::from(v))
    }

    fn serialize_i16(self, v: i16) -> DResult<()> {
        self.serialize_i32(i32::from(v))
    }

    #[inline]
    fn serialize_i32(self, v: i32) -> DResult<()> {
        self.put(&v.to_be_bytes())
    }

    #[inline]
    fn serialize_i64(self, v: i64) -> DResult<()> {
        self.put(&v.to_be_bytes())
    }

    fn serialize_i128(self, _v: i128) -> DResult<()> {
        Err(unsupported("a 128-bit integer (i128)").into())
    }

    fn serialize_u8(self, v: u8) -> DResult<()> {
        self.put_u32(u32::from(v))
    }

    fn serialize_u16(self, v: u16) -> DResult<()> {
        self.put_u32(u32::from(v))
    }

    #[inline]
    fn serialize_u32(self, v: u32) -> DResult<()> {
        self.put_u32(v)
    }

    #[inline]
    fn serialize_u64(self, v: u64) -> DResult<()> {
        self.put(&v.to_be_bytes())
    }

    fn serialize_u128(self, _v: u128) -> DResult<()> {
        Err(unsupported("a 128-bit integer (u128)").into())
    }

    #[inline]
    fn serialize_f32(self, v: f32) -> DResult<()> {
        self.put(&v.to_be_bytes())
    }

    #[inline]
    fn serialize_f64(self, v: f64) -> DResult<()> {
        self.put(&v.to_be_bytes())
    }

    fn serialize_char(self, v: char) -> DResult<()> {
        self.put_u32(u32::from(v))
    }

    fn serialize_str(self, v: &str) -> DResult<()> {
        self.put_opaque(v.as_bytes())
    }

    fn serialize_bytes(self, v: &[u8]) -> DResult<()> {
        self.put_opaque(v)
    }

    fn serialize_none(self) -> DResult<()> {
        self.put_u32(0)
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> DResult<()> {
        self.put_u32(1)?;
        value.serialize(self)
    }

    fn serialize_unit(self) -> DResult<()> {
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> DResult<()> {
        Ok(())
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
    ) -> DResult<()> {
        self.put_u32(index)
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> DResult<()> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        value: &T,
    ) -> DResult<()> {
        self.put_u32(index)?;
        value.serialize(self)
    }

    fn serialize_seq(self, len: Option<usize>) -> DResult<Self> {
        let len = len.ok_or_else(|| unsupported("a sequence of unknown length"))?;
        self.put_len(len, "sequence length")?;
        Ok(self)
    }

    fn serialize_tuple(self, _len: usize) -> DResult<Self> {
        Ok(self)
    }

    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> DResult<Self> {
        Ok(self)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> DResult<Self> {
        self.put_u32(index)?;
        Ok(self)
    }

    fn serialize_map(self, len: Option<usize>) -> DResult<Self> {
        let len = len.ok_or_else(|| unsupported("a map of unknown length"))?;
        self.put_len(len, "map length")?;
        Ok(self)
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> DResult<Self> {
        Ok(self)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> DResult<Self> {
        self.put_u32(index)?;
        Ok(self)
    }
}

impl<O: Output> ser::SerializeSeq for &mut Serializer<O> {
    type Ok = ();
    type Error = Boxed;

    #[inline]
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> DResult<()> {
        value.serialize(&mut **self)
    }

    fn end(self) -> DResult<()> {
        Ok(())
    }
}

impl<O: Output> ser::SerializeTuple for &mut Serializer<O> {
    type Ok = ();
    type Error = Boxed;

    #[inline]
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> DResult<()> {
        value.serialize(&mut **self)
    }

    fn end(self) -> DResult<()> {
        Ok(())
    }
}

impl<O: Output> ser::SerializeTupleStruct for &mut Serializer<O> {
    type Ok = ();
    type Error = Boxed;

    #[inline]
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> DResult<()> {
        value.serialize(&mut **self)
    }

    fn end(self) -> DResult<()> {
        Ok(())
    }
}

impl<O: Output> ser::SerializeTupleVariant for &mut Serializer<O> {
    type Ok = ();
    type Error = Boxed;

    #[inline]
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> DResult<()> {
        value.serialize(&mut **self)
    }

    fn end(self) -> DResult<()> {
        Ok(())
    }
}

impl<O: Output> ser::SerializeMap for &mut Serializer<O> {
    type Ok = ();
    type Error = Boxed;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> DResult<()> {
        key.serialize(&mut **self)
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> DResult<()> {
        value.serialize(&mut **self)
    }

    fn end(self) -> DResult<()> {
        Ok(())
    }
}

impl<O: Output> ser::SerializeStruct for &mut Serializer<O> {
    type Ok = ();
    type Error = Boxed;

    #[inline]
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        _key: &'static str,
        value: &T,
    ) -> DResult<()> {
        value.serialize(&mut **self)
    }

    /// XDR fields have no names, only positions: a skipped field would shift
    /// every later one, so skipping is refused.
    fn skip_field(&mut self, key: &'static str) -> DResult<()> {
        Err(unsupported(&format!(
            "a skipped field (`{key}`): XDR fields are positional"
        ))
        .into())
    }

    fn end(self) -> DResult<()> {
        Ok(())
    }
}

impl<O: Output> ser::SerializeStructVariant for &mut Serializer<O> {
    type Ok = ();
    type Error = Boxed;

    #[inline]
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        _key: &'static str,
        value: &T,
    ) -> DResult<()> {
        value.serialize(&mut **self)
    }

    fn skip_field(&mut self, key: &'static str) -> DResult<()> {
        Err(unsupported(&format!(
            "a skipped field (`{key}`): XDR fields are positional"
        ))
        .into())
    }

    fn end(self) -> DResult<()> {
        Ok(())
    }
}
