//! The system calls that move bytes and wait for readiness, each turned
//! into a `Result` in exactly one place.
//!
//! Writes never kill the process: sockets send with `MSG_NOSIGNAL`, and a
//! write to a pipe or FIFO asks for no SIGPIPE (`RWF_NOSIGNAL`, Linux
//! 6.18) or, where the kernel lacks that, blocks SIGPIPE in the calling
//! thread for its duration and takes back the signal its failure raised,
//! so a vanished reader is [`Error::Closed`] rather than a dead process.
//!
//! The wrappers a message passes through on every send and receive are
//! `#[inline]`, so that they fold into their callers in other codegen
//! units (the release build has four) and a message costs one system call
//! and no chain of calls around it; the error paths stay out of line
//! (`#[cold]`).

use std::io::IoSlice;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{pthread_sigmask, SigSet, SigmaskHow, Signal};
use nix::sys::socket::{sendmsg, sendto, MsgFlags, SockaddrStorage, UnixAddr};

use super::time::Deadline;
use crate::{Error, Result};

/// How a descriptor is written to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sink {
    /// A socket: `send`/`sendmsg` with `MSG_NOSIGNAL`.
    Socket,
    /// A socket, without waiting for room even when it is in blocking
    /// mode (`MSG_DONTWAIT` too): what does not fit is
    /// [`Error::WouldBlock`] or a short count.
    SocketNow,
    /// A pipe or FIFO: `write`/`writev` with SIGPIPE held off.
    Pipe,
    /// Anything else (a terminal, a file): plain `write`/`writev`.
    Plain,
}

/// Waits until `fd` is ready for `events` or `deadline` passes
/// ([`Error::TimedOut`]). A signal is [`Error::Interrupted`]. Hang-up and
/// error conditions count as ready: the next read or write reports them.
pub(crate) fn wait(fd: BorrowedFd<'_>, events: PollFlags, deadline: Deadline) -> Result<()> {
    loop {
        let ms = deadline.poll_ms();
        let timeout = PollTimeout::try_from(ms).unwrap_or(PollTimeout::NONE);
        let mut fds = [PollFd::new(fd, events)];
        match poll(&mut fds, timeout) {
            Ok(0) if deadline.passed() => {
                return Err(Deadline::expired(format_args!(
                    "waiting for descriptor {}",
                    fd.as_raw_fd()
                )))
            }
            Ok(0) => continue,
            Ok(_) => return Ok(()),
            Err(Errno::EINTR) => return Err(Error::Interrupted),
            Err(e) => return Err(Error::nix("poll", e)),
        }
    }
}

/// One `read(2)`. 0 is the end of the stream; a descriptor in nonblocking
/// mode with nothing to read is [`Error::WouldBlock`].
#[inline]
pub(crate) fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize> {
    nix::unistd::read(fd, buf).map_err(|e| io_error("read", e))
}

/// One `read(2)` appended to `buf`: at most `max` bytes, read straight
/// into its spare capacity (grown as needed), so the bytes are not zeroed
/// first. Returns how many were read, as [`read`] does.
pub(crate) fn read_append(fd: BorrowedFd<'_>, buf: &mut Vec<u8>, max: usize) -> Result<usize> {
    buf.reserve(max);
    let spare = &mut buf.spare_capacity_mut()[..max];
    // SAFETY: the pointer and length describe `spare`, memory `buf` owns
    // and that nothing else refers to during the call; read(2) writes at
    // most that many bytes there.
    let n = unsafe { libc::read(fd.as_raw_fd(), spare.as_mut_ptr().cast(), spare.len()) };
    if n < 0 {
        return Err(io_error("read", Errno::last()));
    }
    let n = n as usize;
    // SAFETY: read(2) initialised the first `n` (at most `max`) bytes of
    // the spare capacity, which `reserve` made at least `max` long.
    unsafe { buf.set_len(buf.len() + n) };
    Ok(n)
}

/// The flags of a socket receive that blocks (up to the socket's receive
/// timeout) when `wait`, and otherwise returns at once even on a socket in
/// blocking mode.
fn recv_flags(wait: bool) -> libc::c_int {
    if wait {
        0
    } else {
        libc::MSG_DONTWAIT
    }
}

/// One `recv(2)` on a socket: as [`read`], except that it does not wait
/// unless `wait`, whatever the socket's mode. A wait that the socket's
/// receive timeout ends is [`Error::WouldBlock`].
#[inline]
pub(crate) fn recv(fd: BorrowedFd<'_>, buf: &mut [u8], wait: bool) -> Result<usize> {
    // SAFETY: the pointer and length describe `buf`, which nothing else
    // refers to during the call; recv(2) writes at most that many bytes.
    let n = unsafe {
        libc::recv(
            fd.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            recv_flags(wait),
        )
    };
    if n < 0 {
        return Err(io_error("read", Errno::last()));
    }
    Ok(n as usize)
}

