"""xipc.xdr's Packer and Unpacker against the stdlib xdrlib of Python 3.11:
the same bytes, values, positions and exceptions for the same calls."""

import math
import re
import struct
import tracemalloc

import pytest
from hypothesis import given, settings, strategies as st

import xipc
from xipc import xdr

# The RFC 4506 section 7 example: a file "sillyprog" of type EXEC with
# interpreter "lisp", owned by "john", holding "(quit)".
RFC_FILE = bytes.fromhex(
    "00000009 73696c6c 7970726f 67000000"
    "00000002 00000004 6c697370 00000004"
    "6a6f686e 00000006 28717569 74290000"
)

INT32 = (-(2**31), -1, 0, 1, 2**31 - 1)
UINT32 = (0, 1, 2**31, 2**32 - 1)
INT64 = (-(2**63), -(2**32), -1, 0, 2**32, 2**63 - 1)
UINT64 = (0, 2**32 - 1, 2**32, 2**63, 2**64 - 1)
FLOATS = (0.0, -0.0, 1.5, -2.25, math.inf, -math.inf, math.nan, 5e-324,
          1.7976931348623157e308, 3.4028234663852886e38, 1e-45, 1e300)
BAD = (None, "7", b"7", 1.5, [1], 2**32, -(2**31) - 1, 2**64, -(2**63) - 1)


def outcome(call, *args):
    """What a call did: its result, or the class and message it raised."""
    try:
        return ("returned", repr(call(*args)))
    except Exception as exc:  # noqa: BLE001 - every exception is compared
        return ("raised", type(exc), str(exc))


def same_outcome(ours, theirs, stdlib):
    """Asserts two outcomes match; an xdrlib exception matches the xipc.xdr
    class of the same name."""
    if theirs[0] == "raised" and ours[0] == "raised":
        expected = theirs[1]
        if expected.__module__ == "xdrlib":
            expected = getattr(xdr, expected.__name__)
        if expected is EOFError and theirs[2] == "":
            # xdrlib's EOFError says nothing; ours says what it wanted, where.
            assert ours[1] is EOFError
            assert re.fullmatch(r"\d+ bytes wanted at byte -?\d+, but only \d+ remain", ours[2]), ours
            return
        assert (ours[1], ours[2]) == (expected, theirs[2])
    else:
        assert ours == theirs


def check_pack(stdlib, method, *args):
    ours, theirs = xdr.Packer(), stdlib.Packer()
    ours.pack_uint(7)
    theirs.pack_uint(7)
    same_outcome(outcome(getattr(ours, method), *args),
                 outcome(getattr(theirs, method), *args), stdlib)
    assert ours.get_buffer() == theirs.get_buffer()
    assert ours.get_buf() == theirs.get_buf()


def check_unpack(stdlib, data, steps):
    """Runs the same steps on both unpackers, comparing each outcome and
    position."""
    ours, theirs = xdr.Unpacker(data), stdlib.Unpacker(data)
    for method, *args in steps:
        same_outcome(outcome(getattr(ours, method), *args),
                     outcome(getattr(theirs, method), *args), stdlib)
        assert ours.get_position() == theirs.get_position(), (method, args)
    same_outcome(outcome(ours.done), outcome(theirs.done), stdlib)


# --- packing, edge values -------------------------------------------------

@pytest.mark.parametrize("method,values", [
    ("pack_uint", UINT32 + INT32 + BAD),
    ("pack_int", INT32 + UINT32 + BAD),
    ("pack_enum", INT32 + BAD),
    ("pack_uhyper", UINT64 + INT64 + BAD),
    ("pack_hyper", INT64 + UINT64 + BAD),
    ("pack_float", FLOATS + BAD),
    ("pack_double", FLOATS + BAD),
    ("pack_bool", (True, False, 0, 1, 2, -1, None, "", "x", [], [0])),
    ("pack_string", (b"", b"a", b"ab", b"abc", b"abcd", b"abcde", bytearray(b"xyz"),
                     "text", memoryview(b"ab"), None, 5, [1, 2])),
    ("pack_opaque", (b"", b"\0\1\2", "s")),
    ("pack_bytes", (b"", b"12345678", "s")),
])
def test_pack_edge_values_match_xdrlib(stdlib_xdrlib, method, values):
    for value in values:
        check_pack(stdlib_xdrlib, method, value)


