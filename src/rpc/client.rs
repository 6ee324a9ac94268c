//! The RPC client: one connection (or UDP socket) shared by every thread
//! that calls through it.
//!
//! Calls are matched to replies by xid. There is no reader thread: whichever
//! waiting caller finds nobody reading becomes the reader, reads one message,
//! hands it to the caller whose xid it carries (a stray or late reply is
//! dropped) and wakes the others; a caller whose reply came in takes it and
//! returns. So several calls are in flight on one connection at once, and a
//! lone caller reads its own reply with no thread hand-off.

use std::collections::{HashMap, HashSet};
use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

use super::auth::{Credential, OpaqueAuth};
use super::message::{reply_results, CallHeader};
use crate::stream::record::{read_record, RecordLimits, LAST_FRAGMENT, MAX_FRAGMENT_LEN};
use crate::xdr::Encoder;
use crate::{Error, Result};

/// The transport a client or listener uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// TCP: calls and replies as records (RFC 5531 record marking).
    Tcp,
    /// UDP: one call or reply per datagram.
    Udp,
    /// A Unix stream socket; the "host" is its path.
    Unix,
}

impl Protocol {
    /// Parses "tcp", "udp" or "unix" (also "local").
    ///
    /// ```
    /// use xipc::rpc::Protocol;
    /// assert_eq!(Protocol::parse("udp")?, Protocol::Udp);
    /// assert_eq!(Protocol::parse("local")?.netid(), "local");
    /// assert!(Protocol::parse("sctp").is_err());
    /// # Ok::<(), xipc::Error>(())
    /// ```
    pub fn parse(name: &str) -> Result<Protocol> {
        match name {
            "tcp" => Ok(Protocol::Tcp),
            "udp" => Ok(Protocol::Udp),
            "unix" | "local" => Ok(Protocol::Unix),
            other => Err(Error::InvalidArgument(format!(
                "unknown protocol {other:?}; use \"tcp\", \"udp\" or \"unix\""
            ))),
        }
    }

    /// The rpcbind netid ("tcp", "udp", "local").
    pub fn netid(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Unix => "local",
        }
    }
}

/// Largest UDP payload (IPv4).
pub const MAX_UDP_MESSAGE: usize = 65507;
/// Default per-call timeout (libtirpc's default total timeout).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(25);
/// First UDP retransmission interval; it doubles up to [`MAX_RETRANSMIT`].
pub const INITIAL_RETRANSMIT: Duration = Duration::from_millis(250);
/// Longest UDP retransmission interval.
pub const MAX_RETRANSMIT: Duration = Duration::from_secs(4);

/// Where a client connects, kept for reconnecting.
#[derive(Clone, Debug)]
enum Target {
    Inet(SocketAddr),
    Unix(PathBuf),
}

enum Socket {
    Tcp(TcpStream),
    Udp(UdpSocket),
    Unix(UnixStream),
}

impl Socket {
    fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Socket::Tcp(s) => s.as_fd(),
            Socket::Udp(s) => s.as_fd(),
            Socket::Unix(s) => s.as_fd(),
        }
    }
}

/// The read half of a stream, buffered (only the current reader touches it).
enum Reader {
    Tcp(BufReader<TcpStream>),
    Unix(BufReader<UnixStream>),
    Udp(Vec<u8>),
}

#[derive(Default)]
struct Demux {
    /// A caller is reading from the socket now.
    reading: bool,
    /// Callers asleep on `Conn::wake`, waiting for the reader.
    sleepers: usize,
    /// Xids whose callers are waiting.
    waiting: HashSet<u32>,
    /// Replies read for waiting callers.
    done: HashMap<u32, Vec<u8>>,
    /// Why the connection is unusable (streams only).
    dead: Option<String>,
    /// The last error a UDP receive reported (e.g. ICMP port unreachable).
    udp_error: Option<String>,
}

/// One connection and the calls in flight on it.
struct Conn {
    socket: Socket,
    write_lock: Mutex<()>,
    reader: Mutex<Reader>,
    demux: Mutex<Demux>,
    wake: Condvar,
    max_message: Arc<AtomicUsize>,
}

/// How [`Conn::read_one`] ended.
enum Read {
    Message(Vec<u8>),
    Idle,
}

