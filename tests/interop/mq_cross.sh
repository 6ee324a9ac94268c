#!/usr/bin/env bash
# POSIX message queues across processes and languages, with the examples as
# the programs: C sends, Python receives; Python sends, Rust receives; Rust
# sends, Python receives. Exact text and priorities are checked. (Raw mq_*
# calls against xipc are tests/c/mq_raw.c.)
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${XIPC_LIBRARY:=$PWD/target/release/libxipc.so}"
export XIPC_LIBRARY PYTHONPATH="$PWD/bindings/python${PYTHONPATH:+:$PYTHONPATH}"
[[ -e $XIPC_LIBRARY ]] || { echo "mq_cross: $XIPC_LIBRARY is missing: run make" >&2; exit 1; }
command -v cc >/dev/null || { echo "mq_cross: a C compiler is needed (apt-get install gcc)" >&2; exit 1; }

tmp=$(mktemp -d)
name=/xipc-mq-test-$$-cross
cleanup() {
    python3 -c 'import sys, xipc
try: xipc.unlink_queue(sys.argv[1])
except FileNotFoundError: pass' "$name"
    rm -rf "$tmp"
}
trap cleanup EXIT

libdir=$(dirname "$XIPC_LIBRARY")
cc -std=c11 -Wall -Wextra -Wpedantic -Werror -Iinclude -o "$tmp/send" examples/mq/send.c \
    -L"$libdir" -Wl,-rpath,"$libdir" -lxipc
# The test-opt profile, as `make test` builds its tests: a release build of
# an example resolves features with the dev-dependencies and so rebuilds
# the release library, which `make` then builds back (about 35 s each way).
cargo build --profile test-opt --quiet --example mq
rust=target/test-opt/examples/mq

# waiting_in PID SYSCALL: returns once a thread of PID is blocked in system
# call number SYSCALL (/proc/PID/task/*/syscall shows it only while the
# thread sleeps in it), so "waits first" below is a fact, not a hope.
case $(uname -m) in
    x86_64) sys_mq_timedreceive=243 sys_epoll_wait=232 ;;
    aarch64) sys_mq_timedreceive=183 sys_epoll_wait=22 ;; # epoll_pwait there
    *) echo "mq_cross: system call numbers for $(uname -m) are not listed here" >&2; exit 1 ;;
esac
waiting_in() {
    local i t nr
    for i in $(seq 1000); do
        for t in /proc/"$1"/task/*/syscall; do
            read -r nr _ <"$t" 2>/dev/null || continue
            [[ $nr == "$2" ]] && return 0
        done
        kill -0 "$1" 2>/dev/null || { echo "mq_cross: process $1 ended before waiting" >&2; exit 1; }
        sleep 0.01
    done
    echo "mq_cross: process $1 never waited in system call $2" >&2
    exit 1
}

expect() { # expect WHAT EXPECTED ACTUAL
    if [[ $2 != "$3" ]]; then
        printf 'mq_cross: %s: expected\n%s\ngot\n%s\n' "$1" "$2" "$3" >&2
        exit 1
    fi
    echo "mq_cross: $1: ok"
}

# C sends (the queue is created by the sender), Python receives.
"$tmp/send" "$name" 3 "from C" "second from C"
"$tmp/send" "$name" 7 "urgent from C"
got=$(python3 examples/mq/recv.py "$name" 3)
expect "C -> Python" $'7 urgent from C\n3 from C\n3 second from C' "$got"

# Python sends, Rust receives.
python3 examples/mq/send.py "$name" 1 "from Python" "é ü"
python3 examples/mq/send.py "$name" 4 "high from Python"
got=$("$rust" recv "$name" 3)
expect "Python -> Rust" $'4 high from Python\n1 from Python\n1 é ü' "$got"

# A receiver waiting first: Rust blocks in receive, C sends a moment later.
"$rust" recv "$name" 1 > "$tmp/out" &
receiver=$!
waiting_in "$receiver" "$sys_mq_timedreceive"
"$tmp/send" "$name" 2 "late from C"
wait "$receiver"
expect "C -> waiting Rust" "2 late from C" "$(cat "$tmp/out")"

# Rust sends, Python receives.
"$rust" send "$name" 9 "from Rust"
expect "Rust -> Python" "9 from Rust" "$(python3 examples/mq/recv.py "$name" 1)"

# An asyncio receiver (loop.add_reader on the queue's descriptor) waits first; C sends.
python3 examples/mq/asyncio_recv.py "$name" 2 > "$tmp/out" &
receiver=$!
waiting_in "$receiver" "$sys_epoll_wait" # the event loop's wait
"$tmp/send" "$name" 6 "to asyncio" "and again"
wait "$receiver"
expect "C -> asyncio Python" $'6 to asyncio\n6 and again' "$(cat "$tmp/out")"