@pytest.mark.parametrize("n", [-1, 0, 1, 2, 3, 4, 5, 7, 8, 9])
@pytest.mark.parametrize("data", [b"", b"a", b"abc", b"abcd", b"abcdefghi",
                                  bytearray(b"xy"), "str", memoryview(b"abcd")])
def test_pack_fstring_matches_xdrlib(stdlib_xdrlib, n, data):
    check_pack(stdlib_xdrlib, "pack_fstring", n, data)
    check_pack(stdlib_xdrlib, "pack_fopaque", n, data)


def test_pack_fstring_rejects_non_integer_size(stdlib_xdrlib):
    check_pack(stdlib_xdrlib, "pack_fstring", 1.5, b"abc")
    check_pack(stdlib_xdrlib, "pack_fstring", None, b"abc")


@pytest.mark.parametrize("items", [[], [1], [1, 2, 3], [0, 2**32 - 1], [1, -1], [1, "x"]])
def test_pack_lists_and_arrays_match_xdrlib(stdlib_xdrlib, items):
    for ours, theirs in [(xdr.Packer(), stdlib_xdrlib.Packer())]:
        for call in (
            lambda p: p.pack_list(items, p.pack_uint),
            lambda p: p.pack_array(items, p.pack_uint),
            lambda p: p.pack_farray(len(items), items, p.pack_uint),
            lambda p: p.pack_farray(len(items) + 1, items, p.pack_uint),
            lambda p: p.pack_array(items, p.pack_string),
        ):
            same_outcome(outcome(call, ours), outcome(call, theirs), stdlib_xdrlib)
            assert ours.get_buffer() == theirs.get_buffer()


def test_reset_and_get_buffer(stdlib_xdrlib):
    p = xdr.Packer()
    assert p.get_buffer() == b""
    p.pack_int(1)
    assert p.get_buffer() == b"\0\0\0\1"
    p.pack_int(2)
    assert p.get_buffer() == b"\0\0\0\1\0\0\0\2"
    p.reset()
    assert p.get_buffer() == b""
    p.pack_bool(True)
    assert p.get_buf() == b"\0\0\0\1"


# --- packing, random values -----------------------------------------------

anything = st.one_of(st.integers(-(2**70), 2**70), st.floats(), st.none(), st.text(max_size=3),
                     st.binary(max_size=3), st.booleans())


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["pack_uint", "pack_int", "pack_enum", "pack_uhyper", "pack_hyper",
                        "pack_float", "pack_double", "pack_bool"]),
       st.one_of(st.integers(-(2**65), 2**65), st.integers(-(2**31), 2**32), anything))
def test_pack_scalars_match_xdrlib_on_random_values(stdlib_xdrlib, method, value):
    check_pack(stdlib_xdrlib, method, value)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40), st.integers(-1, 45))
def test_pack_strings_match_xdrlib_on_random_values(stdlib_xdrlib, data, n):
    check_pack(stdlib_xdrlib, "pack_string", data)
    check_pack(stdlib_xdrlib, "pack_fstring", n, data)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(allow_nan=False), max_size=20), st.lists(st.binary(max_size=9), max_size=5))
def test_pack_compound_matches_xdrlib_on_random_values(stdlib_xdrlib, doubles, blobs):
    ours, theirs = xdr.Packer(), stdlib_xdrlib.Packer()
    for p in (ours, theirs):
        p.pack_array(doubles, p.pack_double)
        p.pack_list(blobs, p.pack_opaque)
        p.pack_farray(len(blobs), blobs, p.pack_bytes)
    assert ours.get_buffer() == theirs.get_buffer()


# --- unpacking ----------------------------------------------------------------

