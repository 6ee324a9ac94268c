//! The RPC client and server against each other, and against hand-made
//! peers that misbehave on purpose.

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::socket::{getpeername, getsockname, getsockopt, sockopt, SockType, SockaddrIn};
use xipc::rpc::message::{AcceptStat, ReplyHeader};
use xipc::rpc::{AuthSys, Client, Credential, Protocol, Server};
use xipc::xdr::{Decoder, Encoder};
use xipc::Error;

const PROG: u32 = 0x2000_1234;

fn uint(v: u32) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}

/// Runs `each(i)` for i in 0..n, each on its own thread, all at once; a
/// panic in any of them fails the test.
fn on_threads(n: u32, each: impl Fn(u32) + Sync) {
    let each = &each;
    std::thread::scope(|scope| {
        for i in 0..n {
            scope.spawn(move || each(i));
        }
    });
}

/// A server with: 1 echo, 2 add two uints, 3 GARBAGE_ARGS, 4 SYSTEM_ERR,
/// 5 panic, 6 sleep 300 ms then echo, 7 count calls, 8 caller's uid, on
/// versions 2 and 3 (3 has only echo).
fn test_server() -> (Server, Arc<AtomicU32>) {
    let s = Server::new();
    s.set_rpcbind_registration(false);
    let count = Arc::new(AtomicU32::new(0));
    s.register(PROG, 2, 1, |_, args, out| {
        out.put_raw(args);
        Ok(())
    });
    s.register(PROG, 2, 2, |_, args, out| {
        let mut d = Decoder::new(args);
        let (a, b) = (d.get_uint()?, d.get_uint()?);
        d.finish().map_err(|_| Error::GarbageArgs)?;
        out.put_uint(a.wrapping_add(b));
        Ok(())
    });
    s.register(PROG, 2, 3, |_, _, _| Err(Error::GarbageArgs));
    s.register(PROG, 2, 4, |_, _, _| {
        Err(Error::Internal("handler failed".into()))
    });
    s.register(PROG, 2, 5, |_, _, _| panic!("handler panics on purpose"));
    s.register(PROG, 2, 6, |_, args, out| {
        std::thread::sleep(Duration::from_millis(300));
        out.put_raw(args);
        Ok(())
    });
    let c = count.clone();
    s.register(PROG, 2, 7, move |_, _, out| {
        out.put_uint(c.fetch_add(1, Ordering::SeqCst) + 1);
        Ok(())
    });
    s.register(PROG, 2, 8, |info, _, e| match &info.cred {
        Credential::Sys(sys) => {
            e.put_uint(sys.uid);
            e.put_string(&sys.machine_name)?;
            e.put_uint_array(&sys.gids)?;
            Ok(())
        }
        _ => {
            e.put_uint(u32::MAX);
            Ok(())
        }
    });
    s.register(PROG, 3, 1, |_, args, out| {
        out.put_raw(args);
        Ok(())
    });
    (s, count)
}

fn started() -> (Server, Arc<AtomicU32>, u16, u16) {
    let (s, count) = test_server();
    let tcp = s.listen_tcp("127.0.0.1", 0).unwrap();
    let udp = s.listen_udp("127.0.0.1", 0).unwrap();
    s.start().unwrap();
    (s, count, tcp, udp)
}

#[test]
fn calls_round_trip_on_tcp_udp_and_unix() {
    let (s, _, tcp, udp) = started();
    let dir = std::env::temp_dir().join(format!("xipc-rpc-test-{}", std::process::id()));
    let _ = std::fs::remove_file(&dir);
    s.listen_unix(&dir).unwrap();
    let clients = [
        Client::connect("127.0.0.1", tcp, PROG, 2, Protocol::Tcp).unwrap(),
        Client::connect("127.0.0.1", udp, PROG, 2, Protocol::Udp).unwrap(),
        Client::connect(dir.to_str().unwrap(), 0, PROG, 2, Protocol::Unix).unwrap(),
    ];
    for c in &clients {
        c.ping().unwrap();
        assert_eq!(c.call(1, b"\0\0\0\x05abc\0").unwrap(), b"\0\0\0\x05abc\0");
        let mut args = uint(40);
        args.extend(uint(2));
        assert_eq!(c.call(2, &args).unwrap(), uint(42));
    }
    s.stop();
    assert!(!dir.exists(), "stop removes the Unix socket file");
}

/// Calls go through with busy polling off, short and at its longest on
/// both sides (TCP and UDP), and a busy poll over 1 s is refused.
#[test]
fn calls_go_through_whatever_the_busy_poll() {
    let (s, _, tcp, udp) = started();
    let clients = [
        Client::connect("127.0.0.1", tcp, PROG, 2, Protocol::Tcp).unwrap(),
        Client::connect("127.0.0.1", udp, PROG, 2, Protocol::Udp).unwrap(),
    ];
    for poll in [0, 1, 200, 1_000_000].map(Duration::from_micros) {
        s.set_busy_poll(poll).unwrap();
        for c in &clients {
            c.set_busy_poll(poll).unwrap();
            assert_eq!(
                c.call(1, b"\0\0\0\x01x\0\0\0").unwrap(),
                b"\0\0\0\x01x\0\0\0"
            );
        }
    }
    let over = Duration::from_micros(1_000_001);
    assert!(matches!(
        s.set_busy_poll(over),
        Err(Error::InvalidArgument(_))
    ));
    for c in &clients {
        assert!(matches!(
            c.set_busy_poll(over),
            Err(Error::InvalidArgument(_))
        ));
        c.ping().unwrap();
    }
    s.stop();
}

#[test]
fn every_error_status_is_its_own_error() {
    let (s, _, tcp, udp) = started();
    for (port, proto) in [(tcp, Protocol::Tcp), (udp, Protocol::Udp)] {
        let c = Client::connect("127.0.0.1", port, PROG, 2, proto).unwrap();
        assert!(matches!(c.call(99, &[]), Err(Error::ProcUnavail)));
        assert!(matches!(c.call(3, &[]), Err(Error::GarbageArgs)));
        assert!(matches!(c.call(2, &[0, 0, 0, 1]), Err(Error::GarbageArgs)));
        assert!(matches!(c.call(4, &[]), Err(Error::SystemErr)));
        assert!(matches!(c.call(5, &[]), Err(Error::SystemErr)));
        // The panic did not take the server down.
        assert_eq!(c.call(1, &uint(7)).unwrap(), uint(7));
        let v9 = Client::connect("127.0.0.1", port, PROG, 9, proto).unwrap();
        assert!(matches!(
            v9.call(1, &[]),
            Err(Error::ProgMismatch { low: 2, high: 3 })
        ));
        let other = Client::connect("127.0.0.1", port, PROG + 1, 1, proto).unwrap();
        assert!(matches!(other.call(1, &[]), Err(Error::ProgUnavail)));
    }
    s.stop();
}

#[test]
fn handler_reads_auth_sys_credentials() {
    let (s, _, tcp, _) = started();
    let c = Client::connect("127.0.0.1", tcp, PROG, 2, Protocol::Tcp).unwrap();
    assert_eq!(c.call(8, &[]).unwrap(), uint(u32::MAX));
    let sys = AuthSys {
        stamp: 5,
        machine_name: "client-host".into(),
        uid: 1234,
        gid: 55,
        gids: (1..=16).collect(),
    };
    c.set_credential(&Credential::Sys(sys)).unwrap();
    let reply = c.call(8, &[]).unwrap();
    let mut d = Decoder::new(&reply);
    assert_eq!(d.get_uint().unwrap(), 1234);
    assert_eq!(d.get_string(None).unwrap(), "client-host");
    assert_eq!(
        d.get_uint_array(None).unwrap(),
        (1..=16).collect::<Vec<_>>()
    );
    s.stop();
}

/// Sends raw bytes as one record and returns the reply record (or None if
/// the server closed the connection).
fn raw_call(stream: &mut TcpStream, msg: &[u8]) -> Option<Vec<u8>> {
    stream.write_all(&records(&[msg.to_vec()])).ok()?;
    read_reply(stream)
}

fn call_header(xid: u32, rpcvers: u32, procedure: u32) -> Vec<u8> {
    let mut e = Encoder::new();
    for v in [xid, 0, rpcvers, PROG, 2, procedure, 0, 0, 0, 0] {
        e.put_uint(v);
    }
    e.into_bytes()
}

#[test]
fn malformed_calls_get_the_right_reply_and_the_server_goes_on() {
    let (s, _, tcp, _) = started();
    let mut raw = TcpStream::connect(("127.0.0.1", tcp)).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(5))).unwrap();

    // rpcvers 3: MSG_DENIED, RPC_MISMATCH 2..2.
    let reply = raw_call(&mut raw, &call_header(0x51, 3, 1)).unwrap();
    #[rustfmt::skip]
    assert_eq!(reply, [0,0,0,0x51, 0,0,0,1, 0,0,0,1, 0,0,0,0, 0,0,0,2, 0,0,0,2]);

    // Unknown credential flavor 300: AUTH_ERROR, AUTH_REJECTEDCRED.
    let mut msg = call_header(0x52, 2, 1);
    msg[27] = 44; // cred flavor 300
    msg[26] = 1;
    let reply = raw_call(&mut raw, &msg).unwrap();
    #[rustfmt::skip]
    assert_eq!(reply, [0,0,0,0x52, 0,0,0,1, 0,0,0,1, 0,0,0,1, 0,0,0,2]);

    // Truncated arguments to "add": GARBAGE_ARGS.
    let mut msg = call_header(0x53, 2, 2);
    msg.extend(uint(1));
    let reply = raw_call(&mut raw, &msg).unwrap();
    assert_eq!(
        reply,
        ReplyHeader::accepted(0x53, AcceptStat::GarbageArgs).to_message(&[])
    );

    // Credential length 0xFFFFFFF0: AUTH_BADCRED, nothing allocated.
    let mut msg = call_header(0x54, 2, 1);
    msg[28..32].copy_from_slice(&0xFFFF_FFF0u32.to_be_bytes());
    let reply = raw_call(&mut raw, &msg).unwrap();
    #[rustfmt::skip]
    assert_eq!(reply, [0,0,0,0x54, 0,0,0,1, 0,0,0,1, 0,0,0,1, 0,0,0,1]);

    // A hostile record length: the server closes this connection ...
    raw.write_all(&[0xFF, 0xFF, 0xFF, 0xF0, 1, 2, 3, 4])
        .unwrap();
    let mut buf = [0u8; 4];
    assert_eq!(raw.read(&mut buf).unwrap_or(0), 0);
    // ... and goes on serving others.
    let c = Client::connect("127.0.0.1", tcp, PROG, 2, Protocol::Tcp).unwrap();
    c.ping().unwrap();
    s.stop();
}

/// A fake stream server that answers two calls in reverse order, after a
/// stray reply nobody asked for.
#[test]
fn concurrent_calls_on_one_connection_are_matched_by_xid() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let fake = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut calls = Vec::new();
        for _ in 0..2 {
            let mut h = [0u8; 4];
            s.read_exact(&mut h).unwrap();
            let mut body = vec![0; (u32::from_be_bytes(h) & 0x7fff_ffff) as usize];
            s.read_exact(&mut body).unwrap();
            calls.push(body);
        }
        let reply = |xid: u32, results: &[u8]| {
            let m = ReplyHeader::accepted(xid, AcceptStat::Success).to_message(results);
            let mut f = ((m.len() as u32) | 0x8000_0000).to_be_bytes().to_vec();
            f.extend(m);
            f
        };
        s.write_all(&reply(0xdead_beef, b"stry")).unwrap();
        for call in calls.iter().rev() {
            let xid = u32::from_be_bytes(call[..4].try_into().unwrap());
            // Echo the argument (the last 4 bytes).
            s.write_all(&reply(xid, &call[call.len() - 4..])).unwrap();
        }
        // Open until the client has closed its end.
        let _ = s.read(&mut [0u8; 1]);
    });
    let c = Arc::new(Client::connect("127.0.0.1", port, PROG, 2, Protocol::Tcp).unwrap());
    let threads: Vec<_> = (0..2u32)
        .map(|i| {
            let c = c.clone();
            std::thread::spawn(move || c.call(1, &uint(i)).unwrap())
        })
        .collect();
    let got: Vec<Vec<u8>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(got, vec![uint(0), uint(1)]);
    drop(c); // the fake server waits for the client to close
    fake.join().unwrap();
}

