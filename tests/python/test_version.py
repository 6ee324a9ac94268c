"""One version everywhere: Cargo.toml, the shared library, the Python
package; a library of another version is refused at import."""

import os
import re
import subprocess
import sys
from pathlib import Path

import xipc
from xipc import _lib

ROOT = Path(__file__).resolve().parents[2]


def cargo_version():
    text = (ROOT / "Cargo.toml").read_text()
    return re.search(r'^version\s*=\s*"([^"]+)"', text, re.M).group(1)


def test_package_version_is_cargo_version():
    assert xipc.__version__ == cargo_version()


def test_library_version_is_cargo_version():
    assert _lib.lib.xipc_version().decode() == cargo_version()
    assert _lib.library_version == xipc.__version__


def test_library_of_another_version_is_refused(tmp_path):
    # A copy of the real library whose version string says 9.9.9.
    real = Path(_lib.lib._name)
    image = real.read_bytes()
    version = xipc.__version__.encode() + b"\0"
    other = b"9" * (len(version) - 1) + b"\0"
    assert image.count(version) >= 1, "the library should hold its version string"
    patched = tmp_path / "libxipc.so"
    patched.write_bytes(image.replace(version, other))
    env = dict(os.environ, XIPC_LIBRARY=str(patched))
    result = subprocess.run(
        [sys.executable, "-c", "import xipc.xdr"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("ImportError: xipc: the Python package is version "
                              f"{xipc.__version__} but the shared library")
    assert str(patched) in message
    assert other[:-1].decode() in message


def test_missing_library_is_a_clear_import_error(tmp_path):
    env = dict(os.environ, XIPC_LIBRARY=str(tmp_path / "nowhere" / "libxipc.so"))
    result = subprocess.run(
        [sys.executable, "-c", "import xipc.xdr"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "cannot find libxipc.so" in result.stderr
