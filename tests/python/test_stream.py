"""Streams from Python: pipes, FIFOs, TCP and Unix sockets, framed messages."""

import os
import signal
import socket
import stat
import struct
import subprocess
import sys
import threading
import time

import pytest
from waiting import SignalWhenBlocked, blocked, wait_until

import xipc
from xipc import errors


def test_pipe_round_trip_and_raw_bytes():
    r, w = xipc.pipe()
    with r, w:
        w.send(b"hello")
        w.send(bytearray(b"from a bytearray"))
        w.send(memoryview(b"xxview")[2:])
        w.send(b"")
        w.write_all(b"raw")
        assert r.receive() == b"hello"
        assert r.receive() == b"from a bytearray"
        assert r.receive() == b"view"
        assert r.receive() == b""
        assert r.read(10) == b"raw"
    assert r.closed and w.closed


def test_frames_are_record_marked_on_the_wire():
    r, w = xipc.pipe()
    w.send(b"abc")
    assert r.read(100) == b"\x80\x00\x00\x03abc"
    # Written by hand, two fragments: read back as one message.
    w.write_all(struct.pack(">I", 2) + b"xy" + struct.pack(">I", 0x80000001) + b"z")
    assert r.receive() == b"xyz"


def test_large_message_goes_through_the_allocating_path():
    a, b = socket.socketpair()
    r, w = xipc.Stream.from_fd(a.detach()), xipc.Stream.from_fd(b.detach())
    msg = bytes(range(256)) * 4096  # 1 MiB, more than the receive buffer
    t = threading.Thread(target=w.send, args=(msg,))
    t.start()
    assert r.receive() == msg
    t.join()


def test_end_of_stream_and_mid_frame_close():
    r, w = xipc.pipe()
    w.send(b"last")
    w.close()
    assert r.receive() == b"last"
    with pytest.raises(errors.ConnectionClosed, match="end of stream"):
        r.receive()
    r, w = xipc.pipe()
    w.write_all(b"\x80\x00\x00\x10abc")
    w.close()
    with pytest.raises(ConnectionError, match="3 of 16 bytes"):
        r.receive()


def test_hostile_header_is_bounded_by_the_maximum():
    r, w = xipc.pipe()
    r.set_max_message_size(1024)
    r.settimeout(5)
    w.write_all(b"\x7f\xff\xff\xff")
    start = time.monotonic()
    with pytest.raises(errors.MessageTooLarge, match="2147483647 bytes, at most 1024"):
        r.receive()
    assert time.monotonic() - start < 1


def test_timeouts_and_nonblocking_keep_partial_messages():
    r, w = xipc.pipe()
    r.settimeout(0.05)
    assert r.gettimeout() == 0.05
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        r.receive()
    assert time.monotonic() - start >= 0.05
    w.write_all(b"\x80\x00\x00\x05ab")
    with pytest.raises(errors.Timeout):
        r.receive()
    r.settimeout(0)
    with pytest.raises(BlockingIOError):
        r.receive()
    w.write_all(b"cde")
    assert r.receive() == b"abcde"
    r.settimeout(None)
    w.send(b"blocking again")
    assert r.receive() == b"blocking again"


def test_signal_handler_runs_during_a_blocking_receive():
    r, w = xipc.pipe()
    seen = []

    def handler(signum, frame):
        seen.append(signum)
        w.send(b"sent by the handler")

    old = signal.signal(signal.SIGALRM, handler)
    try:
        # Signalled once the receive waits in read(2); a message ends the
        # receive only if the handler never ran.
        t = SignalWhenBlocked(seen, ["read"], lambda: seen or w.send(b"handler never ran"),
                              signum=signal.SIGALRM)
        assert r.receive() == b"sent by the handler"
        t.join()
        assert seen == [signal.SIGALRM]

        def raising(signum, frame):
            seen.append(signum)
            raise KeyboardInterrupt

        signal.signal(signal.SIGALRM, raising)
        t = SignalWhenBlocked(seen, ["read"],
                              lambda: len(seen) > 1 or w.send(b"handler never ran"),
                              signum=signal.SIGALRM)
        with pytest.raises(KeyboardInterrupt):
            r.receive()
        t.join()
        assert seen == [signal.SIGALRM] * 2
    finally:
        signal.signal(signal.SIGALRM, old)


def test_child_process_writes_through_an_inherited_pipe():
    r, w = xipc.pipe()
    child = (
        "import sys, xipc\n"
        "w = xipc.Stream.from_fd(int(sys.argv[1]))\n"
        "for i in range(3):\n"
        "    w.send(b'child %d' % i)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", child, str(w.fileno())],
                            pass_fds=(w.fileno(),))
    w.close()
    assert [r.receive() for _ in range(3)] == [b"child 0", b"child 1", b"child 2"]
    with pytest.raises(errors.ConnectionClosed):
        r.receive()
    assert proc.wait(10) == 0


