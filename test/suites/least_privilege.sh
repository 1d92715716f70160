#!/usr/bin/env bash
# Least-privilege suite of user_mgmt (TAP): a real non-superuser login role
# (um_app, granted EXECUTE on sign_up only) uses the public API (1.4: the
# session functions too), is refused hashes, keys, sessions, refresh tokens
# and the administrative functions (42501), cannot end another user's
# session or get an ADMIN token, and cannot hijack the SECURITY DEFINER
# functions with shadowing functions, operators or tables in its own
# schema, public or pg_temp; 1.5: it reads the public keys (jwks(),
# public_key_pem()) and verifies EdDSA and ES256 tokens, but makes,
# imports, exports or reads no key and forges nothing by confusing
# algorithms.  The tests themselves are
# in test/python/least_privilege.py.
#
# Needs PGHOST/PGPORT/PGUSER of a superuser on a running PostgreSQL 15
# cluster where the extension (>= 1.2) is installed; creates and drops the
# cluster-wide role um_app and the database um_test_lp.  Exits non-zero when
# a test fails.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec /usr/bin/python3 "$here/../python/least_privilege.py" "$@"
