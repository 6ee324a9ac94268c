//! Streams as a Rust user sees them: pipes, FIFOs, TCP and Unix sockets,
//! record-marked messages, timeouts, nonblocking mode and signals.

use std::io::Write as _;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use xipc::stream::{self, FifoMode, Shutdown, Stream};
use xipc::Error;

mod support;

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xipc-stream-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn pipe_carries_messages_and_raw_bytes() {
    let (r, w) = stream::pipe().unwrap();
    w.send(b"first").unwrap();
    w.send(b"").unwrap();
    w.write_all(b"raw").unwrap();
    assert_eq!(r.receive().unwrap().unwrap(), b"first");
    assert_eq!(r.receive().unwrap().unwrap(), b"");
    let mut buf = [0u8; 8];
    assert_eq!(r.read(&mut buf).unwrap(), 3);
    assert_eq!(&buf[..3], b"raw");
    drop(w);
    assert_eq!(r.receive().unwrap(), None, "clean end of stream");
}

#[test]
fn hand_written_record_is_read_by_receive() {
    let (r, w) = stream::pipe().unwrap();
    // Two fragments, "hel" then (last) "lo", written with plain write(2).
    let frame = [0, 0, 0, 3, b'h', b'e', b'l', 0x80, 0, 0, 2, b'l', b'o'];
    let mut file = std::fs::File::from(std::os::fd::OwnedFd::from(w));
    file.write_all(&frame).unwrap();
    assert_eq!(r.receive().unwrap().unwrap(), b"hello");
}

