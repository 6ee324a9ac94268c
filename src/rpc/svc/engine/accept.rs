//! Accepting: each connection a listener has waiting becomes a served
//! connection (or is shed when the server has as many as it may).

use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use nix::sys::socket::{getsockopt, setsockopt, sockopt};

use super::listener::{Listening, StreamListener};
use super::{Engine, Source};
use crate::net::poll::Interest;
use crate::net::ServerTls;
use crate::rpc::svc::conn::Conn;
use crate::rpc::svc::dispatch::{Caller, Peer};
use crate::stream::record::RecordLimits;
use crate::stream::PeerCredentials;
use crate::sync::lock;

impl Engine {
    /// Accepts the connections waiting on `l` (see
    /// [`Listening::accept_batch`]) and re-arms it, or rests it on a timer
    /// when the process is out of descriptors.
    pub(super) fn accept(self: &Arc<Self>, key: u64, l: &Arc<Listening>) {
        let rest = l.accept_batch(&self.stopping, |fd, peer| self.adopt(fd, peer, l));
        if let Some(pause) = rest {
            // Re-armed by the timer, not now: it would fire at once.
            let mut t = lock(&self.timers);
            self.push_timer(&mut t, Instant::now() + pause, key);
        } else if !self.stopping.load(Ordering::SeqCst) {
            let _ = self.poller().rearm(l.socket.fd(), key, Interest::READ);
        }
    }

    /// Serves a connection just accepted from `peer` (or closes it at once
    /// when the server has as many as it may).
    pub(super) fn adopt(self: &Arc<Self>, fd: OwnedFd, peer: Option<SocketAddr>, l: &Listening) {
        let max = self.settings.max_connections.load(Ordering::Relaxed);
        {
            let mut conns = lock(&self.conns);
            if *conns >= max {
                return; // shed: dropping the descriptor closes it
            }
            *conns += 1;
        }
        let Some(conn) = self.connection(fd, peer, l) else {
            *lock(&self.conns) -= 1;
            return;
        };
        let mut st = conn.state();
        let idle = self.settings.idle();
        if let Some(idle) = idle {
            let at = st.last_active + idle;
            self.schedule(conn.key, &mut st, at);
        }
        if conn.handshaking() {
            let at = st.last_active + self.settings.handshake_timeout(idle);
            self.schedule(conn.key, &mut st, at);
        }
    }

    /// Makes and registers the connection of `fd`, from `peer`.
    pub(super) fn connection(
        &self,
        fd: OwnedFd,
        peer: Option<SocketAddr>,
        l: &Listening,
    ) -> Option<Arc<Conn>> {
        let mut s = lock(&self.sources);
        let key = s.next;
        s.next += 1;
        let caller = match &l.socket {
            StreamListener::Tcp(_) => {
                if !l.nodelay {
                    let _ = setsockopt(&fd, sockopt::TcpNoDelay, &true);
                }
                Caller {
                    // A TCP accept always reports an IP address.
                    peer: Peer::Tcp(peer?),
                    local: l.local.or_else(|| crate::net::local_addr(&fd)),
                    peer_credentials: None,
                    tls_peer: None,
                }
            }
            StreamListener::Unix(..) => Caller {
                peer: Peer::Unix(key),
                local: None,
                // Read once: the kernel records the peer when it connects.
                peer_credentials: getsockopt(&fd, sockopt::PeerCredentials).ok().map(|c| {
                    PeerCredentials {
                        pid: c.pid(),
                        uid: c.uid(),
                        gid: c.gid(),
                    }
                }),
                tls_peer: None,
            },
        };
        let limits = RecordLimits {
            max_record: self.settings.max_message.load(Ordering::Relaxed),
            ..RecordLimits::default()
        };
        let tls = l.tls.as_ref().map(ServerTls::current);
        let conn = Arc::new(Conn::new(key, fd, caller, limits, tls));
        conn.register(self.poller()).ok()?;
        s.map.insert(key, Source::Conn(conn.clone()));
        Some(conn)
    }
}
