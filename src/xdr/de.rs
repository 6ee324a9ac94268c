//! Serde deserializer: XDR back to Rust values, through the bounded
//! [`Decoder`], so every length is checked against the input and the
//! [`Limits`] before anything is allocated, and nesting is limited by depth.

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use serde::Deserialize;

use super::decode::relocate;
use super::{Decoder, Limits};
use crate::{Error, Result};

/// What the deserializer's methods return: the error boxed, so that results
/// on the hot path stay two registers wide (measured: decoding ran about 1.5×
/// slower with the full-sized [`Error`] moving through every call).
type DResult<T> = std::result::Result<T, Boxed>;

/// Decodes a `T` from `input`, which it must use up exactly, with the
/// default [`Limits`]. Strings and byte slices (`&str`, `&[u8]` via
/// `serde_bytes`) borrow from `input` without copying.
///
/// ```
/// #[derive(serde::Deserialize, Debug, PartialEq)]
/// struct Point { x: i32, y: i32 }
/// let p: Point = xipc::xdr::from_slice(&[0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]).unwrap();
/// assert_eq!(p, Point { x: 1, y: -1 });
/// ```
pub fn from_slice<'de, T: Deserialize<'de>>(input: &'de [u8]) -> Result<T> {
    from_slice_with_limits(input, Limits::default())
}

/// [`from_slice`] with the given [`Limits`].
pub fn from_slice_with_limits<'de, T: Deserialize<'de>>(
    input: &'de [u8],
    limits: Limits,
) -> Result<T> {
    let mut de = Deserializer::new(Decoder::with_limits(input, limits));
    let value = T::deserialize(&mut de).map_err(|e| unbox(e, 0))?;
    de.decoder().finish()?;
    Ok(value)
}

/// The serde `Deserializer` reading XDR through a [`Decoder`].
///
/// XDR is not self-describing: the Rust type says what comes next, so
/// `deserialize_any` (untagged enums, `serde_json::Value`, flattening) and
/// `deserialize_ignored_any` are [`Error::Unsupported`].
#[derive(Clone, Debug)]
pub struct Deserializer<'de> {
    dec: Decoder<'de>,
}

impl<'de> Deserializer<'de> {
    /// A deserializer continuing where `dec` stands.
    pub fn new(dec: Decoder<'de>) -> Deserializer<'de> {
        Deserializer { dec }
    }

    /// The decoder, to read on by hand or check position.
    pub fn decoder(&self) -> &Decoder<'de> {
        &self.dec
    }

    /// The decoder, back.
    pub fn into_decoder(self) -> Decoder<'de> {
        self.dec
    }

    /// Reads an XDR `int` and narrows it to a smaller integer type.
    fn get_narrow<T: TryFrom<i32>>(&mut self, what: &str) -> DResult<T> {
        let at = self.dec.position();
        let v = self.dec.get_int()?;
        T::try_from(v).map_err(|_| Error::xdr(at, format!("{v} does not fit {what}")).into())
    }

    /// Reads an XDR `unsigned int` and narrows it to a smaller integer type.
    fn get_unarrow<T: TryFrom<u32>>(&mut self, what: &str) -> DResult<T> {
        let at = self.dec.position();
        let v = self.dec.get_uint()?;
        T::try_from(v).map_err(|_| Error::xdr(at, format!("{v} does not fit {what}")).into())
    }

    /// Runs `f` one nesting level deeper.
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> DResult<T>) -> DResult<T> {
        self.dec.enter()?;
        let value = f(self)?;
        self.dec.leave();
        Ok(value)
    }

    /// Hands `count` elements, with no count on the wire, to `visitor`.
    fn visit_elements<V: Visitor<'de>>(&mut self, count: usize, visitor: V) -> DResult<V::Value> {
        let at = self.dec.position();
        self.nested(|de| {
            visitor
                .visit_seq(Elements { de, left: count })
                .map_err(|e| locate(e, at))
        })
    }
}

/// Offset given to errors raised by serde impls (through `de::Error::custom`),
/// which do not know where they are; the deserializer fills it in with the
/// offset of the value being decoded.
const UNLOCATED: usize = usize::MAX;

/// [`Error`] in a box, as the deserializer passes it around.
#[derive(Debug)]
pub struct Boxed(Box<Error>);

