//! The RPC client: one connection (or UDP socket) shared by every thread
//! that calls through it; calls from many threads are in flight together on
//! it, each reply handed to its caller by xid (see `demux` for how the
//! reading passes from caller to caller, and `conn` for how calls are
//! written).

mod conn;
mod demux;

pub use conn::{INITIAL_RETRANSMIT, MAX_RETRANSMIT};

use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use conn::{initial_xid, Call, Conn, ConnSettings, Target, TlsTarget};

use crate::net::{resolve_one, spin, Deadline, TlsConfig};
use crate::rpc::auth::{Credential, OpaqueAuth};
use crate::rpc::message::{encode_call_head, reply_results};
use crate::rpc::protocol::{Protocol, MAX_UDP_MESSAGE};
use crate::stream::record::{DEFAULT_MAX_RECORD, LAST_FRAGMENT, MAX_FRAGMENT_LEN};
use crate::sync::{read, write};
use crate::xdr::Encoder;
use crate::{Error, Result};

/// Default per-call timeout (libtirpc's default total timeout).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(25);

/// What `timeout_ms` holds for "no limit".
const NO_LIMIT: u64 = u64::MAX;

/// Arguments shorter than this are copied behind the call header.
const COPY_ARGS_BELOW: usize = 1024;

/// Where a call's procedure number sits in its header, record mark
/// included: after the mark, xid, message type, RPC version, program and
/// version (RFC 5531, `call_body`).
const PROCEDURE_AT: usize = 24;

/// A call's header for `prog`, `vers` and `cred` with an AUTH_NONE
/// verifier, behind room for the record mark, its xid and procedure zero:
/// [`Client`]'s calls copy it and set those three, where encoding every
/// field for each call cost a small call about 200 instructions.
fn call_head(prog: u32, vers: u32, cred: &OpaqueAuth) -> Result<Vec<u8>> {
    let mut enc = Encoder::from_vec(Vec::with_capacity(68 + cred.body.len()));
    enc.put_uint(0);
    encode_call_head(&mut enc, [0, prog, vers, 0], cred, &OpaqueAuth::none())?;
    Ok(enc.into_bytes())
}

/// An ONC RPC client for one program version at one address.
///
/// `Client` is `Send + Sync`: share it (e.g. in an `Arc`) and call from
/// several threads at once; their calls are in flight together on the one
/// connection, each reply matched to its call by xid (a stray or late reply
/// is dropped).
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use xipc::rpc::{Client, Protocol, Server};
///
/// let server = Server::new();
/// server.set_rpcbind_registration(false);
/// server.register(0x2000_0102, 1, 1, |_, args, out| {
///     std::thread::sleep(Duration::from_millis(100));
///     out.put_raw(args);
///     Ok(())
/// });
/// let port = server.listen_tcp("127.0.0.1", 0)?;
/// server.start()?;
///
/// let client = Arc::new(Client::connect("127.0.0.1", port, 0x2000_0102, 1, Protocol::Tcp)?);
/// client.set_timeout(Some(Duration::from_secs(10)))?;
/// let threads: Vec<_> = (0..4u8)
///     .map(|i| {
///         let c = client.clone();
///         std::thread::spawn(move || c.call(1, &[0, 0, 0, i]))
///     })
///     .collect();
/// for (i, t) in threads.into_iter().enumerate() {
///     assert_eq!(t.join().unwrap()?, [0, 0, 0, i as u8]);
/// }
/// assert_eq!(server.connection_count(), 1);
/// server.stop();
/// # Ok::<(), xipc::Error>(())
/// ```
pub struct Client {
    target: Target,
    proto: Protocol,
    prog: u32,
    vers: u32,
    conn: RwLock<Arc<Conn>>,
    next_xid: AtomicU32,
    timeout_ms: AtomicU64,
    reconnect: AtomicBool,
    /// Every call's header as far as it is the same for each call (see
    /// [`call_head`]): made again when the credential changes.
    head: RwLock<Vec<u8>>,
    /// The settings its connections read as they go.
    settings: Arc<ConnSettings>,
    /// RPC-with-TLS: the configuration and the name the server's
    /// certificate must carry.
    tls: Option<(TlsConfig, String)>,
}

