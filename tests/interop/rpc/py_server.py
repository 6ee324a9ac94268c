"""An xipc server of xecho.x in Python. Prints "tcp PORT udp PORT" and
serves until SIGTERM. Options: --rpcbind (register with rpcbind on start),
--replace (and take over a running server's registration), --drc N
(duplicate-request cache), --host H."""

import argparse
import signal
import struct
import sys
import time

from xipc import errors, rpc

PROG, VERS = 0x20005A5A, 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rpcbind", action="store_true")
    ap.add_argument("--replace", action="store_true")
    ap.add_argument("--drc", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    opts = ap.parse_args()

    count = [0]

    def add(args, call):
        if len(args) != 8:
            raise rpc.GarbageArgs("xecho_pair is 8 bytes")
        a, b = struct.unpack(">ii", args)
        return struct.pack(">i", (a + b + 2**31) % 2**32 - 2**31)

    def echo(args, call):
        if len(args) < 4:
            raise rpc.GarbageArgs("short opaque")
        (n,) = struct.unpack(">I", args[:4])
        if len(args) != 4 + n + (-n % 4):
            raise rpc.GarbageArgs("bad opaque length")
        return args

    def counter(args, call):
        count[0] += 1
        return struct.pack(">I", count[0])

    def sleep(args, call):
        (ms,) = struct.unpack(">I", args)
        time.sleep(ms / 1000)
        return b""

    srv = rpc.Server()
    srv.set_rpcbind_registration(opts.rpcbind or opts.replace)
    srv.set_rpcbind_replace(opts.replace)
    if opts.drc:
        srv.set_duplicate_cache(opts.drc)
    for proc, fn in ((1, add), (2, echo), (3, counter), (4, sleep)):
        srv.register(PROG, VERS, proc, fn)
    tcp = srv.listen_tcp(opts.host, 0)
    udp = srv.listen_udp(opts.host, 0)
    signal.signal(signal.SIGTERM, lambda *a: srv.stop())
    try:
        srv.start()
    except errors.AlreadyExists as e:
        print(f"py_server: {e}", file=sys.stderr)
        srv.close()
        return 1
    print(f"tcp {tcp} udp {udp}", flush=True)
    srv.serve_forever()
    srv.close()


if __name__ == "__main__":
    sys.exit(main())
