//! TLS as a property of a connection: the configuration both ends share
//! (policy, CA bundle, certificate chain and key), the rustls sessions
//! built from it, and what a peer's certificate says about it.
//!
//! Only TLS 1.3 is offered and accepted, with rustls and the `ring`
//! crypto provider (no OpenSSL). The ALPN protocol is "sunrpc" (RFC 9289):
//! a client offers it; a server accepts handshakes that offer it or offer
//! no ALPN at all (the Linux kernel's tlshd offers none).

use std::fmt;
use std::io::{Read, Write};
use std::os::fd::BorrowedFd;
use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};

use super::sys::{self, Sink};
use crate::{Error, Result};

/// The ALPN protocol identifier of RPC-with-TLS.
pub const ALPN: &[u8] = b"sunrpc";

/// How much a connection demands of TLS, as Linux names it for NFS
/// (`xprtsec=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsPolicy {
    /// No TLS: RPC in the clear.
    None,
    /// TLS, the server authenticated: its certificate chains to the CA
    /// bundle and names the host the client asked for (DNS name or IP
    /// address in subjectAltName).
    Tls,
    /// Mutual TLS: the client presents a certificate too, which the server
    /// checks against its CA bundle.
    Mtls,
}

impl TlsPolicy {
    /// Parses "none", "tls" or "mtls".
    ///
    /// ```
    /// use xipc::net::TlsPolicy;
    /// assert_eq!(TlsPolicy::parse("mtls")?, TlsPolicy::Mtls);
    /// assert!(TlsPolicy::parse("ssl").is_err());
    /// # Ok::<(), xipc::Error>(())
    /// ```
    pub fn parse(name: &str) -> Result<TlsPolicy> {
        match name {
            "none" => Ok(TlsPolicy::None),
            "tls" => Ok(TlsPolicy::Tls),
            "mtls" => Ok(TlsPolicy::Mtls),
            other => Err(Error::InvalidArgument(format!(
                "unknown TLS policy {other:?}; use \"none\", \"tls\" or \"mtls\""
            ))),
        }
    }

    /// The policy's name, as [`parse`](Self::parse) takes it.
    pub fn name(self) -> &'static str {
        match self {
            TlsPolicy::None => "none",
            TlsPolicy::Tls => "tls",
            TlsPolicy::Mtls => "mtls",
        }
    }
}

/// Where PEM data comes from: a file, or the bytes themselves.
#[derive(Clone, Debug)]
pub enum Pem {
    /// A file holding PEM blocks.
    File(PathBuf),
    /// PEM blocks in memory.
    Bytes(Vec<u8>),
}

impl Pem {
    fn read(&self, what: &str) -> Result<Vec<u8>> {
        match self {
            Pem::Bytes(b) => Ok(b.clone()),
            Pem::File(path) => std::fs::read(path).map_err(|e| {
                let err = Error::os(format!("read the {what} {}", path.display()), e);
                match err {
                    Error::Os { ref source, .. }
                        if source.kind() == std::io::ErrorKind::NotFound =>
                    {
                        Error::NotFound(format!("{what} {} does not exist", path.display()))
                    }
                    other => other,
                }
            }),
        }
    }

    fn describe(&self, what: &str) -> String {
        match self {
            Pem::File(path) => format!("{what} {}", path.display()),
            Pem::Bytes(_) => format!("{what} (PEM bytes)"),
        }
    }
}

/// What a TLS configuration is made of.
#[derive(Clone, Debug)]
pub struct TlsOptions {
    /// How much TLS is demanded.
    pub policy: TlsPolicy,
    /// The CA bundle peers' certificates must chain to (a client needs it
    /// to check the server; a server needs it under [`TlsPolicy::Mtls`]).
    pub ca: Option<Pem>,
    /// This end's certificate chain (a server always; a client under
    /// [`TlsPolicy::Mtls`]), leaf first.
    pub cert: Option<Pem>,
    /// The private key of `cert` (PKCS#8, PKCS#1 or SEC1).
    pub key: Option<Pem>,
    /// The name a client checks the server's certificate against, when it
    /// is not the host it connects to.
    pub server_name: Option<String>,
}

