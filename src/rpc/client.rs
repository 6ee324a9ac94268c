//! The RPC client: one connection (or UDP socket) shared by every thread
//! that calls through it.
//!
//! Calls are matched to replies by xid. There is no reader thread: whichever
//! waiting caller finds nobody reading once its call is sent becomes the
//! reader (never a caller still writing: replies must keep being read while
//! a long write waits for the server, or both sides block). It reads messages
//! and hands each to the caller whose xid it carries, waking that caller
//! alone (a stray or late reply is dropped). When its own reply comes in it
//! first delivers the replies already buffered behind it, then passes the
//! reading on to one caller still waiting and returns. So several calls are
//! in flight on one connection at once, each reply costs at most one
//! wake-up, and a lone caller reads its own reply with no thread hand-off.
//!
//! Waiting for a reply is a blocking read bounded by the socket's receive
//! timeout (`SO_RCVTIMEO`), set only when the wait changes materially: a
//! call costs one `write` and one `read` system call, like the raw socket
//! calls it wraps.
//!
//! Calls leave in as few writes as possible: a call made while another
//! thread is writing, or while callers just handed their replies have not
//! yet taken them, waits in an outbox; the writer, or the last of those
//! callers, sends everything queued in one system call. Threads woken by
//! one read of many replies so usually answer with one write of many calls.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, ErrorKind, IoSlice, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::os::fd::BorrowedFd;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::Thread;
use std::time::{Duration, Instant};

use super::auth::{Credential, OpaqueAuth};
use super::message::{reply_results, CallHeader};
use crate::stream::record::{
    read_record, record_buffered, RecordLimits, LAST_FRAGMENT, MAX_FRAGMENT_LEN,
};
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
/// The longest a call waits: a timeout of `Duration::MAX` (no limit), or
/// anything longer, waits this long, which is for ever in practice and
/// leaves room for deadline arithmetic.
const NO_LIMIT: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);
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

/// The read half of a stream, buffered (only the current reader touches it).
enum Reader {
    Tcp(BufReader<TcpStream>),
    Unix(BufReader<UnixStream>),
    Udp(Vec<u8>),
}

/// What a waiting caller is handed: its reply, or the reading role.
#[derive(Default)]
struct Handed {
    reply: Option<Vec<u8>>,
    read_next: bool,
    /// The caller is still sending its call (and maybe others queued
    /// behind it): it must not be given the reading role meanwhile.
    sending: bool,
}

/// A waiting caller's own mailbox: it looks there when woken, without
/// the connection-wide lock the other callers contend for.
#[derive(Default)]
struct Slot(Mutex<Handed>);

/// A caller waiting for its reply.
struct Waiter {
    thread: Thread,
    slot: Arc<Slot>,
}

#[derive(Default)]
struct Demux {
    /// A caller holds the reading role (reading, or woken to read next).
    reading: bool,
    /// Callers whose replies have not come in, by xid.
    waiting: HashMap<u32, Waiter>,
    /// Why the connection is unusable (streams only).
    dead: Option<String>,
    /// The last error a UDP receive reported (e.g. ICMP port unreachable).
    udp_error: Option<String>,
}

impl Demux {
    /// Hands `msg` to the caller whose xid it carries (a stray or late
    /// reply is dropped); returns that caller's thread, to be woken once
    /// the lock is released (waking is a system call: not under the lock).
    #[must_use]
    fn deliver(&mut self, msg: Vec<u8>, handed: &AtomicUsize) -> Option<Thread> {
        if msg.len() < 4 {
            return None;
        }
        let xid = u32::from_be_bytes([msg[0], msg[1], msg[2], msg[3]]);
        let w = self.waiting.remove(&xid)?;
        handed.fetch_add(1, Ordering::SeqCst);
        lock(&w.slot.0).reply = Some(msg);
        Some(w.thread)
    }

    /// The reader leaves: one waiting caller that is not sending is handed
    /// the reading role; returns its thread, to be woken once the lock is
    /// released.
    #[must_use]
    fn pass_reading(&mut self) -> Option<Thread> {
        for w in self.waiting.values() {
            let mut handed = lock(&w.slot.0);
            if !handed.sending {
                handed.read_next = true;
                return Some(w.thread.clone());
            }
        }
        // Everyone is sending: the first to finish takes the role.
        self.reading = false;
        None
    }

