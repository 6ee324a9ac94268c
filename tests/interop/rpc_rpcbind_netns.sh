#!/usr/bin/env bash
# The embedded rpcbind seen from another host: two network namespaces joined
# by a veth pair. A has the addresses 10.232.0.1, 10.232.1.1 and 10.232.2.1
# on its end, B 10.232.0.2, 10.232.1.2 and 10.232.2.2 on its own. In A an
# xipc C server of xecho.x runs on loopback and each rpcbind in turn listens
# on port 0 of the addresses it is given; the xecho server is registered
# with each from loopback. From B, a standard-library Python client
# (rpc/rpcbind_probe.py) acts as the remote host.
#
# `xipc rpcbind --listen 10.232.0.1 --listen 10.232.1.1`: both addresses
# (and loopback) serve, 10.232.2.1 refuses; with remote calls off (the
# default) B's CALLIT, BCAST and INDIRECT are not forwarded (PROC_UNAVAIL, as
# rpcbind >= 1.2.5 answers) while A's own callers are; B's GETPORT and
# GETADDR answer; B's SET and UNSET are refused (FALSE); B's UDP DUMP and
# GETSTAT get SYSTEM_ERR, no reply larger than twice the call. With
# --remote-calls, B's calls are forwarded. Then the same from rpcbinds
# embedded in a program: Python's xipc.rpcbind.RpcbindServer and C's
# xipc_rpcbind_server, each with remote calls off and on.
source "$(dirname "$0")/rpc/common.sh"
need ip iproute2
[[ $(id -u) -eq 0 ]] || die "rpc_rpcbind_netns must run as root: it creates network namespaces (ip netns add)"
build_all

A=xipc-rb-a-$$
B=xipc-rb-b-$$
net_cleanup() {
    # The veth pair goes with the namespaces; it is deleted by name in case
    # the script stopped before moving it into them.
    ip link del "ra$$" 2>/dev/null || true
    ip netns del "$A" 2>/dev/null || true
    ip netns del "$B" 2>/dev/null || true
}
trap 'cleanup; net_cleanup' EXIT
ip netns add "$A" || die "cannot create a network namespace (ip netns add)"
ip netns add "$B"
ip link add "ra$$" type veth peer name "rb$$"
ip link set "ra$$" netns "$A"
ip link set "rb$$" netns "$B"
# 10.232.0.x and 10.232.1.x: the addresses rpcbinds are given; 10.232.2.1:
# an address of A that none is given.
for net in 0 1 2; do
    ip -n "$A" addr add "10.232.$net.1/24" dev "ra$$"
    ip -n "$B" addr add "10.232.$net.2/24" dev "rb$$"
done
for ns in "$A" "$B"; do
    ip -n "$ns" link set lo up
done
ip -n "$A" link set "ra$$" up
ip -n "$B" link set "rb$$" up
PROBE=("$PYTHON" "$RPC_DIR/rpcbind_probe.py")

# start_rpcbind_in_a NAME COMMAND...: runs an rpcbind in A and sets RB_PID
# and RB_PORT, read from what it prints: "port PORT" (a program embedding one)
# or a UDP listener's "udp ADDRESS PORT" (xipc rpcbind; one port for all).
start_rpcbind_in_a() {
    local name=$1; shift
    local out="$WORK/$name.out"
    : >"$out"
    ip netns exec "$A" "$@" >"$out" 2>"$WORK/$name.err" &
    RB_PID=$!
    PIDS+=("$RB_PID")
    local i
    RB_PORT=
    for i in $(seq 100); do
        RB_PORT=$(awk '$1 == "port" { print $2; exit } $1 == "udp" { print $3; exit }' "$out")
        [[ -n $RB_PORT ]] && break
        kill -0 "$RB_PID" 2>/dev/null || { cat "$WORK/$name.err" >&2; die "$name exited"; }
        sleep 0.1
    done
    [[ -n $RB_PORT ]] || die "$name did not print its port: $(cat "$out")"
}

# listening_only NAME ADDR...: every socket of A on RB_PORT, as the kernel
# lists them (ss), is a TCP listener or a UDP socket on one of ADDR or
# loopback, and each of ADDR and 127.0.0.1 has both.
listening_only() {
    local name=$1; shift
    local allowed=("$@" 127.0.0.1 ::1) sockets netid local addr want
    sockets=$(ip netns exec "$A" ss -Htuln "sport = :$RB_PORT" | awk '{ print $1, $5 }')
    while read -r netid local; do
        addr=${local%:*}
        addr=${addr#[}
        addr=${addr%]}
        [[ " ${allowed[*]} " == *" $addr "* ]] \
            || die "$name listens on $netid $local, an address it was not given: $sockets"
    done <<<"$sockets"
    for addr in "$@" 127.0.0.1; do
        for netid in tcp udp; do
            grep -qx "$netid $addr:$RB_PORT" <<<"$sockets" \
                || die "$name has no $netid socket on $addr:$RB_PORT: $sockets"
        done
    done
}

# register_xecho NAME: registers the xecho server with the rpcbind on RB_PORT
# from A's loopback.
register_xecho() {
    ip netns exec "$A" "${PROBE[@]}" register 127.0.0.1 "$RB_PORT" "$XECHO_PROG" "$TCP_PORT" "$UDP_PORT" \
        || die "$1: registering from loopback"
}

