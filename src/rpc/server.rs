//! The RPC server: handlers per (program, version, procedure), served on any
//! mix of TCP, UDP and Unix listeners.
//!
//! Concurrency model: threads with small stacks, several per UDP socket and
//! at least one per stream connection. A connection's thread reads a call,
//! runs its handler and writes the reply itself, so a lone caller's call
//! has no thread hand-off. Calls a client has in flight together on one
//! connection run together too (up to
//! [`set_concurrent_calls_per_connection`](Server::set_concurrent_calls_per_connection),
//! 16 by default): the thread runs the calls it finds buffered one after
//! another, and when a handler has kept the connection busy for a couple
//! of milliseconds with nobody reading, another thread takes over reading;
//! replies go out as their calls finish, each matched by its xid. Fast
//! handlers so cost no thread switch at all, however many calls a client
//! pipelines, and slow ones still run side by side. The small replies of
//! calls that arrived together leave together, in one write, as soon as no
//! whole call is left buffered (or a thread added for a slow handler is
//! about to read).
//! Blocking threads let handlers block without starving others; Linux runs
//! thousands of them comfortably, so 1,000 connections are 1,000
//! mostly-sleeping threads.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::io::{BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use super::auth::Credential;
use super::client::{lock, resolve, wait_readable, write_parts, Protocol, MAX_UDP_MESSAGE};
use super::drc::{checksum, ClientKey, DuplicateCache, Lookup, RequestKey};
use super::message::{decode_call, AcceptStat, BadCall, ReplyHeader};
use crate::stream::record::{read_record, record_buffered, RecordLimits, LAST_FRAGMENT};
use crate::stream::PeerCredentials;
use crate::{Error, Result};

/// Who called.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Peer {
    /// A TCP connection, by the caller's address.
    Tcp(SocketAddr),
    /// A UDP datagram, by the caller's address.
    Udp(SocketAddr),
    /// A Unix-socket connection, numbered by the server.
    Unix(u64),
}

/// What a handler learns about the call it serves.
#[derive(Clone, Debug)]
pub struct CallInfo {
    /// The call's transaction id.
    pub xid: u32,
    /// The program number.
    pub prog: u32,
    /// The program's version.
    pub vers: u32,
    /// The procedure number.
    pub procedure: u32,
    /// The caller's credential (AUTH_NONE or AUTH_SYS).
    pub cred: Credential,
    /// Who called.
    pub peer: Peer,
    /// The server-side address the call came in on, when known.
    pub local: Option<SocketAddr>,
    /// The calling process as the kernel saw it when the connection was
    /// made (`SO_PEERCRED`: pid, uid, gid): Unix sockets only, None on TCP
    /// and UDP. Unlike an AUTH_SYS credential, the caller cannot forge it.
    pub peer_credentials: Option<PeerCredentials>,
}

/// A procedure's implementation: given the call and its XDR argument bytes,
/// the XDR result bytes. `Err(Error::GarbageArgs)` (or an XDR or limit error
/// from decoding the arguments) answers GARBAGE_ARGS; `Err(Error::ProgUnavail)`,
/// `Err(Error::ProgMismatch { .. })` and `Err(Error::ProcUnavail)` answer
/// their own status (for a handler that forwards calls); any other error
/// (or a panic) answers SYSTEM_ERR.
pub type Handler = dyn Fn(&CallInfo, &[u8]) -> Result<Vec<u8>> + Send + Sync;

/// What a handler inside the crate may answer: results, or nothing at all
/// (rpcbind's CALLIT stays silent when the call it forwards fails).
pub(crate) enum Outcome {
    Results(Vec<u8>),
    NoReply,
}

type StoredHandler = dyn Fn(&CallInfo, &[u8]) -> Result<Outcome> + Send + Sync;

type Programs = HashMap<u32, BTreeMap<u32, HashMap<u32, Arc<StoredHandler>>>>;

/// Default idle-connection timeout.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// Default for how many calls of one stream connection may run at once.
pub const DEFAULT_CALLS_PER_CONNECTION: usize = 16;
/// Default for how many stream connections are served at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
/// Default permissions of a Unix socket made by [`Server::listen_unix`].
pub const DEFAULT_UNIX_MODE: u32 = 0o600;
/// How often the monitor looks for connections whose calls wait behind a
/// busy handler.
const MONITOR_TICK: Duration = Duration::from_millis(2);
/// The monitor's tick while no connection is open.
const MONITOR_IDLE_TICK: Duration = Duration::from_millis(50);
/// Longest pause of an accept loop that cannot get a descriptor.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);
/// Threads that receive on each UDP socket.
const UDP_THREADS: usize = 4;
/// Stack of a connection thread (handlers run on it).
const CONN_STACK: usize = 256 << 10;

enum Listener {
    Tcp(TcpListener),
    Udp(UdpSocket),
    Unix(UnixListener, PathBuf),
}

struct Inner {
    programs: RwLock<Programs>,
    pending: Mutex<Vec<Arc<Listener>>>,
    active: Mutex<Vec<Arc<Listener>>>,
    listener_threads: Mutex<Vec<JoinHandle<()>>>,
    connections: Mutex<HashMap<u64, Arc<Connection>>>,
    /// Connection threads alive (`stop` waits for them).
    conn_threads: (Mutex<usize>, Condvar),
    next_conn: AtomicU64,
    started: AtomicBool,
    stopping: AtomicBool,
    monitoring: AtomicBool,
    stopped: (Mutex<bool>, Condvar),
    idle_timeout: Mutex<Duration>,
    max_message: Mutex<usize>,
    drc: Mutex<Option<DuplicateCache>>,
    use_rpcbind: AtomicBool,
    per_connection: AtomicUsize,
    max_connections: AtomicUsize,
    /// (program, version, over IPv6) registered with rpcbind.
    registered: Mutex<Vec<(u32, u32, bool)>>,
}

