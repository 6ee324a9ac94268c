//! One connection (or UDP socket) of a client and the calls in flight on
//! it.
//!
//! Waiting for a reply is a blocking read bounded by the socket's receive
//! timeout (`SO_RCVTIMEO`), and writing a call a send that does not wait,
//! then, for what did not fit, blocking sends bounded by its send timeout
//! (`SO_SNDTIMEO`), each timeout set only when what is left of the call's
//! deadline no longer fits the one set: a call costs one `send` and one
//! `read`, like the raw socket calls it wraps, and one clock read, for its
//! deadline (a clock read costs 23 ns on the virtual machines xipc is
//! measured on). A reader that is the process's only caller waiting first
//! polls the socket for a few microseconds, where a CPU is free for it
//! ([`crate::net::spin`]): the reply of a small call comes sooner than the
//! wake-up from a sleep.
//!
//! Calls leave in as few writes as possible: a call made while another
//! thread is writing, or while callers just handed their replies have not
//! yet taken them, waits in an outbox; the writer, or the last of those
//! callers, sends everything queued in one system call. Threads woken by
//! one read of many replies so usually answer with one write of many calls.

use std::io::IoSlice;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use std::io::{BufRead as _, Write as _};

use rustls::ClientConnection;

use super::demux::{awaited, Bell, Death, Demux, Slot};
use crate::net::spin::{came, Spinner};
use crate::net::sys::{self, Sink};
use crate::net::{self, seal_in_turn, Deadline, TlsConfig};
use crate::rpc::protocol::Protocol;
use crate::rpc::tls::{check_starttls, probe};
use crate::stream::record::{read_record, RecordDecoder, RecordLimits};
use crate::sync::lock;
use crate::{Error, Result};

/// First UDP retransmission interval; it doubles up to [`MAX_RETRANSMIT`].
pub const INITIAL_RETRANSMIT: Duration = Duration::from_millis(250);
/// Longest UDP retransmission interval.
pub const MAX_RETRANSMIT: Duration = Duration::from_secs(4);

/// Reads on a stream buffer this much at a time: many pipelined replies in
/// one system call, while most of a large reply bypasses the buffer.
const READ_BUFFER: usize = 16 << 10;
/// Reply bodies at least this long still to come are read straight into place.
const DIRECT_BODY: usize = 4096;
/// A socket timeout within this much above the wait is close enough.
const TIMEOUT_SLACK: Duration = Duration::from_millis(1);

/// Where a client connects, kept for reconnecting.
#[derive(Clone, Debug)]
pub(super) enum Target {
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

    fn set_read_timeout(&self, t: Duration) -> std::io::Result<()> {
        match self {
            Socket::Tcp(s) => s.set_read_timeout(Some(t)),
            Socket::Udp(s) => s.set_read_timeout(Some(t)),
            Socket::Unix(s) => s.set_read_timeout(Some(t)),
        }
    }

    fn set_write_timeout(&self, t: Duration) -> std::io::Result<()> {
        match self {
            Socket::Tcp(s) => s.set_write_timeout(Some(t)),
            Socket::Udp(s) => s.set_write_timeout(Some(t)),
            Socket::Unix(s) => s.set_write_timeout(Some(t)),
        }
    }
}

/// A call ready to send: its record mark and call header (with the
/// arguments when they are small), then the arguments when they are not.
pub(super) struct Call<'a> {
    pub head: Vec<u8>,
    pub args: &'a [u8],
}

/// Calls waiting to be written behind the write in progress.
#[derive(Default)]
struct Outbox {
    writing: bool,
    queued: Vec<u8>,
    /// The send timeout (`SO_SNDTIMEO`) set on the socket; only the writer
    /// changes it.
    write_timeout: Option<Duration>,
}

