#!/usr/bin/env bash
# `xipc gen` on every .x file the system ships: the rpcsvc-proto set
# (rpcsvc/*.x, found on the C compiler's include path) and libtirpc's
# rpcb_prot.x (found through pkg-config), and on tests/gen/big (64-bit
# constants, a file importing another, every construct):
#  - C: every generated file compiles with -Wall -Wextra -Wpedantic -Werror
#    against xipc.h alone, and the codecs and client stubs link against
#    libxipc with no symbol left undefined;
#  - Python: every module imports, passes mypy --strict, and the default
#    value of every struct and union encodes and decodes back equal;
#  - Rust: all modules in one crate pass cargo clippy -D warnings, and the
#    default value of every struct, union and enum encodes and decodes back
#    equal;
#  - tests/gen/big: the same value built in C, Python and Rust encodes to
#    the same bytes, and the defaults follow the all-zero rule.
# A missing tool or file fails the test, saying what to install.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${XIPC_BIN:-$root/target/release/xipc}
lib=${XIPC_LIBRARY:-$root/target/release/libxipc.so}
fail() { echo "gen_system_x: FAIL: $*" >&2; exit 1; }
[ -x "$bin" ] || fail "$bin not built: run make all"
command -v cc >/dev/null || fail "cc not found: install gcc"
command -v cargo >/dev/null || fail "cargo not found: install Rust"
python3 -m mypy --version >/dev/null 2>&1 || fail "mypy not found: pip install mypy (make deps installs tests/python/requirements.txt)"
pkg-config --exists libtirpc || fail "libtirpc not found by pkg-config: install libtirpc-dev (make deps)"

