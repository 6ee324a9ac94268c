//! The RPC service runtime: handlers per (program, version, procedure),
//! served on any mix of TCP, UDP and Unix listeners by an event loop.
//!
//! [`Service`] is the runtime alone. [`crate::rpc::Server`] is a `Service`
//! that also registers its programs with the local rpcbind while it runs,
//! which is what most programs want; rpcbind's own embedded server is a
//! plain `Service`.
//!
//! How it serves (see the engine's notes for more): every idle thread of a
//! bounded pool waits on one epoll set; the thread a ready connection wakes
//! reads its calls, runs the first itself (so a lone caller's call changes
//! threads nowhere) and queues the others for the rest of the pool; a
//! reply goes out from the thread that made it, and replies finished
//! together leave in one vectored write. Idle connections cost a
//! descriptor and a few hundred bytes, no thread; an idle server makes no
//! wake-ups. Handlers may block: the pool grows (up to its maximum) so one
//! thread always waits for new work.

mod conn;
mod dispatch;
mod engine;
mod stay;
mod udp;

pub(crate) use dispatch::Answer;
pub use dispatch::{CallInfo, Caller, Dispatcher, Handler, Peer};
pub use engine::{
    DEFAULT_CALLS_PER_CONNECTION, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_THREADS, DEFAULT_MIN_THREADS, DEFAULT_STACK_SIZE, MIN_STACK_SIZE,
    TLS_HANDSHAKE_TIMEOUT,
};

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use engine::Engine;

use crate::net::{self, TlsConfig};
use crate::rpc::protocol::Protocol;
use crate::sync::lock;
use crate::xdr::Encoder;
use crate::{Error, Result};

/// Default permissions of a Unix socket made by [`Service::listen_unix`].
pub const DEFAULT_UNIX_MODE: u32 = 0o600;

/// An ONC RPC service runtime. Cheap to clone: clones share one service,
/// which stops when [`stop`](Self::stop) is called or the last clone goes.
///
/// Unlike a [`Client`](crate::rpc::Client) or a stream, a service has no
/// descriptor (no `AsRawFd`): it serves every listener and connection on its
/// own threads, which wait on one epoll set of their own, so no single
/// descriptor tells the caller when there is work to do.
/// [`serve_forever`](Self::serve_forever) is what waits for a service.
///
/// ```
/// use xipc::rpc::svc::Service;
/// use xipc::rpc::{Client, Protocol};
///
/// let service = Service::new();
/// service.register(0x2000_0105, 1, 1, |_call, args, out| {
///     out.put_raw(args); // echo
///     Ok(())
/// });
/// let port = service.listen_tcp("127.0.0.1", 0)?;
/// service.start()?;
/// let client = Client::connect("127.0.0.1", port, 0x2000_0105, 1, Protocol::Tcp)?;
/// assert_eq!(client.call(1, &[0, 0, 0, 9])?, [0, 0, 0, 9]);
/// service.stop();
/// # Ok::<(), xipc::Error>(())
/// ```
#[derive(Clone)]
pub struct Service {
    engine: Arc<Engine>,
    /// Shared by the clones only (not by the pool's threads): when the last
    /// clone goes, the service stops.
    _owner: Arc<Owner>,
}

struct Owner(Arc<Engine>);

impl Drop for Owner {
    fn drop(&mut self) {
        self.0.stop();
    }
}

impl Default for Service {
    fn default() -> Self {
        Service::new()
    }
}

impl Service {
    /// A service with no programs and no listeners: [`register`](Self::register)
    /// handlers, add listeners, then [`start`](Self::start) it.
    pub fn new() -> Service {
        let engine = Arc::new(Engine::new());
        Service {
            _owner: Arc::new(Owner(engine.clone())),
            engine,
        }
    }

    /// What answers the calls: the programs registered and the
    /// duplicate-request cache.
    pub fn dispatcher(&self) -> &Dispatcher {
        &self.engine.dispatcher
    }

    /// Serves `procedure` of `prog` version `vers` with `handler`
    /// (replacing an earlier one), which appends the results to the
    /// encoder it is given (see [`Handler`]). Procedure 0 answers on its
    /// own unless registered.
    pub fn register<F>(&self, prog: u32, vers: u32, procedure: u32, handler: F)
    where
        F: Fn(&CallInfo, &[u8], &mut Encoder) -> Result<()> + Send + Sync + 'static,
    {
        self.engine
            .dispatcher
            .register(prog, vers, procedure, handler);
    }

    /// Closes stream connections idle for this long (default 120 s; `None`:
    /// never; a timeout under 1 ms counts as 1 ms): no call arrives, or a
    /// reply being written makes no progress (the client reads none of
    /// it), for that long. Zero is refused ([`Error::InvalidArgument`]): it
    /// would close every connection at once.
    pub fn set_idle_timeout(&self, timeout: Option<Duration>) -> Result<()> {
        if timeout.is_some_and(|t| t.is_zero()) {
            return Err(Error::InvalidArgument(
                "the idle timeout must be positive".into(),
            ));
        }
        *lock(&self.engine.settings.idle_timeout) =
            timeout.map(|t| t.max(Duration::from_millis(1)));
        Ok(())
    }

