"""ONC RPC (RFC 5531) clients and servers, wire-compatible with libtirpc.

Arguments and results are XDR bytes: encode them with :mod:`xipc.xdr` (or
stubs from ``xipc gen``). A client is thread-safe: calls from several
threads are in flight together on its one connection, replies matched by
xid. A server runs Python handlers on its own threads, several at once,
also for calls pipelined on one connection::

    srv = xipc.rpc.Server()
    srv.register(0x20000001, 1, 1, lambda args, call: args)   # echo
    port = srv.listen_tcp("127.0.0.1")
    srv.start()
    with xipc.rpc.Client("127.0.0.1", 0x20000001, 1, port=port) as c:
        assert c.call(1, b"\\0\\0\\0\\x07") == b"\\0\\0\\0\\x07"

A handler raising :class:`GarbageArgs`, or an XDR decoding error of its
arguments (:class:`xipc.xdr.Error`, :class:`MalformedXdr`,
:class:`LimitExceeded`, ``EOFError`` or ``struct.error``), answers
GARBAGE_ARGS; any other exception answers SYSTEM_ERR (and is printed to
stderr); the server goes on.
"""

from __future__ import annotations

import ctypes
import math
import os
import select
import signal
import struct
import sys
import threading
import traceback
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, NoReturn, Optional, Tuple

from . import _lib
from . import xdr as _xdr
from .errors import (AuthError, GarbageArgs, InvalidArgument, LimitExceeded,
                     MalformedXdr, ProcedureUnavailable, ProgramMismatch,
                     ProgramUnavailable, RpcError, RpcMismatch, SystemError_,
                     Timeout, TlsError)
from .stream import PeerCredentials, _PeerCredentials

__all__ = [
    "Client", "Server", "Call", "AuthSys", "Handler", "TlsConfig", "TlsPeer", "TlsError",
    "RpcError", "ProgramUnavailable", "ProgramMismatch", "ProcedureUnavailable",
    "GarbageArgs", "SystemError_", "AuthError", "RpcMismatch", "Timeout",
]

_c_void_p = ctypes.c_void_p
_u8p = ctypes.POINTER(ctypes.c_uint8)

_HANDLER = ctypes.CFUNCTYPE(ctypes.c_int, _c_void_p, _c_void_p, _u8p, ctypes.c_size_t, _c_void_p)

_client_new = _lib.declare("xipc_rpc_client_connect_timeout", [
    ctypes.c_char_p, ctypes.c_uint16, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_char_p,
    _c_void_p, ctypes.c_int64, ctypes.POINTER(_c_void_p)], check=False)
_client_call = _lib.declare("xipc_rpc_client_call", [
    _c_void_p, ctypes.c_uint32, ctypes.c_char_p, ctypes.c_size_t,
    ctypes.POINTER(_u8p), ctypes.POINTER(ctypes.c_size_t)], check=False)
_client_call_batched = _lib.declare("xipc_rpc_client_call_batched", [
    _c_void_p, ctypes.c_uint32, ctypes.c_char_p, ctypes.c_size_t], check=False)
_client_ping = _lib.declare("xipc_rpc_client_ping", [_c_void_p], check=False)
_client_set_timeout = _lib.declare("xipc_rpc_client_set_timeout", [_c_void_p, ctypes.c_int64])
_client_set_reconnect = _lib.declare("xipc_rpc_client_set_reconnect", [_c_void_p, ctypes.c_bool])
_client_set_auth_sys = _lib.declare("xipc_rpc_client_set_auth_sys", [
    _c_void_p, ctypes.c_uint32, ctypes.c_char_p, ctypes.c_uint32, ctypes.c_uint32,
    ctypes.POINTER(ctypes.c_uint32), ctypes.c_size_t])
_client_set_max = _lib.declare("xipc_rpc_client_set_max_message_size", [_c_void_p, ctypes.c_size_t])
_client_set_busy_poll = _lib.declare("xipc_rpc_client_set_busy_poll",
                                    [_c_void_p, ctypes.c_uint32])
_client_fd = _lib.declare("xipc_rpc_client_fd", [_c_void_p, ctypes.POINTER(ctypes.c_int)])
_client_close = _lib.declare("xipc_rpc_client_close", [_c_void_p])
_last_details = _lib.declare("xipc_rpc_last_error_details", [
    ctypes.POINTER(ctypes.c_uint32), ctypes.POINTER(ctypes.c_uint32),
    ctypes.POINTER(ctypes.c_uint32)])

_server_new = _lib.declare("xipc_rpc_server_new", [ctypes.POINTER(_c_void_p)])
_server_register = _lib.declare("xipc_rpc_server_register", [
    _c_void_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32, _HANDLER, _c_void_p])
# The same function, for a handler given by address (the C module's); a
# function object of its own, as argument types belong to the object.
_server_register_address: Any = _lib.lib["xipc_rpc_server_register"]
_server_register_address.argtypes = [_c_void_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32,
                                      _c_void_p, ctypes.py_object]
_server_register_address.restype = ctypes.c_int
_server_register_address.errcheck = _lib._check
_server_listen_tcp = _lib.declare("xipc_rpc_server_listen_tcp", [
    _c_void_p, ctypes.c_char_p, ctypes.c_uint16, ctypes.POINTER(ctypes.c_uint16)])
