//! What the RPC test suites share: waiting for a condition, never a sleep
//! and a hope.

#![allow(dead_code)]

use std::time::{Duration, Instant};

/// Waits until `cond` holds, looking every few milliseconds; fails the test
/// naming `what` after `limit`. Returns how long it took.
pub fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) -> Duration {
    let t = Instant::now();
    while !cond() {
        assert!(
            t.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    t.elapsed()
}
