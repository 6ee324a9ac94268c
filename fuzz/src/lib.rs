//! What the fuzz targets share: limits chosen by the input, and the Rust
//! that `xipc gen` writes for the every-construct `.x` fixture.

use xipc::xdr::Limits;

/// Types, codecs and RPC stubs of `tests/gen/every.x`, as `xipc gen --lang
/// rust` writes them (`scripts/fuzz.sh` regenerates `gen/every.rs`).
#[allow(unused_mut)] // the generated RPC stubs declare some codecs `mut` needlessly
pub mod every {
    include!("../gen/every.rs");
}

/// Tight limits, so that the fuzzer reaches every limit check with small inputs.
pub const TINY: Limits = Limits {
    max_item_bytes: 8,
    max_elements: 4,
    max_depth: 4,
    max_alloc: 64,
};

/// Small limits, under which most well-formed small values still decode.
pub const SMALL: Limits = Limits {
    max_item_bytes: 64,
    max_elements: 16,
    max_depth: 16,
    max_alloc: 1024,
};

/// Picks limits from one byte of the input: the defaults, tiny, small or
/// none at all (bounded by the input's size only).
pub fn limits_from(selector: u8) -> Limits {
    match selector & 3 {
        0 => Limits::default(),
        1 => TINY,
        2 => SMALL,
        _ => Limits::unlimited(),
    }
}

/// Splits `data` into the pieces between occurrences of `sep` (a byte
/// sequence unlikely in well-formed XDR), so one input can carry several
/// messages.
pub fn split_messages<'a>(data: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(sep.len()).position(|w| w == sep) {
        out.push(&rest[..i]);
        rest = &rest[i + sep.len()..];
    }
    out.push(rest);
    out
}

/// Asserts that `err` is an XDR or limit error at an offset inside an input
/// of `len` bytes, as every decoding failure must be.
pub fn assert_decode_error(err: &xipc::Error, len: usize) {
    match err {
        xipc::Error::Xdr { offset, .. } | xipc::Error::Limit { offset, .. } => {
            assert!(
                *offset <= len,
                "error offset {offset} past {len} bytes: {err}"
            )
        }
        other => panic!("decoding failed with an unexpected error variant: {other:?}"),
    }
}

/// Sends `msg` as one record on a new TCP connection to a server on
/// 127.0.0.1:`port`, ends the sending side, and returns the records the
/// server wrote before closing: none for a call it does not answer, one
/// otherwise. (The server's dispatch is private; the targets reach it
/// through a socket, as a peer would.)
pub fn call_tcp(port: u16, msg: &[u8]) -> Vec<Vec<u8>> {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    conn.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let mut wire = (msg.len() as u32 | 0x8000_0000).to_be_bytes().to_vec();
    wire.extend_from_slice(msg);
    // The server may close before taking it all (a call it cannot read).
    let _ = conn.write_all(&wire);
    let _ = conn.shutdown(std::net::Shutdown::Write);
    let mut bytes = Vec::new();
    match conn.read_to_end(&mut bytes) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!("the server neither answered nor closed: {e}"),
    }
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut rest = &bytes[..];
    while rest.len() >= 4 {
        let mark = u32::from_be_bytes(rest[..4].try_into().unwrap());
        let len = (mark & 0x7fff_ffff) as usize;
        assert!(rest.len() >= 4 + len, "the server sent a cut record");
        record.extend_from_slice(&rest[4..4 + len]);
        rest = &rest[4 + len..];
        if mark & 0x8000_0000 != 0 {
            records.push(std::mem::take(&mut record));
        }
    }
    assert!(
        rest.is_empty() && record.is_empty(),
        "the server sent a cut record"
    );
    records
}

/// Sends `msg` as one datagram from a new socket to 127.0.0.1:`port` and
/// waits at most `wait` for an answer (none: do not wait).
pub fn call_udp(port: u16, msg: &[u8], wait: Option<std::time::Duration>) -> Option<Vec<u8>> {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.send_to(msg, ("127.0.0.1", port)).expect("send");
    sock.set_read_timeout(Some(wait?)).unwrap();
    let mut buf = vec![0u8; 65536];
    let n = sock.recv(&mut buf).ok()?;
    buf.truncate(n);
    Some(buf)
}
