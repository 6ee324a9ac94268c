//! Handlers learn who called over a Unix socket from the kernel
//! (`SO_PEERCRED`: pid, uid, gid), and nothing of the kind over TCP or UDP;
//! over TCP they learn the caller's address and the one it reached.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use xipc::rpc::{Client, Peer, Protocol, Server};
use xipc::stream::PeerCredentials;

const PROG: u32 = 0x2000_1237;

/// Each call's peer and peer credentials, in order.
type Seen = Arc<Mutex<Vec<(Peer, Option<PeerCredentials>)>>>;

#[test]
fn unix_callers_peer_credentials_reach_handlers_and_tcp_udp_have_none() {
    let path = std::env::temp_dir().join(format!("xipc-rpc-peer-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let seen: Seen = Arc::default();
    let s = Server::new();
    s.set_rpcbind_registration(false);
    let record = seen.clone();
    s.register(PROG, 1, 1, move |call, _, _| {
        record
            .lock()
            .unwrap()
            .push((call.peer.clone(), call.peer_credentials));
        Ok(())
    });
    s.listen_unix(&path).unwrap();
    let tcp = s.listen_tcp("127.0.0.1", 0).unwrap();
    let udp = s.listen_udp("127.0.0.1", 0).unwrap();
    s.start().unwrap();

    let me = PeerCredentials {
        pid: std::process::id() as i32,
        uid: nix::unistd::geteuid().as_raw(),
        gid: nix::unistd::getegid().as_raw(),
    };
    let unix = Client::connect(path.to_str().unwrap(), 0, PROG, 1, Protocol::Unix).unwrap();
    unix.set_timeout(Some(Duration::from_secs(10))).unwrap();
    unix.call(1, &[]).unwrap();
    unix.call(1, &[]).unwrap(); // a second call on the same connection
    for (port, proto) in [(tcp, Protocol::Tcp), (udp, Protocol::Udp)] {
        let c = Client::connect("127.0.0.1", port, PROG, 1, proto).unwrap();
        c.set_timeout(Some(Duration::from_secs(10))).unwrap();
        c.call(1, &[]).unwrap();
    }
    s.stop();

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 4);
    for (peer, cred) in &seen[..2] {
        assert!(matches!(peer, Peer::Unix(_)), "{peer:?}");
        assert_eq!(*cred, Some(me));
    }
    assert!(matches!(seen[2], (Peer::Tcp(_), None)), "{:?}", seen[2]);
    assert!(matches!(seen[3], (Peer::Udp(_), None)), "{:?}", seen[3]);
}

#[test]
fn setters_refuse_zero_and_socket_modes_refuse_non_permission_bits() {
    let s = Server::new();
    s.set_rpcbind_registration(false);
    let refused = |r: xipc::Result<()>| matches!(r, Err(xipc::Error::InvalidArgument(_)));
    assert!(refused(s.set_max_message_size(0)));
    assert!(refused(s.set_concurrent_calls_per_connection(0)));
    assert!(refused(s.set_idle_timeout(Some(Duration::ZERO))));
    assert!(refused(s.set_max_connections(0)));
    s.set_max_connections(1).unwrap();
    s.set_max_message_size(1).unwrap();
    s.set_concurrent_calls_per_connection(1).unwrap();
    s.set_idle_timeout(Some(Duration::from_nanos(1))).unwrap();
    s.set_max_message_size(1 << 20).unwrap();
    s.set_idle_timeout(None).unwrap(); // never
    s.set_idle_timeout(Some(Duration::from_secs(60))).unwrap();

    let path = std::env::temp_dir().join(format!("xipc-rpc-peer-mode-{}", std::process::id()));
    for mode in [0o170_600, 0o1600, 0o4600, 0o2600] {
        assert!(refused(s.listen_unix_with_mode(&path, mode)), "{mode:#o}");
        assert!(!path.exists(), "{mode:#o} made a file");
    }

    let port = s.listen_tcp("127.0.0.1", 0).unwrap();
    s.start().unwrap();
    let c = Client::connect("127.0.0.1", port, PROG, 1, Protocol::Tcp).unwrap();
    assert!(refused(c.set_timeout(Some(Duration::ZERO))));
    assert!(refused(c.set_max_message_size(0)));
    assert_eq!(
        c.timeout(),
        Some(Duration::from_secs(25)),
        "a refusal changes nothing"
    );
    // The client still works after the refusals.
    assert!(matches!(c.ping(), Err(xipc::Error::ProgUnavail)));
    // No limit: None, kept as such, and calls still work.
    c.set_timeout(None).unwrap();
    assert_eq!(c.timeout(), None);
    assert!(matches!(c.ping(), Err(xipc::Error::ProgUnavail)));
    assert!(matches!(
        c.call_with_timeout(0, &[], None),
        Err(xipc::Error::ProgUnavail)
    ));
    s.stop();
}

/// The peer and local address of a TCP call are the two ends of the
/// caller's connection, on a listener bound to an address (the local one
/// is then the listener's own) and on a wildcard one (asked of the
/// connection).
#[test]
fn tcp_callers_address_and_the_address_they_reached_reach_handlers() {
    type Ends = Arc<Mutex<Vec<(Peer, Option<SocketAddr>)>>>;
    let seen: Ends = Arc::default();
    let s = Server::new();
    s.set_rpcbind_registration(false);
    let record = seen.clone();
    s.register(PROG, 1, 1, move |call, _, _| {
        record.lock().unwrap().push((call.peer.clone(), call.local));
        Ok(())
    });
    let bound = s.listen_tcp("127.0.0.1", 0).unwrap();
    let wildcard = s.listen_tcp("0.0.0.0", 0).unwrap();
    s.start().unwrap();
    let mut ends = Vec::new();
    for port in [bound, wildcard] {
        let mut raw = TcpStream::connect(("127.0.0.1", port)).unwrap();
        raw.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        // A call of procedure 1 (AUTH_NONE, no arguments), record-marked.
        let mut call = (0x8000_0000u32 | 40).to_be_bytes().to_vec();
        for v in [port as u32, 0, 2, PROG, 1, 1, 0, 0, 0, 0] {
            call.extend(v.to_be_bytes());
        }
        raw.write_all(&call).unwrap();
        let mut reply = [0u8; 28];
        raw.read_exact(&mut reply).unwrap();
        assert_eq!(reply[24..], [0, 0, 0, 0], "accepted, SUCCESS");
        ends.push((raw.local_addr().unwrap(), raw.peer_addr().unwrap()));
    }
    s.stop();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    for ((peer, local), (client, server)) in seen.iter().zip(&ends) {
        assert_eq!(*peer, Peer::Tcp(*client));
        assert_eq!(*local, Some(*server));
    }
}
