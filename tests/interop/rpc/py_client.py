"""An xipc client of xecho.x in Python.
usage: py_client.py HOST PROTO PORT   (PORT 0: look up through rpcbind)"""

import struct
import sys

from xipc import rpc

PROG, VERS = 0x20005A5A, 1


def main():
    host, proto, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with rpc.Client(host, PROG, VERS, proto=proto, port=port or None, timeout=5) as c:
        c.ping()
        assert c.call(1, struct.pack(">ii", 40, 2)) == struct.pack(">i", 42)
        blob = bytes((i * 7) & 0xFF for i in range(5000))
        arg = struct.pack(">I", len(blob)) + blob
        assert c.call(2, arg) == arg
        (n,) = struct.unpack(">I", c.call(3))
        assert n >= 1
        try:
            c.call(9)
        except rpc.ProcedureUnavailable:
            pass
        else:
            raise AssertionError("procedure 9 should be unavailable")
    print(f"py_client {proto}: ok (count {n})")


if __name__ == "__main__":
    main()
