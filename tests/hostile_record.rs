//! Hostile record marking (RFC 5531 §11) against `record::read_record` and
//! `Stream::receive`: headers that claim more than the limit, fragments
//! that add up past it, endless empty fragments, records cut short. Each is
//! a clear error found before the bytes are allocated.

#[path = "hostile/alloc.rs"]
mod alloc;

#[global_allocator]
static COUNTING: alloc::Counting = alloc::Counting;

use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;

use alloc::peak_during;
use xipc::stream::record::{read_record, RecordLimits, DEFAULT_MAX_FRAGMENTS, DEFAULT_MAX_RECORD};
use xipc::stream::Stream;
use xipc::Error;

/// What a failed read may allocate besides the limit: its error message.
const SLACK: usize = 512;
/// A `Stream` also allocates its fixed 512-byte read-ahead buffer on the first read.
const STREAM_SLACK: usize = SLACK + 512;
/// How much of a fragment a reader makes room for at a time.
const READ_CHUNK: usize = 64 << 10;

fn header(len: u32, last: bool) -> [u8; 4] {
    (len | if last { 0x8000_0000 } else { 0 }).to_be_bytes()
}

/// `n` fragments of `size` bytes, the last one marked last.
fn fragments(n: usize, size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n {
        out.extend_from_slice(&header(size as u32, i + 1 == n));
        out.resize(out.len() + size, i as u8);
    }
    out
}

/// A connected pair of streams over a Unix socket.
fn socket_pair() -> (Stream, UnixStream) {
    let (ours, theirs) = UnixStream::pair().unwrap();
    (Stream::from_fd(OwnedFd::from(ours)).unwrap(), theirs)
}

fn limits(max_record: usize) -> RecordLimits {
    RecordLimits {
        max_record,
        ..RecordLimits::default()
    }
}

