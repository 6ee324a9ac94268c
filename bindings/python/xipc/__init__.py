"""xipc: POSIX message queues, pipes, FIFOs, stream sockets and ONC RPC
carrying XDR, shared by C, Python and Rust processes."""

from ._version import __version__
from .errors import XipcError
from . import errors, xdr
from . import rpc

__all__ = ["__version__", "XipcError", "errors", "xdr", "rpc"]
