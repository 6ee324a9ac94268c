"""A TRAIL server (tests/gen/trailing.x) for gen_trailing.sh.

    server.py pad      ADD's reply carries 4 bytes after the result
    server.py lenient  the generated server (bytes after the arguments ignored)
    server.py strict   the generated server, registered strict

Prints its TCP port, then serves until killed.
"""

import struct
import sys

import trailing  # generated from tests/gen/trailing.x
import xipc.rpc

mode = sys.argv[1]
server = xipc.rpc.Server()
if mode == "pad":

    def add(args: bytes, call: xipc.rpc.Call) -> bytes:
        p = trailing.pair.from_bytes(args)
        return struct.pack(">i", p.a + p.b) + b"\xde\xad\xbe\xef"

    server.register(trailing.TRAIL, trailing.TRAIL_V1, trailing.ADD, add)
else:

    class Trail(trailing.TRAIL_V1_Server):
        def add(self, arg1: trailing.pair, call: xipc.rpc.Call) -> int:
            return arg1.a + arg1.b

    Trail().register(server, strict=mode == "strict")
print(server.listen_tcp("127.0.0.1", 0), flush=True)
server.serve_forever()
