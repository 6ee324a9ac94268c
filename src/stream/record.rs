//! Record marking (RFC 5531 §11): how a message is framed on a byte stream.
//!
//! Each fragment has a 4-byte big-endian header: bit 31 set on the last
//! fragment of a record, bits 0–30 the fragment's length. A record is its
//! fragments' bytes joined.

use std::io::{self, Read, Write};

use crate::{Error, Result};

/// Bit 31 of a fragment header: this is the record's last fragment.
///
/// cbindgen:ignore
pub const LAST_FRAGMENT: u32 = 0x8000_0000;
/// The longest fragment a header can describe.
///
/// cbindgen:ignore
pub const MAX_FRAGMENT_LEN: usize = 0x7FFF_FFFF;
/// Default for the largest record accepted when reading: 4 MiB.
///
/// cbindgen:ignore
pub const DEFAULT_MAX_RECORD: usize = 4 << 20;
/// Default for the most fragments one record may have (bounds the work an
/// endless run of empty fragments can cause).
///
/// cbindgen:ignore
pub const DEFAULT_MAX_FRAGMENTS: usize = 4096;

/// The header of a fragment of `len` bytes (`len` ≤ [`MAX_FRAGMENT_LEN`]).
///
/// ```
/// use xipc::stream::record::{fragment_header, parse_header};
/// assert_eq!(fragment_header(5, true), [0x80, 0, 0, 5]);
/// assert_eq!(parse_header([0, 0, 1, 0]), (256, false));
/// ```
#[inline]
pub fn fragment_header(len: usize, last: bool) -> [u8; 4] {
    debug_assert!(len <= MAX_FRAGMENT_LEN);
    let word = len as u32 | if last { LAST_FRAGMENT } else { 0 };
    word.to_be_bytes()
}

/// Splits a header into (fragment length, last fragment?).
#[inline]
pub fn parse_header(header: [u8; 4]) -> (usize, bool) {
    let word = u32::from_be_bytes(header);
    ((word & !LAST_FRAGMENT) as usize, word & LAST_FRAGMENT != 0)
}

/// Appends `msg` to `out` as one record of fragments of at most
/// `max_fragment` bytes (at least one fragment, even for an empty message).
pub fn encode_record_into(out: &mut Vec<u8>, msg: &[u8], max_fragment: usize) {
    let max_fragment = max_fragment.clamp(1, MAX_FRAGMENT_LEN);
    let mut chunks = msg.chunks(max_fragment).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&fragment_header(0, true));
        return;
    }
    out.reserve(msg.len() + 4 * msg.len().div_ceil(max_fragment));
    while let Some(chunk) = chunks.next() {
        out.extend_from_slice(&fragment_header(chunk.len(), chunks.peek().is_none()));
        crate::copy::extend(out, chunk);
    }
}

/// `msg` as one record, in fragments of at most `max_fragment` bytes.
///
/// ```
/// use xipc::stream::record::{encode_record, read_record, RecordLimits};
///
/// let wire = encode_record(b"hello", 3);
/// assert_eq!(wire, [0, 0, 0, 3, b'h', b'e', b'l', 0x80, 0, 0, 2, b'l', b'o']);
/// let mut msg = Vec::new();
/// assert!(read_record(&mut &wire[..], &mut msg, RecordLimits::default())?);
/// assert_eq!(msg, b"hello");
/// // The stream ends cleanly between records:
/// assert!(!read_record(&mut &[][..], &mut msg, RecordLimits::default())?);
/// # Ok::<(), xipc::Error>(())
/// ```
pub fn encode_record(msg: &[u8], max_fragment: usize) -> Vec<u8> {
    let mut out = Vec::new();
    encode_record_into(&mut out, msg, max_fragment);
    out
}

