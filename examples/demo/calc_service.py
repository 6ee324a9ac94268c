"""The demo's calc.x service: examples/gen/calc_server.py's, on the stubs
`xipc gen --lang python` writes, run the way a deployed service runs. It
listens on a free TCP port, registers that port with the rpcbind at
RPCBIND_PORT (portmap SET, an ordinary RPC call to program 100000), serves
until SIGTERM, then unregisters.

    xipc gen --lang python -o gen examples/calc.x
    PYTHONPATH=gen:examples/gen python3 calc_service.py RPCBIND_PORT
"""

import signal
import struct
import sys
import time

import calc  # generated from examples/calc.x
from calc_server import Calc  # examples/gen/calc_server.py: the service itself
from xipc import rpc

PMAP_PROG, PMAP_VERS, PMAPPROC_SET, PMAPPROC_UNSET = 100000, 2, 1, 2
IPPROTO_TCP = 6


class DemoCalc(Calc):
    """The service of examples/gen/calc_server.py, saying who greets it."""

    def calc_greet(self, name, call):
        print(f"Python service: {name} says hello (call {call.xid:#010x})", flush=True)
        return super().calc_greet(name, call)


def portmap(rpcbind_port: int, proc: int, port: int) -> bool:
    """portmap SET or UNSET of calc over TCP; True when rpcbind agreed."""
    mapping = struct.pack(">IIII", calc.CALC_PROG, calc.CALC_VERS, IPPROTO_TCP, port)
    with rpc.Client("127.0.0.1", PMAP_PROG, PMAP_VERS, port=rpcbind_port, timeout=5) as rpcbind:
        (ok,) = struct.unpack(">I", rpcbind.call(proc, mapping))
    return ok == 1


def main(rpcbind_port: int) -> None:
    with rpc.Server() as server:
        server.set_rpcbind_registration(False)  # we register with the demo's rpcbind ourselves
        DemoCalc().register(server)
        port = server.listen_tcp("127.0.0.1", 0)
        # A list, not a threading.Event: setting an Event from a signal
        # handler can deadlock on the lock its interrupted wait holds.
        stop = []
        signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
        server.start()
        if not portmap(rpcbind_port, PMAPPROC_SET, port):
            sys.exit(f"Python service: rpcbind refused to register calc on port {port}")
        print(f"Python service: calc.x program {calc.CALC_PROG:#x} version {calc.CALC_VERS} "
              f"on TCP port {port}, registered with rpcbind", flush=True)
        try:
            while not stop:
                time.sleep(0.05)
        finally:
            portmap(rpcbind_port, PMAPPROC_UNSET, 0)
            server.stop()
        print("Python service: unregistered and stopped", flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: calc_service.py RPCBIND_PORT")
    main(int(sys.argv[1]))