source "$root/tests/interop/gen/common.sh"
sysinc=$(rpcsvc_include)
rpcb="$(pkg-config --variable=includedir libtirpc)/tirpc/rpc/rpcb_prot.x"
[ -f "$rpcb" ] || fail "$rpcb missing: install libtirpc-dev (make deps)"
xfiles=("$sysinc"/rpcsvc/*.x "$rpcb")
# The set this test was written against must all be there.
for f in bootparam_prot key_prot klm_prot mount nfs_prot nis nis_callback nis_object nlm_prot \
    rex rquota rstat rusers sm_inter spray yp yppasswd; do
    [ -f "$sysinc/rpcsvc/$f.x" ] || fail "$sysinc/rpcsvc/$f.x missing: install rpcsvc-proto (make deps)"
done
big=("$root/tests/gen/big/common.x" "$root/tests/gen/big/store.x")

mkdir -p "$tmp/c" "$tmp/py" "$tmp/rs/gen" "$tmp/lib"
ln -s "$lib" "$tmp/lib/libxipc.so.0"
for x in "${xfiles[@]}" "${big[@]}"; do
    "$bin" gen -q -l c -I "$sysinc" -o "$tmp/c" "$x" || fail "C for $x"
    "$bin" gen -q -l python -I "$sysinc" -o "$tmp/py" "$x" || fail "Python for $x"
    "$bin" gen -q -l rust -I "$sysinc" -o "$tmp/rs/gen" "$x" || fail "Rust for $x"
done
echo "generated C, Python and Rust for ${#xfiles[@]} system .x files and tests/gen/big"

# ---- C ----
cflags="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Wpedantic -Werror -fPIC -I$root/include -I$tmp/c"
# nis_callback.x's RPC_XDR part includes "nis_clnt.h", a header no package
# ships (rpcgen's output needs it just as much): an empty one stands in.
: > "$tmp/c/nis_clnt.h"
for f in "$tmp"/c/*.c; do
    b=$(basename "$f" .c)
    extra=""
    # rusers.x's RPC_XDR `%` lines are hand-written libtirpc code (xdr_utmp
    # reads XDR's fields): that one file needs libtirpc's headers.
    [ "$b" = rusers ] && extra="-include rpc/rpc.h $(pkg-config --cflags libtirpc)"
    # shellcheck disable=SC2086
    cc $cflags $extra -c "$f" -o "$tmp/c/$b.o" || fail "generated $b.c does not compile"
done
# Each file's codecs and client stubs (with those of the file it imports)
# link against libxipc alone, but rusers (libtirpc code in its % lines).
for x in "${xfiles[@]}" "${big[@]}"; do
    b=$(basename "$x" .x)
    objs=("$tmp/c/$b.o")
    [ -f "$tmp/c/${b}_clnt.o" ] && objs+=("$tmp/c/${b}_clnt.o")
    case $b in nis_callback) objs+=("$tmp/c/nis.o") ;; store) objs+=("$tmp/c/common.o") ;; esac
    libs=""
    [ "$b" = rusers ] && libs=$(pkg-config --libs libtirpc)
    # shellcheck disable=SC2086
    cc -shared -Wl,--no-undefined -o "$tmp/c/lib$b.so" "${objs[@]}" -L"$(dirname "$lib")" -lxipc $libs ||
        fail "$b: the generated codecs and client leave symbols undefined"
done
echo "C: $(ls "$tmp"/c/*.c | wc -l) files compile clean against xipc.h; codecs and clients link"

# ---- Python ----
export PYTHONPATH="$tmp/py:$root/bindings/python${PYTHONPATH:+:$PYTHONPATH}"
export XIPC_LIBRARY="$lib"
python3 - "$tmp/py" <<'PY' || fail "Python: a module does not import or a default value does not round-trip"
import importlib, inspect, pathlib, sys
n = 0
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.py")):
    mod = importlib.import_module(path.stem)
    for name, cls in vars(mod).items():
        # Structs and unions: the classes of this module with slots.
        if name.startswith("_") or not inspect.isclass(cls) or cls.__module__ != mod.__name__:
            continue
        if not cls.__dict__.get("__slots__"):
            continue
        v = cls()
        b = v.to_bytes()
        assert cls.from_bytes(b) == v, f"{path.stem}.{name}: default does not round-trip"
        n += 1
print(f"Python: {n} default values round-trip")
PY
python3 -m mypy --strict --follow-imports=silent --no-error-summary "$tmp"/py/*.py ||
    fail "Python: mypy --strict finds errors in generated modules"
echo "Python: $(ls "$tmp"/py/*.py | wc -l) modules pass mypy --strict"

# ---- Rust ----
rust_crate "$tmp/rs" gen-system-x
{
    echo "use xipc::idl::XdrType;"
    for f in "$tmp"/rs/gen/*.rs; do
        b=$(basename "$f" .rs)
        echo "pub mod $b { include!(\"../gen/$b.rs\"); }"
    done
    echo "fn round_trip<T: XdrType + Default + PartialEq + std::fmt::Debug>(what: &str) -> usize {"
    echo "    let v = T::default();"
    echo "    let b = v.to_bytes().unwrap_or_else(|e| panic!(\"{what}: {e}\"));"
    echo "    assert_eq!(T::from_bytes(&b).unwrap(), v, \"{what}\");"
    echo "    1"
    echo "}"
    echo "fn main() {"
    echo "    let mut n = 0;"
    for f in "$tmp"/rs/gen/*.rs; do
        b=$(basename "$f" .rs)
        sed -n 's/^impl ::std::default::Default for \([A-Za-z0-9_#]*\) {$/\1/p' "$f" | while read -r t; do
            echo "    n += round_trip::<$b::$t>(\"$b::$t\");"
        done
    done
    echo "    big_value();"
    echo "    println!(\"Rust: {n} default values round-trip\");"
    echo "}"
    cat "$root/tests/gen/big/value.rs"
} > "$tmp/rs/src/main.rs"
# `cargo clippy -- -D warnings` in the build itself: clippy-driver compiles
# this crate (RUSTC_WORKSPACE_WRAPPER reaches workspace members only), and
# its [lints] table denies rustc's warnings and clippy's default lints
# (clippy::all). A separate `cargo clippy` would check every dependency once
# more (40 s of a fresh clone's suite); this way the release build of xipc
# and its dependencies the other interop crates made is used as it is.
clippy_driver=$(command -v clippy-driver) || fail "clippy-driver not found: rustup component add clippy"
cat >> "$tmp/rs/Cargo.toml" <<TOML
[lints.rust]
warnings = "deny"
[lints.clippy]
all = { level = "deny", priority = -1 }
TOML
RUSTC_WORKSPACE_WRAPPER="$clippy_driver" CARGO_TARGET_DIR="$crate_target" \
    cargo build --quiet --release --manifest-path "$tmp/rs/Cargo.toml" ||
    fail "Rust: the generated modules do not build or do not pass clippy with warnings denied"
BIG_HEX="$root/tests/gen/big/value.hex" "$crate_target/release/gen-system-x" ||
    fail "Rust: a default value does not round-trip"

# ---- tests/gen/big: one value, the same bytes in the three languages ----
want=$(tr -d ' \n' < "$root/tests/gen/big/value.hex")
got=$(python3 "$root/tests/gen/big/value.py") || fail "Python: the big value"
[ "$got" = "$want" ] || fail "Python encodes the big value as $got, not $want"
cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wpedantic -Werror -I"$root/include" -I"$tmp/c" \
    -o "$tmp/c/big" "$root/tests/gen/big/value.c" "$tmp/c/store.c" "$tmp/c/common.c" \
    -L"$(dirname "$lib")" -Wl,-rpath,"$tmp/lib" -lxipc || fail "C: tests/gen/big/value.c does not build"
got=$("$tmp/c/big") || fail "C: the big value"
[ "$got" = "$want" ] || fail "C encodes the big value as $got, not $want"
echo "tests/gen/big: C, Python and Rust encode the same value to the same $((${#want} / 2)) bytes"
