"""The C module that makes the hot queue, stream and RPC client calls
without ctypes.

`make test` runs the queue, stream and RPC tests twice: with the module (it
is built by `make`) and with XIPC_NO_FAST=1 (ctypes). These tests check that
the module really is in use in the first run and that both paths agree on
the edges the module handles itself.
"""

import os
import signal
import threading

import pytest

import xipc
from xipc import _lib, errors, rpc


def test_c_module_is_in_use_unless_disabled():
    if os.environ.get("XIPC_NO_FAST"):
        assert _lib.fast is None
    else:
        assert _lib.fast is not None, (
            "xipc._fast is not built: run `make` (it needs the Python headers: "
            "apt-get install python3-dev)"
        )


@pytest.fixture
def queue():
    name = f"/xipc-fast-test-{os.getpid()}"
    q = xipc.MessageQueue(name, create=True, max_messages=4, max_message_size=128)
    yield q
    q.close()
    xipc.unlink_queue(name)


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_queue_takes_any_bytes_like(queue, kind):
    queue.send(kind(b"abc\x00def"), 3)
    assert queue.receive() == (b"abc\x00def", 3)


def test_queue_full_size_and_empty_messages(queue):
    queue.send(b"\xff" * 128, 1)
    queue.send(b"", 0)
    assert queue.receive() == (b"\xff" * 128, 1)
    assert queue.receive() == (b"", 0)


def test_queue_rejects_non_bytes_and_keeps_working(queue):
    with pytest.raises(TypeError):
        queue.send("text")
    queue.send(b"after")
    assert queue.receive() == (b"after", 0)


def test_closed_queue_says_so(queue):
    queue.close()
    with pytest.raises(errors.InvalidArgument, match="closed"):
        queue.send(b"x")
    with pytest.raises(errors.InvalidArgument, match="closed"):
        queue.receive()


@pytest.mark.parametrize("size", [0, 1, 65536 + 64, 65536 + 65, 300_000])
def test_stream_messages_around_the_buffer_size(size):
    r, w = xipc.pipe()
    with r, w:
        payload = bytes(i % 251 for i in range(size))

        def send():
            w.send(bytearray(payload))
            w.send(b"next")

        sender = threading.Thread(target=send)
        sender.start()
        assert r.receive() == payload
        assert r.receive() == b"next"
        sender.join()


def test_stream_messages_of_changing_sizes():
    # As for queues: after a large message the next is received straight
    # into a bytes object and shrunk, after a small one through the scratch
    # buffer; a message larger than the buffer is refused and received in
    # full all the same, whichever way it came.
    # (70,000 and 300,000 exceed the buffer: refused after a small message
    # and after a large one.)
    sizes = [70_000, 3, 5000, 65536 + 64, 70_000, 0, 2049, 2048, 65536 + 65, 1,
             300_000, 4096, 300_000, 9]
    payloads = [bytes((i * 17 + k) % 251 for k in range(size)) for i, size in enumerate(sizes)]
    r, w = xipc.pipe()
    with r, w:

        def send():
            for p in payloads:
                w.send(p)

        sender = threading.Thread(target=send)
        sender.start()
        for i, p in enumerate(payloads):
            assert r.receive() == p, f"message {i} of {len(p)} bytes"
        sender.join()


def test_closed_stream_is_an_error():
    r, w = xipc.pipe()
    w.close()
    with pytest.raises(errors.ConnectionClosed):
        r.receive()
    r.close()
    with pytest.raises(errors.XipcError):
        r.receive()


def test_queue_call_forms(queue):
    queue.send(b"a", priority=3)
    queue.send(b"b", 2, None)
    queue.send(data=b"c", priority=1, timeout=None)
    queue.send(b"d", 0, 1.5)  # a timeout: the Python path
    assert queue.receive(timeout=None) == (b"a", 3)
    assert queue.receive(None) == (b"b", 2)
    assert queue.receive() == (b"c", 1)
    assert queue.receive(timeout=1.0) == (b"d", 0)
    with pytest.raises(TypeError):
        queue.send(b"x", 0, None, "extra")
    with pytest.raises(TypeError):
        queue.send(b"x", colour="blue")
    with pytest.raises(TypeError):
        queue.receive(wait=1)
    with pytest.raises(TypeError):
        queue.send(b"x", "high")
    assert queue.attributes.current_messages == 0


def test_queue_errors_come_through_the_c_path(queue):
    nonblocking = xipc.MessageQueue(queue.name, blocking=False)
    try:
        with pytest.raises(BlockingIOError):
            nonblocking.receive()
        with pytest.raises(errors.MessageTooLarge):
            nonblocking.send(b"x" * 129)
        for _ in range(4):
            nonblocking.send(b"fill")
        with pytest.raises(BlockingIOError):
            nonblocking.send(b"full")
        assert [nonblocking.receive()[0] for _ in range(4)] == [b"fill"] * 4
    finally:
        nonblocking.close()


