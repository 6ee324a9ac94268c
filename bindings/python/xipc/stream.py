"""Byte streams: anonymous pipes, FIFOs, TCP and Unix sockets.

Every stream carries raw bytes (``read``/``write``) and framed messages
(``send``/``receive``, RFC 5531 record marking, the same frames C and
Rust use)::

    reader, writer = xipc.pipe()
    writer.send(b"hello")
    assert reader.receive() == b"hello"

Timeouts follow :meth:`socket.socket.settimeout`: ``None`` blocks, ``0`` is
nonblocking (``BlockingIOError``), a number of seconds raises
``TimeoutError`` when it passes. A message that is only partly received when
that happens stays in the stream; the next ``receive`` completes it.
"""

from __future__ import annotations

import ctypes
import math
import os
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, NoReturn, Union

from . import errors
from ._lib import declare, fast, raise_for

if TYPE_CHECKING:
    from typing_extensions import Buffer

#: A file-system path, as ``os.fsencode`` takes it.
_Path = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

__all__ = [
    "pipe", "mkfifo", "open_fifo", "tcp_listen", "tcp_connect", "unix_listen",
    "unix_connect", "Stream", "Listener", "PeerCredentials",
]

_handle = ctypes.c_void_p
_out = ctypes.POINTER(ctypes.c_void_p)
_size = ctypes.c_size_t
_size_out = ctypes.POINTER(ctypes.c_size_t)
_bytes_in = ctypes.c_char_p
_bytes_out = ctypes.POINTER(ctypes.c_char)


class _PeerCredentials(ctypes.Structure):
    _fields_ = [("pid", ctypes.c_int32), ("uid", ctypes.c_uint32), ("gid", ctypes.c_uint32)]


_pipe = declare("xipc_pipe", [_out, _out])
_mkfifo = declare("xipc_mkfifo", [ctypes.c_char_p, ctypes.c_uint32])
_fifo_open = declare("xipc_fifo_open", [ctypes.c_char_p, ctypes.c_int, ctypes.c_bool, _out])
_tcp_listen = declare("xipc_tcp_listen", [ctypes.c_char_p, ctypes.c_uint16, _out])
_tcp_connect = declare("xipc_tcp_connect", [ctypes.c_char_p, ctypes.c_uint16, ctypes.c_int64, _out])
_unix_listen = declare("xipc_unix_listen", [ctypes.c_char_p, ctypes.c_uint32, _out])
_unix_connect = declare("xipc_unix_connect", [ctypes.c_char_p, ctypes.c_int64, _out])
_from_fd = declare("xipc_stream_from_fd", [ctypes.c_int, _out])
_accept = declare("xipc_listener_accept", [_handle, ctypes.c_int64, _out])
_listener_port = declare("xipc_listener_port", [_handle, ctypes.POINTER(ctypes.c_uint16)])
_listener_fd = declare("xipc_listener_fd", [_handle, ctypes.POINTER(ctypes.c_int)])
_listener_close = declare("xipc_listener_close", [_handle])
# The hot calls are checked inline (no errcheck hook), and their pointers are
# passed as prepared c_void_p objects, which ctypes converts fastest.
_send = declare("xipc_stream_send", [_handle, _bytes_in, _size], check=False)
_recv = declare("xipc_stream_receive", [_handle, ctypes.c_void_p, _size, ctypes.c_void_p],
                check=False)
_recv_alloc = declare("xipc_stream_receive_alloc",
                      [_handle, ctypes.POINTER(ctypes.c_void_p), _size_out])
_next_len = declare("xipc_stream_next_message_len", [_handle, _size_out], check=False)
_read = declare("xipc_stream_read", [_handle, _bytes_out, _size, _size_out], check=False)
_write = declare("xipc_stream_write", [_handle, _bytes_in, _size, _size_out], check=False)
_write_all = declare("xipc_stream_write_all", [_handle, _bytes_in, _size], check=False)
_flush = declare("xipc_stream_flush", [_handle])
_set_max_msg = declare("xipc_stream_set_max_message_size", [_handle, _size])
_set_read_timeout = declare("xipc_stream_set_read_timeout", [_handle, ctypes.c_int64])
_set_write_timeout = declare("xipc_stream_set_write_timeout", [_handle, ctypes.c_int64])
_set_nonblocking = declare("xipc_stream_set_nonblocking", [_handle, ctypes.c_bool])
_set_inheritable = declare("xipc_stream_set_inheritable", [_handle, ctypes.c_bool])
_stream_fd = declare("xipc_stream_fd", [_handle, ctypes.POINTER(ctypes.c_int)])
_shutdown = declare("xipc_stream_shutdown", [_handle, ctypes.c_int])
_peer_credentials = declare("xipc_stream_peer_credentials",
                            [_handle, ctypes.POINTER(_PeerCredentials)])
