"""Faults: a peer killed in the middle of a message on every stream type
(pipe, FIFO, TCP, Unix socket); an RPC server killed in the middle of a call;
a queue unlinked while open; the descriptor limit reached while accepting;
signals during blocking calls from Python. Each gives a clear error to the
one affected, everything else keeps working, and no message is lost or
duplicated."""

import os
import resource
import select
import signal
import socket
import struct
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from waiting import SignalWhenBlocked, blocked, wait_until

import xipc
from xipc import errors, rpc

PROG = 0x2000AAAA


def child(code: str, **kw) -> subprocess.Popen:
    """A Python child running `code` with xipc importable; its stdout is a pipe."""
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)],
                            stdout=subprocess.PIPE, text=True, **kw)


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()


# A peer that writes the header of a 1,000-byte message and 10 bytes of it,
# says so, and waits to be killed. `connect` makes the stream `s`.
HALF_MESSAGE = """
    import struct, sys, time
    import xipc
    {connect}
    s.write_all(struct.pack(">I", 0x80000000 | 1000) + b"0123456789")
    print("sent", flush=True)
    time.sleep(60)
"""


def assert_cut_off(reader):
    with pytest.raises(errors.ConnectionClosed,
                       match=r"inside a message \(10 of 1000 bytes of fragment 1\)"):
        reader.receive()


def test_fault_pipe_writer_killed_mid_message():
    r, w = xipc.pipe()
    other_r, other_w = xipc.pipe()
    with r, other_r, other_w:
        fd = w.fileno()
        w.set_inheritable(True)
        peer = child(HALF_MESSAGE.format(connect=f"s = xipc.Stream.from_fd({fd})"),
                     pass_fds=(fd,))
        w.close()
        assert peer.stdout.readline() == "sent\n"
        other_w.send(b"before")
        kill(peer)
        assert_cut_off(r)
        other_w.send(b"after")
        assert other_r.receive() == b"before"
        assert other_r.receive() == b"after"


def test_fault_fifo_writer_killed_mid_message(tmp_path):
    path = tmp_path / "fifo"
    xipc.mkfifo(path)
    r = xipc.open_fifo(path, "r", blocking=False)
    with r:
        peer = child(HALF_MESSAGE.format(connect=f"s = xipc.open_fifo({str(path)!r}, 'w')"))
        assert peer.stdout.readline() == "sent\n"
        kill(peer)
        r.settimeout(10)
        assert_cut_off(r)


@pytest.mark.parametrize("kind", ["tcp", "unix"])
def test_fault_socket_peer_killed_mid_message(kind, tmp_path):
    if kind == "tcp":
        listener = xipc.tcp_listen("127.0.0.1", 0)
        connect = f"s = xipc.tcp_connect('127.0.0.1', {listener.port}, timeout=10)"
        dial = lambda: xipc.tcp_connect("127.0.0.1", listener.port, timeout=10)  # noqa: E731
    else:
        path = str(tmp_path / "sock")
        listener = xipc.unix_listen(path)
        connect = f"s = xipc.unix_connect({path!r}, timeout=10)"
        dial = lambda: xipc.unix_connect(path, timeout=10)  # noqa: E731
    with listener:
        # A healthy connection, open before and used after the fault.
        good_client = dial()
        good_server = listener.accept(timeout=10)
        peer = child(HALF_MESSAGE.format(connect=connect))
        victim = listener.accept(timeout=10)
        with good_client, good_server, victim:
            assert peer.stdout.readline() == "sent\n"
            kill(peer)
            victim.settimeout(10)
            assert_cut_off(victim)
            good_client.send(b"still here")
            assert good_server.receive() == b"still here"
            good_server.send(b"and back")
            assert good_client.receive() == b"and back"
            # New connections are accepted too.
            with dial() as late, listener.accept(timeout=10) as late_server:
                late.send(b"late")
                assert late_server.receive() == b"late"


