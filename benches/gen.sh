#!/usr/bin/env bash
# xipc gen benchmarks, each beside its baseline in the same run:
#  - Python: generated stubs vs stdlib xdrlib, 100,000 records;
#  - C: generated codecs (xipc C API) vs rpcgen's xdr_* routines (libtirpc).
# The record is benches/gen_record.x: int, double, string<16>, int<8>.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${XIPC_BIN:-$root/target/release/xipc}
libdir=$(dirname "${XIPC_LIBRARY:-$root/target/release/libxipc.so}")
fail() { echo "gen bench: FAIL: $*" >&2; exit 1; }
source "$root/benches/targets.bash"
[ -x "$bin" ] || fail "$bin not built: run make all"
command -v rpcgen >/dev/null || fail "rpcgen not found: install the rpcsvc-proto package"
pkg-config --exists libtirpc || fail "libtirpc not found: install libtirpc-dev"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/lib" "$tmp/x" "$tmp/r"
ln -s "$libdir/libxipc.so" "$tmp/lib/libxipc.so.0"

"$bin" gen -q -l python -o "$tmp" "$root/benches/gen_record.x"
PYTHONPATH="$tmp${PYTHONPATH:+:$PYTHONPATH}" python3 "$root/benches/gen_py_bench.py"

"$bin" gen -q -l c --no-rpc -o "$tmp/x" "$root/benches/gen_record.x"
cc -O2 -std=c11 -Wall -Wextra -I"$root/include" -I"$tmp/x" -o "$tmp/xipc_bench" \
    "$root/benches/gen_c_bench.c" "$tmp/x/gen_record.c" -L"$libdir" -Wl,-rpath,"$tmp/lib" -lxipc
cp "$root/benches/gen_record.x" "$tmp/r/"
(cd "$tmp/r" && rpcgen -h gen_record.x -o gen_record.h && rpcgen -c gen_record.x -o gen_record_xdr.c)
cc -O2 -std=c11 -w -DUSE_RPCGEN -I"$tmp/r" $(pkg-config --cflags libtirpc) -o "$tmp/rpcgen_bench" \
    "$root/benches/gen_c_bench.c" "$tmp/r/gen_record_xdr.c" $(pkg-config --libs libtirpc)
x=$("$tmp/xipc_bench")
r=$("$tmp/rpcgen_bench")
field() { echo "$1" | sed -n "s/.*$2 \([0-9.]*\).*/\1/p"; }
[ "$(field "$x" check)" = "$(field "$r" check)" ] || fail "C results differ: $x / $r"
xe=$(field "$x" encode); xd=$(field "$x" decode); re=$(field "$r" encode); rd=$(field "$r" decode)
bar=1.5 # the generated C codecs at least this many times as fast as rpcgen's
total=$(awk -v xe="$xe" -v xd="$xd" -v re="$re" -v rd="$rd" 'BEGIN { printf "%.2f", (re + rd) / (xe + xd) }')
awk -v xe="$xe" -v xd="$xd" -v re="$re" -v rd="$rd" -v total="$total" -v bar="$bar" 'BEGIN {
    print "C: 100000 records, encode into one buffer + decode back, best of 5 rounds"
    printf "  xipc gen (xipc C API)  encode %7.4f s  decode %7.4f s  total %7.4f s\n", xe, xd, xe + xd
    printf "  rpcgen (libtirpc)      encode %7.4f s  decode %7.4f s  total %7.4f s\n", re, rd, re + rd
    printf "  ratio (rpcgen / xipc): encode %5.2fx  decode %5.2fx  total %5sx  (target >= %sx)\n", re / xe, rd / xd, total, bar
}'
bench_target "gen: C stubs, rpcgen / xipc time" "$total" ">=" "$bar"
