//! The event loop: a bounded pool of threads that all wait on one epoll
//! set, each taking one ready descriptor at a time and serving it itself.
//!
//! - A connection's read event goes to one waiting thread. It reads and
//!   decodes the calls that have arrived (up to the connection's in-flight
//!   limit), queues all but the first call for the other threads, and runs
//!   the first itself: a lone caller's call never changes threads.
//!   Connections are registered edge-triggered, once: no `epoll_ctl` per
//!   call. A thread reads until the socket is drained or the connection is
//!   full; bytes arriving later bring a new event, and a connection that
//!   was full resumes reading as a queued job when a call finishes.
//! - A UDP socket's event likewise: the thread takes up to 8 datagrams in
//!   one `recvmmsg`, queues all but the first (and, when the batch was
//!   full, the next receive) and answers the first.
//! - Having answered, the thread stays on the connection or UDP socket for
//!   the next call, up to [`STAY`], waiting in a receive of its own with
//!   the socket out of the epoll set, when another thread waits in the set
//!   and nothing else is under way there: a sequential caller's call then
//!   costs a receive and a send (see [`Engine::on_conn_event`]). While no
//!   call runs and no other thread stays, that receive polls for a few
//!   microseconds before it sleeps ([`crate::net::spin`]).
//! - Queued calls ring a bell: an always-readable eventfd registered
//!   one-shot, so each ring wakes exactly one waiting thread.
//! - A reply is written by the thread that finished the call, at once,
//!   unless another thread is writing to that connection (it then sends
//!   every reply queued meanwhile in one vectored write) or the socket is
//!   full (the connection then waits to be writable, under a stall timer).
//! - Idle connections and stalled writes are closed by timers: a heap of
//!   deadlines behind one timerfd. An idle server makes no wake-ups at all.
//! - The pool grows when the last waiting thread takes an event (so one
//!   always waits while handlers run, up to the maximum) and shrinks back
//!   to its minimum after threads have idled for a while.

use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::os::fd::{BorrowedFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::epoll::EpollEvent;
use nix::sys::socket::{getsockopt, setsockopt, sockopt};

mod headcount;
mod listener;
mod timers;

use self::headcount::Headcount;
use self::listener::{Listening, StreamListener};
use self::timers::Timers;
use super::conn::{Conn, ConnState, ReadEnd, Reading, Sent};
use super::dispatch::{Caller, Dispatcher, Peer};
use super::udp::UdpEndpoint;
use crate::net::poll::{Bell, Events, Interest, Poller, Ready, Timer};
use crate::net::UnixSocketFile;
use crate::net::{spin, sys};
use crate::rpc::protocol::Protocol;
use crate::stream::record::{RecordLimits, DEFAULT_MAX_RECORD};
use crate::stream::PeerCredentials;
use crate::sync::lock;
use crate::xdr::Encoder;
use crate::{Error, Result};

/// Default idle-connection timeout.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// Default for how many calls of one stream connection may run at once.
pub const DEFAULT_CALLS_PER_CONNECTION: usize = 16;
/// Default for how many stream connections are served at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 65_536;
/// Default for the threads kept waiting for work.
pub const DEFAULT_MIN_THREADS: usize = 1;
/// Default for the most threads the pool grows to (handlers that block
/// occupy one each).
pub const DEFAULT_MAX_THREADS: usize = 32;
/// Default stack of a pool thread (handlers, in C and Python too, run there).
pub const DEFAULT_STACK_SIZE: usize = 2 << 20;
/// The smallest stack a pool thread may be given.
pub const MIN_STACK_SIZE: usize = 64 << 10;

/// The longest a TLS connection may take from its accept to the end of
/// its handshake (probe included) before it is closed.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a thread above the pool's minimum waits for work before it ends.
const SPARE_IDLE: Duration = Duration::from_secs(30);
/// Descriptors a process has besides its server's connections, counted
/// when the descriptor table is sized for them.
const RESERVED_FDS: usize = 256;
/// A thread's read buffer: room for many pipelined small calls, while most
/// of a large call bypasses it (read straight into place).
const READ_BUFFER: usize = 16 << 10;
/// Room for one datagram: the largest a UDP/IPv4 datagram can carry.
const UDP_BUFFER: usize = 65536;
/// How long a thread that answered a call stays on the UDP socket or
/// connection for the next (see [`Engine::serve_datagrams`] and
/// [`Engine::on_conn_event`]): long against a caller's turn around
/// (microseconds), short against a thread's worth of waiting.
const STAY: Duration = Duration::from_millis(2);

const BELL: u64 = 0;
const TIMER: u64 = 1;
const FIRST_KEY: u64 = 2;
/// The timer heap's key for [`Engine::check_spares`] (no source has it).
const SPARES: u64 = u64::MAX;

/// The settings a server can change before (and mostly while) serving.
pub(crate) struct Settings {
    /// `None`: connections never close for idling.
    pub idle_timeout: Mutex<Option<Duration>>,
    pub max_message: AtomicUsize,
    pub per_connection: AtomicUsize,
    pub max_connections: AtomicUsize,
    pub min_threads: AtomicUsize,
    pub max_threads: AtomicUsize,
    pub stack_size: AtomicUsize,
    /// How long threads above the minimum may go unneeded, in ms.
    pub spare_idle_ms: AtomicU64,
    /// Runs on each pool thread as it ends.
    pub thread_end: Mutex<Option<ThreadEnd>>,
    /// How long a thread that answered a call stays on its UDP socket or
    /// connection for the next, in µs (see `serve_datagrams` and
    /// `on_conn_event`); for sockets added and connections readied later.
    pub stay_us: AtomicU64,
    /// How long a staying thread polls its socket before it sleeps, in µs
    /// (see [`crate::net::spin`]; 0: never).
    pub busy_poll_us: AtomicU64,
}

/// A function run on each pool thread as it ends (see
/// [`Service::on_thread_end`](super::Service::on_thread_end)).
pub(crate) type ThreadEnd = Arc<dyn Fn() + Send + Sync>;

impl Default for Settings {
    fn default() -> Self {
        Settings {
            idle_timeout: Mutex::new(Some(DEFAULT_IDLE_TIMEOUT)),
            max_message: AtomicUsize::new(DEFAULT_MAX_RECORD),
            per_connection: AtomicUsize::new(DEFAULT_CALLS_PER_CONNECTION),
            max_connections: AtomicUsize::new(DEFAULT_MAX_CONNECTIONS),
            min_threads: AtomicUsize::new(DEFAULT_MIN_THREADS),
            max_threads: AtomicUsize::new(DEFAULT_MAX_THREADS),
            stack_size: AtomicUsize::new(DEFAULT_STACK_SIZE),
            spare_idle_ms: AtomicU64::new(SPARE_IDLE.as_millis() as u64),
            thread_end: Mutex::new(None),
            stay_us: AtomicU64::new(STAY.as_micros() as u64),
            busy_poll_us: AtomicU64::new(spin::default_limit().as_micros() as u64),
        }
    }
}

impl Settings {
    fn idle(&self) -> Option<Duration> {
        *lock(&self.idle_timeout)
    }

    fn per_connection(&self) -> usize {
        self.per_connection.load(Ordering::Relaxed)
    }

    /// How long a TLS handshake may take: [`TLS_HANDSHAKE_TIMEOUT`], or the
    /// idle timeout when that is shorter.
    fn handshake_timeout(&self, idle: Option<Duration>) -> Duration {
        idle.map_or(TLS_HANDSHAKE_TIMEOUT, |i| i.min(TLS_HANDSHAKE_TIMEOUT))
    }
}

/// What a key of the poller stands for.
#[derive(Clone)]
enum Source {
    Listener(Arc<Listening>),
    Udp(Arc<UdpEndpoint>),
    Conn(Arc<Conn>),
}

impl Source {
    fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Source::Listener(l) => l.socket.fd(),
            Source::Udp(u) => u.fd(),
            Source::Conn(c) => c.fd(),
        }
    }
}

