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
        out.extend_from_slice(chunk);
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

/// Reads one record into `buf` (cleared first), reassembling fragments.
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
    let mut fragments = 0usize;
    loop {
        let mut header = [0u8; 4];
        let got = read_full(reader, &mut header)?;
        if got == 0 && fragments == 0 {
            return Ok(false);
        }
        if got < 4 {
            return Err(Error::Closed(format!(
                "stream ended inside a record-mark header ({got} of 4 bytes)"
            )));
        }
        let (len, last) = parse_header(header);
        fragments += 1;
        if fragments > limits.max_fragments {
            return Err(Error::Protocol(format!(
                "record has more than {} fragments",
                limits.max_fragments
            )));
        }
        let total = buf.len().saturating_add(len);
        if total > limits.max_record {
            return Err(Error::MessageTooLarge {
                size: total,
                limit: limits.max_record,
            });
        }
        read_fragment(reader, buf, len)?;
        if last {
            return Ok(true);
        }
    }
}

/// Bytes of a fragment read, and made room for, at a time.
pub(crate) const READ_CHUNK: usize = 64 << 10;

/// Appends a fragment of `len` bytes to `buf`, growing it chunk by chunk as
/// the bytes arrive: a 4-byte header claiming megabytes costs nothing until
/// the megabytes come.
fn read_fragment<R: Read>(reader: &mut R, buf: &mut Vec<u8>, len: usize) -> Result<()> {
    let mut got = 0;
    while got < len {
        let start = buf.len();
        // A short tail joins the chunk before it: a 64 KiB message plus
        // its header is one allocation, not one and a copy into a larger.
        let left = len - got;
        let want = if left <= 2 * READ_CHUNK {
            left
        } else {
            READ_CHUNK
        };
        buf.resize(start + want, 0);
        let n = read_full(reader, &mut buf[start..])?;
        buf.truncate(start + n);
        got += n;
        if n < want {
            return Err(Error::Closed(format!(
                "stream ended inside a record fragment ({got} of {len} bytes)"
            )));
        }
    }
    Ok(())
}

/// Whether `buf` starts with a whole single-fragment record, so that
/// reading the next record from a buffered reader holding `buf` costs no
/// system call and cannot block.
pub(crate) fn record_buffered(buf: &[u8]) -> bool {
    match buf.first_chunk::<4>() {
        Some(mark) => {
            let mark = u32::from_be_bytes(*mark);
            mark & LAST_FRAGMENT != 0 && (mark & !LAST_FRAGMENT) as usize <= buf.len() - 4
        }
        None => false,
    }
}

/// Reads until `buf` is full or the stream ends; returns the bytes read.
fn read_full<R: Read>(reader: &mut R, buf: &mut [u8]) -> Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::os("read", e)),
        }
    }
    Ok(filled)
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
}
