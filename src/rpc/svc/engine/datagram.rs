//! UDP sockets on the loop: datagrams taken in batches, the first answered
//! by the thread that took them, the rest queued for the pool.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use super::{Engine, Job, Scratch, STAY_CHECK, UDP_BUFFER};
use crate::net::poll::Interest;
use crate::net::sys;
use crate::rpc::svc::udp::UdpEndpoint;
use crate::sync::lock;
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
    /// is reported at once). A handler that runs long while its thread
    /// stays does not hold the socket from other callers: the loop's
    /// timer takes the stay back (see [`check_udp_stay`](Self::check_udp_stay)).
    pub(super) fn serve_datagrams(
        self: &Arc<Self>,
        key: u64,
        u: &Arc<UdpEndpoint>,
        scratch: &mut Scratch,
    ) {
        if scratch.datagrams.is_empty() {
            scratch.datagrams = vec![vec![0; UDP_BUFFER]; sys::MAX_DATAGRAM_BATCH];
        }
        // The stay this thread is on, if any.
        let mut stay = None;
        let mut lone = LoneCaller::default();
        while !self.stopping.load(Ordering::SeqCst) {
            let mut got = std::mem::take(&mut scratch.senders);
            let staying = stay.is_some();
            let spin = self.spin_for(staying);
            let one = staying && lone.one_at_a_time();
            let bufs = match one {
                true => &mut scratch.datagrams[..1],
                false => &mut scratch.datagrams[..],
            };
            let taken = u.recv_batch(bufs, &mut got, staying, spin);
            lone.saw(&got, one);
            // A batch that filled its buffers may have left more behind.
            let full = !one && taken == scratch.datagrams.len();
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
                if staying {
                    u.watch.set_busy(true);
                }
                self.answer_datagram(u, &msg[..n], from, &mut scratch.results);
                scratch.datagrams[i] = msg;
                if let Some(n) = stay {
                    if !u.watch.holds(n) {
                        // Taken back while the handler ran: the socket is
                        // the poller's again.
                        scratch.senders = got;
                        return;
                    }
                    u.watch.set_busy(false);
                }
            }
            scratch.senders = got;
            if taken == 0 {
                break;
            }
            if stay.is_none() {
                match self.stay_on(key, u) {
                    Some(n) => stay = Some(n),
                    None => break,
                }
            }
        }
        if let Some(n) = stay {
            if u.watch.end(n) {
                let _ = self.poller().modify_edge(u.fd(), key, Interest::READ);
            }
        }
    }

    /// Starts a stay on `u` for this thread (see [`serve_datagrams`](Self::serve_datagrams)),
    /// when another thread waits in the poller and nobody stays on `u`:
    /// its number. `u` is out of the poller until the stay ends, and the
    /// loop's timer checks on it.
    pub(super) fn stay_on(&self, key: u64, u: &UdpEndpoint) -> Option<u64> {
        if self.head.waiting() == 0 {
            return None;
        }
        let n = u.watch.begin()?;
        if self
            .poller()
            .modify_edge(u.fd(), key, Interest::default())
            .is_err()
        {
            u.watch.end(n);
            return None;
        }
        self.look_at_udp_stay(key, u, Instant::now());
        Some(n)
    }

    /// The loop's timer, for UDP socket `u` (under `key`): while a thread
    /// stays on it, checks every [`STAY_CHECK`] whether that thread has run
    /// one handler since the last check; if so, ends the stay and hands
    /// `u` back to the poller, so the pool serves the callers that came
    /// meanwhile, and the thread, its handler done, goes back to the pool.
    pub(super) fn check_udp_stay(&self, key: u64, u: &UdpEndpoint, now: Instant) {
        u.check_pending.store(false, Ordering::SeqCst);
        let n = u.watch.current();
        if n == 0 {
            // A stay that starts later schedules its own check.
            return;
        }
        if u.watch.stuck() {
            if u.watch.end(n) {
                let _ = self.poller().modify_edge(u.fd(), key, Interest::READ);
            }
            return;
        }
        self.look_at_udp_stay(key, u, now);
    }

    /// Puts the next look at `u`'s stay in the loop's timer, a
    /// [`STAY_CHECK`] from `now`, unless one is there already.
    fn look_at_udp_stay(&self, key: u64, u: &UdpEndpoint, now: Instant) {
        if !u.check_pending.swap(true, Ordering::SeqCst) {
            let mut t = lock(&self.timers);
            self.push_timer(&mut t, now + STAY_CHECK, key);
        }
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

/// Whether a thread staying on a UDP socket receives one datagram at a
/// time. While a single caller sends, each receive takes one datagram
/// (see [`sys::recv_datagrams`]: a batch's look for a second costs that
/// caller about 10% of its round trip). Batches resume when another
/// sender shows up, and every [`PROBE_EVERY`](Self::PROBE_EVERY)th
/// receive is a batch anyway, to find one caller's calls that arrive
/// together (several threads on one socket), so the pool can share them.
#[derive(Debug, Default)]
struct LoneCaller {
    /// The one sender of the last datagrams, while there is one.
    sender: Option<SocketAddr>,
    /// Receives of one since the last batch.
    singles: u32,
}

impl LoneCaller {
    /// Receives of one between two batches.
    const PROBE_EVERY: u32 = 16;

    /// Whether the next receive takes one datagram.
    fn one_at_a_time(&self) -> bool {
        self.sender.is_some() && self.singles < Self::PROBE_EVERY
    }

    /// Learns from what a receive took (`one`: a receive of one).
    fn saw(&mut self, got: &[(usize, usize, SocketAddr)], one: bool) {
        match got {
            [(_, _, from)] if !one => {
                self.sender = Some(*from);
                self.singles = 0;
            }
            [(_, _, from)] if self.sender == Some(*from) => self.singles += 1,
            _ => self.sender = None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LoneCaller;
    use std::net::SocketAddr;

    /// One sender: receives of one, with a batch every `PROBE_EVERY`;
    /// another sender, or a batch of more than one, brings batches back.
    #[test]
    fn a_lone_caller_is_received_one_datagram_at_a_time_until_another_shows() {
        let a: SocketAddr = "127.0.0.1:1000".parse().unwrap();
        let b: SocketAddr = "127.0.0.1:1001".parse().unwrap();
        let mut lone = LoneCaller::default();
        assert!(!lone.one_at_a_time());
        lone.saw(&[(0, 4, a)], false);
        for _ in 0..LoneCaller::PROBE_EVERY {
            assert!(lone.one_at_a_time());
            lone.saw(&[(0, 4, a)], true);
        }
        assert!(!lone.one_at_a_time(), "a batch looks for more");
        lone.saw(&[(0, 4, a)], false);
        assert!(lone.one_at_a_time(), "found one: one at a time again");
        lone.saw(&[(0, 4, b)], true);
        assert!(!lone.one_at_a_time(), "another sender");
        lone.saw(&[(0, 4, b), (1, 4, b)], false);
        assert!(!lone.one_at_a_time(), "calls that came together");
        lone.saw(&[(0, 4, b)], false);
        assert!(lone.one_at_a_time());
        lone.saw(&[], true);
        assert!(!lone.one_at_a_time(), "nothing came");
    }
}