_server_listen_udp = _lib.declare("xipc_rpc_server_listen_udp", [
    _c_void_p, ctypes.c_char_p, ctypes.c_uint16, ctypes.POINTER(ctypes.c_uint16)])
_server_listen_tcp_tls = _lib.declare("xipc_rpc_server_listen_tcp_tls", [
    _c_void_p, ctypes.c_char_p, ctypes.c_uint16, _c_void_p, ctypes.POINTER(ctypes.c_uint16)])
_server_listen_unix_tls = _lib.declare("xipc_rpc_server_listen_unix_tls",
                                      [_c_void_p, ctypes.c_char_p, ctypes.c_uint32, _c_void_p])
_server_listen_unix_mode = _lib.declare("xipc_rpc_server_listen_unix_mode",
                                       [_c_void_p, ctypes.c_char_p, ctypes.c_uint32])
_server_set_max_conns = _lib.declare("xipc_rpc_server_set_max_connections",
                                    [_c_void_p, ctypes.c_size_t])
_server_set_drc = _lib.declare("xipc_rpc_server_set_duplicate_cache", [_c_void_p, ctypes.c_size_t])
_server_set_max = _lib.declare("xipc_rpc_server_set_max_message_size", [_c_void_p, ctypes.c_size_t])
_server_set_concurrent = _lib.declare("xipc_rpc_server_set_concurrent_calls_per_connection",
                                     [_c_void_p, ctypes.c_size_t])
_server_set_threads = _lib.declare("xipc_rpc_server_set_threads",
                                  [_c_void_p, ctypes.c_size_t, ctypes.c_size_t])
_server_set_stack = _lib.declare("xipc_rpc_server_set_thread_stack_size",
                                [_c_void_p, ctypes.c_size_t])
_server_set_busy_poll = _lib.declare("xipc_rpc_server_set_busy_poll",
                                    [_c_void_p, ctypes.c_uint32])
_server_set_idle = _lib.declare("xipc_rpc_server_set_idle_timeout", [_c_void_p, ctypes.c_int64])
_server_set_rpcbind = _lib.declare("xipc_rpc_server_set_rpcbind_registration", [_c_void_p, ctypes.c_bool])
_server_set_rpcbind_replace = _lib.declare("xipc_rpc_server_set_rpcbind_replace",
                                          [_c_void_p, ctypes.c_bool])
_server_start = _lib.declare("xipc_rpc_server_start", [_c_void_p])
_server_stop = _lib.declare("xipc_rpc_server_stop", [_c_void_p])
_server_run = _lib.declare("xipc_rpc_server_serve_forever", [_c_void_p])
_server_close = _lib.declare("xipc_rpc_server_close", [_c_void_p])

_call_xid = _lib.declare("xipc_rpc_call_xid", [_c_void_p], restype=ctypes.c_uint32)
_call_prog = _lib.declare("xipc_rpc_call_prog", [_c_void_p], restype=ctypes.c_uint32)
_call_vers = _lib.declare("xipc_rpc_call_vers", [_c_void_p], restype=ctypes.c_uint32)
_call_procedure = _lib.declare("xipc_rpc_call_procedure", [_c_void_p], restype=ctypes.c_uint32)
_call_auth_sys = _lib.declare("xipc_rpc_call_auth_sys", [
    _c_void_p, ctypes.POINTER(ctypes.c_uint32), ctypes.POINTER(ctypes.c_char_p),
    ctypes.POINTER(ctypes.c_uint32), ctypes.POINTER(ctypes.c_uint32),
    ctypes.POINTER(ctypes.c_uint32), ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)],
    check=False)
_call_peer_credentials = _lib.declare("xipc_rpc_call_peer_credentials", [
    _c_void_p, ctypes.POINTER(_PeerCredentials)], check=False)

_call_tls_peer = _lib.declare("xipc_rpc_call_tls_peer", [
    _c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_char_p),
    ctypes.POINTER(ctypes.c_size_t)], check=False)
_call_tls_san = _lib.declare("xipc_rpc_call_tls_san", [
    _c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_char_p)])


class _TlsOptions(ctypes.Structure):
    _fields_ = [
        ("policy", ctypes.c_char_p),
        ("ca_file", ctypes.c_char_p),
        ("ca_pem", ctypes.c_char_p),
        ("ca_pem_len", ctypes.c_size_t),
        ("cert_file", ctypes.c_char_p),
        ("cert_pem", ctypes.c_char_p),
        ("cert_pem_len", ctypes.c_size_t),
        ("key_file", ctypes.c_char_p),
        ("key_pem", ctypes.c_char_p),
        ("key_pem_len", ctypes.c_size_t),
        ("server_name", ctypes.c_char_p),
        ("crl_file", ctypes.c_char_p),
        ("crl_pem", ctypes.c_char_p),
        ("crl_pem_len", ctypes.c_size_t),
    ]


_tls_config_new = _lib.declare("xipc_tls_config_new",
                               [ctypes.POINTER(_TlsOptions), ctypes.POINTER(_c_void_p)])
_tls_config_free = _lib.declare("xipc_tls_config_free", [_c_void_p], restype=None)
_tls_config_reload = _lib.declare("xipc_tls_config_reload", [_c_void_p])
_tls_config_replace = _lib.declare("xipc_tls_config_replace",
                                   [_c_void_p, ctypes.POINTER(_TlsOptions)])


