"""Permissions: FIFOs and Unix sockets are created 0600 unless asked
otherwise, whatever the umask, and another user (nobody, through setpriv) is
refused; a wider mode lets that user in, and the server then sees who it is
(Unix peer credentials) and can refuse it. AUTH_SYS credentials reach RPC
handlers, so a server can refuse callers. (Queues: tests/python/test_mq.py,
test_another_user_is_refused_by_mode_0600.)"""

import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap

import pytest

import xipc
from xipc import errors, rpc

PROG = 0x2000BBBB
NOBODY = pwd.getpwnam("nobody")


def _nobody_env():
    """xipc importable by nobody: the package and library copied into a
    world-readable directory (the checkout may be closed to other users)."""
    root = tempfile.mkdtemp(prefix="xipc-perm-")
    os.chmod(root, 0o755)
    shutil.copytree(os.path.dirname(xipc.__file__), os.path.join(root, "xipc"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    lib = os.path.join(root, "libxipc.so")
    shutil.copy(os.environ.get("XIPC_LIBRARY") or xipc._lib.lib._name, lib)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            os.chmod(os.path.join(dirpath, name), 0o755)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o644)
    return dict(os.environ, PYTHONPATH=root, XIPC_LIBRARY=lib)


@pytest.fixture(scope="module")
def as_nobody():
    """Runs Python code as nobody; returns its stdout (it must exit 0)."""
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv is missing: install util-linux"
    if os.geteuid() != 0:
        pytest.fail("the permission tests switch to the user nobody and must run as root")
    env = _nobody_env()

    def run(code, *args):
        out = subprocess.run(
            [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups",
             sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
            capture_output=True, text=True, timeout=30, env=env)
        assert out.returncode == 0, out.stderr
        return out.stdout

    yield run
    shutil.rmtree(os.path.dirname(env["XIPC_LIBRARY"]), ignore_errors=True)


@pytest.fixture
def shared_dir():
    """A directory every user may enter (pytest's tmp_path is root's only)."""
    path = tempfile.mkdtemp(prefix="xipc-perm-")
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def open_umask():
    """umask 0, so a mode that comes out 0600 was set by xipc, not the umask."""
    old = os.umask(0)
    yield
    os.umask(old)


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_perm_fifo_is_0600_and_nobody_is_refused(as_nobody, shared_dir, open_umask):
    private, public = os.path.join(shared_dir, "private"), os.path.join(shared_dir, "public")
    xipc.mkfifo(private)
    xipc.mkfifo(public, 0o666)
    assert mode_of(private) == 0o600
    assert mode_of(public) == 0o666
    out = as_nobody("""
        import sys, xipc
        try:
            xipc.open_fifo(sys.argv[1], "r", blocking=False)
        except PermissionError as e:
            print("refused", type(e).__name__, e.errno)
        with xipc.open_fifo(sys.argv[2], "r", blocking=False):
            print("opened")
    """, private, public)
    assert out == "refused PermissionDenied 13\nopened\n"


def test_perm_unix_socket_is_0600_and_nobody_is_refused(as_nobody, shared_dir, open_umask):
    path = os.path.join(shared_dir, "sock")
    with xipc.unix_listen(path):
        assert mode_of(path) == 0o600
        out = as_nobody("""
            import sys, xipc
            try:
                xipc.unix_connect(sys.argv[1], timeout=5)
            except PermissionError as e:
                print("refused", type(e).__name__, e.errno)
        """, path)
    assert out == "refused PermissionDenied 13\n"


def test_perm_unix_peer_credentials_let_a_server_refuse_a_user(as_nobody, shared_dir,
                                                                open_umask):
    """A socket open to everyone (0666): the server learns the caller's uid
    from the kernel and answers nobody with a refusal."""
    path = os.path.join(shared_dir, "open-sock")
    client_code = """
        import sys, xipc
        with xipc.unix_connect(sys.argv[1], timeout=5) as s:
            s.send(b"hello")
            print(s.receive().decode())
    """
    with xipc.unix_listen(path, 0o666) as listener:
        assert mode_of(path) == 0o666
        import threading
        seen = []

        def serve_one():
            with listener.accept(timeout=10) as conn:
                cred = conn.peer_credentials()
                seen.append(cred)
                assert conn.receive() == b"hello"
                conn.send(b"refused" if cred.uid != 0 else b"welcome")

        t = threading.Thread(target=serve_one)
        t.start()
        out = as_nobody(client_code, path)
        t.join(10)
        assert out == "refused\n"
        assert seen[0].uid == NOBODY.pw_uid and seen[0].gid == NOBODY.pw_gid
        assert seen[0].pid > 0
        # root, the owner, is welcome.
        t = threading.Thread(target=serve_one)
        t.start()
        with xipc.unix_connect(path, timeout=5) as s:
            s.send(b"hello")
            assert s.receive() == b"welcome"
        t.join(10)
        assert seen[1].uid == 0 and seen[1].pid == os.getpid()


def test_perm_rpc_unix_socket_is_0600_and_nobody_is_refused(as_nobody, shared_dir,
                                                             open_umask):
    path = os.path.join(shared_dir, "rpc-sock")
    with rpc.Server() as s:
        s.set_rpcbind_registration(False)
        s.register(PROG, 1, 1, lambda args, call: args)
        s.listen_unix(path)
        s.start()
        assert mode_of(path) == 0o600
        out = as_nobody(f"""
            import sys
            from xipc import rpc
            try:
                rpc.Client(sys.argv[1], {PROG}, 1, proto="unix", timeout=5).ping()
            except PermissionError as e:
                print("refused", e.errno)
        """, path)
        assert out == "refused 13\n"


def _guarded_server():
    """A server whose procedure 1 answers 0 to AUTH_SYS uid 4242 and 13
    (EACCES) to everyone else, recording each caller's credential."""
    seen = []

    def guarded(args, call):
        seen.append(call.auth_sys)
        ok = call.auth_sys is not None and call.auth_sys.uid == 4242
        return (0 if ok else 13).to_bytes(4, "big")

    s = rpc.Server()
    s.set_rpcbind_registration(False)
    s.register(PROG, 1, 1, guarded)
    return s, seen


def test_perm_auth_sys_reaches_the_handler_which_refuses_callers(as_nobody):
    s, seen = _guarded_server()
    with s:
        ports = {"tcp": s.listen_tcp(), "udp": s.listen_udp()}
        s.start()
        for proto, port in ports.items():
            seen.clear()
            with rpc.Client("127.0.0.1", PROG, 1, proto=proto, port=port, timeout=10) as c:
                assert c.call(1) == b"\0\0\0\x0d"  # AUTH_NONE: refused
                c.set_auth_sys(rpc.AuthSys(uid=4242, gid=7, gids=(1, 2), machine_name="ok"))
                assert c.call(1) == b"\0\0\0\0"
                c.set_auth_sys(rpc.AuthSys(uid=1000, gid=7, machine_name="other"))
                assert c.call(1) == b"\0\0\0\x0d"
            assert seen == [None,
                            rpc.AuthSys(uid=4242, gid=7, gids=(1, 2), machine_name="ok"),
                            rpc.AuthSys(uid=1000, gid=7, machine_name="other")]
        # A client run by nobody that sends its own identity: the handler
        # sees nobody's uid and gid, and refuses.
        seen.clear()
        out = as_nobody(f"""
            import sys
            from xipc import rpc
            c = rpc.Client("127.0.0.1", {PROG}, 1, proto="tcp", port=int(sys.argv[1]), timeout=5)
            c.set_auth_sys()
            print(c.call(1).hex())
        """, ports["tcp"])
        assert out == "0000000d\n"
        assert seen[0].uid == NOBODY.pw_uid and seen[0].gid == NOBODY.pw_gid
        assert seen[0].gids == ()


def test_perm_unix_peer_credentials_reach_rpc_handlers(shared_dir):
    """Over a Unix socket the handler gets the kernel's view of the caller
    (pid, uid, gid); over TCP and UDP there is none."""
    path = os.path.join(shared_dir, "rpc-cred-sock")
    seen = []
    with rpc.Server() as s:
        s.set_rpcbind_registration(False)
        s.register(PROG, 1, 1, lambda args, call: seen.append(call) or b"")
        s.listen_unix(path)
        ports = {"tcp": s.listen_tcp(), "udp": s.listen_udp()}
        s.start()
        with rpc.Client(path, PROG, 1, proto="unix", timeout=5) as c:
            c.call(1)
        for proto, port in ports.items():
            with rpc.Client("127.0.0.1", PROG, 1, proto=proto, port=port, timeout=5) as c:
                c.call(1)
    assert seen[0].peer_credentials == xipc.PeerCredentials(os.getpid(), os.geteuid(),
                                                            os.getegid())
    assert type(seen[0].peer_credentials) is xipc.PeerCredentials
    assert [call.peer_credentials for call in seen[1:]] == [None, None]