/// An ONC RPC server. Cheap to clone: clones share one server.
///
/// ```
/// use xipc::rpc::{Client, Credential, Protocol, Server};
///
/// let server = Server::new();
/// server.set_rpcbind_registration(false);
/// // Procedure 1 of version 2 answers the caller's uid (AUTH_SYS).
/// server.register(0x2000_0103, 2, 1, |call, _args| match &call.cred {
///     Credential::Sys(sys) => Ok(sys.uid.to_be_bytes().to_vec()),
///     _ => Err(xipc::Error::Auth(1)),
/// });
/// let port = server.listen_udp("127.0.0.1", 0)?;
/// server.start()?;
///
/// let client = Client::connect("127.0.0.1", port, 0x2000_0103, 3, Protocol::Udp)?;
/// // Version 3 is not served: the reply names the versions that are.
/// assert!(matches!(client.ping(), Err(xipc::Error::ProgMismatch { low: 2, high: 2 })));
/// server.stop();
/// # Ok::<(), xipc::Error>(())
/// ```
#[derive(Clone)]
pub struct Server {
    inner: Arc<Inner>,
}

impl Default for Server {
    fn default() -> Self {
        Server::new()
    }
}

impl Server {
    /// A server with no programs and no listeners: [`register`](Self::register)
    /// handlers, add listeners, then [`start`](Self::start) it.
    pub fn new() -> Server {
        Server {
            inner: Arc::new(Inner {
                programs: RwLock::new(HashMap::new()),
                pending: Mutex::new(Vec::new()),
                active: Mutex::new(Vec::new()),
                listener_threads: Mutex::new(Vec::new()),
                connections: Mutex::new(HashMap::new()),
                conn_threads: (Mutex::new(0), Condvar::new()),
                next_conn: AtomicU64::new(1),
                started: AtomicBool::new(false),
                stopping: AtomicBool::new(false),
                monitoring: AtomicBool::new(false),
                stopped: (Mutex::new(false), Condvar::new()),
                idle_timeout: Mutex::new(DEFAULT_IDLE_TIMEOUT),
                max_message: Mutex::new(crate::stream::record::DEFAULT_MAX_RECORD),
                drc: Mutex::new(None),
                use_rpcbind: AtomicBool::new(true),
                per_connection: AtomicUsize::new(DEFAULT_CALLS_PER_CONNECTION),
                max_connections: AtomicUsize::new(DEFAULT_MAX_CONNECTIONS),
                registered: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Serves `procedure` of `prog` version `vers` with `handler`
    /// (replacing an earlier one). Procedure 0 answers on its own unless
    /// registered.
    pub fn register<F>(&self, prog: u32, vers: u32, procedure: u32, handler: F)
    where
        F: Fn(&CallInfo, &[u8]) -> Result<Vec<u8>> + Send + Sync + 'static,
    {
        self.register_outcome(prog, vers, procedure, move |info, args| {
            handler(info, args).map(Outcome::Results)
        });
    }

    /// [`register`](Self::register) for a handler that may send no reply.
    pub(crate) fn register_outcome<F>(&self, prog: u32, vers: u32, procedure: u32, handler: F)
    where
        F: Fn(&CallInfo, &[u8]) -> Result<Outcome> + Send + Sync + 'static,
    {
        let mut programs = self
            .inner
            .programs
            .write()
            .unwrap_or_else(|p| p.into_inner());
        programs
            .entry(prog)
            .or_default()
            .entry(vers)
            .or_default()
            .insert(procedure, Arc::new(handler));
    }

    /// Closes stream connections idle for this long (default 120 s;
    /// `Duration::MAX`: never; a timeout under 1 ms counts as 1 ms): no call
    /// arrives, or a reply being written makes no progress (the client
    /// reads none of it), for that long. Zero is refused
    /// ([`Error::InvalidArgument`]): it would close every connection at once.
    pub fn set_idle_timeout(&self, timeout: Duration) -> Result<()> {
        if timeout.is_zero() {
            return Err(Error::InvalidArgument(
                "the idle timeout must be positive".into(),
            ));
        }
        *lock(&self.inner.idle_timeout) = timeout.max(Duration::from_millis(1));
        Ok(())
    }

    /// Largest call accepted on a stream (default 4 MiB); bigger records
    /// close the connection. UDP is bounded by the datagram size. Zero is
    /// refused ([`Error::InvalidArgument`]): no call would fit.
    pub fn set_max_message_size(&self, bytes: usize) -> Result<()> {
        if bytes == 0 {
            return Err(Error::InvalidArgument(
                "the largest message must be at least 1 byte".into(),
            ));
        }
        *lock(&self.inner.max_message) = bytes;
        Ok(())
    }

    /// Keeps the replies of the last `entries` calls so retransmissions are
    /// answered from the cache (0, the default, turns the cache off).
    pub fn set_duplicate_cache(&self, entries: usize) {
        *lock(&self.inner.drc) = (entries > 0).then(|| DuplicateCache::new(entries));
    }

    /// How many calls of one stream connection may run at once (default
    /// 16). Calls a client has in flight together on one connection run
    /// concurrently and their replies go out as they finish, so their order
    /// of execution is not their order of arrival. 1 runs them one after
    /// another in order, as libtirpc does (batched calls that depend on
    /// each other's effects want that). Zero is refused
    /// ([`Error::InvalidArgument`]): no call could run.
    pub fn set_concurrent_calls_per_connection(&self, calls: usize) -> Result<()> {
        if calls == 0 {
            return Err(Error::InvalidArgument(
                "concurrent calls per connection must be at least 1".into(),
            ));
        }
        self.inner.per_connection.store(calls, Ordering::Relaxed);
        Ok(())
    }

    /// How many stream connections are served at once (default 4,096).
    /// A connection accepted past the limit is closed at once: its client
    /// sees the connection closed (a clear error, not a hang), and may try
    /// again once others close. Each connection costs one descriptor and at
    /// least one thread, so the process's `RLIMIT_NOFILE` must allow it.
    /// Zero is refused ([`Error::InvalidArgument`]): no client could
    /// connect.
    pub fn set_max_connections(&self, connections: usize) -> Result<()> {
        if connections == 0 {
            return Err(Error::InvalidArgument(
                "the connection limit must be at least 1".into(),
            ));
        }
        self.inner
            .max_connections
            .store(connections, Ordering::Relaxed);
        Ok(())
    }

    /// Whether `start` registers with (and `stop` unregisters from) the
    /// local rpcbind, when one answers on port 111 (default on).
    pub fn set_rpcbind_registration(&self, on: bool) {
        self.inner.use_rpcbind.store(on, Ordering::Relaxed);
    }

    /// Listens on TCP `host:port` (port 0 = any); returns the bound port.
    pub fn listen_tcp(&self, host: &str, port: u16) -> Result<u16> {
        let addr = resolve(host, port)?;
        let l = TcpListener::bind(addr).map_err(|e| Error::os(format!("bind TCP {addr}"), e))?;
        let port = l
            .local_addr()
            .map_err(|e| Error::os("local address", e))?
            .port();
        self.add_listener(Listener::Tcp(l));
        Ok(port)
    }

    /// Listens on UDP `host:port` (port 0 = any); returns the bound port.
    pub fn listen_udp(&self, host: &str, port: u16) -> Result<u16> {
        let addr = resolve(host, port)?;
        let s = UdpSocket::bind(addr).map_err(|e| Error::os(format!("bind UDP {addr}"), e))?;
        let port = s
            .local_addr()
            .map_err(|e| Error::os("local address", e))?
            .port();
        self.add_listener(Listener::Udp(s));
        Ok(port)
    }

    /// Listens on a Unix stream socket at `path` (which must not exist),
    /// made with permissions 0600 (only this user, and root, may connect)
    /// whatever the umask; the file is removed on `stop`.
    ///
    /// ```
    /// use std::os::unix::fs::PermissionsExt;
    /// use xipc::rpc::{Client, Protocol, Server};
    ///
    /// let path = std::env::temp_dir().join(format!("xipc-doc-{}.sock", std::process::id()));
    /// let server = Server::new();
    /// server.set_rpcbind_registration(false);
    /// server.listen_unix(&path)?;
    /// let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    /// assert_eq!(mode & 0o777, 0o600);
    /// server.start()?;
    /// let client = Client::connect(path.to_str().unwrap(), 0, 0x2000_0104, 1, Protocol::Unix)?;
    /// assert!(matches!(client.ping(), Err(xipc::Error::ProgUnavail)));
    /// server.stop();
    /// assert!(!path.exists());
    /// # Ok::<(), xipc::Error>(())
    /// ```
    pub fn listen_unix(&self, path: impl AsRef<Path>) -> Result<()> {
        self.listen_unix_with_mode(path, DEFAULT_UNIX_MODE)
    }

    /// [`listen_unix`](Self::listen_unix) with the socket file's permission
    /// bits (e.g. 0o660 for a group, 0o666 for everyone), set exactly,
    /// whatever the umask. The socket is never reachable with wider
    /// permissions than `mode`, not even while it is being made. A mode
    /// with bits beyond 0o777 (file-type, setuid, setgid or sticky bits) is
    /// refused ([`Error::InvalidArgument`]).
    pub fn listen_unix_with_mode(&self, path: impl AsRef<Path>, mode: u32) -> Result<()> {
        if mode & !0o777 != 0 {
            return Err(Error::InvalidArgument(format!(
                "socket mode {mode:#o} has bits beyond 0o777"
            )));
        }
        let path = path.as_ref();
        let l = bind_unix(path, mode)?;
        self.add_listener(Listener::Unix(l, path.to_path_buf()));
        Ok(())
    }

    fn add_listener(&self, l: Listener) {
        let l = Arc::new(l);
        if self.inner.started.load(Ordering::SeqCst) {
            self.spawn_listener(l);
        } else {
            lock(&self.inner.pending).push(l);
        }
    }

    /// Starts serving on background threads and registers with rpcbind.
    pub fn start(&self) -> Result<()> {
        if self.inner.stopping.load(Ordering::SeqCst) {
            return Err(Error::InvalidArgument("the server was stopped".into()));
        }
        if self.inner.started.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let pending = std::mem::take(&mut *lock(&self.inner.pending));
        if self.inner.use_rpcbind.load(Ordering::Relaxed) {
            self.register_with_rpcbind(&pending);
        }
        for l in pending {
            self.spawn_listener(l);
        }
        Ok(())
    }

    /// Starts (if needed) and blocks until [`stop`](Self::stop) is called
    /// and has finished; returns at once if the server was stopped before.
    pub fn serve_forever(&self) -> Result<()> {
        match self.start() {
            // Stopped before it could start: nothing to serve.
            Err(_) if self.inner.stopping.load(Ordering::SeqCst) => {}
            other => other?,
        }
        let (m, cv) = &self.inner.stopped;
        let mut done = lock(m);
        while !*done {
            done = cv.wait(done).unwrap_or_else(|p| p.into_inner());
        }
        Ok(())
    }

    /// Stops gracefully: unregisters from rpcbind, stops accepting, lets
    /// calls being handled finish and send their replies, closes every
    /// connection and waits for the server's threads.
    pub fn stop(&self) {
        if self.inner.stopping.swap(true, Ordering::SeqCst) {
            return;
        }
        self.unregister_from_rpcbind();
        let active = std::mem::take(&mut *lock(&self.inner.active));
        for l in &active {
            let fd = match &**l {
                Listener::Tcp(l) => l.as_raw_fd(),
                Listener::Unix(l, _) => l.as_raw_fd(),
                Listener::Udp(s) => {
                    wake_udp(s);
                    continue;
                }
            };
            // `fd` belongs to a listener that `active` keeps open; shutdown(2)
            // wakes the thread blocked in accept on it.
            let _ = nix::sys::socket::shutdown(fd, nix::sys::socket::Shutdown::Both);
        }
        for t in std::mem::take(&mut *lock(&self.inner.listener_threads)) {
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
        // Readers wake up and leave; handlers finish and send their replies.
        for c in lock(&self.inner.connections).values() {
            c.stream.shutdown_read();
        }
        // A handler may call stop: its own thread is not waited for.
        let own = SERVING.with(|s| usize::from(s.get() == Arc::as_ptr(&self.inner) as usize));
        let (m, cv) = &self.inner.conn_threads;
        let mut live = lock(m);
        while *live > own {
            live = cv.wait(live).unwrap_or_else(|p| p.into_inner());
        }
        drop(live);
        for l in active {
            if let Listener::Unix(_, path) = &*l {
                let _ = std::fs::remove_file(path);
            }
        }
        let (m, cv) = &self.inner.stopped;
        *lock(m) = true;
        cv.notify_all();
    }

    /// Stream connections open now.
    pub fn connection_count(&self) -> usize {
        lock(&self.inner.connections).len()
    }

    fn spawn_listener(&self, l: Arc<Listener>) {
        lock(&self.inner.active).push(l.clone());
        let mut threads = lock(&self.inner.listener_threads);
        match &*l {
            Listener::Udp(_) => {
                for _ in 0..UDP_THREADS {
                    let (server, l) = (self.clone(), l.clone());
                    threads.push(std::thread::spawn(move || server.serve_udp(&l)));
                }
            }
            _ => {
                if !self.inner.monitoring.swap(true, Ordering::SeqCst) {
                    let server = self.clone();
                    threads.push(std::thread::spawn(move || server.monitor()));
                }
                let server = self.clone();
                threads.push(std::thread::spawn(move || server.accept_loop(&l)));
            }
        }
    }

    /// Accepts connections until `stop`. When the process is out of
    /// descriptors (EMFILE, ENFILE) the loop neither spins nor leaves
    /// clients hanging: it waits for a connection to arrive, frees a
    /// descriptor it keeps in reserve and accepts it; when the reserve can
    /// be taken again the connection is served, otherwise it is closed at
    /// once (its client sees the connection closed). Without a reserve it
    /// pauses, 10 ms doubling up to 1 s, between attempts. Open connections
    /// are served throughout, and new ones again as soon as descriptors
    /// are free.
    fn accept_loop(&self, l: &Listener) {
        let mut reserve = reserve_descriptor();
        let mut backoff = Duration::ZERO;
        loop {
            let accepted = accept(l);
            if self.inner.stopping.load(Ordering::SeqCst) {
                return;
            }
            let err = match accepted {
                Ok(stream) => {
                    backoff = Duration::ZERO;
                    if reserve.is_none() {
                        reserve = reserve_descriptor();
                    }
                    self.spawn_connection(stream);
                    continue;
                }
                Err(e) => e,
            };
            match err.raw_os_error() {
                Some(libc::EMFILE | libc::ENFILE) if reserve.is_some() => {
                    // Until a connection waits, accepting again is futile.
                    if !matches!(wait_readable(listener_fd(l), MAX_ACCEPT_BACKOFF), Ok(true)) {
                        continue;
                    }
                    drop(reserve.take());
                    let Ok(stream) = accept(l) else { continue };
                    reserve = reserve_descriptor();
                    if reserve.is_some() && !self.inner.stopping.load(Ordering::SeqCst) {
                        self.spawn_connection(stream);
                    } else {
                        drop(stream); // shed: closed at once
                        reserve = reserve_descriptor();
                    }
                }
                // A connection reset before it was accepted, or a signal.
                Some(libc::ECONNABORTED | libc::EINTR | libc::EPROTO) => {}
                // Out of descriptors with none in reserve, out of memory or
                // anything unexpected: pause, longer each time.
                _ => {
                    backoff = (backoff * 2).clamp(Duration::from_millis(10), MAX_ACCEPT_BACKOFF);
                    std::thread::sleep(backoff);
                }
            }
        }
    }

    fn spawn_connection(&self, stream: Stream) {
        let mut conns = lock(&self.inner.connections);
        if conns.len() >= self.inner.max_connections.load(Ordering::Relaxed) {
            return; // over the limit: dropping the stream closes it
        }
        let id = self.inner.next_conn.fetch_add(1, Ordering::Relaxed);
        let idle = *lock(&self.inner.idle_timeout);
        stream.set_timeouts(idle);
        let (peer, client, local) = match &stream {
            Stream::Tcp(s, addr) => {
                let _ = s.set_nodelay(true);
                (
                    Peer::Tcp(*addr),
                    ClientKey::Addr(*addr),
                    s.local_addr().ok(),
                )
            }
            Stream::Unix(_) => (Peer::Unix(id), ClientKey::Connection(id), None),
        };
        // Read once: the kernel records the peer when the connection is made.
        let peer_credentials = match &stream {
            Stream::Unix(s) => {
                use nix::sys::socket::{getsockopt, sockopt};
                getsockopt(s, sockopt::PeerCredentials)
                    .ok()
                    .map(|c| PeerCredentials {
                        pid: c.pid(),
                        uid: c.uid(),
                        gid: c.gid(),
                    })
            }
            Stream::Tcp(..) => None,
        };
        let stream = Arc::new(stream);
        let conn = Arc::new(Connection {
            id,
            reader: Mutex::new(BufReader::with_capacity(
                READ_BUFFER,
                SharedStream(stream.clone()),
            )),
            writer: Mutex::new(Vec::new()),
            stream,
            state: Mutex::new(ConnState {
                threads: 1,
                readers: 1,
                ..ConnState::default()
            }),
            peer,
            client,
            local,
            peer_credentials,
            limits: RecordLimits {
                max_record: *lock(&self.inner.max_message),
                ..RecordLimits::default()
            },
        });
        if self.spawn_conn_thread(conn.clone()) {
            conns.insert(id, conn);
        }
    }

    /// Starts a thread that serves `conn` beginning as its reader (the
    /// caller has counted it in `threads` and `readers`); false, with the
    /// counts undone, when no thread can be made.
    fn spawn_conn_thread(&self, conn: Arc<Connection>) -> bool {
        *lock(&self.inner.conn_threads.0) += 1;
        let server = self.clone();
        let c = conn.clone();
        let spawned = std::thread::Builder::new()
            .name("xipc-rpc-conn".into())
            .stack_size(CONN_STACK)
            .spawn(move || {
                SERVING.with(|s| s.set(Arc::as_ptr(&server.inner) as usize));
                server.serve_connection(&c);
                let (m, cv) = &server.inner.conn_threads;
                *lock(m) -= 1;
                cv.notify_all();
            });
        if spawned.is_err() {
            *lock(&self.inner.conn_threads.0) -= 1;
            let mut st = lock(&conn.state);
            st.threads -= 1;
            st.readers -= 1;
        }
        spawned.is_ok()
    }

    /// One thread's share of a connection: read a call, run it, send the
    /// reply; read again when nobody else reads, else leave. Any read error
    /// (idle timeout, hostile record length, peer gone) ends the connection.
    fn serve_connection(&self, conn: &Arc<Connection>) {
        let mut msg = Vec::new();
        loop {
            let (got, more) = {
                let mut reader = lock(&conn.reader);
                if !record_buffered(reader.buffer()) && !conn.flush() {
                    (Ok(false), false)
                } else {
                    let got = read_record(&mut *reader, &mut msg, conn.limits);
                    (got, record_buffered(reader.buffer()))
                }
            };
            let mut st = lock(&conn.state);
            st.readers -= 1;
            if !matches!(got, Ok(true)) {
                st.closed = true;
                drop(st);
                conn.flush();
                conn.stream.shutdown_read();
                self.leave(conn);
                return;
            }
            st.handling += 1;
            st.calls += 1;
            drop(st);
            if let Some(reply) = self.dispatch(
                &msg,
                &conn.peer,
                &conn.client,
                conn.local,
                conn.peer_credentials,
            ) {
                // With one call at a time per connection no thread can
                // take over while a slow handler runs: hold nothing then.
                let hold = more && self.calls_per_connection() > 1;
                if !conn.send(&reply, hold) {
                    lock(&conn.state).closed = true;
                    conn.stream.shutdown_read();
                }
                recycle(reply.results);
            }
            let mut st = lock(&conn.state);
            st.handling -= 1;
            if st.readers > 0 || st.closed {
                drop(st);
                self.leave(conn);
                return;
            }
            st.readers += 1;
        }
    }

    /// A thread stops serving `conn`; the last one out forgets it.
    fn leave(&self, conn: &Connection) {
        let mut st = lock(&conn.state);
        st.threads -= 1;
        if st.threads == 0 {
            drop(st);
            lock(&self.inner.connections).remove(&conn.id);
        }
    }

    fn calls_per_connection(&self) -> usize {
        self.inner.per_connection.load(Ordering::Relaxed)
    }

    /// Every few milliseconds, gives a reader to each connection whose
    /// handlers have all been busy since the last look while nobody reads,
    /// so calls the client pipelined behind them are not held up.
    fn monitor(&self) {
        while !self.inner.stopping.load(Ordering::SeqCst) {
            let mut stalled = Vec::new();
            let tick = {
                let conns = lock(&self.inner.connections);
                let limit = self.calls_per_connection();
                for c in conns.values() {
                    let mut st = lock(&c.state);
                    if st.readers == 0
                        && st.handling > 0
                        && !st.closed
                        && st.calls == st.calls_seen
                        && st.threads < limit
                    {
                        st.threads += 1;
                        st.readers += 1;
                        stalled.push(c.clone());
                    }
                    st.calls_seen = st.calls;
                }
                if conns.is_empty() {
                    MONITOR_IDLE_TICK
                } else {
                    MONITOR_TICK
                }
            };
            for c in stalled {
                self.spawn_conn_thread(c);
            }
            std::thread::sleep(tick);
        }
    }

    fn serve_udp(&self, l: &Listener) {
        let Listener::Udp(sock) = l else { return };
        let local = sock.local_addr().ok();
        // A fallback in case a wake-up datagram from `stop` is lost.
        let _ = sock.set_read_timeout(Some(Duration::from_millis(500)));
        let mut buf = vec![0u8; 65536];
        while !self.inner.stopping.load(Ordering::SeqCst) {
            let (n, from) = match sock.recv_from(&mut buf) {
                Ok(got) => got,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::Interrupted
                            | std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    continue
                }
                Err(_) if self.inner.stopping.load(Ordering::SeqCst) => return,
                Err(_) => {
                    std::thread::sleep(Duration::from_millis(1));
                    continue;
                }
            };
            if n == 0 && self.inner.stopping.load(Ordering::SeqCst) {
                return;
            }
            let local = local.map(|l| local_for(l, from));
            let peer = Peer::Udp(from);
            if let Some(reply) =
                self.dispatch(&buf[..n], &peer, &ClientKey::Addr(from), local, None)
            {
                let mut record = reply.to_record();
                recycle(reply.results);
                if record.len() - 4 > MAX_UDP_MESSAGE {
                    record = ReplyHeader::accepted(xid_of(&record[4..]), AcceptStat::SystemErr)
                        .to_record(&[]);
                }
                let _ = sock.send_to(&record[4..], from);
            }
        }
    }

    /// Answers one call message: the reply framed as a record (UDP sends
    /// it without the 4-byte mark), or None to send nothing.
    fn dispatch(
        &self,
        msg: &[u8],
        peer: &Peer,
        client: &ClientKey,
        local: Option<SocketAddr>,
        peer_credentials: Option<PeerCredentials>,
    ) -> Option<Reply> {
        let call = match decode_call(msg) {
            Ok(call) => call,
            Err(BadCall::Deny { xid, stat }) => return Some(ReplyHeader::denied(xid, stat).into()),
            Err(BadCall::NotACall { .. }) | Err(BadCall::Unreadable(_)) => return None,
        };
        let h = &call.header;
        let mut drc = lock(&self.inner.drc);
        let key = drc.as_mut().map(|cache| {
            let key = RequestKey {
                xid: h.xid,
                client: client.clone(),
                prog: h.prog,
                vers: h.vers,
                procedure: h.procedure,
                checksum: checksum(call.args),
            };
            (cache.begin(&key), key)
        });
        drop(drc);
        let key = match key {
            Some((Lookup::Done(reply), _)) => return Some(Reply::cached(reply)),
            Some((Lookup::InProgress, _)) => return None,
            Some((Lookup::New, key)) => Some(key),
            None => None,
        };
        let info = CallInfo {
            xid: h.xid,
            prog: h.prog,
            vers: h.vers,
            procedure: h.procedure,
            cred: call.cred.clone(),
            peer: peer.clone(),
            local,
            peer_credentials,
        };
        let reply = self.run(&info, call.args);
        if let (Some(key), Some(cache)) = (key, lock(&self.inner.drc).as_mut()) {
            match &reply {
                Some(reply) => cache.finish(&key, &reply.to_record()),
                None => cache.abandon(&key),
            }
        }
        reply
    }

    fn run(&self, info: &CallInfo, args: &[u8]) -> Option<Reply> {
        let handler = {
            let programs = self
                .inner
                .programs
                .read()
                .unwrap_or_else(|p| p.into_inner());
            let Some(versions) = programs.get(&info.prog) else {
                return Some(ReplyHeader::accepted(info.xid, AcceptStat::ProgUnavail).into());
            };
            let Some(procs) = versions.get(&info.vers) else {
                let low = versions.keys().next().copied().unwrap_or(0);
                let high = versions.keys().next_back().copied().unwrap_or(0);
                return Some(
                    ReplyHeader::accepted(info.xid, AcceptStat::ProgMismatch { low, high }).into(),
                );
            };
            match procs.get(&info.procedure) {
                Some(h) => h.clone(),
                None if info.procedure == 0 => {
                    return Some(ReplyHeader::accepted(info.xid, AcceptStat::Success).into())
                }
                None => {
                    return Some(ReplyHeader::accepted(info.xid, AcceptStat::ProcUnavail).into())
                }
            }
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| handler(info, args)));
        let stat = match outcome {
            Ok(Ok(Outcome::Results(results))) => return Some(Reply::success(info.xid, results)),
            Ok(Ok(Outcome::NoReply)) => return None,
            // Arguments that are malformed or exceed a decoding limit.
            Ok(Err(Error::GarbageArgs | Error::Xdr { .. } | Error::Limit { .. })) => {
                AcceptStat::GarbageArgs
            }
            Ok(Err(Error::ProgUnavail)) => AcceptStat::ProgUnavail,
            Ok(Err(Error::ProgMismatch { low, high })) => AcceptStat::ProgMismatch { low, high },
            Ok(Err(Error::ProcUnavail)) => AcceptStat::ProcUnavail,
            Ok(Err(_)) | Err(_) => AcceptStat::SystemErr,
        };
        Some(ReplyHeader::accepted(info.xid, stat).into())
    }

    /// Registers every program version on every TCP and UDP listener:
    /// IPv4 ones through portmap v2 (which every rpcbind speaks), IPv6 ones
    /// as "tcp6"/"udp6" through rpcbind v4 (or v3).
    fn register_with_rpcbind(&self, listeners: &[Arc<Listener>]) {
        use super::rpcbind::{format_uaddr, netid_for, Rpcb};
        let addrs: Vec<(Protocol, SocketAddr)> = listeners
            .iter()
            .filter_map(|l| match &**l {
                Listener::Tcp(l) => l.local_addr().ok().map(|a| (Protocol::Tcp, a)),
                Listener::Udp(s) => s.local_addr().ok().map(|a| (Protocol::Udp, a)),
                Listener::Unix(..) => None,
            })
            .collect();
        if addrs.is_empty() {
            return;
        }
        let versions: Vec<(u32, u32)> = {
            let programs = self
                .inner
                .programs
                .read()
                .unwrap_or_else(|p| p.into_inner());
            programs
                .iter()
                .flat_map(|(p, vs)| vs.keys().map(move |v| (*p, *v)))
                .collect()
        };
        let Ok(pm) = super::rpcbind::Rpcbind::local() else {
            return; // no directory on this machine: nothing to do
        };
        let mut done = lock(&self.inner.registered);
        for &(prog, vers) in &versions {
            let _ = pm.unset(prog, vers);
            for &(proto, addr) in &addrs {
                let set = if addr.is_ipv4() {
                    pm.set(prog, vers, proto, addr.port())
                } else {
                    let entry = Rpcb {
                        prog,
                        vers,
                        netid: netid_for(proto, true).into(),
                        addr: format_uaddr(addr),
                        owner: String::new(),
                    };
                    let _ = pm.rpcb_unset(4, &entry);
                    pm.rpcb_set(4, &entry).or_else(|_| pm.rpcb_set(3, &entry))
                };
                if let Ok(true) = set {
                    done.push((prog, vers, addr.is_ipv6()));
                }
            }
        }
        done.dedup();
    }

    fn unregister_from_rpcbind(&self) {
        let done = std::mem::take(&mut *lock(&self.inner.registered));
        if done.is_empty() {
            return;
        }
        if let Ok(pm) = super::rpcbind::Rpcbind::local() {
            for (prog, vers, six) in done {
                if six {
                    let every = super::rpcbind::Rpcb {
                        prog,
                        vers,
                        netid: String::new(),
                        addr: String::new(),
                        owner: String::new(),
                    };
                    let _ = pm.rpcb_unset(4, &every);
                } else {
                    let _ = pm.unset(prog, vers);
                }
            }
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        for l in self
            .active
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            if let Listener::Unix(_, path) = &**l {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

enum Stream {
    Tcp(TcpStream, SocketAddr),
    Unix(UnixStream),
}

impl Stream {
    /// Bounds reads and writes by the idle timeout: a client that sends
    /// nothing, or reads none of its replies, for that long is dropped.
    fn set_timeouts(&self, idle: Duration) {
        // `Duration::MAX` is no limit at all.
        let idle = Some(idle).filter(|d| *d != Duration::MAX);
        let _ = match self {
            Stream::Tcp(s, _) => s
                .set_read_timeout(idle)
                .and_then(|()| s.set_write_timeout(idle)),
            Stream::Unix(s) => s
                .set_read_timeout(idle)
                .and_then(|()| s.set_write_timeout(idle)),
        };
    }

    /// Ends reading: a blocked reader wakes up; replies can still be sent.
    fn shutdown_read(&self) {
        let _ = match self {
            Stream::Tcp(s, _) => s.shutdown(Shutdown::Read),
            Stream::Unix(s) => s.shutdown(Shutdown::Read),
        };
    }
}

/// The read side of a connection's socket, shared with its writers.
struct SharedStream(Arc<Stream>);

impl Read for SharedStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match &*self.0 {
            Stream::Tcp(s, _) => (&mut &*s).read(buf),
            Stream::Unix(s) => (&mut &*s).read(buf),
        }
    }
}

/// A stream connection and the threads serving it.
struct Connection {
    id: u64,
    stream: Arc<Stream>,
    /// Held by the one thread reading a call.
    reader: Mutex<BufReader<SharedStream>>,
    /// Held while replies are written, so they never interleave; holds
    /// small replies whose sending waits for the call read behind them.
    writer: Mutex<Vec<u8>>,
    state: Mutex<ConnState>,
    peer: Peer,
    client: ClientKey,
    local: Option<SocketAddr>,
    peer_credentials: Option<PeerCredentials>,
    limits: RecordLimits,
}

/// Who does what on a connection.
#[derive(Default)]
struct ConnState {
    /// Threads serving the connection.
    threads: usize,
    /// Threads reading or about to read (at most one).
    readers: usize,
    /// Calls being handled.
    handling: usize,
    /// Calls read so far, and that count when the monitor last looked.
    calls: u64,
    calls_seen: u64,
    /// Reading has ended (peer gone, idle, bad record or stop).
    closed: bool,
}

impl Connection {
    /// Sends one reply record, with the replies held before it; false when
    /// the peer is gone. With `more` (another call is already buffered) a
    /// small reply is held, so the replies of pipelined calls go out
    /// together in one system call. Only the connection's sole thread
    /// holds replies: it sends them before it next waits to read, and a
    /// thread the monitor adds sends them before it reads.
    fn send(&self, reply: &Reply, more: bool) -> bool {
        let mut held = lock(&self.writer);
        if more
            && reply.results.is_empty()
            && held.len() + reply.head.len() <= HOLD_REPLIES
            && lock(&self.state).threads == 1
        {
            held.extend_from_slice(&reply.head);
            return true;
        }
        let sent = if held.is_empty() {
            self.write(|w| reply.write_to(w))
        } else if reply.results.is_empty() {
            held.extend_from_slice(&reply.head);
            self.write(|w| w.write_all(&held))
        } else {
            self.write(|w| w.write_all(&held).and_then(|()| reply.write_to(w)))
        };
        held.clear();
        sent
    }

    /// Sends the replies held; false when the peer is gone.
    fn flush(&self) -> bool {
        let mut held = lock(&self.writer);
        if held.is_empty() {
            return true;
        }
        let sent = self.write(|w| w.write_all(&held));
        held.clear();
        sent
    }

    fn write(&self, f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> bool {
        match &*self.stream {
            Stream::Tcp(s, _) => f(&mut &*s).is_ok(),
            Stream::Unix(s) => f(&mut &*s).is_ok(),
        }
    }
}

/// A connection's read buffer: room for hundreds of pipelined small calls,
/// while most of a large call bypasses it (read straight into its message).
const READ_BUFFER: usize = 16 << 10;

/// The largest buffer a thread keeps for reuse.
const REUSE_AT_MOST: usize = 4 << 20;

thread_local! {
    /// A results buffer this thread has finished with.
    static SPARE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// An empty buffer for a handler's results: the one this thread used last
/// when there is one (its pages are already in memory; a fresh large
/// buffer costs a page fault every 4 KiB as it is filled).
pub(crate) fn reusable_buffer() -> Vec<u8> {
    SPARE.with(|s| std::mem::take(&mut *s.borrow_mut()))
}

/// Keeps `buf` for this thread's next [`reusable_buffer`].
fn recycle(mut buf: Vec<u8>) {
    if buf.capacity() <= REUSE_AT_MOST {
        buf.clear();
        SPARE.with(|s| {
            let mut spare = s.borrow_mut();
            if buf.capacity() > spare.capacity() {
                *spare = buf;
            }
        });
    }
}

/// Results at most this long are copied behind the reply header, so the
/// reply goes out in one plain write; longer ones are written from where
/// the handler left them (a vectored write, no copy).
const COPY_RESULTS_BELOW: usize = 1024;

/// Small replies held back to go out with the next (see `Connection::send`)
/// add up to at most this many bytes.
const HOLD_REPLIES: usize = 8 << 10;

/// A reply ready to send: the record mark and the reply header, then the
/// results.
struct Reply {
    head: Vec<u8>,
    results: Vec<u8>,
}

impl From<ReplyHeader> for Reply {
    fn from(header: ReplyHeader) -> Reply {
        Reply {
            head: header.to_record(&[]),
            results: Vec::new(),
        }
    }
}

impl Reply {
    /// A SUCCESS reply carrying `results`.
    fn success(xid: u32, results: Vec<u8>) -> Reply {
        let header = ReplyHeader::accepted(xid, AcceptStat::Success);
        if results.len() < COPY_RESULTS_BELOW {
            let head = header.to_record(&results);
            recycle(results);
            return Reply {
                head,
                results: Vec::new(),
            };
        }
        let mut head = header.to_record(&[]);
        let len = (head.len() - 4 + results.len()) as u32 | LAST_FRAGMENT;
        head[..4].copy_from_slice(&len.to_be_bytes());
        Reply { head, results }
    }

    /// A whole record from the duplicate-request cache.
    fn cached(record: Vec<u8>) -> Reply {
        Reply {
            head: record,
            results: Vec::new(),
        }
    }

    /// The record in one buffer (for UDP and the cache).
    fn to_record(&self) -> Vec<u8> {
        let mut record = Vec::with_capacity(self.head.len() + self.results.len());
        record.extend_from_slice(&self.head);
        record.extend_from_slice(&self.results);
        record
    }

    fn write_to<W: Write + ?Sized>(&self, w: &mut W) -> std::io::Result<()> {
        write_parts(w, &self.head, &self.results)
    }
}

thread_local! {
    /// The server (its `Inner` address) a connection thread works for, so
    /// `stop` called from a handler does not wait for its own thread.
    static SERVING: Cell<usize> = const { Cell::new(0) };
}

fn accept(l: &Listener) -> std::io::Result<Stream> {
    match l {
        Listener::Tcp(l) => l.accept().map(|(s, a)| Stream::Tcp(s, a)),
        Listener::Unix(l, _) => l.accept().map(|(s, _)| Stream::Unix(s)),
        Listener::Udp(_) => unreachable!("UDP sockets are not accepted on"),
    }
}

fn listener_fd(l: &Listener) -> std::os::fd::BorrowedFd<'_> {
    use std::os::fd::AsFd;
    match l {
        Listener::Tcp(l) => l.as_fd(),
        Listener::Unix(l, _) => l.as_fd(),
        Listener::Udp(s) => s.as_fd(),
    }
}

/// A descriptor held in reserve, freed to accept (and close) a connection
/// when the process has no other.
fn reserve_descriptor() -> Option<std::fs::File> {
    std::fs::File::open("/dev/null").ok()
}

/// Binds a Unix stream socket at `path` with exactly `mode` permissions.
fn bind_unix(path: &Path, mode: u32) -> Result<UnixListener> {
    use nix::sys::socket::{
        bind, listen, socket, AddressFamily, Backlog, SockFlag, SockType, UnixAddr,
    };
    use nix::sys::stat::{fchmod, Mode};
    let what = || format!("bind {}", path.display());
    let perms = Mode::from_bits_truncate(mode as libc::mode_t);
    let fd: OwnedFd = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|e| Error::nix(what(), e))?;
    // The file bind(2) makes takes the socket's mode less the umask: set
    // it first so the file is never more open than `mode`, then exactly.
    fchmod(&fd, perms).map_err(|e| Error::nix(what(), e))?;
    let addr = UnixAddr::new(path).map_err(|e| Error::nix(what(), e))?;
    bind(fd.as_raw_fd(), &addr).map_err(|e| Error::nix(what(), e))?;
    let made = std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode))
        .map_err(|e| Error::os(format!("chmod {}", path.display()), e))
        .and_then(|()| {
            listen(&fd, Backlog::new(1024).unwrap_or(Backlog::MAXCONN))
                .map_err(|e| Error::nix(format!("listen on {}", path.display()), e))
        });
    if let Err(e) = made {
        let _ = std::fs::remove_file(path);
        return Err(e);
    }
    Ok(UnixListener::from(fd))
}

/// Wakes the threads receiving on `sock` (which check the stop flag) with
/// empty datagrams sent to it.
fn wake_udp(sock: &UdpSocket) {
    let Ok(mut to) = sock.local_addr() else {
        return;
    };
    if to.ip().is_unspecified() {
        to.set_ip(match to {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    for _ in 0..UDP_THREADS {
        let _ = sock.send_to(&[], to);
    }
}

fn xid_of(msg: &[u8]) -> u32 {
    msg.get(..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .unwrap_or(0)
}

/// The address a caller reached: the bound one, or loopback for a local
/// caller of a wildcard-bound socket.
fn local_for(bound: SocketAddr, from: SocketAddr) -> SocketAddr {
    if bound.ip().is_unspecified() && from.ip().is_loopback() {
        SocketAddr::new(from.ip(), bound.port())
    } else {
        bound
    }
}
