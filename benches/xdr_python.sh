#!/usr/bin/env bash
# Python XDR: xipc.xdr beside the stdlib xdrlib and bulk struct calls.
# `make bench` exports XIPC_LIBRARY and PYTHONPATH; run alone, this finds the
# build tree.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PYTHONPATH="$root/bindings/python${PYTHONPATH:+:$PYTHONPATH}"
export XIPC_LIBRARY="${XIPC_LIBRARY:-$root/target/release/libxipc.so}"
echo "== benches/xdr_python.sh"
exec "${PYTHON:-python3}" "$root/benches/xdr_python.py"
