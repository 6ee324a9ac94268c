//! The RPC server: handlers per (program, version, procedure), served on any
//! mix of TCP, UDP and Unix listeners.
//!
//! Concurrency model: one thread per stream connection (small stacks), which
//! reads a call, runs its handler and writes the reply, and several threads
//! per UDP socket. Blocking threads keep a handler's latency free of any
//! hand-off and let handlers block without starving others; Linux runs
//! thousands of such threads comfortably, so 1,000 connections are 1,000
//! mostly-sleeping threads. Calls on different connections run concurrently.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use super::auth::Credential;
use super::client::{lock, resolve, Protocol, MAX_UDP_MESSAGE};
use super::drc::{checksum, ClientKey, DuplicateCache, Lookup, RequestKey};
use super::message::{decode_call, AcceptStat, BadCall, ReplyHeader};
use crate::stream::record::{read_record, RecordLimits};
use crate::{Error, Result};

/// Who called.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Peer {
    Tcp(SocketAddr),
    Udp(SocketAddr),
    /// A Unix-socket connection, numbered by the server.
    Unix(u64),
}

/// What a handler learns about the call it serves.
#[derive(Clone, Debug)]
pub struct CallInfo {
    pub xid: u32,
    pub prog: u32,
    pub vers: u32,
    pub procedure: u32,
    /// The caller's credential (AUTH_NONE or AUTH_SYS).
    pub cred: Credential,
    pub peer: Peer,
    /// The server-side address the call came in on, when known.
    pub local: Option<SocketAddr>,
}

/// A procedure's implementation: given the call and its XDR argument bytes,
/// the XDR result bytes. `Err(Error::GarbageArgs)` (or an XDR or limit error
/// from decoding the arguments) answers GARBAGE_ARGS, any other error (or a
/// panic) SYSTEM_ERR.
pub type Handler = dyn Fn(&CallInfo, &[u8]) -> Result<Vec<u8>> + Send + Sync;

type Programs = HashMap<u32, BTreeMap<u32, HashMap<u32, Arc<Handler>>>>;

/// Default idle-connection timeout.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// Threads that receive on each UDP socket.
const UDP_THREADS: usize = 4;
/// Stack of a connection thread (handlers run on it).
const CONN_STACK: usize = 256 << 10;

enum Listener {
    Tcp(TcpListener),
    Udp(UdpSocket),
    Unix(UnixListener, PathBuf),
}

struct Connection {
    shutdown: Box<dyn Fn() + Send>,
    thread: Option<JoinHandle<()>>,
}

struct Inner {
    programs: RwLock<Programs>,
    pending: Mutex<Vec<Arc<Listener>>>,
    active: Mutex<Vec<Arc<Listener>>>,
    listener_threads: Mutex<Vec<JoinHandle<()>>>,
    connections: Mutex<HashMap<u64, Connection>>,
    next_conn: AtomicU64,
    started: AtomicBool,
    stopping: AtomicBool,
    stopped: (Mutex<bool>, Condvar),
    idle_timeout: Mutex<Duration>,
    max_message: Mutex<usize>,
    drc: Mutex<Option<DuplicateCache>>,
    use_rpcbind: AtomicBool,
    per_connection: AtomicUsize,
    registered: Mutex<Vec<(u32, u32)>>,
}