impl Client {
    /// Connects to `host:port` (for [`Protocol::Unix`], `host` is the socket
    /// path and `port` is ignored).
    pub fn connect(host: &str, port: u16, prog: u32, vers: u32, proto: Protocol) -> Result<Client> {
        Client::connect_timeout(host, port, prog, vers, proto, None, Some(DEFAULT_TIMEOUT))
    }

    /// Connects to `host:port` (a TCP host, or a Unix socket's path) with
    /// RPC-with-TLS (RFC 9289): the AUTH_TLS probe in the clear, which the
    /// server must answer with STARTTLS, then a TLS 1.3 handshake in which
    /// the server's certificate must chain to `tls`'s CA bundle and name
    /// `host` (or `tls`'s server name; "localhost" for a Unix socket
    /// without one). Under policy `mtls` the client presents its own
    /// certificate. Nothing is ever sent in the clear but the probe: a
    /// server that does not answer STARTTLS, or a man in the middle that
    /// strips it, is [`Error::Tls`]. UDP is refused (it would need DTLS).
    pub fn connect_tls(
        host: &str,
        port: u16,
        prog: u32,
        vers: u32,
        proto: Protocol,
        tls: &TlsConfig,
    ) -> Result<Client> {
        Client::connect_timeout(
            host,
            port,
            prog,
            vers,
            proto,
            Some(tls),
            Some(DEFAULT_TIMEOUT),
        )
    }

    /// [`connect`](Self::connect), or [`connect_tls`](Self::connect_tls)
    /// when `tls` is given, with the whole set-up bounded by `timeout`:
    /// the connect, and under TLS the AUTH_TLS probe and the handshake
    /// (`None`: as long as it takes; the other constructors allow
    /// [`DEFAULT_TIMEOUT`]). A server that accepts the connection and then
    /// stays silent is [`Error::TimedOut`] once it passes. The calls' own
    /// timeout is set apart ([`set_timeout`](Self::set_timeout)).
    pub fn connect_timeout(
        host: &str,
        port: u16,
        prog: u32,
        vers: u32,
        proto: Protocol,
        tls: Option<&TlsConfig>,
        timeout: Option<Duration>,
    ) -> Result<Client> {
        let setup = Deadline::after(timeout);
        let (target, name) = match proto {
            Protocol::Unix => (Target::Unix(PathBuf::from(host)), "localhost"),
            _ => (Target::Inet(resolve_one(host, port)?), host),
        };
        let tls = tls.map(|t| (t.clone(), name.to_string()));
        Client::open(target, proto, prog, vers, tls, setup)
    }

    /// Connects to a socket address.
    pub fn connect_addr(addr: SocketAddr, prog: u32, vers: u32, proto: Protocol) -> Result<Client> {
        let setup = Deadline::after(Some(DEFAULT_TIMEOUT));
        Client::open(Target::Inet(addr), proto, prog, vers, None, setup)
    }

    /// Connects to a socket address with RPC-with-TLS, checking the
    /// server's certificate against `name` (unless `tls` has a server
    /// name), as [`Client::connect_tls`].
    pub fn connect_addr_tls(
        addr: SocketAddr,
        name: &str,
        prog: u32,
        vers: u32,
        proto: Protocol,
        tls: &TlsConfig,
    ) -> Result<Client> {
        let setup = Deadline::after(Some(DEFAULT_TIMEOUT));
        Client::connect_addr_until(addr, name, prog, vers, proto, Some(tls), setup)
    }

    /// [`connect_addr`](Self::connect_addr), or with `tls`
    /// [`connect_addr_tls`](Self::connect_addr_tls), set up by `setup`.
    pub(crate) fn connect_addr_until(
        addr: SocketAddr,
        name: &str,
        prog: u32,
        vers: u32,
        proto: Protocol,
        tls: Option<&TlsConfig>,
        setup: Deadline,
    ) -> Result<Client> {
        let tls = tls.map(|t| (t.clone(), name.to_string()));
        Client::open(Target::Inet(addr), proto, prog, vers, tls, setup)
    }

