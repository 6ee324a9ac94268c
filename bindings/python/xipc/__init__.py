"""xipc: POSIX message queues, pipes, FIFOs, stream sockets and ONC RPC
carrying XDR, shared by C, Python and Rust processes."""

from ._version import __version__
from .errors import XipcError
from . import errors, xdr
from .stream import (Listener, Stream, mkfifo, open_fifo, pipe, tcp_connect, tcp_listen,
                     unix_connect, unix_listen)

__all__ = ["__version__", "XipcError", "errors", "xdr"]
__all__ += ["pipe", "mkfifo", "open_fifo", "tcp_listen", "tcp_connect", "unix_listen",
            "unix_connect", "Stream", "Listener"]
