//! A floor for the TLS echo rows of `benches/rpc.sh`: 64 KiB echoes over
//! TCP with no RPC and no TLS library, in the clear or in records shaped
//! as TLS 1.3's (a 5-byte header, up to 16 KiB of plaintext and its
//! content-type byte, a 16-byte tag) sealed and opened with ring's
//! AES-128-GCM, the cipher and the AEAD code xipc's TLS uses.
//!
//! It moves the bytes as a record layer written for throughput would: the
//! sender copies each record's plaintext once, into the buffer it seals in
//! place; the receiver reads a whole message's records in one go and opens
//! them where they lie, each record's plaintext moved down over the
//! headers and tags before it (`open_within`), so no copy is made on that
//! side. The clear echo writes the record mark and body with one vectored
//! write. On both, the server copies the bytes it echoes, as an RPC
//! handler copies its arguments into its results. No handshake: both ends
//! start from the same fixed keys. So the ratio of the two is about the
//! best a 64 KiB TLS echo can do beside a clear one on this machine, and
//! shows how much of a TLS row's distance from its bar is the AEAD's.
//!
//! usage: tls_record_floor server plain|aead          (prints "tcp PORT udp 0")
//!        tls_record_floor client plain|aead PORT N   (N echoes; prints MiB/s,
//!                                                     an echo's 64 KiB once)

use std::io::{IoSlice, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::exit;
use std::time::Instant;

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM};

/// The message echoed.
const MESSAGE: usize = 64 << 10;
/// Plaintext per record, TLS's largest.
const RECORD: usize = 16 << 10;
/// A record's header, content-type byte and tag.
const RECORD_EXTRA: usize = 5 + 1 + 16;
/// A sealed message's bytes on the wire.
const SEALED: usize = MESSAGE + MESSAGE.div_ceil(RECORD) * RECORD_EXTRA;
/// TLS 1.3's outer content type, application data.
const APPLICATION_DATA: u8 = 23;

/// One direction's key, IV and record sequence number, as TLS 1.3 forms
/// each record's nonce from them (RFC 8446, section 5.3).
struct Direction {
    key: LessSafeKey,
    iv: [u8; 12],
    seq: u64,
}

impl Direction {
    /// A direction whose key is 16 bytes of `key_byte` (fixed: this is a
    /// benchmark, not a secret).
    fn new(key_byte: u8) -> Direction {
        let key = UnboundKey::new(&AES_128_GCM, &[key_byte; 16]).expect("a 16-byte key");
        Direction {
            key: LessSafeKey::new(key),
            iv: [0x5c; 12],
            seq: 0,
        }
    }

    fn next_nonce(&mut self) -> Nonce {
        let mut nonce = self.iv;
        for (n, s) in nonce[4..].iter_mut().zip(self.seq.to_be_bytes()) {
            *n ^= s;
        }
        self.seq += 1;
        Nonce::assume_unique_for_key(nonce)
    }
}

/// Seals `message` into records in `out` (cleared first).
fn seal(tx: &mut Direction, message: &[u8], out: &mut Vec<u8>) {
    out.clear();
    for chunk in message.chunks(RECORD) {
        let len = chunk.len() + RECORD_EXTRA - 5;
        let [hi, lo] = (len as u16).to_be_bytes();
        let header = [APPLICATION_DATA, 3, 3, hi, lo];
        out.extend_from_slice(&header);
        let start = out.len();
        out.extend_from_slice(chunk);
        out.push(APPLICATION_DATA);
        let nonce = tx.next_nonce();
        let tag = tx
            .key
            .seal_in_place_separate_tag(nonce, Aad::from(header), &mut out[start..])
            .expect("sealing a record");
        out.extend_from_slice(tag.as_ref());
    }
}

