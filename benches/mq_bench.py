"""One POSIX message queue benchmark from Python, run by benches/mq.sh:

    mq_bench.py KIND rtt N    ping-pong of 64-byte messages between two
                              processes; prints us per round trip
    mq_bench.py KIND tput N   one-way 8192-byte messages; prints MB/s

KIND: xipc, xipc-ctypes (xipc without its C module, XIPC_NO_FAST=1) or
posix_ipc.

Both sides use the same library; the second process is a fork, so
``taskset -c 0`` pins both.
"""

import os
import sys
import time

SMALL, BIG = 64, 8192


def open_queues(kind, names):
    if kind.startswith("xipc"):
        if kind == "xipc-ctypes":
            os.environ["XIPC_NO_FAST"] = "1"
        import xipc

        return [xipc.MessageQueue(n, create=True, max_messages=10, max_message_size=BIG)
                for n in names]
    import posix_ipc

    return [posix_ipc.MessageQueue(n, posix_ipc.O_CREAT, max_messages=10, max_message_size=BIG)
            for n in names]


def main(kind, test, n):
    names = [f"/xipc-mq-bench-{os.getpid()}-{s}" for s in "ab"]
    a, b = open_queues(kind, names)
    small, big = b"x" * SMALL, b"x" * BIG
    child = os.fork()
    if child == 0:
        try:
            if test == "rtt":
                for _ in range(n):
                    b.send(a.receive()[0])
            else:
                for _ in range(n):
                    a.receive()
                b.send(b"done")
        finally:
            os._exit(0)
    if test == "rtt":
        a.send(small)
        b.receive()
        start = time.perf_counter()
        for _ in range(n - 1):
            a.send(small)
            b.receive()
        print(f"{(time.perf_counter() - start) / (n - 1) * 1e6:.3f}")
    else:
        start = time.perf_counter()
        for _ in range(n):
            a.send(big)
        b.receive()
        print(f"{n * BIG / (time.perf_counter() - start) / 1e6:.1f}")
    os.waitpid(child, 0)
    for q in (a, b):
        q.unlink()
        q.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
