//! The one binder: TCP, UDP and Unix listeners for streams and RPC alike.

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::socket::{
    bind, listen, setsockopt, socket, sockopt, AddressFamily, Backlog, SockFlag, SockType,
    SockaddrIn, SockaddrIn6, UnixAddr,
};

use super::addr::resolve;
use crate::{Error, Result};

/// Listens for TCP connections on `host` (a name or an address; `"0.0.0.0"`
/// or `"::"` for every interface) and `port` (0: one the system picks),
/// trying each address the name resolves to until one binds. The queue of
/// connections not yet accepted is as long as the system allows
/// (`SOMAXCONN`), so a burst of connects is not met with dropped SYNs and
/// their one-second retry.
pub fn listen_tcp(host: &str, port: u16) -> Result<TcpListener> {
    bind_each(host, port, SockType::Stream, |fd| {
        listen(&fd, Backlog::MAXCONN).map(|()| TcpListener::from(fd))
    })
}

/// Binds a UDP socket to `host` and `port` (0: one the system picks).
pub fn listen_udp(host: &str, port: u16) -> Result<UdpSocket> {
    bind_each(host, port, SockType::Datagram, |fd| Ok(UdpSocket::from(fd)))
}

/// Makes a socket of `kind` for each address of `host` in turn, binds it
/// and finishes it with `ready`; the first that works is the result.
fn bind_each<T>(
    host: &str,
    port: u16,
    kind: SockType,
    ready: impl Fn(OwnedFd) -> nix::Result<T>,
) -> Result<T> {
    let mut last = None;
    for addr in resolve(host, port)? {
        match bind_one(addr, kind).and_then(&ready) {
            Ok(done) => return Ok(done),
            Err(e) => last = Some((addr, e)),
        }
    }
    let (addr, errno) = last.expect("resolve gives at least one address");
    let what = match kind {
        SockType::Datagram => "UDP",
        _ => "TCP",
    };
    Err(Error::nix(format!("listen on {what} {addr}"), errno))
}

/// Whether a socket of this machine holds `addr`: a TCP listener (TCP) or
/// a bound UDP socket (UDP), found by trying to bind there, as rpcbind's
/// `is_bound` does. An unspecified IP asks about the port on any address.
/// `None` when the test cannot tell (a port this process may not bind).
pub(crate) fn is_bound(addr: SocketAddr, tcp: bool) -> Option<bool> {
    let kind = if tcp {
        SockType::Stream
    } else {
        SockType::Datagram
    };
    match bind_one(addr, kind) {
        Ok(_) => Some(false),
        Err(Errno::EADDRINUSE) => Some(true),
        // Not an address of this machine: nothing here holds it.
        Err(Errno::EADDRNOTAVAIL) => Some(false),
        Err(_) => None,
    }
}

fn bind_one(addr: SocketAddr, kind: SockType) -> nix::Result<OwnedFd> {
    let family = match addr {
        SocketAddr::V4(_) => AddressFamily::Inet,
        SocketAddr::V6(_) => AddressFamily::Inet6,
    };
    let fd = socket(family, kind, SockFlag::SOCK_CLOEXEC, None)?;
    if kind == SockType::Stream {
        // A restarted server can bind at once, without waiting out the
        // TIME_WAIT connections of the previous one.
        setsockopt(&fd, sockopt::ReuseAddr, &true)?;
    }
    match addr {
        SocketAddr::V4(a) => bind(fd.as_raw_fd(), &SockaddrIn::from(a))?,
        SocketAddr::V6(a) => bind(fd.as_raw_fd(), &SockaddrIn6::from(a))?,
    }
    Ok(fd)
}

/// The socket file of a Unix listener. Dropping it removes the file if it is
/// still the one this listener made (a later server may have replaced it).
#[derive(Debug)]
pub struct UnixSocketFile {
    path: PathBuf,
    /// (device, inode) of the file made.
    id: (u64, u64),
}

