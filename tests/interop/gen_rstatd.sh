#!/usr/bin/env bash
# A real server nobody here wrote: rpc.rstatd (Debian package rstatd)
# answers RSTATPROC_STATS version 3 with 108 bytes, 4 more than rstat.x's
# statstime. The Python client `xipc gen` writes from the system's rstat.x
# takes the reply, as libtirpc's clients do, and with strict=True reports
# the 4 bytes. Runs in a private network namespace with `xipc rpcbind` on
# port 111, where rpc.rstatd registers (through libtirpc).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${XIPC_BIN:-$root/target/release/xipc}
lib=${XIPC_LIBRARY:-$root/target/release/libxipc.so}
fail() { echo "gen_rstatd: FAIL: $*" >&2; exit 1; }
[ -x "$bin" ] || fail "$bin not built: run make all"
[ -x /usr/sbin/rpc.rstatd ] || fail "rpc.rstatd not found: install the rstatd package (make deps)"
command -v rpcinfo >/dev/null || fail "rpcinfo not found: install the rpcbind package (make deps)"
command -v cc >/dev/null || fail "cc not found: install gcc"

if [ -z "${XIPC_GEN_ISOLATED:-}" ]; then
    [ "$(id -u)" -eq 0 ] || fail "must run as root: it runs in a private network namespace (unshare -n) for port 111"
    unshare --net true 2>/dev/null || fail "cannot create a private network namespace (unshare --net)"
    XIPC_GEN_ISOLATED=1 exec unshare --net -- bash -c 'ip link set lo up && exec bash "$0" "$@"' "$0" "$@"
fi

source "$root/tests/interop/gen/common.sh"
rstat_x=$(rpcsvc_include)/rpcsvc/rstat.x
[ -f "$rstat_x" ] || fail "$rstat_x missing: install rpcsvc-proto (make deps)"
"$bin" rpcbind --port 111 > "$tmp/rpcbind.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
    rpcinfo -p 127.0.0.1 >/dev/null 2>&1 && break
    sleep 0.1
done
rpcinfo -p 127.0.0.1 >/dev/null 2>&1 || fail "xipc rpcbind did not answer: $(cat "$tmp/rpcbind.out")"
# rpc.rstatd runs as a daemon: its pid is the one that was not there before.
before=$(pgrep -x rpc.rstatd || true)
/usr/sbin/rpc.rstatd || fail "rpc.rstatd did not start"
for p in $(pgrep -x rpc.rstatd || true); do
    case " $before " in *" $p "*) ;; *) pids+=("$p") ;; esac
done
port=""
for _ in $(seq 50); do
    port=$(rpcinfo -p 127.0.0.1 | awk '$1 == 100001 && $2 == 3 && $3 == "udp" { print $4; exit }')
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || fail "rpc.rstatd did not register version 3 with rpcbind"

"$bin" gen -q -l python -o "$tmp" "$rstat_x"
out=$(PYTHONPATH="$tmp:$root/bindings/python" XIPC_LIBRARY="$lib" python3 - "$port" <<'PY'
import sys

import rstat  # generated from the system's rstat.x
import xipc.rpc

port = int(sys.argv[1])
with xipc.rpc.Client("127.0.0.1", rstat.RSTATPROG, rstat.RSTATVERS_TIME, proto="udp", port=port) as c:
    raw = c.call(rstat.RSTATPROC_STATS, b"")
print(f"reply {len(raw)} bytes, statstime {len(rstat.statstime().to_bytes())}")
with rstat.RSTATVERS_TIME_Client(proto="udp", port=port) as t:
    s = t.rstatproc_stats()
    print(f"lenient: {type(s).__name__}, boot time set: {s.boottime.tv_sec > 0}")
try:
    with rstat.RSTATVERS_TIME_Client(proto="udp", port=port, strict=True) as t:
        t.rstatproc_stats()
    print("strict: no error")
except ValueError as e:
    print(f"strict: {e}")
PY
) || fail "the generated rstat client failed: $out"
echo "$out"
want="reply 108 bytes, statstime 104
lenient: statstime, boot time set: True
strict: RSTATPROC_STATS result: 4 unread bytes after the value at byte 104"
[ "$out" = "$want" ] || fail "expected:
$want"
echo "gen_rstatd: rpc.rstatd's 108-byte reply is taken, and refused when strict"
