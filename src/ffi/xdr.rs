//! XDR's C face: `xipc_encoder`, `xipc_decoder`, `xipc_limits` and the
//! stateless bulk converters.
//!
//! Naming follows rpcgen: `_vector` is a fixed-length array (`T[n]`, no
//! count on the wire) and `_array` a variable-length one (`T<max>`, count
//! first). A `max` of `UINT32_MAX` means unbounded (`<>`). A get that fails
//! writes no output and leaves the decoder where it was. To size a buffer
//! before copying, read a string or opaque item with its `_ref` function
//! (no copy) or an array's count with `xipc_decoder_get_count`.

use std::ffi::{c_char, c_int};

use super::{guard, nonnull, slice_arg, str_arg, write_out};
use crate::xdr::{bulk, Decoder, Encoder, Limits};
use crate::{Error, Result};

/// An XDR encoder: a growing buffer of encoded bytes. Create with
/// `xipc_encoder_new`, release with `xipc_encoder_free`. One thread at a
/// time.
pub struct xipc_encoder {
    pub(crate) inner: Encoder,
}

/// An XDR decoder over bytes the caller owns and keeps alive (unchanged)
/// until `xipc_decoder_free`. One thread at a time.
pub struct xipc_decoder {
    inner: Decoder<'static>,
}

/// Decoding limits; see `xipc_limits_default`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct xipc_limits {
    /// Largest opaque or string body, in bytes.
    pub max_item_bytes: usize,
    /// Largest element count of one variable-length array.
    pub max_elements: usize,
    /// Deepest nesting of structs, unions, arrays and optional data.
    pub max_depth: usize,
    /// Most bytes the decoding of one message may allocate in all.
    pub max_alloc: usize,
}

impl From<xipc_limits> for Limits {
    fn from(l: xipc_limits) -> Limits {
        Limits {
            max_item_bytes: l.max_item_bytes,
            max_elements: l.max_elements,
            max_depth: l.max_depth,
            max_alloc: l.max_alloc,
        }
    }
}

impl From<Limits> for xipc_limits {
    fn from(l: Limits) -> xipc_limits {
        xipc_limits {
            max_item_bytes: l.max_item_bytes,
            max_elements: l.max_elements,
            max_depth: l.max_depth,
            max_alloc: l.max_alloc,
        }
    }
}

fn bound(max: u32) -> Option<u32> {
    (max != u32::MAX).then_some(max)
}

/// Borrows the handle behind a C pointer.
///
/// # Safety
/// `p` must be NULL or a live handle from this module.
pub(crate) unsafe fn enc<'a>(p: *mut xipc_encoder) -> Result<&'a mut Encoder> {
    // SAFETY: NULL is refused; otherwise a live handle by contract.
    unsafe { p.as_mut() }
        .map(|e| &mut e.inner)
        .ok_or_else(|| Error::InvalidArgument("encoder is NULL".into()))
}

/// # Safety
/// `p` must be NULL or a live handle from this module.
unsafe fn enc_ref<'a>(p: *const xipc_encoder) -> Result<&'a Encoder> {
    // SAFETY: NULL is refused; otherwise a live handle by contract.
    unsafe { p.as_ref() }
        .map(|e| &e.inner)
        .ok_or_else(|| Error::InvalidArgument("encoder is NULL".into()))
}

/// # Safety
/// `p` must be NULL or a live handle from this module.
unsafe fn dec_ref<'a>(p: *const xipc_decoder) -> Result<&'a Decoder<'static>> {
    // SAFETY: NULL is refused; otherwise a live handle by contract.
    unsafe { p.as_ref() }
        .map(|d| &d.inner)
        .ok_or_else(|| Error::InvalidArgument("decoder is NULL".into()))
}

/// # Safety
/// `p` must be NULL or a live handle from this module.
pub(crate) unsafe fn dec<'a>(p: *mut xipc_decoder) -> Result<&'a mut Decoder<'static>> {
    // SAFETY: NULL is refused; otherwise a live handle by contract.
    unsafe { p.as_mut() }
        .map(|d| &mut d.inner)
        .ok_or_else(|| Error::InvalidArgument("decoder is NULL".into()))
}

/// Runs a read and, when it fails, puts the decoder back where it was: a
/// failed get never moves the decoder.
pub(crate) fn undo_on_error<T>(
    d: &mut Decoder<'static>,
    read: impl FnOnce(&mut Decoder<'static>) -> Result<T>,
) -> Result<T> {
    let start = d.position();
    let result = read(d);
    if result.is_err() {
        // A position already reached is always valid: this cannot fail.
        let _ = d.set_position(start);
    }
    result
}

/// Runs an infallible write on the encoder behind `encoder`.
///
/// # Safety
/// `encoder` must be NULL or a live encoder.
unsafe fn with_encoder(encoder: *mut xipc_encoder, write: impl FnOnce(&mut Encoder)) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { enc(encoder) }.map(write))
}

