#!/usr/bin/env bash
# Row-level security with session tokens under pgbench: user_mgmt 1.4 against
# the PostgREST pattern.  A benchmark, not a test: it prints a table and
# exits 0 (non-zero only if something does not work).
#
#   bash bench/bench_sessions.sh
#
# Each transaction, as a non-superuser role that RLS applies to, with its
# own literal token (or claims) per pgbench client:
#   user_mgmt:  BEGIN;
#               SELECT user_mgmt.set_session_token('<the client's token>');
#               SELECT id, owner, body FROM bench.docs_um WHERE id = :id;
#               COMMIT;
#               policy: owner = user_mgmt.current_user_id()
#               (the token is verified -- signature, expiry, its session and
#               account -- and current_user_id() re-checks the session for
#               every row the policy looks at)
#   PostgREST:  BEGIN;
#               SELECT set_config('request.jwt.claims', '<the client's claims>', true);
#               SELECT id, owner, body FROM bench.docs_pgrst WHERE id = :id;
#               COMMIT;
#               policy: owner = (current_setting('request.jwt.claims', true)::json->>'sub')::integer
#               (the claims were verified outside the database: no check of
#               signature, expiry or revocation in the transaction)
# :id is random over the table; every client has its own user and session
# (one issue_token each), and the tables are identical copies where each
# user owns 1 row in BENCH_CLIENTS.  The literal tokens and claims sit in the
# pgbench scripts, one \if branch per client, so both variants send the same
# statements.  Runs alternate (user_mgmt, PostgREST, user_mgmt, ...), each
# BENCH_SECONDS long after one unrecorded warm-up run of each; reported: the
# TPS of every run, the median of each variant and their ratio (target:
# user_mgmt >= 0.9x PostgREST).
#
# Env: BENCH_CLIENTS (pgbench -c, default 4), BENCH_THREADS (-j, default 2),
#      BENCH_SECONDS (-T per run, default 10), BENCH_RUNS (runs of each,
#      default 5), BENCH_ROWS (rows per table, default 100000),
#      BENCH_PROTOCOL (pgbench -M: simple, extended or prepared; default
#      prepared), UM_SKIP_DEPS=1 / UM_SKIP_BUILD=1 to skip those steps.
# shellcheck source-path=SCRIPTDIR/..
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLIENTS=${BENCH_CLIENTS:-4}
THREADS=${BENCH_THREADS:-2}
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
RUNS=${BENCH_RUNS:-5}
ROWS=${BENCH_ROWS:-100000}
PROTOCOL=${BENCH_PROTOCOL:-prepared}
for v in "$CLIENTS" "$THREADS" "$SECONDS_PER_RUN" "$RUNS" "$ROWS"; do
    if ! [[ "$v" =~ ^[1-9][0-9]*$ ]]; then
        echo "BENCH_CLIENTS, BENCH_THREADS, BENCH_SECONDS, BENCH_RUNS and BENCH_ROWS must be positive integers" >&2
        exit 2
    fi
done
case "$PROTOCOL" in
    simple | extended | prepared) ;;
    *)
        echo "BENCH_PROTOCOL must be simple, extended or prepared" >&2
        exit 2
        ;;
esac

# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
bench_setup
PGBENCH="$PG_BINDIR/pgbench"
work=$(mktemp -d /tmp/um-bench-sessions.XXXXXX)
chmod 755 "$work"
trap 'cluster_stop; rm -rf -- "$work"' EXIT
echo "pgbench: -c $CLIENTS -j $THREADS -T $SECONDS_PER_RUN -M $PROTOCOL, $RUNS runs of each, $ROWS rows"

psql -X -q -v ON_ERROR_STOP=1 -v clients="$CLIENTS" -v rows="$ROWS" <<'SQL'
SET client_min_messages = warning;
CREATE ROLE bench_app LOGIN;      -- no superuser, no BYPASSRLS, owns nothing
CREATE SCHEMA bench;
GRANT USAGE ON SCHEMA bench TO bench_app;

SET user_mgmt.bcrypt_cost = 4;
CREATE TABLE bench.clients AS
    SELECT k, user_mgmt.create_user('bench_client_' || k, 'bench password',
                                    'Bench Client ' || k, 'USER') AS user_id
    FROM generate_series(0, :clients - 1) AS k;
RESET user_mgmt.bcrypt_cost;
-- one session per client (issue_token opens it), two hours, whatever token_ttl says
ALTER TABLE bench.clients ADD COLUMN token text, ADD COLUMN claims text;
UPDATE bench.clients SET token = user_mgmt.issue_token(user_id, interval '2 hours');
UPDATE bench.clients SET claims = user_mgmt.verify_token(token)::text;

CREATE TABLE bench.docs_um (id integer PRIMARY KEY, owner integer NOT NULL, body text NOT NULL);
INSERT INTO bench.docs_um
    SELECT g, c.user_id, md5(g::text)
    FROM generate_series(1, :rows) AS g JOIN bench.clients AS c ON c.k = g % :clients;
CREATE TABLE bench.docs_pgrst (LIKE bench.docs_um INCLUDING ALL);
INSERT INTO bench.docs_pgrst SELECT * FROM bench.docs_um;

