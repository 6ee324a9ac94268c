"""Builds the xipc shared library with cargo and ships it inside the package.

``pip install ./bindings/python`` (from a checkout of the repository) runs
``cargo build --release --lib`` in the repository root, two directories up
from here, and copies ``libxipc.so`` next to the package's modules, where
``xipc._lib`` looks for it. A Python user needs cargo, but not ``make``.
The metadata lives in ``pyproject.toml``; this file only adds that step.

``XIPC_CARGO`` names the cargo to run (default: ``cargo`` on the PATH);
``CARGO_TARGET_DIR`` is honoured as cargo itself honours it. Cargo's progress
goes to the terminal pip runs in (pip hides a build's own output unless
``-v`` is given); ``XIPC_BUILD_QUIET=1`` leaves it to pip. The small C
module ``xipc._fast`` (queue and stream calls without ctypes) is built as an
optional extension.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator, TextIO

from setuptools import Extension, setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent  # bindings/python -> the repository root
LIBRARY = "libxipc.so"


def _read_version(path: Path, pattern: str) -> str:
    match = re.search(pattern, path.read_text(), re.MULTILINE)
    if not match:
        raise SystemExit(f"xipc: no version found in {path}")
    return match.group(1)


def _check_versions() -> None:
    """The library refuses to load under a package of another version, so a
    mismatch is reported now rather than at the first import."""
    crate = _read_version(ROOT / "Cargo.toml", r'^version\s*=\s*"([^"]+)"')
    package = _read_version(HERE / "xipc" / "_version.py", r'^__version__\s*=\s*"([^"]+)"')
    if crate != package:
        raise SystemExit(
            f"xipc: Cargo.toml says version {crate} but xipc/_version.py says {package}; "
            "run `make` once to bring them together"
        )


@contextlib.contextmanager
def _progress_output() -> Iterator[TextIO | None]:
    """Where cargo's progress goes: the terminal pip runs in, when there is
    one. pip captures a build's output and shows it only with ``-v`` or on
    failure, so a build of a minute would otherwise show nothing; written
    to the terminal, cargo also draws its progress bar. Without a terminal
    (CI, ``XIPC_BUILD_QUIET=1``) the output goes where pip sends it (None)."""
    if os.environ.get("XIPC_BUILD_QUIET"):
        yield None
        return
    try:
        tty = open("/dev/tty", "w")  # noqa: SIM115 (closed below)
    except OSError:
        yield None
        return
    with tty:
        yield tty


def build_library() -> Path:
    """Runs cargo in the repository root; returns the built shared library."""
    manifest = ROOT / "Cargo.toml"
    if not manifest.is_file():
        raise SystemExit(
            f"xipc: {manifest} is missing: install the Python package from a checkout "
            "of the xipc repository (pip install ./bindings/python)"
        )
    _check_versions()
    cargo = os.environ.get("XIPC_CARGO") or shutil.which("cargo")
    if not cargo:
        raise SystemExit(
            "xipc: building the shared library needs Rust's cargo, which is not on the PATH; "
            "install a Rust toolchain (rustup) and try again"
        )
    command = [cargo, "build", "--release", "--lib", "--manifest-path", str(manifest)]
    with _progress_output() as progress:
        note = "xipc: building libxipc.so with cargo (a minute or two the first time): "
        print(note + " ".join(command), file=progress or sys.stderr, flush=True)
        subprocess.run(command, check=True, cwd=ROOT, stderr=progress)
    target = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
    if not target.is_absolute():
        target = ROOT / target
    built = target / "release" / LIBRARY
    if not built.is_file():
        raise SystemExit(f"xipc: cargo finished but {built} does not exist")
    return built


class BuildPyWithLibrary(build_py):
    """``build_py`` that also puts the freshly built library into the package."""

    def run(self) -> None:
        super().run()
        built = build_library()
        destination = Path(self.build_lib) / "xipc" / LIBRARY
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, destination)
        os.chmod(destination, 0o755)
        # Cargo's release build keeps line tables for backtraces and
        # debuggers in the build tree (14 MB); the package ships without.
        strip = shutil.which(os.environ.get("STRIP", "strip"))
        if strip:
            subprocess.run([strip, "--strip-unneeded", str(destination)], check=True)


class BinaryDistribution(Distribution):
    """The wheel carries a native library, so it is specific to the platform."""

    def has_ext_modules(self) -> bool:
        return True


# setuptools' scratch directories go under cargo's target directory, which
# the repository ignores, instead of into the source tree.
SCRATCH = ROOT / "target" / "python-build"
SCRATCH.mkdir(parents=True, exist_ok=True)

setup(
    # The hot queue and stream calls without ctypes; optional: without a C
    # compiler or the Python headers the package uses ctypes for them too.
    ext_modules=[Extension("xipc._fast", ["xipc/_fast.c"], optional=True,
                           include_dirs=[str(ROOT / "include")],
                           extra_compile_args=["-std=c11", "-O2"])],
    cmdclass={"build_py": BuildPyWithLibrary},
    distclass=BinaryDistribution,
    options={"build": {"build_base": str(SCRATCH)}, "egg_info": {"egg_base": str(SCRATCH)}},
)
