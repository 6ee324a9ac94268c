//! The rpcbind client against the embedded rpcbind server, on an
//! ephemeral port (portmap v2 and rpcbind v3/v4).

use xipc::rpc::rpcbind::{self, Mapping, Rpcb, Rpcbind, IPPROTO_TCP, IPPROTO_UDP};
use xipc::rpc::{Protocol, Server};

#[test]
fn set_getport_getaddr_dump_unset() {
    let server = Server::new();
    let port = rpcbind::serve_on(&server, "127.0.0.1", 0).unwrap();
    server.start().unwrap();
    let rb = Rpcbind::with_port("127.0.0.1", port, Protocol::Tcp);
    let prog = 0x2000_4321;

    assert_eq!(rb.getport(prog, 1, Protocol::Tcp).unwrap(), 0);
    assert_eq!(rb.getaddr(prog, 1, "tcp").unwrap(), None);
    assert!(rb.set(prog, 1, Protocol::Tcp, 2049).unwrap());
    assert!(!rb.set(prog, 1, Protocol::Tcp, 2050).unwrap(), "taken");
    assert!(rb.set(prog, 1, Protocol::Udp, 2051).unwrap());
    assert_eq!(rb.getport(prog, 1, Protocol::Tcp).unwrap(), 2049);
    assert_eq!(rb.getport(prog, 1, Protocol::Udp).unwrap(), 2051);
    // GETADDR answers with the address the caller reached.
    assert_eq!(
        rb.getaddr(prog, 1, "tcp").unwrap().as_deref(),
        Some("127.0.0.1.8.1")
    );

    let dump = rb.dump().unwrap();
    assert!(dump.contains(&Mapping {
        prog,
        vers: 1,
        prot: IPPROTO_TCP,
        port: 2049
    }));
    assert!(dump.contains(&Mapping {
        prog,
        vers: 1,
        prot: IPPROTO_UDP,
        port: 2051
    }));
    assert!(dump.contains(&Mapping {
        prog: rpcbind::PROGRAM,
        vers: 2,
        prot: IPPROTO_TCP,
        port: port as u32
    }));

    // v3/v4 registrations with a netid and owner.
    let local = Rpcb {
        prog,
        vers: 2,
        netid: "local".into(),
        addr: "/run/example.sock".into(),
        owner: "tester".into(),
    };
    assert!(rb.rpcb_set(4, &local).unwrap());
    assert_eq!(
        rb.getaddr(prog, 2, "local").unwrap().as_deref(),
        Some("/run/example.sock")
    );
    assert!(rb.rpcb_dump(3).unwrap().contains(&local));

    assert!(rb.unset(prog, 1).unwrap());
    assert_eq!(rb.getport(prog, 1, Protocol::Udp).unwrap(), 0);
    let all = Rpcb {
        netid: String::new(),
        ..local
    };
    assert!(rb.rpcb_unset(3, &all).unwrap());
    assert_eq!(rb.getaddr(prog, 2, "local").unwrap(), None);

    // The same over UDP.
    let rbu = Rpcbind::with_port("127.0.0.1", port, Protocol::Udp);
    assert!(rbu.set(prog, 7, Protocol::Udp, 999).unwrap());
    assert_eq!(rbu.getport(prog, 7, Protocol::Udp).unwrap(), 999);
    server.stop();
}
