//! UDP sockets on the loop: datagrams taken in batches, the first answered
//! by the thread that took them, the rest queued for the pool.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::{Engine, Job, Scratch, UDP_BUFFER};
use crate::net::poll::Interest;
use crate::net::sys;
use crate::rpc::svc::udp::UdpEndpoint;
use crate::xdr::Encoder;

impl Engine {
    /// Serves the datagrams waiting on `u` (registered under `key`). Its
    /// registration is edge-triggered: every datagram that arrived before
    /// this event is taken once a receive returns fewer than it asked for,
    /// and each one that arrives later brings an event of its own. Of a
    /// batch taken, this thread answers the first and queues the others
    /// for the pool; a full batch (more may wait) also queues the next
    /// receive, so no datagram waits for this thread's call.
    ///
    /// Having answered, the thread stays on the socket for the next
    /// datagram, up to [`STAY`](super::STAY), when another thread waits in the
    /// poller and none stays on `u` yet: `u` leaves the poller meanwhile,
    /// so a lone caller's next call costs one receive, not a wait in the
    /// poller too, and wakes this thread, not the pool's spare one. After
    /// the stay, `u` is registered again (a datagram that came meanwhile
    /// is reported at once).
    pub(super) fn serve_datagrams(
        self: &Arc<Self>,
        key: u64,
        u: &Arc<UdpEndpoint>,
        scratch: &mut Scratch,
    ) {
        if scratch.datagrams.is_empty() {
            scratch.datagrams = vec![vec![0; UDP_BUFFER]; sys::MAX_DATAGRAM_BATCH];
        }
        let mut staying = false;
        while !self.stopping.load(Ordering::SeqCst) {
            let mut got = std::mem::take(&mut scratch.senders);
            let spin = self.spin_for(staying);
            let taken = u.recv_batch(&mut scratch.datagrams, &mut got, staying, spin);
            let full = taken == scratch.datagrams.len();
            let first = got.first().copied();
            self.calls.fetch_add(got.len(), Ordering::SeqCst);
            // Nothing for the pool, most often: no list built for it.
            if full || got.len() > 1 {
                let more = full.then(|| Job::Receive(u.clone(), key));
                let rest = got.iter().skip(1).map(|&(i, n, from)| {
                    Job::Datagram(
                        u.clone(),
                        crate::copy::to_vec(&scratch.datagrams[i][..n]),
                        from,
                    )
                });
                let jobs: Vec<Job> = more.into_iter().chain(rest).collect();
                self.push_jobs(jobs.into_iter());
            }
            if let Some((i, n, from)) = first {
                let msg = std::mem::take(&mut scratch.datagrams[i]);
                self.answer_datagram(u, &msg[..n], from, &mut scratch.results);
                scratch.datagrams[i] = msg;
            }
            scratch.senders = got;
            if taken == 0 || !(staying || self.stay_on(key, u)) {
                break;
            }
            staying = true;
        }
        if staying {
            u.staying.store(false, Ordering::SeqCst);
            let _ = self.poller().modify_edge(u.fd(), key, Interest::READ);
        }
    }

    /// Whether this thread may stay on `u` (see [`serve_datagrams`](Self::serve_datagrams));
    /// if so, `u` is out of the poller until it leaves.
    pub(super) fn stay_on(&self, key: u64, u: &UdpEndpoint) -> bool {
        if self.head.waiting() == 0 || u.staying.swap(true, Ordering::SeqCst) {
            return false;
        }
        if self
            .poller()
            .modify_edge(u.fd(), key, Interest::default())
            .is_err()
        {
            u.staying.store(false, Ordering::SeqCst);
            return false;
        }
        true
    }

    /// Answers one datagram (counted as a call being answered).
    pub(super) fn answer_datagram(
        &self,
        u: &UdpEndpoint,
        msg: &[u8],
        from: SocketAddr,
        results: &mut Encoder,
    ) {
        let caller = u.caller(from);
        if let Some(head) = self.dispatcher.dispatch(msg, &caller, results) {
            u.reply(from, &head, results.as_bytes());
            crate::spare::give(head);
        }
        self.call_done();
    }
}