    /// Takes `xid` off the waiting list when its call gives up: its reply
    /// if one came in meanwhile, and the thread to wake when the reading
    /// role, held or handed over meanwhile, passes on.
    #[must_use]
    fn leave(&mut self, xid: u32, slot: &Slot, reader: bool) -> (Option<Vec<u8>>, Option<Thread>) {
        self.waiting.remove(&xid);
        let mut handed = lock(&slot.0);
        let next = if reader || std::mem::take(&mut handed.read_next) {
            self.pass_reading()
        } else {
            None
        };
        (handed.reply.take(), next)
    }

    /// The connection is unusable: every caller wakes to see why.
    fn kill(&mut self, why: String) {
        self.dead.get_or_insert(why);
        for w in self.waiting.values() {
            w.thread.unpark();
        }
    }
}

/// A call ready to send: its record mark and call header (with the
/// arguments when they are small), then the arguments when they are not.
struct Call<'a> {
    head: Vec<u8>,
    args: &'a [u8],
}

/// Arguments shorter than this are copied behind the call header.
const COPY_ARGS_BELOW: usize = 1024;

/// Writes `head` then `tail` with as few system calls as the kernel allows
/// (a vectored write when there is a tail).
pub(crate) fn write_parts<W: Write + ?Sized>(
    w: &mut W,
    head: &[u8],
    tail: &[u8],
) -> std::io::Result<()> {
    if tail.is_empty() {
        return w.write_all(head);
    }
    let mut done = 0;
    while done < head.len() {
        let parts = [IoSlice::new(&head[done..]), IoSlice::new(tail)];
        match w.write_vectored(&parts) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => done += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    w.write_all(&tail[done - head.len()..])
}

/// Calls waiting to be written behind the write in progress.
#[derive(Default)]
struct Outbox {
    writing: bool,
    queued: Vec<u8>,
    /// The send timeout (`SO_SNDTIMEO`) set on a stream's socket; only the
    /// writer changes it.
    write_timeout: Option<Duration>,
}

/// The read half of a connection and the receive timeout set on its socket.
struct ReadSide {
    reader: Reader,
    timeout: Option<Duration>,
}

/// One connection and the calls in flight on it.
struct Conn {
    socket: Socket,
    outbox: Mutex<Outbox>,
    reader: Mutex<ReadSide>,
    demux: Mutex<Demux>,
    /// Set with `Demux::dead`, readable without the lock.
    broken: AtomicBool,
    /// Replies handed to callers that have not yet taken them. While there
    /// are some, new calls wait in the outbox: the callers about to take
    /// them are likely to call again, and the last one to take its reply
    /// writes all those calls at once (see [`Conn::reply_taken`]).
    handed: AtomicUsize,
    max_message: Arc<AtomicUsize>,
}

/// How [`Conn::read_one`] ended.
enum Read {
    Message(Vec<u8>),
    Idle,
}

/// Reads on a socket buffer this much at a time: many pipelined replies in
/// one system call, while most of a large reply bypasses the buffer.
const READ_BUFFER: usize = 16 << 10;

/// A socket timeout within this much above the wait is close enough.
const TIMEOUT_SLACK: Duration = Duration::from_millis(1);

/// `wait` as a socket timeout: a zero one means "forever" to the kernel
/// (and std refuses it).
fn socket_timeout(wait: Duration) -> Duration {
    wait.max(Duration::from_micros(1))
}

/// Whether the socket timeout already `set` bounds a wait of `wait` well
/// enough (between half of it and it plus [`TIMEOUT_SLACK`]), so that it
/// need not be set again.
fn timeout_fits(set: Option<Duration>, wait: Duration) -> bool {
    matches!(set, Some(t) if t <= wait + TIMEOUT_SLACK && t >= wait / 2)
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
                    Reader::Tcp(BufReader::with_capacity(READ_BUFFER, r)),
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
                    Reader::Unix(BufReader::with_capacity(READ_BUFFER, r)),
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
            outbox: Mutex::new(Outbox::default()),
            reader: Mutex::new(ReadSide {
                reader,
                timeout: None,
            }),
            demux: Mutex::new(Demux::default()),
            broken: AtomicBool::new(false),
            handed: AtomicUsize::new(0),
            max_message: max,
        })
    }

    fn is_udp(&self) -> bool {
        matches!(self.socket, Socket::Udp(_))
    }

    fn is_dead(&self) -> bool {
        self.broken.load(Ordering::Relaxed)
    }

    /// Sends one call: streams write its record, UDP sends the message
    /// alone. A stream write that makes no progress for about `wait` (the
    /// server has stopped reading) fails the call and closes the
    /// connection.
    fn send(&self, call: &Call<'_>, wait: Duration) -> Result<()> {
        match &self.socket {
            Socket::Udp(s) => {
                let joined;
                let msg = if call.args.is_empty() {
                    &call.head[4..]
                } else {
                    joined = [&call.head[4..], call.args].concat();
                    &joined[..]
                };
                match s.send(msg) {
                    Ok(_) => Ok(()),
                    // An earlier ICMP error surfaces on the next send: not fatal.
                    Err(e) if e.raw_os_error() == Some(libc::ECONNREFUSED) => Ok(()),
                    Err(e) => Err(Error::os("send", e)),
                }
            }
            Socket::Tcp(s) => self.write_record(&mut &*s, call, wait),
            Socket::Unix(s) => self.write_record(&mut &*s, call, wait),
        }
    }

    /// Writes `call`'s record, or queues it behind the write in progress
    /// (or behind the replies handed out and not yet taken): the caller
    /// writing, or the last to take its reply, then writes the queued
    /// records, all in one system call. No caller sleeps waiting for
    /// another's write, and calls made together leave together.
    fn write_record<W: Write>(&self, w: &mut W, call: &Call<'_>, wait: Duration) -> Result<()> {
        let mut out = lock(&self.outbox);
        if out.writing || self.handed.load(Ordering::SeqCst) > 0 {
            out.queued.extend_from_slice(&call.head);
            out.queued.extend_from_slice(call.args);
            return Ok(());
        }
        out.writing = true;
        let set = out.write_timeout;
        drop(out);
        let mut w = Bounded::new(self, w, set, wait);
        let written = w
            .start()
            .and_then(|()| write_parts(&mut w, &call.head, call.args));
        self.write_queued(&mut w, written)
    }

    /// Sets the stream's send timeout (`SO_SNDTIMEO`); only the writer
    /// does. Returns the timeout set.
    fn set_write_timeout(&self, wait: Duration) -> std::io::Result<Duration> {
        let wait = socket_timeout(wait);
        match &self.socket {
            Socket::Tcp(s) => s.set_write_timeout(Some(wait))?,
            Socket::Unix(s) => s.set_write_timeout(Some(wait))?,
            Socket::Udp(_) => {}
        }
        lock(&self.outbox).write_timeout = Some(wait);
        Ok(wait)
    }

    /// A caller took the reply handed to it; the last of those writes the
    /// calls queued meanwhile. The count drops under the outbox lock, so
    /// a call queued while it was above zero is always written.
    fn reply_taken(&self) {
        let mut out = lock(&self.outbox);
        if self.handed.fetch_sub(1, Ordering::SeqCst) != 1 || out.writing || out.queued.is_empty() {
            return;
        }
        out.writing = true;
        // The calls queued are bounded by the timeout already set.
        let set = out.write_timeout;
        let wait = set.unwrap_or(DEFAULT_TIMEOUT);
        drop(out);
        // A failure has marked the connection dead for the callers queued;
        // this caller has its reply.
        let _ = match &self.socket {
            Socket::Tcp(s) => {
                self.write_queued(&mut Bounded::new(self, &mut &*s, set, wait), Ok(()))
            }
            Socket::Unix(s) => {
                self.write_queued(&mut Bounded::new(self, &mut &*s, set, wait), Ok(()))
            }
            Socket::Udp(_) => Ok(()),
        };
    }

    /// As the outbox's writer, after a write that ended with `written`:
    /// writes what was queued meanwhile until nothing is, then gives up
    /// the role.
    fn write_queued<W: Write>(
        &self,
        w: &mut Bounded<'_, W>,
        mut written: std::io::Result<()>,
    ) -> Result<()> {
        let mut batch = Vec::new();
        loop {
            let mut out = lock(&self.outbox);
            if written.is_err() || out.queued.is_empty() {
                out.writing = false;
                out.queued.clear();
                break;
            }
            batch.clear();
            std::mem::swap(&mut batch, &mut out.queued);
            drop(out);
            written = w.start().and_then(|()| w.write_all(&batch));
        }
        written.map_err(|e| {
            let err = if is_timeout(&e) {
                Error::TimedOut(
                    "the server has stopped reading: the call could not be sent \
                     within its timeout, and the connection is closed"
                        .into(),
                )
            } else {
                Error::Closed(format!("sending the call failed: {e}"))
            };
            self.kill(err.to_string());
            err
        })
    }

    fn kill(&self, why: String) {
        self.kill_locked(&mut lock(&self.demux), why);
    }

    /// Marks the connection unusable (with `d` its locked demux) and wakes
    /// every caller to see why.
    fn kill_locked(&self, d: &mut Demux, why: String) {
        self.broken.store(true, Ordering::Relaxed);
        d.kill(why);
    }

    /// Waits up to `wait` for one message and reads it.
    fn read_one(&self, wait: Duration) -> Result<Read> {
        let mut side = lock(&self.reader);
        let side = &mut *side;
        let buffered = match &side.reader {
            Reader::Tcp(r) => !r.buffer().is_empty(),
            Reader::Unix(r) => !r.buffer().is_empty(),
            Reader::Udp(_) => false,
        };
        if !buffered {
            self.bound_wait(&mut side.timeout, wait)?;
        }
        let limits = RecordLimits {
            max_record: self.max_message.load(Ordering::Relaxed),
            ..RecordLimits::default()
        };
        let mut msg = Vec::new();
        let got = match &mut side.reader {
            Reader::Tcp(r) => read_stream(r, &mut msg, limits, buffered)?,
            Reader::Unix(r) => read_stream(r, &mut msg, limits, buffered)?,
            Reader::Udp(buf) => {
                let Socket::Udp(s) = &self.socket else {
                    unreachable!("UDP reader on a UDP socket")
                };
                return match s.recv(buf) {
                    Ok(n) => Ok(Read::Message(buf[..n].to_vec())),
                    Err(e) if is_timeout(&e) || e.kind() == ErrorKind::Interrupted => {
                        Ok(Read::Idle)
                    }
                    Err(e) => Err(Error::os("receive", e)),
                };
            }
        };
        match got {
            Some(true) => Ok(Read::Message(msg)),
            Some(false) => Err(Error::Closed("the server closed the connection".into())),
            None => Ok(Read::Idle),
        }
    }

    /// Whether a whole message is already buffered, so reading it costs no
    /// system call and cannot block.
    fn message_buffered(&self) -> bool {
        let side = lock(&self.reader);
        match &side.reader {
            Reader::Tcp(r) => record_buffered(r.buffer()),
            Reader::Unix(r) => record_buffered(r.buffer()),
            Reader::Udp(_) => false,
        }
    }

    /// Makes a blocking read on the socket return within about `wait`:
    /// sets the receive timeout unless the one set already fits
    /// ([`timeout_fits`]).
    fn bound_wait(&self, set: &mut Option<Duration>, wait: Duration) -> Result<()> {
        let wait = socket_timeout(wait);
        if timeout_fits(*set, wait) {
            return Ok(());
        }
        let r = match &self.socket {
            Socket::Tcp(s) => s.set_read_timeout(Some(wait)),
            Socket::Udp(s) => s.set_read_timeout(Some(wait)),
            Socket::Unix(s) => s.set_read_timeout(Some(wait)),
        };
        r.map_err(|e| Error::os("set the receive timeout", e))?;
        *set = Some(wait);
        Ok(())
    }

    /// Sends the call `msg` and waits for the reply to `xid`.
    fn call(&self, xid: u32, msg: &Call<'_>, timeout: Duration) -> Result<Vec<u8>> {
        let start = Instant::now();
        let deadline = start + timeout;
        let slot = Arc::new(Slot(Mutex::new(Handed {
            sending: true,
            ..Handed::default()
        })));
        {
            let mut d = lock(&self.demux);
            if let Some(why) = &d.dead {
                return Err(Error::Closed(why.clone()));
            }
            let waiter = Waiter {
                thread: std::thread::current(),
                slot: slot.clone(),
            };
            d.waiting.insert(xid, waiter);
        }
        // The reading role is taken only once the call is sent: a reader
        // blocked in a long write (its call and those queued behind it)
        // would leave replies unread, the server blocked writing them and
        // no longer reading, and the write blocked for ever.
        if let Err(e) = self.send(msg, timeout) {
            let (late, next) = lock(&self.demux).leave(xid, &slot, false);
            wake(next);
            if late.is_some() {
                self.reply_taken();
            }
            return Err(e);
        }
        // Whether this caller holds the reading role.
        let mut reader = {
            let mut d = lock(&self.demux);
            lock(&slot.0).sending = false;
            !std::mem::replace(&mut d.reading, true)
        };
        let udp = self.is_udp();
        let mut rto = INITIAL_RETRANSMIT;
        let mut next_send = start + rto;
        loop {
            {
                let mut handed = lock(&slot.0);
                if let Some(reply) = handed.reply.take() {
                    // The reading role may have been handed over as well.
                    let passed = std::mem::take(&mut handed.read_next);
                    drop(handed);
                    if reader || passed {
                        self.deliver_buffered();
                        let next = lock(&self.demux).pass_reading();
                        wake(next);
                    }
                    self.reply_taken();
                    return Ok(reply);
                }
                if std::mem::take(&mut handed.read_next) {
                    reader = true;
                }
            }
            let now = Instant::now();
            if self.is_dead() || now >= deadline {
                let mut d = lock(&self.demux);
                let (late, next) = d.leave(xid, &slot, reader);
                wake(next);
                if let Some(reply) = late {
                    drop(d);
                    self.reply_taken();
                    return Ok(reply);
                }
                if let Some(why) = &d.dead {
                    return Err(Error::Closed(why.clone()));
                }
                let extra = match &d.udp_error {
                    Some(e) => format!(" (last error: {e})"),
                    None => String::new(),
                };
                return Err(Error::TimedOut(format!(
                    "no reply to xid {xid:#x} within {timeout:?}{extra}"
                )));
            }
            if udp && now >= next_send {
                if let Err(e) = self.send(msg, deadline.saturating_duration_since(now)) {
                    let (late, next) = lock(&self.demux).leave(xid, &slot, reader);
                    wake(next);
                    if late.is_some() {
                        self.reply_taken();
                    }
                    return Err(e);
                }
                rto = (rto * 2).min(MAX_RETRANSMIT);
                next_send = Instant::now() + rto;
                continue;
            }
            let wake_at = if udp {
                deadline.min(next_send)
            } else {
                deadline
            };
            let wait = wake_at.saturating_duration_since(now);
            if !reader {
                // Woken with a reply, the reading role, or the connection's
                // end; a spurious wake-up just looks again.
                std::thread::park_timeout(wait);
                continue;
            }
            let got = self.read_one(wait);
            let mut d = lock(&self.demux);
            match got {
                Ok(Read::Message(m)) => {
                    let owner = d.deliver(m, &self.handed);
                    drop(d);
                    wake(owner);
                }
                Ok(Read::Idle) => {}
                Err(e) if udp => d.udp_error = Some(e.to_string()),
                Err(e) => self.kill_locked(&mut d, format!("connection lost: {e}")),
            }
        }
    }

    /// Delivers the replies already buffered whole (no system call).
    fn deliver_buffered(&self) {
        while self.message_buffered() {
            match self.read_one(Duration::ZERO) {
                Ok(Read::Message(m)) => {
                    let owner = lock(&self.demux).deliver(m, &self.handed);
                    wake(owner);
                }
                _ => return,
            }
        }
    }
}