/// Reads one value with `read` and stores it at `out`.
///
/// # Safety
/// `decoder` must be NULL or a live decoder; `out` NULL or writable.
unsafe fn get_into<T>(
    decoder: *mut xipc_decoder,
    out: *mut T,
    read: impl FnOnce(&mut Decoder<'static>) -> Result<T>,
) -> c_int {
    guard(|| {
        nonnull!(out);
        // SAFETY: forwarded contract; `out` checked non-NULL.
        unsafe {
            let value = undo_on_error(dec(decoder)?, read)?;
            write_out(out, value)
        }
    })
}

/// Appends `n` values at `values` with `write` (a fixed-length array).
///
/// # Safety
/// `encoder` must be NULL or a live encoder; `values` `n` readable items.
unsafe fn put_values<T>(
    encoder: *mut xipc_encoder,
    values: *const T,
    n: usize,
    write: impl FnOnce(&mut Encoder, &[T]),
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe {
            let values = typed_slice(values, n)?;
            write(enc(encoder)?, values);
        }
        Ok(())
    })
}

/// Appends the count `n`, then the values with `write` (a variable-length array).
///
/// # Safety
/// As for [`put_values`].
unsafe fn put_counted<T>(
    encoder: *mut xipc_encoder,
    values: *const T,
    n: usize,
    write: impl FnOnce(&mut Encoder, &[T]),
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe {
            let values = typed_slice(values, n)?;
            let e = enc(encoder)?;
            e.put_len(n)?;
            write(e, values);
        }
        Ok(())
    })
}

/// Reads `n` values into `out` with `read` (a fixed-length array).
///
/// # Safety
/// `decoder` must be NULL or a live decoder; `out` `n` writable items.
unsafe fn get_values<T>(
    decoder: *mut xipc_decoder,
    out: *mut T,
    n: usize,
    read: impl FnOnce(&mut Decoder<'static>, &mut [T]) -> Result<()>,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe {
        let out = typed_slice_mut(out, n)?;
        undo_on_error(dec(decoder)?, |d| read(d, out))
    })
}

/// Reads a count and that many values into the caller's `cap` items at `out`
/// (a variable-length array); the decoder does not move on failure.
///
/// # Safety
/// `decoder` must be NULL or a live decoder; `out` `cap` writable items; `n`
/// NULL or writable.
unsafe fn get_counted<T>(
    decoder: *mut xipc_decoder,
    max: u32,
    out: *mut T,
    cap: usize,
    n: *mut usize,
    read: impl FnOnce(&mut Decoder<'static>, &mut [T]) -> Result<()>,
) -> c_int {
    guard(|| {
        nonnull!(n);
        // SAFETY: forwarded contract; `n` checked non-NULL.
        unsafe {
            let d = dec(decoder)?;
            let start = d.position();
            let count = undo_on_error(d, |d| d.get_count(bound(max), std::mem::size_of::<T>()))?;
            if count > cap {
                d.set_position(start)?;
                return Err(Error::TooManyElements { count, limit: cap });
            }
            let result = typed_slice_mut(out, count).and_then(|dst| read(d, dst));
            if result.is_err() {
                d.set_position(start)?;
            }
            result?;
            write_out(n, count)
        }
    })
}

/// The default limits (items of 16 MiB, 4 Mi elements, depth 64, 64 MiB in all).
#[no_mangle]
pub extern "C" fn xipc_limits_default() -> xipc_limits {
    Limits::default().into()
}

/// Creates an empty encoder.
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_new(out: *mut *mut xipc_encoder) -> c_int {
    guard(|| {
        nonnull!(out);
        let handle = Box::new(xipc_encoder {
            inner: Encoder::new(),
        });
        // SAFETY: checked non-NULL above.
        unsafe { write_out(out, Box::into_raw(handle)) }
    })
}

/// Releases an encoder. Accepts NULL.
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_free(encoder: *mut xipc_encoder) {
    if !encoder.is_null() {
        // SAFETY: a live handle from `xipc_encoder_new`, by contract.
        drop(unsafe { Box::from_raw(encoder) });
    }
}

/// Forgets everything encoded (keeping the allocation).
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_reset(encoder: *mut xipc_encoder) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { enc(encoder) }.map(Encoder::clear))
}

/// Borrows the bytes encoded so far. They stay valid until the next call
/// that changes or frees the encoder.
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_data(
    encoder: *const xipc_encoder,
    data: *mut *const u8,
    len: *mut usize,
) -> c_int {
    guard(|| {
        nonnull!(data);
        nonnull!(len);
        // SAFETY: forwarded contract; out-pointers checked above.
        unsafe {
            let e = enc_ref(encoder)?;
            write_out(data, e.as_bytes().as_ptr())?;
            write_out(len, e.len())
        }
    })
}

