//! A stream connection of the event loop: its socket (nonblocking), the
//! calls being read from it, the replies waiting to be written to it, and
//! the edge-triggered registration that tells the loop when it is ready.
//!
//! Calls are read by the thread that takes the connection's read event;
//! replies are written by the thread that finishes a call, straight from
//! its own buffers, unless another thread is writing or the socket is full:
//! then they queue, and whoever writes next sends everything queued in one
//! vectored write. No reply waits for another call to finish.

use std::collections::VecDeque;
use std::io::IoSlice;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use std::io::BufRead;
use std::sync::{Arc, OnceLock};

use rustls::server::ServerConnectionData;
use rustls::{ConnectionCommon, ServerConfig, ServerConnection};

use super::dispatch::Caller;
use super::stay::StayWatch;
use crate::net::poll::{Interest, Poller};
use crate::net::spin::{came, Spinner};
use crate::net::sys::{self, Sink};
use crate::net::{seal_in_turn, SocketNow, TlsPeer};
use crate::rpc::tls::{answer_before_tls, BeforeTls};
use crate::stream::record::{RecordDecoder, RecordLimits};
use crate::sync::lock;
use crate::xdr::Encoder;
use crate::Error;

/// Bodies at least this long still to come are read straight into place.
const DIRECT_BODY: usize = 4096;
/// The most buffers one vectored write takes (Linux's IOV_MAX is 1024).
const MAX_IOV: usize = 64;

/// How reading a connection ended for now.
#[derive(Debug)]
pub(super) enum ReadEnd {
    /// Nothing more to read now: the socket gave all it had (the
    /// edge-triggered registration tells when more comes), or what did
    /// not fit waits in the connection's backlog.
    Later,
    /// The calls taken fill the room given, and the socket may hold more:
    /// reading resumes when a call finishes.
    Full,
    /// A read asked to wait found nothing before the socket's receive
    /// timeout (see [`Conn::prepare_stay`]).
    Quiet,
    /// The peer finished sending, between records.
    Eof,
    /// The stream cannot go on: a cut record, a record over the limits,
    /// or a failed read.
    Failed,
}

/// How [`Conn::read_calls`] reads.
#[derive(Clone, Copy, Debug)]
pub(super) struct Reading {
    /// The most calls to take.
    pub room: usize,
    /// The first read waits for bytes (see [`Conn::read_calls`]).
    pub wait: bool,
    /// The peer has shut its side down: read on to the end of the stream.
    pub drain: bool,
    /// How long a read that waits polls first (see [`crate::net::spin`];
    /// zero: it does not).
    pub spin: Duration,
}

/// How sending a reply went.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Sent {
    /// Everything queued is written.
    Done,
    /// Queued behind a write in progress (its writer sends it).
    Queued,
    /// Held for the replies of the calls that arrived with its own: sent
    /// with them once the last of those calls starts (see
    /// [`Conn::calls_queued`]).
    Held,
    /// The socket is full: the rest waits for it to become writable.
    Blocked,
    /// The peer is gone.
    Failed,
}

/// A reply being sent: the record mark and header, then the results.
struct Pending {
    head: Vec<u8>,
    body: Vec<u8>,
}

impl Pending {
    fn len(&self) -> usize {
        self.head.len() + self.body.len()
    }
}

#[derive(Default)]
struct Outbox {
    /// A thread is writing (with the entries it took out of `queue`).
    writing: bool,
    queue: VecDeque<Pending>,
    /// Bytes of the front entry already written.
    front_sent: usize,
    /// The socket took less than it was given: what is queued waits for
    /// room.
    full: bool,
    /// Calls of this connection queued for the pool and not yet started;
    /// while there are any, finished replies are held (see
    /// [`Conn::calls_queued`]).
    unstarted: usize,
    /// On a TLS connection, the replies held, in plaintext: sealed when
    /// they leave (see [`Conn::seal_and_send`]). Kept apart from `queue`,
    /// whose bytes go on the socket as they are.
    held_tls: Vec<Pending>,
}

