#!/usr/bin/env bash
# The xipc demo: a sequence of scenes, each a few printed lines, each
# between programs in different languages. `make demo` builds the library
# first and runs this.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/examples/demo"
lib="$root/target/release"
export PYTHONPATH="$root/bindings/python${PYTHONPATH:+:$PYTHONPATH}"
export XIPC_LIBRARY="${XIPC_LIBRARY:-$lib/libxipc.so}"
python=${PYTHON:-python3}

work=$(mktemp -d "${TMPDIR:-/tmp}/xipc-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT

build_c() { # build_c NAME: examples/demo/NAME.c -> $work/NAME
    ${CC:-cc} -std=c11 -Wall -Wextra -Werror -O2 -I"$root/include" -o "$work/$1" \
        "$here/$1.c" -L"$lib" -Wl,-rpath,"$lib" -lxipc
}

scene() {
    echo
    echo "=== $*"
}

# Scene 1: the same XDR bytes in C and Python.
scene "XDR: C encodes a record, Python decodes it and answers, C decodes the answer"
build_c xdr_record
"$work/xdr_record" encode "$work/from_c.xdr"
"$python" "$here/xdr_record.py" "$work/from_c.xdr" "$work/from_python.xdr"
"$work/xdr_record" decode "$work/from_python.xdr"

echo
echo "demo: all scenes ran"