impl Conn {
    fn open(
        target: &Target,
        proto: Protocol,
        timeout: Duration,
        max: Arc<AtomicUsize>,
    ) -> Result<Conn> {
        let (socket, reader) = match (proto, target) {
            (Protocol::Tcp, Target::Inet(addr)) => {
                let s = TcpStream::connect_timeout(addr, timeout)
                    .map_err(|e| Error::os(format!("connect to {addr}"), e))?;
                s.set_nodelay(true)
                    .map_err(|e| Error::os("TCP_NODELAY", e))?;
                let r = s.try_clone().map_err(|e| Error::os("dup socket", e))?;
                (
                    Socket::Tcp(s),
                    Reader::Tcp(BufReader::with_capacity(64 << 10, r)),
                )
            }
            (Protocol::Udp, Target::Inet(addr)) => {
                let local: SocketAddr = if addr.is_ipv4() {
                    "0.0.0.0:0".parse().expect("address")
                } else {
                    "[::]:0".parse().expect("address")
                };
                let s = UdpSocket::bind(local).map_err(|e| Error::os("bind UDP socket", e))?;
                s.connect(addr)
                    .map_err(|e| Error::os(format!("connect UDP to {addr}"), e))?;
                (Socket::Udp(s), Reader::Udp(vec![0; 65536]))
            }
            (Protocol::Unix, Target::Unix(path)) => {
                let s = UnixStream::connect(path)
                    .map_err(|e| Error::os(format!("connect to {}", path.display()), e))?;
                let r = s.try_clone().map_err(|e| Error::os("dup socket", e))?;
                (
                    Socket::Unix(s),
                    Reader::Unix(BufReader::with_capacity(64 << 10, r)),
                )
            }
            _ => {
                return Err(Error::InvalidArgument(
                    "protocol and address disagree".into(),
                ))
            }
        };
        Ok(Conn {
            socket,
            write_lock: Mutex::new(()),
            reader: Mutex::new(reader),
            demux: Mutex::new(Demux::default()),
            wake: Condvar::new(),
            max_message: max,
        })
    }

    fn is_udp(&self) -> bool {
        matches!(self.socket, Socket::Udp(_))
    }

    fn is_dead(&self) -> bool {
        lock(&self.demux).dead.is_some()
    }

    /// Sends one call. `record` is the message behind its 4-byte record
    /// mark: streams write all of it, UDP sends the message alone.
    fn send(&self, record: &[u8]) -> Result<()> {
        let msg = &record[4..];
        let limit = self.max_message.load(Ordering::Relaxed);
        if msg.len() > limit {
            return Err(Error::MessageTooLarge {
                size: msg.len(),
                limit,
            });
        }
        match &self.socket {
            Socket::Udp(s) => match s.send(msg) {
                Ok(_) => Ok(()),
                // An earlier ICMP error surfaces on the next send: not fatal.
                Err(e) if e.raw_os_error() == Some(libc::ECONNREFUSED) => Ok(()),
                Err(e) => Err(Error::os("send", e)),
            },
            Socket::Tcp(s) => self.write_record(&mut &*s, record),
            Socket::Unix(s) => self.write_record(&mut &*s, record),
        }
    }

    fn write_record<W: Write>(&self, w: &mut W, record: &[u8]) -> Result<()> {
        let _guard = lock(&self.write_lock);
        w.write_all(record).map_err(|e| {
            let err = Error::Closed(format!("sending the call failed: {e}"));
            self.kill(err.to_string());
            err
        })
    }

    fn kill(&self, why: String) {
        let mut d = lock(&self.demux);
        d.dead.get_or_insert(why);
        self.wake.notify_all();
    }

    /// Waits up to `wait` for one message and reads it.
    fn read_one(&self, wait: Duration) -> Result<Read> {
        let mut reader = lock(&self.reader);
        let buffered = match &*reader {
            Reader::Tcp(r) => !r.buffer().is_empty(),
            Reader::Unix(r) => !r.buffer().is_empty(),
            Reader::Udp(_) => false,
        };
        if !buffered && !wait_readable(self.socket.fd(), wait)? {
            return Ok(Read::Idle);
        }
        let limits = RecordLimits {
            max_record: self.max_message.load(Ordering::Relaxed),
            ..RecordLimits::default()
        };
        let mut msg = Vec::new();
        let got = match &mut *reader {
            Reader::Tcp(r) => read_record(r, &mut msg, limits)?,
            Reader::Unix(r) => read_record(r, &mut msg, limits)?,
            Reader::Udp(buf) => {
                let Socket::Udp(s) = &self.socket else {
                    unreachable!("UDP reader on a UDP socket")
                };
                return match s.recv(buf) {
                    Ok(n) => Ok(Read::Message(buf[..n].to_vec())),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(Read::Idle),
                    Err(e) => Err(Error::os("receive", e)),
                };
            }
        };
        if got {
            Ok(Read::Message(msg))
        } else {
            Err(Error::Closed("the server closed the connection".into()))
        }
    }

