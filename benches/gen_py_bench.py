"""Python side of benches/gen.sh: 100,000 records of (int, double, 16-byte
string, 8 ints) encoded and decoded one by one through the module xipc gen
generated, and through the standard library's xdrlib field by field.

Each side runs three times, interleaved, and the best time of each phase
counts (the machine may be busy). Decoding keeps 100,000 new objects alive
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

N = 100_000
ROUNDS = 3
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


def best(run, collector):
    """Best encode and decode times over the rounds, and the bytes."""
    enc = dec = float("inf")
    blobs = None
    for _ in range(ROUNDS):
        gc.collect()
        if not collector:
            gc.disable()
        try:
            e, d, blobs = run()
        finally:
            gc.enable()
        enc, dec = min(enc, e), min(dec, d)
    return enc, dec, blobs


def report(collector):
    ge, gd, gblobs = best(run_generated, collector)
    xe, xd, xblobs = best(run_xdrlib, collector)
    assert gblobs == xblobs, "generated stubs and xdrlib disagree on the bytes"
    state = "on" if collector else "off (as timeit)"
    print(f"python: {N} records, encode + decode one by one, best of {ROUNDS}, garbage collector {state}")
    print(f"  xipc gen stubs  encode {ge:7.3f} s  decode {gd:7.3f} s  total {ge + gd:7.3f} s")
    print(f"  stdlib xdrlib   encode {xe:7.3f} s  decode {xd:7.3f} s  total {xe + xd:7.3f} s")
    print(
        f"  ratio (xdrlib / generated): encode {xe / ge:5.2f}x  decode {xd / gd:5.2f}x"
        f"  total {(xe + xd) / (ge + gd):5.2f}x  (target >= 3x)"
    )


report(collector=True)
report(collector=False)
