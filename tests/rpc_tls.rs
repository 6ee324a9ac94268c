//! RPC-with-TLS (RFC 9289) between xipc clients and servers: policies,
//! identities, and every way a handshake can fail, each with a clear error
//! and the server still serving others. The certificates are made at test
//! time by tests/tls/make_certs.sh (OpenSSL).

mod support;

mod tlsecho {
    include!("gen/tlsecho.rs");
}

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use xipc::net::{Pem, TlsConfig, TlsOptions, TlsPeer, TlsPolicy};
use xipc::rpc::auth::stat;
use xipc::rpc::svc::TLS_HANDSHAKE_TIMEOUT;
use xipc::rpc::{Client, Protocol, Server};
use xipc::Error;

const PROG: u32 = 0x2000_7715;

/// The directory of certificates, made once per run, in Cargo's directory
/// for the temporary files of tests (inside the target directory; the next
/// run makes them anew there, so none pile up in /tmp).
fn certs() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tls-certs");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tls/make_certs.sh");
        let out = std::process::Command::new("bash")
            .arg(script)
            .arg(&dir)
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "making test certificates failed (is openssl installed? apt-get install openssl): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
}

fn pem(name: &str) -> Option<Pem> {
    Some(Pem::File(certs().join(name)))
}

fn config(policy: TlsPolicy, ca: &str, identity: Option<&str>) -> TlsConfig {
    TlsConfig::new(TlsOptions {
        policy,
        ca: pem(ca),
        cert: identity.and_then(|i| pem(&format!("{i}.pem"))),
        key: identity.and_then(|i| pem(&format!("{i}.key"))),
        server_name: None,
        crl: None,
    })
    .unwrap()
}

/// A server echoing its arguments (procedure 1), answering the caller's
/// TLS identity (procedure 2: subject, then the SANs, then the
/// fingerprint, as XDR strings), and refusing callers whose certificate
/// is not client-1 with AUTH_ERROR (procedure 3).
fn server(policy: TlsPolicy, identity: &str) -> (Server, u16, Arc<Mutex<Vec<Option<TlsPeer>>>>) {
    let s = Server::new();
    s.set_rpcbind_registration(false);
    let seen = Arc::new(Mutex::new(Vec::new()));
    s.register(PROG, 1, 1, |_, args, out| {
        out.put_raw(args);
        Ok(())
    });
    let record = seen.clone();
    s.register(PROG, 1, 2, move |call, _, out| {
        record
            .lock()
            .unwrap()
            .push(call.tls_peer.as_deref().cloned());
        let peer = call.tls_peer.as_deref().expect("a TLS call");
        out.put_string(&peer.subject)?;
        out.put_uint(peer.sans.len() as u32);
        for san in &peer.sans {
            out.put_string(san)?;
        }
        out.put_string(&peer.fingerprint)
    });
    s.register(PROG, 1, 3, |call, _, _| match call.tls_peer.as_deref() {
        Some(p) if p.subject.contains("CN=client-1") => Ok(()),
        _ => Err(Error::Auth(stat::TOOWEAK)),
    });
    let port = s
        .listen_tcp_tls("127.0.0.1", 0, &config(policy, "ca.pem", Some(identity)))
        .unwrap();
    s.start().unwrap();
    (s, port, seen)
}

fn client(port: u16, tls: &TlsConfig) -> xipc::Result<Client> {
    Client::connect_tls("127.0.0.1", port, PROG, 1, Protocol::Tcp, tls)
}

/// The server still answers a good client.
fn still_serves(port: u16, tls: &TlsConfig) {
    let c = client(port, tls).expect("a good client still connects");
    assert_eq!(c.call(1, &[0, 0, 0, 5]).unwrap(), [0, 0, 0, 5]);
}

fn tls_error(r: xipc::Result<Client>) -> String {
    match r {
        Err(Error::Tls(why)) => why,
        Err(other) => panic!("expected a TLS error, got {other:?}"),
        Ok(_) => panic!("expected a TLS error, the client connected"),
    }
}

/// The SHA-256 fingerprint of a PEM certificate, as OpenSSL computes it,
/// in lowercase hex without colons.
fn openssl_fingerprint(name: &str) -> String {
    let out = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(certs().join(name))
        .output()
        .expect("openssl runs");
    let text = String::from_utf8(out.stdout).unwrap();
    text.trim()
        .rsplit('=')
        .next()
        .unwrap()
        .replace(':', "")
        .to_lowercase()
}

#[test]
fn calls_over_tls_and_the_identity_handlers_see() {
    let (s, port, seen) = server(TlsPolicy::Mtls, "server");
    let c = client(port, &config(TlsPolicy::Mtls, "ca.pem", Some("client"))).unwrap();
    assert_eq!(c.call(1, &[0, 0, 0, 9]).unwrap(), [0, 0, 0, 9]);
    // A large call crosses many TLS records.
    let mut big = vec![0u8; 4];
    big.extend((0..(1 << 20)).map(|i| i as u8));
    big[..4].copy_from_slice(&[0, 0, 0, 0]);
    assert_eq!(c.call(1, &big).unwrap(), big);
    c.call(2, &[]).unwrap();
    let peer = seen.lock().unwrap()[0].clone().expect("a TLS peer");
    assert_eq!(peer.subject, "CN=client-1,O=xipc tests");
    assert_eq!(
        peer.sans,
        ["DNS:client-1.example", "email:client-1@example.org"]
    );
    assert_eq!(peer.fingerprint, openssl_fingerprint("client.pem"));
    // A handler refuses by identity with AUTH_ERROR.
    c.call(3, &[]).unwrap();
    s.stop();
}