_stream_close = declare("xipc_stream_close", [_handle])
_bytes_free = declare("xipc_bytes_free", [ctypes.c_void_p, _size], None)
# When the C module was built, Stream derives from its StreamBase, whose
# send and receive make the hot calls in C (the handle is its `_h`).
if TYPE_CHECKING or fast is None:
    class _StreamBase:
        __slots__ = ()
        _h: int | None
else:
    _StreamBase = fast.StreamBase

_EMSGSIZE = errors.MessageTooLarge.code
_EINTR = errors.Interrupted.code
# Messages up to this size are received into the stream's own buffer.
_BUFFER_SIZE = 64 * 1024 + 64


class PeerCredentials(NamedTuple):
    """The process at the other end of a Unix socket."""

    pid: int
    uid: int
    gid: int


#: The C library's XIPC_WAIT_FOREVER.
_FOREVER = -1


def _ms(timeout: float | None) -> int:
    """Seconds as C's milliseconds (rounded up), None as forever."""
    if timeout is None:
        return _FOREVER
    if not timeout >= 0:  # negative or NaN
        raise errors.InvalidArgument(f"timeout must be None or 0 or more seconds, not {timeout}")
    return min(math.ceil(timeout * 1000), 2**62)


def _path(path: _Path) -> bytes:
    return os.fsencode(path)


def _new(fn: Callable[..., Any], *args: Any) -> ctypes.c_void_p:
    out = ctypes.c_void_p()
    fn(*args, ctypes.byref(out))
    return out


