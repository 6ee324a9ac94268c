#!/usr/bin/env bash
# Runs the per-mechanism examples of examples/ in C, Python and Rust against
# each other and checks what they print: queue (more in mq_cross.sh), pipe,
# FIFO, TCP, Unix socket and RPC (the RPC ones through an `xipc rpcbind` on
# port 111 of a private network namespace). The generated calc.x stubs run in
# gen_calc_rpc.sh, the demo in demo_run.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${XIPC_BIN:-$root/target/release/xipc}
lib=${XIPC_LIBRARY:-$root/target/release/libxipc.so}
libdir=$(dirname "$lib")
export XIPC_LIBRARY="$lib" XIPC_BIN="$bin"
export PYTHONPATH="$root/bindings/python${PYTHONPATH:+:$PYTHONPATH}"
python=${PYTHON:-python3}
fail() { echo "demo_examples: FAIL: $*" >&2; exit 1; }
[ -x "$bin" ] && [ -f "$lib" ] || fail "build first: make all"
command -v "${CC:-cc}" >/dev/null || fail "no C compiler: install gcc"
command -v unshare >/dev/null || fail "unshare not found: install util-linux"
command -v ip >/dev/null || fail "ip not found: install iproute2 (make deps)"

tmp=$(mktemp -d)
pids=()
cleanup() {
    local status=$?
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    "$bin" mq rm "/xipc-demo-examples-$$" 2>/dev/null || true
    rm -rf "$tmp"
    exit "$status"
}
trap cleanup EXIT

# Build: the C examples as a user would (`cc x.c -lxipc`), the Rust ones with cargo.
for src in mq/send mq/recv pipe/pipe fifo/fifo tcp/tcp unix/unix rpc/server rpc/client; do
    ${CC:-cc} -std=c11 -Wall -Wextra -Wpedantic -Werror -I"$root/include" -o "$tmp/c_${src//\//_}" \
        "$root/examples/$src.c" -L"$libdir" -Wl,-rpath,"$libdir" -lxipc ||
        fail "examples/$src.c does not build"
done
# The test-opt profile, as `make test` builds its tests: a release build of
# an example resolves features with the dev-dependencies and so rebuilds
# the release library, which `make` then builds back (about 35 s each way).
cargo build --quiet --profile test-opt --manifest-path "$root/Cargo.toml" \
    --example mq --example pipe --example fifo --example tcp --example unix --example rpc ||
    fail "the Rust examples do not build"
rs=${CARGO_TARGET_DIR:-$root/target}/test-opt/examples

# run_as LANG NAME ARGS...: runs the example NAME in LANG (c, py or rust);
# example LANG NAME: sets `cmd` to its command line, for background runs
# (`"${cmd[@]}" ARGS &` makes $! the example itself, which kill then stops).
example() {
    case $1 in
        c) cmd=("$tmp/c_$2_$2") ;;
        py) cmd=("$python" "$root/examples/$2/$2.py") ;;
        rust) cmd=("$rs/$2") ;;
    esac
}
run_as() {
    local cmd
    example "$1" "$2"
    shift 2
    "${cmd[@]}" "$@"
}
expect() { # expect WHAT ACTUAL EXPECTED-REGEX (whole output)
    [[ $2 =~ ^$3$ ]] || fail "$1 printed:
$2
expected (regex):
$3"
}
start() { # start LOG COMMAND...: a server in the background, waiting for its first line
    local log=$1
    shift
    "$@" > "$log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do
        [ -s "$log" ] && return 0
        kill -0 "${pids[-1]}" 2>/dev/null || fail "$* exited: $(cat "$log")"
        sleep 0.1
    done
    fail "$* printed nothing in 10 s"
}
langs=(c py rust)
n=0

# Queue: every sender with every receiver; the most urgent message first.
queue="/xipc-demo-examples-$$"
for sender in "${langs[@]}"; do
    for receiver in "${langs[@]}"; do
        case $sender in
            c) "$tmp/c_mq_send" "$queue" 1 "routine from $sender" && "$tmp/c_mq_send" "$queue" 8 urgent ;;
            py) "$python" "$root/examples/mq/send.py" "$queue" 1 "routine from $sender" &&
                "$python" "$root/examples/mq/send.py" "$queue" 8 urgent ;;
            rust) "$rs/mq" send "$queue" 1 "routine from $sender" && "$rs/mq" send "$queue" 8 urgent ;;
        esac
        case $receiver in
            c) out=$("$tmp/c_mq_recv" "$queue" 2) ;;
            py) out=$("$python" "$root/examples/mq/recv.py" "$queue" 2) ;;
            rust) out=$("$rs/mq" recv "$queue" 2) ;;
        esac
        expect "queue $sender -> $receiver" "$out" "8 urgent
1 routine from $sender"
        n=$((n + 1))
    done
done
"$bin" mq rm "$queue"

# asyncio: a Python event loop watching a pipe's descriptor.
expect "asyncio_stream.py" "$("$python" "$root/examples/asyncio_stream.py")" 'got tick 0
got tick 1
got tick 2
got tick 3
got tick 4'
n=$((n + 1))

# Pipe: a parent and the child it started (each language on its own).
for lang in "${langs[@]}"; do
    out=$(cd "$tmp" && run_as "$lang" pipe)
    expect "pipe ($lang)" "$out" 'parent got: message 1 from child [0-9]+
parent got: message 2 from child [0-9]+
parent got: message 3 from child [0-9]+'
    n=$((n + 1))
done