#[test]
fn a_handler_refuses_a_caller_by_identity() {
    let (s, port, _) = server(TlsPolicy::Tls, "server");
    // Server-authenticated TLS: no client certificate, an empty identity.
    let c = client(port, &config(TlsPolicy::Tls, "ca.pem", None)).unwrap();
    assert!(matches!(c.call(3, &[]), Err(Error::Auth(stat::TOOWEAK))));
    s.stop();
}

#[test]
fn threads_share_one_tls_client() {
    let (s, port, _) = server(TlsPolicy::Tls, "server");
    let c = client(port, &config(TlsPolicy::Tls, "ca.pem", None)).unwrap();
    std::thread::scope(|scope| {
        for t in 0..8u8 {
            let c = &c;
            scope.spawn(move || {
                for i in 0..200u8 {
                    let arg = [0, 0, t, i];
                    assert_eq!(c.call(1, &arg).unwrap(), arg);
                }
            });
        }
    });
    assert_eq!(s.connection_count(), 1);
    s.stop();
}

#[test]
fn tls_over_a_unix_socket() {
    let path = std::env::temp_dir().join(format!("xipc-tls-{}.sock", std::process::id()));
    let s = Server::new();
    s.set_rpcbind_registration(false);
    s.register(PROG, 1, 1, |call, args, out| {
        assert!(call.tls_peer.is_some());
        out.put_raw(args);
        Ok(())
    });
    s.listen_unix_tls(
        &path,
        0o600,
        &config(TlsPolicy::Tls, "ca.pem", Some("server")),
    )
    .unwrap();
    s.start().unwrap();
    // Over a Unix socket the certificate is checked against "localhost".
    let c = Client::connect_tls(
        path.to_str().unwrap(),
        0,
        PROG,
        1,
        Protocol::Unix,
        &config(TlsPolicy::Tls, "ca.pem", None),
    )
    .unwrap();
    assert_eq!(c.call(1, &[0, 0, 0, 1]).unwrap(), [0, 0, 0, 1]);
    s.stop();
}

#[test]
fn untrusted_expired_and_misnamed_certificates_are_refused() {
    let good = config(TlsPolicy::Tls, "ca.pem", None);
    // A client that accepts the certificate (none accepts an expired one).
    let trusts_other_ca = config(TlsPolicy::Tls, "other-ca.pem", None);
    let expects_other_name = TlsConfig::new(TlsOptions {
        policy: TlsPolicy::Tls,
        ca: pem("ca.pem"),
        server_name: Some("other.example".into()),
        ..TlsOptions::default()
    })
    .unwrap();
    for (identity, expect, accepting) in [
        ("stranger", "issuer", Some(&trusts_other_ca)),
        ("expired", "expired", None),
        ("wrong-name", "name", Some(&expects_other_name)),
    ] {
        let (s, port, _) = server(TlsPolicy::Tls, identity);
        let why = tls_error(client(port, &good));
        assert!(why.to_lowercase().contains(expect), "{identity}: {why}");
        // The server, whose handshake the client gave up, serves on.
        if let Some(accepting) = accepting {
            still_serves(port, accepting);
        }
        s.stop();
    }
    // The same client and CA against a good server: fine.
    let (s, port, _) = server(TlsPolicy::Tls, "server");
    still_serves(port, &good);
    s.stop();
}

/// The TLS error a client with `tls` meets when the server refuses its
/// certificate: in TLS 1.3 the client has finished its handshake by
/// then, so the server's alert ends the first call (or the connect, if
/// it comes in time).
fn refused(port: u16, tls: &TlsConfig) -> String {
    match client(port, tls).and_then(|c| c.call(1, &[0, 0, 0, 1])) {
        Err(Error::Tls(why)) => why,
        other => panic!("expected a TLS error, got {other:?}"),
    }
}

#[test]
fn mutual_tls_needs_a_client_certificate() {
    let (s, port, _) = server(TlsPolicy::Mtls, "server");
    // No certificate: the server refuses it with an alert.
    let why = refused(port, &config(TlsPolicy::Tls, "ca.pem", None));
    assert!(why.contains("Certificate"), "{why}");
    // A certificate from a CA the server does not trust.
    let why = refused(port, &config(TlsPolicy::Mtls, "ca.pem", Some("stranger")));
    assert!(why.contains("UnknownCA"), "{why}");
    still_serves(port, &config(TlsPolicy::Mtls, "ca.pem", Some("client")));
    // A certificate by the CA the server trusts, but expired: the server's
    // alert says so.
    let why = refused(
        port,
        &config(TlsPolicy::Mtls, "ca.pem", Some("expired-client")),
    );
    assert!(why.contains("CertificateExpired"), "{why}");
    still_serves(port, &config(TlsPolicy::Mtls, "ca.pem", Some("client")));
    s.stop();
}

