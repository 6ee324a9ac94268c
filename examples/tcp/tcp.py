"""An upper-casing echo server over TCP, and its client.
    python3 tcp.py server 7000
    python3 tcp.py client localhost 7000 hello world"""

import sys

import xipc

if sys.argv[1] == "server":
    with xipc.tcp_listen("::", int(sys.argv[2]) if len(sys.argv) > 2 else 0) as listener:
        print("listening on port", listener.port, flush=True)
        while True:
            with listener.accept() as conn:
                try:
                    while True:
                        conn.send(conn.receive().upper())
                except xipc.errors.ConnectionClosed:
                    pass
else:
    host, port, *words = sys.argv[2:]
    with xipc.tcp_connect(host, int(port), timeout=5) as conn:
        conn.settimeout(5)
        for word in words:
            conn.send(word.encode())
            print(word, "->", conn.receive().decode())
