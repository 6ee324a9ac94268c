#!/usr/bin/env bash
# `xipc rpcbind` seen from another host: two network namespaces joined by a
# veth pair. In A, `xipc rpcbind --listen 10.232.0.1 --port 0` (the port
# read from the lines it prints) and an xipc C server of xecho.x registered
# with it from loopback; from B, a standard-library Python client
# (rpc/rpcbind_probe.py) acts as the remote host. With remote calls off
# (the default), B's CALLIT, BCAST and INDIRECT are not forwarded
# (PROC_UNAVAIL, as rpcbind >= 1.2.5 answers) while A's own callers are;
# B's GETPORT and GETADDR answer; B's SET and UNSET are refused (FALSE);
# B's UDP DUMP and GETSTAT get SYSTEM_ERR, no reply larger than twice the
# call. With --remote-calls, B's calls are forwarded.
source "$(dirname "$0")/rpc/common.sh"
need ip iproute2
[[ $(id -u) -eq 0 ]] || die "rpc_rpcbind_netns must run as root: it creates network namespaces (ip netns add)"
build_all

A=xipc-rb-a-$$
B=xipc-rb-b-$$
net_cleanup() {
    ip netns del "$A" 2>/dev/null || true
    ip netns del "$B" 2>/dev/null || true
}
trap 'cleanup; net_cleanup' EXIT
ip netns add "$A" || die "cannot create a network namespace (ip netns add)"
ip netns add "$B"
ip link add "ra$$" type veth peer name "rb$$"
ip link set "ra$$" netns "$A"
ip link set "rb$$" netns "$B"
ip -n "$A" addr add 10.232.0.1/24 dev "ra$$"
ip -n "$B" addr add 10.232.0.2/24 dev "rb$$"
for ns in "$A" "$B"; do
    ip -n "$ns" link set lo up
done
ip -n "$A" link set "ra$$" up
ip -n "$B" link set "rb$$" up
PROBE=("$PYTHON" "$RPC_DIR/rpcbind_probe.py")

# start_rpcbind_at NAME OPTION...: `xipc rpcbind --listen 10.232.0.1 --port 0`
# in A; sets RB_PORT from the "udp 10.232.0.1 PORT" line it prints.
start_rpcbind_at() {
    local name=$1; shift
    local out="$WORK/$name.out"
    : >"$out"
    ip netns exec "$A" "$XIPC_BIN" rpcbind --listen 10.232.0.1 --port 0 "$@" >"$out" 2>"$WORK/$name.err" &
    RB_PID=$!
    PIDS+=("$RB_PID")
    local i
    RB_PORT=
    for i in $(seq 100); do
        RB_PORT=$(awk '$1 == "udp" && $2 == "10.232.0.1" { print $3 }' "$out")
        [[ -n $RB_PORT ]] && break
        kill -0 "$RB_PID" 2>/dev/null || { cat "$WORK/$name.err" >&2; die "$name exited"; }
        sleep 0.1
    done
    [[ -n $RB_PORT ]] || die "$name did not print its UDP address: $(cat "$out")"
    # Every listener is printed: the address given and loopback, TCP and UDP, one port.
    for line in "tcp 10.232.0.1 $RB_PORT" "tcp 127.0.0.1 $RB_PORT" "udp 127.0.0.1 $RB_PORT"; do
        grep -qx "$line" "$out" || die "$name did not print \"$line\": $(cat "$out")"
    done
    # Nothing listens on other addresses (--listen replaces the wildcard).
    if grep -q "^[a-z0-9]* 0\.0\.0\.0 " "$out"; then die "$name listens on 0.0.0.0: $(cat "$out")"; fi
}

start_rpcbind_at rpcbind
start_server xipc-c ip netns exec "$A" "$WORK/c_server" no 127.0.0.1
ip netns exec "$A" "${PROBE[@]}" register 127.0.0.1 "$RB_PORT" "$XECHO_PROG" "$TCP_PORT" "$UDP_PORT" \
    || die "registering from loopback"
# A caller on this machine is forwarded to (the count is 1 then 2).
ip netns exec "$A" "${PROBE[@]}" count 127.0.0.1 "$RB_PORT" "$XECHO_PROG" 1 || die "local CALLIT"
ip netns exec "$A" "${PROBE[@]}" forwarded 127.0.0.1 "$RB_PORT" "$XECHO_PROG" "$TCP_PORT" "$UDP_PORT" \
    || die "local CALLIT, BCAST and INDIRECT are forwarded"
ip netns exec "$B" "${PROBE[@]}" remote 10.232.0.1 "$RB_PORT" "$XECHO_PROG" "$TCP_PORT" "$UDP_PORT" \
    || die "a remote host against rpcbind without remote calls"
# Nothing B asked for reached the service: count goes from 1 to 2.
ip netns exec "$A" "${PROBE[@]}" count 127.0.0.1 "$RB_PORT" "$XECHO_PROG" 2 \
    || die "a remote call was forwarded to the service"
stop_server "$RB_PID"

# --remote-calls: B's calls are forwarded.
start_rpcbind_at rpcbind-remote --remote-calls
ip netns exec "$A" "${PROBE[@]}" register 127.0.0.1 "$RB_PORT" "$XECHO_PROG" "$TCP_PORT" "$UDP_PORT" \
    || die "registering from loopback (--remote-calls)"
ip netns exec "$B" "${PROBE[@]}" forwarded 10.232.0.1 "$RB_PORT" "$XECHO_PROG" "$TCP_PORT" "$UDP_PORT" \
    || die "a remote host against rpcbind --remote-calls"
echo "rpc_rpcbind_netns: ok"
