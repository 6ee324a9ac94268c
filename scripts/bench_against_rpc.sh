#!/usr/bin/env bash
# One RPC figure for scripts/bench_against.sh, run in the directory of one
# tree's programs: starts that tree's C server, runs its benchmark client
# against it (MODE PROTO CALLS THREADS, as benches/rpc/bench_xipc.c takes
# them) and prints the client's figure.
set -euo pipefail
mode=$1 proto=$2 calls=$3 threads=$4
./c_server >server.out 2>server.err &
server=$!
trap 'kill -INT "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
port=
for _ in $(seq 200); do
    read -r _ tcp _ udp <server.out 2>/dev/null || true
    [[ -n ${udp:-} ]] && { port=$([[ $proto == udp ]] && echo "$udp" || echo "$tcp"); break; }
    kill -0 "$server" 2>/dev/null || { cat server.err >&2; exit 1; }
    sleep 0.05
done
[[ -n $port ]] || { echo "bench-against: the C server printed no port" >&2; exit 1; }
./bench_xipc "$mode" "$proto" "$port" "$calls" "$threads"