# FIFO: every reader with every writer.
for reader in "${langs[@]}"; do
    for writer in "${langs[@]}"; do
        fifo="$tmp/fifo-$reader-$writer"
        example "$reader" fifo
        "${cmd[@]}" read "$fifo" > "$tmp/fifo.out" &
        pids+=($!)
        for _ in $(seq 100); do [ -p "$fifo" ] && break; sleep 0.05; done
        run_as "$writer" fifo write "$fifo" hello "over a" fifo
        wait "${pids[-1]}" || fail "FIFO reader ($reader) exited with $?"
        unset 'pids[-1]'
        expect "FIFO $writer -> $reader" "$(cat "$tmp/fifo.out")" 'hello
over a
fifo'
        n=$((n + 1))
    done
done

# TCP and Unix sockets: every client with every server.
for server in "${langs[@]}"; do
    example "$server" tcp
    start "$tmp/tcp-$server.log" "${cmd[@]}" server 0
    port=$(sed -n '1s/^listening on port \([0-9]*\)$/\1/p' "$tmp/tcp-$server.log")
    [ -n "$port" ] || fail "TCP server ($server) printed: $(cat "$tmp/tcp-$server.log")"
    example "$server" unix
    start "$tmp/unix-$server.log" "${cmd[@]}" server "$tmp/$server.sock"
    for client in "${langs[@]}"; do
        expect "TCP $client -> $server" "$(run_as "$client" tcp client localhost "$port" hello xdr)" \
            'hello -> HELLO
xdr -> XDR'
        expect "Unix socket $client -> $server" "$(run_as "$client" unix client "$tmp/$server.sock")" \
            "hello pid [0-9]+ \(uid $(id -u), gid $(id -g)\)"
        n=$((n + 2))
    done
done
for p in "${pids[@]}"; do kill "$p" && { wait "$p" || true; }; done
pids=()

# RPC: each server registers with rpcbind on port 111, each client finds it
# there, over TCP and UDP. Port 111 and rpcbind's Unix socket (under /run)
# belong to a private network and mount namespace, so nothing of this
# machine is touched.
if [ "$(id -u)" = 0 ]; then ns=(unshare --net --mount); else ns=(unshare --map-root-user --net --mount); fi
"${ns[@]}" true 2>/dev/null || fail "cannot create a private network namespace (${ns[*]}); run as root or allow unprivileged user namespaces"
cat > "$tmp/rpc.sh" <<'SCRIPT'
set -euo pipefail
fail() { echo "demo_examples: FAIL: $*" >&2; exit 1; }
mount -t tmpfs none /run
ip link set lo up
"$XIPC_BIN" rpcbind > "$tmp/rpcbind.log" 2>&1 &
rpcbind=$!
pids+=("$rpcbind")
for _ in $(seq 50); do "$XIPC_BIN" rpc ping 127.0.0.1 100000 2 -t 1 >/dev/null 2>&1 && break; sleep 0.1; done
prog=536894042 # 0x20005A5A
for server in "${langs[@]}"; do
    case $server in
        c) start "$tmp/rpc-$server.log" "$tmp/c_rpc_server" ;;
        py) start "$tmp/rpc-$server.log" "$python" "$root/examples/rpc/server.py" ;;
        rust) start "$tmp/rpc-$server.log" "$rs/rpc" server ;;
    esac
    server_pid=${pids[-1]}
    expect "RPC server ($server)" "$(head -n1 "$tmp/rpc-$server.log")" 'TCP port [0-9]+ UDP port [0-9]+'
    for client in "${langs[@]}"; do
        for proto in tcp udp; do
            case $client in
                c) out=$("$tmp/c_rpc_client" 127.0.0.1 "$proto") ;;
                py) out=$("$python" "$root/examples/rpc/client.py" 127.0.0.1 "$proto") ;;
                rust) out=$("$rs/rpc" client 127.0.0.1 "$proto") ;;
            esac
            expect "RPC $client -> $server ($proto, found through rpcbind)" "$out" '40 \+ 2 = 42
echo: hello, ONC RPC
procedure 9: unavailable \(PROC_UNAVAIL\)'
            n=$((n + 1))
        done
    done
    kill -TERM "$server_pid"
    wait "$server_pid" || fail "RPC server ($server) exited with $? on SIGTERM: $(cat "$tmp/rpc-$server.log")"
    unset 'pids[-1]'
    echoes=$(grep -c "^ECHO of 14 bytes from $(cat /proc/sys/kernel/hostname) (xid 0x[0-9a-f]*)$" "$tmp/rpc-$server.log" || true)
    [ "$echoes" = 6 ] || fail "RPC server ($server) logged $echoes of 6 echoes: $(cat "$tmp/rpc-$server.log")"
    if "$XIPC_BIN" rpc ping 127.0.0.1 "$prog" 1 -t 2 >/dev/null 2>&1; then
        fail "RPC server ($server) left its registration with rpcbind"
    fi
done
echo "$n" > "$tmp/rpc.count"
SCRIPT
export tmp root python rs
"${ns[@]}" bash -c "$(declare -f fail expect start); langs=(${langs[*]}); n=$n; pids=(); trap 'for p in \"\${pids[@]}\"; do kill \$p 2>/dev/null; done' EXIT; source \"\$tmp/rpc.sh\"" ||
    fail "the RPC examples failed (see above)"
n=$(cat "$tmp/rpc.count")
echo "demo_examples: $n runs of the queue, pipe, FIFO, TCP, Unix-socket and RPC examples (C, Python, Rust) printed what they should"