/// The read half: bytes read ahead, the record decoder, and the receive
/// timeout set on the socket. Only the caller holding the reading role
/// touches it.
struct ReadSide {
    dec: RecordDecoder,
    /// What the socket gave: records, or TLS records on a TLS connection.
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// On a TLS connection, the plaintext TLS gave and the decoder has not
    /// taken yet (from `plain_pos`).
    plain: Vec<u8>,
    plain_pos: usize,
    timeout: Option<Duration>,
}

impl ReadSide {
    /// The next whole message among the bytes already read (no system call).
    fn next_buffered(&mut self) -> Result<Option<Vec<u8>>> {
        let (bytes, pos) = if self.plain.is_empty() {
            (&self.buf[..self.end], &mut self.pos)
        } else {
            (&self.plain[..], &mut self.plain_pos)
        };
        while *pos < bytes.len() {
            let (used, msg) = self.dec.decode(&bytes[*pos..])?;
            *pos += used;
            if msg.is_some() {
                return Ok(msg);
            }
        }
        if !self.plain.is_empty() {
            self.plain.clear();
            self.plain_pos = 0;
        }
        Ok(None)
    }
}

/// How a read for a reply ended.
enum Read {
    Message(Vec<u8>),
    /// Nothing (whole) arrived within the wait, or a signal came.
    Idle,
}

/// One connection and the calls in flight on it.
pub(super) struct Conn {
    socket: Socket,
    outbox: Mutex<Outbox>,
    reader: Mutex<ReadSide>,
    demux: Mutex<Demux>,
    /// Where callers wait for their replies.
    bell: Bell,
    /// Set with `Demux::dead`, readable without the lock.
    broken: AtomicBool,
    /// Replies handed to callers that have not yet taken them. While there
    /// are some, new calls wait in the outbox: the callers about to take
    /// them are likely to call again, and the last one to take its reply
    /// writes all those calls at once (see [`Conn::reply_taken`]).
    handed: AtomicUsize,
    settings: Arc<ConnSettings>,
    /// The TLS session of an RPC-with-TLS connection.
    tls: Option<Mutex<ClientConnection>>,
    /// Whether a wait for a reply polls first (see [`crate::net::spin`]).
    spin: Spinner,
}

/// What a client connects with TLS: the configuration, the name to check
/// the server's certificate against, and the program and version whose
/// NULL procedure carries the probe.
pub(super) struct TlsTarget<'a> {
    pub config: &'a TlsConfig,
    pub host: &'a str,
    pub prog: u32,
    pub vers: u32,
}

/// A client's settings that its connections read as they go.
#[derive(Debug)]
pub(super) struct ConnSettings {
    /// The largest call sent and reply accepted.
    pub max_message: AtomicUsize,
    /// How long a wait for a reply polls the socket first, in µs (see
    /// [`crate::net::spin`]; 0: never).
    pub busy_poll_us: AtomicU64,
}

impl Conn {
    pub fn open(
        target: &Target,
        proto: Protocol,
        deadline: Deadline,
        settings: Arc<ConnSettings>,
        tls: Option<TlsTarget<'_>>,
    ) -> Result<Conn> {
        if tls.is_some() && proto == Protocol::Udp {
            return Err(Error::Unsupported(
                "RPC-with-TLS runs on TCP and Unix stream sockets; UDP would need DTLS, \
                 which xipc does not do"
                    .into(),
            ));
        }
        let socket = match (proto, target) {
            (Protocol::Tcp, Target::Inet(addr)) => Socket::Tcp(net::connect_addr(*addr, deadline)?),
            (Protocol::Udp, Target::Inet(addr)) => {
                let any = if addr.is_ipv4() { "0.0.0.0" } else { "::" };
                let s = net::listen_udp(any, 0)?;
                s.connect(addr)
                    .map_err(|e| Error::os(format!("connect UDP to {addr}"), e))?;
                Socket::Udp(s)
            }
            (Protocol::Unix, Target::Unix(path)) => {
                Socket::Unix(net::connect_unix(path, deadline)?)
            }
            _ => {
                return Err(Error::InvalidArgument(
                    "protocol and address disagree".into(),
                ))
            }
        };
        let buf = match proto {
            Protocol::Udp => vec![0; 65536],
            _ => vec![0; READ_BUFFER],
        };
        let tls = match tls {
            Some(t) => Some(Mutex::new(start_tls(&socket, &t, deadline)?)),
            None => None,
        };
        Ok(Conn {
            tls,
            socket,
            outbox: Mutex::new(Outbox::default()),
            reader: Mutex::new(ReadSide {
                dec: RecordDecoder::default(),
                buf,
                pos: 0,
                end: 0,
                plain: Vec::new(),
                plain_pos: 0,
                timeout: None,
            }),
            demux: Mutex::new(Demux::default()),
            bell: Bell::default(),
            broken: AtomicBool::new(false),
            handed: AtomicUsize::new(0),
            settings,
            spin: Spinner::new(),
        })
    }

