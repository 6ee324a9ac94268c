//! The committed seeds are what they claim to be: well-formed inputs that
//! decode (not inputs every target refuses on the first byte).

use std::path::Path;

use xipc::idl::XdrType;
use xipc::rpc::message::{decode_call, ReplyHeader};
use xipc::stream::record::{read_record, RecordLimits};
use xipc_fuzz::every::{everything, node};

fn seed(path: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("corpus")
            .join(path),
    )
    .unwrap()
}

#[test]
fn generated_type_seeds_decode_and_round_trip() {
    let e = seed("xdr_generated/everything");
    let v = everything::from_bytes(&e[1..]).unwrap();
    assert_eq!(v.to_bytes().unwrap(), &e[1..]);
    assert_eq!(
        node::from_bytes(&seed("xdr_generated/node")[1..])
            .unwrap()
            .value,
        1
    );
}

#[test]
fn rpc_seeds_are_calls_and_replies() {
    for name in [
        "null",
        "add_auth_sys",
        "echo",
        "list",
        "concat",
        "check",
        "ping_v2",
    ] {
        let msg = seed(&format!("rpc_message/{name}"));
        decode_call(&msg).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
    for name in ["success", "prog_mismatch", "rpc_mismatch", "auth_error"] {
        ReplyHeader::decode(&seed(&format!("rpc_message/reply_{name}"))).unwrap();
    }
}

#[test]
fn record_seed_holds_two_messages() {
    let s = seed("record/two_messages");
    let mut r = &s[2..];
    let mut buf = Vec::new();
    assert!(read_record(&mut r, &mut buf, RecordLimits::default()).unwrap());
    assert_eq!(buf, b"hello");
    assert!(read_record(&mut r, &mut buf, RecordLimits::default()).unwrap());
    assert_eq!(buf, b"world!!!");
}
