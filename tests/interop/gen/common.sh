# Shared by the tests/interop/gen_*.sh scripts (sourced, after `fail` is
# defined): a temporary directory with the servers started in it, stopped
# and removed on exit; a server started and its port awaited; a throwaway
# crate on this xipc; the rpcsvc .x files on the C compiler's include path.

tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

# start NAME COMMAND...: runs a server that prints its port first; waits
# for that line (in $tmp/NAME.port).
start() {
    local name=$1
    shift
    "$@" > "$tmp/$name.port" 2> "$tmp/$name.err" &
    pids+=($!)
    for _ in $(seq 100); do
        [ -s "$tmp/$name.port" ] && return 0
        sleep 0.1
    done
    fail "$name server printed no port: $(cat "$tmp/$name.err")"
}

# rust_crate DIR NAME: a binary crate NAME in DIR on this xipc, with this
# tree's Cargo.lock (the same dependency versions). Build it with
# CARGO_TARGET_DIR=$crate_target: not this tree's target directory, as its
# build of xipc must not replace the artifacts of this tree's, but the one
# the demo's Rust client builds in (examples/demo/run.sh): every crate there
# builds xipc with the same profile and features, so xipc and its
# dependencies are compiled once for all of them.
crate_target=${CARGO_TARGET_DIR:-$root/target}/crates
rust_crate() {
    mkdir -p "$1/src"
    cp "$root/Cargo.lock" "$1/Cargo.lock"
    cat > "$1/Cargo.toml" <<TOML
[package]
name = "$2"
version = "0.0.0"
edition = "2021"
publish = false
[dependencies]
xipc = { path = "$root" }
[workspace]
TOML
}

# rpcsvc_include: the directory on the C compiler's include path that holds
# rpcsvc/*.x (rpcsvc-proto), or a failure saying what to install.
rpcsvc_include() {
    local d
    for d in $(echo | cc -xc -E -Wp,-v - 2>&1 >/dev/null | sed -n 's/^ \(\/.*\)$/\1/p'); do
        if [ -f "$d/rpcsvc/mount.x" ]; then
            echo "$d"
            return 0
        fi
    done
    fail "no rpcsvc/*.x on the C compiler's include path: install rpcsvc-proto (make deps)"
}