/// Writes `msg` as one single-fragment record.
///
/// ```
/// let mut out = Vec::new();
/// xipc::stream::record::write_record(&mut out, b"hi")?;
/// assert_eq!(out, [0x80, 0, 0, 2, b'h', b'i']);
/// # Ok::<(), xipc::Error>(())
/// ```
pub fn write_record<W: Write>(writer: &mut W, msg: &[u8]) -> Result<()> {
    if msg.len() > MAX_FRAGMENT_LEN {
        return Err(Error::MessageTooLarge {
            size: msg.len(),
            limit: MAX_FRAGMENT_LEN,
        });
    }
    let mut frame = Vec::with_capacity(4 + msg.len());
    encode_record_into(&mut frame, msg, MAX_FRAGMENT_LEN);
    writer.write_all(&frame).map_err(|e| Error::os("write", e))
}

/// Bounds for reading records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordLimits {
    /// Largest record, all fragments together.
    pub max_record: usize,
    /// Most fragments in one record.
    pub max_fragments: usize,
}

impl Default for RecordLimits {
    fn default() -> Self {
        RecordLimits {
            max_record: DEFAULT_MAX_RECORD,
            max_fragments: DEFAULT_MAX_FRAGMENTS,
        }
    }
}

/// Reassembles records from bytes as they arrive: bytes in, whole records
/// out. It does no I/O, so every reader in xipc — blocking streams, the RPC
/// client, the RPC server's event loop, the fuzzers — feeds it the same way.
///
/// Every limit is checked when a fragment header arrives, before anything
/// is allocated for it, and memory follows the bytes that actually arrive,
/// not the length a header claims. After a limit error the stream is out of
/// step with its records: every later call fails with [`Error::Protocol`].
///
/// ```
/// use xipc::stream::record::{encode_record, RecordDecoder, RecordLimits};
///
/// let mut wire = encode_record(b"hello", 3); // two fragments
/// wire.extend(encode_record(b"!", 16));
/// let mut dec = RecordDecoder::new(RecordLimits::default());
/// let mut records = Vec::new();
/// for byte in &wire {
///     // One byte at a time, as a slow network might deliver them.
///     let (used, record) = dec.decode(std::slice::from_ref(byte))?;
///     assert_eq!(used, 1);
///     records.extend(record);
/// }
/// assert_eq!(records, [b"hello".to_vec(), b"!".to_vec()]);
/// dec.finish()?; // the stream may end here: no record was cut off
/// # Ok::<(), xipc::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct RecordDecoder {
    limits: RecordLimits,
    header: [u8; 4],
    header_len: usize,
    /// Bytes of the current fragment still to come.
    fragment_left: usize,
    /// The current fragment is the record's last.
    last: bool,
    /// Fragments of the current record seen so far.
    fragments: usize,
    record: Vec<u8>,
    /// Bytes at the end of `record` that `body_space` lent out.
    space: usize,
    /// Why the stream cannot be read as records any more.
    broken: Option<String>,
}

/// Bytes of a fragment read, and made room for, at a time.
pub(crate) const READ_CHUNK: usize = 64 << 10;

impl RecordDecoder {
    /// A decoder between records, enforcing `limits`.
    pub fn new(limits: RecordLimits) -> RecordDecoder {
        RecordDecoder {
            limits,
            ..RecordDecoder::default()
        }
    }

    /// The limits enforced.
    pub fn limits(&self) -> RecordLimits {
        self.limits
    }

    /// Changes the limits for fragments that have not begun.
    pub fn set_limits(&mut self, limits: RecordLimits) {
        self.limits = limits;
    }

    /// Whether the decoder is between records, holding nothing.
    pub fn is_idle(&self) -> bool {
        self.header_len == 0 && self.fragments == 0
    }

