//! The client side: RPC replies and rpcbind answers as `Client` and
//! `Rpcbind` parse them off a real TCP connection. A fake server on the
//! loopback answers every call it receives with the fuzzer's bytes, then
//! ends the connection; the client under test must return (never hang,
//! never panic) with a result that agrees with the bytes.
//!
//! Input: `[op, how, reply...]`. `op` picks the call: a plain `Client::call`,
//! or rpcbind's GETPORT, DUMP (v2), SET, UNSET, GETADDR (v3/v4) or DUMP
//! (v3/v4). `how` bit 0 puts the call's xid into the reply's first 4 bytes
//! (so most replies get past the xid check), bit 1 sends the bytes as they
//! are instead of as one record, bit 2 splits the record into two fragments.
//!
//! Checks: a plain call that succeeds returned exactly the bytes after an
//! accepted SUCCESS header, and a well-framed SUCCESS reply with the right
//! xid must succeed; no error is `Internal`; rpcbind results stay within
//! the reply's size and the 1,024-byte string bound.
#![no_main]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use xipc::rpc::message::ReplyHeader;
use xipc::rpc::rpcbind::Rpcbind;
use xipc::rpc::{Client, Protocol};
use xipc::Error;

/// What the fake server answers: the reply bytes and the `how` flags.
static SCRIPT: Mutex<(Vec<u8>, u8)> = Mutex::new((Vec::new(), 0));
static PORT: OnceLock<u16> = OnceLock::new();

/// Starts the fake server once; returns its port.
fn fake_server() -> u16 {
    *PORT.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake server");
        let port = listener.local_addr().unwrap().port();
        thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                answer(conn);
            }
        });
        port
    })
}

/// Reads one call record, answers it with the script, ends the connection.
fn answer(mut conn: TcpStream) {
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut header = [0u8; 4];
    if conn.read_exact(&mut header).is_err() {
        return;
    }
    let len = (u32::from_be_bytes(header) & 0x7fff_ffff) as usize;
    if len > 1 << 20 {
        return;
    }
    let mut call = vec![0u8; len];
    if conn.read_exact(&mut call).is_err() || call.len() < 4 {
        return;
    }
    let (mut reply, how) = SCRIPT.lock().unwrap().clone();
    if how & 1 != 0 && reply.len() >= 4 {
        reply[..4].copy_from_slice(&call[..4]);
    }
    let wire = if how & 2 != 0 {
        reply
    } else {
        frame(&reply, how & 4 != 0)
    };
    let _ = conn.write_all(&wire);
    // End of stream for the client, then wait for it to close first so the
    // TIME_WAIT sockets pile up on its (loopback-reusable) side.
    let _ = conn.shutdown(Shutdown::Write);
    let mut sink = [0u8; 4096];
    while matches!(conn.read(&mut sink), Ok(n) if n > 0) {}
}

/// One record: a last fragment, or two fragments split in the middle.
fn frame(msg: &[u8], split: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(msg.len() + 8);
    let parts: Vec<&[u8]> = if split {
        let (a, b) = msg.split_at(msg.len() / 2);
        vec![a, b]
    } else {
        vec![msg]
    };
    for (i, p) in parts.iter().enumerate() {
        let last = if i + 1 == parts.len() { 0x8000_0000 } else { 0 };
        out.extend_from_slice(&(p.len() as u32 | last).to_be_bytes());
        out.extend_from_slice(p);
    }
    out
}

fn not_internal<T>(result: &Result<T, Error>) {
    if let Err(Error::Internal(m)) = result {
        panic!("internal error: {m}");
    }
}

const ARGS: &[u8] = b"args";

fuzz_target!(|input: &[u8]| {
    let [op, how, reply @ ..] = input else {
        return;
    };
    let port = fake_server();
    *SCRIPT.lock().unwrap() = (reply.to_vec(), *how);
    let timeout = Duration::from_secs(5);

    match op % 8 {
        0 => {
            let c = Client::connect("127.0.0.1", port, 0x2000_0001, 1, Protocol::Tcp)
                .expect("connect to the fake server");
            c.set_timeout(Some(timeout)).expect("a positive timeout");
            let result = c.call(1, ARGS);
            not_internal(&result);
            // (is SUCCESS, where the results start) if the bytes decode.
            let decoded = ReplyHeader::decode(reply)
                .ok()
                .map(|(header, at)| (header.into_result().is_ok(), at));
            if let Ok(results) = &result {
                let (success, at) = decoded.expect("a reply the client accepted decodes");
                assert!(success, "accepted a non-SUCCESS reply");
                assert_eq!(
                    results.as_slice(),
                    &reply[at..],
                    "results are the reply's tail"
                );
            }
            let well_framed = how & 3 == 1;
            if well_framed && decoded.is_some_and(|(success, _)| success) {
                assert!(result.is_ok(), "a good reply was refused: {result:?}");
            }
        }
        op => {
            let mut rpcbind = Rpcbind::with_port("127.0.0.1", port, Protocol::Tcp);
            rpcbind.set_timeout(Some(timeout));
            match op {
                1 => not_internal(&rpcbind.getport(0x2000_0001, 1, Protocol::Tcp)),
                2 => {
                    let r = rpcbind.dump();
                    not_internal(&r);
                    if let Ok(list) = r {
                        assert!(list.len() * 20 <= reply.len(), "{} mappings", list.len());
                    }
                }
                3 => not_internal(&rpcbind.set(0x2000_0001, 1, Protocol::Udp, 2049)),
                4 => not_internal(&rpcbind.unset(0x2000_0001, 1)),
                5 | 6 => {
                    let r = rpcbind.getaddr(0x2000_0001, 1, "tcp");
                    not_internal(&r);
                    if let Ok(Some(addr)) = r {
                        // Characters, not bytes: invalid UTF-8 becomes U+FFFD.
                        let chars = addr.chars().count();
                        assert!(chars <= 1024 && chars <= reply.len(), "{chars} characters");
                    }
                }
                _ => {
                    let vers = 3 + u32::from(how >> 7);
                    let r = rpcbind.rpcb_dump(vers);
                    not_internal(&r);
                    if let Ok(list) = r {
                        assert!(list.len() * 24 <= reply.len(), "{} entries", list.len());
                        for e in &list {
                            for s in [&e.netid, &e.addr, &e.owner] {
                                let chars = s.chars().count();
                                assert!(chars <= 1024, "a {chars}-character rpcbind string");
                            }
                        }
                    }
                }
            }
        }
    }
});
