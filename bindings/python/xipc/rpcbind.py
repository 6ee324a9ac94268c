"""An embedded rpcbind (RFC 1833: portmap v2, rpcbind v3/v4 on program
100000), the server ``xipc rpcbind`` runs, in this process::

    with xipc.rpcbind.RpcbindServer(listen=["127.0.0.1"], port=0) as rb:
        print("rpcbind on port", rb.port)

Like rpcbind since 1.2.5 it forwards calls (CALLIT, BCAST, INDIRECT) only
for callers on this machine unless ``remote_calls=True`` (others get
PROC_UNAVAIL), accepts SET and UNSET only from this machine, and over UDP
answers a caller on another machine with nothing larger than twice its
call (a list that does not fit answers SYSTEM_ERR: ask over TCP).
"""

from __future__ import annotations

import ctypes
from types import TracebackType
from typing import Iterable, Optional, Union

from . import _lib
from .errors import InvalidArgument

__all__ = ["RpcbindServer", "PORT", "DEFAULT_MAX_REGISTRATIONS"]

#: rpcbind's well-known port, on TCP and UDP.
PORT = 111
#: The most registrations an rpcbind server holds unless told otherwise.
DEFAULT_MAX_REGISTRATIONS = 4096

_c_void_p = ctypes.c_void_p

_new = _lib.declare("xipc_rpcbind_server_new", [ctypes.POINTER(_c_void_p)])
_listen = _lib.declare("xipc_rpcbind_server_listen", [_c_void_p, ctypes.c_char_p])
_set_port = _lib.declare("xipc_rpcbind_server_set_port", [_c_void_p, ctypes.c_uint16])
_set_remote_calls = _lib.declare("xipc_rpcbind_server_set_remote_calls",
                                 [_c_void_p, ctypes.c_bool])
_set_max_registrations = _lib.declare("xipc_rpcbind_server_set_max_registrations",
                                      [_c_void_p, ctypes.c_size_t])
_set_local_socket = _lib.declare("xipc_rpcbind_server_set_local_socket",
                                 [_c_void_p, ctypes.c_char_p])
_start = _lib.declare("xipc_rpcbind_server_start", [_c_void_p])
_port = _lib.declare("xipc_rpcbind_server_port", [_c_void_p, ctypes.POINTER(ctypes.c_uint16)])
_stop = _lib.declare("xipc_rpcbind_server_stop", [_c_void_p])
_close = _lib.declare("xipc_rpcbind_server_close", [_c_void_p])


class RpcbindServer:
    """An embedded rpcbind serving on its own threads from construction
    until :meth:`stop` or :meth:`close` (or the end of a ``with`` block).

    ``listen``: the addresses (host names or IPs; ``"0.0.0.0"`` or ``"::"``
    for every interface) to listen on, TCP and UDP, besides loopback, which
    is always added so that this machine's servers can register; empty:
    every IPv4 interface and IPv6 loopback. ``port``: on every address (0:
    one the system picks, see :attr:`port`). ``remote_calls``: forward
    calls for callers on other machines too. ``max_registrations``: the most
    held, the server's own 12 included. ``local_socket``: True serves on
    ``/run/rpcbind.sock`` when the port is 111, False on no Unix socket, a
    string on that path: a socket file whose server is gone is replaced, a
    socket another server listens on is left to it (and this one serves on
    no Unix socket).

    A port already taken raises :class:`xipc.errors.AlreadyExists`, and so
    does a file at the Unix socket's path that is not a socket (it is left
    as it is)."""

    def __init__(self, listen: Iterable[str] = (), port: int = PORT, *,
                 remote_calls: bool = False,
                 max_registrations: int = DEFAULT_MAX_REGISTRATIONS,
                 local_socket: Union[bool, str] = True) -> None:
        handle = _c_void_p()
        _new(ctypes.byref(handle))
        self._handle: Optional[_c_void_p] = handle
        try:
            for address in listen:
                _listen(handle, address.encode())
            _set_port(handle, port)
            _set_remote_calls(handle, remote_calls)
            _set_max_registrations(handle, max_registrations)
            if local_socket is False:
                _set_local_socket(handle, None)
            elif isinstance(local_socket, str):
                _set_local_socket(handle, local_socket.encode())
            _start(handle)
        except BaseException:
            self.close()
            raise

    def _h(self) -> _c_void_p:
        if not self._handle:
            raise InvalidArgument("closed rpcbind server")
        return self._handle

    @property
    def port(self) -> int:
        """The TCP and UDP port it serves on."""
        bound = ctypes.c_uint16()
        _port(self._h(), ctypes.byref(bound))
        return bound.value

    def stop(self) -> None:
        """Stops gracefully: calls in progress finish first."""
        if self._handle:
            _stop(self._handle)

    def close(self) -> None:
        """Stops the server and frees it (idempotent)."""
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            _close(handle)

    @property
    def closed(self) -> bool:
        return not getattr(self, "_handle", None)

    def __enter__(self) -> "RpcbindServer":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass
