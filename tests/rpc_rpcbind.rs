//! The rpcbind client against the embedded rpcbind server, on an
//! ephemeral port (portmap v2 and rpcbind v3/v4): registration, lookup,
//! forwarding, address conversion, statistics, IPv6, who may change what,
//! and the Unix socket the embedded server takes.

use std::time::Duration;

use xipc::rpc::rpcbind::{
    self, AddrStat, Mapping, Rpcb, RpcbEntry, RpcbStat, Rpcbind, RpcbindOptions, RpcbindServer,
    IPPROTO_TCP, IPPROTO_UDP,
};
use xipc::rpc::{Protocol, Server};
use xipc::Error;

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
    // The owner is who rpcbind sees asking, not what the call claims.
    let listed = Rpcb {
        owner: "unknown".into(),
        ..local.clone()
    };
    assert!(rb.rpcb_dump(3).unwrap().contains(&listed));

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

const SERVICE: u32 = 0x2000_4322;

/// An embedded rpcbind and, registered with it over UDP, a service whose
/// version 1 has procedure 1 (echo); rpcbind's port, the service's port.
fn rpcbind_and_service() -> (Server, Server, u16, u16) {
    let rpcbind = Server::new();
    let port = rpcbind::serve_on(&rpcbind, "127.0.0.1", 0).unwrap();
    rpcbind.start().unwrap();
    let service = Server::new();
    service.set_rpcbind_registration(false);
    service.register(SERVICE, 1, 1, |_, args, out| {
        out.put_raw(args);
        Ok(())
    });
    let udp = service.listen_udp("127.0.0.1", 0).unwrap();
    service.start().unwrap();
    let rb = Rpcbind::with_port("127.0.0.1", port, Protocol::Tcp);
    assert!(rb.set(SERVICE, 1, Protocol::Udp, udp).unwrap());
    (rpcbind, service, port, udp)
}

#[test]
fn callit_and_indirect_forward_to_the_registered_service() {
    let (rpcbind, service, port, udp) = rpcbind_and_service();
    let args = [0, 0, 0, 2, b'h', b'i', 0, 0];
    let uaddr = rpcbind::format_uaddr(([127, 0, 0, 1], udp).into());
    for proto in [Protocol::Udp, Protocol::Tcp] {
        let mut rb = Rpcbind::with_port("127.0.0.1", port, proto);
        assert_eq!(
            rb.callit(SERVICE, 1, 1, &args).unwrap(),
            (udp, args.to_vec())
        );
        for vers in [3, 4] {
            assert_eq!(
                rb.rpcb_callit(vers, SERVICE, 1, 1, &args).unwrap(),
                (uaddr.clone(), args.to_vec())
            );
        }
        assert_eq!(
            rb.indirect(SERVICE, 1, 1, &args).unwrap(),
            (uaddr.clone(), args.to_vec())
        );
        // INDIRECT reports failures ...
        assert!(matches!(
            rb.indirect(SERVICE + 1, 1, 1, &[]),
            Err(Error::ProgUnavail)
        ));
        assert!(matches!(
            rb.indirect(SERVICE, 7, 1, &[]),
            Err(Error::ProgMismatch { low: 1, high: 1 })
        ));
        assert!(matches!(
            rb.indirect(SERVICE, 1, 9, &[]),
            Err(Error::ProcUnavail)
        ));
        // ... and never forwards to rpcbind itself.
        assert!(matches!(
            rb.indirect(rpcbind::PROGRAM, 2, 0, &[]),
            Err(Error::ProgUnavail)
        ));
        // CALLIT and BCAST stay silent.
        rb.set_timeout(Some(Duration::from_millis(300)));
        assert!(matches!(
            rb.callit(SERVICE + 1, 1, 1, &[]),
            Err(Error::TimedOut(_))
        ));
        assert!(matches!(
            rb.rpcb_callit(4, SERVICE, 1, 9, &[]),
            Err(Error::TimedOut(_))
        ));
    }
    service.stop();
    rpcbind.stop();
}