impl Default for TlsOptions {
    fn default() -> Self {
        TlsOptions {
            policy: TlsPolicy::Tls,
            ca: None,
            cert: None,
            key: None,
            server_name: None,
        }
    }
}

/// A TLS configuration, checked when made: every file is read and parsed,
/// and a certificate and key must belong together. The same configuration
/// serves a listener or a client; what each role needs in addition (a
/// server its certificate, a client its CA bundle) is checked when it is
/// used, before any call.
///
/// ```no_run
/// use xipc::net::{Pem, TlsConfig, TlsOptions, TlsPolicy};
///
/// let server_side = TlsConfig::new(TlsOptions {
///     policy: TlsPolicy::Mtls,
///     ca: Some(Pem::File("ca.pem".into())),
///     cert: Some(Pem::File("server.pem".into())),
///     key: Some(Pem::File("server.key".into())),
///     server_name: None,
/// })?;
/// # Ok::<(), xipc::Error>(())
/// ```
#[derive(Clone)]
pub struct TlsConfig {
    policy: TlsPolicy,
    server_name: Option<String>,
    roots: Option<Arc<RootCertStore>>,
    identity: Option<(Vec<CertificateDer<'static>>, Arc<PrivateKeyDer<'static>>)>,
    /// A server configuration, when this end can serve.
    server: Option<Arc<ServerConfig>>,
    /// A client configuration, when this end can call.
    client: Option<Arc<ClientConfig>>,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("policy", &self.policy)
            .field("server_name", &self.server_name)
            .field("ca", &self.roots.as_ref().map(|r| r.len()))
            .field("cert", &self.identity.as_ref().map(|i| i.0.len()))
            .finish()
    }
}

/// The crypto provider: ring, which builds quickly here. (rustls now
/// leans to aws-lc-rs, for post-quantum key exchange, whose build needs
/// cmake and several more minutes of CI time.)
///
/// TLS 1.3 suites in the order this end prefers them: AES-128-GCM first,
/// the fastest where the CPU has AES instructions, then AES-256-GCM and
/// ChaCha20-Poly1305 for peers that want those.
///
/// Key exchange groups likewise: X25519 first, then P-256 and P-384.
/// (rustls's ring provider now lists P-384 first, which ring computes
/// with generic code: a handshake took 1.4 ms on one CPU, most of it in
/// P-384 arithmetic.)
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    use rustls::crypto::ring::{cipher_suite, kx_group};
    let mut p = rustls::crypto::ring::default_provider();
    p.cipher_suites = vec![
        cipher_suite::TLS13_AES_128_GCM_SHA256,
        cipher_suite::TLS13_AES_256_GCM_SHA384,
        cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
    ];
    p.kx_groups = vec![kx_group::X25519, kx_group::SECP256R1, kx_group::SECP384R1];
    Arc::new(p)
}