    fn is_udp(&self) -> bool {
        matches!(self.socket, Socket::Udp(_))
    }

    /// The socket's descriptor (see [`Client`](super::Client)'s `AsRawFd`).
    pub fn raw_fd(&self) -> RawFd {
        self.socket.fd().as_raw_fd()
    }

    pub fn is_dead(&self) -> bool {
        self.broken.load(Ordering::Relaxed)
    }

    /// Sends one call: streams write its record, UDP sends the message
    /// alone. A stream write that is not done by `deadline` (the server
    /// has stopped reading) fails the call and closes the connection.
    /// Returns whether the send may have waited (for room in the socket):
    /// if not, it took no time worth a clock read.
    pub fn send(&self, call: &Call<'_>, deadline: Deadline) -> Result<bool> {
        if let Socket::Udp(s) = &self.socket {
            let parts = [IoSlice::new(&call.head[4..]), IoSlice::new(call.args)];
            let parts = if call.args.is_empty() {
                &parts[..1]
            } else {
                &parts[..]
            };
            // First without waiting for room: a datagram nearly always
            // fits, and then the send took no time worth a clock read.
            let (sent, waited) = match sys::write(s.as_fd(), Sink::SocketNow, parts) {
                Err(Error::WouldBlock) => (sys::write(s.as_fd(), Sink::Socket, parts), true),
                sent => (sent, false),
            };
            return match sent {
                Ok(_) => Ok(waited),
                // An earlier ICMP error surfaces on the next send: not fatal.
                Err(Error::Os { source, .. })
                    if source.raw_os_error() == Some(libc::ECONNREFUSED) =>
                {
                    Ok(waited)
                }
                Err(e) => Err(e),
            };
        }
        self.write_record(call, deadline)
    }

    /// Writes `call`'s record, or queues it behind the write in progress
    /// (or behind the replies handed out and not yet taken): the caller
    /// writing, or the last to take its reply, then writes the queued
    /// records, all in one system call. No caller sleeps waiting for
    /// another's write, and calls made together leave together.
    fn write_record(&self, call: &Call<'_>, deadline: Deadline) -> Result<bool> {
        let mut out = lock(&self.outbox);
        if out.writing || self.handed.load(Ordering::SeqCst) > 0 {
            out.queued.extend_from_slice(&call.head);
            crate::copy::extend(&mut out.queued, call.args);
            return Ok(false);
        }
        out.writing = true;
        let mut set = out.write_timeout;
        drop(out);
        let written = self.write_all(&[&call.head, call.args], deadline, &mut set);
        self.write_queued(written, deadline, set)
    }

    /// Writes all of `parts` by `deadline`, as the outbox's writer. The
    /// first system call does not wait for room: a call that fits in the
    /// socket's buffer, the common case, is sent without reading the
    /// clock. What remains is written by sends bounded by the send
    /// timeout: the one already set when it fits what is left (no extra
    /// system call); a write the kernel leaves partial sets what is left
    /// of the time before the next, so a server that stops reading fails
    /// the write by the deadline, however the bytes trickle. Returns
    /// whether it may have waited.
    fn write_all(
        &self,
        parts: &[&[u8]],
        deadline: Deadline,
        set: &mut Option<Duration>,
    ) -> Result<bool> {
        match &self.tls {
            Some(tls) => self.write_sealed(tls, parts, deadline, set),
            None => self.write_raw(parts, deadline, set),
        }
    }

