"""A calc.x client in Python on the stubs `xipc gen` generates.

    xipc gen --lang python -o build/gen examples/calc.x
    PYTHONPATH=build/gen:bindings/python python3 examples/gen/calc_client.py HOST PORT
"""

import sys

import calc  # generated from examples/calc.x


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    with calc.CALC_VERS_Client(host, port=port) as client:
        client.calc_null()
        print("add:", client.calc_add(calc.calc_pair(a=20, b=22)))
        r = client.calc_summarize([1.0, 2.0, 6.0])
        if r.status == calc.CALC_OK:
            s = r.value
            print(f"summary: count {s.count} mean {s.mean:g} min {s.min:g} max {s.max:g}")
        print("greet:", client.calc_greet("Python client"))


if __name__ == "__main__":
    main()