/// One `recvmsg(2)` on a socket that, like [`recv`], does not wait unless
/// `wait`: at most `max` bytes appended to `buf` (read straight into its
/// spare capacity, grown as needed), and what follows them in the stream
/// into `more`. Returns the bytes read in all (0 is the end of the
/// stream). A reader on an edge-triggered socket learns from a count short
/// of `max + more.len()` that it took everything, without a read that
/// finds nothing.
pub(crate) fn recv_append_then(
    fd: BorrowedFd<'_>,
    buf: &mut Vec<u8>,
    max: usize,
    more: &mut [u8],
    wait: bool,
) -> Result<usize> {
    buf.reserve(max);
    let spare = &mut buf.spare_capacity_mut()[..max];
    let mut iov = [
        libc::iovec {
            iov_base: spare.as_mut_ptr().cast(),
            iov_len: spare.len(),
        },
        libc::iovec {
            iov_base: more.as_mut_ptr().cast(),
            iov_len: more.len(),
        },
    ];
    // SAFETY: all-zero bytes are a valid msghdr (no name, no control).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = iov.as_mut_ptr();
    msg.msg_iovlen = 2;
    // SAFETY: `msg` points at the two iovecs, which describe `spare` and
    // `more`, memory that `buf` and the caller own and that nothing else
    // refers to during the call; recvmsg(2) writes at most their lengths,
    // in order, and no name or control data (none asked for).
    let n = unsafe { libc::recvmsg(fd.as_raw_fd(), &mut msg, recv_flags(wait)) };
    if n < 0 {
        return Err(io_error("read", Errno::last()));
    }
    let n = n as usize;
    // SAFETY: recvmsg(2) filled the first iovec before the second, so the
    // first `min(n, max)` bytes of the spare capacity are initialised.
    unsafe { buf.set_len(buf.len() + n.min(max)) };
    Ok(n)
}

/// [`read_append`] that waits at most until `deadline`, as [`read_by`].
pub(crate) fn read_append_by(
    fd: BorrowedFd<'_>,
    buf: &mut Vec<u8>,
    max: usize,
    deadline: Deadline,
) -> Result<usize> {
    by_deadline(fd, PollFlags::POLLIN, deadline, || {
        read_append(fd, buf, max)
    })
}

/// One read that waits at most until `deadline` (a descriptor in blocking
/// mode with no deadline just blocks in `read`).
#[inline]
pub(crate) fn read_by(fd: BorrowedFd<'_>, buf: &mut [u8], deadline: Deadline) -> Result<usize> {
    by_deadline(fd, PollFlags::POLLIN, deadline, || read(fd, buf))
}

/// Runs `io` once `fd` is ready for `events`, waiting at most until
/// `deadline`; with no deadline, runs it at once (a descriptor in blocking
/// mode then blocks in it).
#[inline]
fn by_deadline(
    fd: BorrowedFd<'_>,
    events: PollFlags,
    deadline: Deadline,
    mut io: impl FnMut() -> Result<usize>,
) -> Result<usize> {
    loop {
        if deadline != Deadline::NEVER {
            wait(fd, events, deadline)?;
        }
        match io() {
            // Ready but taken by another reader or writer: wait again
            // until the deadline.
            Err(Error::WouldBlock) if deadline != Deadline::NEVER => continue,
            other => return other,
        }
    }
}

/// One write of `parts` in order (a vectored write for several); returns
/// the bytes written. Nothing to write is no system call.
#[inline]
pub(crate) fn write(fd: BorrowedFd<'_>, sink: Sink, parts: &[IoSlice<'_>]) -> Result<usize> {
    let raw = fd.as_raw_fd();
    let written = match (sink, parts) {
        (_, []) => return Ok(0),
        (Sink::Socket | Sink::SocketNow, [one]) => {
            nix::sys::socket::send(raw, one, send_flags(sink))
        }
        (Sink::Socket | Sink::SocketNow, _) => {
            let mut small = [0; SMALL_SEND];
            match gather(parts, &mut small) {
                Some(one) => nix::sys::socket::send(raw, one, send_flags(sink)),
                None => sendmsg::<UnixAddr>(raw, parts, &[], send_flags(sink), None),
            }
        }
        (Sink::Pipe, _) => pipe_write(fd, parts),
        (Sink::Plain, _) => plain_write(fd, parts),
    };
    written.map_err(|e| io_error("write", e))
}

/// Parts of a message up to this many bytes in all are copied together and
/// sent as one buffer: a `send` of one buffer costs the kernel less than a
/// `sendmsg` of several (a small RPC reply, its header and its results,
/// pinned to one CPU with its caller: 1.5-2% more calls/s, twelve
/// alternating runs).
const SMALL_SEND: usize = 256;

/// Sends `parts` as one datagram to `to`, without waiting for room (a full
/// socket buffer is [`Error::WouldBlock`]): copied into one buffer and sent
/// with `sendto` when small (see [`SMALL_SEND`]), else one `sendmsg`.
pub(crate) fn send_datagram(
    fd: BorrowedFd<'_>,
    parts: &[IoSlice<'_>],
    to: std::net::SocketAddr,
) -> Result<usize> {
    let raw = fd.as_raw_fd();
    let addr = SockaddrStorage::from(to);
    let flags = MsgFlags::MSG_NOSIGNAL | MsgFlags::MSG_DONTWAIT;
    let mut small = [0; SMALL_SEND];
    let sent = match gather(parts, &mut small) {
        Some(one) => sendto(raw, one, &addr, flags),
        None => sendmsg(raw, parts, &[], flags, Some(&addr)),
    };
    sent.map_err(|e| io_error("send a datagram", e))
}

/// `parts` copied one after the other into `buf`, when they fit.
fn gather<'a>(parts: &[IoSlice<'_>], buf: &'a mut [u8; SMALL_SEND]) -> Option<&'a [u8]> {
    let mut at = 0;
    for p in parts {
        buf.get_mut(at..at + p.len())?.copy_from_slice(p);
        at += p.len();
    }
    Some(&buf[..at])
}

