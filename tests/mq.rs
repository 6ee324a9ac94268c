//! POSIX message queues from Rust: semantics, errors, timeouts, signals,
//! notification. Every queue is named /xipc-mq-test-<pid>-<n> and unlinked.

use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use xipc::mq::{self, MessageQueue, OpenOptions};
use xipc::Error;

mod support;

/// A queue that is unlinked when the test ends, pass or fail.
struct Scratch {
    name: String,
}

impl Scratch {
    fn new() -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "/xipc-mq-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        Scratch { name }
    }

    fn create(&self, max_messages: usize, max_message_size: usize) -> MessageQueue {
        OpenOptions::new()
            .create(true)
            .exclusive(true)
            .max_messages(max_messages)
            .max_message_size(max_message_size)
            .open(&self.name)
            .expect("create queue")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = mq::unlink(&self.name);
    }
}

#[test]
fn send_and_receive_exact_bytes_and_priority() {
    let s = Scratch::new();
    let q = s.create(4, 64);
    assert_eq!(q.max_message_size(), 64);
    assert_eq!(q.max_messages(), 4);
    q.send(b"\x00\x01hello\xff", 7).unwrap();
    q.send(b"", 0).unwrap();
    let mut buf = [0u8; 64];
    let (n, prio) = q.receive(&mut buf).unwrap();
    assert_eq!((&buf[..n], prio), (&b"\x00\x01hello\xff"[..], 7));
    assert_eq!(q.receive_vec().unwrap(), (Vec::new(), 0));
}

#[test]
fn a_full_queue_drains_by_priority_then_age() {
    let s = Scratch::new();
    let q = s.create(10, 16);
    let sent: [(&[u8], u32); 10] = [
        (b"a", 1),
        (b"b", 5),
        (b"c", 1),
        (b"d", 0),
        (b"e", 5),
        (b"f", 31),
        (b"g", 0),
        (b"h", 5),
        (b"i", 2),
        (b"j", mq::priority_limit() - 1),
    ];
    for (msg, prio) in sent {
        q.send(msg, prio).unwrap();
    }
    assert_eq!(q.attributes().unwrap().current_messages, 10);
    q.set_nonblocking(true).unwrap();
    assert!(matches!(q.send(b"k", 99), Err(Error::WouldBlock)));
    let order: Vec<(Vec<u8>, u32)> = (0..10).map(|_| q.receive_vec().unwrap()).collect();
    let expect: Vec<(Vec<u8>, u32)> = [
        (&b"j"[..], mq::priority_limit() - 1),
        (b"f", 31),
        (b"b", 5),
        (b"e", 5),
        (b"h", 5),
        (b"i", 2),
        (b"a", 1),
        (b"c", 1),
        (b"d", 0),
        (b"g", 0),
    ]
    .iter()
    .map(|(m, p)| (m.to_vec(), *p))
    .collect();
    assert_eq!(order, expect);
    assert!(matches!(q.receive_vec(), Err(Error::WouldBlock)));
}

#[test]
fn priority_out_of_range_is_refused() {
    let s = Scratch::new();
    let q = s.create(2, 8);
    let err = q.send(b"x", mq::priority_limit()).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    assert_eq!(q.attributes().unwrap().current_messages, 0);
}

#[test]
fn nonblocking_flag_at_open_and_attributes() {
    let s = Scratch::new();
    let _creator = s.create(3, 32);
    let q = OpenOptions::new().nonblocking(true).open(&s.name).unwrap();
    let a = q.attributes().unwrap();
    assert!(a.nonblocking());
    assert_eq!(a.flags, libc::O_NONBLOCK as i64);
    assert_eq!(
        (a.max_messages, a.max_message_size, a.current_messages),
        (3, 32, 0)
    );
    assert!(matches!(q.receive_vec(), Err(Error::WouldBlock)));
    q.set_nonblocking(false).unwrap();
    assert!(!q.attributes().unwrap().nonblocking());
}

#[test]
fn timeouts_wait_the_time_asked() {
    let s = Scratch::new();
    let q = s.create(1, 8);
    let mut buf = [0u8; 8];
    let start = Instant::now();
    let err = q
        .receive_timeout(&mut buf, Duration::from_millis(150))
        .unwrap_err();
    let waited = start.elapsed();
    assert!(matches!(err, Error::TimedOut(_)), "{err}");
    assert!(waited >= Duration::from_millis(150), "{waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");

    q.send(b"full", 1).unwrap();
    let start = Instant::now();
    let err = q
        .send_timeout(b"more", 1, Duration::from_millis(100))
        .unwrap_err();
    assert!(matches!(err, Error::TimedOut(_)), "{err}");
    assert!(start.elapsed() >= Duration::from_millis(100));
    // A zero timeout is one try.
    assert!(matches!(
        q.send_timeout(b"more", 1, Duration::ZERO),
        Err(Error::TimedOut(_))
    ));
    assert_eq!(q.receive_timeout(&mut buf, Duration::ZERO).unwrap(), (4, 1));
    assert_eq!(&buf[..4], b"full");
}

#[test]
fn oversize_messages_are_refused_and_nothing_is_lost() {
    let s = Scratch::new();
    let q = s.create(2, 16);
    let err = q.send(&[7u8; 17], 0).unwrap_err();
    assert!(
        matches!(
            err,
            Error::MessageTooLarge {
                size: 17,
                limit: 16
            }
        ),
        "{err}"
    );
    assert_eq!(q.attributes().unwrap().current_messages, 0);

    q.send(b"0123456789abcdef", 4).unwrap();
    let mut small = [0u8; 15];
    let err = q.receive(&mut small).unwrap_err();
    assert!(
        matches!(
            err,
            Error::MessageTooLarge {
                size: 16,
                limit: 15
            }
        ),
        "{err}"
    );
    assert_eq!(q.attributes().unwrap().current_messages, 1);
    assert_eq!(q.receive_vec().unwrap(), (b"0123456789abcdef".to_vec(), 4));
}

#[test]
fn names_are_checked_before_the_system_sees_them() {
    for bad in ["noslash", "/a/b", "/", ""] {
        let err = MessageQueue::open(bad).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{bad}: {err}");
        assert!(err.to_string().contains("queue name"), "{err}");
    }
    let long = format!("/{}", "n".repeat(256));
    assert!(matches!(
        MessageQueue::open(&long),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(mq::unlink("x/y"), Err(Error::InvalidArgument(_))));
}

#[test]
fn open_create_exclusive_and_missing() {
    let s = Scratch::new();
    assert!(matches!(
        MessageQueue::open(&s.name),
        Err(Error::NotFound(_))
    ));
    let _q = s.create(2, 8);
    let err = OpenOptions::new()
        .create(true)
        .exclusive(true)
        .open(&s.name)
        .unwrap_err();
    assert!(matches!(err, Error::Exists(_)), "{err}");
    // Without exclusive, create opens the existing queue with its attributes.
    let again = MessageQueue::create(&s.name, 1, 4).unwrap();
    assert_eq!((again.max_messages(), again.max_message_size()), (2, 8));
}

#[test]
fn read_only_and_write_only_descriptors() {
    let s = Scratch::new();
    let _q = s.create(2, 8);
    let reader = OpenOptions::new().write(false).open(&s.name).unwrap();
    let writer = OpenOptions::new().read(false).open(&s.name).unwrap();
    let err = reader.send(b"x", 0).unwrap_err();
    assert!(err.to_string().contains("not opened for writing"), "{err}");
    writer.send(b"x", 0).unwrap();
    let err = writer.receive_vec().unwrap_err();
    assert!(err.to_string().contains("not opened for reading"), "{err}");
    assert_eq!(reader.receive_vec().unwrap(), (b"x".to_vec(), 0));
}

#[test]
fn mode_is_applied_and_descriptor_is_close_on_exec() {
    let s = Scratch::new();
    let q = OpenOptions::new()
        .create(true)
        .mode(0o640)
        .max_messages(1)
        .max_message_size(8)
        .open(&s.name)
        .unwrap();
    let flags = unsafe { libc::fcntl(q.as_raw_fd(), libc::F_GETFD) };
    assert_eq!(flags & libc::FD_CLOEXEC, libc::FD_CLOEXEC);
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::fstat(q.as_raw_fd(), &mut st) }, 0);
    assert_eq!(st.st_mode & 0o777, 0o640 & !current_umask());
}