/// Takes the encoded bytes out, leaving the encoder empty. Free the buffer
/// with `xipc_bytes_free(data, len)`.
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_take(
    encoder: *mut xipc_encoder,
    data: *mut *mut u8,
    len: *mut usize,
) -> c_int {
    guard(|| {
        nonnull!(data);
        nonnull!(len);
        // SAFETY: forwarded contract; out-pointers checked above.
        unsafe {
            let e = enc(encoder)?;
            let (ptr, n) = super::into_c_bytes(std::mem::take(e).into_bytes());
            write_out(data, ptr)?;
            write_out(len, n)
        }
    })
}

/// Appends an `int`.
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_put_int(encoder: *mut xipc_encoder, value: i32) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { with_encoder(encoder, |e| e.put_int(value)) }
}

/// Appends an `unsigned int`.
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_put_uint(encoder: *mut xipc_encoder, value: u32) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { with_encoder(encoder, |e| e.put_uint(value)) }
}

/// Appends an `enum` value.
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_put_enum(encoder: *mut xipc_encoder, value: i32) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { with_encoder(encoder, |e| e.put_enum(value)) }
}

/// Appends a `bool`.
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_put_bool(encoder: *mut xipc_encoder, value: bool) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { with_encoder(encoder, |e| e.put_bool(value)) }
}

/// Appends a `hyper`.
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_put_hyper(encoder: *mut xipc_encoder, value: i64) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { with_encoder(encoder, |e| e.put_hyper(value)) }
}

/// Appends an `unsigned hyper`.
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_put_uhyper(encoder: *mut xipc_encoder, value: u64) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { with_encoder(encoder, |e| e.put_uhyper(value)) }
}

/// Appends a `float`.
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_put_float(encoder: *mut xipc_encoder, value: f32) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { with_encoder(encoder, |e| e.put_float(value)) }
}

/// Appends a `double`.
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_put_double(encoder: *mut xipc_encoder, value: f64) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { with_encoder(encoder, |e| e.put_double(value)) }
}

/// Appends the presence flag of optional-data (then encode the value if true).
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_put_optional(
    encoder: *mut xipc_encoder,
    value: bool,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { with_encoder(encoder, |e| e.put_optional(value)) }
}

/// Appends a `quadruple`: 16 raw bytes.
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_put_quadruple(
    encoder: *mut xipc_encoder,
    bytes: *const u8,
) -> c_int {
    guard(|| {
        nonnull!(bytes);
        // SAFETY: forwarded contract; 16 bytes by contract.
        unsafe {
            let quad: &[u8; 16] = &*bytes.cast::<[u8; 16]>();
            enc(encoder)?.put_quadruple(quad);
        }
        Ok(())
    })
}

/// Appends `opaque[len]`: the bytes and zero padding, no length.
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_put_fixed_opaque(
    encoder: *mut xipc_encoder,
    data: *const u8,
    len: usize,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe {
            let bytes = slice_arg(data, len)?;
            enc(encoder)?.put_fixed_opaque(bytes);
        }
        Ok(())
    })
}

/// Appends `opaque<>`: length, bytes, zero padding.
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_put_opaque(
    encoder: *mut xipc_encoder,
    data: *const u8,
    len: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { enc(encoder)?.put_opaque(slice_arg(data, len)?) })
}

/// Appends `string<>` from a NUL-terminated C string.
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_put_string(
    encoder: *mut xipc_encoder,
    s: *const c_char,
) -> c_int {
    guard(|| {
        nonnull!(s);
        // SAFETY: forwarded contract; NUL-terminated by contract.
        unsafe {
            let bytes = std::ffi::CStr::from_ptr(s).to_bytes();
            enc(encoder)?.put_opaque(bytes)
        }
    })
}

/// Appends `string<>` of `len` bytes (which need not be NUL-terminated).
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_put_string_n(
    encoder: *mut xipc_encoder,
    s: *const c_char,
    len: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { enc(encoder)?.put_opaque(slice_arg(s.cast(), len)?) })
}

/// Refuses to encode the `char *` string field `field` because it is NULL,
/// as generated code does (rpcgen's `xdr_string` fails there too, rather
/// than sending ""): records "FIELD is a NULL string ..." as the thread's
/// last error and returns `XIPC_EINVAL`. Appends nothing.
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_refuse_null_string(
    encoder: *mut xipc_encoder,
    field: *const c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let field = unsafe {
            enc(encoder)?;
            str_arg(field, "field")?
        };
        Err(Error::InvalidArgument(format!(
            "{field} is a NULL string, which has no XDR encoding (set it to \"\" to send an empty one)"
        )))
    })
}