def _tls_options(policy: str, server_name: "str | None",
                 sources: "dict[str, str | os.PathLike[str] | bytes | None]") -> _TlsOptions:
    opts = _TlsOptions()
    opts.policy = policy.encode()
    opts.server_name = server_name.encode() if server_name is not None else None
    for name, value in sources.items():
        if value is None:
            continue
        if isinstance(value, (bytes, bytearray, memoryview)):
            data = bytes(value)
            setattr(opts, name + "_pem", data)
            setattr(opts, name + "_pem_len", len(data))
        elif isinstance(value, (str, os.PathLike)):
            setattr(opts, name + "_file", os.fsencode(value))
        else:
            raise InvalidArgument(
                f"TlsConfig {name}: expected a path or PEM bytes, got {type(value).__name__}")
    return opts


_put_raw = _lib.declare("xipc_encoder_put_raw", [_c_void_p, ctypes.c_char_p, ctypes.c_size_t],
                        check=False)

_GARBAGE = GarbageArgs.code
_AUTH = AuthError.code
# What decoding malformed arguments raises: each answers GARBAGE_ARGS.
_BAD_ARGS = (GarbageArgs, _xdr.Error, MalformedXdr, LimitExceeded, EOFError, struct.error)
_SYSTEM_ERR = SystemError_.code


#: The C library's XIPC_WAIT_FOREVER.
_FOREVER = -1


def _ms(seconds: float | None) -> int:
    """Seconds as whole milliseconds for C, rounded up so that any positive
    time stays positive; None is forever; zero, negative or NaN becomes 0,
    which C refuses (:class:`xipc.errors.InvalidArgument`, a ``ValueError``)."""
    if seconds is None:
        return _FOREVER
    if not seconds > 0:
        return 0
    return min(math.ceil(seconds * 1000), 2**62)


def _busy_poll_us(seconds: float) -> int:
    """A busy poll in seconds as whole microseconds for C; outside 0 to 1 s
    (or NaN) raises :class:`xipc.errors.InvalidArgument`."""
    if not 0 <= seconds <= 1:
        raise InvalidArgument(f"a busy poll of {seconds} s is outside 0 to 1 s")
    return round(seconds * 1_000_000)


def _raise_rpc(code: int) -> NoReturn:
    """Raises the exception for ``code``, with the RPC error's details."""
    low, high, stat = ctypes.c_uint32(), ctypes.c_uint32(), ctypes.c_uint32()
    _last_details(ctypes.byref(low), ctypes.byref(high), ctypes.byref(stat))
    try:
        _lib.raise_for(code)
    except (ProgramMismatch, RpcMismatch) as exc:
        exc.low, exc.high = low.value, high.value
        raise
    except AuthError as exc:
        exc.stat = stat.value
        raise


class TlsConfig:
    """RPC-with-TLS (RFC 9289) settings for :meth:`Server.listen_tcp`,
    :meth:`Server.listen_unix` and :class:`Client`.

    ``policy`` is ``"tls"`` (the server is authenticated: its certificate
    chains to ``ca`` and names the host), ``"mtls"`` (the client presents a
    certificate too, which the server checks against its ``ca``) or
    ``"none"`` (no TLS). ``ca`` is the CA bundle; ``cert`` the certificate
    chain, leaf first, and ``key`` its private key (a server always needs
    them, a client under ``"mtls"``). Each is a path (``str`` or
    path-like) to a PEM file or ``bytes`` holding the PEM text.
    ``server_name`` is, for a client, the name the server's certificate
    must carry when it is not the host connected to. ``crl`` (a path or
    bytes, like the others) holds revocation lists of the CAs in ``ca``:
    a peer whose certificate one of them lists is refused (only the peer's
    own certificate is looked up; one whose issuer has no list is
    accepted).

    Everything is read and checked here: a missing file raises
    :class:`xipc.errors.NotFound`; a file without a certificate or key, a
    key that does not belong to the certificate, or an unknown policy raise
    :class:`xipc.errors.InvalidArgument`, naming the file. One configuration
    serves any number of listeners and clients; :meth:`reload` and
    :meth:`replace` put renewed certificates in force while they serve.
    """

    def __init__(self, ca: "str | os.PathLike[str] | bytes | None" = None,
                 cert: "str | os.PathLike[str] | bytes | None" = None,
                 key: "str | os.PathLike[str] | bytes | None" = None,
                 policy: str = "tls", server_name: str | None = None, *,
                 crl: "str | os.PathLike[str] | bytes | None" = None) -> None:
        opts = _tls_options(policy, server_name,
                            {"ca": ca, "cert": cert, "key": key, "crl": crl})
        handle = _c_void_p()
        _tls_config_new(ctypes.byref(opts), ctypes.byref(handle))
        self._handle: Optional[_c_void_p] = handle
        self.policy = policy
        self.server_name = server_name

    def reload(self) -> None:
        """Reads the configuration's files again (PEM bytes stay as given)
        and checks them as the constructor does. From then on every
        handshake that starts uses the new certificate, key and CA bundle:
        on each listener made with this configuration and on each
        client's next connection; connections already set up keep their
        session. On an error (:class:`xipc.errors.NotFound`,
        :class:`xipc.errors.InvalidArgument`) nothing changes. A server
        whose certificate was renewed in place calls this."""
        _tls_config_reload(self._h())

    def replace(self, ca: "str | os.PathLike[str] | bytes | None" = None,
                cert: "str | os.PathLike[str] | bytes | None" = None,
                key: "str | os.PathLike[str] | bytes | None" = None,
                server_name: str | None = None, *,
                crl: "str | os.PathLike[str] | bytes | None" = None) -> None:
        """Puts new sources in force, as :meth:`reload` does with the old
        ones (each argument as in the constructor; later reloads read these).
        The policy stays; a configuration that listeners use must keep a
        certificate and key, one that clients use its CA bundle
        (:class:`xipc.errors.InvalidArgument` otherwise). On an error
        nothing changes."""
        opts = _tls_options(self.policy, server_name,
                            {"ca": ca, "cert": cert, "key": key, "crl": crl})
        _tls_config_replace(self._h(), ctypes.byref(opts))
        self.server_name = server_name

    def _h(self) -> _c_void_p:
        if not self._handle:
            raise InvalidArgument("TLS configuration is closed")
        return self._handle

    def close(self) -> None:
        """Frees the configuration (idempotent); listeners and clients made
        from it keep what they need."""
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            _tls_config_free(handle)

    def __repr__(self) -> str:
        return f"TlsConfig(policy={self.policy!r}, server_name={self.server_name!r})"

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


