//! `xipc rpc ping|dump` against `xipc rpcbind` started on a free port, with
//! a program served by this test and registered there.

mod cli_support;

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cli_support::xipc;
use xipc::rpc::rpcbind::Rpcbind;
use xipc::rpc::{Protocol, Server};

const PROG: u32 = 0x2000_4a11;

/// `xipc rpcbind --listen 127.0.0.1 --port 0` as a child process, killed
/// on drop, with the lines it printed once serving.
struct RpcbindProcess {
    child: Child,
    port: u16,
    lines: Vec<String>,
}

impl RpcbindProcess {
    /// Starts it and reads what it prints until the line of its UDP
    /// listener on 127.0.0.1, which names the port the system picked.
    fn start(extra: &[&str]) -> RpcbindProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_xipc"))
            .args(["rpcbind", "--listen", "127.0.0.1", "--port", "0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("xipc rpcbind starts");
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut lines = Vec::new();
        for line in stdout.lines() {
            let line = line.unwrap();
            let port = line
                .strip_prefix("udp 127.0.0.1 ")
                .map(|p| p.parse().unwrap());
            lines.push(line);
            if let Some(port) = port {
                return RpcbindProcess { child, port, lines };
            }
        }
        let status = child.wait().unwrap();
        panic!("xipc rpcbind ({status}) printed no UDP listener on 127.0.0.1: {lines:?}");
    }
}

impl Drop for RpcbindProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn rpcbind_prints_each_listener_and_serves_on_the_port_it_prints() {
    let rpcbind = RpcbindProcess::start(&[]);
    let p = rpcbind.port;
    assert_ne!(p, 0);
    // TCP, then UDP, on the address given, on one port.
    assert_eq!(
        rpcbind.lines,
        [format!("tcp 127.0.0.1 {p}"), format!("udp 127.0.0.1 {p}")]
    );
    let rb = Rpcbind::with_port("127.0.0.1", p, Protocol::Udp);
    assert_eq!(rb.getport(100_000, 2, Protocol::Udp).unwrap(), p);
}

#[test]
fn rpcbind_serves_on_the_unix_socket_it_is_given() {
    let dir = std::env::temp_dir().join(format!("xipc-cli-rpcbind-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("rpcbind.sock");
    let rpcbind = RpcbindProcess::start(&["--local-socket", path.to_str().unwrap()]);
    // Made before the listeners were printed; every user may connect.
    let rb = Rpcbind::with_port(path.to_str().unwrap(), 0, Protocol::Unix);
    assert_eq!(rb.getport(100_000, 2, Protocol::Udp).unwrap(), rpcbind.port);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o666);
    drop(rpcbind);
    // Killed, it left its socket file: the next one replaces it.
    let rpcbind = RpcbindProcess::start(&["--local-socket", path.to_str().unwrap()]);
    assert_eq!(rb.getport(100_000, 2, Protocol::Udp).unwrap(), rpcbind.port);
    drop(rpcbind);
    // A regular file there is left alone and the start fails, saying why.
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, b"not a socket").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_xipc"))
        .args([
            "rpcbind",
            "--listen",
            "127.0.0.1",
            "--port",
            "0",
            "--local-socket",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let why = String::from_utf8_lossy(&out.stderr);
    assert!(why.contains("rpcbind.sock"), "{why}");
    assert_eq!(std::fs::read(&path).unwrap(), b"not a socket");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Serves PROG version 1 on TCP and UDP and registers both with `rpcbind`.
fn serve(rpcbind_port: u16) -> (Server, u16, u16) {
    let server = Server::new();
    server.set_rpcbind_registration(false);
    server.register(PROG, 1, 1, |_, args, out| {
        out.put_raw(args);
        Ok(())
    });
    let tcp = server.listen_tcp("127.0.0.1", 0).unwrap();
    let udp = server.listen_udp("127.0.0.1", 0).unwrap();
    server.start().unwrap();
    let rb = Rpcbind::with_port("127.0.0.1", rpcbind_port, Protocol::Tcp);
    assert!(rb.set(PROG, 1, Protocol::Tcp, tcp).unwrap());
    assert!(rb.set(PROG, 1, Protocol::Udp, udp).unwrap());
    (server, tcp, udp)
}

fn rpc_db_has_portmapper() {
    let db = std::fs::read_to_string("/etc/rpc").unwrap_or_else(|_| {
        panic!("/etc/rpc is missing: install the netbase package (scripts/deps.sh does)")
    });
    assert!(
        db.lines().any(|l| l.starts_with("portmapper")),
        "/etc/rpc names no portmapper"
    );
}

#[test]
fn ping_and_dump_through_rpcbind() {
    rpc_db_has_portmapper();
    let rpcbind = RpcbindProcess::start(&[]);
    let (server, tcp, udp) = serve(rpcbind.port);
    let rb_port = rpcbind.port.to_string();
    let prog = PROG.to_string();

    // Looked up through rpcbind, over TCP (the default) and UDP.
    let out = xipc(&[
        "rpc",
        "ping",
        "127.0.0.1",
        &prog,
        "1",
        "--rpcbind-port",
        &rb_port,
    ])
    .ok();
    let expected = format!("program {PROG} version 1 ready and waiting (tcp 127.0.0.1:{tcp}, ");
    assert!(
        out.starts_with(&expected) && out.ends_with(" ms)\n"),
        "{out}"
    );
    let out = xipc(&[
        "rpc",
        "ping",
        "localhost",
        &prog,
        "1",
        "--proto",
        "udp",
        "--rpcbind-port",
        &rb_port,
    ])
    .ok();
    assert!(
        out.starts_with(&format!(
            "program {PROG} version 1 ready and waiting (udp 127.0.0.1:{udp}, "
        )),
        "{out}"
    );
    // A port given directly; a program given by its /etc/rpc name, in hex.
    xipc(&[
        "rpc",
        "ping",
        "127.0.0.1",
        &prog,
        "1",
        "--port",
        &tcp.to_string(),
    ])
    .ok();
    let out = xipc(&[
        "rpc",
        "ping",
        "127.0.0.1",
        "portmapper",
        "2",
        "--port",
        &rb_port,
    ])
    .ok();
    assert!(
        out.starts_with("program 100000 version 2 ready and waiting"),
        "{out}"
    );
    xipc(&[
        "rpc",
        "ping",
        "127.0.0.1",
        "0x20004a11",
        "1",
        "--port",
        &tcp.to_string(),
    ])
    .ok();

    // Not registered, not served: 4.
    let other = (PROG + 1).to_string();
    xipc(&[
        "rpc",
        "ping",
        "127.0.0.1",
        &other,
        "1",
        "--rpcbind-port",
        &rb_port,
    ])
    .fails(
        4,
        &format!("program {other} version 1 is not registered with rpcbind on 127.0.0.1 (tcp)"),
    );
    // rpcbind answers GETADDR for another version with the program's address
    // (as the system rpcbind does); the server then refuses the version.
    xipc(&[
        "rpc",
        "ping",
        "127.0.0.1",
        &prog,
        "2",
        "--rpcbind-port",
        &rb_port,
    ])
    .fails(4, "version mismatch; the server serves versions 1 to 1");
    xipc(&[
        "rpc",
        "ping",
        "127.0.0.1",
        &prog,
        "2",
        "--port",
        &tcp.to_string(),
    ])
    .fails(4, "version mismatch; the server serves versions 1 to 1");
    xipc(&[
        "rpc",
        "ping",
        "127.0.0.1",
        "536870913",
        "1",
        "--port",
        &tcp.to_string(),
    ])
    .fails(4, "program unavailable");
    xipc(&["rpc", "ping", "127.0.0.1", "no-such-service", "1"])
        .fails(2, "neither a program number nor a name in /etc/rpc");

    // The rpcinfo -p table: rpcbind's own registrations, then ours.
    let table = xipc(&["rpc", "dump", "127.0.0.1", "--rpcbind-port", &rb_port]).ok();
    let p = rpcbind.port;
    let mut expected = String::from("   program vers proto   port  service\n");
    for vers in [4, 3, 2] {
        for proto in ["tcp", "udp"] {
            expected += &format!("{:>10}{vers:>5}{proto:>6}{p:>7}  portmapper\n", 100000);
        }
    }
    expected += &format!("{PROG:>10}    1   tcp{tcp:>7}\n{PROG:>10}    1   udp{udp:>7}\n");
    assert_eq!(table, expected);

    let json: serde_json::Value = serde_json::from_str(
        &xipc(&[
            "rpc",
            "dump",
            "127.0.0.1",
            "--rpcbind-port",
            &rb_port,
            "--json",
        ])
        .ok(),
    )
    .unwrap();
    assert_eq!(json.as_array().unwrap().len(), 8);
    assert_eq!(
        json[0],
        serde_json::json!({"program": 100000, "version": 4, "protocol": "tcp", "port": p, "service": "portmapper"})
    );
    assert_eq!(
        json[7],
        serde_json::json!({"program": PROG, "version": 1, "protocol": "udp", "port": udp, "service": null})
    );
    server.stop();
}

#[test]
fn failures_have_their_exit_status() {
    // Nothing listens: the operation fails (1).
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    xipc(&[
        "rpc",
        "dump",
        "127.0.0.1",
        "--rpcbind-port",
        &closed.to_string(),
    ])
    .fails(1, &format!("cannot ask rpcbind on 127.0.0.1:{closed}"));
    // A UDP socket that never answers: timed out (3).
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port().to_string();
    let started = Instant::now();
    xipc(&[
        "rpc",
        "ping",
        "127.0.0.1",
        "100000",
        "2",
        "--proto",
        "udp",
        "--port",
        &port,
        "-t",
        "0.3",
    ])
    .fails(3, "no answer in 300ms");
    assert!(started.elapsed() < Duration::from_secs(5));
    // Usage errors (2).
    xipc(&["rpc", "ping", "127.0.0.1", "1", "x"]).fails(2, "invalid value 'x'");
    xipc(&["rpc", "ping", "127.0.0.1", "1", "1", "--proto", "sctp"])
        .fails(2, "invalid value 'sctp'");
    // An unknown host: not found (4).
    xipc(&["rpc", "dump", "no-such-host.invalid"]).fails(4, "no-such-host.invalid");
}

#[test]
fn help_for_every_rpc_command() {
    for cmd in ["ping", "dump"] {
        let text = xipc(&["rpc", cmd, "--help"]).ok();
        assert!(text.contains(&format!("Usage: xipc rpc {cmd}")), "{text}");
    }
    for cmd in ["gen", "rpcbind"] {
        let text = xipc(&[cmd, "--help"]).ok();
        assert!(text.contains(&format!("Usage: xipc {cmd}")), "{text}");
    }
}