/// Appends the element count of a variable-length array; encode the
/// elements after it.
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_put_count(encoder: *mut xipc_encoder, count: usize) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { enc(encoder)?.put_len(count) })
}

/// Appends bytes that are already XDR (such as an encoded sub-message).
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_put_raw(
    encoder: *mut xipc_encoder,
    data: *const u8,
    len: usize,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe {
            let bytes = slice_arg(data, len)?;
            enc(encoder)?.put_raw(bytes);
        }
        Ok(())
    })
}

/// # Safety
/// `p` must point to `n` readable items (or be NULL with `n` = 0).
unsafe fn typed_slice<'a, T>(p: *const T, n: usize) -> Result<&'a [T]> {
    if p.is_null() {
        return if n == 0 {
            Ok(&[])
        } else {
            Err(Error::InvalidArgument(format!(
                "values is NULL but n is {n}"
            )))
        };
    }
    // SAFETY: non-NULL and `n` readable items by contract.
    Ok(unsafe { std::slice::from_raw_parts(p, n) })
}

/// # Safety
/// `p` must point to `n` writable items (or be NULL with `n` = 0).
unsafe fn typed_slice_mut<'a, T>(p: *mut T, n: usize) -> Result<&'a mut [T]> {
    if p.is_null() {
        return if n == 0 {
            Ok(&mut [])
        } else {
            Err(Error::InvalidArgument(format!("out is NULL but n is {n}")))
        };
    }
    // SAFETY: non-NULL and `n` writable items by contract.
    Ok(unsafe { std::slice::from_raw_parts_mut(p, n) })
}

/// Appends `int[n]`: `n` values, no count.
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_put_int_vector(
    encoder: *mut xipc_encoder,
    values: *const i32,
    n: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { put_values(encoder, values, n, Encoder::put_int_slice) }
}

/// Appends `int<>`: the count `n`, then the values.
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_put_int_array(
    encoder: *mut xipc_encoder,
    values: *const i32,
    n: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { put_counted(encoder, values, n, Encoder::put_int_slice) }
}

/// Appends `unsigned int[n]`: `n` values, no count.
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_put_uint_vector(
    encoder: *mut xipc_encoder,
    values: *const u32,
    n: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { put_values(encoder, values, n, Encoder::put_uint_slice) }
}

/// Appends `unsigned int<>`: the count `n`, then the values.
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_put_uint_array(
    encoder: *mut xipc_encoder,
    values: *const u32,
    n: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { put_counted(encoder, values, n, Encoder::put_uint_slice) }
}

/// Appends `hyper[n]`: `n` values, no count.
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_put_hyper_vector(
    encoder: *mut xipc_encoder,
    values: *const i64,
    n: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { put_values(encoder, values, n, Encoder::put_hyper_slice) }
}

/// Appends `hyper<>`: the count `n`, then the values.
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_put_hyper_array(
    encoder: *mut xipc_encoder,
    values: *const i64,
    n: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { put_counted(encoder, values, n, Encoder::put_hyper_slice) }
}

/// Appends `unsigned hyper[n]`: `n` values, no count.
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_put_uhyper_vector(
    encoder: *mut xipc_encoder,
    values: *const u64,
    n: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { put_values(encoder, values, n, Encoder::put_uhyper_slice) }
}

/// Appends `unsigned hyper<>`: the count `n`, then the values.
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_put_uhyper_array(
    encoder: *mut xipc_encoder,
    values: *const u64,
    n: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { put_counted(encoder, values, n, Encoder::put_uhyper_slice) }
}

/// Appends `float[n]`: `n` values, no count.
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_put_float_vector(
    encoder: *mut xipc_encoder,
    values: *const f32,
    n: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { put_values(encoder, values, n, Encoder::put_float_slice) }
}

/// Appends `float<>`: the count `n`, then the values.
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_put_float_array(
    encoder: *mut xipc_encoder,
    values: *const f32,
    n: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { put_counted(encoder, values, n, Encoder::put_float_slice) }
}

/// Appends `double[n]`: `n` values, no count.
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_put_double_vector(
    encoder: *mut xipc_encoder,
    values: *const f64,
    n: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { put_values(encoder, values, n, Encoder::put_double_slice) }
}

/// Appends `double<>`: the count `n`, then the values.
#[no_mangle]
pub unsafe extern "C" fn xipc_encoder_put_double_array(
    encoder: *mut xipc_encoder,
    values: *const f64,
    n: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { put_counted(encoder, values, n, Encoder::put_double_slice) }
}