    /// Opens the first connection, set up (connected, and under TLS probed
    /// and shaken hands with) by `setup`.
    fn open(
        target: Target,
        proto: Protocol,
        prog: u32,
        vers: u32,
        tls: Option<(TlsConfig, String)>,
        setup: Deadline,
    ) -> Result<Client> {
        let max_message = match proto {
            Protocol::Udp => MAX_UDP_MESSAGE,
            _ => DEFAULT_MAX_RECORD,
        };
        let settings = Arc::new(ConnSettings {
            max_message: AtomicUsize::new(max_message),
            busy_poll_us: AtomicU64::new(spin::default_limit().as_micros() as u64),
        });
        let tls_target = tls.as_ref().map(|(config, host)| TlsTarget {
            config,
            host,
            prog,
            vers,
        });
        let conn = Conn::open(&target, proto, setup, settings.clone(), tls_target)?;
        Ok(Client {
            target,
            proto,
            prog,
            vers,
            conn: RwLock::new(Arc::new(conn)),
            next_xid: AtomicU32::new(initial_xid()),
            timeout_ms: AtomicU64::new(DEFAULT_TIMEOUT.as_millis() as u64),
            reconnect: AtomicBool::new(false),
            head: RwLock::new(call_head(prog, vers, &OpaqueAuth::none())?),
            settings,
            tls,
        })
    }

    /// The per-call timeout (default 25 s; `None`: no limit, a call waits
    /// as long as it takes). On UDP the call is retransmitted with backoff
    /// (250 ms doubling to 4 s) until the timeout. A timeout under 1 ms
    /// counts as 1 ms; zero is refused ([`Error::InvalidArgument`]): every
    /// call would fail at once.
    pub fn set_timeout(&self, timeout: Option<Duration>) -> Result<()> {
        let ms = match timeout {
            None => NO_LIMIT,
            Some(t) if t.is_zero() => {
                return Err(Error::InvalidArgument(
                    "the call timeout must be positive".into(),
                ))
            }
            Some(t) => u64::try_from(t.as_millis())
                .unwrap_or(NO_LIMIT - 1)
                .clamp(1, NO_LIMIT - 1),
        };
        self.timeout_ms.store(ms, Ordering::Relaxed);
        Ok(())
    }

    /// The per-call timeout (`None`: no limit).
    pub fn timeout(&self) -> Option<Duration> {
        match self.timeout_ms.load(Ordering::Relaxed) {
            NO_LIMIT => None,
            ms => Some(Duration::from_millis(ms)),
        }
    }

    /// When on (off by default), a stream client whose connection is lost
    /// reconnects and retries the call once with the same xid.
    pub fn set_reconnect(&self, on: bool) {
        self.reconnect.store(on, Ordering::Relaxed);
    }

    /// The credential sent with every call (AUTH_NONE by default).
    pub fn set_credential(&self, cred: &Credential) -> Result<()> {
        let head = call_head(self.prog, self.vers, &cred.to_opaque()?)?;
        *write(&self.head) = head;
        Ok(())
    }

    /// The largest call sent and reply accepted (default 4 MiB on streams,
    /// 65,507 bytes, the most a datagram holds, on UDP; a larger value is
    /// lowered to that). Zero is refused ([`Error::InvalidArgument`]): no
    /// call would fit.
    pub fn set_max_message_size(&self, bytes: usize) -> Result<()> {
        if bytes == 0 {
            return Err(Error::InvalidArgument(
                "the largest message must be at least 1 byte".into(),
            ));
        }
        let cap = match self.proto {
            Protocol::Udp => MAX_UDP_MESSAGE,
            _ => MAX_FRAGMENT_LEN,
        };
        self.settings
            .max_message
            .store(bytes.min(cap), Ordering::Relaxed);
        Ok(())
    }

    /// How long a call waiting for its reply polls the socket before it
    /// sleeps (default 50 µs, or `XIPC_BUSY_POLL_US` microseconds from the
    /// environment; zero: it sleeps at once). A sleeping caller is woken by
    /// the kernel when the reply comes, which costs more than a small
    /// call's round trip when client and server run on different CPUs
    /// (20-25 µs on a virtual machine); polling saves that while it keeps a
    /// CPU busy. Only a call that is its process's one caller waiting
    /// polls, and only in a process that may run on more than one CPU (see
    /// the RPC guide, "Polling before sleeping"). At most 1 s, else
    /// [`Error::InvalidArgument`]; takes effect at once.
    pub fn set_busy_poll(&self, poll: Duration) -> Result<()> {
        let us = spin::to_micros(poll)?;
        self.settings.busy_poll_us.store(us, Ordering::Relaxed);
        Ok(())
    }