UNPACK_STEPS = st.one_of(
    st.tuples(st.sampled_from([
        "unpack_uint", "unpack_int", "unpack_enum", "unpack_bool", "unpack_uhyper",
        "unpack_hyper", "unpack_float", "unpack_double", "unpack_string",
        "unpack_opaque", "unpack_bytes", "get_position", "get_buffer"])),
    st.tuples(st.sampled_from(["unpack_fstring", "unpack_fopaque"]), st.integers(-1, 12)),
    st.tuples(st.just("set_position"), st.integers(-16, 40)),
)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=40), st.lists(UNPACK_STEPS, max_size=8))
def test_unpack_matches_xdrlib_on_random_bytes(stdlib_xdrlib, data, steps):
    check_unpack(stdlib_xdrlib, data, steps)


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_unpack_edge_values_match_xdrlib(stdlib_xdrlib, kind):
    p = stdlib_xdrlib.Packer()
    for v in INT32:
        p.pack_int(v)
    for v in UINT64:
        p.pack_uhyper(v)
    for v in FLOATS[:-1]:
        p.pack_double(v)
    for v in (0.0, -0.0, math.inf, -math.inf, math.nan, 1e-45):
        p.pack_float(v)
    for s in (b"", b"a", b"ab", b"abc", b"abcd"):
        p.pack_string(s)
    data = kind(p.get_buffer())
    steps = ([("unpack_int",)] * len(INT32) + [("unpack_uhyper",)] * len(UINT64)
             + [("unpack_double",)] * (len(FLOATS) - 1) + [("unpack_float",)] * 6
             + [("unpack_string",)] * 5 + [("unpack_uint",)])
    check_unpack(stdlib_xdrlib, data, steps)
    u = xdr.Unpacker(data)
    assert [u.unpack_int() for _ in INT32] == list(INT32)
    assert [u.unpack_uhyper() for _ in UINT64] == list(UINT64)


def test_unpack_hyper_signs(stdlib_xdrlib):
    p = xdr.Packer()
    for v in INT64:
        p.pack_hyper(v)
    check_unpack(stdlib_xdrlib, p.get_buffer(), [("unpack_hyper",)] * (len(INT64) + 1))


def test_unpack_list_array_farray_match_xdrlib(stdlib_xdrlib):
    p = stdlib_xdrlib.Packer()
    p.pack_list([1, 2, 3], p.pack_uint)
    p.pack_array([b"ab", b"cde"], p.pack_string)
    p.pack_farray(2, [4, 5], p.pack_int)
    data = p.get_buffer()
    for u in (xdr.Unpacker(data), stdlib_xdrlib.Unpacker(data)):
        assert u.unpack_list(u.unpack_uint) == [1, 2, 3]
        assert u.unpack_array(u.unpack_string) == [b"ab", b"cde"]
        assert u.unpack_farray(2, u.unpack_int) == [4, 5]
        u.done()
    # A presence flag other than 0 or 1.
    bad = b"\0\0\0\1\0\0\0\7\0\0\0\2"
    check_unpack(stdlib_xdrlib, bad, [("unpack_uint",), ("set_position", 0)])
    ours, theirs = xdr.Unpacker(bad), stdlib_xdrlib.Unpacker(bad)
    same_outcome(outcome(ours.unpack_list, ours.unpack_uint),
                 outcome(theirs.unpack_list, theirs.unpack_uint), stdlib_xdrlib)
    with pytest.raises(xdr.ConversionError, match="0 or 1 expected, got 7"):
        xdr.Unpacker(bad).unpack_list(lambda: 0)


def test_done_and_reset(stdlib_xdrlib):
    u = xdr.Unpacker(b"\0\0\0\5")
    with pytest.raises(xdr.Error) as info:
        u.done()
    assert info.value.msg == "unextracted data remains"
    assert str(info.value) == "unextracted data remains"
    assert repr(info.value) == repr("unextracted data remains")
    assert u.unpack_uint() == 5
    u.done()
    u.reset(b"\0\0\0\6")
    assert (u.get_position(), u.unpack_int(), u.get_buffer()) == (0, 6, b"\0\0\0\6")


# --- exceptions -------------------------------------------------------------