/// A directory of its own (under the run's certificates) holding copies
/// of `files` (source name, copy's name), for a test to overwrite.
fn live_copies(dir: &str, files: &[(&str, &str)]) -> PathBuf {
    let live = certs().join(dir);
    std::fs::create_dir_all(&live).unwrap();
    for (from, to) in files {
        std::fs::copy(certs().join(from), live.join(to)).unwrap();
    }
    live
}

/// Whether a client with `tls` gets an answer from `port`: under mutual
/// TLS a refused certificate may surface at the connect or, once TLS 1.3
/// has let the client finish, at its first call; either is a TLS error.
fn answered(port: u16, tls: &TlsConfig) -> bool {
    match client(port, tls).and_then(|c| c.call(1, &[0, 0, 0, 7])) {
        Ok(reply) => reply == [0, 0, 0, 7],
        Err(Error::Tls(_)) => false,
        Err(other) => panic!("expected an answer or a TLS error, got {other:?}"),
    }
}

#[test]
fn a_reloaded_certificate_serves_new_handshakes_and_sessions_set_up_go_on() {
    let live = live_copies(
        "reload-server",
        &[("server.pem", "live.pem"), ("server.key", "live.key")],
    );
    let file = |name: &str| Some(Pem::File(live.join(name)));
    let server_tls = TlsConfig::new(TlsOptions {
        policy: TlsPolicy::Tls,
        ca: None,
        cert: file("live.pem"),
        key: file("live.key"),
        server_name: None,
        crl: None,
    })
    .unwrap();
    let (s, port) = echo_server(&server_tls);
    let trusts_ca = config(TlsPolicy::Tls, "ca.pem", None);
    let trusts_other = config(TlsPolicy::Tls, "other-ca.pem", None);
    let before = client(port, &trusts_ca).unwrap();
    assert_eq!(before.call(1, &[0, 0, 0, 1]).unwrap(), [0, 0, 0, 1]);
    assert!(!answered(port, &trusts_other));

    // The files now hold a certificate by the other CA.
    for (from, to) in [("stranger.pem", "live.pem"), ("stranger.key", "live.key")] {
        std::fs::copy(certs().join(from), live.join(to)).unwrap();
    }
    // Nothing changes until the configuration is reloaded.
    assert!(answered(port, &trusts_ca));
    server_tls.reload().unwrap();
    assert!(answered(port, &trusts_other));
    assert!(!answered(port, &trusts_ca));
    // The session set up before goes on with the certificate it checked.
    assert_eq!(before.call(1, &[0, 0, 0, 2]).unwrap(), [0, 0, 0, 2]);

    // A reload that fails changes nothing: a key file without a key...
    std::fs::write(live.join("live.key"), "not a key\n").unwrap();
    let e = server_tls.reload().unwrap_err();
    assert!(
        matches!(&e, Error::InvalidArgument(why) if why.contains("live.key")),
        "{e}"
    );
    assert!(answered(port, &trusts_other));
    // ... a key that is not the certificate's ...
    std::fs::copy(certs().join("server.key"), live.join("live.key")).unwrap();
    let e = server_tls.reload().unwrap_err();
    assert!(e.to_string().contains("does not belong"), "{e}");
    // ... or a file gone.
    std::fs::remove_file(live.join("live.pem")).unwrap();
    assert!(matches!(server_tls.reload(), Err(Error::NotFound(_))));
    assert!(answered(port, &trusts_other));

    // New sources, as PEM bytes: the first certificate again.
    let bytes = |name: &str| Some(Pem::Bytes(std::fs::read(certs().join(name)).unwrap()));
    server_tls
        .replace(TlsOptions {
            policy: TlsPolicy::Tls,
            ca: None,
            cert: bytes("server.pem"),
            key: bytes("server.key"),
            server_name: None,
            crl: None,
        })
        .unwrap();
    assert!(answered(port, &trusts_ca));
    // A replacement keeps the policy, and a listener's certificate.
    for (options, expect) in [
        (
            TlsOptions {
                policy: TlsPolicy::Mtls,
                ca: pem("ca.pem"),
                cert: pem("server.pem"),
                key: pem("server.key"),
                ..TlsOptions::default()
            },
            "cannot become",
        ),
        (
            TlsOptions {
                policy: TlsPolicy::Tls,
                ca: pem("ca.pem"),
                ..TlsOptions::default()
            },
            "serves listeners",
        ),
    ] {
        let e = server_tls.replace(options).unwrap_err();
        assert!(
            matches!(&e, Error::InvalidArgument(why) if why.contains(expect)),
            "{e}"
        );
    }
    // The last replacement is what a reload reads again.
    server_tls.reload().unwrap();
    assert!(answered(port, &trusts_ca));
    assert_eq!(before.call(1, &[0, 0, 0, 3]).unwrap(), [0, 0, 0, 3]);
    s.stop();
}

