"""Hostile input through the Python API: XDR with length prefixes larger than
the input, nesting too deep, truncation, a bool of 2, non-zero padding;
record-marked streams whose fragments add up past the maximum, endless empty
fragments, a writer that stops mid-message; a live xipc RPC server sent a call
with rpcvers 3, AUTH_SYS with 17 groups or a 300-byte machine name over TCP
and UDP (it answers as RFC 5531 says and keeps serving the clients connected
before); and a panic inside the library, which comes back as InternalError.
Each case asserts the exact exception class."""

import socket
import struct
import tracemalloc

import pytest

import xipc
from xipc import _lib, errors, rpc, xdr

PROG = 0x20008888


# ---- XDR ----------------------------------------------------------------

def test_length_prefix_larger_than_the_input_allocates_nothing():
    data = struct.pack(">I", 0x7FFFFFFF) + b"12345678"
    tracemalloc.start()
    try:
        u = xdr.Unpacker(data, strict=True)
        with pytest.raises(EOFError):
            u.unpack_opaque()
        for method in ("unpack_int32_array", "unpack_double_array"):
            u = xdr.Unpacker(data, strict=True)
            with pytest.raises(EOFError, match="2147483647 items"):
                getattr(u, method)()
            assert u.get_position() == 0
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024, f"decoding 12 bytes peaked at {peak} bytes"


def test_truncated_values_raise_eof():
    for data, method in [(b"\0\0\0\1", "unpack_hyper"), (b"\0\0", "unpack_uint"),
                         (b"\0\0\0\6abcd", "unpack_string"), (b"", "unpack_double")]:
        with pytest.raises(EOFError):
            getattr(xdr.Unpacker(data, strict=True), method)()


def test_bool_of_two_and_nonzero_padding_are_conversion_errors():
    u = xdr.Unpacker(b"\0\0\0\1\0\0\0\2", strict=True)
    assert u.unpack_bool() is True
    with pytest.raises(xdr.ConversionError, match="at byte 4"):
        u.unpack_bool()
    u = xdr.Unpacker(b"\0\0\0\1x\0\1\0", strict=True)
    with pytest.raises(xdr.ConversionError, match="non-zero padding at byte 5"):
        u.unpack_opaque()
    # ConversionError is also a ValueError and an XipcError.
    assert issubclass(xdr.ConversionError, ValueError)
    assert issubclass(xdr.ConversionError, xipc.XipcError)


def test_deep_nesting_raises_depth_exceeded():
    # 1000 nested one-element arrays: refused at depth 65, after its count (bytes 256-259).
    data = b"\0\0\0\1" * 1000 + b"\0\0\0\0"

    def nested(u):
        return u.unpack_array(lambda: nested(u))

    u = xdr.Unpacker(data, strict=True, max_depth=64)
    with pytest.raises(xdr.DepthExceeded, match="nesting deeper than 64 at byte 260"):
        nested(u)
    assert issubclass(xdr.DepthExceeded, RecursionError)


# ---- record marking -----------------------------------------------------

def frame(length, last):
    return struct.pack(">I", length | (0x80000000 if last else 0))


def test_fragments_past_the_maximum_are_refused_from_the_header():
    r, w = xipc.pipe()
    with r, w:
        r.set_max_message_size(16)
        w.write_all(frame(10, False) + b"0123456789" + frame(10, True))
        with pytest.raises(errors.MessageTooLarge, match="at most 16"):
            r.receive()
        # Out of step with its frames from now on.
        with pytest.raises(errors.ProtocolError):
            r.receive()


def test_endless_empty_fragments_are_a_protocol_error():
    r, w = xipc.pipe()
    with r, w:
        w.write_all(frame(0, False) * 5000)
        with pytest.raises(errors.ProtocolError, match="fragments"):
            r.receive()


def test_a_writer_stopping_mid_message_is_connection_closed():
    r, w = xipc.pipe()
    with r:
        w.write_all(frame(20, True) + b"only ten b")
        w.close()
        with pytest.raises(errors.ConnectionClosed):
            r.receive()


def test_a_two_gigabyte_header_is_refused_before_reading():
    r, w = xipc.pipe()
    with r, w:
        w.write_all(frame(0x7FFFFFFF, True))
        with pytest.raises(errors.MessageTooLarge, match="2147483647"):
            r.receive()


# ---- a live RPC server --------------------------------------------------