# from_b NAME MODE ADDR: runs the probe's MODE from B against ADDR.
from_b() {
    local name=$1 mode=$2 addr=$3
    local args=("$XECHO_PROG" "$TCP_PORT" "$UDP_PORT")
    [[ $mode == closed ]] && args=()
    ip netns exec "$B" "${PROBE[@]}" "$mode" "$addr" "$RB_PORT" "${args[@]}" \
        || die "$name: $mode from a remote host to $addr"
}

start_server xipc-c ip netns exec "$A" "$WORK/c_server" no 127.0.0.1

# xipc rpcbind on two addresses given with --listen.
start_rpcbind_in_a rpcbind "$XIPC_BIN" rpcbind --listen 10.232.0.1 --listen 10.232.1.1 --port 0
# Every listener is printed: the addresses given and loopback, TCP and UDP,
# one port, and no other IPv4 address (--listen replaces the wildcard).
for addr in 10.232.0.1 10.232.1.1 127.0.0.1; do
    for netid in tcp udp; do
        grep -qx "$netid $addr $RB_PORT" "$WORK/rpcbind.out" \
            || die "xipc rpcbind did not print \"$netid $addr $RB_PORT\": $(cat "$WORK/rpcbind.out")"
    done
done
if grep -v -E "^(tcp|udp) (10\.232\.0\.1|10\.232\.1\.1|127\.0\.0\.1) |^(tcp6|udp6) ::1 " "$WORK/rpcbind.out"; then
    die "xipc rpcbind printed a listener it was not asked for: $(cat "$WORK/rpcbind.out")"
fi
listening_only "xipc rpcbind" 10.232.0.1 10.232.1.1
register_xecho "xipc rpcbind"
# A caller on this machine is forwarded to (the count is 1 then 2).
ip netns exec "$A" "${PROBE[@]}" count 127.0.0.1 "$RB_PORT" "$XECHO_PROG" 1 || die "local CALLIT"
ip netns exec "$A" "${PROBE[@]}" forwarded 127.0.0.1 "$RB_PORT" "$XECHO_PROG" "$TCP_PORT" "$UDP_PORT" \
    || die "local CALLIT, BCAST and INDIRECT are forwarded"
# Both addresses given answer a remote host, without forwarding; the
# address not given answers nothing.
from_b "xipc rpcbind" remote 10.232.0.1
from_b "xipc rpcbind" remote 10.232.1.1
from_b "xipc rpcbind" closed 10.232.2.1
# Nothing B asked for reached the service: count goes from 1 to 2.
ip netns exec "$A" "${PROBE[@]}" count 127.0.0.1 "$RB_PORT" "$XECHO_PROG" 2 \
    || die "a remote call was forwarded to the service"
stop_server "$RB_PID"

# --remote-calls: B's calls are forwarded, on each address given.
start_rpcbind_in_a rpcbind-remote "$XIPC_BIN" rpcbind --listen 10.232.0.1 --listen 10.232.1.1 \
    --port 0 --remote-calls
register_xecho "xipc rpcbind --remote-calls"
from_b "xipc rpcbind --remote-calls" forwarded 10.232.0.1
from_b "xipc rpcbind --remote-calls" forwarded 10.232.1.1
from_b "xipc rpcbind --remote-calls" closed 10.232.2.1
stop_server "$RB_PID"

# Python's embedded server, remote calls off (on two addresses), then on
# (on the second alone: the first is then an address not given).
start_rpcbind_in_a py-rpcbind "$PYTHON" "$RPC_DIR/py_rpcbind.py" 10.232.0.1 10.232.1.1
listening_only "Python RpcbindServer" 10.232.0.1 10.232.1.1
register_xecho "Python RpcbindServer"
from_b "Python RpcbindServer(remote_calls=False)" remote 10.232.0.1
from_b "Python RpcbindServer(remote_calls=False)" remote 10.232.1.1
from_b "Python RpcbindServer(remote_calls=False)" closed 10.232.2.1
stop_server "$RB_PID"
start_rpcbind_in_a py-rpcbind-remote "$PYTHON" "$RPC_DIR/py_rpcbind.py" --remote-calls 10.232.1.1
listening_only "Python RpcbindServer" 10.232.1.1
register_xecho "Python RpcbindServer(remote_calls=True)"
from_b "Python RpcbindServer(remote_calls=True)" forwarded 10.232.1.1
from_b "Python RpcbindServer(remote_calls=True)" closed 10.232.0.1
stop_server "$RB_PID"

# C's embedded server (xipc_rpcbind_server_set_remote_calls), off then on.
start_rpcbind_in_a c-rpcbind "$WORK/c_rpcbind" local 10.232.0.1
listening_only "C xipc_rpcbind_server" 10.232.0.1
register_xecho "C xipc_rpcbind_server"
from_b "C xipc_rpcbind_server (remote calls off)" remote 10.232.0.1
stop_server "$RB_PID"
start_rpcbind_in_a c-rpcbind-remote "$WORK/c_rpcbind" remote 10.232.0.1
register_xecho "C xipc_rpcbind_server (remote calls on)"
from_b "C xipc_rpcbind_server (remote calls on)" forwarded 10.232.0.1
from_b "C xipc_rpcbind_server (remote calls on)" closed 10.232.1.1
stop_server "$RB_PID"
echo "rpc_rpcbind_netns: ok"
