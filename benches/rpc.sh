#!/usr/bin/env bash
# ONC RPC benchmarks: xipc against the same xecho.x service built with
# rpcgen + libtirpc, measured in the same run and printed as ratios.
#   - sequential small calls (ADD) per second, TCP and UDP, both processes
#     pinned to CPU 0 and unpinned;
#   - 16 concurrent clients (one connection each), calls per second, TCP,
#     pinned and unpinned, beside raw ping-pong on 16 connections, the
#     ceiling for any RPC library that uses one connection per client,
#     served two ways: a thread per connection, and one thread looping on
#     an epoll set that serves every connection ready (up to 64 a wait);
#   - 16 threads calling through one shared client, TCP, pinned and
#     unpinned: xipc pipelines their calls on the one connection; a
#     libtirpc CLIENT lets one call through at a time, so the figure is
#     also set beside libtirpc's best, 16 clients of their own, and beside
#     raw ping-pong of 16 threads pipelining on one connection;
#   - 64 KiB ECHO throughput, TCP, pinned and unpinned;
#   - raw TCP ping-pong of the same byte counts as the floor;
#   - RPC-with-TLS (RFC 9289): xipc over TLS 1.3 beside xipc in the clear,
#     sequential ADD, 16 threads through one shared client and 64 KiB echo,
#     pinned and unpinned, and the time to set a connection up (TCP
#     connect, AUTH_TLS probe, TLS handshake);
#     beside them, as the floor, 64 KiB echoes with no RPC over TLS 1.3
#     made by OpenSSL and in the clear (benches/rpc/tls_echo.c), and in
#     TLS-shaped records sealed and opened in place with ring, no TLS
#     library, and in the clear (benches/rpc/tls_record_floor.rs);
#   - a Python server (xipc.rpc.Server, a Python handler) beside the same
#     ADD served by Python on the standard library alone, pinned and
#     unpinned, both called by the C client.
# Each figure is the median of RPC_BENCH_REPEAT runs (default 5), xipc,
# libtirpc and the raw floors they are set against alternating run by run,
# so a busy machine disturbs them alike and no single lucky or unlucky run
# decides a ratio.
# Knobs: RPC_BENCH_CALLS (default 20000), RPC_BENCH_ECHO (default 1000).
source "$(dirname "$0")/../tests/interop/rpc/common.sh"
source "$(dirname "$0")/targets.bash"
BENCH_DIR=$(cd "$(dirname "$0")/rpc" && pwd)
CALLS=${RPC_BENCH_CALLS:-20000}
ECHOS=${RPC_BENCH_ECHO:-1000}
REPEAT=${RPC_BENCH_REPEAT:-5}
command -v taskset >/dev/null || die "taskset is missing; install util-linux"

build_all
cc_flags=(-O2 -D_GNU_SOURCE -I"$WORK" $(pkg-config --cflags libtirpc))
cc "${cc_flags[@]}" -o "$WORK/bench_tirpc" "$BENCH_DIR/bench_tirpc.c" "$WORK/xecho_clnt.c" \
    "$WORK/xecho_xdr.c" $(pkg-config --libs libtirpc) -lpthread
cc -O2 -I"$ROOT/include" -o "$WORK/bench_xipc" "$BENCH_DIR/bench_xipc.c" \
    -L"$WORK/lib" -Wl,-rpath,"$WORK/lib" -lxipc -lpthread
cc -O2 -o "$WORK/pingpong" "$BENCH_DIR/pingpong.c" -lpthread
pkg-config --exists openssl || die "OpenSSL's headers are missing; install libssl-dev"
cc -O2 $(pkg-config --cflags openssl) -o "$WORK/tls_echo" "$BENCH_DIR/tls_echo.c" \
    $(pkg-config --libs openssl) -lpthread
(cd "$ROOT" && cargo build --release --quiet --example tls_record_floor)
RECORD_FLOOR="$ROOT/target/release/examples/tls_record_floor"

TLS_DIR="$WORK/tls"
bash "$ROOT/tests/tls/make_certs.sh" "$TLS_DIR"

