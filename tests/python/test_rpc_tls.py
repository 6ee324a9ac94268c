"""RPC-with-TLS (RFC 9289) from Python, and against an independent TLS stack.

Python's ``ssl`` module (OpenSSL) is the peer both ways: a client that
sends the AUTH_TLS probe by hand, checks STARTTLS, wraps its socket and
calls an xipc server; and a small OpenSSL server that an xipc client calls.
The certificates are made at test time by tests/tls/make_certs.sh.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

import xipc
from xipc import rpc
from xipc.errors import InvalidArgument, NotFound

ROOT = Path(__file__).resolve().parents[2]
PROG = 0x20009877
AUTH_NONE, AUTH_TLS = 0, 7
SECRET = b"argument-bytes-nobody-may-read-0123456789"


@pytest.fixture(scope="module")
def certs() -> Path:
    d = Path(tempfile.mkdtemp(prefix="xipc-tls-certs-"))
    subprocess.run(["bash", str(ROOT / "tests/tls/make_certs.sh"), str(d)], check=True)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def u32(v: int) -> bytes:
    return struct.pack(">I", v)


def record(body: bytes) -> bytes:
    return u32(0x80000000 | len(body)) + body


def read_exact(sock, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise EOFError(f"peer closed after {len(out)} of {n} bytes")
        out += chunk
    return out


def read_record(sock) -> bytes:
    body = b""
    while True:
        (mark,) = struct.unpack(">I", read_exact(sock, 4))
        body += read_exact(sock, mark & 0x7FFFFFFF)
        if mark & 0x80000000:
            return body


def opaque(b: bytes) -> bytes:
    return u32(len(b)) + b + b"\0" * (-len(b) % 4)


def call_msg(xid: int, prog: int, vers: int, proc: int, args: bytes = b"",
             cred_flavor: int = AUTH_NONE) -> bytes:
    return (u32(xid) + u32(0) + u32(2) + u32(prog) + u32(vers) + u32(proc)
            + u32(cred_flavor) + opaque(b"") + u32(AUTH_NONE) + opaque(b"") + args)


def parse_reply(msg: bytes):
    """(xid, accepted?, verifier body, accept_stat or auth_stat, results)."""
    xid, mtype, stat = struct.unpack(">III", msg[:12])
    assert mtype == 1
    if stat == 1:  # MSG_DENIED: reject_stat, then auth_stat for AUTH_ERROR
        reject, why = struct.unpack(">II", msg[12:20])
        assert reject == 1, "AUTH_ERROR"
        return xid, False, b"", why, b""
    _flavor, vlen = struct.unpack(">II", msg[12:20])
    verf = msg[20:20 + vlen]
    pos = 20 + vlen + (-vlen % 4)
    (accept,) = struct.unpack(">I", msg[pos:pos + 4])
    return xid, True, verf, accept, msg[pos + 4:]


class PeerLog:
    def __init__(self):
        self.peers: list[rpc.TlsPeer | None] = []


def tls_server(certs: Path, policy: str = "mtls"):
    cfg = rpc.TlsConfig(ca=certs / "ca.pem", cert=certs / "server.pem", key=certs / "server.key",
                        policy=policy)
    srv = rpc.Server()
    srv.set_rpcbind_registration(False)
    log = PeerLog()

    def echo(args: bytes, call: rpc.Call) -> bytes:
        log.peers.append(call.tls_peer)
        return args

    def only_client_1(args: bytes, call: rpc.Call) -> bytes:
        if call.tls_peer is None or not call.tls_peer.subject.startswith("CN=client-1,"):
            raise rpc.AuthError("only client-1 may call this")
        return b""

    srv.register(PROG, 1, 1, echo)
    srv.register(PROG, 1, 2, only_client_1)
    port = srv.listen_tcp("127.0.0.1", 0, tls=cfg)
    srv.start()
    return srv, port, log


def client_config(certs: Path, who: str | None = "client", ca: str = "ca.pem",
                  policy: str | None = None) -> rpc.TlsConfig:
    if who is None:
        return rpc.TlsConfig(ca=certs / ca, policy=policy or "tls")
    return rpc.TlsConfig(ca=certs / ca, cert=certs / f"{who}.pem", key=certs / f"{who}.key",
                         policy=policy or "mtls")


def der_fingerprint(pem_path: Path) -> str:
    der = ssl.PEM_cert_to_DER_cert(pem_path.read_text())
    return hashlib.sha256(der).hexdigest()


def test_xipc_client_and_server_with_identity(certs):
    srv, port, log = tls_server(certs)
    try:
        with rpc.Client("127.0.0.1", PROG, 1, port=port, timeout=20,
                        tls=client_config(certs)) as c:
            assert c.call(1, SECRET) == SECRET
            c.call(2)
        peer = log.peers[-1]
        assert peer is not None
        assert peer.subject == "CN=client-1,O=xipc tests"
        assert peer.sans == ["DNS:client-1.example", "email:client-1@example.org"]
        assert peer.fingerprint == der_fingerprint(certs / "client.pem")
    finally:
        srv.close()


def test_pem_bytes_and_unix_socket(certs, tmp_path):
    cfg = rpc.TlsConfig(ca=(certs / "ca.pem").read_bytes(),
                        cert=(certs / "server.pem").read_bytes(),
                        key=(certs / "server.key").read_bytes())
    srv = rpc.Server()
    srv.set_rpcbind_registration(False)
    seen = []
    srv.register(PROG, 1, 1, lambda args, call: seen.append(call.tls_peer) or args)
    path = str(tmp_path / "tls.sock")
    srv.listen_unix(path, tls=cfg)
    srv.start()
    try:
        client = rpc.TlsConfig(ca=str(certs / "ca.pem"))  # "tls": no client certificate
        with rpc.Client(path, PROG, 1, proto="unix", timeout=20, tls=client) as c:
            assert c.call(1, b"\0\0\0\1") == b"\0\0\0\1"
        assert seen[-1] == rpc.TlsPeer(subject="", sans=[], fingerprint="")
    finally:
        srv.close()


def test_a_handler_refuses_a_caller_by_identity(certs):
    srv, port, _ = tls_server(certs)
    try:
        # server.pem is signed by the same CA, so the handshake succeeds;
        # the handler refuses its identity.
        with rpc.Client("127.0.0.1", PROG, 1, port=port, timeout=20,
                        tls=client_config(certs, "server")) as c:
            with pytest.raises(rpc.AuthError) as info:
                c.call(2)
            assert info.value.stat == 5  # AUTH_TOOWEAK
            assert c.call(1, b"ok!!") == b"ok!!"  # the connection goes on
    finally:
        srv.close()


def test_bad_cases_are_clear_and_the_server_serves_others(certs):
    srv, port, _ = tls_server(certs)
    try:
        # A cleartext call on the TLS listener.
        with rpc.Client("127.0.0.1", PROG, 1, port=port, timeout=20) as c:
            with pytest.raises(rpc.AuthError):
                c.call(1, b"")
        # No client certificate under mtls.
        with pytest.raises(rpc.TlsError):
            with rpc.Client("127.0.0.1", PROG, 1, port=port, timeout=20,
                            tls=client_config(certs, None)) as c:
                c.call(1, b"")
        # A CA this client does not trust.
        with pytest.raises(rpc.TlsError, match="certificate"):
            rpc.Client("127.0.0.1", PROG, 1, port=port, timeout=20,
                       tls=client_config(certs, ca="other-ca.pem"))
        # A name the server's certificate does not carry.
        with pytest.raises(rpc.TlsError, match="certificate"):
            rpc.Client("127.0.0.1", PROG, 1, port=port, timeout=20,
                       tls=rpc.TlsConfig(ca=certs / "ca.pem", cert=certs / "client.pem",
                                         key=certs / "client.key", policy="mtls",
                                         server_name="elsewhere.example"))
        # UDP would need DTLS.
        with pytest.raises(xipc.errors.Unsupported):
            rpc.Client("127.0.0.1", PROG, 1, port=port, proto="udp", timeout=5,
                       tls=client_config(certs))
        with rpc.Client("127.0.0.1", PROG, 1, port=port, timeout=20,
                        tls=client_config(certs)) as c:
            assert c.call(1, b"good") == b"good"
    finally:
        srv.close()


def test_configuration_errors_come_when_made(certs):
    with pytest.raises(NotFound, match="nowhere.pem"):
        rpc.TlsConfig(ca=certs / "nowhere.pem")
    with pytest.raises(InvalidArgument):
        rpc.TlsConfig(ca=certs / "ca.pem", cert=certs / "server.pem", key=certs / "client.key")
    with pytest.raises(InvalidArgument, match="policy"):
        rpc.TlsConfig(ca=certs / "ca.pem", policy="sometimes")
    with pytest.raises(InvalidArgument):
        rpc.TlsConfig(ca=b"not a PEM block")
    with pytest.raises(InvalidArgument):
        rpc.TlsConfig(ca=42)  # type: ignore[arg-type]
    cfg = rpc.TlsConfig(ca=certs / "ca.pem")
    assert "tls" in repr(cfg)
    cfg.close()
    cfg.close()


# --- Python's ssl (OpenSSL) as the client of an xipc server ----------------

def starttls_by_hand(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    sock.sendall(record(call_msg(0x51, PROG, 1, 0, cred_flavor=AUTH_TLS)))
    xid, accepted, verf, stat, _ = parse_reply(read_record(sock))
    assert (xid, accepted, verf, stat) == (0x51, True, b"STARTTLS", 0)
    return sock


def test_reload_and_replace_put_a_renewed_certificate_in_force(certs, tmp_path):
    live_cert, live_key = tmp_path / "live.pem", tmp_path / "live.key"
    shutil.copy(certs / "server.pem", live_cert)
    shutil.copy(certs / "server.key", live_key)
    cfg = rpc.TlsConfig(cert=live_cert, key=live_key)
    srv = rpc.Server()
    srv.set_rpcbind_registration(False)
    srv.register(PROG, 1, 1, lambda args, call: args)
    port = srv.listen_tcp("127.0.0.1", 0, tls=cfg)
    srv.start()

    def presented() -> str:
        """The fingerprint of the certificate the server shows OpenSSL."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with ctx.wrap_socket(starttls_by_hand(port), server_hostname="localhost") as tls:
            der = tls.getpeercert(binary_form=True)
            assert der is not None
            return hashlib.sha256(der).hexdigest()

    first, renewed = der_fingerprint(certs / "server.pem"), der_fingerprint(certs / "stranger.pem")
    try:
        assert presented() == first
        before = rpc.Client("127.0.0.1", PROG, 1, port=port, timeout=20,
                            tls=rpc.TlsConfig(ca=certs / "ca.pem"))
        assert before.call(1, b"\0\0\0\1") == b"\0\0\0\1"
        shutil.copy(certs / "stranger.pem", live_cert)
        shutil.copy(certs / "stranger.key", live_key)
        assert presented() == first  # nothing changes before the reload
        cfg.reload()
        assert presented() == renewed
        with rpc.Client("127.0.0.1", PROG, 1, port=port, timeout=20,
                        tls=rpc.TlsConfig(ca=certs / "other-ca.pem")) as c:
            assert c.call(1, b"new!") == b"new!"
        assert before.call(1, b"old!") == b"old!"  # its session goes on

        # A reload or replacement that fails changes nothing.
        live_key.write_text("not a key\n")
        with pytest.raises(InvalidArgument, match="live.key"):
            cfg.reload()
        with pytest.raises(InvalidArgument, match="certificate and its key"):
            cfg.replace(ca=certs / "ca.pem")  # a listener keeps a certificate
        assert presented() == renewed
        cfg.replace(cert=(certs / "server.pem").read_bytes(),
                    key=(certs / "server.key").read_bytes())
        assert presented() == first
        cfg.reload()  # reads the sources it was given last
        assert presented() == first
        before.close()
        cfg.close()
        with pytest.raises(InvalidArgument, match="closed"):
            cfg.reload()
    finally:
        srv.close()