    /// Largest call accepted on a stream (default 4 MiB); a bigger record
    /// ends its connection once the calls before it are answered. UDP is
    /// bounded by the datagram size. Zero is refused
    /// ([`Error::InvalidArgument`]): no call would fit.
    pub fn set_max_message_size(&self, bytes: usize) -> Result<()> {
        positive(bytes, "the largest message must be at least 1 byte")?;
        self.engine
            .settings
            .max_message
            .store(bytes, Ordering::Relaxed);
        Ok(())
    }

    /// Keeps the replies of the last `entries` calls so retransmissions are
    /// answered from the cache (0, the default, turns the cache off).
    pub fn set_duplicate_cache(&self, entries: usize) {
        self.engine.dispatcher.set_duplicate_cache(entries);
    }

    /// How many calls of one stream connection may be in flight at once
    /// (default 16). Calls a client has in flight together on one
    /// connection run concurrently and their replies go out as they
    /// finish, so their order of execution is not their order of arrival.
    /// 1 runs them one after another in order, as libtirpc does (batched
    /// calls that depend on each other's effects want that). Zero is
    /// refused ([`Error::InvalidArgument`]): no call could run.
    pub fn set_concurrent_calls_per_connection(&self, calls: usize) -> Result<()> {
        positive(calls, "concurrent calls per connection must be at least 1")?;
        self.engine
            .settings
            .per_connection
            .store(calls, Ordering::Relaxed);
        Ok(())
    }

    /// How many stream connections are served at once (default 65,536).
    /// A connection accepted past the limit is closed at once: its client
    /// sees the connection closed (a clear error, not a hang), and may try
    /// again once others close. Each connection costs one descriptor, so
    /// the process's `RLIMIT_NOFILE` bounds it too. Zero is refused
    /// ([`Error::InvalidArgument`]): no client could connect.
    pub fn set_max_connections(&self, connections: usize) -> Result<()> {
        positive(connections, "the connection limit must be at least 1")?;
        self.engine
            .settings
            .max_connections
            .store(connections, Ordering::Relaxed);
        Ok(())
    }

    /// The pool of threads that wait for work and run handlers: `min` are
    /// started with the service and always kept (default 1); more are
    /// added while handlers run, up to `max` (default 32), and those not
    /// needed for 30 seconds leave again. `max` bounds how many handlers run at once. Refused
    /// ([`Error::InvalidArgument`]) unless 1 ≤ `min` ≤ `max`; takes effect
    /// at [`start`](Self::start) for `min`, at once for `max`.
    pub fn set_threads(&self, min: usize, max: usize) -> Result<()> {
        if min == 0 || min > max {
            return Err(Error::InvalidArgument(format!(
                "threads: need 1 <= min <= max, got min {min} and max {max}"
            )));
        }
        let s = &self.engine.settings;
        s.min_threads.store(min, Ordering::Relaxed);
        s.max_threads.store(max, Ordering::Relaxed);
        Ok(())
    }

    /// Runs `end` on each of the server's threads as it ends (it left the
    /// pool after idling, or the server stopped), after the last handler it
    /// ran; `None` runs nothing (the default). For a language runtime that
    /// keeps per-thread state for handlers, to release it: Python's binding
    /// keeps each thread's interpreter state between calls and gives it
    /// back here. Threads already running run the function set last.
    pub fn on_thread_end(&self, end: Option<Box<dyn Fn() + Send + Sync>>) {
        *lock(&self.engine.settings.thread_end) = end.map(Arc::from);
    }

    /// The stack of each pool thread, where handlers run (default 2 MiB;
    /// at least 64 KiB, else [`Error::InvalidArgument`]). Threads started
    /// later get it.
    pub fn set_thread_stack_size(&self, bytes: usize) -> Result<()> {
        if bytes < MIN_STACK_SIZE {
            return Err(Error::InvalidArgument(format!(
                "a thread stack of {bytes} bytes is under the {MIN_STACK_SIZE}-byte minimum"
            )));
        }
        self.engine
            .settings
            .stack_size
            .store(bytes, Ordering::Relaxed);
        Ok(())
    }

    /// How long a thread that waits for a caller's next call polls the
    /// socket before it sleeps (default 50 µs, or `XIPC_BUSY_POLL_US`
    /// microseconds from the environment; zero: it sleeps at once). A
    /// sleeping thread is woken by the kernel when the call comes, which
    /// costs more than a small call's round trip when caller and server run
    /// on different CPUs (20-25 µs on a virtual machine); polling saves
    /// that while it keeps a CPU busy. Polling happens only where it cannot
    /// keep a CPU from other work: in a process that may run on more than
    /// one CPU, with no handler running, at most one connection open and no
    /// other thread polling (see the RPC guide, "Polling before sleeping").
    /// At most 1 s, else [`Error::InvalidArgument`]; takes effect at once.
    pub fn set_busy_poll(&self, poll: Duration) -> Result<()> {
        let us = crate::net::spin::to_micros(poll)?;
        self.engine
            .settings
            .busy_poll_us
            .store(us, Ordering::Relaxed);
        Ok(())
    }