#[test]
fn send_writes_the_exact_record_bytes() {
    let (r, w) = stream::pipe().unwrap();
    w.set_max_fragment(4).unwrap();
    w.send(b"abcdefghij").unwrap();
    drop(w);
    let mut raw = Vec::new();
    let mut buf = [0u8; 64];
    loop {
        let n = r.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    assert_eq!(
        raw,
        [
            &[0, 0, 0, 4][..],
            b"abcd",
            &[0, 0, 0, 4],
            b"efgh",
            &[0x80, 0, 0, 2],
            b"ij"
        ]
        .concat()
    );
}

#[test]
fn large_multi_fragment_message_round_trips_over_a_socket() {
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    let (a, b) = (Stream::from(a), Stream::from(b));
    let msg: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let sent = msg.clone();
    let writer = std::thread::spawn(move || {
        a.set_max_fragment(100_000).unwrap();
        a.send(&sent).unwrap();
        a
    });
    assert_eq!(b.receive().unwrap().unwrap(), msg);
    writer.join().unwrap();
}

#[test]
fn peer_closing_mid_frame_is_an_error() {
    let (r, w) = stream::pipe().unwrap();
    w.write_all(&[0x80, 0, 0, 10, 1, 2, 3]).unwrap();
    drop(w);
    match r.receive() {
        Err(Error::Closed(why)) => assert!(why.contains("3 of 10 bytes"), "{why}"),
        other => panic!("expected Closed, got {other:?}"),
    }
}

#[test]
fn peer_closing_inside_a_header_is_an_error() {
    let (r, w) = stream::pipe().unwrap();
    w.write_all(&[0x80, 0]).unwrap();
    drop(w);
    match r.receive() {
        Err(Error::Closed(why)) => assert!(why.contains("2 of 4"), "{why}"),
        other => panic!("expected Closed, got {other:?}"),
    }
}

#[test]
fn hostile_header_is_refused_without_waiting_for_the_body() {
    let (r, w) = stream::pipe().unwrap();
    w.write_all(&[0x7F, 0xFF, 0xFF, 0xFF]).unwrap();
    r.set_max_message_size(1 << 16);
    // No body follows: were the length trusted, this would wait for ever.
    r.set_read_timeout(Some(Duration::from_secs(5)));
    let start = Instant::now();
    let err = r.receive().unwrap_err();
    assert!(
        matches!(
            err,
            Error::MessageTooLarge {
                size: 0x7FFF_FFFF,
                limit: 65536
            }
        ),
        "{err}"
    );
    assert!(start.elapsed() < Duration::from_secs(1));
}

#[test]
fn max_message_size_counts_all_fragments() {
    let (r, w) = stream::pipe().unwrap();
    r.set_max_message_size(8);
    w.set_max_fragment(5).unwrap();
    w.send(b"123456789").unwrap();
    let err = r.receive().unwrap_err();
    assert!(
        matches!(err, Error::MessageTooLarge { size: 9, limit: 8 }),
        "{err}"
    );
}

#[test]
fn endless_empty_fragments_are_bounded() {
    let (r, w) = stream::pipe().unwrap();
    r.set_record_limits(stream::RecordLimits {
        max_record: 1024,
        max_fragments: 100,
    });
    w.write_all(&[0u8; 4 * 101]).unwrap();
    assert!(matches!(r.receive(), Err(Error::Protocol(_))));
}

#[test]
fn read_timeout_keeps_a_partial_message() {
    let (r, w) = stream::pipe().unwrap();
    r.set_read_timeout(Some(Duration::from_millis(50)));
    let start = Instant::now();
    assert!(matches!(r.receive(), Err(Error::TimedOut(_))));
    assert!(start.elapsed() >= Duration::from_millis(50));
    w.write_all(&[0x80, 0, 0, 6, b'p', b'a', b'r']).unwrap();
    assert!(matches!(r.receive(), Err(Error::TimedOut(_))));
    w.write_all(b"tly").unwrap();
    assert_eq!(r.receive().unwrap().unwrap(), b"partly");
}

#[test]
fn write_timeout_on_a_full_pipe() {
    let (_r, w) = stream::pipe().unwrap();
    w.set_nonblocking(true).unwrap();
    let chunk = [0u8; 4096];
    while w.write(&chunk).is_ok() {}
    w.set_nonblocking(false).unwrap();
    w.set_write_timeout(Some(Duration::from_millis(50)));
    let start = Instant::now();
    assert!(matches!(w.send(b"late"), Err(Error::TimedOut(_))));
    assert!(start.elapsed() >= Duration::from_millis(50));
}

#[test]
fn nonblocking_send_keeps_the_rest_of_a_big_message() {
    let (r, w) = stream::pipe().unwrap();
    w.set_nonblocking(true).unwrap();
    let msg: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
    w.send(&msg).unwrap(); // accepted: part written, the rest pending
    assert!(w.pending_bytes() > 0);
    assert!(matches!(w.send(b"next"), Err(Error::WouldBlock)));
    let reader = std::thread::spawn(move || {
        let first = r.receive().unwrap().unwrap();
        let second = r.receive().unwrap().unwrap();
        (first, second)
    });
    while w.pending_bytes() > 0 {
        match w.flush() {
            Ok(()) | Err(Error::WouldBlock) => std::thread::sleep(Duration::from_millis(1)),
            Err(e) => panic!("{e}"),
        }
    }
    w.set_nonblocking(false).unwrap();
    w.send(b"next").unwrap();
    let (first, second) = reader.join().unwrap();
    assert_eq!(first, msg);
    assert_eq!(second, b"next");
}

/// How many SIGUSR1 signals `on_sigusr1` has handled.
static SIGUSR1_HANDLED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

extern "C" fn on_sigusr1(_: libc::c_int) {
    SIGUSR1_HANDLED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
}

#[test]
fn signal_during_a_blocking_receive_is_reported_and_nothing_is_lost() {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let action = SigAction::new(
        SigHandler::Handler(on_sigusr1),
        SaFlags::empty(), // no SA_RESTART: the read is interrupted
        SigSet::empty(),
    );
    // SAFETY: the handler only adds to an atomic, which is async-signal-safe.
    unsafe { sigaction(Signal::SIGUSR1, &action) }.unwrap();

    let (r, w) = stream::pipe().unwrap();
    w.write_all(&[0x80, 0, 0, 5, b'a']).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        // SAFETY: pthread_self has no preconditions.
        let thread = unsafe { libc::pthread_self() };
        tx.send((thread, nix::unistd::gettid().as_raw())).unwrap();
        let first = r.receive();
        let second = r.receive();
        (first, second)
    });
    let (thread, tid) = rx.recv().unwrap();
    // Signalled once it waits in read(2) for the rest of the message...
    let limit = Duration::from_secs(10);
    support::wait_for("the receive to block in read(2)", limit, || {
        support::blocked_in(tid, &[libc::SYS_read])
    });
    let handled = SIGUSR1_HANDLED.load(std::sync::atomic::Ordering::SeqCst);
    // SAFETY: the thread is alive (it is blocked reading) and SIGUSR1 has a handler.
    assert_eq!(unsafe { libc::pthread_kill(thread, libc::SIGUSR1) }, 0);
    // ...and the rest is written only once the handler has run.
    support::wait_for("the signal handler to run", limit, || {
        SIGUSR1_HANDLED.load(std::sync::atomic::Ordering::SeqCst) > handled
    });
    w.write_all(b"bcde").unwrap();
    drop(w); // a receive too many then sees the end, not a wait for ever
    let (first, second) = reader.join().unwrap();
    assert!(matches!(first, Err(Error::Interrupted)), "{first:?}");
    assert_eq!(second.unwrap().unwrap(), b"abcde");
}

