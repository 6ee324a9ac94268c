//! Hostile RPC messages sent to a live xipc server over TCP and UDP: a call
//! with rpcvers 3, AUTH_SYS with 17 groups or a 300-byte machine name,
//! credentials longer than the message, truncated calls, replies where
//! calls belong, garbage arguments (a bool of 2, non-zero padding, nesting
//! too deep), records past the maximum and endless empty fragments. Each
//! gets the reply RFC 5531 prescribes (or none, or a closed connection, as
//! noted), and after each one the server still answers its other clients.

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::time::Duration;

use serde::Deserialize;
use xipc::rpc::message::{AcceptStat, RejectStat, ReplyHeader};
use xipc::rpc::{Client, Protocol, Server};
use xipc::xdr::{from_slice, Decoder, Encoder};
use xipc::Error;

const PROG: u32 = 0x2000_4242;
const VERS: u32 = 1;
/// Echoes its arguments.
const ECHO: u32 = 1;
/// Takes a bool and a string.
const FLAG_AND_NAME: u32 = 2;
/// Takes a linked list (decoded with serde).
const LIST: u32 = 3;
/// The server's largest call on a stream.
const MAX_MESSAGE: usize = 8192;

#[derive(Deserialize)]
#[allow(dead_code)]
struct Node {
    value: i32,
    next: Option<Box<Node>>,
}

/// A server on TCP and UDP (ports 0) with the procedures above.
fn server() -> (Server, u16, u16) {
    let s = Server::new();
    s.set_rpcbind_registration(false);
    s.set_max_message_size(MAX_MESSAGE).unwrap();
    s.register(PROG, VERS, ECHO, |_, args, out| {
        out.put_raw(args);
        Ok(())
    });
    s.register(PROG, VERS, FLAG_AND_NAME, |_, args, e| {
        let mut d = Decoder::new(args);
        let flag = d.get_bool()?;
        let name = d.get_string(Some(64))?;
        d.finish()?;
        e.put_bool(!flag);
        e.put_string(name)
    });
    s.register(PROG, VERS, LIST, |_, args, _| {
        let _: Node = from_slice(args)?;
        Ok(())
    });
    let tcp = s.listen_tcp("127.0.0.1", 0).unwrap();
    let udp = s.listen_udp("127.0.0.1", 0).unwrap();
    s.start().unwrap();
    (s, tcp, udp)
}

/// Checks that `client` (connected before the hostile message) and a new
/// client on each transport are still served.
fn still_serving(old: &[Client], tcp: u16, udp: u16) {
    let args = [0, 0, 0, 3, b'a', b'b', b'c', 0];
    for c in old {
        assert_eq!(c.call(ECHO, &args).unwrap(), args, "{:?}", c.protocol());
    }
    for (port, proto) in [(tcp, Protocol::Tcp), (udp, Protocol::Udp)] {
        let c = Client::connect("127.0.0.1", port, PROG, VERS, proto).unwrap();
        assert_eq!(c.call(ECHO, &args).unwrap(), args, "{proto:?}");
    }
}

fn clients(tcp: u16, udp: u16) -> Vec<Client> {
    [(tcp, Protocol::Tcp), (udp, Protocol::Udp)]
        .into_iter()
        .map(|(port, proto)| {
            let c = Client::connect("127.0.0.1", port, PROG, VERS, proto).unwrap();
            c.set_timeout(Some(Duration::from_secs(10))).unwrap();
            c
        })
        .collect()
}

/// A call header: xid, CALL, rpcvers, program, version, procedure, then
/// the credential and an AUTH_NONE verifier.
fn call(xid: u32, rpcvers: u32, procedure: u32, cred_flavor: u32, cred: &[u8]) -> Vec<u8> {
    let mut e = Encoder::new();
    for v in [xid, 0, rpcvers, PROG, VERS, procedure, cred_flavor] {
        e.put_uint(v);
    }
    e.put_opaque(cred).unwrap();
    e.put_uint(0);
    e.put_uint(0);
    e.into_bytes()
}

/// An AUTH_SYS body with the given machine name and groups.
fn auth_sys(machine: &str, gids: &[u32]) -> Vec<u8> {
    let mut e = Encoder::new();
    e.put_uint(1);
    e.put_string(machine).unwrap();
    e.put_uint(1000);
    e.put_uint(1000);
    e.put_uint_array(gids).unwrap();
    e.into_bytes()
}

/// Raw peers on both transports.
struct Raw {
    tcp: TcpStream,
    udp: UdpSocket,
    udp_port: u16,
}

impl Raw {
    fn connect(tcp: u16, udp: u16) -> Raw {
        let t = TcpStream::connect(("127.0.0.1", tcp)).unwrap();
        t.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let u = UdpSocket::bind("127.0.0.1:0").unwrap();
        Raw {
            tcp: t,
            udp: u,
            udp_port: udp,
        }
    }

