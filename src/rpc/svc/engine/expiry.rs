//! What the loop's one timer ends: connections idle or stalled past the
//! idle timeout, TLS handshakes past theirs, a listener's rest after the
//! process ran out of descriptors, the pool's check for spare threads,
//! and its check of calls queued on one CPU with no thread woken for them.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::timers::Timers;
use super::{Engine, Source, QUEUE, SPARES, STAY_CHECK};
use crate::net::poll::Interest;
use crate::rpc::svc::conn::ConnState;
use crate::sync::lock;

impl Engine {
    /// Makes sure `key` has a timer entry no later than `at`.
    pub(super) fn schedule(&self, key: u64, st: &mut ConnState, at: Instant) {
        if st.timer_at.is_some_and(|t| t <= at) {
            return;
        }
        st.timer_at = Some(at);
        let mut t = lock(&self.timers);
        self.push_timer(&mut t, at, key);
    }

    pub(super) fn push_timer(&self, t: &mut Timers, at: Instant, key: u64) {
        if let Some(at) = t.push(at, key) {
            let _ = self.reactor().timer.set(self.poller(), Some(at));
        }
    }

    /// The timer fired: closes the connections idle or stalled for the
    /// idle timeout, re-arms starved listeners, and sets the next expiry.
    pub(super) fn on_timer(self: &Arc<Self>) {
        let now = Instant::now();
        // The timeout may have been turned off since the timers were set.
        let idle = self.settings.idle().unwrap_or(Duration::MAX);
        let due = lock(&self.timers).take_due(now);
        for key in due {
            if key == SPARES {
                self.check_spares();
                continue;
            }
            if key == QUEUE {
                self.check_queue();
                continue;
            }
            let source = lock(&self.sources).map.get(&key).cloned();
            match source {
                Some(Source::Conn(c)) => {
                    let mut st = c.state();
                    st.timer_at = None;
                    if st.closed {
                        continue;
                    }
                    let later = |t: Instant| t.checked_add(idle);
                    let idle_at = (st.in_flight == 0 && !st.want_write)
                        .then(|| later(st.last_active))
                        .flatten();
                    let stall_at = st.stalled_since.and_then(later);
                    // A TLS handshake must finish in time, idle or not.
                    let handshake_at = c.handshaking().then(|| {
                        c.accepted_at() + self.settings.handshake_timeout(self.settings.idle())
                    });
                    // A thread staying on `c` that has run one handler
                    // since the last look gives `c` back to the poller,
                    // so its next calls do not wait for that handler.
                    let stay = c.watch.current();
                    let look_at = match stay {
                        0 => None,
                        n if c.watch.stuck() => {
                            if c.watch.end(n) {
                                let both = Interest {
                                    read: true,
                                    write: st.want_write,
                                };
                                let _ = self.poller().modify_edge(c.fd(), key, both);
                            }
                            None
                        }
                        _ => Some(now + STAY_CHECK),
                    };
                    let next = [idle_at, stall_at, handshake_at, look_at]
                        .into_iter()
                        .flatten()
                        .min();
                    match next {
                        Some(at) if at <= now => {
                            drop(st);
                            self.close(&c);
                        }
                        Some(at) => self.schedule(key, &mut st, at),
                        None => {}
                    }
                }
                Some(Source::Udp(u)) => self.check_udp_stay(key, &u, now),
                Some(Source::Listener(l)) if !self.stopping.load(Ordering::SeqCst) => {
                    let _ = self.poller().rearm(l.socket.fd(), key, Interest::READ);
                }
                _ => {}
            }
        }
        let next = lock(&self.timers).rearm();
        if next.is_some() {
            let _ = self.reactor().timer.set(self.poller(), next);
        }
    }
}