#[test]
fn a_reloaded_ca_bundle_decides_whom_new_handshakes_trust() {
    // The server's bundle for client certificates, under mutual TLS.
    let live = live_copies("reload-mtls", &[("ca.pem", "clients-ca.pem")]);
    let server_tls = TlsConfig::new(TlsOptions {
        policy: TlsPolicy::Mtls,
        ca: Some(Pem::File(live.join("clients-ca.pem"))),
        cert: pem("server.pem"),
        key: pem("server.key"),
        server_name: None,
        crl: None,
    })
    .unwrap();
    let (s, port) = echo_server(&server_tls);
    let client_1 = config(TlsPolicy::Mtls, "ca.pem", Some("client"));
    let stranger = config(TlsPolicy::Mtls, "ca.pem", Some("stranger"));
    assert!(answered(port, &client_1));
    assert!(!answered(port, &stranger));
    std::fs::copy(certs().join("other-ca.pem"), live.join("clients-ca.pem")).unwrap();
    server_tls.reload().unwrap();
    assert!(answered(port, &stranger));
    assert!(!answered(port, &client_1));

    // A client's bundle: its next connection checks the server with the
    // new one. The server's certificate is by the CA the client now
    // distrusts.
    let client_live = live_copies("reload-client", &[("ca.pem", "servers-ca.pem")]);
    let client_tls = TlsConfig::new(TlsOptions {
        policy: TlsPolicy::Mtls,
        ca: Some(Pem::File(client_live.join("servers-ca.pem"))),
        cert: pem("stranger.pem"),
        key: pem("stranger.key"),
        server_name: None,
        crl: None,
    })
    .unwrap();
    // A clone shares the configuration, reloads included.
    let same = client_tls.clone();
    assert!(answered(port, &same));
    std::fs::copy(
        certs().join("other-ca.pem"),
        client_live.join("servers-ca.pem"),
    )
    .unwrap();
    client_tls.reload().unwrap();
    let why = tls_error(client(port, &same));
    assert!(why.to_lowercase().contains("issuer"), "{why}");
    s.stop();
}

/// A configuration with the revocation list `crl` beside the CA bundle.
fn with_crl(policy: TlsPolicy, identity: Option<&str>, crl: Pem) -> TlsConfig {
    TlsConfig::new(TlsOptions {
        policy,
        ca: pem("ca.pem"),
        cert: identity.and_then(|i| pem(&format!("{i}.pem"))),
        key: identity.and_then(|i| pem(&format!("{i}.key"))),
        server_name: None,
        crl: Some(crl),
    })
    .unwrap()
}

/// An echo server on a TLS listener with `tls`.
fn echo_server(tls: &TlsConfig) -> (Server, u16) {
    let s = Server::new();
    s.set_rpcbind_registration(false);
    s.register(PROG, 1, 1, |_, args, out| {
        out.put_raw(args);
        Ok(())
    });
    let port = s.listen_tcp_tls("127.0.0.1", 0, tls).unwrap();
    s.start().unwrap();
    (s, port)
}

#[test]
fn certificates_a_revocation_list_names_are_refused() {
    // A server under mutual TLS checks client certificates against its
    // lists: client-1 gets in, the revoked one does not.
    let crl_file = || Pem::File(certs().join("ca.crl.pem"));
    let (s, port) = echo_server(&with_crl(TlsPolicy::Mtls, Some("server"), crl_file()));
    let client_1 = config(TlsPolicy::Mtls, "ca.pem", Some("client"));
    let revoked = config(TlsPolicy::Mtls, "ca.pem", Some("revoked"));
    assert!(answered(port, &client_1));
    assert!(!answered(port, &revoked));
    assert!(answered(port, &client_1), "the server serves on");
    s.stop();
    // Without the list, the same certificate gets in: the list refused it.
    let (s, port) = echo_server(&config(TlsPolicy::Mtls, "ca.pem", Some("server")));
    assert!(answered(port, &revoked));
    s.stop();

    // A client checks the server's certificate against its lists.
    let (s, port) = echo_server(&config(TlsPolicy::Tls, "ca.pem", Some("revoked")));
    let why = tls_error(client(port, &with_crl(TlsPolicy::Tls, None, crl_file())));
    assert!(why.contains("Revoked"), "{why}");
    assert!(answered(port, &config(TlsPolicy::Tls, "ca.pem", None)));
    s.stop();

    // A list is reloaded like the rest: the server starts with the other
    // CA's list, which names none of this CA's certificates.
    let live = live_copies("reload-crl", &[("other-ca.crl.pem", "live.crl.pem")]);
    let server_tls = with_crl(
        TlsPolicy::Mtls,
        Some("server"),
        Pem::File(live.join("live.crl.pem")),
    );
    let (s, port) = echo_server(&server_tls);
    assert!(answered(port, &revoked));
    std::fs::copy(certs().join("ca.crl.pem"), live.join("live.crl.pem")).unwrap();
    server_tls.reload().unwrap();
    assert!(!answered(port, &revoked));
    assert!(answered(port, &client_1));
    s.stop();

    // Bad lists are refused when made, naming the file.
    let bad = |crl: Pem, ca: Option<Pem>| {
        TlsConfig::new(TlsOptions {
            ca,
            crl: Some(crl),
            ..TlsOptions::default()
        })
        .unwrap_err()
    };
    let e = bad(Pem::File(certs().join("ca.pem")), pem("ca.pem"));
    assert!(
        e.to_string().contains("ca.pem holds no revocation list"),
        "{e}"
    );
    let garbage = b"-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n".to_vec();
    let e = bad(Pem::Bytes(garbage), pem("ca.pem"));
    assert!(
        matches!(&e, Error::InvalidArgument(why) if why.contains("revocation list")),
        "{e}"
    );
    let e = bad(crl_file(), None);
    assert!(e.to_string().contains("without the CA bundle"), "{e}");
    let e = bad(Pem::File(certs().join("no-such.crl.pem")), pem("ca.pem"));
    assert!(matches!(e, Error::NotFound(_)), "{e}");
}

