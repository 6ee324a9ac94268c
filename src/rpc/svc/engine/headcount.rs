//! The pool's head count: how many threads it has, how many of them wait
//! in the poller, how many were busy at once lately and how many were
//! asked to leave. Numbers only, kept with atomics so that no thread
//! takes a lock for them; the engine starts, rings and joins the threads
//! and asks these numbers what to do.
//!
//! The rules they keep:
//! - a thread counts as waiting from the moment it is started, so that
//!   nobody starts another for the same need before it gets to wait;
//! - every so often the pool keeps as many threads as were busy at once
//!   since the last look, plus one to wait, and never fewer than its
//!   minimum: the others are asked to leave ([`Headcount::spares`]);
//! - a thread asked to leave leaves only while the pool is above its
//!   minimum ([`Headcount::take_retirement`]).

use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Default)]
pub(crate) struct Headcount {
    /// Threads in the pool.
    threads: AtomicUsize,
    /// Threads waiting in the poller (or about to).
    waiting: AtomicUsize,
    /// The most threads busy at once since the last [`spares`](Self::spares).
    peak_busy: AtomicUsize,
    /// Threads asked to leave and not yet gone.
    retiring: AtomicUsize,
}

impl Headcount {
    pub fn threads(&self) -> usize {
        self.threads.load(Ordering::SeqCst)
    }

    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    pub fn retiring(&self) -> usize {
        self.retiring.load(Ordering::SeqCst)
    }

    /// A thread is being started: it counts in the pool, and as waiting.
    pub fn starting(&self) {
        self.threads.fetch_add(1, Ordering::SeqCst);
        self.waiting.fetch_add(1, Ordering::SeqCst);
    }

    /// The thread [`starting`](Self::starting) counted could not be started.
    pub fn not_started(&self) {
        self.threads.fetch_sub(1, Ordering::SeqCst);
        self.waiting.fetch_sub(1, Ordering::SeqCst);
    }

    /// A thread goes back to waiting.
    pub fn wait(&self) {
        self.waiting.fetch_add(1, Ordering::SeqCst);
    }

    /// A thread stops waiting; how many others still wait.
    pub fn unwait(&self) -> usize {
        self.waiting.fetch_sub(1, Ordering::SeqCst) - 1
    }

    /// A thread took work while `still_waiting` others waited: records how
    /// many were busy at once.
    pub fn note_busy(&self, still_waiting: usize) {
        let busy = self.threads().saturating_sub(still_waiting);
        self.peak_busy.fetch_max(busy, Ordering::Relaxed);
    }

    /// Looks at how many threads were busy at once since the last look and
    /// asks the ones not needed to leave (at least `min` stay); how many
    /// were asked.
    pub fn spares(&self, min: usize) -> usize {
        let threads = self.threads();
        let peak = self.peak_busy.swap(0, Ordering::Relaxed);
        let keep = min.max(peak + 1);
        let spare = threads.saturating_sub(keep);
        if spare > 0 {
            self.retiring.store(spare, Ordering::SeqCst);
        }
        spare
    }

    /// A thread woken by the bell: whether it is to leave the pool. If so,
    /// it is counted out of the pool already.
    pub fn take_retirement(&self, min: usize) -> bool {
        let mut n = self.retiring();
        while n > 0 {
            match self
                .retiring
                .compare_exchange(n, n - 1, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return self.leave_above(min),
                Err(now) => n = now,
            }
        }
        false
    }

    /// Counts one thread out, unless the pool is at `min`; whether it was.
    fn leave_above(&self, min: usize) -> bool {
        let mut n = self.threads();
        while n > min {
            match self
                .threads
                .compare_exchange(n, n - 1, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return true,
                Err(now) => n = now,
            }
        }
        false
    }

    /// A thread leaves the pool for any other reason (the server stops).
    pub fn left(&self) {
        self.threads.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::Headcount;

    fn pool_of(n: usize) -> Headcount {
        let h = Headcount::default();
        for _ in 0..n {
            h.starting();
        }
        h
    }

    #[test]
    fn started_threads_count_as_waiting_until_they_take_work() {
        let h = pool_of(2);
        assert_eq!((h.threads(), h.waiting()), (2, 2));
        assert_eq!(h.unwait(), 1);
        h.starting();
        h.not_started();
        assert_eq!((h.threads(), h.waiting()), (2, 1));
        h.wait();
        assert_eq!(h.waiting(), 2);
    }

    #[test]
    fn spares_keep_the_busiest_moment_plus_one_and_the_minimum() {
        let h = pool_of(8);
        // Five busy at once at the busiest: six stay, two are asked to go.
        h.note_busy(3);
        h.note_busy(6);
        assert_eq!(h.spares(1), 2);
        assert_eq!(h.retiring(), 2);
        // Nothing busy since: one would do, but the minimum is four.
        assert_eq!(h.spares(4), 4);
        // The busiest moment is forgotten at each look.
        assert_eq!(h.spares(8), 0);
    }

    #[test]
    fn retirement_is_taken_once_per_thread_asked_and_never_below_the_minimum() {
        let h = pool_of(4);
        assert!(!h.take_retirement(1), "nobody was asked to leave");
        assert_eq!(h.spares(1), 3);
        assert!(h.take_retirement(1));
        assert!(h.take_retirement(1));
        assert_eq!(h.threads(), 2);
        // The minimum rose meanwhile: the third thread asked stays.
        assert!(!h.take_retirement(2));
        assert_eq!((h.threads(), h.retiring()), (2, 0));
        assert!(!h.take_retirement(1), "every request was taken");
    }
}
