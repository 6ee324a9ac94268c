//! TCP and Unix stream sockets: listening, accepting and connecting.

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::PollFlags;
use nix::sys::socket::{self, AddressFamily, Backlog, SockFlag, SockType, UnixAddr};

use super::{io, pipe::check_mode, Kind, Stream};
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
        path: PathBuf,
        /// (device, inode) of the socket file this listener made.
        file: (u64, u64),
    },
}

impl Listener {
    /// Waits for the next connection, at most `timeout` (`None`: for ever).
    /// A signal while waiting is [`Error::Interrupted`].
    pub fn accept(&self, timeout: Option<Duration>) -> Result<Stream> {
        let deadline = io::deadline(timeout);
        loop {
            io::wait(self.as_fd(), PollFlags::POLLIN, deadline)?;
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
            Inner::Unix { path, .. } => Some(path),
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

impl Drop for Listener {
    fn drop(&mut self) {
        if let Inner::Unix { path, file, .. } = &self.inner {
            let ours = std::fs::symlink_metadata(path)
                .map(|m| m.file_type().is_socket() && (m.dev(), m.ino()) == *file)
                .unwrap_or(false);
            if ours {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// Listens for TCP connections on `host` (a name or an IPv4/IPv6 address;
/// `"0.0.0.0"` or `"::"` for all) and `port` (0: one the system picks, read
/// it with [`Listener::port`]).
pub fn tcp_listen(host: &str, port: u16) -> Result<Listener> {
    let addrs = resolve(host, port)?;
    let listener = TcpListener::bind(&addrs[..])
        .map_err(|e| Error::os(format!("listen on {host} port {port}"), e))?;
    Ok(Listener {
        inner: Inner::Tcp(listener),
    })
}

/// Connects to `host` (a name or an address) on `port`, trying each address
/// the name resolves to until one answers or `timeout` passes. The
/// connection has TCP_NODELAY set: small messages go out at once.
pub fn tcp_connect(host: &str, port: u16, timeout: Option<Duration>) -> Result<Stream> {
    let deadline = io::deadline(timeout);
    let mut last = None;
    for addr in resolve(host, port)? {
        let attempt = match deadline {
            None => TcpStream::connect(addr),
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                TcpStream::connect_timeout(&addr, left)
            }
        };
        match attempt {
            Ok(s) => {
                s.set_nodelay(true)
                    .map_err(|e| Error::os("set TCP_NODELAY", e))?;
                return Ok(Stream::from(s));
            }
            Err(e) => last = Some((addr, e)),
        }
    }
    let context = format!("connect to {host} port {port}");
    Err(match last {
        Some((_, e)) if e.kind() == ErrorKind::TimedOut => Error::TimedOut(context),
        Some((addr, e)) => Error::os(format!("{context} ({addr})"), e),
        None => Error::TimedOut(context),
    })
}

fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| Error::NotFound(format!("cannot resolve host {host:?}: {e}")))?
        .collect();
    if addrs.is_empty() {
        return Err(Error::NotFound(format!("host {host:?} has no address")));
    }
    Ok(addrs)
}

/// Listens on a Unix socket at `path`, created with exactly `mode` (only
/// processes allowed to write to the file can connect). A socket file left by
/// a server that is gone is replaced; one a server still listens on is
/// [`Error::Exists`], and so is any other kind of file.
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
    let path = path.as_ref();
    check_mode(mode)?;
    let addr = unix_addr(path)?;
    let fd = socket::socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|e| Error::nix("socket", e))?;
    match socket::bind(fd.as_raw_fd(), &addr) {
        Err(Errno::EADDRINUSE) => {
            remove_stale_socket(path)?;
            socket::bind(fd.as_raw_fd(), &addr)
        }
        other => other,
    }
    .map_err(|e| Error::nix(format!("bind {}", path.display()), e))?;
    // The mode is set before listen(): nobody can connect in between.
    let meta = std::fs::metadata(path).map_err(|e| Error::os("stat socket", e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| Error::os(format!("chmod {}", path.display()), e))?;
    socket::listen(&fd, Backlog::MAXCONN).map_err(|e| Error::nix("listen", e))?;
    Ok(Listener {
        inner: Inner::Unix {
            socket: UnixListener::from(fd),
            path: path.to_path_buf(),
            file: (meta.dev(), meta.ino()),
        },
    })
}

/// `path` is taken: removes it if it is a socket nobody listens on.
fn remove_stale_socket(path: &Path) -> Result<()> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| Error::os("stat", e))?;
    if !meta.file_type().is_socket() {
        return Err(Error::Exists(format!(
            "{} exists and is not a socket",
            path.display()
        )));
    }
    match UnixStream::connect(path) {
        Ok(_) => Err(Error::Exists(format!(
            "a server is listening on {}",
            path.display()
        ))),
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => std::fs::remove_file(path)
            .map_err(|e| Error::os(format!("remove stale socket {}", path.display()), e)),
        Err(e) => Err(Error::os(format!("probe {}", path.display()), e)),
    }
}

fn unix_addr(path: &Path) -> Result<UnixAddr> {
    UnixAddr::new(path).map_err(|e| {
        Error::InvalidArgument(format!(
            "{} cannot be a Unix socket path ({e}; at most 107 bytes)",
            path.display()
        ))
    })
}

/// Connects to the Unix socket at `path`, waiting at most `timeout` while
/// the server's queue of pending connections is full.
pub fn unix_connect(path: impl AsRef<Path>, timeout: Option<Duration>) -> Result<Stream> {
    let path = path.as_ref();
    let addr = unix_addr(path)?;
    let flags = if timeout.is_some() {
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK
    } else {
        SockFlag::SOCK_CLOEXEC
    };
    let fd = socket::socket(AddressFamily::Unix, SockType::Stream, flags, None)
        .map_err(|e| Error::nix("socket", e))?;
    let deadline = io::deadline(timeout);
    loop {
        match socket::connect(fd.as_raw_fd(), &addr) {
            Ok(()) => break,
            // A nonblocking Unix connect reports a full queue as EAGAIN and
            // cannot be polled for: retry until the deadline.
            Err(Errno::EAGAIN) if deadline.is_some_and(|d| Instant::now() < d) => {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(Errno::EAGAIN) => {
                return Err(Error::TimedOut(format!("connect to {}", path.display())))
            }
            Err(e) => return Err(Error::nix(format!("connect to {}", path.display()), e)),
        }
    }
    let stream = Stream::with_kind(fd, Kind::Unix, timeout.is_some());
    if timeout.is_some() {
        stream.set_nonblocking(false)?;
    }
    Ok(stream)
}
