//! Matching replies to the calls waiting for them, by xid, and passing the
//! reading role from caller to caller.
//!
//! There is no reader thread: whichever waiting caller finds nobody reading
//! once its call is sent becomes the reader (never a caller still writing:
//! replies must keep being read while a long write waits for the server,
//! or both sides block). It reads messages and hands each to the caller
//! whose xid it carries, waking that caller alone (a stray or late reply is
//! dropped). When its own reply comes in it passes the reading on to one
//! caller still waiting. So each reply costs at most one wake-up, and a
//! lone caller reads its own reply with no thread hand-off.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::Thread;

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

/// A caller waiting for its reply.
struct Waiter {
    thread: Thread,
    slot: Arc<Slot>,
}

#[derive(Default)]
pub(super) struct Demux {
    /// A caller holds the reading role (reading, or woken to read next).
    pub reading: bool,
    /// Callers whose replies have not come in, by xid.
    /// Keyed by this client's own xids (replies only look up): a fast
    /// hash is safe.
    waiting: HashMap<u32, Waiter, foldhash::fast::RandomState>,
    /// Why the connection is unusable (streams only).
    pub dead: Option<Death>,
    /// The last error a UDP receive reported (e.g. ICMP port unreachable).
    pub udp_error: Option<String>,
}

impl Demux {
    /// The current thread waits for the reply to `xid` in `slot`.
    pub fn wait_for(&mut self, xid: u32, slot: Arc<Slot>) {
        let waiter = Waiter {
            thread: std::thread::current(),
            slot,
        };
        if self.waiting.insert(xid, waiter).is_none() {
            AWAITED.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Hands `msg` to the caller whose xid it carries (a stray or late
    /// reply is dropped); returns that caller's thread, to be woken once
    /// the lock is released (waking is a system call: not under the lock).
    /// `handed` counts replies handed out and not yet taken.
    #[must_use]
    pub fn deliver(&mut self, msg: Vec<u8>, handed: &AtomicUsize) -> Option<Thread> {
        let xid = u32::from_be_bytes(*msg.first_chunk::<4>()?);
        let w = self.waiting.remove(&xid)?;
        AWAITED.fetch_sub(1, Ordering::Relaxed);
        handed.fetch_add(1, Ordering::SeqCst);
        w.slot.lock().reply = Some(msg);
        Some(w.thread)
    }

    /// The reader leaves: one waiting caller that is not sending is handed
    /// the reading role; returns its thread, to be woken once the lock is
    /// released.
    #[must_use]
    pub fn pass_reading(&mut self) -> Option<Thread> {
        for w in self.waiting.values() {
            let mut handed = w.slot.lock();
            if !handed.sending {
                handed.read_next = true;
                return Some(w.thread.clone());
            }
        }
        // Everyone is sending: the first to finish takes the role.
        self.reading = false;
        None
    }

    /// Takes `xid` off the waiting list when its call gives up: its reply
    /// if one came in meanwhile, and the thread to wake when the reading
    /// role, held or handed over meanwhile, passes on.
    #[must_use]
    pub fn leave(
        &mut self,
        xid: u32,
        slot: &Slot,
        reader: bool,
    ) -> (Option<Vec<u8>>, Option<Thread>) {
        if self.waiting.remove(&xid).is_some() {
            AWAITED.fetch_sub(1, Ordering::Relaxed);
        }
        let mut handed = slot.lock();
        let next = if reader || std::mem::take(&mut handed.read_next) {
            self.pass_reading()
        } else {
            None
        };
        (handed.reply.take(), next)
    }

    /// The connection is unusable: every caller wakes to see why.
    pub fn kill(&mut self, why: Death) {
        self.dead.get_or_insert(why);
        for w in self.waiting.values() {
            w.thread.unpark();
        }
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

/// Wakes a waiting caller, if any (outside the connection's lock).
pub(super) fn wake(thread: Option<Thread>) {
    if let Some(t) = thread {
        t.unpark();
    }
}
