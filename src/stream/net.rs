//! TCP and Unix stream sockets as streams: listening, accepting and
//! connecting, on the transport layer's binder and connectors.

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::time::Duration;

use nix::poll::PollFlags;

use super::Stream;
use crate::net::{self, sys, Deadline, UnixSocketFile};
use crate::{Error, Result};

/// A listening TCP or Unix socket. Dropping it closes the socket; a Unix
/// listener also removes its socket file (if it is still the one it made).
#[derive(Debug)]
pub struct Listener {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Tcp(TcpListener),
    Unix {
        socket: UnixListener,
        file: UnixSocketFile,
    },
}

impl Listener {
    /// Waits for the next connection, at most `timeout` (`None`: for ever).
    /// A signal while waiting is [`Error::Interrupted`].
    pub fn accept(&self, timeout: Option<Duration>) -> Result<Stream> {
        let deadline = Deadline::after(timeout);
        loop {
            sys::wait(self.as_fd(), PollFlags::POLLIN, deadline)?;
            let accepted = match &self.inner {
                Inner::Tcp(l) => l.accept().map(|(s, _)| {
                    // Best effort: a failure leaves Nagle on, nothing worse.
                    let _ = s.set_nodelay(true);
                    Stream::from(s)
                }),
                Inner::Unix { socket, .. } => socket.accept().map(|(s, _)| Stream::from(s)),
            };
            match accepted {
                Ok(stream) => return Ok(stream),
                // Another thread took it, or the client gave up: wait again.
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::ConnectionAborted
                    ) => {}
                Err(e) => return Err(Error::os("accept", e)),
            }
        }
    }

    /// The port a TCP listener is bound to (`None` for a Unix listener).
    pub fn port(&self) -> Option<u16> {
        self.local_addr().map(|a| a.port())
    }

    /// The address a TCP listener is bound to.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match &self.inner {
            Inner::Tcp(l) => l.local_addr().ok(),
            Inner::Unix { .. } => None,
        }
    }

    /// The socket file of a Unix listener.
    pub fn path(&self) -> Option<&Path> {
        match &self.inner {
            Inner::Tcp(_) => None,
            Inner::Unix { file, .. } => Some(file.path()),
        }
    }

    /// Closes the listener (dropping it does the same).
    pub fn close(self) {}
}

impl AsFd for Listener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match &self.inner {
            Inner::Tcp(l) => l.as_fd(),
            Inner::Unix { socket, .. } => socket.as_fd(),
        }
    }
}

impl AsRawFd for Listener {
    fn as_raw_fd(&self) -> RawFd {
        self.as_fd().as_raw_fd()
    }
}

/// Listens for TCP connections on `host` (a name or an IPv4/IPv6 address;
/// `"0.0.0.0"` or `"::"` for all) and `port` (0: one the system picks, read
/// it with [`Listener::port`]).
pub fn tcp_listen(host: &str, port: u16) -> Result<Listener> {
    Ok(Listener {
        inner: Inner::Tcp(net::listen_tcp(host, port)?),
    })
}

/// Connects to `host` (a name or an address) on `port`, trying each address
/// the name resolves to until one answers or `timeout` passes. The
/// connection has TCP_NODELAY set: small messages go out at once.
pub fn tcp_connect(host: &str, port: u16, timeout: Option<Duration>) -> Result<Stream> {
    net::connect_tcp(host, port, Deadline::after(timeout)).map(Stream::from)
}

/// Listens on a Unix socket at `path`, created with exactly `mode` (at most
/// 0o777; only processes allowed to write to the file can connect). A
/// socket file left by a server that is gone is replaced; one a server
/// still listens on is [`Error::Exists`], and so is any other kind of file.
///
/// ```
/// use std::time::Duration;
/// use xipc::stream;
///
/// let path = std::env::temp_dir().join(format!("xipc-doc-{}.sock", std::process::id()));
/// let listener = stream::unix_listen(&path, 0o600)?;
/// let client = stream::unix_connect(&path, Some(Duration::from_secs(5)))?;
/// let server = listener.accept(Some(Duration::from_secs(5)))?;
/// // The kernel says who connected.
/// assert_eq!(server.peer_credentials()?.pid, std::process::id() as i32);
/// server.send(b"welcome")?;
/// assert_eq!(client.receive()?.as_deref(), Some(&b"welcome"[..]));
/// drop(listener); // removes the socket file
/// assert!(!path.exists());
/// # Ok::<(), xipc::Error>(())
/// ```
pub fn unix_listen(path: impl AsRef<Path>, mode: u32) -> Result<Listener> {
    let (socket, file) = net::listen_unix(path, mode)?;
    Ok(Listener {
        inner: Inner::Unix { socket, file },
    })
}

/// Connects to the Unix socket at `path`, waiting at most `timeout` while
/// the server's queue of pending connections is full.
pub fn unix_connect(path: impl AsRef<Path>, timeout: Option<Duration>) -> Result<Stream> {
    net::connect_unix(path, Deadline::after(timeout)).map(Stream::from)
}