def test_fifo(tmp_path):
    path = tmp_path / "fifo"
    xipc.mkfifo(path)
    assert stat.S_ISFIFO(os.stat(path).st_mode)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with pytest.raises(FileExistsError):
        xipc.mkfifo(path)
    with pytest.raises(BlockingIOError):
        xipc.open_fifo(path, "w", blocking=False)
    with pytest.raises(ValueError):
        xipc.open_fifo(path, "rw")
    with xipc.open_fifo(path, "r", blocking=False) as r:
        assert r.gettimeout() == 0
        with xipc.open_fifo(path, "w") as w:
            r.settimeout(None)
            w.send(b"fifo message")
            assert r.receive() == b"fifo message"


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_tcp(host):
    with xipc.tcp_listen(host) as listener:
        assert listener.port > 0
        with pytest.raises(TimeoutError):
            listener.accept(timeout=0.02)
        client = xipc.tcp_connect(host, listener.port, timeout=5)
        server = listener.accept(timeout=5)
        sock = socket.socket(fileno=os.dup(client.fileno()))
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        sock.close()
        client.send(b"ping")
        assert server.receive() == b"ping"
        server.send(b"pong")
        assert client.receive() == b"pong"
        client.shutdown(socket.SHUT_WR)
        with pytest.raises(errors.ConnectionClosed):
            server.receive()
        with pytest.raises(errors.Unsupported):
            server.peer_credentials()
        client.close()
        server.close()


def test_tcp_connect_errors():
    with pytest.raises(FileNotFoundError):
        xipc.tcp_connect("no-such-host.invalid", 1, timeout=5)
    port = xipc.tcp_listen("127.0.0.1").port  # closed at once: nobody listens
    with pytest.raises(ConnectionRefusedError) as info:
        xipc.tcp_connect("127.0.0.1", port, timeout=5)
    assert info.value.errno == 111  # ECONNREFUSED
    assert isinstance(info.value, errors.OSFailure)


def accept_queue_full(listener):
    """Whether the accept queue of a listening TCP socket is full, so that
    Linux drops SYNs to it: tcp_info's unacked and sacked fields hold its
    length and its limit for a listener."""
    info = listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 32)
    length, limit = struct.unpack_from("=II", info, 24)
    return length > limit


def test_tcp_connect_timeout_expires():
    # A listener whose accept queue is full drops new SYNs, so a connect to
    # it waits: the timeout must end the wait, and only the timeout.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", port))
            fillers.append(c)
        wait_until("the listener's accept queue to fill", time.monotonic() + 10,
                   lambda: accept_queue_full(server))
        start = time.monotonic()
        with pytest.raises(TimeoutError) as info:
            xipc.tcp_connect("127.0.0.1", port, timeout=0.3)
        elapsed = time.monotonic() - start
        assert 0.29 <= elapsed < 3, elapsed
        assert isinstance(info.value, errors.Timeout)
        assert f"connect to 127.0.0.1 port {port}" in str(info.value)
        # Once the queue drains, the same connect succeeds.
        for c in fillers:
            c.close()
        while True:
            server.settimeout(0.2)
            try:
                server.accept()[0].close()
            except socket.timeout:
                break
        xipc.tcp_connect("127.0.0.1", port, timeout=5).close()
    finally:
        for c in fillers:
            c.close()
        server.close()


def test_unix_socket_credentials_stale_and_live(tmp_path):
    path = tmp_path / "sock"
    with xipc.unix_listen(path) as listener:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert listener.port is None
        client = xipc.unix_connect(path, timeout=5)
        server = listener.accept(timeout=5)
        assert server.peer_credentials() == (os.getpid(), os.getuid(), os.getgid())
        assert server.peer_credentials().pid == os.getpid()
        client.send(b"over unix")
        assert server.receive() == b"over unix"
        with pytest.raises(FileExistsError, match="listening"):
            xipc.unix_listen(path)
    assert not path.exists()

    stale = tmp_path / "stale"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(stale))
    s.close()  # the file stays: a stale socket
    with xipc.unix_listen(stale, mode=0o660) as listener:
        assert stat.S_IMODE(os.stat(stale).st_mode) == 0o660
        xipc.unix_connect(stale).send(b"fresh")
        assert listener.accept(timeout=5).receive() == b"fresh"


def test_closed_handles_raise_instead_of_crashing():
    r, w = xipc.pipe()
    w.close()
    w.close()
    # As Python's files say it, on every call (the C module's and ctypes').
    for call in (lambda: w.send(b"x"), w.receive, w.fileno, lambda: w.read(1),
                 lambda: w.write(b"x"), lambda: w.write_all(b"x"), w.flush,
                 lambda: w.settimeout(1), lambda: w.set_max_message_size(9)):
        with pytest.raises(errors.InvalidArgument, match="^I/O on closed stream$") as info:
            call()
        assert isinstance(info.value, ValueError)
    r.close()
    listener = xipc.tcp_listen("127.0.0.1")
    listener.close()
    with pytest.raises(ValueError, match="^I/O on closed listener$"):
        listener.accept(timeout=0)
    with pytest.raises(ValueError, match="^I/O on closed listener$"):
        listener.fileno()


def test_full_duplex_from_two_threads():
    a, b = socket.socketpair()
    a, b = xipc.Stream.from_fd(a.detach()), xipc.Stream.from_fd(b.detach())
    got = []
    t = threading.Thread(target=lambda: got.append(a.receive()))
    t.start()
    wait_until("the thread to block in receive on `a`", time.monotonic() + 10,
               lambda: t.native_id is not None and blocked(t.native_id, ["read", "recvfrom"]))
    a.send(b"sent meanwhile")
    assert b.receive() == b"sent meanwhile"
    b.send(b"reply")
    t.join(5)
    assert got == [b"reply"]