/// Creates a decoder over `len` bytes at `data`, with `limits` (NULL for the
/// defaults). The bytes must stay alive and unchanged until the decoder is
/// freed.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_new(
    data: *const u8,
    len: usize,
    limits: *const xipc_limits,
    out: *mut *mut xipc_decoder,
) -> c_int {
    guard(|| {
        nonnull!(out);
        // SAFETY: by contract the bytes outlive the decoder; `limits` is
        // NULL or readable.
        unsafe {
            let input: &'static [u8] = slice_arg(data, len)?;
            let limits = limits
                .as_ref()
                .map(|l| Limits::from(*l))
                .unwrap_or_default();
            let handle = Box::new(xipc_decoder {
                inner: Decoder::with_limits(input, limits),
            });
            write_out(out, Box::into_raw(handle))
        }
    })
}

/// Releases a decoder. Accepts NULL.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_free(decoder: *mut xipc_decoder) {
    if !decoder.is_null() {
        // SAFETY: a live handle from `xipc_decoder_new`, by contract.
        drop(unsafe { Box::from_raw(decoder) });
    }
}

/// The byte offset of the next item.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_position(
    decoder: *const xipc_decoder,
    out: *mut usize,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { write_out(out, dec_ref(decoder)?.position()) })
}

/// Moves to byte offset `pos` (at most the input's length).
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_set_position(
    decoder: *mut xipc_decoder,
    pos: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { dec(decoder)?.set_position(pos) })
}

/// Points `*data` at the bytes not yet decoded and `*len` at their count,
/// without moving the decoder: for code (such as `xipc gen`'s) that parses a
/// run of fields in place, checking `*len` once, and then calls
/// `xipc_decoder_advance`. The bytes are the decoder's input, valid as long
/// as it is.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_peek(
    decoder: *const xipc_decoder,
    data: *mut *const u8,
    len: *mut usize,
) -> c_int {
    guard(|| {
        nonnull!(data);
        nonnull!(len);
        // SAFETY: forwarded contract; outputs checked non-NULL.
        unsafe {
            let rest = dec_ref(decoder)?.remaining();
            write_out(data, rest.as_ptr())?;
            write_out(len, rest.len())
        }
    })
}

/// Moves past `n` bytes read through `xipc_decoder_peek`. Fails with
/// `XIPC_EXDR` (and the offset), without moving, when fewer than `n` remain.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_advance(decoder: *mut xipc_decoder, n: usize) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { dec(decoder)?.skip(n) })
}

/// The number of bytes not yet decoded.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_remaining(
    decoder: *const xipc_decoder,
    out: *mut usize,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { write_out(out, dec_ref(decoder)?.remaining().len()) })
}

/// Succeeds when every byte has been decoded; `XIPC_EXDR` otherwise.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_finish(decoder: *mut xipc_decoder) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { dec(decoder)?.finish() })
}

/// Enters a nested item (for recursive types); fails past the depth limit.
/// Pair with `xipc_decoder_leave`.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_enter(decoder: *mut xipc_decoder) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { dec(decoder)?.enter() })
}

/// Leaves a nested item entered with `xipc_decoder_enter`.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_leave(decoder: *mut xipc_decoder) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { dec(decoder) }.map(Decoder::leave))
}

/// Counts `bytes` the caller is about to allocate against the decoder's
/// total-allocation limit (`XIPC_ELIMIT` when it would pass it).
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_charge(decoder: *mut xipc_decoder, bytes: usize) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { dec(decoder)?.charge(bytes) })
}

/// Reads an `int`.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_get_int(decoder: *mut xipc_decoder, out: *mut i32) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { get_into(decoder, out, |d| d.get_int()) }
}

/// Reads an `unsigned int`.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_get_uint(decoder: *mut xipc_decoder, out: *mut u32) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { get_into(decoder, out, |d| d.get_uint()) }
}

/// Reads an `enum` value.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_get_enum(decoder: *mut xipc_decoder, out: *mut i32) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { get_into(decoder, out, |d| d.get_enum()) }
}

/// Reads a `bool` (0 or 1; anything else is `XIPC_EXDR`).
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_get_bool(
    decoder: *mut xipc_decoder,
    out: *mut bool,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { get_into(decoder, out, |d| d.get_bool()) }
}

/// Reads a `hyper`.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_get_hyper(
    decoder: *mut xipc_decoder,
    out: *mut i64,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { get_into(decoder, out, |d| d.get_hyper()) }
}

/// Reads an `unsigned hyper`.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_get_uhyper(
    decoder: *mut xipc_decoder,
    out: *mut u64,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { get_into(decoder, out, |d| d.get_uhyper()) }
}

/// Reads a `float`.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_get_float(
    decoder: *mut xipc_decoder,
    out: *mut f32,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { get_into(decoder, out, |d| d.get_float()) }
}

/// Reads a `double`.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_get_double(
    decoder: *mut xipc_decoder,
    out: *mut f64,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { get_into(decoder, out, |d| d.get_double()) }
}

/// Reads the presence flag of optional-data.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_get_optional(
    decoder: *mut xipc_decoder,
    out: *mut bool,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { get_into(decoder, out, |d| d.get_optional()) }
}