    /// Sends the call `msg` (a record, see [`Conn::send`]) and waits for
    /// the reply to `xid`.
    fn call(&self, xid: u32, msg: &[u8], timeout: Duration) -> Result<Vec<u8>> {
        let start = Instant::now();
        let deadline = start + timeout;
        lock(&self.demux).waiting.insert(xid);
        if let Err(e) = self.send(msg) {
            lock(&self.demux).waiting.remove(&xid);
            return Err(e);
        }
        let udp = self.is_udp();
        let mut rto = INITIAL_RETRANSMIT;
        let mut next_send = start + rto;
        let mut d = lock(&self.demux);
        loop {
            if let Some(reply) = d.done.remove(&xid) {
                d.waiting.remove(&xid);
                return Ok(reply);
            }
            if let Some(why) = d.dead.clone() {
                d.waiting.remove(&xid);
                return Err(Error::Closed(why));
            }
            let now = Instant::now();
            if now >= deadline {
                d.waiting.remove(&xid);
                let extra = match &d.udp_error {
                    Some(e) => format!(" (last error: {e})"),
                    None => String::new(),
                };
                return Err(Error::TimedOut(format!(
                    "no reply to xid {xid:#x} within {timeout:?}{extra}"
                )));
            }
            if udp && now >= next_send {
                drop(d);
                if let Err(e) = self.send(msg) {
                    lock(&self.demux).waiting.remove(&xid);
                    return Err(e);
                }
                rto = (rto * 2).min(MAX_RETRANSMIT);
                next_send = Instant::now() + rto;
                d = lock(&self.demux);
                continue;
            }
            let wake_at = if udp {
                deadline.min(next_send)
            } else {
                deadline
            };
            let wait = wake_at.saturating_duration_since(now);
            if d.reading {
                d.sleepers += 1;
                d = self
                    .wake
                    .wait_timeout(d, wait)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
                d.sleepers -= 1;
                continue;
            }
            d.reading = true;
            drop(d);
            let got = self.read_one(wait);
            d = lock(&self.demux);
            d.reading = false;
            match got {
                Ok(Read::Message(m)) if m.len() >= 4 => {
                    let id = u32::from_be_bytes([m[0], m[1], m[2], m[3]]);
                    if d.waiting.contains(&id) {
                        d.done.insert(id, m);
                    }
                }
                Ok(_) => {}
                Err(e) if udp => d.udp_error = Some(e.to_string()),
                Err(e) => {
                    d.dead.get_or_insert(format!("connection lost: {e}"));
                }
            }
            // Waking costs a system call: only when someone sleeps.
            if d.sleepers > 0 {
                self.wake.notify_all();
            }
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        let _ = match &self.socket {
            Socket::Tcp(s) => s.shutdown(std::net::Shutdown::Both),
            Socket::Unix(s) => s.shutdown(std::net::Shutdown::Both),
            Socket::Udp(_) => Ok(()),
        };
    }
}

/// Waits until `fd` is readable or `wait` passes; false on timeout.
pub(crate) fn wait_readable(fd: BorrowedFd<'_>, wait: Duration) -> Result<bool> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let ms = wait.as_millis().min(i32::MAX as u128) as i32;
    // Round up so a sub-millisecond wait does not spin.
    let ms = if Duration::from_millis(ms as u64) < wait {
        ms.saturating_add(1)
    } else {
        ms
    };
    let timeout = PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX);
    let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
    loop {
        match poll(&mut fds, timeout) {
            Ok(0) => return Ok(false),
            Ok(_) => return Ok(true),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(Error::nix("poll", e)),
        }
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
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
/// server.register(0x2000_0102, 1, 1, |_, args| {
///     std::thread::sleep(Duration::from_millis(100));
///     Ok(args.to_vec())
/// });
/// let port = server.listen_tcp("127.0.0.1", 0)?;
/// server.start()?;
///
/// let client = Arc::new(Client::connect("127.0.0.1", port, 0x2000_0102, 1, Protocol::Tcp)?);
/// client.set_timeout(Duration::from_secs(10))?;
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
    cred: RwLock<OpaqueAuth>,
    max_message: Arc<AtomicUsize>,
}

impl Client {
    /// Connects to `host:port` (for [`Protocol::Unix`], `host` is the socket
    /// path and `port` is ignored).
    pub fn connect(host: &str, port: u16, prog: u32, vers: u32, proto: Protocol) -> Result<Client> {
        let target = match proto {
            Protocol::Unix => Target::Unix(PathBuf::from(host)),
            _ => Target::Inet(resolve(host, port)?),
        };
        Client::open(target, proto, prog, vers)
    }

