#!/usr/bin/env bash
# Upgrades at size, the benchmark (not a test): every ALTER EXTENSION
# user_mgmt UPDATE step, up and down, on databases of UM_UPGRADE_USERS users
# (default 100,000; UM_UPGRADE_USERS=1000000 for 10^6), timed, with the
# longest ACCESS EXCLUSIVE lock on user_mgmt.users (method and resolution:
# the docstring of upgrade_scale.py).  Figures: bench/RESULTS.md, "Upgrades
# at size".
#
#   bash test/upgrade_scale/run.sh            (as root; the extension installed)
#
# Starts a throwaway cluster (scripts/lib/cluster.sh: fsync off,
# shared_buffers 64MB) and stops it on exit.  Prints the table; with
# UM_UPGRADE_REPORT=FILE also writes it there (and FILE.json, every figure).
# Extra arguments go to upgrade_scale.py (e.g. --no-poll, --keep).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/lib/cluster.sh source-path=SCRIPTDIR/../..
source "$REPO/scripts/lib/cluster.sh"
trap cluster_stop EXIT
cluster_start
args=(--overhead)
if [[ -n "${UM_UPGRADE_REPORT:-}" ]]; then
    args+=(--report "$UM_UPGRADE_REPORT" --json "$UM_UPGRADE_REPORT.json")
fi
/usr/bin/python3 "$REPO/test/upgrade_scale/upgrade_scale.py" \
    --users "${UM_UPGRADE_USERS:-100000}" "${args[@]}" "$@"
