//! The XDR decoder: bounded, allocation-checked, offset-reporting.

use super::{padded_len, padding, Limits};
use crate::{Error, Result};

/// Reads XDR items from a borrowed slice.
///
/// Every error names the byte offset at which it was found. A length prefix
/// is checked against the bytes that remain and against [`Limits`] before
/// anything is allocated; padding must be zero and a `bool` 0 or 1.
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
            let n = self.get_count(max, $size)?;
            self.charge(n * $size)?;
            let mut out = vec![<$t>::default(); n];
            self.$fixed(&mut out)?;
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
    pub fn enter(&mut self) -> Result<()> {
        if self.depth >= self.limits.max_depth {
            return Err(Error::limit(
                self.pos,
                format!("nesting deeper than the limit of {}", self.limits.max_depth),
            ));
        }
        self.depth += 1;
        Ok(())
    }

    /// Leaves a nested item entered with [`Decoder::enter`].
    pub fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Takes the next `n` bytes.
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let left = self.input.len() - self.pos;
        if n > left {
            return Err(Error::xdr(
                self.pos,
                format!("{what} needs {n} bytes but only {left} remain"),
            ));
        }
        let bytes = &self.input[self.pos..self.pos + n];
        self.pos += n;
        Ok(bytes)
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
            v => Err(Error::xdr(at, format!("bool must be 0 or 1, found {v}"))),
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

    /// Checks and skips the zero padding after `len` bytes of opaque data.
    fn skip_padding(&mut self, len: usize) -> Result<()> {
        let at = self.pos;
        let pad = self.take(padding(len), "padding")?;
        if pad.iter().any(|&b| b != 0) {
            return Err(Error::xdr(at, "non-zero padding"));
        }
        Ok(())
    }

    /// `opaque[n]`: borrows the `n` bytes (padding checked and skipped).
    pub fn get_fixed_opaque(&mut self, n: usize) -> Result<&'a [u8]> {
        self.check_item(n, "fixed opaque")?;
        let bytes = self.take(n, "fixed opaque")?;
        self.skip_padding(n)?;
        Ok(bytes)
    }

    /// `opaque<max>` (`None` = `<>`): borrows the bytes.
    pub fn get_opaque(&mut self, max: Option<u32>) -> Result<&'a [u8]> {
        let n = self.get_length(max, "opaque")?;
        let bytes = self.take(n, "opaque")?;
        self.skip_padding(n)?;
        Ok(bytes)
    }

    /// `opaque<max>` copied into a vector (charged against `max_alloc`).
    pub fn get_opaque_vec(&mut self, max: Option<u32>) -> Result<Vec<u8>> {
        let at = self.pos;
        let bytes = self.get_opaque(max)?;
        self.charge(bytes.len()).map_err(|e| relocate(e, at))?;
        Ok(bytes.to_vec())
    }

    /// `string<max>` as raw bytes (XDR strings are bytes; see [`Decoder::get_string`]).
    pub fn get_string_bytes(&mut self, max: Option<u32>) -> Result<&'a [u8]> {
        let n = self.get_length(max, "string")?;
        let bytes = self.take(n, "string")?;
        self.skip_padding(n)?;
        Ok(bytes)
    }

    /// `string<max>`, which must be valid UTF-8 (ASCII is).
    pub fn get_string(&mut self, max: Option<u32>) -> Result<&'a str> {
        let at = self.pos;
        let bytes = self.get_string_bytes(max)?;
        std::str::from_utf8(bytes).map_err(|e| {
            Error::xdr(
                at + 4 + e.valid_up_to(),
                "string is not valid UTF-8".to_string(),
            )
        })
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
fn relocate(err: Error, at: usize) -> Error {
    match err {
        Error::Limit { reason, .. } => Error::Limit { offset: at, reason },
        Error::Xdr { reason, .. } => Error::Xdr { offset: at, reason },
        other => other,
    }
}