@dataclass(frozen=True)
class TlsPeer:
    """Who called over TLS, from the certificate the client presented
    (empty strings and list when a ``"tls"`` client presented none)."""

    #: The certificate's subject, e.g. ``"CN=client-1,O=Example"``.
    subject: str
    #: Its subjectAltNames, as ``"DNS:name"``, ``"IP:address"``,
    #: ``"email:address"`` or ``"URI:uri"``.
    sans: list[str]
    #: The SHA-256 of the certificate (DER), lowercase hex.
    fingerprint: str


@dataclass(frozen=True)
class AuthSys:
    """An AUTH_SYS credential."""

    uid: int
    gid: int
    gids: Tuple[int, ...] = ()
    machine_name: str = ""
    stamp: int = 0


@dataclass(frozen=True)
class Call:
    """What a handler learns about the call it serves."""

    xid: int
    prog: int
    vers: int
    procedure: int
    auth_sys: AuthSys | None = field(default=None)
    #: The calling process (pid, uid, gid) as the kernel saw it when the
    #: connection was made: calls over a Unix socket only, None over TCP and
    #: UDP. Unlike ``auth_sys``, the caller cannot forge it.
    peer_credentials: PeerCredentials | None = field(default=None)
    #: The caller's certificate identity for a call that came over TLS;
    #: None for a cleartext call. A handler refuses a caller by raising
    #: :class:`AuthError` (an AUTH_ERROR reply, AUTH_TOOWEAK).
    tls_peer: TlsPeer | None = field(default=None)


# When the C module was built, Client derives from its ClientBase, whose
# call makes the library call in C (the handle is its `_ch`).
if TYPE_CHECKING or _lib.fast is None:
    class _ClientBase:
        _ch: int | None
else:
    _ClientBase = _lib.fast.ClientBase


