//! The readiness set the RPC server's event loop waits on: epoll, with
//! listeners, datagram sockets and the helpers below registered one-shot
//! and stream connections edge-triggered.
//!
//! Every idle thread of the server's pool waits in `epoll_wait` on the same
//! set. Linux wakes exactly one waiter per ready event. A one-shot
//! registration is disarmed as it is delivered, so the thread that wakes
//! owns that descriptor's event until it re-arms it. An edge-triggered one
//! stays armed and reports each new arrival once: a connection costs no
//! `epoll_ctl` per call, and the thread that takes an event reads until
//! the socket is drained (or the connection has as many calls in flight as
//! it may, and reading resumes without the poller). Either way the thread
//! that wakes runs the call itself, with no hand-off to another thread. (The `polling` and `mio` crates let
//! only one thread wait at a time, which would force a hand-off per event;
//! nix's safe epoll binding gives the one-waiter-per-event behaviour.)
//!
//! Two helpers ride on the set: a [`Bell`] wakes exactly one waiting thread
//! (for work queued in user space, or to pass a stop along), and a
//! [`Timer`] wakes one at the earliest deadline.

use std::os::fd::{AsFd, BorrowedFd};
use std::time::Instant;

use nix::errno::Errno;
use nix::poll::PollTimeout;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags};
use nix::sys::eventfd::{EfdFlags, EventFd};
use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};

use crate::{Error, Result};

/// What a registration waits for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Interest {
    pub read: bool,
    pub write: bool,
}

impl Interest {
    pub const READ: Interest = Interest {
        read: true,
        write: false,
    };

    fn flags(self) -> EpollFlags {
        self.events(EpollFlags::EPOLLONESHOT)
    }

    fn events(self, mut f: EpollFlags) -> EpollFlags {
        if self.read {
            f |= EpollFlags::EPOLLIN | EpollFlags::EPOLLRDHUP;
        }
        if self.write {
            f |= EpollFlags::EPOLLOUT;
        }
        f
    }
}

/// One delivered event.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ready {
    pub key: u64,
    /// Readable, or the peer hung up or failed (the read tells which).
    pub read: bool,
    /// Writable, or failed (the write tells which).
    pub write: bool,
    /// The peer has shut its side down or failed: a read that takes less
    /// than it asked for may not have taken the end of the stream yet.
    pub hup: bool,
}

/// Room for the events one `wait` takes: one, so that each ready
/// descriptor wakes its own thread and none waits behind another's call.
pub(crate) type Events = [EpollEvent; 1];

/// An epoll set of one-shot registrations.
#[derive(Debug)]
pub(crate) struct Poller {
    epoll: Epoll,
}

impl Poller {
    pub fn new() -> Result<Poller> {
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)
            .map_err(|e| Error::nix("epoll_create", e))?;
        Ok(Poller { epoll })
    }

    /// Registers `fd` under `key`, armed for `interest`.
    pub fn add(&self, fd: BorrowedFd<'_>, key: u64, interest: Interest) -> Result<()> {
        self.epoll
            .add(fd, EpollEvent::new(interest.flags(), key))
            .map_err(|e| Error::nix("epoll_ctl(ADD)", e))
    }

    /// Registers `fd` under `key` edge-triggered: an event for each change
    /// toward `interest` (new bytes, room to write, the peer gone), and
    /// none for a condition that merely persists.
    pub fn add_edge(&self, fd: BorrowedFd<'_>, key: u64, interest: Interest) -> Result<()> {
        self.epoll
            .add(
                fd,
                EpollEvent::new(interest.events(EpollFlags::EPOLLET), key),
            )
            .map_err(|e| Error::nix("epoll_ctl(ADD)", e))
    }

    /// Changes what an edge-triggered registration reports; a condition
    /// of `interest` that holds now is reported at once.
    pub fn modify_edge(&self, fd: BorrowedFd<'_>, key: u64, interest: Interest) -> Result<()> {
        let mut ev = EpollEvent::new(interest.events(EpollFlags::EPOLLET), key);
        self.epoll
            .modify(fd, &mut ev)
            .map_err(|e| Error::nix("epoll_ctl(MOD)", e))
    }

    /// Arms `fd` again (it was disarmed when its last event was delivered).
    /// A condition that already holds is delivered at once.
    pub fn rearm(&self, fd: BorrowedFd<'_>, key: u64, interest: Interest) -> Result<()> {
        let mut ev = EpollEvent::new(interest.flags(), key);
        self.epoll
            .modify(fd, &mut ev)
            .map_err(|e| Error::nix("epoll_ctl(MOD)", e))
    }

    /// Removes `fd` from the set (closing it does too).
    pub fn remove(&self, fd: BorrowedFd<'_>) {
        let _ = self.epoll.delete(fd);
    }

    /// Waits for one event until `deadline` (None: for ever). None when the
    /// wait ends without one (the deadline, or a signal).
    pub fn wait(&self, events: &mut Events, deadline: Option<Instant>) -> Result<Option<Ready>> {
        let timeout = match deadline {
            None => PollTimeout::NONE,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                let ms = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
                PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)
            }
        };
        match self.epoll.wait(events, timeout) {
            Ok(0) | Err(Errno::EINTR) => Ok(None),
            Ok(_) => {
                let ev = events[0];
                let f = ev.events();
                let failed = f.intersects(EpollFlags::EPOLLERR | EpollFlags::EPOLLHUP);
                Ok(Some(Ready {
                    key: ev.data(),
                    read: failed || f.intersects(EpollFlags::EPOLLIN | EpollFlags::EPOLLRDHUP),
                    write: failed || f.contains(EpollFlags::EPOLLOUT),
                    hup: failed || f.contains(EpollFlags::EPOLLRDHUP),
                }))
            }
            Err(e) => Err(Error::nix("epoll_wait", e)),
        }
    }
}