impl TlsConfig {
    /// Reads, parses and checks `options`.
    pub fn new(options: TlsOptions) -> Result<TlsConfig> {
        let roots = match &options.ca {
            None => None,
            Some(pem) => Some(Arc::new(load_roots(pem)?)),
        };
        let identity = match (&options.cert, &options.key) {
            (None, None) => None,
            (Some(_), None) => {
                return Err(Error::InvalidArgument(
                    "a certificate without its private key".into(),
                ))
            }
            (None, Some(_)) => {
                return Err(Error::InvalidArgument(
                    "a private key without its certificate".into(),
                ))
            }
            (Some(cert), Some(key)) => Some((load_chain(cert)?, Arc::new(load_key(key)?))),
        };
        let mut config = TlsConfig {
            policy: options.policy,
            server_name: options.server_name,
            roots,
            identity,
            server: None,
            client: None,
        };
        if config.policy == TlsPolicy::None {
            return Ok(config);
        }
        if config.roots.is_none() && config.identity.is_none() {
            return Err(Error::InvalidArgument(format!(
                "a \"{}\" configuration needs a CA bundle (ca: to check a server, as a client) \
                 or a certificate and key (cert and key: to serve), or both",
                config.policy.name()
            )));
        }
        // Build what can be built now, so a key that does not match its
        // certificate, or a CA bundle rustls cannot use, shows here.
        if config.identity.is_some() {
            config.server = Some(config.build_server()?);
        }
        if config.roots.is_some() {
            config.client = Some(config.build_client()?);
        }
        Ok(config)
    }

    /// The policy.
    pub fn policy(&self) -> TlsPolicy {
        self.policy
    }

    /// The rustls server configuration, for a listener.
    pub(crate) fn server_config(&self) -> Result<Arc<ServerConfig>> {
        self.check_policy()?;
        self.server.clone().ok_or_else(|| {
            Error::InvalidArgument(
                "a TLS listener needs a certificate and its key (cert and key)".into(),
            )
        })
    }

    /// The rustls client configuration and the name to check the server's
    /// certificate against (`host` unless a server name was given).
    pub(crate) fn client_config(
        &self,
        host: &str,
    ) -> Result<(Arc<ClientConfig>, ServerName<'static>)> {
        self.check_policy()?;
        let config = self.client.clone().ok_or_else(|| {
            Error::InvalidArgument(
                "a TLS client needs the CA bundle that the server's certificate chains to (ca)"
                    .into(),
            )
        })?;
        let name = self.server_name.as_deref().unwrap_or(host);
        let name = name
            .strip_prefix('[')
            .and_then(|n| n.strip_suffix(']'))
            .unwrap_or(name);
        let name = ServerName::try_from(name.to_string()).map_err(|_| {
            Error::InvalidArgument(format!(
                "{name:?} is neither a DNS name nor an IP address to check the server's certificate against"
            ))
        })?;
        Ok((config, name))
    }

    fn check_policy(&self) -> Result<()> {
        if self.policy == TlsPolicy::None {
            return Err(Error::InvalidArgument(
                "the TLS policy is \"none\": there is no TLS to set up".into(),
            ));
        }
        Ok(())
    }

    fn build_server(&self) -> Result<Arc<ServerConfig>> {
        let (chain, key) = self.identity.clone().expect("checked by the caller");
        let builder = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(tls_error("TLS 1.3"))?;
        let builder = match (self.policy, &self.roots) {
            (TlsPolicy::Mtls, Some(roots)) => {
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(roots.clone(), provider())
                        .build()
                        .map_err(|e| Error::InvalidArgument(format!("the CA bundle: {e}")))?;
                builder.with_client_cert_verifier(verifier)
            }
            (TlsPolicy::Mtls, None) => {
                return Err(Error::InvalidArgument(
                    "mutual TLS needs the CA bundle that client certificates chain to (ca)".into(),
                ))
            }
            _ => builder.with_no_client_auth(),
        };
        let mut config = builder
            .with_single_cert(chain, key.clone_key())
            .map_err(|e| match e {
                rustls::Error::InconsistentKeys(_) => Error::InvalidArgument(
                    "the private key does not belong to the certificate".into(),
                ),
                other => Error::InvalidArgument(format!("the certificate or key: {other}")),
            })?;
        config.alpn_protocols = vec![ALPN.to_vec()];
        Ok(Arc::new(config))
    }

