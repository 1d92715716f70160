#!/usr/bin/env bash
# Token and login benchmark, timed on the server.  A benchmark, not a test:
# it prints tables and exits 0.
#
#   bash bench/bench_tokens.sh
#
# (a) user_mgmt.verify_token / issue_token calls per second, each measured as
#     one statement over BENCH_TOKENS rows, against a plain-SQL HS256 JWT on
#     pgcrypto's hmac() written the way pgjwt does it; medians over
#     BENCH_ROUNDS interleaved rounds, and the speed-up (target >= 20x).
# (b) median time of user_mgmt.authenticate for an unknown user and for a
#     known user with a wrong password at the default cost 12, interleaved
#     (target: within 5% of each other), plus the success and rehash paths.
#
# Env: BENCH_TOKENS (rows per statement, default 20000), BENCH_ROUNDS
#      (default 7), BENCH_AUTH_SAMPLES (per auth path, default 40),
#      BENCH_AUTH_SAMPLES_SLOW (success and rehash paths, default 10),
#      UM_SKIP_DEPS=1 / UM_SKIP_BUILD=1 to skip those steps.
# shellcheck source-path=SCRIPTDIR/..
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOKENS=${BENCH_TOKENS:-20000}
ROUNDS=${BENCH_ROUNDS:-7}
AUTH_SAMPLES=${BENCH_AUTH_SAMPLES:-40}
AUTH_SAMPLES_SLOW=${BENCH_AUTH_SAMPLES_SLOW:-10}
for v in "$TOKENS" "$ROUNDS" "$AUTH_SAMPLES" "$AUTH_SAMPLES_SLOW"; do
    if ! [[ "$v" =~ ^[1-9][0-9]*$ ]]; then
        echo "BENCH_TOKENS, BENCH_ROUNDS, BENCH_AUTH_SAMPLES and BENCH_AUTH_SAMPLES_SLOW must be positive integers" >&2
        exit 2
    fi
done

# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
bench_setup
echo "tokens per statement: $TOKENS, rounds: $ROUNDS; authenticate samples: $AUTH_SAMPLES (success/rehash: $AUTH_SAMPLES_SLOW)"
psql -X -q -v ON_ERROR_STOP=1 \
    -v tokens="$TOKENS" -v rounds="$ROUNDS" \
    -v auth_samples="$AUTH_SAMPLES" -v auth_samples_slow="$AUTH_SAMPLES_SLOW" \
    -f "$REPO/bench/bench_tokens.sql"
