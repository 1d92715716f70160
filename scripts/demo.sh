#!/usr/bin/env bash
# Demo of user_mgmt, as root on a fresh Debian 12:
#
#   bash scripts/demo.sh
#
# Installs the dependencies, builds and installs the extension, starts a
# throwaway PostgreSQL 15 cluster under /tmp, runs a short psql session, and
# leaves the cluster running, printing how to connect to it and stop it.
# UM_SKIP_DEPS=1 skips the dependencies, UM_SKIP_BUILD=1 the build (the
# installed extension is used), as in test/run-all.sh.
# shellcheck source-path=SCRIPTDIR/..
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# shellcheck source=scripts/lib/deps.sh
source "$REPO/scripts/lib/deps.sh"
# shellcheck source=scripts/lib/cluster.sh
source "$REPO/scripts/lib/cluster.sh"

if [[ ${UM_SKIP_DEPS:-0} != 1 ]]; then
    echo "== dependencies"
    deps_install
fi
if [[ ${UM_SKIP_BUILD:-0} != 1 ]]; then
    echo "== build + install"
    bash "$REPO/scripts/build.sh"
fi
echo "== throwaway cluster"
trap cluster_stop EXIT   # only if the demo fails; removed below
cluster_start

echo "== demo"
psql -X -e -v ON_ERROR_STOP=1 --pset=footer=off <<'SQL'
CREATE EXTENSION user_mgmt;
\dx user_mgmt

\echo '-- bcrypt, natively: $2b$, 60 characters, cost from user_mgmt.bcrypt_cost (12)'
SHOW user_mgmt.bcrypt_cost;
INSERT INTO user_mgmt.users (username, hashed_password, role, full_name)
VALUES ('ivan', user_mgmt.hash_password('correct horse battery staple'), 'ADMIN', 'Иван Петров')
RETURNING id, username, role, user_mgmt.role_label(role) AS label, hashed_password;

SELECT username,
       user_mgmt.verify_password('correct horse battery staple', hashed_password) AS right_password,
       user_mgmt.verify_password('Correct horse battery staple', hashed_password) AS wrong_password,
       user_mgmt.hash_cost(hashed_password) AS cost,
       user_mgmt.password_needs_rehash(hashed_password, 13) AS needs_rehash_at_13
FROM user_mgmt.users;

\echo '-- The CHECK constraint keeps plaintext out: the next INSERT fails on purpose.'
\set ON_ERROR_STOP 0
INSERT INTO user_mgmt.users (username, hashed_password, full_name)
VALUES ('oops', 'hunter2', 'Plain Text');
\set ON_ERROR_STOP 1

\echo '-- Roles: the enum holds member names, role_label() gives the display labels.'
SELECT user_mgmt.role_labels();
SELECT r AS role, user_mgmt.role_label(r) AS label
FROM unnest(enum_range(NULL::user_mgmt.role)) AS r;
SELECT user_mgmt.role_from_label('Кассир');

\echo '-- Accounts and logins: a token, or one error for every failure.'
SELECT user_mgmt.create_user('olga', 'correct horse', 'Ольга Смирнова', 'CASHIER') AS olga_id;
SELECT user_mgmt.sign_up('petr', 'petr password', 'Пётр Иванов') AS petr_id;   -- always a USER
SELECT user_mgmt.login('olga', 'correct horse') AS token \gset
\echo :token
SELECT user_mgmt.verify_token(:'token') AS claims;
\set ON_ERROR_STOP 0
SELECT user_mgmt.login('olga', 'wrong horse');
\set ON_ERROR_STOP 1
SELECT username, failed_login_count FROM user_mgmt.accounts WHERE username = 'olga';

\echo '-- Lockout (1.3): five wrong guesses, even rolled back, then the right one fails too.'
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) FILTER (WHERE user_mgmt.authenticate('petr', 'guess ' || i) IS NULL) AS refused
FROM generate_series(1, 10) AS i;
ROLLBACK;
SELECT user_mgmt.authenticate('petr', 'petr password') IS NULL AS right_password_refused;
SELECT username, failed_login_count, locked_until > now() AS locked FROM user_mgmt.accounts;
SELECT checked, refused_locked + refused_busy AS refused FROM user_mgmt.login_statistics();

\echo '-- Sessions (1.4): sign_in gives an access token and a single-use refresh token.'
SELECT access_token, refresh_token, session_id
FROM user_mgmt.sign_in('olga', 'correct horse', 'demo/1.0') \gset
SELECT claims ->> 'sub' AS sub, claims ->> 'role' AS role, claims ->> 'sid' AS sid
FROM user_mgmt.verify_token(:'access_token') AS claims;
\echo '-- refresh: new tokens for the refresh token, which is used up.'
SELECT access_token AS access2 FROM user_mgmt.refresh(:'refresh_token') \gset
SELECT user_mgmt.verify_token(:'access2') ->> 'sid' = :'session_id' AS same_session;
\echo '-- The used refresh token again (a stolen copy?): the whole session is revoked.'
\set ON_ERROR_STOP 0
SELECT * FROM user_mgmt.refresh(:'refresh_token');
SELECT user_mgmt.verify_token(:'access2');
\set ON_ERROR_STOP 1
\echo '-- logout(token) ends a session at once (no rollback undoes it).'
SELECT access_token, refresh_token FROM user_mgmt.sign_in('olga', 'correct horse') \gset
SELECT user_mgmt.logout(:'refresh_token') AS logged_out;
\set ON_ERROR_STOP 0
SELECT user_mgmt.verify_token(:'access_token');
\set ON_ERROR_STOP 1
\echo '-- A change of role (or password, or activation) revokes every session of the account.'
SELECT access_token FROM user_mgmt.sign_in('olga', 'correct horse') \gset
SELECT user_mgmt.set_role(id, 'ADMIN') FROM user_mgmt.users WHERE username = 'olga';
\set ON_ERROR_STOP 0
SELECT user_mgmt.verify_token(:'access_token');
\set ON_ERROR_STOP 1
SELECT origin, user_agent, revoked_at IS NOT NULL AS revoked, revoke_reason
FROM user_mgmt.sessions ORDER BY created_at;

\echo '-- The audit trail (1.3), which no rollback undoes.'
SELECT occurred_at::time(0), event, username, detail FROM user_mgmt.auth_events ORDER BY id;

\echo '-- The migration catalog (like alembic history / alembic current / alembic check).'
SELECT version, previous_version, direction, description, applied_by
FROM user_mgmt.migration_history();
SELECT user_mgmt.current_version();
SELECT * FROM user_mgmt.check_schema();
SQL

trap - EXIT
dir=$UM_CLUSTER_DIR
cat <<EOF2

== The cluster is still running.
(shared_preload_libraries = 'user_mgmt' is set in $dir/data/postgresql.conf.)
Connect:  psql -h $dir -p $PGPORT -U postgres
      or: psql -h 127.0.0.1 -p $PGPORT -U postgres
Stop:     runuser -u postgres -- $PG_BINDIR/pg_ctl -D $dir/data stop && rm -rf $dir
EOF2