def test_signal_handler_that_raises_ends_a_blocking_receive(queue):
    class Stop(Exception):
        pass

    def handler(signum, frame):
        raise Stop

    old = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.1)
        with pytest.raises(Stop):
            queue.receive()
        r, w = xipc.pipe()
        with r, w:
            # After a small message the wait is in the scratch buffer, after
            # a large one in a bytes object of its own.
            for before in (b"small", b"L" * 5000):
                w.send(before)
                assert r.receive() == before
                signal.setitimer(signal.ITIMER_REAL, 0.1)
                with pytest.raises(Stop):
                    r.receive()
                w.send(b"still usable")
                assert r.receive() == b"still usable"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    queue.send(b"after")
    assert queue.receive() == (b"after", 0)


def test_queue_larger_than_the_scratch_buffer():
    # A queue whose messages exceed the module's 64 KiB scratch buffer is
    # received straight into a bytes object. The system limit is raised for
    # the test (as root) and put back.
    limit_file = "/proc/sys/fs/mqueue/msgsize_max"
    with open(limit_file) as f:
        old = f.read().strip()
    size = 100_000
    try:
        with open(limit_file, "w") as f:
            f.write(str(size))
    except OSError as exc:
        pytest.fail(f"this test raises {limit_file} and must run as root: {exc}")
    name = f"/xipc-fast-big-{os.getpid()}"
    try:
        q = xipc.MessageQueue(name, create=True, max_messages=2, max_message_size=size)
    finally:
        with open(limit_file, "w") as f:
            f.write(old)
    try:
        q.send(b"y" * size, 1)
        q.send(b"z", 2)
        assert q.receive() == (b"z", 2)
        assert q.receive() == (b"y" * size, 1)
    finally:
        q.close()
        xipc.unlink_queue(name)


def test_queue_messages_of_changing_sizes():
    # After a large message the module receives straight into a bytes
    # object of the queue's message size and shrinks it; after a small one,
    # into its scratch buffer. Every switch between the two keeps the bytes.
    name = f"/xipc-fast-sizes-{os.getpid()}"
    q = xipc.MessageQueue(name, create=True, max_messages=1, max_message_size=8192)
    try:
        sizes = [8192, 1, 2049, 2048, 0, 5000, 5000, 17, 8192, 3000, 2]
        for i, size in enumerate(sizes):
            message = bytes((i * 31 + k) % 251 for k in range(size))
            q.send(message, i % 4)
            assert q.receive() == (message, i % 4), f"message {i} of {size} bytes"
    finally:
        q.close()
        xipc.unlink_queue(name)


@pytest.fixture
def rpc_server():
    srv = rpc.Server()
    srv.set_rpcbind_registration(False)
    srv.register(0x20000077, 2, 1, lambda args, call: args)
    srv.register(0x20000077, 2, 2, lambda args, call: 1 / 0)
    port = srv.listen_tcp("127.0.0.1", 0)
    srv.start()
    yield port
    srv.close()


def test_rpc_client_call_forms(rpc_server):
    with rpc.Client("127.0.0.1", 0x20000077, 2, port=rpc_server, timeout=5.0) as c:
        if _lib.fast is not None:
            assert type(c).call is _lib.fast.ClientBase.call
        for kind in (bytes, bytearray, memoryview):
            assert c.call(1, kind(b"\0\0\0\x07")) == b"\0\0\0\x07"
        assert c.call(1) == b""
        assert c.call(procedure=1, args=b"abcd") == b"abcd"  # keywords: the Python path
        assert c.call(1, args=b"wxyz") == b"wxyz"
        big = bytes(i % 251 for i in range(200_000))
        assert c.call(1, big) == big
        with pytest.raises(TypeError):
            c.call(1, "text")
        with pytest.raises(TypeError):
            c.call()
        with pytest.raises(rpc.SystemError_):
            c.call(2)
        with pytest.raises(rpc.ProcedureUnavailable):
            c.call(99)
        assert c.call(1, b"next") == b"next"
    with rpc.Client("127.0.0.1", 0x20000077, 9, port=rpc_server, timeout=5.0) as c:
        with pytest.raises(rpc.ProgramMismatch) as info:
            c.call(1, b"")
        assert (info.value.low, info.value.high) == (2, 2)
    c.close()
    with pytest.raises(errors.InvalidArgument, match="closed"):
        c.call(1, b"")
