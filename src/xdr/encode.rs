//! The XDR encoder.

use super::padded_len;
use crate::{Error, Result};

/// Appends XDR items to a buffer it owns.
///
/// Infallible writes return nothing; writes that carry a length return an
/// error when the length does not fit XDR's 32-bit count.
///
/// ```
/// let mut enc = xipc::xdr::Encoder::new();
/// enc.put_bool(true);
/// enc.put_hyper(-1);
/// enc.put_opaque(&[0xca, 0xfe])?;
/// assert_eq!(
///     enc.into_bytes(),
///     [0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2, 0xca, 0xfe, 0, 0]
/// );
/// # Ok::<(), xipc::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Encoder {
    buf: Vec<u8>,
}

macro_rules! bulk_put {
    ($(#[$doc:meta])* $fixed:ident, $(#[$vdoc:meta])* $var:ident, $t:ty, $size:expr) => {
        $(#[$doc])*
        pub fn $fixed(&mut self, values: &[$t]) {
            // Convert 256 bytes at a time into a stack block that stays in
            // L1 cache, then append it: the output is written once (growing
            // the vector with zeros first would write it twice), and small
            // blocks measured faster than both larger ones and per-value
            // appends.
            const BLOCK: usize = 256 / $size;
            self.buf.reserve(values.len() * $size);
            let mut block = [[0u8; $size]; BLOCK];
            for chunk in values.chunks(BLOCK) {
                let out = &mut block[..chunk.len()];
                for (o, v) in out.iter_mut().zip(chunk) {
                    *o = v.to_be_bytes();
                }
                self.buf.extend_from_slice(out.as_flattened());
            }
        }

        $(#[$vdoc])*
        pub fn $var(&mut self, values: &[$t]) -> Result<()> {
            self.put_len(values.len())?;
            self.$fixed(values);
            Ok(())
        }
    };
}

impl Encoder {
    /// An empty encoder.
    pub fn new() -> Encoder {
        Encoder { buf: Vec::new() }
    }

    /// An empty encoder with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Encoder {
        Encoder {
            buf: Vec::with_capacity(capacity),
        }
    }

    /// An encoder that appends to `buf` (whose bytes are kept).
    pub fn from_vec(buf: Vec<u8>) -> Encoder {
        Encoder { buf }
    }

    /// The bytes encoded so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The encoded bytes, taken out of the encoder.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Number of bytes encoded so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when nothing has been encoded.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Forgets everything encoded, keeping the allocation.
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// Reserves room for `additional` more bytes.
    pub fn reserve(&mut self, additional: usize) {
        self.buf.reserve(additional);
    }

    /// Encodes any `Serialize` value with the serde mapping of
    /// [`to_vec`](super::to_vec), after what is already encoded. On error
    /// nothing is added.
    pub fn serialize<T: ?Sized + serde::Serialize>(&mut self, value: &T) -> Result<()> {
        let start = self.buf.len();
        super::ser::append(&mut self.buf, value).inspect_err(|_| self.buf.truncate(start))
    }

    /// Appends bytes that are already XDR (for example an encoded sub-message).
    pub fn put_raw(&mut self, bytes: &[u8]) {
        crate::copy::extend(&mut self.buf, bytes);
    }

    /// `int`: a signed 32-bit integer.
    #[inline]
    pub fn put_int(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// `unsigned int`.
    #[inline]
    pub fn put_uint(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// `enum`: encoded as an `int`.
    #[inline]
    pub fn put_enum(&mut self, v: i32) {
        self.put_int(v);
    }

    /// `bool`: 1 for true, 0 for false.
    #[inline]
    pub fn put_bool(&mut self, v: bool) {
        self.put_uint(u32::from(v));
    }

    /// `hyper`: a signed 64-bit integer.
    #[inline]
    pub fn put_hyper(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// `unsigned hyper`.
    #[inline]
    pub fn put_uhyper(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// `float`: IEEE single precision.
    #[inline]
    pub fn put_float(&mut self, v: f32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// `double`: IEEE double precision.
    #[inline]
    pub fn put_double(&mut self, v: f64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// `quadruple`: 16 bytes, big-endian IEEE quadruple precision, passed
    /// through as raw bytes (Rust has no such float type).
    #[inline]
    pub fn put_quadruple(&mut self, v: &[u8; 16]) {
        self.buf.extend_from_slice(v);
    }

    /// `void`: encodes nothing.
    #[inline]
    pub fn put_void(&mut self) {}

    /// `opaque[n]`: the bytes, then zero padding to a multiple of 4.
    pub fn put_fixed_opaque(&mut self, bytes: &[u8]) {
        // A whole zero unit cut back to the padding: a fixed 4-byte store
        // is cheaper than a copy of variable length.
        let end = self.buf.len() + padded_len(bytes.len());
        self.buf.reserve(bytes.len() + 4);
        crate::copy::extend(&mut self.buf, bytes);
        self.buf.extend_from_slice(&[0; 4]);
        self.buf.truncate(end);
    }

    /// `opaque<>`: a 4-byte length, the bytes, then zero padding.
    pub fn put_opaque(&mut self, bytes: &[u8]) -> Result<()> {
        self.put_len(bytes.len())?;
        self.put_fixed_opaque(bytes);
        Ok(())
    }

    /// `string<>`: encoded as `opaque<>` of its bytes.
    pub fn put_string(&mut self, s: &str) -> Result<()> {
        self.put_opaque(s.as_bytes())
    }

    /// The 4-byte element count of a variable-length array (`T<>`), or the
    /// length of opaque data; an error when it exceeds 2^32 − 1.
    pub fn put_len(&mut self, len: usize) -> Result<()> {
        let len = u32::try_from(len).map_err(|_| {
            Error::InvalidArgument(format!("length {len} does not fit XDR's 32-bit count"))
        })?;
        self.put_uint(len);
        Ok(())
    }

    /// The presence flag of optional-data (`T *`): call with `true` and then
    /// encode the value, or with `false` alone.
    #[inline]
    pub fn put_optional(&mut self, present: bool) {
        self.put_bool(present);
    }

    /// The discriminant of a union; the caller then encodes the arm.
    #[inline]
    pub fn put_discriminant(&mut self, d: i32) {
        self.put_int(d);
    }

    bulk_put!(
        /// `int[n]`: a whole slice of ints, no count.
        put_int_slice,
        /// `int<>`: a count, then the ints.
        put_int_array, i32, 4);
    bulk_put!(
        /// `unsigned int[n]`: a whole slice, no count.
        put_uint_slice,
        /// `unsigned int<>`: a count, then the values.
        put_uint_array, u32, 4);
    bulk_put!(
        /// `hyper[n]`: a whole slice, no count.
        put_hyper_slice,
        /// `hyper<>`: a count, then the values.
        put_hyper_array, i64, 8);
    bulk_put!(
        /// `unsigned hyper[n]`: a whole slice, no count.
        put_uhyper_slice,
        /// `unsigned hyper<>`: a count, then the values.
        put_uhyper_array, u64, 8);
    bulk_put!(
        /// `float[n]`: a whole slice, no count.
        put_float_slice,
        /// `float<>`: a count, then the values.
        put_float_array, f32, 4);
    bulk_put!(
        /// `double[n]`: a whole slice, no count.
        put_double_slice,
        /// `double<>`: a count, then the values.
        put_double_array, f64, 8);
}
