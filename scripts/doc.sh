#!/usr/bin/env bash
# Builds the documentation site in target/doc-site/ (what `make doc` runs,
# after `make all`):
#   book/    the book, docs/ (mdBook)
#   rust/    the Rust API (cargo doc --no-deps; any rustdoc warning fails
#            it, unless RUSTDOCFLAGS says otherwise)
#   python/  the Python API (pydoc, from the package's docstrings)
#   index.html  links to the three
# mdBook MDBOOK_VERSION is used from PATH or ~/.cargo/bin when that version
# is there, and installed once with `cargo install --locked` otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

MDBOOK_VERSION=0.5.4
site=target/doc-site
py=${PYTHON:-python3}

find_mdbook() {
    local m
    for m in "$(command -v mdbook || true)" "${CARGO_HOME:-$HOME/.cargo}/bin/mdbook"; do
        if [[ -x $m ]] && [[ $("$m" --version) == "mdbook v$MDBOOK_VERSION" ]]; then
            echo "$m"
            return 0
        fi
    done
    return 1
}
if ! mdbook=$(find_mdbook); then
    echo "doc: installing mdbook $MDBOOK_VERSION (cargo install --locked; once)"
    cargo install --locked --version "$MDBOOK_VERSION" mdbook
    mdbook=$(find_mdbook) || { echo "doc: mdbook $MDBOOK_VERSION is still missing" >&2; exit 1; }
fi

rm -rf "$site"
mkdir -p "$site"

"$mdbook" build docs   # into target/doc-site/book (docs/book.toml)

RUSTDOCFLAGS=${RUSTDOCFLAGS:--D warnings} cargo doc --no-deps
cp -r target/doc "$site/rust"

mkdir -p "$site/python"
modules=(xipc xipc.xdr xipc.mq xipc.stream xipc.rpc xipc.errors xipc.wellknown)
(cd "$site/python" && "$py" -m pydoc -w "${modules[@]}" >/dev/null)
for m in "${modules[@]}"; do
    [[ -s $site/python/$m.html ]] || { echo "doc: pydoc wrote no page for $m" >&2; exit 1; }
done

version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n1)
{
    echo "<!DOCTYPE html>"
    echo "<html lang=\"en\"><head><meta charset=\"utf-8\"><title>xipc $version documentation</title></head>"
    echo "<body><h1>xipc $version</h1><ul>"
    echo "<li><a href=\"book/index.html\">The book</a>: getting started, conventions, every mechanism in C, Python and Rust, benchmarks</li>"
    echo "<li><a href=\"rust/xipc/index.html\">Rust API</a> (cargo doc)</li>"
    echo "<li>Python API (pydoc):"
    for m in "${modules[@]}"; do echo " <a href=\"python/$m.html\">$m</a>"; done
    echo "</li>"
    echo "<li>C API: <code>include/xipc.h</code>, whose comments document every function</li>"
    echo "</ul></body></html>"
} > "$site/index.html"
echo "doc: $site/index.html"