    /// [`write_all`](Self::write_all) through the TLS session: encrypted
    /// under the session's lock, written outside it. (A function of its
    /// own, kept out of line, so that tools can tell TLS records from
    /// cleartext on the stack: tests/c/valgrind.supp names it.)
    #[inline(never)]
    fn write_sealed(
        &self,
        tls: &Mutex<ClientConnection>,
        parts: &[&[u8]],
        deadline: Deadline,
        set: &mut Option<Duration>,
    ) -> Result<bool> {
        let rest = {
            let mut tls = lock(tls);
            // Each record, as it is sealed, goes from the session's buffer
            // straight to the socket while the socket takes it; the rest
            // is copied out and written after the lock is released (the
            // caller reading replies needs the session meanwhile). Any
            // failure here is met again, and reported, by that write.
            let mut direct = true;
            let mut rest = Vec::new();
            seal_in_turn(&mut **tls, parts, |tls| {
                while tls.wants_write() {
                    if direct {
                        match tls.write_tls(&mut net::SocketNow(self.socket.fd())) {
                            Ok(_) => {}
                            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                            Err(_) => direct = false,
                        }
                        continue;
                    }
                    tls.write_tls(&mut rest)?;
                }
                Ok(())
            })
            .map_err(|e| Error::Tls(format!("sealing the call: {e}")))?;
            rest
        };
        self.write_raw(&[&rest], deadline, set)
    }

    /// [`write_all`](Self::write_all) of bytes as they go on the socket.
    fn write_raw(
        &self,
        parts: &[&[u8]],
        deadline: Deadline,
        set: &mut Option<Duration>,
    ) -> Result<bool> {
        let total: usize = parts.iter().map(|p| p.len()).sum();
        if total == 0 {
            return Ok(false);
        }
        let mut slices = [IoSlice::new(&[]); sys::MAX_PARTS];
        let n = sys::skip_bytes(parts, 0, usize::MAX, &mut slices);
        let mut done = match sys::write(self.socket.fd(), Sink::SocketNow, &slices[..n]) {
            Ok(n) if n == total => return Ok(false),
            Ok(n) => n,
            Err(Error::WouldBlock | Error::Interrupted) => 0,
            Err(e) => return Err(Error::Closed(format!("sending the call failed: {e}"))),
        };
        let mut first = true;
        while done < total {
            let now = Instant::now();
            if deadline.passed_at(now) {
                return Err(stopped_reading());
            }
            let left = socket_timeout(deadline.remaining_at(now).unwrap_or(Duration::MAX));
            if !(first && timeout_fits(*set, left)) {
                self.socket
                    .set_write_timeout(left)
                    .map_err(|e| Error::os("set the send timeout", e))?;
                *set = Some(left);
            }
            first = false;
            let mut slices = [IoSlice::new(&[]); sys::MAX_PARTS];
            let n = sys::skip_bytes(parts, done, usize::MAX, &mut slices);
            match sys::write(self.socket.fd(), Sink::Socket, &slices[..n]) {
                Ok(n) => done += n,
                Err(Error::WouldBlock) => return Err(stopped_reading()),
                Err(Error::Interrupted) => {}
                Err(e) => return Err(Error::Closed(format!("sending the call failed: {e}"))),
            }
        }
        Ok(true)
    }

