//! Polling a socket for a few microseconds before sleeping on it.
//!
//! A thread asleep in a receive is woken by the kernel when bytes come.
//! When the sender runs on another CPU, that wake-up costs more than a
//! small call's whole round trip: the sleeping CPU has to be interrupted
//! and brought out of its idle state (20-25 µs on a virtual machine). So a
//! thread that expects bytes soon (a client that has sent a call, a server
//! thread staying on a connection for its caller's next call) first tries
//! the receive without waiting, again and again, for up to [`SPIN`], and
//! sleeps only if nothing came.
//!
//! Spinning keeps a CPU from anything else that could run, so it is bounded
//! three ways (and `XIPC_SPIN_US`, read once, sets the longest spin in
//! microseconds, 0 for none):
//! - only in a process that may run on more than one CPU: on one CPU the
//!   spinner would keep the very peer it waits for from running;
//! - at most one thread fewer than the CPUs spins at a time in the process
//!   (one on two CPUs); the others sleep at once;
//! - a socket whose last spin found nothing does not spin for its next
//!   [`SKIP_AFTER_MISS`] waits: a peer that answers slowly costs one spin
//!   in every `SKIP_AFTER_MISS + 1` waits.

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::sys;
use crate::{Error, Result};

/// The longest a thread polls before it sleeps, unless `XIPC_SPIN_US`
/// says otherwise: longer than a small call's round trip between two
/// processes on two CPUs without the wake-ups (about 10 µs here), short
/// against the wake-ups it saves.
pub(crate) const SPIN: Duration = Duration::from_micros(50);

/// The longest spin: `XIPC_SPIN_US` microseconds when set to a number
/// (0: no spinning), otherwise [`SPIN`].
fn limit() -> Duration {
    static LIMIT: OnceLock<Duration> = OnceLock::new();
    *LIMIT.get_or_init(|| {
        std::env::var("XIPC_SPIN_US")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .map_or(SPIN, Duration::from_micros)
    })
}
/// How many waits after a spin that found nothing go straight to sleep.
pub(crate) const SKIP_AFTER_MISS: u32 = 16;

/// Threads of this process polling now.
static SPINNING: AtomicUsize = AtomicUsize::new(0);

/// One socket's spinning record: how many of its next waits sleep at once.
#[derive(Debug, Default)]
pub(crate) struct Spinner {
    skip: AtomicU32,
}

/// Counts a thread out of [`SPINNING`] however its spin ends.
struct Spinning;

impl Drop for Spinning {
    fn drop(&mut self) {
        SPINNING.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Spinner {
    pub fn new() -> Spinner {
        Spinner::default()
    }

    /// Calls `attempt` (a receive that does not wait; `None` when nothing
    /// was there) until it gives something or the spin's time has passed, when
    /// this thread may spin (see the module's text). `None`: nothing came,
    /// or this thread may not spin; the caller now sleeps in its receive.
    pub fn spin<T>(&self, mut attempt: impl FnMut() -> Option<T>) -> Option<T> {
        let cpus = sys::cpus();
        let limit = limit();
        if cpus < 2 || limit.is_zero() {
            return None;
        }
        let skip = self.skip.load(Ordering::Relaxed);
        if skip > 0 {
            self.skip.store(skip - 1, Ordering::Relaxed);
            return None;
        }
        if SPINNING.fetch_add(1, Ordering::AcqRel) + 1 >= cpus {
            SPINNING.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        let _counted = Spinning;
        let start = Instant::now();
        loop {
            if let Some(got) = attempt() {
                return Some(got);
            }
            if start.elapsed() >= limit {
                self.skip.store(SKIP_AFTER_MISS, Ordering::Relaxed);
                return None;
            }
            std::hint::spin_loop();
        }
    }
}

/// What a receive that does not wait gave, for [`Spinner::spin`]: `None`
/// when nothing was there.
pub(crate) fn came<T>(got: Result<T>) -> Option<Result<T>> {
    match got {
        Err(Error::WouldBlock) => None,
        other => Some(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Other tests' threads may hold the process's turns to spin for a
    /// moment: tries again, yielding the CPU to them, until this thread
    /// spins (`spun` says whether it did).
    fn spin_once<T>(s: &Spinner, mut attempt: impl FnMut() -> Option<T>) -> Option<T> {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            let mut spun = false;
            let got = s.spin(|| {
                spun = true;
                attempt()
            });
            if spun {
                return got;
            }
            std::thread::yield_now();
        }
        panic!("never had a turn to spin in 10 s");
    }

    #[test]
    fn a_spin_returns_what_came_and_a_miss_skips_the_next_waits() {
        let s = Spinner::new();
        if sys::cpus() < 2 || limit().is_zero() {
            // One CPU, or spinning turned off: never spins.
            assert_eq!(s.spin(|| Some(1)), None);
            return;
        }
        let mut tries = 0;
        let got = spin_once(&s, || {
            tries += 1;
            (tries == 3).then_some(7)
        });
        assert_eq!((got, tries), (Some(7), 3));
        // Nothing comes: the spin ends after its time, and the next waits
        // sleep at once without trying.
        let start = Instant::now();
        assert_eq!(spin_once(&s, || None::<u8>), None);
        assert!(start.elapsed() >= limit());
        for _ in 0..SKIP_AFTER_MISS {
            assert_eq!(
                s.spin(|| -> Option<u8> { panic!("no spin while skipping") }),
                None
            );
        }
        assert_eq!(spin_once(&s, || Some(8)), Some(8));
    }
}
