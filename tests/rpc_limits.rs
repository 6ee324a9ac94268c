//! The server's connection limit and its behaviour when the process runs
//! out of file descriptors. One test in its own process, because it lowers
//! the process's open-file limit.

mod support;

use std::fs::File;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, OwnedFd};

use nix::sys::socket::{connect, socket, AddressFamily, SockFlag, SockType, SockaddrIn};
use std::time::{Duration, Instant};

use xipc::rpc::{Client, Protocol, Server};
use xipc::Error;

const PROG: u32 = 0x2000_1235;

fn echo_server() -> (Server, u16) {
    let s = Server::new();
    s.set_rpcbind_registration(false);
    s.register(PROG, 1, 1, |_, args, out| {
        out.put_raw(args);
        Ok(())
    });
    let port = s.listen_tcp("127.0.0.1", 0).unwrap();
    s.start().unwrap();
    (s, port)
}

fn client(port: u16) -> Client {
    let c = Client::connect("127.0.0.1", port, PROG, 1, Protocol::Tcp).unwrap();
    c.set_timeout(Some(Duration::from_secs(5))).unwrap();
    c
}

/// Sets this process's soft open-file limit with util-linux's prlimit.
fn set_open_file_limit(soft: u64, hard: u64) {
    let status = std::process::Command::new("prlimit")
        .arg(format!("--pid={}", std::process::id()))
        .arg(format!("--nofile={soft}:{hard}"))
        .status();
    assert!(
        matches!(status, Ok(s) if s.success()),
        "prlimit (util-linux) failed: {status:?}"
    );
}

fn open_file_limits() -> (u64, u64) {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let n: Vec<u64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    (n[0], n[1])
}

/// User plus system CPU time of this process so far, read from `stat`
/// (/proc/self/stat, opened beforehand: no descriptor is needed now).
fn cpu_time(stat: &File) -> Duration {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0u8; 4096];
    let n = stat.read_at(&mut buf, 0).unwrap();
    let stat = String::from_utf8_lossy(&buf[..n]);
    // Fields after the command name (which ends with ')'): utime is the 12th, stime the 13th.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|w| w.parse().unwrap_or(0))
        .collect();
    // Linux reports these in USER_HZ, 100 per second.
    Duration::from_millis((f[11] + f[12]) * 10)
}

enum Outcome {
    Answered,
    Closed,
}

/// Sends a NULL call on a raw connection: answered, or closed by the
/// server (fails after 5 s of silence).
fn raw_ping(mut stream: &TcpStream) -> Outcome {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut call = vec![0x80, 0, 0, 40, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2];
    for word in [PROG, 1, 0, 0, 0, 0, 0] {
        call.extend(word.to_be_bytes());
    }
    if stream.write_all(&call).is_err() {
        return Outcome::Closed;
    }
    let mut b = [0u8; 4];
    match stream.read(&mut b) {
        Ok(0) => Outcome::Closed,
        Ok(_) => Outcome::Answered,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Outcome::Closed,
        Err(e) => panic!("the server left a connection hanging: {e}"),
    }
}

#[test]
fn connection_limit_and_running_out_of_descriptors() {
    // Past the connection limit a connection is closed at once.
    let (s, port) = echo_server();
    s.set_max_connections(3).unwrap();
    let mut clients: Vec<Client> = (0..3).map(|_| client(port)).collect();
    for c in &clients {
        c.ping().unwrap();
    }
    let extra = client(port);
    assert!(matches!(extra.ping(), Err(Error::Closed(_))));
    assert_eq!(s.connection_count(), 3);
    // Once one closes, a new connection is served.
    clients.pop();
    support::wait_for("a connection to end", Duration::from_secs(5), || {
        s.connection_count() == 2
    });
    client(port).ping().unwrap();
    drop(clients);
    // A stopped server has closed every descriptor it had: none is freed
    // behind the filling below.
    s.stop();
    drop(s);

    // Out of descriptors: existing connections go on, new ones are closed
    // (no hang, no spinning), and served again once descriptors are free.
    let (s, port) = echo_server();
    let served = client(port);
    served.ping().unwrap();
    // Sockets for the clients below, made while descriptors remain.
    let mut sockets: Vec<OwnedFd> = (0..30)
        .map(|_| {
            socket(
                AddressFamily::Inet,
                SockType::Stream,
                SockFlag::SOCK_CLOEXEC,
                None,
            )
            .unwrap()
        })
        .collect();
    let stat = File::open("/proc/self/stat").unwrap();
    let (soft, hard) = open_file_limits();
    let open_now = std::fs::read_dir("/proc/self/fd").unwrap().count() as u64;
    set_open_file_limit(open_now + 16, hard);
    // Take every descriptor left.
    let mut fillers = Vec::new();
    loop {
        match File::open("/dev/null") {
            Ok(f) => fillers.push(f),
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(libc::EMFILE), "{e}");
                break;
            }
        }
    }
    // Clients keep knocking: each is answered or closed at once (never left
    // hanging), without the server spinning; once the server cannot keep
    // one, it sheds them.
    let cpu = cpu_time(&stat);
    let t = Instant::now();
    let mut knocks = Vec::new();
    let mut shed = 0;
    let to = SockaddrIn::new(127, 0, 0, 1, port);
    while t.elapsed() < Duration::from_secs(1) {
        let fd = sockets.pop().expect("enough sockets");
        connect(fd.as_raw_fd(), &to).unwrap();
        let knock = TcpStream::from(fd);
        match raw_ping(&knock) {
            Outcome::Answered => knocks.push(knock),
            Outcome::Closed => shed += 1,
        }
        served.ping().unwrap();
        std::thread::sleep(Duration::from_millis(50));
    }
    let used = cpu_time(&stat) - cpu;
    assert!(
        shed >= 5,
        "{shed} connections shed, {} answered",
        knocks.len()
    );
    assert!(used < Duration::from_millis(400), "{used:?} of CPU in 1 s");
    drop(knocks);
    // Descriptors free again: new clients are served.
    drop(fillers);
    set_open_file_limit(soft, hard);
    let fresh = client(port);
    assert_eq!(fresh.call(1, &[0, 0, 0, 7]).unwrap(), vec![0, 0, 0, 7]);
    served.ping().unwrap();
    s.stop();
}