#[inline]
fn send_flags(sink: Sink) -> MsgFlags {
    match sink {
        Sink::SocketNow => MsgFlags::MSG_NOSIGNAL | MsgFlags::MSG_DONTWAIT,
        _ => MsgFlags::MSG_NOSIGNAL,
    }
}

/// One write that waits at most until `deadline` for room (a descriptor in
/// blocking mode with no deadline just blocks in `write`).
#[inline]
pub(crate) fn write_by(
    fd: BorrowedFd<'_>,
    sink: Sink,
    parts: &[IoSlice<'_>],
    deadline: Deadline,
) -> Result<usize> {
    by_deadline(fd, PollFlags::POLLOUT, deadline, || write(fd, sink, parts))
}

#[inline]
fn plain_write(fd: BorrowedFd<'_>, parts: &[IoSlice<'_>]) -> nix::Result<usize> {
    match parts {
        [one] => nix::unistd::write(fd, one),
        _ => nix::sys::uio::writev(fd, parts),
    }
}

/// `RWF_NOSIGNAL` (Linux 6.18; not yet in the libc crate): a write to a
/// pipe without readers fails with EPIPE and raises no SIGPIPE.
const RWF_NOSIGNAL: libc::c_int = 0x100;

/// The kernel refused `RWF_NOSIGNAL` (EOPNOTSUPP: older than 6.18) or
/// `pwritev2` itself, so pipe writes hold SIGPIPE off instead.
static NO_RWF_NOSIGNAL: AtomicBool = AtomicBool::new(false);

/// A write to a pipe or FIFO that raises no SIGPIPE: one `pwritev2` with
/// `RWF_NOSIGNAL` where the kernel has it; otherwise a plain write between
/// two changes of the thread's signal mask ([`without_sigpipe`]).
fn pipe_write(fd: BorrowedFd<'_>, parts: &[IoSlice<'_>]) -> nix::Result<usize> {
    if !NO_RWF_NOSIGNAL.load(Ordering::Relaxed) {
        let count = libc::c_int::try_from(parts.len()).map_err(|_| Errno::EINVAL)?;
        // SAFETY: an IoSlice has the layout of an iovec (std guarantees it
        // on Unix), and the `count` slices are live for the call, which
        // only reads them. Offset -1 writes at the current position, as
        // writev does (a pipe has no other).
        let n = unsafe {
            libc::pwritev2(
                fd.as_raw_fd(),
                parts.as_ptr().cast(),
                count,
                -1,
                RWF_NOSIGNAL,
            )
        };
        if n >= 0 {
            return Ok(n as usize);
        }
        match Errno::last() {
            // An older kernel, or a seccomp filter that forbids pwritev2
            // (EPERM or ENOSYS; a pipe write cannot fail so otherwise).
            Errno::EOPNOTSUPP | Errno::ENOSYS | Errno::EPERM => {
                NO_RWF_NOSIGNAL.store(true, Ordering::Relaxed)
            }
            e => return Err(e),
        }
    }
    without_sigpipe(|| plain_write(fd, parts))
}

/// Runs `write` with SIGPIPE blocked in this thread. When the write fails
/// with EPIPE, the SIGPIPE it raised is taken back (unless one was already
/// pending), so the caller sees only the error.
fn without_sigpipe(write: impl FnOnce() -> nix::Result<usize>) -> nix::Result<usize> {
    let mut pipe = SigSet::empty();
    pipe.add(Signal::SIGPIPE);
    let mut old = SigSet::empty();
    if pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&pipe), Some(&mut old)).is_err() {
        return write();
    }
    let was_blocked = old.contains(Signal::SIGPIPE);
    // Already blocked by the caller: a SIGPIPE may be pending from before,
    // and must stay so.
    let pending_before = was_blocked && sigpipe_pending();
    let result = write();
    if result == Err(Errno::EPIPE) && !pending_before {
        take_pending(&pipe);
    }
    if !was_blocked {
        let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
    }
    result
}

/// Whether a SIGPIPE is pending for this thread or the process.
fn sigpipe_pending() -> bool {
    let mut set = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigpending fills the set it is given; sigismember reads it
    // only once sigpending has succeeded and so initialised it.
    unsafe {
        libc::sigpending(set.as_mut_ptr()) == 0
            && libc::sigismember(set.as_ptr(), libc::SIGPIPE) == 1
    }
}

