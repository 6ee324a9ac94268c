"""POSIX message queues: :class:`MessageQueue` and :func:`unlink_queue`.

A thin layer over the C functions ``xipc_mq_*``. Blocking calls release the
GIL (ctypes does) and, like Python's own system calls (PEP 475), run signal
handlers when a signal interrupts the wait and then resume it with the time
that remains; a handler that raises (Ctrl-C) ends the wait.
"""

from __future__ import annotations

import ctypes
import math
import os
import time
from ctypes import POINTER, byref, c_bool, c_char_p, c_int, c_int64, c_size_t, c_uint, c_void_p
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, NoReturn

from . import errors
from ._lib import declare, fast, raise_for

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = ["MessageQueue", "QueueAttributes", "unlink_queue"]

_READ, _WRITE, _CREATE, _EXCL, _NONBLOCK = 1, 2, 4, 8, 16
_EINTR = errors.Interrupted.code


class _Attr(ctypes.Structure):
    _fields_ = [
        ("flags", c_int),
        ("max_messages", c_size_t),
        ("max_message_size", c_size_t),
        ("current_messages", c_size_t),
    ]


_NOTIFY_FN = ctypes.CFUNCTYPE(None, c_void_p)
# Callbacks registered with the library, kept alive until they have run: the
# helper thread may call one even after its queue object is gone.
_pending_callbacks: dict[int, Any] = {}

_open = declare("xipc_mq_open", [c_char_p, c_int, c_uint, POINTER(_Attr), POINTER(c_void_p)])
_close = declare("xipc_mq_close", [c_void_p])
_unlink = declare("xipc_mq_unlink", [c_char_p])
# The two hot calls are checked inline: an errcheck costs a Python call each time.
# Without a timeout the shorter functions are used: every argument costs.
_send = declare("xipc_mq_send", [c_void_p, c_void_p, c_size_t, c_uint], check=False)
_send_timeout = declare("xipc_mq_send_timeout", [c_void_p, c_void_p, c_size_t, c_uint, c_int64],
                     check=False)
_receive = declare("xipc_mq_receive",
                   [c_void_p, c_void_p, c_size_t, POINTER(c_size_t), POINTER(c_uint)], check=False)
_receive_timeout = declare(
    "xipc_mq_receive_timeout",
    [c_void_p, c_void_p, c_size_t, POINTER(c_size_t), POINTER(c_uint), c_int64],
    check=False,
)
_getattr = declare("xipc_mq_attributes", [c_void_p, POINTER(_Attr)])
_set_nonblocking = declare("xipc_mq_set_nonblocking", [c_void_p, c_bool])
_set_retry = declare("xipc_mq_set_retry_on_signal", [c_void_p, c_bool])
_fd = declare("xipc_mq_fd", [c_void_p, POINTER(c_int)])
_notify = declare("xipc_mq_notify", [c_void_p, _NOTIFY_FN, c_void_p])
# When the C module was built, MessageQueue derives from its QueueBase,
# whose send and receive make the common calls (no timeout) in C and hand
# every other case to _send_slow and _receive_slow here.
if TYPE_CHECKING or fast is None:
    class _QueueBase:
        _handle: int | None
        _capacity: int
else:
    _QueueBase = fast.QueueBase


class QueueAttributes(NamedTuple):
    """A queue's attributes, as ``mq_getattr`` reports them."""

    flags: int  # os.O_NONBLOCK or 0
    max_messages: int
    max_message_size: int
    current_messages: int


def _encode_name(name: str) -> bytes:
    if not isinstance(name, str):
        raise TypeError(f"a queue name is a str, not {type(name).__name__}")
    return name.encode()


def unlink_queue(name: str) -> None:
    """Removes the queue ``name``; processes that have it open keep using it."""
    _unlink(_encode_name(name))


def _c_buffer(data: Buffer) -> ctypes.Array[ctypes.c_char]:
    """A ctypes view of a bytes-like object, without copying when writable."""
    view = memoryview(data).cast("B")
    if view.readonly:
        return (ctypes.c_char * view.nbytes).from_buffer_copy(view)
    return (ctypes.c_char * view.nbytes).from_buffer(view)


