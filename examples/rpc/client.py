"""Calls the ADD/ECHO service (server.py, server.c or main.rs), found
through rpcbind unless PORT is given.

    python3 examples/rpc/client.py [HOST] [tcp|udp] [PORT]
"""

import struct
import sys

from xipc import rpc

PROG, VERS = 0x20005A5A, 1
host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
proto = sys.argv[2] if len(sys.argv) > 2 else "tcp"
port = int(sys.argv[3]) if len(sys.argv) > 3 else None  # None: ask rpcbind

with rpc.Client(host, PROG, VERS, proto=proto, port=port, timeout=5) as c:
    c.set_auth_sys()  # send this process's uid, gid and host name
    c.ping()
    (total,) = struct.unpack(">i", c.call(1, struct.pack(">ii", 40, 2)))
    print("40 + 2 =", total)
    text = b"hello, ONC RPC"
    reply = c.call(2, struct.pack(">I", len(text)) + text + b"\0" * (-len(text) % 4))
    print("echo:", reply[4:4 + len(text)].decode())
    try:
        c.call(9)
    except rpc.ProcedureUnavailable:
        print("procedure 9: unavailable (PROC_UNAVAIL)")
