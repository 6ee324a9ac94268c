//! ONC RPC messages (RFC 5531): the same bytes read as a call
//! (`message::decode_call`, with AUTH_SYS parsing), as a reply
//! (`ReplyHeader::decode`, `reply_results`), and answered by a server's
//! dispatcher (no socket: what the event loop hands it for each record)
//! serving the stubs `xipc gen` writes for the every-construct `.x` file,
//! with a duplicate-request cache.
//!
//! Checked: a call or reply that decodes encodes back to the same bytes; a
//! refused call is refused with its own xid; the server answers exactly
//! the calls it can read, always with a reply that decodes and carries the
//! call's xid, and the reply to a refused call is the refusal.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use xipc::rpc::message::{decode_call, reply_results, BadCall, ReplyBody, ReplyHeader};
use xipc::rpc::svc::{Caller, Peer};
use xipc::rpc::{AuthSys, CallInfo, Credential, Service};
use xipc::xdr::Encoder;
use xipc::Result;
use xipc_fuzz::every::*;

/// The every-construct program, answering with what it was given.
struct Every;

impl EVERYVERS_Server for Every {
    fn nothing(&self, _: &CallInfo) -> Result<()> {
        Ok(())
    }
    fn echo(&self, _: &CallInfo, v: everything) -> Result<everything> {
        Ok(v)
    }
    fn add(&self, _: &CallInfo, a: i32, b: i32) -> Result<i32> {
        Ok(a.wrapping_add(b))
    }
    fn getname(&self, call: &CallInfo) -> Result<name> {
        Ok(match &call.cred {
            Credential::Sys(sys) => sys.machine_name.chars().take(32).collect(),
            _ => String::new(),
        })
    }
    fn list(&self, _: &CallInfo, n: i32) -> Result<node> {
        let mut head = node {
            value: 0,
            next: None,
        };
        for value in 1..=n.clamp(0, 16) {
            head = node {
                value,
                next: Some(Box::new(head)),
            };
        }
        Ok(head)
    }
    fn concat(&self, _: &CallInfo, a: String, b: name) -> Result<String> {
        Ok(a + &b)
    }
    fn check(&self, _: &CallInfo, p: Option<Box<point>>) -> Result<bool> {
        Ok(p.is_some_and(|p| p.flag))
    }
}

impl EVERYVERS2_Server for Every {
    fn ping(&self, _: &CallInfo) -> Result<i32> {
        Ok(2)
    }
}

/// One service for the whole run; it is never started (no threads, no
/// sockets): the target calls its dispatcher as the event loop would.
fn service() -> &'static Service {
    static SERVICE: OnceLock<Service> = OnceLock::new();
    SERVICE.get_or_init(|| {
        let s = Service::new();
        s.set_duplicate_cache(16);
        EVERYVERS_register(&s, Arc::new(Every));
        EVERYVERS2_register(&s, Arc::new(Every));
        s
    })
}

fn xid_of(msg: &[u8]) -> u32 {
    u32::from_be_bytes(msg[..4].try_into().unwrap())
}

fuzz_target!(|msg: &[u8]| {
    // As a call.
    let refused = match decode_call(msg) {
        Ok(call) => {
            let mut enc = Encoder::new();
            call.header
                .encode(&mut enc)
                .expect("a decoded header encodes");
            enc.put_raw(call.args);
            assert_eq!(enc.as_bytes(), msg, "call re-encoding differs");
            if let Credential::Sys(sys) = &call.cred {
                // A name that was valid UTF-8 comes back byte for byte.
                if !sys.machine_name.contains('\u{fffd}') {
                    let body = sys.to_opaque().expect("a decoded AUTH_SYS encodes").body;
                    assert_eq!(body, call.header.cred.body);
                    assert_eq!(&AuthSys::decode(&body).unwrap(), sys);
                }
            }
            None
        }
        Err(BadCall::Deny { xid, stat }) => {
            assert_eq!(xid, xid_of(msg));
            Some(ReplyHeader::denied(xid, stat).to_message(&[]))
        }
        Err(BadCall::NotACall { xid }) => {
            assert_eq!(xid, xid_of(msg));
            assert_ne!(msg[4..8], [0, 0, 0, 0]);
            None
        }
        Err(BadCall::Unreadable(_)) => {
            assert!(msg.len() < 12, "a {}-byte message is unreadable", msg.len());
            None
        }
    };

    // As a reply.
    match ReplyHeader::decode(msg) {
        Ok((header, at)) => {
            assert_eq!(
                header.to_message(&msg[at..]),
                msg,
                "reply re-encoding differs"
            );
            let success = matches!(
                header.body,
                ReplyBody::Accepted {
                    stat: xipc::rpc::message::AcceptStat::Success,
                    ..
                }
            );
            assert_eq!(reply_results(msg).is_ok(), success);
            if success {
                assert_eq!(reply_results(msg).unwrap(), &msg[at..]);
            }
        }
        Err(e) => {
            assert!(
                matches!(
                    e,
                    xipc::Error::Xdr { .. } | xipc::Error::Limit { .. } | xipc::Error::Protocol(_)
                ),
                "{e:?}"
            );
            assert!(reply_results(msg).is_err());
        }
    }

    // Answered by a server, as a caller on a connection of its own would
    // be (a fresh connection number each time, so the duplicate-request
    // cache sees distinct callers).
    static CONNECTION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let caller = Caller {
        peer: Peer::Unix(CONNECTION.fetch_add(1, std::sync::atomic::Ordering::Relaxed)),
        local: None,
        peer_credentials: None,
        tls_peer: None,
    };
    let reply = service().dispatcher().answer(msg, &caller);
    let answered = matches!(decode_call(msg), Ok(_) | Err(BadCall::Deny { .. }));
    assert_eq!(reply.is_some(), answered);
    if let Some(reply) = reply {
        let (header, _) = ReplyHeader::decode(&reply).expect("the server's reply decodes");
        assert_eq!(header.xid, xid_of(msg));
        if let Some(refusal) = refused {
            assert_eq!(reply, refusal);
        }
    }
});
