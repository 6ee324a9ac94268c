//! The XDR decoder: bounded, allocation-checked, offset-reporting.

use super::{padded_len, Limits};
use crate::{Error, Result};

/// Reads XDR items from a borrowed slice.
///
/// Every error names the byte offset at which it was found, and a failed
/// read leaves the position at the start of the item it could not read. A
/// length prefix is checked against the bytes that remain and against
/// [`Limits`] before anything is allocated; padding must be zero and a `bool`
/// 0 or 1.
///
/// ```
/// use xipc::xdr::{Decoder, Limits};
/// use xipc::Error;
///
/// let bytes = [0, 0, 0, 1, 0, 0, 0, 2, 0xca, 0xfe, 0, 0];
/// let mut dec = Decoder::new(&bytes);
/// assert!(dec.get_bool()?);
/// assert_eq!(dec.get_opaque(Some(16))?, [0xca, 0xfe]);
/// dec.finish()?;
///
/// // A bool of 2 is refused, and the position stays on it.
/// let mut dec = Decoder::new(&[0, 0, 0, 2]);
/// assert!(matches!(dec.get_bool(), Err(Error::Xdr { offset: 0, .. })));
/// assert_eq!(dec.position(), 0);
///
/// // A length over the limit is refused before anything is allocated.
/// let limits = Limits { max_item_bytes: 1, ..Limits::default() };
/// let mut dec = Decoder::with_limits(&bytes[4..], limits);
/// assert!(matches!(dec.get_opaque(None), Err(Error::Limit { offset: 0, .. })));
/// # Ok::<(), xipc::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Decoder<'a> {
    input: &'a [u8],
    pos: usize,
    limits: Limits,
    depth: usize,
    allocated: usize,
}