/// Wakes exactly one thread waiting on a [`Poller`] each time it rings.
/// It is an eventfd that is always readable, registered one-shot: ringing
/// re-arms it, one waiter takes the event (disarming it again).
#[derive(Debug)]
pub(crate) struct Bell {
    fd: EventFd,
    key: u64,
}

impl Bell {
    /// A bell on `poller`, delivered under `key`; silent until rung.
    pub fn new(poller: &Poller, key: u64) -> Result<Bell> {
        let fd = EventFd::from_value_and_flags(1, EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK)
            .map_err(|e| Error::nix("eventfd", e))?;
        poller
            .epoll
            .add(fd.as_fd(), EpollEvent::new(EpollFlags::EPOLLONESHOT, key))
            .map_err(|e| Error::nix("epoll_ctl(ADD)", e))?;
        Ok(Bell { fd, key })
    }

    /// Wakes one waiting thread (or the next to wait). Rings before the
    /// wake-up is taken count once.
    pub fn ring(&self, poller: &Poller) {
        let _ = poller.rearm(self.fd.as_fd(), self.key, Interest::READ);
    }
}

/// Wakes one thread waiting on a [`Poller`] at a set instant.
#[derive(Debug)]
pub(crate) struct Timer {
    fd: TimerFd,
    key: u64,
}

impl Timer {
    pub fn new(poller: &Poller, key: u64) -> Result<Timer> {
        let fd = TimerFd::new(
            ClockId::CLOCK_MONOTONIC,
            TimerFlags::TFD_CLOEXEC | TimerFlags::TFD_NONBLOCK,
        )
        .map_err(|e| Error::nix("timerfd_create", e))?;
        poller.add(fd.as_fd(), key, Interest::READ)?;
        Ok(Timer { fd, key })
    }

    /// Fires once at `when` (replacing any earlier setting); the poller
    /// then delivers one event under the timer's key. `None` disarms it.
    pub fn set(&self, poller: &Poller, when: Option<Instant>) -> Result<()> {
        match when {
            None => self
                .fd
                .unset()
                .map_err(|e| Error::nix("timerfd_settime", e)),
            Some(when) => {
                // A relative expiry: the monotonic clock Instant uses is
                // the timer's, but Instant does not expose its raw value.
                let left = when.saturating_duration_since(Instant::now());
                let left = left.max(std::time::Duration::from_micros(1));
                self.fd
                    .set(
                        Expiration::OneShot(TimeSpec::from_duration(left)),
                        TimerSetTimeFlags::empty(),
                    )
                    .map_err(|e| Error::nix("timerfd_settime", e))?;
                // Setting the time clears an expiry not yet read; arm
                // the one-shot event for the new one.
                poller.rearm(self.fd.as_fd(), self.key, Interest::READ)
            }
        }
    }
}
