"""Python side of benches/gen.sh: 100,000 records of (int, double, 16-byte
string, 8 ints) encoded and decoded one by one through the module xipc gen
generated, and through the standard library's xdrlib field by field.

The two sides take turns, nine rounds each, and the best time of each
phase counts (the machine may be busy: taking turns spreads a busy spell
over both sides). Decoding keeps 100,000 new objects alive
on both sides, so Python's cyclic garbage collector runs during it and
costs both the same absolute time; the figures are given as a program sees
them (collector on) and as `timeit` measures (collector off)."""

import gc
import sys
import time
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import xdrlib
    except ImportError:
        sys.exit("gen bench: FAIL: xdrlib is missing (Python 3.13 removed it): run with Python <= 3.12")

import gen_record
from bench_targets import record

N = 100_000
ROUNDS = 9
BAR = 3  # the generated stubs at least this many times as fast as xdrlib
SAMPLES = [1, -2, 3, -4, 5, -6, 7, -8]
NAME = "sixteen-bytes-ok"


def run_generated():
    recs = [gen_record.record(id=i, value=i * 0.5, name=NAME, samples=SAMPLES) for i in range(N)]
    t0 = time.perf_counter()
    blobs = [r.to_bytes() for r in recs]
    t1 = time.perf_counter()
    back = [gen_record.record.from_bytes(b) for b in blobs]
    t2 = time.perf_counter()
    assert back[N - 1] == recs[N - 1]
    return t1 - t0, t2 - t1, blobs


def run_xdrlib():
    recs = [(i, i * 0.5, NAME, SAMPLES) for i in range(N)]
    t0 = time.perf_counter()
    blobs = []
    for i, v, name, samples in recs:
        p = xdrlib.Packer()
        p.pack_int(i)
        p.pack_double(v)
        p.pack_string(name.encode())
        p.pack_array(samples, p.pack_int)
        blobs.append(p.get_buffer())
    t1 = time.perf_counter()
    back = []
    for b in blobs:
        u = xdrlib.Unpacker(b)
        rec = (u.unpack_int(), u.unpack_double(), u.unpack_string().decode(), u.unpack_array(u.unpack_int))
        u.done()
        back.append(rec)
    t2 = time.perf_counter()
    assert back[N - 1] == (N - 1, (N - 1) * 0.5, NAME, SAMPLES)
    return t1 - t0, t2 - t1, blobs


def one(run, collector):
    """One round of `run`: encode and decode times, and the bytes."""
    gc.collect()
    if not collector:
        gc.disable()
    try:
        return run()
    finally:
        gc.enable()


def best(collector):
    """Best encode and decode times of each side over the rounds, the
    sides taking turns."""
    ge = gd = xe = xd = float("inf")
    for _ in range(ROUNDS):
        e, d, gblobs = one(run_generated, collector)
        ge, gd = min(ge, e), min(gd, d)
        e, d, xblobs = one(run_xdrlib, collector)
        xe, xd = min(xe, e), min(xd, d)
        assert gblobs == xblobs, "generated stubs and xdrlib disagree on the bytes"
    return ge, gd, xe, xd


def report(collector):
    ge, gd, xe, xd = best(collector)
    state = "on" if collector else "off (as timeit)"
    print(f"python: {N} records, encode + decode one by one, best of {ROUNDS}, garbage collector {state}")
    print(f"  xipc gen stubs  encode {ge:7.3f} s  decode {gd:7.3f} s  total {ge + gd:7.3f} s")
    print(f"  stdlib xdrlib   encode {xe:7.3f} s  decode {xd:7.3f} s  total {xe + xd:7.3f} s")
    total = (xe + xd) / (ge + gd)
    print(
        f"  ratio (xdrlib / generated): encode {xe / ge:5.2f}x  decode {xd / gd:5.2f}x"
        f"  total {total:5.2f}x  (target >= {BAR}x)"
    )
    record(f"gen: Python stubs, xdrlib / generated time, collector {state}", total, ">=", BAR)


report(collector=True)
report(collector=False)