/// Reads a `quadruple` into 16 bytes at `out`.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_get_quadruple(
    decoder: *mut xipc_decoder,
    out: *mut u8,
) -> c_int {
    guard(|| {
        nonnull!(out);
        // SAFETY: forwarded contract.
        unsafe {
            let q = undo_on_error(dec(decoder)?, Decoder::get_quadruple)?;
            write_out(out.cast::<[u8; 16]>(), q)
        }
    })
}

/// Reads `opaque[len]` into `len` bytes at `out` (padding checked).
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_get_fixed_opaque(
    decoder: *mut xipc_decoder,
    out: *mut u8,
    len: usize,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe {
            let dst = typed_slice_mut(out, len)?;
            crate::copy::fill(
                dst,
                undo_on_error(dec(decoder)?, |d| d.get_fixed_opaque(len))?,
            );
        }
        Ok(())
    })
}

/// Reads `opaque<max>` without copying: `*data` points into the decoder's
/// input (valid as long as that input) and `*len` is its length.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_get_opaque_ref(
    decoder: *mut xipc_decoder,
    max: u32,
    data: *mut *const u8,
    len: *mut usize,
) -> c_int {
    guard(|| {
        nonnull!(data);
        nonnull!(len);
        // SAFETY: forwarded contract.
        unsafe {
            let bytes = undo_on_error(dec(decoder)?, |d| d.get_opaque(bound(max)))?;
            write_out(data, bytes.as_ptr())?;
            write_out(len, bytes.len())
        }
    })
}

/// Reads `opaque<max>` into the caller's buffer of `cap` bytes; `*len` gets
/// its length. When `cap` is too small: `XIPC_EMSGSIZE` (the message gives
/// the length) and the decoder does not move; `xipc_decoder_get_opaque_ref`
/// reads an item of any length without a copy.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_get_opaque(
    decoder: *mut xipc_decoder,
    max: u32,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { copy_out(decoder, max, buf, cap, len, false) })
}

/// Reads `string<max>` into the caller's buffer of `cap` bytes, adding a
/// terminating NUL; `*len` gets the length without the NUL. When `cap` is
/// too small (it needs length + 1): `XIPC_EMSGSIZE` (the message gives the
/// length) and the decoder does not move; `xipc_decoder_get_string_ref`
/// reads a string of any length without a copy.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_get_string(
    decoder: *mut xipc_decoder,
    max: u32,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { copy_out(decoder, max, buf.cast(), cap, len, true) })
}

/// Reads `string<max>` without copying (not NUL-terminated).
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_get_string_ref(
    decoder: *mut xipc_decoder,
    max: u32,
    data: *mut *const c_char,
    len: *mut usize,
) -> c_int {
    guard(|| {
        nonnull!(data);
        nonnull!(len);
        // SAFETY: forwarded contract.
        unsafe {
            let bytes = undo_on_error(dec(decoder)?, |d| d.get_string_bytes(bound(max)))?;
            write_out(data, bytes.as_ptr().cast())?;
            write_out(len, bytes.len())
        }
    })
}

/// # Safety
/// As for `xipc_decoder_get_opaque`.
unsafe fn copy_out(
    decoder: *mut xipc_decoder,
    max: u32,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
    nul: bool,
) -> Result<()> {
    nonnull!(len);
    // Refused before reading, so that a failed get never moves the decoder.
    if buf.is_null() && cap != 0 {
        return Err(Error::InvalidArgument(format!(
            "buf is NULL but cap is {cap}"
        )));
    }
    // SAFETY: forwarded contract.
    let d = unsafe { dec(decoder)? };
    let start = d.position();
    let bytes = undo_on_error(d, |d| {
        if nul {
            d.get_string_bytes(bound(max))
        } else {
            d.get_opaque(bound(max))
        }
    })?;
    let need = bytes.len() + usize::from(nul);
    if need > cap {
        d.set_position(start)?;
        return Err(Error::MessageTooLarge {
            size: need,
            limit: cap,
        });
    }
    // SAFETY: `buf` has `cap` ≥ `need` writable bytes by contract.
    let dst = unsafe { typed_slice_mut(buf, need)? };
    crate::copy::fill(&mut dst[..bytes.len()], bytes);
    if nul {
        dst[bytes.len()] = 0;
    }
    // SAFETY: `len` checked non-NULL.
    unsafe { write_out(len, bytes.len()) }
}

/// Reads the element count of a variable-length array `T<max>` whose
/// elements take at least `min_elem_size` bytes each on the wire (4 for
/// any XDR type). The count is checked against `max`, the limits and the
/// bytes that remain, so allocating that many elements is safe.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_get_count(
    decoder: *mut xipc_decoder,
    max: u32,
    min_elem_size: usize,
    out: *mut usize,
) -> c_int {
    guard(|| {
        nonnull!(out);
        // SAFETY: forwarded contract.
        unsafe {
            let n = undo_on_error(dec(decoder)?, |d| d.get_count(bound(max), min_elem_size))?;
            write_out(out, n)
        }
    })
}

