//! What the test suites share: waiting for a condition, never a sleep and a
//! hope (among them: a thread blocked in a given system call), and reading
//! record-marked replies off a raw stream.

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

/// Whether thread `tid` of this process sleeps in the kernel in one of
/// `syscalls` (numbers such as `libc::SYS_read`), as
/// /proc/self/task/TID/stat and /proc/self/task/TID/syscall show it.
pub fn blocked_in(tid: libc::pid_t, syscalls: &[libc::c_long]) -> bool {
    let task = format!("/proc/self/task/{tid}");
    let stat = std::fs::read_to_string(format!("{task}/stat")).unwrap();
    // The state follows the command name, which is in parentheses.
    let state = stat
        .rsplit_once(") ")
        .and_then(|(_, rest)| rest.chars().next());
    if state != Some('S') {
        return false;
    }
    // "NUMBER ARGS..." while in a system call, else "running" or "-1 ...".
    let syscall = std::fs::read_to_string(format!("{task}/syscall")).unwrap();
    let number = syscall
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok());
    number.is_some_and(|n| syscalls.contains(&n))
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
