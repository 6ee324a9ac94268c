//! The event loop: a bounded pool of threads that all wait on one epoll
//! set, each taking one ready descriptor at a time and serving it itself.
//!
//! - A connection's read event goes to one waiting thread. It reads and
//!   decodes the calls that have arrived (up to the connection's in-flight
//!   limit), queues all but the first call for the other threads, and runs
//!   the first itself: a lone caller's call never changes threads. On
//!   one CPU no thread is woken for the queued calls: this one takes them
//!   in turn, unless its handler blocks (see [`Engine::check_queue`]).
//!   Connections are registered edge-triggered, once: no `epoll_ctl` per
//!   call. A thread reads until the socket is drained or the connection is
//!   full; bytes arriving later bring a new event, and a connection that
//!   was full resumes reading as a queued job when a call finishes.
//! - A UDP socket's event likewise: the thread takes up to 8 datagrams in
//!   one `recvmmsg`, queues all but the first (and, when the batch was
//!   full, the next receive) and answers the first. A thread staying on
//!   a UDP socket (below) that hears one caller alone takes a datagram
//!   per `recvfrom`, cheaper for that caller, and batches again when
//!   another sender shows up or a batch every 16 receives finds more.
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
//!
//! This file holds the engine's state, its sources and its start and stop.
//! Beside it: `pool` (the threads' loop and the queue of jobs), `stream` (a connection's events,
//! calls and replies, and the thread that stays on it), `datagram` (UDP
//! sockets), `accept` (new connections), `expiry` (what the timer ends),
//! and three parts that know nothing of the engine: `listener` (accepting
//! in batches, the descriptor reserve), `timers` (the heap of deadlines)
//! and `headcount` (the pool's counts and the rules for its size).

use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::os::fd::BorrowedFd;
use std::os::unix::net::UnixListener;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use nix::sys::epoll::EpollEvent;
use nix::sys::socket::{setsockopt, sockopt};

mod accept;
mod datagram;
mod expiry;
mod headcount;
mod listener;
mod pool;
mod stream;
mod timers;

use self::headcount::Headcount;
use self::listener::{Listening, StreamListener};
use self::timers::Timers;
use super::conn::Conn;
use super::dispatch::Dispatcher;
use super::udp::UdpEndpoint;
use crate::net::poll::{Bell, Events, Interest, Poller, Timer};
use crate::net::{spin, sys};
use crate::net::{ServerTls, UnixSocketFile};
use crate::rpc::protocol::Protocol;
use crate::stream::record::DEFAULT_MAX_RECORD;
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
/// How long a handler run by a thread staying on a UDP socket or a
/// connection may hold it: one that is still running after a whole period
/// of this (looked at by the loop's timer, only while a thread stays) has
/// the socket taken back for the pool, so other callers, or the
/// connection's next calls, do not wait for it.
const STAY_CHECK: Duration = Duration::from_millis(10);

const BELL: u64 = 0;
const TIMER: u64 = 1;
const FIRST_KEY: u64 = 2;
/// The timer heap's key for [`Engine::check_spares`] (no source has it).
const SPARES: u64 = u64::MAX;
/// The timer heap's key for [`Engine::check_queue`] (no source has it).
const QUEUE: u64 = u64::MAX - 1;

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
    /// The key of the connection whose reply this thread's last call left
    /// held (see [`Engine::next_job`]).
    holding: Option<u64>,
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
            holding: None,
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
    /// Jobs taken from `jobs` so far (see [`Engine::check_queue`]).
    popped: AtomicU64,
    /// A check of the queue is in the loop's timer, and what `popped` was
    /// when it was put there.
    queue_check: Mutex<Option<u64>>,
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
            popped: AtomicU64::new(0),
            queue_check: Mutex::new(None),
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

    pub fn add_tcp(&self, l: TcpListener, tls: Option<ServerTls>) -> Result<()> {
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
        tls: Option<ServerTls>,
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
}