    fn build_client(&self) -> Result<Arc<ClientConfig>> {
        let roots = self.roots.clone().expect("checked by the caller");
        let verifier = WebPkiServerVerifier::builder_with_provider(roots, provider())
            .build()
            .map_err(|e| Error::InvalidArgument(format!("the CA bundle: {e}")))?;
        let builder = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(tls_error("TLS 1.3"))?
            .with_webpki_verifier(verifier);
        let mut config = match (&self.identity, self.policy) {
            (Some((chain, key)), _) => builder
                .with_client_auth_cert(chain.clone(), key.clone_key())
                .map_err(|e| match e {
                    rustls::Error::InconsistentKeys(_) => Error::InvalidArgument(
                        "the private key does not belong to the certificate".into(),
                    ),
                    other => Error::InvalidArgument(format!("the certificate or key: {other}")),
                })?,
            (None, TlsPolicy::Mtls) => {
                return Err(Error::InvalidArgument(
                    "a mutual-TLS client needs its certificate and key (cert and key)".into(),
                ))
            }
            (None, _) => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![ALPN.to_vec()];
        Ok(Arc::new(config))
    }
}

fn tls_error(what: &'static str) -> impl Fn(rustls::Error) -> Error {
    move |e| Error::Internal(format!("{what}: {e}"))
}

fn load_roots(pem: &Pem) -> Result<RootCertStore> {
    let what = pem.describe("CA bundle");
    let bytes = pem.read("CA bundle")?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&bytes) {
        let cert = cert.map_err(|e| Error::InvalidArgument(format!("{what}: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| Error::InvalidArgument(format!("{what}: {e}")))?;
    }
    if roots.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "{what} holds no certificate"
        )));
    }
    Ok(roots)
}

fn load_chain(pem: &Pem) -> Result<Vec<CertificateDer<'static>>> {
    let what = pem.describe("certificate");
    let bytes = pem.read("certificate")?;
    let chain = CertificateDer::pem_slice_iter(&bytes)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::InvalidArgument(format!("{what}: {e}")))?;
    if chain.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "{what} holds no certificate"
        )));
    }
    for cert in &chain {
        x509_parser::parse_x509_certificate(cert).map_err(|e| {
            Error::InvalidArgument(format!("{what}: not an X.509 certificate ({e})"))
        })?;
    }
    Ok(chain)
}

fn load_key(pem: &Pem) -> Result<PrivateKeyDer<'static>> {
    let what = pem.describe("private key");
    let bytes = pem.read("private key")?;
    PrivateKeyDer::from_pem_slice(&bytes)
        .map_err(|e| Error::InvalidArgument(format!("{what}: no private key ({e})")))
}

/// Who the peer of a TLS connection is, from its certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsPeer {
    /// The certificate's subject, as RFC 4514 writes a distinguished name:
    /// "CN=client-1,O=Example" for a certificate made with
    /// `-subj "/O=Example/CN=client-1"` (RFC 4514 starts from the last RDN).
    pub subject: String,
    /// Its subjectAltNames, each with its kind: "DNS:host.example",
    /// "IP:192.0.2.7", "email:ops@example.org", "URI:spiffe://...".
    pub sans: Vec<String>,
    /// The SHA-256 digest of the certificate (its DER bytes), in lowercase
    /// hexadecimal.
    pub fingerprint: String,
}

impl TlsPeer {
    /// What the certificate `der` says.
    pub fn from_der(der: &[u8]) -> Result<TlsPeer> {
        use x509_parser::extensions::GeneralName;
        let (_, cert) = x509_parser::parse_x509_certificate(der)
            .map_err(|e| Error::Protocol(format!("the peer's certificate: {e}")))?;
        let mut sans = Vec::new();
        if let Ok(Some(ext)) = cert.subject_alternative_name() {
            for name in &ext.value.general_names {
                sans.push(match name {
                    GeneralName::DNSName(n) => format!("DNS:{n}"),
                    GeneralName::RFC822Name(n) => format!("email:{n}"),
                    GeneralName::URI(n) => format!("URI:{n}"),
                    GeneralName::IPAddress(ip) => match ip.len() {
                        4 => format!(
                            "IP:{}",
                            std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*ip).expect("4 bytes"))
                        ),
                        16 => format!(
                            "IP:{}",
                            std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*ip).expect("16 bytes"))
                        ),
                        _ => continue,
                    },
                    _ => continue,
                });
            }
        }
        let digest = ring::digest::digest(&ring::digest::SHA256, der);
        let fingerprint = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        Ok(TlsPeer {
            subject: rfc4514(cert.subject()),
            sans,
            fingerprint,
        })
    }
}