    /// Sends `msg` as one record; the reply record, or None if the server
    /// closed the connection.
    fn tcp_call(&mut self, msg: &[u8]) -> Option<Vec<u8>> {
        let mut frame = ((msg.len() as u32) | 0x8000_0000).to_be_bytes().to_vec();
        frame.extend_from_slice(msg);
        self.tcp.write_all(&frame).ok()?;
        self.tcp_reply()
    }

    fn tcp_reply(&mut self) -> Option<Vec<u8>> {
        let mut header = [0u8; 4];
        self.tcp.read_exact(&mut header).ok()?;
        let len = (u32::from_be_bytes(header) & 0x7fff_ffff) as usize;
        let mut body = vec![0; len];
        self.tcp.read_exact(&mut body).ok()?;
        Some(body)
    }

    /// Sends `msg` as one datagram; the reply, or None within `wait`.
    fn udp_call(&self, msg: &[u8], wait: Duration) -> Option<Vec<u8>> {
        self.udp.set_read_timeout(Some(wait)).unwrap();
        self.udp.send_to(msg, ("127.0.0.1", self.udp_port)).unwrap();
        let mut buf = vec![0u8; 65536];
        let n = self.udp.recv(&mut buf).ok()?;
        buf.truncate(n);
        Some(buf)
    }

    /// The reply to `msg` on both transports, which must agree.
    fn both(&mut self, msg: &[u8]) -> Vec<u8> {
        let t = self.tcp_call(msg).expect("a TCP reply");
        let u = self
            .udp_call(msg, Duration::from_secs(10))
            .expect("a UDP reply");
        assert_eq!(t, u, "TCP and UDP replies differ");
        t
    }
}

fn denied(xid: u32, stat: RejectStat) -> Vec<u8> {
    ReplyHeader::denied(xid, stat).to_message(&[])
}

fn accepted(xid: u32, stat: AcceptStat) -> Vec<u8> {
    ReplyHeader::accepted(xid, stat).to_message(&[])
}

const AUTH_BADCRED: u32 = 1;

#[test]
fn hostile_headers_get_their_rfc_replies_and_others_are_served() {
    let (s, tcp, udp) = server();
    let old = clients(tcp, udp);
    let mut raw = Raw::connect(tcp, udp);

    // rpcvers 3: MSG_DENIED, RPC_MISMATCH, supported 2..2.
    let reply = raw.both(&call(0x101, 3, ECHO, 0, &[]));
    #[rustfmt::skip]
    assert_eq!(reply, [0,0,1,1, 0,0,0,1, 0,0,0,1, 0,0,0,0, 0,0,0,2, 0,0,0,2]);
    assert_eq!(
        reply,
        denied(0x101, RejectStat::RpcMismatch { low: 2, high: 2 })
    );
    assert!(matches!(
        ReplyHeader::decode(&reply).unwrap().0.into_result(),
        Err(Error::RpcMismatch { low: 2, high: 2 })
    ));
    still_serving(&old, tcp, udp);

    // AUTH_SYS with 17 groups (16 at most): AUTH_ERROR, AUTH_BADCRED.
    let gids: Vec<u32> = (1..=17).collect();
    let reply = raw.both(&call(0x102, 2, ECHO, 1, &auth_sys("host", &gids)));
    #[rustfmt::skip]
    assert_eq!(reply, [0,0,1,2, 0,0,0,1, 0,0,0,1, 0,0,0,1, 0,0,0,1]);
    still_serving(&old, tcp, udp);

    // AUTH_SYS with a 300-byte machine name (255 at most): AUTH_BADCRED.
    let long = "m".repeat(300);
    let body = auth_sys(&long, &[1]);
    assert!(body.len() <= 400, "the credential itself fits opaque_auth");
    let reply = raw.both(&call(0x103, 2, ECHO, 1, &body));
    assert_eq!(reply, denied(0x103, RejectStat::AuthError(AUTH_BADCRED)));
    still_serving(&old, tcp, udp);

    // A credential claiming 4 GiB: AUTH_BADCRED, nothing allocated for it.
    let mut msg = call(0x104, 2, ECHO, 1, &[]);
    msg[28..32].copy_from_slice(&0xffff_fff0u32.to_be_bytes());
    let reply = raw.both(&msg);
    assert_eq!(reply, denied(0x104, RejectStat::AuthError(AUTH_BADCRED)));
    still_serving(&old, tcp, udp);

    // A call cut after the procedure number: AUTH_BADCRED.
    let msg = call(0x105, 2, ECHO, 0, &[]);
    let reply = raw.both(&msg[..24]);
    assert_eq!(reply, denied(0x105, RejectStat::AuthError(AUTH_BADCRED)));
    still_serving(&old, tcp, udp);

    s.stop();
}