    /// The transport.
    pub fn protocol(&self) -> Protocol {
        self.proto
    }

    /// Calls `procedure` with XDR-encoded `args`; returns the XDR-encoded
    /// results. Every non-success reply status is its own [`Error`]; no
    /// reply within the client's timeout is [`Error::TimedOut`].
    pub fn call(&self, procedure: u32, args: &[u8]) -> Result<Vec<u8>> {
        self.call_with_timeout(procedure, args, self.timeout())
    }

    /// [`call`](Self::call) with this call's own timeout (`None`: no limit).
    pub fn call_with_timeout(
        &self,
        procedure: u32,
        args: &[u8],
        timeout: Option<Duration>,
    ) -> Result<Vec<u8>> {
        let (reply, at) = self.call_reply(procedure, args, timeout)?;
        Ok(crate::spare::tail(reply, at))
    }

    /// [`call_with_timeout`](Self::call_with_timeout) for the C API, which
    /// hands large results out in place: the results and where in the
    /// vector they begin. Small ones are copied into a vector of their own
    /// (beginning at 0, the reply's buffer kept for the next call); large
    /// ones are left behind the reply's header, which moving would copy.
    pub(crate) fn call_results_at(
        &self,
        procedure: u32,
        args: &[u8],
        timeout: Option<Duration>,
    ) -> Result<(Vec<u8>, usize)> {
        let (reply, at) = self.call_reply(procedure, args, timeout)?;
        if reply.len() - at <= crate::spare::KEEP_AT_MOST {
            return Ok((crate::spare::tail(reply, at), 0));
        }
        Ok((reply, at))
    }

    /// The whole reply message of a call, and where in it the results
    /// begin.
    fn call_reply(
        &self,
        procedure: u32,
        args: &[u8],
        timeout: Option<Duration>,
    ) -> Result<(Vec<u8>, usize)> {
        let (xid, msg) = self.message(procedure, args)?;
        let now = Instant::now();
        let deadline = Deadline::after_from(now, timeout);
        let conn = self.current_conn()?;
        let reply = match conn.call(xid, &msg, deadline, timeout, Some(now)) {
            Err(Error::Closed(why)) if self.proto != Protocol::Udp && self.wants_reconnect() => {
                match self.replace_conn(&conn) {
                    Ok(conn) => conn.call(xid, &msg, deadline, timeout, None),
                    Err(e) => Err(Error::Closed(format!("{why}; reconnecting failed: {e}"))),
                }
            }
            other => other,
        };
        crate::spare::give(msg.head);
        let reply = reply?;
        let at = reply.len() - reply_results(&reply)?.len();
        Ok((reply, at))
    }

    /// Sends a call that expects no reply (a batched call): returns once it
    /// is sent. A reply the server sends anyway is dropped as stray.
    pub fn call_batched(&self, procedure: u32, args: &[u8]) -> Result<()> {
        let (_, msg) = self.message(procedure, args)?;
        let deadline = Deadline::after(self.timeout());
        let sent = self.current_conn()?.send(&msg, deadline);
        crate::spare::give(msg.head);
        sent.map(|_| ())
    }

    /// Calls the NULL procedure (0).
    pub fn ping(&self) -> Result<()> {
        self.call(0, &[]).map(|_| ())
    }

    fn wants_reconnect(&self) -> bool {
        self.reconnect.load(Ordering::Relaxed)
    }

