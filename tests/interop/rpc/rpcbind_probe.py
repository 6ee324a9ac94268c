"""Speaks portmap v2 and rpcbind v3/v4 to `xipc rpcbind` with nothing but
the standard library (struct and socket), as a host that is not xipc would.

    rpcbind_probe.py register HOST PORT PROG TCP_PORT UDP_PORT
        SET PROG version 1 on TCP_PORT and UDP_PORT (portmap v2).
    rpcbind_probe.py remote HOST PORT PROG TCP_PORT UDP_PORT
        What a caller on another machine gets from an rpcbind with remote
        calls off: no forwarding (PROC_UNAVAIL), lookups answered, SET and
        UNSET refused, no UDP reply larger than twice its call.
    rpcbind_probe.py forwarded HOST PORT PROG TCP_PORT UDP_PORT
        CALLIT (v2, v3), BCAST and INDIRECT (v4) are forwarded: each adds
        2 + 3 through procedure 1 (add) of PROG.
    rpcbind_probe.py count HOST PORT PROG EXPECTED
        CALLIT of procedure 3 (count) answers EXPECTED: the service was
        called EXPECTED - 1 times before, by anyone.
    rpcbind_probe.py closed HOST PORT
        Nothing serves on HOST PORT: a TCP connection is refused (so HOST
        is up and reachable) and a UDP NULL call gets no reply.

Exits 1 with a message on the first check that fails."""

from __future__ import annotations

import os
import socket
import struct
import sys
from typing import Optional, Tuple

RPCBIND = 100000
SUCCESS, PROC_UNAVAIL, SYSTEM_ERR = 0, 3, 5
IPPROTO_TCP, IPPROTO_UDP = 6, 17
# Procedures (portmap v2 / rpcbind v3, v4).
SET, UNSET, GETADDR, DUMP, CALLIT, INDIRECT, GETADDRLIST, GETSTAT = 1, 2, 3, 4, 5, 10, 11, 12

_xid = os.getpid() << 8


def fail(message: str) -> None:
    print(f"FAIL: rpcbind_probe: {message}", file=sys.stderr)
    sys.exit(1)


def u32(*values: int) -> bytes:
    return b"".join(struct.pack(">I", v) for v in values)


def string(s: str) -> bytes:
    b = s.encode()
    return u32(len(b)) + b + b"\0" * (-len(b) % 4)


def opaque(b: bytes) -> bytes:
    return u32(len(b)) + b + b"\0" * (-len(b) % 4)


def rpcb(prog: int, vers: int, netid: str, addr: str = "", owner: str = "") -> bytes:
    return u32(prog, vers) + string(netid) + string(addr) + string(owner)


def call_message(vers: int, procedure: int, args: bytes) -> bytes:
    global _xid
    _xid += 1
    # xid, CALL, RPC version 2, program, version, procedure, AUTH_NONE x2.
    return u32(_xid, 0, 2, RPCBIND, vers, procedure, 0, 0, 0, 0) + args


class Reply:
    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        xid, mtype, stat = struct.unpack(">III", raw[:12])
        if mtype != 1:
            fail(f"not a reply: message type {mtype}")
        if stat != 0:
            self.accept = -1  # MSG_DENIED
            self.results = raw[12:]
            return
        verf_len = struct.unpack(">I", raw[16:20])[0]
        at = 20 + verf_len + (-verf_len % 4)
        self.accept = struct.unpack(">I", raw[at:at + 4])[0]
        self.results = raw[at + 4:]

    def uint(self) -> int:
        return int(struct.unpack(">I", self.results[:4])[0])

    def string(self) -> str:
        n = self.uint()
        return self.results[4:4 + n].decode()


def call(host: str, port: int, proto: str, vers: int, procedure: int, args: bytes = b"",
         timeout: float = 2.0) -> Tuple[Optional[Reply], int]:
    """The reply (None when none came within `timeout`) and the call's size."""
    msg = call_message(vers, procedure, args)
    if proto == "udp":
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.sendto(msg, (host, port))
            try:
                data, _ = s.recvfrom(65536)
            except socket.timeout:
                return None, len(msg)
            return Reply(data), len(msg)
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(u32(0x80000000 | len(msg)) + msg)
        data = b""
        last = False
        try:
            while not last:
                head = recv_exact(s, 4)
                mark = struct.unpack(">I", head)[0]
                last = bool(mark & 0x80000000)
                data += recv_exact(s, mark & 0x7FFFFFFF)
        except socket.timeout:
            return None, len(msg)
        return Reply(data), len(msg)