#[test]
fn messages_that_are_not_calls_get_no_reply() {
    let (s, tcp, udp) = server();
    let old = clients(tcp, udp);
    let mut raw = Raw::connect(tcp, udp);
    let quiet = Duration::from_millis(300);
    let reply = accepted(0x201, AcceptStat::Success);
    let unreadable = [0u8, 0, 2, 2, 0, 0];
    for msg in [&reply[..], &unreadable[..], &[][..]] {
        // UDP: no answer at all.
        assert_eq!(raw.udp_call(msg, quiet), None, "{msg:?}");
        // TCP: no answer, and the connection goes on: the next call on it
        // is answered.
        let mut frame = ((msg.len() as u32) | 0x8000_0000).to_be_bytes().to_vec();
        frame.extend_from_slice(msg);
        raw.tcp.write_all(&frame).unwrap();
        let echo = [call(0x202, 2, ECHO, 0, &[]), vec![0, 0, 0, 9]].concat();
        let got = raw.tcp_call(&echo).expect("the connection still serves");
        assert_eq!(
            got,
            ReplyHeader::accepted(0x202, AcceptStat::Success).to_message(&[0, 0, 0, 9])
        );
        still_serving(&old, tcp, udp);
    }
    s.stop();
}

#[test]
fn garbage_arguments_are_garbage_args() {
    let (s, tcp, udp) = server();
    let old = clients(tcp, udp);
    let mut raw = Raw::connect(tcp, udp);
    let good = [
        call(0x300, 2, FLAG_AND_NAME, 0, &[]),
        vec![0, 0, 0, 1, 0, 0, 0, 1, b'x', 0, 0, 0],
    ]
    .concat();
    assert_eq!(
        raw.both(&good),
        ReplyHeader::accepted(0x300, AcceptStat::Success)
            .to_message(&[0, 0, 0, 0, 0, 0, 0, 1, b'x', 0, 0, 0])
    );

    let cases: [(u32, Vec<u8>); 4] = [
        // A bool of 2.
        (0x301, vec![0, 0, 0, 2, 0, 0, 0, 1, b'x', 0, 0, 0]),
        // Non-zero padding after the name.
        (0x302, vec![0, 0, 0, 1, 0, 0, 0, 1, b'x', 0, 7, 0]),
        // A name length past the arguments.
        (
            0x303,
            vec![0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff, b'x', 0, 0, 0],
        ),
        // Truncated.
        (0x304, vec![0, 0, 0, 1, 0, 0]),
    ];
    for (xid, args) in cases {
        let msg = [call(xid, 2, FLAG_AND_NAME, 0, &[]), args].concat();
        assert_eq!(
            raw.both(&msg),
            accepted(xid, AcceptStat::GarbageArgs),
            "xid {xid:#x}"
        );
        still_serving(&old, tcp, udp);
    }

    // A list nested 500 deep, past the decoder's limit of 64: refused as
    // garbage arguments, without a stack overflow in the server.
    let mut args = Encoder::new();
    for i in 0..500 {
        args.put_int(i);
        args.put_optional(true);
    }
    args.put_int(0);
    args.put_optional(false);
    let msg = [call(0x305, 2, LIST, 0, &[]), args.into_bytes()].concat();
    assert_eq!(raw.both(&msg), accepted(0x305, AcceptStat::GarbageArgs));
    still_serving(&old, tcp, udp);
    s.stop();
}

#[test]
fn oversized_records_close_only_their_own_connection() {
    let (s, tcp, udp) = server();
    let old = clients(tcp, udp);

    // A record header claiming 2 GiB: the connection is closed.
    let mut raw = Raw::connect(tcp, udp);
    raw.tcp
        .write_all(&[0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4])
        .unwrap();
    assert_eq!(raw.tcp_reply(), None);
    still_serving(&old, tcp, udp);

    // Fragments of 4 KiB adding up past the 8 KiB maximum.
    let mut raw = Raw::connect(tcp, udp);
    let mut frag = 4096u32.to_be_bytes().to_vec();
    frag.extend_from_slice(&[0; 4096]);
    for _ in 0..3 {
        if raw.tcp.write_all(&frag).is_err() {
            break;
        }
    }
    assert_eq!(raw.tcp_reply(), None);
    still_serving(&old, tcp, udp);

    // A datagram larger than any call the server reads whole: its head is
    // read as a call (here: an echo), or ignored; the server goes on.
    let raw = Raw::connect(tcp, udp);
    let big = [call(0x401, 2, ECHO, 0, &[]), vec![0; 65000]].concat();
    let _ = raw.udp_call(&big, Duration::from_secs(2));
    still_serving(&old, tcp, udp);
    s.stop();
}

#[test]
fn endless_empty_fragments_close_the_connection() {
    let (s, tcp, udp) = server();
    let old = clients(tcp, udp);
    let mut raw = Raw::connect(tcp, udp);
    let mut writer = raw.tcp.try_clone().unwrap();
    let flood = std::thread::spawn(move || {
        let empties = [0u8; 4].repeat(1024);
        let mut sent = 0usize;
        while writer.write_all(&empties).is_ok() {
            sent += 1024;
            if sent > 1 << 24 {
                break;
            }
        }
        sent
    });
    // The server gives up on the record after 4,096 fragments and closes.
    assert_eq!(raw.tcp_reply(), None);
    let sent = flood.join().unwrap();
    assert!(sent < 1 << 24, "the server kept reading empty fragments");
    still_serving(&old, tcp, udp);
    s.stop();
}
