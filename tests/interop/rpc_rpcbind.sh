#!/usr/bin/env bash
# `xipc rpcbind` as the machine's directory on port 111: rpcinfo -p/-s list
# what is registered; a libtirpc server registers through pmap_set and xipc
# clients find it; rpcinfo -T looks it up (GETADDR), -l lists its addresses
# (GETADDRLIST), -m shows the statistics (GETSTAT); libtirpc's pmap_rmtcall
# and rpcb_rmtcall reach it through CALLIT, and rpcb_gettime,
# rpcb_uaddr2taddr and rpcb_taddr2uaddr work; only its owner or root
# may remove it (rpcinfo -d as nobody fails); an xipc server registers on
# start and unregisters on stop, also over IPv6 (tcp6/udp6); a second
# server does not take over a running one's registration unless told to
# replace it, and a dead one's is replaced.
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
rpcinfo -T tcp 127.0.0.1 "$XECHO_PROG" 1 || die "rpcinfo -T tcp (GETADDR v4)"
rpcinfo -T udp 127.0.0.1 "$XECHO_PROG" 1 || die "rpcinfo -T udp (GETADDR v4)"
list=$(rpcinfo -l 127.0.0.1 "$XECHO_PROG" 1)
grep -Eq "^ +$XECHO_PROG +1 +inet/tcp/cots_ord +127\.0\.0\.1\.$((TCP_PORT >> 8))\.$((TCP_PORT & 255)) " <<<"$list" \
    || die "rpcinfo -l (GETADDRLIST) lacks the TCP address: $list"
grep -Eq "^ +$XECHO_PROG +1 +inet/udp/clts +127\.0\.0\.1\.$((UDP_PORT >> 8))\.$((UDP_PORT & 255)) " <<<"$list" \
    || die "rpcinfo -l (GETADDRLIST) lacks the UDP address: $list"
stats=$(rpcinfo -m 127.0.0.1)
for v in "PORTMAP (version 2)" "RPCBIND (version 3)" "RPCBIND (version 4)"; do
    grep -q "^$v statistics" <<<"$stats" || die "rpcinfo -m (GETSTAT) lacks $v: $stats"
done
# The lookups of rpcinfo -T above, counted per netid.
grep -Eq "^$XECHO_PROG[[:space:]]+1[[:space:]]+tcp[[:space:]]+[1-9][0-9]*[[:space:]]+0" <<<"$stats" || die "rpcinfo -m lacks the tcp lookup: $stats"
grep -Eq "^$XECHO_PROG[[:space:]]+1[[:space:]]+udp[[:space:]]+[1-9][0-9]*[[:space:]]+0" <<<"$stats" || die "rpcinfo -m lacks the udp lookup: $stats"
# libtirpc's own rpcbind clients: CALLIT forwarding and conversions.
"$WORK/tirpc_rpcbind" "$UDP_PORT" || die "libtirpc rpcbind client functions against xipc rpcbind"
# Registered by root: another user may not remove it.
if setpriv --reuid=nobody --regid=nogroup --clear-groups rpcinfo -d "$XECHO_PROG" 1 2>/dev/null; then
    die "nobody removed root's registration"
fi
rpcinfo -p 127.0.0.1 | grep -q "$XECHO_PROG" || die "the registration went although nobody's rpcinfo -d failed"
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

# A program version a running server has registered is not taken over: a
# second server's start fails, naming the program, the version and the
# address (C and Python alike), and the first stays registered. With
# replace it is taken over; the first, stopping, then removes nothing.
# uaddr PORT: the last two fields of a universal address for PORT.
uaddr() { echo ".$(($1 >> 8)).$(($1 & 255))"; }
start_server xipc-c-first "$WORK/c_server" register
first_pid=$SERVER_PID first_tcp=$TCP_PORT first_udp=$UDP_PORT
# (the timeout only bounds a server that, wrongly, starts and serves)
rc=0; timeout 60 "$WORK/c_server" register >"$WORK/second.out" 2>"$WORK/second.err" || rc=$?
[[ $rc -eq 1 ]] || die "a second C server's start exited $rc, not 1: $(cat "$WORK/second.err")"
grep -Fq "program $XECHO_PROG ($(printf '%#x' "$XECHO_PROG")) version 1 is registered with rpcbind at " "$WORK/second.err" \
    || die "the C refusal does not name the program and version: $(cat "$WORK/second.err")"