@pytest.mark.parametrize("alpn", [True, False], ids=["alpn-sunrpc", "no-alpn"])
def test_openssl_client_calls_an_xipc_server(certs, alpn):
    srv, port, log = tls_server(certs)
    try:
        ctx = ssl.create_default_context(cafile=str(certs / "ca.pem"))
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.load_cert_chain(str(certs / "client.pem"), str(certs / "client.key"))
        if alpn:
            ctx.set_alpn_protocols(["sunrpc"])
        with ctx.wrap_socket(starttls_by_hand(port), server_hostname="localhost") as tls:
            assert tls.version() == "TLSv1.3"
            if alpn:
                assert tls.selected_alpn_protocol() == "sunrpc"
            for xid in (1, 2, 3):
                tls.sendall(record(call_msg(xid, PROG, 1, 1, SECRET)))
                rxid, accepted, _, stat, results = parse_reply(read_record(tls))
                assert (rxid, accepted, stat, results) == (xid, True, 0, SECRET)
        assert log.peers[-1].subject == "CN=client-1,O=xipc tests"
    finally:
        srv.close()


def test_openssl_client_bad_cases_leave_the_server_serving(certs):
    srv, port, _ = tls_server(certs)
    good = client_config(certs)
    try:
        # Garbage instead of a ClientHello.
        sock = starttls_by_hand(port)
        sock.sendall(b"\x16\x03\x01\x00\x05hello" + b"\xff" * 64)
        answer = read_until_closed(sock)  # the server ends that connection,
        assert answer == b"" or answer[:1] == b"\x15", answer  # at most with an alert
        sock.close()
        # A TLS record cut off mid-way: half a ClientHello, then nothing.
        sock = starttls_by_hand(port)
        sock.sendall(b"\x16\x03\x01\x02\x00" + b"\x01" * 100)
        sock.shutdown(socket.SHUT_WR)
        answer = read_until_closed(sock)
        assert answer == b"" or answer[:1] == b"\x15", answer
        sock.close()
        # A client certificate from a CA the server does not trust.
        ctx = ssl.create_default_context(cafile=str(certs / "ca.pem"))
        ctx.load_cert_chain(str(certs / "stranger.pem"), str(certs / "stranger.key"))
        with pytest.raises((ssl.SSLError, ConnectionError, EOFError)):
            with ctx.wrap_socket(starttls_by_hand(port), server_hostname="localhost") as tls:
                tls.sendall(record(call_msg(9, PROG, 1, 1, b"")))
                read_record(tls)
        with rpc.Client("127.0.0.1", PROG, 1, port=port, timeout=20, tls=good) as c:
            assert c.call(1, b"still") == b"still"
    finally:
        srv.close()


