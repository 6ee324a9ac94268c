"""xipc.MessageQueue: the Python face of POSIX message queues."""

import itertools
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest
from waiting import SignalWhenBlocked

import xipc
from xipc import errors

_counter = itertools.count()


@pytest.fixture
def name():
    """A unique queue name, unlinked after the test."""
    n = f"/xipc-mq-test-{os.getpid()}-py{next(_counter)}"
    yield n
    try:
        xipc.unlink_queue(n)
    except FileNotFoundError:
        pass


def make(name, max_messages=4, max_message_size=64, **kw):
    return xipc.MessageQueue(name, create=True, exclusive=True, max_messages=max_messages,
                             max_message_size=max_message_size, **kw)


def test_send_receive_exact_bytes(name):
    with make(name) as q:
        q.send(b"\x00\x01payload\xff", priority=7)
        q.send(bytearray(b"from a bytearray"))
        q.send(memoryview(b"xxfrom a viewxx")[2:-2], 3)
        assert q.receive() == (b"\x00\x01payload\xff", 7)
        assert q.receive() == (b"from a view", 3)
        assert q.receive() == (b"from a bytearray", 0)
        q.send(b"")
        assert q.receive() == (b"", 0)


def test_received_bytes_are_independent_of_the_reused_buffer(name):
    with make(name) as q:
        q.send(b"first message")
        q.send(b"2nd")
        first = q.receive()[0]
        second = q.receive()[0]
        assert (first, second) == (b"first message", b"2nd")


def test_full_queue_drains_by_priority_then_age(name):
    with make(name, max_messages=10, max_message_size=8) as q:
        sent = [(b"a", 1), (b"b", 5), (b"c", 1), (b"d", 0), (b"e", 5),
                (b"f", 31), (b"g", 0), (b"h", 5), (b"i", 2), (b"j", 32767)]
        for msg, prio in sent:
            q.send(msg, prio)
        assert q.attributes.current_messages == 10
        with pytest.raises(TimeoutError):
            q.send(b"k", 3, timeout=0)
        q.blocking = False
        with pytest.raises(BlockingIOError) as info:
            q.send(b"k", 3)
        assert isinstance(info.value, errors.WouldBlock)
        got = [q.receive() for _ in range(10)]
        assert got == [(b"j", 32767), (b"f", 31), (b"b", 5), (b"e", 5), (b"h", 5),
                       (b"i", 2), (b"a", 1), (b"c", 1), (b"d", 0), (b"g", 0)]
        with pytest.raises(BlockingIOError):
            q.receive()


def test_priority_out_of_range(name):
    with make(name) as q:
        with pytest.raises(ValueError, match="priority 32768 is out of range"):
            q.send(b"x", 32768)
        # Beyond 32 bits and negative: refused, not wrapped around.
        for priority in (2**32, 2**32 + 1, -1):
            for timeout in (None, 1.0):
                with pytest.raises(errors.InvalidArgument, match=f"priority {priority} is out"):
                    q.send(b"x", priority, timeout=timeout)
        assert q.attributes.current_messages == 0


def test_attributes_and_blocking_property(name):
    with make(name, max_messages=3, max_message_size=100) as q:
        assert q.attributes == (0, 3, 100, 0)
        assert q.attributes.max_message_size == 100
        assert q.blocking
        q.blocking = False
        assert not q.blocking
        assert q.attributes.flags == os.O_NONBLOCK
        q.blocking = True
        assert q.attributes.flags == 0
    with xipc.MessageQueue(name, blocking=False) as q2:
        assert not q2.blocking
        with pytest.raises(BlockingIOError):
            q2.receive()


def test_timeouts(name):
    with make(name, max_messages=1) as q:
        start = time.monotonic()
        with pytest.raises(TimeoutError) as info:
            q.receive(timeout=0.15)
        assert 0.15 <= time.monotonic() - start < 3
        assert isinstance(info.value, errors.Timeout)
        q.send(b"fill")
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            q.send(b"more", timeout=0.1)
        assert time.monotonic() - start >= 0.1
        assert q.receive(timeout=0) == (b"fill", 0)
        with pytest.raises(ValueError):
            q.receive(timeout=-1)


def test_oversize_message_is_refused_and_nothing_is_lost(name):
    with make(name, max_message_size=16) as q:
        with pytest.raises(errors.MessageTooLarge, match="17 bytes, at most 16"):
            q.send(b"x" * 17)
        assert q.attributes.current_messages == 0
        q.send(b"y" * 16, 2)
        assert q.receive() == (b"y" * 16, 2)