/// Consumes a pending signal of `set` without waiting.
fn take_pending(set: &SigSet) {
    let zero = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    loop {
        // SAFETY: `set` is a valid signal set, the info pointer may be NULL
        // and `zero` is a valid timespec; sigtimedwait only reads them.
        let r = unsafe { libc::sigtimedwait(set.as_ref(), std::ptr::null_mut(), &zero) };
        if r >= 0 || Errno::last() != Errno::EINTR {
            return;
        }
    }
}

/// Maps a read or write errno: a vanished peer is [`Error::Closed`], an
/// empty nonblocking descriptor [`Error::WouldBlock`], a signal
/// [`Error::Interrupted`], the rest as [`Error::nix`] does.
#[cold]
pub(crate) fn io_error(what: &str, errno: Errno) -> Error {
    match errno {
        Errno::EPIPE => Error::Closed(format!("{what}: the reading end is closed (EPIPE)")),
        Errno::ECONNRESET => Error::Closed(format!("{what}: connection reset by peer")),
        Errno::EAGAIN => Error::WouldBlock,
        Errno::EINTR => Error::Interrupted,
        _ => Error::nix(what, errno),
    }
}

/// Accepts a connection waiting on the listening socket `fd`: the new
/// socket, close-on-exec and nonblocking, and the peer's address when it
/// is an IP one (the accept itself reports it: no `getpeername`). Errors
/// stay errno values, which the caller tells apart (EAGAIN, EMFILE,
/// ECONNABORTED...).
pub(crate) fn accept(
    fd: BorrowedFd<'_>,
) -> std::result::Result<(OwnedFd, Option<std::net::SocketAddr>), Errno> {
    // SAFETY: all-zero bytes are a valid sockaddr_storage.
    let mut name: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `name` has room for `len` bytes, any address family's, and
    // accept4 writes at most that many and the length it wrote to `len`.
    let raw = unsafe {
        libc::accept4(
            fd.as_raw_fd(),
            std::ptr::addr_of_mut!(name).cast(),
            &mut len,
            libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
        )
    };
    if raw < 0 {
        return Err(Errno::last());
    }
    // SAFETY: accept4 returned a new descriptor that nothing else owns.
    let conn = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: accept4 wrote an address of `len` bytes into `name`.
    let peer = unsafe { written_addr(std::ptr::addr_of!(name).cast(), len) };
    Ok((conn, peer))
}

/// The most descriptor slots [`reserve_descriptor_slots`] makes room for
/// (512 KiB of table on a 64-bit system).
pub(crate) const MAX_RESERVED_SLOTS: usize = 1 << 16;

/// Grows the process's descriptor table now to hold `slots` descriptors,
/// or as many as the soft `RLIMIT_NOFILE` allows, at most
/// [`MAX_RESERVED_SLOTS`]; returns the size asked for. Linux doubles the
/// table as descriptors are opened, and in a process with several threads
/// each doubling waits for an RCU grace period (13-22 ms measured here),
/// during which nothing is accepted: a burst of connects then overflows
/// the listener's queue and waits for the 1 s SYN retry. Grown once, up
/// front, the table never stalls an accept. `any` is any open descriptor
/// (duplicated high, then closed: nothing is left open).
pub(crate) fn reserve_descriptor_slots(any: BorrowedFd<'_>, slots: usize) -> usize {
    // SAFETY: all-zero bytes are a valid rlimit; getrlimit only writes it.
    let mut limit: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: `limit` is a live rlimit for getrlimit to fill.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 0;
    }
    let soft = usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX);
    let slots = slots.min(soft).min(MAX_RESERVED_SLOTS);
    let Ok(highest) = libc::c_int::try_from(slots.saturating_sub(1)) else {
        return 0;
    };
    // A descriptor numbered at least `highest` makes the table that large;
    // it is closed at once. Nothing free that high (EMFILE): no growth.
    // SAFETY: F_DUPFD_CLOEXEC of an open descriptor opens one new
    // descriptor and touches no memory of ours.
    let fd = unsafe { libc::fcntl(any.as_raw_fd(), libc::F_DUPFD_CLOEXEC, highest) };
    if fd < 0 {
        return 0;
    }
    // SAFETY: fcntl returned a new descriptor that nothing else owns.
    drop(unsafe { OwnedFd::from_raw_fd(fd) });
    slots
}

/// Sets or clears `O_NONBLOCK`.
pub(crate) fn set_nonblocking(fd: BorrowedFd<'_>, on: bool) -> Result<()> {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    let flags = fcntl(fd, FcntlArg::F_GETFL).map_err(|e| Error::nix("fcntl", e))?;
    let mut flags = OFlag::from_bits_truncate(flags);
    if flags.contains(OFlag::O_NONBLOCK) == on {
        return Ok(());
    }
    flags.set(OFlag::O_NONBLOCK, on);
    fcntl(fd, FcntlArg::F_SETFL(flags)).map_err(|e| Error::nix("fcntl", e))?;
    Ok(())
}

/// The most parts [`skip_bytes`] takes.
pub(crate) const MAX_PARTS: usize = 4;

