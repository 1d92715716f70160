#!/usr/bin/env bash
# Upgrades at size, the CI smoke (TAP): every ALTER EXTENSION user_mgmt
# UPDATE step, up and down, and the whole path in one statement, on
# databases filled at each version with UM_UPGRADE_SMOKE_USERS users
# (default 5,000) and that version's side tables; asserts only correctness
# (every user kept, account state, login state, audit trail, sessions where
# both versions have them, check_schema() empty), never a time.  The
# figures at 10^5 users come from test/upgrade_scale/run.sh.
#
# Needs PGHOST/PGPORT/PGUSER of a running cluster with the extension
# installed; creates and drops databases named um_upgscale_*.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec /usr/bin/python3 "$here/../upgrade_scale/upgrade_scale.py" --smoke --no-poll \
    --users "${UM_UPGRADE_SMOKE_USERS:-5000}"