#[derive(Default)]
struct Sources {
    /// Looked up on every event; the keys are the loop's own, so a fast
    /// hash (foldhash) is safe.
    map: HashMap<u64, Source, foldhash::fast::RandomState>,
    next: u64,
    /// Sources made before the loop started, registered by `start`.
    unregistered: Vec<u64>,
}

/// Work waiting for a thread.
enum Job {
    /// A call read and not yet answered.
    Call(Arc<Conn>, Vec<u8>),
    /// Calls left buffered on a connection that had no room for them.
    Read(Arc<Conn>),
    /// A datagram taken with others and not yet answered, and its sender.
    Datagram(Arc<UdpEndpoint>, Vec<u8>, SocketAddr),
    /// More datagrams may wait on the socket (a receive filled its batch).
    Receive(Arc<UdpEndpoint>, u64),
}

/// What the loop waits on, made when it starts.
struct Reactor {
    poller: Poller,
    bell: Bell,
    timer: Timer,
}

#[derive(Default)]
struct Pool {
    handles: Vec<JoinHandle<()>>,
}

/// A thread's buffers, reused from call to call.
struct Scratch {
    events: Events,
    read: Vec<u8>,
    /// Buffers for a batch of datagrams (made when a thread first serves
    /// UDP), and where each received one came from.
    datagrams: Vec<Vec<u8>>,
    senders: Vec<(usize, usize, SocketAddr)>,
    results: Encoder,
    calls: Vec<Vec<u8>>,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            events: [EpollEvent::empty()],
            read: vec![0; READ_BUFFER],
            datagrams: Vec::new(),
            senders: Vec::new(),
            results: Encoder::new(),
            calls: Vec::new(),
        }
    }
}

thread_local! {
    /// The engine (its address) a pool thread works for, and the
    /// connection of the call it runs (0: none, or a datagram), so `stop`
    /// called from a handler does not wait for its own call or thread.
    static SERVING: Cell<(usize, u64)> = const { Cell::new((0, 0)) };
}

pub(crate) struct Engine {
    pub dispatcher: Dispatcher,
    pub settings: Settings,
    reactor: OnceLock<Reactor>,
    sources: Mutex<Sources>,
    jobs: Mutex<VecDeque<Job>>,
    /// Threads in the pool, waiting, busy and asked to leave.
    head: Headcount,
    /// Threads staying on a connection (see `stay_on_conn`).
    staying: AtomicUsize,
    /// The CPUs this process may run on ([`sys::cpus`]).
    pub(super) cpus: AtomicUsize,
    pool: Mutex<Pool>,
    /// Notified (under `pool`) when a thread leaves the pool.
    pool_shrunk: Condvar,
    timers: Mutex<Timers>,
    started: AtomicBool,
    stopping: AtomicBool,
    /// Pool threads leave.
    exiting: AtomicBool,
    /// Calls being answered (watched by `stop`): an atomic, so a call
    /// takes no lock for it.
    calls: AtomicUsize,
    /// Stream connections open (watched by `stop`); its lock is also the
    /// one `stop` waits on `idle` under.
    conns: Mutex<usize>,
    idle: Condvar,
    stopped: Mutex<bool>,
    stopped_cv: Condvar,
}

impl Engine {
    pub fn new() -> Engine {
        Engine {
            dispatcher: Dispatcher::new(),
            settings: Settings::default(),
            reactor: OnceLock::new(),
            sources: Mutex::new(Sources {
                next: FIRST_KEY,
                ..Sources::default()
            }),
            jobs: Mutex::new(VecDeque::new()),
            head: Headcount::default(),
            staying: AtomicUsize::new(0),
            cpus: AtomicUsize::new(1),
            pool: Mutex::new(Pool::default()),
            pool_shrunk: Condvar::new(),
            timers: Mutex::new(Timers::default()),
            started: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            exiting: AtomicBool::new(false),
            calls: AtomicUsize::new(0),
            conns: Mutex::new(0),
            idle: Condvar::new(),
            stopped: Mutex::new(false),
            stopped_cv: Condvar::new(),
        }
    }

    fn reactor(&self) -> &Reactor {
        self.reactor.get().expect("the loop has started")
    }

    fn poller(&self) -> &Poller {
        &self.reactor().poller
    }

    // ---- listeners ----

