//! The pool's loop: each thread waits on the poller, or takes a queued
//! job, and serves what it got; the pool grows when its last waiting
//! thread takes an event and shrinks back when threads go unneeded.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::timers::Timers;
use super::{
    Engine, Job, Scratch, Settings, Source, BELL, QUEUE, SERVING, SPARES, STAY_CHECK, TIMER,
};
use crate::net::poll::Ready;
use crate::sync::lock;

impl Engine {
    pub(super) fn work(self: Arc<Self>) {
        SERVING.with(|s| s.set((Arc::as_ptr(&self) as usize, 0)));
        let _end = Ending(&self.settings);
        let mut scratch = Scratch::new();
        // `spawn` counted this thread as waiting already.
        let mut counted = true;
        loop {
            // Counted as waiting before looking for queued work, so a job
            // queued meanwhile either is seen here or rings the bell.
            if !std::mem::take(&mut counted) {
                self.head.wait();
            }
            if self.exiting.load(Ordering::SeqCst) {
                self.head.unwait();
                // Pass the stop on to the next waiting thread.
                self.reactor().bell.ring(self.poller());
                break;
            }
            if let Some(job) = self.next_job(&mut scratch) {
                let still_waiting = self.head.unwait();
                self.head.note_busy(still_waiting);
                self.run_job(job, &mut scratch);
                continue;
            }
            // No timeout: an epoll_wait with one arms and cancels a kernel
            // timer every time. Spare threads leave through `check_spares`.
            let got = self.poller().wait(&mut scratch.events, None);
            let still_waiting = self.head.unwait();
            match got {
                Ok(Some(ready))
                    if ready.key == BELL && self.head.take_retirement(self.min_threads()) =>
                {
                    // Pass the ring on: to the next thread asked to leave,
                    // to whoever a queued job rang for, or along a stop
                    // (which may have rung at the same time).
                    if self.head.retiring() > 0
                        || !lock(&self.jobs).is_empty()
                        || self.exiting.load(Ordering::SeqCst)
                    {
                        self.reactor().bell.ring(self.poller());
                    }
                    // `take_retirement` counted this thread out of the pool.
                    let _pool = lock(&self.pool);
                    self.pool_shrunk.notify_all();
                    return;
                }
                Ok(Some(ready)) => {
                    if still_waiting == 0 {
                        self.grow();
                    }
                    if ready.key != TIMER {
                        self.head.note_busy(still_waiting);
                    }
                    self.handle(ready, &mut scratch);
                }
                Ok(None) => {}
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        self.head.left();
    }

    /// Every `spare_idle` while the pool has more threads than its
    /// minimum: asks the threads that were not needed since the last check
    /// to leave. The pool keeps as many as were busy at once, plus one
    /// waiting, and never fewer than its minimum. The check is a timer, so
    /// that waiting threads need no timeout of their own; once the pool is
    /// back at its minimum nothing is scheduled.
    pub(super) fn check_spares(&self) {
        let min = self.min_threads();
        if self.head.spares(min) > 0 {
            self.reactor().bell.ring(self.poller());
        }
        let mut t = lock(&self.timers);
        t.spares_check = None;
        if self.head.threads() > min {
            self.schedule_spares_check(&mut t);
        }
    }

    /// Makes sure `check_spares` runs within `spare_idle`.
    pub(super) fn schedule_spares_check(&self, t: &mut Timers) {
        if t.spares_check.is_none() {
            let at = Instant::now() + self.spare_idle();
            t.spares_check = Some(at);
            self.push_timer(t, at, SPARES);
        }
    }

    pub(super) fn spare_idle(&self) -> Duration {
        Duration::from_millis(self.settings.spare_idle_ms.load(Ordering::Relaxed))
    }

    /// The pool's minimum (at least one thread).
    pub(super) fn min_threads(&self) -> usize {
        self.settings.min_threads.load(Ordering::Relaxed).max(1)
    }

    /// Whether a thread stays on one of the UDP sockets.
    #[cfg(test)]
    pub fn staying_on_udp(&self) -> bool {
        lock(&self.sources).map.values().any(|s| match s {
            Source::Udp(u) => u.watch.current() != 0,
            _ => false,
        })
    }

    /// Whether every thread of the pool waits for work.
    #[cfg(test)]
    pub fn all_waiting(&self) -> bool {
        self.head.waiting() == self.head.threads()
    }

    /// How many threads stay on connections.
    #[cfg(test)]
    pub fn staying_on_conns(&self) -> usize {
        self.staying.load(Ordering::SeqCst)
    }

    /// Waits up to `limit` until the pool has at most `n` threads; whether
    /// it has.
    #[cfg(test)]
    pub fn wait_threads_at_most(&self, n: usize, limit: Duration) -> bool {
        let pool = lock(&self.pool);
        let (_pool, waited) = self
            .pool_shrunk
            .wait_timeout_while(pool, limit, |_| self.head.threads() > n)
            .unwrap_or_else(|p| p.into_inner());
        !waited.timed_out()
    }

    /// The last waiting thread took an event: adds one, so that one keeps
    /// waiting while handlers run (up to the maximum).
    pub(super) fn grow(self: &Arc<Self>) {
        let max = self.settings.max_threads.load(Ordering::Relaxed);
        if self.head.threads() < max && !self.exiting.load(Ordering::SeqCst) {
            let _ = self.spawn();
        }
    }

    pub(super) fn handle(self: &Arc<Self>, ready: Ready, scratch: &mut Scratch) {
        match ready.key {
            BELL => {
                if self.exiting.load(Ordering::SeqCst) {
                    return; // the loop passes it on
                }
                if let Some(job) = self.pop_job() {
                    self.ring_if_more();
                    self.run_job(job, scratch);
                }
            }
            TIMER => self.on_timer(),
            key => {
                let source = lock(&self.sources).map.get(&key).cloned();
                match source {
                    Some(Source::Listener(l)) => self.accept(key, &l),
                    Some(Source::Udp(u)) => self.serve_datagrams(key, &u, scratch),
                    Some(Source::Conn(c)) => self.on_conn_event(&c, ready, scratch),
                    None => {} // closed meanwhile
                }
            }
        }
    }

    // ---- queued calls ----

    /// Takes a queued job, for a thread back from serving. When its last
    /// call's reply was held (see `Conn::calls_queued`), the replies
    /// held stay so only if the job taken is a call of the same
    /// connection, which this thread starts now; otherwise they are sent
    /// first. A reply then never waits behind another connection's call,
    /// which may block while every thread of the pool is busy.
    fn next_job(&self, scratch: &mut Scratch) -> Option<Job> {
        let job = self.pop_job();
        if let Some(key) = scratch.holding.take() {
            if matches!(&job, Some(Job::Call(next, _)) if next.key == key) {
                return job;
            }
            let held = match lock(&self.sources).map.get(&key) {
                Some(Source::Conn(c)) => Some(c.clone()),
                _ => None, // closed meanwhile
            };
            if let Some(c) = held {
                if let Some(sent) = c.release_held() {
                    // A peer gone is seen by its calls still in flight.
                    self.after_send(&c, sent);
                }
            }
        }
        job
    }

    pub(super) fn pop_job(&self) -> Option<Job> {
        let job = lock(&self.jobs).pop_front();
        if job.is_some() {
            self.popped.fetch_add(1, Ordering::Relaxed);
        }
        job
    }

    pub(super) fn run_job(self: &Arc<Self>, job: Job, scratch: &mut Scratch) {
        match job {
            Job::Call(c, msg) => {
                // The last of the calls that came with it to start sends
                // the replies held for them first.
                if let Some(sent) = c.call_started() {
                    if self.after_send(&c, sent) {
                        self.finish_call(&c, true, false);
                        return;
                    }
                }
                self.run_call(&c, msg, scratch)
            }
            Job::Datagram(u, msg, from) => {
                self.answer_datagram(&u, &msg, from, &mut scratch.results)
            }
            Job::Receive(u, key) => self.serve_datagrams(key, &u, scratch),
            Job::Read(c) => {
                let ready = Ready {
                    key: c.key,
                    read: true,
                    write: false,
                    hup: false,
                };
                self.on_conn_event(&c, ready, scratch);
            }
        }
    }

    /// Queues work for the pool: a waiting thread is woken for it, or,
    /// when none waits, one is added (up to the maximum).
    pub(super) fn push_jobs(self: &Arc<Self>, jobs: impl Iterator<Item = Job>) {
        lock(&self.jobs).extend(jobs);
        if self.head.waiting() > 0 {
            self.reactor().bell.ring(self.poller());
        } else {
            self.grow();
        }
    }

    /// Queues the calls a thread read together with the one it runs
    /// itself. With more than one CPU, as [`push_jobs`](Self::push_jobs):
    /// other threads run them meanwhile. On one CPU no thread is woken for
    /// them: another thread would only take turns with this one on that
    /// CPU, a switch each turn, while this one takes them from the queue
    /// in turn once its call is done (16 threads on one shared client,
    /// pinned: the server's switches per call 0.24 -> 0.14). Should its
    /// handler block, the loop's timer wakes a thread for them (see
    /// [`check_queue`](Self::check_queue)).
    pub(super) fn push_calls_read_with(self: &Arc<Self>, jobs: impl Iterator<Item = Job>) {
        if self.cpus.load(Ordering::Relaxed) != 1 || self.head.waiting() == 0 {
            return self.push_jobs(jobs);
        }
        lock(&self.jobs).extend(jobs);
        let mut check = lock(&self.queue_check);
        if check.is_none() {
            *check = Some(self.popped.load(Ordering::Relaxed));
            drop(check);
            let mut t = lock(&self.timers);
            self.push_timer(&mut t, Instant::now() + STAY_CHECK, QUEUE);
        }
    }

    /// The loop's timer, a [`STAY_CHECK`] after calls were queued with no
    /// thread woken for them: when no job has been taken since, and some
    /// wait, a thread is woken for them (and it for the rest, as after any
    /// ring); when jobs were taken and some wait, it looks again later.
    pub(super) fn check_queue(&self) {
        let mut check = lock(&self.queue_check);
        let Some(seen) = check.take() else { return };
        if lock(&self.jobs).is_empty() {
            return;
        }
        let popped = self.popped.load(Ordering::Relaxed);
        if popped == seen {
            drop(check);
            self.reactor().bell.ring(self.poller());
            return;
        }
        *check = Some(popped);
        drop(check);
        let mut t = lock(&self.timers);
        self.push_timer(&mut t, Instant::now() + STAY_CHECK, QUEUE);
    }

    /// After taking a job: wakes another waiting thread if jobs remain.
    pub(super) fn ring_if_more(&self) {
        if !lock(&self.jobs).is_empty() && self.head.waiting() > 0 {
            self.reactor().bell.ring(self.poller());
        }
    }

    /// A call is answered. Only `stop` waits on `idle`, after setting
    /// `stopping`: a notification costs a system call, so none is made
    /// before. Once stopping, every call that ends is told (`stop` called
    /// from a handler waits for one call, its own, to remain, not zero),
    /// under `conns`, the lock `stop` checks the count under before it
    /// waits, so a notification cannot fall between the two.
    pub(super) fn call_done(&self) {
        self.calls.fetch_sub(1, Ordering::SeqCst);
        if self.stopping.load(Ordering::SeqCst) {
            let _conns = lock(&self.conns);
            self.idle.notify_all();
        }
    }
}

/// Runs the settings' `thread_end` function, if any, when dropped: at the
/// end of a pool thread, however its loop ends.
struct Ending<'a>(&'a Settings);

impl Drop for Ending<'_> {
    fn drop(&mut self) {
        let end = lock(&self.0.thread_end).clone();
        if let Some(end) = end {
            // A panic must not unwind out of a thread's end (nor reach C).
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| end()));
        }
    }
}
