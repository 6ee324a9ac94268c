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
//! How long a wait polls is a setting of each server and client
//! (`set_busy_poll`, 0 for never), by default [`SPIN`], or
//! `XIPC_BUSY_POLL_US` microseconds when the process's environment has it
//! (read once). Spinning keeps a CPU from anything else that could run, so
//! it is bounded three ways besides:
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

/// The longest a thread polls before it sleeps, unless set otherwise:
/// longer than a small call's round trip between two processes on two
/// CPUs without the wake-ups (about 10 µs here), short against the
/// wake-ups it saves.
pub(crate) const SPIN: Duration = Duration::from_micros(50);

/// The longest busy poll a server or client accepts.
pub(crate) const MAX_SPIN: Duration = Duration::from_secs(1);

/// The busy poll servers and clients start with: `XIPC_BUSY_POLL_US`
/// microseconds when the environment sets it to a number up to
/// [`MAX_SPIN`] (0: no polling), otherwise [`SPIN`].
pub(crate) fn default_limit() -> Duration {
    static LIMIT: OnceLock<Duration> = OnceLock::new();
    *LIMIT.get_or_init(|| {
        std::env::var("XIPC_BUSY_POLL_US")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .map(Duration::from_micros)
            .filter(|d| *d <= MAX_SPIN)
            .unwrap_or(SPIN)
    })
}

/// `poll` in whole microseconds, as servers and clients keep it; longer
/// than [`MAX_SPIN`] is [`Error::InvalidArgument`].
pub(crate) fn to_micros(poll: Duration) -> Result<u64> {
    if poll > MAX_SPIN {
        return Err(Error::InvalidArgument(format!(
            "a busy poll of {poll:?} is longer than the {MAX_SPIN:?} allowed"
        )));
    }
    Ok(poll.as_micros() as u64)
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
    /// was there) until it gives something or `limit` has passed, when this
    /// thread may spin (see the module's text). `None`: nothing came, or
    /// this thread may not spin; the caller now sleeps in its receive.
    pub fn spin<T>(&self, limit: Duration, mut attempt: impl FnMut() -> Option<T>) -> Option<T> {
        if limit.is_zero() {
            return None;
        }
        let cpus = sys::cpus();
        if cpus < 2 {
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

    const LIMIT: Duration = SPIN;

    /// Other tests' threads may hold the process's turns to spin for a
    /// moment: tries again, yielding the CPU to them, until this thread
    /// spins (`spun` says whether it did).
    fn spin_once<T>(s: &Spinner, mut attempt: impl FnMut() -> Option<T>) -> Option<T> {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            let mut spun = false;
            let got = s.spin(LIMIT, || {
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
        if sys::cpus() < 2 {
            // One CPU: never spins.
            assert_eq!(s.spin(LIMIT, || Some(1)), None);
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
        assert!(start.elapsed() >= LIMIT);
        for _ in 0..SKIP_AFTER_MISS {
            assert_eq!(
                s.spin(LIMIT, || -> Option<u8> { panic!("no spin while skipping") }),
                None
            );
        }
        assert_eq!(spin_once(&s, || Some(8)), Some(8));
    }

    #[test]
    fn a_busy_poll_of_zero_never_polls_and_the_setting_is_bounded() {
        let s = Spinner::new();
        for _ in 0..3 {
            assert_eq!(
                s.spin(Duration::ZERO, || -> Option<u8> {
                    panic!("polled with a limit of 0")
                }),
                None
            );
        }
        assert_eq!(to_micros(Duration::from_micros(75)).unwrap(), 75);
        assert_eq!(to_micros(MAX_SPIN).unwrap(), 1_000_000);
        assert!(matches!(
            to_micros(MAX_SPIN + Duration::from_micros(1)),
            Err(Error::InvalidArgument(_))
        ));
    }
}