#[test]
fn a_cleartext_call_on_a_tls_listener_is_refused() {
    let (s, port, _) = server(TlsPolicy::Tls, "server");
    let plain = Client::connect("127.0.0.1", port, PROG, 1, Protocol::Tcp).unwrap();
    assert!(matches!(
        plain.call(1, &[0, 0, 0, 1]),
        Err(Error::Auth(stat::TOOWEAK))
    ));
    assert!(matches!(plain.ping(), Err(Error::Auth(stat::TOOWEAK))));
    still_serves(port, &config(TlsPolicy::Tls, "ca.pem", None));
    s.stop();
}

#[test]
fn a_server_without_starttls_is_a_clear_error_and_gets_no_call() {
    let s = Server::new();
    s.set_rpcbind_registration(false);
    let called = Arc::new(Mutex::new(0));
    let c2 = called.clone();
    s.register(PROG, 1, 1, move |_, _, _| {
        *c2.lock().unwrap() += 1;
        Ok(())
    });
    let port = s.listen_tcp("127.0.0.1", 0).unwrap();
    s.start().unwrap();
    let why = tls_error(client(port, &config(TlsPolicy::Tls, "ca.pem", None)));
    assert!(why.contains("does not offer RPC-with-TLS"), "{why}");
    assert_eq!(*called.lock().unwrap(), 0);
    s.stop();
}

/// A server that answers nothing: a listener that never accepts (the
/// kernel takes the connection and the probe), or with `starttls` one that
/// answers the probe with STARTTLS and then never answers the handshake.
/// Its port, and the listener to keep while the test runs.
fn silent_server(starttls: bool) -> (u16, std::net::TcpListener) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    if starttls {
        let l = l.try_clone().unwrap();
        std::thread::spawn(move || {
            let (mut c, _) = l.accept().unwrap();
            let mut mark = [0u8; 4];
            c.read_exact(&mut mark).unwrap();
            let mut probe = vec![0u8; (u32::from_be_bytes(mark) & 0x7fff_ffff) as usize];
            c.read_exact(&mut probe).unwrap();
            let xid = u32::from_be_bytes(probe[..4].try_into().unwrap());
            c.write_all(&xipc::rpc::tls::starttls_reply(xid)).unwrap();
            // Reads the ClientHello and whatever follows, answering
            // nothing, until the client gives up and closes.
            let _ = std::io::copy(&mut c, &mut std::io::sink());
        });
    }
    (port, l)
}

#[test]
fn a_client_gives_up_on_a_silent_server_within_its_set_up_timeout() {
    let tls = config(TlsPolicy::Tls, "ca.pem", None);
    let limit = Duration::from_millis(300);
    for starttls in [false, true] {
        let (port, _keep) = silent_server(starttls);
        let t = Instant::now();
        let r = Client::connect_timeout(
            "127.0.0.1",
            port,
            PROG,
            1,
            Protocol::Tcp,
            Some(&tls),
            Some(limit),
        );
        let took = t.elapsed();
        match r {
            Err(Error::TimedOut(why)) => assert!(why.contains("127.0.0.1"), "{why}"),
            Err(e) => panic!("starttls {starttls}: {e}"),
            Ok(_) => panic!("starttls {starttls}: a silent server was taken for a TLS one"),
        }
        assert!(
            took >= limit && took < Duration::from_secs(5),
            "starttls {starttls}: gave up after {took:?}"
        );
    }
}

/// A raw connection to `port` that has sent the probe and read STARTTLS.
fn after_starttls(port: u16) -> TcpStream {
    let mut raw = TcpStream::connect(("127.0.0.1", port)).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    raw.write_all(&xipc::rpc::tls::probe(1, PROG, 1)).unwrap();
    let mut reply = [0u8; 36];
    raw.read_exact(&mut reply).unwrap();
    assert_eq!(&reply[4..], &xipc::rpc::tls::starttls_reply(1)[4..]);
    raw
}

/// `raw`, past STARTTLS, as a TLS 1.3 client of its own, so that a test
/// decides what goes in each TLS record.
fn tls_by_hand(raw: TcpStream) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    rustls::StreamOwned::new(client_by_hand(), raw)
}

/// A TLS 1.3 client session for "localhost" (rustls used directly,
/// trusting ca.pem).
// ring's provider, as the library uses (see src/net/tls/mod.rs).
#[allow(deprecated)]
fn client_by_hand() -> rustls::ClientConnection {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(certs().join("ca.pem")).unwrap())
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    rustls::ClientConnection::new(Arc::new(config), name).unwrap()
}