#[test]
fn many_threads_share_one_client() {
    let (s, count, tcp, udp) = started();
    for (port, proto) in [(tcp, Protocol::Tcp), (udp, Protocol::Udp)] {
        let c = Client::connect("127.0.0.1", port, PROG, 2, proto).unwrap();
        on_threads(8, |i| {
            for j in 0..200u32 {
                let v = i * 1000 + j;
                assert_eq!(c.call(1, &uint(v)).unwrap(), uint(v));
            }
            c.call(7, &[]).unwrap();
        });
    }
    assert_eq!(count.load(Ordering::SeqCst), 16);
    s.stop();
}

#[test]
fn a_silent_server_times_out_in_time() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let c = Client::connect("127.0.0.1", port, PROG, 2, Protocol::Udp).unwrap();
    c.set_timeout(Some(Duration::from_millis(1200))).unwrap();
    let t = Instant::now();
    assert!(matches!(c.call(1, &[]), Err(Error::TimedOut(_))));
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(1190) && took < Duration::from_millis(2400),
        "{took:?}"
    );
    // It retransmitted: 250 ms, then 500 ms later (the next would be 1 s
    // after that, past the timeout).
    silent.set_nonblocking(true).unwrap();
    let mut n = 0;
    let mut buf = [0u8; 1024];
    while silent.recv(&mut buf).is_ok() {
        n += 1;
    }
    assert!(n >= 3, "sent {n} datagrams");

    // A call's own timeout overrides the client's.
    let t = Instant::now();
    let err = c
        .call_with_timeout(1, &[], Some(Duration::from_millis(300)))
        .unwrap_err();
    assert!(matches!(err, Error::TimedOut(_)), "{err}");
    assert!(t.elapsed() < Duration::from_millis(700));
}

#[test]
fn server_killed_mid_call_gives_a_clear_error() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut h = [0u8; 8];
        let _ = s.read(&mut h);
        // Dies holding the call.
    });
    let c = Client::connect("127.0.0.1", port, PROG, 2, Protocol::Tcp).unwrap();
    c.set_timeout(Some(Duration::from_secs(5))).unwrap();
    let t = Instant::now();
    let err = c.call(1, &[]).unwrap_err();
    assert!(matches!(err, Error::Closed(_)), "{err}");
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[test]
fn stream_client_reconnects_when_asked() {
    let (s, _, tcp, _) = started();
    s.set_idle_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let c = Client::connect("127.0.0.1", tcp, PROG, 2, Protocol::Tcp).unwrap();
    c.ping().unwrap();
    // The first connection was accepted before the new idle timeout; use a
    // fresh server connection to see it close.
    let c = Client::connect("127.0.0.1", tcp, PROG, 2, Protocol::Tcp).unwrap();
    c.ping().unwrap();
    support::wait_for(
        "the idle connections to close",
        Duration::from_secs(5),
        || s.connection_count() == 0,
    );
    let before = local_port(c.as_raw_fd());
    assert!(matches!(c.call(1, &[]), Err(Error::Closed(_))));
    c.set_reconnect(true);
    assert_eq!(c.call(1, &uint(3)).unwrap(), uint(3));
    // The descriptor is the new connection's.
    assert_ne!(local_port(c.as_raw_fd()), before);
    s.stop();
}

fn local_port(fd: std::os::fd::RawFd) -> u16 {
    getsockname::<SockaddrIn>(fd).unwrap().port()
}