class Client(_ClientBase):
    """A client of program ``prog`` version ``vers`` on ``host``.

    ``proto`` is "tcp", "udp" or "unix" (``host`` is then the socket path).
    Without ``port`` the port is looked up through rpcbind on ``host``.
    ``timeout`` (seconds, or None: as long as it takes) bounds setting the
    connection up (the rpcbind lookup, the connect, and with ``tls`` the
    probe and the handshake) and then every call; UDP calls are
    retransmitted with backoff until it passes. Past it,
    :class:`TimeoutError` is raised.

    With ``tls`` (a :class:`TlsConfig`), the connection uses RPC-with-TLS
    (RFC 9289) over "tcp" or "unix": no call is ever sent in the clear, and
    a server that does not answer STARTTLS or whose certificate does not
    check out raises :class:`TlsError`. "udp" with ``tls`` raises
    :class:`xipc.errors.Unsupported` (it would need DTLS).
    """

    def __init__(self, host: str, prog: int, vers: int, *, port: int | None = None,
                 proto: str = "tcp", timeout: float | None = 25.0,
                 tls: TlsConfig | None = None) -> None:
        handle = _c_void_p()
        # The timeout bounds setting the connection up too: the rpcbind
        # lookup, the connect, and under TLS the probe and the handshake.
        config = tls._h() if tls is not None and tls.policy != "none" else None
        rc = _client_new(host.encode(), port or 0, prog, vers, proto.encode(), config,
                         _ms(timeout), ctypes.byref(handle))
        if rc < 0:
            _raise_rpc(rc)
        self._handle: Optional[_c_void_p] = handle
        self._ch = handle.value
        self.set_timeout(timeout)

    def _h(self) -> _c_void_p:
        if not self._handle:
            raise InvalidArgument("I/O on closed RPC client")
        return self._handle

    def set_timeout(self, seconds: float | None) -> None:
        """The per-call timeout: seconds, or None for as long as it takes.
        Zero or less raises :class:`xipc.errors.InvalidArgument` (a
        ``ValueError``): every call would fail."""
        _client_set_timeout(self._h(), _ms(seconds))

    def set_max_message_size(self, nbytes: int) -> None:
        """The largest call sent and reply accepted (default 4 MiB; UDP
        65,507); 0 raises :class:`xipc.errors.InvalidArgument`."""
        _client_set_max(self._h(), nbytes)

    def set_busy_poll(self, seconds: float) -> None:
        """How long a call waiting for its reply polls the socket before it
        sleeps (default 50 microseconds, or ``XIPC_BUSY_POLL_US`` from the
        environment; 0: it sleeps at once). Polling saves the wake-up of a
        sleeping thread when client and server run on different CPUs, while
        it keeps a CPU busy; only a call that is its process's one caller
        waiting polls, and only where the process may use more than one
        CPU. Outside 0 to 1 s raises :class:`xipc.errors.InvalidArgument`."""
        _client_set_busy_poll(self._h(), _busy_poll_us(seconds))

    def set_reconnect(self, on: bool = True) -> None:
        """Reconnect and retry once when a TCP/Unix connection is lost."""
        _client_set_reconnect(self._h(), on)

    def set_auth_sys(self, cred: AuthSys | None = None) -> None:
        """Send AUTH_SYS from now on: ``cred``, or this process's identity."""
        if cred is None:
            _client_set_auth_sys(self._h(), 0, None, 0, 0, None, 0)
            return
        gids = (ctypes.c_uint32 * len(cred.gids))(*cred.gids)
        _client_set_auth_sys(self._h(), cred.stamp, cred.machine_name.encode(), cred.uid,
                             cred.gid, gids, len(cred.gids))

    def _call_slow(self, procedure: int, args: bytes = b"") -> bytes:
        """Calls ``procedure`` with XDR ``args``; returns the XDR results."""
        args = bytes(args)
        out, out_len = _u8p(), ctypes.c_size_t()
        rc = _client_call(self._h(), procedure, args, len(args), ctypes.byref(out),
                          ctypes.byref(out_len))
        if rc < 0:
            _raise_rpc(rc)
        try:
            return ctypes.string_at(out, out_len.value)
        finally:
            _lib.lib.xipc_bytes_free(out, out_len.value)

    if TYPE_CHECKING or _lib.fast is None:
        call = _call_slow

    def _fail(self, code: int) -> NoReturn:
        """Raises for a failed call of the C module's ``call``."""
        self._h()
        _raise_rpc(code)

    def call_batched(self, procedure: int, args: bytes = b"") -> None:
        """Sends a call that expects no reply."""
        args = bytes(args)
        rc = _client_call_batched(self._h(), procedure, args, len(args))
        if rc < 0:
            _raise_rpc(rc)

    def ping(self) -> None:
        """Calls the NULL procedure."""
        rc = _client_ping(self._h())
        if rc < 0:
            _raise_rpc(rc)

    def fileno(self) -> int:
        """The descriptor of the client's socket: the connection of a TCP or
        Unix client; for UDP, the client's own socket, bound to an ephemeral
        port and connected to the server's address. It stays the client's.
        It is there to inspect or tune the socket (``getsockname``, socket
        options), not to read or write: bytes read from it are replies that
        calls wait for, and bytes written to it break the framing of calls.
        A client that reconnects (:meth:`set_reconnect`) gets a new socket."""
        fd = ctypes.c_int()
        _client_fd(self._h(), ctypes.byref(fd))
        return fd.value

    def close(self) -> None:
        """Closes the client (idempotent)."""
        handle, self._handle = getattr(self, "_handle", None), None
        self._ch = None
        if handle:
            _client_close(handle)

    @property
    def closed(self) -> bool:
        return not getattr(self, "_handle", None)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


def _read_auth_sys(call_ptr: int) -> AuthSys | None:
    stamp, uid, gid = ctypes.c_uint32(), ctypes.c_uint32(), ctypes.c_uint32()
    gids, ngids = (ctypes.c_uint32 * 16)(), ctypes.c_size_t()
    machine = ctypes.c_char_p()
    if _call_auth_sys(call_ptr, ctypes.byref(stamp), ctypes.byref(machine), ctypes.byref(uid),
                      ctypes.byref(gid), gids, len(gids), ctypes.byref(ngids)) != 0:
        return None
    return AuthSys(uid=uid.value, gid=gid.value, gids=tuple(gids[:ngids.value]),
                   machine_name=(machine.value or b"").decode("utf-8", "replace"),
                   stamp=stamp.value)


def _read_peer_credentials(call_ptr: int) -> PeerCredentials | None:
    cred = _PeerCredentials()
    if _call_peer_credentials(call_ptr, ctypes.byref(cred)) != 0:
        return None
    return PeerCredentials(cred.pid, cred.uid, cred.gid)


def _read_tls_peer(call_ptr: int) -> TlsPeer | None:
    subject, fingerprint, nsans = ctypes.c_char_p(), ctypes.c_char_p(), ctypes.c_size_t()
    if _call_tls_peer(call_ptr, ctypes.byref(subject), ctypes.byref(fingerprint),
                      ctypes.byref(nsans)) != 0:
        return None
    sans = []
    san = ctypes.c_char_p()
    for i in range(nsans.value):
        _call_tls_san(call_ptr, i, ctypes.byref(san))
        sans.append((san.value or b"").decode("utf-8", "replace"))
    return TlsPeer(subject=(subject.value or b"").decode("utf-8", "replace"), sans=sans,
                   fingerprint=(fingerprint.value or b"").decode())


