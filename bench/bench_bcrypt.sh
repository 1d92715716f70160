#!/usr/bin/env bash
# bcrypt benchmark: user_mgmt.hash_password / verify_password against
# pgcrypto's crypt(pw, gen_salt('bf', c)) at costs 4, 8, 10 and 12, timed on
# the server.  A benchmark, not a test: it prints a table and exits 0.
#
#   bash bench/bench_bcrypt.sh
#
# Env: BENCH_SAMPLES (samples per op at costs 10 and 12, default 15),
#      BENCH_SAMPLES_FAST (at costs 4 and 8, default 60),
#      UM_SKIP_DEPS=1 / UM_SKIP_BUILD=1 to skip those steps.
# shellcheck source-path=SCRIPTDIR/..
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SAMPLES=${BENCH_SAMPLES:-15}
SAMPLES_FAST=${BENCH_SAMPLES_FAST:-60}
if ! [[ "$SAMPLES" =~ ^[1-9][0-9]*$ && "$SAMPLES_FAST" =~ ^[1-9][0-9]*$ ]]; then
    echo "BENCH_SAMPLES and BENCH_SAMPLES_FAST must be positive integers" >&2
    exit 2
fi

# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
bench_setup
echo "samples per op: $SAMPLES_FAST at costs 4 and 8, $SAMPLES at costs 10 and 12"
psql -X -q -v ON_ERROR_STOP=1 \
    -v samples_fast="$SAMPLES_FAST" -v samples_slow="$SAMPLES" \
    -f "$REPO/bench/bench_bcrypt.sql"