#[test]
fn gettime_address_conversion_getversaddr_getaddrlist() {
    let (rpcbind, service, port, udp) = rpcbind_and_service();
    let rb = Rpcbind::with_port("127.0.0.1", port, Protocol::Tcp);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32;
    assert!(rb.gettime().unwrap().abs_diff(now) <= 2);

    let v4 = [2, 0, 8, 1, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(rb.uaddr2taddr("127.0.0.1.8.1").unwrap(), v4);
    assert_eq!(rb.taddr2uaddr(&v4).unwrap(), "127.0.0.1.8.1");
    let mut v6 = vec![10, 0, 0, 111, 0, 0, 0, 0];
    v6.extend(std::net::Ipv6Addr::LOCALHOST.octets());
    v6.extend([0, 0, 0, 0]);
    assert_eq!(rb.uaddr2taddr("::1.0.111").unwrap(), v6);
    assert_eq!(rb.taddr2uaddr(&v6).unwrap(), "::1.0.111");
    assert_eq!(rb.uaddr2taddr("not an address").unwrap(), Vec::<u8>::new());
    assert_eq!(rb.taddr2uaddr(&[1, 2, 3]).unwrap(), "");

    // GETADDR falls back to another version; GETVERSADDR does not.
    let uaddr = format!("127.0.0.1.{}.{}", udp >> 8, udp & 0xff);
    assert_eq!(rb.getaddr(SERVICE, 5, "udp").unwrap(), Some(uaddr.clone()));
    assert_eq!(rb.getversaddr(SERVICE, 5, "udp").unwrap(), None);
    assert_eq!(
        rb.getversaddr(SERVICE, 1, "udp").unwrap(),
        Some(uaddr.clone())
    );

    assert!(rb.set(SERVICE, 1, Protocol::Tcp, 2049).unwrap());
    let mut list = rb.getaddrlist(SERVICE, 1).unwrap();
    list.sort_by(|a, b| a.netid.cmp(&b.netid));
    assert_eq!(
        list,
        vec![
            RpcbEntry {
                maddr: "127.0.0.1.8.1".into(),
                netid: "tcp".into(),
                semantics: 3,
                protofmly: "inet".into(),
                proto: "tcp".into(),
            },
            RpcbEntry {
                maddr: uaddr,
                netid: "udp".into(),
                semantics: 1,
                protofmly: "inet".into(),
                proto: "udp".into(),
            },
        ]
    );
    service.stop();
    rpcbind.stop();
}

#[test]
fn getstat_counts_calls_changes_and_lookups() {
    let server = Server::new();
    let port = rpcbind::serve_on(&server, "127.0.0.1", 0).unwrap();
    server.start().unwrap();
    let rb = Rpcbind::with_port("127.0.0.1", port, Protocol::Tcp);
    let prog = 0x2000_4323;
    assert!(rb.set(prog, 1, Protocol::Tcp, 700).unwrap());
    assert!(!rb.set(prog, 1, Protocol::Tcp, 701).unwrap());
    assert_eq!(rb.getport(prog, 1, Protocol::Tcp).unwrap(), 700);
    assert_eq!(rb.getport(prog, 2, Protocol::Tcp).unwrap(), 0);
    assert!(rb.unset(prog, 1).unwrap());
    assert_eq!(rb.getaddr(prog, 1, "udp").unwrap(), None); // v4 GETADDR

    let stats = rb.getstat().unwrap();
    assert_eq!(stats.len(), 3);
    let (v2, v3, v4) = (&stats[0], &stats[1], &stats[2]);
    let mut want = [0; 13];
    want[1] = 2; // SET
    want[2] = 1; // UNSET
    want[3] = 2; // GETPORT
    assert_eq!(v2.info, want);
    assert_eq!((v2.setinfo, v2.unsetinfo), (1, 1));
    assert_eq!(
        v2.addrinfo,
        vec![
            AddrStat {
                prog,
                vers: 1,
                success: 1,
                failure: 0,
                netid: "tcp".into()
            },
            AddrStat {
                prog,
                vers: 2,
                success: 0,
                failure: 1,
                netid: "tcp".into()
            },
        ]
    );
    assert_eq!(v3, &RpcbStat::default());
    let mut want = [0; 13];
    want[3] = 1; // GETADDR
    want[12] = 1; // this GETSTAT
    assert_eq!(v4.info, want);
    assert_eq!(v4.addrinfo.len(), 1);
    assert_eq!(v4.addrinfo[0].failure, 1);
    server.stop();
}

#[test]
fn registrations_are_bounded() {
    let server = Server::new();
    // rpcbind lists itself 6 times (3 versions, TCP and UDP).
    let port = rpcbind::serve_with_limit(&server, "127.0.0.1", 0, 16).unwrap();
    server.start().unwrap();
    let rb = Rpcbind::with_port("127.0.0.1", port, Protocol::Udp);
    for vers in 1..=10 {
        assert!(
            rb.set(0x2000_4324, vers, Protocol::Udp, 800).unwrap(),
            "{vers}"
        );
    }
    assert!(
        !rb.set(0x2000_4324, 11, Protocol::Udp, 800).unwrap(),
        "full"
    );
    assert!(rb.unset(0x2000_4324, 1).unwrap());
    assert!(
        rb.set(0x2000_4324, 11, Protocol::Udp, 800).unwrap(),
        "room again"
    );
    server.stop();
}

#[test]
fn ipv6_registrations() {
    let server = Server::new();
    let port = match rpcbind::serve_on(&server, "::1", 0) {
        Ok(port) => port,
        Err(e) => panic!("this test needs IPv6 on the loopback interface: {e}"),
    };
    server.start().unwrap();
    let rb = Rpcbind::with_port("::1", port, Protocol::Tcp);
    let prog = 0x2000_4325;
    let entry = |netid: &str, addr: &str| Rpcb {
        prog,
        vers: 1,
        netid: netid.into(),
        addr: addr.into(),
        owner: String::new(),
    };
    assert!(rb.rpcb_set(4, &entry("tcp6", "::.4.1")).unwrap());
    assert!(rb.rpcb_set(3, &entry("udp6", "::1.4.2")).unwrap());
    // A wildcard address comes back as the one the caller reached.
    assert_eq!(
        rb.getaddr(prog, 1, "tcp6").unwrap().as_deref(),
        Some("::1.4.1")
    );
    assert_eq!(
        rb.getaddr(prog, 1, "udp6").unwrap().as_deref(),
        Some("::1.4.2")
    );
    assert_eq!(rb.getaddr(prog, 1, "tcp").unwrap(), None);
    // rpcbind lists itself under the IPv6 netids.
    let own = rb
        .getversaddr(rpcbind::PROGRAM, 4, "tcp6")
        .unwrap()
        .unwrap();
    assert_eq!(
        rpcbind::parse_uaddr(&own).unwrap(),
        format!("[::1]:{port}").parse().unwrap()
    );
    let dump = rb.rpcb_dump(4).unwrap();
    assert!(dump
        .iter()
        .any(|e| e.prog == prog && e.netid == "udp6" && e.addr == "::1.4.2"));
    let all = Rpcb {
        netid: String::new(),
        ..entry("", "")
    };
    assert!(rb.rpcb_unset(4, &all).unwrap());
    assert_eq!(rb.getaddr(prog, 1, "udp6").unwrap(), None);
    server.stop();
}

/// Changes through a Unix socket carry the caller's uid: entries belong to
/// whoever made them, and others (but root) cannot remove them.
#[test]
fn unset_only_by_the_owner_or_root() {
    let dir = std::env::temp_dir().join(format!("xipc-rpcbind-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("rpcbind.sock");
    let server = Server::new();
    let port = rpcbind::serve_on(&server, "127.0.0.1", 0).unwrap();
    server.listen_unix_with_mode(&path, 0o666).unwrap();
    server.start().unwrap();
    let over_tcp = Rpcbind::with_port("127.0.0.1", port, Protocol::Tcp);
    let as_root = Rpcbind::with_port(path.to_str().unwrap(), 0, Protocol::Unix);
    let prog = 0x2000_4326;
    // Root registers over the Unix socket: owner "superuser".
    assert!(as_root.set(prog, 1, Protocol::Tcp, 900).unwrap());
    let owner = |rb: &Rpcbind| {
        rb.rpcb_dump(4)
            .unwrap()
            .into_iter()
            .find(|e| e.prog == prog)
            .map(|e| e.owner)
    };
    assert_eq!(owner(&over_tcp).as_deref(), Some("superuser"));
    // An unidentified caller (TCP) may not remove it ...
    assert!(!over_tcp.unset(prog, 1).unwrap());
    assert_eq!(over_tcp.getport(prog, 1, Protocol::Tcp).unwrap(), 900);
    // ... but may remove what it made itself, and root anything.
    assert!(over_tcp.set(prog, 2, Protocol::Tcp, 901).unwrap());
    assert_eq!(
        over_tcp
            .rpcb_dump(3)
            .unwrap()
            .into_iter()
            .find(|e| e.prog == prog && e.vers == 2)
            .map(|e| e.owner)
            .as_deref(),
        Some("unknown")
    );
    assert!(over_tcp.unset(prog, 2).unwrap());
    assert!(as_root.unset(prog, 1).unwrap());
    server.stop();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The embedded rpcbind takes its Unix socket as every Unix listener does:
/// a file that is not a socket fails the start and keeps its bytes; the
/// socket of a server that is listening stays that server's; the socket
/// file a killed server left is replaced.
#[test]
fn the_local_socket_replaces_only_a_stale_socket_file() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::os::unix::net::{UnixListener, UnixStream};

    let dir = std::env::temp_dir().join(format!("xipc-rpcbind-local-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("rpcbind.sock");
    let inode = || std::fs::symlink_metadata(&path).unwrap().ino();
    let options = RpcbindOptions::new()
        .listen("127.0.0.1")
        .port(0)
        .local_socket(&path);

    // A regular file: a clear error, and the file is untouched.
    std::fs::write(&path, b"not a socket").unwrap();
    match RpcbindServer::start(&options) {
        Err(Error::Exists(message)) => assert!(
            message.contains(path.to_str().unwrap()) && message.contains("not a socket"),
            "{message}"
        ),
        Err(e) => panic!("a regular file at the socket path gave {e:?}"),
        Ok(server) => panic!("started over a regular file: {:?}", server.listeners()),
    }
    assert_eq!(std::fs::read(&path).unwrap(), b"not a socket");
    std::fs::remove_file(&path).unwrap();

    // A server listening there keeps its socket: rpcbind serves on no Unix
    // socket, and a connection to the path still reaches that server (an
    // inode number alone could be reused by a replacement file).
    let live = UnixListener::bind(&path).unwrap();
    live.set_nonblocking(true).unwrap();
    let live_inode = inode();
    let server = RpcbindServer::start(&options).unwrap();
    assert_eq!(server.local_socket(), None);
    assert!(
        !server.listeners().iter().any(|l| l.starts_with("local ")),
        "{:?}",
        server.listeners()
    );
    assert_eq!(inode(), live_inode);
    let _caller = UnixStream::connect(&path).unwrap();
    live.accept()
        .expect("the connection reached the server listening there");
    server.stop();
    drop(server);
    assert_eq!(inode(), live_inode, "stopping rpcbind touched the file");
    drop(live);
    std::fs::remove_file(&path).unwrap();

    // What a killed server leaves: a socket file nothing listens on. (Made
    // from a socket that never listened: a closed listener could live on
    // for a moment in a child another test thread forks, and look alive.)
    let stale = nix::sys::socket::socket(
        nix::sys::socket::AddressFamily::Unix,
        nix::sys::socket::SockType::Stream,
        nix::sys::socket::SockFlag::SOCK_CLOEXEC,
        None,
    )
    .unwrap();
    nix::sys::socket::bind(
        std::os::fd::AsRawFd::as_raw_fd(&stale),
        &nix::sys::socket::UnixAddr::new(&path).unwrap(),
    )
    .unwrap();
    drop(stale);
    let server = RpcbindServer::start(&options).unwrap();
    assert_eq!(server.local_socket(), Some(path.as_path()));
    assert!(server
        .listeners()
        .contains(&format!("local {}", path.display())));
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o666);
    let over_unix = Rpcbind::with_port(path.to_str().unwrap(), 0, Protocol::Unix);
    let prog = 0x2000_4327;
    assert!(over_unix.set(prog, 1, Protocol::Tcp, 902).unwrap());
    assert_eq!(over_unix.getport(prog, 1, Protocol::Tcp).unwrap(), 902);
    server.stop();
    assert!(!path.exists(), "the stopped rpcbind left its socket file");
    std::fs::remove_dir_all(&dir).unwrap();
}
