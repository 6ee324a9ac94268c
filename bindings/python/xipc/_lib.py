"""Loads the xipc shared library and declares the C functions Python uses.

The library is looked for in this order: the ``XIPC_LIBRARY`` environment
variable, next to this package, the build tree this package sits in, then
the system's library path. Every function is declared with its argument and
result types before use; a function returning a status code raises the
matching :mod:`xipc.errors` exception.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path
from types import ModuleType
from typing import Any, Iterable, Iterator, NoReturn, Optional

from . import errors
from ._version import __version__

_HERE = Path(__file__).resolve().parent


def _candidates() -> Iterator[Path]:
    env = os.environ.get("XIPC_LIBRARY")
    if env:
        yield Path(env)
        return
    yield _HERE / "libxipc.so"
    root = _HERE.parent.parent.parent  # bindings/python/xipc -> repository root
    for profile in ("release", "debug"):
        yield root / "target" / profile / "libxipc.so"
    found = ctypes.util.find_library("xipc")
    if found:
        yield Path(found)


def _load() -> ctypes.CDLL:
    tried = []
    for path in _candidates():
        if path.is_absolute() and not path.exists():
            tried.append(str(path))
            continue
        try:
            return ctypes.CDLL(str(path))
        except OSError as exc:
            tried.append(f"{path} ({exc})")
    raise ImportError(
        "xipc: cannot find libxipc.so; build it with `make` or set XIPC_LIBRARY. Tried: "
        + ", ".join(tried)
    )


lib = _load()

lib.xipc_version.argtypes = []
lib.xipc_version.restype = ctypes.c_char_p
lib.xipc_last_error.argtypes = []
lib.xipc_last_error.restype = ctypes.c_char_p
lib.xipc_last_os_error.argtypes = []
lib.xipc_last_os_error.restype = ctypes.c_int
lib.xipc_strerror.argtypes = [ctypes.c_int]
lib.xipc_strerror.restype = ctypes.c_char_p
lib.xipc_bytes_free.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
lib.xipc_bytes_free.restype = None

library_version = lib.xipc_version().decode()
if library_version != __version__:
    raise ImportError(
        f"xipc: the Python package is version {__version__} but the shared library "
        f"({getattr(lib, '_name', '?')}) is version {library_version}; install matching versions"
    )


def raise_for(code: int) -> NoReturn:
    """Raises the exception for a negative status code, using this thread's
    last error message."""
    message = lib.xipc_last_error().decode("utf-8", "replace")
    raise errors.from_code(code, message or lib.xipc_strerror(code).decode(),
                           lib.xipc_last_os_error())


def _check(result: int, func: Any, args: Any) -> int:
    if result < 0:
        raise_for(result)
    return result


def declare(name: str, argtypes: Iterable[Any], restype: Any = ctypes.c_int,
            check: bool | None = None) -> Any:
    """Declares ``lib.<name>`` and returns it. Functions returning ``int``
    are status-checked unless ``check`` is False."""
    fn = getattr(lib, name)
    fn.argtypes = list(argtypes)
    fn.restype = restype
    if check is None:
        check = restype is ctypes.c_int
    if check:
        fn.errcheck = _check
    return fn


def _load_fast() -> Optional[ModuleType]:
    """The optional C module for the hot calls, bound to this library; None
    when it was not built or ``XIPC_NO_FAST`` is set (then ctypes serves).
    Its classes are the bases of :class:`xipc.MessageQueue`,
    :class:`xipc.Stream` and :class:`xipc.rpc.Client`."""
    if os.environ.get("XIPC_NO_FAST"):
        return None
    try:
        from . import _fast
    except ImportError:
        return None

    def address(name: str) -> int:
        return ctypes.cast(getattr(lib, name), ctypes.c_void_p).value or 0

    _fast.bind(
        address("xipc_mq_send"),
        address("xipc_mq_receive"),
        address("xipc_stream_send"),
        address("xipc_stream_receive"),
        address("xipc_rpc_client_call"),
        address("xipc_bytes_free"),
        address("xipc_encoder_put_raw"),
    )
    return _fast


fast = _load_fast()
