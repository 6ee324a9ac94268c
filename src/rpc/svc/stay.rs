//! The watch on a thread that stays on a connection or UDP socket (see
//! the engine): which stay is under way, and whether its thread has been
//! running one handler since the loop's timer last looked, so that the
//! timer can take the stay back and hand the socket to the pool.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub(super) struct StayWatch {
    /// The stay under way: its number, or 0.
    stay: AtomicU64,
    /// Numbers the stays and the handlers run in them.
    numbers: AtomicU64,
    /// While the staying thread runs a handler: that run's number, else 0.
    busy: AtomicU64,
    /// `busy` as the last look saw it.
    seen: AtomicU64,
}

impl StayWatch {
    /// Starts a stay, unless one is under way: its number.
    pub fn begin(&self) -> Option<u64> {
        let n = self.numbers.fetch_add(1, Ordering::Relaxed) + 1;
        self.stay
            .compare_exchange(0, n, Ordering::SeqCst, Ordering::SeqCst)
            .ok()
            .map(|_| n)
    }

    /// Ends stay `n`, unless it ended already (taken back): whether this
    /// call ended it.
    pub fn end(&self, n: u64) -> bool {
        let ended = self
            .stay
            .compare_exchange(n, 0, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok();
        if ended {
            self.busy.store(0, Ordering::SeqCst);
        }
        ended
    }

    /// The stay under way, or 0.
    pub fn current(&self) -> u64 {
        self.stay.load(Ordering::SeqCst)
    }

    /// Whether stay `n` is still under way.
    pub fn holds(&self, n: u64) -> bool {
        self.current() == n
    }

    /// The staying thread starts (`true`) or has finished (`false`) a
    /// handler.
    pub fn set_busy(&self, running: bool) {
        let mark = match running {
            true => self.numbers.fetch_add(1, Ordering::Relaxed) + 1,
            false => 0,
        };
        self.busy.store(mark, Ordering::SeqCst);
    }

    /// The timer's look: whether the staying thread has been running the
    /// same handler since the last look (looks come a period apart).
    pub fn stuck(&self) -> bool {
        let busy = self.busy.load(Ordering::SeqCst);
        busy != 0 && self.seen.swap(busy, Ordering::SeqCst) == busy
    }
}

#[cfg(test)]
mod tests {
    use super::StayWatch;

    #[test]
    fn one_stay_at_a_time_and_a_handler_is_stuck_on_the_second_look() {
        let w = StayWatch::default();
        let n = w.begin().unwrap();
        assert!(w.begin().is_none(), "a second stay while one is under way");
        assert!(!w.stuck(), "no handler runs");
        w.set_busy(true);
        assert!(!w.stuck(), "first look at this handler");
        assert!(w.stuck(), "the same handler at the next look");
        w.set_busy(false);
        w.set_busy(true);
        assert!(!w.stuck(), "another handler since");
        assert!(w.end(n));
        assert!(!w.end(n), "ended once");
        assert!(!w.holds(n) && w.current() == 0);
        let m = w.begin().unwrap();
        assert_ne!(m, n);
        assert!(!w.stuck(), "ending a stay clears its handler");
    }
}