class Stream(_StreamBase):
    """A pipe end, FIFO, or TCP or Unix connection. Closed by :meth:`close`,
    by leaving a ``with`` block, or when garbage-collected."""

    __slots__ = ("_buf", "_bufp", "_n", "_nref", "_np", "_timeout", "__weakref__") + (
        () if fast else ("_h",))

    def __init__(self, handle: ctypes.c_void_p | int) -> None:
        # The address as an int: what ctypes and the C module take fastest.
        self._h = handle.value if isinstance(handle, ctypes.c_void_p) else handle
        self._n = ctypes.c_size_t()
        self._nref = ctypes.byref(self._n)
        self._np = ctypes.c_void_p(ctypes.addressof(self._n))
        self._timeout: float | None = None
        # self._buf and self._bufp: the receive buffer, made on first use.

    def _make_buffer(self) -> ctypes.c_void_p:
        self._buf = ctypes.create_string_buffer(_BUFFER_SIZE)
        self._bufp = ctypes.c_void_p(ctypes.addressof(self._buf))
        return self._bufp

    @classmethod
    def from_fd(cls, fd: int) -> "Stream":
        """A stream of descriptor ``fd`` (e.g. a pipe end inherited from a
        parent process); the stream owns it from now on."""
        return cls(_new(_from_fd, fd))

    # ---- framed messages ----

    def _send_slow(self, data: Buffer) -> None:
        """Sends ``data`` (bytes-like) as one framed message."""
        if type(data) is not bytes:
            data = bytes(data)
        while True:
            rc = _send(self._h, data, len(data))
            if not rc:
                return
            if rc != _EINTR:
                self._fail(rc)
            # Interrupted before anything was written: the signal's handlers
            # run at this loop's jump back (and may raise), then it resumes.

    def _receive_slow(self) -> bytes:
        """Receives the next framed message. Raises
        :class:`xipc.errors.ConnectionClosed` at the end of the stream."""
        try:
            bufp = self._bufp
        except AttributeError:
            bufp = self._make_buffer()
        while True:
            rc = _recv(self._h, bufp, _BUFFER_SIZE, self._np)
            if rc == 0:
                return self._buf[: self._n.value]  # type: ignore[return-value]  # a char array slices to bytes
            if rc == _EMSGSIZE:
                return self._recv_refused()
            if rc != _EINTR:
                self._fail(rc)
            # Interrupted: handlers run at the jump back, then it resumes.

    if TYPE_CHECKING or not fast:
        send = _send_slow
        receive = _receive_slow

    def _fail(self, status: int) -> NoReturn:
        """Raises for a failed call (what the C module calls): on a closed
        stream, as Python's files do."""
        self._live()
        raise_for(status)

    def _live(self) -> int:
        """The handle; ValueError when the stream is closed."""
        if self._h is None:
            raise errors.InvalidArgument("I/O on closed stream")
        return self._h

    def _recv_refused(self) -> bytes:
        """After ``XIPC_EMSGSIZE``: receives a message larger than the buffer,
        which the stream kept, or raises for one larger than the maximum."""
        try:
            raise_for(_EMSGSIZE)  # keeps this error's message before the next call
        except errors.MessageTooLarge as too_large:
            if _next_len(self._h, self._nref) == 0:
                return self._recv_large()  # larger than our buffer: kept
            raise too_large from None  # larger than the maximum

    def _recv_large(self) -> bytes:
        data = ctypes.c_void_p()
        _recv_alloc(self._h, ctypes.byref(data), self._nref)
        try:
            return ctypes.string_at(data, self._n.value)
        finally:
            _bytes_free(data, self._n.value)

    def set_max_message_size(self, size: int) -> None:
        """The largest message ``receive`` accepts (default 4 MiB)."""
        _set_max_msg(self._live(), size)

    # ---- raw bytes ----

    def read(self, size: int = 65536) -> bytes:
        """Reads at most ``size`` bytes; ``b""`` at the end of the stream."""
        if size > _BUFFER_SIZE:
            buf = ctypes.create_string_buffer(size)
        else:
            if not hasattr(self, "_buf"):
                self._make_buffer()
            buf = self._buf
        while True:
            rc = _read(self._h, buf, size, self._nref)
            if rc == 0:
                return buf[: self._n.value]  # type: ignore[return-value]  # a char array slices to bytes
            if rc != _EINTR:
                self._fail(rc)

    def write(self, data: Buffer) -> int:
        """Writes some of ``data``; returns how many bytes."""
        if type(data) is not bytes:
            data = bytes(data)
        while True:
            rc = _write(self._h, data, len(data), self._nref)
            if rc == 0:
                return self._n.value
            if rc != _EINTR:
                self._fail(rc)

    def write_all(self, data: Buffer) -> None:
        """Writes all of ``data``."""
        if type(data) is not bytes:
            data = bytes(data)
        while True:
            rc = _write_all(self._h, data, len(data))
            if rc == 0:
                return
            if rc != _EINTR:
                self._fail(rc)

    def flush(self) -> None:
        """Sends what a timeout or nonblocking mode left unsent."""
        _flush(self._live())

    # ---- modes ----

    def settimeout(self, timeout: float | None) -> None:
        """``None``: block; ``0``: nonblocking; seconds: raise
        ``TimeoutError`` when a read or write waits longer."""
        ms = _ms(timeout)
        handle = self._live()
        _set_nonblocking(handle, timeout == 0)
        _set_read_timeout(handle, ms)
        _set_write_timeout(handle, ms)
        self._timeout = timeout

    def gettimeout(self) -> float | None:
        return self._timeout

    def set_inheritable(self, inheritable: bool) -> None:
        """Whether programs started with exec keep the descriptor (streams
        are close-on-exec; ``subprocess``'s ``pass_fds`` does this itself)."""
        _set_inheritable(self._live(), inheritable)

    def fileno(self) -> int:
        """The descriptor, for select/poll/selectors/asyncio."""
        fd = ctypes.c_int()
        _stream_fd(self._live(), ctypes.byref(fd))
        return fd.value

    def shutdown(self, how: int) -> None:
        """``socket.SHUT_RD``, ``SHUT_WR`` or ``SHUT_RDWR`` (sockets only)."""
        _shutdown(self._live(), how)

    def peer_credentials(self) -> PeerCredentials:
        """(pid, uid, gid) of the process at the other end of a Unix socket."""
        out = _PeerCredentials()
        _peer_credentials(self._live(), ctypes.byref(out))
        return PeerCredentials(out.pid, out.uid, out.gid)

    @property
    def closed(self) -> bool:
        return self._h is None

    def close(self) -> None:
        handle, self._h = self._h, None
        if handle is not None:
            _stream_close(handle)

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may be gone
            pass

    def __repr__(self) -> str:
        state = "closed" if self._h is None else f"fd={self.fileno()}"
        return f"<xipc.Stream {state}>"


