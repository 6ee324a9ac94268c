#!/usr/bin/env bash
# POSIX message queue benchmarks: xipc beside its baselines, measured in the
# same run and printed as ratios.
#   round trip: ping-pong of 64-byte messages between two processes (us, lower is better)
#   throughput: one-way 8192-byte messages between two processes (MB/s, higher is better)
# From C: xipc_mq_* vs raw mq_send/mq_receive. From Python: xipc.MessageQueue
# vs the posix_ipc package. Each figure is the best of $MQ_BENCH_REPEAT runs,
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

repeat=${MQ_BENCH_REPEAT:-3}
rtt_n=${MQ_BENCH_RTT:-20000}
tput_n=${MQ_BENCH_TPUT:-20000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
libdir=$(dirname "$XIPC_LIBRARY")
cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude -o "$tmp/mq_bench" benches/mq_bench.c \
    -L"$libdir" -Wl,-rpath,"$libdir" -lxipc -lrt

# best PIN TEST N BETTER CMD... : the best of $repeat runs (BETTER is min or max).
best() {
    local pin=$1 better=$2; shift 2
    local prefix=() values=()
    [[ $pin == pinned ]] && prefix=(taskset -c 0)
    for ((i = 0; i < repeat; i++)); do values+=("$("${prefix[@]}" "$@")"); done
    printf '%s\n' "${values[@]}" | sort -g | { if [[ $better == min ]]; then head -n1; else tail -n1; fi; }
}

row() { # row LABEL UNIT BASE XIPC RATIO_NOTE
    printf '  %-34s %10s %10s  %6s  %s\n' "$1" "$3" "$4" "$(awk -v a="$4" -v b="$3" 'BEGIN{printf "%.2f", a/b}')" "$5"
}

echo "POSIX message queues (best of $repeat; ratio = xipc / baseline)"
printf '  %-34s %10s %10s  %6s\n' "" baseline xipc ratio
for pin in pinned unpinned; do
    c_raw_rtt=$(best $pin min "$tmp/mq_bench" raw rtt "$rtt_n")
    c_x_rtt=$(best $pin min "$tmp/mq_bench" xipc rtt "$rtt_n")
    c_raw_tp=$(best $pin max "$tmp/mq_bench" raw tput "$tput_n")
    c_x_tp=$(best $pin max "$tmp/mq_bench" xipc tput "$tput_n")
    py_p_rtt=$(best $pin min python3 benches/mq_bench.py posix_ipc rtt "$rtt_n")
    py_x_rtt=$(best $pin min python3 benches/mq_bench.py xipc rtt "$rtt_n")
    py_p_tp=$(best $pin max python3 benches/mq_bench.py posix_ipc tput "$tput_n")
    py_x_tp=$(best $pin max python3 benches/mq_bench.py xipc tput "$tput_n")
    py_c_rtt=$(XIPC_NO_FAST=1 best $pin min python3 benches/mq_bench.py xipc rtt "$rtt_n")
    target() { [[ $pin == pinned ]] && echo "$1" || true; }
    row "C round trip, us ($pin)" us "$c_raw_rtt" "$c_x_rtt" "$(target 'target <= 1.05 (vs raw mq_*)')"
    row "C throughput, MB/s ($pin)" MB/s "$c_raw_tp" "$c_x_tp" "$(target 'target >= 0.95 (vs raw mq_*)')"
    row "Python round trip, us ($pin)" us "$py_p_rtt" "$py_x_rtt" "$(target 'target <= 1.00 (vs posix_ipc)')"
    row "Python throughput, MB/s ($pin)" MB/s "$py_p_tp" "$py_x_tp" "(vs posix_ipc)"
    row "Python round trip, ctypes only ($pin)" us "$py_p_rtt" "$py_c_rtt" "(XIPC_NO_FAST=1, vs posix_ipc)"
done
