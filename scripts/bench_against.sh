#!/usr/bin/env bash
# make bench-against REV=<commit>: this tree's library beside the library of
# an earlier commit, on the stream, queue and RPC benchmarks, pinned to one
# CPU.
#
# `make bench` holds each figure to a bar, against a baseline outside xipc;
# a change that slows xipc down without crossing a bar passes it unseen (the
# transport layer of 93804bc made a pipe round trip 18% slower and stayed
# under its bar). This script answers the other question: is this tree
# slower than REV? It builds REV in a temporary worktree, compiles each
# tree's own benchmark programs (streams, queues, and the RPC client of
# benches/rpc.sh with the C server of the interop tests, in the clear
# and, where both trees have it, over TLS) against its own library, runs
# the two in turn REPS times (medians), and prints each figure of both
# with the change. A change worse than SLOWER_PCT percent is marked
# SLOWER; the script fails only when it cannot build or run.
# (The queue's one-way throughput, pinned, jumps between two levels from
# run to run for either library, as the receiver takes several messages
# or one per wake-up: a SLOWER there alone wants more REPS before it is
# believed.)
#
#   REV          the commit to compare with (required)
#   REPS         runs of each figure per tree (default 7)
#   SLOWER_PCT   the change that counts as slower (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source benches/contest.bash
rev=${REV:-}
[[ -n $rev ]] || { echo "bench-against: say which commit to compare with: make bench-against REV=<commit>" >&2; exit 2; }
git rev-parse --verify --quiet "$rev^{commit}" >/dev/null || { echo "bench-against: $rev is not a commit of this repository" >&2; exit 2; }
command -v taskset >/dev/null || { echo "bench-against: taskset is missing; install util-linux" >&2; exit 1; }
REPS=${REPS:-7}
SLOWER_PCT=${SLOWER_PCT:-3}
python=${PYTHON:-python3}

work=$(mktemp -d /tmp/xipc-bench-against-XXXXXX)
cleanup() {
    git worktree remove --force "$work/tree" >/dev/null 2>&1 || true
    rm -rf "$work"
    git worktree prune # an earlier run that was killed may have left one
}
trap cleanup EXIT

echo "bench-against: building $rev ($(git log --format='%h %s' -1 "$rev" | cut -c1-70))"
git worktree add --detach --quiet "$work/tree" "$rev"
# The earlier tree's build is kept between runs, so a second comparison
# with the same commit only links.
(cd "$work/tree" && cargo build --release --lib --quiet --target-dir "$root/target/bench-against")
cp "$root/target/bench-against/release/libxipc.so" "$work/then.so"
cp "$root/target/release/libxipc.so" "$work/now.so"

py_include=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
ext=$("$python" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')

# build WHICH TREE: that tree's benchmark programs against its own library,
# and its Python package (with its C module) beside them.
build() {
    local which=$1 tree=$2 out=$work/$1
    mkdir -p "$out/lib"
    ln -s "$work/$which.so" "$out/lib/libxipc.so.0"
    local src
    for src in benches/stream_bench.c benches/mq_bench.c benches/rpc/bench_xipc.c \
        tests/interop/rpc/c_server.c; do
        "${CC:-cc}" -std=c11 -D_GNU_SOURCE -O2 -I"$tree/include" -o "$out/$(basename "$src" .c)" \
            "$tree/$src" -L"$out/lib" -Wl,-rpath,"$out/lib" -l:libxipc.so.0 -lrt -lpthread
    done
    cp "$root/scripts/bench_against_rpc.sh" "$out/rpc"
    cp -r "$tree/bindings/python" "$out/python"
    cp "$tree/benches/stream_bench.py" "$tree/benches/mq_bench.py" "$out/"
    if [[ -e $py_include/Python.h ]]; then
        "${CC:-cc}" -O2 -shared -fPIC -std=c11 -I"$py_include" -I"$tree/include" \
            -o "$out/python/xipc/_fast$ext" "$tree/bindings/python/xipc/_fast.c"
    fi
}
build then "$work/tree"
build now "$root"

# run WHICH CMD...: one run of a benchmark of tree WHICH; prints its figure.
run() {
    local which=$1
    shift
    (cd "$work/$which" && PYTHONPATH=$work/$which/python XIPC_LIBRARY=$work/$which.so \
        taskset -c 0 "$@")
}

# compare LABEL FIELD lower|higher ARGS...: REPS runs of ARGS under each
# tree in turn (contest, as make bench runs its rounds; FIELD of the
# output is the figure; lower or higher is better); prints both medians
# and the change.
compare() {
    local label=$1 field=$2 better=$3 t n
    shift 3
    read -r t n < <(contest "$REPS" "$field" median "then now" run IMPL "$@")
    awk -v l="$label" -v t="$t" -v n="$n" -v b="$better" -v s="$SLOWER_PCT" 'BEGIN {
        worse = (b == "lower") ? (n - t) / t * 100 : (t - n) / t * 100
        flag = (worse > s) ? "SLOWER" : ""
        printf "  %-34s %12s %12s  %+6.1f%%  %s\n", l, t, n, (n - t) / t * 100, flag
    }'
}

echo
echo "== this tree against $rev: medians of $REPS runs in turn, pinned (taskset -c 0)"
printf '  %-34s %12s %12s  %7s\n' "" "$(git rev-parse --short "$rev")" "this tree" change
for t in pipe unix tcp; do
    compare "C $t round trip, 64 B (us)" 4 lower ./stream_bench "$t" rtt xipc 20000 64
    compare "C $t one-way, 64 KiB (MB/s)" 4 higher ./stream_bench "$t" tput xipc 5000 65536
done
compare "RPC sequential TCP call (calls/s)" 1 higher ./rpc add tcp 40000 1
compare "RPC sequential UDP call (calls/s)" 1 higher ./rpc add udp 40000 1
compare "RPC 16 clients (calls/s)" 1 higher ./rpc add tcp 5000 16
compare "RPC 16 threads, one client (calls/s)" 1 higher ./rpc shared tcp 5000 16
compare "RPC 64 KiB echo (MiB/s)" 1 higher ./rpc echo tcp 2000 1
# RPC-with-TLS, where both trees' programs speak it (XIPC_BENCH_TLS).
if grep -q XIPC_BENCH_TLS "$work/tree/tests/interop/rpc/c_server.c" 2>/dev/null; then
    bash tests/tls/make_certs.sh "$work/tls" >/dev/null
    tls=(env XIPC_BENCH_TLS="$work/tls")
    compare "TLS sequential TCP call (calls/s)" 1 higher "${tls[@]}" ./rpc add tcp 20000 1
    compare "TLS 16 threads, one client (calls/s)" 1 higher "${tls[@]}" ./rpc shared tcp 5000 16
    compare "TLS 64 KiB echo (MiB/s)" 1 higher "${tls[@]}" ./rpc echo tcp 2000 1
else
    echo "  (TLS rows left out: $rev has no RPC-with-TLS in its benchmark programs)"
fi
compare "C queue round trip (us)" 1 lower ./mq_bench xipc rtt 50000
compare "C queue one-way, 8 KiB (MB/s)" 1 higher ./mq_bench xipc tput 200000
if [[ -e $py_include/Python.h ]]; then
    compare "Python pipe round trip, 64 B (us)" 4 lower "$python" stream_bench.py rtt xipc-pipe 20000 64
    compare "Python queue round trip (us)" 1 lower "$python" mq_bench.py xipc rtt 20000
else
    echo "  (Python rows left out: $py_include/Python.h is missing; apt-get install python3-dev)"
fi
