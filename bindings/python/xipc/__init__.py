"""xipc: POSIX message queues, pipes, FIFOs, stream sockets and ONC RPC
carrying XDR, shared by C, Python and Rust processes."""

from ._version import __version__
from .errors import XipcError
from . import errors, xdr
from .mq import MessageQueue, unlink_queue
from .stream import (Listener, PeerCredentials, Stream, mkfifo, open_fifo, pipe, tcp_connect,
                     tcp_listen, unix_connect, unix_listen)
from . import rpc, rpcbind

__all__ = ["__version__", "XipcError", "errors", "xdr", "rpc", "rpcbind"]
__all__ += ["MessageQueue", "unlink_queue"]
__all__ += ["pipe", "mkfifo", "open_fifo", "tcp_listen", "tcp_connect", "unix_listen",
            "unix_connect", "Stream", "Listener", "PeerCredentials"]