/// A distinguished name as RFC 4514 writes it: the last RDN first, RDNs
/// joined by ",", the attributes of one RDN by "+", each as SHORT=value
/// (the dotted OID when the type has no short name), with the characters
/// RFC 4514 reserves escaped; a value that is not a string is "#" and its
/// DER in hexadecimal.
fn rfc4514(name: &x509_parser::x509::X509Name) -> String {
    use x509_parser::der_parser::asn1_rs::ToDer;
    use x509_parser::objects::{oid2abbrev, oid_registry};
    let rdns: Vec<String> = name
        .iter_rdn()
        .map(|rdn| {
            let attrs: Vec<String> = rdn
                .iter()
                .map(|attr| {
                    let kind = oid2abbrev(attr.attr_type(), oid_registry())
                        .map(str::to_string)
                        .unwrap_or_else(|_| attr.attr_type().to_id_string());
                    let value = match attr.as_str() {
                        Ok(v) => escape_dn_value(v),
                        Err(_) => {
                            let der = attr.attr_value().to_der_vec().unwrap_or_default();
                            let hex: String = der.iter().map(|b| format!("{b:02x}")).collect();
                            format!("#{hex}")
                        }
                    };
                    format!("{kind}={value}")
                })
                .collect();
            attrs.join("+")
        })
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

/// Escapes an RFC 4514 attribute value.
fn escape_dn_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let last = v.chars().count().saturating_sub(1);
    for (i, c) in v.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if c == '\0' {
            out.push_str("\\00");
            continue;
        }
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The most plaintext one TLS record carries (RFC 8446, section 5.1).
const MAX_PLAINTEXT: usize = 16384;

/// Seals `parts`, one message, into TLS records and passes each record on
/// as soon as it is sealed: after each, `send` takes what the session has
/// to write (to the socket, or aside when the socket is full). A large
/// message so starts on its way while the rest is still being sealed, and
/// its reader, on another CPU, opens one record while the next is sealed
/// (a 64 KiB echo over TLS on two CPUs: 0.47x -> 0.52x of cleartext). A
/// process that may run on one CPU only seals the whole message first and
/// then sends it: there, each record sent early would wake the reader
/// only to switch back (the same echo, both processes on one CPU: 0.31x
/// sealed whole, 0.23x record by record). The parts are cut at record
/// boundaries only: a small message and its header travel in one record
/// (a write per part would seal a record per part, each with its own AEAD
/// operation, header and tag).
pub(crate) fn seal_in_turn<T>(
    conn: &mut rustls::ConnectionCommon<T>,
    parts: &[&[u8]],
    mut send: impl FnMut(&mut rustls::ConnectionCommon<T>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let total: usize = parts.iter().map(|p| p.len()).sum();
    let step = match sys::cpus() {
        1 => usize::MAX,
        _ => MAX_PLAINTEXT,
    };
    let mut done = 0;
    while done < total {
        let mut slices = [std::io::IoSlice::new(&[]); sys::MAX_PARTS];
        let k = sys::skip_bytes(parts, done, step, &mut slices);
        match conn.writer().write_vectored(&slices[..k]) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(w) => done += w,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        send(conn)?;
    }
    Ok(())
}

/// A socket as `Read`/`Write` for rustls's `read_tls`/`write_tls`: one
/// system call each; a nonblocking socket with nothing to do reports
/// `WouldBlock`.
pub(crate) struct SocketIo<'a>(pub BorrowedFd<'a>);

/// A socket as an `io::Write` that never waits for room, even in
/// blocking mode: what does not fit is `WouldBlock` (or a short write).
pub(crate) struct SocketNow<'a>(pub BorrowedFd<'a>);