    /// Connects to a socket address.
    pub fn connect_addr(addr: SocketAddr, prog: u32, vers: u32, proto: Protocol) -> Result<Client> {
        Client::open(Target::Inet(addr), proto, prog, vers)
    }

    /// Looks the program's port up through rpcbind on `host` (GETADDR v4,
    /// then v3, then portmap GETPORT), then connects.
    pub fn lookup(host: &str, prog: u32, vers: u32, proto: Protocol) -> Result<Client> {
        if proto == Protocol::Unix {
            return Err(Error::InvalidArgument(
                "a Unix-socket client needs a path, not a lookup".into(),
            ));
        }
        let addr = super::rpcbind::lookup(host, prog, vers, proto)?;
        Client::open(Target::Inet(addr), proto, prog, vers)
    }

    fn open(target: Target, proto: Protocol, prog: u32, vers: u32) -> Result<Client> {
        let max_message = match proto {
            Protocol::Udp => MAX_UDP_MESSAGE,
            _ => crate::stream::record::DEFAULT_MAX_RECORD,
        };
        let max_message = Arc::new(AtomicUsize::new(max_message));
        let conn = Conn::open(&target, proto, DEFAULT_TIMEOUT, max_message.clone())?;
        Ok(Client {
            target,
            proto,
            prog,
            vers,
            conn: RwLock::new(Arc::new(conn)),
            next_xid: AtomicU32::new(initial_xid()),
            timeout_ms: AtomicU64::new(DEFAULT_TIMEOUT.as_millis() as u64),
            reconnect: AtomicBool::new(false),
            cred: RwLock::new(OpaqueAuth::none()),
            max_message,
        })
    }

    /// The per-call timeout (default 25 s). On UDP the call is retransmitted
    /// with backoff (250 ms doubling to 4 s) until the timeout. A timeout
    /// under 1 ms counts as 1 ms; zero is refused ([`Error::InvalidArgument`]):
    /// every call would fail at once.
    pub fn set_timeout(&self, timeout: Duration) -> Result<()> {
        if timeout.is_zero() {
            return Err(Error::InvalidArgument(
                "the call timeout must be positive".into(),
            ));
        }
        let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        self.timeout_ms.store(ms.max(1), Ordering::Relaxed);
        Ok(())
    }

    /// The per-call timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms.load(Ordering::Relaxed))
    }

    /// When on (off by default), a stream client whose connection is lost
    /// reconnects and retries the call once with the same xid.
    pub fn set_reconnect(&self, on: bool) {
        self.reconnect.store(on, Ordering::Relaxed);
    }

    /// The credential sent with every call (AUTH_NONE by default).
    pub fn set_credential(&self, cred: &Credential) -> Result<()> {
        let opaque = cred.to_opaque()?;
        *self.cred.write().unwrap_or_else(|p| p.into_inner()) = opaque;
        Ok(())
    }