impl From<Error> for Boxed {
    #[cold]
    fn from(err: Error) -> Boxed {
        Boxed(Box::new(err))
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

/// Gives an error raised by a serde impl the offset `at`.
#[cold]
fn locate(mut err: Boxed, at: usize) -> Boxed {
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

fn not_self_describing(what: &str) -> Error {
    Error::Unsupported(format!(
        "XDR is not self-describing, so it cannot decode {what}; give the exact type"
    ))
}

impl<'de> de::Deserializer<'de> for &mut Deserializer<'de> {
    type Error = Boxed;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> DResult<V::Value> {
        Err(not_self_describing("a value of unknown type (deserialize_any)").into())
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, _visitor: V) -> DResult<V::Value> {
        Err(not_self_describing("a value to skip (deserialize_ignored_any)").into())
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, _visitor: V) -> DResult<V::Value> {
        Err(not_self_describing("a field name (deserialize_identifier)").into())
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> DResult<V::Value> {
        let at = self.dec.position();
        visitor
            .visit_bool(self.dec.get_bool()?)
            .map_err(|e| locate(e, at))
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> DResult<V::Value> {
        let at = self.dec.position();
        let v = self.get_narrow("i8")?;
        visitor.visit_i8(v).map_err(|e| locate(e, at))
    }

    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> DResult<V::Value> {
        let at = self.dec.position();
        let v = self.get_narrow("i16")?;
        visitor.visit_i16(v).map_err(|e| locate(e, at))
    }

    #[inline]
    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> DResult<V::Value> {
        let at = self.dec.position();
        visitor
            .visit_i32(self.dec.get_int()?)
            .map_err(|e| locate(e, at))
    }

    #[inline]
    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> DResult<V::Value> {
        let at = self.dec.position();
        visitor
            .visit_i64(self.dec.get_hyper()?)
            .map_err(|e| locate(e, at))
    }

    fn deserialize_i128<V: Visitor<'de>>(self, _visitor: V) -> DResult<V::Value> {
        Err(Error::Unsupported("XDR cannot express a 128-bit integer (i128)".into()).into())
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> DResult<V::Value> {
        let at = self.dec.position();
        let v = self.get_unarrow("u8")?;
        visitor.visit_u8(v).map_err(|e| locate(e, at))
    }

    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> DResult<V::Value> {
        let at = self.dec.position();
        let v = self.get_unarrow("u16")?;
        visitor.visit_u16(v).map_err(|e| locate(e, at))
    }

    #[inline]
    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> DResult<V::Value> {
        let at = self.dec.position();
        visitor
            .visit_u32(self.dec.get_uint()?)
            .map_err(|e| locate(e, at))
    }

    #[inline]
    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> DResult<V::Value> {
        let at = self.dec.position();
        visitor
            .visit_u64(self.dec.get_uhyper()?)
            .map_err(|e| locate(e, at))
    }

    fn deserialize_u128<V: Visitor<'de>>(self, _visitor: V) -> DResult<V::Value> {
        Err(Error::Unsupported("XDR cannot express a 128-bit integer (u128)".into()).into())
    }

    #[inline]
    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> DResult<V::Value> {
        let at = self.dec.position();
        visitor
            .visit_f32(self.dec.get_float()?)
            .map_err(|e| locate(e, at))
    }

    #[inline]
    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> DResult<V::Value> {
        let at = self.dec.position();
        visitor
            .visit_f64(self.dec.get_double()?)
            .map_err(|e| locate(e, at))
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> DResult<V::Value> {
        let at = self.dec.position();
        let v = self.dec.get_uint()?;
        let c = char::from_u32(v)
            .ok_or_else(|| Error::xdr(at, format!("{v:#x} is not a Unicode scalar value")))?;
        visitor.visit_char(c).map_err(|e| locate(e, at))
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> DResult<V::Value> {
        let at = self.dec.position();
        visitor
            .visit_borrowed_str(self.dec.get_string(None)?)
            .map_err(|e| locate(e, at))
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> DResult<V::Value> {
        let at = self.dec.position();
        let s = self.dec.get_string(None)?;
        self.dec.charge(s.len()).map_err(|e| relocate(e, at))?;
        visitor.visit_borrowed_str(s).map_err(|e| locate(e, at))
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> DResult<V::Value> {
        let at = self.dec.position();
        visitor
            .visit_borrowed_bytes(self.dec.get_opaque(None)?)
            .map_err(|e| locate(e, at))
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> DResult<V::Value> {
        let at = self.dec.position();
        let b = self.dec.get_opaque(None)?;
        self.dec.charge(b.len()).map_err(|e| relocate(e, at))?;
        visitor.visit_borrowed_bytes(b).map_err(|e| locate(e, at))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> DResult<V::Value> {
        let at = self.dec.position();
        if self.dec.get_optional()? {
            self.nested(|de| visitor.visit_some(de).map_err(|e| locate(e, at)))
        } else {
            visitor.visit_none().map_err(|e| locate(e, at))
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> DResult<V::Value> {
        let at = self.dec.position();
        visitor.visit_unit().map_err(|e| locate(e, at))
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> DResult<V::Value> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> DResult<V::Value> {
        let at = self.dec.position();
        visitor
            .visit_newtype_struct(self)
            .map_err(|e| locate(e, at))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> DResult<V::Value> {
        let at = self.dec.position();
        // Every XDR item but void takes at least 4 bytes, so a count larger
        // than a quarter of what remains is a lie, refused before allocating.
        let count = self.dec.get_count(None, 4)?;
        self.dec
            .charge(count.saturating_mul(4))
            .map_err(|e| relocate(e, at))?;
        self.visit_elements(count, visitor)
            .map_err(|e| locate(e, at))
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> DResult<V::Value> {
        self.visit_elements(len, visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> DResult<V::Value> {
        self.visit_elements(len, visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> DResult<V::Value> {
        self.visit_elements(fields.len(), visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> DResult<V::Value> {
        let at = self.dec.position();
        let count = self.dec.get_count(None, 4)?;
        self.dec
            .charge(count.saturating_mul(8))
            .map_err(|e| relocate(e, at))?;
        self.nested(|de| {
            visitor
                .visit_map(Entries { de, left: count })
                .map_err(|e| locate(e, at))
        })
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> DResult<V::Value> {
        let at = self.dec.position();
        self.nested(|de| {
            visitor
                .visit_enum(Union { de, at })
                .map_err(|e| locate(e, at))
        })
    }
}

/// The elements of an array, tuple or struct.
struct Elements<'a, 'de> {
    de: &'a mut Deserializer<'de>,
    left: usize,
}

impl<'de> de::SeqAccess<'de> for Elements<'_, 'de> {
    type Error = Boxed;

    #[inline]
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> DResult<Option<T::Value>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(&mut *self.de).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

/// The key/value pairs of a map.
struct Entries<'a, 'de> {
    de: &'a mut Deserializer<'de>,
    left: usize,
}

impl<'de> de::MapAccess<'de> for Entries<'_, 'de> {
    type Error = Boxed;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> DResult<Option<K::Value>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(&mut *self.de).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> DResult<V::Value> {
        seed.deserialize(&mut *self.de)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

/// A discriminated union: an unsigned discriminant (the variant's index),
/// then its arm.
struct Union<'a, 'de> {
    de: &'a mut Deserializer<'de>,
    at: usize,
}

impl<'de> de::EnumAccess<'de> for Union<'_, 'de> {
    type Error = Boxed;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> DResult<(V::Value, Self)> {
        let index = self.de.dec.get_uint()?;
        let de: de::value::U32Deserializer<Boxed> = index.into_deserializer();
        let variant = seed.deserialize(de).map_err(|e| match *e.0 {
            Error::Xdr { reason, .. } => {
                Error::xdr(self.at, format!("union discriminant {index}: {reason}")).into()
            }
            other => Boxed::from(other),
        })?;
        Ok((variant, self))
    }
}

impl<'de> de::VariantAccess<'de> for Union<'_, 'de> {
    type Error = Boxed;

    fn unit_variant(self) -> DResult<()> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> DResult<T::Value> {
        seed.deserialize(self.de)
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> DResult<V::Value> {
        self.de.visit_elements(len, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> DResult<V::Value> {
        self.de.visit_elements(fields.len(), visitor)
    }
}