    pub fn add_tcp(&self, l: TcpListener, tls: Option<Arc<rustls::ServerConfig>>) -> Result<()> {
        l.set_nonblocking(true)
            .map_err(|e| Error::os("set the listener nonblocking", e))?;
        let nodelay = setsockopt(&l, sockopt::TcpNoDelay, &true).is_ok();
        let local = l.local_addr().ok().filter(|a| !a.ip().is_unspecified());
        let mut listening = Listening::new(StreamListener::Tcp(l), tls);
        listening.local = local;
        listening.nodelay = nodelay;
        self.add_source(Source::Listener(Arc::new(listening)))
    }

    pub fn add_unix(
        &self,
        l: UnixListener,
        file: UnixSocketFile,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> Result<()> {
        l.set_nonblocking(true)
            .map_err(|e| Error::os("set the listener nonblocking", e))?;
        self.add_source(Source::Listener(Arc::new(Listening::new(
            StreamListener::Unix(l, file),
            tls,
        ))))
    }

    pub fn add_udp(&self, s: UdpSocket) -> Result<()> {
        let stay = Duration::from_micros(self.settings.stay_us.load(Ordering::Relaxed));
        let u = UdpEndpoint::new(s, stay)
            .map_err(|e| Error::os("set the UDP socket's receive timeout", e))?;
        self.add_source(Source::Udp(Arc::new(u)))
    }

    /// Records `source`; once the loop runs it is also registered.
    fn add_source(&self, source: Source) -> Result<()> {
        if self.stopping.load(Ordering::SeqCst) {
            return Err(Error::InvalidArgument("the server is stopped".into()));
        }
        let mut s = lock(&self.sources);
        let key = s.next;
        s.next += 1;
        if self.started.load(Ordering::SeqCst) {
            self.register(key, &source)?;
        } else {
            s.unregistered.push(key);
        }
        s.map.insert(key, source);
        Ok(())
    }

    /// Registers a listener (one-shot: re-armed after each batch of
    /// accepts) or a datagram socket (edge-triggered: see
    /// [`Engine::serve_datagrams`]) with the poller. A listener first gets
    /// room in the descriptor table for every connection the server may
    /// hold, before any arrives (see `sys::reserve_descriptor_slots`).
    fn register(&self, key: u64, source: &Source) -> Result<()> {
        match source {
            Source::Udp(u) => self.poller().add_edge(u.fd(), key, Interest::READ),
            Source::Listener(l) => {
                let max = self.settings.max_connections.load(Ordering::Relaxed);
                sys::reserve_descriptor_slots(l.socket.fd(), max.saturating_add(RESERVED_FDS));
                self.poller().add(l.socket.fd(), key, Interest::READ)
            }
            Source::Conn(c) => self.poller().add(c.fd(), key, Interest::READ),
        }
    }

    /// The TCP and UDP addresses listened on.
    pub fn bound(&self) -> Vec<(Protocol, SocketAddr)> {
        let s = lock(&self.sources);
        let mut keys: Vec<&u64> = s.map.keys().collect();
        keys.sort();
        keys.into_iter()
            .filter_map(|k| match &s.map[k] {
                Source::Listener(l) => match &l.socket {
                    StreamListener::Tcp(t) => t.local_addr().ok().map(|a| (Protocol::Tcp, a)),
                    StreamListener::Unix(..) => None,
                },
                Source::Udp(u) => u.local_addr().map(|a| (Protocol::Udp, a)),
                Source::Conn(_) => None,
            })
            .collect()
    }

    pub fn connection_count(&self) -> usize {
        *lock(&self.conns)
    }

    pub fn thread_count(&self) -> usize {
        self.head.threads()
    }

    // ---- lifecycle ----

    /// Starts the pool and registers every listener.
    pub fn start(self: &Arc<Self>) -> Result<()> {
        if self.stopping.load(Ordering::SeqCst) {
            return Err(Error::InvalidArgument("the server was stopped".into()));
        }
        let mut s = lock(&self.sources);
        if self.started.load(Ordering::SeqCst) {
            return Ok(());
        }
        if self.reactor.get().is_none() {
            let poller = Poller::new()?;
            let bell = Bell::new(&poller, BELL)?;
            let timer = Timer::new(&poller, TIMER)?;
            let _ = self.reactor.set(Reactor {
                poller,
                bell,
                timer,
            });
        }
        for key in std::mem::take(&mut s.unregistered) {
            if let Some(source) = s.map.get(&key) {
                self.register(key, source)?;
            }
        }
        self.started.store(true, Ordering::SeqCst);
        drop(s);
        self.cpus.store(sys::cpus(), Ordering::Relaxed);
        let min = self.min_threads();
        for _ in 0..min {
            self.spawn()?;
        }
        Ok(())
    }

    fn spawn(self: &Arc<Self>) -> Result<()> {
        let stack = self.settings.stack_size.load(Ordering::Relaxed);
        // Under the pool's lock, so that `stop` joins every thread made.
        let mut pool = lock(&self.pool);
        if self.exiting.load(Ordering::SeqCst) {
            return Ok(());
        }
        // Counted as waiting from now, so that nobody adds another for
        // the same need before it gets to wait.
        self.head.starting();
        let engine = self.clone();
        let spawned = std::thread::Builder::new()
            .name("xipc-rpc".into())
            .stack_size(stack)
            .spawn(move || engine.work());
        match spawned {
            Ok(handle) => {
                pool.handles.retain(|h| !h.is_finished());
                pool.handles.push(handle);
                drop(pool);
                let min = self.min_threads();
                if self.head.threads() > min {
                    self.schedule_spares_check(&mut lock(&self.timers));
                }
                Ok(())
            }
            Err(e) => {
                self.head.not_started();
                Err(Error::os("start a server thread", e))
            }
        }
    }

    /// Whether `stop` has begun.
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Blocks until `stop` has finished.
    pub fn wait_stopped(&self) {
        let mut done = lock(&self.stopped);
        while !*done {
            done = self
                .stopped_cv
                .wait(done)
                .unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Stops gracefully: stops accepting and reading, lets calls being
    /// answered finish and their replies go out (a reply that makes no
    /// progress for the idle timeout is dropped with its connection),
    /// closes every connection and ends the pool's threads. Called from a
    /// handler, it does not wait for that handler's own call and thread.
    pub fn stop(&self) {
        if self.stopping.swap(true, Ordering::SeqCst) {
            return;
        }
        if !self.started.load(Ordering::SeqCst) {
            lock(&self.sources).map.clear();
            self.finish_stop();
            return;
        }
        let (own_engine, own_conn) = SERVING.with(Cell::get);
        let inside = own_engine == self as *const Engine as usize;
        let sources: Vec<(u64, Source)> = {
            let mut s = lock(&self.sources);
            let keys: Vec<u64> = s
                .map
                .iter()
                .filter(|(_, src)| !matches!(src, Source::Conn(_)))
                .map(|(k, _)| *k)
                .collect();
            for k in &keys {
                if let Some(src) = s.map.get(k) {
                    self.poller().remove(src.fd());
                }
            }
            let removed: Vec<(u64, Source)> = keys
                .iter()
                .filter_map(|k| s.map.remove(k).map(|src| (*k, src)))
                .collect();
            let conns: Vec<(u64, Source)> = s.map.iter().map(|(k, v)| (*k, v.clone())).collect();
            drop(removed); // closes the listeners, removing Unix socket files
            conns
        };
        for (_, source) in sources {
            if let Source::Conn(c) = source {
                c.shutdown_read();
                let mut st = c.state();
                st.read_done = true;
                if st.finished() && !st.handling {
                    drop(st);
                    self.close(&c);
                }
            }
        }
        // Calls finish and their connections close themselves.
        let own = usize::from(inside);
        let own_conns = usize::from(inside && own_conn != 0);
        let mut conns = lock(&self.conns);
        while self.calls.load(Ordering::SeqCst) > own || *conns > own_conns {
            conns = self.idle.wait(conns).unwrap_or_else(|p| p.into_inner());
        }
        drop(conns);
        let handles = {
            let mut pool = lock(&self.pool);
            self.exiting.store(true, Ordering::SeqCst);
            std::mem::take(&mut pool.handles)
        };
        self.reactor().bell.ring(self.poller());
        let me = std::thread::current().id();
        for h in handles {
            if h.thread().id() != me {
                let _ = h.join();
            }
        }
        lock(&self.sources).map.clear();
        self.finish_stop();
    }

    fn finish_stop(&self) {
        *lock(&self.stopped) = true;
        self.stopped_cv.notify_all();
    }

    // ---- the pool's loop ----

    fn work(self: Arc<Self>) {
        SERVING.with(|s| s.set((Arc::as_ptr(&self) as usize, 0)));
        let _end = Ending(&self.settings);
        let mut scratch = Scratch::new();
        // `spawn` counted this thread as waiting already.
        let mut counted = true;
        loop {
            // Counted as waiting before looking for queued work, so a job
            // queued meanwhile either is seen here or rings the bell.
            if !std::mem::take(&mut counted) {
                self.head.wait();
            }
            if self.exiting.load(Ordering::SeqCst) {
                self.head.unwait();
                // Pass the stop on to the next waiting thread.
                self.reactor().bell.ring(self.poller());
                break;
            }
            if let Some(job) = self.pop_job() {
                let still_waiting = self.head.unwait();
                self.head.note_busy(still_waiting);
                self.run_job(job, &mut scratch);
                continue;
            }
            // No timeout: an epoll_wait with one arms and cancels a kernel
            // timer every time. Spare threads leave through `check_spares`.
            let got = self.poller().wait(&mut scratch.events, None);
            let still_waiting = self.head.unwait();
            match got {
                Ok(Some(ready))
                    if ready.key == BELL && self.head.take_retirement(self.min_threads()) =>
                {
                    // Pass the ring on: to the next thread asked to leave,
                    // to whoever a queued job rang for, or along a stop
                    // (which may have rung at the same time).
                    if self.head.retiring() > 0
                        || !lock(&self.jobs).is_empty()
                        || self.exiting.load(Ordering::SeqCst)
                    {
                        self.reactor().bell.ring(self.poller());
                    }
                    // `take_retirement` counted this thread out of the pool.
                    let _pool = lock(&self.pool);
                    self.pool_shrunk.notify_all();
                    return;
                }
                Ok(Some(ready)) => {
                    if still_waiting == 0 {
                        self.grow();
                    }
                    if ready.key != TIMER {
                        self.head.note_busy(still_waiting);
                    }
                    self.handle(ready, &mut scratch);
                }
                Ok(None) => {}
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        self.head.left();
    }

    /// Every `spare_idle` while the pool has more threads than its
    /// minimum: asks the threads that were not needed since the last check
    /// to leave. The pool keeps as many as were busy at once, plus one
    /// waiting, and never fewer than its minimum. The check is a timer, so
    /// that waiting threads need no timeout of their own; once the pool is
    /// back at its minimum nothing is scheduled.
    fn check_spares(&self) {
        let min = self.min_threads();
        if self.head.spares(min) > 0 {
            self.reactor().bell.ring(self.poller());
        }
        let mut t = lock(&self.timers);
        t.spares_check = None;
        if self.head.threads() > min {
            self.schedule_spares_check(&mut t);
        }
    }

    /// Makes sure `check_spares` runs within `spare_idle`.
    fn schedule_spares_check(&self, t: &mut Timers) {
        if t.spares_check.is_none() {
            let at = Instant::now() + self.spare_idle();
            t.spares_check = Some(at);
            self.push_timer(t, at, SPARES);
        }
    }

    fn spare_idle(&self) -> Duration {
        Duration::from_millis(self.settings.spare_idle_ms.load(Ordering::Relaxed))
    }

    /// The pool's minimum (at least one thread).
    fn min_threads(&self) -> usize {
        self.settings.min_threads.load(Ordering::Relaxed).max(1)
    }

    /// Whether a thread stays on one of the UDP sockets.
    #[cfg(test)]
    pub fn staying_on_udp(&self) -> bool {
        lock(&self.sources).map.values().any(|s| match s {
            Source::Udp(u) => u.staying.load(Ordering::SeqCst),
            _ => false,
        })
    }

    /// How many threads stay on connections.
    #[cfg(test)]
    pub fn staying_on_conns(&self) -> usize {
        self.staying.load(Ordering::SeqCst)
    }

    /// Waits up to `limit` until the pool has at most `n` threads; whether
    /// it has.
    #[cfg(test)]
    pub fn wait_threads_at_most(&self, n: usize, limit: Duration) -> bool {
        let pool = lock(&self.pool);
        let (_pool, waited) = self
            .pool_shrunk
            .wait_timeout_while(pool, limit, |_| self.head.threads() > n)
            .unwrap_or_else(|p| p.into_inner());
        !waited.timed_out()
    }

    /// The last waiting thread took an event: adds one, so that one keeps
    /// waiting while handlers run (up to the maximum).
    fn grow(self: &Arc<Self>) {
        let max = self.settings.max_threads.load(Ordering::Relaxed);
        if self.head.threads() < max && !self.exiting.load(Ordering::SeqCst) {
            let _ = self.spawn();
        }
    }

    fn handle(self: &Arc<Self>, ready: Ready, scratch: &mut Scratch) {
        match ready.key {
            BELL => {
                if self.exiting.load(Ordering::SeqCst) {
                    return; // the loop passes it on
                }
                if let Some(job) = self.pop_job() {
                    self.ring_if_more();
                    self.run_job(job, scratch);
                }
            }
            TIMER => self.on_timer(),
            key => {
                let source = lock(&self.sources).map.get(&key).cloned();
                match source {
                    Some(Source::Listener(l)) => self.accept(key, &l),
                    Some(Source::Udp(u)) => self.serve_datagrams(key, &u, scratch),
                    Some(Source::Conn(c)) => self.on_conn_event(&c, ready, scratch),
                    None => {} // closed meanwhile
                }
            }
        }
    }

    // ---- queued calls ----

    fn pop_job(&self) -> Option<Job> {
        lock(&self.jobs).pop_front()
    }

    fn run_job(self: &Arc<Self>, job: Job, scratch: &mut Scratch) {
        match job {
            Job::Call(c, msg) => self.run_call(&c, &msg, scratch),
            Job::Datagram(u, msg, from) => {
                self.answer_datagram(&u, &msg, from, &mut scratch.results)
            }
            Job::Receive(u, key) => self.serve_datagrams(key, &u, scratch),
            Job::Read(c) => {
                let ready = Ready {
                    key: c.key,
                    read: true,
                    write: false,
                    hup: false,
                };
                self.on_conn_event(&c, ready, scratch);
            }
        }
    }

    /// Queues work for the pool: a waiting thread is woken for it, or,
    /// when none waits, one is added (up to the maximum).
    fn push_jobs(self: &Arc<Self>, jobs: impl Iterator<Item = Job>) {
        lock(&self.jobs).extend(jobs);
        if self.head.waiting() > 0 {
            self.reactor().bell.ring(self.poller());
        } else {
            self.grow();
        }
    }

    /// After taking a job: wakes another waiting thread if jobs remain.
    fn ring_if_more(&self) {
        if !lock(&self.jobs).is_empty() && self.head.waiting() > 0 {
            self.reactor().bell.ring(self.poller());
        }
    }

    // ---- stream connections ----

    /// Serves an event of `c`: writes what waits for room, reads the calls
    /// that came, queues all but the first for the pool and answers the
    /// first.
    ///
    /// Having answered, the thread stays on the connection for its next
    /// call, up to the stay (as [`serve_datagrams`](Self::serve_datagrams)
    /// does on a UDP socket), when another thread waits in the poller and
    /// the connection has nothing else under way: `c` leaves the poller
    /// meanwhile, and the thread waits in a read of its own. A lone
    /// caller's next call then costs a read, not a wait in the poller too,
    /// and wakes this thread, not the pool's spare one. After the stay `c`
    /// is registered again (bytes that came meanwhile are reported at once).
    fn on_conn_event(self: &Arc<Self>, c: &Arc<Conn>, ready: Ready, scratch: &mut Scratch) {
        let (mut read, mut write);
        {
            let mut st = c.state();
            if st.closed {
                return;
            }
            // Room to write matters only to replies waiting for it (the
            // registration reports it with every event once a reply had
            // to wait).
            read = ready.read;
            write = ready.write && st.want_write;
            // Recorded even when another thread handles `c`: its reads
            // then go on to the end of the stream.
            st.peer_done |= ready.hup;
            if st.handling {
                st.pending_read |= read;
                st.pending_write |= write;
                return;
            }
            st.handling = true;
        }
        let mut calls = std::mem::take(&mut scratch.calls);
        // This thread took `c` out of the poller to stay on it.
        let mut staying = false;
        loop {
            // In a stay, the first read waits for the caller's next call.
            let mut wait = staying;
            // The read that waited found nothing: the stay is over.
            let mut quiet = false;
            let close = loop {
                if write {
                    // Writable again: the peer has read some, which counts
                    // as progress for the stall timer.
                    c.state().stalled_since = Some(Instant::now());
                    let sent = c.flush();
                    if self.after_send(c, sent) {
                        break true;
                    }
                }
                if read {
                    quiet |= self.read_calls(c, scratch, &mut calls, std::mem::take(&mut wait));
                }
                let mut st = c.state();
                if st.pending_read || st.pending_write {
                    read = std::mem::take(&mut st.pending_read);
                    write = std::mem::take(&mut st.pending_write);
                    continue;
                }
                if st.finished() {
                    st.handling = false;
                    break true;
                }
                if staying && calls.is_empty() && !quiet && !st.read_done && !st.want_write {
                    // Part of a call came: wait for the rest.
                    (read, write, wait) = (true, false, true);
                    continue;
                }
                st.handling = false;
                break false;
            };
            if close {
                self.close(c);
            }
            let mut rest = calls.drain(..);
            let first = rest.next();
            if rest.len() > 0 {
                self.push_jobs(rest.map(|msg| Job::Call(c.clone(), msg)));
            } else {
                drop(rest);
            }
            let Some(msg) = first else { break };
            self.run_call(c, &msg, scratch);
            if close || !self.stay_on_conn(c, staying) {
                break;
            }
            staying = true;
            (read, write) = (true, false);
        }
        scratch.calls = calls;
        if staying {
            self.staying.fetch_sub(1, Ordering::SeqCst);
            // Back to the poller, room to write included if a reply waits
            // for it (under the state's lock, as `want_room` changes it).
            let st = c.state();
            if !st.closed {
                let both = Interest {
                    read: true,
                    write: st.want_write,
                };
                let _ = self.poller().modify_edge(c.fd(), c.key, both);
            }
        }
    }

    /// Whether this thread may stay on `c` for its next call (see
    /// [`on_conn_event`](Self::on_conn_event)): another thread waits in the
    /// poller, and `c` is open, readable, handled by nobody, has no call
    /// in flight and no reply waiting for room. If so, this thread handles
    /// `c` from now on, and `c` is out of the poller (`staying`: it already
    /// is) until the stay ends.
    fn stay_on_conn(&self, c: &Conn, staying: bool) -> bool {
        let stay = Duration::from_micros(self.settings.stay_us.load(Ordering::Relaxed));
        if self.head.waiting() == 0 || !c.prepare_stay(stay) {
            return false;
        }
        let mut st = c.state();
        if st.handling || st.closed || st.read_done || st.in_flight > 0 || st.want_write {
            return false;
        }
        // A new stay: counted, and `c` out of the poller.
        if !staying
            && (self.staying.fetch_add(1, Ordering::SeqCst) >= self.max_staying()
                || self
                    .poller()
                    .modify_edge(c.fd(), c.key, Interest::default())
                    .is_err())
        {
            self.staying.fetch_sub(1, Ordering::SeqCst);
            return false;
        }
        st.handling = true;
        true
    }

    /// Whether a staying thread may poll its socket before sleeping (see
    /// [`crate::net::spin`]): only while no call runs, no other thread
    /// stays on a connection and at most one connection is open, so that
    /// it keeps no CPU from work that may come on another connection (16
    /// callers with a connection each, unpinned: 5% fewer calls/s when
    /// the server polled whenever no call ran).
    fn may_spin(&self) -> bool {
        self.calls.load(Ordering::SeqCst) == 0
            && self.staying.load(Ordering::SeqCst) <= 1
            && self.connection_count() <= 1
    }

    /// How long a read polls before it sleeps: the server's busy poll for a
    /// read that waits when [`may_spin`](Self::may_spin), else zero.
    pub(super) fn spin_for(&self, wait: bool) -> Duration {
        let us = self.settings.busy_poll_us.load(Ordering::Relaxed);
        if !wait || us == 0 || !self.may_spin() {
            return Duration::ZERO;
        }
        Duration::from_micros(us)
    }

    /// How many threads may stay on connections at once. On one CPU, one:
    /// threads staying on several connections take turns on it, and each
    /// turn costs a switch that one thread taking their events from the
    /// poller in turn saves (16 callers, pinned to one CPU with the
    /// server: 0.86x the calls/s with a thread staying on each connection,
    /// 0.99x with one staying). With more CPUs, half the pool's maximum,
    /// the other half left for handlers that block (16 callers on two
    /// CPUs: 1.11-1.55x the calls/s of at most two staying).
    fn max_staying(&self) -> usize {
        match self.cpus.load(Ordering::Relaxed) {
            1 => 1,
            _ => self.settings.max_threads.load(Ordering::Relaxed) / 2,
        }
    }

    /// Reads the calls that have arrived on `c`, as many as it may have in
    /// flight, counting them as in flight; `wait`: see [`Conn::read_calls`].
    /// Whether a read that waited found nothing.
    fn read_calls(
        &self,
        c: &Conn,
        scratch: &mut Scratch,
        calls: &mut Vec<Vec<u8>>,
        wait: bool,
    ) -> bool {
        let limit = self.settings.per_connection();
        let (room, drain) = {
            let mut st = c.state();
            if st.read_done {
                return false;
            }
            let room = limit.saturating_sub(st.in_flight);
            st.paused = room == 0;
            (room, st.peer_done)
        };
        if room == 0 {
            return false;
        }
        let before = calls.len();
        let how = Reading {
            room,
            wait,
            drain,
            spin: self.spin_for(wait),
        };
        let end = c.read_calls(&mut scratch.read, calls, how);
        let got = calls.len() - before;
        let mut st = c.state();
        if got > 0 {
            st.in_flight += got;
            st.last_active = Instant::now();
            self.calls.fetch_add(got, Ordering::SeqCst);
        }
        match end {
            // A call finishing resumes reading only where the socket may
            // hold calls no event will report again (or the backlog holds
            // some: see `finish_call`). A connection whose caller has all
            // its calls in flight costs no read that finds nothing.
            ReadEnd::Later => st.paused = false,
            ReadEnd::Full => st.paused = true,
            ReadEnd::Quiet => return true,
            ReadEnd::Eof | ReadEnd::Failed => st.read_done = true,
        }
        false
    }

    /// Answers one call of `c` and sends the reply. When no thread is left
    /// waiting for new work, one is added first (up to the maximum): the
    /// handler may block.
    fn run_call(self: &Arc<Self>, c: &Arc<Conn>, msg: &[u8], scratch: &mut Scratch) {
        if self.head.waiting() == 0 {
            self.grow();
        }
        SERVING.with(|s| s.set((s.get().0, c.key)));
        let head = self
            .dispatcher
            .dispatch(msg, c.caller(), &mut scratch.results);
        SERVING.with(|s| s.set((s.get().0, 0)));
        let failed = match head {
            Some(head) => {
                let sent = c.send(head, &mut scratch.results);
                self.after_send(c, sent)
            }
            None => false,
        };
        self.finish_call(c, failed);
    }

    /// Records how a write went; true when the peer is gone.
    fn after_send(&self, c: &Conn, sent: Sent) -> bool {
        let now = Instant::now();
        let mut st = c.state();
        match sent {
            Sent::Done => {
                st.want_write = false;
                st.stalled_since = None;
                st.last_active = now;
            }
            Sent::Queued => {}
            Sent::Blocked => {
                if !st.want_write {
                    st.want_write = true;
                    st.stalled_since = Some(now);
                    if let Some(idle) = self.settings.idle() {
                        self.schedule(c.key, &mut st, now + idle);
                    }
                    c.want_room(&st, self.poller());
                }
            }
            Sent::Failed => {
                st.want_write = false;
                st.read_done = true;
                return true;
            }
        }
        false
    }

    /// A call of `c` is answered: frees its place, resumes reading that
    /// waited for it, and closes the connection once it has nothing left.
    fn finish_call(self: &Arc<Self>, c: &Arc<Conn>, failed: bool) {
        let resume;
        {
            let mut st = c.state();
            st.in_flight -= 1;
            // Calls already read but not decoded resume reading too: a
            // call that finished while a read ran saw no pause, and the
            // drained socket will not wake the poller for them.
            resume = (st.paused || c.has_backlog()) && !st.read_done && !st.handling && !st.closed;
            if st.paused && st.handling {
                st.pending_read = true;
            }
            if st.in_flight == 0 && st.timer_at.is_none() && !st.closed {
                if let Some(idle) = self.settings.idle() {
                    let at = st.last_active + idle;
                    self.schedule(c.key, &mut st, at);
                }
            }
        }
        self.call_done();
        let done = {
            let st = c.state();
            failed || (st.finished() && !st.handling && !st.closed)
        };
        if done {
            self.close(c);
        } else if resume {
            // Calls left undecoded in the connection's buffer are read as
            // a job: the socket may have nothing new to wake the poller.
            self.push_jobs(std::iter::once(Job::Read(c.clone())));
        }
    }

    /// Forgets `c` and shuts its socket down.
    fn close(&self, c: &Conn) {
        {
            let mut st = c.state();
            if st.closed {
                return;
            }
            st.closed = true;
            st.read_done = true;
        }
        if let Some(r) = self.reactor.get() {
            r.poller.remove(c.fd());
        }
        c.shutdown();
        lock(&self.sources).map.remove(&c.key);
        let mut conns = lock(&self.conns);
        *conns -= 1;
        // `stop` may wait for a count above zero (called from a handler,
        // it leaves out its own connection), so every change is told.
        if self.stopping.load(Ordering::SeqCst) {
            self.idle.notify_all();
        }
    }

    // ---- accepting ----

    /// Accepts the connections waiting on `l` (see
    /// [`Listening::accept_batch`]) and re-arms it, or rests it on a timer
    /// when the process is out of descriptors.
    fn accept(self: &Arc<Self>, key: u64, l: &Arc<Listening>) {
        let rest = l.accept_batch(&self.stopping, |fd, peer| self.adopt(fd, peer, l));
        if let Some(pause) = rest {
            // Re-armed by the timer, not now: it would fire at once.
            let mut t = lock(&self.timers);
            self.push_timer(&mut t, Instant::now() + pause, key);
        } else if !self.stopping.load(Ordering::SeqCst) {
            let _ = self.poller().rearm(l.socket.fd(), key, Interest::READ);
        }
    }

    /// Serves a connection just accepted from `peer` (or closes it at once
    /// when the server has as many as it may).
    fn adopt(self: &Arc<Self>, fd: OwnedFd, peer: Option<SocketAddr>, l: &Listening) {
        let max = self.settings.max_connections.load(Ordering::Relaxed);
        {
            let mut conns = lock(&self.conns);
            if *conns >= max {
                return; // shed: dropping the descriptor closes it
            }
            *conns += 1;
        }
        let Some(conn) = self.connection(fd, peer, l) else {
            *lock(&self.conns) -= 1;
            return;
        };
        let mut st = conn.state();
        let idle = self.settings.idle();
        if let Some(idle) = idle {
            let at = st.last_active + idle;
            self.schedule(conn.key, &mut st, at);
        }
        if conn.handshaking() {
            let at = st.last_active + self.settings.handshake_timeout(idle);
            self.schedule(conn.key, &mut st, at);
        }
    }

    /// Makes and registers the connection of `fd`, from `peer`.
    fn connection(
        &self,
        fd: OwnedFd,
        peer: Option<SocketAddr>,
        l: &Listening,
    ) -> Option<Arc<Conn>> {
        let mut s = lock(&self.sources);
        let key = s.next;
        s.next += 1;
        let caller = match &l.socket {
            StreamListener::Tcp(_) => {
                if !l.nodelay {
                    let _ = setsockopt(&fd, sockopt::TcpNoDelay, &true);
                }
                Caller {
                    // A TCP accept always reports an IP address.
                    peer: Peer::Tcp(peer?),
                    local: l.local.or_else(|| crate::net::local_addr(&fd)),
                    peer_credentials: None,
                    tls_peer: None,
                }
            }
            StreamListener::Unix(..) => Caller {
                peer: Peer::Unix(key),
                local: None,
                // Read once: the kernel records the peer when it connects.
                peer_credentials: getsockopt(&fd, sockopt::PeerCredentials).ok().map(|c| {
                    PeerCredentials {
                        pid: c.pid(),
                        uid: c.uid(),
                        gid: c.gid(),
                    }
                }),
                tls_peer: None,
            },
        };
        let limits = RecordLimits {
            max_record: self.settings.max_message.load(Ordering::Relaxed),
            ..RecordLimits::default()
        };
        let conn = Arc::new(Conn::new(key, fd, caller, limits, l.tls.clone()));
        conn.register(self.poller()).ok()?;
        s.map.insert(key, Source::Conn(conn.clone()));
        Some(conn)
    }

    // ---- datagrams ----

    /// Serves the datagrams waiting on `u` (registered under `key`). Its
    /// registration is edge-triggered: every datagram that arrived before
    /// this event is taken once a receive returns fewer than it asked for,
    /// and each one that arrives later brings an event of its own. Of a
    /// batch taken, this thread answers the first and queues the others
    /// for the pool; a full batch (more may wait) also queues the next
    /// receive, so no datagram waits for this thread's call.
    ///
    /// Having answered, the thread stays on the socket for the next
    /// datagram, up to [`STAY`], when another thread waits in the
    /// poller and none stays on `u` yet: `u` leaves the poller meanwhile,
    /// so a lone caller's next call costs one receive, not a wait in the
    /// poller too, and wakes this thread, not the pool's spare one. After
    /// the stay, `u` is registered again (a datagram that came meanwhile
    /// is reported at once).
    fn serve_datagrams(self: &Arc<Self>, key: u64, u: &Arc<UdpEndpoint>, scratch: &mut Scratch) {
        if scratch.datagrams.is_empty() {
            scratch.datagrams = vec![vec![0; UDP_BUFFER]; sys::MAX_DATAGRAM_BATCH];
        }
        let mut staying = false;
        while !self.stopping.load(Ordering::SeqCst) {
            let mut got = std::mem::take(&mut scratch.senders);
            let spin = self.spin_for(staying);
            let taken = u.recv_batch(&mut scratch.datagrams, &mut got, staying, spin);
            let more = (taken == scratch.datagrams.len()).then(|| Job::Receive(u.clone(), key));
            let mut batch = got.iter();
            let first = batch.next().copied();
            self.calls.fetch_add(got.len(), Ordering::SeqCst);
            let rest = batch.map(|&(i, n, from)| {
                Job::Datagram(
                    u.clone(),
                    crate::copy::to_vec(&scratch.datagrams[i][..n]),
                    from,
                )
            });
            let jobs: Vec<Job> = more.into_iter().chain(rest).collect();
            if !jobs.is_empty() {
                self.push_jobs(jobs.into_iter());
            }
            if let Some((i, n, from)) = first {
                let msg = std::mem::take(&mut scratch.datagrams[i]);
                self.answer_datagram(u, &msg[..n], from, &mut scratch.results);
                scratch.datagrams[i] = msg;
            }
            scratch.senders = got;
            if taken == 0 || !(staying || self.stay_on(key, u)) {
                break;
            }
            staying = true;
        }
        if staying {
            u.staying.store(false, Ordering::SeqCst);
            let _ = self.poller().modify_edge(u.fd(), key, Interest::READ);
        }
    }

    /// Whether this thread may stay on `u` (see [`serve_datagrams`](Self::serve_datagrams));
    /// if so, `u` is out of the poller until it leaves.
    fn stay_on(&self, key: u64, u: &UdpEndpoint) -> bool {
        if self.head.waiting() == 0 || u.staying.swap(true, Ordering::SeqCst) {
            return false;
        }
        if self
            .poller()
            .modify_edge(u.fd(), key, Interest::default())
            .is_err()
        {
            u.staying.store(false, Ordering::SeqCst);
            return false;
        }
        true
    }

    /// Answers one datagram (counted as a call being answered).
    fn answer_datagram(
        &self,
        u: &UdpEndpoint,
        msg: &[u8],
        from: SocketAddr,
        results: &mut Encoder,
    ) {
        let caller = u.caller(from);
        if let Some(head) = self.dispatcher.dispatch(msg, &caller, results) {
            u.reply(from, &head, results.as_bytes());
        }
        self.call_done();
    }

    /// A call is answered. Only `stop` waits on `idle`, after setting
    /// `stopping`: a notification costs a system call, so none is made
    /// before. Once stopping, every call that ends is told (`stop` called
    /// from a handler waits for one call, its own, to remain, not zero),
    /// under `conns`, the lock `stop` checks the count under before it
    /// waits, so a notification cannot fall between the two.
    fn call_done(&self) {
        self.calls.fetch_sub(1, Ordering::SeqCst);
        if self.stopping.load(Ordering::SeqCst) {
            let _conns = lock(&self.conns);
            self.idle.notify_all();
        }
    }

    // ---- timers ----

    /// Makes sure `key` has a timer entry no later than `at`.
    fn schedule(&self, key: u64, st: &mut ConnState, at: Instant) {
        if st.timer_at.is_some_and(|t| t <= at) {
            return;
        }
        st.timer_at = Some(at);
        let mut t = lock(&self.timers);
        self.push_timer(&mut t, at, key);
    }

    fn push_timer(&self, t: &mut Timers, at: Instant, key: u64) {
        if let Some(at) = t.push(at, key) {
            let _ = self.reactor().timer.set(self.poller(), Some(at));
        }
    }

    /// The timer fired: closes the connections idle or stalled for the
    /// idle timeout, re-arms starved listeners, and sets the next expiry.
    fn on_timer(self: &Arc<Self>) {
        let now = Instant::now();
        // The timeout may have been turned off since the timers were set.
        let idle = self.settings.idle().unwrap_or(Duration::MAX);
        let due = lock(&self.timers).take_due(now);
        for key in due {
            if key == SPARES {
                self.check_spares();
                continue;
            }
            let source = lock(&self.sources).map.get(&key).cloned();
            match source {
                Some(Source::Conn(c)) => {
                    let mut st = c.state();
                    st.timer_at = None;
                    if st.closed {
                        continue;
                    }
                    let later = |t: Instant| t.checked_add(idle);
                    let idle_at = (st.in_flight == 0 && !st.want_write)
                        .then(|| later(st.last_active))
                        .flatten();
                    let stall_at = st.stalled_since.and_then(later);
                    // A TLS handshake must finish in time, idle or not.
                    let handshake_at = c.handshaking().then(|| {
                        c.accepted_at() + self.settings.handshake_timeout(self.settings.idle())
                    });
                    let next = [idle_at, stall_at, handshake_at]
                        .into_iter()
                        .flatten()
                        .min();
                    match next {
                        Some(at) if at <= now => {
                            drop(st);
                            self.close(&c);
                        }
                        Some(at) => self.schedule(key, &mut st, at),
                        None => {}
                    }
                }
                Some(Source::Listener(l)) if !self.stopping.load(Ordering::SeqCst) => {
                    let _ = self.poller().rearm(l.socket.fd(), key, Interest::READ);
                }
                _ => {}
            }
        }
        let next = lock(&self.timers).rearm();
        if next.is_some() {
            let _ = self.reactor().timer.set(self.poller(), next);
        }
    }
}

/// Runs the settings' `thread_end` function, if any, when dropped: at the
/// end of a pool thread, however its loop ends.
struct Ending<'a>(&'a Settings);

impl Drop for Ending<'_> {
    fn drop(&mut self) {
        let end = lock(&self.0.thread_end).clone();
        if let Some(end) = end {
            // A panic must not unwind out of a thread's end (nor reach C).
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| end()));
        }
    }
}
