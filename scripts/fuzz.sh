#!/usr/bin/env bash
# make fuzz: runs every cargo-fuzz target in fuzz/ for a set time and fails on
# any crash, timeout or memory use above a set bound; prints, per target, the
# executions, libFuzzer's coverage (cov: edges, ft: features) and corpus size.
#
#   FUZZ_SECONDS   seconds per target (default 60)
#   FUZZ_RSS_MB    memory bound in MiB, for the process and for one malloc (512)
#   FUZZ_TIMEOUT   seconds one input may take (10)
#   FUZZ_TARGETS   targets to run (default: all of `cargo fuzz list`)
#   FUZZ_JOBS      libFuzzer workers per target (default 1; the machine is shared)
#   FUZZ_MIN_EXECS executions each target must reach, or it fails (default
#                  100,000 per 240 s, scaled to FUZZ_SECONDS when that is 60
#                  or more; none for shorter runs, where replaying the corpus
#                  takes much of the time): a target that runs too slowly
#                  finds too little
#
# cargo-fuzz passes nightly-only flags (-Zsanitizer=address, sancov); with
# RUSTC_BOOTSTRAP=1 the stable compiler accepts them, so no other toolchain
# is needed. New corpus entries go to fuzz/target/corpus/<target> (kept
# between runs, not committed); the committed seeds stay in fuzz/corpus/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
rss_mb=${FUZZ_RSS_MB:-512}
timeout=${FUZZ_TIMEOUT:-10}
jobs=${FUZZ_JOBS:-1}
default_min=0
((seconds >= 60)) && default_min=$((100000 * seconds / 240))
min_execs=${FUZZ_MIN_EXECS:-$default_min}
export RUSTC_BOOTSTRAP=1
# AddressSanitizer keeps up to 256 MiB of freed memory in quarantine, which
# counts against the RSS bound; the targets are safe Rust, where a smaller
# quarantine loses nothing.
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=16}

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    cargo install --locked cargo-fuzz
fi

# The generated codecs under test come from the every-construct fixture.
cargo run --release --quiet --bin xipc -- gen -q --lang rust --base every \
    -o fuzz/gen tests/gen/every.x

targets=${FUZZ_TARGETS:-$(cargo fuzz list --fuzz-dir fuzz)}
echo "fuzz: building ${targets//$'\n'/ }"
cargo fuzz build --fuzz-dir fuzz --release --debug-assertions

logs=fuzz/target/logs
mkdir -p "$logs"
failed=()
summary=()
for t in $targets; do
    work=fuzz/target/corpus/$t
    mkdir -p "$work" "fuzz/corpus/$t"
    log=$logs/$t.log
    echo "== $t: ${seconds}s, rss limit ${rss_mb} MiB, timeout ${timeout}s"
    # -jobs (even 1) makes libFuzzer log to fuzz-N.log files: only for several.
    parallel=()
    ((jobs > 1)) && parallel=(-jobs="$jobs" -workers="$jobs")
    set +e
    cargo fuzz run --fuzz-dir fuzz --release --debug-assertions "$t" "$work" "fuzz/corpus/$t" -- \
        -max_total_time="$seconds" -rss_limit_mb="$rss_mb" -malloc_limit_mb="$rss_mb" \
        -timeout="$timeout" -print_final_stats=1 "${parallel[@]}" >"$log" 2>&1
    rc=$?
    set -e
    if ((jobs > 1)); then
        cat fuzz-*.log >>"$log" 2>/dev/null && rm -f fuzz-*.log
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | awk '{s += $1} END {print s + 0}')
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | sort -n | tail -n1)
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$done_line")
    corpus=$(find "$work" -type f | wc -l)
    line=$(printf '%-14s execs %10s  cov %6s  ft %6s  corpus %6s  peak rss %4s MiB' \
        "$t" "$execs" "${cov:-?}" "${ft:-?}" "$corpus" "${rss:-?}")
    summary+=("$line")
    if ((rc != 0)) || [[ -z $done_line ]]; then
        failed+=("$t")
        echo "FAILED $t (exit $rc); the end of $log:"
        grep -E 'ERROR|panicked|Test unit written|out-of-memory|timeout|ALARM|SUMMARY' "$log" | head -n 20 || true
        tail -n 15 "$log"
    elif ((execs < min_execs)); then
        failed+=("$t")
        echo "FAILED $t: $execs executions in ${seconds}s, fewer than $min_execs (FUZZ_MIN_EXECS)"
    fi
    echo "$line"
done

echo
echo "fuzz summary (${seconds}s per target, at least $min_execs executions, rss limit ${rss_mb} MiB, timeout ${timeout}s):"
printf '  %s\n' "${summary[@]}"
if ((${#failed[@]})); then
    echo "fuzz: FAILED: ${failed[*]} (inputs that fail are in fuzz/artifacts/<target>/;" \
        "replay one with: RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz <target> <file>;" \
        "a target below its executions crashed nothing but ran too slowly)"
    exit 1
fi
echo "fuzz: every target ran clean"
