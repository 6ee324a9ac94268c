#!/usr/bin/env bash
# Bytes after a reply's results or a call's arguments, on the stubs `xipc
# gen` writes for tests/gen/trailing.x, in C, Python and Rust:
#  - a server whose replies carry 4 bytes after the result: the generated
#    clients take the result, as libtirpc's do, and a strict client
#    (XIPC_GEN_STRICT in C, strict=True in Python, with_strict(true) in
#    Rust) reports the bytes as malformed XDR;
#  - a call with 4 bytes after its arguments: the generated servers answer
#    it, and a strict one (XIPC_GEN_STRICT, register(server, strict=True),
#    TRAIL_V1_register_with(.., true)) answers GARBAGE_ARGS.
# When rpc.rstatd (Debian package rstatd) is installed, its reply to
# RSTATPROC_STATS version 3 goes through the generated Python client of
# rstat.x too; the test says when it could not be run.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/tests/interop/gen_trailing
bin=${XIPC_BIN:-$root/target/release/xipc}
lib=${XIPC_LIBRARY:-$root/target/release/libxipc.so}
libdir=$(dirname "$lib")
fail() { echo "gen_trailing: FAIL: $*" >&2; exit 1; }
[ -x "$bin" ] || fail "$bin not built: run make all"
command -v cc >/dev/null || fail "cc not found: install gcc"
command -v cargo >/dev/null || fail "cargo not found: install Rust"
source "$root/tests/interop/gen/common.sh"
gen=$tmp/gen
mkdir -p "$gen" "$tmp/lib"
ln -s "$lib" "$tmp/lib/libxipc.so.0"
for lang in c python rust; do "$bin" gen -q -l "$lang" -o "$gen" "$root/tests/gen/trailing.x"; done

cflags="-std=c11 -Wall -Wextra -Wpedantic -Werror -I$root/include -I$gen"
ld="-L$libdir -Wl,-rpath,$tmp/lib -lxipc"
for kind in lenient strict; do
    def=""
    [ $kind = strict ] && def=-DXIPC_GEN_STRICT
    # shellcheck disable=SC2086
    cc $cflags $def -o "$tmp/c_client_$kind" "$here/client.c" "$gen/trailing.c" "$gen/trailing_clnt.c" $ld
    # shellcheck disable=SC2086
    cc $cflags $def -o "$tmp/c_server_$kind" "$here/server.c" "$gen/trailing.c" "$gen/trailing_svc.c" $ld
done

rust_crate "$tmp/rs" gen-trailing
cp "$here/main.rs" "$tmp/rs/src/main.rs"
TRAILING_RS="$gen/trailing.rs" CARGO_TARGET_DIR="$crate_target" cargo build --quiet --release \
    --manifest-path "$tmp/rs/Cargo.toml" || fail "the Rust client and server do not build"
rs="$crate_target/release/gen-trailing"

export PYTHONPATH="$gen:$root/bindings/python${PYTHONPATH:+:$PYTHONPATH}"
export XIPC_LIBRARY="$lib"

port() { head -n1 "$tmp/$1.port"; }
expect() { # expect WHAT GOT WANT
    [ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"
    n=$((n + 1))
}
n=0

# Replies with 4 bytes after the result.
start pad python3 "$here/server.py" pad
p=$(port pad)
expect "C client" "$("$tmp/c_client_lenient" "$p")" 7
expect "strict C client" "$("$tmp/c_client_strict" "$p")" "error: malformed XDR"
expect "Python client" "$(python3 "$here/client.py" lenient "$p")" 7
expect "strict Python client" "$(python3 "$here/client.py" strict "$p")" "error: MalformedXdr"
expect "Rust client" "$("$rs" client lenient "$p")" 7
expect "strict Rust client" "$("$rs" client strict "$p")" "error: malformed XDR"

# Calls with 4 bytes after the arguments.
start py_lenient python3 "$here/server.py" lenient
start py_strict python3 "$here/server.py" strict
start c_lenient "$tmp/c_server_lenient"
start c_strict "$tmp/c_server_strict"
start rs_lenient "$rs" server lenient
start rs_strict "$rs" server strict
for lang in py c rs; do
    expect "$lang server" "$(python3 "$here/client.py" extra "$(port ${lang}_lenient)")" 7
    expect "strict $lang server" "$(python3 "$here/client.py" extra "$(port ${lang}_strict)")" "error: GarbageArgs"
done
echo "gen_trailing: $n checks: trailing bytes ignored by default, refused when strict, in C, Python and Rust"