#[test]
fn the_clients_descriptor_is_its_socket() {
    let (s, _, tcp, udp) = started();
    let path = std::env::temp_dir().join(format!("xipc-rpc-fd-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    s.listen_unix(&path).unwrap();
    let cases = [
        (Protocol::Tcp, "127.0.0.1", tcp, SockType::Stream),
        (Protocol::Udp, "127.0.0.1", udp, SockType::Datagram),
        (Protocol::Unix, path.to_str().unwrap(), 0, SockType::Stream),
    ];
    for (proto, host, port, kind) in cases {
        let c = Client::connect(host, port, PROG, 2, proto).unwrap();
        let fd = c.as_raw_fd();
        // SAFETY: the client keeps the descriptor open while it is borrowed.
        let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        assert_eq!(
            getsockopt(&borrowed, sockopt::SockType).unwrap(),
            kind,
            "{proto:?}"
        );
        if proto != Protocol::Unix {
            // TCP: the connection; UDP: the client's own socket, connected
            // to the server's address.
            let peer: SockaddrIn = getpeername(fd).unwrap();
            assert_eq!(peer.port(), port, "{proto:?}");
            assert_ne!(local_port(fd), port, "{proto:?}");
        }
        c.ping().unwrap();
    }
    s.stop();
}

#[test]
fn idle_connections_time_out() {
    let (s, _, tcp, _) = started();
    s.set_idle_timeout(Some(Duration::from_millis(150)))
        .unwrap();
    let c = Client::connect("127.0.0.1", tcp, PROG, 2, Protocol::Tcp).unwrap();
    c.ping().unwrap();
    assert_eq!(s.connection_count(), 1);
    let idle = Instant::now();
    support::wait_for(
        "the idle connection to close",
        Duration::from_secs(5),
        || s.connection_count() == 0,
    );
    assert!(
        idle.elapsed() >= Duration::from_millis(140),
        "{:?}",
        idle.elapsed()
    );
    s.stop();
}

#[test]
fn batched_calls_run_without_waiting() {
    let (s, count, tcp, _) = started();
    // In order, one at a time, as libtirpc runs a batch.
    s.set_concurrent_calls_per_connection(1).unwrap();
    let c = Client::connect("127.0.0.1", tcp, PROG, 2, Protocol::Tcp).unwrap();
    for _ in 0..10 {
        c.call_batched(7, &[]).unwrap();
    }
    // A normal call after the batch flushes it; the batch's replies are dropped.
    assert_eq!(c.call(7, &[]).unwrap(), uint(11));
    assert_eq!(count.load(Ordering::SeqCst), 11);
    s.stop();
}

#[test]
fn stop_is_graceful_for_calls_in_progress() {
    let s = Server::new();
    s.set_rpcbind_registration(false);
    // The handler says when it runs, and finishes when the test lets it.
    let (entered, inside) = std::sync::mpsc::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let released = std::sync::Mutex::new(released);
    s.register(PROG, 2, 1, move |_, args, out| {
        entered.send(()).unwrap();
        released.lock().unwrap().recv().unwrap();
        out.put_raw(args);
        Ok(())
    });
    let tcp = s.listen_tcp("127.0.0.1", 0).unwrap();
    s.start().unwrap();
    let c = Client::connect("127.0.0.1", tcp, PROG, 2, Protocol::Tcp).unwrap();
    let call = std::thread::spawn(move || c.call(1, &uint(9)));
    inside.recv().unwrap();
    let stopping = {
        let s = s.clone();
        std::thread::spawn(move || s.stop())
    };
    // Stopping closes the listener at once, and waits for the call.
    support::wait_for("the listener to close", Duration::from_secs(5), || {
        TcpStream::connect(("127.0.0.1", tcp)).is_err()
    });
    assert!(
        !stopping.is_finished(),
        "stop returned while a call was in progress"
    );
    release.send(()).unwrap();
    stopping.join().unwrap();
    assert_eq!(call.join().unwrap().unwrap(), uint(9));
}

#[test]
fn serve_forever_returns_once_stopped_even_if_stopped_first() {
    // Stopped before it ever served: serve_forever returns at once, Ok.
    let (s, _) = test_server();
    s.stop();
    s.serve_forever().unwrap();
    assert!(s.start().is_err(), "a stopped server does not start again");

    // Stopped from another thread while serving: it returns after stop.
    let (s, _, tcp, _) = started();
    let stopper = {
        let s = s.clone();
        std::thread::spawn(move || {
            // Served: a call is answered.
            let c = Client::connect("127.0.0.1", tcp, PROG, 2, Protocol::Tcp).unwrap();
            c.ping().unwrap();
            s.stop();
        })
    };
    s.serve_forever().unwrap();
    assert!(TcpStream::connect(("127.0.0.1", tcp)).is_err());
    stopper.join().unwrap();
}

/// The soft and hard limits on open files, from /proc/self/limits.
fn open_file_limits() -> (u64, u64) {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let nums: Vec<u64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    (nums[0], nums[1])
}

/// Makes room for `need` descriptors, raising the soft limit (up to the
/// hard one) with util-linux's prlimit when it is lower.
fn ensure_open_files(need: u64) {
    let (soft, hard) = open_file_limits();
    if soft < need && hard >= need {
        let status = std::process::Command::new("prlimit")
            .arg(format!("--pid={}", std::process::id()))
            .arg(format!("--nofile={need}:{hard}"))
            .status();
        assert!(
            matches!(status, Ok(s) if s.success()),
            "could not raise the open-file limit with prlimit (util-linux): {status:?}"
        );
    }
    let (soft, _) = open_file_limits();
    assert!(
        soft >= need,
        "this test needs {need} open files; `ulimit -n` allows {soft}: raise it"
    );
}

#[test]
fn a_thousand_concurrent_connections() {
    // Per connection: the client's socket and its reading duplicate, the
    // server's socket, its reading duplicate and its shutdown handle.
    ensure_open_files(6000);
    let (s, _, tcp, _) = started();
    let clients: Vec<Client> = (0..1000)
        .map(|_| Client::connect("127.0.0.1", tcp, PROG, 2, Protocol::Tcp).unwrap())
        .collect();
    let clients = Arc::new(clients);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let clients = clients.clone();
            std::thread::spawn(move || {
                for (i, c) in clients.iter().enumerate().skip(t).step_by(4) {
                    assert_eq!(c.call(1, &uint(i as u32)).unwrap(), uint(i as u32));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(s.connection_count(), 1000);
    drop(clients);
    s.stop();
}

/// A UDP proxy that drops the first `drop` replies from the server.
fn lossy_proxy(server_port: u16, drop: usize) -> u16 {
    let front = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = front.local_addr().unwrap().port();
    let back = UdpSocket::bind("127.0.0.1:0").unwrap();
    back.connect(("127.0.0.1", server_port)).unwrap();
    let back2 = back.try_clone().unwrap();
    let front2 = front.try_clone().unwrap();
    let client = Arc::new(std::sync::Mutex::new(None));
    let client2 = client.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        while let Ok((n, from)) = front.recv_from(&mut buf) {
            *client.lock().unwrap() = Some(from);
            let _ = back.send(&buf[..n]);
        }
    });
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        let mut dropped = 0;
        while let Ok(n) = back2.recv(&mut buf) {
            if dropped < drop {
                dropped += 1;
                continue;
            }
            if let Some(to) = *client2.lock().unwrap() {
                let _ = front2.send_to(&buf[..n], to);
            }
        }
    });
    port
}

#[test]
fn udp_retransmits_and_the_duplicate_cache_runs_the_call_once() {
    let (s, count, _, udp) = started();
    s.set_duplicate_cache(64);
    let port = lossy_proxy(udp, 2);
    let c = Client::connect("127.0.0.1", port, PROG, 2, Protocol::Udp).unwrap();
    c.set_timeout(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(c.call(7, &[]).unwrap(), uint(1));
    assert_eq!(
        count.load(Ordering::SeqCst),
        1,
        "the counter ran exactly once"
    );
    s.stop();

    // Without the cache the same loss runs the handler three times.
    let (s, count, _, udp) = started();
    let port = lossy_proxy(udp, 2);
    let c = Client::connect("127.0.0.1", port, PROG, 2, Protocol::Udp).unwrap();
    assert_eq!(c.call(7, &[]).unwrap(), uint(3));
    assert_eq!(count.load(Ordering::SeqCst), 3);
    s.stop();
}

#[test]
fn message_size_limits_on_both_sides() {
    let (s, _, tcp, udp) = started();
    s.set_max_message_size(1000).unwrap();
    let c = Client::connect("127.0.0.1", tcp, PROG, 2, Protocol::Tcp).unwrap();
    c.set_max_message_size(100).unwrap();
    let big = vec![0u8; 200];
    assert!(matches!(
        c.call(1, &big),
        Err(Error::MessageTooLarge { limit: 100, .. })
    ));
    // Nothing was sent: the connection is still usable.
    assert_eq!(c.call(1, &uint(1)).unwrap(), uint(1));
    // A call over the server's limit closes that connection.
    c.set_max_message_size(1 << 20).unwrap();
    assert!(matches!(c.call(1, &vec![0u8; 2000]), Err(Error::Closed(_))));
    let u = Client::connect("127.0.0.1", udp, PROG, 2, Protocol::Udp).unwrap();
    assert!(matches!(
        u.call(1, &vec![0u8; 70000]),
        Err(Error::MessageTooLarge { limit: 65507, .. })
    ));
    s.stop();
}

/// A server whose procedure 1 returns only once `n` calls are inside it at
/// the same time (SYSTEM_ERR after `patience` otherwise).
fn rendezvous_server(n: usize, patience: Duration) -> Server {
    let s = Server::new();
    s.set_rpcbind_registration(false);
    let inside = Arc::new((std::sync::Mutex::new(0usize), std::sync::Condvar::new()));
    s.register(PROG, 2, 1, move |_, args, out| {
        let (m, cv) = &*inside;
        let mut arrived = m.lock().unwrap();
        *arrived += 1;
        cv.notify_all();
        let (arrived, wait) = cv
            .wait_timeout_while(arrived, patience, |a| *a < n)
            .unwrap();
        if wait.timed_out() {
            return Err(Error::Internal(format!("only {} calls arrived", *arrived)));
        }
        out.put_raw(args);
        Ok(())
    });
    s
}

/// With the defaults, calls that several threads make through one client
/// are in flight together on its one connection and run together: each
/// call here returns only once all of them are inside the server, which
/// could never happen if they were serialized on either side.
#[test]
fn calls_through_one_client_overlap_by_default() {
    const N: usize = 6;
    let dir = std::env::temp_dir().join(format!("xipc-rpc-overlap-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&dir);
    for proto in [Protocol::Tcp, Protocol::Unix] {
        let s = rendezvous_server(N, Duration::from_secs(10));
        let c = match proto {
            Protocol::Tcp => {
                let port = s.listen_tcp("127.0.0.1", 0).unwrap();
                s.start().unwrap();
                Client::connect("127.0.0.1", port, PROG, 2, proto).unwrap()
            }
            _ => {
                s.listen_unix(&dir).unwrap();
                s.start().unwrap();
                Client::connect(dir.to_str().unwrap(), 0, PROG, 2, proto).unwrap()
            }
        };
        let c = Arc::new(c);
        let threads: Vec<_> = (0..N as u32)
            .map(|i| {
                let c = c.clone();
                std::thread::spawn(move || c.call(1, &uint(i)))
            })
            .collect();
        for (i, t) in threads.into_iter().enumerate() {
            assert_eq!(t.join().unwrap().unwrap(), uint(i as u32), "{proto:?}");
        }
        assert_eq!(s.connection_count(), 1, "one connection carried them all");
        s.stop();
    }
}

/// With one call at a time per connection the same calls cannot meet: the
/// first one waits in vain and fails, proving the test above can fail.
#[test]
fn one_call_per_connection_serializes() {
    let s = rendezvous_server(2, Duration::from_secs(1));
    let port = s.listen_tcp("127.0.0.1", 0).unwrap();
    s.set_concurrent_calls_per_connection(1).unwrap();
    s.start().unwrap();
    let c = Arc::new(Client::connect("127.0.0.1", port, PROG, 2, Protocol::Tcp).unwrap());
    c.set_timeout(Some(Duration::from_secs(30))).unwrap();
    let t = Instant::now();
    let threads: Vec<_> = (0..2u32)
        .map(|i| {
            let c = c.clone();
            std::thread::spawn(move || c.call(1, &uint(i)))
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(
        results.iter().any(|r| matches!(r, Err(Error::SystemErr))),
        "{results:?}"
    );
    assert!(t.elapsed() >= Duration::from_secs(1));
    s.stop();
}

/// Calls in flight together on one connection are served together: six
/// calls written at once on one raw connection, each of which returns only
/// once all six are inside the server. Run one after another they could
/// never meet (`one_call_per_connection_serializes` shows the rendezvous
/// failing then); the same through a shared client is
/// `calls_through_one_client_overlap_by_default`.
#[test]
fn calls_in_flight_on_one_connection_are_served_together() {
    const N: u32 = 6;
    let s = rendezvous_server(N as usize, Duration::from_secs(10));
    let tcp = s.listen_tcp("127.0.0.1", 0).unwrap();
    s.start().unwrap();
    let mut raw = TcpStream::connect(("127.0.0.1", tcp)).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let calls: Vec<Vec<u8>> = (0..N)
        .map(|i| [call_header(0x500 + i, 2, 1), uint(i)].concat())
        .collect();
    raw.write_all(&records(&calls)).unwrap();
    let mut got: Vec<Vec<u8>> = (0..N)
        .map(|i| read_reply(&mut raw).unwrap_or_else(|| panic!("reply {i} missing")))
        .collect();
    got.sort();
    let want: Vec<Vec<u8>> = (0..N)
        .map(|i| ReplyHeader::accepted(0x500 + i, AcceptStat::Success).to_message(&uint(i)))
        .collect();
    assert_eq!(got, want, "every call met the others and was answered");
    s.stop();
}

/// A TCP peer that accepts one connection, reads the call and then runs
/// `answer` on the connection, keeping it open until the test ends.
fn scripted_peer(answer: fn(&mut TcpStream)) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut buf = [0u8; 512];
        let _ = s.read(&mut buf);
        answer(&mut s);
        // Open until the client has closed its end.
        while matches!(s.read(&mut buf), Ok(1..)) {}
    });
    port
}

#[test]
fn a_silent_tcp_server_times_out_in_time() {
    let port = scripted_peer(|_| {});
    let c = Client::connect("127.0.0.1", port, PROG, 2, Protocol::Tcp).unwrap();
    c.set_timeout(Some(Duration::from_millis(300))).unwrap();
    let t = Instant::now();
    let err = c.call(1, &[]).unwrap_err();
    assert!(matches!(err, Error::TimedOut(_)), "{err}");
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(290) && took < Duration::from_secs(2),
        "{took:?}"
    );
}

#[test]
fn a_reply_cut_off_mid_record_fails_in_time() {
    // A record mark promising 100 bytes, then 8 of them, then nothing.
    let port = scripted_peer(|s| {
        s.write_all(&[0x80, 0, 0, 100, 0, 0, 0, 1, 0, 0, 0, 1])
            .unwrap();
    });
    let c = Client::connect("127.0.0.1", port, PROG, 2, Protocol::Tcp).unwrap();
    c.set_timeout(Some(Duration::from_millis(300))).unwrap();
    let t = Instant::now();
    let err = c.call(1, &[]).unwrap_err();
    // The stream is out of step: the connection is given up.
    assert!(matches!(err, Error::Closed(_)), "{err}");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert!(matches!(c.call(1, &[]), Err(Error::Closed(_))));
}

#[test]
fn large_calls_from_many_threads_arrive_whole() {
    let (s, _, tcp, _) = started();
    let path = std::env::temp_dir().join(format!("xipc-rpc-large-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    s.listen_unix(&path).unwrap();
    for c in [
        Client::connect("127.0.0.1", tcp, PROG, 2, Protocol::Tcp).unwrap(),
        Client::connect(path.to_str().unwrap(), 0, PROG, 2, Protocol::Unix).unwrap(),
    ] {
        // Sizes on both sides of the copy threshold, written by 16
        // threads at once: queued records must not interleave.
        on_threads(16, |i| {
            for round in 0..8u32 {
                let n = [4, 1020, 1024, 70_000, 200_000][((i + round) % 5) as usize];
                let fill = (i * 8 + round) as u8;
                let arg: Vec<u8> = (0..n).map(|k| fill ^ (k as u8)).collect();
                assert_eq!(c.call(1, &arg).unwrap(), arg, "thread {i} round {round}");
            }
        });
    }
    s.stop();
}

#[test]
fn calls_timing_out_among_others_leave_a_shared_client_working() {
    let (s, _, tcp, _) = started();
    let c = Client::connect("127.0.0.1", tcp, PROG, 2, Protocol::Tcp).unwrap();
    // Slow calls (300 ms handler) that give up after 50 ms, while fast
    // calls run through the same connection: whoever holds the reading
    // role when it gives up must pass it on, and late replies are dropped.
    on_threads(12, |i| {
        for round in 0..20u32 {
            if i % 3 == 0 && round % 5 == 0 {
                let err = c
                    .call_with_timeout(6, &uint(i), Some(Duration::from_millis(50)))
                    .unwrap_err();
                assert!(matches!(err, Error::TimedOut(_)), "{err}");
            } else {
                let arg = uint(i << 16 | round);
                assert_eq!(c.call(1, &arg).unwrap(), arg);
            }
        }
    });
    assert_eq!(c.call(1, &uint(7)).unwrap(), uint(7));
    s.stop();
}

/// `calls` as records, in one buffer, to be written at once.
fn records(calls: &[Vec<u8>]) -> Vec<u8> {
    let mut wire = Vec::new();
    for msg in calls {
        wire.extend(((msg.len() as u32) | 0x8000_0000).to_be_bytes());
        wire.extend_from_slice(msg);
    }
    wire
}

/// Reads one reply record; None once the server has closed.
fn read_reply(stream: &mut TcpStream) -> Option<Vec<u8>> {
    support::read_record(stream)
}

/// Large calls (their bodies read straight into place, the read that
/// finishes one going on into the calls behind it) and small ones, all in
/// one write and in both orders, each answered with its own arguments:
/// with room for every call at once, and with one call at a time (what was
/// read ahead waits for its turn).
#[test]
fn large_and_small_calls_written_together_are_each_answered() {
    for limit in [16, 1] {
        let (s, _, tcp, _) = started();
        s.set_max_message_size(1 << 20).unwrap();
        s.set_concurrent_calls_per_connection(limit).unwrap();
        let mut raw = TcpStream::connect(("127.0.0.1", tcp)).unwrap();
        raw.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let sizes = [8, 40_000, 8, 300_000, 70_000, 8, 8, 65_536];
        let calls: Vec<Vec<u8>> = (0..sizes.len())
            .map(|i| {
                let args: Vec<u8> = (0..sizes[i]).map(|b| (b * 7 + i) as u8).collect();
                [call_header(0x300 + i as u32, 2, 1), args].concat()
            })
            .collect();
        raw.write_all(&records(&calls)).unwrap();
        let mut answered = std::collections::HashMap::new();
        for _ in 0..calls.len() {
            let reply = read_reply(&mut raw).expect("a reply for every call");
            let xid = u32::from_be_bytes(reply[..4].try_into().unwrap());
            answered.insert(xid, reply[24..].to_vec());
        }
        for (i, call) in calls.iter().enumerate() {
            let results = &answered[&(0x300 + i as u32)];
            assert!(results[..] == call[40..], "call {i}, limit {limit}");
        }
        s.stop();
    }
}

/// Registers `procedure` on `s` as a handler that stays inside until the
/// test opens its gate (one call let through per message sent), then
/// answers the uint 1; 0 if the gate stayed shut for 20 s.
fn gated(s: &Server, procedure: u32) -> std::sync::mpsc::Sender<()> {
    let (release, released) = std::sync::mpsc::channel::<()>();
    let released = std::sync::Mutex::new(released);
    s.register(PROG, 2, procedure, move |_, _, out| {
        let waiting = released.lock().unwrap_or_else(|p| p.into_inner());
        let freed = waiting.recv_timeout(Duration::from_secs(20)).is_ok();
        out.put_uint(u32::from(freed));
        Ok(())
    });
    release
}

/// The server holds the small replies of pipelined calls to send them
/// together; a slow handler behind a fast call must not hold the fast
/// call's reply until it ends, whatever the calls-per-connection limit.
/// The slow call here cannot end before the test opens its gate, so a fast
/// reply held behind it would never come (the read gives up after 10 s).
#[test]
fn a_reply_is_not_held_behind_a_slow_call_pipelined_after_it() {
    for limit in [16, 1] {
        let (s, _) = test_server();
        let release = gated(&s, 9);
        s.set_concurrent_calls_per_connection(limit).unwrap();
        let tcp = s.listen_tcp("127.0.0.1", 0).unwrap();
        s.start().unwrap();
        let mut raw = TcpStream::connect(("127.0.0.1", tcp)).unwrap();
        raw.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut fast = call_header(0x61, 2, 1);
        fast.extend(uint(7));
        let slow = call_header(0x62, 2, 9);
        raw.write_all(&records(&[fast, slow])).unwrap();
        let first = read_reply(&mut raw)
            .unwrap_or_else(|| panic!("limit {limit}: no fast reply while the slow call is held"));
        assert_eq!(
            first,
            ReplyHeader::accepted(0x61, AcceptStat::Success).to_message(&uint(7)),
            "limit {limit}"
        );
        release.send(()).unwrap();
        let second = read_reply(&mut raw).unwrap();
        assert_eq!(
            second,
            ReplyHeader::accepted(0x62, AcceptStat::Success).to_message(&uint(1)),
            "limit {limit}: the slow call ran once its gate opened"
        );
        s.stop();
    }
}

/// The replies of calls that arrive together are held until the last of
/// them has started, and then leave together; never behind a handler that
/// blocks. Two fast calls and one that blocks until the client has both
/// their replies, the blocking one last (it starts last: the replies held
/// go before it runs) or between them: both fast replies come while it
/// blocks.
#[test]
fn replies_held_for_calls_that_came_together_do_not_wait_for_a_blocked_one() {
    let (s, _) = test_server();
    let release = gated(&s, 9);
    let tcp = s.listen_tcp("127.0.0.1", 0).unwrap();
    s.start().unwrap();
    let mut raw = TcpStream::connect(("127.0.0.1", tcp)).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    for blocked_at in [2, 1] {
        let base = 0x70 + 0x10 * blocked_at;
        let mut calls = Vec::new();
        let mut fast = Vec::new();
        for i in 0..3 {
            let xid = base + i;
            if i == blocked_at {
                calls.push(call_header(xid, 2, 9));
            } else {
                let mut call = call_header(xid, 2, 1);
                call.extend(uint(i));
                calls.push(call);
                fast.push(ReplyHeader::accepted(xid, AcceptStat::Success).to_message(&uint(i)));
            }
        }
        raw.write_all(&records(&calls)).unwrap();
        let mut got: Vec<Vec<u8>> = (0..2).map(|_| read_reply(&mut raw).unwrap()).collect();
        got.sort();
        assert_eq!(got, fast, "blocking call at {blocked_at}");
        release.send(()).unwrap();
        assert_eq!(
            read_reply(&mut raw).unwrap(),
            ReplyHeader::accepted(base + blocked_at, AcceptStat::Success).to_message(&uint(1)),
            "blocking call at {blocked_at}"
        );
    }
    s.stop();
}

/// Pipelined calls of every kind get their replies, in order, whole, when
/// the server sends several in one write; the ones before a record that
/// ends the connection are still answered.
#[test]
fn pipelined_calls_all_get_their_replies_before_a_bad_record_ends_them() {
    let (s, count, tcp, _) = started();
    let mut raw = TcpStream::connect(("127.0.0.1", tcp)).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut calls = Vec::new();
    let mut expect = Vec::new();
    for i in 0..60u32 {
        let xid = 0x1000 + i;
        let msg = match i % 4 {
            0 => {
                let mut m = call_header(xid, 2, 1);
                m.extend(uint(i));
                expect.push(ReplyHeader::accepted(xid, AcceptStat::Success).to_message(&uint(i)));
                m
            }
            1 => {
                expect.push(ReplyHeader::accepted(xid, AcceptStat::GarbageArgs).to_message(&[]));
                call_header(xid, 2, 3)
            }
            2 => {
                #[rustfmt::skip]
                expect.push(vec![0,0,0x10,xid as u8, 0,0,0,1, 0,0,0,1, 0,0,0,0, 0,0,0,2, 0,0,0,2]);
                call_header(xid, 3, 1)
            }
            _ => {
                let n = (i / 4 + 1).to_be_bytes().to_vec();
                expect.push(ReplyHeader::accepted(xid, AcceptStat::Success).to_message(&n));
                call_header(xid, 2, 7)
            }
        };
        calls.push(msg);
    }
    let mut wire = records(&calls);
    // A record length over the server's limit: the connection ends here.
    wire.extend([0xFF, 0xFF, 0xFF, 0xF0, 1, 2, 3, 4]);
    raw.write_all(&wire).unwrap();
    // Pipelined calls run concurrently: their replies come in the order
    // they finish, and the counting calls count in the order they ran.
    let mut got: Vec<Vec<u8>> = (0..expect.len())
        .map(|i| read_reply(&mut raw).unwrap_or_else(|| panic!("reply {i} missing")))
        .collect();
    // xids are 0x1000 + i; every fourth call counts.
    let counted = |m: &Vec<u8>| m[3] % 4 == 3;
    let mut counts: Vec<u32> = got
        .iter()
        .filter(|m| counted(m))
        .map(|m| u32::from_be_bytes(m[m.len() - 4..].try_into().unwrap()))
        .collect();
    counts.sort_unstable();
    assert_eq!(counts, (1..=15).collect::<Vec<u32>>());
    got.retain(|m| !counted(m));
    expect.retain(|m| !counted(m));
    got.sort();
    expect.sort();
    assert_eq!(got, expect);
    assert_eq!(
        read_reply(&mut raw),
        None,
        "the bad record closed the connection"
    );
    assert_eq!(count.load(Ordering::SeqCst), 15);
    s.stop();
}

/// Threads sharing a client queue their calls, batched ones included,
/// behind the replies just handed out; every one of them still leaves.
#[test]
fn batched_and_normal_calls_from_many_threads_all_go_out() {
    let (s, count, tcp, _) = started();
    let c = Client::connect("127.0.0.1", tcp, PROG, 2, Protocol::Tcp).unwrap();
    on_threads(8, |i| {
        for j in 0..100u32 {
            c.call_batched(7, &[]).unwrap();
            let v = i * 1000 + j;
            assert_eq!(c.call(1, &uint(v)).unwrap(), uint(v));
        }
    });
    // Calls of one connection run concurrently: a batched call sent just
    // before may still be running when this one counts.
    c.call(7, &[]).unwrap();
    support::wait_for("every call to run", Duration::from_secs(5), || {
        count.load(Ordering::SeqCst) == 801
    });
    s.stop();
}

/// Large calls from many threads fill both directions' socket buffers: the
/// caller writing the batch of queued calls must not be the one meant to
/// read replies, or the server blocks writing them, stops reading calls,
/// and the write never ends.
#[test]
fn replies_keep_being_read_while_a_long_batch_is_written() {
    let (s, _, tcp, _) = started();
    let c = Client::connect("127.0.0.1", tcp, PROG, 2, Protocol::Tcp).unwrap();
    c.set_timeout(Some(Duration::from_secs(15))).unwrap();
    on_threads(16, |i| {
        for round in 0..4u32 {
            let arg = vec![(i * 4 + round) as u8; 3 << 20];
            assert_eq!(c.call(1, &arg).unwrap(), arg, "thread {i} round {round}");
        }
    });
    s.stop();
}

/// A server that accepts and then never reads: a call too large for the
/// socket buffers cannot be written, and it must fail within its timeout
/// (the write is bounded too, not only the wait for the reply).
#[test]
fn a_server_that_stops_reading_fails_the_call_in_time() {
    let path = std::env::temp_dir().join(format!("xipc-rpc-deaf-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let unix = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = tcp.local_addr().unwrap().port();
    let (done, wait) = std::sync::mpsc::channel::<()>();
    let hold = std::thread::spawn(move || {
        let a = unix.accept().unwrap();
        let b = tcp.accept().unwrap();
        // Until the test ends (at most 10 s: an unbounded write ends then).
        let _ = wait.recv_timeout(Duration::from_secs(10));
        drop((a, b));
    });
    for (c, size) in [
        (
            Client::connect(path.to_str().unwrap(), 0, PROG, 2, Protocol::Unix).unwrap(),
            4 << 20,
        ),
        // Loopback TCP buffers grow to several MiB: send more than they hold.
        (
            Client::connect("127.0.0.1", port, PROG, 2, Protocol::Tcp).unwrap(),
            48 << 20,
        ),
    ] {
        c.set_max_message_size(64 << 20).unwrap();
        c.set_timeout(Some(Duration::from_millis(400))).unwrap();
        let arg = vec![7u8; size];
        let t = Instant::now();
        let got = c.call(1, &arg);
        let took = t.elapsed();
        assert!(matches!(got, Err(Error::TimedOut(_))), "{got:?}");
        // Each write the kernel leaves partial restarts the socket's send
        // timeout: the time left must be what bounds the next one.
        assert!(took < Duration::from_millis(750), "{size} bytes: {took:?}");
        // The connection is closed: the next call says so at once.
        assert!(matches!(c.call(0, &[]), Err(Error::Closed(_))));
    }
    done.send(()).unwrap();
    hold.join().unwrap();
    let _ = std::fs::remove_file(&path);
}

/// A client that sends a call and then reads none of the reply: the
/// server's write makes no progress, and the idle timeout ends the
/// connection (its thread is not held for ever).
#[test]
fn a_client_that_stops_reading_is_dropped_after_the_idle_timeout() {
    let (s, _, _, _) = started();
    let path = std::env::temp_dir().join(format!("xipc-rpc-mute-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    s.listen_unix(&path).unwrap();
    s.set_idle_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut raw = std::os::unix::net::UnixStream::connect(&path).unwrap();
    // An echo of 2 MiB: far more than a Unix socket buffers.
    let mut msg = call_header(0x71, 2, 1);
    msg.extend(uint(2 << 20));
    msg.extend(vec![5u8; 2 << 20]);
    raw.write_all(&records(&[msg])).unwrap();
    support::wait_for(
        "the mute client to be dropped",
        Duration::from_secs(5),
        || s.connection_count() == 0,
    );
    s.stop();
    let _ = std::fs::remove_file(&path);
}

/// Datagrams that arrive together are taken in batches; every one gets its
/// reply, to its own sender, and a slow call among them does not hold the
/// others up.
#[test]
fn datagrams_arriving_together_are_all_answered_to_their_senders() {
    let (s, _, _, udp) = started();
    let senders: Vec<UdpSocket> = (0..3)
        .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
        .collect();
    for sock in &senders {
        sock.connect(("127.0.0.1", udp)).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
    }
    // First a slow call (300 ms), then 3 x 30 echo calls sent back to back
    // before any reply is read.
    let mut slow = call_header(0x7000, 2, 6);
    slow.extend(uint(0x7000));
    senders[0].send(&slow).unwrap();
    for xid in 0..90u32 {
        let mut msg = call_header(xid, 2, 1);
        msg.extend(uint(xid));
        senders[(xid % 3) as usize].send(&msg).unwrap();
    }
    let mut buf = [0u8; 1024];
    for (i, sock) in senders.iter().enumerate() {
        let mut seen = std::collections::BTreeSet::new();
        while seen.len() < 30 {
            let n = sock.recv(&mut buf).expect("every datagram answered");
            let reply = &buf[..n];
            let xid = u32::from_be_bytes(reply[..4].try_into().unwrap());
            // The quick calls take well under the slow call's 300 ms.
            assert_ne!(xid, 0x7000, "quick calls waited behind a slow one");
            assert_eq!(xid % 3, i as u32, "a reply went to its own sender");
            assert_eq!(&reply[n - 4..], &xid.to_be_bytes(), "the echo of its call");
            seen.insert(xid);
        }
    }
    let n = senders[0].recv(&mut buf).expect("the slow call answered");
    assert_eq!(&buf[..4], &0x7000u32.to_be_bytes());
    assert_eq!(&buf[n - 4..n], &0x7000u32.to_be_bytes());
    s.stop();
}
