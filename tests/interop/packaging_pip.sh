#!/usr/bin/env bash
# `pip install ./bindings/python` into a fresh venv builds libxipc.so with
# cargo and installs it inside the package; then, from outside the
# repository and without XIPC_LIBRARY or PYTHONPATH, `python -m xipc
# --version` works, the library loaded is the installed one, and an XDR round
# trip goes through it. `pip uninstall` takes the library away again.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
fail() { echo "FAIL: $*"; exit 1; }
py=${PYTHON:-python3}
command -v cargo >/dev/null || fail "cargo is missing (install a Rust toolchain)"
"$py" -c 'import venv, ensurepip' 2>/dev/null || fail "$py cannot create venvs with pip (install python3-venv)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/xipc-pip.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$root/Cargo.toml" | head -n1)

"$py" -m venv "$tmp/venv"
vpy="$tmp/venv/bin/python"
# The build runs cargo in the repository; its products stay out of the tree.
# (`make` puts its own build of the C module xipc._fast there; that one stays.)
ignored() { git -C "$root" status --porcelain --ignored bindings/python | grep '^!!' | grep -v '__pycache__' || true; }
before=$(ignored)
# In a terminal (script(1) gives it one), as a user types it: pip hides the
# build's output, but cargo's progress reaches the terminal.
command -v script >/dev/null || fail "script is missing (apt-get install bsdutils)"
install_cmd="env -u XIPC_LIBRARY -u PYTHONPATH -u XIPC_BUILD_QUIET $(printf '%q ' "$vpy") -m pip install -q \
    --disable-pip-version-check $(printf '%q' "$root/bindings/python")"
script -qec "$install_cmd" /dev/null >"$tmp/pip.log" 2>&1 </dev/null \
    || { cat "$tmp/pip.log"; fail "pip install ./bindings/python"; }
[[ $(ignored) == "$before" ]] || fail "pip install left files in bindings/python: $(ignored)"
grep -q 'xipc: building libxipc.so with cargo' "$tmp/pip.log" || { cat "$tmp/pip.log"; fail "pip install showed no word of the cargo build"; }
sed 's/\x1b\[[0-9;]*m//g' "$tmp/pip.log" | grep -q 'Finished `release` profile' || { cat "$tmp/pip.log"; fail "pip install did not show cargo's output"; }
echo "pip install: cargo's progress shown in the terminal"

cd "$tmp"   # outside the repository: nothing of the checkout is importable
run() { env -u XIPC_LIBRARY -u PYTHONPATH "$vpy" "$@"; }

out=$(run -m xipc --version)
[[ $out == "xipc $version" ]] || fail "python -m xipc --version printed '$out'"
echo "python -m xipc --version: $out"

site=$(run -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')
lib=$(run -c 'import xipc._lib as l; print(l.lib._name)')
[[ $lib == "$site/xipc/libxipc.so" ]] || fail "the library loaded is '$lib', not the installed $site/xipc/libxipc.so"
[[ -f "$site/xipc/py.typed" ]] || fail "py.typed is not installed"
[[ -f "$site/xipc/__main__.py" ]] || fail "__main__.py is not installed"
size=$(stat -c %s "$lib")
((size < 4 * 1024 * 1024)) || fail "the installed libxipc.so is $size bytes: not stripped"
echo "library: $lib ($size bytes, installed with the package, with py.typed)"
fast=$(run -c 'import xipc._lib as l; print(l.fast.__file__ if l.fast else "")')
[[ $fast == "$site"/xipc/_fast*.so ]] || fail "the C module xipc._fast was not built and installed (got '$fast'); pip.log: $(cat "$tmp/pip.log")"
echo "C module: $fast"

info=$(run -m xipc)
grep -qx "library: $lib (version $version)" <<<"$info" || fail "python -m xipc printed: $info"

out=$(run - <<'PY'
import xipc
from xipc import xdr
p = xdr.Packer()
p.pack_int(-1)
p.pack_string(b"hi")
p.pack_double_array([1.5, -2.0])      # one call into libxipc
data = p.get_buffer()
assert data.hex() == "ffffffff" "00000002" "68690000" "00000002" "3ff8000000000000" "c000000000000000", data.hex()
u = xdr.Unpacker(data)
values = (u.unpack_int(), u.unpack_string(), list(u.unpack_double_array()))
u.done()
print(xipc.__version__, values)
PY
)
[[ $out == "$version (-1, b'hi', [1.5, -2.0])" ]] || fail "round trip printed '$out'"
echo "round trip through the installed library: $out"

run -m pip uninstall -q -y xipc
[[ ! -e "$site/xipc" ]] || fail "pip uninstall left $site/xipc"
echo "uninstall: $site/xipc removed"
echo "PASS: packaging_pip"