impl UnixSocketFile {
    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for UnixSocketFile {
    fn drop(&mut self) {
        let ours = std::fs::symlink_metadata(&self.path)
            .map(|m| m.file_type().is_socket() && (m.dev(), m.ino()) == self.id)
            .unwrap_or(false);
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Listens on a Unix stream socket at `path` with permissions exactly
/// `mode` (at most 0o777), whatever the umask: only processes allowed to
/// write to the file can connect, and the file is never reachable with
/// wider permissions than `mode`, not even while it is being made. A
/// socket file left by a server that is gone is replaced; one a server
/// still listens on is [`Error::Exists`], and so is any other kind of file.
pub fn listen_unix(path: impl AsRef<Path>, mode: u32) -> Result<(UnixListener, UnixSocketFile)> {
    let path = path.as_ref();
    if mode & !0o777 != 0 {
        return Err(Error::InvalidArgument(format!(
            "socket mode {mode:#o} has bits beyond 0o777"
        )));
    }
    let what = || format!("listen on {}", path.display());
    let addr = UnixAddr::new(path).map_err(|e| {
        Error::InvalidArgument(format!(
            "{} cannot be a Unix socket path ({e}; at most 107 bytes)",
            path.display()
        ))
    })?;
    let fd = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|e| Error::nix(what(), e))?;
    // bind(2) makes the file with the socket's mode less the umask: narrow
    // it first so the file is never more open than `mode`, then set it
    // exactly.
    let perms = nix::sys::stat::Mode::from_bits_truncate(mode as libc::mode_t);
    nix::sys::stat::fchmod(&fd, perms).map_err(|e| Error::nix(what(), e))?;
    match bind(fd.as_raw_fd(), &addr) {
        Err(Errno::EADDRINUSE) => {
            remove_stale_socket(path)?;
            bind(fd.as_raw_fd(), &addr)
        }
        other => other,
    }
    .map_err(|e| Error::nix(what(), e))?;
    let meta = std::fs::symlink_metadata(path).map_err(|e| Error::os(what(), e))?;
    let file = UnixSocketFile {
        path: path.to_path_buf(),
        id: (meta.dev(), meta.ino()),
    };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| Error::os(format!("chmod {}", path.display()), e))?;
    listen(&fd, Backlog::MAXCONN).map_err(|e| Error::nix(what(), e))?;
    Ok((UnixListener::from(fd), file))
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

/// The address a socket is bound to.
pub(crate) fn local_addr(fd: &impl std::os::fd::AsRawFd) -> Option<SocketAddr> {
    use nix::sys::socket::{getsockname, SockaddrStorage};
    let addr: SockaddrStorage = getsockname(fd.as_raw_fd()).ok()?;
    super::sys::socket_addr(&addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backlog(port: u16) -> u32 {
        // ss -ltn shows the backlog as Send-Q; /proc/net/tcp does not, so
        // read it from the listener's own socket.
        let out = std::process::Command::new("ss")
            .args(["-ltnH", &format!("sport = :{port}")])
            .output()
            .expect("ss (iproute2)");
        let text = String::from_utf8_lossy(&out.stdout);
        text.split_whitespace()
            .nth(2)
            .and_then(|s| s.parse().ok())
            .expect("a listening socket")
    }

    #[test]
    fn tcp_listeners_take_the_longest_queue_allowed() {
        let l = listen_tcp("127.0.0.1", 0).unwrap();
        let port = l.local_addr().unwrap().port();
        let max: u32 = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert_eq!(backlog(port), max);
    }

    #[test]
    fn a_stale_socket_file_is_replaced_and_a_live_one_is_not() {
        let dir = std::env::temp_dir().join(format!("xipc-listen-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.sock");
        let (l, file) = listen_unix(&path, 0o600).unwrap();
        assert!(matches!(listen_unix(&path, 0o600), Err(Error::Exists(_))));
        drop(l);
        drop(file);
        // The file a crashed server leaves: a socket bound there that
        // listens no more. (Made from a socket that never listened: a
        // closed listener could live on for a moment in a child another
        // test thread forks, and look alive.)
        let stale = socket(
            AddressFamily::Unix,
            SockType::Stream,
            SockFlag::SOCK_CLOEXEC,
            None,
        )
        .unwrap();
        bind(
            std::os::fd::AsRawFd::as_raw_fd(&stale),
            &nix::sys::socket::UnixAddr::new(&path).unwrap(),
        )
        .unwrap();
        drop(stale);
        let (_l2, _file2) = listen_unix(&path, 0o640).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
        std::fs::write(dir.join("plain"), b"x").unwrap();
        assert!(matches!(
            listen_unix(dir.join("plain"), 0o600),
            Err(Error::Exists(_))
        ));
        assert!(matches!(
            listen_unix(dir.join("x.sock"), 0o4700),
            Err(Error::InvalidArgument(_))
        ));
        drop(_file2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
