"""Failure semantics of xipc RPC across processes (run by rpc_failures.sh).

usage: failures.py WORKDIR   (WORKDIR holds the built c_server, tirpc_server)
"""

import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

from xipc import rpc

PROG, VERS = 0x20005A5A, 1
HERE = os.path.dirname(os.path.abspath(__file__))
WORK = sys.argv[1]


def start(*cmd):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    words = p.stdout.readline().split()
    assert words[0] == "tcp" and words[2] == "udp", words
    return p, int(words[1]), int(words[3])


def terminate(p):
    """SIGTERM ends a server promptly, whatever it was doing."""
    p.terminate()
    try:
        p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        check(False, f"{' '.join(os.path.basename(str(a)) for a in p.args)} did not exit within 15 s of SIGTERM")


def check(cond, what):
    if not cond:
        print(f"FAIL: {what}", file=sys.stderr)
        sys.exit(1)


def killed_mid_call(cmd, proto):
    """The server dies while a 5 s call runs: a clear error, fast."""
    p, tcp, udp = start(*cmd)
    port = tcp if proto == "tcp" else udp
    c = rpc.Client("127.0.0.1", PROG, VERS, proto=proto, port=port, timeout=3)
    c.ping()
    threading.Timer(0.3, lambda: p.send_signal(signal.SIGKILL)).start()
    t = time.monotonic()
    try:
        c.call(4, struct.pack(">I", 5000))
    except (ConnectionError, TimeoutError) as exc:
        took = time.monotonic() - t
        # TCP notices the closed connection at once; UDP can only time out.
        limit = 1.5 if proto == "tcp" else 3.5
        check(took < limit, f"{cmd[0]} {proto}: error after {took:.1f}s")
        want = ConnectionError if proto == "tcp" else TimeoutError
        check(isinstance(exc, want), f"{proto}: {type(exc).__name__}: {exc}")
        print(f"killed mid-call ({os.path.basename(cmd[-1])}, {proto}): {type(exc).__name__} after {took:.2f}s: {exc}")
    else:
        check(False, "a call to a killed server succeeded")
    finally:
        p.wait()
        c.close()


class LossyProxy:
    """Forwards UDP datagrams to a server, dropping its first `drop` replies."""

    def __init__(self, server_port, drop):
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind(("127.0.0.1", 0))
        self.port = self.front.getsockname()[1]
        self.back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.back.connect(("127.0.0.1", server_port))
        self.drop, self.requests, self.client = drop, 0, None
        threading.Thread(target=self._up, daemon=True).start()
        threading.Thread(target=self._down, daemon=True).start()

    def _up(self):
        while True:
            data, self.client = self.front.recvfrom(65536)
            self.requests += 1
            self.back.send(data)

    def _down(self):
        while True:
            data = self.back.recv(65536)
            if self.drop:
                self.drop -= 1
                continue
            self.front.sendto(data, self.client)


def retransmit_with_drc():
    p, _, udp = start(sys.executable, os.path.join(HERE, "py_server.py"), "--drc", "128")
    try:
        proxy = LossyProxy(udp, drop=2)
        with rpc.Client("127.0.0.1", PROG, VERS, proto="udp", port=proxy.port, timeout=5) as c:
            check(c.call(3) == struct.pack(">I", 1), "the counter ran more than once")
            check(proxy.requests >= 3, f"only {proxy.requests} transmissions")
            check(c.call(3) == struct.pack(">I", 2), "second count")
        print(f"UDP: 2 replies dropped, {proxy.requests - 1} transmissions of the first call, counter ran once")
        # libtirpc's client retransmits too; the cache answers it.
        proxy2 = LossyProxy(udp, drop=1)
        out = subprocess.run([os.path.join(WORK, "tirpc_client"), "127.0.0.1", "udp", str(proxy2.port)],
                             capture_output=True, text=True, timeout=30)
        check(out.returncode == 0, f"tirpc client through the proxy: {out.stderr}")
        check("(count 3)" in out.stdout, f"the counter ran more than once for libtirpc: {out.stdout}")
        print(f"libtirpc client through the lossy proxy: {out.stdout.strip()}")
    finally:
        terminate(p)