# An RPC server whose procedure 1 says it has started and never finishes.
STUCK_SERVER = f"""
    import sys, time
    from xipc import rpc
    s = rpc.Server()
    s.set_rpcbind_registration(False)
    def stuck(args, call):
        print("in handler", flush=True)
        time.sleep(60)
    s.register({PROG}, 1, 1, stuck)
    s.register({PROG}, 1, 2, lambda args, call: args)
    tcp = s.listen_tcp("127.0.0.1", 0)
    udp = s.listen_udp("127.0.0.1", 0)
    s.start()
    print(tcp, udp, flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("proto", ["tcp", "udp"])
def test_fault_server_killed_mid_call(proto):
    server = child(STUCK_SERVER)
    try:
        tcp, udp = map(int, server.stdout.readline().split())
        port = tcp if proto == "tcp" else udp
        timeout = 3.0
        c = rpc.Client("127.0.0.1", PROG, 1, proto=proto, port=port, timeout=timeout)
        assert c.call(2, b"\0\0\0\1") == b"\0\0\0\1"

        def kill_when_called():
            assert server.stdout.readline() == "in handler\n"
            server.send_signal(signal.SIGKILL)

        killer = threading.Thread(target=kill_when_called)
        killer.start()
        started = time.monotonic()
        # TCP: the connection closes under the call; UDP cannot tell, so the
        # call times out after its retransmissions.
        expected = errors.ConnectionClosed if proto == "tcp" else errors.Timeout
        with pytest.raises(expected):
            c.call(1, b"")
        elapsed = time.monotonic() - started
        killer.join(10)
        assert elapsed < timeout + 1.0, f"the client took {elapsed:.1f}s"
        if proto == "tcp":
            assert elapsed < 1.0, f"a closed connection took {elapsed:.1f}s to notice"
        c.close()
    finally:
        server.kill()
        server.wait(timeout=10)
        server.stdout.close()


def test_fault_queue_unlinked_while_open():
    name = f"/xipc-fault-{os.getpid()}"
    q = xipc.MessageQueue(name, create=True, exclusive=True, max_messages=4,
                          max_message_size=64)
    with q:
        q.send(b"before", 1)
        xipc.unlink_queue(name)
        # The open handle keeps the queue: nothing is lost.
        q.send(b"after", 2)
        assert q.receive(timeout=1) == (b"after", 2)
        assert q.receive(timeout=1) == (b"before", 1)
        # The name is gone: opening it is NotFound, unlinking again too.
        with pytest.raises(errors.NotFound):
            xipc.MessageQueue(name)
        with pytest.raises(errors.NotFound):
            xipc.unlink_queue(name)
        # A new queue under the same name is a different queue.
        with xipc.MessageQueue(name, create=True, exclusive=True, max_messages=4,
                               max_message_size=64) as fresh:
            fresh.send(b"fresh")
            with pytest.raises(TimeoutError):
                q.receive(timeout=0.05)
            assert fresh.receive(timeout=1) == (b"fresh", 0)
            fresh.unlink()


# Lowers RLIMIT_NOFILE, uses up the descriptors, and accepts.
EMFILE_ACCEPT = """
    import errno, os, resource
    import xipc
    from xipc import errors
    listener = xipc.tcp_listen("127.0.0.1", 0)
    client = xipc.tcp_connect("127.0.0.1", listener.port, timeout=10)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))
    hogs = []
    try:
        while True:
            hogs.append(os.open("/dev/null", os.O_RDONLY))
    except OSError as e:
        assert e.errno == errno.EMFILE
    try:
        listener.accept(timeout=5)
        raise SystemExit("accept succeeded with no descriptor left")
    except errors.OSFailure as e:
        assert e.errno == errno.EMFILE, e
        print("EMFILE:", e, flush=True)
    os.close(hogs.pop())
    # The pending connection was not lost: it is accepted now.
    server = listener.accept(timeout=5)
    client.send(b"queued")
    assert server.receive() == b"queued"
    print("ok", flush=True)