    /// Listens on TCP `host:port` (port 0 = any); returns the bound port.
    pub fn listen_tcp(&self, host: &str, port: u16) -> Result<u16> {
        self.listen_tcp_with(host, port, None)
    }

    /// Listens on TCP `host:port` for RPC-with-TLS (RFC 9289) with `tls`
    /// (policy `tls` or `mtls`; a certificate and key; under `mtls` also
    /// the CA bundle client certificates chain to): before the TLS
    /// handshake a connection answers only the AUTH_TLS probe, and refuses
    /// any other call with AUTH_ERROR (AUTH_TOOWEAK); a handshake must end
    /// within 10 s (or the idle timeout, if shorter). Handlers see who
    /// called in [`CallInfo::tls_peer`]. Returns the bound port.
    pub fn listen_tcp_tls(&self, host: &str, port: u16, tls: &TlsConfig) -> Result<u16> {
        self.listen_tcp_with(host, port, Some(tls))
    }

    fn listen_tcp_with(&self, host: &str, port: u16, tls: Option<&TlsConfig>) -> Result<u16> {
        let tls = tls.map(TlsConfig::server_tls).transpose()?;
        let l = net::listen_tcp(host, port)?;
        let port = l
            .local_addr()
            .map_err(|e| Error::os("local address", e))?
            .port();
        self.engine.add_tcp(l, tls)?;
        Ok(port)
    }

    /// Listens on UDP `host:port` (port 0 = any); returns the bound port.
    pub fn listen_udp(&self, host: &str, port: u16) -> Result<u16> {
        let s = net::listen_udp(host, port)?;
        let port = s
            .local_addr()
            .map_err(|e| Error::os("local address", e))?
            .port();
        self.engine.add_udp(s)?;
        Ok(port)
    }

    /// Listens on a Unix stream socket at `path`, made with permissions
    /// 0600 (only this user, and root, may connect) whatever the umask; a
    /// socket file left by a server that is gone is replaced, one a server
    /// listens on is [`Error::Exists`]. The file is removed on `stop`.
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
        let (l, file) = net::listen_unix(path, mode)?;
        self.engine.add_unix(l, file, None)
    }

    /// [`listen_unix_with_mode`](Self::listen_unix_with_mode) for
    /// RPC-with-TLS, as [`listen_tcp_tls`](Self::listen_tcp_tls) describes.
    pub fn listen_unix_tls(
        &self,
        path: impl AsRef<Path>,
        mode: u32,
        tls: &TlsConfig,
    ) -> Result<()> {
        let tls = tls.server_tls()?;
        let (l, file) = net::listen_unix(path, mode)?;
        self.engine.add_unix(l, file, Some(tls))
    }

    /// The TCP and UDP addresses the service listens on.
    pub fn addresses(&self) -> Vec<(Protocol, SocketAddr)> {
        self.engine.bound()
    }

    /// Starts serving on the pool's threads.
    pub fn start(&self) -> Result<()> {
        self.engine.start()
    }

    /// Starts (if needed) and blocks until [`stop`](Self::stop) is called
    /// and has finished; returns at once if the service was stopped before.
    pub fn serve_forever(&self) -> Result<()> {
        match self.start() {
            // Stopped before it could start: nothing to serve.
            Err(_) if self.engine.is_stopping() => {}
            other => other?,
        }
        self.engine.wait_stopped();
        Ok(())
    }

    /// Stops gracefully: stops accepting, lets calls being handled finish
    /// and send their replies, closes every connection and waits for the
    /// pool's threads. Called from a handler, it does not wait for that
    /// handler's own call and thread. Later calls do nothing.
    pub fn stop(&self) {
        self.engine.stop();
    }

    /// Whether [`stop`](Self::stop) has been called.
    pub fn is_stopped(&self) -> bool {
        self.engine.is_stopping()
    }

    /// Stream connections open now.
    pub fn connection_count(&self) -> usize {
        self.engine.connection_count()
    }

    /// Threads in the pool now.
    pub fn thread_count(&self) -> usize {
        self.engine.thread_count()
    }
}

