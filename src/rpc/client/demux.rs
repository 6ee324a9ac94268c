//! Matching replies to the calls waiting for them, by xid, and passing the
//! reading role from caller to caller.
//!
//! There is no reader thread: whichever waiting caller finds nobody reading
//! once its call is sent becomes the reader (never a caller still writing:
//! replies must keep being read while a long write waits for the server,
//! or both sides block). It reads messages and hands each to the caller
//! whose xid it carries (a stray or late reply is dropped), and wakes the
//! callers of all the replies one read brought with one system call (see
//! [`Bell`]). When its own reply comes in it passes the reading on to one
//! caller still waiting. So each reply costs at most one wake-up, and a
//! lone caller reads its own reply with no thread hand-off.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::net::sys;
use crate::sync::lock;

/// Callers of this process waiting for replies, on every connection.
static AWAITED: AtomicUsize = AtomicUsize::new(0);

/// How many callers of this process wait for replies now: a reader polls
/// its socket before sleeping only while it is the one (others keep the
/// CPUs busy; see [`crate::net::spin`]).
pub(super) fn awaited() -> usize {
    AWAITED.load(Ordering::Relaxed)
}

/// What a waiting caller is handed: its reply, or the reading role.
#[derive(Default)]
pub(super) struct Handed {
    pub reply: Option<Vec<u8>>,
    pub read_next: bool,
    /// The caller is still sending its call (and maybe others queued
    /// behind it): it must not be given the reading role meanwhile.
    pub sending: bool,
}

/// A waiting caller's own mailbox: it looks there when woken, without
/// the connection-wide lock the other callers contend for.
#[derive(Default)]
pub(super) struct Slot(Mutex<Handed>);

thread_local! {
    /// The slot of this thread's last call, kept for its next one.
    static KEPT: Cell<Option<Arc<Slot>>> = const { Cell::new(None) };
}

impl Slot {
    /// An empty slot for a call being sent: the thread's last one when
    /// nothing else holds it any more, else a new one.
    pub fn sending() -> Arc<Slot> {
        let fresh = Handed {
            sending: true,
            ..Handed::default()
        };
        if let Some(mut kept) = KEPT.try_with(Cell::take).ok().flatten() {
            if let Some(slot) = Arc::get_mut(&mut kept) {
                *slot.0.get_mut().unwrap_or_else(PoisonError::into_inner) = fresh;
                return kept;
            }
        }
        Arc::new(Slot(Mutex::new(fresh)))
    }

    /// The call is over: the thread keeps its slot for the next call.
    pub fn done(slot: Arc<Slot>) {
        let _ = KEPT.try_with(|k| k.set(Some(slot)));
    }

    pub fn lock(&self) -> MutexGuard<'_, Handed> {
        lock(&self.0)
    }
}

/// Where the callers waiting on one connection sleep: one futex word,
/// which a waker rings once for every caller it handed something, so the
/// reader wakes the callers of all the replies one read brought with one
/// system call. Woken one by one, on one CPU each wake-up let the woken
/// caller take the CPU from the reader before it woke the next. Each
/// caller sleeps on one bit of 32, its xid's lowest five: a ring wakes
/// those it names, and any caller sharing a bit with them looks at its
/// slot and sleeps again.
#[derive(Default)]
pub(super) struct Bell {
    /// Rings so far (wrapping): a caller sleeps only while the count is
    /// still what it read before it last looked at its slot.
    rings: AtomicU32,
    /// Callers asleep or about to be: a ring makes a system call only
    /// when there are some.
    sleepers: AtomicU32,
}

impl Bell {
    /// The bit of the caller waiting for `xid`.
    pub fn bit(xid: u32) -> u32 {
        1 << (xid & 31)
    }

    /// What a caller reads before it looks at its slot, to sleep on.
    pub fn heard(&self) -> u32 {
        self.rings.load(Ordering::SeqCst)
    }

    /// Sleeps on `bit` for up to `timeout`, unless the bell rang since
    /// `heard` was read. A return says nothing: the caller looks again.
    pub fn sleep(&self, heard: u32, bit: u32, timeout: Duration) {
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        let timeout = (timeout != Duration::MAX).then_some(timeout);
        sys::futex_wait_bits(&self.rings, heard, bit, timeout);
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
    }

    /// Wakes the callers sleeping on `bits` (a ring with none is nothing).
    pub fn ring(&self, bits: u32) {
        if bits == 0 {
            return;
        }
        // A caller counted as a sleeper after this load reads the new
        // count of rings in its futex call and does not sleep.
        self.rings.fetch_add(1, Ordering::SeqCst);
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            sys::futex_wake_bits(&self.rings, bits);
        }
    }
}

#[derive(Default)]
pub(super) struct Demux {
    /// A caller holds the reading role (reading, or woken to read next).
    pub reading: bool,
    /// Callers whose replies have not come in, by xid.
    /// Keyed by this client's own xids (replies only look up): a fast
    /// hash is safe.
    /// Each caller's slot; its bit of the [`Bell`] comes from its xid.
    waiting: HashMap<u32, Arc<Slot>, foldhash::fast::RandomState>,
    /// Why the connection is unusable (streams only).
    pub dead: Option<Death>,
    /// The last error a UDP receive reported (e.g. ICMP port unreachable).
    pub udp_error: Option<String>,
}