#: How each part of a :class:`Call` is read from the library's call.
_CALL_READERS: dict[str, Callable[[Any], Any]] = {
    "xid": _call_xid,
    "prog": _call_prog,
    "vers": _call_vers,
    "procedure": _call_procedure,
    "auth_sys": _read_auth_sys,
    "peer_credentials": _read_peer_credentials,
    "tls_peer": _read_tls_peer,
}

#: Whether a handler kept its call can be told from the call's reference
#: count: where that count is exact (CPython with its GIL). Elsewhere a
#: call is taken as kept, and read whole when its handler returns.
_COUNTS_REFERENCES = (hasattr(sys, "getrefcount")
                      and getattr(sys, "_is_gil_enabled", lambda: True)())


# ---- a Python thread state for each server thread, for as long as it lives ----
#
# Handlers run on the server's own threads, which Python does not know.
# ctypes enters Python for each call with PyGILState_Ensure, and without
# more that makes the thread a new interpreter state for the call and
# deletes it after (Release): more time than the rest of a small call. So
# the first call on a thread takes one more Ensure and keeps it, and the
# state lives on between calls; the server runs `_thread_end` on each of
# its threads as it ends, which gives the kept Ensure back, so that ctypes'
# Release after the callback deletes the state.

_python_api: Any = getattr(ctypes, "pythonapi", None)  # CPython's C API; None elsewhere
if _python_api is not None:
    _python_api.PyGILState_Ensure.restype = ctypes.c_int
    _python_api.PyGILState_Release.argtypes = [ctypes.c_int]
_thread_kept = threading.local()


def _keep_thread_state() -> None:
    """Called for every handler call: the first time on a thread, keeps the
    thread's interpreter state until `_thread_end`."""
    if _python_api is not None and getattr(_thread_kept, "held", None) is None:
        _thread_kept.held = _python_api.PyGILState_Ensure()


def _give_back_thread_state(_user: Any) -> None:
    held = getattr(_thread_kept, "held", None)
    if held is not None:
        _thread_kept.held = None
        _python_api.PyGILState_Release(held)


_thread_end = ctypes.CFUNCTYPE(None, _c_void_p)(_give_back_thread_state)


_server_set_thread_end = _lib.declare("xipc_rpc_server_set_thread_end",
                                      [_c_void_p, _c_void_p, _c_void_p])


#: Held while a call is read and while a kept one is read whole at its
#: handler's end (rare: a part's first reading, a kept call).
_CALL_LOCK = threading.Lock()


def _lazy(name: str) -> Any:
    # The setter serves the dataclass's __init__ (object.__setattr__);
    # assignments still meet the frozen dataclass's __setattr__ first.
    return property(lambda self: self._part(name),
                    lambda self, value: self.__dict__.__setitem__(name, value))


class _HandlerCall(Call):
    """The :class:`Call` a Python handler gets. Each part is read from the
    library when the handler first asks for it (a handler that looks at
    nothing pays for nothing: reading all seven parts cost more than the
    rest of a small call) and kept in the instance's ``__dict__`` under its
    name, where the dataclass's own ``__init__`` puts them too (so
    ``dataclasses.replace`` works). The library's call lives only while the
    handler runs, so when the handler returns, a call it kept somewhere
    (another reference to it remains) is read whole, and none is read
    afterwards. Copies and pickles are plain :class:`Call` objects."""

    @classmethod
    def _of(cls, call_ptr: int) -> "_HandlerCall":
        call = object.__new__(cls)
        call.__dict__["_ptr"] = call_ptr
        return call

    def _part(self, name: str) -> Any:
        parts = self.__dict__
        try:
            return parts[name]
        except KeyError:
            pass
        # Under the lock: another thread the handler handed the call to
        # must not read it while `_finish` ends its life.
        with _CALL_LOCK:
            if name not in parts:
                parts[name] = _CALL_READERS[name](parts.get("_ptr"))
            return parts[name]

    def _finish(self, kept: bool) -> None:
        """The handler returned; ``kept``: whether the call outlives it.
        A call not kept has no other reference, so nothing can read it
        meanwhile: only a kept one needs the lock."""
        parts = self.__dict__
        if not kept:
            parts["_ptr"] = None
            return
        with _CALL_LOCK:
            for name, read in _CALL_READERS.items():
                if name not in parts:
                    parts[name] = read(parts["_ptr"])
            parts["_ptr"] = None

    def _plain(self) -> Call:
        return Call(*(getattr(self, n) for n in _CALL_READERS))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Call):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in _CALL_READERS)

    def __hash__(self) -> int:
        return hash(self._plain())

    def __repr__(self) -> str:
        return repr(self._plain())

    def __reduce__(self) -> Tuple[Any, ...]:
        return (Call, tuple(getattr(self, n) for n in _CALL_READERS))

    xid = _lazy("xid")
    prog = _lazy("prog")
    vers = _lazy("vers")
    procedure = _lazy("procedure")
    auth_sys = _lazy("auth_sys")
    peer_credentials = _lazy("peer_credentials")
    tls_peer = _lazy("tls_peer")


