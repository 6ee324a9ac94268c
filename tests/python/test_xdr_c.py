"""The C encoder and decoder (called through ctypes) against xipc.xdr: the
same bytes both ways, and C errors arriving as xipc exceptions."""

import ctypes
import math
import struct
from ctypes import POINTER, byref, c_bool, c_char_p, c_double, c_float, c_int32, c_int64
from ctypes import c_size_t, c_uint32, c_uint64, c_void_p

import pytest
from hypothesis import given, settings, strategies as st

from xipc import _lib, errors, xdr

H = c_void_p  # an encoder or decoder handle
new_encoder = _lib.declare("xipc_encoder_new", [POINTER(H)])
free_encoder = _lib.declare("xipc_encoder_free", [H], None)
encoder_data = _lib.declare("xipc_encoder_data", [H, POINTER(c_void_p), POINTER(c_size_t)])
PUT = {
    "int": _lib.declare("xipc_encoder_put_int", [H, c_int32]),
    "uint": _lib.declare("xipc_encoder_put_uint", [H, c_uint32]),
    "hyper": _lib.declare("xipc_encoder_put_hyper", [H, c_int64]),
    "uhyper": _lib.declare("xipc_encoder_put_uhyper", [H, c_uint64]),
    "float": _lib.declare("xipc_encoder_put_float", [H, c_float]),
    "double": _lib.declare("xipc_encoder_put_double", [H, c_double]),
    "bool": _lib.declare("xipc_encoder_put_bool", [H, c_bool]),
}
put_opaque = _lib.declare("xipc_encoder_put_opaque", [H, c_char_p, c_size_t])
put_double_array = _lib.declare("xipc_encoder_put_double_array", [H, POINTER(c_double), c_size_t])
new_decoder = _lib.declare("xipc_decoder_new", [c_char_p, c_size_t, c_void_p, POINTER(H)])
free_decoder = _lib.declare("xipc_decoder_free", [H], None)
GET = {
    "int": (_lib.declare("xipc_decoder_get_int", [H, POINTER(c_int32)]), c_int32),
    "uint": (_lib.declare("xipc_decoder_get_uint", [H, POINTER(c_uint32)]), c_uint32),
    "hyper": (_lib.declare("xipc_decoder_get_hyper", [H, POINTER(c_int64)]), c_int64),
    "uhyper": (_lib.declare("xipc_decoder_get_uhyper", [H, POINTER(c_uint64)]), c_uint64),
    "float": (_lib.declare("xipc_decoder_get_float", [H, POINTER(c_float)]), c_float),
    "double": (_lib.declare("xipc_decoder_get_double", [H, POINTER(c_double)]), c_double),
    "bool": (_lib.declare("xipc_decoder_get_bool", [H, POINTER(c_bool)]), c_bool),
}
get_opaque_ref = _lib.declare("xipc_decoder_get_opaque_ref",
                              [H, c_uint32, POINTER(c_void_p), POINTER(c_size_t)])
get_double_array = _lib.declare("xipc_decoder_get_double_array",
                                [H, c_uint32, POINTER(c_double), c_size_t, POINTER(c_size_t)])
decoder_finish = _lib.declare("xipc_decoder_finish", [H])


def c_encode(fields, blob, doubles):
    enc = H()
    new_encoder(byref(enc))
    try:
        for kind, value in fields:
            PUT[kind](enc, value)
        put_opaque(enc, blob, len(blob))
        put_double_array(enc, (c_double * len(doubles))(*doubles), len(doubles))
        data, length = c_void_p(), c_size_t()
        encoder_data(enc, byref(data), byref(length))
        return ctypes.string_at(data, length.value) if length.value else b""
    finally:
        free_encoder(enc)


def c_decode(data, kinds):
    dec = H()
    new_decoder(data, len(data), None, byref(dec))
    try:
        values = []
        for kind in kinds:
            get, ctype = GET[kind]
            out = ctype()
            get(dec, byref(out))
            values.append(out.value)
        ptr, n = c_void_p(), c_size_t()
        get_opaque_ref(dec, 0xFFFFFFFF, byref(ptr), byref(n))
        blob = ctypes.string_at(ptr, n.value) if n.value else b""
        out = (c_double * 64)()
        get_double_array(dec, 64, out, 64, byref(n))
        decoder_finish(dec)
        return values, blob, list(out[: n.value])
    finally:
        free_decoder(dec)


FIELDS = st.tuples(
    st.integers(-(2**31), 2**31 - 1), st.integers(0, 2**32 - 1),
    st.integers(-(2**63), 2**63 - 1), st.integers(0, 2**64 - 1),
    st.floats(width=32, allow_nan=False), st.floats(allow_nan=False), st.booleans(),
)
KINDS = ["int", "uint", "hyper", "uhyper", "float", "double", "bool"]


@settings(max_examples=150, deadline=None)
@given(FIELDS, st.binary(max_size=13), st.lists(st.floats(allow_nan=False), max_size=20))
def test_c_and_python_encode_the_same_bytes_and_read_each_other(fields, blob, doubles):
    p = xdr.Packer()
    for kind, value in zip(KINDS, fields):
        getattr(p, "pack_" + kind)(value)
    p.pack_opaque(blob)
    p.pack_double_array(doubles)
    from_python = p.get_buffer()
    from_c = c_encode(list(zip(KINDS, fields)), blob, doubles)
    assert from_c == from_python

    values, got_blob, got_doubles = c_decode(from_python, KINDS)
    assert values[:4] == list(fields[:4]) and values[6] == fields[6]
    assert struct.pack(">f", values[4]) == struct.pack(">f", fields[4])
    assert struct.pack(">d", values[5]) == struct.pack(">d", fields[5])
    assert (got_blob, got_doubles) == (blob, doubles)


def test_c_errors_arrive_as_xipc_exceptions():
    with pytest.raises(errors.MalformedXdr, match="^at byte 0: bool must be 0 or 1, found 2$") as info:
        c_decode(b"\0\0\0\2", ["bool"])
    assert isinstance(info.value, ValueError) and info.value.code == -9
    with pytest.raises(errors.LimitExceeded, match="at byte 0") as info:
        c_decode(b"\xff\xff\xff\xff" + b"\0" * 8, [])
    assert info.value.code == -10
    with pytest.raises(errors.MalformedXdr, match="non-zero padding"):
        c_decode(b"\0\0\0\1a\0\0\1", [])
    with pytest.raises(errors.InvalidArgument, match="out is NULL") as info:
        new_encoder(None)
    assert isinstance(info.value, ValueError) and info.value.code == -1
    encode = _lib.declare("xipc_xdr_encode_doubles", [c_void_p, c_size_t, c_void_p, c_size_t])
    value = c_double(math.pi)
    out = ctypes.create_string_buffer(7)
    with pytest.raises(errors.InvalidArgument, match="do not fill a buffer of 7 bytes"):
        encode(byref(value), 1, out, 7)


def test_status_names_and_unknown_codes():
    assert _lib.lib.xipc_strerror(-9) == b"malformed XDR"
    exc = errors.from_code(-99, "odd")
    assert type(exc) is errors.XipcError and exc.code == -99
    exc = errors.from_code(-30, "open failed", 2)
    assert isinstance(exc, OSError) and exc.errno == 2 and exc.code == -30
    assert isinstance(errors.from_code(-2, "busy"), BlockingIOError)
    assert isinstance(errors.from_code(-3, "late"), TimeoutError)
