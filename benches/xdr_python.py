"""xipc.xdr beside its baselines, measured in the same run: the stdlib
xdrlib (the module xipc.xdr replaces) and one struct.pack/struct.unpack call
over the whole array (the best a Python user can do without xipc).

Each figure is the best of several runs (XIPC_BENCH_REPEAT, default 3);
ratios are baseline time / xipc time, so above 1 means xipc is faster.
The bars: bulk arrays at least 50 times as fast as xdrlib and 3 times as
fast as struct; records field by field at least as fast as xdrlib.
"""

import os
import random
import struct
import sys
import time
import warnings
from array import array

from bench_targets import record
from xipc import xdr

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import xdrlib
    except ImportError:
        sys.exit("xdr_python: the stdlib xdrlib is needed as the baseline: use Python 3.11 or 3.12")

REPEAT = int(os.environ.get("XIPC_BENCH_REPEAT", "3"))
N_BULK = 1_000_000
N_RECORDS = 100_000


def best(fn):
    """The best wall time of REPEAT runs, in seconds, and the last result."""
    times = []
    result = None
    for _ in range(REPEAT):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


rows = []


def compare(what, ours, baseline, baseline_name, same=lambda a, b: a == b, bar=None):
    """Times `ours` and `baseline`, checks they agree, and keeps the row;
    `bar`, if any, is the ratio (baseline time / xipc time) to reach."""
    t_ours, r_ours = best(ours)
    t_base, r_base = best(baseline)
    if not same(r_ours, r_base):
        sys.exit(f"xdr_python: {what}: xipc and {baseline_name} disagree")
    rows.append((what, baseline_name, t_ours, t_base, bar))


def bulk(kind, n, typecode, make):
    values = [make() for _ in range(n)]
    arr = array(typecode, values)
    fmt = ">%d%s" % (n, "d" if typecode == "d" else "I")
    pack_bulk = getattr(xdr.Packer, "pack_%s_array" % kind)
    unpack_bulk = getattr(xdr.Unpacker, "unpack_%s_array" % kind)
    scalar = "double" if typecode == "d" else "uint"

    def xipc_pack(data):
        def run():
            p = xdr.Packer()
            pack_bulk(p, data, fixed=True)
            return p.get_buffer()
        return run

    def stdlib_pack():
        p = xdrlib.Packer()
        p.pack_farray(n, values, getattr(p, "pack_" + scalar))
        return p.get_buffer()

    encoded = struct.pack(fmt, *values)
    label = f"{n:,} {kind} (bulk)"
    compare(f"pack {label}", xipc_pack(arr), stdlib_pack, "xdrlib", bar=50)
    compare(f"pack {label}", xipc_pack(arr), lambda: struct.pack(fmt, *values), "struct.pack", bar=3)
    compare(f"pack {label}, from a list", xipc_pack(values),
            lambda: struct.pack(fmt, *values), "struct.pack")

    def stdlib_unpack():
        u = xdrlib.Unpacker(encoded)
        return u.unpack_farray(n, getattr(u, "unpack_" + scalar))

    as_list = lambda a, b: list(a) == list(b)  # noqa: E731
    compare(f"unpack {label}", lambda: unpack_bulk(xdr.Unpacker(encoded), n),
            stdlib_unpack, "xdrlib", as_list, bar=50)
    compare(f"unpack {label}", lambda: unpack_bulk(xdr.Unpacker(encoded), n),
            lambda: struct.unpack(fmt, encoded), "struct.unpack", as_list, bar=3)


def records():
    rng = random.Random(7)
    recs = [(rng.randrange(-(2**31), 2**31), rng.random(), bytes(rng.randrange(256) for _ in range(16)))
            for _ in range(N_RECORDS)]

    def pack_with(module):
        def run():
            p = module.Packer()
            pack_int, pack_double, pack_string = p.pack_int, p.pack_double, p.pack_string
            for i, d, s in recs:
                pack_int(i)
                pack_double(d)
                pack_string(s)
            return p.get_buffer()
        return run

    encoded = pack_with(xdrlib)()

    def unpack_with(module):
        def run():
            u = module.Unpacker(encoded)
            unpack_int, unpack_double, unpack_string = u.unpack_int, u.unpack_double, u.unpack_string
            return [(unpack_int(), unpack_double(), unpack_string()) for _ in range(N_RECORDS)]
        return run

    label = f"{N_RECORDS:,} records (int, double, 16-byte string), field by field"
    compare(f"pack {label}", pack_with(xdr), pack_with(xdrlib), "xdrlib", bar=1)
    compare(f"unpack {label}", unpack_with(xdr), unpack_with(xdrlib), "xdrlib", bar=1)


def main():
    rng = random.Random(1)
    bulk("double", N_BULK, "d", rng.random)
    bulk("uint32", N_BULK, "I", lambda: rng.randrange(2**32))
    records()
    width = max(len(r[0]) for r in rows)
    print(f"xipc.xdr vs baselines, Python {sys.version.split()[0]}, best of {REPEAT} runs")
    print(f"{'operation':<{width}}  {'baseline':<13} {'xipc ms':>9} {'base ms':>9} {'ratio':>8}  target")
    for what, base, t_ours, t_base, bar in rows:
        ratio = t_base / t_ours
        target = "" if bar is None else f">= {bar}x"
        print(f"{what:<{width}}  {base:<13} {t_ours * 1e3:9.2f} {t_base * 1e3:9.2f} "
              f"{ratio:7.1f}x  {target}")
        if bar is not None:
            record(f"xdr_python: {what}, {base} / xipc time", ratio, ">=", bar)
    print("ratio = baseline time / xipc time (above 1: xipc is faster)")


if __name__ == "__main__":
    main()