/// Over TLS too, the replies of calls that came together are held until
/// the last of those calls starts (and then sealed together), never until
/// one of them ends: three calls in one TLS record, two fast ones and one
/// that blocks until the client has both their replies, the blocking one
/// last, then between the two.
#[test]
fn tls_replies_held_for_calls_that_came_together_do_not_wait_for_a_blocked_one() {
    use xipc::rpc::message::{AcceptStat, ReplyHeader};
    let s = Server::new();
    s.set_rpcbind_registration(false);
    s.register(PROG, 1, 1, |_, args, out| {
        out.put_raw(args);
        Ok(())
    });
    let (release, released) = std::sync::mpsc::channel::<()>();
    let released = Mutex::new(released);
    s.register(PROG, 1, 9, move |_, _, out| {
        let waiting = released.lock().unwrap_or_else(|p| p.into_inner());
        let freed = waiting.recv_timeout(Duration::from_secs(20)).is_ok();
        out.put_uint(u32::from(freed));
        Ok(())
    });
    let port = s
        .listen_tcp_tls(
            "127.0.0.1",
            0,
            &config(TlsPolicy::Tls, "ca.pem", Some("server")),
        )
        .unwrap();
    s.start().unwrap();
    let mut tls = tls_by_hand(after_starttls(port));
    tls.sock
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let call = |xid: u32, procedure: u32, args: &[u8]| {
        let mut m = Vec::new();
        for v in [xid, 0, 2, PROG, 1, procedure, 0, 0, 0, 0] {
            m.extend(v.to_be_bytes());
        }
        m.extend_from_slice(args);
        let mut record = ((m.len() as u32) | 0x8000_0000).to_be_bytes().to_vec();
        record.extend(m);
        record
    };
    // The first fast call's arguments, echoed: small, or too large to be
    // sealed with the other reply (taking the other way through the seal).
    for (blocked_at, first_len) in [(2u32, 4usize), (1, 4), (2, 20_000), (1, 20_000)] {
        let base = 0x70 + 0x10 * blocked_at + first_len as u32;
        let mut wire = Vec::new();
        let mut fast = Vec::new();
        for i in 0..3 {
            let xid = base + i;
            if i == blocked_at {
                wire.extend(call(xid, 9, &[]));
            } else {
                let args = match i {
                    0 => vec![7; first_len],
                    _ => i.to_be_bytes().to_vec(),
                };
                wire.extend(call(xid, 1, &args));
                fast.push(ReplyHeader::accepted(xid, AcceptStat::Success).to_message(&args));
            }
        }
        // One write of the session: the calls arrive together.
        tls.write_all(&wire).unwrap();
        let mut got: Vec<Vec<u8>> = (0..2)
            .map(|_| support::read_record(&mut tls).unwrap())
            .collect();
        got.sort();
        fast.sort();
        assert_eq!(
            got, fast,
            "blocking call at {blocked_at}, {first_len} bytes"
        );
        release.send(()).unwrap();
        assert_eq!(
            support::read_record(&mut tls).unwrap(),
            ReplyHeader::accepted(base + blocked_at, AcceptStat::Success)
                .to_message(&1u32.to_be_bytes()),
            "blocking call at {blocked_at}, {first_len} bytes"
        );
    }
    s.stop();
}

#[test]
fn garbage_or_a_cut_record_instead_of_tls_ends_that_connection_only() {
    let (s, port, _) = server(TlsPolicy::Tls, "server");
    // Garbage where the ClientHello belongs.
    let mut raw = after_starttls(port);
    raw.write_all(b"GET / HTTP/1.0\r\n\r\nnot TLS at all")
        .unwrap();
    let mut buf = Vec::new();
    // An alert, perhaps, then the end (not the read timeout).
    raw.read_to_end(&mut buf)
        .expect("the server closes a connection that sent garbage");
    // A TLS record header announcing 300 bytes, then only 10 of them.
    let mut raw = after_starttls(port);
    raw.write_all(&[0x16, 0x03, 0x01, 0x01, 0x2c]).unwrap();
    raw.write_all(&[1; 10]).unwrap();
    raw.shutdown(std::net::Shutdown::Write).unwrap();
    // The end of the stream comes with the last bytes; it is seen at once.
    raw.read_to_end(&mut buf)
        .expect("the server closes a connection whose record was cut off");
    still_serves(port, &config(TlsPolicy::Tls, "ca.pem", None));
    support::wait_for(
        "the broken connections to close",
        Duration::from_secs(5),
        || s.connection_count() == 0,
    );
    s.stop();
}

/// The first bytes of a ClientHello for "localhost", as rustls writes
/// them: part of a handshake that a client never finishes.
fn part_of_a_client_hello() -> Vec<u8> {
    let mut hello = Vec::new();
    client_by_hand().write_tls(&mut hello).unwrap();
    assert_eq!(hello[0], 0x16, "a handshake record");
    hello.truncate(hello.len() / 2);
    hello
}

/// How long until the server ends `raw`, from `since`: the end of the
/// stream or a reset, not the read timeout.
fn closed_after(mut raw: TcpStream, since: Instant) -> Duration {
    raw.set_read_timeout(Some(TLS_HANDSHAKE_TIMEOUT + Duration::from_secs(10)))
        .unwrap();
    let mut buf = Vec::new();
    match raw.read_to_end(&mut buf) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!(
            "the server did not close a handshake stalled for {:?}: {e}",
            since.elapsed()
        ),
    }
    since.elapsed()
}

