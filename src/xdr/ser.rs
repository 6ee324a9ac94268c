//! Serde serializer: Rust values to XDR (the README's type table says which
//! Rust type becomes which XDR type).

use std::io::Write;

use serde::ser::{self, Serialize};

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
    let mut out = Vec::with_capacity(128);
    value.serialize(&mut Serializer::new(&mut out))?;
    Ok(out)
}

/// Encodes `value` as XDR into `writer`.
///
/// The serializer writes each item as it goes, so an unbuffered writer (a
/// socket, a pipe) should be wrapped in a `BufWriter`; to send one message
/// in one write, encode with [`to_vec`] first.
pub fn to_writer<W: Write, T: ?Sized + Serialize>(writer: W, value: &T) -> Result<()> {
    value.serialize(&mut Serializer::new(writer))
}

/// A serde `Serializer` writing XDR to any [`Write`].
#[derive(Debug)]
pub struct Serializer<W> {
    out: W,
}

impl<W: Write> Serializer<W> {
    /// A serializer writing into `out`.
    pub fn new(out: W) -> Serializer<W> {
        Serializer { out }
    }

    /// The writer, back.
    pub fn into_inner(self) -> W {
        self.out
    }

    #[inline]
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.out.write_all(bytes).map_err(Error::from)
    }

    #[inline]
    fn put_u32(&mut self, v: u32) -> Result<()> {
        self.put(&v.to_be_bytes())
    }

    /// A count or length, which XDR holds in 32 bits.
    fn put_len(&mut self, len: usize, what: &str) -> Result<()> {
        let len = u32::try_from(len).map_err(|_| {
            Error::InvalidArgument(format!("{what} of {len} does not fit XDR's 32-bit length"))
        })?;
        self.put_u32(len)
    }

    fn put_opaque(&mut self, bytes: &[u8]) -> Result<()> {
        self.put_len(bytes.len(), "opaque or string length")?;
        self.put(bytes)?;
        self.put(&[0u8; 3][..padding(bytes.len())])
    }
}

fn unsupported(what: &str) -> Error {
    Error::Unsupported(format!("XDR cannot express {what}"))
}

impl ser::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Error {
        Error::InvalidArgument(msg.to_string())
    }
}

impl<W: Write> ser::Serializer for &mut Serializer<W> {
    type Ok = ();
    type Error = Error;
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

    fn serialize_bool(self, v: bool) -> Result<()> {
        self.put_u32(u32::from(v))
    }

    fn serialize_i8(self, v: i8) -> Result<()> {
        self.serialize_i32(i32::from(v))
    }

    fn serialize_i16(self, v: i16) -> Result<()> {
        self.serialize_i32(i32::from(v))
    }

    #[inline]
    fn serialize_i32(self, v: i32) -> Result<()> {
        self.put(&v.to_be_bytes())
    }

    #[inline]
    fn serialize_i64(self, v: i64) -> Result<()> {
        self.put(&v.to_be_bytes())
    }

    fn serialize_i128(self, _v: i128) -> Result<()> {
        Err(unsupported("a 128-bit integer (i128)"))
    }

    fn serialize_u8(self, v: u8) -> Result<()> {
        self.put_u32(u32::from(v))
    }

    fn serialize_u16(self, v: u16) -> Result<()> {
        self.put_u32(u32::from(v))
    }

    #[inline]
    fn serialize_u32(self, v: u32) -> Result<()> {
        self.put_u32(v)
    }

    #[inline]
    fn serialize_u64(self, v: u64) -> Result<()> {
        self.put(&v.to_be_bytes())
    }

    fn serialize_u128(self, _v: u128) -> Result<()> {
        Err(unsupported("a 128-bit integer (u128)"))
    }

    #[inline]
    fn serialize_f32(self, v: f32) -> Result<()> {
        self.put(&v.to_be_bytes())
    }

    #[inline]
    fn serialize_f64(self, v: f64) -> Result<()> {
        self.put(&v.to_be_bytes())
    }

    fn serialize_char(self, v: char) -> Result<()> {
        self.put_u32(u32::from(v))
    }

    fn serialize_str(self, v: &str) -> Result<()> {
        self.put_opaque(v.as_bytes())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        self.put_opaque(v)
    }

    fn serialize_none(self) -> Result<()> {
        self.put_u32(0)
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<()> {
        self.put_u32(1)?;
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<()> {
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<()> {
        Ok(())
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
    ) -> Result<()> {
        self.put_u32(index)
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<()> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        value: &T,
    ) -> Result<()> {
        self.put_u32(index)?;
        value.serialize(self)
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self> {
        let len = len.ok_or_else(|| unsupported("a sequence of unknown length"))?;
        self.put_len(len, "sequence length")?;
        Ok(self)
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self> {
        Ok(self)
    }

    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Self> {
        Ok(self)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self> {
        self.put_u32(index)?;
        Ok(self)
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self> {
        let len = len.ok_or_else(|| unsupported("a map of unknown length"))?;
        self.put_len(len, "map length")?;
        Ok(self)
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self> {
        Ok(self)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self> {
        self.put_u32(index)?;
        Ok(self)
    }
}

impl<W: Write> ser::SerializeSeq for &mut Serializer<W> {
    type Ok = ();
    type Error = Error;

    #[inline]
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        value.serialize(&mut **self)
    }

    fn end(self) -> Result<()> {
        Ok(())
    }
}

impl<W: Write> ser::SerializeTuple for &mut Serializer<W> {
    type Ok = ();
    type Error = Error;

    #[inline]
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        value.serialize(&mut **self)
    }

    fn end(self) -> Result<()> {
        Ok(())
    }
}

impl<W: Write> ser::SerializeTupleStruct for &mut Serializer<W> {
    type Ok = ();
    type Error = Error;

    #[inline]
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        value.serialize(&mut **self)
    }

    fn end(self) -> Result<()> {
        Ok(())
    }
}

impl<W: Write> ser::SerializeTupleVariant for &mut Serializer<W> {
    type Ok = ();
    type Error = Error;

    #[inline]
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        value.serialize(&mut **self)
    }

    fn end(self) -> Result<()> {
        Ok(())
    }
}

impl<W: Write> ser::SerializeMap for &mut Serializer<W> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<()> {
        key.serialize(&mut **self)
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        value.serialize(&mut **self)
    }

    fn end(self) -> Result<()> {
        Ok(())
    }
}

impl<W: Write> ser::SerializeStruct for &mut Serializer<W> {
    type Ok = ();
    type Error = Error;

    #[inline]
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        _key: &'static str,
        value: &T,
    ) -> Result<()> {
        value.serialize(&mut **self)
    }

    /// XDR fields have no names, only positions: a skipped field would shift
    /// every later one, so skipping is refused.
    fn skip_field(&mut self, key: &'static str) -> Result<()> {
        Err(unsupported(&format!(
            "a skipped field (`{key}`): XDR fields are positional"
        )))
    }

    fn end(self) -> Result<()> {
        Ok(())
    }
}

impl<W: Write> ser::SerializeStructVariant for &mut Serializer<W> {
    type Ok = ();
    type Error = Error;

    #[inline]
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        _key: &'static str,
        value: &T,
    ) -> Result<()> {
        value.serialize(&mut **self)
    }

    fn skip_field(&mut self, key: &'static str) -> Result<()> {
        Err(unsupported(&format!(
            "a skipped field (`{key}`): XDR fields are positional"
        )))
    }

    fn end(self) -> Result<()> {
        Ok(())
    }
}
