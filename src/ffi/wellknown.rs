//! The C face of the well-known ONC RPC types (`netobj`, `des_block`,
//! `netbuf`, `opaque_auth`, `authsys_parms`): the types and XDR routines
//! that rpcgen's output takes from libtirpc, for the code `xipc gen`
//! writes. Each C type has libtirpc's layout and field names, so code
//! written against rpcgen's output ports unchanged; a generated header
//! gives it rpcgen's name (`typedef xipc_netobj netobj;`).
//!
//! Decoding allocates with `malloc` (free with `xipc_free_T`, or `free`
//! the buffers as `xdr_free` would) and charges the decoder's allocation
//! limit; on error it frees what it allocated and leaves the value zeroed.

use std::ffi::{c_char, c_int, c_uint, c_ulong, c_void};

use super::xdr::{dec, enc, undo_on_error, xipc_decoder, xipc_encoder};
use super::{guard, nonnull};
use crate::idl::wellknown as wk;
use crate::xdr::{Decoder, Encoder};
use crate::{Error, Result};

// The bounds of the well-known definitions, as the decoder takes them.
const MAX_NETOBJ_SZ: u32 = wk::MAX_NETOBJ_SZ as u32;
const MAX_AUTH_BYTES: u32 = wk::MAX_AUTH_BYTES as u32;
const MAX_MACHINE_NAME: u32 = wk::MAX_MACHINE_NAME as u32;
const NGRPS: u32 = wk::NGRPS as u32;

/// `netobj`: an opaque network object of at most 1024 bytes
/// (`MAX_NETOBJ_SZ`); libtirpc's `struct netobj`.
#[repr(C)]
#[derive(Debug)]
pub struct xipc_netobj {
    /// Its length in bytes.
    pub n_len: c_uint,
    /// Its bytes (NULL when empty).
    pub n_bytes: *mut c_char,
}

/// The two words of a `des_block`, in host order.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct xipc_des_block_key {
    /// The first four bytes.
    pub high: u32,
    /// The last four bytes.
    pub low: u32,
}

/// `des_block`: 8 opaque bytes (libtirpc's `union des_block`).
#[repr(C)]
#[derive(Clone, Copy)]
pub union xipc_des_block {
    /// The bytes as two words.
    pub key: xipc_des_block_key,
    /// The bytes, as sent.
    pub c: [c_char; 8],
}

/// `netbuf`: a transport address (libtirpc's `struct netbuf`); on the wire
/// `maxlen`, then `len` bytes (at most `maxlen`).
#[repr(C)]
#[derive(Debug)]
pub struct xipc_netbuf {
    /// The buffer's capacity.
    pub maxlen: c_uint,
    /// The bytes used.
    pub len: c_uint,
    /// The bytes (NULL when empty).
    pub buf: *mut c_void,
}

/// `opaque_auth`: a credential or verifier (libtirpc's `struct
/// opaque_auth`): a flavor and at most 400 bytes (`MAX_AUTH_BYTES`).
#[repr(C)]
#[derive(Debug)]
pub struct xipc_opaque_auth {
    /// The flavor (`AUTH_NONE`, `AUTH_SYS`, ...).
    pub oa_flavor: c_int,
    /// The body (NULL when empty).
    pub oa_base: *mut c_char,
    /// The body's length.
    pub oa_length: c_uint,
}

/// `authsys_parms` (also `authunix_parms`): the body of an AUTH_SYS
/// credential, with libtirpc's field names.
#[repr(C)]
#[derive(Debug)]
pub struct xipc_authsys_parms {
    /// The stamp (`stamp` on the wire, 32 bits).
    pub aup_time: c_ulong,
    /// The machine name, NUL-terminated, at most 255 bytes.
    pub aup_machname: *mut c_char,
    /// The user id.
    pub aup_uid: u32,
    /// The group id.
    pub aup_gid: u32,
    /// The number of supplementary groups (at most 16).
    pub aup_len: c_uint,
    /// The supplementary groups.
    pub aup_gids: *mut u32,
}

/// The `n` bytes at `p` (none when `n` is 0, whatever `p` is).
///
/// # Safety
/// When `n > 0`, `p` must point to `n` readable bytes.
unsafe fn bytes_at<'a>(p: *const c_void, n: usize, what: &str) -> Result<&'a [u8]> {
    if n == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Error::InvalidArgument(format!(
            "{what} is NULL with a length of {n}"
        )));
    }
    // SAFETY: non-NULL and `n` readable bytes by contract.
    Ok(unsafe { std::slice::from_raw_parts(p.cast::<u8>(), n) })
}