fn current_umask() -> u32 {
    let old = unsafe { libc::umask(0o022) };
    unsafe { libc::umask(old) };
    old
}

#[test]
fn unlinking_an_open_queue_keeps_it_usable() {
    let s = Scratch::new();
    let q = s.create(2, 8);
    let other = MessageQueue::open(&s.name).unwrap();
    q.unlink().unwrap();
    assert!(matches!(
        MessageQueue::open(&s.name),
        Err(Error::NotFound(_))
    ));
    q.send(b"still", 2).unwrap();
    assert_eq!(other.receive_vec().unwrap(), (b"still".to_vec(), 2));
    assert!(matches!(mq::unlink(&s.name), Err(Error::NotFound(_))));
    // A new queue may take the name while the old one lives on.
    let fresh = s.create(1, 4);
    assert_eq!(fresh.max_message_size(), 4);
    q.close().unwrap();
}

#[test]
fn the_descriptor_polls_readable_when_a_message_is_queued() {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let s = Scratch::new();
    let q = s.create(1, 8);
    let mut fds = [PollFd::new(std::os::fd::AsFd::as_fd(&q), PollFlags::POLLIN)];
    assert_eq!(poll(&mut fds, PollTimeout::ZERO).unwrap(), 0);
    q.send(b"p", 0).unwrap();
    let mut fds = [PollFd::new(std::os::fd::AsFd::as_fd(&q), PollFlags::POLLIN)];
    assert_eq!(poll(&mut fds, PollTimeout::ZERO).unwrap(), 1);
}

/// How many SIGUSR1 signals `on_sigusr1` has handled.
static SIGUSR1_HANDLED: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_sigusr1(_: libc::c_int) {
    SIGUSR1_HANDLED.fetch_add(1, Ordering::SeqCst);
}

/// Held by each signal test, so the count of handled signals is its own
/// while the tests of this file run in parallel.
static SIGNAL_TEST: Mutex<()> = Mutex::new(());

/// Installs a SIGUSR1 handler without SA_RESTART, so a blocked mq call
/// sees EINTR, and returns this thread's pthread and kernel ids, to watch
/// and signal it from another.
fn interruptible_thread() -> (libc::pthread_t, libc::pid_t) {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let action = SigAction::new(
        SigHandler::Handler(on_sigusr1),
        SaFlags::empty(),
        SigSet::empty(),
    );
    // SAFETY: the handler only adds to an atomic, which is async-signal-safe.
    unsafe { sigaction(Signal::SIGUSR1, &action) }.unwrap();
    // SAFETY: pthread_self has no preconditions.
    (
        unsafe { libc::pthread_self() },
        nix::unistd::gettid().as_raw(),
    )
}

/// Signals `thread` (kernel id `tid`) `times` times from another thread,
/// each once it sleeps in mq_timedreceive (an untimed receive is one too)
/// and the next only once the handler has run; the last no sooner than
/// `last_after` after `start`. Then runs `then`. Returns how many signals
/// were handled.
fn signal_when_blocked(
    (thread, tid): (libc::pthread_t, libc::pid_t),
    times: usize,
    start: Instant,
    last_after: Duration,
    then: impl FnOnce() + Send + 'static,
) -> std::thread::JoinHandle<usize> {
    let thread = thread as usize;
    let limit = Duration::from_secs(10);
    std::thread::spawn(move || {
        let first = SIGUSR1_HANDLED.load(Ordering::SeqCst);
        for i in 0..times {
            if i + 1 == times {
                support::wait_for("the time of the last signal", limit, || {
                    start.elapsed() >= last_after
                });
            }
            support::wait_for("the receive to block in mq_timedreceive", limit, || {
                support::blocked_in(tid, &[libc::SYS_mq_timedreceive])
            });
            let handled = SIGUSR1_HANDLED.load(Ordering::SeqCst);
            // SAFETY: the thread is alive (blocked receiving) and SIGUSR1 has a handler.
            assert_eq!(
                unsafe { libc::pthread_kill(thread as libc::pthread_t, libc::SIGUSR1) },
                0
            );
            support::wait_for("the signal handler to run", limit, || {
                SIGUSR1_HANDLED.load(Ordering::SeqCst) > handled
            });
        }
        then();
        SIGUSR1_HANDLED.load(Ordering::SeqCst) - first
    })
}