fn positive(n: usize, why: &str) -> Result<()> {
    if n == 0 {
        return Err(Error::InvalidArgument(why.into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::sync::mpsc;
    use std::sync::{Condvar, Mutex};
    use std::time::Instant;

    const PROG: u32 = 0x2000_5a5b;

    /// The message of a call of `procedure` (version 1) with no arguments.
    fn call_message(xid: u32, procedure: u32) -> Vec<u8> {
        let mut msg = Vec::new();
        for v in [xid, 0, 2, PROG, 1, procedure, 0, 0, 0, 0] {
            msg.extend(v.to_be_bytes());
        }
        msg
    }

    /// A call of `procedure` with `extra` zero bytes of arguments, as one
    /// record.
    fn call_record(xid: u32, procedure: u32, extra: usize) -> Vec<u8> {
        let mut msg = call_message(xid, procedure);
        msg.resize(msg.len() + extra, 0);
        let mut rec = (0x8000_0000u32 | msg.len() as u32).to_be_bytes().to_vec();
        rec.extend(msg);
        rec
    }

    /// The reply record that comes next on `stream`.
    fn read_reply(stream: &mut TcpStream) -> Vec<u8> {
        let mut head = [0u8; 4];
        stream.read_exact(&mut head).unwrap();
        let len = (u32::from_be_bytes(head) & 0x7fff_ffff) as usize;
        let mut reply = vec![0; len];
        stream.read_exact(&mut reply).unwrap();
        reply
    }

    /// A call of `procedure` with no arguments, and its reply.
    fn call(stream: &mut TcpStream, xid: u32, procedure: u32) -> Vec<u8> {
        stream.write_all(&call_record(xid, procedure, 0)).unwrap();
        read_reply(stream)
    }

    /// `stop` called from a handler waits for the other calls in flight,
    /// though its own call keeps the count of calls (and of connections)
    /// above zero: each call that ends wakes it to look again.
    /// A gate handlers wait at until the test opens it.
    type Gate = Arc<(Mutex<bool>, Condvar)>;

    /// Registers procedure 1: it tells `entries` it has begun, waits at
    /// the gate, then answers 1.
    fn register_gated(s: &Service) -> (Gate, mpsc::Receiver<()>) {
        let gate: Gate = Arc::new((Mutex::new(false), Condvar::new()));
        let (entered, entries) = mpsc::channel::<()>();
        let entered = Mutex::new(entered);
        let g = gate.clone();
        s.register(PROG, 1, 1, move |_, _, out| {
            entered.lock().unwrap().send(()).unwrap();
            let (open, cv) = &*g;
            let mut open = open.lock().unwrap();
            while !*open {
                open = cv.wait(open).unwrap();
            }
            out.put_uint(1);
            Ok(())
        });
        (gate, entries)
    }

    fn open(gate: &Gate) {
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
    }

    #[test]
    fn stop_from_a_handler_waits_for_the_other_calls_and_returns() {
        let s = Service::new();
        let (gate, entries) = register_gated(&s);
        let engine = Arc::downgrade(&s.engine);
        let (stopped, stops) = mpsc::channel::<()>();
        let stopped = Mutex::new(stopped);
        s.register(PROG, 1, 2, move |_, _, _| {
            if let Some(e) = engine.upgrade() {
                e.stop();
            }
            stopped.lock().unwrap().send(()).unwrap();
            Ok(())
        });
        let port = s.listen_tcp("127.0.0.1", 0).unwrap();
        s.start().unwrap();
        let blocked = std::thread::spawn(move || {
            let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
            call(&mut c, 1, 1)
        });
        entries.recv().unwrap();
        let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let stopper = std::thread::spawn(move || {
            let mut msg = Vec::new();
            for v in [0x8000_0028u32, 2, 0, 2, PROG, 1, 2, 0, 0, 0, 0] {
                msg.extend(v.to_be_bytes());
            }
            c.write_all(&msg).unwrap();
            let _ = c.read(&mut [0; 64]);
        });
        // The stop has begun once the listener is gone; then the blocked
        // call is let go, most likely while `stop` waits for it.
        while TcpStream::connect(("127.0.0.1", port)).is_ok() {
            std::thread::yield_now();
        }
        open(&gate);
        let reply = blocked.join().unwrap();
        assert_eq!(&reply[reply.len() - 4..], &1u32.to_be_bytes());
        assert!(
            stops.recv_timeout(Duration::from_secs(10)).is_ok(),
            "stop called from a handler did not return"
        );
        stopper.join().unwrap();
    }

    /// A started service whose threads stay `stay_us` on a socket after a
    /// call, answering procedure 2 with 7, on a UDP or a TCP loopback
    /// socket (`udp`); and its port.
    fn seven_service(stay_us: u64, udp: bool) -> (Service, u16) {
        let s = Service::new();
        s.engine.settings.stay_us.store(stay_us, Ordering::Relaxed);
        s.register(PROG, 1, 2, |_, _, out| {
            out.put_uint(7);
            Ok(())
        });
        let port = match udp {
            true => s.listen_udp("127.0.0.1", 0),
            false => s.listen_tcp("127.0.0.1", 0),
        };
        let port = port.unwrap();
        s.start().unwrap();
        (s, port)
    }

    /// The busy poll a staying read gets is the server's setting, zero for
    /// a read that does not wait or once set to zero, and a setting over
    /// 1 s is refused, leaving the one before.
    #[test]
    fn a_staying_read_polls_for_the_servers_busy_poll() {
        let s = Service::new();
        s.set_busy_poll(Duration::from_micros(80)).unwrap();
        // No connection, no call running, no thread staying.
        assert_eq!(s.engine.spin_for(true), Duration::from_micros(80));
        assert_eq!(s.engine.spin_for(false), Duration::ZERO);
        assert!(matches!(
            s.set_busy_poll(Duration::from_millis(1001)),
            Err(Error::InvalidArgument(_))
        ));
        assert_eq!(s.engine.spin_for(true), Duration::from_micros(80));
        s.set_busy_poll(Duration::ZERO).unwrap();
        assert_eq!(s.engine.spin_for(true), Duration::ZERO);
        // Busy or not, the server answers.
        let (s, port) = seven_service(300_000, false);
        s.set_busy_poll(Duration::ZERO).unwrap();
        let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
        for xid in 1..=3 {
            let reply = call(&mut conn, xid, 2);
            assert_eq!(&reply[reply.len() - 4..], &7u32.to_be_bytes());
        }
        s.stop();
    }

    /// A UDP call of procedure 2 from `socket`, and its reply.
    fn udp_call(socket: &std::net::UdpSocket, xid: u32) -> Vec<u8> {
        socket.send(&call_message(xid, 2)).unwrap();
        let mut reply = vec![0; 512];
        let n = socket.recv(&mut reply).unwrap();
        reply.truncate(n);
        reply
    }

    /// A service with 2 (answers 7) and 3, which blocks until released; a
    /// long stay. Returns it, whether 3 began on a staying thread (as
    /// `staying` tells), the signal that 3 began and its release.
    fn blocking_service(
        staying: fn(&Engine) -> bool,
    ) -> (
        Service,
        Arc<std::sync::atomic::AtomicBool>,
        mpsc::Receiver<()>,
        mpsc::Sender<()>,
    ) {
        let s = Service::new();
        // Long against the test's turn around, short against its stop.
        s.engine.settings.stay_us.store(500_000, Ordering::Relaxed);
        s.register(PROG, 1, 2, |_, _, out| {
            out.put_uint(7);
            Ok(())
        });
        let (entered, entered_rx) = mpsc::channel::<()>();
        let (release, release_rx) = mpsc::channel::<()>();
        let (entered, release_rx) = (Mutex::new(entered), Mutex::new(release_rx));
        let stayed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (engine, on_stay) = (s.engine.clone(), stayed.clone());
        s.register(PROG, 1, 3, move |_, _, _| {
            on_stay.store(staying(&engine), Ordering::SeqCst);
            entered.lock().unwrap().send(()).unwrap();
            release_rx.lock().unwrap().recv().unwrap();
            Ok(())
        });
        (s, stayed, entered_rx, release)
    }

    /// A handler that blocks on a thread staying on a UDP socket does not
    /// hold the socket from other callers: the loop's timer takes the stay
    /// back and the pool answers them while the handler still blocks.
    #[test]
    fn a_handler_blocking_on_a_staying_thread_leaves_the_udp_socket_to_others() {
        let (s, stayed, entered_rx, release) = blocking_service(Engine::staying_on_udp);
        let port = s.listen_udp("127.0.0.1", 0).unwrap();
        s.start().unwrap();
        let a = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        a.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        a.connect(("127.0.0.1", port)).unwrap();
        // Calls until a thread stays on the socket.
        let limit = Instant::now() + Duration::from_secs(10);
        let mut xid = 1;
        while !s.engine.staying_on_udp() {
            assert!(Instant::now() < limit, "no thread stayed on the socket");
            udp_call(&a, xid);
            xid += 1;
        }
        // The staying thread takes the blocking call.
        a.send(&call_message(1000, 3)).unwrap();
        entered_rx.recv().unwrap();
        assert!(
            stayed.load(Ordering::SeqCst),
            "the handler ran on no staying thread"
        );
        // Another caller is answered while that handler still blocks.
        let b = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        b.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        b.connect(("127.0.0.1", port)).unwrap();
        let reply = udp_call(&b, 2000);
        assert_eq!(&reply[..4], &2000u32.to_be_bytes());
        assert_eq!(&reply[reply.len() - 4..], &7u32.to_be_bytes());
        release.send(()).unwrap();
        let mut reply = [0u8; 512];
        let n = a.recv(&mut reply).unwrap();
        assert_eq!(&reply[..4], &1000u32.to_be_bytes(), "{:?}", &reply[..n]);
        stops_at_once(&s);
    }

    /// A handler that blocks on a thread staying on a connection does not
    /// hold the connection's next calls: the loop's timer takes the stay
    /// back, and the pool answers a call pipelined behind it meanwhile.
    #[test]
    fn a_handler_blocking_on_a_staying_thread_leaves_the_connection_to_others() {
        let (s, stayed, entered_rx, release) = blocking_service(|e| e.staying_on_conns() == 1);
        let port = s.listen_tcp("127.0.0.1", 0).unwrap();
        s.start().unwrap();
        let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        // Calls until a thread stays on the connection.
        let limit = Instant::now() + Duration::from_secs(10);
        let mut xid = 1;
        while s.engine.staying_on_conns() == 0 {
            assert!(Instant::now() < limit, "no thread stayed on the connection");
            c.write_all(&call_record(xid, 2, 0)).unwrap();
            read_reply(&mut c);
            xid += 1;
        }
        // The staying thread takes the blocking call.
        c.write_all(&call_record(1000, 3, 0)).unwrap();
        entered_rx.recv().unwrap();
        assert!(
            stayed.load(Ordering::SeqCst),
            "the handler ran on no staying thread"
        );
        // The next call on the connection is answered while it blocks.
        c.write_all(&call_record(2000, 2, 0)).unwrap();
        answered_while_1000_blocks(&s, &mut c, &release);
    }

    /// Reads the reply to call 2000 (procedure 2: 7) on `c` while call
    /// 1000 blocks in its handler, then releases 1000, reads its reply and
    /// stops `s`, at once.
    fn answered_while_1000_blocks(s: &Service, c: &mut TcpStream, release: &mpsc::Sender<()>) {
        let reply = read_reply(c);
        assert_eq!(&reply[..4], &2000u32.to_be_bytes());
        assert_eq!(&reply[reply.len() - 4..], &7u32.to_be_bytes());
        release.send(()).unwrap();
        let reply = read_reply(c);
        assert_eq!(&reply[..4], &1000u32.to_be_bytes());
        stops_at_once(s);
    }

    /// On one CPU, the calls read with one that a thread runs itself wait
    /// in the queue for it, no other thread woken; when its handler blocks,
    /// the loop's timer wakes one for them, so they are answered while it
    /// still blocks.
    #[test]
    fn calls_read_with_a_blocking_one_on_one_cpu_are_answered_while_it_blocks() {
        let (s, _, entered_rx, release) = blocking_service(|_| false);
        // No stays: their own check would wake a thread too.
        s.engine.settings.stay_us.store(0, Ordering::Relaxed);
        s.set_threads(3, 32).unwrap();
        let port = s.listen_tcp("127.0.0.1", 0).unwrap();
        s.start().unwrap();
        s.engine.cpus.store(1, Ordering::Relaxed);
        let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        // Accepted, and every thread back in the poller, none about to
        // look at the queue on its own.
        let limit = Instant::now() + Duration::from_secs(10);
        while s.engine.connection_count() == 0 || !s.engine.all_waiting() {
            assert!(Instant::now() < limit, "the pool did not go idle");
            std::thread::yield_now();
        }
        // The blocking call and another, in one write: read together.
        let mut both = call_record(1000, 3, 0);
        both.extend_from_slice(&call_record(2000, 2, 0));
        c.write_all(&both).unwrap();
        entered_rx.recv().unwrap();
        answered_while_1000_blocks(&s, &mut c, &release);
    }

    /// A reply held for the calls read with it (see `Conn::calls_queued`)
    /// is not held behind another connection's call: the thread whose
    /// reply is held sends it before it takes that call, which here
    /// blocks, with every thread of the pool busy, so that the calls held
    /// for would not start until a handler returned.
    #[test]
    fn a_held_reply_does_not_wait_behind_another_connections_call() {
        let (s, _, entered_rx, release) = blocking_service(|_| false);
        s.set_threads(1, 3).unwrap();
        let port = s.listen_tcp("127.0.0.1", 0).unwrap();
        s.start().unwrap();
        // Queued calls ring for a thread (on one CPU they wait for the
        // thread that read them, which is not what this is about).
        s.engine.cpus.store(2, Ordering::Relaxed);
        let connect = || {
            let c = TcpStream::connect(("127.0.0.1", port)).unwrap();
            c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            c
        };
        let (mut a, mut g, mut x) = (connect(), connect(), connect());
        // A thread stays on `a` for its next calls.
        assert_eq!(&call(&mut a, 1, 2)[..4], &1u32.to_be_bytes());
        wait_staying(&s, 1);
        // A second thread blocks in `g`'s call, and the third in the first
        // of two calls `x` sends together: the second waits in the queue.
        g.write_all(&call_record(2, 3, 0)).unwrap();
        entered_rx.recv().unwrap();
        let mut two = call_record(3, 3, 0);
        two.extend(call_record(4, 3, 0));
        x.write_all(&two).unwrap();
        entered_rx.recv().unwrap();
        assert_eq!(s.engine.thread_count(), 3);
        // Two calls on `a` together: the thread staying answers the first
        // and queues the second behind `x`'s; its reply is held until
        // that one starts. It then takes `x`'s call, which blocks.
        let mut two = call_record(5, 2, 0);
        two.extend(call_record(6, 2, 0));
        a.write_all(&two).unwrap();
        entered_rx.recv().unwrap();
        // The first reply came all the same.
        let reply = read_reply(&mut a);
        assert_eq!(&reply[..4], &5u32.to_be_bytes());
        for _ in 0..3 {
            release.send(()).unwrap();
        }
        assert_eq!(&read_reply(&mut a)[..4], &6u32.to_be_bytes());
        assert_eq!(&read_reply(&mut g)[..4], &2u32.to_be_bytes());
        let mut xids = [read_reply(&mut x)[3], read_reply(&mut x)[3]];
        xids.sort();
        assert_eq!(xids, [3, 4]);
        stops_at_once(&s);
    }

    /// A thread that answered a datagram stays on the socket for the next
    /// one (answered by it), leaves it to the event loop after the stay
    /// (a datagram then still gets answered), and a stop does not wait
    /// long for a thread staying.
    #[test]
    fn a_thread_stays_on_a_udp_socket_then_hands_it_back() {
        // Long enough to see, short enough to wait out.
        let (s, port) = seven_service(300_000, true);
        let c = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        c.connect(("127.0.0.1", port)).unwrap();
        let seven = 7u32.to_be_bytes();
        for xid in 1..=20 {
            let reply = udp_call(&c, xid);
            assert_eq!(&reply[..4], &xid.to_be_bytes());
            assert_eq!(&reply[reply.len() - 4..], &seven);
        }
        // The thread that answered stays on the socket.
        let limit = Instant::now() + Duration::from_secs(10);
        while !s.engine.staying_on_udp() {
            assert!(Instant::now() < limit, "no thread stayed on the socket");
            std::thread::yield_now();
        }
        // Two datagrams at once: the staying thread takes both.
        for xid in [31u32, 32] {
            c.send(&call_message(xid, 2)).unwrap();
        }
        let mut xids = Vec::new();
        for _ in 0..2 {
            let mut reply = [0u8; 512];
            let n = c.recv(&mut reply).unwrap();
            assert_eq!(&reply[n - 4..n], &seven);
            xids.push(u32::from_be_bytes(reply[..4].try_into().unwrap()));
        }
        xids.sort();
        assert_eq!(xids, [31, 32]);
        // The stay ends by itself; the socket is the poller's again.
        let limit = Instant::now() + Duration::from_secs(10);
        while s.engine.staying_on_udp() {
            assert!(Instant::now() < limit, "a thread stayed on the socket");
            std::thread::yield_now();
        }
        let reply = udp_call(&c, 41);
        assert_eq!(&reply[..4], &41u32.to_be_bytes());
        // Stopping while a thread stays (the call above left one there).
        stops_at_once(&s);
    }

    /// Stops `s`, which must not wait for a thread staying on a socket.
    fn stops_at_once(s: &Service) {
        let began = Instant::now();
        s.stop();
        assert!(
            began.elapsed() < Duration::from_secs(2),
            "{:?}",
            began.elapsed()
        );
    }

    /// Waits up to 10 s until `s` has `n` threads staying on connections.
    fn wait_staying(s: &Service, n: usize) {
        let limit = Instant::now() + Duration::from_secs(10);
        while s.engine.staying_on_conns() != n {
            assert!(
                Instant::now() < limit,
                "{} threads stay on connections, not {n}",
                s.engine.staying_on_conns()
            );
            std::thread::yield_now();
        }
    }

    /// A thread that answered a call stays on its connection for the next
    /// (answering calls cut in two, calls that come together, a call large
    /// enough to be read straight into place), while other connections
    /// are served through the poller; it hands the connection back to the
    /// poller after the stay, and a stop or a peer that leaves during a
    /// stay is seen at once. On one CPU at most one thread stays.
    #[test]
    fn a_thread_stays_on_a_connection_then_hands_it_back() {
        // Long enough to see, short enough to wait out.
        let (s, port) = seven_service(2_000_000, false);
        // The rules for several CPUs first, whatever this process may run
        // on (pinned to one CPU, two threads would not stay at once).
        s.engine.cpus.store(2, Ordering::Relaxed);
        let connect = || {
            let c = TcpStream::connect(("127.0.0.1", port)).unwrap();
            c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            c
        };
        let seven = 7u32.to_be_bytes();
        let marked = |xid: u32, extra: usize| call_record(xid, 2, extra);
        let check = |reply: &[u8], xid: u32| {
            assert_eq!(&reply[..4], &xid.to_be_bytes());
            assert_eq!(&reply[reply.len() - 4..], &seven);
        };
        let mut c = connect();
        for xid in 1..=20 {
            check(&call(&mut c, xid, 2), xid);
        }
        wait_staying(&s, 1);
        // A call cut in two; two calls in one write; a 20 KiB call.
        let rec = marked(21, 0);
        c.write_all(&rec[..10]).unwrap();
        c.write_all(&rec[10..]).unwrap();
        check(&read_reply(&mut c), 21);
        let mut two = marked(22, 0);
        two.extend(marked(23, 0));
        c.write_all(&two).unwrap();
        // Calls of one connection may finish in any order.
        let (first, second) = (read_reply(&mut c), read_reply(&mut c));
        let (first, second) = match first[3] {
            22 => (first, second),
            _ => (second, first),
        };
        check(&first, 22);
        check(&second, 23);
        let big = marked(24, 20 << 10);
        c.write_all(&big[..6000]).unwrap();
        c.write_all(&big[6000..]).unwrap();
        check(&read_reply(&mut c), 24);
        // Another connection is served meanwhile.
        let mut d = connect();
        check(&call(&mut d, 25, 2), 25);
        // The stays end by themselves; the connections are the poller's again.
        wait_staying(&s, 0);
        check(&call(&mut c, 26, 2), 26);
        check(&call(&mut d, 27, 2), 27);
        // A peer that leaves during a stay: its connection is closed.
        wait_staying(&s, 2);
        drop(d);
        let limit = Instant::now() + Duration::from_secs(10);
        while s.connection_count() != 1 {
            assert!(Instant::now() < limit, "the connection left open");
            std::thread::yield_now();
        }
        // On one CPU, one thread stays at most: `c`'s (still or again).
        s.engine.cpus.store(1, Ordering::Relaxed);
        check(&call(&mut c, 28, 2), 28);
        let mut e = connect();
        check(&call(&mut e, 29, 2), 29);
        assert_eq!(s.engine.staying_on_conns(), 1);
        // Stopping while a thread stays.
        stops_at_once(&s);
        assert_eq!(s.engine.staying_on_conns(), 0);
    }

    /// A caller that sends its last call and at once shuts its side down
    /// gets the reply, and its connection closes at once: the end of the
    /// stream, come with the call's bytes, is not taken for a pause
    /// (repeated: the two often arrive in one event, not always). No
    /// thread stays on the connection here: one staying would see the end
    /// in its own read.
    #[test]
    fn a_peer_that_shuts_down_after_its_call_is_answered_and_closed_at_once() {
        let (s, port) = seven_service(0, false);
        for xid in 0..50 {
            let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
            c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            c.write_all(&call_record(xid, 2, 0)).unwrap();
            c.shutdown(std::net::Shutdown::Write).unwrap();
            let reply = read_reply(&mut c);
            assert_eq!(&reply[reply.len() - 4..], &7u32.to_be_bytes());
            let mut rest = Vec::new();
            c.read_to_end(&mut rest)
                .expect("the server closes the connection, not the read timeout");
            assert!(rest.is_empty());
        }
        s.stop();
    }

    /// Calls whose records end exactly where one of the server's reads
    /// ends (it reads 16 KiB at a time), the next calls already waiting
    /// in the socket, one call at a time per connection and no thread
    /// staying on it: the read that filled the connection's room may have
    /// left calls in the socket that no new event will report, so the end
    /// of a call resumes reading.
    #[test]
    fn calls_left_in_the_socket_by_a_read_that_filled_the_room_are_answered() {
        let (s, port) = seven_service(0, false);
        s.set_concurrent_calls_per_connection(1).unwrap();
        for record in (1..=8).map(|k| k * 4096) {
            let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
            c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let calls: Vec<u8> = (0..3)
                .flat_map(|xid| call_record(xid, 2, record - 44))
                .collect();
            c.write_all(&calls).unwrap();
            for xid in 0..3u32 {
                let reply = read_reply(&mut c);
                assert_eq!(reply[..4], xid.to_be_bytes(), "records of {record} bytes");
                assert_eq!(&reply[reply.len() - 4..], &7u32.to_be_bytes());
            }
        }
        s.stop();
    }

    /// Threads added while handlers blocked leave once they have not been
    /// needed for the spare interval, down to the minimum, and the service
    /// goes on answering.
    #[test]
    fn threads_not_needed_leave_down_to_the_minimum() {
        let s = Service::new();
        s.engine
            .settings
            .spare_idle_ms
            .store(100, Ordering::Relaxed);
        let (gate, entries) = register_gated(&s);
        s.register(PROG, 1, 2, |_, _, out| {
            out.put_uint(7);
            Ok(())
        });
        let (ended, ends) = mpsc::channel::<()>();
        let ended = Mutex::new(ended);
        s.on_thread_end(Some(Box::new(move || {
            ended.lock().unwrap().send(()).unwrap();
        })));
        let port = s.listen_tcp("127.0.0.1", 0).unwrap();
        s.start().unwrap();
        let callers: Vec<_> = (0..4)
            .map(|i| {
                std::thread::spawn(move || {
                    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
                    call(&mut c, i, 1)
                })
            })
            .collect();
        for _ in 0..4 {
            entries.recv().unwrap();
        }
        // Four handlers block, and one more thread waits for work.
        let peak = s.thread_count();
        assert!(peak >= 5, "{peak} threads");
        open(&gate);
        for c in callers {
            c.join().unwrap();
        }
        assert!(
            s.engine.wait_threads_at_most(1, Duration::from_secs(10)),
            "{} threads left",
            s.thread_count()
        );
        // Each thread that left ran the thread-end function as it ended.
        for _ in 1..peak {
            ends.recv_timeout(Duration::from_secs(10))
                .expect("a thread left without running the thread-end function");
        }
        let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let reply = call(&mut c, 9, 2);
        assert_eq!(&reply[reply.len() - 4..], &7u32.to_be_bytes());
        s.stop();
        // And the last one, as the service stopped.
        ends.recv_timeout(Duration::from_secs(10))
            .expect("the last thread ended without running the thread-end function");
    }
}
