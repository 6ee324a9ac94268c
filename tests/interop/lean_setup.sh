#!/usr/bin/env bash
# Set-up pulls in only what it needs: `make demo` installs none of the test
# tools, and a Rust program that depends on xipc with default features off
# builds the library without the command line's dependencies.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
fail() { echo "FAIL: $*"; exit 1; }
command -v cargo >/dev/null || fail "cargo is missing (install a Rust toolchain)"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/xipc-lean.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# What each make target installs.
demo=$("$root/scripts/deps.sh" --print demo)
test=$("$root/scripts/deps.sh" --print test)
for tool in valgrind cmake rpcbind pytest hypothesis posix_ipc mypy; do
    grep -qw -- "$tool" <<<"$test" || fail "deps.sh test does not list $tool: $test"
    if grep -qw -- "$tool" <<<"$demo"; then fail "make demo would install $tool: $demo"; fi
done
make -s -n -C "$root" demo >"$tmp/demo.n"
grep -q 'scripts/deps.sh demo' "$tmp/demo.n" || fail "make demo does not run deps.sh demo"
if grep -q 'scripts/deps.sh test' "$tmp/demo.n"; then fail "make demo runs deps.sh test"; fi
echo "make demo installs only: $(tr '\n' ' ' <<<"$demo")"

# A user's crate: the dependencies cargo would build, with and without the
# default features (cargo tree resolves them without building anything).
mkdir -p "$tmp/user/src"
echo 'fn main() {}' >"$tmp/user/src/main.rs"
[[ -f $root/Cargo.lock ]] && cp "$root/Cargo.lock" "$tmp/user/Cargo.lock"
user_tree() { # user_tree DEPENDENCY-SPEC: the normal dependencies of a crate using it
    cat >"$tmp/user/Cargo.toml" <<TOML
[package]
name = "xipc-lean-check"
version = "0.0.0"
edition = "2021"
publish = false
[dependencies]
xipc = $1
[workspace]
TOML
    (cd "$tmp/user" && cargo tree --offline -q -e normal --prefix none 2>&1) || fail "cargo tree failed"
}
full=$(user_tree "{ path = \"$root\" }")
lean=$(user_tree "{ path = \"$root\", default-features = false }")
for dep in clap serde_json; do
    grep -q "^$dep " <<<"$full" || fail "$dep is not a default dependency any more (update this test): $full"
    if grep -q "^$dep " <<<"$lean"; then fail "with default-features = false, xipc still pulls in $dep"; fi
done
echo "default-features = false: $(sort -u <<<"$lean" | wc -l) crates, without clap and serde_json"
echo "PASS: lean_setup"
