#!/usr/bin/env bash
# ONC RPC benchmarks: xipc against the same xecho.x service built with
# rpcgen + libtirpc, measured in the same run and printed as ratios.
#   - sequential small calls (ADD) per second, TCP and UDP, both processes
#     pinned to CPU 0 and unpinned;
#   - 16 concurrent clients (one connection each), calls per second, TCP;
#   - 64 KiB ECHO throughput, TCP;
#   - raw TCP ping-pong of the same byte counts as the floor.
# Knobs: RPC_BENCH_CALLS (default 20000), RPC_BENCH_ECHO (default 400).
source "$(dirname "$0")/../tests/interop/rpc/common.sh"
BENCH_DIR=$(cd "$(dirname "$0")/rpc" && pwd)
CALLS=${RPC_BENCH_CALLS:-20000}
ECHOS=${RPC_BENCH_ECHO:-400}
command -v taskset >/dev/null || die "taskset is missing; install util-linux"

build_all
cc_flags=(-O2 -D_GNU_SOURCE -I"$WORK" $(pkg-config --cflags libtirpc))
cc "${cc_flags[@]}" -o "$WORK/bench_tirpc" "$BENCH_DIR/bench_tirpc.c" "$WORK/xecho_clnt.c" \
    "$WORK/xecho_xdr.c" $(pkg-config --libs libtirpc) -lpthread
cc -O2 -I"$ROOT/include" -o "$WORK/bench_xipc" "$BENCH_DIR/bench_xipc.c" \
    -L"$WORK/lib" -Wl,-rpath,"$WORK/lib" -lxipc -lpthread
cc -O2 -o "$WORK/pingpong" "$BENCH_DIR/pingpong.c"

# run IMPL PIN MODE PROTO CALLS THREADS -> prints the client's figure
run() {
    local impl=$1 pin=$2 mode=$3 proto=$4 calls=$5 threads=$6 server client prefix=()
    [[ $pin == pinned ]] && prefix=(taskset -c 0)
    if [[ $impl == xipc ]]; then server="$WORK/c_server"; client="$WORK/bench_xipc"
    else server="$WORK/tirpc_server"; client="$WORK/bench_tirpc"; fi
    start_server "$impl-$pin" "${prefix[@]}" "$server" >/dev/null
    local port=$TCP_PORT
    [[ $proto == udp ]] && port=$UDP_PORT
    "${prefix[@]}" "$client" "$mode" "$proto" "$port" "$calls" "$threads"
    stop_server "$SERVER_PID"
}

pingpong() {
    local prefix=()
    [[ $1 == pinned ]] && prefix=(taskset -c 0)
    start_server "pingpong-$1" "${prefix[@]}" "$WORK/pingpong" server >/dev/null
    "${prefix[@]}" "$WORK/pingpong" client "$TCP_PORT" "$CALLS"
    stop_server "$SERVER_PID"
}

row() { # name xipc tirpc unit
    awk -v n="$1" -v x="$2" -v t="$3" -v u="$4" \
        'BEGIN { printf "%-40s %12s %12s %8.2fx  %s\n", n, x, t, (t > 0 ? x / t : 0), u }'
}

echo "ONC RPC: xipc vs rpcgen+libtirpc (same .x service, same run; higher is better)"
printf "%-40s %12s %12s %9s\n" "benchmark" "xipc" "libtirpc" "ratio"
declare -A floor
seq_tcp=()
for pin in pinned unpinned; do
    floor[$pin]=$(pingpong "$pin")
    for proto in tcp udp; do
        x=$(run xipc "$pin" add "$proto" "$CALLS" 1)
        t=$(run tirpc "$pin" add "$proto" "$CALLS" 1)
        row "sequential ADD, ${proto^^}, $pin" "$x" "$t" "calls/s"
        if [[ $proto == tcp ]]; then
            seq_tcp+=("$pin $x $t")
        fi
    done
done
x=$(run xipc unpinned add tcp $((CALLS / 8)) 16)
t=$(run tirpc unpinned add tcp $((CALLS / 8)) 16)
row "16 concurrent clients, TCP" "$x" "$t" "calls/s"
x=$(run xipc unpinned echo tcp "$ECHOS" 1)
t=$(run tirpc unpinned echo tcp "$ECHOS" 1)
row "64 KiB echo, TCP" "$x" "$t" "MiB/s"

echo
echo "Floor: raw TCP ping-pong, 52-byte request / 32-byte reply (an ADD call's bytes)"
for entry in "${seq_tcp[@]}"; do
    read -r pin x t <<<"$entry"
    awk -v p="$pin" -v f="${floor[$pin]}" -v x="$x" -v t="$t" 'BEGIN {
        printf "%-9s raw %8.0f rt/s (%5.1f us); xipc call %5.1f us = %.2fx raw; libtirpc %5.1f us = %.2fx raw\n",
            p, f, 1e6 / f, 1e6 / x, f / x, 1e6 / t, f / t }'
done
