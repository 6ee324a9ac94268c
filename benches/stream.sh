#!/usr/bin/env bash
# Stream benchmarks (issue 3): round trip (64-byte messages, two processes)
# and one-way throughput (64 KiB messages) over a pipe, a Unix socket and TCP
# loopback. xipc from C beside plain read/write with the same framing; xipc
# from Python beside multiprocessing.Pipe. Each figure is the median of $REPS
# runs, xipc and its baseline interleaved in the same run; pinned
# (taskset -c 0 on both processes) and unpinned.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
lib=$root/target/release/libxipc.so
[[ -f $lib ]] || { echo "stream bench: $lib is missing; run make" >&2; exit 1; }
command -v taskset >/dev/null || { echo "stream bench: taskset is missing; install util-linux" >&2; exit 1; }
python=${PYTHON:-python3}
REPS=${REPS:-7}
RTT_N=${RTT_N:-20000}
TPUT_N=${TPUT_N:-5000}
PY_RTT_N=${PY_RTT_N:-20000}
PY_TPUT_N=${PY_TPUT_N:-3000}

work=$(mktemp -d /tmp/xipc-stream-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
ln -s "$lib" "$work/libxipc.so.0" # the soname the loader looks for
"${CC:-cc}" -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -I"$root/include" \
    -o "$work/stream_bench" benches/stream_bench.c -L"$work" -Wl,-rpath,"$work" -l:libxipc.so.0
export PYTHONPATH=$root/bindings/python XIPC_LIBRARY=$lib
python3 -c 'import sys, xipc._lib as l; sys.exit(l.fast is None)' 2>/dev/null || {
    echo "stream bench: the C module xipc._fast is not built: run make (it needs python3-dev)" >&2; exit 1; }

source benches/contest.bash
source benches/targets.bash

# The bars, held pinned: C round trip at most RTT_BAR x raw, C throughput
# at least TPUT_BAR x raw, the Python pipe round trip at least PY_BAR
# times as fast as multiprocessing.Pipe().
RTT_BAR=1.05 TPUT_BAR=0.95 PY_BAR=2.5

# run pinned|unpinned LABEL CMD...: the bars are printed and recorded
# (bench_target) for pinned runs only.
run() {
    local how=$1 label=$2 pin=("${@:3}") rtt_target="" tput_target="" py_target=""
    if [[ $how == pinned ]]; then
        rtt_target="target <= $RTT_BAR" tput_target="target >= $TPUT_BAR"
        py_target="(target >= ${PY_BAR}x over Pipe())"
    fi
    echo
    echo "== streams, $label"
    printf '%-6s %-22s %14s %14s %8s  %s\n' transport test "raw C" "xipc C" ratio target
    for t in pipe unix tcp; do
        local raw xipc
        read -r raw xipc < <(contest "$REPS" 4 median "raw xipc" "${pin[@]}" "$work/stream_bench" "$t" rtt IMPL "$RTT_N" 64)
        printf '%-6s %-22s %11s us %11s us %8s  %s\n' "$t" "round trip, 64 B" "$raw" "$xipc" \
            "$(bench_ratio "$xipc" "$raw")" "$rtt_target"
        [[ $how != pinned ]] || bench_target "streams: $t round trip, pinned (x raw)" "$(bench_ratio "$xipc" "$raw")" "<=" "$RTT_BAR"
        read -r raw xipc < <(contest "$REPS" 4 median "raw xipc" "${pin[@]}" "$work/stream_bench" "$t" tput IMPL "$TPUT_N" 65536)
        printf '%-6s %-22s %9s MB/s %9s MB/s %8s  %s\n' "$t" "one-way, 64 KiB msgs" "$raw" "$xipc" \
            "$(bench_ratio "$xipc" "$raw")" "$tput_target"
        [[ $how != pinned ]] || bench_target "streams: $t throughput, pinned (x raw)" "$(bench_ratio "$xipc" "$raw")" ">=" "$TPUT_BAR"
    done
    echo "-- Python: xipc framed messages vs multiprocessing.Pipe send_bytes/recv_bytes"
    local x mp mpp xu
    read -r x xu mp mpp < <(contest "$REPS" 4 median "xipc-pipe xipc-unix mp mp-pipe" "${pin[@]}" \
        "$python" benches/stream_bench.py rtt IMPL "$PY_RTT_N" 64)
    printf 'round trip, 64 B: xipc pipe %s us, xipc unix %s us; Pipe() %s us, Pipe(duplex=False) %s us\n' \
        "$x" "$xu" "$mp" "$mpp"
    printf '  speedup of xipc pipe: %sx over Pipe(), %sx over Pipe(duplex=False)  %s\n' \
        "$(bench_ratio "$mp" "$x")" "$(bench_ratio "$mpp" "$x")" "$py_target"
    [[ $how != pinned ]] || bench_target "streams: Python pipe round trip, pinned (x faster than Pipe())" "$(bench_ratio "$mp" "$x")" ">=" "$PY_BAR"
    read -r x mp mpp < <(contest "$REPS" 4 median "xipc-pipe mp mp-pipe" "${pin[@]}" \
        "$python" benches/stream_bench.py tput IMPL "$PY_TPUT_N" 65536)
    printf 'one-way, 64 KiB: xipc pipe %s MB/s; Pipe() %s MB/s (ratio %s), Pipe(duplex=False) %s MB/s (ratio %s)\n' \
        "$x" "$mp" "$(bench_ratio "$x" "$mp")" "$mpp" "$(bench_ratio "$x" "$mpp")"
}

echo "stream benchmarks: median of $REPS runs each; load average $(cut -d' ' -f1-3 /proc/loadavg)"
run pinned "pinned (taskset -c 0, both processes)" taskset -c 0
run unpinned "unpinned" env
