"""XDR (RFC 4506) for Python: a drop-in replacement for the standard library's
``xdrlib`` (deprecated in Python 3.11, removed in 3.13), plus bulk methods
that move a whole numeric array at once.

Old code switches with one import::

    from xipc import xdr as xdrlib

:class:`Packer` and :class:`Unpacker` have xdrlib's methods, produce and accept
the same bytes, and raise the same exceptions for the same inputs:
:class:`Error` and :class:`ConversionError` where xdrlib raises its own,
``EOFError`` on short data, ``ValueError``/``TypeError``/``OverflowError``
where xdrlib lets those through. Here :class:`Error` also derives from
:class:`xipc.XipcError` and ``ValueError``.

The scalar methods are plain Python over precompiled :class:`struct.Struct`
objects (a call into C per value would cost more than the value). The bulk
methods (``pack_double_array`` and friends) convert a whole array in one call
into the xipc library.

xipc additions, all opt-in or new names, so xdrlib code sees no difference:

- ``Unpacker(data, strict=True)``: a ``bool`` other than 0 or 1 and non-zero
  padding after opaque data are errors (:class:`ConversionError`, with the byte
  offset), as RFC 4506 requires; xdrlib accepts both.
- ``Unpacker(data, max_depth=N)``: nested ``unpack_list``/``unpack_array``/
  ``unpack_farray`` calls deeper than N (default 256) raise
  :class:`DepthExceeded`, which is also a ``RecursionError`` — what xdrlib
  raises, later, on input nested too deeply.
- ``pack_int32_array``, ``pack_uint32_array``, ``pack_int64_array``,
  ``pack_uint64_array``, ``pack_float_array``, ``pack_double_array``, each
  ``(data, fixed=False)``, and the matching ``unpack_*_array(n=None)``.
"""

from __future__ import annotations

import ctypes
import struct
import sys
from array import array
from typing import TYPE_CHECKING, Any, Callable, Iterable, List, Optional, Sequence, TypeVar, Union

from . import _lib
from .errors import XipcError

if TYPE_CHECKING:
    # The buffer protocol (collections.abc.Buffer from Python 3.12); only
    # the type checker reads this, through its bundled typing_extensions.
    from typing_extensions import Buffer

_T = TypeVar("_T")
_N = TypeVar("_N", int, float)
# What a Packer holds until get_buffer joins it.
_Chunk = Union[bytes, bytearray, "array[Any]"]

__all__ = ["Error", "ConversionError", "DepthExceeded", "Packer", "Unpacker"]


class Error(XipcError, ValueError):
    """The error of this module, as ``xdrlib.Error``: ``msg`` holds the message."""

    def __init__(self, msg: str) -> None:
        XipcError.__init__(self, msg)
        self.msg = msg

    def __repr__(self) -> str:
        return repr(self.msg)

    def __str__(self) -> str:
        return str(self.msg)


class ConversionError(Error):
    """A value that XDR cannot carry, or bytes that are not the XDR expected."""


class DepthExceeded(Error, RecursionError):
    """Nested arrays or lists deeper than the unpacker's ``max_depth``."""


_struct_error = struct.error
_pack_uint = struct.Struct(">L").pack
_pack_int = struct.Struct(">l").pack
_pack_2uint = struct.Struct(">LL").pack
_pack_float = struct.Struct(">f").pack
_pack_double = struct.Struct(">d").pack
# (The annotations tell the type checker what each unpacks; unpack_from
# itself is typed as returning tuple[Any, ...].)
_unpack_uint: Callable[..., tuple[int]] = struct.Struct(">L").unpack_from
_unpack_int: Callable[..., tuple[int]] = struct.Struct(">l").unpack_from
_unpack_uhyper: Callable[..., tuple[int]] = struct.Struct(">Q").unpack_from
_unpack_hyper: Callable[..., tuple[int]] = struct.Struct(">q").unpack_from
_unpack_float: Callable[..., tuple[float]] = struct.Struct(">f").unpack_from
_unpack_double: Callable[..., tuple[float]] = struct.Struct(">d").unpack_from

_TRUE = b"\0\0\0\1"
_FALSE = b"\0\0\0\0"
# Zero padding by its length, which is -n & 3 after n bytes of opaque data.
_PADDING = (b"", b"\0", b"\0\0", b"\0\0\0")

DEFAULT_MAX_DEPTH = 256


def _eof(wanted: int, offset: int, size: int) -> EOFError:
    """The EOFError of a read past the end: what it wanted, and where."""
    left = max(size - offset, 0) if offset >= 0 else 0
    return EOFError(f"{wanted} bytes wanted at byte {offset}, but only {left} remain")


class _Kind:
    """One numeric type of the bulk methods: its array typecode, size, the
    struct format characters of buffers that hold it natively, and the C
    converters."""

    __slots__ = ("typecode", "size", "formats", "encode", "decode", "zeros")

    def __init__(self, typecode: str, formats: str, c_name: str) -> None:
        self.typecode = typecode
        self.size = array(typecode).itemsize
        self.formats = formats
        args = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t]
        self.encode = _lib.declare(f"xipc_xdr_encode_{c_name}", args)
        self.decode = _lib.declare(f"xipc_xdr_decode_{c_name}", args)
        self.zeros = array(typecode, [0])


_INT32 = _Kind("i", "bhilqn", "ints")
_UINT32 = _Kind("I", "BHILQN", "uints")
_INT64 = _Kind("q", "bhilqn", "hypers")
_UINT64 = _Kind("Q", "BHILQN", "uhypers")
_FLOAT = _Kind("f", "f", "floats")
_DOUBLE = _Kind("d", "d", "doubles")
assert (_INT32.size, _INT64.size, _FLOAT.size, _DOUBLE.size) == (4, 8, 4, 8)

_LITTLE = sys.byteorder == "little"
_NATIVE_PREFIXES = "@=" + ("<" if _LITTLE else ">!")
_RAW_FORMATS = ("B", "b", "c")


def _native_bytes(kind: _Kind, data: object) -> Optional[memoryview]:
    """A flat byte view of ``data`` when it already holds native values of
    ``kind`` (or is raw bytes of them), else None."""
    if type(data) is array and data.typecode == kind.typecode:
        return memoryview(data).cast("B")
    try:
        view = memoryview(data)  # type: ignore[arg-type]  # any object: TypeError if not a buffer
    except TypeError:
        return None
    fmt = view.format
    if fmt in _RAW_FORMATS:
        if not view.c_contiguous:
            view = memoryview(view.tobytes())
        view = view.cast("B")
        if view.nbytes % kind.size:
            raise ConversionError(
                f"{view.nbytes} bytes are not a whole number of {kind.size}-byte items"
            )
        return view
    if (
        view.itemsize == kind.size
        and view.c_contiguous
        and fmt.lstrip(_NATIVE_PREFIXES) in kind.formats
        and len(fmt.lstrip(_NATIVE_PREFIXES)) == 1
    ):
        return view.cast("B")
    return None


def _encode(kind: _Kind, data: object) -> tuple[_Chunk, int]:
    """The XDR bytes of the values in ``data`` and their count."""
    view = _native_bytes(kind, data)
    if view is None:
        try:
            view = memoryview(array(kind.typecode, data)).cast("B")  # type: ignore[call-overload]
        except (TypeError, OverflowError) as exc:
            raise ConversionError(str(exc)) from None
    nbytes = view.nbytes
    count = nbytes // kind.size
    if count == 0:
        return b"", 0
    if not view.readonly:
        source = (ctypes.c_char * nbytes).from_buffer(view)
        if ctypes.addressof(source) % kind.size == 0:
            out = bytearray(nbytes)
            kind.encode(source, count, (ctypes.c_char * nbytes).from_buffer(out), nbytes)
            return out, count
    # Read-only or misaligned: copy, then swap the copy in place.
    values = array(kind.typecode)
    values.frombytes(view)
    if _LITTLE:
        values.byteswap()
    return values, count


def _decode(kind: _Kind, buf: Any, start: int, count: int) -> array[Any]:
    """``count`` values of ``kind`` from the XDR at ``buf[start:]`` (which
    holds them all) as an array."""
    nbytes = count * kind.size
    if count == 0:
        return array(kind.typecode)
    source: Any
    if type(buf) is bytes:
        # The address of the bytes object's data (ctypes passes bytes as char *).
        source = (ctypes.cast(buf, ctypes.c_void_p).value or 0) + start  # type: ignore[arg-type]
    else:
        try:
            source = (ctypes.c_char * nbytes).from_buffer(buf, start)
        except (TypeError, ValueError):  # read-only or not a plain buffer
            source = None
    if source is None:
        out = array(kind.typecode)
        out.frombytes(memoryview(buf).cast("B")[start:start + nbytes])
        if _LITTLE:
            out.byteswap()
        return out
    out = kind.zeros * count
    kind.decode(source, nbytes, out.buffer_info()[0], count)
    return out


class Packer:
    """Packs values into XDR bytes, as ``xdrlib.Packer``."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forgets everything packed so far."""
        self._parts: List[_Chunk] = []
        self._append = self._parts.append

    def get_buffer(self) -> bytes:
        """The bytes packed so far."""
        parts = self._parts
        first = parts[0] if len(parts) == 1 else None
        if type(first) is bytes:
            return first
        data = b"".join(parts)
        parts[:] = [data]
        return data

    get_buf = get_buffer

    def pack_uint(self, x: int) -> None:
        try:
            self._append(_pack_uint(x))
        except _struct_error as exc:
            raise ConversionError(exc.args[0]) from None

    def pack_int(self, x: int) -> None:
        try:
            self._append(_pack_int(x))
        except _struct_error as exc:
            raise ConversionError(exc.args[0]) from None

    pack_enum = pack_int

    def pack_bool(self, x: bool) -> None:
        self._append(_TRUE if x else _FALSE)

    def pack_uhyper(self, x: int) -> None:
        # Like xdrlib, any integer is taken modulo 2**64.
        try:
            self._append(_pack_2uint(x >> 32 & 0xFFFFFFFF, x & 0xFFFFFFFF))
        except (TypeError, _struct_error) as exc:
            raise ConversionError(exc.args[0]) from None

    pack_hyper = pack_uhyper

    def pack_float(self, x: float) -> None:
        try:
            self._append(_pack_float(x))
        except _struct_error as exc:
            raise ConversionError(exc.args[0]) from None

    def pack_double(self, x: float) -> None:
        try:
            self._append(_pack_double(x))
        except _struct_error as exc:
            raise ConversionError(exc.args[0]) from None

    def pack_fstring(self, n: int, s: bytes) -> None:
        """Packs ``opaque[n]``: the first ``n`` bytes of ``s``, zero-filled
        to ``n`` and padded to a multiple of 4."""
        if n < 0:
            raise ValueError("fstring size must be nonnegative")
        data = s[:n]
        self._append(data + b"\0" * (n - len(data) + (-n & 3)))

    pack_fopaque = pack_fstring

    def pack_string(self, s: bytes) -> None:
        """Packs ``opaque<>``/``string<>``: the length, the bytes, padding."""
        n = len(s)
        try:
            head = _pack_uint(n)
        except _struct_error as exc:
            raise ConversionError(exc.args[0]) from None
        try:
            body = s[:n] + _PADDING[-n & 3]
        except TypeError:
            self._append(head)  # xdrlib has written the length when it fails
            raise
        self._append(head)
        self._append(body)

    pack_opaque = pack_string
    pack_bytes = pack_string

    def pack_list(self, list: Iterable[_T], pack_item: Callable[[_T], object]) -> None:
        """Packs each item behind a 1, then a 0 (optional-data chaining)."""
        append = self._append
        for item in list:
            append(_TRUE)
            pack_item(item)
        append(_FALSE)

    def pack_farray(self, n: int, list: Sequence[_T], pack_item: Callable[[_T], object]) -> None:
        """Packs ``T[n]``: exactly ``n`` items, no count."""
        if len(list) != n:
            raise ValueError("wrong array size")
        for item in list:
            pack_item(item)

    def pack_array(self, list: Sequence[_T], pack_item: Callable[[_T], object]) -> None:
        """Packs ``T<>``: the count, then the items."""
        n = len(list)
        self.pack_uint(n)
        self.pack_farray(n, list, pack_item)

    # Bulk methods: a whole array in one call. ``data`` is any sequence of
    # numbers, or a buffer (array.array, numpy array, memoryview) of native
    # values; untyped bytes are taken as the raw memory of native values.
    # ``fixed=True`` packs ``T[n]`` (no count), else ``T<>``.

    def _pack_bulk(self, kind: _Kind, data: object, fixed: bool) -> None:
        encoded, count = _encode(kind, data)
        if not fixed:
            self.pack_uint(count)
        self._append(encoded)

    def pack_int32_array(self, data: Iterable[int] | Buffer, fixed: bool = False) -> None:
        self._pack_bulk(_INT32, data, fixed)

    def pack_uint32_array(self, data: Iterable[int] | Buffer, fixed: bool = False) -> None:
        self._pack_bulk(_UINT32, data, fixed)

    def pack_int64_array(self, data: Iterable[int] | Buffer, fixed: bool = False) -> None:
        self._pack_bulk(_INT64, data, fixed)

    def pack_uint64_array(self, data: Iterable[int] | Buffer, fixed: bool = False) -> None:
        self._pack_bulk(_UINT64, data, fixed)

    def pack_float_array(self, data: Iterable[float] | Buffer, fixed: bool = False) -> None:
        """Doubles beyond float's range become infinities, as in C."""
        self._pack_bulk(_FLOAT, data, fixed)

    def pack_double_array(self, data: Iterable[float] | Buffer, fixed: bool = False) -> None:
        self._pack_bulk(_DOUBLE, data, fixed)