def call_message(xid, rpcvers, flavor=0, cred=b""):
    body = struct.pack(">7I", xid, 0, rpcvers, PROG, 1, 1, flavor)
    body += struct.pack(">I", len(cred)) + cred + b"\0" * (-len(cred) % 4)
    return body + struct.pack(">2I", 0, 0)


def auth_sys(machine: bytes, ngids: int) -> bytes:
    p = xdr.Packer()
    p.pack_uint(1)
    p.pack_string(machine)
    p.pack_uint(1000)
    p.pack_uint(1000)
    p.pack_array(list(range(1, ngids + 1)), p.pack_uint)
    return p.get_buffer()


@pytest.fixture
def server():
    s = rpc.Server()
    s.set_rpcbind_registration(False)
    s.register(PROG, 1, 1, lambda args, call: args)
    tcp = s.listen_tcp("127.0.0.1", 0)
    udp = s.listen_udp("127.0.0.1", 0)
    s.start()
    clients = [rpc.Client("127.0.0.1", PROG, 1, proto="tcp", port=tcp, timeout=10),
               rpc.Client("127.0.0.1", PROG, 1, proto="udp", port=udp, timeout=10)]
    yield tcp, udp, clients
    for c in clients:
        c.close()
    s.close()


def still_served(clients):
    for c in clients:
        assert c.call(1, b"\0\0\0\x2a") == b"\0\0\0\x2a"


def raw_replies(tcp_port, udp_port, message):
    """The server's reply to `message` as a TCP record and as a UDP datagram."""
    with socket.create_connection(("127.0.0.1", tcp_port), timeout=10) as t:
        t.sendall(frame(len(message), True) + message)
        header = t.recv(4, socket.MSG_WAITALL)
        (mark,) = struct.unpack(">I", header)
        tcp_reply = t.recv(mark & 0x7FFFFFFF, socket.MSG_WAITALL)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.settimeout(10)
        u.sendto(message, ("127.0.0.1", udp_port))
        udp_reply = u.recv(65536)
    assert tcp_reply == udp_reply
    return tcp_reply


def test_rpcvers_3_is_rpc_mismatch_2_2(server):
    tcp, udp, clients = server
    still_served(clients)
    reply = raw_replies(tcp, udp, call_message(0x401, 3))
    assert reply == struct.pack(">6I", 0x401, 1, 1, 0, 2, 2)
    still_served(clients)


def test_auth_sys_with_17_groups_is_auth_badcred(server):
    tcp, udp, clients = server
    reply = raw_replies(tcp, udp, call_message(0x402, 2, 1, auth_sys(b"host", 17)))
    assert reply == struct.pack(">5I", 0x402, 1, 1, 1, 1)  # MSG_DENIED AUTH_ERROR BADCRED
    still_served(clients)
    # 16 groups are fine.
    reply = raw_replies(tcp, udp, call_message(0x403, 2, 1, auth_sys(b"host", 16)))
    assert reply == struct.pack(">6I", 0x403, 1, 0, 0, 0, 0)


def test_auth_sys_with_a_300_byte_machine_name_is_auth_badcred(server):
    tcp, udp, clients = server
    reply = raw_replies(tcp, udp, call_message(0x404, 2, 1, auth_sys(b"m" * 300, 0)))
    assert reply == struct.pack(">5I", 0x404, 1, 1, 1, 1)
    still_served(clients)


def test_the_client_refuses_to_send_such_credentials(server):
    _, _, clients = server
    with pytest.raises(errors.InvalidArgument):
        clients[0].set_auth_sys(rpc.AuthSys(uid=1, gid=1, gids=tuple(range(17))))
    with pytest.raises(errors.InvalidArgument):
        clients[0].set_auth_sys(rpc.AuthSys(uid=1, gid=1, machine_name="m" * 300))
    still_served(clients)


# ---- a panic inside the library ----------------------------------------

def test_a_panic_in_the_library_is_internal_error():
    panic = _lib.declare("xipc__test_panic", [])
    for _ in range(2):  # and the library keeps working afterwards
        with pytest.raises(errors.InternalError, match="panic") as info:
            panic()
        assert info.value.code == -31
        assert isinstance(info.value, RuntimeError)
    r, w = xipc.pipe()
    with r, w:
        w.send(b"still fine")
        assert r.receive() == b"still fine"

