#!/usr/bin/env bash
# Rust XDR benchmarks: bulk f64 arrays vs memcpy, serde XDR vs bincode.
# Pass --quick for short runs.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --quiet --bench xdr_rust -- "$@"