macro_rules! bulk_get {
    ($(#[$doc:meta])* $fixed:ident, $(#[$vdoc:meta])* $var:ident, $t:ty, $size:expr, $what:expr) => {
        $(#[$doc])*
        pub fn $fixed(&mut self, out: &mut [$t]) -> Result<()> {
            let bytes = self.take(out.len() * $size, $what)?;
            for (v, chunk) in out.iter_mut().zip(bytes.chunks_exact($size)) {
                *v = <$t>::from_be_bytes(chunk.try_into().expect("chunk size"));
            }
            Ok(())
        }

        $(#[$vdoc])*
        pub fn $var(&mut self, max: Option<u32>) -> Result<Vec<$t>> {
            let at = self.pos;
            let n = self.get_count(max, $size)?;
            if let Err(e) = self.charge(n * $size) {
                self.pos = at;
                return Err(relocate(e, at));
            }
            // Filling a vector from an exact-size iterator converts in one
            // pass; `vec![0; n]` first would write the memory twice.
            let bytes = self.take(n * $size, $what)?;
            let mut out = Vec::with_capacity(n);
            out.extend(
                bytes
                    .chunks_exact($size)
                    .map(|c| <$t>::from_be_bytes(c.try_into().expect("chunk size"))),
            );
            Ok(out)
        }
    };
}

impl<'a> Decoder<'a> {
    /// A decoder over `input` with the default [`Limits`].
    pub fn new(input: &'a [u8]) -> Decoder<'a> {
        Decoder::with_limits(input, Limits::default())
    }

    /// A decoder over `input` with the given limits.
    pub fn with_limits(input: &'a [u8], limits: Limits) -> Decoder<'a> {
        Decoder {
            input,
            pos: 0,
            limits,
            depth: 0,
            allocated: 0,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Byte offset of the next item.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Moves to byte offset `pos` (at most the input's length).
    pub fn set_position(&mut self, pos: usize) -> Result<()> {
        if pos > self.input.len() {
            return Err(Error::InvalidArgument(format!(
                "position {pos} is past the end of {} bytes",
                self.input.len()
            )));
        }
        self.pos = pos;
        Ok(())
    }

    /// Moves past `n` bytes (already read through [`Decoder::remaining`]);
    /// fails, without moving, when fewer remain.
    ///
    /// ```
    /// use xipc::xdr::Decoder;
    /// let mut d = Decoder::new(&[0, 0, 0, 7, 0, 0, 0, 9]);
    /// assert_eq!(d.remaining()[3], 7);
    /// d.skip(4)?;
    /// assert_eq!(d.get_int()?, 9);
    /// assert!(d.skip(1).is_err());
    /// # Ok::<(), xipc::Error>(())
    /// ```
    pub fn skip(&mut self, n: usize) -> Result<()> {
        self.take(n, "skipped data").map(|_| ())
    }

    /// The bytes not yet decoded.
    pub fn remaining(&self) -> &'a [u8] {
        &self.input[self.pos..]
    }

    /// True when every byte has been decoded.
    pub fn is_empty(&self) -> bool {
        self.pos == self.input.len()
    }

    /// Checks that every byte was decoded.
    pub fn finish(&self) -> Result<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Error::xdr(
                self.pos,
                format!(
                    "{} unread bytes after the value",
                    self.input.len() - self.pos
                ),
            ))
        }
    }

    /// Bytes charged against `max_alloc` so far.
    pub fn allocated(&self) -> usize {
        self.allocated
    }

    /// Counts `bytes` against the total-allocation limit; call before allocating.
    pub fn charge(&mut self, bytes: usize) -> Result<()> {
        let total = self.allocated.saturating_add(bytes);
        if total > self.limits.max_alloc {
            return Err(Error::limit(
                self.pos,
                format!(
                    "decoding would allocate {total} bytes, more than the limit of {}",
                    self.limits.max_alloc
                ),
            ));
        }
        self.allocated = total;
        Ok(())
    }

    /// Enters a nested item (struct, union arm, array element, optional data);
    /// fails past `max_depth`. Pair with [`Decoder::leave`].
    #[inline]
    pub fn enter(&mut self) -> Result<()> {
        if self.depth >= self.limits.max_depth {
            return Err(self.too_deep());
        }
        self.depth += 1;
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn too_deep(&self) -> Error {
        Error::limit(
            self.pos,
            format!("nesting deeper than the limit of {}", self.limits.max_depth),
        )
    }

    /// Leaves a nested item entered with [`Decoder::enter`].
    #[inline]
    pub fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Decodes any `Deserialize` value with the serde mapping of
    /// [`from_slice`](super::from_slice), from the current position, under
    /// this decoder's limits (bytes already charged stay charged).
    pub fn deserialize<T: serde::Deserialize<'a>>(&mut self) -> Result<T> {
        let at = self.pos;
        let mut de = super::de::Deserializer::new(self.clone());
        let value = T::deserialize(&mut de).map_err(|e| super::error::unbox(e, at))?;
        *self = de.into_decoder();
        Ok(value)
    }

    /// Takes the next `n` bytes.
    #[inline]
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        match self.input.get(self.pos..self.pos.wrapping_add(n)) {
            Some(bytes) => {
                self.pos += n;
                Ok(bytes)
            }
            _ => Err(self.short(n, what)),
        }
    }

    /// The error for an item of `n` bytes that the input cannot supply.
    #[cold]
    #[inline(never)]
    fn short(&self, n: usize, what: &str) -> Error {
        let left = self.input.len() - self.pos;
        Error::xdr(
            self.pos,
            format!("{what} needs {n} bytes but only {left} remain"),
        )
    }

    #[inline]
    fn take4(&mut self, what: &str) -> Result<[u8; 4]> {
        Ok(self.take(4, what)?.try_into().expect("4 bytes"))
    }

    #[inline]
    fn take8(&mut self, what: &str) -> Result<[u8; 8]> {
        Ok(self.take(8, what)?.try_into().expect("8 bytes"))
    }

    /// `int`.
    #[inline]
    pub fn get_int(&mut self) -> Result<i32> {
        Ok(i32::from_be_bytes(self.take4("int")?))
    }

    /// `unsigned int`.
    #[inline]
    pub fn get_uint(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.take4("unsigned int")?))
    }

    /// `enum` (its value; checking it is one of the enum's is the caller's).
    #[inline]
    pub fn get_enum(&mut self) -> Result<i32> {
        Ok(i32::from_be_bytes(self.take4("enum")?))
    }

    /// `bool`: 0 or 1; anything else is an error.
    pub fn get_bool(&mut self) -> Result<bool> {
        let at = self.pos;
        match u32::from_be_bytes(self.take4("bool")?) {
            0 => Ok(false),
            1 => Ok(true),
            v => {
                self.pos = at;
                Err(Error::xdr(at, format!("bool must be 0 or 1, found {v}")))
            }
        }
    }

    /// `hyper`.
    #[inline]
    pub fn get_hyper(&mut self) -> Result<i64> {
        Ok(i64::from_be_bytes(self.take8("hyper")?))
    }

    /// `unsigned hyper`.
    #[inline]
    pub fn get_uhyper(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.take8("unsigned hyper")?))
    }

    /// `float`.
    #[inline]
    pub fn get_float(&mut self) -> Result<f32> {
        Ok(f32::from_be_bytes(self.take4("float")?))
    }

    /// `double`.
    #[inline]
    pub fn get_double(&mut self) -> Result<f64> {
        Ok(f64::from_be_bytes(self.take8("double")?))
    }

    /// `quadruple`: its 16 raw bytes.
    pub fn get_quadruple(&mut self) -> Result<[u8; 16]> {
        Ok(self.take(16, "quadruple")?.try_into().expect("16 bytes"))
    }

    /// `void`: reads nothing.
    #[inline]
    pub fn get_void(&mut self) -> Result<()> {
        Ok(())
    }

    /// Takes `n` bytes of opaque or string data and the zero padding after
    /// them; on error, takes nothing.
    #[inline]
    fn take_padded(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let Some(all) = self
            .input
            .get(self.pos..self.pos.saturating_add(padded_len(n)))
        else {
            return Err(self.short(padded_len(n), what));
        };
        let (bytes, pad) = all.split_at(n);
        if let Some(i) = pad.iter().position(|&b| b != 0) {
            return Err(Error::xdr(
                self.pos + n + i,
                format!("non-zero padding after {what}"),
            ));
        }
        self.pos += all.len();
        Ok(bytes)
    }

    /// `opaque[n]`: borrows the `n` bytes (padding checked and skipped).
    pub fn get_fixed_opaque(&mut self, n: usize) -> Result<&'a [u8]> {
        self.check_item(n, "fixed opaque")?;
        self.take_padded(n, "fixed opaque")
    }

    /// `opaque<max>` (`None` = `<>`): borrows the bytes.
    pub fn get_opaque(&mut self, max: Option<u32>) -> Result<&'a [u8]> {
        self.get_counted(max, "opaque")
    }

    /// `opaque<max>` copied into a vector (charged against `max_alloc`).
    pub fn get_opaque_vec(&mut self, max: Option<u32>) -> Result<Vec<u8>> {
        let at = self.pos;
        let bytes = self.get_opaque(max)?;
        if let Err(e) = self.charge(bytes.len()) {
            self.pos = at;
            return Err(relocate(e, at));
        }
        Ok(crate::copy::to_vec(bytes))
    }

    /// `string<max>` as raw bytes (XDR strings are bytes; see [`Decoder::get_string`]).
    pub fn get_string_bytes(&mut self, max: Option<u32>) -> Result<&'a [u8]> {
        self.get_counted(max, "string")
    }

    /// `string<max>`, which must be valid UTF-8 (ASCII is).
    pub fn get_string(&mut self, max: Option<u32>) -> Result<&'a str> {
        let at = self.pos;
        let bytes = self.get_string_bytes(max)?;
        std::str::from_utf8(bytes).map_err(|e| {
            self.pos = at;
            Error::xdr(at + 4 + e.valid_up_to(), "string is not valid UTF-8")
        })
    }

    /// A length, then that many bytes and their padding; on error, takes nothing.
    #[inline]
    fn get_counted(&mut self, max: Option<u32>, what: &str) -> Result<&'a [u8]> {
        let at = self.pos;
        let n = self.get_length(max, what)?;
        self.take_padded(n, what).inspect_err(|_| self.pos = at)
    }

    /// Reads the length prefix of opaque or string data and checks it against
    /// `max`, `max_item_bytes` and the bytes that remain.
    fn get_length(&mut self, max: Option<u32>, what: &str) -> Result<usize> {
        let at = self.pos;
        let n = self.get_uint()?;
        if let Some(max) = max {
            if n > max {
                self.pos = at;
                return Err(Error::limit(
                    at,
                    format!("{what} length {n} exceeds its bound of {max}"),
                ));
            }
        }
        let n = n as usize;
        if let Err(e) = self.check_item(n, what) {
            self.pos = at;
            return Err(relocate(e, at));
        }
        let left = self.input.len() - self.pos;
        if padded_len(n) > left {
            self.pos = at;
            return Err(Error::xdr(
                at,
                format!("{what} length {n} is larger than the {left} bytes that remain"),
            ));
        }
        Ok(n)
    }

    fn check_item(&self, n: usize, what: &str) -> Result<()> {
        if n > self.limits.max_item_bytes {
            return Err(Error::limit(
                self.pos,
                format!(
                    "{what} of {n} bytes exceeds the item limit of {}",
                    self.limits.max_item_bytes
                ),
            ));
        }
        Ok(())
    }

    /// Reads the element count of a variable-length array (`T<max>`) whose
    /// elements each take at least `min_elem_size` bytes on the wire (4 for
    /// any XDR type). Checks it against `max`, `max_elements` and the bytes
    /// that remain, so the caller may allocate `count` elements.
    pub fn get_count(&mut self, max: Option<u32>, min_elem_size: usize) -> Result<usize> {
        let at = self.pos;
        let n = self.get_uint()?;
        let fail = |this: &mut Self, e: Error| {
            this.pos = at;
            Err(e)
        };
        if let Some(max) = max {
            if n > max {
                return fail(
                    self,
                    Error::limit(at, format!("array count {n} exceeds its bound of {max}")),
                );
            }
        }
        let n = n as usize;
        if n > self.limits.max_elements {
            return fail(
                self,
                Error::limit(
                    at,
                    format!(
                        "array count {n} exceeds the element limit of {}",
                        self.limits.max_elements
                    ),
                ),
            );
        }
        let left = self.input.len() - self.pos;
        if n.saturating_mul(min_elem_size.max(1)) > left {
            return fail(
                self,
                Error::xdr(
                    at,
                    format!(
                        "array count {n} needs at least {} bytes but only {left} remain",
                        n.saturating_mul(min_elem_size.max(1))
                    ),
                ),
            );
        }
        Ok(n)
    }

    /// The presence flag of optional-data (`T *`).
    pub fn get_optional(&mut self) -> Result<bool> {
        self.get_bool()
    }

    /// The discriminant of a union.
    #[inline]
    pub fn get_discriminant(&mut self) -> Result<i32> {
        self.get_int()
    }

    bulk_get!(
        /// `int[n]` into `out` (n = `out.len()`).
        get_int_slice,
        /// `int<max>`.
        get_int_array, i32, 4, "int array");
    bulk_get!(
        /// `unsigned int[n]` into `out`.
        get_uint_slice,
        /// `unsigned int<max>`.
        get_uint_array, u32, 4, "unsigned int array");
    bulk_get!(
        /// `hyper[n]` into `out`.
        get_hyper_slice,
        /// `hyper<max>`.
        get_hyper_array, i64, 8, "hyper array");
    bulk_get!(
        /// `unsigned hyper[n]` into `out`.
        get_uhyper_slice,
        /// `unsigned hyper<max>`.
        get_uhyper_array, u64, 8, "unsigned hyper array");
    bulk_get!(
        /// `float[n]` into `out`.
        get_float_slice,
        /// `float<max>`.
        get_float_array, f32, 4, "float array");
    bulk_get!(
        /// `double[n]` into `out`.
        get_double_slice,
        /// `double<max>`.
        get_double_array, f64, 8, "double array");
}

/// Gives a limit or XDR error the offset of the item's start.
pub(super) fn relocate(err: Error, at: usize) -> Error {
    match err {
        Error::Limit { reason, .. } => Error::Limit { offset: at, reason },
        Error::Xdr { reason, .. } => Error::Xdr { offset: at, reason },
        other => other,
    }
}
