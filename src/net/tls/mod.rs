//! TLS as a property of a connection: the configuration both ends share
//! (policy, CA bundle, certificate chain and key), the rustls sessions
//! built from it (this file), what a peer's certificate says about it
//! (`peer`), and a session's records over a socket (`io`).
//!
//! Only TLS 1.3 is offered and accepted, with rustls and the `ring`
//! crypto provider (no OpenSSL). The ALPN protocol is "sunrpc" (RFC 9289):
//! a client offers it; a server accepts handshakes that offer it or offer
//! no ALPN at all (the Linux kernel's tlshd offers none).

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use rustls::client::{VerifierBuilderError, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};

use crate::sync::{lock, read, write};
use crate::{Error, Result};

mod io;
mod peer;

pub(crate) use io::{seal_in_turn, SocketIo, SocketNow};
pub use peer::TlsPeer;

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
    /// Certificate revocation lists (PEM "X509 CRL" blocks, version 2) of
    /// the CAs in `ca`: a peer whose certificate one of them lists is
    /// refused (a server checks client certificates with them under
    /// [`TlsPolicy::Mtls`]; a client checks the server's). Only the peer's
    /// own certificate is looked up, and one whose issuer has no list here
    /// is accepted; a list past its next update still counts (reload a
    /// fresh one: see [`TlsConfig::reload`]).
    pub crl: Option<Pem>,
}

impl Default for TlsOptions {
    fn default() -> Self {
        TlsOptions {
            policy: TlsPolicy::Tls,
            ca: None,
            cert: None,
            key: None,
            server_name: None,
            crl: None,
        }
    }
}

/// A TLS configuration, checked when made: every file is read and parsed,
/// and a certificate and key must belong together. The same configuration
/// serves a listener or a client; what each role needs in addition (a
/// server its certificate, a client its CA bundle) is checked when it is
/// used, before any call.
///
/// **Reloading.** Certificates expire and get replaced: [`reload`](Self::reload)
/// reads the configuration's files again and [`replace`](Self::replace)
/// takes new sources (new PEM bytes, say), each checked as [`new`](Self::new)
/// checks them. Once one returns `Ok`, every handshake that starts
/// afterwards uses the new certificate, key and CA bundle: on each
/// listener made with this configuration (or a clone of it: clones share
/// it) and on each client's next connection. Connections already set up
/// keep the session they have. When one fails, nothing changes and the
/// error says why. A configuration keeps the roles it was made for: one
/// that listeners use must keep a certificate and key, one that clients
/// use its CA bundle, and the policy stays the same.
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
///     crl: Some(Pem::File("ca.crl.pem".into())),
/// })?;
/// // ... later, once server.pem and server.key hold a renewed certificate:
/// server_side.reload()?;
/// # Ok::<(), xipc::Error>(())
/// ```
#[derive(Clone)]
pub struct TlsConfig {
    policy: TlsPolicy,
    /// What the configuration is made from, read again by a reload; its
    /// lock keeps reloads and replacements one at a time.
    sources: Arc<Mutex<TlsOptions>>,
    /// The rustls server configuration, when this end can serve.
    server: Option<Swappable<ServerConfig>>,
    /// The rustls client configuration, when this end can call.
    client: Option<Swappable<ClientConfig>>,
}

/// A rustls configuration that a reload replaces while connections are
/// being set up from it.
type Swappable<T> = Arc<RwLock<Arc<T>>>;

/// The current server side of a [`TlsConfig`], as a listener keeps it:
/// each connection it accepts takes the configuration in force then.
#[derive(Clone)]
pub(crate) struct ServerTls(Swappable<ServerConfig>);

impl ServerTls {
    /// The rustls configuration for a connection accepted now.
    pub fn current(&self) -> Arc<ServerConfig> {
        read(&self.0).clone()
    }
}