/// An ONC RPC server. Cheap to clone: clones share one server.
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
    pub fn new() -> Server {
        Server {
            inner: Arc::new(Inner {
                programs: RwLock::new(HashMap::new()),
                pending: Mutex::new(Vec::new()),
                active: Mutex::new(Vec::new()),
                listener_threads: Mutex::new(Vec::new()),
                connections: Mutex::new(HashMap::new()),
                next_conn: AtomicU64::new(1),
                started: AtomicBool::new(false),
                stopping: AtomicBool::new(false),
                stopped: (Mutex::new(false), Condvar::new()),
                idle_timeout: Mutex::new(DEFAULT_IDLE_TIMEOUT),
                max_message: Mutex::new(crate::stream::record::DEFAULT_MAX_RECORD),
                drc: Mutex::new(None),
                use_rpcbind: AtomicBool::new(true),
                per_connection: AtomicUsize::new(1),
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

    /// Closes stream connections idle for this long (default 120 s).
    pub fn set_idle_timeout(&self, timeout: Duration) {
        *lock(&self.inner.idle_timeout) = timeout.max(Duration::from_millis(1));
    }

    /// Largest call accepted on a stream (default 4 MiB); bigger records
    /// close the connection. UDP is bounded by the datagram size.
    pub fn set_max_message(&self, bytes: usize) {
        *lock(&self.inner.max_message) = bytes;
    }

    /// Keeps the replies of the last `entries` calls so retransmissions are
    /// answered from the cache (0, the default, turns the cache off).
    pub fn set_duplicate_cache(&self, entries: usize) {
        *lock(&self.inner.drc) = (entries > 0).then(|| DuplicateCache::new(entries));
    }

    /// How many calls of one stream connection may run at once (default
    /// 1: in order, as libtirpc does, which batched calls rely on). Above 1,
    /// calls a client pipelines on one connection run concurrently and their
    /// replies go out as they finish.
    pub fn set_concurrent_calls_per_connection(&self, calls: usize) {
        self.inner
            .per_connection
            .store(calls.max(1), Ordering::Relaxed);
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

    /// Listens on a Unix stream socket at `path` (which must not exist);
    /// the file is removed on `stop`.
    pub fn listen_unix(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let l = UnixListener::bind(path)
            .map_err(|e| Error::os(format!("bind {}", path.display()), e))?;
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

    /// Starts (if needed) and blocks until [`stop`](Self::stop) is called.
    pub fn serve_forever(&self) -> Result<()> {
        self.start()?;
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
        let connections = std::mem::take(&mut *lock(&self.inner.connections));
        for c in connections.values() {
            (c.shutdown)();
        }
        // A handler may call stop: its own thread is not waited for.
        let me = std::thread::current().id();
        for (_, mut c) in connections {
            if let Some(t) = c.thread.take() {
                if t.thread().id() != me {
                    let _ = t.join();
                }
            }
        }
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
                let server = self.clone();
                threads.push(std::thread::spawn(move || server.accept_loop(&l)));
            }
        }
    }

    fn accept_loop(&self, l: &Listener) {
        loop {
            let accepted = match l {
                Listener::Tcp(l) => l.accept().map(|(s, a)| Stream::Tcp(s, a)),
                Listener::Unix(l, _) => l.accept().map(|(s, _)| Stream::Unix(s)),
                Listener::Udp(_) => unreachable!("UDP sockets are not accepted on"),
            };
            if self.inner.stopping.load(Ordering::SeqCst) {
                return;
            }
            match accepted {
                Ok(stream) => self.spawn_connection(stream),
                // Out of descriptors or a connection reset before accept:
                // back off briefly and go on.
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    }

    fn spawn_connection(&self, stream: Stream) {
        let id = self.inner.next_conn.fetch_add(1, Ordering::Relaxed);
        let shutdown: Box<dyn Fn() + Send> = match stream.try_clone() {
            Ok(Stream::Tcp(s, _)) => Box::new(move || {
                let _ = s.shutdown(Shutdown::Read);
            }),
            Ok(Stream::Unix(s)) => Box::new(move || {
                let _ = s.shutdown(Shutdown::Read);
            }),
            Err(_) => return,
        };
        let mut conns = lock(&self.inner.connections);
        let server = self.clone();
        let spawned = std::thread::Builder::new()
            .name("xipc-rpc-conn".into())
            .stack_size(CONN_STACK)
            .spawn(move || {
                server.serve_stream(stream, id);
                lock(&server.inner.connections).remove(&id);
            });
        if let Ok(thread) = spawned {
            conns.insert(
                id,
                Connection {
                    shutdown,
                    thread: Some(thread),
                },
            );
        }
    }

    fn serve_stream(&self, stream: Stream, id: u64) {
        let idle = *lock(&self.inner.idle_timeout);
        let limits = RecordLimits {
            max_record: *lock(&self.inner.max_message),
            ..RecordLimits::default()
        };
        let (peer, client, local) = match &stream {
            Stream::Tcp(s, addr) => (
                Peer::Tcp(*addr),
                ClientKey::Addr(*addr),
                s.local_addr().ok(),
            ),
            Stream::Unix(_) => (Peer::Unix(id), ClientKey::Connection(id), None),
        };
        match stream {
            Stream::Tcp(s, _) => {
                let _ = s.set_nodelay(true);
                let _ = s.set_read_timeout(Some(idle));
                if let Ok(r) = s.try_clone() {
                    self.serve_records(r, s, limits, &peer, &client, local);
                }
            }
            Stream::Unix(s) => {
                let _ = s.set_read_timeout(Some(idle));
                if let Ok(r) = s.try_clone() {
                    self.serve_records(r, s, limits, &peer, &client, local);
                }
            }
        }
    }

    /// Reads calls and writes replies until the connection ends; any error
    /// (idle timeout, hostile record length, peer gone) closes it.
    fn serve_records<R: Read, W: Write + Send>(
        &self,
        reader: R,
        writer: W,
        limits: RecordLimits,
        peer: &Peer,
        client: &ClientKey,
        local: Option<SocketAddr>,
    ) {
        let mut reader = BufReader::with_capacity(64 << 10, reader);
        let writer = Mutex::new(writer);
        let send = |record: &[u8]| lock(&writer).write_all(record).is_ok();
        let in_flight = AtomicUsize::new(0);
        let per_connection = self.inner.per_connection.load(Ordering::Relaxed);
        std::thread::scope(|scope| {
            let mut msg = Vec::new();
            while let Ok(true) = read_record(&mut reader, &mut msg, limits) {
                // With concurrency allowed, when another call already waits
                // behind this one (a client with several calls in flight),
                // this one runs on a thread of its own so they proceed
                // together; a lone call runs here, with no hand-off.
                let pipelined = !reader.buffer().is_empty()
                    && in_flight.load(Ordering::Relaxed) + 1 < per_connection;
                if pipelined {
                    let call = std::mem::take(&mut msg);
                    in_flight.fetch_add(1, Ordering::Relaxed);
                    let (send, in_flight) = (&send, &in_flight);
                    let worker = move || {
                        if let Some(record) = self.dispatch(&call, peer, client, local) {
                            send(&record);
                        }
                        in_flight.fetch_sub(1, Ordering::Relaxed);
                    };
                    let spawned = std::thread::Builder::new()
                        .name("xipc-rpc-call".into())
                        .stack_size(CONN_STACK)
                        .spawn_scoped(scope, worker);
                    if spawned.is_err() {
                        // Out of threads: the call is dropped and its client
                        // times out (or retransmits), as after a lost datagram.
                        in_flight.fetch_sub(1, Ordering::Relaxed);
                    }
                } else if let Some(record) = self.dispatch(&msg, peer, client, local) {
                    if !send(&record) {
                        break;
                    }
                }
            }
        });
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
            if let Some(mut record) = self.dispatch(&buf[..n], &peer, &ClientKey::Addr(from), local)
            {
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
    ) -> Option<Vec<u8>> {
        let call = match decode_call(msg) {
            Ok(call) => call,
            Err(BadCall::Deny { xid, stat }) => {
                return Some(ReplyHeader::denied(xid, stat).to_record(&[]))
            }
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
            Some((Lookup::Done(reply), _)) => return Some(reply),
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
        };
        let reply = self.run(&info, call.args);
        if let (Some(key), Some(cache)) = (key, lock(&self.inner.drc).as_mut()) {
            cache.finish(&key, &reply);
        }
        Some(reply)
    }

    fn run(&self, info: &CallInfo, args: &[u8]) -> Vec<u8> {
        let handler = {
            let programs = self
                .inner
                .programs
                .read()
                .unwrap_or_else(|p| p.into_inner());
            let Some(versions) = programs.get(&info.prog) else {
                return ReplyHeader::accepted(info.xid, AcceptStat::ProgUnavail).to_record(&[]);
            };
            let Some(procs) = versions.get(&info.vers) else {
                let low = versions.keys().next().copied().unwrap_or(0);
                let high = versions.keys().next_back().copied().unwrap_or(0);
                return ReplyHeader::accepted(info.xid, AcceptStat::ProgMismatch { low, high })
                    .to_record(&[]);
            };
            match procs.get(&info.procedure) {
                Some(h) => h.clone(),
                None if info.procedure == 0 => {
                    return ReplyHeader::accepted(info.xid, AcceptStat::Success).to_record(&[])
                }
                None => {
                    return ReplyHeader::accepted(info.xid, AcceptStat::ProcUnavail).to_record(&[])
                }
            }
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| handler(info, args)));
        let stat = match outcome {
            Ok(Ok(results)) => {
                return ReplyHeader::accepted(info.xid, AcceptStat::Success).to_record(&results)
            }
            // Arguments that are malformed or exceed a decoding limit.
            Ok(Err(Error::GarbageArgs | Error::Xdr { .. } | Error::Limit { .. })) => {
                AcceptStat::GarbageArgs
            }
            Ok(Err(_)) | Err(_) => AcceptStat::SystemErr,
        };
        ReplyHeader::accepted(info.xid, stat).to_record(&[])
    }

    fn register_with_rpcbind(&self, listeners: &[Arc<Listener>]) {
        let ports: Vec<(Protocol, u16)> = listeners
            .iter()
            .filter_map(|l| match &**l {
                Listener::Tcp(l) => l.local_addr().ok().map(|a| (Protocol::Tcp, a.port())),
                Listener::Udp(s) => s.local_addr().ok().map(|a| (Protocol::Udp, a.port())),
                Listener::Unix(..) => None,
            })
            .collect();
        if ports.is_empty() {
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
            for &(proto, port) in &ports {
                if let Ok(true) = pm.set(prog, vers, proto, port) {
                    done.push((prog, vers));
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
            for (prog, vers) in done {
                let _ = pm.unset(prog, vers);
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
    fn try_clone(&self) -> std::io::Result<Stream> {
        Ok(match self {
            Stream::Tcp(s, a) => Stream::Tcp(s.try_clone()?, *a),
            Stream::Unix(s) => Stream::Unix(s.try_clone()?),
        })
    }
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
