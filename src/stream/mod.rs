//! Byte streams — anonymous pipes, FIFOs, TCP and Unix stream sockets — behind
//! one type, [`Stream`], with raw reads and writes and framed messages.
//!
//! Messages are framed with record marking (RFC 5531 §11, see [`record`]):
//! a 4-byte header, then the bytes. `send` writes a frame with one
//! system call, so a frame of at most `PIPE_BUF` (4096) bytes, header
//! included, reaches a pipe or FIFO whole even when several processes write
//! to it. `receive` reassembles fragments up to a maximum message size that
//! is checked before anything is allocated.
//!
//! Reading is buffered a little: one `read(2)` of up to [`READ_AHEAD`] bytes
//! brings a small message's header and body together (and perhaps the next
//! messages); the body of a large message is read straight into place. Hence
//! `poll`/`select` on the descriptor do not see messages already buffered: an
//! event loop calls `receive` until it reports [`Error::WouldBlock`].
//!
//! Timeouts and nonblocking mode never lose data: a message that is only
//! partly received stays in the stream and the next `receive` completes it;
//! a message that was only partly written when the deadline passed (or the
//! pipe filled up in nonblocking mode) keeps its rest in the stream, which
//! sends it before anything else.
//!
//! ```
//! let (reader, writer) = xipc::stream::pipe()?;
//! writer.send(b"hello")?;
//! assert_eq!(reader.receive()?.as_deref(), Some(&b"hello"[..]));
//! drop(writer); // the end of the stream, between messages
//! assert_eq!(reader.receive()?, None);
//! # Ok::<(), xipc::Error>(())
//! ```
//!
//! The same calls work on every kind of stream, here TCP on loopback:
//!
//! ```
//! use std::time::Duration;
//! use xipc::stream;
//!
//! let listener = stream::tcp_listen("127.0.0.1", 0)?; // port 0: any free port
//! let port = listener.port().expect("a TCP port");
//! let client = stream::tcp_connect("127.0.0.1", port, Some(Duration::from_secs(5)))?;
//! let server = listener.accept(Some(Duration::from_secs(5)))?;
//! client.send(b"ping")?;
//! server.set_read_timeout(Some(Duration::from_secs(5)));
//! assert_eq!(server.receive()?.as_deref(), Some(&b"ping"[..]));
//! # Ok::<(), xipc::Error>(())
//! ```

mod io;
mod net;
mod pipe;
pub mod record;

use std::io::IoSlice;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use nix::fcntl::{fcntl, FcntlArg, FdFlag, OFlag};
use nix::sys::socket::{getsockopt, sockopt, AddressFamily, SockaddrLike, SockaddrStorage};
use nix::sys::stat::{fstat, SFlag};

pub use net::{tcp_connect, tcp_listen, unix_connect, unix_listen, Listener};
pub use pipe::{mkfifo, open_fifo, pipe, FifoMode};
pub use record::RecordLimits;

use crate::{Error, Result};
use record::{fragment_header, parse_header, MAX_FRAGMENT_LEN};

/// The largest write the kernel delivers to a pipe or FIFO in one piece
/// (POSIX `PIPE_BUF`; 4096 on Linux).
pub const PIPE_BUF: usize = libc::PIPE_BUF;

/// How many bytes a stream asks for when it reads ahead for a frame header:
/// enough for a small message's header and body in one `read(2)`, and less
/// than a pipe page, so the first read of a large message does not free a
/// page (and wake the writer) on its own before the body is read in bulk.
///
/// cbindgen:ignore
pub const READ_AHEAD: usize = 512;

/// Messages up to this long are copied behind their header and sent with
/// one plain `write` (cheaper than a two-part `writev` for a few bytes).
const SMALL_MSG: usize = 256;

/// What a stream's descriptor is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An anonymous pipe or a FIFO.
    Pipe,
    /// A TCP connection.
    Tcp,
    /// A Unix-domain stream socket.
    Unix,
    /// Any other descriptor (a terminal, a character device, ...).
    Other,
}

impl Kind {
    fn is_socket(self) -> bool {
        matches!(self, Kind::Tcp | Kind::Unix)
    }