fn check_len(n: usize, max: u32, what: &str) -> Result<()> {
    if n > max as usize {
        return Err(Error::limit(
            0,
            format!("{what} has length {n}, more than its bound of {max}"),
        ));
    }
    Ok(())
}

/// A `malloc`ed copy of `bytes` (with a NUL after them when `nul`),
/// charged to the decoder; NULL for no bytes and no NUL.
fn malloc_copy(d: &mut Decoder<'static>, bytes: &[u8], nul: bool) -> Result<*mut c_void> {
    let n = bytes.len() + usize::from(nul);
    if n == 0 {
        return Ok(std::ptr::null_mut());
    }
    d.charge(n)?;
    // SAFETY: plain allocation of `n` > 0 bytes.
    let p = unsafe { libc::malloc(n) };
    if p.is_null() {
        return Err(Error::Internal("out of memory".into()));
    }
    // SAFETY: `p` holds `n` bytes; the source is `bytes.len()` readable bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), p.cast::<u8>(), bytes.len());
        if nul {
            *p.cast::<u8>().add(bytes.len()) = 0;
        }
    }
    Ok(p)
}

/// Frees a `malloc`ed pointer field and sets it to NULL.
///
/// # Safety
/// `*p` must be NULL or from `malloc`.
unsafe fn free_field<T>(p: &mut *mut T) {
    // SAFETY: by contract.
    unsafe { libc::free((*p).cast()) };
    *p = std::ptr::null_mut();
}

/// Runs an encoding of `*value` on the encoder behind `encoder`.
///
/// # Safety
/// `encoder` must be NULL or live; `value` NULL or a valid `T`.
unsafe fn encode_with<T>(
    encoder: *mut xipc_encoder,
    value: *const T,
    write: impl FnOnce(&mut Encoder, &T) -> Result<()>,
) -> c_int {
    guard(|| {
        nonnull!(value);
        // SAFETY: forwarded contract; `value` checked non-NULL.
        let (e, v) = unsafe { (enc(encoder)?, &*value) };
        write(e, v)
    })
}

