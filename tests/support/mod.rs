//! What the RPC test suites share: waiting for a condition, never a sleep
//! and a hope, and reading record-marked replies off a raw stream.

#![allow(dead_code)]

use std::io::Read;
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

/// Reads one record (a single fragment, as xipc's replies are) from
/// `stream`; None once the stream has ended.
pub fn read_record(stream: &mut impl Read) -> Option<Vec<u8>> {
    let mut header = [0u8; 4];
    stream.read_exact(&mut header).ok()?;
    let mut body = vec![0; (u32::from_be_bytes(header) & 0x7fff_ffff) as usize];
    stream.read_exact(&mut body).ok()?;
    Some(body)
}