struct ReadSide {
    dec: RecordDecoder,
    /// Bytes read but not decoded: the connection had no room for more
    /// calls in flight.
    backlog: Vec<u8>,
}

impl ReadSide {
    /// Decodes `input` into `calls`, up to `room` of them, and keeps in the
    /// backlog what that leaves. `Some` ends the read: `Later` when bytes
    /// were kept, `Failed` when the stream broke.
    fn take(&mut self, input: &[u8], room: usize, calls: &mut Vec<Vec<u8>>) -> Option<ReadEnd> {
        match decode(&mut self.dec, input, room, calls) {
            Ok(used) if used < input.len() => {
                crate::copy::extend(&mut self.backlog, &input[used..]);
                Some(ReadEnd::Later)
            }
            Ok(_) => None,
            Err(_) => Some(ReadEnd::Failed),
        }
    }

    /// [`take`](Self::take) of the backlog.
    fn take_backlog(&mut self, room: usize, calls: &mut Vec<Vec<u8>>) -> Option<ReadEnd> {
        let backlog = std::mem::take(&mut self.backlog);
        self.take(&backlog, room, calls)
    }
}

/// The state the event loop keeps per connection, under one lock.
pub(super) struct ConnState {
    /// A thread is handling a delivered event; readiness delivered
    /// meanwhile is left here for it.
    pub handling: bool,
    pub pending_read: bool,
    pub pending_write: bool,
    /// Calls read and not yet answered.
    pub in_flight: usize,
    /// Reading waits for calls in flight to finish.
    pub paused: bool,
    /// No more reading: end of stream, a bad record, or the server stops.
    pub read_done: bool,
    /// Replies wait for the socket to become writable.
    pub want_write: bool,
    /// Closed and forgotten by the loop.
    pub closed: bool,
    /// When the connection last made progress: a reply finished writing,
    /// or its last call in flight was answered (see `finish_call`).
    pub last_active: Instant,
    /// Since when a reply has made no progress.
    pub stalled_since: Option<Instant>,
    /// When the connection's timer entry fires, if it has one.
    pub timer_at: Option<Instant>,
    /// The poller reported that the peer shut its side down (or failed).
    pub peer_done: bool,
}

impl ConnState {
    /// Whether the connection has nothing left to do once reading is done.
    pub fn finished(&self) -> bool {
        self.read_done && self.in_flight == 0 && !self.want_write
    }
}

/// A connection of a listener that requires TLS (RFC 9289).
enum Tls {
    /// Before the handshake: only the AUTH_TLS probe is answered.
    Probe(Arc<ServerConfig>),
    /// The TLS session; record marking runs inside it.
    Session(Box<ServerConnection>),
}

pub(super) struct Conn {
    pub key: u64,
    socket: OwnedFd,
    /// Who calls, as the connection tells (before TLS, if any).
    caller: Caller,
    /// Who calls once the TLS handshake has finished, the client's
    /// certificate included.
    tls_caller: OnceLock<Caller>,
    tls: Option<Mutex<Tls>>,
    accepted_at: Instant,
    read: Mutex<ReadSide>,
    pub state: Mutex<ConnState>,
    out: Mutex<Outbox>,
    /// The socket is in blocking mode with a receive timeout, for a thread
    /// that stays on it (`Some(false)`: that could not be set).
    stay_ready: OnceLock<bool>,
    /// Whether a staying thread's wait polls first (see [`crate::net::spin`]).
    spin: Spinner,
    /// The stay under way on this connection, if any, and its handler.
    pub watch: StayWatch,
}