#[test]
fn fifo_is_created_with_its_mode_and_carries_messages() {
    let dir = temp_dir("fifo");
    let path = dir.join("f");
    stream::mkfifo(&path, 0o600).unwrap();
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.permissions().mode() & 0o7777, 0o600);
    assert!(matches!(
        stream::mkfifo(&path, 0o600),
        Err(Error::Exists(_))
    ));
    assert!(matches!(
        stream::open_fifo(&path, FifoMode::Write, false),
        Err(Error::WouldBlock)
    ));
    let r = stream::open_fifo(&path, FifoMode::Read, false).unwrap();
    assert!(r.is_nonblocking());
    let w = stream::open_fifo(&path, FifoMode::Write, true).unwrap();
    r.set_nonblocking(false).unwrap();
    w.send(b"through the fifo").unwrap();
    assert_eq!(r.receive().unwrap().unwrap(), b"through the fifo");
    assert!(matches!(
        stream::open_fifo(dir.join("missing"), FifoMode::Read, false),
        Err(Error::NotFound(_))
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn pipes_are_close_on_exec_until_made_inheritable() {
    let (r, w) = stream::pipe().unwrap();
    let fd = w.as_raw_fd();
    let script = format!("printf '\\200\\000\\000\\003abc' >&{fd}");
    let status = Command::new("sh").arg("-c").arg(&script).status().unwrap();
    assert!(!status.success(), "fd {fd} leaked into the child");
    assert_eq!(w.set_inheritable(true).unwrap(), fd);
    let status = Command::new("sh").arg("-c").arg(&script).status().unwrap();
    assert!(status.success());
    drop(w);
    assert_eq!(r.receive().unwrap().unwrap(), b"abc");
}

#[test]
fn tcp_over_ipv4_and_ipv6_loopback() {
    for host in ["127.0.0.1", "::1", "localhost"] {
        let listener = stream::tcp_listen(host, 0).unwrap();
        let port = listener.port().unwrap();
        assert_ne!(port, 0);
        let client = stream::tcp_connect(host, port, Some(Duration::from_secs(5))).unwrap();
        let server = listener.accept(Some(Duration::from_secs(5))).unwrap();
        assert_eq!(server.kind(), stream::Kind::Tcp);
        let nodelay = nix::sys::socket::getsockopt(&client, nix::sys::socket::sockopt::TcpNoDelay);
        assert!(nodelay.unwrap(), "TCP_NODELAY is on");
        client.send(host.as_bytes()).unwrap();
        assert_eq!(server.receive().unwrap().unwrap(), host.as_bytes());
        server.send(b"back").unwrap();
        assert_eq!(client.receive().unwrap().unwrap(), b"back");
        client.shutdown(Shutdown::Write).unwrap();
        assert_eq!(server.receive().unwrap(), None);
        assert!(matches!(
            client.peer_credentials(),
            Err(Error::Unsupported(_))
        ));
    }
}

#[test]
fn accept_times_out_and_unknown_hosts_are_not_found() {
    let listener = stream::tcp_listen("127.0.0.1", 0).unwrap();
    let start = Instant::now();
    assert!(matches!(
        listener.accept(Some(Duration::from_millis(50))),
        Err(Error::TimedOut(_))
    ));
    assert!(start.elapsed() >= Duration::from_millis(50));
    assert!(matches!(
        stream::tcp_connect("no-such-host.invalid", 1, Some(Duration::from_secs(5))),
        Err(Error::NotFound(_))
    ));
}

#[test]
fn unix_socket_mode_credentials_and_stale_files() {
    let dir = temp_dir("unix");
    let path = dir.join("s");
    let listener = stream::unix_listen(&path, 0o600).unwrap();
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);

    let client = stream::unix_connect(&path, Some(Duration::from_secs(5))).unwrap();
    let server = listener.accept(None).unwrap();

    // A live server's socket is not replaced. (The check connects once: the
    // server sees a connection that ends at once.)
    assert!(matches!(
        stream::unix_listen(&path, 0o600),
        Err(Error::Exists(_))
    ));
    let probe = listener.accept(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(probe.receive().unwrap(), None);

    let creds = server.peer_credentials().unwrap();
    assert_eq!(creds.pid as u32, std::process::id());
    assert_eq!(creds.uid, nix::unistd::getuid().as_raw());
    assert_eq!(creds.gid, nix::unistd::getgid().as_raw());
    client.send(b"over unix").unwrap();
    assert_eq!(server.receive().unwrap().unwrap(), b"over unix");

    // A socket file left behind by a dead server is replaced.
    let stale = dir.join("stale");
    let std_listener = std::os::unix::net::UnixListener::bind(&stale).unwrap();
    drop(std_listener); // std leaves the file: a stale socket
    assert!(stale.exists());
    let relisten = stream::unix_listen(&stale, 0o600).unwrap();
    stream::unix_connect(&stale, None).unwrap();
    relisten.accept(Some(Duration::from_secs(5))).unwrap();

    // A file that is not a socket is never removed.
    let regular = dir.join("regular");
    std::fs::write(&regular, b"data").unwrap();
    assert!(matches!(
        stream::unix_listen(&regular, 0o600),
        Err(Error::Exists(_))
    ));
    assert_eq!(std::fs::read(&regular).unwrap(), b"data");

    drop(listener);
    assert!(!path.exists(), "the listener removes its socket file");
    assert!(matches!(
        stream::unix_connect(&path, None),
        Err(Error::NotFound(_))
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn stream_from_an_inherited_descriptor() {
    let (r, w) = stream::pipe().unwrap();
    let fd = std::os::fd::IntoRawFd::into_raw_fd(r);
    // SAFETY: `fd` was just released by the pipe's reader and nothing else owns it.
    let r = unsafe { Stream::from_raw_fd(fd) };
    assert_eq!(r.kind(), stream::Kind::Pipe);
    w.send(b"adopted").unwrap();
    assert_eq!(r.receive().unwrap().unwrap(), b"adopted");
}

#[test]
fn one_thread_receives_while_another_sends_on_the_same_stream() {
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    let (a, b) = (std::sync::Arc::new(Stream::from(a)), Stream::from(b));
    let (tx, rx) = std::sync::mpsc::channel();
    let receiver = {
        let a = a.clone();
        std::thread::spawn(move || {
            tx.send(nix::unistd::gettid().as_raw()).unwrap();
            a.receive().unwrap().unwrap()
        })
    };
    let tid = rx.recv().unwrap();
    let reads = [
        libc::SYS_read,
        libc::SYS_readv,
        libc::SYS_recvfrom,
        libc::SYS_recvmsg,
    ];
    support::wait_for("the receive to block", Duration::from_secs(10), || {
        support::blocked_in(tid, &reads)
    });
    a.send(b"while receiving").unwrap(); // not held up by the blocked receive
    assert_eq!(b.receive().unwrap().unwrap(), b"while receiving");
    b.send(b"answer").unwrap();
    assert_eq!(receiver.join().unwrap(), b"answer");
}
