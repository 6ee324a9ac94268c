#!/usr/bin/env bash
# The xipc demo (`make demo`, which builds the library and the xipc command
# first): C, Python and Rust programs from examples/ talking to each other.
#
#   1. RPC: a Python service defined in examples/calc.x (stubs from `xipc gen`)
#      registers with an embedded rpcbind (`xipc rpcbind` on a free port);
#      a C client and a Rust client look it up there and call it.
#   2. POSIX message queue: a C producer sends prioritised jobs; a Python
#      consumer receives them, most urgent first.
#   3. Pipe and FIFO: a Python parent and its C child exchange framed XDR
#      messages.
#
# Everything it makes (queue, FIFOs, sockets, files, processes) is removed on
# exit, also when a step fails. Exit status 0 when every scene ran.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/examples/demo"
lib="$root/target/release"
bin=${XIPC_BIN:-$lib/xipc}
export XIPC_LIBRARY="${XIPC_LIBRARY:-$lib/libxipc.so}"
python=${PYTHON:-python3}
fail() { echo "demo: FAIL: $*" >&2; exit 1; }
[ -x "$bin" ] && [ -f "$XIPC_LIBRARY" ] || fail "the library and xipc are not built: run make demo"
command -v "${CC:-cc}" >/dev/null || fail "no C compiler: install gcc"
command -v cargo >/dev/null || fail "cargo not found: install Rust (https://rustup.rs)"

