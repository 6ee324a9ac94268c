"""The demo's Python parent: starts the C child (xdr_child.c) and exchanges
framed XDR messages with it, over two pipes and then over two FIFOs.

    request: struct { unsigned seq; string text<256>; }
    reply:   struct { unsigned seq; string text<256>; int pid; }

    python3 xdr_parent.py CHILD_PROGRAM DIRECTORY   (the FIFOs go in DIRECTORY)
"""

import os
import subprocess
import sys

import xipc
from xipc import xdr


def exchange(how: str, requests: xipc.Stream, replies: xipc.Stream, texts: list[str]) -> None:
    for seq, text in enumerate(texts, 1):
        p = xdr.Packer()
        p.pack_uint(seq)
        p.pack_string(text.encode())
        requests.send(p.get_buffer())
        u = xdr.Unpacker(replies.receive(), strict=True)
        got_seq, got_text, pid = u.unpack_uint(), u.unpack_string().decode(), u.unpack_int()
        u.done()
        assert got_seq == seq, f"reply {got_seq} to request {seq}"
        print(f'{how}: Python parent sent #{seq} "{text}", C child {pid} answered "{got_text}"')


def over_pipes(child_program: str) -> None:
    req_r, req_w = xipc.pipe()
    rep_r, rep_w = xipc.pipe()
    child = subprocess.Popen([child_program, "pipe", str(req_r.fileno()), str(rep_w.fileno())],
                             pass_fds=[req_r.fileno(), rep_w.fileno()])
    req_r.close()  # the child's ends: closing ours lets end of stream reach each side
    rep_w.close()
    with req_w, rep_r:
        exchange("pipe", req_w, rep_r, ["hello over a pipe", "bye"])
    if child.wait(10) != 0:
        sys.exit(f"C child exited with {child.returncode}")


def over_fifos(child_program: str, directory: str) -> None:
    req_path, rep_path = os.path.join(directory, "requests"), os.path.join(directory, "replies")
    xipc.mkfifo(req_path)
    xipc.mkfifo(rep_path)
    try:
        child = subprocess.Popen([child_program, "fifo", req_path, rep_path])
        # Requests first, then replies: the order the child opens them in.
        with xipc.open_fifo(req_path, "w") as requests, xipc.open_fifo(rep_path, "r") as replies:
            exchange("FIFO", requests, replies, ["hello over a FIFO", "bye"])
        if child.wait(10) != 0:
            sys.exit(f"C child exited with {child.returncode}")
    finally:
        os.unlink(req_path)
        os.unlink(rep_path)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: xdr_parent.py CHILD_PROGRAM DIRECTORY")
    over_pipes(sys.argv[1])
    over_fifos(sys.argv[1], sys.argv[2])