def record(msg):
    return struct.pack(">I", 0x80000000 | len(msg)) + msg


def read_record(s):
    head = s.recv(4, socket.MSG_WAITALL)
    if len(head) < 4:
        return None
    n = struct.unpack(">I", head)[0] & 0x7FFFFFFF
    return s.recv(n, socket.MSG_WAITALL)


def header(xid, rpcvers=2, proc=1, cred=(0, b"")):
    flavor, body = cred
    return (struct.pack(">6I", xid, 0, rpcvers, PROG, VERS, proc)
            + struct.pack(">2I", flavor, len(body)) + body + struct.pack(">2I", 0, 0))


def malformed(cmd):
    p, tcp, udp = start(*cmd)
    try:
        s = socket.create_connection(("127.0.0.1", tcp), timeout=5)
        s.sendall(record(header(1, rpcvers=3)))
        check(read_record(s) == struct.pack(">6I", 1, 1, 1, 0, 2, 2), "RPC_MISMATCH 2..2 over TCP")
        s.sendall(record(header(2, cred=(99, b"\0\0\0\0"))))
        check(read_record(s) == struct.pack(">5I", 2, 1, 1, 1, 2), "AUTH_REJECTEDCRED for flavor 99")
        s.sendall(record(header(3) + b"\0\0\0\1"))  # ADD with one int of two
        check(read_record(s) == struct.pack(">6I", 3, 1, 0, 0, 0, 4), "GARBAGE_ARGS for truncated args")
        s.sendall(record(header(4, proc=2) + struct.pack(">I", 0xFFFFFFF0)))  # hostile opaque length
        check(read_record(s) == struct.pack(">6I", 4, 1, 0, 0, 0, 4), "GARBAGE_ARGS for a hostile length")
        s.sendall(record(header(5)[:28] + struct.pack(">I", 0x7FFFFFFF)))  # hostile cred length
        check(read_record(s) == struct.pack(">5I", 5, 1, 1, 1, 1), "AUTH_BADCRED for a hostile cred length")
        s.sendall(struct.pack(">I", 0xFFFFFFF0) + b"xxxx")  # hostile record length: closed
        check(read_record(s) is None, "a hostile record length closes the connection")
        s.close()

        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(5)
        u.sendto(header(6, rpcvers=1), ("127.0.0.1", udp))
        check(u.recv(100) == struct.pack(">6I", 6, 1, 1, 0, 2, 2), "RPC_MISMATCH over UDP")
        u.sendto(b"\1\2\3", ("127.0.0.1", udp))  # unreadable: no reply
        u.sendto(header(7, proc=0), ("127.0.0.1", udp))
        check(u.recv(100) == struct.pack(">6I", 7, 1, 0, 0, 0, 0), "NULL after garbage over UDP")
        u.close()
        # The server goes on serving a well-behaved peer.
        out = subprocess.run([os.path.join(WORK, "tirpc_client"), "127.0.0.1", "tcp", str(tcp)],
                             capture_output=True, text=True, timeout=30)
        check(out.returncode == 0, f"server unusable after malformed calls: {out.stderr}")
        print(f"malformed calls ({os.path.basename(cmd[-1])}): right replies, server still serving")
    finally:
        terminate(p)


py_server = (sys.executable, os.path.join(HERE, "py_server.py"))
c_server = (os.path.join(WORK, "c_server"),)
tirpc_server = (os.path.join(WORK, "tirpc_server"),)
for cmd in (py_server, c_server):
    malformed(cmd)
for cmd in (c_server, tirpc_server):
    killed_mid_call(cmd, "tcp")
killed_mid_call(c_server, "udp")
retransmit_with_drc()
print("failures: ok")