/// The bytes of `parts` (at most [`MAX_PARTS`]) after the first `skip`
/// bytes, at most `max` of them, as slices in `out`; returns how many. No
/// allocation: this runs on every send.
pub(crate) fn skip_bytes<'a>(
    parts: &[&'a [u8]],
    mut skip: usize,
    max: usize,
    out: &mut [IoSlice<'a>; MAX_PARTS],
) -> usize {
    let (mut n, mut room) = (0, max);
    for part in parts {
        if room == 0 {
            break;
        }
        if skip >= part.len() {
            skip -= part.len();
            continue;
        }
        let piece = &part[skip..][..(part.len() - skip).min(room)];
        out[n] = IoSlice::new(piece);
        n += 1;
        room -= piece.len();
        skip = 0;
    }
    n
}

/// The CPUs this process may run on (its affinity), as first asked.
pub(crate) fn cpus() -> usize {
    static CPUS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CPUS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Sleeps on the futex `word` while it holds `expected`, until a
/// [`futex_wake_bits`] whose bits meet `bits` wakes it, `timeout` passes
/// (`None`: no limit) or a signal comes; returns at once if `word` holds
/// something else. A return says nothing: the caller looks again.
pub(crate) fn futex_wait_bits(
    word: &std::sync::atomic::AtomicU32,
    expected: u32,
    bits: u32,
    timeout: Option<std::time::Duration>,
) {
    // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time.
    let until = timeout.and_then(|t| {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes one timespec into `now`.
        if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) } != 0 {
            return None;
        }
        let nanos = now.tv_nsec as u64 + u64::from(t.subsec_nanos());
        let secs = (now.tv_sec as u64)
            .checked_add(t.as_secs())?
            .checked_add(nanos / 1_000_000_000)?;
        Some(libc::timespec {
            tv_sec: libc::time_t::try_from(secs).ok()?,
            tv_nsec: (nanos % 1_000_000_000) as libc::c_long,
        })
    });
    let until_ptr = until
        .as_ref()
        .map_or(std::ptr::null(), |u| u as *const libc::timespec);
    // SAFETY: `word` is a live, aligned 32-bit atomic for the call; the
    // kernel reads it and, if given, the timespec `until`, which outlives
    // the call. A timeout, a signal or a changed word is only a return.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT_BITSET | libc::FUTEX_PRIVATE_FLAG,
            expected,
            until_ptr,
            std::ptr::null::<u32>(),
            bits,
        );
    }
}

/// Wakes every thread sleeping in [`futex_wait_bits`] on `word` with a
/// bit of `bits`.
pub(crate) fn futex_wake_bits(word: &std::sync::atomic::AtomicU32, bits: u32) {
    // SAFETY: `word` is a live, aligned 32-bit atomic; the kernel only
    // uses its address to find the threads sleeping on it.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE_BITSET | libc::FUTEX_PRIVATE_FLAG,
            i32::MAX,
            std::ptr::null::<libc::timespec>(),
            std::ptr::null::<u32>(),
            bits,
        );
    }
}

/// The most datagrams [`recv_datagrams`] takes in one system call.
pub(crate) const MAX_DATAGRAM_BATCH: usize = 8;

/// Takes the datagrams waiting on the datagram socket `fd`, up to one per
/// buffer of `bufs` (at most [`MAX_DATAGRAM_BATCH`]), in one `recvmmsg`:
/// without waiting, or with `wait` (on a socket in blocking mode) until
/// the first arrives or the socket's receive timeout passes. `got` receives, for each, the buffer it is in, its
/// length (cut to the buffer) and its IPv4 or IPv6 sender (one from
/// another family is dropped). Returns how many were taken: fewer than
/// the buffers means the socket held no more when it was read.
///
/// Given one buffer, it receives with `recvfrom`: `recvmmsg` looks for a
/// second datagram after the first even when asked for one, which costs
/// a lone caller's round trip about 4% (10% with `MSG_WAITFORONE` and
/// eight buffers).
pub(crate) fn recv_datagrams(
    fd: BorrowedFd<'_>,
    bufs: &mut [Vec<u8>],
    got: &mut Vec<(usize, usize, std::net::SocketAddr)>,
    wait: bool,
) -> Result<usize> {
    use std::mem::size_of;
    got.clear();
    if let [buf] = bufs {
        return recv_datagram(fd, buf, got, wait);
    }
    let n = bufs.len().min(MAX_DATAGRAM_BATCH);
    // The kernel writes the senders' addresses: not cleared first (1 KiB
    // a receive), and only what it wrote is read.
    let mut names = [std::mem::MaybeUninit::<libc::sockaddr_storage>::uninit(); MAX_DATAGRAM_BATCH];
    let mut iovs = [libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }; MAX_DATAGRAM_BATCH];
    // SAFETY: all-zero bytes are a valid value of this plain C structure
    // (null pointers, zero lengths).
    let mut headers: [libc::mmsghdr; MAX_DATAGRAM_BATCH] = unsafe { std::mem::zeroed() };
    for i in 0..n {
        iovs[i].iov_base = bufs[i].as_mut_ptr().cast();
        iovs[i].iov_len = bufs[i].len();
        let h = &mut headers[i].msg_hdr;
        h.msg_name = names[i].as_mut_ptr().cast();
        h.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        h.msg_iov = std::ptr::addr_of_mut!(iovs[i]);
        h.msg_iovlen = 1;
    }
    let taken = loop {
        // SAFETY: the first `n` headers point at `n` live buffers (each
        // described by its length), address slots of the size given, and
        // one iovec each; recvmmsg writes only within them and the
        // headers' result fields. A null timeout is allowed.
        let r = unsafe {
            libc::recvmmsg(
                fd.as_raw_fd(),
                headers.as_mut_ptr(),
                n as libc::c_uint,
                if wait {
                    libc::MSG_WAITFORONE
                } else {
                    libc::MSG_DONTWAIT
                },
                std::ptr::null_mut(),
            )
        };
        if r >= 0 {
            break r as usize;
        }
        match Errno::last() {
            Errno::EINTR => continue,
            // Nothing waiting, or an error an earlier send left (an ICMP
            // unreachable): nothing to take now.
            Errno::EAGAIN | Errno::ECONNREFUSED => return Ok(0),
            e => return Err(Error::nix("recvmmsg", e)),
        }
    };
    for i in 0..taken {
        let len = (headers[i].msg_len as usize).min(bufs[i].len());
        // SAFETY: recvmmsg wrote a sockaddr of `msg_namelen` bytes into
        // `names[i]`, which is large enough for any address family.
        let from =
            unsafe { written_addr(names[i].as_ptr().cast(), headers[i].msg_hdr.msg_namelen) };
        if let Some(from) = from {
            got.push((i, len, from));
        }
    }
    Ok(taken)
}

