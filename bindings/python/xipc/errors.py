"""The exceptions of xipc, one class per library status code.

Every class derives from :class:`XipcError` and also from the built-in
exception a Python programmer would expect: timeouts are ``TimeoutError``,
would-block is ``BlockingIOError``, malformed data is ``ValueError``, an
operating-system failure is ``OSError`` with its ``errno``.
"""

from __future__ import annotations

import errno as _errno

__all__ = [
    "XipcError", "InvalidArgument", "WouldBlock", "Timeout", "MessageTooLarge", "NotFound",
    "AlreadyExists", "PermissionDenied", "ConnectionClosed", "MalformedXdr", "LimitExceeded",
    "ProtocolError", "Unsupported", "Interrupted", "TlsError", "RpcError", "ProgramUnavailable",
    "ProgramMismatch", "ProcedureUnavailable", "GarbageArgs", "SystemError_", "RpcMismatch",
    "AuthError", "OSFailure", "ConnectionRefused", "ConnectionReset", "ConnectionAborted",
    "BrokenPipe", "IsADirectory", "NotADirectory", "InternalError", "BY_CODE", "from_code",
]


class XipcError(Exception):
    """Base of every xipc error. ``code`` is the library's status code
    (``XIPC_E*`` in ``xipc.h``; None for an error raised in Python alone)."""

    code: int | None = None

    def __init__(self, message: str = "", code: int | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class InvalidArgument(XipcError, ValueError):
    code = -1


class WouldBlock(XipcError, BlockingIOError):
    code = -2

    def __init__(self, message: str = "operation would block", code: int | None = None) -> None:
        BlockingIOError.__init__(self, _errno.EAGAIN, message)
        if code is not None:
            self.code = code


class Timeout(XipcError, TimeoutError):
    code = -3

    def __init__(self, message: str = "timed out", code: int | None = None) -> None:
        TimeoutError.__init__(self, _errno.ETIMEDOUT, message)
        if code is not None:
            self.code = code


class MessageTooLarge(XipcError, ValueError):
    code = -4


class NotFound(XipcError, FileNotFoundError):
    code = -5

    def __init__(self, message: str = "not found", code: int | None = None) -> None:
        FileNotFoundError.__init__(self, _errno.ENOENT, message)


class AlreadyExists(XipcError, FileExistsError):
    code = -6

    def __init__(self, message: str = "already exists", code: int | None = None) -> None:
        FileExistsError.__init__(self, _errno.EEXIST, message)


class PermissionDenied(XipcError, PermissionError):
    code = -7

    def __init__(self, message: str = "permission denied", code: int | None = None) -> None:
        PermissionError.__init__(self, _errno.EACCES, message)


class ConnectionClosed(XipcError, ConnectionError):
    code = -8

    def __init__(self, message: str = "closed by peer", code: int | None = None) -> None:
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

    def __init__(self, message: str = "interrupted by a signal", code: int | None = None) -> None:
        InterruptedError.__init__(self, _errno.EINTR, message)


class TlsError(XipcError, ConnectionError):
    """TLS failed: a handshake (an untrusted or expired certificate, a name
    that does not match, a missing client certificate), a TLS record, or a
    peer that does not offer RPC-with-TLS."""
    code = -14


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
    """An operating-system call failed; ``errno`` is set. Errnos that Python
    gives an exception class of its own raise a subclass that is also that
    class: :class:`ConnectionRefused` (``ConnectionRefusedError``),
    :class:`ConnectionReset`, :class:`ConnectionAborted`, :class:`BrokenPipe`,
    :class:`IsADirectory`, :class:`NotADirectory`."""

    code = -30

    def __init__(self, message: str = "", code: int | None = None, errno: int = 0) -> None:
        OSError.__init__(self, errno, message)


class ConnectionRefused(OSFailure, ConnectionRefusedError):
    """Nothing listens at the address (ECONNREFUSED)."""


class ConnectionReset(OSFailure, ConnectionResetError):
    """The peer reset the connection (ECONNRESET)."""


class ConnectionAborted(OSFailure, ConnectionAbortedError):
    """The connection was aborted (ECONNABORTED)."""


class BrokenPipe(OSFailure, BrokenPipeError):
    """A write with no reader left (EPIPE)."""


class IsADirectory(OSFailure, IsADirectoryError):
    """A directory where a file was expected (EISDIR)."""


class NotADirectory(OSFailure, NotADirectoryError):
    """A path component that is not a directory (ENOTDIR)."""


_OS_BY_ERRNO: dict[int, type[OSFailure]] = {
    _errno.ECONNREFUSED: ConnectionRefused,
    _errno.ECONNRESET: ConnectionReset,
    _errno.ECONNABORTED: ConnectionAborted,
    _errno.EPIPE: BrokenPipe,
    _errno.EISDIR: IsADirectory,
    _errno.ENOTDIR: NotADirectory,
}


class InternalError(XipcError, RuntimeError):
    code = -31


#: The exception class of every library status code.
BY_CODE: dict[int, type[XipcError]] = {
    cls.code: cls
    for cls in (
        InvalidArgument, WouldBlock, Timeout, MessageTooLarge, NotFound,
        AlreadyExists, PermissionDenied, ConnectionClosed, MalformedXdr,
        LimitExceeded, ProtocolError, Unsupported, Interrupted, TlsError,
        ProgramUnavailable, ProgramMismatch, ProcedureUnavailable, GarbageArgs,
        SystemError_, RpcMismatch, AuthError, OSFailure, InternalError,
    )
    if cls.code is not None
}


def from_code(code: int, message: str, os_errno: int = 0) -> XipcError:
    """The exception for a library status code and its detailed message."""
    cls = BY_CODE.get(code)
    if cls is None:
        return XipcError(f"{message} (status {code})", code)
    if cls is OSFailure:
        return _OS_BY_ERRNO.get(os_errno, OSFailure)(message, code, os_errno)
    return cls(message, code)
