//! The C face of `crate::net::tls`: `xipc_tls_config`, made from a
//! `xipc_tls_options`.

use std::ffi::{c_char, c_int};
use std::path::PathBuf;

use super::{guard, nonnull, slice_arg, str_arg, write_out};
use crate::net::{Pem, TlsConfig, TlsOptions, TlsPolicy};
use crate::{Error, Result};

/// A TLS configuration for RPC-with-TLS (RFC 9289): policy, CA bundle,
/// certificate chain and private key, read and checked when made. One
/// configuration may serve any number of listeners and clients, from any
/// thread; free it with `xipc_tls_config_free` once nothing is being made
/// from it (listeners and clients keep what they need) and it will not be
/// reloaded (`xipc_tls_config_reload`, `xipc_tls_config_replace`).
pub struct xipc_tls_config {
    pub(crate) inner: TlsConfig,
}

/// What a `xipc_tls_config` is made of. Zero-initialise it and set what
/// you need. Each of the CA bundle, certificate chain and private key comes
/// from a file (`*_file`, a path) or from PEM bytes in memory (`*_pem` and
/// `*_pem_len`), not both.
#[repr(C)]
pub struct xipc_tls_options {
    /// "tls" (NULL means "tls": the server is authenticated), "mtls"
    /// (both sides present certificates) or "none" (no TLS).
    pub policy: *const c_char,
    /// The CA bundle a peer's certificate must chain to: a client needs
    /// it; a server needs it under "mtls".
    pub ca_file: *const c_char,
    /// The CA bundle as PEM bytes.
    pub ca_pem: *const u8,
    /// The length of `ca_pem`.
    pub ca_pem_len: usize,
    /// This end's certificate chain, leaf first: a server needs it; a
    /// client under "mtls".
    pub cert_file: *const c_char,
    /// The certificate chain as PEM bytes.
    pub cert_pem: *const u8,
    /// The length of `cert_pem`.
    pub cert_pem_len: usize,
    /// The private key of the certificate (PKCS#8, PKCS#1 or SEC1).
    pub key_file: *const c_char,
    /// The private key as PEM bytes.
    pub key_pem: *const u8,
    /// The length of `key_pem`.
    pub key_pem_len: usize,
    /// For a client: the name the server's certificate must carry, when it
    /// is not the host connected to (NULL: that host; "localhost" for a
    /// Unix socket).
    pub server_name: *const c_char,
    /// Certificate revocation lists ("X509 CRL" PEM blocks) of the CAs in
    /// the bundle: a peer whose certificate one lists is refused. Only the
    /// peer's own certificate is looked up; one whose issuer has no list
    /// here is accepted. Needs the CA bundle.
    pub crl_file: *const c_char,
    /// The revocation lists as PEM bytes.
    pub crl_pem: *const u8,
    /// The length of `crl_pem`.
    pub crl_pem_len: usize,
}

/// One PEM input: a file, PEM bytes, or nothing.
///
/// # Safety
/// `file` must be NULL or a NUL-terminated string; `pem` must point to
/// `len` readable bytes (or be NULL).
unsafe fn pem_arg(
    what: &str,
    file: *const c_char,
    pem: *const u8,
    len: usize,
) -> Result<Option<Pem>> {
    match (file.is_null(), pem.is_null() && len == 0) {
        (true, true) => Ok(None),
        (false, true) => {
            // SAFETY: forwarded contract.
            let path = unsafe { str_arg(file, what)? };
            Ok(Some(Pem::File(PathBuf::from(path))))
        }
        (true, false) => {
            // SAFETY: forwarded contract.
            let bytes = unsafe { slice_arg(pem, len)? };
            Ok(Some(Pem::Bytes(bytes.to_vec())))
        }
        (false, false) => Err(Error::InvalidArgument(format!(
            "{what}: give a file or PEM bytes, not both"
        ))),
    }
}