    fn message<'a>(&self, procedure: u32, args: &'a [u8]) -> Result<(u32, Call<'a>)> {
        let xid = self.next_xid.fetch_add(1, Ordering::Relaxed);
        // Small arguments are copied behind the header (one plain write);
        // large ones are written from the caller's buffer.
        let copy = args.len() < COPY_ARGS_BELOW;
        let mut head;
        {
            let same = read(&self.head);
            head = crate::spare::take(same.len() + if copy { args.len() } else { 0 });
            head.extend_from_slice(&same);
        }
        head[4..8].copy_from_slice(&xid.to_be_bytes());
        head[PROCEDURE_AT..PROCEDURE_AT + 4].copy_from_slice(&procedure.to_be_bytes());
        if copy {
            crate::copy::extend(&mut head, args);
        }
        let size = head.len() - 4 + if copy { 0 } else { args.len() };
        let limit = self
            .settings
            .max_message
            .load(Ordering::Relaxed)
            .min(MAX_FRAGMENT_LEN);
        if size > limit {
            crate::spare::give(head);
            return Err(Error::MessageTooLarge { size, limit });
        }
        head[..4].copy_from_slice(&(size as u32 | LAST_FRAGMENT).to_be_bytes());
        let args = if copy { &[][..] } else { args };
        Ok((xid, Call { head, args }))
    }

    fn current_conn(&self) -> Result<Arc<Conn>> {
        let conn = read(&self.conn).clone();
        if conn.is_dead() && self.wants_reconnect() {
            return self.replace_conn(&conn);
        }
        Ok(conn)
    }

    /// Opens a new connection in place of `old` (unless another thread did).
    fn replace_conn(&self, old: &Arc<Conn>) -> Result<Arc<Conn>> {
        let mut slot = write(&self.conn);
        if !Arc::ptr_eq(&slot, old) {
            return Ok(slot.clone());
        }
        let tls = self.tls.as_ref().map(|(config, host)| TlsTarget {
            config,
            host,
            prog: self.prog,
            vers: self.vers,
        });
        let conn = Arc::new(Conn::open(
            &self.target,
            self.proto,
            Deadline::after(self.timeout()),
            self.settings.clone(),
            tls,
        )?);
        *slot = conn.clone();
        Ok(conn)
    }
}

/// The descriptor of the client's socket: its connection for TCP and Unix
/// clients; for UDP, its own socket, bound to an ephemeral port and
/// connected to the server's address (so only that server's datagrams
/// reach it). The client keeps owning it. It is there to inspect or tune
/// the socket (`getsockname`, `getpeername`, socket options such as buffer
/// sizes or keep-alive), never to read or write: bytes taken from it are
/// replies that callers wait for, and bytes written to it break the
/// framing of calls. A client that reconnects
/// ([`set_reconnect`](Client::set_reconnect)) gets a new socket, so the
/// number is only good until then.
///
/// ```
/// use std::os::fd::AsRawFd;
/// use xipc::rpc::{Client, Protocol, Service};
///
/// let service = Service::new();
/// let port = service.listen_tcp("127.0.0.1", 0)?;
/// service.start()?;
/// let client = Client::connect("127.0.0.1", port, 0x2000_0106, 1, Protocol::Tcp)?;
/// let fd = client.as_raw_fd();
/// // Its local address, say, as any socket's (here through the nix crate).
/// let local = nix::sys::socket::getsockname::<nix::sys::socket::SockaddrIn>(fd).unwrap();
/// assert_ne!(local.port(), port);
/// service.stop();
/// # Ok::<(), xipc::Error>(())
/// ```
impl AsRawFd for Client {
    fn as_raw_fd(&self) -> RawFd {
        read(&self.conn).raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::auth::AuthSys;

    /// A call's header, copied from the client's template and patched, is
    /// what encoding each field gives, with either credential and after a
    /// change of credential.
    #[test]
    fn a_call_header_is_the_encoded_one() {
        let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = peer.local_addr().unwrap().port();
        let c = Client::connect("127.0.0.1", port, 0x2000_0101, 3, Protocol::Udp).unwrap();
        let sys = Credential::Sys(AuthSys {
            stamp: 7,
            machine_name: "host-a".into(),
            uid: 1000,
            gid: 100,
            gids: vec![4, 24, 27],
        });
        for cred in [Credential::None, sys, Credential::None] {
            c.set_credential(&cred).unwrap();
            for (procedure, args) in [
                (0, &[][..]),
                (9, &[1, 2, 3, 4][..]),
                (u32::MAX, &[0; 2000][..]),
            ] {
                let (xid, call) = c.message(procedure, args).unwrap();
                let mut want = Encoder::new();
                encode_call_head(
                    &mut want,
                    [xid, 0x2000_0101, 3, procedure],
                    &cred.to_opaque().unwrap(),
                    &OpaqueAuth::none(),
                )
                .unwrap();
                let mut got = call.head[4..].to_vec();
                got.extend_from_slice(call.args);
                let mut whole = want.into_bytes();
                whole.extend_from_slice(args);
                assert_eq!(got, whole);
                let mark = u32::from_be_bytes(call.head[..4].try_into().unwrap());
                assert_eq!(mark, LAST_FRAGMENT | whole.len() as u32);
            }
        }
    }
}