    /// Finds out what `fd` is.
    fn of(fd: BorrowedFd<'_>) -> Result<Kind> {
        let stat = fstat(fd).map_err(|e| Error::nix("fstat", e))?;
        let format = SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT;
        if format == SFlag::S_IFIFO {
            return Ok(Kind::Pipe);
        }
        if format != SFlag::S_IFSOCK {
            return Ok(Kind::Other);
        }
        let addr: SockaddrStorage = nix::sys::socket::getsockname(fd.as_raw_fd())
            .map_err(|e| Error::nix("getsockname", e))?;
        Ok(match addr.family() {
            Some(AddressFamily::Unix) => Kind::Unix,
            Some(AddressFamily::Inet) | Some(AddressFamily::Inet6) => Kind::Tcp,
            _ => Kind::Other,
        })
    }
}

/// Which direction(s) [`Stream::shutdown`] closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shutdown {
    /// No more receiving.
    Read,
    /// No more sending: the peer sees the end of the stream.
    Write,
    /// Both directions.
    Both,
}

/// The process at the other end of a Unix socket, as the kernel saw it
/// when the connection was made (`SO_PEERCRED`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerCredentials {
    /// The peer's process id.
    pub pid: i32,
    /// The peer's effective user id.
    pub uid: u32,
    /// The peer's effective group id.
    pub gid: u32,
}

/// A message being received: the header bytes so far, the fragment bytes
/// still to come, and the message assembled so far.
#[derive(Debug, Default)]
struct Reassembly {
    header: [u8; 4],
    header_len: usize,
    fragment_left: usize,
    last: bool,
    fragments: usize,
    msg: Vec<u8>,
    /// `msg` holds a whole message not yet handed out.
    complete: bool,
}

impl Reassembly {
    fn in_progress(&self) -> bool {
        self.complete || self.fragments > 0 || self.header_len > 0
    }

    fn reset(&mut self) {
        self.header_len = 0;
        self.fragment_left = 0;
        self.fragments = 0;
        self.last = false;
        self.complete = false;
        self.msg.clear();
    }
}

/// A byte stream: a pipe end, a FIFO, or a connected TCP or Unix socket.
///
/// Every method takes `&self`: one thread may receive while another sends
/// (the two directions have separate locks); two threads receiving at once
/// take turns. Not `Clone`; dropping it closes the descriptor.
#[derive(Debug)]
pub struct Stream {
    fd: OwnedFd,
    kind: Kind,
    nonblocking: AtomicBool,
    receiver: Mutex<Receiver>,
    sender: Mutex<Sender>,
}

/// The receiving half's state.
#[derive(Debug)]
struct Receiver {
    timeout: Option<Duration>,
    limits: RecordLimits,
    rx: Reassembly,
    /// Bytes read ahead and not yet used: `read_ahead[ra_pos..ra_end]`.
    read_ahead: Vec<u8>,
    ra_pos: usize,
    ra_end: usize,
    /// Why receiving framed messages can no longer continue, if it cannot.
    rx_broken: Option<String>,
}

/// The sending half's state.
#[derive(Debug)]
struct Sender {
    timeout: Option<Duration>,
    max_fragment: usize,
    /// Bytes of an accepted write not yet in the kernel, sent first.
    tx_pending: Vec<u8>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while locked was caught at the C boundary; the state is still usable.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Stream {
    /// Takes ownership of `fd` (any byte-stream descriptor) as a stream.
    pub fn from_fd(fd: OwnedFd) -> Result<Stream> {
        let kind = Kind::of(fd.as_fd())?;
        let flags = fcntl(&fd, FcntlArg::F_GETFL).map_err(|e| Error::nix("fcntl", e))?;
        let nonblocking = OFlag::from_bits_truncate(flags).contains(OFlag::O_NONBLOCK);
        Ok(Stream::with_kind(fd, kind, nonblocking))
    }

    pub(crate) fn with_kind(fd: OwnedFd, kind: Kind, nonblocking: bool) -> Stream {
        Stream {
            fd,
            kind,
            nonblocking: AtomicBool::new(nonblocking),
            receiver: Mutex::new(Receiver {
                timeout: None,
                limits: RecordLimits::default(),
                rx: Reassembly::default(),
                read_ahead: Vec::new(),
                ra_pos: 0,
                ra_end: 0,
                rx_broken: None,
            }),
            sender: Mutex::new(Sender {
                timeout: None,
                max_fragment: MAX_FRAGMENT_LEN,
                tx_pending: Vec::new(),
            }),
        }
    }

    /// What the descriptor is.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    fn deadline(&self, timeout: Option<Duration>) -> Option<Instant> {
        if self.nonblocking.load(Ordering::Relaxed) {
            return None;
        }
        io::deadline(timeout)
    }

