"""The baseline of benches/rpc.sh's Python server rows: xecho.x's ADD served
by a Python program written on the standard library alone, as one would
without xipc: a thread per connection, record marking and the RPC call and
reply headers by hand (struct), no checks beyond what the benchmark needs.
Prints "tcp PORT udp 0" and serves until killed."""

import socket
import struct
import threading

ADD = 1
# xid, then REPLY (1), MSG_ACCEPTED (0), an AUTH_NONE verifier (0, 0), SUCCESS (0).
ACCEPTED = struct.Struct(">IIIIII")


def read_exactly(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def serve(conn: socket.socket) -> None:
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            (mark,) = struct.unpack(">I", read_exactly(conn, 4))
            call = read_exactly(conn, mark & 0x7FFFFFFF)
            xid, _, _, _, _, proc = struct.unpack(">6I", call[:24])
            # Credential and verifier: flavor, length, body (padded).
            at = 24
            for _ in range(2):
                length = struct.unpack(">I", call[at + 4:at + 8])[0]
                at += 8 + (length + 3) // 4 * 4
            if proc != ADD:
                raise ValueError(f"procedure {proc}: only ADD is served")
            a, b = struct.unpack(">ii", call[at:at + 8])
            reply = ACCEPTED.pack(xid, 1, 0, 0, 0, 0) + struct.pack(
                ">i", (a + b + 2**31) % 2**32 - 2**31)
            conn.sendall(struct.pack(">I", 0x80000000 | len(reply)) + reply)
    except EOFError:
        pass
    finally:
        conn.close()


def main() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    print(f"tcp {listener.getsockname()[1]} udp 0", flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
