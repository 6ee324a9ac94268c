//! The embedded rpcbind server (portmap v2, rpcbind v3 and v4) answering a
//! sequence of call messages: SET, UNSET, GETPORT/GETADDR, GETVERSADDR,
//! DUMP, GETTIME, UADDR2TADDR, TADDR2UADDR, GETADDRLIST and GETSTAT with
//! any arguments, so later calls see what earlier ones registered. The
//! calls go to rpcbind's dispatcher directly (no socket), from callers that
//! the input makes local or remote, with or without peer credentials.
//! Forwarding (CALLIT, BCAST, INDIRECT) sends datagrams of its own and is
//! left out.
//!
//! Input: `[peer, call, SEPARATOR, peer, call, ...]` (at most 64 calls);
//! per call, `peer` bit 0 makes the caller remote (10.0.0.1) instead of
//! local, bit 1 makes it a Unix-socket caller with uid 0, bit 2 one with
//! uid 1000. Every call must get either no answer (unreadable, or not a
//! call) or a reply that decodes and carries the call's xid; replies to
//! DUMP and GETADDR must decode as the lists and strings RFC 1833 defines;
//! a remote caller can never change the registrations. A fresh directory
//! per input keeps runs independent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xipc::rpc::message::{decode_call, BadCall, ReplyHeader};
use xipc::rpc::rpcbind::{parse_uaddr, proc, serve_directory, RpcbindOptions, PROGRAM};
use xipc::rpc::svc::{Caller, Dispatcher, Peer};
use xipc::stream::PeerCredentials;
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
        (3 | 4, proc::UADDR2TADDR) => {
            dec.get_uint().expect("maxlen");
            dec.get_opaque(None).expect("taddr");
        }
        (3 | 4, proc::TADDR2UADDR) => {
            dec.get_string_bytes(None).expect("uaddr");
        }
        (4, proc::GETADDRLIST) => {
            while dec.get_optional().expect("entry flag") {
                for _ in 0..2 {
                    dec.get_string_bytes(None).expect("maddr, netid");
                }
                dec.get_uint().expect("semantics");
                for _ in 0..2 {
                    dec.get_string_bytes(None).expect("protofmly, proto");
                }
            }
        }
        (4, proc::GETSTAT) => {
            for _ in 0..3 {
                for _ in 0..15 {
                    dec.get_int().expect("counter");
                }
                for fields in [5, 7] {
                    while dec.get_optional().expect("stat entry flag") {
                        for _ in 0..fields - 1 {
                            dec.get_uint().expect("stat field");
                        }
                        dec.get_string_bytes(None).expect("netid");
                    }
                }
            }
        }
        (_, proc::NULL) => {}
        _ => {
            dec.get_uint().expect("a bool, port or time");
        }
    }
    dec.finish().expect("results end where they should");
}

fn caller(peer: u8) -> Caller {
    let uid = match peer & 6 {
        2 => Some(0),
        4 | 6 => Some(1000),
        _ => None,
    };
    match uid {
        Some(uid) => Caller {
            peer: Peer::Unix(1),
            local: None,
            peer_credentials: Some(PeerCredentials { pid: 1, uid, gid: uid }),
            tls_peer: None,
        },
        None if peer & 1 == 1 => Caller {
            peer: Peer::Tcp("10.0.0.1:700".parse().unwrap()),
            local: Some("10.0.0.2:111".parse().unwrap()),
            peer_credentials: None,
            tls_peer: None,
        },
        None => Caller {
            peer: Peer::Udp("127.0.0.1:700".parse().unwrap()),
            local: Some("127.0.0.1:111".parse().unwrap()),
            peer_credentials: None,
            tls_peer: None,
        },
    }
}

fuzz_target!(|input: &[u8]| {
    let rpcbind = Dispatcher::new();
    serve_directory(&rpcbind, &RpcbindOptions::new().max_registrations(64));
    for piece in split_messages(input, SEPARATOR).into_iter().take(64) {
        let [peer, call @ ..] = piece else {
            continue;
        };
        let word = |i: usize| call.get(i..i + 4).map(|w| u32::from_be_bytes(w.try_into().unwrap()));
        if word(12) == Some(PROGRAM) && matches!(word(20), Some(proc::CALLIT | proc::INDIRECT)) {
            continue;
        }
        let answered = matches!(decode_call(call), Ok(_) | Err(BadCall::Deny { .. }));
        let reply = rpcbind.answer(call, &caller(*peer));
        assert_eq!(reply.is_some(), answered, "an answer to an unreadable call");
        let Some(reply) = reply else {
            continue;
        };
        let (header, at) = ReplyHeader::decode(&reply).expect("the server's reply decodes");
        assert_eq!(header.xid.to_be_bytes(), call[..4], "reply xid");
        if header.into_result().is_err() {
            continue;
        }
        // An accepted call has a whole header: program, version, procedure.
        assert_eq!(word(12), Some(PROGRAM));
        let (vers, procedure) = (word(16).unwrap(), word(20).unwrap());
        check_results(vers, procedure, &reply[at..]);
        if peer & 7 == 1 && matches!(procedure, proc::SET | proc::UNSET) {
            assert_eq!(&reply[at..], [0, 0, 0, 0], "a remote caller changed the directory");
        }
    }
});