    /// Takes bytes from the front of `input` until a record is complete or
    /// `input` is used up. Returns how many bytes it took and the record, if
    /// one completed; call again with the rest for the next.
    pub fn decode(&mut self, input: &[u8]) -> Result<(usize, Option<Vec<u8>>)> {
        self.check_broken()?;
        if self.is_idle() {
            // The common case: a whole single-fragment record, copied once.
            if let Some(body) = whole_record(input, self.limits) {
                let len = body.len();
                return Ok((4 + len, Some(crate::spare::copy_of(body))));
            }
        }
        let mut used = 0;
        loop {
            if self.header_len < 4 {
                let n = (4 - self.header_len).min(input.len() - used);
                self.header[self.header_len..self.header_len + n]
                    .copy_from_slice(&input[used..used + n]);
                self.header_len += n;
                used += n;
                if self.header_len < 4 {
                    return Ok((used, None));
                }
                self.start_fragment()?;
            }
            let n = self.fragment_left.min(input.len() - used);
            if n > 0 {
                // Room for the rest of the fragment at once (as much as
                // `body_space` would lend), not grown, and copied, as the
                // pieces come.
                let spare = self.record.capacity() - self.record.len();
                if spare < self.fragment_left {
                    self.record.reserve(self.fragment_left.min(2 * READ_CHUNK));
                }
                crate::copy::extend(&mut self.record, &input[used..used + n]);
                self.fragment_left -= n;
                used += n;
            }
            if self.fragment_left > 0 {
                return Ok((used, None));
            }
            if let Some(record) = self.end_fragment() {
                return Ok((used, Some(record)));
            }
        }
    }

    /// Inside a fragment's body: room at the end of the record to read up
    /// to the rest of the fragment straight into place (at most
    /// `READ_CHUNK` (64 KiB) bytes, or the whole rest when that is at most twice
    /// as much, so a 64 KiB record is one allocation). Commit what was read
    /// with [`body_filled`](Self::body_filled). `None` outside a body.
    pub fn body_space(&mut self) -> Option<&mut [u8]> {
        let want = self.body_len()?;
        let start = self.record.len() - self.space;
        self.record.resize(start + want, 0);
        self.space = want;
        Some(&mut self.record[start..])
    }

    /// Inside a fragment's body: appends up to the rest of the fragment
    /// (sized as [`body_space`](Self::body_space) sizes it) to the record
    /// with `append`, given the record and the most bytes it may add, and
    /// returning how many it added: a read straight into the record's
    /// spare capacity ([`sys::read_append`](crate::net::sys::read_append)),
    /// so no byte is written twice. `None` outside a body; otherwise what
    /// `append` returned and the record, if it is now complete.
    pub(crate) fn append_body<T>(
        &mut self,
        append: impl FnOnce(&mut Vec<u8>, usize) -> Result<T>,
    ) -> Option<(Result<T>, Option<Vec<u8>>)> {
        let want = self.body_len()?;
        let start = self.record.len() - self.space;
        self.record.truncate(start);
        self.space = 0;
        let got = append(&mut self.record, want);
        debug_assert!(self.record.len() >= start);
        let n = self.record.len().saturating_sub(start).min(want);
        self.record.truncate(start + n);
        self.fragment_left -= n;
        let record = if self.fragment_left == 0 {
            self.end_fragment()
        } else {
            None
        };
        Some((got, record))
    }

    /// How many body bytes to take next: at most `READ_CHUNK`, or the
    /// whole rest of the fragment when that is at most twice as much (so a
    /// 64 KiB record is one allocation). `None` outside a body.
    fn body_len(&self) -> Option<usize> {
        if self.header_len < 4 || self.fragment_left == 0 || self.broken.is_some() {
            return None;
        }
        Some(if self.fragment_left <= 2 * READ_CHUNK {
            self.fragment_left
        } else {
            READ_CHUNK
        })
    }

    /// `n` bytes were read into the space [`body_space`](Self::body_space)
    /// gave (the rest of it is dropped). Returns the record if it is now
    /// complete.
    pub fn body_filled(&mut self, n: usize) -> Option<Vec<u8>> {
        let n = n.min(self.space);
        let kept = self.record.len() - self.space + n;
        self.record.truncate(kept);
        self.space = 0;
        self.fragment_left -= n;
        if self.fragment_left > 0 {
            return None;
        }
        self.end_fragment()
    }