    // ---- framed messages ----

    /// Sends `msg` as one record-marked message (one fragment, or several of
    /// at most [`Stream::set_max_fragment`] bytes), written with one system
    /// call when the kernel takes it whole.
    ///
    /// `Ok` means the message is accepted: written, or — when the write
    /// timeout passed or, in nonblocking mode, the kernel buffer filled in the
    /// middle of it — its rest kept in the stream and sent before anything
    /// else (by the next send, write or [`Stream::flush`]). An error means
    /// nothing of it was written: [`Error::WouldBlock`], [`Error::TimedOut`],
    /// [`Error::Interrupted`], [`Error::Closed`] when the peer is gone.
    pub fn send(&self, msg: &[u8]) -> Result<()> {
        let mut tx = lock(&self.sender);
        let deadline = self.deadline(tx.timeout);
        let out = Out::new(self, deadline);
        if msg.len() <= SMALL_MSG && msg.len() <= tx.max_fragment {
            // Header and message copied together: one plain write.
            let mut frame = [0u8; 4 + SMALL_MSG];
            frame[..4].copy_from_slice(&fragment_header(msg.len(), true));
            frame[4..4 + msg.len()].copy_from_slice(msg);
            tx.submit(out, &[&frame[..4 + msg.len()]])
        } else if msg.len() <= tx.max_fragment {
            let header = fragment_header(msg.len(), true);
            tx.submit(out, &[&header, msg])
        } else {
            let framed = record::encode_record(msg, tx.max_fragment);
            tx.submit(out, &[&framed])
        }
    }

    /// Receives the next message, or `None` when the stream ended cleanly
    /// between messages. A stream that ends inside a message is
    /// [`Error::Closed`]; a message longer than the maximum
    /// ([`Stream::set_max_message_size`]) is [`Error::MessageTooLarge`], found from
    /// its header before anything is allocated. [`Error::WouldBlock`],
    /// [`Error::TimedOut`] and [`Error::Interrupted`] keep what has arrived:
    /// call again to complete the message.
    pub fn receive(&self) -> Result<Option<Vec<u8>>> {
        let mut rx = lock(&self.receiver);
        let deadline = self.deadline(rx.timeout);
        if !rx.fill(self.fd.as_fd(), deadline)? {
            return Ok(None);
        }
        let msg = std::mem::take(&mut rx.rx.msg);
        rx.rx.reset();
        Ok(Some(msg))
    }

    /// Like [`Stream::receive`], into `out` (replaced; its allocation is
    /// reused). Returns `false` at a clean end of stream.
    pub fn receive_into(&self, out: &mut Vec<u8>) -> Result<bool> {
        let mut rx = lock(&self.receiver);
        let deadline = self.deadline(rx.timeout);
        if !rx.fill(self.fd.as_fd(), deadline)? {
            return Ok(false);
        }
        std::mem::swap(out, &mut rx.rx.msg);
        rx.rx.reset();
        Ok(true)
    }

    /// Like [`Stream::receive`], copying into `buf`: `Some(length)`, or
    /// `None` at a clean end of stream. A message longer than `buf` is
    /// [`Error::MessageTooLarge`] and stays in the stream for the next call.
    pub fn receive_to_slice(&self, buf: &mut [u8]) -> Result<Option<usize>> {
        let mut rx = lock(&self.receiver);
        let deadline = self.deadline(rx.timeout);
        rx.recv_to_slice(self.fd.as_fd(), buf, deadline)
    }

    /// The length of a whole message that has arrived but was not handed
    /// out (because the buffer offered was too small), if any.
    pub fn next_message_len(&self) -> Option<usize> {
        let rx = lock(&self.receiver);
        rx.rx.complete.then_some(rx.rx.msg.len())
    }

    /// Bytes read from the descriptor but not handed out yet (whole or
    /// partial messages), which `poll` on the descriptor cannot see.
    pub fn buffered_len(&self) -> usize {
        let rx = lock(&self.receiver);
        rx.ra_end - rx.ra_pos + if rx.rx.complete { rx.rx.msg.len() } else { 0 }
    }

    /// Largest message `receive` accepts, all fragments together
    /// (default 4 MiB).
    pub fn set_max_message_size(&self, max: usize) {
        lock(&self.receiver).limits.max_record = max;
    }

    /// The largest message `receive` accepts.
    pub fn max_message_size(&self) -> usize {
        lock(&self.receiver).limits.max_record
    }

    /// Bounds for reassembly: largest message and most fragments.
    pub fn set_record_limits(&self, limits: RecordLimits) {
        lock(&self.receiver).limits = limits;
    }

    /// Largest fragment `send` writes; longer messages are split
    /// (default and maximum 2³¹ − 1 bytes).
    pub fn set_max_fragment(&self, max: usize) -> Result<()> {
        if max == 0 || max > MAX_FRAGMENT_LEN {
            return Err(Error::InvalidArgument(format!(
                "fragment size {max} is not between 1 and {MAX_FRAGMENT_LEN}"
            )));
        }
        lock(&self.sender).max_fragment = max;
        Ok(())
    }

    // ---- raw bytes ----

    /// Reads at most `buf.len()` bytes; 0 means end of stream. Refused while
    /// a framed message is partly received (finish it with `receive`).
    pub fn read(&self, buf: &mut [u8]) -> Result<usize> {
        let mut rx = lock(&self.receiver);
        if rx.rx.in_progress() {
            return Err(Error::InvalidArgument(
                "a framed message is partly received; finish it with receive first".into(),
            ));
        }
        if rx.ra_pos < rx.ra_end {
            return Ok(rx.take_ahead(buf));
        }
        let deadline = self.deadline(rx.timeout);
        io::read(self.fd.as_fd(), buf, deadline)
    }

    /// Writes some of `buf` (after any pending bytes) and returns how many.
    pub fn write(&self, buf: &[u8]) -> Result<usize> {
        let mut tx = lock(&self.sender);
        let out = Out::new(self, self.deadline(tx.timeout));
        tx.flush_pending(out)?;
        out.write(&[IoSlice::new(buf)])
    }

    /// Writes all of `buf`, with the guarantees of [`Stream::send`]: `Ok`
    /// means accepted (any unwritten rest is kept and sent first later), an
    /// error means nothing was written.
    pub fn write_all(&self, buf: &[u8]) -> Result<()> {
        let mut tx = lock(&self.sender);
        let out = Out::new(self, self.deadline(tx.timeout));
        tx.submit(out, &[buf])
    }

    /// Sends bytes kept from an earlier accepted write. `Ok` when none remain.
    pub fn flush(&self) -> Result<()> {
        let mut tx = lock(&self.sender);
        let out = Out::new(self, self.deadline(tx.timeout));
        tx.flush_pending(out)
    }

    /// The number of accepted bytes still waiting to be written.
    pub fn pending_bytes(&self) -> usize {
        lock(&self.sender).tx_pending.len()
    }

    // ---- modes ----

    /// How long a read or `receive` may wait (`None`: for ever).
    pub fn set_read_timeout(&self, timeout: Option<Duration>) {
        lock(&self.receiver).timeout = timeout;
    }

    /// How long a write or `send` may wait (`None`: for ever).
    pub fn set_write_timeout(&self, timeout: Option<Duration>) {
        lock(&self.sender).timeout = timeout;
    }

    /// How long a read or `receive` may wait (`None`: for ever).
    pub fn read_timeout(&self) -> Option<Duration> {
        lock(&self.receiver).timeout
    }

    /// How long a write or `send` may wait (`None`: for ever).
    pub fn write_timeout(&self) -> Option<Duration> {
        lock(&self.sender).timeout
    }

    /// In nonblocking mode every operation that would wait fails with
    /// [`Error::WouldBlock`] instead (timeouts do not apply).
    pub fn set_nonblocking(&self, nonblocking: bool) -> Result<()> {
        let flags = fcntl(&self.fd, FcntlArg::F_GETFL).map_err(|e| Error::nix("fcntl", e))?;
        let mut flags = OFlag::from_bits_truncate(flags);
        flags.set(OFlag::O_NONBLOCK, nonblocking);
        fcntl(&self.fd, FcntlArg::F_SETFL(flags)).map_err(|e| Error::nix("fcntl", e))?;
        self.nonblocking.store(nonblocking, Ordering::Relaxed);
        Ok(())
    }

    /// Whether the stream is in nonblocking mode (see
    /// [`set_nonblocking`](Self::set_nonblocking)).
    pub fn is_nonblocking(&self) -> bool {
        self.nonblocking.load(Ordering::Relaxed)
    }

    /// Whether a child process started with `exec` keeps this descriptor
    /// (streams are created close-on-exec). Returns the descriptor's number,
    /// which the child uses with [`Stream::from_fd`] (or `xipc_stream_from_fd`,
    /// `xipc.Stream.from_fd`).
    pub fn set_inheritable(&self, inheritable: bool) -> Result<RawFd> {
        let flags = if inheritable {
            FdFlag::empty()
        } else {
            FdFlag::FD_CLOEXEC
        };
        fcntl(&self.fd, FcntlArg::F_SETFD(flags)).map_err(|e| Error::nix("fcntl", e))?;
        Ok(self.fd.as_raw_fd())
    }

    /// Closes one or both directions of a socket; the peer reads end of
    /// stream after `Write`. Pipes and FIFOs have one direction: close them.
    pub fn shutdown(&self, how: Shutdown) -> Result<()> {
        use nix::sys::socket::Shutdown as S;
        if !self.kind.is_socket() {
            return Err(Error::Unsupported(
                "shutdown applies to sockets; close a pipe or FIFO end instead".into(),
            ));
        }
        let how = match how {
            Shutdown::Read => S::Read,
            Shutdown::Write => S::Write,
            Shutdown::Both => S::Both,
        };
        nix::sys::socket::shutdown(self.fd.as_raw_fd(), how).map_err(|e| Error::nix("shutdown", e))
    }

    /// The process at the other end of a Unix socket.
    pub fn peer_credentials(&self) -> Result<PeerCredentials> {
        if self.kind != Kind::Unix {
            return Err(Error::Unsupported(
                "peer credentials exist only on Unix sockets".into(),
            ));
        }
        let cred = getsockopt(&self.fd, sockopt::PeerCredentials)
            .map_err(|e| Error::nix("getsockopt(SO_PEERCRED)", e))?;
        Ok(PeerCredentials {
            pid: cred.pid(),
            uid: cred.uid(),
            gid: cred.gid(),
        })
    }

    /// Closes the stream (dropping it does the same). Bytes still pending
    /// from an interrupted write are sent first if the kernel takes them
    /// within the write timeout.
    pub fn close(self) -> Result<()> {
        if self.pending_bytes() > 0 {
            self.flush()?;
        }
        Ok(())
    }
}

/// Where and how a write goes: the descriptor, whether it is a socket, and
/// the deadline.
#[derive(Clone, Copy)]
struct Out<'a> {
    fd: BorrowedFd<'a>,
    socket: bool,
    deadline: Option<Instant>,
}

impl<'a> Out<'a> {
    fn new(stream: &'a Stream, deadline: Option<Instant>) -> Out<'a> {
        Out {
            fd: stream.fd.as_fd(),
            socket: stream.kind.is_socket(),
            deadline,
        }
    }

    fn write(self, parts: &[IoSlice<'_>]) -> Result<usize> {
        io::write(self.fd, self.socket, parts, self.deadline)
    }
}

impl Sender {
    /// Writes `parts` in order as one unit, with one system call when the
    /// kernel takes them whole. See [`Stream::send`] for what `Ok` and
    /// errors mean.
    fn submit(&mut self, out: Out<'_>, parts: &[&[u8]]) -> Result<()> {
        self.flush_pending(out)?;
        let total: usize = parts.iter().map(|p| p.len()).sum();
        let mut written = 0;
        while written < total {
            let mut slices = [IoSlice::new(&[]); io::MAX_PARTS];
            let n = io::skip_bytes(parts, written, &mut slices);
            match out.write(&slices[..n]) {
                Ok(n) => written += n,
                Err(err) if written == 0 => return Err(err),
                Err(Error::Interrupted) => continue,
                Err(Error::WouldBlock) | Err(Error::TimedOut(_)) => {
                    for part in &slices[..n] {
                        self.tx_pending.extend_from_slice(part);
                    }
                    return Ok(());
                }
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }

    fn flush_pending(&mut self, out: Out<'_>) -> Result<()> {
        while !self.tx_pending.is_empty() {
            let n = out.write(&[IoSlice::new(&self.tx_pending)])?;
            self.tx_pending.drain(..n);
        }
        Ok(())
    }
}

impl Receiver {
    fn recv_to_slice(
        &mut self,
        fd: BorrowedFd<'_>,
        buf: &mut [u8],
        deadline: Option<Instant>,
    ) -> Result<Option<usize>> {
        if !self.rx.in_progress() && self.rx_broken.is_none() {
            if self.ra_pos == self.ra_end && !self.read_more(fd, deadline)? {
                return Ok(None);
            }
            if let Some(n) = self.take_whole_frame(buf) {
                return Ok(Some(n));
            }
            if let Some(n) = self.recv_direct(fd, buf, deadline)? {
                return Ok(Some(n));
            }
        }
        if !self.fill(fd, deadline)? {
            return Ok(None);
        }
        let len = self.rx.msg.len();
        if len > buf.len() {
            return Err(Error::MessageTooLarge {
                size: len,
                limit: buf.len(),
            });
        }
        buf[..len].copy_from_slice(&self.rx.msg);
        self.rx.reset();
        Ok(Some(len))
    }

    /// The common case, without reassembly: a whole single-fragment message
    /// that fits `buf` is in the read-ahead buffer. Copies it out.
    fn take_whole_frame(&mut self, buf: &mut [u8]) -> Option<usize> {
        let ahead = &self.read_ahead[self.ra_pos..self.ra_end];
        let header: [u8; 4] = ahead.get(..4)?.try_into().ok()?;
        let (len, last) = parse_header(header);
        if !last || len > ahead.len() - 4 || len > buf.len() || len > self.limits.max_record {
            return None;
        }
        buf[..len].copy_from_slice(&ahead[4..4 + len]);
        self.ra_pos += 4 + len;
        Some(len)
    }

    /// A single-fragment message that fits `buf` but has not all arrived:
    /// reads its body straight into `buf` (no copy through the stream). If
    /// that stops half-way, what arrived moves into the stream's reassembly
    /// state, so nothing is lost.
    fn recv_direct(
        &mut self,
        fd: BorrowedFd<'_>,
        buf: &mut [u8],
        deadline: Option<Instant>,
    ) -> Result<Option<usize>> {
        let Some(header) = self.read_ahead[self.ra_pos..self.ra_end].get(..4) else {
            return Ok(None);
        };
        let header: [u8; 4] = header.try_into().expect("4 bytes");
        let (len, last) = parse_header(header);
        if !last || len > buf.len() || len > self.limits.max_record {
            return Ok(None);
        }
        self.ra_pos += 4;
        let body = &mut buf[..len];
        let mut got = self.take_ahead(body);
        while got < len {
            let status = io::read(fd, &mut body[got..], deadline);
            if let Ok(n @ 1..) = status {
                got += n;
                continue;
            }
            self.rx.header = header;
            self.rx.header_len = 4;
            self.rx.fragments = 1;
            self.rx.last = true;
            self.rx.msg.clear();
            self.rx.msg.extend_from_slice(&body[..got]);
            self.rx.fragment_left = len - got;
            return match status {
                Err(err) => Err(err),
                Ok(_) => self.ended().map(|_| None),
            };
        }
        Ok(Some(len))
    }

    /// One read of up to [`READ_AHEAD`] bytes into the (empty) read-ahead
    /// buffer; `false` at end of stream.
    fn read_more(&mut self, fd: BorrowedFd<'_>, deadline: Option<Instant>) -> Result<bool> {
        if self.read_ahead.is_empty() {
            self.read_ahead = vec![0; READ_AHEAD];
        }
        let n = io::read(fd, &mut self.read_ahead, deadline)?;
        self.ra_pos = 0;
        self.ra_end = n;
        Ok(n > 0)
    }

    /// Moves up to `out.len()` read-ahead bytes into `out`; returns how many.
    fn take_ahead(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.ra_end - self.ra_pos);
        out[..n].copy_from_slice(&self.read_ahead[self.ra_pos..self.ra_pos + n]);
        self.ra_pos += n;
        n
    }

    /// Reads until `self.rx` holds a whole message (`true`) or the stream
    /// ends before one starts (`false`).
    fn fill(&mut self, fd: BorrowedFd<'_>, deadline: Option<Instant>) -> Result<bool> {
        if self.rx.complete {
            return Ok(true);
        }
        if let Some(why) = &self.rx_broken {
            return Err(Error::Protocol(format!(
                "stream cannot be read as messages any more: {why}"
            )));
        }
        loop {
            if self.rx.header_len < 4 {
                if self.ra_pos == self.ra_end && !self.read_more(fd, deadline)? {
                    return self.ended();
                }
                let mut header = self.rx.header;
                let n = self.take_ahead(&mut header[self.rx.header_len..]);
                self.rx.header = header;
                self.rx.header_len += n;
                if self.rx.header_len < 4 {
                    continue;
                }
                self.start_fragment()?;
            }
            // `rx.msg` holds exactly the bytes received so far: memory
            // follows the bytes that arrive, not the length a header claims.
            while self.rx.fragment_left > 0 {
                let start = self.rx.msg.len();
                let n = if self.ra_pos < self.ra_end {
                    let n = self.rx.fragment_left.min(self.ra_end - self.ra_pos);
                    let ahead = &self.read_ahead[self.ra_pos..self.ra_pos + n];
                    self.rx.msg.extend_from_slice(ahead);
                    self.ra_pos += n;
                    n
                } else if self.rx.fragment_left >= READ_AHEAD / 2 {
                    // Large: straight into place, a chunk at a time.
                    let want = self.rx.fragment_left.min(record::READ_CHUNK);
                    self.rx.msg.resize(start + want, 0);
                    let got = io::read(fd, &mut self.rx.msg[start..], deadline);
                    let n = *got.as_ref().unwrap_or(&0);
                    self.rx.msg.truncate(start + n);
                    if got? == 0 {
                        return self.ended();
                    }
                    n
                } else {
                    if !self.read_more(fd, deadline)? {
                        return self.ended();
                    }
                    continue;
                };
                self.rx.fragment_left -= n;
            }
            self.rx.header_len = 0;
            if self.rx.last {
                self.rx.complete = true;
                return Ok(true);
            }
        }
    }

    /// A whole header has arrived: checks it against the limits and makes
    /// room for the fragment.
    fn start_fragment(&mut self) -> Result<()> {
        let (len, last) = parse_header(self.rx.header);
        self.rx.fragments += 1;
        if self.rx.fragments > self.limits.max_fragments {
            return Err(self.broken(Error::Protocol(format!(
                "message has more than {} fragments",
                self.limits.max_fragments
            ))));
        }
        let total = self.rx.msg.len().saturating_add(len);
        if total > self.limits.max_record {
            return Err(self.broken(Error::MessageTooLarge {
                size: total,
                limit: self.limits.max_record,
            }));
        }
        self.rx.fragment_left = len;
        self.rx.last = last;
        Ok(())
    }

    /// The stream ended: cleanly between messages, or inside one.
    fn ended(&mut self) -> Result<bool> {
        let rx = &self.rx;
        let err = if rx.header_len == 0 && rx.fragments == 0 {
            return Ok(false);
        } else if rx.header_len > 0 && rx.header_len < 4 {
            format!(
                "stream ended inside a record-mark header ({} of 4 bytes)",
                rx.header_len
            )
        } else {
            let len = parse_header(rx.header).0;
            format!(
                "stream ended inside a message ({} of {} bytes of fragment {})",
                len - rx.fragment_left,
                len,
                rx.fragments
            )
        };
        self.rx.reset();
        Err(Error::Closed(err))
    }

    /// The stream is out of step with its frames after `err`: later receives
    /// fail instead of reading a payload as a header.
    fn broken(&mut self, err: Error) -> Error {
        self.rx_broken = Some(err.to_string());
        self.rx.reset();
        err
    }
}

impl AsFd for Stream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for Stream {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl IntoRawFd for Stream {
    fn into_raw_fd(self) -> RawFd {
        self.fd.into_raw_fd()
    }
}

impl From<Stream> for OwnedFd {
    /// The descriptor, without the stream (bytes it read ahead or kept
    /// pending are dropped).
    fn from(s: Stream) -> OwnedFd {
        s.fd
    }
}

impl FromRawFd for Stream {
    /// # Safety
    /// `fd` must be an open descriptor that nothing else owns or closes.
    unsafe fn from_raw_fd(fd: RawFd) -> Stream {
        // SAFETY: the caller hands over sole ownership of an open descriptor.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let kind = Kind::of(fd.as_fd()).unwrap_or(Kind::Other);
        let nonblocking = fcntl(&fd, FcntlArg::F_GETFL)
            .map(|f| OFlag::from_bits_truncate(f).contains(OFlag::O_NONBLOCK))
            .unwrap_or(false);
        Stream::with_kind(fd, kind, nonblocking)
    }
}

impl From<std::net::TcpStream> for Stream {
    fn from(s: std::net::TcpStream) -> Stream {
        Stream::with_kind(s.into(), Kind::Tcp, false)
    }
}

impl From<std::os::unix::net::UnixStream> for Stream {
    fn from(s: std::os::unix::net::UnixStream) -> Stream {
        Stream::with_kind(s.into(), Kind::Unix, false)
    }
}

impl std::io::Read for &Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        Stream::read(self, buf).map_err(into_io)
    }
}

impl std::io::Write for &Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Stream::write(self, buf).map_err(into_io)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Stream::flush(self).map_err(into_io)
    }
}