/// The writer's side of a stream while it writes: each write (one record,
/// or one batch of queued records) may take `wait` in all. The first system
/// call is bounded by the send timeout already set when that is close to
/// `wait` (no extra system call); a write the kernel leaves partial sets
/// what is left of the time before the next, so a server that stops
/// reading fails the write within about `wait`, however the bytes trickle.
struct Bounded<'a, W: Write> {
    conn: &'a Conn,
    w: &'a mut W,
    set: Option<Duration>,
    wait: Duration,
    deadline: Instant,
    /// The next system call is the first of this write.
    first: bool,
}

impl<'a, W: Write> Bounded<'a, W> {
    fn new(conn: &'a Conn, w: &'a mut W, set: Option<Duration>, wait: Duration) -> Self {
        Bounded {
            conn,
            w,
            set,
            wait,
            deadline: Instant::now(),
            first: true,
        }
    }

    /// Starts one write: its time runs from now.
    fn start(&mut self) -> std::io::Result<()> {
        self.deadline = Instant::now() + self.wait;
        self.first = true;
        if timeout_fits(self.set, socket_timeout(self.wait)) {
            return Ok(());
        }
        self.set = Some(self.conn.set_write_timeout(self.wait)?);
        Ok(())
    }

    /// Before a system call that continues a write: bound it by what is left.
    fn rebound(&mut self) -> std::io::Result<()> {
        if std::mem::replace(&mut self.first, false) {
            return Ok(());
        }
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ErrorKind::TimedOut.into());
        }
        self.set = Some(self.conn.set_write_timeout(left)?);
        Ok(())
    }
}

