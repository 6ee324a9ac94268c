//! Stream connections on the loop: a connection's events, the calls read
//! from it, the thread that stays on it for its caller's next call, the
//! replies written back, and its closing.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Engine, Job, Scratch, SERVING, STAY_CHECK};
use crate::net::poll::{Interest, Ready};
use crate::rpc::svc::conn::{Conn, ReadEnd, Reading, Sent};
use crate::sync::lock;

impl Engine {
    /// Serves an event of `c`: writes what waits for room, reads the calls
    /// that came, queues all but the first for the pool and answers the
    /// first.
    ///
    /// Having answered, the thread stays on the connection for its next
    /// call, up to the stay (as [`serve_datagrams`](Self::serve_datagrams)
    /// does on a UDP socket), when another thread waits in the poller and
    /// the connection has nothing else under way: `c` leaves the poller
    /// meanwhile, and the thread waits in a read of its own. A lone
    /// caller's next call then costs a read, not a wait in the poller too,
    /// and wakes this thread, not the pool's spare one. After the stay `c`
    /// is registered again (bytes that came meanwhile are reported at once).
    pub(super) fn on_conn_event(
        self: &Arc<Self>,
        c: &Arc<Conn>,
        ready: Ready,
        scratch: &mut Scratch,
    ) {
        let (mut read, mut write);
        {
            let mut st = c.state();
            if st.closed {
                return;
            }
            // Room to write matters only to replies waiting for it (the
            // registration reports it with every event once a reply had
            // to wait).
            read = ready.read;
            write = ready.write && st.want_write;
            // Recorded even when another thread handles `c`: its reads
            // then go on to the end of the stream.
            st.peer_done |= ready.hup;
            if st.handling {
                st.pending_read |= read;
                st.pending_write |= write;
                return;
            }
            st.handling = true;
        }
        let mut calls = std::mem::take(&mut scratch.calls);
        // The stay this thread took `c` out of the poller for, if any.
        let mut stay = None;
        loop {
            let staying = stay.is_some();
            // In a stay, the first read waits for the caller's next call.
            let mut wait = staying;
            // The read that waited found nothing: the stay is over.
            let mut quiet = false;
            let close = loop {
                if write {
                    // Writable again: the peer has read some, which counts
                    // as progress for the stall timer.
                    c.state().stalled_since = Some(Instant::now());
                    let sent = c.flush();
                    if self.after_send(c, sent) {
                        break true;
                    }
                }
                if read {
                    quiet |= self.read_calls(c, scratch, &mut calls, std::mem::take(&mut wait));
                }
                let mut st = c.state();
                if st.pending_read || st.pending_write {
                    read = std::mem::take(&mut st.pending_read);
                    write = std::mem::take(&mut st.pending_write);
                    continue;
                }
                if st.finished() {
                    st.handling = false;
                    break true;
                }
                if staying && calls.is_empty() && !quiet && !st.read_done && !st.want_write {
                    // Part of a call came: wait for the rest.
                    (read, write, wait) = (true, false, true);
                    continue;
                }
                st.handling = false;
                break false;
            };
            if close {
                self.close(c);
            }
            let mut rest = calls.drain(..);
            let first = rest.next();
            if rest.len() > 0 {
                c.calls_queued(rest.len());
                self.push_calls_read_with(rest.map(|msg| Job::Call(c.clone(), msg)));
            } else {
                drop(rest);
            }
            let Some(msg) = first else { break };
            if staying {
                c.watch.set_busy(true);
            }
            self.run_call(c, msg, scratch);
            if let Some(n) = stay {
                if !c.watch.holds(n) {
                    // Taken back while the handler ran (see `on_timer`):
                    // `c` is the poller's again.
                    break;
                }
                c.watch.set_busy(false);
            }
            if close {
                break;
            }
            match self.stay_on_conn(c, stay) {
                Some(n) => stay = Some(n),
                None => break,
            }
            (read, write) = (true, false);
        }
        scratch.calls = calls;
        if let Some(n) = stay {
            self.staying.fetch_sub(1, Ordering::SeqCst);
            c.watch.end(n);
            // Back to the poller, room to write included if a reply waits
            // for it (under the state's lock, as `want_room` changes it).
            let st = c.state();
            if !st.closed {
                let both = Interest {
                    read: true,
                    write: st.want_write,
                };
                let _ = self.poller().modify_edge(c.fd(), c.key, both);
            }
        }
    }