    /// As the outbox's writer, after a write that ended with `written`:
    /// writes what was queued meanwhile until nothing is, then gives up
    /// the role (recording the send timeout it left set). Returns whether
    /// any of the writes may have waited.
    fn write_queued(
        &self,
        mut written: Result<bool>,
        deadline: Deadline,
        mut set: Option<Duration>,
    ) -> Result<bool> {
        let mut batch = Vec::new();
        let mut waited = false;
        loop {
            let mut out = lock(&self.outbox);
            waited |= *written.as_ref().unwrap_or(&true);
            if written.is_err() || out.queued.is_empty() {
                out.writing = false;
                out.queued.clear();
                out.write_timeout = set;
                break;
            }
            batch.clear();
            std::mem::swap(&mut batch, &mut out.queued);
            drop(out);
            written = self.write_all(&[&batch], deadline, &mut set);
        }
        written
            .map(|_| waited)
            .inspect_err(|err| self.kill(Death::of(err)))
    }

    /// A caller took the reply handed to it; the last of those writes the
    /// calls queued meanwhile. The count drops under the outbox lock, so
    /// a call queued while it was above zero is always written.
    pub fn reply_taken(&self, deadline: Deadline) {
        let mut out = lock(&self.outbox);
        if self.handed.fetch_sub(1, Ordering::SeqCst) != 1 || out.writing || out.queued.is_empty() {
            return;
        }
        out.writing = true;
        let set = out.write_timeout;
        drop(out);
        // A failure has marked the connection dead for the callers queued;
        // this caller has its reply.
        let _ = self.write_queued(Ok(false), deadline, set);
    }

    fn kill(&self, why: Death) {
        self.kill_locked(&mut lock(&self.demux), why);
    }

    /// Marks the connection unusable (with `d` its locked demux) and wakes
    /// every caller to see why.
    fn kill_locked(&self, d: &mut Demux, why: Death) {
        self.broken.store(true, Ordering::Relaxed);
        d.kill(why);
        self.bell.ring(u32::MAX);
    }

