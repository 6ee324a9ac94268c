"""``python -m xipc``: the package's version, and where its library is.

``python -m xipc --version`` prints ``xipc VERSION``; ``python -m xipc`` (or
``python -m xipc info``) also names the shared library in use, its version
and the modules available. Exit status 0, or 2 for a usage error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from . import __version__
from ._lib import lib, library_version

#: The binding's modules that ``info`` reports on, in the order of the docs.
MODULES = ("xdr", "mq", "stream", "rpc")


def info() -> str:
    """A few lines saying which package and library are in use."""
    available = []
    for name in MODULES:
        try:
            importlib.import_module(f"xipc.{name}")
        except ImportError:
            continue
        available.append(name)
    return "\n".join(
        [
            f"xipc {__version__}",
            f"library: {getattr(lib, '_name', '?')} (version {library_version})",
            f"modules: {', '.join(available)}",
            f"python: {sys.version.split()[0]} ({sys.executable})",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m xipc",
        description="xipc: Unix IPC carrying XDR, shared by C, Python and Rust. "
        "For queues, RPC and XDR tools use the `xipc` command.",
    )
    parser.add_argument("--version", action="version", version=f"xipc {__version__}")
    parser.add_argument(
        "command",
        nargs="?",
        choices=["info"],
        default="info",
        help="info (the default): the package, its shared library and modules",
    )
    parser.parse_args(argv)
    print(info())
    return 0


if __name__ == "__main__":
    sys.exit(main())