    /// Whether this thread may stay on `c` for its next call (see
    /// [`on_conn_event`](Self::on_conn_event)): another thread waits in the
    /// poller, and `c` is open, readable, handled by nobody, has no call
    /// in flight and no reply waiting for room. If so, this thread handles
    /// `c` from now on, and `c` is out of the poller until the stay ends:
    /// the stay's number. `stay`: the one this thread is on already, which
    /// goes on only if the loop's timer has not taken it back.
    pub(super) fn stay_on_conn(&self, c: &Conn, stay: Option<u64>) -> Option<u64> {
        let wait = Duration::from_micros(self.settings.stay_us.load(Ordering::Relaxed));
        if self.head.waiting() == 0 || !c.prepare_stay(wait) {
            return None;
        }
        let mut st = c.state();
        if st.handling || st.closed || st.read_done || st.in_flight > 0 || st.want_write {
            return None;
        }
        let n = match stay {
            Some(n) if c.watch.holds(n) => n,
            Some(_) => return None,
            // A new stay: counted, `c` out of the poller, and watched by
            // the loop's timer (see `on_timer`).
            None => {
                if self.staying.fetch_add(1, Ordering::SeqCst) >= self.max_staying() {
                    self.staying.fetch_sub(1, Ordering::SeqCst);
                    return None;
                }
                let Some(n) = c.watch.begin() else {
                    self.staying.fetch_sub(1, Ordering::SeqCst);
                    return None;
                };
                if self
                    .poller()
                    .modify_edge(c.fd(), c.key, Interest::default())
                    .is_err()
                {
                    c.watch.end(n);
                    self.staying.fetch_sub(1, Ordering::SeqCst);
                    return None;
                }
                self.schedule(c.key, &mut st, Instant::now() + STAY_CHECK);
                n
            }
        };
        st.handling = true;
        Some(n)
    }

    /// Whether a staying thread may poll its socket before sleeping (see
    /// [`crate::net::spin`]): only while no call runs, no other thread
    /// stays on a connection and at most one connection is open, so that
    /// it keeps no CPU from work that may come on another connection (16
    /// callers with a connection each, unpinned: 5% fewer calls/s when
    /// the server polled whenever no call ran).
    pub(super) fn may_spin(&self) -> bool {
        self.calls.load(Ordering::SeqCst) == 0
            && self.staying.load(Ordering::SeqCst) <= 1
            && self.connection_count() <= 1
    }

    /// How long a read polls before it sleeps: the server's busy poll for a
    /// read that waits when [`may_spin`](Self::may_spin), else zero.
    pub(in crate::rpc::svc) fn spin_for(&self, wait: bool) -> Duration {
        let us = self.settings.busy_poll_us.load(Ordering::Relaxed);
        if !wait || us == 0 || !self.may_spin() {
            return Duration::ZERO;
        }
        Duration::from_micros(us)
    }

    /// How many threads may stay on connections at once. On one CPU, one:
    /// threads staying on several connections take turns on it, and each
    /// turn costs a switch that one thread taking their events from the
    /// poller in turn saves (16 callers, pinned to one CPU with the
    /// server: 0.86x the calls/s with a thread staying on each connection,
    /// 0.99x with one staying). With more CPUs, half the pool's maximum,
    /// the other half left for handlers that block (16 callers on two
    /// CPUs: 1.11-1.55x the calls/s of at most two staying).
    pub(super) fn max_staying(&self) -> usize {
        match self.cpus.load(Ordering::Relaxed) {
            1 => 1,
            _ => self.settings.max_threads.load(Ordering::Relaxed) / 2,
        }
    }

    /// Reads the calls that have arrived on `c`, as many as it may have in
    /// flight, counting them as in flight; `wait`: see [`Conn::read_calls`].
    /// Whether a read that waited found nothing.
    pub(super) fn read_calls(
        &self,
        c: &Conn,
        scratch: &mut Scratch,
        calls: &mut Vec<Vec<u8>>,
        wait: bool,
    ) -> bool {
        let limit = self.settings.per_connection();
        let (room, drain) = {
            let mut st = c.state();
            if st.read_done {
                return false;
            }
            let room = limit.saturating_sub(st.in_flight);
            st.paused = room == 0;
            (room, st.peer_done)
        };
        if room == 0 {
            return false;
        }
        let before = calls.len();
        let how = Reading {
            room,
            wait,
            drain,
            spin: self.spin_for(wait),
        };
        let end = c.read_calls(&mut scratch.read, calls, how);
        let got = calls.len() - before;
        let mut st = c.state();
        if got > 0 {
            st.in_flight += got;
            self.calls.fetch_add(got, Ordering::SeqCst);
        }
        match end {
            // A call finishing resumes reading only where the socket may
            // hold calls no event will report again (or the backlog holds
            // some: see `finish_call`). A connection whose caller has all
            // its calls in flight costs no read that finds nothing.
            ReadEnd::Later => st.paused = false,
            ReadEnd::Full => st.paused = true,
            ReadEnd::Quiet => return true,
            ReadEnd::Eof | ReadEnd::Failed => st.read_done = true,
        }
        false
    }

