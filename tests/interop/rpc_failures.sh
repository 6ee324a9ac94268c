#!/usr/bin/env bash
# RPC failure semantics across processes: a server killed mid-call, a UDP
# proxy dropping replies (retransmission + duplicate-request cache =
# exactly once), malformed calls (bad rpcvers, truncated args, hostile
# lengths) against xipc servers in Python and C.
RPC_ISOLATE=1 source "$(dirname "$0")/rpc/common.sh"
build_all
"$PYTHON" "$RPC_DIR/failures.py" "$WORK"
