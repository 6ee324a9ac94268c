//! A timed queue wait across a step of the system clock. The kernel times
//! `mq_timedreceive` against CLOCK_REALTIME; xipc keeps the deadline on the
//! monotonic clock, so a wall clock stepped forward in the middle of a wait
//! must neither cut the wait short nor lengthen it.
//!
//! Stepping the clock needs root (CAP_SYS_TIME). The step is forward and is
//! undone at once, by the same amount, when the test ends, pass or fail. It
//! is the only test in this binary, so no other test here sees the step.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use nix::time::{clock_gettime, clock_settime, ClockId};
use nix::unistd::Uid;
use xipc::mq::OpenOptions;
use xipc::Error;

const STEP: i64 = 5;

/// Steps CLOCK_REALTIME by `seconds` (negative: back).
fn step_clock(seconds: i64) -> nix::Result<()> {
    let now = clock_gettime(ClockId::CLOCK_REALTIME)?;
    let step = nix::sys::time::TimeSpec::new(seconds, 0);
    clock_settime(ClockId::CLOCK_REALTIME, now + step)
}

/// Takes the step back when dropped.
struct Stepped;

impl Drop for Stepped {
    fn drop(&mut self) {
        step_clock(-STEP).expect("step the clock back");
    }
}

#[test]
fn a_clock_stepped_forward_does_not_cut_a_timed_receive_short() {
    assert!(
        Uid::effective().is_root(),
        "this test steps the system clock and needs root: run it as root (make test does)"
    );
    let name = format!("/xipc-mq-clock-{}", std::process::id());
    let q = OpenOptions::new()
        .create(true)
        .exclusive(true)
        .max_messages(1)
        .max_message_size(8)
        .open(&name)
        .expect("create queue");
    let _ = xipc::mq::unlink(&name);

    let wait = Duration::from_millis(1500);
    let (started_tx, started_rx) = mpsc::channel();
    let waiter = thread::spawn(move || {
        let mut buf = [0u8; 8];
        let start = Instant::now();
        started_tx.send(()).unwrap();
        let result = q.receive_timeout(&mut buf, wait);
        (result.map(|(n, _)| n), start.elapsed())
    });
    started_rx.recv().unwrap();
    thread::sleep(Duration::from_millis(300)); // the waiter is in the kernel by now
    step_clock(STEP).expect("step the clock forward (needs CAP_SYS_TIME)");
    let stepped = Stepped;
    let (result, waited) = waiter.join().unwrap();
    drop(stepped);

    assert!(
        matches!(result, Err(Error::TimedOut(_))),
        "expected a timeout, got {result:?}"
    );
    assert!(
        waited >= wait,
        "the wait ended after {waited:?}, before its {wait:?}: the clock step cut it short"
    );
    assert!(
        waited < wait + Duration::from_secs(2),
        "the wait lasted {waited:?}, far past its {wait:?}"
    );
}
