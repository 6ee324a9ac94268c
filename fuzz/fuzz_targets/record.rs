//! Record-mark reassembly (RFC 5531 §11) under small limits, four ways:
//! `record::read_record` over the bytes at once, `read_record` over a reader
//! that hands out one byte per read, the sans-IO `RecordDecoder` fed in
//! chunks whose size the input picks (as the RPC client and server feed
//! it), and `Stream::receive` on a pipe the bytes were written into. All
//! four must give the same messages and then
//! the same ending: a clean end, `MessageTooLarge` with the same figures,
//! `Protocol` (too many fragments) or `Closed` (the stream ended inside a
//! record). No message may exceed the limit, and each one must come back
//! through `encode_record` + `read_record` unchanged.
//!
//! Input: `[max_record / 4, max_fragments, stream bytes ..]`.
#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;
use xipc::stream::record::{encode_record, read_record, RecordDecoder, RecordLimits};
use xipc::Error;

/// How reading ended after the messages.
#[derive(Clone, Copy, Debug, PartialEq)]
enum End {
    Clean,
    TooLarge { size: usize, limit: usize },
    TooManyFragments,
    Truncated,
}

fn end_of(err: Error) -> End {
    match err {
        Error::MessageTooLarge { size, limit } => End::TooLarge { size, limit },
        Error::Protocol(_) => End::TooManyFragments,
        Error::Closed(_) => End::Truncated,
        other => panic!("unexpected error while reassembling: {other:?}"),
    }
}

/// A reader that returns at most one byte per call.
struct Trickle<'a>(&'a [u8]);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match (self.0.split_first(), buf.first_mut()) {
            (Some((&b, rest)), Some(slot)) => {
                *slot = b;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

fn read_all<R: Read>(mut reader: R, limits: RecordLimits) -> (Vec<Vec<u8>>, End) {
    let mut messages = Vec::new();
    loop {
        let mut buf = Vec::new();
        match read_record(&mut reader, &mut buf, limits) {
            Ok(true) => messages.push(buf),
            Ok(false) => return (messages, End::Clean),
            Err(e) => return (messages, end_of(e)),
        }
    }
}

/// Feeds `data` to a decoder `chunk` bytes at a time, then ends the stream.
fn decode_all(data: &[u8], chunk: usize, limits: RecordLimits) -> (Vec<Vec<u8>>, End) {
    let mut dec = RecordDecoder::new(limits);
    let mut messages = Vec::new();
    for piece in data.chunks(chunk) {
        let mut at = 0;
        while at < piece.len() {
            match dec.decode(&piece[at..]) {
                Ok((used, m)) => {
                    assert!(used > 0 || m.is_some(), "the decoder made no progress");
                    at += used;
                    messages.extend(m);
                }
                Err(e) => return (messages, end_of(e)),
            }
        }
    }
    match dec.finish() {
        Ok(()) => (messages, End::Clean),
        Err(e) => (messages, end_of(e)),
    }
}

fn recv_all(data: &[u8], limits: RecordLimits) -> (Vec<Vec<u8>>, End) {
    let (reader, writer) = xipc::stream::pipe().expect("pipe");
    writer.write_all(data).expect("the pipe holds the input");
    drop(writer);
    reader.set_record_limits(limits);
    let mut messages = Vec::new();
    loop {
        match reader.receive() {
            Ok(Some(m)) => messages.push(m),
            Ok(None) => return (messages, End::Clean),
            Err(e) => return (messages, end_of(e)),
        }
    }
}

fuzz_target!(|input: &[u8]| {
    let [max_record, max_fragments, data @ ..] = input else {
        return;
    };
    // A pipe holds 64 KiB: keep the whole input in it.
    let data = &data[..data.len().min(60_000)];
    let limits = RecordLimits {
        max_record: usize::from(*max_record) * 4,
        max_fragments: usize::from(*max_fragments % 32) + 1,
    };

    let (messages, end) = read_all(data, limits);
    for m in &messages {
        assert!(m.len() <= limits.max_record);
        let framed = encode_record(m, usize::from(*max_fragments).max(1));
        let mut back = Vec::new();
        let unlimited = RecordLimits {
            max_record: m.len(),
            max_fragments: usize::MAX,
        };
        assert!(read_record(&mut &framed[..], &mut back, unlimited).unwrap());
        assert_eq!(&back, m);
    }
    if let End::TooLarge { limit, .. } = end {
        assert_eq!(limit, limits.max_record);
    }

    let chunk = usize::from(*max_fragments / 32) + 1;
    let (decoded, decode_end) = decode_all(data, chunk, limits);
    assert_eq!((&decoded, decode_end), (&messages, end));
    let (trickled, trickle_end) = read_all(Trickle(data), limits);
    assert_eq!((&trickled, trickle_end), (&messages, end));
    let (piped, pipe_end) = recv_all(data, limits);
    assert_eq!((&piped, pipe_end), (&messages, end));
});
