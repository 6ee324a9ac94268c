//! The few system calls a stream makes, each turned into a `Result` in one
//! place: waiting for readiness with a deadline, reading, and writing (with
//! `MSG_NOSIGNAL` on sockets so a closed peer is an error, not a SIGPIPE).

use std::io::IoSlice;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{sendmsg, MsgFlags, UnixAddr};

use crate::{Error, Result};

/// When an operation with an optional timeout must end.
pub(crate) fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    timeout.map(|t| Instant::now() + t)
}

/// Waits until `fd` is ready for `events` or `deadline` passes
/// ([`Error::TimedOut`]); `None` waits for ever. A signal is
/// [`Error::Interrupted`]. Hang-up and error conditions count as ready: the
/// next read or write reports them.
pub(crate) fn wait(fd: BorrowedFd<'_>, events: PollFlags, deadline: Option<Instant>) -> Result<()> {
    loop {
        let timeout = match deadline {
            None => PollTimeout::NONE,
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                // Round up so a wait never ends just before its deadline.
                let ms = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
                PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)
            }
        };
        let mut fds = [PollFd::new(fd, events)];
        match poll(&mut fds, timeout) {
            Ok(0) if deadline.is_some_and(|d| Instant::now() >= d) => {
                return Err(Error::TimedOut(format!(
                    "fd {} not ready within the timeout",
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

/// One `read(2)`, waiting first when there is a deadline. 0 is end of stream.
pub(crate) fn read(fd: BorrowedFd<'_>, buf: &mut [u8], deadline: Option<Instant>) -> Result<usize> {
    loop {
        if let Some(deadline) = deadline {
            wait(fd, PollFlags::POLLIN, Some(deadline))?;
        }
        match nix::unistd::read(fd, buf) {
            Ok(n) => return Ok(n),
            // Ready but taken by another reader: wait again until the deadline.
            Err(Errno::EAGAIN) if deadline.is_some() => continue,
            Err(e) => return Err(io_error("read", e)),
        }
    }
}

/// One `writev(2)` (`sendmsg(2)` with `MSG_NOSIGNAL` on a socket), waiting
/// first when there is a deadline. Returns the bytes written.
pub(crate) fn write(
    fd: BorrowedFd<'_>,
    socket: bool,
    parts: &[IoSlice<'_>],
    deadline: Option<Instant>,
) -> Result<usize> {
    loop {
        if let Some(deadline) = deadline {
            wait(fd, PollFlags::POLLOUT, Some(deadline))?;
        }
        // One part goes through the plain calls, which skip copying in an
        // iovec array.
        let written = match (socket, parts) {
            (true, [one]) => nix::sys::socket::send(fd.as_raw_fd(), one, MsgFlags::MSG_NOSIGNAL),
            (true, _) => {
                sendmsg::<UnixAddr>(fd.as_raw_fd(), parts, &[], MsgFlags::MSG_NOSIGNAL, None)
            }
            (false, [one]) => nix::unistd::write(fd, one),
            (false, _) => nix::sys::uio::writev(fd, parts),
        };
        match written {
            Ok(n) => return Ok(n),
            Err(Errno::EAGAIN) if deadline.is_some() => continue,
            Err(e) => return Err(io_error("write", e)),
        }
    }
}

/// Maps a read or write errno: a vanished peer is [`Error::Closed`], the
/// rest as [`Error::nix`] does.
fn io_error(what: &str, errno: Errno) -> Error {
    match errno {
        Errno::EPIPE => Error::Closed(format!("{what}: the reading end is closed (EPIPE)")),
        Errno::ECONNRESET => Error::Closed(format!("{what}: connection reset by peer")),
        _ => Error::nix(what, errno),
    }
}

/// Most parts [`skip_bytes`] takes.
pub(crate) const MAX_PARTS: usize = 4;

/// The bytes of `parts` (at most [`MAX_PARTS`]) after the first `skip`
/// bytes, as slices in `out`; returns how many. No allocation: this runs
/// on every send.
pub(crate) fn skip_bytes<'a>(
    parts: &[&'a [u8]],
    mut skip: usize,
    out: &mut [IoSlice<'a>; MAX_PARTS],
) -> usize {
    let mut n = 0;
    for part in parts {
        if skip >= part.len() {
            skip -= part.len();
        } else {
            out[n] = IoSlice::new(&part[skip..]);
            n += 1;
            skip = 0;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_bytes_crosses_part_boundaries() {
        let parts: [&[u8]; 2] = [b"abcd", b"efgh"];
        let rest = |skip| {
            let mut out = [IoSlice::new(&[]); MAX_PARTS];
            let n = skip_bytes(&parts, skip, &mut out);
            out[..n].iter().map(|s| s.to_vec()).collect::<Vec<_>>()
        };
        assert_eq!(rest(0), vec![b"abcd".to_vec(), b"efgh".to_vec()]);
        assert_eq!(rest(3), vec![b"d".to_vec(), b"efgh".to_vec()]);
        assert_eq!(rest(4), vec![b"efgh".to_vec()]);
        assert_eq!(rest(7), vec![b"h".to_vec()]);
        assert!(rest(8).is_empty());
    }

    #[test]
    fn wait_times_out_on_an_empty_pipe() {
        let (r, _w) = nix::unistd::pipe().unwrap();
        use std::os::fd::AsFd;
        let start = Instant::now();
        let err = wait(
            r.as_fd(),
            PollFlags::POLLIN,
            Some(Instant::now() + Duration::from_millis(30)),
        )
        .unwrap_err();
        assert!(matches!(err, Error::TimedOut(_)), "{err}");
        assert!(start.elapsed() >= Duration::from_millis(30));
    }
}