def test_names_are_validated(name):
    for bad in ("no-slash", "/a/b", "/", "/" + "n" * 256):
        with pytest.raises(ValueError, match="queue name"):
            xipc.MessageQueue(bad, create=True)
    with pytest.raises(TypeError):
        xipc.MessageQueue(b"/bytes")
    with pytest.raises(FileNotFoundError):
        xipc.MessageQueue(name)
    with pytest.raises(ValueError):
        xipc.MessageQueue(name, create=True, max_messages=0)


def test_exclusive_and_modes(name):
    with make(name, mode=0o640) as q:
        with pytest.raises(FileExistsError):
            make(name)
        assert os.fstat(q.fileno()).st_mode & 0o777 == 0o640 & ~_umask()
        assert not os.get_inheritable(q.fileno())


def _umask():
    old = os.umask(0o022)
    os.umask(old)
    return old


def test_read_only_cannot_send(name):
    with make(name):
        with xipc.MessageQueue(name, write=False) as reader:
            with pytest.raises(ValueError, match="not opened for writing"):
                reader.send(b"x")


def test_close_and_context_manager(name):
    q = make(name)
    with q:
        assert not q.closed
    assert q.closed
    q.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        q.fileno()


def test_unlink_while_open(name):
    with make(name) as q, xipc.MessageQueue(name) as other:
        q.unlink()
        with pytest.raises(FileNotFoundError):
            xipc.MessageQueue(name)
        q.send(b"still here", 1)
        assert other.receive() == (b"still here", 1)
        with pytest.raises(FileNotFoundError):
            xipc.unlink_queue(name)


def test_fileno_works_with_select(name):
    with make(name) as q:
        assert select.select([q], [], [], 0)[0] == []
        assert select.select([], [q], [], 0)[1] == [q]
        q.send(b"ready")
        assert select.select([q], [], [], 0)[0] == [q]


def test_notify_calls_back_once_when_an_empty_queue_gets_a_message(name):
    fired = threading.Event()
    calls = []
    with make(name) as q:
        q.notify(lambda: (calls.append(1), fired.set()))
        with pytest.raises(FileExistsError):
            q.notify(lambda: None)
        with xipc.MessageQueue(name) as sender:
            sender.send(b"wake up")
        assert fired.wait(5)
        assert calls == [1]
        assert q.receive() == (b"wake up", 0)
        q.notify(lambda: calls.append("cancelled"))
        q.notify(None)
        # Cancelled: the queue takes another registration, and only that
        # one is called when a message comes.
        fired.clear()
        q.notify(lambda: (calls.append(2), fired.set()))
        with xipc.MessageQueue(name) as sender:
            sender.send(b"after the cancel")
        assert fired.wait(5)
        assert calls == [1, 2]


def test_signal_during_blocking_receive_runs_handler_and_keeps_deadline(name):
    seen = []
    old = signal.signal(signal.SIGALRM, lambda *_: seen.append("alarm"))
    try:
        with make(name) as q:
            # The last of three signals comes 0.6 s into a 1 s wait: a wait
            # that started over after a signal would last at least 1.6 s.
            start = time.monotonic()
            t = SignalWhenBlocked(seen, ["mq_timedreceive"], lambda: None,
                                  signum=signal.SIGALRM, times=3, start=start, last_after=0.6)
            with pytest.raises(TimeoutError):
                q.receive(timeout=1)
            waited = time.monotonic() - start
            t.join()
            assert seen == ["alarm"] * 3
            assert 1 <= waited < 1.6
    finally:
        signal.signal(signal.SIGALRM, old)


def test_a_raising_signal_handler_ends_a_blocking_receive(name):
    class Stop(Exception):
        pass

    seen = []

    def handler(*_):
        seen.append("alarm")
        raise Stop

    old = signal.signal(signal.SIGALRM, handler)
    try:
        with make(name) as q:
            # A message ends the receive only if the handler never ran.
            t = SignalWhenBlocked(seen, ["mq_timedreceive"],
                                  lambda: seen or q.send(b"handler never ran"),
                                  signum=signal.SIGALRM)
            with pytest.raises(Stop):
                q.receive()
            t.join()
            q.send(b"usable")
            assert q.receive() == (b"usable", 0)
    finally:
        signal.signal(signal.SIGALRM, old)


def test_signal_then_message_from_another_process(name):
    """A blocking receive survives signals and gets the message a child sends."""
    seen = []
    old = signal.signal(signal.SIGALRM, lambda *_: seen.append("alarm"))
    try:
        with make(name) as q:
            # The child sends once told to, after the signals.
            child = subprocess.Popen([sys.executable, "-c", (
                "import xipc, sys\n"
                "sys.stdin.readline()\n"
                "with xipc.MessageQueue(sys.argv[1], read=False) as q:\n"
                "    q.send(bytes(range(256))[:64], 9)\n"), name], stdin=subprocess.PIPE)

            def tell_child():
                child.stdin.write(b"send\n")
                child.stdin.close()

            # Called even when a wait fails, so the child always ends.
            t = SignalWhenBlocked(seen, ["mq_timedreceive"], tell_child,
                                  signum=signal.SIGALRM, times=3)
            assert q.receive(timeout=10) == (bytes(range(64)), 9)
            t.join()
            assert seen == ["alarm"] * 3
            assert child.wait(10) == 0
    finally:
        signal.signal(signal.SIGALRM, old)