/// Reads `int[n]` into `n` items at `out`.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_get_int_vector(
    decoder: *mut xipc_decoder,
    out: *mut i32,
    n: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { get_values(decoder, out, n, Decoder::get_int_slice) }
}

/// Reads `int<max>` into the caller's `cap` items at `out`; `*n` gets the
/// count. When `cap` is too small: `XIPC_EMSGSIZE` (the message gives the
/// count) and the decoder does not move; `xipc_decoder_get_count` reads the
/// count alone.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_get_int_array(
    decoder: *mut xipc_decoder,
    max: u32,
    out: *mut i32,
    cap: usize,
    n: *mut usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { get_counted(decoder, max, out, cap, n, Decoder::get_int_slice) }
}

/// Reads `unsigned int[n]` into `n` items at `out`.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_get_uint_vector(
    decoder: *mut xipc_decoder,
    out: *mut u32,
    n: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { get_values(decoder, out, n, Decoder::get_uint_slice) }
}

/// Reads `unsigned int<max>` into the caller's `cap` items at `out`; `*n` gets the
/// count. When `cap` is too small: `XIPC_EMSGSIZE` (the message gives the
/// count) and the decoder does not move; `xipc_decoder_get_count` reads the
/// count alone.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_get_uint_array(
    decoder: *mut xipc_decoder,
    max: u32,
    out: *mut u32,
    cap: usize,
    n: *mut usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { get_counted(decoder, max, out, cap, n, Decoder::get_uint_slice) }
}

/// Reads `hyper[n]` into `n` items at `out`.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_get_hyper_vector(
    decoder: *mut xipc_decoder,
    out: *mut i64,
    n: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { get_values(decoder, out, n, Decoder::get_hyper_slice) }
}

/// Reads `hyper<max>` into the caller's `cap` items at `out`; `*n` gets the
/// count. When `cap` is too small: `XIPC_EMSGSIZE` (the message gives the
/// count) and the decoder does not move; `xipc_decoder_get_count` reads the
/// count alone.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_get_hyper_array(
    decoder: *mut xipc_decoder,
    max: u32,
    out: *mut i64,
    cap: usize,
    n: *mut usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { get_counted(decoder, max, out, cap, n, Decoder::get_hyper_slice) }
}

/// Reads `unsigned hyper[n]` into `n` items at `out`.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_get_uhyper_vector(
    decoder: *mut xipc_decoder,
    out: *mut u64,
    n: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { get_values(decoder, out, n, Decoder::get_uhyper_slice) }
}

/// Reads `unsigned hyper<max>` into the caller's `cap` items at `out`; `*n` gets the
/// count. When `cap` is too small: `XIPC_EMSGSIZE` (the message gives the
/// count) and the decoder does not move; `xipc_decoder_get_count` reads the
/// count alone.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_get_uhyper_array(
    decoder: *mut xipc_decoder,
    max: u32,
    out: *mut u64,
    cap: usize,
    n: *mut usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { get_counted(decoder, max, out, cap, n, Decoder::get_uhyper_slice) }
}

/// Reads `float[n]` into `n` items at `out`.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_get_float_vector(
    decoder: *mut xipc_decoder,
    out: *mut f32,
    n: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { get_values(decoder, out, n, Decoder::get_float_slice) }
}

/// Reads `float<max>` into the caller's `cap` items at `out`; `*n` gets the
/// count. When `cap` is too small: `XIPC_EMSGSIZE` (the message gives the
/// count) and the decoder does not move; `xipc_decoder_get_count` reads the
/// count alone.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_get_float_array(
    decoder: *mut xipc_decoder,
    max: u32,
    out: *mut f32,
    cap: usize,
    n: *mut usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { get_counted(decoder, max, out, cap, n, Decoder::get_float_slice) }
}

/// Reads `double[n]` into `n` items at `out`.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_get_double_vector(
    decoder: *mut xipc_decoder,
    out: *mut f64,
    n: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { get_values(decoder, out, n, Decoder::get_double_slice) }
}

/// Reads `double<max>` into the caller's `cap` items at `out`; `*n` gets the
/// count. When `cap` is too small: `XIPC_EMSGSIZE` (the message gives the
/// count) and the decoder does not move; `xipc_decoder_get_count` reads the
/// count alone.
#[no_mangle]
pub unsafe extern "C" fn xipc_decoder_get_double_array(
    decoder: *mut xipc_decoder,
    max: u32,
    out: *mut f64,
    cap: usize,
    n: *mut usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { get_counted(decoder, max, out, cap, n, Decoder::get_double_slice) }
}

