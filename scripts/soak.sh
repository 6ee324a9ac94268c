#!/usr/bin/env bash
# make soak: the load tests, not part of make test.
#   - tests/soak/scale.py: one Python RPC server holding SCALE_CONNECTIONS
#     (default 15,000) idle TCP connections: memory per connection,
#     threads, idle CPU and context switches, the connect burst, then a call
#     on each (its bars are in the script);
#   - tests/soak.rs: RPC calls on many connections and a million queue
#     messages, for a while, checking nothing is lost and memory stays flat.
#   SOAK_SECONDS      how long the RPC server is under load (default 60)
#   SOAK_CONNECTIONS  concurrent RPC connections (default 1000)
#   SOAK_WORKERS      client threads sharing them (default 8)
#   SOAK_MESSAGES     messages through the queue (default 1000000)
#   SOAK_PRODUCERS    producer threads (default 4)
#   SOAK_CONSUMERS    consumer threads (default 4)
# Each test prints its figures (calls/s, messages/s, RSS) and fails when a
# call or message is lost, duplicated or out of order, or memory grows.
set -euo pipefail
cd "$(dirname "$0")/.."

connections=${SOAK_CONNECTIONS:-1000}
# Client and server sockets live in this one process, plus some slack.
need=$(( 2 * connections + 256 ))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
    hard=$(ulimit -Hn)
    if [ "$hard" != unlimited ] && [ "$hard" -lt "$need" ]; then
        echo "soak: $connections connections need $need descriptors; the hard limit is $hard" >&2
        echo "soak: raise it (ulimit -Hn as root) or set SOAK_CONNECTIONS lower" >&2
        exit 1
    fi
    ulimit -n "$need"
fi
echo "soak: RLIMIT_NOFILE $(ulimit -n), ${SOAK_SECONDS:-60} s of RPC over $connections connections," \
     "${SOAK_MESSAGES:-1000000} queue messages"
python3 tests/soak/scale.py
exec "${CARGO:-cargo}" test --release --test soak -- --ignored --nocapture --test-threads=1