/// Reads one sealed message into `buf` and opens its records in place:
/// the plaintext ends up in `buf[..MESSAGE]`. `None` at the end of the
/// stream.
fn receive_sealed(rx: &mut Direction, s: &mut TcpStream, buf: &mut [u8]) -> Option<()> {
    s.read_exact(&mut buf[..SEALED]).ok()?;
    let (mut read, mut written) = (0, 0);
    while read < SEALED {
        let header: [u8; 5] = buf[read..read + 5].try_into().expect("5 bytes");
        let len = u16::from_be_bytes([header[3], header[4]]) as usize;
        let end = read + 5 + len;
        let nonce = rx.next_nonce();
        let plain = rx
            .key
            .open_within(
                nonce,
                Aad::from(header),
                &mut buf[written..end],
                read + 5 - written..,
            )
            .unwrap_or_else(|_| fail("a record did not open"));
        // The content-type byte closes the plaintext.
        written += plain.len() - 1;
        read = end;
    }
    (written == MESSAGE).then_some(())
}

/// Writes `head` then `body` with vectored writes.
fn write_both(s: &mut TcpStream, head: &[u8], body: &[u8]) {
    let total = head.len() + body.len();
    let mut done = 0;
    while done < total {
        let written = match done.checked_sub(head.len()) {
            None => s.write_vectored(&[IoSlice::new(&head[done..]), IoSlice::new(body)]),
            Some(into_body) => s.write(&body[into_body..]),
        };
        match written {
            Ok(0) | Err(_) => fail("the peer stopped reading"),
            Ok(n) => done += n,
        }
    }
}

fn fail(why: &str) -> ! {
    eprintln!("tls_record_floor: {why}");
    exit(1)
}

fn serve(sealed: bool) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|_| fail("bind"));
    let port = listener.local_addr().expect("a bound address").port();
    println!("tcp {port} udp 0");
    std::io::stdout().flush().expect("stdout");
    let (mut s, _) = listener.accept().unwrap_or_else(|_| fail("accept"));
    s.set_nodelay(true).expect("TCP_NODELAY");
    // The two directions' keys, as the client has them.
    let (mut rx, mut tx) = (Direction::new(1), Direction::new(2));
    let mut buf = vec![0u8; SEALED];
    let mut out = Vec::with_capacity(SEALED);
    loop {
        if sealed {
            if receive_sealed(&mut rx, &mut s, &mut buf).is_none() {
                return;
            }
            let results = buf[..MESSAGE].to_vec();
            seal(&mut tx, &results, &mut out);
            if s.write_all(&out).is_err() {
                return;
            }
        } else {
            if s.read_exact(&mut buf[..4 + MESSAGE]).is_err() {
                return;
            }
            let results = buf[4..4 + MESSAGE].to_vec();
            write_both(&mut s, &buf[..4], &results);
        }
    }
}

fn call(sealed: bool, port: u16, echoes: usize) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap_or_else(|_| fail("connect"));
    s.set_nodelay(true).expect("TCP_NODELAY");
    let (mut tx, mut rx) = (Direction::new(1), Direction::new(2));
    let message = vec![0x5a_u8; MESSAGE];
    let mark = (MESSAGE as u32 | 0x8000_0000).to_be_bytes();
    let mut buf = vec![0u8; SEALED];
    let mut out = Vec::with_capacity(SEALED);
    let start = Instant::now();
    for _ in 0..echoes {
        if sealed {
            seal(&mut tx, &message, &mut out);
            s.write_all(&out).unwrap_or_else(|_| fail("write"));
            receive_sealed(&mut rx, &mut s, &mut buf).unwrap_or_else(|| fail("no echo"));
            if buf[..MESSAGE] != message[..] {
                fail("the echo differs");
            }
        } else {
            write_both(&mut s, &mark, &message);
            s.read_exact(&mut buf[..4 + MESSAGE])
                .unwrap_or_else(|_| fail("no echo"));
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{:.1}",
        (MESSAGE * echoes) as f64 / secs / f64::from(1 << 20)
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage =
        || -> ! { fail("usage: tls_record_floor server plain|aead | client plain|aead PORT N") };
    let sealed = match args.get(2).map(String::as_str) {
        Some("aead") => true,
        Some("plain") => false,
        _ => usage(),
    };
    match (args.get(1).map(String::as_str), args.get(3), args.get(4)) {
        (Some("server"), None, None) => serve(sealed),
        (Some("client"), Some(port), Some(n)) => match (port.parse(), n.parse()) {
            (Ok(port), Ok(n)) => call(sealed, port, n),
            _ => usage(),
        },
        _ => usage(),
    }
}