def openssl_client_call(certs: Path, port: int, who: str,
                        max_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3) -> bytes:
    """Calls procedure 1 of the xipc server on ``port`` through Python's ssl
    (OpenSSL), presenting ``who``.pem, at most at TLS ``max_version``."""
    ctx = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    ctx.maximum_version = max_version
    ctx.load_cert_chain(str(certs / f"{who}.pem"), str(certs / f"{who}.key"))
    with ctx.wrap_socket(starttls_by_hand(port), server_hostname="localhost") as tls:
        tls.sendall(record(call_msg(7, PROG, 1, 1, b"ok!!")))
        return parse_reply(read_record(tls))[4]


def serves_good_clients(certs: Path, port: int) -> None:
    """The server at `port` still answers a good OpenSSL client and a good
    xipc client."""
    assert openssl_client_call(certs, port, "client") == b"ok!!"
    with rpc.Client("127.0.0.1", PROG, 1, port=port, timeout=20,
                    tls=client_config(certs)) as c:
        assert c.call(1, b"good") == b"good"


def test_openssl_client_with_an_expired_certificate_is_refused(certs):
    srv, port, log = tls_server(certs)  # mtls
    try:
        # OpenSSL finishes its side of a TLS 1.3 handshake before the server
        # has checked its certificate: the refusal comes as the server's
        # alert, which OpenSSL names.
        with pytest.raises(ssl.SSLError, match="(?i)alert certificate expired"):
            openssl_client_call(certs, port, "expired-client")
        assert log.peers == [], "no call got through"
        serves_good_clients(certs, port)
    finally:
        srv.close()