def recv_exact(s: socket.socket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            fail("connection closed mid-reply")
        out += chunk
    return out


def expect(reply: Optional[Reply], accept: int, what: str) -> Reply:
    if reply is None:
        fail(f"{what}: no reply")
    assert reply is not None
    if reply.accept != accept:
        fail(f"{what}: accept_stat {reply.accept}, expected {accept}")
    return reply


def rmtcall_args(prog: int, procedure: int, args: bytes) -> bytes:
    return u32(prog, 1, procedure) + opaque(args)


def forwarding_calls(prog: int, procedure: int, args: bytes):
    """(name, rpcbind version, procedure, transport, arguments) of every
    forwarding procedure."""
    a = rmtcall_args(prog, procedure, args)
    return [
        ("portmap v2 CALLIT", 2, CALLIT, "udp", a),
        ("rpcbind v3 CALLIT", 3, CALLIT, "udp", a),
        ("rpcbind v4 BCAST", 4, CALLIT, "udp", a),
        ("rpcbind v4 INDIRECT", 4, INDIRECT, "udp", a),
        ("rpcbind v4 INDIRECT over TCP", 4, INDIRECT, "tcp", a),
    ]


def register(host: str, port: int, prog: int, tcp: int, udp: int) -> None:
    for prot, p in ((IPPROTO_TCP, tcp), (IPPROTO_UDP, udp)):
        r = expect(call(host, port, "udp", 2, SET, u32(prog, 1, prot, p))[0], SUCCESS, "SET")
        if r.uint() != 1:
            fail(f"SET of {prog} on port {p} answered FALSE from this machine")


def remote(host: str, port: int, prog: int, tcp: int, udp: int) -> None:
    # No forwarding: PROC_UNAVAIL, the answer of rpcbind without remote calls.
    for name, vers, procedure, proto, args in forwarding_calls(prog, 1, u32(2, 3)):
        expect(call(host, port, proto, vers, procedure, args)[0], PROC_UNAVAIL, name)
    # Lookups still answer.
    for proto in ("udp", "tcp"):
        for prot, want in ((IPPROTO_TCP, tcp), (IPPROTO_UDP, udp)):
            r = expect(call(host, port, proto, 2, GETADDR, u32(prog, 1, prot, 0))[0], SUCCESS,
                       f"GETPORT over {proto}")
            if r.uint() != want:
                fail(f"GETPORT over {proto} answered {r.uint()}, expected {want}")
        for vers in (3, 4):
            r = expect(call(host, port, proto, vers, GETADDR, rpcb(prog, 1, "udp"))[0], SUCCESS,
                       f"v{vers} GETADDR over {proto}")
            want_suffix = f".{udp >> 8}.{udp & 255}"
            if not r.string().endswith(want_suffix):
                fail(f"v{vers} GETADDR over {proto} answered {r.string()!r}, "
                     f"expected an address ending {want_suffix}")
    # SET and UNSET are refused (FALSE) and change nothing.
    other = prog + 1
    for proto in ("udp", "tcp"):
        r = expect(call(host, port, proto, 2, SET, u32(other, 1, IPPROTO_UDP, 999))[0], SUCCESS,
                   f"v2 SET over {proto}")
        if r.uint() != 0:
            fail(f"v2 SET over {proto} from another machine answered TRUE")
        r = expect(call(host, port, proto, 2, UNSET, u32(prog, 1, 0, 0))[0], SUCCESS,
                   f"v2 UNSET over {proto}")
        if r.uint() != 0:
            fail(f"v2 UNSET over {proto} from another machine answered TRUE")
        for vers in (3, 4):
            r = expect(call(host, port, proto, vers, SET,
                            rpcb(other, 1, "udp", "10.0.0.9.3.231"))[0], SUCCESS,
                       f"v{vers} SET over {proto}")
            if r.uint() != 0:
                fail(f"v{vers} SET over {proto} from another machine answered TRUE")
            r = expect(call(host, port, proto, vers, UNSET, rpcb(prog, 1, ""))[0], SUCCESS,
                       f"v{vers} UNSET over {proto}")
            if r.uint() != 0:
                fail(f"v{vers} UNSET over {proto} from another machine answered TRUE")
    r = expect(call(host, port, "tcp", 2, GETADDR, u32(prog, 1, IPPROTO_UDP, 0))[0], SUCCESS,
               "GETPORT after the refused UNSETs")
    if r.uint() != udp:
        fail(f"the registration changed after refused UNSETs: port {r.uint()}")
    r = expect(call(host, port, "tcp", 2, GETADDR, u32(other, 1, IPPROTO_UDP, 0))[0], SUCCESS,
               "GETPORT after the refused SETs")
    if r.uint() != 0:
        fail(f"a refused SET registered program {other}")
    # Over UDP, lists too large for twice the call answer SYSTEM_ERR.
    for name, vers, procedure, args in (("v2 DUMP", 2, DUMP, b""), ("v3 DUMP", 3, DUMP, b""),
                                        ("v4 DUMP", 4, DUMP, b""),
                                        ("v4 GETSTAT", 4, GETSTAT, b"")):
        reply, size = call(host, port, "udp", vers, procedure, args)
        r = expect(reply, SYSTEM_ERR, f"{name} over UDP")
        if len(r.raw) > 2 * size:
            fail(f"{name} over UDP: {len(r.raw)}-byte reply to a {size}-byte call")
    reply, size = call(host, port, "udp", 4, GETADDRLIST, rpcb(prog, 1, ""))
    if reply is None or len(reply.raw) > 2 * size:
        fail(f"v4 GETADDRLIST over UDP: {reply and len(reply.raw)}-byte reply to a "
             f"{size}-byte call")
    # Over TCP the lists come whole.
    r = expect(call(host, port, "tcp", 4, DUMP)[0], SUCCESS, "v4 DUMP over TCP")
    if u32(prog, 1) not in r.results:
        fail("v4 DUMP over TCP lacks the registered program")


def forwarded(host: str, port: int, prog: int, tcp: int, udp: int) -> None:
    del tcp
    for name, vers, procedure, proto, args in forwarding_calls(prog, 1, u32(2, 3)):
        r = expect(call(host, port, proto, vers, procedure, args)[0], SUCCESS, name)
        if vers == 2:
            got_port = r.uint()
            results = r.results[8:12]
        else:
            n = r.uint()
            at = 4 + n + (-n % 4)
            got_port = int(r.results[4:4 + n].decode().rsplit(".", 2)[1]) << 8 | int(
                r.results[4:4 + n].decode().rsplit(".", 2)[2])
            results = r.results[at + 4:at + 8]
        if got_port != udp or results != u32(5):
            fail(f"{name}: port {got_port}, results {results.hex()}; expected {udp}, 00000005")


def count(host: str, port: int, prog: int, want: int) -> None:
    r = expect(call(host, port, "udp", 2, CALLIT, rmtcall_args(prog, 3, b""))[0], SUCCESS,
               "CALLIT of count")
    got = struct.unpack(">I", r.results[8:12])[0]
    if got != want:
        fail(f"count answered {got}, expected {want}: the service was called "
             f"{got - 1} times before")


def closed(host: str, port: int) -> None:
    try:
        with socket.create_connection((host, port), timeout=2.0):
            fail(f"{host} port {port} accepted a TCP connection")
    except ConnectionRefusedError:
        pass
    except OSError as e:
        fail(f"TCP to {host} port {port}: {e}, expected the connection refused "
             "(is the address up?)")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        # Connected, so that an ICMP port unreachable ends the wait at once.
        s.connect((host, port))
        s.settimeout(1.0)
        s.send(call_message(2, 0, b""))
        try:
            data = s.recv(65536)
        except (ConnectionRefusedError, socket.timeout):
            return
        fail(f"{host} port {port} answered a UDP call ({len(data)} bytes)")


def main() -> None:
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "closed":
        closed(host, port)
        print(f"rpcbind_probe {mode}: ok")
        return
    prog = int(sys.argv[4])
    rest = [int(a) for a in sys.argv[5:]]
    if mode == "register":
        register(host, port, prog, *rest)
    elif mode == "remote":
        remote(host, port, prog, *rest)
    elif mode == "forwarded":
        forwarded(host, port, prog, *rest)
    elif mode == "count":
        count(host, port, prog, *rest)
    else:
        fail(f"unknown mode {mode}")
    print(f"rpcbind_probe {mode}: ok")


if __name__ == "__main__":
    main()
