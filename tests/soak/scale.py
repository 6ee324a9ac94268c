"""Scale test, run by `make soak`: one RPC server holding 15,000 idle TCP
connections, measured from outside its process as a user would see it.

The server is a plain Python `xipc.rpc.Server` echoing on TCP loopback
(scale_server.py). This process opens SCALE_CONNECTIONS (default 15,000)
connections to it as fast as it can, then checks:

- every connect took less than 1 s (a dropped SYN is retried after 1 s, so
  a listen queue too short for the burst shows here);
- the server's resident memory grew by at most 4 KiB per connection;
- the server has at most 64 threads;
- 5 idle seconds cost the server at most 0.05 s of CPU and 250 context
  switches (all its threads together);
- then a call on every connection is answered with its own bytes.

Both processes raise their soft descriptor limit to the hard limit (20,000
on the CI machines), which the connections need.
"""

from __future__ import annotations

import os
import random
import resource
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

CONNECTIONS = int(os.environ.get("SCALE_CONNECTIONS", "15000"))
IDLE_SECONDS = 5.0
PROG, VERS, ECHO = 0x2000_5CA1, 1, 1

BARS = {
    "kib_per_connection": 4.0,
    "threads": 64,
    "idle_cpu_seconds": 0.05,
    "idle_context_switches": 250,
    "slowest_connect_seconds": 1.0,
}


def raise_fd_limit(need: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < need:
        sys.exit(f"scale: {need} descriptors needed, the hard limit is {hard}; "
                 "raise it (ulimit -Hn as root) or set SCALE_CONNECTIONS lower")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def context_switches(pid: int) -> int:
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            text = Path(f"/proc/{pid}/task/{tid}/status").read_text()
        except FileNotFoundError:
            continue  # the thread ended
        for line in text.splitlines():
            if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")):
                total += int(line.split()[1])
    return total


def call_record(xid: int, payload: bytes) -> bytes:
    body = struct.pack(">10I", xid, 0, 2, PROG, VERS, ECHO, 0, 0, 0, 0) + payload
    return struct.pack(">I", 0x8000_0000 | len(body)) + body


def read_reply(sock: socket.socket) -> bytes:
    def exactly(n: int) -> bytes:
        out = b""
        while len(out) < n:
            chunk = sock.recv(n - len(out))
            if not chunk:
                raise ConnectionError("the server closed the connection")
            out += chunk
        return out
    mark = struct.unpack(">I", exactly(4))[0]
    assert mark & 0x8000_0000, "one-fragment replies expected"
    return exactly(mark & 0x7FFF_FFFF)


def main() -> int:
    raise_fd_limit(CONNECTIONS + 256)
    here = Path(__file__).resolve().parent
    server = subprocess.Popen([sys.executable, str(here / "scale_server.py")],
                              stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline() if server.stdout else ""
        if not line.startswith("port "):
            print(f"scale: the server did not start ({line!r})", file=sys.stderr)
            return 1
        port = int(line.split()[1])
        pid = server.pid
        rss_before = rss_kib(pid)

        conns: list[socket.socket] = []
        slowest = 0.0
        started = time.monotonic()
        for _ in range(CONNECTIONS):
            t = time.monotonic()
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            slowest = max(slowest, time.monotonic() - t)
            conns.append(s)
        burst = time.monotonic() - started
        # The server has accepted them all (the accept queue is empty)
        # before it is measured.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            out = subprocess.run(["ss", "-ltnH", f"sport = :{port}"],
                                 capture_output=True, text=True, check=True).stdout.split()
            if out and out[1] == "0":
                break
            time.sleep(0.05)
        rss_after = rss_kib(pid)
        n_threads = threads(pid)

        cpu0, cs0 = cpu_seconds(pid), context_switches(pid)
        time.sleep(IDLE_SECONDS)
        cpu1, cs1 = cpu_seconds(pid), context_switches(pid)

        # A call on every connection, in a shuffled order.
        order = list(range(CONNECTIONS))
        random.shuffle(order)
        t = time.monotonic()
        for i in order:
            payload = struct.pack(">I", i)
            conns[i].sendall(call_record(i, payload))
        for i in order:
            reply = read_reply(conns[i])
            xid, mtype, stat, _, _, accept = struct.unpack(">6I", reply[:24])
            assert (xid, mtype, stat, accept) == (i, 1, 0, 0), (i, reply[:24])
            assert reply[24:] == struct.pack(">I", i), (i, reply[24:])
        calls = time.monotonic() - t

        figures = {
            "kib_per_connection": (rss_after - rss_before) / CONNECTIONS,
            "threads": n_threads,
            "idle_cpu_seconds": cpu1 - cpu0,
            "idle_context_switches": cs1 - cs0,
            "slowest_connect_seconds": slowest,
        }
        print(f"scale: {CONNECTIONS} connections opened in {burst:.2f} s "
              f"(slowest connect {slowest * 1000:.1f} ms); server RSS {rss_before} KiB "
              f"-> {rss_after} KiB ({figures['kib_per_connection']:.2f} KiB per connection), "
              f"{n_threads} threads; {IDLE_SECONDS:.0f} idle s: "
              f"{figures['idle_cpu_seconds']:.3f} s CPU, {figures['idle_context_switches']} "
              f"context switches; a call on each connection answered in {calls:.2f} s")
        failed = [f"{k} {figures[k]} over {BARS[k]}" for k in BARS if figures[k] > BARS[k]]
        for s in conns:
            s.close()
        if failed:
            print("scale: FAILED: " + "; ".join(failed), file=sys.stderr)
            return 1
        print("scale: every bar held")
        return 0
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            print("scale: the server did not stop within 30 s of SIGTERM", file=sys.stderr)
            return 1


if __name__ == "__main__":
    sys.exit(main())
