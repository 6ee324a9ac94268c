"""A calc.x server written in Python on the stubs `xipc gen` generates.

    xipc gen --lang python -o build/gen examples/calc.x
    PYTHONPATH=build/gen:bindings/python python3 examples/gen/calc_server.py [PORT]

It prints the TCP port it listens on, then serves until interrupted.
"""

import sys

import calc  # generated from examples/calc.x
import xipc.rpc


class Calc(calc.CALC_VERS_Server):
    def calc_null(self, call):
        return None

    def calc_add(self, pair, call):
        return pair.a + pair.b

    def calc_summarize(self, samples, call):
        if not samples:
            return calc.calc_result(calc.CALC_EMPTY, None)
        summary = calc.calc_summary(
            count=len(samples),
            mean=sum(samples) / len(samples),
            min=min(samples),
            max=max(samples),
        )
        return calc.calc_result(calc.CALC_OK, summary)

    def calc_greet(self, name, call):
        return f"hello, {name}"


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = xipc.rpc.Server()
    Calc().register(server)
    port = server.listen_tcp("127.0.0.1", port)
    print(port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
