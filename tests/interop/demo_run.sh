#!/usr/bin/env bash
# `make demo`'s script, examples/demo/run.sh: it exits 0, prints every scene's
# results, and leaves nothing behind (no queue, no file, no process), also
# when it is stopped halfway.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
fail() { echo "demo_run: FAIL: $*" >&2; exit 1; }
command -v setsid >/dev/null || fail "setsid not found: install util-linux"
mqueue=/dev/mqueue
mountpoint -q "$mqueue" || fail "$mqueue is not mounted: mount -t mqueue none $mqueue"
tmp=$(mktemp -d)
demo=""
finish() { # a failed check must not leave the demo running
    [ -z "$demo" ] || { kill -TERM "$demo" 2>/dev/null && wait "$demo"; } || true
    rm -rf "$tmp"
}
trap finish EXIT

# leftovers SID: processes of the demo's session, files in its TMPDIR, its queue
leftovers() {
    local sid=$1 procs
    procs=$(ps -o pid=,args= -s "$sid" || true)
    [ -z "$procs" ] || fail "processes left running:
$procs"
    [ -z "$(ls -A "$tmp/t")" ] || fail "files left in TMPDIR: $(ls -A "$tmp/t")"
    [ ! -e "$mqueue/xipc-demo-$sid" ] || fail "queue /xipc-demo-$sid left behind"
}

# A whole run, in a session of its own so every process it starts is visible.
mkdir "$tmp/t"
setsid bash -c 'echo $$ > "$1"; exec env TMPDIR="$2" bash "$3"' _ "$tmp/sid" "$tmp/t" \
    "$root/examples/demo/run.sh" > "$tmp/out" 2> "$tmp/err" || fail "the demo exited with $?:
$(cat "$tmp/out" "$tmp/err")"
sid=$(cat "$tmp/sid")
out=$(cat "$tmp/out")
expect() { # expect REGEX: some line of the output matches
    grep -Eq -- "$1" <<< "$out" || fail "no line matches /$1/ in:
$out"
}
expect '^rpcbind: xipc rpcbind serving on port [0-9]+ '
expect '^Python service: calc.x program 0x20000101 version 1 on TCP port [0-9]+, registered with rpcbind$'
expect '^ +536871169 +1 +tcp +[0-9]+'
expect '^C client: rpcbind says port [0-9]+; add\(20, 22\) = 42; summarize\(1, 2, 6\) = mean 3, max 6; greet -> "hello, C client"$'
expect '^Rust client: rpcbind says 127\.0\.0\.1\.[0-9]+\.[0-9]+ \(port [0-9]+\); add\(20, 22\) = 42; summarize\(1, 2, 6\) = mean 3, max 6; greet -> "hello, Rust client"$'
expect '^Python service: C client says hello'
expect '^Python service: Rust client says hello'
expect '^Python service: unregistered and stopped$'
expect '^Python consumer: got job 2 "disk almost full" \(priority 9\), job 4 "nightly report" \(priority 5\), job 1 "rotate the logs" \(priority 1\), job 3 "compress backups" \(priority 1\)$'
expect '^Python consumer: highest priority first; same priority in the order sent$'
expect '^pipe: Python parent sent #2 "bye", C child [0-9]+ answered "BYE"$'
expect '^FIFO: Python parent sent #1 "hello over a FIFO", C child [0-9]+ answered "HELLO OVER A FIFO"$'
expect '^demo: every scene ran'
# The port the service registered is the port the clients were told.
port=$(sed -n 's/^Python service: .* on TCP port \([0-9]*\),.*/\1/p' <<< "$out")
expect "^C client: rpcbind says port $port;"
expect "^Rust client: .*\(port $port\)"
grep -q outlived "$tmp/err" && fail "$(cat "$tmp/err")"
leftovers "$sid"
echo "demo_run: the demo ran every scene and left nothing behind"

# Stopped by SIGTERM while its rpcbind and Python service run: the trap
# still stops them and removes its files.
setsid bash -c 'echo $$ > "$1"; exec env TMPDIR="$2" bash "$3"' _ "$tmp/sid" "$tmp/t" \
    "$root/examples/demo/run.sh" > "$tmp/out" 2> "$tmp/err" &
demo=$!
for _ in $(seq 3000); do # a busy machine may take minutes to build the clients
    grep -q '^Python service: .*registered' "$tmp/out" && break
    kill -0 "$demo" 2>/dev/null || fail "the demo ended before its service registered: $(cat "$tmp/out" "$tmp/err")"
    sleep 0.1
done
grep -q '^Python service: .*registered' "$tmp/out" || fail "the demo's service did not register in 300 s"
sid=$(cat "$tmp/sid")
[ -n "$(ps -o pid= -s "$sid")" ] || fail "no process of the demo's session to stop"
kill -TERM "$demo"
status=0
wait "$demo" || status=$?
demo=""
[ "$status" -ne 0 ] || fail "the demo stopped by SIGTERM exited 0"
for _ in $(seq 50); do # the session's last processes may still be exiting
    [ -z "$(ps -o pid= -s "$sid")" ] && break
    sleep 0.1
done
grep -q outlived "$tmp/err" && fail "$(cat "$tmp/err")"
leftovers "$sid"
echo "demo_run: stopped by SIGTERM (exit $status), the demo still left nothing behind"