def test_tls_1_3_is_required_of_an_openssl_client(certs):
    srv, port, log = tls_server(certs)
    try:
        # The server refuses the handshake with a protocol_version alert.
        with pytest.raises(ssl.SSLError, match="(?i)alert protocol version"):
            openssl_client_call(certs, port, "client", max_version=ssl.TLSVersion.TLSv1_2)
        assert log.peers == [], "no call got through"
        serves_good_clients(certs, port)
    finally:
        srv.close()


def test_revocation_lists_refuse_the_certificates_they_name(certs):
    cfg = rpc.TlsConfig(ca=certs / "ca.pem", cert=certs / "server.pem", key=certs / "server.key",
                        policy="mtls", crl=certs / "ca.crl.pem")
    srv = rpc.Server()
    srv.set_rpcbind_registration(False)
    srv.register(PROG, 1, 1, lambda args, call: args)
    port = srv.listen_tcp("127.0.0.1", 0, tls=cfg)
    srv.start()

    def openssl_call(who: str) -> bytes:
        return openssl_client_call(certs, port, who)

    try:
        assert openssl_call("client") == b"ok!!"
        # OpenSSL finishes its side of a TLS 1.3 handshake before the server
        # has checked its certificate: the refusal comes as an alert.
        with pytest.raises((ssl.SSLError, ConnectionError, EOFError), match="(?i)revoked|eof|reset"):
            openssl_call("revoked")
        with pytest.raises(rpc.TlsError):
            with rpc.Client("127.0.0.1", PROG, 1, port=port, timeout=20,
                            tls=client_config(certs, "revoked")) as c:
                c.call(1, b"no!!")
        assert openssl_call("client") == b"ok!!"
    finally:
        srv.close()
    # A client checks the server's certificate against its lists (given as
    # bytes here, two lists in one).
    srv = rpc.Server()
    srv.set_rpcbind_registration(False)
    srv.register(PROG, 1, 1, lambda args, call: args)
    port = srv.listen_tcp("127.0.0.1", 0, tls=rpc.TlsConfig(cert=certs / "revoked.pem",
                                                            key=certs / "revoked.key"))
    srv.start()
    try:
        lists = (certs / "other-ca.crl.pem").read_bytes() + (certs / "ca.crl.pem").read_bytes()
        with pytest.raises(rpc.TlsError, match="Revoked"):
            rpc.Client("127.0.0.1", PROG, 1, port=port, timeout=20,
                       tls=rpc.TlsConfig(ca=certs / "ca.pem", crl=lists))
        with rpc.Client("127.0.0.1", PROG, 1, port=port, timeout=20,
                        tls=rpc.TlsConfig(ca=certs / "ca.pem")) as c:
            assert c.call(1, b"x!!!") == b"x!!!"  # without the lists it gets in
    finally:
        srv.close()
    with pytest.raises(InvalidArgument, match="no revocation list"):
        rpc.TlsConfig(ca=certs / "ca.pem", crl=certs / "ca.pem")
    with pytest.raises(InvalidArgument, match="without the CA bundle"):
        rpc.TlsConfig(cert=certs / "server.pem", key=certs / "server.key", crl=certs / "ca.crl.pem")


