#!/usr/bin/env bash
# usage: limit.sh SECONDS COMMAND...
# Runs COMMAND; if it has not finished after SECONDS, kills it (TERM, then
# KILL 10 s later) and fails saying so, so that a hung test ends its suite
# with a message instead of running into CI's time limit. Says how long
# COMMAND took, so a log shows where the suite's time goes.
set -uo pipefail
secs=$1
shift
start=$SECONDS
timeout --kill-after=10 "$secs" "$@"
rc=$?
echo "limit: $((SECONDS - start)) s for '$*'"
if [[ $rc -eq 124 ]]; then
    echo "FAIL: '$*' did not finish within ${secs} s (a hang?); it was stopped" >&2
elif [[ $rc -eq 137 ]]; then
    echo "FAIL: '$*' was killed (SIGKILL: by itself, or ${secs} s + 10 s after it had to finish)" >&2
fi
exit "$rc"
