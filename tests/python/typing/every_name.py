"""A program that uses every public name of xipc, for `mypy --strict`
(tests/python/test_typing.py runs the check and that every name is here).
It is type-checked, not run."""

from __future__ import annotations

from array import array
from pathlib import Path

import socket

import xipc
from xipc import errors, mq, rpc, rpcbind, stream, xdr


def xdr_round_trip() -> tuple[int, bytes, list[float]]:
    p = xdr.Packer()
    p.reset()
    p.pack_uint(1)
    p.pack_int(-1)
    p.pack_enum(2)
    p.pack_bool(True)
    p.pack_uhyper(1 << 40)
    p.pack_hyper(-(1 << 40))
    p.pack_float(0.5)
    p.pack_double(1.5)
    p.pack_fstring(3, b"abc")
    p.pack_fopaque(3, b"abc")
    p.pack_string(b"text")
    p.pack_opaque(b"bytes")
    p.pack_bytes(b"more")
    p.pack_list([1, 2], p.pack_int)
    p.pack_farray(2, [1, 2], p.pack_uint)
    p.pack_array([1.0], p.pack_double)
    p.pack_int32_array([1, 2], fixed=True)
    p.pack_uint32_array(array("I", [1]))
    p.pack_int64_array([1])
    p.pack_uint64_array([1])
    p.pack_float_array([0.5])
    p.pack_double_array(array("d", [0.5]))
    data: bytes = p.get_buffer()
    assert data == p.get_buf()

    u = xdr.Unpacker(data, strict=True, max_depth=8)
    u.reset(data)
    u.set_position(u.get_position())
    assert u.get_buffer() is data
    first: int = u.unpack_uint()
    ints: list[int] = [u.unpack_int(), u.unpack_enum(), int(u.unpack_bool()), u.unpack_uhyper(),
                       u.unpack_hyper()]
    floats: list[float] = [u.unpack_float(), u.unpack_double()]
    texts: list[bytes] = [u.unpack_fstring(3), u.unpack_fopaque(3), u.unpack_string(),
                          u.unpack_opaque(), u.unpack_bytes()]
    listed: list[int] = u.unpack_list(u.unpack_int)
    fixed: list[int] = u.unpack_farray(2, u.unpack_uint)
    counted: list[float] = u.unpack_array(u.unpack_double)
    i32: array[int] = u.unpack_int32_array(2)
    u32: array[int] = u.unpack_uint32_array()
    i64: array[int] = u.unpack_int64_array()
    u64: array[int] = u.unpack_uint64_array()
    f32: array[float] = u.unpack_float_array()
    f64: array[float] = u.unpack_double_array()
    u.done()
    del ints, listed, fixed, counted, i32, u32, i64, u64, f32
    return first, texts[2], floats + f64.tolist()


def xdr_errors(e: Exception) -> str:
    if isinstance(e, xdr.DepthExceeded):
        return "depth"
    if isinstance(e, xdr.ConversionError):
        return e.msg
    if isinstance(e, xdr.Error):
        return str(e)
    return ""


def queue(name: str) -> mq.QueueAttributes:
    with xipc.MessageQueue(name, create=True, exclusive=False, mode=0o600, max_messages=4,
                           max_message_size=64, read=True, write=True, blocking=True) as q:
        q.send(b"hello", priority=3, timeout=None)
        q.send(bytearray(b"x"))
        message: bytes
        priority: int
        message, priority = q.receive(timeout=0.5)
        attributes: mq.QueueAttributes = q.attributes
        size: int = q.max_message_size + attributes.max_messages + attributes.current_messages
        q.blocking = not q.blocking
        q.notify(lambda: None)
        q.notify(None)
        fd: int = q.fileno()
        q.unlink()
        closed: bool = q.closed
        del message, priority, size, fd, closed
    q.close()
    other = mq.MessageQueue(name, create=True)
    other.close()
    mq.unlink_queue(name)
    xipc.unlink_queue(name)
    return attributes


def status(e: errors.XipcError) -> int | None:
    classes: list[type[errors.XipcError]] = [
        errors.InvalidArgument, errors.WouldBlock, errors.Timeout, errors.MessageTooLarge,
        errors.NotFound, errors.AlreadyExists, errors.PermissionDenied, errors.ConnectionClosed,
        errors.MalformedXdr, errors.LimitExceeded, errors.ProtocolError, errors.Unsupported,
        errors.Interrupted, errors.RpcError, errors.ProgramUnavailable,
        errors.ProcedureUnavailable, errors.GarbageArgs, errors.SystemError_,
        errors.OSFailure, errors.ConnectionRefused, errors.ConnectionReset,
        errors.ConnectionAborted, errors.BrokenPipe, errors.IsADirectory, errors.NotADirectory,
        errors.InternalError,
    ]
    if isinstance(e, errors.ProgramMismatch) or isinstance(e, errors.RpcMismatch):
        return e.low
    if isinstance(e, errors.AuthError):
        return e.stat
    if isinstance(e, tuple(classes)):
        return e.code
    refused: ConnectionRefusedError = errors.ConnectionRefused("refused", -30, 111)
    again: errors.XipcError = errors.from_code(-2, "would block")
    known: type[errors.XipcError] = errors.BY_CODE[-1]
    del refused, known
    return again.code


