//! A server's listening stream sockets. Each accepts connections in
//! batches and keeps a descriptor in reserve for when the process has no
//! other (EMFILE), so that a full process neither spins on its listener
//! nor leaves clients hanging. What becomes of an accepted connection is
//! the event loop's business: it is handed over as it comes.

use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use nix::errno::Errno;

use crate::net::{sys, ServerTls, UnixSocketFile};
use crate::sync::lock;

/// Connections one listener event accepts at most before re-arming, so one
/// busy listener does not hold a thread for ever.
const ACCEPT_BATCH: usize = 256;
/// Longest pause of a listener that cannot get a descriptor.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// A listening stream socket.
pub(super) enum StreamListener {
    Tcp(TcpListener),
    Unix(UnixListener, #[allow(dead_code)] UnixSocketFile),
}

impl StreamListener {
    pub(super) fn fd(&self) -> BorrowedFd<'_> {
        match self {
            StreamListener::Tcp(l) => l.as_fd(),
            StreamListener::Unix(l, _) => l.as_fd(),
        }
    }
}

/// A listener and the descriptor it keeps in reserve for when the process
/// has no other (see [`Listening::accept_batch`]).
pub(super) struct Listening {
    pub(super) socket: StreamListener,
    /// Its connections use RPC-with-TLS.
    pub(super) tls: Option<ServerTls>,
    /// The address its connections are reached at, when that is the one
    /// it is bound to (not a wildcard): no `getsockname` per connection.
    pub(super) local: Option<SocketAddr>,
    /// Its connections have TCP_NODELAY from it (Linux copies the option
    /// to accepted sockets), so none is set per connection.
    pub(super) nodelay: bool,
    reserve: Mutex<Option<std::fs::File>>,
    backoff: Mutex<Duration>,
}

impl Listening {
    pub(super) fn new(socket: StreamListener, tls: Option<ServerTls>) -> Listening {
        Listening {
            socket,
            tls,
            local: None,
            nodelay: false,
            reserve: Mutex::new(reserve_descriptor()),
            backoff: Mutex::new(Duration::ZERO),
        }
    }

    /// Accepts the connections waiting, up to [`ACCEPT_BATCH`], and hands
    /// each to `adopt` with its peer's address; stops early once `stopping`
    /// is set. When the process is out of descriptors (EMFILE, ENFILE), it
    /// frees the descriptor kept in reserve, accepts one connection and
    /// hands it over if the reserve can be taken again, closes it at once
    /// otherwise (its client sees the connection closed). With no reserve
    /// either, the listener must rest before it tries again: the pause is
    /// returned, 10 ms doubling up to 1 s. `None`: the batch is done, and
    /// the listener may be re-armed.
    pub(super) fn accept_batch(
        &self,
        stopping: &AtomicBool,
        mut adopt: impl FnMut(OwnedFd, Option<SocketAddr>),
    ) -> Option<Duration> {
        for _ in 0..ACCEPT_BATCH {
            if stopping.load(Ordering::SeqCst) {
                return None;
            }
            match sys::accept(self.socket.fd()) {
                Ok((fd, peer)) => {
                    *lock(&self.backoff) = Duration::ZERO;
                    let mut reserve = lock(&self.reserve);
                    if reserve.is_none() {
                        *reserve = reserve_descriptor();
                    }
                    drop(reserve);
                    adopt(fd, peer);
                }
                Err(Errno::EAGAIN) => break,
                Err(Errno::EMFILE | Errno::ENFILE) => {
                    let mut reserve = lock(&self.reserve);
                    if reserve.take().is_none() {
                        drop(reserve);
                        let mut b = lock(&self.backoff);
                        *b = (*b * 2).clamp(Duration::from_millis(10), MAX_ACCEPT_BACKOFF);
                        return Some(*b);
                    }
                    let Ok((fd, peer)) = sys::accept(self.socket.fd()) else {
                        *reserve = reserve_descriptor();
                        continue;
                    };
                    *reserve = reserve_descriptor();
                    if reserve.is_some() {
                        drop(reserve);
                        adopt(fd, peer);
                    } else {
                        drop(fd); // shed: closed at once
                        *reserve = reserve_descriptor();
                    }
                }
                // A connection reset before it was accepted, or a signal.
                Err(Errno::ECONNABORTED | Errno::EINTR | Errno::EPROTO) => {}
                Err(_) => break,
            }
        }
        None
    }
}

/// A descriptor held in reserve, freed to accept (and close) a connection
/// when the process has no other.
fn reserve_descriptor() -> Option<std::fs::File> {
    std::fs::File::open("/dev/null").ok()
}
