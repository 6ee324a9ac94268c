//! The embedded rpcbind server (portmap v2, rpcbind v3 and v4) answering a
//! sequence of call messages, as `xipc rpcbind` would from one client:
//! SET, UNSET, GETPORT/GETADDR, GETVERSADDR, DUMP and GETTIME with any
//! arguments, so later calls see what earlier ones registered.
//!
//! Input: `[peer, call, SEPARATOR, call, ...]` (at most 64 calls). Every
//! call must get either no answer (unreadable, or not a call) or a reply
//! that decodes and carries the call's xid; replies to DUMP and GETADDR
//! must decode as the lists and strings RFC 1833 defines. A fresh server
//! per input keeps runs independent.
#![no_main]

use std::net::SocketAddr;

use libfuzzer_sys::fuzz_target;
use xipc::rpc::drc::ClientKey;
use xipc::rpc::message::ReplyHeader;
use xipc::rpc::rpcbind::{parse_uaddr, proc, serve_on, PROGRAM};
use xipc::rpc::{Peer, Server};
use xipc::xdr::Decoder;
use xipc_fuzz::split_messages;

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
    serve_on(&server, "127.0.0.1", 0).expect("bind rpcbind on ephemeral ports");
    let from: SocketAddr = ([127, 0, 0, 1], 700).into();
    let (peer, local) = match peer & 3 {
        0 => (Peer::Tcp(from), Some(([127, 0, 0, 1], 111).into())),
        1 => (Peer::Udp(from), Some(([10, 1, 2, 3], 111).into())),
        2 => (Peer::Unix(1), None),
        _ => (Peer::Tcp(from), Some(([0, 0, 0, 0], 111).into())),
    };
    let client = ClientKey::Addr(from);

    for call in split_messages(data, SEPARATOR).into_iter().take(64) {
        let Some(reply) = server.dispatch(call, &peer, &client, local) else {
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
});
