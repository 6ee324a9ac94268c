"""TRAIL clients for gen_trailing.sh: `client.py MODE PORT`.

    lenient / strict  the generated client calls ADD(3, 4)
    extra             a raw call of ADD with 4 bytes after the arguments

Prints the sum, or `error: TYPE` when the call fails.
"""

import sys

import trailing  # generated from tests/gen/trailing.x
import xipc.rpc

mode, port = sys.argv[1], int(sys.argv[2])
try:
    if mode == "extra":
        with xipc.rpc.Client("127.0.0.1", trailing.TRAIL, trailing.TRAIL_V1, port=port) as c:
            args = trailing.pair(3, 4).to_bytes() + b"\xde\xad\xbe\xef"
            reply = c.call(trailing.ADD, args)
            print(int.from_bytes(reply, "big", signed=True))
    else:
        with trailing.TRAIL_V1_Client(port=port, strict=mode == "strict") as t:
            print(t.add(trailing.pair(3, 4)))
except Exception as e:  # the test compares the kind of failure
    print(f"error: {type(e).__name__}")
