"""The bulk methods of xipc.xdr: the same bytes as packing each value with
xdrlib, from every kind of input, and arrays back."""

import math
import struct
import tracemalloc
from array import array

import pytest
from hypothesis import given, settings, strategies as st

from xipc import xdr

# name, array typecode, xdrlib's scalar method, edge values, hypothesis values
KINDS = [
    ("int32", "i", "int", [-(2**31), -1, 0, 1, 2**31 - 1], st.integers(-(2**31), 2**31 - 1)),
    ("uint32", "I", "uint", [0, 1, 2**31, 2**32 - 1], st.integers(0, 2**32 - 1)),
    ("int64", "q", "hyper", [-(2**63), -1, 0, 2**32, 2**63 - 1], st.integers(-(2**63), 2**63 - 1)),
    ("uint64", "Q", "uhyper", [0, 2**32 - 1, 2**63, 2**64 - 1], st.integers(0, 2**64 - 1)),
    ("float", "f", "float", [0.0, -0.0, 1.5, math.inf, -math.inf, 1e-45, 3.4028234663852886e38],
     st.floats(width=32, allow_nan=False)),
    ("double", "d", "double", [0.0, -0.0, 5e-324, math.inf, -math.inf, 1.7976931348623157e308],
     st.floats(allow_nan=False)),
]
IDS = [k[0] for k in KINDS]
OUT_OF_RANGE = {"int32": 2**31, "uint32": -1, "int64": 2**63, "uint64": 2**64}


def reference(stdlib, scalar, values, fixed=False):
    p = stdlib.Packer()
    pack = getattr(p, "pack_" + scalar)
    if fixed:
        p.pack_farray(len(values), values, pack)
    else:
        p.pack_array(values, pack)
    return p.get_buffer()


def inputs(typecode, values):
    """The same values as a list, a tuple, an array, its bytes, a bytearray,
    a read-only memoryview, a generator, and a misaligned copy."""
    arr = array(typecode, values)
    raw = arr.tobytes()
    shifted = bytearray(len(raw) + 1)
    shifted[1:] = raw
    return {
        "list": list(values),
        "tuple": tuple(values),
        "array": arr,
        "bytes": raw,
        "bytearray": bytearray(raw),
        "memoryview": memoryview(raw),
        "typed memoryview": memoryview(arr),
        "generator": (v for v in values),
        "misaligned": memoryview(shifted)[1:],
    }


@pytest.mark.parametrize("name,typecode,scalar,edges,_", KINDS, ids=IDS)
@pytest.mark.parametrize("fixed", [False, True])
def test_bulk_pack_matches_xdrlib_for_every_input_kind(stdlib_xdrlib, name, typecode, scalar,
                                                       edges, _, fixed):
    expected = reference(stdlib_xdrlib, scalar, edges, fixed)
    for label, data in inputs(typecode, edges).items():
        p = xdr.Packer()
        getattr(p, f"pack_{name}_array")(data, fixed=fixed)
        assert p.get_buffer() == expected, label


@pytest.mark.parametrize("name,typecode,scalar,edges,_", KINDS, ids=IDS)
def test_bulk_unpack_from_bytes_bytearray_memoryview(name, typecode, scalar, edges, _):
    p = xdr.Packer()
    p.pack_uint(99)  # so that the array starts at byte 4, not 0
    getattr(p, f"pack_{name}_array")(edges)
    getattr(p, f"pack_{name}_array")(edges, fixed=True)
    data = p.get_buffer()
    for buf in (data, bytearray(data), memoryview(data), memoryview(bytearray(data))):
        u = xdr.Unpacker(buf)
        assert u.unpack_uint() == 99
        var = getattr(u, f"unpack_{name}_array")()
        fixed = getattr(u, f"unpack_{name}_array")(len(edges))
        u.done()
        for got in (var, fixed):
            assert isinstance(got, array) and got.typecode == typecode
            assert got.tobytes() == array(typecode, edges).tobytes()


@pytest.mark.parametrize("name,typecode,scalar,_e,values", KINDS, ids=IDS)
def test_bulk_matches_xdrlib_on_random_values(stdlib_xdrlib, name, typecode, scalar, _e, values):
    @settings(max_examples=60, deadline=None)
    @given(st.lists(values, max_size=50))
    def check(items):
        expected = reference(stdlib_xdrlib, scalar, items)
        p = xdr.Packer()
        getattr(p, f"pack_{name}_array")(items)
        assert p.get_buffer() == expected
        u = xdr.Unpacker(expected)
        assert getattr(u, f"unpack_{name}_array")().tobytes() == array(typecode, items).tobytes()
        theirs = stdlib_xdrlib.Unpacker(expected)
        assert list(getattr(xdr.Unpacker(expected), f"unpack_{name}_array")()) == \
            theirs.unpack_array(getattr(theirs, "unpack_" + scalar))

    check()