@pytest.fixture
def nobody_env():
    """An environment in which the user nobody can import xipc: a copy of the
    package and library in a world-readable directory (the checkout itself
    may sit under a directory only root can enter), removed afterwards."""
    import tempfile
    import xipc as pkg
    root = tempfile.mkdtemp(prefix="xipc-nobody-")
    os.chmod(root, 0o755)
    dest = os.path.join(root, "xipc")
    shutil.copytree(os.path.dirname(pkg.__file__), dest,
                    ignore=shutil.ignore_patterns("__pycache__"))
    lib = os.path.join(root, "libxipc.so")
    shutil.copy(os.environ.get("XIPC_LIBRARY") or pkg._lib.lib._name, lib)
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            os.chmod(os.path.join(dirpath, d), 0o755)
        for f in filenames:
            os.chmod(os.path.join(dirpath, f), 0o644)
    os.chmod(lib, 0o755)
    yield dict(os.environ, PYTHONPATH=root, XIPC_LIBRARY=lib)
    shutil.rmtree(root, ignore_errors=True)


def test_limit_error_names_the_limit_its_value_and_where_it_is_set(name, nobody_env):
    """Only CAP_SYS_RESOURCE may pass msg_max, so the check runs as nobody."""
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv is missing: install util-linux"
    msg_max = int(open("/proc/sys/fs/mqueue/msg_max").read())
    code = ("import xipc, sys\n"
            "try:\n"
            f"    xipc.MessageQueue(sys.argv[1], create=True, max_messages={msg_max + 1}, max_message_size=8)\n"
            "except OSError as e:\n"
            "    print(e.errno, e)\n")
    args = [sys.executable, "-c", code, name]
    if os.geteuid() == 0:
        args = [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups"] + args
    out = subprocess.run(args, capture_output=True, text=True, timeout=30, env=nobody_env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("22 "), out.stdout
    assert f"max_messages {msg_max + 1} exceeds the system limit msg_max = {msg_max}" in out.stdout
    assert "/proc/sys/fs/mqueue/msg_max" in out.stdout


def test_rlimit_msgqueue_error_names_the_limit(name):
    code = ("import resource, sys, xipc\n"
            "resource.setrlimit(resource.RLIMIT_MSGQUEUE, (1000, 1000))\n"
            "try:\n"
            "    xipc.MessageQueue(sys.argv[1], create=True, max_messages=10, max_message_size=8192)\n"
            "except OSError as e:\n"
            "    print(e.errno, e)\n")
    out = subprocess.run([sys.executable, "-c", code, name], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("24 "), out.stdout
    assert "RLIMIT_MSGQUEUE = 1000 bytes" in out.stdout


def test_threads_receiving_at_once_each_get_their_own_message(name):
    with make(name, max_messages=10, max_message_size=32) as q:
        got, lock = [], threading.Lock()

        def consume():
            for _ in range(50):
                message = q.receive(timeout=10)
                with lock:
                    got.append(message)

        workers = [threading.Thread(target=consume) for _ in range(4)]
        for w in workers:
            w.start()
        sent = [(f"message {i:03d}".encode() * 2, i % 7) for i in range(200)]
        for message, priority in sent:
            q.send(message, priority, timeout=10)
        for w in workers:
            w.join(30)
        assert sorted(got) == sorted(sent)


def test_another_user_is_refused_by_mode_0600(name, nobody_env):
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv is missing: install util-linux"
    if os.geteuid() != 0:
        pytest.fail("this test switches to the user nobody and must run as root")
    code = ("import sys, xipc\n"
            "try:\n"
            "    xipc.MessageQueue(sys.argv[1])\n"
            "except PermissionError as e:\n"
            "    print('refused', e.errno)\n"
            "with xipc.MessageQueue(sys.argv[2], write=False) as q:\n"
            "    print('opened', q.attributes.max_messages)\n")
    with make(name, mode=0o600), make(name + "-open", mode=0o644, max_messages=3):
        try:
            out = subprocess.run(
                [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                 sys.executable, "-c", code, name, name + "-open"],
                capture_output=True, text=True, timeout=30, env=nobody_env)
        finally:
            xipc.unlink_queue(name + "-open")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "refused 13\nopened 3\n"
