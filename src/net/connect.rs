//! Connections, bounded by a deadline.

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::socket::{self, AddressFamily, SockFlag, SockType, UnixAddr};

use super::addr::resolve;
use super::sys;
use super::time::Deadline;
use crate::{Error, Result};

/// Connects to `host` (a name or an address) on `port`, trying each address
/// the name resolves to until one answers or `deadline` passes. The
/// connection has TCP_NODELAY set (small messages go out at once) and is in
/// blocking mode.
pub fn connect_tcp(host: &str, port: u16, deadline: Deadline) -> Result<TcpStream> {
    let context = || format!("connect to {host} port {port}");
    let mut last = None;
    for addr in resolve(host, port)? {
        match connect_addr(addr, deadline) {
            Ok(s) => return Ok(s),
            Err(Error::TimedOut(_)) => return Err(Deadline::expired(context())),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| Deadline::expired(context())))
}

/// Connects to one socket address by `deadline`, with TCP_NODELAY.
pub(crate) fn connect_addr(addr: SocketAddr, deadline: Deadline) -> Result<TcpStream> {
    let context = || format!("connect to {addr}");
    let attempt = match deadline.remaining() {
        None => TcpStream::connect(addr),
        Some(left) if left.is_zero() => return Err(Deadline::expired(context())),
        Some(left) => TcpStream::connect_timeout(&addr, left),
    };
    let s = attempt.map_err(|e| match e.kind() {
        ErrorKind::TimedOut | ErrorKind::WouldBlock => Deadline::expired(context()),
        _ => Error::os(context(), e),
    })?;
    s.set_nodelay(true)
        .map_err(|e| Error::os("set TCP_NODELAY", e))?;
    Ok(s)
}

/// Connects to the Unix socket at `path`, waiting until `deadline` while
/// the server's queue of pending connections is full. The connection is in
/// blocking mode.
pub fn connect_unix(path: impl AsRef<Path>, deadline: Deadline) -> Result<UnixStream> {
    let path = path.as_ref();
    let context = || format!("connect to {}", path.display());
    let addr = UnixAddr::new(path).map_err(|e| {
        Error::InvalidArgument(format!(
            "{} cannot be a Unix socket path ({e}; at most 107 bytes)",
            path.display()
        ))
    })?;
    let bounded = deadline != Deadline::NEVER;
    let mut flags = SockFlag::SOCK_CLOEXEC;
    if bounded {
        flags |= SockFlag::SOCK_NONBLOCK;
    }
    let fd = socket::socket(AddressFamily::Unix, SockType::Stream, flags, None)
        .map_err(|e| Error::nix("socket", e))?;
    loop {
        match socket::connect(fd.as_raw_fd(), &addr) {
            Ok(()) => break,
            // A nonblocking Unix connect reports a full queue as EAGAIN and
            // cannot be waited for with poll: try again until the deadline.
            Err(Errno::EAGAIN) if !deadline.passed() => {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(Errno::EAGAIN) => return Err(Deadline::expired(context())),
            Err(e) => return Err(Error::nix(context(), e)),
        }
    }
    if bounded {
        sys::set_nonblocking(std::os::fd::AsFd::as_fd(&fd), false)?;
    }
    Ok(UnixStream::from(fd))
}