def test_nan_payloads_and_empty_arrays_survive():
    nan_bits = [0x7FF8000000000001, 0xFFF0000000000123, 0x7FF8000000000000]
    doubles = array("d", struct.unpack("<3d", struct.pack("<3Q", *nan_bits)))
    p = xdr.Packer()
    p.pack_double_array(doubles)
    p.pack_float_array([math.nan])
    p.pack_int32_array([])
    p.pack_double_array(array("d"), fixed=True)
    data = p.get_buffer()
    assert data[:12] == bytes.fromhex("00000003 7ff80000 00000001")
    u = xdr.Unpacker(data)
    assert u.unpack_double_array().tobytes() == doubles.tobytes()
    assert math.isnan(u.unpack_float_array()[0])
    assert u.unpack_int32_array() == array("i")
    assert u.unpack_double_array(0) == array("d")
    u.done()


def test_mixed_with_scalars_in_one_buffer(stdlib_xdrlib):
    ours, theirs = xdr.Packer(), stdlib_xdrlib.Packer()
    for p in (ours, theirs):
        p.pack_string(b"abc")
    ours.pack_double_array([1.0, 2.0])
    theirs.pack_array([1.0, 2.0], theirs.pack_double)
    for p in (ours, theirs):
        p.pack_int(-1)
    assert ours.get_buffer() == theirs.get_buffer()


@pytest.mark.parametrize("name", list(OUT_OF_RANGE))
def test_out_of_range_and_wrong_types_are_conversion_errors(name):
    pack = getattr(xdr.Packer(), f"pack_{name}_array")
    with pytest.raises(xdr.ConversionError):
        pack([0, OUT_OF_RANGE[name]])
    with pytest.raises(xdr.ConversionError):
        pack([1.5])
    with pytest.raises(xdr.ConversionError):
        pack("text")
    with pytest.raises(xdr.ConversionError, match="not a whole number"):
        pack(b"\0" * 3)


def test_signedness_of_typed_buffers_is_checked():
    with pytest.raises(xdr.ConversionError):
        xdr.Packer().pack_uint32_array(array("i", [-1]))
    p = xdr.Packer()
    p.pack_int64_array(array("i", [-2]), fixed=True)  # converted, not reinterpreted
    assert p.get_buffer() == b"\xff" * 7 + b"\xfe"
    p = xdr.Packer()
    p.pack_double_array(array("f", [0.5]), fixed=True)
    assert p.get_buffer() == struct.pack(">d", 0.5)


def test_numpy_arrays():
    try:
        import numpy as np
    except ImportError:
        pytest.fail("numpy is missing: run make deps (pip install numpy)")
    values = np.arange(6, dtype=np.float64) / 4
    p = xdr.Packer()
    p.pack_double_array(values)
    p.pack_double_array(values[::2], fixed=True)  # strided: converted
    p.pack_int32_array(np.array([-1, 7], dtype=np.int32))
    data = p.get_buffer()
    assert data == (struct.pack(">L6d", 6, *values.tolist()) + struct.pack(">3d", 0, 0.5, 1.0)
                    + struct.pack(">Lii", 2, -1, 7))


def test_unpack_errors_leave_the_position_unchanged():
    data = struct.pack(">L3d", 4, 1.0, 2.0, 3.0)  # claims 4 doubles, holds 3
    u = xdr.Unpacker(data)
    with pytest.raises(EOFError, match="4 items of 8 bytes need 32 bytes at byte 4, but 24 remain"):
        u.unpack_double_array()
    assert u.get_position() == 0
    with pytest.raises(EOFError):
        u.unpack_double_array(4)
    with pytest.raises(ValueError):
        u.unpack_double_array(-1)
    assert u.unpack_uint32_array(1) == array("I", [4])
    assert u.unpack_double_array(3) == array("d", [1.0, 2.0, 3.0])
    u.done()


@pytest.mark.parametrize("name", IDS)
def test_huge_count_on_12_bytes_allocates_nothing(name):
    hostile = b"\xff\xff\xff\xff" + b"\0" * 8
    tracemalloc.start()
    try:
        with pytest.raises(EOFError, match="4294967295 items"):
            getattr(xdr.Unpacker(hostile), f"unpack_{name}_array")()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 16


def test_big_endian_bytes_on_the_wire():
    p = xdr.Packer()
    p.pack_uint32_array([0x01020304], fixed=True)
    p.pack_int64_array([0x0102030405060708], fixed=True)
    assert p.get_buffer() == bytes(range(1, 5)) + bytes(range(1, 9))