    /// Answers one call of `c` and sends the reply. When no thread is left
    /// waiting for new work, one is added first (up to the maximum): the
    /// handler may block.
    pub(super) fn run_call(self: &Arc<Self>, c: &Arc<Conn>, msg: Vec<u8>, scratch: &mut Scratch) {
        if self.head.waiting() == 0 {
            self.grow();
        }
        SERVING.with(|s| s.set((s.get().0, c.key)));
        let head = self
            .dispatcher
            .dispatch(&msg, c.caller(), &mut scratch.results);
        SERVING.with(|s| s.set((s.get().0, 0)));
        crate::spare::give(msg);
        let (failed, stamped) = match head {
            Some(head) => {
                let sent = c.send(head, &mut scratch.results);
                if sent == Sent::Held {
                    scratch.holding = Some(c.key);
                }
                let stamped = sent == Sent::Done;
                (self.after_send(c, sent), stamped)
            }
            None => (false, false),
        };
        self.finish_call(c, failed, stamped);
    }

    /// Records how a write went; true when the peer is gone. A write that
    /// finished is activity: it stamps `last_active`.
    pub(super) fn after_send(&self, c: &Conn, sent: Sent) -> bool {
        let mut st = c.state();
        match sent {
            Sent::Done => {
                st.want_write = false;
                st.stalled_since = None;
                st.last_active = Instant::now();
            }
            Sent::Queued | Sent::Held => {}
            Sent::Blocked => {
                if !st.want_write {
                    let now = Instant::now();
                    st.want_write = true;
                    st.stalled_since = Some(now);
                    if let Some(idle) = self.settings.idle() {
                        self.schedule(c.key, &mut st, now + idle);
                    }
                    c.want_room(&st, self.poller());
                }
            }
            Sent::Failed => {
                st.want_write = false;
                st.read_done = true;
                return true;
            }
        }
        false
    }

    /// A call of `c` is answered: frees its place, resumes reading that
    /// waited for it, and closes the connection once it has nothing left.
    /// The last call in flight stamps `last_active`, where the idle
    /// timeout counts from, unless its reply's write just did (`stamped`).
    /// (A call's arrival needs no stamp: a connection with calls in
    /// flight is not idle.)
    pub(super) fn finish_call(self: &Arc<Self>, c: &Arc<Conn>, failed: bool, stamped: bool) {
        let resume;
        {
            let mut st = c.state();
            st.in_flight -= 1;
            // Calls already read but not decoded resume reading too: a
            // call that finished while a read ran saw no pause, and the
            // drained socket will not wake the poller for them.
            resume = (st.paused || c.has_backlog()) && !st.read_done && !st.handling && !st.closed;
            if st.paused && st.handling {
                st.pending_read = true;
            }
            if st.in_flight == 0 && !stamped && !st.closed {
                st.last_active = Instant::now();
            }
            if st.in_flight == 0 && st.timer_at.is_none() && !st.closed {
                if let Some(idle) = self.settings.idle() {
                    let at = st.last_active + idle;
                    self.schedule(c.key, &mut st, at);
                }
            }
        }
        self.call_done();
        let done = {
            let st = c.state();
            failed || (st.finished() && !st.handling && !st.closed)
        };
        if done {
            self.close(c);
        } else if resume {
            // Calls left undecoded in the connection's buffer are read as
            // a job: the socket may have nothing new to wake the poller.
            self.push_jobs(std::iter::once(Job::Read(c.clone())));
        }
    }

    /// Forgets `c` and shuts its socket down.
    pub(super) fn close(&self, c: &Conn) {
        {
            let mut st = c.state();
            if st.closed {
                return;
            }
            st.closed = true;
            st.read_done = true;
        }
        if let Some(r) = self.reactor.get() {
            r.poller.remove(c.fd());
        }
        c.shutdown();
        lock(&self.sources).map.remove(&c.key);
        let mut conns = lock(&self.conns);
        *conns -= 1;
        // `stop` may wait for a count above zero (called from a handler,
        // it leaves out its own connection), so every change is told.
        if self.stopping.load(Ordering::SeqCst) {
            self.idle.notify_all();
        }
    }
}