"""


def test_fault_descriptor_limit_while_accepting():
    proc = child(EMFILE_ACCEPT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("EMFILE:") and "Too many open files" in lines[0]
    assert lines[-1] == "ok"


# ---- signals during blocking calls from Python ---------------------------

@pytest.fixture
def sigusr1():
    seen = []
    old = signal.signal(signal.SIGUSR1, lambda *_: seen.append(1))
    yield seen
    signal.signal(signal.SIGUSR1, old)


def test_fault_signal_during_stream_receive(sigusr1):
    r, w = xipc.pipe()
    with r, w:
        w.write_all(struct.pack(">I", 0x80000000 | 9) + b"half")
        t = SignalWhenBlocked(sigusr1, ["read"], lambda: w.write_all(b"-done"))
        # The handler ran in the middle; the call resumed, keeping "half".
        assert r.receive() == b"half-done"
        t.join()
        assert sigusr1 == [1]
        r.settimeout(0.05)
        with pytest.raises(TimeoutError):
            r.receive()  # and nothing was duplicated


def test_fault_signal_during_accept_and_mq_receive(sigusr1):
    with xipc.tcp_listen("127.0.0.1", 0) as listener:
        t = SignalWhenBlocked(sigusr1, ["poll", "ppoll"],
                               lambda: xipc.tcp_connect("127.0.0.1", listener.port).close())
        with listener.accept(timeout=10):
            pass
        t.join()
    assert sigusr1 == [1]
    name = f"/xipc-fault-sig-{os.getpid()}"
    with xipc.MessageQueue(name, create=True, exclusive=True, max_messages=2,
                           max_message_size=16) as q:
        q.unlink()
        t = SignalWhenBlocked(sigusr1, ["mq_timedreceive"], lambda: q.send(b"m", 3))
        assert q.receive(timeout=10) == (b"m", 3)
        t.join()
        with pytest.raises(TimeoutError):
            q.receive(timeout=0.05)
    assert sigusr1 == [1, 1]


class _CountingUdpRelay:
    """Passes datagrams between one client and 127.0.0.1:`port`, counting
    those it passes on towards the port (`sent`)."""

    def __init__(self, port):
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind(("127.0.0.1", 0))
        self.port = self.front.getsockname()[1]
        self.back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.back.connect(("127.0.0.1", port))
        self.sent = 0
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        client = None
        while True:
            ready, _, _ = select.select([self.front, self.back, self._stop_r], [], [])
            if self._stop_r in ready:
                return
            if self.front in ready:
                data, client = self.front.recvfrom(65536)
                self.back.send(data)
                self.sent += 1
            if self.back in ready:
                data = self.back.recv(65536)
                if client is not None:
                    self.front.sendto(data, client)

    def close(self):
        os.write(self._stop_w, b"x")
        self._thread.join(10)
        for fd in (self._stop_r, self._stop_w):
            os.close(fd)
        self.front.close()
        self.back.close()


def test_fault_signal_during_rpc_call(sigusr1):
    """A signal reaching the calling thread while its call is blocked waiting
    for the reply: the call resumes and is answered, its handler run once.
    The handler stays inside until a helper thread has seen it entered and
    the caller asleep in the kernel, signalled the caller, seen the signal
    arrive (the byte Python's C-level handler writes to the wake-up
    descriptor) and, on UDP, seen the call retransmitted to the server
    meanwhile (the duplicate-request cache must not run it again)."""
    runs = []
    entered = threading.Event()
    release = threading.Event()

    def held(args, call):
        runs.append(1)
        entered.set()
        if not release.wait(20):
            raise RuntimeError("never released")
        return args

    caller = threading.main_thread()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    old_wakeup = signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
    try:
        with rpc.Server() as s:
            s.set_rpcbind_registration(False)
            s.set_duplicate_cache(16)
            s.register(PROG, 1, 1, held)
            ports = {"tcp": s.listen_tcp(), "udp": s.listen_udp()}
            s.start()
            for proto, port in ports.items():
                runs.clear()
                entered.clear()
                release.clear()
                relay = _CountingUdpRelay(port) if proto == "udp" else None
                failed = []

                def poke():
                    deadline = time.monotonic() + 10
                    try:
                        wait_until("the handler to be entered", deadline, entered.is_set)
                        wait_until("the call to block", deadline,
                               lambda: blocked(caller.native_id))
                        signal.pthread_kill(caller.ident, signal.SIGUSR1)
                        wait_until("the signal to reach the caller", deadline,
                               lambda: select.select([wake_r], [], [], 0)[0])
                        assert os.read(wake_r, 1) == bytes([signal.SIGUSR1])
                        if relay is not None:
                            wait_until("a retransmission", deadline, lambda: relay.sent >= 2)
                    except BaseException as exc:  # noqa: BLE001 - reported below
                        failed.append(exc)
                    finally:
                        release.set()

                t = threading.Thread(target=poke)
                seen = len(sigusr1)
                with rpc.Client("127.0.0.1", PROG, 1, proto=proto,
                                port=relay.port if relay else port, timeout=10) as c:
                    t.start()
                    assert c.call(1, b"\0\0\0\7") == b"\0\0\0\7"
                    t.join()
                if relay is not None:
                    relay.close()
                assert failed == [], proto
                assert len(sigusr1) == seen + 1, proto
                assert runs == [1], proto
    finally:
        signal.set_wakeup_fd(old_wakeup)
        os.close(wake_r)
        os.close(wake_w)