work=$(mktemp -d "${TMPDIR:-/tmp}/xipc-demo.XXXXXX")
queue="/xipc-demo-$$"
rpcbind_pid=""
service_pid=""
stop() { # stop PID: SIGTERM (SIGKILL after 5 s), then wait; true when it exited 0
    [ -n "$1" ] || return 0
    kill -TERM "$1" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$1" 2>/dev/null; then
        echo "demo: process $1 outlived SIGTERM by 5 s; killing it" >&2
        kill -KILL "$1" 2>/dev/null || true
    fi
    wait "$1"
}
cleanup() {
    local status=$?
    stop "$service_pid" || true
    stop "$rpcbind_pid" || true
    "$bin" mq rm "$queue" 2>/dev/null || true
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

scene() { printf '\n=== %s\n' "$*"; }
say() { printf '%s\n' "$*"; }

# Build: stubs from calc.x in the three languages, the C programs, the Rust client.
gen="$work/gen"
for lang in c python rust; do "$bin" gen -q --lang "$lang" -o "$gen" "$root/examples/calc.x"; done
build_c() { # build_c NAME SOURCES...: compiles SOURCES into $work/NAME
    local name=$1
    shift
    ${CC:-cc} -std=c11 -Wall -Wextra -Werror -O2 -I"$root/include" -I"$gen" -o "$work/$name" "$@" \
        -L"$lib" -Wl,-rpath,"$lib" -lxipc
}
build_c calc_client "$here/calc_client.c" "$gen/calc.c" "$gen/calc_clnt.c"
build_c mq_producer "$here/mq_producer.c"
build_c xdr_child "$here/xdr_child.c"
# The Rust client is a small crate of its own, as a user's would be, on this
# checkout of xipc.
mkdir -p "$work/rust/src"
cat > "$work/rust/Cargo.toml" <<TOML
[package]
name = "xipc-demo-calc-client"
version = "0.0.0"
edition = "2021"
publish = false
[[bin]]
name = "xipc_demo_calc_client"
path = "src/main.rs"
[dependencies]
xipc = { path = "$root" }
[workspace]
TOML
# With xipc's own Cargo.lock: the dependency versions its tests ran with.
cp "$root/Cargo.lock" "$work/rust/Cargo.lock"
cp "$here/calc_client.rs" "$work/rust/src/main.rs"
cp "$gen/calc.rs" "$work/rust/src/calc.rs"
# Not the repository's target directory: xipc builds as a cdylib too, so
# cargo names its library without a hash, and this crate's build of it would
# overwrite the repository's own (a later `make` then failed to link the xipc
# binary). target/crates is shared with the crates of tests/interop, which
# build xipc with the same profile and features, so it builds there once.
target=${CARGO_TARGET_DIR:-$root/target}/crates
say "demo: building the Rust client (cargo, the first time takes a minute)"
CARGO_TARGET_DIR="$target" cargo build --quiet --release --manifest-path "$work/rust/Cargo.toml" ||
    fail "the Rust client does not build"
rust_client="$target/release/xipc_demo_calc_client"

# Scene 1 ---------------------------------------------------------------------
scene "RPC: a Python service from calc.x, found through rpcbind, called from C and Rust"
free_port() {
    "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
rpcbind_port=""
for _ in 1 2 3 4 5; do # another program may take the port between the check and the bind
    port=$(free_port)
    "$bin" rpcbind --port "$port" 2> "$work/rpcbind.err" &
    rpcbind_pid=$!
    for _ in $(seq 50); do
        if "$bin" rpc ping 127.0.0.1 100000 2 --port "$port" -t 1 >/dev/null 2>&1; then
            rpcbind_port=$port
            break 2
        fi
        kill -0 "$rpcbind_pid" 2>/dev/null || break
        sleep 0.1
    done
    stop "$rpcbind_pid" || true
    rpcbind_pid=""
done
[ -n "$rpcbind_port" ] || fail "xipc rpcbind did not start: $(cat "$work/rpcbind.err")"
say "rpcbind: xipc rpcbind serving on port $rpcbind_port (TCP and UDP)"

PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$gen:$root/examples/gen:$root/bindings/python${PYTHONPATH:+:$PYTHONPATH}" \
    "$python" "$here/calc_service.py" "$rpcbind_port" > "$work/service.out" 2>&1 &
service_pid=$!
shown=0
show_service() { # prints the service's lines not shown yet
    local n
    n=$(wc -l < "$work/service.out")
    [ "$n" -gt "$shown" ] && sed -n "$((shown + 1)),${n}p" "$work/service.out"
    shown=$n
}
for _ in $(seq 100); do
    grep -q registered "$work/service.out" && break
    kill -0 "$service_pid" 2>/dev/null || fail "the Python service stopped: $(cat "$work/service.out")"
    sleep 0.1
done
grep -q registered "$work/service.out" || fail "the Python service did not register: $(cat "$work/service.out")"
show_service
say "rpcbind: what it holds besides itself (xipc rpc dump):"
"$bin" rpc dump 127.0.0.1 --rpcbind-port "$rpcbind_port" | grep -v portmapper | sed 's/^/    /'
"$work/calc_client" 127.0.0.1 "$rpcbind_port"
show_service
"$rust_client" 127.0.0.1 "$rpcbind_port"
show_service
stop "$service_pid" || fail "the Python service exited with status $?: $(cat "$work/service.out")"
service_pid=""
show_service
"$bin" rpc ping 127.0.0.1 536871169 1 --rpcbind-port "$rpcbind_port" -t 2 >/dev/null 2>&1 &&
    fail "calc is still registered with rpcbind after the service stopped"
stop "$rpcbind_pid" || fail "xipc rpcbind exited with status $?: $(cat "$work/rpcbind.err")"
rpcbind_pid=""
say "rpcbind: stopped"

# Scene 2 ---------------------------------------------------------------------
scene "POSIX message queue $queue: a C producer, a Python consumer, priorities"
"$work/mq_producer" "$queue"
PYTHONPATH="$root/bindings/python${PYTHONPATH:+:$PYTHONPATH}" "$python" "$here/mq_consumer.py" "$queue" 4

# Scene 3 ---------------------------------------------------------------------
scene "Pipe and FIFO: framed XDR between a Python parent and its C child"
# (A bound on the whole exchange: a child that died before opening its FIFO
# would leave the parent waiting for it.)
PYTHONPATH="$root/bindings/python${PYTHONPATH:+:$PYTHONPATH}" timeout 60 "$python" "$here/xdr_parent.py" "$work/xdr_child" "$work"

printf '\n'
say "demo: every scene ran; queue, FIFOs, sockets, files and processes removed"