class Listener:
    """A listening TCP or Unix socket."""

    __slots__ = ("_h", "__weakref__")

    def __init__(self, handle: ctypes.c_void_p) -> None:
        # The address as an int: what ctypes takes fastest.
        self._h: int | None = handle.value

    def _live(self) -> int:
        if self._h is None:
            raise errors.InvalidArgument("I/O on closed listener")
        return self._h

    def accept(self, timeout: float | None = None) -> Stream:
        """The next connection; ``TimeoutError`` after ``timeout`` seconds."""
        while True:
            out = ctypes.c_void_p()
            try:
                _accept(self._live(), _ms(timeout), ctypes.byref(out))
                return Stream(out)
            except errors.Interrupted:
                continue  # the signal's Python handler has run; wait again

    @property
    def port(self) -> int | None:
        """The TCP port (``None`` for a Unix listener)."""
        port = ctypes.c_uint16()
        try:
            _listener_port(self._live(), ctypes.byref(port))
        except errors.InvalidArgument:
            if self._h is None:
                raise
            return None
        return port.value

    def fileno(self) -> int:
        """The descriptor, for select/poll/selectors/asyncio."""
        fd = ctypes.c_int()
        _listener_fd(self._live(), ctypes.byref(fd))
        return fd.value

    @property
    def closed(self) -> bool:
        return self._h is None

    def close(self) -> None:
        handle, self._h = self._h, None
        if handle is not None:
            _listener_close(handle)

    def __enter__(self) -> "Listener":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


def pipe() -> tuple[Stream, Stream]:
    """A new anonymous pipe as ``(reader, writer)``, both close-on-exec."""
    r, w = ctypes.c_void_p(), ctypes.c_void_p()
    _pipe(ctypes.byref(r), ctypes.byref(w))
    return Stream(r), Stream(w)


def mkfifo(path: _Path, mode: int = 0o600) -> None:
    """Creates a FIFO at ``path`` with exactly ``mode``."""
    _mkfifo(_path(path), mode)


def open_fifo(path: _Path, mode: str, blocking: bool = True) -> Stream:
    """Opens the FIFO at ``path`` for reading (``"r"``) or writing (``"w"``).
    Not blocking, opening for writing while nobody reads raises
    ``BlockingIOError``, and the stream is nonblocking (see ``settimeout``)."""
    directions = {"r": 0, "rb": 0, "w": 1, "wb": 1}
    if mode not in directions:
        raise ValueError(f"mode must be 'r' or 'w', not {mode!r}")
    stream = Stream(_new(_fifo_open, _path(path), directions[mode], blocking))
    if not blocking:
        stream._timeout = 0
    return stream


def tcp_listen(host: str, port: int = 0) -> Listener:
    """Listens on ``host`` (``"127.0.0.1"``, ``"::1"``, ``"0.0.0.0"``, a name)
    and ``port`` (0: any free port; see :attr:`Listener.port`)."""
    return Listener(_new(_tcp_listen, host.encode(), port))


def tcp_connect(host: str, port: int, timeout: float | None = None) -> Stream:
    """Connects to ``host`` (a name or address) on ``port``; TCP_NODELAY is on."""
    return Stream(_new(_tcp_connect, host.encode(), port, _ms(timeout)))


def unix_listen(path: _Path, mode: int = 0o600) -> Listener:
    """Listens on a Unix socket at ``path`` created with exactly ``mode``. A
    stale socket file is replaced; a live one raises ``FileExistsError``."""
    return Listener(_new(_unix_listen, _path(path), mode))


def unix_connect(path: _Path, timeout: float | None = None) -> Stream:
    """Connects to the Unix socket at ``path``."""
    return Stream(_new(_unix_connect, _path(path), _ms(timeout)))