# run IMPL PIN MODE PROTO CALLS THREADS -> prints the client's figure.
# IMPL: xipc, tirpc, or xipc-tls (xipc with RPC-with-TLS on TCP).
run() {
    local impl=$1 pin=$2 mode=$3 proto=$4 calls=$5 threads=$6 server client prefix=()
    [[ $pin == pinned ]] && prefix=(taskset -c 0)
    [[ $impl == xipc-tls ]] && prefix=(env XIPC_BENCH_TLS="$TLS_DIR" "${prefix[@]}")
    if [[ $impl == xipc* ]]; then server="$WORK/c_server"; client="$WORK/bench_xipc"
    else server="$WORK/tirpc_server"; client="$WORK/bench_tirpc"; fi
    start_server "$impl-$pin" "${prefix[@]}" "$server" >/dev/null
    local port=$TCP_PORT
    [[ $proto == udp ]] && port=$UDP_PORT
    "${prefix[@]}" "$client" "$mode" "$proto" "$port" "$calls" "$threads"
    stop_server "$SERVER_PID"
}

# pingpong PIN ROUNDS THREADS [KIND]: KIND is server (a connection per
# thread, a server thread per connection; the default), loop (the same
# connections, one server thread on an epoll set) or shared (the threads
# on one connection, their requests pipelined, a reader thread handing out
# the replies; a server thread answering all that one read brings with one
# write).
pingpong() {
    local prefix=() server=${4:-server} client=client
    [[ $1 == pinned ]] && prefix=(taskset -c 0)
    [[ $server == shared ]] && server=batch client=shared
    start_server "pingpong-$1" "${prefix[@]}" "$WORK/pingpong" "$server" >/dev/null
    "${prefix[@]}" "$WORK/pingpong" "$client" "$TCP_PORT" "$2" "$3"
    stop_server "$SERVER_PID"
}

