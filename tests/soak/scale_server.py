"""The server of the scale test (scale.py): a Python RPC server echoing its
arguments on TCP loopback, as a new user would write it. Prints "port N"
once it serves; SIGTERM stops it."""

import resource
import signal
import sys

import xipc.rpc

PROG, VERS, ECHO = 0x2000_5CA1, 1, 1


def main() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    server = xipc.rpc.Server()
    server.set_rpcbind_registration(False)
    server.register(PROG, VERS, ECHO, lambda args, call: args)
    port = server.listen_tcp("127.0.0.1", 0)
    signal.signal(signal.SIGTERM, lambda *_: server.stop())
    server.start()
    print(f"port {port}", flush=True)
    server.serve_forever()
    server.close()
    sys.exit(0)


if __name__ == "__main__":
    main()
