# Shared by tests/interop/rpc_*.sh and benches/rpc.sh: finds the tools,
# builds the rpcgen/libtirpc and xipc programs of xecho.x into $WORK, and
# starts and stops servers. Source it; it sets -euo pipefail.
# With RPC_ISOLATE=1 set before sourcing, the script first re-runs itself in
# private network and mount namespaces (root only): a loopback and a /run of
# its own, so `xipc rpcbind` gets port 111 and /run/rpcbind.sock whatever the
# host runs, and nothing it starts reaches or disturbs a system rpcbind.
set -euo pipefail

RPC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$RPC_DIR/../../.." && pwd)
RELEASE="$ROOT/target/release"
export XIPC_LIBRARY=${XIPC_LIBRARY:-$RELEASE/libxipc.so}
export PYTHONPATH="$ROOT/bindings/python${PYTHONPATH:+:$PYTHONPATH}"
XIPC_BIN=${XIPC_BIN:-$RELEASE/xipc}
PYTHON=${PYTHON:-python3}
XECHO_PROG=$((0x20005a5a))

die() { echo "FAIL: $*" >&2; exit 1; }

need() {
    command -v "$1" >/dev/null || die "$1 is missing; install the Debian package $2 (scripts/deps.sh does)"
}
# Re-runs the sourcing script inside new network and mount namespaces, with
# lo up and a fresh tmpfs on /run.
isolate() {
    [[ -n ${XIPC_RPC_ISOLATED:-} ]] && return 0
    local me
    me=$(basename "$0")
    [[ $(id -u) -eq 0 ]] || die "$me must run as root: it runs in a private network namespace (unshare -n) so that it needs no free port 111"
    need unshare util-linux
    need ip iproute2
    unshare --net --mount true 2>/dev/null \
        || die "$me cannot create a private network namespace (unshare --net --mount failed; in a container, allow CAP_SYS_ADMIN)"
    XIPC_RPC_ISOLATED=1 exec unshare --net --mount --propagation private -- bash -c '
        set -e
        ip link set lo up
        mount -t tmpfs -o mode=0755 xipc-run /run
        exec bash "$0" "$@"' "$0" "$@"
}
if [[ ${RPC_ISOLATE:-} == 1 ]]; then
    isolate "$@"
fi

need rpcgen rpcsvc-proto
need rpcinfo rpcbind
need pkg-config pkg-config
pkg-config --exists libtirpc || die "libtirpc is missing; install libtirpc-dev (scripts/deps.sh does)"
[[ -f $XIPC_LIBRARY && -x $XIPC_BIN ]] || die "build xipc first: make all"
[[ -f $ROOT/include/xipc.h ]] || die "include/xipc.h is missing"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/xipc-rpc-XXXXXX")
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# The soname is libxipc.so.0; give the linker and loader that name too.
mkdir -p "$WORK/lib"
ln -sf "$XIPC_LIBRARY" "$WORK/lib/libxipc.so"
ln -sf "$XIPC_LIBRARY" "$WORK/lib/libxipc.so.0"

build_all() {
    local tirpc_cflags tirpc_libs
    tirpc_cflags=$(pkg-config --cflags libtirpc)
    tirpc_libs=$(pkg-config --libs libtirpc)
    cp "$RPC_DIR/xecho.x" "$WORK/"
    (
        cd "$WORK"
        rpcgen -h xecho.x -o xecho.h
        rpcgen -c xecho.x -o xecho_xdr.c
        rpcgen -l xecho.x -o xecho_clnt.c
        rpcgen -m xecho.x -o xecho_svc.c
    )
    local cc="${CC:-cc} -O2 -D_GNU_SOURCE"
    $cc $tirpc_cflags -I"$WORK" -o "$WORK/tirpc_server" "$RPC_DIR/tirpc_server.c" \
        "$WORK/xecho_svc.c" "$WORK/xecho_xdr.c" $tirpc_libs
    $cc $tirpc_cflags -I"$WORK" -o "$WORK/tirpc_client" "$RPC_DIR/tirpc_client.c" \
        "$WORK/xecho_clnt.c" "$WORK/xecho_xdr.c" $tirpc_libs
    $cc $tirpc_cflags -I"$WORK" -o "$WORK/tirpc_rpcbind" "$RPC_DIR/tirpc_rpcbind.c" \
        "$WORK/xecho_xdr.c" $tirpc_libs
    local xipc_flags=(-Wall -Wextra -Werror -I"$ROOT/include" -L"$WORK/lib" -Wl,-rpath,"$WORK/lib" -lxipc -lpthread)
    $cc -o "$WORK/c_server" "$RPC_DIR/c_server.c" "${xipc_flags[@]}"
    $cc -o "$WORK/c_client" "$RPC_DIR/c_client.c" "${xipc_flags[@]}"
    $cc -o "$WORK/c_rpcbind" "$RPC_DIR/c_rpcbind.c" "${xipc_flags[@]}"
}

# start_server NAME COMMAND...: runs a server that prints "tcp PORT udp PORT";
# sets TCP_PORT, UDP_PORT and SERVER_PID.
start_server() {
    local name=$1; shift
    local out="$WORK/$name.out"
    : >"$out"
    "$@" >"$out" 2>"$WORK/$name.err" &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    local i
    for i in $(seq 100); do
        if read -r _ TCP_PORT _ UDP_PORT <"$out" 2>/dev/null && [[ -n ${UDP_PORT:-} ]]; then
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/$name.err" >&2; die "$name exited"; }
        sleep 0.1
    done
    die "$name did not report its ports"
}

stop_server() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# Starts `xipc rpcbind` on port 111 (rpcinfo and clnt_create only look
# there), in the script's private network namespace (see RPC_ISOLATE).
start_rpcbind() {
    [[ -n ${XIPC_RPC_ISOLATED:-} ]] || die "start_rpcbind needs RPC_ISOLATE=1 (a private network namespace)"
    if (exec 3<>/dev/tcp/127.0.0.1/111) 2>/dev/null; then
        die "port 111 is taken inside the private network namespace"
    fi
    "$XIPC_BIN" rpcbind --port 111 >"$WORK/rpcbind.out" 2>&1 &
    RPCBIND_PID=$!
    PIDS+=("$RPCBIND_PID")
    local i
    for i in $(seq 50); do
        if rpcinfo -p 127.0.0.1 >/dev/null 2>&1; then return 0; fi
        kill -0 "$RPCBIND_PID" 2>/dev/null || { cat "$WORK/rpcbind.out" >&2; die "xipc rpcbind exited"; }
        sleep 0.1
    done
    die "xipc rpcbind did not answer on port 111"
}