    /// Bytes of the current fragment still to come (0 between fragments).
    pub fn fragment_left(&self) -> usize {
        self.fragment_left
    }

    /// If `input` starts with the header of a record's only fragment, and
    /// the decoder is between records, the fragment's length, checked
    /// against the limits: the caller may read that body straight into a
    /// buffer of its own (after taking the 4 header bytes), handing any
    /// part it cannot finish back with [`resume`](Self::resume).
    pub fn single_fragment_len(&self, input: &[u8]) -> Option<usize> {
        let header = *input.first_chunk::<4>()?;
        let (len, last) = parse_header(header);
        (self.is_idle() && self.broken.is_none() && last && len <= self.limits.max_record)
            .then_some(len)
    }

    /// A body the caller began reading itself (see
    /// [`single_fragment_len`](Self::single_fragment_len)) stopped after
    /// `got`, of `len`, bytes: the decoder takes it over, to complete it
    /// from later input.
    pub fn resume(&mut self, len: usize, got: &[u8]) {
        debug_assert!(self.is_idle() && got.len() < len);
        self.header = fragment_header(len, true);
        self.header_len = 4;
        self.fragments = 1;
        self.last = true;
        self.record.clear();
        crate::copy::extend(&mut self.record, got);
        self.fragment_left = len - got.len();
    }

    /// The stream ended: `Ok` between records; [`Error::Closed`] naming
    /// where a record was cut off otherwise (and the decoder is reset).
    pub fn finish(&mut self) -> Result<()> {
        if self.is_idle() {
            return Ok(());
        }
        let err = if self.header_len < 4 {
            format!(
                "stream ended inside a record-mark header ({} of 4 bytes)",
                self.header_len
            )
        } else {
            let len = parse_header(self.header).0;
            format!(
                "stream ended inside a message ({} of {} bytes of fragment {})",
                len - self.fragment_left,
                len,
                self.fragments
            )
        };
        self.reset();
        Err(Error::Closed(err))
    }

    /// Forgets any record in progress.
    pub fn reset(&mut self) {
        self.header_len = 0;
        self.fragment_left = 0;
        self.fragments = 0;
        self.last = false;
        self.space = 0;
        self.record.clear();
    }

    fn check_broken(&self) -> Result<()> {
        match &self.broken {
            Some(why) => Err(Error::Protocol(format!(
                "stream cannot be read as messages any more: {why}"
            ))),
            None => Ok(()),
        }
    }

    /// A whole header has arrived: checks it against the limits.
    fn start_fragment(&mut self) -> Result<()> {
        let (len, last) = parse_header(self.header);
        self.fragments += 1;
        if self.fragments > self.limits.max_fragments {
            return Err(self.broken(Error::Protocol(format!(
                "message has more than {} fragments",
                self.limits.max_fragments
            ))));
        }
        let total = self.record.len().saturating_add(len);
        if total > self.limits.max_record {
            return Err(self.broken(Error::MessageTooLarge {
                size: total,
                limit: self.limits.max_record,
            }));
        }
        self.fragment_left = len;
        self.last = last;
        Ok(())
    }

    /// A fragment's body is complete: the record, if it was the last.
    fn end_fragment(&mut self) -> Option<Vec<u8>> {
        self.header_len = 0;
        if !self.last {
            return None;
        }
        self.fragments = 0;
        self.last = false;
        Some(std::mem::take(&mut self.record))
    }

    fn broken(&mut self, err: Error) -> Error {
        self.broken = Some(err.to_string());
        self.reset();
        err
    }
}

/// The body of a whole single-fragment record at the start of `input`,
/// within `limits`.
fn whole_record(input: &[u8], limits: RecordLimits) -> Option<&[u8]> {
    let (len, last) = parse_header(*input.first_chunk::<4>()?);
    (last && len <= limits.max_record && len <= input.len() - 4).then(|| &input[4..4 + len])
}

