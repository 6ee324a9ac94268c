"""xipc.rpc: a Python server and Python clients over TCP, UDP and Unix."""

import copy
import ctypes
import dataclasses
import errno
import os
import pickle
import shutil
import socket
import struct
import tempfile
import threading
import time

import pytest
from waiting import wait_until

import xipc
from xipc import rpc

PROG = 0x20009876


def u32(v):
    return struct.pack(">I", v)


@pytest.fixture
def sock_dir():
    """A directory for Unix sockets, short enough for sun_path (pytest's
    tmp_path can pass its 108 bytes), removed afterwards."""
    d = tempfile.mkdtemp(prefix="xipc-rpc-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def server(sock_dir):
    srv = rpc.Server()
    srv.set_rpcbind_registration(False)
    counter = {"n": 0}

    def add(args, call):
        if len(args) != 8:
            raise rpc.GarbageArgs("add takes two unsigned ints")
        a, b = struct.unpack(">II", args)
        return u32((a + b) & 0xFFFFFFFF)

    def count(args, call):
        counter["n"] += 1
        return u32(counter["n"])

    def whoami(args, call):
        assert call.prog == PROG and call.vers == 1 and call.procedure == 4
        if call.auth_sys is None:
            return u32(0xFFFFFFFF)
        a = call.auth_sys
        name = a.machine_name.encode()
        return (u32(a.uid) + u32(a.gid) + u32(len(a.gids)) + b"".join(u32(g) for g in a.gids)
                + u32(len(name)) + name + b"\0" * (-len(name) % 4))

    srv.register(PROG, 1, 1, lambda args, call: args)
    srv.register(PROG, 1, 2, add)
    srv.register(PROG, 1, 3, lambda args, call: 1 / 0)
    srv.register(PROG, 1, 4, whoami)
    srv.register(PROG, 1, 5, count)
    srv.register(PROG, 1, 6, lambda args, call: "not bytes")
    srv.register(PROG, 1, 7, lambda args, call: 5)  # not five zero bytes: SYSTEM_ERR
    srv.register(PROG, 1, 8, lambda args, call: bytearray(args) + memoryview(b"!!!!"))
    srv.register(PROG, 3, 1, lambda args, call: args)
    path = os.path.join(sock_dir, "rpc.sock")
    ports = {
        "tcp": srv.listen_tcp("127.0.0.1", 0),
        "udp": srv.listen_udp("127.0.0.1", 0),
        "unix": path,
    }
    srv.listen_unix(path)
    srv.start()
    yield srv, ports, counter
    srv.close()
    assert not os.path.exists(path)


def client(ports, proto, vers=1, prog=PROG, timeout=5.0):
    if proto == "unix":
        return rpc.Client(ports["unix"], prog, vers, proto="unix", timeout=timeout)
    return rpc.Client("127.0.0.1", prog, vers, proto=proto, port=ports[proto], timeout=timeout)


@pytest.mark.parametrize("proto", ["tcp", "udp", "unix"])
def test_calls_and_errors(server, proto):
    _, ports, _ = server
    with client(ports, proto) as c:
        c.ping()
        assert c.call(1, b"\0\0\0\x02hi\0\0") == b"\0\0\0\x02hi\0\0"
        assert c.call(2, u32(40) + u32(2)) == u32(42)
        with pytest.raises(rpc.GarbageArgs):
            c.call(2, u32(1))
        with pytest.raises(rpc.SystemError_):
            c.call(3)
        with pytest.raises(rpc.SystemError_):
            c.call(6)
        with pytest.raises(rpc.SystemError_):
            c.call(7)
        assert c.call(8, b"abcd") == b"abcd!!!!"
        with pytest.raises(rpc.ProcedureUnavailable):
            c.call(99)
        # The server survived every failing handler.
        assert c.call(1, u32(5)) == u32(5)
    with client(ports, proto, vers=7) as c:
        with pytest.raises(rpc.ProgramMismatch) as info:
            c.ping()
        assert (info.value.low, info.value.high) == (1, 3)
        assert isinstance(info.value, rpc.RpcError) and isinstance(info.value, xipc.XipcError)
    with client(ports, proto, prog=PROG + 1) as c:
        with pytest.raises(rpc.ProgramUnavailable):
            c.ping()


def test_auth_sys_reaches_the_handler(server):
    _, ports, _ = server
    with client(ports, "tcp") as c:
        assert c.call(4) == u32(0xFFFFFFFF)
        c.set_auth_sys(rpc.AuthSys(uid=501, gid=20, gids=(1, 2, 3), machine_name="py-host"))
        assert c.call(4) == (u32(501) + u32(20) + u32(3) + u32(1) + u32(2) + u32(3)
                             + u32(7) + b"py-host\0")
        with pytest.raises(xipc.errors.InvalidArgument):
            c.set_auth_sys(rpc.AuthSys(uid=0, gid=0, gids=tuple(range(17))))


def test_a_call_kept_by_its_handler_keeps_its_values():
    """A handler's call is read from the library only as the handler asks;
    one the handler keeps (in a list, or handed to another thread that
    reads it later) has every value after the handler has returned, and
    one it dropped is gone with nothing left to read."""
    srv = rpc.Server()
    srv.set_rpcbind_registration(False)
    kept, read_later, looked = [], [], []
    handed = threading.Event()

    def keep(args, call):
        kept.append(call)
        return args

    def hand_over(args, call):
        def later():
            handed.wait(10)
            read_later.append((call.xid, call.procedure, call.auth_sys))
        t = threading.Thread(target=later)
        t.start()
        read_later.append(t)
        return args

    def look(args, call):
        looked.append((call.procedure, call.auth_sys.uid if call.auth_sys else None))
        # Copies, pickles and replacements are plain calls of the same values.
        looked.append(pickle.loads(pickle.dumps(call)))
        looked.append(copy.deepcopy(call))
        looked.append(dataclasses.replace(call, xid=7))
        return args

    for proc, fn in ((1, keep), (2, hand_over), (3, look)):
        srv.register(PROG, 1, proc, fn)
    port = srv.listen_tcp("127.0.0.1", 0)
    srv.start()
    try:
        with rpc.Client("127.0.0.1", PROG, 1, port=port, timeout=5.0) as c:
            cred = rpc.AuthSys(uid=501, gid=20, gids=(7,), machine_name="keeper")
            c.set_auth_sys(cred)
            assert c.call(1, u32(1)) == u32(1)
            assert c.call(2, u32(2)) == u32(2)
            handed.set()
            read_later[0].join(10)
            assert c.call(3, u32(3)) == u32(3)
        call = kept[0]
        assert (call.prog, call.vers, call.procedure) == (PROG, 1, 1)
        assert call.auth_sys == cred and call.peer_credentials is None and call.tls_peer is None
        assert call == rpc.Call(xid=call.xid, prog=PROG, vers=1, procedure=1, auth_sys=cred)
        assert hash(call) == hash(call) and "keeper" in repr(call)
        xid, procedure, auth = read_later[1]
        assert procedure == 2 and auth == cred and xid != call.xid
        assert looked[0] == (3, 501)
        for plain in looked[1:3]:
            assert type(plain) is rpc.Call and plain.procedure == 3 and plain.auth_sys == cred
        assert looked[3].xid == 7 and looked[3].procedure == 3 and looked[3].auth_sys == cred
        assert repr(call).startswith("Call(")
    finally:
        srv.close()


def _interpreter_thread_states():
    api = ctypes.pythonapi
    api.PyInterpreterState_Get.restype = ctypes.c_void_p
    api.PyInterpreterState_ThreadHead.restype = ctypes.c_void_p
    api.PyInterpreterState_ThreadHead.argtypes = [ctypes.c_void_p]
    api.PyThreadState_Next.restype = ctypes.c_void_p
    api.PyThreadState_Next.argtypes = [ctypes.c_void_p]
    n, state = 0, api.PyInterpreterState_ThreadHead(api.PyInterpreterState_Get())
    while state:
        n += 1
        state = api.PyThreadState_Next(state)
    return n


def test_server_threads_keep_their_interpreter_state_until_they_end():
    """Each server thread that ran a handler keeps its interpreter state
    between calls (not a new one per call), and gives it back as it ends."""
    before = _interpreter_thread_states()
    srv = rpc.Server()
    srv.set_rpcbind_registration(False)
    together = threading.Barrier(5)

    def meet(args, call):
        together.wait(10)
        return args

    srv.register(PROG, 1, 1, meet)
    srv.register(PROG, 1, 2, lambda args, call: args)
    port = srv.listen_tcp("127.0.0.1", 0)
    srv.start()
    try:
        def one():
            with rpc.Client("127.0.0.1", PROG, 1, port=port, timeout=10.0) as c:
                c.call(1)
        callers = [threading.Thread(target=one) for _ in range(4)]
        for t in callers:
            t.start()
        together.wait(10)
        for t in callers:
            t.join(10)
        # Four handlers ran at once, on four threads, each keeping a state.
        assert _interpreter_thread_states() == before + 4
        with rpc.Client("127.0.0.1", PROG, 1, port=port, timeout=10.0) as c:
            for i in range(50):
                assert c.call(2, u32(i)) == u32(i)
        # At most one state per server thread, however many calls.
        server_threads = 0
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/comm") as comm:
                server_threads += comm.read().strip() == "xipc-rpc"
        assert before + 4 <= _interpreter_thread_states() <= before + server_threads
    finally:
        srv.close()
    assert _interpreter_thread_states() == before


def test_threads_share_one_client(server):
    _, ports, counter = server
    with client(ports, "tcp") as c:
        errors = []

        def work(i):
            try:
                for j in range(50):
                    v = i * 100 + j
                    assert c.call(1, u32(v)) == u32(v)
                c.call(5)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert counter["n"] == 8


def test_timeout_is_a_timeout_error():
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    port = silent.getsockname()[1]
    with rpc.Client("127.0.0.1", PROG, 1, proto="udp", port=port, timeout=0.5) as c:
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            c.ping()
        assert 0.45 < time.monotonic() - start < 2.0
    silent.close()


def test_connect_refused_and_bad_protocol():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    # Python's own class for it, and the library's message.
    with pytest.raises(ConnectionRefusedError) as refused:
        rpc.Client("127.0.0.1", PROG, 1, port=port)
    assert isinstance(refused.value, xipc.errors.OSFailure)
    assert refused.value.errno == errno.ECONNREFUSED
    assert f"127.0.0.1:{port}" in str(refused.value)
    with pytest.raises(ValueError):
        rpc.Client("127.0.0.1", PROG, 1, proto="sctp", port=1)


def test_stop_from_a_handler_and_serve_forever():
    srv = rpc.Server()
    srv.set_rpcbind_registration(False)

    def shutdown(args, call):
        srv.stop()
        return b""

    srv.register(PROG, 1, 1, shutdown)
    port = srv.listen_tcp("127.0.0.1", 0)
    t = threading.Thread(target=srv.serve_forever)
    t.start()
    # The listener queues the connection until serve_forever starts the
    # server: nothing to wait for.
    with rpc.Client("127.0.0.1", PROG, 1, port=port, timeout=5) as c:
        c.ping()
        c.call(1)
    t.join(5)
    assert not t.is_alive()
    srv.close()


def test_message_size_limit(server):
    _, ports, _ = server
    with client(ports, "tcp") as c:
        c.set_max_message_size(64)
        with pytest.raises(xipc.errors.MessageTooLarge):
            c.call(1, b"\0" * 100)
        assert c.call(1, u32(9)) == u32(9)


@pytest.mark.parametrize("proto", ["tcp", "unix"])
def test_large_arguments_and_results_come_back_whole(server, proto):
    # Sizes around the 1,984-byte pieces the C module copies in, and
    # past the 16 KiB the server reads at a time.
    _, ports, _ = server
    with client(ports, proto) as c:
        for n in [1, 1983, 1984, 1985, 3 * 1984 + 5, 65536 + 3, 300_000]:
            body = bytes((i * 7 + i // 251) % 256 for i in range(n))
            args = u32(n) + body + b"\0" * (-n % 4)
            assert c.call(1, args) == args, n
            assert c.call(8, args) == args + b"!!!!", n


def test_handler_raising_base_exceptions_is_system_err(server):
    srv, ports, _ = server

    def exits(args, call):
        raise SystemExit(3)

    srv.register(PROG, 1, 7, exits)
    with client(ports, "udp") as c:
        with pytest.raises(rpc.SystemError_):
            c.call(7)
        c.ping()


def test_calls_through_one_client_overlap_by_default():
    """Calls from several threads are in flight together on the client's one
    connection and run together: each returns only once all are inside the
    handler, which serialized calls could never reach."""
    n = 5
    barrier = threading.Barrier(n, timeout=20)
    srv = rpc.Server()
    srv.set_rpcbind_registration(False)

    def rendezvous(args, call):
        barrier.wait()
        return args

    srv.register(PROG, 1, 1, rendezvous)
    port = srv.listen_tcp("127.0.0.1", 0)
    srv.start()
    results, errors = {}, []

    def call(c, i):
        try:
            results[i] = c.call(1, u32(i))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    with rpc.Client("127.0.0.1", PROG, 1, port=port, timeout=30) as c:
        threads = [threading.Thread(target=call, args=(c, i)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    srv.close()
    assert errors == []
    assert results == {i: u32(i) for i in range(n)}


@pytest.mark.parametrize("error", [
    lambda: xipc.xdr.Unpacker(b"\0\0").unpack_uint(),
    lambda: xipc.xdr.Unpacker(b"\0\0\0\x05ab").unpack_string(),
    lambda: struct.unpack(">II", b"\0" * 4),
])
def test_argument_decoding_errors_answer_garbage_args(server, error):
    srv, ports, _ = server

    def decodes(args, call):
        error()
        return b""

    srv.register(PROG, 1, 8, decodes)
    with client(ports, "tcp") as c:
        with pytest.raises(rpc.GarbageArgs):
            c.call(8)
        c.ping()


def test_unix_socket_modes(sock_dir):
    srv = rpc.Server()
    srv.set_rpcbind_registration(False)
    srv.register(PROG, 1, 1, lambda args, call: args)
    d = sock_dir
    default, shared = os.path.join(d, "a.sock"), os.path.join(d, "b.sock")
    old = os.umask(0)
    try:
        srv.listen_unix(default)
        srv.listen_unix(shared, mode=0o660)
    finally:
        os.umask(old)
    assert os.stat(default).st_mode & 0o777 == 0o600
    assert os.stat(shared).st_mode & 0o777 == 0o660
    srv.start()
    with rpc.Client(shared, PROG, 1, proto="unix", timeout=5) as c:
        assert c.call(1, u32(3)) == u32(3)
    srv.close()


def test_zero_limits_and_non_permission_mode_bits_are_refused(sock_dir):
    srv = rpc.Server()
    srv.set_rpcbind_registration(False)
    for setter in (srv.set_max_message_size, srv.set_concurrent_calls_per_connection,
                   srv.set_idle_timeout, srv.set_max_connections):
        with pytest.raises(xipc.errors.InvalidArgument) as exc:
            setter(0)
        assert isinstance(exc.value, ValueError)
    srv.set_idle_timeout(0.0001)  # under a millisecond: rounded up, not to 0
    path = os.path.join(sock_dir, "s.sock")
    with pytest.raises(xipc.errors.InvalidArgument):
        srv.listen_unix(path, mode=0o170600)
    assert not os.path.exists(path)
    port = srv.listen_tcp("127.0.0.1", 0)
    srv.start()
    with rpc.Client("127.0.0.1", PROG, 1, port=port, timeout=5) as c:
        for bad in (c.set_timeout, c.set_max_message_size):
            with pytest.raises(xipc.errors.InvalidArgument):
                bad(0)
        with pytest.raises(xipc.errors.InvalidArgument):
            c.set_timeout(-1)
        with pytest.raises(rpc.ProgramUnavailable):  # still usable
            c.ping()
    with pytest.raises(xipc.errors.InvalidArgument):
        rpc.Client("127.0.0.1", PROG, 1, port=port, timeout=0)
    srv.close()


def test_call_names_its_procedure_as_rust_and_c_do():
    seen = []
    srv = rpc.Server()
    srv.set_rpcbind_registration(False)
    srv.register(procedure=7, prog=PROG, vers=1, handler=lambda args, call: seen.append(call) or b"")
    port = srv.listen_tcp("127.0.0.1", 0)
    srv.start()
    with rpc.Client("127.0.0.1", PROG, 1, port=port, timeout=5) as c:
        c.call(procedure=7, args=b"")
        c.call_batched(procedure=7)
        c.ping()
    srv.close()
    assert seen[0].procedure == 7
    assert not hasattr(seen[0], "proc")


@pytest.mark.parametrize("proto", ["tcp", "udp", "unix"])
def test_client_fileno_is_its_socket(server, proto):
    _, ports, _ = server
    with client(ports, proto) as c:
        sock = socket.socket(fileno=os.dup(c.fileno()))
        with sock:
            assert sock.type == (socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM)
            if proto != "unix":
                # TCP: the connection; UDP: the client's own socket,
                # connected to the server's address.
                assert sock.getpeername() == ("127.0.0.1", ports[proto])
                assert sock.getsockname()[1] != ports[proto]
        c.ping()  # the client is untouched
    with pytest.raises(ValueError, match="^I/O on closed RPC client$"):
        c.fileno()


def test_server_has_no_fileno():
    # A server waits on several sockets from its own threads: it has no one
    # descriptor to offer (the docstring says so).
    assert not hasattr(rpc.Server, "fileno")
    assert "fileno" in (rpc.Server.__doc__ or "")


def test_none_is_no_timeout_and_closed_handles_say_so():
    srv = rpc.Server()
    srv.set_rpcbind_registration(False)
    srv.set_idle_timeout(None)  # never close an idle connection
    srv.register(PROG, 1, 1, lambda args, call: args)
    port = srv.listen_tcp("127.0.0.1", 0)
    srv.start()
    c = rpc.Client("127.0.0.1", PROG, 1, port=port, timeout=None)
    assert c.call(1, b"\0\0\0\x07") == b"\0\0\0\x07"
    c.set_timeout(None)
    c.set_timeout(2.5)
    assert c.call(1, b"\0\0\0\x08") == b"\0\0\0\x08"
    c.close()
    assert c.closed
    with pytest.raises(ValueError, match="^I/O on closed RPC client$"):
        c.ping()
    srv.close()
    assert srv.closed
    with pytest.raises(ValueError, match="^I/O on closed RPC server$"):
        srv.listen_tcp("127.0.0.1", 0)


def test_busy_poll_is_set_on_both_sides_and_bounded():
    srv = rpc.Server()
    srv.set_rpcbind_registration(False)
    srv.register(PROG, 1, 1, lambda args, call: args)
    port = srv.listen_tcp("127.0.0.1", 0)
    srv.set_busy_poll(0)  # never polls
    srv.start()
    with rpc.Client("127.0.0.1", PROG, 1, port=port, timeout=5) as c:
        for seconds in (0, 1e-6, 200e-6, 1):
            c.set_busy_poll(seconds)
            srv.set_busy_poll(seconds)
            assert c.call(1, u32(7)) == u32(7)
        for bad in (-1e-6, 1.000001, float("nan"), float("inf")):
            with pytest.raises(xipc.errors.InvalidArgument, match="busy poll"):
                c.set_busy_poll(bad)
            with pytest.raises(ValueError, match="busy poll"):
                srv.set_busy_poll(bad)
        c.set_busy_poll(50e-6)
        assert c.call(1, u32(8)) == u32(8)
    srv.close()


def test_connection_limit():
    srv = rpc.Server()
    srv.set_rpcbind_registration(False)
    srv.set_max_connections(2)
    port = srv.listen_tcp("127.0.0.1", 0)
    srv.start()
    kept = [rpc.Client("127.0.0.1", PROG, 1, port=port, timeout=5) for _ in range(2)]
    for c in kept:
        with pytest.raises(rpc.ProgramUnavailable):
            c.ping()
    with rpc.Client("127.0.0.1", PROG, 1, port=port, timeout=5) as extra:
        with pytest.raises(xipc.errors.ConnectionClosed):
            extra.ping()
    for c in kept:
        c.close()
    srv.close()


def _recv_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        assert chunk, f"the server closed the connection after {len(data)} of {n} bytes"
        data += chunk
    return data


def test_concurrent_calls_on_one_connection():
    """Calls in flight together on one connection are served together: six
    calls written at once on one raw socket, each of whose handlers returns
    only once all six are inside the server. Run one after another they
    could never meet: the barrier breaks after 10 s, every handler raises
    and its call is answered SYSTEM_ERR. (The same through one shared
    client: test_calls_through_one_client_overlap_by_default.)"""
    n = 6
    together = threading.Barrier(n, timeout=10)
    srv = rpc.Server()
    srv.set_rpcbind_registration(False)

    def meet(args, call):
        together.wait()
        return args

    srv.register(PROG, 1, 1, meet)
    port = srv.listen_tcp("127.0.0.1", 0)
    srv.start()
    replies = {}
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        wire = b""
        for i in range(n):
            # xid, CALL, rpcvers 2, prog, vers 1, procedure 1, AUTH_NONE
            # credential and verifier, then the argument.
            call = struct.pack(">10I", 0x500 + i, 0, 2, PROG, 1, 1, 0, 0, 0, 0) + u32(i)
            wire += u32(0x80000000 | len(call)) + call
        sock.sendall(wire)
        for _ in range(n):
            mark, = struct.unpack(">I", _recv_exactly(sock, 4))
            reply = _recv_exactly(sock, mark & 0x7FFFFFFF)
            replies[struct.unpack(">I", reply[:4])[0]] = reply[4:]
    srv.close()
    # REPLY, MSG_ACCEPTED, AUTH_NONE verifier, SUCCESS, then the results.
    accepted = struct.pack(">5I", 1, 0, 0, 0, 0)
    assert replies == {0x500 + i: accepted + u32(i) for i in range(n)}


STOP_AT_EVERY_POINT = r"""
import signal
import sys
from xipc import rpc

# A signal handler runs between any two bytecodes of the main thread. A
# profile hook runs at every call and return, so stopping from it at the
# n-th event stands in for SIGTERM arriving at that point of serve_forever.
# Once serve_forever sleeps (it makes no more events), a real signal stops
# it instead: SIGALRM, whose handler calls stop().
current = [None]
alarms = [0]


def on_alarm(*_):
    alarms[0] += 1
    current[0].stop()


signal.signal(signal.SIGALRM, on_alarm)
for n in range(1, int(sys.argv[1]) + 1):
    srv = rpc.Server()
    current[0] = srv
    srv.set_rpcbind_registration(False)
    srv.listen_udp("127.0.0.1", 0)
    seen = [0]

    def hook(frame, event, arg):
        seen[0] += 1
        if seen[0] == n:
            sys.setprofile(None)
            srv.stop()

    alarms[0] = 0
    signal.setitimer(signal.ITIMER_REAL, 0.2)
    sys.setprofile(hook)
    srv.serve_forever()
    sys.setprofile(None)
    signal.setitimer(signal.ITIMER_REAL, 0)
    print(n, "signal" if alarms[0] else "hook", flush=True)
    srv.close()
print("done", flush=True)
"""


def test_stop_from_a_signal_handler_at_any_point_of_serve_forever():
    # A handler that stops the server (signal.signal(SIGTERM, lambda *_:
    # srv.stop())) once deadlocked when the signal landed while the main
    # thread held the lock inside serve_forever's wait.
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", STOP_AT_EVERY_POINT, "24"],
                            stdout=subprocess.PIPE, text=True)
    try:
        out, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        last = out.split()[-1] if out.split() else "?"
        pytest.fail(f"serve_forever never returned when stop() ran at profile event {last}")
    assert proc.returncode == 0 and out.split()[-1] == "done", out
    # Both ways were taken: the early points by the hook, the sleep by the
    # signal.
    assert "hook" in out and "signal" in out, out


def test_close_while_serving_ends_serve_forever_quietly():
    srv = rpc.Server()
    srv.set_rpcbind_registration(False)
    srv.listen_tcp("127.0.0.1", 0)
    errors = []

    def serve():
        try:
            srv.serve_forever()
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    t = threading.Thread(target=serve)
    t.start()
    # Closed once serve_forever sleeps on its wake-up pipe, not before.
    wait_until("serve_forever to sleep", time.monotonic() + 5, lambda: srv._wake is not None)
    srv.close()
    t.join(5)
    assert not t.is_alive() and errors == []
