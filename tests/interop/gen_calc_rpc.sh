#!/usr/bin/env bash
# The example service examples/calc.x end to end over TCP, on stubs that
# `xipc gen` writes: each of the generated servers (Python, C, Rust) answers
# each of the generated clients (C, Python, Rust) with the same results.
# Needs the RPC part (issue 4): it fails, saying so, where that is missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${XIPC_BIN:-$root/target/release/xipc}
lib=${XIPC_LIBRARY:-$root/target/release/libxipc.so}
libdir=$(dirname "$lib")
fail() { echo "gen_calc_rpc: FAIL: $*" >&2; exit 1; }
[ -x "$bin" ] || fail "$bin not built: run make all"
grep -q xipc_rpc_client_call "$root/include/xipc.h" ||
    fail "include/xipc.h has no RPC API: this test needs the rpc part (issue 4) merged"
[ -f "$root/bindings/python/xipc/rpc.py" ] || fail "bindings/python/xipc/rpc.py missing: needs the rpc part (issue 4)"
command -v cc >/dev/null || fail "cc not found: install gcc"
command -v cargo >/dev/null || fail "cargo not found: install Rust"
source "$root/tests/interop/gen/common.sh"
gen=$tmp/gen
mkdir -p "$gen" "$tmp/lib"
ln -s "$lib" "$tmp/lib/libxipc.so.0"
for lang in c python rust; do "$bin" gen -q -l "$lang" -o "$gen" "$root/examples/calc.x"; done

cflags="-std=c11 -Wall -Wextra -Wpedantic -Werror -I$root/include -I$gen"
ld="-L$libdir -Wl,-rpath,$tmp/lib -lxipc"
cc $cflags -o "$tmp/c_client" "$root/examples/gen/calc_client.c" "$gen/calc.c" "$gen/calc_clnt.c" $ld
cc $cflags -o "$tmp/c_server" "$root/examples/gen/calc_server.c" "$gen/calc.c" "$gen/calc_svc.c" $ld

# The Rust client and server: a throwaway crate on this xipc.
rust_crate "$tmp/rs" calc-example
mkdir -p "$tmp/rs/src/bin"
for side in client server; do
    sed "s|include!(\"calc.rs\");|include!(\"$gen/calc.rs\");|" "$root/examples/gen/calc_$side.rs" > "$tmp/rs/src/bin/calc_$side.rs"
done
CARGO_TARGET_DIR="$crate_target" cargo build --quiet --release --manifest-path "$tmp/rs/Cargo.toml" ||
    fail "the Rust example client or server does not build"
rs="$crate_target/release"

export PYTHONPATH="$gen:$root/bindings/python${PYTHONPATH:+:$PYTHONPATH}"
export XIPC_LIBRARY="$lib"

start py python3 "$root/examples/gen/calc_server.py"
start c "$tmp/c_server"
start rust "$rs/calc_server"

expect() { # expect CLIENT-NAME GREETING-NAME OUTPUT
    local want
    want=$(printf 'add: 42\nsummary: count 3 mean 3 min 1 max 6\ngreet: hello, %s' "$2")
    [ "$3" = "$want" ] || fail "$1 got:
$3
expected:
$want"
}
n=0
for server in py c rust; do
    port=$(head -n1 "$tmp/$server.port")
    expect "C client -> $server server" "C client" "$("$tmp/c_client" 127.0.0.1 "$port")"
    expect "Python client -> $server server" "Python client" "$(python3 "$root/examples/gen/calc_client.py" 127.0.0.1 "$port")"
    expect "Rust client -> $server server" "Rust client" "$("$rs/calc_client" 127.0.0.1 "$port")"
    n=$((n + 3))
done
echo "gen_calc_rpc: $n client/server pairs (C, Python, Rust each way) agree"