#: A procedure handler: the XDR arguments and the call, to the XDR results.
Handler = Callable[[bytes, Call], Optional[bytes]]


class Server:
    """An RPC server; handlers are ``handler(args: bytes, call: Call) -> bytes``.

    Unlike the other handles, a server has no ``fileno()``: it serves every
    listener and connection on its own threads, which wait on one epoll set
    of their own, so no single descriptor tells the caller when there is
    work to do. :meth:`serve_forever` is what waits for a server."""

    def __init__(self) -> None:
        handle = _c_void_p()
        _server_new(ctypes.byref(handle))
        self._handle: Optional[_c_void_p] = handle
        _server_set_thread_end(handle, ctypes.cast(_thread_end, _c_void_p), None)
        self._callbacks: list[Any] = []  # keeps the ctypes thunks alive
        # A plain flag, not a threading.Event: stop() is often called from
        # a signal handler, which runs in the main thread between any two
        # bytecodes, and an Event's lock may be held there by the very
        # serve_forever loop it interrupted.
        self._stop_requested = False
        # The write end of the pipe serve_forever sleeps on, while it does.
        self._wake: int | None = None

    def _h(self) -> _c_void_p:
        if not self._handle:
            raise InvalidArgument("I/O on closed RPC server")
        return self._handle

    def register(self, prog: int, vers: int, procedure: int, handler: Handler) -> None:
        """Serves procedure ``procedure`` of ``prog`` version ``vers`` with
        ``handler(args, call)``, which returns the XDR results (bytes-like;
        None: none; anything else answers SYSTEM_ERR)."""
        def serve(args: bytes, call_ptr: int) -> bytes | int:
            """The handler's results for a call, or the status to answer
            with; never raises."""
            _keep_thread_state()
            call = _HandlerCall._of(call_ptr)
            try:
                out = handler(args, call)
                if out is None:
                    return b""
                # Bytes-like results only: bytes(5) would be five zero bytes.
                return out if type(out) is bytes else memoryview(out).tobytes()
            except AuthError:
                return _AUTH
            except _BAD_ARGS:
                return _GARBAGE
            except BaseException:  # noqa: BLE001 - a handler must never crash the server
                try:
                    traceback.print_exc(file=sys.stderr)
                except BaseException:  # noqa: BLE001
                    pass
                return _SYSTEM_ERR
            finally:
                # Two references when the handler kept none: `call` here
                # and getrefcount's argument.
                kept = not _COUNTS_REFERENCES or sys.getrefcount(call) > 2
                call._finish(kept)

        self._callbacks.append(serve)
        if _lib.fast is not None:
            # The C module's handler calls `serve` (`user`) itself.
            _server_register_address(self._h(), prog, vers, procedure,
                                     _lib.fast.handler_address(), ctypes.py_object(serve))
            return

        def thunk(_user: Any, call_ptr: int, args_ptr: Any, args_len: int, result: int) -> int:
            out = serve(ctypes.string_at(args_ptr, args_len) if args_len else b"", call_ptr)
            if isinstance(out, int):
                return out
            return _SYSTEM_ERR if _put_raw(result, out, len(out)) < 0 else 0

        cb = _HANDLER(thunk)
        self._callbacks.append(cb)
        _server_register(self._h(), prog, vers, procedure, cb, None)

    def listen_tcp(self, host: str = "127.0.0.1", port: int = 0, *,
                   tls: TlsConfig | None = None) -> int:
        """Listens on TCP ``host``:``port`` (0: any free port); returns the
        port. With ``tls`` (a :class:`TlsConfig` holding the server's
        certificate and key; under ``"mtls"`` also the CA that client
        certificates must chain to), the listener speaks RPC-with-TLS: it
        answers a client's AUTH_TLS probe with STARTTLS, and refuses any
        other call that comes before the handshake with AUTH_ERROR."""
        bound = ctypes.c_uint16()
        if tls is not None and tls.policy != "none":
            _server_listen_tcp_tls(self._h(), host.encode(), port, tls._h(), ctypes.byref(bound))
        else:
            _server_listen_tcp(self._h(), host.encode(), port, ctypes.byref(bound))
        return bound.value

    def listen_udp(self, host: str = "127.0.0.1", port: int = 0) -> int:
        bound = ctypes.c_uint16()
        _server_listen_udp(self._h(), host.encode(), port, ctypes.byref(bound))
        return bound.value

    def listen_unix(self, path: str, mode: int = 0o600, *,
                    tls: TlsConfig | None = None) -> int:
        """Listens on a Unix stream socket at ``path`` with permissions
        ``mode`` (0600 by default: only this user may connect), whatever the
        umask; the file is removed on stop. Bits beyond 0o777 raise
        :class:`xipc.errors.InvalidArgument`. ``tls`` as for
        :meth:`listen_tcp`. Returns 0."""
        if tls is not None and tls.policy != "none":
            _server_listen_unix_tls(self._h(), str(path).encode(), mode, tls._h())
        else:
            _server_listen_unix_mode(self._h(), str(path).encode(), mode)
        return 0

    def set_duplicate_cache(self, entries: int) -> None:
        """Answer retransmissions of the last ``entries`` calls from a cache."""
        _server_set_drc(self._h(), entries)

    def set_max_message_size(self, nbytes: int) -> None:
        """The largest call accepted on a stream (default 4 MiB); 0 raises
        :class:`xipc.errors.InvalidArgument`."""
        _server_set_max(self._h(), nbytes)

    def set_concurrent_calls_per_connection(self, calls: int) -> None:
        """Let up to ``calls`` calls pipelined on one connection run at once
        (default 16; 1 runs them in order, one at a time); 0 raises
        :class:`xipc.errors.InvalidArgument`."""
        _server_set_concurrent(self._h(), calls)

    def set_max_connections(self, connections: int) -> None:
        """Serve at most ``connections`` stream connections at once (default
        4096); one accepted past the limit is closed at once; 0 raises
        :class:`xipc.errors.InvalidArgument`."""
        _server_set_max_conns(self._h(), connections)

    def set_threads(self, min: int, max: int) -> None:
        """The pool of threads that wait for work and run handlers: ``min``
        kept (default 1), up to ``max`` while handlers run (default 32);
        :class:`xipc.errors.InvalidArgument` unless 1 <= min <= max."""
        _server_set_threads(self._h(), min, max)

    def set_thread_stack_size(self, nbytes: int) -> None:
        """The stack of each server thread, where handlers run (default 2
        MiB; under 64 KiB raises :class:`xipc.errors.InvalidArgument`)."""
        _server_set_stack(self._h(), nbytes)

    def set_busy_poll(self, seconds: float) -> None:
        """How long a thread waiting for a caller's next call polls the
        socket before it sleeps (default 50 microseconds, or
        ``XIPC_BUSY_POLL_US`` from the environment; 0: it sleeps at once).
        Polling saves the wake-up of a sleeping thread when caller and
        server run on different CPUs, while it keeps a CPU busy; it happens
        only where the process may use more than one CPU, with no handler
        running, at most one connection open and no other thread polling.
        Outside 0 to 1 s raises :class:`xipc.errors.InvalidArgument`."""
        _server_set_busy_poll(self._h(), _busy_poll_us(seconds))

    def set_idle_timeout(self, seconds: float | None) -> None:
        """Close stream connections idle this long (default 120 s; None:
        never); zero or less raises :class:`xipc.errors.InvalidArgument`."""
        _server_set_idle(self._h(), _ms(seconds))

    def set_rpcbind_registration(self, on: bool) -> None:
        """Whether start and stop register with and unregister from the
        local rpcbind (default True; skipped when none runs). Stop removes
        only the registrations that still name this server."""
        _server_set_rpcbind(self._h(), on)

    def set_rpcbind_replace(self, replace: bool) -> None:
        """Whether start takes over a program version that another running
        server has registered with rpcbind (default False: start raises
        :class:`xipc.errors.AlreadyExists`, naming the program, the version
        and the address registered). A registration whose server is gone is
        replaced either way."""
        _server_set_rpcbind_replace(self._h(), replace)

    def start(self) -> None:
        """Registers with rpcbind (see :meth:`set_rpcbind_registration`),
        then serves on background threads; a refused registration raises
        :class:`xipc.errors.AlreadyExists` and nothing starts."""
        _server_start(self._h())

    def serve_forever(self) -> None:
        """Serves until :meth:`stop` is called (from a handler, another
        thread or a signal handler); Ctrl-C stops it too. Waiting costs
        nothing: no wake-ups until one of those happens."""
        try:
            self.start()
        except InvalidArgument:
            if not self._stop_requested:
                raise
        # Sleeps in select() on a pipe that stop() writes to. In the main
        # thread, the pipe is also the signal wake-up descriptor, so that a
        # signal ends the sleep and its Python handler (which may call
        # stop()) runs at once.
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        self._wake = wake_w
        old_wakeup = None
        if threading.current_thread() is threading.main_thread():
            old_wakeup = signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
        try:
            while not self._stop_requested:
                select.select([wake_r], [], [])
                os.read(wake_r, 512)
        finally:
            if old_wakeup is not None:
                signal.set_wakeup_fd(old_wakeup)
            self._wake = None
            os.close(wake_r)
            os.close(wake_w)
            self.stop()
        # stop() may still be finishing on another thread: wait for it
        # (unless close() already freed the server).
        handle = self._handle
        if handle:
            _server_run(handle)

    def stop(self) -> None:
        """Stops gracefully: calls in progress finish first. Safe to call
        from a signal handler."""
        self._end_serve_forever()
        if self._handle:
            _server_stop(self._handle)

    def _end_serve_forever(self) -> None:
        self._stop_requested = True
        wake = getattr(self, "_wake", None)
        if wake is not None:
            try:
                os.write(wake, b"\0")
            except OSError:
                pass  # the pipe is full (already woken) or just closed

    def close(self) -> None:
        """Stops the server if it runs and frees it (idempotent)."""
        self._end_serve_forever()
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            if sys.is_finalizing():
                # Threads ending now cannot enter the interpreter.
                _server_set_thread_end(handle, None, None)
            _server_close(handle)

    @property
    def closed(self) -> bool:
        return not getattr(self, "_handle", None)

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass
