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

mod net;
mod pipe;
pub mod record;

use std::io::IoSlice;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use nix::fcntl::{fcntl, FcntlArg, FdFlag, OFlag};
use nix::sys::socket::{getsockopt, sockopt, AddressFamily, SockaddrLike, SockaddrStorage};
use nix::sys::stat::{fstat, SFlag};

pub use net::{tcp_connect, tcp_listen, unix_connect, unix_listen, Listener};
pub use pipe::{mkfifo, open_fifo, pipe, FifoMode};
pub use record::RecordLimits;

use crate::net::sys::{self, Sink};
use crate::net::Deadline;
use crate::sync::lock;
use crate::{Error, Result};
use record::{fragment_header, RecordDecoder, MAX_FRAGMENT_LEN};

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

    fn sink(self) -> Sink {
        match self {
            Kind::Tcp | Kind::Unix => Sink::Socket,
            Kind::Pipe => Sink::Pipe,
            Kind::Other => Sink::Plain,
        }
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
    /// Reassembles messages from the bytes read.
    dec: RecordDecoder,
    /// A whole message not handed out yet (the buffer offered was too small).
    ready: Option<Vec<u8>>,
    /// Bytes read ahead and not yet used: `read_ahead[ra_pos..ra_end]`.
    read_ahead: Vec<u8>,
    ra_pos: usize,
    ra_end: usize,
}

/// The sending half's state.
#[derive(Debug)]
struct Sender {
    timeout: Option<Duration>,
    max_fragment: usize,
    /// Bytes of an accepted write not yet in the kernel, sent first.
    tx_pending: Vec<u8>,
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
                dec: RecordDecoder::new(RecordLimits::default()),
                ready: None,
                read_ahead: Vec::new(),
                ra_pos: 0,
                ra_end: 0,
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

    /// When an operation started now must end: never in nonblocking mode
    /// (where nothing waits), else after `timeout`.
    fn deadline(&self, timeout: Option<Duration>) -> Deadline {
        if self.nonblocking.load(Ordering::Relaxed) {
            return Deadline::NEVER;
        }
        Deadline::after(timeout)
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
        Ok(rx.ready.take())
    }

    /// Like [`Stream::receive`], into `out` (replaced; its allocation is
    /// reused). Returns `false` at a clean end of stream.
    pub fn receive_into(&self, out: &mut Vec<u8>) -> Result<bool> {
        let mut rx = lock(&self.receiver);
        let deadline = self.deadline(rx.timeout);
        if !rx.fill(self.fd.as_fd(), deadline)? {
            return Ok(false);
        }
        *out = rx.ready.take().unwrap_or_default();
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
        lock(&self.receiver).ready.as_ref().map(Vec::len)
    }

    /// Bytes read from the descriptor but not handed out yet (whole or
    /// partial messages), which `poll` on the descriptor cannot see.
    pub fn buffered_len(&self) -> usize {
        let rx = lock(&self.receiver);
        rx.ra_end - rx.ra_pos + rx.ready.as_ref().map_or(0, Vec::len)
    }

    /// Largest message `receive` accepts, all fragments together
    /// (default 4 MiB).
    pub fn set_max_message_size(&self, max: usize) {
        let mut rx = lock(&self.receiver);
        let limits = RecordLimits {
            max_record: max,
            ..rx.dec.limits()
        };
        rx.dec.set_limits(limits);
    }

    /// The largest message `receive` accepts.
    pub fn max_message_size(&self) -> usize {
        lock(&self.receiver).dec.limits().max_record
    }

    /// Bounds for reassembly: largest message and most fragments.
    pub fn set_record_limits(&self, limits: RecordLimits) {
        lock(&self.receiver).dec.set_limits(limits);
    }

