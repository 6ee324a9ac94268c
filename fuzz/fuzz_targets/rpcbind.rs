//! The embedded rpcbind server (portmap v2, rpcbind v3 and v4) answering a
//! sequence of call messages, as `xipc rpcbind` would from one client:
//! SET, UNSET, GETPORT/GETADDR, GETVERSADDR, DUMP and GETTIME with any
//! arguments, so later calls see what earlier ones registered.
//!
//! Input: `[peer, call, SEPARATOR, call, ...]` (at most 64 calls); `peer`
//! bit 0 sends the calls as UDP datagrams instead of on TCP connections
//! (one per call, on the loopback: the server's dispatch is private, so the
//! calls come as a peer's would). Every call must get either no answer
//! (unreadable, or not a call) or a reply that decodes and carries the
//! call's xid; replies to DUMP and GETADDR must decode as the lists and
//! strings RFC 1833 defines. A fresh server per input keeps runs
//! independent.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use xipc::rpc::message::{decode_call, BadCall, ReplyHeader};
use xipc::rpc::rpcbind::{parse_uaddr, proc, serve_on, PROGRAM};
use xipc::rpc::Server;
use xipc::xdr::Decoder;
use xipc_fuzz::{call_tcp, call_udp, split_messages};

/// What separates calls in the input.
const SEPARATOR: &[u8] = b"~XIPC~";

/// Decodes the results of a successful rpcbind call, as a client would.
fn check_results(vers: u32, procedure: u32, results: &[u8]) {
    let mut dec = Decoder::new(results);
    match (vers, procedure) {
        (2, proc::DUMP) => {
            while dec.get_optional().expect("dump entry flag") {
                for _ in 0..4 {
                    dec.get_uint().expect("mapping field");
                }
            }
        }
        (3 | 4, proc::DUMP) => {
            while dec.get_optional().expect("dump entry flag") {
                dec.get_uint().expect("prog");
                dec.get_uint().expect("vers");
                for _ in 0..3 {
                    dec.get_string_bytes(None).expect("rpcb string");
                }
            }
        }
        (3 | 4, proc::GETADDR | proc::GETVERSADDR) => {
            // Whatever a client registered comes back; it need not parse.
            let addr = dec.get_string(None).expect("universal address");
            let _ = parse_uaddr(addr);
        }
        (_, proc::NULL) => {}
        _ => {
            dec.get_uint().expect("a bool, port or time");
        }
    }
    dec.finish().expect("results end where they should");
}

fuzz_target!(|input: &[u8]| {
    let [peer, data @ ..] = input else {
        return;
    };
    let server = Server::new();
    server.set_concurrent_calls_per_connection(1).expect("one call at a time");
    let port = serve_on(&server, "127.0.0.1", 0).expect("bind rpcbind on ephemeral ports");
    server.start().expect("start rpcbind");
    let udp = peer & 1 == 1;

    for call in split_messages(data, SEPARATOR).into_iter().take(64) {
        let answered = matches!(decode_call(call), Ok(_) | Err(BadCall::Deny { .. }));
        // Unreadable calls get no answer. (Readable ones may not either:
        // RFC 1833's CALLIT is silent when the forwarded call fails.)
        let reply = if udp {
            // The UDP port is the TCP port's number (serve_on binds both).
            // A loopback answer takes well under a millisecond; a late one is only
            // left unchecked.
            let wait = answered.then_some(Duration::from_millis(200));
            call_udp(port, call, wait)
        } else {
            let mut replies = call_tcp(port, call);
            assert!(replies.len() <= 1, "{} replies to one call", replies.len());
            assert!(
                answered || replies.is_empty(),
                "an answer to an unreadable call"
            );
            replies.pop()
        };
        let Some(reply) = reply else {
            continue;
        };
        let (header, at) = ReplyHeader::decode(&reply).expect("the server's reply decodes");
        assert_eq!(header.xid.to_be_bytes(), call[..4], "reply xid");
        if header.into_result().is_err() {
            continue;
        }
        // An accepted call has a whole header: program, version, procedure.
        let word = |i: usize| u32::from_be_bytes(call[i..i + 4].try_into().unwrap());
        assert_eq!(word(12), PROGRAM);
        check_results(word(16), word(20), &reply[at..]);
    }
    server.stop();
});