impl Write for SocketNow<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_vectored(&[std::io::IoSlice::new(buf)])
    }

    fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
        sys::write(self.0, Sink::SocketNow, bufs).map_err(io_error)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Read for SocketIo<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        sys::read(self.0, buf).map_err(io_error)
    }
}

impl Write for SocketIo<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        sys::write(self.0, Sink::Socket, &[std::io::IoSlice::new(buf)]).map_err(io_error)
    }

    fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
        sys::write(self.0, Sink::Socket, bufs).map_err(io_error)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn io_error(e: Error) -> std::io::Error {
    use std::io::ErrorKind;
    match e {
        Error::WouldBlock => ErrorKind::WouldBlock.into(),
        Error::Interrupted => ErrorKind::Interrupted.into(),
        Error::Closed(m) => std::io::Error::new(ErrorKind::BrokenPipe, m),
        Error::Os { source, .. } => source,
        other => std::io::Error::other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::{escape_dn_value, provider, MAX_PLAINTEXT};
    use crate::net::sys::skip_bytes;

    /// A message is sealed in record-sized pieces, cut across its parts.
    #[test]
    fn messages_are_cut_into_record_sized_pieces() {
        let head = [1u8; 32];
        let body = vec![2u8; 40_000];
        let parts: [&[u8]; 2] = [&head, &body];
        let pieces = |step| {
            let mut done = 0;
            let mut sizes = Vec::new();
            while done < head.len() + body.len() {
                let mut out = [std::io::IoSlice::new(&[]); crate::net::sys::MAX_PARTS];
                let k = skip_bytes(&parts, done, step, &mut out);
                let lens: Vec<usize> = out[..k].iter().map(|s| s.len()).collect();
                done += lens.iter().sum::<usize>();
                sizes.push(lens);
            }
            sizes
        };
        assert_eq!(
            pieces(MAX_PLAINTEXT),
            [vec![32, 16352], vec![16384], vec![7264]]
        );
        assert_eq!(pieces(usize::MAX), [vec![32, 40_000]]);
        // A small message in one piece.
        let small: [&[u8]; 2] = [&head, &[3u8; 8]];
        let mut out = [std::io::IoSlice::new(&[]); crate::net::sys::MAX_PARTS];
        assert_eq!(skip_bytes(&small, 0, MAX_PLAINTEXT, &mut out), 2);
        assert_eq!(skip_bytes(&small, 36, MAX_PLAINTEXT, &mut out), 1);
        assert_eq!(&*out[0], &[3u8; 4]);
    }

    #[test]
    fn key_exchange_prefers_x25519_then_p256() {
        use rustls::NamedGroup;
        let groups: Vec<NamedGroup> = provider().kx_groups.iter().map(|g| g.name()).collect();
        assert_eq!(
            groups,
            [
                NamedGroup::X25519,
                NamedGroup::secp256r1,
                NamedGroup::secp384r1
            ]
        );
    }

    #[test]
    fn dn_values_are_escaped_as_rfc_4514_says() {
        assert_eq!(escape_dn_value("plain value"), "plain value");
        assert_eq!(
            escape_dn_value("a,b+c\"d\\e<f>g;h"),
            "a\\,b\\+c\\\"d\\\\e\\<f\\>g\\;h"
        );
        assert_eq!(escape_dn_value("#lead"), "\\#lead");
        assert_eq!(escape_dn_value(" both "), "\\ both\\ ");
        assert_eq!(escape_dn_value("mid#dle"), "mid#dle");
        assert_eq!(escape_dn_value("nul\0"), "nul\\00");
    }
}