def read_until_closed(sock: socket.socket) -> bytes:
    out = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return out
        out += chunk


# --- an OpenSSL server that an xipc client calls ----------------------------

class OpenSslServer:
    """Answers the probe (with STARTTLS, or without it when ``starttls`` is
    False), then serves echo calls over TLS made by Python's ssl, with the
    certificate ``identity``.pem (and its key) and at most TLS
    ``max_version``. A handshake that fails is kept in ``handshake_error``."""

    def __init__(self, certs: Path, starttls: bool = True, client_ca: bool = False,
                 identity: str = "server",
                 max_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.minimum_version = min(ssl.TLSVersion.TLSv1_3, max_version)
        self.ctx.maximum_version = max_version
        self.ctx.load_cert_chain(str(certs / f"{identity}.pem"), str(certs / f"{identity}.key"))
        self.ctx.set_alpn_protocols(["sunrpc"])
        if client_ca:
            self.ctx.load_verify_locations(str(certs / "ca.pem"))
            self.ctx.verify_mode = ssl.CERT_REQUIRED
        self.starttls = starttls
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.alpn: str | None = None
        self.client_subject = None
        self.after_probe = b""
        self.handshake_error: OSError | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        try:
            conn, _ = self.listener.accept()
            with conn:
                probe = read_record(conn)
                xid, = struct.unpack(">I", probe[:4])
                flavor, = struct.unpack(">I", probe[24:28])
                assert flavor == AUTH_TLS, f"the probe's credential is flavor {flavor}"
                verf = b"STARTTLS" if self.starttls else b""
                conn.sendall(record(u32(xid) + u32(1) + u32(0) + u32(AUTH_NONE) + opaque(verf)
                                    + u32(0)))
                if not self.starttls:
                    conn.settimeout(20)
                    self.after_probe = read_until_closed(conn)
                    return
                try:
                    tls = self.ctx.wrap_socket(conn, server_side=True)
                except OSError as exc:  # ssl.SSLError, or a reset
                    self.handshake_error = exc
                    return
                with tls:
                    self.alpn = tls.selected_alpn_protocol()
                    cert = tls.getpeercert()
                    self.client_subject = cert.get("subject") if cert else None
                    while True:
                        try:
                            msg = read_record(tls)
                        except (EOFError, ssl.SSLError, OSError):
                            return
                        xid, = struct.unpack(">I", msg[:4])
                        args = msg[40:]  # AUTH_NONE credential and verifier
                        tls.sendall(record(u32(xid) + u32(1) + u32(0) + u32(AUTH_NONE)
                                           + opaque(b"") + u32(0) + args))
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            self.listener.close()

    def join(self):
        self.thread.join(30)
        assert not self.thread.is_alive()
        if self.error:
            raise self.error


def test_xipc_client_calls_an_openssl_server(certs):
    peer = OpenSslServer(certs, client_ca=True)
    with rpc.Client("127.0.0.1", PROG, 1, port=peer.port, timeout=20,
                    tls=client_config(certs)) as c:
        assert c.call(1, SECRET) == SECRET
        assert c.call(1, b"") == b""
    peer.join()
    assert peer.alpn == "sunrpc"  # the xipc client offers ALPN "sunrpc"
    assert ((("commonName", "client-1"),) in peer.client_subject)


def test_a_server_without_starttls_gets_no_call(certs):
    peer = OpenSslServer(certs, starttls=False)
    with pytest.raises(rpc.TlsError, match="STARTTLS"):
        rpc.Client("127.0.0.1", PROG, 1, port=peer.port, timeout=20, tls=client_config(certs))
    peer.join()
    assert peer.after_probe == b"", "nothing may follow the probe in the clear"


@pytest.mark.parametrize("identity,reason,alert", [
    ("expired", "certificate expired", "(?i)alert certificate expired"),
    ("wrong-name", 'not valid for name "127.0.0.1"', "(?i)alert bad certificate"),
    ("stranger", "UnknownIssuer", "(?i)alert unknown ca"),
])
def test_xipc_client_refuses_an_openssl_server_certificate(certs, identity, reason, alert):
    peer = OpenSslServer(certs, identity=identity)
    with pytest.raises(rpc.TlsError, match=reason):
        rpc.Client("127.0.0.1", PROG, 1, port=peer.port, timeout=20, tls=client_config(certs))
    peer.join()
    # The xipc client said why in its alert, and OpenSSL heard it.
    assert peer.handshake_error is not None
    assert re.search(alert, str(peer.handshake_error)), peer.handshake_error


def test_xipc_client_refuses_an_openssl_server_capped_at_tls_1_2(certs):
    peer = OpenSslServer(certs, max_version=ssl.TLSVersion.TLSv1_2)
    # OpenSSL finds no version in common and says so in an alert.
    with pytest.raises(rpc.TlsError, match="alert: ProtocolVersion"):
        rpc.Client("127.0.0.1", PROG, 1, port=peer.port, timeout=20, tls=client_config(certs))
    peer.join()
    assert peer.handshake_error is not None
    assert "unsupported protocol" in str(peer.handshake_error).lower(), peer.handshake_error


# --- a packet capture of a TLS call ------------------------------------------

def test_a_client_gives_up_on_a_silent_server_within_its_timeout(certs):
    # A listener that never accepts: the kernel takes the connection and
    # the probe, and nothing answers. The client's timeout bounds the
    # set-up as it bounds calls.
    silent = socket.create_server(("127.0.0.1", 0))
    try:
        port = silent.getsockname()[1]
        start = time.monotonic()
        with pytest.raises(TimeoutError) as late:
            rpc.Client("127.0.0.1", PROG, 1, port=port, timeout=0.3,
                       tls=client_config(certs, None))
        took = time.monotonic() - start
        assert 0.3 <= took < 5, took
        assert "127.0.0.1" in str(late.value)
    finally:
        silent.close()


def test_a_capture_of_a_tls_call_shows_no_argument_bytes(certs, tmp_path):
    tshark = shutil.which("tshark")
    if tshark is None:
        pytest.fail("tshark is missing: install it (apt-get install tshark; make deps does)")
    srv, port, _ = tls_server(certs)
    try:
        def captured(tls_config) -> bytes:
            pcap = tmp_path / f"capture-{tls_config is not None}.pcap"
            # A datagram to this socket marks the end of the capture.
            marker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            marker.bind(("127.0.0.1", 0))
            mport = marker.getsockname()[1]
            cap = subprocess.Popen(
                # Each packet printed as its UDP destination port (empty
                # for TCP): a summary line would name whatever protocol
                # Wireshark guesses from the port (41170 is MANOLITO's).
                [tshark, "-l", "-P", "-T", "fields", "-e", "udp.dstport", "-i", "lo",
                 "-f", f"tcp port {port} or udp port {mport}", "-w", str(pcap)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                # tshark says so once it is capturing.
                for line in cap.stderr:
                    if "Capture started" in line:
                        break
                else:
                    pytest.fail(f"tshark did not start capturing (exit {cap.wait()})")
                if tls_config is None:
                    with rpc.Client("127.0.0.1", PROG, 1, port=port, timeout=20) as c:
                        with pytest.raises(rpc.AuthError):
                            c.call(1, SECRET)
                else:
                    with rpc.Client("127.0.0.1", PROG, 1, port=port, timeout=20,
                                    tls=tls_config) as c:
                        assert c.call(1, SECRET) == SECRET
                # Once tshark has seen the marker, it has seen every packet
                # of the call before it.
                marker.sendto(b"end of capture", ("127.0.0.1", mport))
                for line in cap.stdout:
                    if line.strip() == str(mport):
                        break
            finally:
                marker.close()
                # tshark writes out what it has and exits on SIGTERM.
                cap.send_signal(signal.SIGTERM)
                cap.communicate(timeout=30)
            return pcap.read_bytes()

        clear = captured(None)
        assert SECRET in clear, "the capture works: a cleartext call shows its arguments"
        sealed = captured(client_config(certs))
        assert SECRET not in sealed
        assert b"\x16\x03\x01" in sealed or b"\x16\x03\x03" in sealed, "a TLS handshake record"
    finally:
        srv.close()


def test_generated_python_clients_take_tls(certs, tmp_path):
    spec = tmp_path / "tlsecho.x"
    spec.write_text("typedef string text<>;\n"
                    "program TLSECHO { version TLSECHO_V1 { text ECHO(text) = 1; } = 1; }"
                    f" = {PROG};\n")
    xipc_bin = os.environ.get("XIPC_BIN", str(ROOT / "target/release/xipc"))
    subprocess.run([xipc_bin, "gen", "-q", "-l", "python", "-o", str(tmp_path), str(spec)],
                   check=True)
    srv = rpc.Server()
    srv.set_rpcbind_registration(False)
    srv.register(PROG, 1, 1, lambda args, call: args)
    port = srv.listen_tcp("127.0.0.1", 0, tls=rpc.TlsConfig(
        cert=certs / "server.pem", key=certs / "server.key"))
    srv.start()
    sys.path.insert(0, str(tmp_path))
    try:
        import tlsecho  # type: ignore[import-not-found]
        with tlsecho.TLSECHO_V1_Client("127.0.0.1", port=port, timeout=20,
                                        tls=rpc.TlsConfig(ca=certs / "ca.pem")) as c:
            assert c.echo("over tls") == "over tls"
    finally:
        sys.path.remove(str(tmp_path))
        srv.close()