/// A handshake has TLS_HANDSHAKE_TIMEOUT from the accept, whatever the
/// idle timeout (here none at all, so nothing else can close it): a client
/// that stops after STARTTLS, and one that stops halfway through its
/// ClientHello, are closed when that time is up; a good client is served
/// meanwhile and afterwards.
#[test]
fn a_handshake_that_never_finishes_is_closed_at_the_handshake_limit() {
    let (s, port, _) = server(TlsPolicy::Tls, "server");
    s.set_idle_timeout(None).unwrap();
    let good = config(TlsPolicy::Tls, "ca.pem", None);
    let hello = part_of_a_client_hello();
    let took = std::thread::scope(|scope| {
        let after_probe = scope.spawn(|| {
            let t = Instant::now();
            closed_after(after_starttls(port), t)
        });
        let mid_hello = scope.spawn(|| {
            let t = Instant::now();
            let mut raw = after_starttls(port);
            raw.write_all(&hello).unwrap();
            closed_after(raw, t)
        });
        support::wait_for(
            "both stalled handshakes to be accepted",
            Duration::from_secs(5),
            || s.connection_count() == 2,
        );
        still_serves(port, &good);
        [after_probe.join().unwrap(), mid_hello.join().unwrap()]
    });
    // Each was accepted after its clock started, so closed no sooner than
    // the limit; a busy machine may take a little longer to look.
    for (case, took) in ["after STARTTLS", "mid-ClientHello"].iter().zip(took) {
        assert!(
            took >= TLS_HANDSHAKE_TIMEOUT && took < TLS_HANDSHAKE_TIMEOUT + Duration::from_secs(5),
            "{case}: closed after {took:?}"
        );
    }
    still_serves(port, &good);
    support::wait_for(
        "the stalled connections to be gone",
        Duration::from_secs(5),
        || s.connection_count() == 0,
    );
    s.stop();
}

/// An idle timeout shorter than the handshake limit bounds a handshake
/// too.
#[test]
fn a_shorter_idle_timeout_bounds_a_handshake() {
    let (s, port, _) = server(TlsPolicy::Tls, "server");
    s.set_idle_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let t = Instant::now();
    let took = closed_after(after_starttls(port), t); // and then nothing
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(3),
        "{took:?}"
    );
    still_serves(port, &config(TlsPolicy::Tls, "ca.pem", None));
    s.stop();
}

#[test]
fn bad_configurations_are_refused_when_made() {
    let err = |o: TlsOptions| TlsConfig::new(o).unwrap_err();
    let e = err(TlsOptions {
        cert: pem("server.pem"),
        key: pem("client.key"),
        ..TlsOptions::default()
    });
    assert!(e.to_string().contains("does not belong"), "{e}");
    let e = err(TlsOptions {
        ca: Some(Pem::File(certs().join("no-such.pem"))),
        ..TlsOptions::default()
    });
    assert!(matches!(e, Error::NotFound(_)), "{e}");
    let e = err(TlsOptions {
        ca: Some(Pem::Bytes(
            b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n".to_vec(),
        )),
        ..TlsOptions::default()
    });
    assert!(matches!(e, Error::InvalidArgument(_)), "{e}");
    let e = err(TlsOptions {
        cert: pem("server.pem"),
        ..TlsOptions::default()
    });
    assert!(e.to_string().contains("without its private key"), "{e}");
    // A listener needs a certificate; a client needs a CA bundle.
    let s = Server::new();
    s.set_rpcbind_registration(false);
    let no_cert = config(TlsPolicy::Tls, "ca.pem", None);
    assert!(matches!(
        s.listen_tcp_tls("127.0.0.1", 0, &no_cert),
        Err(Error::InvalidArgument(_))
    ));
    let no_ca = TlsConfig::new(TlsOptions {
        cert: pem("server.pem"),
        key: pem("server.key"),
        ..TlsOptions::default()
    })
    .unwrap();
    let port = s.listen_tcp_tls("127.0.0.1", 0, &no_ca).unwrap();
    assert!(matches!(
        client(port, &no_ca),
        Err(Error::InvalidArgument(_))
    ));
    // UDP has no TLS here.
    assert!(matches!(
        Client::connect_tls("127.0.0.1", port, PROG, 1, Protocol::Udp, &no_cert),
        Err(Error::Unsupported(_))
    ));
    // PEM bytes work as well as files.
    let read = |n: &str| std::fs::read(certs().join(n)).unwrap();
    TlsConfig::new(TlsOptions {
        ca: Some(Pem::Bytes(read("ca.pem"))),
        cert: Some(Pem::Bytes(read("server.pem"))),
        key: Some(Pem::Bytes(read("server.key"))),
        ..TlsOptions::default()
    })
    .unwrap();
}

#[test]
fn the_committed_generated_tlsecho_stubs_are_fresh() {
    use xipc::idl::{generate, Input, Lang, Options};
    let x = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/gen/tlsecho.x");
    let files = generate(&Input::path(x), Lang::Rust, &Options::default()).unwrap();
    let committed = include_str!("gen/tlsecho.rs");
    assert!(
        files[0].contents == committed,
        "tests/gen/tlsecho.rs is stale: run `xipc gen -l rust -o tests/gen tests/gen/tlsecho.x`"
    );
}

