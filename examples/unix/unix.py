"""A Unix-socket server that tells each client who it is (from the kernel's
peer credentials), and its client.
    python3 unix.py server /tmp/demo.sock
    python3 unix.py client /tmp/demo.sock"""

import sys

import xipc

role, path = sys.argv[1:3]
if role == "server":
    with xipc.unix_listen(path, mode=0o600) as listener:  # a stale file is replaced
        print("listening on", path, flush=True)
        while True:
            with listener.accept() as conn:
                who = conn.peer_credentials()
                conn.send(f"hello pid {who.pid} (uid {who.uid}, gid {who.gid})".encode())
else:
    with xipc.unix_connect(path, timeout=5) as conn:
        print(conn.receive().decode())