/// Reads one record into `buf` (cleared first) from a blocking reader,
/// taking no byte beyond it.
///
/// Returns `Ok(false)` when the stream ends cleanly before a record starts.
/// A record that would exceed `limits.max_record` is refused before its
/// bytes are read or allocated ([`Error::MessageTooLarge`]); a stream that
/// ends inside a record is [`Error::Closed`].
///
/// ```
/// use xipc::stream::record::{read_record, RecordLimits};
///
/// // A header announcing 2 GiB - 1 bytes: refused before any allocation.
/// let hostile = [0xff, 0xff, 0xff, 0xff];
/// let limits = RecordLimits { max_record: 1024, ..RecordLimits::default() };
/// let err = read_record(&mut &hostile[..], &mut Vec::new(), limits).unwrap_err();
/// assert!(matches!(err, xipc::Error::MessageTooLarge { limit: 1024, .. }));
/// ```
pub fn read_record<R: Read>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    limits: RecordLimits,
) -> Result<bool> {
    buf.clear();
    let mut dec = RecordDecoder::new(limits);
    loop {
        let done = if let Some(space) = dec.body_space() {
            let n = read_some(reader, space)?;
            if n == 0 {
                dec.body_filled(0);
                return dec.finish().map(|()| false);
            }
            dec.body_filled(n)
        } else {
            let mut header = [0u8; 4];
            let want = 4 - dec.header_len;
            let n = read_some(reader, &mut header[..want])?;
            if n == 0 {
                return dec.finish().map(|()| false);
            }
            dec.decode(&header[..n])?.1
        };
        if let Some(record) = done {
            *buf = record;
            return Ok(true);
        }
    }
}