def _millis(timeout: float | None) -> int:
    """A timeout in seconds as whole milliseconds (rounded up); -1 for None."""
    if timeout is None:
        return -1
    if timeout < 0:
        raise ValueError(f"timeout must be None or >= 0, not {timeout}")
    return math.ceil(timeout * 1000)


def _priority_out_of_range(priority: int) -> NoReturn:
    limit = os.sysconf("SC_MQ_PRIO_MAX") if "SC_MQ_PRIO_MAX" in os.sysconf_names else 32768
    raise errors.InvalidArgument(f"priority {priority} is out of range: 0 to {limit - 1}")


class _Slot:
    """A receive buffer with its length and priority outputs."""

    __slots__ = ("buffer", "view", "length", "priority", "length_ref", "priority_ref")

    def __init__(self, capacity: int) -> None:
        self.buffer = ctypes.create_string_buffer(capacity)
        self.view = memoryview(self.buffer).cast("B")
        self.length = c_size_t()
        self.priority = c_uint()
        self.length_ref = byref(self.length)
        self.priority_ref = byref(self.priority)


class MessageQueue(_QueueBase):
    """An open POSIX message queue (``/name``: a slash, then 1 to 255 bytes
    without a slash). ``mode``, ``max_messages`` and ``max_message_size``
    apply when the queue is created (None = the system's default)."""

    def __init__(
        self,
        name: str,
        create: bool = False,
        exclusive: bool = False,
        mode: int = 0o600,
        max_messages: int | None = None,
        max_message_size: int | None = None,
        read: bool = True,
        write: bool = True,
        blocking: bool = True,
    ) -> None:
        self._handle = None
        self.name = name
        flags = (
            (_READ if read else 0)
            | (_WRITE if write else 0)
            | (_CREATE if create else 0)
            | (_EXCL if exclusive else 0)
            | (0 if blocking else _NONBLOCK)
        )
        attr = _Attr(0, max_messages or 0, max_message_size or 0, 0)
        for what, value in (("max_messages", max_messages), ("max_message_size", max_message_size)):
            if value is not None and value < 1:
                raise errors.InvalidArgument(f"{what} must be at least 1, not {value}")
        handle = c_void_p()
        _open(_encode_name(name), flags, mode, byref(attr), byref(handle))
        self._handle = handle.value
        # Python runs its signal handlers between calls (see the module doc).
        _set_retry(self._handle, False)
        self._capacity = self.attributes.max_message_size
        self._slots = [_Slot(self._capacity)]

    def _live(self) -> int:
        if self._handle is None:
            # As Python's own files say it.
            raise errors.InvalidArgument(f"I/O on closed queue {self.name}")
        return self._handle

    def _send_slow(self, data: Buffer, priority: int = 0, timeout: float | None = None) -> None:
        """Sends ``data`` (bytes-like) with ``priority`` (0 to 32767 on
        Linux; higher is received first). Waits while the queue is full,
        unless nonblocking (``BlockingIOError``) or past ``timeout`` seconds
        (``TimeoutError``). More than ``max_message_size`` bytes is
        :class:`xipc.errors.MessageTooLarge`."""
        if not 0 <= priority <= 0xFFFFFFFF:  # ctypes would wrap it around
            _priority_out_of_range(priority)
        if type(data) is not bytes:
            data = _c_buffer(data)
        if timeout is None:
            status = _send(self._handle, data, len(data), priority)
            started = 0.0
        else:
            started = time.monotonic()
            status = _send_timeout(self._handle, data, len(data), priority, _millis(timeout))
        if status:
            handle = self._handle
            self._failed(status, started, timeout,
                         lambda ms: _send_timeout(handle, data, len(data), priority, ms))

    def _receive_slow(self, timeout: float | None = None) -> tuple[bytes, int]:
        """Returns ``(message, priority)``: the oldest message of the highest
        priority. Waits while the queue is empty, unless nonblocking
        (``BlockingIOError``) or past ``timeout`` seconds (``TimeoutError``)."""
        # A buffer of this queue's is reused; threads receiving at once each
        # take their own (list.pop and append are atomic).
        try:
            slot = self._slots.pop()
        except IndexError:
            slot = _Slot(self._capacity)
        try:
            if timeout is None:
                status = _receive(self._handle, slot.buffer, self._capacity, slot.length_ref,
                                  slot.priority_ref)
                started = 0.0
            else:
                started = time.monotonic()
                status = _receive_timeout(self._handle, slot.buffer, self._capacity,
                                       slot.length_ref, slot.priority_ref, _millis(timeout))
            if status:
                handle = self._handle
                self._failed(status, started, timeout, lambda ms: _receive_timeout(
                    handle, slot.buffer, self._capacity, slot.length_ref, slot.priority_ref, ms))
            # One copy, out of the reused buffer.
            return slot.view[: slot.length.value].tobytes(), slot.priority.value
        finally:
            self._slots.append(slot)

    if TYPE_CHECKING or not fast:
        send = _send_slow
        receive = _receive_slow

    def _fail(self, status: int) -> NoReturn:
        """Raises for a failed call (what the C module calls)."""
        self._live()  # a closed queue says so rather than "mq is NULL"
        raise_for(status)

    def _failed(self, status: int, started: float, timeout: float | None,
                call: Callable[[int], int]) -> None:
        """Raises for a failed call; first resumes one a signal interrupted,
        after Python has run the signal's handler (which may raise), with
        the time that remains of ``timeout``."""
        while status == _EINTR:
            # Returning to the interpreter loop here runs pending handlers.
            if timeout is None:
                remaining = -1
            else:
                remaining = max(0, math.ceil((started + timeout - time.monotonic()) * 1000))
            status = call(remaining)
        if status:
            self._fail(status)

    @property
    def attributes(self) -> QueueAttributes:
        """The queue's flags, capacity, message size and current count."""
        attr = _Attr()
        _getattr(self._live(), byref(attr))
        return QueueAttributes(os.O_NONBLOCK if attr.flags & _NONBLOCK else 0,
                               attr.max_messages, attr.max_message_size, attr.current_messages)

    @property
    def max_message_size(self) -> int:
        """The largest message this queue carries."""
        return self._capacity

    @property
    def blocking(self) -> bool:
        """Whether send and receive wait (True) or raise ``BlockingIOError``."""
        return not self.attributes.flags

    @blocking.setter
    def blocking(self, value: bool) -> None:
        _set_nonblocking(self._live(), not value)

    def fileno(self) -> int:
        """The queue's descriptor, for select/poll/selectors/asyncio: readable
        while a message is queued, writable while there is room."""
        fd = c_int()
        _fd(self._live(), byref(fd))
        return fd.value

    def notify(self, callback: Callable[[], None] | None) -> None:
        """Calls ``callback()`` once, on a helper thread, when a message
        arrives while the queue is empty and no receiver waits (mq_notify
        semantics; one process at a time may be registered). ``None``
        cancels the registration."""
        handle = self._live()
        if callback is None:
            _notify(handle, _NOTIFY_FN(), None)
            return

        def trampoline(_user: Any) -> None:
            _pending_callbacks.pop(id(c_callback), None)
            callback()

        c_callback = _NOTIFY_FN(trampoline)
        _pending_callbacks[id(c_callback)] = c_callback
        try:
            _notify(handle, c_callback, None)
        except BaseException:
            _pending_callbacks.pop(id(c_callback), None)
            raise

    def unlink(self) -> None:
        """Removes this queue's name; this object stays usable."""
        unlink_queue(self.name)

    def close(self) -> None:
        """Closes the queue (idempotent)."""
        handle, self._handle = self._handle, None
        if handle is not None:
            _close(handle)

    @property
    def closed(self) -> bool:
        return self._handle is None

    def __enter__(self) -> "MessageQueue":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        state = "closed" if self._handle is None else f"fd={self.fileno()}"
        return f"<xipc.MessageQueue {self.name!r} {state}>"
