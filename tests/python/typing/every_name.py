"""A program that uses every public name of xipc, for `mypy --strict`
(tests/python/test_typing.py runs the check and that every name is here).
It is type-checked, not run."""

from __future__ import annotations

from array import array

import xipc
from xipc import errors, mq, xdr


def xdr_round_trip() -> tuple[int, bytes, list[float]]:
    p = xdr.Packer()
    p.reset()
    p.pack_uint(1)
    p.pack_int(-1)
    p.pack_enum(2)
    p.pack_bool(True)
    p.pack_uhyper(1 << 40)
    p.pack_hyper(-(1 << 40))
    p.pack_float(0.5)
    p.pack_double(1.5)
    p.pack_fstring(3, b"abc")
    p.pack_fopaque(3, b"abc")
    p.pack_string(b"text")
    p.pack_opaque(b"bytes")
    p.pack_bytes(b"more")
    p.pack_list([1, 2], p.pack_int)
    p.pack_farray(2, [1, 2], p.pack_uint)
    p.pack_array([1.0], p.pack_double)
    p.pack_int32_array([1, 2], fixed=True)
    p.pack_uint32_array(array("I", [1]))
    p.pack_int64_array([1])
    p.pack_uint64_array([1])
    p.pack_float_array([0.5])
    p.pack_double_array(array("d", [0.5]))
    data: bytes = p.get_buffer()
    assert data == p.get_buf()

    u = xdr.Unpacker(data, strict=True, max_depth=8)
    u.reset(data)
    u.set_position(u.get_position())
    assert u.get_buffer() is data
    first: int = u.unpack_uint()
    ints: list[int] = [u.unpack_int(), u.unpack_enum(), int(u.unpack_bool()), u.unpack_uhyper(),
                       u.unpack_hyper()]
    floats: list[float] = [u.unpack_float(), u.unpack_double()]
    texts: list[bytes] = [u.unpack_fstring(3), u.unpack_fopaque(3), u.unpack_string(),
                          u.unpack_opaque(), u.unpack_bytes()]
    listed: list[int] = u.unpack_list(u.unpack_int)
    fixed: list[int] = u.unpack_farray(2, u.unpack_uint)
    counted: list[float] = u.unpack_array(u.unpack_double)
    i32: array[int] = u.unpack_int32_array(2)
    u32: array[int] = u.unpack_uint32_array()
    i64: array[int] = u.unpack_int64_array()
    u64: array[int] = u.unpack_uint64_array()
    f32: array[float] = u.unpack_float_array()
    f64: array[float] = u.unpack_double_array()
    u.done()
    del ints, listed, fixed, counted, i32, u32, i64, u64, f32
    return first, texts[2], floats + f64.tolist()


def xdr_errors(e: Exception) -> str:
    if isinstance(e, xdr.DepthExceeded):
        return "depth"
    if isinstance(e, xdr.ConversionError):
        return e.msg
    if isinstance(e, xdr.Error):
        return str(e)
    return ""


def queue(name: str) -> mq.QueueAttributes:
    with xipc.MessageQueue(name, create=True, exclusive=False, mode=0o600, max_messages=4,
                           max_message_size=64, read=True, write=True, blocking=True) as q:
        q.send(b"hello", priority=3, timeout=None)
        q.send(bytearray(b"x"))
        message: bytes
        priority: int
        message, priority = q.receive(timeout=0.5)
        attributes: mq.QueueAttributes = q.attributes
        size: int = q.max_message_size + attributes.max_messages + attributes.current_messages
        q.blocking = not q.blocking
        q.notify(lambda: None)
        q.notify(None)
        fd: int = q.fileno()
        q.unlink()
        closed: bool = q.closed
        del message, priority, size, fd, closed
    q.close()
    other = mq.MessageQueue(name, create=True)
    other.close()
    mq.unlink_queue(name)
    xipc.unlink_queue(name)
    return attributes


def status(e: errors.XipcError) -> int | None:
    classes: list[type[errors.XipcError]] = [
        errors.InvalidArgument, errors.WouldBlock, errors.Timeout, errors.MessageTooLarge,
        errors.NotFound, errors.AlreadyExists, errors.PermissionDenied, errors.ConnectionClosed,
        errors.MalformedXdr, errors.LimitExceeded, errors.ProtocolError, errors.Unsupported,
        errors.Interrupted, errors.RpcError, errors.ProgramUnavailable,
        errors.ProcedureUnavailable, errors.GarbageArgs, errors.SystemError_,
        errors.OSFailure, errors.ConnectionRefused, errors.ConnectionReset,
        errors.ConnectionAborted, errors.BrokenPipe, errors.IsADirectory, errors.NotADirectory,
        errors.InternalError,
    ]
    if isinstance(e, errors.ProgramMismatch) or isinstance(e, errors.RpcMismatch):
        return e.low
    if isinstance(e, errors.AuthError):
        return e.stat
    if isinstance(e, tuple(classes)):
        return e.code
    refused: ConnectionRefusedError = errors.ConnectionRefused("refused", -30, 111)
    again: errors.XipcError = errors.from_code(-2, "would block")
    known: type[errors.XipcError] = errors.BY_CODE[-1]
    del refused, known
    return again.code


def version() -> str:
    plain: type[Exception] = xipc.XipcError
    del plain
    return xipc.__version__ + str(xipc.errors.XipcError) + str(xipc.xdr.Packer)
