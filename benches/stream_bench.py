"""Python stream benchmark: xipc framed messages against
multiprocessing.Pipe's send_bytes/recv_bytes, in two processes.

    python3 stream_bench.py <rtt|tput> <impl> <count> <size>

impl: xipc-pipe (two xipc.pipe()s), xipc-unix (a socketpair adopted by
xipc), mp (multiprocessing.Pipe(), a socketpair: what most code uses),
mp-pipe (multiprocessing.Pipe(duplex=False) twice: OS pipes).
Prints "python <mode> <impl> <value> <unit>".
"""

import multiprocessing
import os
import socket
import sys
import time

import xipc


def channels(impl):
    """((parent send, parent recv), (child send, child recv))."""
    if impl == "xipc-pipe":
        down_r, down_w = xipc.pipe()
        up_r, up_w = xipc.pipe()
        return (down_w.send, up_r.receive), (up_w.send, down_r.receive)
    if impl == "xipc-unix":
        a, b = socket.socketpair()
        a, b = xipc.Stream.from_fd(a.detach()), xipc.Stream.from_fd(b.detach())
        return (a.send, a.receive), (b.send, b.receive)
    if impl == "mp":
        a, b = multiprocessing.Pipe()
        return (a.send_bytes, a.recv_bytes), (b.send_bytes, b.recv_bytes)
    if impl == "mp-pipe":
        down_r, down_w = multiprocessing.Pipe(duplex=False)
        up_r, up_w = multiprocessing.Pipe(duplex=False)
        return (down_w.send_bytes, up_r.recv_bytes), (up_w.send_bytes, down_r.recv_bytes)
    raise SystemExit(f"unknown impl {impl}")


def main():
    mode, impl, count, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    (send, recv), (child_send, child_recv) = channels(impl)
    msg = b"\x5a" * size
    pid = os.fork()
    if pid == 0:
        try:
            if mode == "rtt":
                for _ in range(count):
                    child_send(child_recv())
            else:
                for _ in range(count):
                    child_recv()
                child_send(b"k")
        finally:
            os._exit(0)
    start = time.perf_counter()
    if mode == "rtt":
        for _ in range(count):
            send(msg)
            recv()
    else:
        for _ in range(count):
            send(msg)
        recv()
    elapsed = time.perf_counter() - start
    os.waitpid(pid, 0)
    if mode == "rtt":
        print(f"python rtt {impl} {elapsed / count * 1e6:.3f} us")
    else:
        print(f"python tput {impl} {size * count / elapsed / 1e6:.1f} MB/s")


if __name__ == "__main__":
    main()