impl<W: Write> Write for Bounded<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.rebound()?;
        self.w.write(buf)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> std::io::Result<usize> {
        self.rebound()?;
        self.w.write_vectored(bufs)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.w.flush()
    }
}

/// Wakes a waiting caller, if any (outside the connection's lock).
fn wake(thread: Option<Thread>) {
    if let Some(t) = thread {
        t.unpark();
    }
}

/// Reads one record from a buffered stream whose socket has a receive
/// timeout: Some(true) with a message, Some(false) at a clean end of
/// stream, None when the timeout passes (or a signal comes) before a byte
/// arrives. A timeout inside a record is an error: the stream is out of
/// step from then on.
fn read_stream<R: std::io::Read>(
    r: &mut BufReader<R>,
    msg: &mut Vec<u8>,
    limits: RecordLimits,
    buffered: bool,
) -> Result<Option<bool>> {
    if !buffered {
        match r.fill_buf() {
            Ok([]) => return Ok(Some(false)),
            Ok(_) => {}
            Err(e) if is_timeout(&e) || e.kind() == ErrorKind::Interrupted => return Ok(None),
            Err(e) => return Err(Error::os("read", e)),
        }
    }
    read_record(r, msg, limits).map(Some)
}

/// A receive timeout, as the kernel reports it.
fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
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

    /// The per-call timeout (default 25 s; `Duration::MAX`: no limit, a
    /// call waits as long as it takes). On UDP the call is retransmitted
    /// with backoff (250 ms doubling to 4 s) until the timeout. A timeout
    /// under 1 ms counts as 1 ms; zero is refused ([`Error::InvalidArgument`]):
    /// every call would fail at once.
    pub fn set_timeout(&self, timeout: Duration) -> Result<()> {
        if timeout.is_zero() {
            return Err(Error::InvalidArgument(
                "the call timeout must be positive".into(),
            ));
        }
        let ms = u64::try_from(timeout.min(NO_LIMIT).as_millis()).unwrap_or(u64::MAX);
        self.timeout_ms.store(ms.max(1), Ordering::Relaxed);
        Ok(())
    }

    /// The per-call timeout (`Duration::MAX` when there is no limit).
    pub fn timeout(&self) -> Duration {
        match self.limit() {
            NO_LIMIT => Duration::MAX,
            limit => limit,
        }
    }

    /// How long a call may wait: the timeout, no limit being [`NO_LIMIT`].
    fn limit(&self) -> Duration {
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
        self.call_with_timeout(procedure, args, self.limit())
    }

    /// [`call`](Self::call) with this call's own timeout.
    pub fn call_with_timeout(
        &self,
        procedure: u32,
        args: &[u8],
        timeout: Duration,
    ) -> Result<Vec<u8>> {
        let timeout = timeout.min(NO_LIMIT);
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
        self.current_conn()?.send(&msg, self.limit())
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
        let cred = self.cred.read().unwrap_or_else(|p| p.into_inner()).clone();
        // Small arguments are copied behind the header (one plain write);
        // large ones are written from the caller's buffer.
        let copy = args.len() < COPY_ARGS_BELOW;
        let room = 68 + cred.body.len() + if copy { args.len() } else { 0 };
        let mut enc = Encoder::with_capacity(room);
        // Room for the record mark.
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
        if copy {
            enc.put_raw(args);
        }
        let size = enc.len() - 4 + if copy { 0 } else { args.len() };
        let limit = self
            .max_message
            .load(Ordering::Relaxed)
            .min(MAX_FRAGMENT_LEN);
        if size > limit {
            return Err(Error::MessageTooLarge { size, limit });
        }
        let mut head = enc.into_bytes();
        head[..4].copy_from_slice(&(size as u32 | LAST_FRAGMENT).to_be_bytes());
        let args = if copy { &[][..] } else { args };
        Ok((xid, Call { head, args }))
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
            self.limit(),
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