impl Conn {
    /// Takes over `socket` (nonblocking) as connection `key`.
    pub fn new(
        key: u64,
        socket: OwnedFd,
        caller: Caller,
        limits: RecordLimits,
        tls: Option<Arc<ServerConfig>>,
    ) -> Conn {
        let now = Instant::now();
        Conn {
            key,
            socket,
            caller,
            tls_caller: OnceLock::new(),
            tls: tls.map(|config| Mutex::new(Tls::Probe(config))),
            accepted_at: now,
            spin: Spinner::new(),
            read: Mutex::new(ReadSide {
                dec: RecordDecoder::new(limits),
                backlog: Vec::new(),
            }),
            state: Mutex::new(ConnState {
                handling: false,
                pending_read: false,
                pending_write: false,
                in_flight: 0,
                paused: false,
                read_done: false,
                want_write: false,
                closed: false,
                last_active: now,
                stalled_since: None,
                timer_at: None,
                peer_done: false,
            }),
            out: Mutex::new(Outbox::default()),
            stay_ready: OnceLock::new(),
            watch: StayWatch::default(),
        }
    }

    pub fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.socket.as_fd()
    }

    /// Who calls on this connection.
    pub fn caller(&self) -> &Caller {
        self.tls_caller.get().unwrap_or(&self.caller)
    }

    /// Whether the connection waits for a TLS handshake to finish.
    pub fn handshaking(&self) -> bool {
        self.tls.is_some() && self.tls_caller.get().is_none()
    }

    /// When the connection was accepted.
    pub fn accepted_at(&self) -> Instant {
        self.accepted_at
    }

    pub fn state(&self) -> MutexGuard<'_, ConnState> {
        lock(&self.state)
    }

    /// Registers the connection's socket with the poller, for new bytes
    /// (edge-triggered: see [`Poller::add_edge`]).
    pub fn register(&self, poller: &Poller) -> crate::Result<()> {
        poller.add_edge(self.fd(), self.key, Interest::READ)
    }

    /// A reply has begun to wait for room in the socket (`st.want_write`
    /// was just set): has the poller report room. The registration keeps
    /// reporting it from then on, but an edge may have passed between the
    /// write that did not fit and now, so the change is made each time: a
    /// condition that already holds is reported at once.
    pub fn want_room(&self, st: &ConnState, poller: &Poller) {
        if st.closed {
            return;
        }
        let both = Interest {
            read: true,
            write: true,
        };
        let _ = poller.modify_edge(self.fd(), self.key, both);
    }

    /// Readies the connection for a thread that stays on it, waiting for
    /// the next call in a read of its own (once per connection): the
    /// socket goes to blocking mode with a receive timeout of `stay`.
    /// Every other read and every write says `MSG_DONTWAIT`, so nothing
    /// else blocks. A TLS connection qualifies once its handshake is
    /// done. Whether the connection is ready.
    pub fn prepare_stay(&self, stay: std::time::Duration) -> bool {
        if self.handshaking() || stay.is_zero() {
            return false;
        }
        *self.stay_ready.get_or_init(|| {
            let timeout =
                nix::sys::time::TimeVal::new(stay.as_secs() as _, stay.subsec_micros() as _);
            sys::set_nonblocking(self.fd(), false).is_ok()
                && nix::sys::socket::setsockopt(
                    &self.socket,
                    nix::sys::socket::sockopt::ReceiveTimeout,
                    &timeout,
                )
                .is_ok()
        })
    }

    /// Whether bytes already read wait to be decoded.
    pub fn has_backlog(&self) -> bool {
        !lock(&self.read).backlog.is_empty()
    }

    /// One receive into `buf`; with `wait` (a staying thread's), it polls
    /// first for up to `spin` where a CPU is free for it.
    fn recv(&self, buf: &mut [u8], wait: bool, spin: Duration) -> crate::Result<usize> {
        if wait {
            if let Some(got) = self
                .spin
                .spin(spin, || came(sys::recv(self.fd(), buf, false)))
            {
                return got;
            }
        }
        sys::recv(self.fd(), buf, wait)
    }

    /// Reads and decodes calls into `calls` until nothing more can be read
    /// now or `room` calls are there. `scratch` is the thread's read buffer.
    /// With `wait` (a connection readied by [`prepare_stay`](Self::prepare_stay)),
    /// the first read waits for bytes when no call is at hand yet, up to
    /// the receive timeout ([`ReadEnd::Quiet`] if none came).
    ///
    /// A read that takes less than it asked for has taken all there is
    /// now (the edge-triggered registration tells when more comes), except
    /// with `drain`, when the peer has shut its side down: the end of the
    /// stream may have come with the last bytes, and their event was the
    /// last there will be, so reading goes on until it is seen (or nothing
    /// is there yet: then it brings an event of its own).
    pub fn read_calls(
        &self,
        scratch: &mut [u8],
        calls: &mut Vec<Vec<u8>>,
        how: Reading,
    ) -> ReadEnd {
        match &self.tls {
            None => self.read_plain(scratch, calls, how),
            Some(tls) => self.read_tls(&mut lock(tls), scratch, calls, how),
        }
    }

    /// How every read starts: the read side locked and the calls waiting
    /// in its backlog taken; then whether the first read waits for bytes
    /// (asked to, no call at hand yet, and the socket readied for it).
    /// `Err`: the backlog ended the read.
    fn start_read(
        &self,
        calls: &mut Vec<Vec<u8>>,
        how: Reading,
    ) -> Result<(MutexGuard<'_, ReadSide>, bool), ReadEnd> {
        let mut rs = lock(&self.read);
        let before = calls.len();
        if let Some(end) = rs.take_backlog(how.room, calls) {
            return Err(end);
        }
        let wait = how.wait && calls.len() == before && self.stay_ready.get() == Some(&true);
        Ok((rs, wait))
    }

    fn read_plain(&self, scratch: &mut [u8], calls: &mut Vec<Vec<u8>>, how: Reading) -> ReadEnd {
        let Reading {
            room, drain, spin, ..
        } = how;
        let (mut guard, mut wait) = match self.start_read(calls, how) {
            Ok(started) => started,
            Err(end) => return end,
        };
        let rs = &mut *guard;
        // What a read that found nothing means: nothing came in the wait,
        // or nothing more is there now.
        let mut nothing = if wait { ReadEnd::Quiet } else { ReadEnd::Later };
        while calls.len() < room {
            if rs.dec.fragment_left() >= DIRECT_BODY {
                // The body straight into the record. A read that finishes
                // the fragment goes on into `scratch` with what follows: a
                // count short of both took all there was, with no read that
                // finds nothing.
                let fd = self.fd();
                let left = rs.dec.fragment_left();
                let (mut want, mut after_len) = (0, 0);
                let Some((got, call)) = rs.dec.append_body(|record, max| {
                    want = max;
                    let more = if max == left {
                        &mut scratch[..]
                    } else {
                        &mut [][..]
                    };
                    after_len = more.len();
                    if wait {
                        let polled = self.spin.spin(spin, || {
                            came(sys::recv_append_then(fd, record, max, more, false))
                        });
                        if let Some(got) = polled {
                            return got;
                        }
                    }
                    sys::recv_append_then(fd, record, max, more, wait)
                }) else {
                    break;
                };
                calls.extend(call);
                wait = false;
                let n = match got {
                    Ok(0) => return end_of_stream(&mut rs.dec),
                    Ok(n) => n,
                    Err(Error::WouldBlock) => return nothing,
                    Err(Error::Interrupted) => continue,
                    Err(_) => return ReadEnd::Failed,
                };
                if let Some(end) = rs.take(&scratch[..n.saturating_sub(want)], room, calls) {
                    return end;
                }
                nothing = ReadEnd::Later;
                if n < want + after_len && !drain {
                    return ReadEnd::Later;
                }
                continue;
            }
            let got = self.recv(scratch, std::mem::take(&mut wait), spin);
            let n = match got {
                Ok(0) => return end_of_stream(&mut rs.dec),
                Ok(n) => n,
                Err(Error::WouldBlock) => return nothing,
                Err(Error::Interrupted) => continue,
                Err(_) => return ReadEnd::Failed,
            };
            nothing = ReadEnd::Later;
            if let Some(end) = rs.take(&scratch[..n], room, calls) {
                return end;
            }
            // A short read took all there was: the edge-triggered
            // registration tells when more comes.
            if n < scratch.len() && !drain {
                return ReadEnd::Later;
            }
        }
        ReadEnd::Full
    }

    /// Reads on a TLS connection: before the handshake, the cleartext
    /// records (each answered at once: the probe with STARTTLS, anything
    /// else refused); then ciphertext, whose plaintext goes through the
    /// record decoder as on any connection.
    fn read_tls(
        &self,
        tls: &mut Tls,
        scratch: &mut [u8],
        calls: &mut Vec<Vec<u8>>,
        how: Reading,
    ) -> ReadEnd {
        let Reading {
            room, drain, spin, ..
        } = how;
        // The backlog holds plaintext left undecoded when the connection
        // had no room.
        let (mut guard, mut wait) = match self.start_read(calls, how) {
            Ok(started) => started,
            Err(end) => return end,
        };
        let rs = &mut *guard;
        let mut nothing = if wait { ReadEnd::Quiet } else { ReadEnd::Later };
        loop {
            let n = match self.recv(scratch, std::mem::take(&mut wait), spin) {
                Ok(0) => return end_of_stream(&mut rs.dec),
                Ok(n) => n,
                Err(Error::WouldBlock) => return nothing,
                Err(Error::Interrupted) => continue,
                Err(_) => return ReadEnd::Failed,
            };
            nothing = ReadEnd::Later;
            let mut input = &scratch[..n];
            if let Tls::Probe(config) = tls {
                // Cleartext records until the probe; what follows it is TLS.
                while !input.is_empty() {
                    let (used, record) = match rs.dec.decode(input) {
                        Ok(got) => got,
                        Err(_) => return ReadEnd::Failed,
                    };
                    input = &input[used..];
                    let Some(record) = record else { continue };
                    let (answer, starttls) = match answer_before_tls(&record) {
                        Some(BeforeTls::StartTls(r)) => (r, true),
                        Some(BeforeTls::Refused(r)) => (r, false),
                        None => continue,
                    };
                    if self.send_raw(&answer) == Sent::Failed {
                        return ReadEnd::Failed;
                    }
                    if starttls {
                        match ServerConnection::new(config.clone()) {
                            Ok(mut session) => {
                                // A reply is sealed whole before it is
                                // written: no plaintext limit.
                                session.set_buffer_limit(None);
                                *tls = Tls::Session(Box::new(session));
                            }
                            Err(_) => return ReadEnd::Failed,
                        }
                        break;
                    }
                }
            }
            let short = n < scratch.len() && !drain;
            let Tls::Session(session) = tls else {
                if short {
                    return ReadEnd::Later;
                }
                continue;
            };
            while !input.is_empty() {
                match session.read_tls(&mut input) {
                    Ok(_) => {}
                    Err(_) => return ReadEnd::Failed,
                }
                if session.process_new_packets().is_err() {
                    // The alert rustls queued tells the peer why.
                    let _ = self.flush_session(session);
                    return ReadEnd::Failed;
                }
            }
            if !session.is_handshaking() && self.tls_caller.get().is_none() {
                let peer = session
                    .peer_certificates()
                    .and_then(|chain| chain.first())
                    .map(|leaf| TlsPeer::from_der(leaf))
                    .transpose();
                let Ok(peer) = peer else {
                    return ReadEnd::Failed;
                };
                let peer = peer.unwrap_or(TlsPeer {
                    subject: String::new(),
                    sans: Vec::new(),
                    fingerprint: String::new(),
                });
                let _ = self.tls_caller.set(Caller {
                    tls_peer: Some(Arc::new(peer)),
                    ..self.caller.clone()
                });
            }
            // Handshake messages (and alerts) to send.
            if self.flush_session(session) == Sent::Failed {
                return ReadEnd::Failed;
            }
            // The ciphertext is in the session now: the decoder takes the
            // plaintext straight from the session's buffers.
            loop {
                let mut reader = session.reader();
                match reader.fill_buf() {
                    Ok([]) => return end_of_stream(&mut rs.dec),
                    Ok(chunk) => {
                        // Kept in the backlog, what does not fit still
                        // leaves the session's buffer.
                        let k = chunk.len();
                        if let Some(ReadEnd::Failed) = rs.take(chunk, room, calls) {
                            return ReadEnd::Failed;
                        }
                        reader.consume(k);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(_) => return ReadEnd::Failed,
                }
            }
            if !rs.backlog.is_empty() || short {
                return ReadEnd::Later;
            }
        }
    }

    /// Sends a reply: `head` (record mark and header), then the results in
    /// `results`. Written at once from the caller's buffers when nobody
    /// else writes and nothing waits; otherwise queued (taking the results'
    /// buffer) for the thread writing, or for the socket to drain, or held
    /// (see [`calls_queued`](Self::calls_queued)). On a TLS connection the
    /// reply is sealed at once, with the replies held before it, unless it
    /// is held itself.
    pub fn send(&self, head: Vec<u8>, results: &mut Encoder) -> Sent {
        if self.tls.is_some() {
            let held = {
                let mut out = lock(&self.out);
                if out.unstarted > 0 {
                    let body = std::mem::take(results).into_bytes();
                    out.held_tls.push(Pending { head, body });
                    return Sent::Held;
                }
                std::mem::take(&mut out.held_tls)
            };
            let sent = self.seal_and_send(&held, Some((&head, results.as_bytes())));
            crate::spare::give(head);
            return sent;
        }
        let mut out = lock(&self.out);
        if out.writing || out.full || out.unstarted > 0 || !out.queue.is_empty() {
            let body = std::mem::take(results).into_bytes();
            out.queue.push_back(Pending { head, body });
            if out.writing {
                return Sent::Queued;
            }
            if out.full {
                return Sent::Blocked;
            }
            if out.unstarted > 0 {
                return Sent::Held;
            }
            // Replies held until now go with this one.
            out.writing = true;
            drop(out);
            return self.write_queued();
        }
        out.writing = true;
        drop(out);
        let total = head.len() + results.len();
        let parts = [IoSlice::new(&head), IoSlice::new(results.as_bytes())];
        let parts = if results.is_empty() {
            &parts[..1]
        } else {
            &parts[..]
        };
        let written = match sys::write(self.fd(), Sink::SocketNow, parts) {
            Ok(n) => n,
            Err(Error::WouldBlock | Error::Interrupted) => 0,
            Err(_) => {
                lock(&self.out).writing = false;
                return Sent::Failed;
            }
        };
        if written < total {
            let body = std::mem::take(results).into_bytes();
            let mut out = lock(&self.out);
            out.queue.push_front(Pending { head, body });
            out.front_sent = written;
            out.writing = false;
            out.full = true;
            return Sent::Blocked;
        }
        crate::spare::give(head);
        self.write_queued()
    }

    /// On a TLS connection: seals the replies `held`, then `last` (its
    /// header and results), and sends the records. Small replies next to
    /// each other are copied into one buffer and sealed together, in as
    /// few records as they fit, where each would take an AEAD operation, a
    /// record header and tag, and (on two CPUs) a write of its own; a
    /// larger one is sealed from its own buffers.
    fn seal_and_send(&self, held: &[Pending], last: Option<(&[u8], &[u8])>) -> Sent {
        /// Replies up to this size are sealed together with their
        /// neighbours (copying them costs less than a record of their own).
        const SMALL: usize = 2048;
        let Some(tls) = &self.tls else {
            return Sent::Failed;
        };
        let mut tls = lock(tls);
        let Tls::Session(session) = &mut *tls else {
            return Sent::Failed; // no call is served before TLS
        };
        let mut sent = Sent::Done;
        if let ([], Some((head, body))) = (held, last) {
            // One reply, the common case: sealed from its own buffers.
            if !self.seal(session, &[head, body], &mut sent) {
                return Sent::Failed;
            }
            return self.flush_session(session);
        }
        let replies = held.iter().map(|p| (&p.head[..], &p.body[..])).chain(last);
        let mut small = Vec::new();
        for (head, body) in replies {
            if head.len() + body.len() <= SMALL {
                small.extend_from_slice(head);
                small.extend_from_slice(body);
                continue;
            }
            if !small.is_empty() && !self.seal(session, &[&small], &mut sent) {
                return Sent::Failed;
            }
            small.clear();
            if !self.seal(session, &[head, body], &mut sent) {
                return Sent::Failed;
            }
        }
        if !small.is_empty() && !self.seal(session, &[&small], &mut sent) {
            return Sent::Failed;
        }
        self.flush_session(session)
    }

    /// Seals `parts`, one message, into `session`; each record leaves as
    /// it is sealed (see [`seal_in_turn`]) until the socket is full or a
    /// write fails, which `sent` records. False when the peer is gone.
    fn seal(&self, session: &mut ServerConnection, parts: &[&[u8]], sent: &mut Sent) -> bool {
        let sealed = seal_in_turn(session, parts, |s| {
            if *sent == Sent::Done {
                *sent = self.flush_session(s);
            }
            Ok(())
        });
        sealed.is_ok() && *sent != Sent::Failed
    }

    /// `n` calls of this connection, read together with the one the
    /// reading thread runs itself, are queued for the pool. Until the last
    /// of them starts, the replies that finish are held, and then leave
    /// together: the replies of calls a client sent together go back in
    /// one write, not one write each (16 threads calling through one
    /// client, pinned to one CPU: 92,000 -> 130,000 calls/s). Nothing
    /// waits on a timer or on a handler's end: the thread that starts the
    /// last queued call first sends what is held
    /// ([`call_started`](Self::call_started)), so a reply waits at most
    /// until every call that came with it has started, however long any
    /// handler runs. On a TLS connection the small replies held are also
    /// sealed together (see [`seal_and_send`](Self::seal_and_send)).
    pub fn calls_queued(&self, n: usize) {
        lock(&self.out).unstarted += n;
    }

    /// A call [`calls_queued`](Self::calls_queued) counted starts: sends
    /// the replies held, once it is the last (unless the socket is full or
    /// another thread writes, which then sends them).
    pub fn call_started(&self) -> Option<Sent> {
        let mut out = lock(&self.out);
        out.unstarted = out.unstarted.saturating_sub(1);
        if out.unstarted > 0 {
            return None;
        }
        self.send_held(out)
    }

    /// Sends the replies held now, though calls that came with them have
    /// not all started: the thread whose reply was held goes on to other
    /// work (see the engine's `next_job`). Later replies are still held
    /// until the last of those calls starts.
    pub fn release_held(&self) -> Option<Sent> {
        self.send_held(lock(&self.out))
    }

    /// Sends what is held, unless the socket is full or another thread
    /// writes (which then sends it).
    fn send_held(&self, mut out: MutexGuard<'_, Outbox>) -> Option<Sent> {
        if self.tls.is_some() {
            let held = std::mem::take(&mut out.held_tls);
            drop(out);
            return (!held.is_empty()).then(|| self.seal_and_send(&held, None));
        }
        if out.writing || out.full || out.queue.is_empty() {
            return None;
        }
        out.writing = true;
        drop(out);
        Some(self.write_queued())
    }

    /// Writes what is queued (becoming the writer unless another thread
    /// is): `Done` once nothing is left.
    pub fn flush(&self) -> Sent {
        if let Some(tls) = &self.tls {
            if let Tls::Session(session) = &mut *lock(tls) {
                return self.flush_session(session);
            }
        }
        self.flush_raw()
    }

    /// Sends a record in the clear (the answers before TLS), behind any
    /// queued before it.
    fn send_raw(&self, record: &[u8]) -> Sent {
        lock(&self.out).queue.push_back(Pending {
            head: record.to_vec(),
            body: Vec::new(),
        });
        self.flush_raw()
    }

    /// Writes the TLS records rustls holds, after whatever was queued in
    /// the clear before TLS began.
    fn flush_session(&self, session: &mut ConnectionCommon<ServerConnectionData>) -> Sent {
        match self.flush_raw() {
            Sent::Done => {}
            other => return other,
        }
        while session.wants_write() {
            match session.write_tls(&mut SocketNow(self.fd())) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Sent::Blocked,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return Sent::Failed,
            }
        }
        Sent::Done
    }

    fn flush_raw(&self) -> Sent {
        {
            let mut out = lock(&self.out);
            if out.writing {
                return Sent::Queued;
            }
            out.writing = true;
        }
        self.write_queued()
    }

    /// As the writer: writes the queue, replies that arrive meanwhile
    /// included, until it is empty or the socket is full.
    fn write_queued(&self) -> Sent {
        let mut batch: Vec<Pending> = Vec::new();
        loop {
            let skip = {
                let mut out = lock(&self.out);
                // Entries of the last batch not written go back first.
                for p in batch.drain(..).rev() {
                    out.queue.push_front(p);
                }
                if out.queue.is_empty() {
                    out.writing = false;
                    out.full = false;
                    return Sent::Done;
                }
                let take = out.queue.len().min(MAX_IOV / 2);
                batch.extend(out.queue.drain(..take));
                std::mem::take(&mut out.front_sent)
            };
            let mut parts: Vec<IoSlice<'_>> = Vec::with_capacity(batch.len() * 2);
            let mut skip_left = skip;
            for p in &batch {
                for part in [&p.head[..], &p.body[..]] {
                    if skip_left >= part.len() {
                        skip_left -= part.len();
                    } else {
                        parts.push(IoSlice::new(&part[skip_left..]));
                        skip_left = 0;
                    }
                }
            }
            let result = sys::write(self.fd(), Sink::SocketNow, &parts);
            drop(parts);
            let mut written = match result {
                Ok(n) => n + skip,
                Err(Error::WouldBlock | Error::Interrupted) => skip,
                Err(_) => {
                    let mut out = lock(&self.out);
                    out.writing = false;
                    out.queue.clear();
                    return Sent::Failed;
                }
            };
            let mut done = 0;
            for p in &batch {
                if written < p.len() {
                    break;
                }
                written -= p.len();
                done += 1;
            }
            batch.drain(..done);
            if !batch.is_empty() {
                let mut out = lock(&self.out);
                for p in batch.drain(..).rev() {
                    out.queue.push_front(p);
                }
                out.front_sent = written;
                out.writing = false;
                out.full = true;
                return Sent::Blocked;
            }
        }
    }

    /// Ends the connection for its peer: both directions shut down. The
    /// descriptor closes when the last reference goes, so a thread still
    /// holding one can never touch a descriptor number reused by another
    /// connection.
    pub fn shutdown(&self) {
        let _ =
            nix::sys::socket::shutdown(self.socket.as_raw_fd(), nix::sys::socket::Shutdown::Both);
        let mut out = lock(&self.out);
        out.queue.clear();
        out.held_tls = Vec::new();
    }

    /// Stops reading (the server stops): the peer's further calls are not read.
    pub fn shutdown_read(&self) {
        let _ =
            nix::sys::socket::shutdown(self.socket.as_raw_fd(), nix::sys::socket::Shutdown::Read);
    }
}

/// Decodes records from `input` into `calls` until `room` are there;
/// returns the bytes used.
fn decode(
    dec: &mut RecordDecoder,
    input: &[u8],
    room: usize,
    calls: &mut Vec<Vec<u8>>,
) -> crate::Result<usize> {
    let mut used = 0;
    while used < input.len() && calls.len() < room {
        let (n, record) = dec.decode(&input[used..])?;
        used += n;
        calls.extend(record);
    }
    Ok(used)
}

fn end_of_stream(dec: &mut RecordDecoder) -> ReadEnd {
    match dec.finish() {
        Ok(()) => ReadEnd::Eof,
        Err(_) => ReadEnd::Failed,
    }
}
