//! A UDP endpoint of the event loop: one call per datagram, one reply per
//! datagram, sent back to whoever called.

use std::io::IoSlice;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::dispatch::{head, Caller, Peer};
use super::stay::StayWatch;
use crate::net::spin::Spinner;
use crate::net::sys;
use crate::rpc::message::{AcceptStat, ReplyHeader};
use crate::rpc::protocol::MAX_UDP_MESSAGE;

pub(super) struct UdpEndpoint {
    socket: UdpSocket,
    bound: Option<SocketAddr>,
    /// The stay under way, if any (a thread waits on the socket itself,
    /// for up to its receive timeout), and its handler.
    pub watch: StayWatch,
    /// A check of the stay is in the loop's timer.
    pub check_pending: AtomicBool,
    /// Whether a staying thread's wait polls first (see [`crate::net::spin`]).
    spin: Spinner,
}

impl UdpEndpoint {
    /// Serves on `socket`. The socket stays in blocking mode, with a
    /// receive timeout of `stay`, for a thread that waits on it; every
    /// other receive and every send says `MSG_DONTWAIT`.
    pub fn new(socket: UdpSocket, stay: Duration) -> std::io::Result<UdpEndpoint> {
        socket.set_nonblocking(false)?;
        socket.set_read_timeout(Some(stay))?;
        let bound = socket.local_addr().ok();
        Ok(UdpEndpoint {
            socket,
            bound,
            watch: StayWatch::default(),
            check_pending: AtomicBool::new(false),
            spin: Spinner::new(),
        })
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.bound
    }

    /// Takes the datagrams waiting, up to one per buffer of `bufs`, into
    /// `got` (each: its buffer, length and sender), in one system call.
    /// Returns how many were taken; fewer than the buffers means the socket
    /// was empty when read. An error an earlier send left (an ICMP
    /// unreachable) counts as nothing waiting. A receive that may wait (a
    /// staying thread's) polls first for up to `spin`, where a CPU is free
    /// for it (see [`crate::net::spin`]).
    pub fn recv_batch(
        &self,
        bufs: &mut [Vec<u8>],
        got: &mut Vec<(usize, usize, SocketAddr)>,
        wait: bool,
        spin: Duration,
    ) -> usize {
        if wait {
            let polled = self.spin.spin(spin, || {
                let n = sys::recv_datagrams(self.fd(), bufs, got, false).unwrap_or(0);
                (n > 0).then_some(n)
            });
            if let Some(n) = polled {
                return n;
            }
        }
        sys::recv_datagrams(self.fd(), bufs, got, wait).unwrap_or(0)
    }

    /// Who sent a datagram from `from`.
    pub fn caller(&self, from: SocketAddr) -> Caller {
        Caller {
            peer: Peer::Udp(from),
            local: self.bound.map(|b| local_for(b, from)),
            peer_credentials: None,
            tls_peer: None,
        }
    }

    /// Sends a reply (`head` with its 4-byte record mark, then `results`)
    /// as one datagram to `to`. One too large for a datagram becomes
    /// SYSTEM_ERR. A full socket buffer drops it, as UDP may: the caller
    /// retransmits.
    pub fn reply(&self, to: SocketAddr, head_with_mark: &[u8], results: &[u8]) {
        let message = &head_with_mark[4..];
        let refusal;
        let parts: &[IoSlice<'_>] = if message.len() + results.len() > MAX_UDP_MESSAGE {
            let xid = u32::from_be_bytes(message[..4].try_into().expect("a reply has an xid"));
            refusal = head(&ReplyHeader::accepted(xid, AcceptStat::SystemErr), 0);
            &[IoSlice::new(&refusal[4..])]
        } else if results.is_empty() {
            &[IoSlice::new(message)]
        } else {
            &[IoSlice::new(message), IoSlice::new(results)]
        };
        let _ = sys::send_datagram(self.socket.as_fd(), parts, to);
    }
}

/// The address a caller reached: the bound one, or loopback for a local
/// caller of a wildcard-bound socket.
fn local_for(bound: SocketAddr, from: SocketAddr) -> SocketAddr {
    if bound.ip().is_unspecified() && from.ip().is_loopback() {
        SocketAddr::new(from.ip(), bound.port())
    } else {
        bound
    }
}
