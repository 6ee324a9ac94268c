#!/usr/bin/env bash
# POSIX message queue benchmarks: xipc beside its baselines, measured in the
# same run and printed as ratios.
#   round trip: ping-pong of 64-byte messages between two processes (us, lower is better)
#   throughput: one-way 8192-byte messages between two processes (MB/s, higher is better)
# From C: xipc_mq_* vs raw mq_send/mq_receive. From Python: xipc.MessageQueue
# vs the posix_ipc package. Each figure is the median of $MQ_BENCH_REPEAT runs,
# raw and xipc runs interleaved, both pinned (`taskset -c 0` on both
# processes) and unpinned.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${XIPC_LIBRARY:=$PWD/target/release/libxipc.so}"
export XIPC_LIBRARY PYTHONPATH="$PWD/bindings/python${PYTHONPATH:+:$PYTHONPATH}"
python3 -c 'import sys, xipc._lib as l; sys.exit(l.fast is None)' 2>/dev/null || {
    echo "mq bench: the C module xipc._fast is not built: run make (it needs python3-dev)" >&2; exit 1; }
[[ -e $XIPC_LIBRARY ]] || { echo "mq bench: $XIPC_LIBRARY is missing: run make" >&2; exit 1; }
command -v taskset >/dev/null || { echo "mq bench: taskset is missing: apt-get install util-linux" >&2; exit 1; }
python3 -c 'import posix_ipc' 2>/dev/null || { echo "mq bench: posix_ipc is missing: run make deps" >&2; exit 1; }

repeat=${MQ_BENCH_REPEAT:-7}
rtt_n=${MQ_BENCH_RTT:-20000}
tput_n=${MQ_BENCH_TPUT:-20000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
libdir=$(dirname "$XIPC_LIBRARY")
cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude -o "$tmp/mq_bench" benches/mq_bench.c \
    -L"$libdir" -Wl,-rpath,"$libdir" -lxipc -lrt

source benches/contest.bash
source benches/targets.bash

row() { # row LABEL BASE XIPC NOTE
    printf '  %-38s %10s %10s  %6s  %s\n' "$1" "$2" "$3" "$(bench_ratio "$3" "$2")" "$4"
}

# held LABEL BASE XIPC OP BAR VS: a row held to a bar in pinned runs,
# where the bar is printed beside it and recorded (bench_target).
held() {
    if [[ $pin == pinned ]]; then
        row "$1" "$2" "$3" "target $4 $5 ($6)"
        bench_target "mq: $1, xipc / baseline ($6)" "$(bench_ratio "$3" "$2")" "$4" "$5"
    else
        row "$1" "$2" "$3" ""
    fi
}

echo "POSIX message queues (median of $repeat interleaved runs; ratio = xipc / baseline)"
printf '  %-38s %10s %10s  %6s\n' "" baseline xipc ratio
for pin in pinned unpinned; do
    on=()
    [[ $pin == pinned ]] && on=(taskset -c 0)
    read -r c_raw_rtt c_x_rtt < <(contest "$repeat" 1 median "raw xipc" "${on[@]}" "$tmp/mq_bench" IMPL rtt "$rtt_n")
    read -r c_raw_tp c_x_tp < <(contest "$repeat" 1 median "raw xipc" "${on[@]}" "$tmp/mq_bench" IMPL tput "$tput_n")
    read -r py_p_rtt py_x_rtt py_c_rtt < <(contest "$repeat" 1 median "posix_ipc xipc xipc-ctypes" \
        "${on[@]}" python3 benches/mq_bench.py IMPL rtt "$rtt_n")
    read -r py_p_tp py_x_tp < <(contest "$repeat" 1 median "posix_ipc xipc" "${on[@]}" python3 benches/mq_bench.py IMPL tput "$tput_n")
    held "C round trip, us ($pin)" "$c_raw_rtt" "$c_x_rtt" "<=" 1.05 "vs raw mq_*"
    held "C throughput, MB/s ($pin)" "$c_raw_tp" "$c_x_tp" ">=" 0.95 "vs raw mq_*"
    held "Python round trip, us ($pin)" "$py_p_rtt" "$py_x_rtt" "<=" 1.00 "vs posix_ipc"
    row "Python throughput, MB/s ($pin)" "$py_p_tp" "$py_x_tp" "(vs posix_ipc)"
    row "Python round trip, ctypes only ($pin)" "$py_p_rtt" "$py_c_rtt" "(XIPC_NO_FAST=1, vs posix_ipc)"
done
