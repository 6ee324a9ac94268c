"""An embedded rpcbind in Python, xipc.rpcbind.RpcbindServer, as a program
embeds one: on the addresses given (loopback is added), port 0, no Unix
socket. Prints "port PORT" and serves until SIGTERM or SIGINT.

    py_rpcbind.py [--remote-calls] ADDRESS...
"""

import argparse
import signal

from xipc import rpcbind


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--remote-calls", action="store_true")
    ap.add_argument("address", nargs="+")
    opts = ap.parse_args()
    stop = {signal.SIGTERM, signal.SIGINT}
    # Blocked before the server's threads start, so they inherit the mask
    # and the signal waits for sigwait below.
    signal.pthread_sigmask(signal.SIG_BLOCK, stop)
    with rpcbind.RpcbindServer(listen=opts.address, port=0, remote_calls=opts.remote_calls,
                               local_socket=False) as rb:
        print(f"port {rb.port}", flush=True)
        signal.sigwait(stop)


if __name__ == "__main__":
    main()
