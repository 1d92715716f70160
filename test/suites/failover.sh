#!/usr/bin/env bash
# Failover (TAP): a primary and a streaming hot standby of its own (not the
# run's cluster), the standby promoted after the primary dies; tokens,
# revocations, sessions, the lockout state, the audit trail and every
# committed and replicated row across it.  The checks are listed in
# test/failover/failover.py.  Needs root (runs the servers as postgres) or
# the postgres OS user; 3 to 7 s on a quiet machine, about 25 s at load 9.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec /usr/bin/python3 "$here/../failover/failover.py" "$@"