    /// The largest call sent and reply accepted (default 4 MiB on streams,
    /// 65,507 bytes, the most a datagram holds, on UDP; a larger value is
    /// lowered to that). Zero is refused ([`Error::InvalidArgument`]): no
    /// call would fit.
    pub fn set_max_message(&self, bytes: usize) -> Result<()> {
        if bytes == 0 {
            return Err(Error::InvalidArgument(
                "the largest message must be at least 1 byte".into(),
            ));
        }
        let cap = match self.proto {
            Protocol::Udp => MAX_UDP_MESSAGE,
            _ => MAX_FRAGMENT_LEN,
        };
        self.max_message.store(bytes.min(cap), Ordering::Relaxed);
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

    /// [`call`](Self::call) with this call's own timeout.
    pub fn call_with_timeout(
        &self,
        procedure: u32,
        args: &[u8],
        timeout: Duration,
    ) -> Result<Vec<u8>> {
        let (xid, msg) = self.message(procedure, args)?;
        let conn = self.current_conn()?;
        let reply = match conn.call(xid, &msg, timeout) {
            Err(Error::Closed(why)) if self.proto != Protocol::Udp && self.wants_reconnect() => {
                let conn = self
                    .replace_conn(&conn)
                    .map_err(|e| Error::Closed(format!("{why}; reconnecting failed: {e}")))?;
                conn.call(xid, &msg, timeout)?
            }
            other => other?,
        };
        let results = reply_results(&reply)?;
        let at = reply.len() - results.len();
        let mut reply = reply;
        reply.drain(..at);
        Ok(reply)
    }

    /// Sends a call that expects no reply (a batched call): returns once it
    /// is sent. A reply the server sends anyway is dropped as stray.
    pub fn call_batched(&self, procedure: u32, args: &[u8]) -> Result<()> {
        let (_, msg) = self.message(procedure, args)?;
        self.current_conn()?.send(&msg)
    }

    /// Calls the NULL procedure (0).
    pub fn ping(&self) -> Result<()> {
        self.call(0, &[]).map(|_| ())
    }

    fn wants_reconnect(&self) -> bool {
        self.reconnect.load(Ordering::Relaxed)
    }

    fn message(&self, procedure: u32, args: &[u8]) -> Result<(u32, Vec<u8>)> {
        let xid = self.next_xid.fetch_add(1, Ordering::Relaxed);
        let cred = self.cred.read().unwrap_or_else(|p| p.into_inner()).clone();
        // Room for the record mark, filled in by `Conn::send` on streams.
        let mut enc = Encoder::with_capacity(68 + cred.body.len() + args.len());
        enc.put_uint(0);
        CallHeader {
            xid,
            prog: self.prog,
            vers: self.vers,
            procedure,
            cred,
            verf: OpaqueAuth::none(),
        }
        .encode(&mut enc)?;
        enc.put_raw(args);
        let limit = self
            .max_message
            .load(Ordering::Relaxed)
            .min(MAX_FRAGMENT_LEN);
        if enc.len() - 4 > limit {
            return Err(Error::MessageTooLarge {
                size: enc.len() - 4,
                limit,
            });
        }
        let mut record = enc.into_bytes();
        let mark = (record.len() - 4) as u32 | LAST_FRAGMENT;
        record[..4].copy_from_slice(&mark.to_be_bytes());
        Ok((xid, record))
    }

    fn current_conn(&self) -> Result<Arc<Conn>> {
        let conn = self.conn.read().unwrap_or_else(|p| p.into_inner()).clone();
        if conn.is_dead() && self.wants_reconnect() {
            return self.replace_conn(&conn);
        }
        Ok(conn)
    }

    /// Opens a new connection in place of `old` (unless another thread did).
    fn replace_conn(&self, old: &Arc<Conn>) -> Result<Arc<Conn>> {
        let mut slot = self.conn.write().unwrap_or_else(|p| p.into_inner());
        if !Arc::ptr_eq(&slot, old) {
            return Ok(slot.clone());
        }
        let conn = Arc::new(Conn::open(
            &self.target,
            self.proto,
            self.timeout(),
            self.max_message.clone(),
        )?);
        *slot = conn.clone();
        Ok(conn)
    }
}

/// Resolves `host:port`, preferring IPv4.
pub(crate) fn resolve(host: &str, port: u16) -> Result<SocketAddr> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| Error::NotFound(format!("cannot resolve {host}: {e}")))?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| Error::NotFound(format!("{host} has no address")))
}

/// A starting xid that differs between clients and processes.
fn initial_xid() -> u32 {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mix = (now.as_nanos() as u32)
        ^ std::process::id().rotate_left(16)
        ^ COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9);
    mix.wrapping_mul(0x85EB_CA6B)
}
