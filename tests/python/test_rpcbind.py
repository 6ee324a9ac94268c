"""xipc.rpcbind.RpcbindServer: an embedded rpcbind in this process, on the
addresses and port asked for."""

import struct

import pytest

import xipc
from xipc import rpc, rpcbind

PROG = 0x20005B01


def test_serves_on_the_address_and_a_port_the_system_picks():
    with rpcbind.RpcbindServer(listen=["127.0.0.1"], port=0, local_socket=False) as rb:
        port = rb.port
        assert port != 0
        # Portmap v2 SET then GETPORT, from this machine (loopback).
        with rpc.Client("127.0.0.1", 100000, 2, proto="udp", port=port) as pm:
            mapping = struct.pack(">IIII", PROG, 1, 17, 2049)
            assert pm.call(1, mapping) == struct.pack(">I", 1)
            assert pm.call(3, mapping) == struct.pack(">I", 2049)
        with rpc.Client("127.0.0.1", 100000, 4, proto="tcp", port=port) as rb4:
            rb4.ping()
    assert rb.closed
    with pytest.raises(xipc.errors.InvalidArgument):
        rb.port


def test_a_taken_port_is_already_exists():
    with rpcbind.RpcbindServer(listen=["127.0.0.1"], port=0, local_socket=False) as rb:
        with pytest.raises(xipc.errors.AlreadyExists) as info:
            rpcbind.RpcbindServer(listen=["127.0.0.1"], port=rb.port, local_socket=False)
        assert f"port {rb.port} is taken" in str(info.value)


def test_bad_options_are_refused_before_listening():
    with pytest.raises(xipc.errors.InvalidArgument):
        rpcbind.RpcbindServer(listen=["127.0.0.1"], port=0, max_registrations=0,
                              local_socket=False)
    with pytest.raises(xipc.errors.XipcError):
        rpcbind.RpcbindServer(listen=["no-such-host.invalid"], port=0, local_socket=False)


def test_forwarding_for_this_machine_with_remote_calls_off():
    """CALLIT from loopback is forwarded whatever remote_calls says."""
    srv = rpc.Server()
    srv.set_rpcbind_registration(False)
    srv.register(PROG, 1, 1, lambda args, call: args[::-1])
    udp = srv.listen_udp("127.0.0.1", 0)
    srv.start()
    try:
        with rpcbind.RpcbindServer(listen=["127.0.0.1"], port=0, remote_calls=False,
                                   local_socket=False) as rb, \
                rpc.Client("127.0.0.1", 100000, 2, proto="udp", port=rb.port) as pm:
            assert pm.call(1, struct.pack(">IIII", PROG, 1, 17, udp)) == struct.pack(">I", 1)
            reply = pm.call(5, struct.pack(">IIII", PROG, 1, 1, 4) + b"abcd")
            assert reply == struct.pack(">II", udp, 4) + b"dcba"
    finally:
        srv.close()
