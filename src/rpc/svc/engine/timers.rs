//! The event loop's deadlines: connections idle or stalled, TLS handshakes
//! that must finish, listeners resting for want of descriptors, and the
//! pool's check of its spare threads. One heap, earliest first, behind one
//! timerfd that is set only while a deadline is pending, and moved only
//! when a new deadline comes before the one it is set for.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// Deadlines by key; a key may have several entries, and whoever handles
/// a key that is due checks whether its deadline still holds.
#[derive(Default)]
pub(super) struct Timers {
    heap: BinaryHeap<Reverse<(Instant, u64)>>,
    /// When the timerfd is set to fire.
    armed_at: Option<Instant>,
    /// When the pool's spare threads are next checked, if they are.
    pub(super) spares_check: Option<Instant>,
}

impl Timers {
    /// Adds a deadline `at` for `key`. Returns the instant the timerfd must
    /// now be set to, when that is earlier than the one it is set to.
    pub(super) fn push(&mut self, at: Instant, key: u64) -> Option<Instant> {
        self.heap.push(Reverse((at, key)));
        if self.armed_at.is_some_and(|armed| armed <= at) {
            return None;
        }
        self.armed_at = Some(at);
        Some(at)
    }

    /// The timerfd fired (and is no longer set): takes the keys due at
    /// `now`, earliest first.
    pub(super) fn take_due(&mut self, now: Instant) -> Vec<u64> {
        self.armed_at = None;
        let mut due = Vec::new();
        while let Some(Reverse((at, key))) = self.heap.peek().copied() {
            if at > now {
                break;
            }
            self.heap.pop();
            due.push(key);
        }
        due
    }

    /// After the keys due were handled: the instant the timerfd must be set
    /// to for the earliest deadline left, unless it is set for it already.
    pub(super) fn rearm(&mut self) -> Option<Instant> {
        let next = self.heap.peek().map(|Reverse((at, _))| *at)?;
        if self.armed_at.is_some_and(|armed| armed <= next) {
            return None;
        }
        self.armed_at = Some(next);
        Some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::Timers;
    use std::time::{Duration, Instant};

    #[test]
    fn the_timer_moves_only_for_an_earlier_deadline() {
        let now = Instant::now();
        let at = |ms| now + Duration::from_millis(ms);
        let mut t = Timers::default();
        assert_eq!(t.push(at(30), 1), Some(at(30)));
        assert_eq!(t.push(at(50), 2), None, "a later deadline leaves the timer");
        assert_eq!(t.push(at(30), 3), None, "so does an equal one");
        assert_eq!(t.push(at(10), 4), Some(at(10)));
        assert_eq!(t.rearm(), None, "set for the earliest already");
    }

    #[test]
    fn due_keys_come_earliest_first_and_the_rest_rearm_the_timer() {
        let now = Instant::now();
        let at = |ms| now + Duration::from_millis(ms);
        let mut t = Timers::default();
        for (ms, key) in [(40, 1), (10, 2), (20, 3), (90, 4)] {
            t.push(at(ms), key);
        }
        assert_eq!(t.take_due(at(40)), [2, 3, 1]);
        assert_eq!(t.take_due(at(40)), Vec::<u64>::new());
        assert_eq!(t.rearm(), Some(at(90)));
        assert_eq!(t.rearm(), None);
        // Nothing left: nothing to set.
        assert_eq!(t.take_due(at(90)), [4]);
        assert_eq!(t.rearm(), None);
        // A deadline after the timer fired sets it again.
        assert_eq!(t.push(at(100), 5), Some(at(100)));
    }
}