ALTER TABLE bench.docs_um ENABLE ROW LEVEL SECURITY;
CREATE POLICY docs_um_owner ON bench.docs_um FOR SELECT
    USING (owner = user_mgmt.current_user_id());
ALTER TABLE bench.docs_pgrst ENABLE ROW LEVEL SECURITY;
CREATE POLICY docs_pgrst_owner ON bench.docs_pgrst FOR SELECT
    USING (owner = (current_setting('request.jwt.claims', true)::json ->> 'sub')::integer);
GRANT SELECT ON bench.docs_um, bench.docs_pgrst TO bench_app;
GRANT SELECT ON bench.clients TO bench_app;   -- for the check below only
VACUUM ANALYZE bench.docs_um;
VACUUM ANALYZE bench.docs_pgrst;
SQL

# The two pgbench scripts: the same statements, one \if branch per client.
{
    echo "\\set id random(1, $ROWS)"
    echo "BEGIN;"
} | tee "$work/um.sql" >"$work/pgrst.sql"
first=1
while IFS=$'\t' read -r k token claims; do
    if ((first)); then kw='\if'; else kw='\elif'; fi
    first=0
    printf '%s :client_id = %s\nSELECT user_mgmt.set_session_token('\''%s'\'');\n' \
        "$kw" "$k" "$token" >>"$work/um.sql"
    printf '%s :client_id = %s\nSELECT set_config('\''request.jwt.claims'\'', '\''%s'\'', true);\n' \
        "$kw" "$k" "${claims//\'/\'\'}" >>"$work/pgrst.sql"
done < <(psql -X -At -F $'\t' -c "SELECT k, token, claims FROM bench.clients ORDER BY k")
for v in um pgrst; do
    {
        printf '%s\n' '\endif'
        echo "SELECT id, owner, body FROM bench.docs_$v WHERE id = :id;"
        echo "COMMIT;"
    } >>"$work/$v.sql"
done

# RLS applies to bench_app, and each variant sees exactly its client's rows.
check=$(psql -X -q -At -v ON_ERROR_STOP=1 -U bench_app <<SQL
SELECT count(*) FROM bench.docs_um;
SELECT count(*) FROM bench.docs_pgrst;
BEGIN;
SELECT user_mgmt.set_session_token(token) IS NOT NULL FROM bench.clients WHERE k = 0;
SELECT count(*) FROM bench.docs_um;
COMMIT;
BEGIN;
SELECT set_config('request.jwt.claims', claims, true) IS NOT NULL FROM bench.clients WHERE k = 0;
SELECT count(*) FROM bench.docs_pgrst;
COMMIT;
SQL
)
expected=$(printf '0\n0\nt\n%s\nt\n%s' $((ROWS / CLIENTS)) $((ROWS / CLIENTS)))
if [[ "$check" != "$expected" ]]; then
    echo "RLS check failed: got ${check//$'\n'/ }, expected ${expected//$'\n'/ }" >&2
    exit 1
fi

run() { # variant seconds -> TPS
    local out
    out=$("$PGBENCH" -n -U bench_app -M "$PROTOCOL" -c "$CLIENTS" -j "$THREADS" \
        -T "$2" -f "$work/$1.sql" 2>&1) || {
        echo "pgbench failed ($1):" >&2
        echo "$out" >&2
        exit 1
    }
    if ! grep -q '^number of failed transactions: 0 ' <<<"$out"; then
        echo "pgbench had failed transactions ($1):" >&2
        echo "$out" >&2
        exit 1
    fi
    sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' <<<"$out"
}

start=$SECONDS
run um 2 >/dev/null
run pgrst 2 >/dev/null
results=()
for ((r = 1; r <= RUNS; r++)); do
    for v in um pgrst; do
        tps=$(run "$v" "$SECONDS_PER_RUN")
        echo "run $r $v: $tps tps"
        results+=("$v $r $tps")
    done
done

printf '%s\n' "${results[@]}" | /usr/bin/python3 -c '
import statistics, sys
tps = {"um": {}, "pgrst": {}}
for line in sys.stdin:
    v, r, t = line.split()
    tps[v][int(r)] = float(t)
um, pg = tps["um"], tps["pgrst"]
mu, mp = statistics.median(um.values()), statistics.median(pg.values())
pair = statistics.median(um[r] / pg[r] for r in um)
print()
print("(b) RLS point query, TPS (pgbench, %d runs of each, alternating)" % len(um))
print("| variant | TPS per run | median TPS |")
print("|---|---|---:|")
print("| user_mgmt set_session_token + current_user_id() | %s | %.0f |" % (", ".join("%.0f" % um[r] for r in sorted(um)), mu))
print("| PostgREST set_config + current_setting() | %s | %.0f |" % (", ".join("%.0f" % pg[r] for r in sorted(pg)), mp))
print()
print("ratio of medians: %.3f  (median of per-run ratios: %.3f)  target >= 0.9: %s"
      % (mu / mp, pair, "yes" if mu / mp >= 0.9 else "NO"))
'
echo "run time: $((SECONDS - start)) s (after set-up)"