/// One read, retried on EINTR.
fn read_some<R: Read>(reader: &mut R, buf: &mut [u8]) -> Result<usize> {
    loop {
        match reader.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::os("read", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_and_multi_fragment_round_trip() {
        let msg: Vec<u8> = (0..10u8).collect();
        let framed = encode_record(&msg, 4);
        assert_eq!(&framed[..4], &[0, 0, 0, 4]);
        assert_eq!(
            &framed[framed.len() - 6..framed.len() - 2],
            &[0x80, 0, 0, 2]
        );
        let mut buf = Vec::new();
        assert!(read_record(&mut &framed[..], &mut buf, RecordLimits::default()).unwrap());
        assert_eq!(buf, msg);
    }

    #[test]
    fn empty_message_is_one_last_fragment() {
        assert_eq!(encode_record(&[], 100), vec![0x80, 0, 0, 0]);
    }

    #[test]
    fn hostile_length_is_refused_before_reading() {
        let framed = [0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3];
        let mut buf = Vec::new();
        let err = read_record(&mut &framed[..], &mut buf, RecordLimits::default()).unwrap_err();
        assert!(matches!(err, Error::MessageTooLarge { .. }), "{err}");
        assert!(buf.capacity() < 1024);
    }

    #[test]
    fn endless_empty_fragments_are_bounded() {
        let framed = [0u8, 0, 0, 0].repeat(DEFAULT_MAX_FRAGMENTS + 1);
        let err =
            read_record(&mut &framed[..], &mut Vec::new(), RecordLimits::default()).unwrap_err();
        assert!(matches!(err, Error::Protocol(_)), "{err}");
    }

    #[test]
    fn partial_frame_at_eof_is_an_error() {
        let framed = [0x80, 0, 0, 8, 1, 2];
        let err =
            read_record(&mut &framed[..], &mut Vec::new(), RecordLimits::default()).unwrap_err();
        assert!(matches!(err, Error::Closed(_)), "{err}");
        assert!(!read_record(&mut &[][..], &mut Vec::new(), RecordLimits::default()).unwrap());
    }

    /// Headers (and small bodies) through `decode`, a few bytes at a time.
    fn decode_a_few(dec: &mut RecordDecoder, wire: &[u8], at: &mut usize, got: &mut Vec<Vec<u8>>) {
        let (used, record) = dec.decode(&wire[*at..(*at + 6).min(wire.len())]).unwrap();
        *at += used;
        got.extend(record);
    }

    #[test]
    fn decoder_reads_large_bodies_in_place_and_keeps_going() {
        let big: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        let mut wire = encode_record(&big, 150_000);
        wire.extend(encode_record(b"next", 64));
        let mut dec = RecordDecoder::new(RecordLimits::default());
        let (mut at, mut got) = (0, Vec::new());
        while at < wire.len() {
            if let Some(space) = dec.body_space() {
                assert!(space.len() <= 2 * READ_CHUNK);
                let n = space.len().min(40_000);
                space[..n].copy_from_slice(&wire[at..at + n]);
                at += n;
                got.extend(dec.body_filled(n));
            } else {
                decode_a_few(&mut dec, &wire, &mut at, &mut got);
            }
        }
        assert_eq!(got.len(), 2);
        assert!(got[0] == big, "the large record differs");
        assert_eq!(got[1], b"next");
        dec.finish().unwrap();
    }

    #[test]
    fn decoder_appends_large_bodies_and_keeps_going() {
        let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7) as u8).collect();
        let mut wire = encode_record(&big, 150_000);
        wire.extend(encode_record(b"next", 64));
        let mut dec = RecordDecoder::new(RecordLimits::default());
        let (mut at, mut got) = (0, Vec::new());
        while at < wire.len() {
            // Reads as short as a socket's: at most 50,000 bytes each.
            let appended = dec.append_body(|record, max| {
                assert!(max <= 2 * READ_CHUNK);
                let n = max.min(50_000);
                record.extend_from_slice(&wire[at..at + n]);
                Ok(n)
            });
            match appended {
                Some((n, record)) => {
                    at += n.unwrap();
                    got.extend(record);
                }
                None => decode_a_few(&mut dec, &wire, &mut at, &mut got),
            }
        }
        assert_eq!(got.len(), 2);
        assert!(got[0] == big, "the large record differs");
        assert_eq!(got[1], b"next");
        dec.finish().unwrap();
        // A read that fails appends nothing and loses nothing.
        let wire = encode_record(&[9; 10_000], usize::MAX);
        let (used, none) = dec.decode(&wire[..4]).unwrap();
        assert_eq!((used, none), (4, None));
        let (failed, none) = dec
            .append_body(|_, _| Err::<usize, _>(Error::WouldBlock))
            .unwrap();
        assert!(matches!(failed, Err(Error::WouldBlock)) && none.is_none());
        let (used, record) = dec.decode(&wire[4..]).unwrap();
        assert_eq!((used, record), (10_000, Some(vec![9; 10_000])));
    }

    #[test]
    fn decoder_takes_back_a_body_read_elsewhere() {
        let wire = encode_record(b"0123456789", usize::MAX);
        let mut dec = RecordDecoder::new(RecordLimits::default());
        assert_eq!(dec.single_fragment_len(&wire), Some(10));
        // Six bytes went into the caller's buffer before it had to stop.
        dec.resume(10, b"012345");
        let (used, record) = dec.decode(&wire[10..]).unwrap();
        assert_eq!((used, record.as_deref()), (4, Some(&b"0123456789"[..])));
        let limits = RecordLimits {
            max_record: 4,
            ..RecordLimits::default()
        };
        assert_eq!(RecordDecoder::new(limits).single_fragment_len(&wire), None);
    }

    #[test]
    fn a_decoder_past_a_limit_stays_broken() {
        let limits = RecordLimits {
            max_record: 8,
            ..RecordLimits::default()
        };
        let mut dec = RecordDecoder::new(limits);
        let err = dec.decode(&encode_record(&[0; 9], 100)).unwrap_err();
        assert!(
            matches!(err, Error::MessageTooLarge { size: 9, limit: 8 }),
            "{err}"
        );
        let err = dec.decode(&encode_record(b"ok", 100)).unwrap_err();
        assert!(matches!(err, Error::Protocol(_)), "{err}");
        assert!(dec.body_space().is_none());
    }
}