    /// Waits up to `wait` for one message and reads it.
    fn read_one(&self, wait: Duration) -> Result<Read> {
        let mut side = lock(&self.reader);
        let side = &mut *side;
        let limits = RecordLimits {
            max_record: self.settings.max_message.load(Ordering::Relaxed),
            ..RecordLimits::default()
        };
        side.dec.set_limits(limits);
        if let Some(msg) = side.next_buffered()? {
            return Ok(Read::Message(msg));
        }
        self.bound_wait(&mut side.timeout, wait)?;
        let fd = self.socket.fd();
        // Poll before sleeping only as the process's one waiting caller,
        // with no caller about to take a reply handed to it (and call again).
        let alone = awaited() <= 1 && self.handed.load(Ordering::SeqCst) == 0;
        let limit = match alone {
            true => Duration::from_micros(self.settings.busy_poll_us.load(Ordering::Relaxed)),
            false => Duration::ZERO,
        };
        let spin =
            |attempt: &mut dyn FnMut() -> Option<Result<usize>>| self.spin.spin(limit, attempt);
        if let Socket::Udp(_) = self.socket {
            let got = spin(&mut || came(sys::recv(fd, &mut side.buf, false)))
                .unwrap_or_else(|| sys::read(fd, &mut side.buf));
            return match got {
                Ok(n) => Ok(Read::Message(crate::copy::to_vec(&side.buf[..n]))),
                Err(Error::WouldBlock | Error::Interrupted) => Ok(Read::Idle),
                Err(e) => Err(e),
            };
        }
        loop {
            if self.tls.is_none() && side.dec.fragment_left() >= DIRECT_BODY {
                let Some((got, msg)) = side.dec.append_body(|record, max| {
                    spin(&mut || came(sys::recv_append_then(fd, record, max, &mut [], false)))
                        .unwrap_or_else(|| sys::read_append(fd, record, max))
                }) else {
                    break Ok(Read::Idle);
                };
                match got {
                    Ok(0) => return Err(side.dec.finish().err().unwrap_or_else(closed_by_server)),
                    Ok(_) => {}
                    Err(Error::WouldBlock) => return Err(cut_off()),
                    Err(Error::Interrupted) => return Ok(Read::Idle),
                    Err(e) => return Err(e),
                }
                if let Some(msg) = msg {
                    return Ok(Read::Message(msg));
                }
                continue;
            }
            let got = spin(&mut || came(sys::recv(fd, &mut side.buf, false)))
                .unwrap_or_else(|| sys::read(fd, &mut side.buf));
            match got {
                Ok(0) => {
                    side.dec.finish()?;
                    return Err(closed_by_server());
                }
                Ok(n) => {
                    side.pos = 0;
                    side.end = n;
                    if let Some(tls) = &self.tls {
                        open_tls(&mut lock(tls), side)?;
                    }
                }
                // Timed out between replies: nothing lost. Inside one, the
                // stream is out of step with its records for good.
                Err(Error::WouldBlock) if side.dec.is_idle() => return Ok(Read::Idle),
                Err(Error::WouldBlock) => return Err(cut_off()),
                Err(Error::Interrupted) => return Ok(Read::Idle),
                Err(e) => return Err(e),
            }
            if let Some(msg) = side.next_buffered()? {
                return Ok(Read::Message(msg));
            }
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
        self.socket
            .set_read_timeout(wait)
            .map_err(|e| Error::os("set the receive timeout", e))?;
        *set = Some(wait);
        Ok(())
    }

    /// Sends the call `msg` and waits for the reply to `xid` until
    /// `deadline` (`timeout` is what it was made from, for messages).
    /// `now`, when given, is the clock read that made `deadline`, taken
    /// just before: it stands for the time until something may wait.
    pub fn call(
        &self,
        xid: u32,
        msg: &Call<'_>,
        deadline: Deadline,
        timeout: Option<Duration>,
        now: Option<Instant>,
    ) -> Result<Vec<u8>> {
        let slot = Slot::sending();
        let got = self.call_in(&slot, xid, msg, (deadline, now), timeout);
        Slot::done(slot);
        got
    }

    /// [`call`](Self::call), its reply (or the reading role) handed to `slot`.
    fn call_in(
        &self,
        slot: &Arc<Slot>,
        xid: u32,
        msg: &Call<'_>,
        (deadline, now): (Deadline, Option<Instant>),
        timeout: Option<Duration>,
    ) -> Result<Vec<u8>> {
        {
            let mut d = lock(&self.demux);
            if let Some(why) = &d.dead {
                return Err(why.error());
            }
            d.wait_for(xid, slot.clone());
        }
        // The reading role is taken only once the call is sent: a reader
        // blocked in a long write (its call and those queued behind it)
        // would leave replies unread, the server blocked writing them and
        // no longer reading, and the write blocked for ever.
        let waited = match self.send(msg, deadline) {
            Ok(waited) => waited,
            Err(e) => {
                let (late, next) = lock(&self.demux).leave(xid, slot, false);
                self.bell.ring(next);
                if late.is_some() {
                    self.reply_taken(deadline);
                }
                return Err(e);
            }
        };
        // A send that did not wait took no time to speak of: the clock
        // read that made the deadline still tells the time.
        let mut known_now = now.filter(|_| !waited);
        // Whether this caller holds the reading role.
        let mut reader = {
            let mut d = lock(&self.demux);
            slot.lock().sending = false;
            !std::mem::replace(&mut d.reading, true)
        };
        let udp = self.is_udp();
        let mut rto = INITIAL_RETRANSMIT;
        // Retransmission is for UDP only: no clock read for it on streams,
        // and on UDP none but the deadline's when the send did not wait.
        let mut next_send = match (udp, known_now) {
            (true, Some(now)) => Deadline::after_from(now, Some(rto)),
            (true, None) => Deadline::after(Some(rto)),
            (false, _) => Deadline::NEVER,
        };
        let bit = Bell::bit(xid);
        loop {
            // Read before the slot is looked at: a ring after the look
            // makes the sleep below return at once.
            let heard = self.bell.heard();
            {
                let mut handed = slot.lock();
                if let Some(reply) = handed.reply.take() {
                    // The reading role may have been handed over as well.
                    let passed = std::mem::take(&mut handed.read_next);
                    drop(handed);
                    if reader || passed {
                        let owners = self.deliver_buffered();
                        let next = lock(&self.demux).pass_reading();
                        self.bell.ring(owners | next);
                    }
                    self.reply_taken(deadline);
                    return Ok(reply);
                }
                if std::mem::take(&mut handed.read_next) {
                    reader = true;
                }
            }
            let now = known_now.take().unwrap_or_else(Instant::now);
            if self.is_dead() || deadline.passed_at(now) {
                let mut d = lock(&self.demux);
                let (late, next) = d.leave(xid, slot, reader);
                self.bell.ring(next);
                if let Some(reply) = late {
                    drop(d);
                    self.reply_taken(deadline);
                    return Ok(reply);
                }
                if let Some(why) = &d.dead {
                    return Err(why.error());
                }
                let extra = match &d.udp_error {
                    Some(e) => format!(" (last error: {e})"),
                    None => String::new(),
                };
                let within = timeout.map_or_else(String::new, |t| format!(" within {t:?}"));
                return Err(Error::TimedOut(format!(
                    "no reply to xid {xid:#x}{within}{extra}"
                )));
            }
            if udp && next_send.passed_at(now) {
                if let Err(e) = self.send(msg, deadline) {
                    let (late, next) = lock(&self.demux).leave(xid, slot, reader);
                    self.bell.ring(next);
                    if late.is_some() {
                        self.reply_taken(deadline);
                    }
                    return Err(e);
                }
                rto = (rto * 2).min(MAX_RETRANSMIT);
                next_send = Deadline::after(Some(rto));
                continue;
            }
            let wake_at = if udp {
                deadline.earliest(next_send)
            } else {
                deadline
            };
            let wait = wake_at.remaining_at(now).unwrap_or(Duration::MAX);
            if !reader {
                // Woken with a reply, the reading role, or the connection's
                // end; a spurious wake-up just looks again.
                self.bell.sleep(heard, bit, wait);
                continue;
            }
            let got = self.read_one(wait);
            let mut d = lock(&self.demux);
            match got {
                Ok(Read::Message(m)) => {
                    let owner = d.deliver(m, &self.handed);
                    drop(d);
                    // The rest of what the read brought, woken together.
                    self.bell.ring(owner | self.deliver_buffered());
                }
                Ok(Read::Idle) => {}
                Err(e) if udp => d.udp_error = Some(e.to_string()),
                Err(e) => self.kill_locked(&mut d, Death::of(&e)),
            }
        }
    }

    /// Delivers the replies already buffered whole (no system call);
    /// returns the bits of the [`Bell`] to ring for them.
    fn deliver_buffered(&self) -> u32 {
        let mut owners = 0;
        loop {
            let msg = match lock(&self.reader).next_buffered() {
                Ok(Some(msg)) => msg,
                _ => return owners,
            };
            owners |= lock(&self.demux).deliver(msg, &self.handed);
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

/// Feeds the TLS records just read (`side.buf[..side.end]`) to the session
/// and moves the plaintext they carry to `side.plain`.
fn open_tls(tls: &mut ClientConnection, side: &mut ReadSide) -> Result<()> {
    let mut input = &side.buf[..side.end];
    side.pos = side.end;
    while !input.is_empty() {
        tls.read_tls(&mut input)
            .map_err(|e| Error::Tls(format!("reading TLS records: {e}")))?;
        tls.process_new_packets()
            .map_err(|e| Error::Tls(format!("a TLS record from the server: {e}")))?;
    }
    // The plaintext goes from the session's buffers to `plain` in one copy.
    loop {
        let mut reader = tls.reader();
        match reader.fill_buf() {
            Ok([]) => return Err(closed_by_server()),
            Ok(chunk) => {
                let n = chunk.len();
                crate::copy::extend(&mut side.plain, chunk);
                reader.consume(n);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) => return Err(Error::Tls(format!("the server's TLS stream: {e}"))),
        }
    }
}

/// RFC 9289 on a new connection: the AUTH_TLS probe in the clear, which
/// must be answered with STARTTLS, then a TLS 1.3 handshake on the same
/// connection, all by `deadline`. No call is sent before it succeeds.
fn start_tls(socket: &Socket, t: &TlsTarget<'_>, deadline: Deadline) -> Result<ClientConnection> {
    let (config, name) = t.config.client_config(t.host)?;
    let timeout =
        |what: &str| Error::TimedOut(format!("{what} with {} did not finish in time", t.host));
    let bound = |s: &Socket| -> Result<()> {
        let left = socket_timeout(deadline.remaining().unwrap_or(Duration::MAX));
        s.set_read_timeout(left)
            .and_then(|()| s.set_write_timeout(left))
            .map_err(|e| Error::os("set the socket timeouts", e))
    };
    bound(socket)?;
    let xid = initial_xid();
    // Blocking, each system call bounded by the timeouts `bound` sets.
    let mut io = net::SocketIo(socket.fd());
    io.write_all(&probe(xid, t.prog, t.vers))
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::WouldBlock => timeout("the RPC-with-TLS probe"),
            _ => Error::os("send the RPC-with-TLS probe", e),
        })?;
    let mut reply = Vec::new();
    let limits = RecordLimits {
        max_record: 1024,
        ..RecordLimits::default()
    };
    match read_record(&mut io, &mut reply, limits) {
        Ok(true) => {}
        Ok(false) => {
            return Err(Error::Tls(format!(
                "{} closed the connection instead of answering the RPC-with-TLS probe",
                t.host
            )))
        }
        Err(Error::Os { source, .. }) if source.kind() == std::io::ErrorKind::WouldBlock => {
            return Err(timeout("the RPC-with-TLS probe"))
        }
        Err(e) => {
            return Err(Error::Tls(format!(
                "the reply to the RPC-with-TLS probe: {e}"
            )))
        }
    }
    check_starttls(&reply, xid)?;
    let mut tls = ClientConnection::new(config, name)
        .map_err(|e| Error::Tls(format!("starting TLS: {e}")))?;
    // A call is sealed whole before it is written: no plaintext limit.
    tls.set_buffer_limit(None);
    while tls.is_handshaking() {
        bound(socket)?;
        match tls.complete_io(&mut io) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                return Err(timeout("the TLS handshake"))
            }
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                return Err(Error::Tls(format!(
                    "the TLS handshake with {}: {e}",
                    t.host
                )))
            }
            Err(e) => {
                return Err(Error::Tls(format!(
                    "the TLS handshake with {}: {e} (the server ended it)",
                    t.host
                )))
            }
        }
    }
    Ok(tls)
}

fn stopped_reading() -> Error {
    Error::TimedOut(
        "the server has stopped reading: the call could not be sent \
         within its timeout, and the connection is closed"
            .into(),
    )
}

fn cut_off() -> Error {
    Error::Closed(
        "a reply stopped in the middle of its record: the connection is out of step".into(),
    )
}

fn closed_by_server() -> Error {
    Error::Closed("the server closed the connection".into())
}

/// `wait` as a socket timeout: a zero one means "forever" to the kernel
/// (and std refuses it).
fn socket_timeout(wait: Duration) -> Duration {
    wait.max(Duration::from_micros(1))
}

/// Whether the socket timeout already `set` bounds a wait of `wait` well
/// enough (between half of it and it plus [`TIMEOUT_SLACK`]), so that it
/// need not be set again.
fn timeout_fits(set: Option<Duration>, wait: Duration) -> bool {
    matches!(set, Some(t) if t <= wait.saturating_add(TIMEOUT_SLACK) && t >= wait / 2)
}

/// A starting xid that differs between clients and processes.
pub(super) fn initial_xid() -> u32 {
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
