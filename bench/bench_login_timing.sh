#!/usr/bin/env bash
# Login timing: can a client tell the failure cases apart by time?  A
# benchmark, not a test: it prints tables (medians, AUC) and exits 0.
#
#   bash bench/bench_login_timing.sh
#
# Env: BENCH_TIMING_SAMPLES (interleaved rounds, default 200; at the default
#      bcrypt cost 12 a round takes about 1.5 s), UM_SKIP_DEPS=1 /
#      UM_SKIP_BUILD=1 to skip those steps.
# shellcheck source-path=SCRIPTDIR/..
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if ! [[ "${BENCH_TIMING_SAMPLES:-200}" =~ ^[1-9][0-9]*$ ]]; then
    echo "BENCH_TIMING_SAMPLES must be a positive integer" >&2
    exit 2
fi

# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
bench_setup
/usr/bin/python3 "$REPO/bench/bench_login_timing.py"
