//! Deadlines: every timeout in xipc becomes one when the operation starts.

use std::time::{Duration, Instant};

use crate::Error;

/// When an operation must end: at an instant, or never.
///
/// A timeout (`Option<Duration>`, `None` meaning "wait for ever") becomes a
/// deadline once, when the operation starts; each wait inside it is then
/// bounded by what is left, so retries and partial progress never stretch
/// the whole past the timeout.
///
/// ```
/// use std::time::Duration;
/// use xipc::net::Deadline;
///
/// let never = Deadline::after(None);
/// assert_eq!(never.remaining(), None);
/// let soon = Deadline::after(Some(Duration::from_millis(50)));
/// assert!(soon.remaining().unwrap() <= Duration::from_millis(50));
/// assert!(!soon.passed());
/// assert!(Deadline::after(Some(Duration::ZERO)).passed());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Deadline(Option<Instant>);

impl Deadline {
    /// No deadline: wait for ever.
    pub const NEVER: Deadline = Deadline(None);

    /// `timeout` from now (`None`: never).
    pub fn after(timeout: Option<Duration>) -> Deadline {
        match timeout {
            // No clock read for a deadline that never comes.
            None => Deadline::NEVER,
            Some(_) => Deadline::after_from(Instant::now(), timeout),
        }
    }

    /// `timeout` from `now`, a clock read just taken (`None`: never).
    pub(crate) fn after_from(now: Instant, timeout: Option<Duration>) -> Deadline {
        Deadline(timeout.map(|t| now.checked_add(t).unwrap_or_else(far_future)))
    }

    /// At `instant`.
    pub fn at(instant: Instant) -> Deadline {
        Deadline(Some(instant))
    }

    /// The instant, if there is one.
    pub fn instant(self) -> Option<Instant> {
        self.0
    }

    /// Time left (zero once passed); `None` for a deadline that never comes.
    pub fn remaining(self) -> Option<Duration> {
        self.0.map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// [`remaining`](Self::remaining) as of `now` (one clock read shared
    /// by several checks).
    pub(crate) fn remaining_at(self, now: Instant) -> Option<Duration> {
        self.0.map(|d| d.saturating_duration_since(now))
    }

    /// [`passed`](Self::passed) as of `now`.
    pub(crate) fn passed_at(self, now: Instant) -> bool {
        self.0.is_some_and(|d| now >= d)
    }

    /// The earlier of two deadlines (never is later than any instant).
    pub fn earliest(self, other: Deadline) -> Deadline {
        match (self.0, other.0) {
            (Some(a), Some(b)) => Deadline(Some(a.min(b))),
            (a, b) => Deadline(a.or(b)),
        }
    }

    /// Whether the deadline has come.
    pub fn passed(self) -> bool {
        self.0.is_some_and(|d| Instant::now() >= d)
    }

    /// The time left in whole milliseconds for `poll(2)` and `epoll_wait(2)`,
    /// rounded up so that a wait never ends just before the deadline; -1
    /// (wait for ever) when there is none.
    pub(crate) fn poll_ms(self) -> i32 {
        match self.remaining() {
            None => -1,
            Some(left) => left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32,
        }
    }

    /// [`Error::TimedOut`] saying what did not finish in time.
    pub(crate) fn expired(what: impl std::fmt::Display) -> Error {
        Error::TimedOut(what.to_string())
    }
}

/// A deadline so far ahead that it stands for "never" where an instant is
/// needed (a timeout too long to add to now).
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(100 * 365 * 24 * 3600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_ms_rounds_up_and_never_is_minus_one() {
        assert_eq!(Deadline::NEVER.poll_ms(), -1);
        let d = Deadline::at(Instant::now() + Duration::from_micros(1500));
        assert!(matches!(d.poll_ms(), 1 | 2));
        assert_eq!(Deadline::at(Instant::now()).poll_ms(), 0);
    }

    #[test]
    fn a_huge_timeout_does_not_overflow() {
        let d = Deadline::after(Some(Duration::MAX));
        assert!(!d.passed());
        assert!(d.remaining().unwrap() > Duration::from_secs(3600));
    }
}