#[test]
fn a_header_claiming_more_than_the_limit_allocates_nothing() {
    let mut input = header(0x7fff_ffff, true).to_vec();
    input.extend_from_slice(b"abc");
    let mut buf = Vec::new();
    let (r, peak) = peak_during(|| read_record(&mut &input[..], &mut buf, RecordLimits::default()));
    let err = r.unwrap_err();
    assert!(
        matches!(
            err,
            Error::MessageTooLarge {
                size: 0x7fff_ffff,
                limit: DEFAULT_MAX_RECORD
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "message too large: 2147483647 bytes, at most 4194304 allowed"
    );
    assert!(peak < SLACK, "{peak} bytes");

    let (stream, mut peer) = socket_pair();
    peer.write_all(&input).unwrap();
    let (r, peak) = peak_during(|| stream.receive());
    assert!(
        matches!(
            r,
            Err(Error::MessageTooLarge {
                size: 0x7fff_ffff,
                limit: DEFAULT_MAX_RECORD
            })
        ),
        "{r:?}"
    );
    assert!(peak < STREAM_SLACK, "{peak} bytes");
    // The stream is out of step with its frames now, and says so.
    assert_eq!(
        stream.receive().unwrap_err().to_string(),
        "protocol error: stream cannot be read as messages any more: \
         message too large: 2147483647 bytes, at most 4194304 allowed"
    );
}

#[test]
fn a_header_within_the_limit_allocates_only_what_arrives() {
    // A 4-byte header may claim the whole 4 MiB a record may have; memory
    // must follow the bytes that come (read 64 KiB at a time, in a vector
    // that grows by doubling), not the claim.
    let mut input = header(DEFAULT_MAX_RECORD as u32, true).to_vec();
    input.extend_from_slice(b"abc");
    let mut buf = Vec::new();
    let (r, peak) = peak_during(|| read_record(&mut &input[..], &mut buf, RecordLimits::default()));
    assert_eq!(
        r.unwrap_err().to_string(),
        "closed by peer: stream ended inside a message (3 of 4194304 bytes of fragment 1)"
    );
    assert!(peak <= 3 * READ_CHUNK, "{peak} bytes for 7 bytes of input");

    let (stream, mut peer) = socket_pair();
    peer.write_all(&input).unwrap();
    drop(peer);
    let (r, peak) = peak_during(|| stream.receive());
    assert_eq!(
        r.unwrap_err().to_string(),
        "closed by peer: stream ended inside a message (3 of 4194304 bytes of fragment 1)"
    );
    assert!(peak <= 3 * READ_CHUNK, "{peak} bytes for 7 bytes of input");
}

#[test]
fn fragments_that_add_up_past_the_maximum_are_refused() {
    // Three fragments of 2 KiB against a 4 KiB maximum: the third is refused
    // from its header, before its bytes are read or room is made for them.
    // (Growing the message from 2 to 4 KiB briefly holds both: 6 KiB.)
    let input = fragments(3, 2048);
    let mut buf = Vec::new();
    let (r, peak) = peak_during(|| read_record(&mut &input[..], &mut buf, limits(4096)));
    let err = r.unwrap_err();
    assert!(
        matches!(
            err,
            Error::MessageTooLarge {
                size: 6144,
                limit: 4096
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "message too large: 6144 bytes, at most 4096 allowed"
    );
    assert!(peak <= 2048 + 4096 + SLACK, "{peak} bytes");

    let (stream, mut peer) = socket_pair();
    stream.set_max_message_size(4096);
    peer.write_all(&input).unwrap();
    let (r, peak) = peak_during(|| stream.receive());
    assert!(
        matches!(
            r,
            Err(Error::MessageTooLarge {
                size: 6144,
                limit: 4096
            })
        ),
        "{r:?}"
    );
    assert!(peak <= 2048 + 4096 + SLACK, "{peak} bytes");

    // Exactly at the maximum is fine.
    let input = fragments(2, 2048);
    assert!(read_record(&mut &input[..], &mut buf, limits(4096)).unwrap());
    assert_eq!(buf.len(), 4096);
}

#[test]
fn endless_empty_fragments_end_at_the_fragment_limit() {
    let mut buf = Vec::new();
    let input = [0u8; 4].repeat(DEFAULT_MAX_FRAGMENTS + 10);
    let (r, peak) = peak_during(|| read_record(&mut &input[..], &mut buf, RecordLimits::default()));
    let err = r.unwrap_err();
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "protocol error: message has more than 4096 fragments"
    );
    assert!(peak < SLACK, "{peak} bytes");

    // A peer that never stops sending them: the reader gives up at the
    // limit, and the writer is told when the reader goes away.
    let (stream, mut peer) = socket_pair();
    let writer = std::thread::spawn(move || {
        let empties = [0u8; 4].repeat(1024);
        let mut sent = 0usize;
        while peer.write_all(&empties).is_ok() {
            sent += 1024;
        }
        sent
    });
    let (r, peak) = peak_during(|| stream.receive());
    let err = r.unwrap_err();
    assert_eq!(
        err.to_string(),
        "protocol error: message has more than 4096 fragments"
    );
    assert!(peak < STREAM_SLACK, "{peak} bytes");
    drop(stream);
    assert!(writer.join().unwrap() >= DEFAULT_MAX_FRAGMENTS);
}

#[test]
fn records_cut_short_are_closed_errors() {
    let full = fragments(2, 8);
    let mut buf = Vec::new();
    let want = [
        (0, None),
        (
            2,
            Some("closed by peer: stream ended inside a record-mark header (2 of 4 bytes)"),
        ),
        (
            7,
            Some("closed by peer: stream ended inside a message (3 of 8 bytes of fragment 1)"),
        ),
        (
            12,
            Some("closed by peer: stream ended inside a record-mark header (0 of 4 bytes)"),
        ),
        (
            20,
            Some("closed by peer: stream ended inside a message (4 of 8 bytes of fragment 2)"),
        ),
    ];
    for (cut, message) in want {
        let r = read_record(&mut &full[..cut], &mut buf, RecordLimits::default());
        match message {
            None => assert!(!r.unwrap(), "an empty stream is a clean end"),
            Some(m) => {
                let err = r.unwrap_err();
                assert!(matches!(err, Error::Closed(_)), "{err:?}");
                assert_eq!(err.to_string(), m);
            }
        }
    }
    assert!(read_record(&mut &full[..], &mut buf, RecordLimits::default()).unwrap());
    assert_eq!(buf, [[0u8; 8], [1u8; 8]].concat());
}
