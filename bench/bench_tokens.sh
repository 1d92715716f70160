#!/usr/bin/env bash
# Token benchmark, timed on the server.  A benchmark, not a test:
# it prints tables and exits 0.
#
#   bash bench/bench_tokens.sh
#
# (a) user_mgmt.verify_token / issue_token calls per second, each measured as
#     one statement over BENCH_TOKENS rows, against a plain-SQL HS256 JWT on
#     pgcrypto's hmac() written the way pgjwt does it; medians over
#     BENCH_ROUNDS interleaved rounds, and the speed-up (target >= 20x).
# (The timing of failed logins is bench/bench_login_timing.sh.)
#
# Env: BENCH_TOKENS (rows per statement, default 20000), BENCH_ROUNDS
#      (default 7), UM_SKIP_DEPS=1 / UM_SKIP_BUILD=1 to skip those steps.
# shellcheck source-path=SCRIPTDIR/..
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOKENS=${BENCH_TOKENS:-20000}
ROUNDS=${BENCH_ROUNDS:-7}
for v in "$TOKENS" "$ROUNDS"; do
    if ! [[ "$v" =~ ^[1-9][0-9]*$ ]]; then
        echo "BENCH_TOKENS and BENCH_ROUNDS must be positive integers" >&2
        exit 2
    fi
done

# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
bench_setup
echo "tokens per statement: $TOKENS, rounds: $ROUNDS"
psql -X -q -v ON_ERROR_STOP=1 \
    -v tokens="$TOKENS" -v rounds="$ROUNDS" \
    -f "$REPO/bench/bench_tokens.sql"