def test_exception_hierarchy():
    assert issubclass(xdr.Error, xipc.XipcError)
    assert issubclass(xdr.Error, ValueError)
    assert issubclass(xdr.ConversionError, xdr.Error)
    assert issubclass(xdr.DepthExceeded, xdr.Error)
    assert issubclass(xdr.DepthExceeded, RecursionError)
    with pytest.raises(xdr.ConversionError) as info:
        xdr.Packer().pack_uint(-1)
    try:
        struct.pack(">L", -1)
    except struct.error as exc:
        assert info.value.msg == exc.args[0]


# --- the RFC example ----------------------------------------------------------

def pack_file(p, name, kind, arm, owner, data):
    p.pack_string(name)
    p.pack_enum(kind)
    if kind != 0:
        p.pack_string(arm)
    p.pack_string(owner)
    p.pack_opaque(data)


def test_rfc4506_file_example(stdlib_xdrlib):
    for p in (xdr.Packer(), stdlib_xdrlib.Packer()):
        pack_file(p, b"sillyprog", 2, b"lisp", b"john", b"(quit)")
        assert p.get_buffer() == RFC_FILE
        assert len(p.get_buffer()) == 48
    u = xdr.Unpacker(RFC_FILE, strict=True)
    assert u.unpack_string() == b"sillyprog"
    assert u.unpack_enum() == 2
    assert u.unpack_string() == b"lisp"
    assert u.unpack_string() == b"john"
    assert u.unpack_opaque() == b"(quit)"
    u.done()


# --- hostile input ---------------------------------------------------------------

HUGE = b"\xff\xff\xff\xff" + b"\0" * 8  # a length of 2**32 - 1 on a 12-byte buffer


@pytest.mark.parametrize("method", ["unpack_string", "unpack_opaque", "unpack_bytes"])
def test_huge_length_on_short_input_is_eof_without_allocation(stdlib_xdrlib, method):
    tracemalloc.start()
    try:
        with pytest.raises(EOFError):
            getattr(xdr.Unpacker(HUGE), method)()
        with pytest.raises(EOFError):
            xdr.Unpacker(HUGE).unpack_fstring(2**32 - 1)
        u = xdr.Unpacker(HUGE)
        with pytest.raises(EOFError):
            u.unpack_array(u.unpack_uint)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
    check_unpack(stdlib_xdrlib, HUGE, [(method,), ("get_position",)])


def test_deep_nesting_is_a_clear_error(stdlib_xdrlib):
    data = b"\0\0\0\1" * 100_000

    def nested(u):
        def item():
            return u.unpack_list(item)
        return item

    u = xdr.Unpacker(data)
    with pytest.raises(xdr.DepthExceeded, match="nesting deeper than 256 at byte 1024"):
        u.unpack_list(nested(u))
    assert u._depth == 0  # unwound cleanly: the unpacker stays usable
    # xdrlib overflows the interpreter stack on the same input: the same class.
    theirs = stdlib_xdrlib.Unpacker(data)
    with pytest.raises(RecursionError):
        theirs.unpack_list(nested(theirs))
    shallow = xdr.Unpacker(b"\0\0\0\1" * 3 + b"\0\0\0\0" * 4, max_depth=4)
    assert shallow.unpack_list(nested(shallow)) == [[[[]]]]
    with pytest.raises(xdr.DepthExceeded):
        u = xdr.Unpacker(b"\0\0\0\1" * 8, max_depth=2)
        u.unpack_array(lambda: u.unpack_farray(1, lambda: u.unpack_list(u.unpack_uint)))


def test_every_truncation_of_the_rfc_example_is_eof(stdlib_xdrlib):
    steps = [("unpack_string",), ("unpack_enum",), ("unpack_string",),
             ("unpack_string",), ("unpack_opaque",)]
    for cut in range(len(RFC_FILE)):
        short = RFC_FILE[:cut]
        with pytest.raises(EOFError):
            u = xdr.Unpacker(short)
            for method, *args in steps:
                getattr(u, method)(*args)
        check_unpack(stdlib_xdrlib, short, steps)


