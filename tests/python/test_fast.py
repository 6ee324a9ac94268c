"""The C module that makes the hot queue and stream calls without ctypes.

`make test` runs the queue and stream tests twice: with the module (it is
built by `make`) and with XIPC_NO_FAST=1 (ctypes). These tests check that
the module really is in use in the first run and that both paths agree on
the edges the module handles itself.
"""

import os
import threading

import pytest

import xipc
from xipc import _lib, errors


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
            w.send_msg(bytearray(payload))
            w.send_msg(b"next")

        sender = threading.Thread(target=send)
        sender.start()
        assert r.recv_msg() == payload
        assert r.recv_msg() == b"next"
        sender.join()


def test_closed_stream_is_an_error():
    r, w = xipc.pipe()
    w.close()
    with pytest.raises(errors.ConnectionClosed):
        r.recv_msg()
    r.close()
    with pytest.raises(errors.XipcError):
        r.recv_msg()
