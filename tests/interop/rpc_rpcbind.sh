#!/usr/bin/env bash
# `xipc rpcbind` as the machine's directory on port 111: rpcinfo -p/-s list
# what is registered; a libtirpc server registers through pmap_set and xipc
# clients find it; an xipc server registers on start and unregisters on
# stop; rpcinfo -d unregisters through rpcbind v3/v4.
RPC_ISOLATE=1 source "$(dirname "$0")/rpc/common.sh"
build_all
start_rpcbind

listing=$(rpcinfo -p 127.0.0.1)
for v in 2 3 4; do
    for p in tcp udp; do
        grep -Eq "^ +100000 +$v +$p +111 " <<<"$listing" || die "rpcinfo -p lacks portmapper v$v/$p: $listing"
    done
done
# Without a host rpcinfo asks the local socket, which xipc rpcbind also serves.
rpcinfo -p >/dev/null || die "rpcinfo -p (local socket) failed"

# A libtirpc server registers with pmap_set; xipc clients look it up.
start_server tirpc "$WORK/tirpc_server" register
tirpc_pid=$SERVER_PID
listing=$(rpcinfo -p 127.0.0.1)
grep -Eq "^ +$XECHO_PROG +1 +tcp +$TCP_PORT( |$)" <<<"$listing" || die "tirpc server not listed (tcp $TCP_PORT): $listing"
grep -Eq "^ +$XECHO_PROG +1 +udp +$UDP_PORT( |$)" <<<"$listing" || die "tirpc server not listed (udp $UDP_PORT): $listing"
for proto in tcp udp; do
    "$PYTHON" "$RPC_DIR/py_client.py" 127.0.0.1 "$proto" 0 || die "xipc Python client lookup, $proto"
    "$WORK/c_client" 127.0.0.1 "$proto" 0 || die "xipc C client lookup, $proto"
done
rpcinfo -d "$XECHO_PROG" 1 || die "rpcinfo -d"
if rpcinfo -p 127.0.0.1 | grep -q "$XECHO_PROG"; then die "rpcinfo -d did not unregister"; fi
stop_server "$tirpc_pid"

# An xipc server registers on start and unregisters on stop.
start_server xipc-c "$WORK/c_server" register
listing=$(rpcinfo -p 127.0.0.1)
grep -Eq "^ +$XECHO_PROG +1 +tcp +$TCP_PORT( |$)" <<<"$listing" || die "xipc server not listed: $listing"
grep -Eq "^ +$XECHO_PROG +1 +udp +$UDP_PORT( |$)" <<<"$listing" || die "xipc server not listed: $listing"
rpcinfo -s 127.0.0.1 | grep -Eq "^ +$XECHO_PROG +1 +udp,tcp|^ +$XECHO_PROG +1 +tcp,udp" \
    || die "rpcinfo -s: $(rpcinfo -s 127.0.0.1)"
"$WORK/tirpc_client" localhost tcp 0 || die "clnt_create(localhost) -> xipc server"
stop_server "$SERVER_PID"
if rpcinfo -p 127.0.0.1 | grep -q "$XECHO_PROG"; then die "xipc server still registered after stop"; fi
echo "rpc_rpcbind: ok"
