"""The exceptions of xipc, one class per library status code.

Every class derives from :class:`XipcError` and also from the built-in
exception a Python programmer would expect: timeouts are ``TimeoutError``,
would-block is ``BlockingIOError``, malformed data is ``ValueError``, an
operating-system failure is ``OSError`` with its ``errno``.
"""

from __future__ import annotations

import errno as _errno


class XipcError(Exception):
    """Base of every xipc error. ``code`` is the library's status code."""

    code = None

    def __init__(self, message: str = "", code: int | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code


class InvalidArgument(XipcError, ValueError):
    code = -1


class WouldBlock(XipcError, BlockingIOError):
    code = -2

    def __init__(self, message: str = "operation would block", code: int | None = None):
        BlockingIOError.__init__(self, _errno.EAGAIN, message)
        if code is not None:
            self.code = code


class Timeout(XipcError, TimeoutError):
    code = -3

    def __init__(self, message: str = "timed out", code: int | None = None):
        TimeoutError.__init__(self, _errno.ETIMEDOUT, message)
        if code is not None:
            self.code = code


class MessageTooLarge(XipcError, ValueError):
    code = -4


class NotFound(XipcError, FileNotFoundError):
    code = -5

    def __init__(self, message: str = "not found", code: int | None = None):
        FileNotFoundError.__init__(self, _errno.ENOENT, message)


class AlreadyExists(XipcError, FileExistsError):
    code = -6

    def __init__(self, message: str = "already exists", code: int | None = None):
        FileExistsError.__init__(self, _errno.EEXIST, message)


class PermissionDenied(XipcError, PermissionError):
    code = -7

    def __init__(self, message: str = "permission denied", code: int | None = None):
        PermissionError.__init__(self, _errno.EACCES, message)


class ConnectionClosed(XipcError, ConnectionError):
    code = -8

    def __init__(self, message: str = "closed by peer", code: int | None = None):
        ConnectionError.__init__(self, _errno.EPIPE, message)


class MalformedXdr(XipcError, ValueError):
    code = -9


class LimitExceeded(XipcError, ValueError):
    code = -10


class ProtocolError(XipcError, ValueError):
    code = -11


class Unsupported(XipcError, TypeError):
    code = -12


class Interrupted(XipcError, InterruptedError):
    code = -13

    def __init__(self, message: str = "interrupted by a signal", code: int | None = None):
        InterruptedError.__init__(self, _errno.EINTR, message)


class RpcError(XipcError):
    """An ONC RPC call was answered with an error status."""


class ProgramUnavailable(RpcError):
    code = -20


class ProgramMismatch(RpcError):
    code = -21
    low: int | None = None
    high: int | None = None


class ProcedureUnavailable(RpcError):
    code = -22


class GarbageArgs(RpcError):
    code = -23


class SystemError_(RpcError):
    code = -24


class RpcMismatch(RpcError):
    code = -25
    low: int | None = None
    high: int | None = None


class AuthError(RpcError):
    code = -26
    stat: int | None = None


class OSFailure(XipcError, OSError):
    """An operating-system call failed; ``errno`` is set."""

    code = -30

    def __init__(self, message: str = "", code: int | None = None, errno: int = 0):
        OSError.__init__(self, errno, message)


class InternalError(XipcError, RuntimeError):
    code = -31


_BY_CODE = {
    cls.code: cls
    for cls in (
        InvalidArgument, WouldBlock, Timeout, MessageTooLarge, NotFound,
        AlreadyExists, PermissionDenied, ConnectionClosed, MalformedXdr,
        LimitExceeded, ProtocolError, Unsupported, Interrupted,
        ProgramUnavailable, ProgramMismatch, ProcedureUnavailable, GarbageArgs,
        SystemError_, RpcMismatch, AuthError, OSFailure, InternalError,
    )
}


def from_code(code: int, message: str, os_errno: int = 0) -> XipcError:
    """The exception for a library status code and its detailed message."""
    cls = _BY_CODE.get(code)
    if cls is None:
        return XipcError(f"{message} (status {code})", code)
    if cls is OSFailure:
        return OSFailure(message, code, os_errno)
    return cls(message, code)
