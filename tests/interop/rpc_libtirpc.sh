#!/usr/bin/env bash
# ONC RPC interop with libtirpc, both directions, TCP and UDP:
# - an rpcgen-generated libtirpc client calls xipc servers written in
#   Python and in C (by port, and through clnt_create's rpcbind lookup), and
#   `rpcinfo -t/-u` pings them;
# - xipc clients in Python and C call an rpcgen-generated libtirpc server.
# rpcinfo and clnt_create look rpcbind up on port 111: `xipc rpcbind` runs
# there, in a private network namespace (common.sh, RPC_ISOLATE).
RPC_ISOLATE=1 source "$(dirname "$0")/rpc/common.sh"
build_all
start_rpcbind

for server in py c; do
    if [[ $server == py ]]; then
        start_server xipc-py "$PYTHON" "$RPC_DIR/py_server.py" --rpcbind
    else
        start_server xipc-c "$WORK/c_server" register
    fi
    pid=$SERVER_PID
    for proto in tcp udp; do
        port=$([[ $proto == tcp ]] && echo "$TCP_PORT" || echo "$UDP_PORT")
        "$WORK/tirpc_client" 127.0.0.1 "$proto" "$port" || die "libtirpc client -> xipc $server server, $proto"
        "$WORK/tirpc_client" 127.0.0.1 "$proto" 0 || die "libtirpc clnt_create -> xipc $server server, $proto"
    done
    rpcinfo -t 127.0.0.1 "$XECHO_PROG" 1 || die "rpcinfo -t against the xipc $server server"
    rpcinfo -u 127.0.0.1 "$XECHO_PROG" 1 || die "rpcinfo -u against the xipc $server server"
    # Version 2 is not served: rpcinfo sees PROG_MISMATCH.
    out=$(rpcinfo -n "$TCP_PORT" -t 127.0.0.1 "$XECHO_PROG" 2 2>&1 || true)
    grep -qi "version mismatch" <<<"$out" || die "rpcinfo should report a version mismatch: $out"
    stop_server "$pid"
    # Stopping unregistered it.
    if rpcinfo -p 127.0.0.1 | grep -q "$XECHO_PROG"; then die "xipc $server server still registered"; fi
done

start_server tirpc "$WORK/tirpc_server"
for proto in tcp udp; do
    port=$([[ $proto == tcp ]] && echo "$TCP_PORT" || echo "$UDP_PORT")
    "$PYTHON" "$RPC_DIR/py_client.py" 127.0.0.1 "$proto" "$port" || die "xipc Python client -> libtirpc server, $proto"
    "$WORK/c_client" 127.0.0.1 "$proto" "$port" || die "xipc C client -> libtirpc server, $proto"
done
echo "rpc_libtirpc: ok"
