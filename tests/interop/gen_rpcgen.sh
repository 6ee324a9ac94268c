#!/usr/bin/env bash
# xipc gen against rpcgen: the sample value of tests/gen/every.x encodes to
# the same bytes through rpcgen's xdr_* routines (libtirpc), xipc's generated
# C and xipc's generated Python; generated C and Python decode rpcgen's bytes
# back to the sample. Also pins the committed golden encodings that the Rust
# test (tests/idl_rust.rs) checks against.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
gen=$root/tests/gen
bin=${XIPC_BIN:-$root/target/release/xipc}
libdir=$(dirname "${XIPC_LIBRARY:-$root/target/release/libxipc.so}")
fail() { echo "gen_rpcgen: FAIL: $*" >&2; exit 1; }
command -v rpcgen >/dev/null || fail "rpcgen not found: install the rpcsvc-proto package (scripts/deps.sh)"
command -v cc >/dev/null || fail "cc not found: install gcc"
pkg-config --exists libtirpc || fail "libtirpc not found: install libtirpc-dev"
[ -x "$bin" ] || fail "$bin not built: run make all"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# compat.x is every.x minus what rpcgen rejects (C++ comments, quadruple).
grep -v -e '^//' -e quadruple "$gen/every.x" | sed '1,4s/every.x: every construct of the RPC language/compat.x: every.x without quadruple and C++ comments (what rpcgen accepts)/' \
    | cmp -s - "$gen/compat.x" || fail "tests/gen/compat.x is not every.x filtered (see this script)"

cflags="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I$root/include -I$gen"
tirpc="$(pkg-config --cflags --libs libtirpc)"
# The library's soname is libxipc.so.0; the build tree has only libxipc.so.
mkdir "$tmp/lib"
ln -s "$libdir/libxipc.so" "$tmp/lib/libxipc.so.0"
xipc_ld="-L$libdir -Wl,-rpath,$tmp/lib -lxipc"

# rpcgen's bytes.
mkdir "$tmp/r"
cp "$gen/compat.x" "$tmp/r/"
(cd "$tmp/r" && rpcgen -N -h compat.x -o compat.h && rpcgen -N -c compat.x -o compat_xdr.c)
# rpcgen's own output is not warning-free (only our main gets -Werror), and
# its inline fast path for bool arrays names a type `bool` it never defines.
cc -std=c11 -D_GNU_SOURCE -I"$tmp/r" -I"$gen" -o "$tmp/rpcgen_every" \
    "$gen/every_rpcgen_main.c" "$tmp/r/compat_xdr.c" $tirpc -w -Dbool=bool_t
rpcgen_hex=$("$tmp/rpcgen_every")
[ "$rpcgen_hex" = "$(cat "$gen/compat_value.hex")" ] || fail "rpcgen's bytes differ from tests/gen/compat_value.hex"

# xipc's generated C, on compat.x and on every.x.
for x in compat every; do
    mkdir "$tmp/c_$x"
    "$bin" gen -q -l c --no-rpc --base every -o "$tmp/c_$x" "$gen/$x.x"
    extra=""
    [ $x = compat ] && extra=-DEVERY_NO_QUAD
    cc $cflags -Wpedantic $extra -I"$tmp/c_$x" -o "$tmp/xipc_$x" "$gen/every_xipc_main.c" "$tmp/c_$x/every.c" $xipc_ld
done
c_hex=$("$tmp/xipc_compat" encode)
[ "$c_hex" = "$rpcgen_hex" ] || fail "xipc C bytes differ from rpcgen's:
 rpcgen $rpcgen_hex
 xipc   $c_hex"
back=$("$tmp/xipc_compat" decode "$rpcgen_hex") || fail "xipc C could not decode rpcgen's bytes to the sample"
[ "$back" = "$rpcgen_hex" ] || fail "xipc C decode + encode of rpcgen's bytes changed them"
every_hex=$("$tmp/xipc_every" encode)
[ "$every_hex" = "$(cat "$gen/every_value.hex")" ] || fail "xipc C bytes of every.x differ from tests/gen/every_value.hex"
"$tmp/xipc_every" decode "$every_hex" >/dev/null || fail "xipc C could not decode its own every.x bytes"

# xipc's generated Python.
"$bin" gen -q -l python -o "$tmp" "$gen/every.x"
"$bin" gen -q -l python -o "$tmp" "$gen/compat.x"
PYTHONPATH="$tmp:$gen${PYTHONPATH:+:$PYTHONPATH}" python3 - "$rpcgen_hex" "$every_hex" <<'PY' || fail "Python differs (see above)"
import sys
import compat, every, every_value
rpcgen_hex, every_hex = sys.argv[1], sys.argv[2]
c = every_value.sample(compat, quad=False)
assert c.to_bytes().hex() == rpcgen_hex, "Python compat bytes differ from rpcgen's"
assert compat.everything.from_bytes(bytes.fromhex(rpcgen_hex)) == c, "Python decode of rpcgen's bytes"
e = every_value.sample(every)
assert e.to_bytes().hex() == every_hex, "Python every.x bytes differ from C's"
assert every.everything.from_bytes(bytes.fromhex(every_hex)) == e, "Python decode of C's bytes"
PY
echo "gen_rpcgen: rpcgen, xipc C and xipc Python agree on $(( ${#rpcgen_hex} / 2 )) bytes (compat.x) and $(( ${#every_hex} / 2 )) bytes (every.x)"