    /// Largest fragment `send` writes; longer messages are split
    /// (default and maximum 2³¹ − 1 bytes).
    pub fn set_max_fragment(&self, max: usize) -> Result<()> {
        if max == 0 || max > MAX_FRAGMENT_LEN {
            return Err(Error::InvalidArgument(format!(
                "fragment size {max} is not in 1..={MAX_FRAGMENT_LEN}"
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
        if !rx.dec.is_idle() || rx.ready.is_some() {
            return Err(Error::InvalidArgument(
                "a framed message is partly received; finish it with receive first".into(),
            ));
        }
        if rx.ra_pos < rx.ra_end {
            return Ok(rx.take_ahead(buf));
        }
        let deadline = self.deadline(rx.timeout);
        sys::read_by(self.fd.as_fd(), buf, deadline)
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
        sys::set_nonblocking(self.fd.as_fd(), nonblocking)?;
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

/// Where and how a write goes: the descriptor, how it is written to, and
/// the deadline.
#[derive(Clone, Copy)]
struct Out<'a> {
    fd: BorrowedFd<'a>,
    sink: Sink,
    deadline: Deadline,
}

impl<'a> Out<'a> {
    fn new(stream: &'a Stream, deadline: Deadline) -> Out<'a> {
        Out {
            fd: stream.fd.as_fd(),
            sink: stream.kind.sink(),
            deadline,
        }
    }

    fn write(self, parts: &[IoSlice<'_>]) -> Result<usize> {
        sys::write_by(self.fd, self.sink, parts, self.deadline)
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
            let mut slices = [IoSlice::new(&[]); sys::MAX_PARTS];
            let n = sys::skip_bytes(parts, written, usize::MAX, &mut slices);
            match out.write(&slices[..n]) {
                Ok(n) => written += n,
                Err(err) if written == 0 => return Err(err),
                Err(Error::Interrupted) => continue,
                Err(Error::WouldBlock) | Err(Error::TimedOut(_)) => {
                    for part in &slices[..n] {
                        crate::copy::extend(&mut self.tx_pending, part);
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
        deadline: Deadline,
    ) -> Result<Option<usize>> {
        if self.ready.is_none() && self.dec.is_idle() {
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
        let len = self.ready.as_ref().map_or(0, Vec::len);
        if len > buf.len() {
            return Err(Error::MessageTooLarge {
                size: len,
                limit: buf.len(),
            });
        }
        let msg = self.ready.take().unwrap_or_default();
        crate::copy::fill(&mut buf[..len], &msg);
        Ok(Some(len))
    }

    /// The common case, without reassembly: a whole single-fragment message
    /// that fits `buf` is in the read-ahead buffer. Copies it out.
    fn take_whole_frame(&mut self, buf: &mut [u8]) -> Option<usize> {
        let ahead = &self.read_ahead[self.ra_pos..self.ra_end];
        let len = self.dec.single_fragment_len(ahead)?;
        if len > ahead.len() - 4 || len > buf.len() {
            return None;
        }
        crate::copy::fill(&mut buf[..len], &ahead[4..4 + len]);
        self.ra_pos += 4 + len;
        Some(len)
    }

    /// A single-fragment message that fits `buf` but has not all arrived:
    /// reads its body straight into `buf` (no copy through the stream). If
    /// that stops half-way, what arrived goes to the decoder, so nothing is
    /// lost.
    fn recv_direct(
        &mut self,
        fd: BorrowedFd<'_>,
        buf: &mut [u8],
        deadline: Deadline,
    ) -> Result<Option<usize>> {
        let ahead = &self.read_ahead[self.ra_pos..self.ra_end];
        let Some(len) = self.dec.single_fragment_len(ahead) else {
            return Ok(None);
        };
        if len > buf.len() {
            return Ok(None);
        }
        self.ra_pos += 4;
        let body = &mut buf[..len];
        let mut got = self.take_ahead(body);
        while got < len {
            let status = sys::read_by(fd, &mut body[got..], deadline);
            if let Ok(n @ 1..) = status {
                got += n;
                continue;
            }
            self.dec.resume(len, &body[..got]);
            return match status {
                Err(err) => Err(err),
                Ok(_) => self.dec.finish().map(|()| None),
            };
        }
        Ok(Some(len))
    }

    /// One read of up to [`READ_AHEAD`] bytes into the (empty) read-ahead
    /// buffer; `false` at end of stream.
    fn read_more(&mut self, fd: BorrowedFd<'_>, deadline: Deadline) -> Result<bool> {
        if self.read_ahead.is_empty() {
            self.read_ahead = vec![0; READ_AHEAD];
        }
        let n = sys::read_by(fd, &mut self.read_ahead, deadline)?;
        self.ra_pos = 0;
        self.ra_end = n;
        Ok(n > 0)
    }

    /// Moves up to `out.len()` read-ahead bytes into `out`; returns how many.
    fn take_ahead(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.ra_end - self.ra_pos);
        crate::copy::fill(
            &mut out[..n],
            &self.read_ahead[self.ra_pos..self.ra_pos + n],
        );
        self.ra_pos += n;
        n
    }

    /// Reads until `self.ready` holds a whole message (`true`) or the
    /// stream ends between messages (`false`).
    fn fill(&mut self, fd: BorrowedFd<'_>, deadline: Deadline) -> Result<bool> {
        while self.ready.is_none() {
            if self.ra_pos < self.ra_end {
                let (used, msg) = self
                    .dec
                    .decode(&self.read_ahead[self.ra_pos..self.ra_end])?;
                self.ra_pos += used;
                self.ready = msg;
                continue;
            }
            // A large body goes straight into place, a chunk at a time.
            if self.dec.fragment_left() >= READ_AHEAD / 2 {
                let Some((got, record)) = self
                    .dec
                    .append_body(|record, max| sys::read_append_by(fd, record, max, deadline))
                else {
                    continue;
                };
                self.ready = record;
                if got? == 0 {
                    return self.dec.finish().map(|()| false);
                }
                continue;
            }
            if !self.read_more(fd, deadline)? {
                return self.dec.finish().map(|()| false);
            }
        }
        Ok(true)
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