/// [`recv_datagrams`] into one buffer, `buf`.
fn recv_datagram(
    fd: BorrowedFd<'_>,
    buf: &mut [u8],
    got: &mut Vec<(usize, usize, std::net::SocketAddr)>,
    wait: bool,
) -> Result<usize> {
    let mut name = std::mem::MaybeUninit::<libc::sockaddr_storage>::uninit();
    let mut name_len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    let len = loop {
        // SAFETY: `buf` is live and writable for its length, and `name`
        // for the length given in `name_len`, which recvfrom updates.
        let r = unsafe {
            libc::recvfrom(
                fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                if wait { 0 } else { libc::MSG_DONTWAIT },
                name.as_mut_ptr().cast(),
                &mut name_len,
            )
        };
        if r >= 0 {
            break (r as usize).min(buf.len());
        }
        match Errno::last() {
            Errno::EINTR => continue,
            // As for recvmmsg above: nothing to take now.
            Errno::EAGAIN | Errno::ECONNREFUSED => return Ok(0),
            e => return Err(Error::nix("recvfrom", e)),
        }
    };
    // SAFETY: recvfrom wrote a sockaddr of `name_len` bytes into `name`,
    // which is large enough for any address family.
    let from = unsafe { written_addr(name.as_ptr().cast(), name_len) };
    if let Some(from) = from {
        got.push((0, len, from));
    }
    Ok(1)
}

/// The IPv4 or IPv6 address the kernel wrote at `name`, `len` bytes of
/// it, or `None` for another family.
///
/// # Safety
///
/// `name` points at `len` bytes of a socket address the kernel wrote, in
/// memory large enough for any family's (a `sockaddr_storage`).
unsafe fn written_addr(
    name: *const libc::sockaddr,
    len: libc::socklen_t,
) -> Option<std::net::SocketAddr> {
    use nix::sys::socket::SockaddrLike;
    // SAFETY: as the caller promises; no more than `len` bytes are read.
    let a = unsafe { SockaddrStorage::from_raw(name, Some(len)) };
    a.as_ref().and_then(socket_addr)
}