def streams(path: str) -> bytes:
    reader, writer = xipc.pipe()
    writer.send(b"hello")
    writer.send(memoryview(b"x"))
    first: bytes = reader.receive()
    writer.write_all(b"raw")
    written: int = writer.write(b"more")
    data: bytes = reader.read(16)
    writer.flush()
    reader.settimeout(None)
    reader.settimeout(0.5)
    timeout: float | None = reader.gettimeout()
    reader.set_max_message_size(1 << 20)
    writer.set_inheritable(False)
    fds: list[int] = [reader.fileno(), writer.fileno()]
    again = stream.Stream.from_fd(fds[0])
    closed: bool = again.closed
    reader.close()
    with writer:
        pass
    stream.mkfifo(path, 0o600)
    xipc.mkfifo(path + "2")
    fifo: stream.Stream = xipc.open_fifo(path, "r", blocking=False)
    fifo.close()
    stream.open_fifo(path, "w", blocking=False).close()
    listener: stream.Listener = xipc.tcp_listen("127.0.0.1", 0)
    port: int | None = listener.port
    conn = xipc.tcp_connect("127.0.0.1", port or 0, timeout=1.0)
    accepted: xipc.Stream = listener.accept(timeout=None)
    conn.shutdown(socket.SHUT_WR)
    listener.fileno()
    with listener:
        assert not listener.closed
    unix: xipc.Listener = xipc.unix_listen(path + ".sock", mode=0o600)
    client = xipc.unix_connect(path + ".sock", timeout=None)
    peer: xipc.PeerCredentials = unix.accept().peer_credentials()
    creds: stream.PeerCredentials = client.peer_credentials()
    stream.tcp_listen("127.0.0.1").close()
    stream.tcp_connect("127.0.0.1", 1).close()
    stream.unix_listen(path + ".other").close()
    stream.unix_connect(path + ".other").close()
    stream.pipe()
    del written, timeout, closed, accepted, peer, creds
    return first + data


def echo(args: bytes, call: rpc.Call) -> bytes | None:
    who: rpc.AuthSys | None = call.auth_sys
    peer: xipc.PeerCredentials | None = call.peer_credentials
    numbers: list[int] = [call.xid, call.prog, call.vers, call.procedure]
    tls: rpc.TlsPeer | None = call.tls_peer
    if tls is not None:
        identity: list[str] = [tls.subject, tls.fingerprint, *tls.sans]
        del identity
    del who, peer, numbers, tls
    return args


def remote_calls() -> bytes:
    handler: rpc.Handler = echo
    server = rpc.Server()
    server.set_rpcbind_registration(False)
    server.set_rpcbind_replace(True)
    server.register(0x20000001, 1, 1, handler)
    port: int = server.listen_tcp("127.0.0.1", 0)
    server.listen_udp("127.0.0.1", port)
    server.listen_unix("/tmp/sock", mode=0o600)
    server.set_duplicate_cache(16)
    server.set_max_message_size(1 << 20)
    server.set_concurrent_calls_per_connection(4)
    server.set_max_connections(64)
    server.set_idle_timeout(None)
    server.set_busy_poll(50e-6)
    served = rpc.TlsConfig(cert="server.pem", key="server.key", policy="tls")
    tls_port: int = server.listen_tcp("127.0.0.1", 0, tls=served)
    server.listen_unix("/tmp/tls.sock", 0o600, tls=served)
    server.start()
    trusted = rpc.TlsConfig(ca=b"-----BEGIN CERTIFICATE-----", server_name="localhost")
    with rpc.Client("127.0.0.1", 0x20000001, 1, port=tls_port, tls=trusted) as sealed:
        sealed.ping()
    served.reload()
    served.replace(cert=Path("renewed.pem"), key=b"-----BEGIN PRIVATE KEY-----")
    revoking = rpc.TlsConfig(ca="ca.pem", crl=Path("ca.crl.pem"))
    revoking.replace(ca="ca.pem", crl=b"-----BEGIN X509 CRL-----", server_name=None)
    revoking.close()
    trusted.close()
    with rpc.Client("127.0.0.1", 0x20000001, 1, proto="tcp", port=port, timeout=None) as c:
        c.set_timeout(2.0)
        c.set_max_message_size(1 << 16)
        c.set_reconnect(True)
        c.set_busy_poll(0.0)
        c.set_auth_sys(rpc.AuthSys(uid=1, gid=2, gids=(3,), machine_name="m", stamp=4))
        c.set_auth_sys(None)
        result: bytes = c.call(1, b"\0\0\0\1")
        c.call_batched(1, b"")
        c.ping()
        fd: int = c.fileno()
        closed: bool = c.closed
        del closed, fd
    errors_seen: list[type[Exception]] = [
        rpc.RpcError, rpc.ProgramUnavailable, rpc.ProgramMismatch, rpc.ProcedureUnavailable,
        rpc.GarbageArgs, rpc.SystemError_, rpc.AuthError, rpc.RpcMismatch, rpc.Timeout,
        rpc.TlsError, errors.TlsError,
        errors.ProgramMismatch, errors.RpcMismatch, errors.AuthError,
    ]
    del errors_seen
    server.stop()
    server.serve_forever()
    stopped: bool = server.closed
    del stopped
    server.close()
    with xipc.rpc.Server() as other:
        other.close()
    return result


def embedded_rpcbind() -> int:
    with rpcbind.RpcbindServer(listen=["127.0.0.1"], port=0, remote_calls=False,
                               max_registrations=rpcbind.DEFAULT_MAX_REGISTRATIONS,
                               local_socket=False) as rb:
        port: int = rb.port
        rb.stop()
    other = xipc.rpcbind.RpcbindServer(port=rpcbind.PORT, local_socket="/tmp/rpcbind.sock")
    done: bool = other.closed
    del done
    other.close()
    return port


def version() -> str:
    plain: type[Exception] = xipc.XipcError
    del plain
    return xipc.__version__ + str(xipc.errors.XipcError) + str(xipc.xdr.Packer)
