# Sourced by the benchmark scripts (not a benchmark itself: `make bench` runs
# benches/*.sh).
#
# Every figure a benchmark holds to a bar is also recorded, so that `make
# bench` ends with one table of the bars, met or missed. The records go to
# the file XIPC_BENCH_TARGETS names (unset, as when one script runs alone,
# nothing is recorded), one per line, four tab-separated fields:
#
#     what    value    <= or >=    bar
#
# The Python (gen_py_bench.py, xdr_python.py) and Rust (xdr_rust.rs)
# benchmarks write the same lines themselves.

# bench_target WHAT VALUE OP BAR: records VALUE against BAR (OP is <= or >=).
bench_target() {
    [[ -n ${XIPC_BENCH_TARGETS:-} ]] || return 0
    printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$XIPC_BENCH_TARGETS"
}

# bench_ratio A B: A / B with two decimals.
bench_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# targets_summary FILE: prints every record of FILE, met or missed, and how
# many were met. A run's figures vary (see docs/src/benchmarks.md), so a
# figure near its bar may land on either side: a miss is a flag to look
# again, not a failure.
targets_summary() {
    echo
    echo "== targets (each figure against its bar)"
    awk -F'\t' '
        NF != 4 { printf "  malformed record: %s\n", $0; bad++; next }
        {
            met = ($3 == "<=") ? ($2 + 0 <= $4 + 0) : ($2 + 0 >= $4 + 0)
            printf "  %-6s  %-70s %8s  %s %s\n", met ? "met" : "MISSED", $1, $2, $3, $4
            n++; m += met
        }
        END {
            printf "%d of %d targets met\n", m, n
            if (bad) exit 1
        }' "$1"
}