def test_non_zero_padding_and_bool_two():
    padded = b"\0\0\0\1a\0\1\0"
    # Drop-in by default: accepted as xdrlib accepts them.
    assert xdr.Unpacker(padded).unpack_string() == b"a"
    assert xdr.Unpacker(b"\0\0\0\2").unpack_bool() is True
    assert xdr.Unpacker(b"a\0\0\1").unpack_fstring(1) == b"a"
    # Strict: RFC 4506's rules, with the byte offset.
    with pytest.raises(xdr.ConversionError, match="non-zero padding at byte 5"):
        xdr.Unpacker(padded, strict=True).unpack_string()
    with pytest.raises(xdr.ConversionError, match="non-zero padding at byte 1"):
        xdr.Unpacker(b"a\0\0\1", strict=True).unpack_fopaque(1)
    with pytest.raises(xdr.ConversionError, match="bool must be 0 or 1, found 2 at byte 0"):
        xdr.Unpacker(b"\0\0\0\2", strict=True).unpack_bool()
    strict = xdr.Unpacker(b"\0\0\0\1\0\0\0\0", strict=True)
    assert (strict.unpack_bool(), strict.unpack_bool()) == (True, False)
    with pytest.raises(ValueError):  # decoding errors are ValueErrors too
        xdr.Unpacker(b"\xff\xff\xff\xff", strict=True).unpack_bool()


# --- round trips -----------------------------------------------------------------

@settings(max_examples=150, deadline=None)
@given(st.integers(-(2**31), 2**31 - 1), st.integers(0, 2**32 - 1),
       st.integers(-(2**63), 2**63 - 1), st.integers(0, 2**64 - 1),
       st.floats(width=32), st.floats(), st.booleans(), st.binary(max_size=33),
       st.lists(st.integers(0, 2**32 - 1), max_size=6))
def test_round_trip(i, u, h, uh, f, d, b, s, items):
    p = xdr.Packer()
    p.pack_int(i)
    p.pack_uint(u)
    p.pack_hyper(h)
    p.pack_uhyper(uh)
    p.pack_float(f)
    p.pack_double(d)
    p.pack_bool(b)
    p.pack_string(s)
    p.pack_fstring(len(s), s)
    p.pack_list(items, p.pack_uint)
    p.pack_array(items, p.pack_uint)
    data = p.get_buffer()
    assert len(data) % 4 == 0
    up = xdr.Unpacker(data, strict=True)
    assert up.unpack_int() == i
    assert up.unpack_uint() == u
    assert up.unpack_hyper() == h
    assert up.unpack_uhyper() == uh
    assert struct.pack(">f", up.unpack_float()) == struct.pack(">f", f)
    assert struct.pack(">d", up.unpack_double()) == struct.pack(">d", d)
    assert up.unpack_bool() is b
    assert up.unpack_string() == s
    assert up.unpack_fstring(len(s)) == s
    assert up.unpack_list(up.unpack_uint) == items
    assert up.unpack_array(up.unpack_uint) == items
    up.done()


@pytest.mark.parametrize("data, read, message", [
    # A string of 5 bytes (8 with padding) of which 3 arrived.
    (b"\0\0\0\5abc", lambda u: u.unpack_string(), "8 bytes wanted at byte 4, but only 3 remain"),
    (b"\0\0", lambda u: u.unpack_int(), "4 bytes wanted at byte 0, but only 2 remain"),
    (b"\0\0\0\1\0", lambda u: (u.unpack_uint(), u.unpack_double()),
     "8 bytes wanted at byte 4, but only 1 remain"),
    (b"ab", lambda u: u.unpack_fopaque(6), "8 bytes wanted at byte 0, but only 2 remain"),
    (b"\0\0\0\0\0\0", lambda u: u.unpack_hyper(), "4 bytes wanted at byte 4, but only 2 remain"),
])
def test_eof_says_what_was_wanted_and_where(data, read, message):
    with pytest.raises(EOFError) as info:
        read(xdr.Unpacker(data))
    assert str(info.value) == message
