"""A small ONC RPC service in Python: ADD two ints, and ECHO bytes.

Run `xipc rpcbind` (as root, on port 111) first if this machine has no
rpcbind: the server registers there, so clients (this package's client.py,
`rpcinfo -p`, or any libtirpc client) find it by program number.

    python3 examples/rpc/server.py        # Ctrl-C or SIGTERM stops it
"""

import signal
import struct

from xipc import rpc

PROG, VERS = 0x20005A5A, 1  # the program of tests/interop/rpc/xecho.x


def add(args: bytes, call: rpc.Call) -> bytes:
    if len(args) != 8:
        raise rpc.GarbageArgs("ADD takes two ints")
    a, b = struct.unpack(">ii", args)
    return struct.pack(">i", (a + b + 2**31) % 2**32 - 2**31)


def echo(args: bytes, call: rpc.Call) -> bytes:
    who = call.auth_sys.machine_name if call.auth_sys else "anonymous"
    if len(args) < 4:
        raise rpc.GarbageArgs("ECHO takes opaque<>")
    (n,) = struct.unpack(">I", args[:4])
    print(f"ECHO of {n} bytes from {who} (xid {call.xid:#x})", flush=True)
    return args  # opaque<> in, the same opaque<> out


server = rpc.Server()
server.register(PROG, VERS, 1, add)
server.register(PROG, VERS, 2, echo)
signal.signal(signal.SIGTERM, lambda *_: server.stop())
print("TCP port", server.listen_tcp("0.0.0.0"), "UDP port", server.listen_udp("0.0.0.0"), flush=True)
try:
    server.serve_forever()
except KeyboardInterrupt:
    pass