/// The rustls configurations built from a [`TlsOptions`].
struct Built {
    server: Option<Arc<ServerConfig>>,
    client: Option<Arc<ClientConfig>>,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("policy", &self.policy)
            .field("server_name", &lock(&self.sources).server_name)
            .field("serves", &self.server.is_some())
            .field("calls", &self.client.is_some())
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
        let built = build(&options)?;
        Ok(TlsConfig {
            policy: options.policy,
            sources: Arc::new(Mutex::new(options)),
            server: built.server.map(|c| Arc::new(RwLock::new(c))),
            client: built.client.map(|c| Arc::new(RwLock::new(c))),
        })
    }

    /// The policy.
    pub fn policy(&self) -> TlsPolicy {
        self.policy
    }

    /// Reads the configuration's files again (PEM bytes given in memory
    /// stay as they were) and, if everything checks out as in
    /// [`new`](Self::new), puts what they hold in force for the handshakes
    /// that start from now on (see "Reloading" above). On an error nothing
    /// changes.
    pub fn reload(&self) -> Result<()> {
        let sources = lock(&self.sources);
        let built = build(&sources)?;
        self.install(built)
    }

    /// Puts `options` in force in place of the configuration's sources,
    /// as [`reload`](Self::reload) does with the old ones; later reloads
    /// read the new ones. The policy must stay the same
    /// ([`Error::InvalidArgument`] otherwise). On an error nothing changes.
    pub fn replace(&self, options: TlsOptions) -> Result<()> {
        if options.policy != self.policy {
            return Err(Error::InvalidArgument(format!(
                "a \"{}\" configuration cannot become \"{}\": listeners and clients \
                 made with it rely on its policy",
                self.policy.name(),
                options.policy.name()
            )));
        }
        let mut sources = lock(&self.sources);
        let built = build(&options)?;
        self.install(built)?;
        *sources = options;
        Ok(())
    }

    /// Swaps in `built`, unless it lacks a role this configuration has.
    fn install(&self, built: Built) -> Result<()> {
        if self.server.is_some() && built.server.is_none() {
            return Err(Error::InvalidArgument(
                "the configuration serves listeners: it needs a certificate and its key \
                 (cert and key)"
                    .into(),
            ));
        }
        if self.client.is_some() && built.client.is_none() {
            return Err(Error::InvalidArgument(
                "the configuration serves clients: it needs the CA bundle that servers' \
                 certificates chain to (ca)"
                    .into(),
            ));
        }
        if let (Some(slot), Some(new)) = (&self.server, built.server) {
            *write(slot) = new;
        }
        if let (Some(slot), Some(new)) = (&self.client, built.client) {
            *write(slot) = new;
        }
        Ok(())
    }

    /// The server side, for a listener.
    pub(crate) fn server_tls(&self) -> Result<ServerTls> {
        self.check_policy()?;
        self.server.clone().map(ServerTls).ok_or_else(|| {
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
        let config = self
            .client
            .as_ref()
            .map(|c| read(c).clone())
            .ok_or_else(|| {
                Error::InvalidArgument(
                    "a TLS client needs the CA bundle that the server's certificate chains to (ca)"
                        .into(),
                )
            })?;
        let server_name = lock(&self.sources).server_name.clone();
        let name = server_name.as_deref().unwrap_or(host);
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
}

/// A verifier builder (rustls has one for each side, alike but of two
/// types) given the revocation lists, if any, under xipc's rules: only the
/// peer's own certificate is looked up, and one whose issuer has no list
/// is accepted.
macro_rules! revocation {
    ($builder:expr, $crls:expr) => {
        match $crls {
            Some((crls, _)) => $builder
                .with_crls(crls.iter().cloned())
                .only_check_end_entity_revocation()
                .allow_unknown_revocation_status(),
            None => $builder,
        }
    };
}

/// What a configuration's sources hold, read and parsed.
struct Material {
    policy: TlsPolicy,
    roots: Option<Arc<RootCertStore>>,
    identity: Option<(Vec<CertificateDer<'static>>, Arc<PrivateKeyDer<'static>>)>,
    /// The revocation lists, and where they came from (for errors).
    crls: Option<(Vec<CertificateRevocationListDer<'static>>, String)>,
}

/// Reads, parses and checks `options`, and builds the rustls
/// configurations they make: the server's when there is a certificate
/// and key, the client's when there is a CA bundle (none under policy
/// "none").
fn build(options: &TlsOptions) -> Result<Built> {
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
    let crls =
        match (&options.crl, &roots) {
            (None, _) => None,
            (Some(_), None) => return Err(Error::InvalidArgument(
                "a revocation list (crl) without the CA bundle (ca) whose certificates it revokes"
                    .into(),
            )),
            (Some(pem), Some(_)) => Some((load_crls(pem)?, pem.describe("revocation list"))),
        };
    let material = Material {
        policy: options.policy,
        roots,
        identity,
        crls,
    };
    let mut built = Built {
        server: None,
        client: None,
    };
    if material.policy == TlsPolicy::None {
        return Ok(built);
    }
    if material.roots.is_none() && material.identity.is_none() {
        return Err(Error::InvalidArgument(format!(
            "a \"{}\" configuration needs a CA bundle (ca: to check a server, as a client) \
             or a certificate and key (cert and key: to serve), or both",
            material.policy.name()
        )));
    }
    // Build what can be built now, so a key that does not match its
    // certificate, or a CA bundle rustls cannot use, shows here.
    if material.identity.is_some() {
        built.server = Some(material.build_server()?);
    }
    if material.roots.is_some() {
        built.client = Some(material.build_client()?);
    }
    Ok(built)
}

impl Material {
    fn build_server(&self) -> Result<Arc<ServerConfig>> {
        let (chain, key) = self.identity.clone().expect("checked by the caller");
        let builder = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(tls_error("TLS 1.3"))?;
        let builder = match (self.policy, &self.roots) {
            (TlsPolicy::Mtls, Some(roots)) => {
                let verifier = revocation!(
                    WebPkiClientVerifier::builder_with_provider(roots.clone(), provider()),
                    &self.crls
                )
                .build()
                .map_err(|e| self.verifier_error(e))?;
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
        let verifier = revocation!(
            WebPkiServerVerifier::builder_with_provider(roots, provider()),
            &self.crls
        )
        .build()
        .map_err(|e| self.verifier_error(e))?;
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

impl Material {
    /// A verifier that rustls would not build: a revocation list it cannot
    /// read, or a CA bundle it cannot use.
    fn verifier_error(&self, e: VerifierBuilderError) -> Error {
        match (e, &self.crls) {
            (VerifierBuilderError::InvalidCrl(why), Some((_, what))) => Error::InvalidArgument(
                format!("{what}: not a revocation list rustls can use ({why:?})"),
            ),
            (other, _) => Error::InvalidArgument(format!("the CA bundle: {other}")),
        }
    }
}

fn tls_error(what: &'static str) -> impl Fn(rustls::Error) -> Error {
    move |e| Error::Internal(format!("{what}: {e}"))
}

/// Every PEM block of type `T` in `pem` (read as the `what`), at least
/// one (`none` says what was missing).
fn load_blocks<T: PemObject>(pem: &Pem, what: &str, none: &str) -> Result<Vec<T>> {
    let named = pem.describe(what);
    let bytes = pem.read(what)?;
    let blocks = T::pem_slice_iter(&bytes)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::InvalidArgument(format!("{named}: {e}")))?;
    if blocks.is_empty() {
        return Err(Error::InvalidArgument(format!("{named} holds no {none}")));
    }
    Ok(blocks)
}

fn load_roots(pem: &Pem) -> Result<RootCertStore> {
    let what = pem.describe("CA bundle");
    let mut roots = RootCertStore::empty();
    for cert in load_blocks::<CertificateDer<'static>>(pem, "CA bundle", "certificate")? {
        roots
            .add(cert)
            .map_err(|e| Error::InvalidArgument(format!("{what}: {e}")))?;
    }
    Ok(roots)
}

fn load_chain(pem: &Pem) -> Result<Vec<CertificateDer<'static>>> {
    let chain = load_blocks::<CertificateDer<'static>>(pem, "certificate", "certificate")?;
    for cert in &chain {
        x509_parser::parse_x509_certificate(cert).map_err(|e| {
            Error::InvalidArgument(format!(
                "{}: not an X.509 certificate ({e})",
                pem.describe("certificate")
            ))
        })?;
    }
    Ok(chain)
}

fn load_crls(pem: &Pem) -> Result<Vec<CertificateRevocationListDer<'static>>> {
    load_blocks(
        pem,
        "revocation list",
        "revocation list (no X509 CRL block)",
    )
}

fn load_key(pem: &Pem) -> Result<PrivateKeyDer<'static>> {
    let what = pem.describe("private key");
    let bytes = pem.read("private key")?;
    PrivateKeyDer::from_pem_slice(&bytes)
        .map_err(|e| Error::InvalidArgument(format!("{what}: no private key ({e})")))
}

#[cfg(test)]
mod tests {
    use super::provider;

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
}