/// The IPv4 or IPv6 address in `a`.
pub(crate) fn socket_addr(a: &nix::sys::socket::SockaddrStorage) -> Option<std::net::SocketAddr> {
    if let Some(v4) = a.as_sockaddr_in() {
        return Some(std::net::SocketAddr::V4((*v4).into()));
    }
    a.as_sockaddr_in6()
        .map(|v6| std::net::SocketAddr::V6((*v6).into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;
    use std::time::{Duration, Instant};

    #[test]
    fn gather_joins_parts_that_fit_and_no_others() {
        let mut buf = [0; SMALL_SEND];
        let parts = [
            IoSlice::new(b"head"),
            IoSlice::new(b""),
            IoSlice::new(b"body"),
        ];
        assert_eq!(gather(&parts, &mut buf), Some(&b"headbody"[..]));
        assert_eq!(gather(&[], &mut buf), Some(&b""[..]));
        let half = vec![7u8; SMALL_SEND / 2];
        let exact = [IoSlice::new(&half), IoSlice::new(&half)];
        assert_eq!(gather(&exact, &mut buf).map(<[u8]>::len), Some(SMALL_SEND));
        let over = [IoSlice::new(&half), IoSlice::new(&half), IoSlice::new(b"x")];
        assert_eq!(gather(&over, &mut buf), None);
    }

    #[test]
    fn skip_bytes_crosses_part_boundaries() {
        let parts: [&[u8]; 2] = [b"abcd", b"efgh"];
        let rest = |skip| {
            let mut out = [IoSlice::new(&[]); MAX_PARTS];
            let n = skip_bytes(&parts, skip, usize::MAX, &mut out);
            out[..n].iter().map(|s| s.to_vec()).collect::<Vec<_>>()
        };
        assert_eq!(rest(0), vec![b"abcd".to_vec(), b"efgh".to_vec()]);
        assert_eq!(rest(3), vec![b"d".to_vec(), b"efgh".to_vec()]);
        assert_eq!(rest(4), vec![b"efgh".to_vec()]);
        assert_eq!(rest(7), vec![b"h".to_vec()]);
        assert!(rest(8).is_empty());
    }

    #[test]
    fn read_append_adds_only_what_was_read() {
        let (r, w) = nix::unistd::pipe().unwrap();
        set_nonblocking(r.as_fd(), true).unwrap();
        let mut buf = b"head".to_vec();
        let err = read_append(r.as_fd(), &mut buf, 100).unwrap_err();
        assert!(matches!(err, Error::WouldBlock), "{err}");
        assert_eq!(buf, b"head");
        write(w.as_fd(), Sink::Pipe, &[IoSlice::new(b"0123456789")]).unwrap();
        // At most `max`, however much more the pipe holds.
        assert_eq!(read_append(r.as_fd(), &mut buf, 6).unwrap(), 6);
        assert_eq!(buf, b"head012345");
        assert_eq!(read_append(r.as_fd(), &mut buf, 100).unwrap(), 4);
        assert_eq!(buf, b"head0123456789");
        drop(w);
        assert_eq!(read_append(r.as_fd(), &mut buf, 100).unwrap(), 0);
        assert_eq!(buf.len(), 14);
    }

    /// A socket in blocking mode, read without waiting, then waited on
    /// until its receive timeout; the same count rules as a readv.
    #[test]
    fn recv_append_then_waits_only_when_asked_and_goes_on_into_the_second_buffer() {
        use std::os::unix::net::UnixStream;
        let (r, mut w) = UnixStream::pair().unwrap();
        r.set_read_timeout(Some(std::time::Duration::from_millis(20)))
            .unwrap();
        let mut buf = b"head".to_vec();
        let mut more = [0u8; 4];
        for wait in [false, true] {
            let err = recv_append_then(r.as_fd(), &mut buf, 3, &mut more, wait).unwrap_err();
            assert!(matches!(err, Error::WouldBlock), "{err}");
        }
        let err = recv(r.as_fd(), &mut more, false).unwrap_err();
        assert!(matches!(err, Error::WouldBlock), "{err}");
        std::io::Write::write_all(&mut w, b"0123456789").unwrap();
        // 3 into `buf`, then 4 into `more`: a full count, more may wait.
        assert_eq!(
            recv_append_then(r.as_fd(), &mut buf, 3, &mut more, true).unwrap(),
            7
        );
        assert_eq!((&buf[..], &more[..]), (&b"head012"[..], &b"3456"[..]));
        // Short of the first buffer: nothing reaches the second.
        more = [0; 4];
        assert_eq!(
            recv_append_then(r.as_fd(), &mut buf, 8, &mut more, false).unwrap(),
            3
        );
        assert_eq!((&buf[..], &more[..]), (&b"head012789"[..], &[0u8; 4][..]));
        std::io::Write::write_all(&mut w, b"ab").unwrap();
        assert_eq!(recv(r.as_fd(), &mut more, true).unwrap(), 2);
        assert_eq!(&more[..2], b"ab");
        drop(w);
        assert_eq!(
            recv_append_then(r.as_fd(), &mut buf, 8, &mut more, true).unwrap(),
            0
        );
        assert_eq!(recv(r.as_fd(), &mut more, false).unwrap(), 0);
    }

    /// The server sets TCP_NODELAY on its listeners only, relying on Linux
    /// copying it to each accepted socket; and takes the peer's address
    /// from the accept.
    #[test]
    fn accept_reports_the_peer_and_connections_inherit_nodelay() {
        use nix::sys::socket::{getsockopt, setsockopt, sockopt};
        for nodelay in [true, false] {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            setsockopt(&l, sockopt::TcpNoDelay, &nodelay).unwrap();
            let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
            let (conn, peer) = accept(l.as_fd()).unwrap();
            assert_eq!(peer, Some(c.local_addr().unwrap()));
            assert_eq!(getsockopt(&conn, sockopt::TcpNoDelay).unwrap(), nodelay);
        }
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        assert_eq!(accept(l.as_fd()).unwrap_err(), Errno::EAGAIN);
    }

    /// Datagrams are taken one per buffer, each with its length (cut to
    /// the buffer) and its sender, by the batch receive and by the receive
    /// into one buffer alike; an empty socket gives 0, waiting or not.
    #[test]
    fn datagrams_are_taken_with_their_senders_in_batches_or_one_at_a_time() {
        use std::net::UdpSocket;
        let r = UdpSocket::bind("127.0.0.1:0").unwrap();
        r.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        let to = r.local_addr().unwrap();
        let (a, b) = (
            UdpSocket::bind("127.0.0.1:0").unwrap(),
            UdpSocket::bind("127.0.0.1:0").unwrap(),
        );
        let (from_a, from_b) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        let mut got = Vec::new();
        for buffers in [1, 3] {
            let mut bufs = vec![vec![0u8; 8]; buffers];
            for wait in [false, true] {
                assert_eq!(
                    recv_datagrams(r.as_fd(), &mut bufs, &mut got, wait).unwrap(),
                    0
                );
                assert!(got.is_empty());
            }
            a.send_to(b"first", to).unwrap();
            b.send_to(b"second, cut to 8", to).unwrap();
            a.send_to(b"third", to).unwrap();
            let mut seen = Vec::new();
            while seen.len() < 3 {
                let n = recv_datagrams(r.as_fd(), &mut bufs, &mut got, true).unwrap();
                assert_eq!((n, got.len()), (buffers.min(3 - seen.len()), n));
                for (k, &(i, len, from)) in got.iter().enumerate() {
                    assert_eq!(i, k);
                    seen.push((bufs[i][..len].to_vec(), from));
                }
            }
            let want = [
                (b"first".to_vec(), from_a),
                (b"second, ".to_vec(), from_b),
                (b"third".to_vec(), from_a),
            ];
            assert_eq!(seen, want, "{buffers} buffers");
            assert_eq!(
                recv_datagrams(r.as_fd(), &mut bufs, &mut got, false).unwrap(),
                0
            );
        }
    }

    /// The descriptor table is grown at once (FDSize in /proc), and
    /// nothing is left open (no descriptor that high: the other tests of
    /// this process open a few at a time).
    #[test]
    fn reserving_descriptor_slots_grows_the_table_and_opens_nothing() {
        fn fd_size() -> usize {
            let status = std::fs::read_to_string("/proc/self/status").unwrap();
            let line = status.lines().find(|l| l.starts_with("FDSize:")).unwrap();
            line[7..].trim().parse().unwrap()
        }
        let highest_open = || {
            std::fs::read_dir("/proc/self/fd")
                .unwrap()
                .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<usize>().ok())
                .max()
                .unwrap()
        };
        let (r, _w) = nix::unistd::pipe().unwrap();
        // SAFETY: all-zero bytes are a valid rlimit, which getrlimit fills.
        let mut limit: libc::rlimit = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        assert_eq!(
            unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) },
            0
        );
        let soft = usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX);
        let want = soft.min(MAX_RESERVED_SLOTS).min(4096);
        assert_eq!(reserve_descriptor_slots(r.as_fd(), 4096), want);
        assert!(fd_size() >= want, "FDSize {} under {want}", fd_size());
        assert!(
            highest_open() < want - 1,
            "descriptor {} left open",
            highest_open()
        );
        let most = soft.min(MAX_RESERVED_SLOTS);
        assert_eq!(reserve_descriptor_slots(r.as_fd(), 1 << 40), most);
        assert!(
            highest_open() < most - 1,
            "descriptor {} left open",
            highest_open()
        );
    }

    #[test]
    fn wait_times_out_on_an_empty_pipe() {
        let (r, _w) = nix::unistd::pipe().unwrap();
        let start = Instant::now();
        let err = wait(
            r.as_fd(),
            PollFlags::POLLIN,
            Deadline::after(Some(Duration::from_millis(30))),
        )
        .unwrap_err();
        assert!(matches!(err, Error::TimedOut(_)), "{err}");
        assert!(start.elapsed() >= Duration::from_millis(30));
    }

    #[test]
    fn a_pipe_without_reader_is_closed_not_a_signal() {
        let (r, w) = nix::unistd::pipe().unwrap();
        drop(r);
        for _ in 0..3 {
            let err = write(w.as_fd(), Sink::Pipe, &[IoSlice::new(b"x")]).unwrap_err();
            assert!(matches!(err, Error::Closed(_)), "{err}");
        }
        assert!(!sigpipe_pending(), "a SIGPIPE was left pending");
        let mut mask = SigSet::empty();
        pthread_sigmask(SigmaskHow::SIG_BLOCK, None, Some(&mut mask)).unwrap();
        assert!(!mask.contains(Signal::SIGPIPE), "SIGPIPE was left blocked");
    }

    /// What a kernel without RWF_NOSIGNAL gets: the write between two
    /// changes of the signal mask, its SIGPIPE taken back.
    #[test]
    fn without_sigpipe_turns_a_broken_pipe_into_an_error() {
        let (r, w) = nix::unistd::pipe().unwrap();
        let parts = [IoSlice::new(b"x"), IoSlice::new(b"yz")];
        assert_eq!(without_sigpipe(|| plain_write(w.as_fd(), &parts)), Ok(3));
        drop(r);
        for _ in 0..3 {
            let got = without_sigpipe(|| plain_write(w.as_fd(), &parts));
            assert_eq!(got, Err(Errno::EPIPE));
        }
        assert!(!sigpipe_pending(), "a SIGPIPE was left pending");
        let mut mask = SigSet::empty();
        pthread_sigmask(SigmaskHow::SIG_BLOCK, None, Some(&mut mask)).unwrap();
        assert!(!mask.contains(Signal::SIGPIPE), "SIGPIPE was left blocked");
    }
}