/// Runs a decoding into `*value`: zeroed first, and again (after `free`)
/// when it fails, with the decoder back where it was.
///
/// # Safety
/// `decoder` must be NULL or live; `value` NULL or writable.
unsafe fn decode_with<T>(
    decoder: *mut xipc_decoder,
    value: *mut T,
    read: impl FnOnce(&mut Decoder<'static>, &mut T) -> Result<()>,
    free: unsafe fn(&mut T),
) -> c_int {
    guard(|| {
        nonnull!(value);
        // SAFETY: forwarded contract; `value` checked non-NULL and every
        // one of these C types is valid all-zero.
        let (d, v) = unsafe {
            std::ptr::write_bytes(value, 0, 1);
            (dec(decoder)?, &mut *value)
        };
        let r = undo_on_error(d, |d| read(d, v));
        if r.is_err() {
            // SAFETY: `v` holds only what `read` allocated, or NULLs.
            unsafe {
                free(v);
                std::ptr::write_bytes(value, 0, 1);
            }
        }
        r
    })
}

/// Encodes a `netobj`: `opaque<MAX_NETOBJ_SZ>`.
#[no_mangle]
pub unsafe extern "C" fn xipc_encode_netobj(
    encoder: *mut xipc_encoder,
    value: *const xipc_netobj,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe {
        encode_with(encoder, value, |e, v| {
            let b = bytes_at(v.n_bytes.cast(), v.n_len as usize, "n_bytes")?;
            check_len(b.len(), MAX_NETOBJ_SZ, "netobj")?;
            e.put_opaque(b)
        })
    }
}

/// Decodes a `netobj` into `*value` (overwritten; release with
/// `xipc_free_netobj`).
#[no_mangle]
pub unsafe extern "C" fn xipc_decode_netobj(
    decoder: *mut xipc_decoder,
    value: *mut xipc_netobj,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe {
        decode_with(
            decoder,
            value,
            |d, v| {
                let b = d.get_opaque(Some(MAX_NETOBJ_SZ))?;
                v.n_bytes = malloc_copy(d, b, false)?.cast();
                v.n_len = b.len() as c_uint;
                Ok(())
            },
            free_netobj,
        )
    }
}

unsafe fn free_netobj(v: &mut xipc_netobj) {
    // SAFETY: decoded buffers come from malloc.
    unsafe { free_field(&mut v.n_bytes) };
    v.n_len = 0;
}

/// Frees what `xipc_decode_netobj` allocated and zeroes `*value`. Accepts NULL.
#[no_mangle]
pub unsafe extern "C" fn xipc_free_netobj(value: *mut xipc_netobj) {
    // SAFETY: by contract.
    if let Some(v) = unsafe { value.as_mut() } {
        // SAFETY: by contract.
        unsafe { free_netobj(v) };
    }
}

/// Encodes a `des_block`: its 8 bytes.
#[no_mangle]
pub unsafe extern "C" fn xipc_encode_des_block(
    encoder: *mut xipc_encoder,
    value: *const xipc_des_block,
) -> c_int {
    // SAFETY: forwarded contract; every bit pattern is valid bytes.
    unsafe {
        encode_with(encoder, value, |e, v| {
            e.put_fixed_opaque(&v.c.map(|c| c as u8));
            Ok(())
        })
    }
}

/// Decodes a `des_block` into `*value`.
#[no_mangle]
pub unsafe extern "C" fn xipc_decode_des_block(
    decoder: *mut xipc_decoder,
    value: *mut xipc_des_block,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe {
        decode_with(
            decoder,
            value,
            |d, v| {
                let b = d.get_fixed_opaque(8)?;
                let mut c = [0 as c_char; 8];
                for (to, from) in c.iter_mut().zip(b) {
                    *to = *from as c_char;
                }
                v.c = c;
                Ok(())
            },
            free_nothing,
        )
    }
}

unsafe fn free_nothing<T>(_: &mut T) {}

/// Does nothing (a `des_block` owns no memory); for symmetry. Accepts NULL.
#[no_mangle]
pub extern "C" fn xipc_free_des_block(value: *mut xipc_des_block) {
    let _ = value;
}

/// Encodes a `netbuf`: `maxlen`, then `buf` as `opaque<maxlen>`.
#[no_mangle]
pub unsafe extern "C" fn xipc_encode_netbuf(
    encoder: *mut xipc_encoder,
    value: *const xipc_netbuf,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe {
        encode_with(encoder, value, |e, v| {
            let b = bytes_at(v.buf, v.len as usize, "buf")?;
            check_len(b.len(), v.maxlen, "netbuf")?;
            e.put_uint(v.maxlen);
            e.put_opaque(b)
        })
    }
}

/// Decodes a `netbuf` into `*value` (release with `xipc_free_netbuf`).
#[no_mangle]
pub unsafe extern "C" fn xipc_decode_netbuf(
    decoder: *mut xipc_decoder,
    value: *mut xipc_netbuf,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe {
        decode_with(
            decoder,
            value,
            |d, v| {
                v.maxlen = d.get_uint()?;
                let b = d.get_opaque(Some(v.maxlen))?;
                v.buf = malloc_copy(d, b, false)?;
                v.len = b.len() as c_uint;
                Ok(())
            },
            free_netbuf,
        )
    }
}

unsafe fn free_netbuf(v: &mut xipc_netbuf) {
    // SAFETY: decoded buffers come from malloc.
    unsafe { free_field(&mut v.buf) };
    v.len = 0;
}

/// Frees what `xipc_decode_netbuf` allocated and zeroes it. Accepts NULL.
#[no_mangle]
pub unsafe extern "C" fn xipc_free_netbuf(value: *mut xipc_netbuf) {
    // SAFETY: by contract.
    if let Some(v) = unsafe { value.as_mut() } {
        // SAFETY: by contract.
        unsafe { free_netbuf(v) };
        v.maxlen = 0;
    }
}

/// Encodes an `opaque_auth`: the flavor, then the body (`opaque<400>`).
#[no_mangle]
pub unsafe extern "C" fn xipc_encode_opaque_auth(
    encoder: *mut xipc_encoder,
    value: *const xipc_opaque_auth,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe {
        encode_with(encoder, value, |e, v| {
            let b = bytes_at(v.oa_base.cast(), v.oa_length as usize, "oa_base")?;
            check_len(b.len(), MAX_AUTH_BYTES, "opaque_auth body")?;
            e.put_int(v.oa_flavor);
            e.put_opaque(b)
        })
    }
}

/// Decodes an `opaque_auth` into `*value` (release with
/// `xipc_free_opaque_auth`).
#[no_mangle]
pub unsafe extern "C" fn xipc_decode_opaque_auth(
    decoder: *mut xipc_decoder,
    value: *mut xipc_opaque_auth,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe {
        decode_with(
            decoder,
            value,
            |d, v| {
                v.oa_flavor = d.get_int()?;
                let b = d.get_opaque(Some(MAX_AUTH_BYTES))?;
                v.oa_base = malloc_copy(d, b, false)?.cast();
                v.oa_length = b.len() as c_uint;
                Ok(())
            },
            free_opaque_auth,
        )
    }
}

unsafe fn free_opaque_auth(v: &mut xipc_opaque_auth) {
    // SAFETY: decoded buffers come from malloc.
    unsafe { free_field(&mut v.oa_base) };
    v.oa_length = 0;
}

/// Frees what `xipc_decode_opaque_auth` allocated and zeroes the body.
/// Accepts NULL.
#[no_mangle]
pub unsafe extern "C" fn xipc_free_opaque_auth(value: *mut xipc_opaque_auth) {
    // SAFETY: by contract.
    if let Some(v) = unsafe { value.as_mut() } {
        // SAFETY: by contract.
        unsafe { free_opaque_auth(v) };
    }
}

/// Encodes an `authsys_parms`: stamp, machine name (`string<255>`), uid,
/// gid, groups (`unsigned int<16>`).
#[no_mangle]
pub unsafe extern "C" fn xipc_encode_authsys_parms(
    encoder: *mut xipc_encoder,
    value: *const xipc_authsys_parms,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe {
        encode_with(encoder, value, |e, v| {
            if v.aup_machname.is_null() {
                return Err(Error::InvalidArgument(
                    "aup_machname is a NULL string, which has no XDR encoding".into(),
                ));
            }
            let name = std::ffi::CStr::from_ptr(v.aup_machname).to_bytes();
            check_len(name.len(), MAX_MACHINE_NAME, "aup_machname")?;
            let n = v.aup_len as usize;
            check_len(n, NGRPS, "aup_gids")?;
            let gids = bytes_at(v.aup_gids.cast(), n * 4, "aup_gids")?;
            e.put_uint(v.aup_time as u32);
            e.put_opaque(name)?;
            e.put_uint(v.aup_uid);
            e.put_uint(v.aup_gid);
            e.put_len(n)?;
            for g in gids.chunks_exact(4) {
                e.put_uint(u32::from_ne_bytes([g[0], g[1], g[2], g[3]]));
            }
            Ok(())
        })
    }
}

/// Decodes an `authsys_parms` into `*value` (release with
/// `xipc_free_authsys_parms`).
#[no_mangle]
pub unsafe extern "C" fn xipc_decode_authsys_parms(
    decoder: *mut xipc_decoder,
    value: *mut xipc_authsys_parms,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe {
        decode_with(
            decoder,
            value,
            |d, v| {
                v.aup_time = c_ulong::from(d.get_uint()?);
                let name = d.get_string_bytes(Some(MAX_MACHINE_NAME))?;
                v.aup_machname = malloc_copy(d, name, true)?.cast();
                v.aup_uid = d.get_uint()?;
                v.aup_gid = d.get_uint()?;
                let n = d.get_count(Some(NGRPS), 4)?;
                let mut gids = Vec::with_capacity(n * 4);
                for _ in 0..n {
                    gids.extend_from_slice(&d.get_uint()?.to_ne_bytes());
                }
                v.aup_gids = malloc_copy(d, &gids, false)?.cast();
                v.aup_len = n as c_uint;
                Ok(())
            },
            free_authsys_parms,
        )
    }
}

unsafe fn free_authsys_parms(v: &mut xipc_authsys_parms) {
    // SAFETY: decoded buffers come from malloc.
    unsafe {
        free_field(&mut v.aup_machname);
        free_field(&mut v.aup_gids);
    }
    v.aup_len = 0;
}

/// Frees what `xipc_decode_authsys_parms` allocated and zeroes the
/// pointers. Accepts NULL.
#[no_mangle]
pub unsafe extern "C" fn xipc_free_authsys_parms(value: *mut xipc_authsys_parms) {
    // SAFETY: by contract.
    if let Some(v) = unsafe { value.as_mut() } {
        // SAFETY: by contract.
        unsafe { free_authsys_parms(v) };
    }
}
