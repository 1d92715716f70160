#!/usr/bin/env bash
# Cancel latency of a running hash (statement_timeout, pg_cancel_backend) at
# costs 12, 20 and 31.  A benchmark, not a test: it prints a table and exits 0.
#
#   bash bench/bench_cancel.sh
#
# Env: BENCH_CANCEL_SAMPLES (default 7), UM_SKIP_DEPS=1 / UM_SKIP_BUILD=1.
# shellcheck source-path=SCRIPTDIR/..
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
bench_setup
/usr/bin/python3 "$REPO/bench/bench_cancel.py"