#[test]
fn a_signal_during_a_blocking_receive_is_retried() {
    let _alone = SIGNAL_TEST.lock().unwrap_or_else(|e| e.into_inner());
    let s = Scratch::new();
    let q = s.create(1, 8);
    let name = s.name.clone();
    // Two signals while the receive waits, then the message.
    let signals = signal_when_blocked(
        interruptible_thread(),
        2,
        Instant::now(),
        Duration::ZERO,
        move || {
            MessageQueue::open(&name).unwrap().send(b"late", 3).unwrap();
        },
    );
    assert_eq!(q.receive_vec().unwrap(), (b"late".to_vec(), 3));
    assert_eq!(signals.join().unwrap(), 2);
}

#[test]
fn a_signal_during_a_timed_receive_keeps_the_deadline() {
    let _alone = SIGNAL_TEST.lock().unwrap_or_else(|e| e.into_inner());
    let s = Scratch::new();
    let q = s.create(1, 8);
    let me = interruptible_thread();
    // The last of three signals comes 600 ms into a 1000 ms wait: a wait
    // that started over after a signal would last at least 1600 ms.
    let start = Instant::now();
    let signals = signal_when_blocked(me, 3, start, Duration::from_millis(600), || {});
    let mut buf = [0u8; 8];
    let err = q
        .receive_timeout(&mut buf, Duration::from_millis(1000))
        .unwrap_err();
    let waited = start.elapsed();
    assert!(matches!(err, Error::TimedOut(_)), "{err}");
    assert_eq!(signals.join().unwrap(), 3);
    assert!(waited >= Duration::from_millis(1000), "{waited:?}");
    assert!(waited < Duration::from_millis(1600), "{waited:?}");
}

#[test]
fn without_retry_a_signal_is_reported() {
    let _alone = SIGNAL_TEST.lock().unwrap_or_else(|e| e.into_inner());
    let s = Scratch::new();
    let q = s.create(1, 8);
    q.set_retry_on_signal(false);
    let signals = signal_when_blocked(
        interruptible_thread(),
        1,
        Instant::now(),
        Duration::ZERO,
        || {},
    );
    let err = q
        .receive_timeout(&mut [0u8; 8], Duration::from_secs(5))
        .unwrap_err();
    assert!(matches!(err, Error::Interrupted), "{err}");
    assert_eq!(signals.join().unwrap(), 1);
}

#[test]
fn notification_runs_a_callback_when_an_empty_queue_gets_a_message() {
    let s = Scratch::new();
    let q = s.create(2, 8);
    let (tx, rx) = mpsc::channel();
    q.notify(move || tx.send("fired").unwrap()).unwrap();
    // One registration per queue.
    assert!(matches!(q.notify_fd(), Err(Error::Exists(_))));
    assert!(rx.recv_timeout(Duration::from_millis(100)).is_err());
    MessageQueue::open(&s.name).unwrap().send(b"hi", 0).unwrap();
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), "fired");
    // It fired once and is gone: registering again works.
    let n = q.notify_fd().unwrap();
    q.cancel_notify().unwrap();
    assert!(
        !n.wait().unwrap(),
        "a cancelled registration reports removal"
    );
}

#[test]
fn a_notification_descriptor_is_removed_when_the_queue_closes() {
    let s = Scratch::new();
    let q = s.create(2, 8);
    let n = q.notify_fd().unwrap();
    drop(q);
    assert!(!n.wait().unwrap());
}