/// The Rust options `o` stands for.
///
/// # Safety
/// Every pointer in `o` must be NULL or valid as `xipc_tls_options` says.
unsafe fn options_arg(o: &xipc_tls_options) -> Result<TlsOptions> {
    let policy = if o.policy.is_null() {
        TlsPolicy::Tls
    } else {
        // SAFETY: forwarded contract.
        TlsPolicy::parse(unsafe { str_arg(o.policy, "policy")? })?
    };
    let server_name = if o.server_name.is_null() {
        None
    } else {
        // SAFETY: forwarded contract.
        Some(unsafe { str_arg(o.server_name, "server_name")? }.to_string())
    };
    // SAFETY: forwarded contract, for each of the four inputs.
    let (ca, cert, key, crl) = unsafe {
        (
            pem_arg("ca", o.ca_file, o.ca_pem, o.ca_pem_len)?,
            pem_arg("cert", o.cert_file, o.cert_pem, o.cert_pem_len)?,
            pem_arg("key", o.key_file, o.key_pem, o.key_pem_len)?,
            pem_arg("crl", o.crl_file, o.crl_pem, o.crl_pem_len)?,
        )
    };
    Ok(TlsOptions {
        policy,
        ca,
        cert,
        key,
        server_name,
        crl,
    })
}

/// Makes a TLS configuration from `options`, reading and checking every
/// file now: a file that is missing is `XIPC_ENOENT`; one that holds no
/// certificate or key, a key that does not belong to its certificate, or
/// an unknown policy is `XIPC_EINVAL`, with the file named in
/// `xipc_last_error()`.
#[no_mangle]
pub unsafe extern "C" fn xipc_tls_config_new(
    options: *const xipc_tls_options,
    out: *mut *mut xipc_tls_config,
) -> c_int {
    guard(|| {
        nonnull!(options);
        nonnull!(out);
        // SAFETY: checked non-NULL; readable by contract, and so are the
        // pointers in it.
        let inner = TlsConfig::new(unsafe { options_arg(&*options)? })?;
        let handle = Box::into_raw(Box::new(xipc_tls_config { inner }));
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, handle) }
    })
}

/// Reads the configuration's files again (PEM bytes stay as given) and
/// checks them as `xipc_tls_config_new` does; on success, every handshake
/// that starts from now on uses the new certificate, key and CA bundle:
/// on each listener made with `config` and on each client's next
/// connection. Connections already set up keep their session. On an
/// error nothing changes (`XIPC_ENOENT`, `XIPC_EINVAL` as for
/// `xipc_tls_config_new`). A server renewing its certificate overwrites
/// its files, then calls this.
#[no_mangle]
pub unsafe extern "C" fn xipc_tls_config_reload(config: *mut xipc_tls_config) -> c_int {
    // SAFETY: NULL is refused; otherwise live by contract.
    guard(|| unsafe { self::config(config)? }.reload())
}

/// Puts `options` in force in place of what `config` was made from, as
/// `xipc_tls_config_reload` does with the old ones (later reloads read the
/// new ones). The policy must stay the same, and a configuration that
/// listeners use must keep a certificate and key, one that clients use
/// its CA bundle (`XIPC_EINVAL` otherwise). On an error nothing changes.
#[no_mangle]
pub unsafe extern "C" fn xipc_tls_config_replace(
    config: *mut xipc_tls_config,
    options: *const xipc_tls_options,
) -> c_int {
    guard(|| {
        nonnull!(options);
        // SAFETY: NULL refused above and in `config`; live and readable by
        // contract.
        unsafe { self::config(config)?.replace(options_arg(&*options)?) }
    })
}

/// Frees a TLS configuration. Accepts NULL.
#[no_mangle]
pub unsafe extern "C" fn xipc_tls_config_free(config: *mut xipc_tls_config) {
    if config.is_null() {
        return;
    }
    // SAFETY: by contract `config` came from `xipc_tls_config_new` and is
    // freed once.
    drop(unsafe { Box::from_raw(config) });
}

/// # Safety
/// `p` must be NULL or a live configuration.
pub(crate) unsafe fn config<'a>(p: *const xipc_tls_config) -> Result<&'a TlsConfig> {
    // SAFETY: NULL is refused; otherwise live by contract.
    unsafe { p.as_ref() }
        .map(|c| &c.inner)
        .ok_or_else(|| Error::InvalidArgument("tls is NULL".into()))
}