/// The Rust stubs `xipc gen` writes, over TLS: the generated client's
/// `connect_tls` calls a server registered by the generated server
/// stub, whose handler sees the client's certificate.
#[test]
fn a_generated_rust_client_connects_with_tls() {
    use tlsecho::{TLSECHO_V1_Client, TLSECHO_V1_Server};
    struct Echo;
    impl TLSECHO_V1_Server for Echo {
        fn echo(&self, call: &xipc::rpc::CallInfo, text: String) -> xipc::Result<String> {
            let peer = call.tls_peer.as_deref().ok_or(Error::Auth(stat::TOOWEAK))?;
            Ok(format!("{text} from {}", peer.subject))
        }
    }
    let s = Server::new();
    s.set_rpcbind_registration(false);
    tlsecho::TLSECHO_V1_register(&s, Arc::new(Echo));
    let port = s
        .listen_tcp_tls(
            "127.0.0.1",
            0,
            &config(TlsPolicy::Mtls, "ca.pem", Some("server")),
        )
        .unwrap();
    s.start().unwrap();
    let connect =
        |tls: &TlsConfig| TLSECHO_V1_Client::connect_tls("127.0.0.1", port, Protocol::Tcp, tls);
    let c = connect(&config(TlsPolicy::Mtls, "ca.pem", Some("client"))).unwrap();
    assert_eq!(
        c.echo(&"over TLS".to_string()).unwrap(),
        "over TLS from CN=client-1,O=xipc tests"
    );
    // The stub's connect_tls checks the server as Client::connect_tls does.
    match connect(&config(TlsPolicy::Mtls, "other-ca.pem", Some("client"))) {
        Err(Error::Tls(why)) => assert!(why.contains("UnknownIssuer"), "{why}"),
        Err(other) => panic!("expected a TLS error, got {other:?}"),
        Ok(_) => panic!("expected a TLS error, the client connected"),
    }
    // The generated client's plain connect is refused by the TLS listener.
    let plain = TLSECHO_V1_Client::connect("127.0.0.1", port, Protocol::Tcp).unwrap();
    assert!(matches!(
        plain.echo(&"in the clear".to_string()),
        Err(Error::Auth(stat::TOOWEAK))
    ));
    s.stop();
}

/// `xipc rpc ping|dump --tls`: the command line speaks RPC-with-TLS.
#[test]
fn the_command_line_pings_and_dumps_over_tls() {
    use std::process::Command;
    let xipc = env!("CARGO_BIN_EXE_xipc");
    let (_server, port, _) = server(TlsPolicy::Mtls, "server");
    let ca = certs().join("ca.pem");
    let ping_at = |port: u16, extra: &[&str]| {
        Command::new(xipc)
            .args(["rpc", "ping", "127.0.0.1", &PROG.to_string(), "1", "--port"])
            .arg(port.to_string())
            .args(extra)
            .output()
            .expect("xipc runs")
    };
    let ping = |extra: &[&str]| ping_at(port, extra);
    let (cert, key) = (certs().join("client.pem"), certs().join("client.key"));
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let out = ping(&[
        "--tls",
        "--ca",
        ca.to_str().unwrap(),
        "--cert",
        cert,
        "--key",
        key,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("ready and waiting (tcp with TLS"),
        "{stdout}"
    );

    // No client certificate under mtls, an untrusted CA, a wrong name: exit
    // 1 with the reason.
    let other = certs().join("other-ca.pem");
    for args in [
        vec!["--tls", "--ca", ca.to_str().unwrap()],
        vec![
            "--tls",
            "--ca",
            other.to_str().unwrap(),
            "--cert",
            cert,
            "--key",
            key,
        ],
        vec![
            "--tls",
            "--ca",
            ca.to_str().unwrap(),
            "--cert",
            cert,
            "--key",
            key,
            "--server-name",
            "elsewhere.example",
        ],
    ] {
        let out = ping(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("TLS"), "{args:?}: {stderr}");
    }
    // A revocation list that names the server's certificate.
    let (_revoked, revoked_port) = echo_server(&config(TlsPolicy::Tls, "ca.pem", Some("revoked")));
    let crl = certs().join("ca.crl.pem");
    let crl = crl.to_str().unwrap();
    let out = ping_at(
        revoked_port,
        &["--tls", "--ca", ca.to_str().unwrap(), "--crl", crl],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("Revoked"), "{stderr}");
    // A list that is not one: said before anything goes out.
    let out = ping(&[
        "--tls",
        "--ca",
        ca.to_str().unwrap(),
        "--crl",
        ca.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no revocation list"), "{stderr}");
    // --cert without --key, --ca without --tls: usage errors.
    assert_eq!(
        ping(&["--tls", "--ca", ca.to_str().unwrap(), "--cert", cert])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(ping(&["--ca", ca.to_str().unwrap()]).status.code(), Some(2));
    // Without --tls, the TLS listener refuses the cleartext call.
    assert_ne!(ping(&[]).status.code(), Some(0));

    // dump --tls: an rpcbind directory served on a TLS listener.
    let rpcbind = xipc::rpc::Service::new();
    xipc::rpc::rpcbind::serve_on(&rpcbind, "127.0.0.1", 0).unwrap();
    let tls_port = rpcbind
        .listen_tcp_tls(
            "127.0.0.1",
            0,
            &config(TlsPolicy::Tls, "ca.pem", Some("server")),
        )
        .unwrap();
    rpcbind.start().unwrap();
    let out = Command::new(xipc)
        .args(["rpc", "dump", "127.0.0.1", "--rpcbind-port"])
        .arg(tls_port.to_string())
        .args(["--tls", "--ca", ca.to_str().unwrap()])
        .output()
        .expect("xipc runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("100000"), "rpcbind lists itself: {stdout}");
    rpcbind.stop();
}
