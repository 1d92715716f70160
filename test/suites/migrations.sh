#!/usr/bin/env bash
# Migration suite of user_mgmt (TAP): for every version the installed
# scripts offer, upgrade/downgrade equivalence with fresh installs (catalog
# description + normalized schema-only dump), data preservation, refused
# migrations that change nothing, dump/restore, the login state across the
# downgrade that drops it, sessions and tokens across the upgrade that
# brings them and the downgrade that drops them (and across a dump and
# restore), key pairs (1.5: EdDSA and ES256) across the downgrade that
# refuses them while active and drops them once retired (and across a dump
# and restore), check_schema() drift detection and the shape of the update
# paths.  The tests themselves are in
# test/migrations/migrations.py (one header comment per test).
#
# Needs PGHOST/PGPORT/PGUSER of a running PostgreSQL 15 cluster where the
# extension is installed (make install); creates and drops databases named
# um_mig_*.  Exits non-zero when a test fails.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec /usr/bin/python3 "$here/../migrations/migrations.py" "$@"