impl std::io::Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        Stream::read(self, buf).map_err(into_io)
    }
}

impl std::io::Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Stream::write(self, buf).map_err(into_io)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Stream::flush(self).map_err(into_io)
    }
}

fn into_io(err: Error) -> std::io::Error {
    use std::io::ErrorKind;
    match err {
        Error::Os { source, .. } => source,
        Error::WouldBlock => ErrorKind::WouldBlock.into(),
        Error::Interrupted => ErrorKind::Interrupted.into(),
        Error::TimedOut(m) => std::io::Error::new(ErrorKind::TimedOut, m),
        Error::Closed(m) => std::io::Error::new(ErrorKind::BrokenPipe, m),
        other => std::io::Error::other(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (Stream, Stream) {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        (Stream::from(a), Stream::from(b))
    }

    #[test]
    fn a_message_split_across_reads_is_reassembled_in_nonblocking_mode() {
        let (a, b) = pair();
        b.set_nonblocking(true).unwrap();
        let framed = record::encode_record(b"hello, world", 5);
        for (i, byte) in framed.iter().enumerate() {
            assert!(matches!(b.receive(), Err(Error::WouldBlock)), "byte {i}");
            a.write_all(&[*byte]).unwrap();
        }
        assert_eq!(b.receive().unwrap().unwrap(), b"hello, world");
        assert!(matches!(b.receive(), Err(Error::WouldBlock)));
    }

    #[test]
    fn direct_receive_into_a_buffer_survives_would_block() {
        let (a, b) = pair();
        b.set_nonblocking(true).unwrap();
        let msg: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        let framed = record::encode_record(&msg, usize::MAX);
        a.write_all(&framed[..6000]).unwrap();
        let mut buf = vec![0u8; 20_000];
        assert!(matches!(
            b.receive_to_slice(&mut buf),
            Err(Error::WouldBlock)
        ));
        buf.fill(0xEE); // the caller's buffer is not where the partial message lives
        a.write_all(&framed[6000..]).unwrap();
        assert_eq!(b.receive_to_slice(&mut buf).unwrap(), Some(10_000));
        assert_eq!(&buf[..10_000], &msg[..]);
    }

    #[test]
    fn too_small_buffer_keeps_the_message() {
        let (a, b) = pair();
        a.send(b"0123456789").unwrap();
        let mut small = [0u8; 4];
        let err = b.receive_to_slice(&mut small).unwrap_err();
        assert!(
            matches!(err, Error::MessageTooLarge { size: 10, limit: 4 }),
            "{err}"
        );
        let mut big = [0u8; 16];
        assert_eq!(b.receive_to_slice(&mut big).unwrap(), Some(10));
        assert_eq!(&big[..10], b"0123456789");
    }

    #[test]
    fn hostile_header_breaks_framing_for_good() {
        let (a, b) = pair();
        a.write_all(&[0x7F, 0xFF, 0xFF, 0xFF]).unwrap();
        a.send(b"next").unwrap();
        let err = b.receive().unwrap_err();
        assert!(
            matches!(err, Error::MessageTooLarge { size: 0x7FFF_FFFF, limit } if limit == 4 << 20),
            "{err}"
        );
        assert!(matches!(b.receive(), Err(Error::Protocol(_))));
    }

    #[test]
    fn raw_read_is_refused_inside_a_message() {
        let (a, b) = pair();
        b.set_nonblocking(true).unwrap();
        a.write_all(&[0x80, 0, 0, 4, 1]).unwrap();
        assert!(matches!(b.receive(), Err(Error::WouldBlock)));
        assert!(matches!(
            b.read(&mut [0u8; 8]),
            Err(Error::InvalidArgument(_))
        ));
    }
}