grep -Eq "$(uaddr "$first_tcp" | sed 's/\./\\./g') \(tcp\)|$(uaddr "$first_udp" | sed 's/\./\\./g') \(udp\)" "$WORK/second.err" \
    || die "the C refusal does not name the first server's address: $(cat "$WORK/second.err")"
rc=0; timeout 60 "$PYTHON" "$RPC_DIR/py_server.py" --rpcbind >"$WORK/second-py.out" 2>"$WORK/second-py.err" || rc=$?
[[ $rc -eq 1 ]] || die "a second Python server's start exited $rc, not 1: $(cat "$WORK/second-py.err")"
grep -Fq "version 1 is registered with rpcbind at " "$WORK/second-py.err" \
    || die "the Python refusal (AlreadyExists) does not say why: $(cat "$WORK/second-py.err")"
listing=$(rpcinfo -p 127.0.0.1)
grep -Eq "^ +$XECHO_PROG +1 +tcp +$first_tcp( |$)" <<<"$listing" || die "the refused start changed the registration: $listing"
grep -Eq "^ +$XECHO_PROG +1 +udp +$first_udp( |$)" <<<"$listing" || die "the refused start changed the registration: $listing"
start_server xipc-c-replace "$WORK/c_server" replace
second_pid=$SERVER_PID
listing=$(rpcinfo -p 127.0.0.1)
grep -Eq "^ +$XECHO_PROG +1 +tcp +$TCP_PORT( |$)" <<<"$listing" || die "replace did not take over (tcp $TCP_PORT): $listing"
grep -Eq "^ +$XECHO_PROG +1 +udp +$UDP_PORT( |$)" <<<"$listing" || die "replace did not take over (udp $UDP_PORT): $listing"
stop_server "$first_pid"
listing=$(rpcinfo -p 127.0.0.1)
grep -Eq "^ +$XECHO_PROG +1 +tcp +$TCP_PORT( |$)" <<<"$listing" \
    || die "the replaced server removed its successor's registration on stop: $listing"
stop_server "$second_pid"
if rpcinfo -p 127.0.0.1 | grep -q "$XECHO_PROG"; then die "the replacing server left its registration after stop"; fi
# A registration whose server is gone (killed) is replaced without replace.
start_server xipc-c-killed "$WORK/c_server" register
kill -KILL "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
rpcinfo -p 127.0.0.1 | grep -Eq "^ +$XECHO_PROG +1 +tcp +$TCP_PORT( |$)" || die "the killed server's registration is gone"
start_server xipc-py-after "$PYTHON" "$RPC_DIR/py_server.py" --rpcbind
rpcinfo -p 127.0.0.1 | grep -Eq "^ +$XECHO_PROG +1 +tcp +$TCP_PORT( |$)" \
    || die "a stale registration was not replaced: $(rpcinfo -p 127.0.0.1)"
stop_server "$SERVER_PID"
if rpcinfo -p 127.0.0.1 | grep -q "$XECHO_PROG"; then die "Python server still registered after stop"; fi

# Over IPv6: an xipc server on ::1 registers as tcp6/udp6 (rpcbind v4).
start_server xipc-c6 "$WORK/c_server" register ::1
rpcinfo -s 127.0.0.1 | grep -Eq "^ +$XECHO_PROG +1 +(udp6,tcp6|tcp6,udp6) " \
    || die "rpcinfo -s lacks tcp6/udp6: $(rpcinfo -s 127.0.0.1)"
rpcinfo -T tcp6 ::1 "$XECHO_PROG" 1 || die "rpcinfo -T tcp6"
rpcinfo -T udp6 ::1 "$XECHO_PROG" 1 || die "rpcinfo -T udp6"
"$PYTHON" "$RPC_DIR/py_client.py" ::1 tcp 0 || die "xipc Python client lookup over IPv6"
stop_server "$SERVER_PID"
if rpcinfo -s 127.0.0.1 | grep -q "$XECHO_PROG"; then die "IPv6 registration left after stop"; fi
echo "rpc_rpcbind: ok"