class Unpacker:
    """Unpacks values from XDR bytes, as ``xdrlib.Unpacker``.

    ``strict`` and ``max_depth`` are xipc additions (see the module's
    documentation); with the defaults every input gives what xdrlib gives.
    """

    def __init__(self, data: bytes, *, strict: bool = False,
                 max_depth: int | None = DEFAULT_MAX_DEPTH) -> None:
        self._strict = strict
        self._max_depth = max_depth
        self.reset(data)

    def reset(self, data: bytes) -> None:
        self._buf = data
        self._pos = 0
        self._depth = 0

    def get_position(self) -> int:
        return self._pos

    def set_position(self, position: int) -> None:
        self._pos = position

    def get_buffer(self) -> bytes:
        return self._buf

    def done(self) -> None:
        if self._pos < len(self._buf):
            raise Error("unextracted data remains")

    def _short(self, i: int, j: int, unpack: Callable[..., tuple[_N]]) -> _N:
        # Past the end, or a negative position (which xdrlib, slicing,
        # counts from the end): do exactly what xdrlib does.
        data = self._buf[i:j]
        if len(data) < j - i:
            raise _eof(j - i, i, len(self._buf))
        return unpack(data)[0]

    def unpack_uint(self) -> int:
        i = self._pos
        self._pos = j = i + 4
        if i < 0 or j > len(self._buf):
            return self._short(i, j, _unpack_uint)
        return _unpack_uint(self._buf, i)[0]

    def unpack_int(self) -> int:
        i = self._pos
        self._pos = j = i + 4
        if i < 0 or j > len(self._buf):
            return self._short(i, j, _unpack_int)
        return _unpack_int(self._buf, i)[0]

    unpack_enum = unpack_int

    def unpack_bool(self) -> bool:
        i = self._pos
        self._pos = j = i + 4
        if i < 0 or j > len(self._buf):
            value = self._short(i, j, _unpack_int)
        else:
            value = _unpack_int(self._buf, i)[0]
        if self._strict and value not in (0, 1):
            raise ConversionError(f"bool must be 0 or 1, found {value} at byte {i}")
        return bool(value)

    def unpack_uhyper(self) -> int:
        i = self._pos
        j = i + 8
        if i < 0 or j > len(self._buf):
            # Two halves, so that position and errors match xdrlib's.
            high = self.unpack_uint()
            return high << 32 | self.unpack_uint()
        self._pos = j
        return _unpack_uhyper(self._buf, i)[0]

    def unpack_hyper(self) -> int:
        i = self._pos
        j = i + 8
        if i < 0 or j > len(self._buf):
            x = self.unpack_uhyper()
            return x - (1 << 64) if x >= 1 << 63 else x
        self._pos = j
        return _unpack_hyper(self._buf, i)[0]

    def unpack_float(self) -> float:
        i = self._pos
        self._pos = j = i + 4
        if i < 0 or j > len(self._buf):
            return self._short(i, j, _unpack_float)
        return _unpack_float(self._buf, i)[0]

    def unpack_double(self) -> float:
        i = self._pos
        self._pos = j = i + 8
        if i < 0 or j > len(self._buf):
            return self._short(i, j, _unpack_double)
        return _unpack_double(self._buf, i)[0]

    def _check_padding(self, start: int, n: int, end: int) -> None:
        if self._buf[start + n:end].count(0) != end - start - n:
            raise ConversionError(f"non-zero padding at byte {start + n}")

    def unpack_fstring(self, n: int) -> bytes:
        """Unpacks ``opaque[n]`` and skips its padding."""
        if n < 0:
            raise ValueError("fstring size must be nonnegative")
        i = self._pos
        j = i + (n + 3) // 4 * 4
        if j > len(self._buf):
            raise _eof(j - i, i, len(self._buf))
        if self._strict and n & 3:
            self._check_padding(i, n, j)
        self._pos = j
        return self._buf[i:i + n]

    unpack_fopaque = unpack_fstring

    def unpack_string(self) -> bytes:
        """Unpacks ``opaque<>``/``string<>`` (as bytes)."""
        buf = self._buf
        i = self._pos
        start = i + 4
        if i < 0 or start > len(buf):
            return self.unpack_fstring(self.unpack_uint())
        n = _unpack_uint(buf, i)[0]
        self._pos = start  # xdrlib has consumed the length when the body is short
        end = start + (n + 3) // 4 * 4
        if end > len(buf):
            raise _eof(end - start, start, len(buf))
        if self._strict and n & 3:
            self._check_padding(start, n, end)
        self._pos = end
        return buf[start:start + n]

    unpack_opaque = unpack_string
    unpack_bytes = unpack_string

    def _enter(self) -> None:
        depth = self._depth + 1
        if self._max_depth is not None and depth > self._max_depth:
            raise DepthExceeded(
                f"nesting deeper than {self._max_depth} at byte {self._pos}"
            )
        self._depth = depth

    def unpack_list(self, unpack_item: Callable[[], _T]) -> list[_T]:
        """Unpacks items each behind a 1, up to a 0."""
        self._enter()
        try:
            items: list[_T] = []
            while True:
                x = self.unpack_uint()
                if x == 0:
                    return items
                if x != 1:
                    raise ConversionError(f"0 or 1 expected, got {x!r}")
                items.append(unpack_item())
        finally:
            self._depth -= 1

    def unpack_farray(self, n: int, unpack_item: Callable[[], _T]) -> list[_T]:
        """Unpacks ``T[n]``."""
        self._enter()
        try:
            return [unpack_item() for _ in range(n)]
        finally:
            self._depth -= 1

    def unpack_array(self, unpack_item: Callable[[], _T]) -> list[_T]:
        """Unpacks ``T<>``."""
        n = self.unpack_uint()
        return self.unpack_farray(n, unpack_item)

    # Bulk methods: ``n`` given reads ``T[n]``, else ``T<>`` (count first).
    # They return an array.array and, on error, leave the position unchanged.

    def _unpack_bulk(self, kind: _Kind, n: int | None) -> array[Any]:
        start = self._pos
        if n is None:
            n = self.unpack_uint()
        elif n < 0:
            raise ValueError("array size must be nonnegative")
        i = self._pos
        nbytes = n * kind.size
        available = len(self._buf) - i
        if i < 0 or nbytes > available:
            self._pos = start
            raise EOFError(
                f"{n} items of {kind.size} bytes need {nbytes} bytes at byte {i}, "
                f"but {max(available, 0)} remain"
            )
        values = _decode(kind, self._buf, i, n)
        self._pos = i + nbytes
        return values

    def unpack_int32_array(self, n: int | None = None) -> array[int]:
        return self._unpack_bulk(_INT32, n)

    def unpack_uint32_array(self, n: int | None = None) -> array[int]:
        return self._unpack_bulk(_UINT32, n)

    def unpack_int64_array(self, n: int | None = None) -> array[int]:
        return self._unpack_bulk(_INT64, n)

    def unpack_uint64_array(self, n: int | None = None) -> array[int]:
        return self._unpack_bulk(_UINT64, n)

    def unpack_float_array(self, n: int | None = None) -> array[float]:
        return self._unpack_bulk(_FLOAT, n)

    def unpack_double_array(self, n: int | None = None) -> array[float]:
        return self._unpack_bulk(_DOUBLE, n)
