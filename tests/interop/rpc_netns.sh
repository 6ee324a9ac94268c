#!/usr/bin/env bash
# Two hosts: network namespaces joined by a veth pair. An xipc C server and
# a libtirpc server run in one; xipc clients (C, Python) and the libtirpc
# client call across from the other, over TCP and UDP.
source "$(dirname "$0")/rpc/common.sh"
command -v ip >/dev/null || die "ip is missing; install iproute2 (scripts/deps.sh does)"
[[ $(id -u) -eq 0 ]] || die "rpc_netns must run as root: it creates network namespaces (ip netns add)"
build_all

A=xipc-rpc-a-$$
B=xipc-rpc-b-$$
net_cleanup() {
    ip netns del "$A" 2>/dev/null || true
    ip netns del "$B" 2>/dev/null || true
}
trap 'cleanup; net_cleanup' EXIT
ip netns add "$A" || die "cannot create a network namespace (ip netns add)"
ip netns add "$B"
ip link add "va$$" type veth peer name "vb$$"
ip link set "va$$" netns "$A"
ip link set "vb$$" netns "$B"
ip -n "$A" addr add 10.231.0.1/24 dev "va$$"
ip -n "$B" addr add 10.231.0.2/24 dev "vb$$"
for ns in "$A" "$B"; do
    ip -n "$ns" link set lo up
done
ip -n "$A" link set "va$$" up
ip -n "$B" link set "vb$$" up

start_server xipc-c ip netns exec "$A" "$WORK/c_server" no 10.231.0.1
for proto in tcp udp; do
    port=$([[ $proto == tcp ]] && echo "$TCP_PORT" || echo "$UDP_PORT")
    ip netns exec "$B" "$WORK/c_client" 10.231.0.1 "$proto" "$port" || die "C client -> xipc server across namespaces, $proto"
    ip netns exec "$B" "$PYTHON" "$RPC_DIR/py_client.py" 10.231.0.1 "$proto" "$port" || die "Python client -> xipc server, $proto"
    ip netns exec "$B" "$WORK/tirpc_client" 10.231.0.1 "$proto" "$port" || die "libtirpc client -> xipc server, $proto"
done
stop_server "$SERVER_PID"

start_server tirpc ip netns exec "$A" "$WORK/tirpc_server"
for proto in tcp udp; do
    port=$([[ $proto == tcp ]] && echo "$TCP_PORT" || echo "$UDP_PORT")
    ip netns exec "$B" "$WORK/c_client" 10.231.0.1 "$proto" "$port" || die "C client -> libtirpc server across namespaces, $proto"
done
echo "rpc_netns: ok"