impl Demux {
    /// The current thread waits for the reply to `xid` in `slot`.
    pub fn wait_for(&mut self, xid: u32, slot: Arc<Slot>) {
        if self.waiting.insert(xid, slot).is_none() {
            AWAITED.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Hands `msg` to the caller whose xid it carries (a stray or late
    /// reply is dropped); returns that caller's bit of the [`Bell`], to be
    /// rung once the lock is released (ringing is a system call: not
    /// under the lock), or 0. `handed` counts replies handed out and not
    /// yet taken.
    #[must_use]
    pub fn deliver(&mut self, msg: Vec<u8>, handed: &AtomicUsize) -> u32 {
        let Some(xid) = msg.first_chunk::<4>().map(|x| u32::from_be_bytes(*x)) else {
            return 0;
        };
        let Some(slot) = self.waiting.remove(&xid) else {
            return 0;
        };
        AWAITED.fetch_sub(1, Ordering::Relaxed);
        handed.fetch_add(1, Ordering::SeqCst);
        slot.lock().reply = Some(msg);
        Bell::bit(xid)
    }

    /// The reader leaves: one waiting caller that is not sending is handed
    /// the reading role; returns its bit, to be rung once the lock is
    /// released, or 0.
    #[must_use]
    pub fn pass_reading(&mut self) -> u32 {
        for (&xid, slot) in &self.waiting {
            let mut handed = slot.lock();
            if !handed.sending {
                handed.read_next = true;
                return Bell::bit(xid);
            }
        }
        // Everyone is sending: the first to finish takes the role.
        self.reading = false;
        0
    }

    /// Takes `xid` off the waiting list when its call gives up: its reply
    /// if one came in meanwhile, and the bit to ring when the reading
    /// role, held or handed over meanwhile, passes on.
    #[must_use]
    pub fn leave(&mut self, xid: u32, slot: &Slot, reader: bool) -> (Option<Vec<u8>>, u32) {
        if self.waiting.remove(&xid).is_some() {
            AWAITED.fetch_sub(1, Ordering::Relaxed);
        }
        let mut handed = slot.lock();
        let next = if reader || std::mem::take(&mut handed.read_next) {
            self.pass_reading()
        } else {
            0
        };
        (handed.reply.take(), next)
    }

    /// The connection is unusable: every caller must wake to see why (the
    /// caller rings them all).
    pub fn kill(&mut self, why: Death) {
        self.dead.get_or_insert(why);
    }
}

impl Drop for Demux {
    fn drop(&mut self) {
        AWAITED.fetch_sub(self.waiting.len(), Ordering::Relaxed);
    }
}

/// Why a connection became unusable, given to every call on it.
#[derive(Clone, Debug)]
pub(super) struct Death {
    /// TLS failed (an alert, a bad record), rather than the connection.
    tls: bool,
    why: String,
}

impl Death {
    /// The connection is gone or out of step.
    pub fn closed(why: String) -> Death {
        Death { tls: false, why }
    }

    /// What `err`, met while using the connection, makes of it.
    pub fn of(err: &crate::Error) -> Death {
        match err {
            crate::Error::Tls(why) => Death {
                tls: true,
                why: why.clone(),
            },
            other => Death::closed(format!("connection lost: {other}")),
        }
    }

    /// The error a call on the dead connection gets.
    pub fn error(&self) -> crate::Error {
        if self.tls {
            crate::Error::Tls(self.why.clone())
        } else {
            crate::Error::Closed(self.why.clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Bell;
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    /// A long limit: a sleep that should not wait that long would make the
    /// test fail on its own bound below rather than hang.
    const LONG: Duration = Duration::from_secs(30);

    /// A ring between the read of `heard` and the sleep makes the sleep
    /// return at once, so no ring is lost; a sleeper on the bit rung
    /// wakes; and a ring names callers by the low bits of their xids.
    #[test]
    fn a_ring_wakes_the_bits_it_names_and_is_not_lost_before_a_sleep() {
        let bell = Bell::default();
        assert_eq!(
            (Bell::bit(0), Bell::bit(33), Bell::bit(31)),
            (1, 2, 1 << 31)
        );
        let heard = bell.heard();
        bell.ring(Bell::bit(7));
        let t = Instant::now();
        bell.sleep(heard, Bell::bit(7), LONG);
        assert!(t.elapsed() < LONG / 2, "a ring before the sleep was lost");
        // A ring with no bits is no ring.
        let heard = bell.heard();
        bell.ring(0);
        assert_eq!(bell.heard(), heard);

        std::thread::scope(|s| {
            let (tx, rx) = mpsc::channel();
            let heard = bell.heard();
            let bell = &bell;
            s.spawn(move || {
                let t = Instant::now();
                bell.sleep(heard, Bell::bit(3), LONG);
                tx.send(t.elapsed()).unwrap();
            });
            // Rung once the sleeper is counted: asleep or, if not yet in
            // the futex call, about to find the ring there.
            while bell.sleepers.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                std::thread::yield_now();
            }
            bell.ring(Bell::bit(35) | Bell::bit(9));
            let slept = rx.recv_timeout(LONG).expect("the sleeper woke");
            assert!(slept < LONG / 2, "woken by the ring, not the limit");
        });
        assert_eq!(bell.sleepers.load(std::sync::atomic::Ordering::SeqCst), 0);
    }
}