/// Converts `n` native `int` values to XDR in `out` (`out_len` must be
/// n × 4).
#[no_mangle]
pub unsafe extern "C" fn xipc_xdr_encode_ints(
    values: *const i32,
    n: usize,
    out: *mut u8,
    out_len: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { bulk::encode_ints(typed_slice(values, n)?, typed_slice_mut(out, out_len)?) })
}

/// Converts XDR `int` values in `data` (`len` = n × 4) to `n` native
/// values at `out`.
#[no_mangle]
pub unsafe extern "C" fn xipc_xdr_decode_ints(
    data: *const u8,
    len: usize,
    out: *mut i32,
    n: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { bulk::decode_ints(slice_arg(data, len)?, typed_slice_mut(out, n)?) })
}

/// Converts `n` native `unsigned int` values to XDR in `out` (`out_len` must be
/// n × 4).
#[no_mangle]
pub unsafe extern "C" fn xipc_xdr_encode_uints(
    values: *const u32,
    n: usize,
    out: *mut u8,
    out_len: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { bulk::encode_uints(typed_slice(values, n)?, typed_slice_mut(out, out_len)?) })
}

/// Converts XDR `unsigned int` values in `data` (`len` = n × 4) to `n` native
/// values at `out`.
#[no_mangle]
pub unsafe extern "C" fn xipc_xdr_decode_uints(
    data: *const u8,
    len: usize,
    out: *mut u32,
    n: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { bulk::decode_uints(slice_arg(data, len)?, typed_slice_mut(out, n)?) })
}

/// Converts `n` native `hyper` values to XDR in `out` (`out_len` must be
/// n × 8).
#[no_mangle]
pub unsafe extern "C" fn xipc_xdr_encode_hypers(
    values: *const i64,
    n: usize,
    out: *mut u8,
    out_len: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe {
        bulk::encode_hypers(typed_slice(values, n)?, typed_slice_mut(out, out_len)?)
    })
}

/// Converts XDR `hyper` values in `data` (`len` = n × 8) to `n` native
/// values at `out`.
#[no_mangle]
pub unsafe extern "C" fn xipc_xdr_decode_hypers(
    data: *const u8,
    len: usize,
    out: *mut i64,
    n: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { bulk::decode_hypers(slice_arg(data, len)?, typed_slice_mut(out, n)?) })
}

/// Converts `n` native `unsigned hyper` values to XDR in `out` (`out_len` must be
/// n × 8).
#[no_mangle]
pub unsafe extern "C" fn xipc_xdr_encode_uhypers(
    values: *const u64,
    n: usize,
    out: *mut u8,
    out_len: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe {
        bulk::encode_uhypers(typed_slice(values, n)?, typed_slice_mut(out, out_len)?)
    })
}

/// Converts XDR `unsigned hyper` values in `data` (`len` = n × 8) to `n` native
/// values at `out`.
#[no_mangle]
pub unsafe extern "C" fn xipc_xdr_decode_uhypers(
    data: *const u8,
    len: usize,
    out: *mut u64,
    n: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { bulk::decode_uhypers(slice_arg(data, len)?, typed_slice_mut(out, n)?) })
}

/// Converts `n` native `float` values to XDR in `out` (`out_len` must be
/// n × 4).
#[no_mangle]
pub unsafe extern "C" fn xipc_xdr_encode_floats(
    values: *const f32,
    n: usize,
    out: *mut u8,
    out_len: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe {
        bulk::encode_floats(typed_slice(values, n)?, typed_slice_mut(out, out_len)?)
    })
}

/// Converts XDR `float` values in `data` (`len` = n × 4) to `n` native
/// values at `out`.
#[no_mangle]
pub unsafe extern "C" fn xipc_xdr_decode_floats(
    data: *const u8,
    len: usize,
    out: *mut f32,
    n: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { bulk::decode_floats(slice_arg(data, len)?, typed_slice_mut(out, n)?) })
}

/// Converts `n` native `double` values to XDR in `out` (`out_len` must be
/// n × 8).
#[no_mangle]
pub unsafe extern "C" fn xipc_xdr_encode_doubles(
    values: *const f64,
    n: usize,
    out: *mut u8,
    out_len: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe {
        bulk::encode_doubles(typed_slice(values, n)?, typed_slice_mut(out, out_len)?)
    })
}

/// Converts XDR `double` values in `data` (`len` = n × 8) to `n` native
/// values at `out`.
#[no_mangle]
pub unsafe extern "C" fn xipc_xdr_decode_doubles(
    data: *const u8,
    len: usize,
    out: *mut f64,
    n: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { bulk::decode_doubles(slice_arg(data, len)?, typed_slice_mut(out, n)?) })
}