median() { # VALUES... -> their median
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
        END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

# both MODE PROTO CALLS THREADS PIN [KIND...]: sets X and T, the medians of
# REPEAT runs each, xipc and libtirpc taking turns. Each KIND of raw
# ping-pong (server, loop or shared) takes a turn in the same rounds, with
# as many round trips and threads, and F[KIND] is set to its median: a
# floor is measured beside the figures it is set against, not before them.
declare -A F
both() {
    local mode=$1 proto=$2 calls=$3 threads=$4 pin=$5 i kind
    shift 5
    local xs=() ts=()
    declare -A fs=()
    for ((i = 0; i < REPEAT; i++)); do
        for kind in "$@"; do
            fs[$kind]+=" $(pingpong "$pin" "$calls" "$threads" "$kind")"
        done
        xs+=("$(run xipc "$pin" "$mode" "$proto" "$calls" "$threads")")
        ts+=("$(run tirpc "$pin" "$mode" "$proto" "$calls" "$threads")")
    done
    X=$(median "${xs[@]}")
    T=$(median "${ts[@]}")
    for kind in "$@"; do
        # shellcheck disable=SC2086 # the runs, one word each
        F[$kind]=$(median ${fs[$kind]})
    done
}

# tls_echo PIN ECHOS plain|tls: 64 KiB echoes with no RPC, in the clear
# or over OpenSSL's TLS 1.3 (benches/rpc/tls_echo.c); prints MiB/s.
tls_echo() {
    local prefix=() how=plain
    [[ $1 == pinned ]] && prefix=(taskset -c 0)
    [[ $3 == tls ]] && how=$TLS_DIR
    start_server "tls-echo-$1" "${prefix[@]}" "$WORK/tls_echo" server "$how" >/dev/null
    "${prefix[@]}" "$WORK/tls_echo" client "$how" "$TCP_PORT" "$2"
    stop_server "$SERVER_PID"
}

# record_floor PIN ECHOS plain|aead: 64 KiB echoes with no RPC and no TLS
# library, in the clear or in TLS-shaped records sealed and opened in place
# with ring (benches/rpc/tls_record_floor.rs); prints MiB/s.
record_floor() {
    local prefix=()
    [[ $1 == pinned ]] && prefix=(taskset -c 0)
    start_server "record-floor-$1" "${prefix[@]}" "$RECORD_FLOOR" server "$3" >/dev/null
    "${prefix[@]}" "$RECORD_FLOOR" client "$3" "$TCP_PORT" "$2"
    stop_server "$SERVER_PID"
}

# both_tls MODE CALLS PIN [floor|THREADS]: sets X (xipc over TLS) and T
# (xipc in the clear), medians of REPEAT runs each, taking turns, with one
# calling thread or THREADS; with floor, the raw echoes over OpenSSL (FT)
# and in the clear (FP), and in records sealed with ring (FR) and in the
# clear (FQ), take turns with them.
both_tls() {
    local i xs=() ts=() fts=() fps=() frs=() fqs=() threads=1
    [[ ${4:-} =~ ^[0-9]+$ ]] && threads=$4
    for ((i = 0; i < REPEAT; i++)); do
        xs+=("$(run xipc-tls "$3" "$1" tcp "$2" "$threads")")
        ts+=("$(run xipc "$3" "$1" tcp "$2" "$threads")")
        if [[ ${4:-} == floor ]]; then
            fts+=("$(tls_echo "$3" "$2" tls)")
            fps+=("$(tls_echo "$3" "$2" plain)")
            frs+=("$(record_floor "$3" "$2" aead)")
            fqs+=("$(record_floor "$3" "$2" plain)")
        fi
    done
    X=$(median "${xs[@]}")
    T=$(median "${ts[@]}")
    if [[ ${4:-} == floor ]]; then
        FT=$(median "${fts[@]}")
        FP=$(median "${fps[@]}")
        FR=$(median "${frs[@]}")
        FQ=$(median "${fqs[@]}")
    fi
}

# run_py IMPL PIN CALLS -> the C client's calls/s against a Python server:
# xipc (tests/interop/rpc/py_server.py) or plain (py_plain_server.py).
run_py() {
    local prefix=() server=("$PYTHON" "$ROOT/tests/interop/rpc/py_server.py")
    [[ $2 == pinned ]] && prefix=(taskset -c 0)
    [[ $1 == plain ]] && server=("$PYTHON" "$BENCH_DIR/py_plain_server.py")
    start_server "py-$1-$2" "${prefix[@]}" "${server[@]}" >/dev/null
    "${prefix[@]}" "$WORK/bench_xipc" add tcp "$TCP_PORT" "$3" 1
    stop_server "$SERVER_PID"
}

# both_py CALLS PIN: sets X (xipc's Python server) and T (the plain one),
# medians of REPEAT runs each, taking turns.
both_py() {
    local i xs=() ts=()
    for ((i = 0; i < REPEAT; i++)); do
        xs+=("$(run_py xipc "$2" "$1")")
        ts+=("$(run_py plain "$2" "$1")")
    done
    X=$(median "${xs[@]}")
    T=$(median "${ts[@]}")
}

row() { # name xipc tirpc unit
    awk -v n="$1" -v x="$2" -v t="$3" -v u="$4" \
        'BEGIN { printf "%-40s %12s %12s %8.2fx  %s\n", n, x, t, (t > 0 ? x / t : 0), u }'
}

echo "ONC RPC: xipc vs rpcgen+libtirpc (same .x service, same run; higher is better)"
printf "%-40s %12s %12s %9s\n" "benchmark" "xipc" "libtirpc" "ratio"
seq_tcp=()
for pin in pinned unpinned; do
    both add tcp "$CALLS" 1 "$pin" server
    row "sequential ADD, TCP, $pin" "$X" "$T" "calls/s"
    seq_tcp+=("$pin $X $T ${F[server]}")
    bench_target "rpc: sequential TCP call, $pin, x raw round trip time" "$(bench_ratio "${F[server]}" "$X")" \
        "<=" "$([[ $pin == pinned ]] && echo 1.10 || echo 1.25)"
    both add udp "$CALLS" 1 "$pin"
    row "sequential ADD, UDP, $pin" "$X" "$T" "calls/s"
    bench_target "rpc: sequential UDP calls/s, $pin, x libtirpc" "$(bench_ratio "$X" "$T")" ">=" 1.1
done
many=()
shared=()
for pin in pinned unpinned; do
    both add tcp $((CALLS / 8)) 16 "$pin" server loop
    row "16 clients, a connection each, $pin" "$X" "$T" "calls/s"
    bench_target "rpc: 16 clients calls/s, $pin, x libtirpc" "$(bench_ratio "$X" "$T")" \
        ">=" "$([[ $pin == pinned ]] && echo 1.2 || echo 1.3)"
    best_t=$T
    many+=("$pin $X $T ${F[server]} ${F[loop]}")
    both shared tcp $((CALLS / 8)) 16 "$pin" shared
    row "16 threads, one shared client, $pin" "$X" "$T" "calls/s"
    shared+=("$pin $X $best_t ${F[shared]}")
    row "  the same xipc vs libtirpc's best" "$X" "$best_t" "calls/s"
    bench_target "rpc: one client shared by 16 threads, $pin, x libtirpc's best" "$(bench_ratio "$X" "$best_t")" ">=" 2.5
done
for pin in pinned unpinned; do
    both echo tcp "$ECHOS" 1 "$pin"
    row "64 KiB echo, TCP, $pin" "$X" "$T" "MiB/s"
    bench_target "rpc: 64 KiB echo MiB/s, $pin, x libtirpc" "$(bench_ratio "$X" "$T")" ">=" 1.6
done

echo
echo "RPC-with-TLS: xipc over TLS 1.3 vs xipc in the clear (same run; higher is better)"
printf "%-40s %12s %12s %9s\n" "benchmark" "TLS" "cleartext" "ratio"
for pin in pinned unpinned; do
    both_tls add "$CALLS" "$pin"
    row "sequential ADD, TCP, $pin" "$X" "$T" "calls/s"
    awk -v x="$X" -v t="$T" 'BEGIN { printf "  a TLS call takes %.2fx the cleartext call (%.1f us vs %.1f us)\n", t / x, 1e6 / x, 1e6 / t }'
    bench_target "rpc-tls: sequential call, $pin, x cleartext call time" "$(bench_ratio "$T" "$X")" "<=" 1.3
done
for pin in pinned unpinned; do
    both_tls shared $((CALLS / 8)) "$pin" 16
    row "16 threads, one shared client, $pin" "$X" "$T" "calls/s"
done
tls_floor=()
for pin in pinned unpinned; do
    both_tls echo "$ECHOS" "$pin" floor
    row "64 KiB echo, TCP, $pin" "$X" "$T" "MiB/s"
    bench_target "rpc-tls: 64 KiB echo MiB/s, $pin, x cleartext" "$(bench_ratio "$X" "$T")" ">=" 0.6
    tls_floor+=("$pin $FT $FP $FR $FQ")
done
for pin in pinned unpinned; do
    both_tls connect 200 "$pin"
    awk -v p="$pin" -v x="$X" -v t="$T" 'BEGIN { printf "connection set-up, %-9s TLS %8.1f us  cleartext %8.1f us (connect, probe, handshake)\n", p, x, t }'
done
echo "Floor: 64 KiB echoes with no RPC, over TLS 1.3 made by OpenSSL (AES-128-GCM) and in the clear;"
echo "and in TLS-shaped records sealed and opened in place with ring (AES-128-GCM, no TLS library)"
for entry in "${tls_floor[@]}"; do
    read -r pin ft fp fr fq <<<"$entry"
    row "raw 64 KiB echo, OpenSSL vs clear, $pin" "$ft" "$fp" "MiB/s"
    row "raw 64 KiB echo, ring records vs clear, $pin" "$fr" "$fq" "MiB/s"
done

echo
echo "Python servers: xipc's rpc.Server vs a thread-per-connection server on the"
echo "standard library alone (benches/rpc/py_plain_server.py), both serving ADD"
echo "to the C client (same run; higher is better)"
printf "%-40s %12s %12s %9s\n" "benchmark" "xipc" "plain" "ratio"
for pin in pinned unpinned; do
    both_py "$((CALLS / 2))" "$pin"
    row "sequential ADD, TCP, $pin" "$X" "$T" "calls/s"
done

echo
echo "Floor: raw TCP ping-pong, 52-byte request / 32-byte reply (an ADD call's bytes)"
for entry in "${seq_tcp[@]}"; do
    read -r pin x t f <<<"$entry"
    awk -v p="$pin" -v f="$f" -v x="$x" -v t="$t" 'BEGIN {
        printf "%-9s raw %8.0f rt/s (%5.1f us); xipc call %5.1f us = %.2fx raw; libtirpc %5.1f us = %.2fx raw\n",
            p, f, 1e6 / f, 1e6 / x, f / x, 1e6 / t, f / t }'
done
for entry in "${many[@]}"; do
    read -r pin x t f l <<<"$entry"
    awk -v p="$pin" -v f="$f" -v x="$x" -v t="$t" 'BEGIN {
        printf "%-9s raw %8.0f rt/s on 16 connections together = %.2fx libtirpc; xipc %.2fx raw time; libtirpc %.2fx raw time\n",
            p, f, f / t, f / x, f / t }'
    awk -v p="$pin" -v l="$l" -v x="$x" -v t="$t" 'BEGIN {
        printf "%-9s raw %8.0f rt/s with one epoll loop serving the 16 = %.2fx libtirpc; xipc %.2fx its time\n",
            p, l, l / t, l / x }'
done
for entry in "${shared[@]}"; do
    read -r pin x t f <<<"$entry"
    awk -v p="$pin" -v f="$f" -v x="$x" -v t="$t" 'BEGIN {
        printf "%-9s raw %8.0f rt/s with 16 threads on one connection = %.2fx libtirpc'"'"'s best; xipc %.2fx its time\n",
            p, f, f / t, f / x }'
done
