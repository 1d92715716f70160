#!/usr/bin/env bash
# Token benchmark, timed on the server.  A benchmark, not a test:
# it prints tables and exits 0.
#
#   bash bench/bench_tokens.sh
#
# (a) user_mgmt.verify_token at 1.4: real session tokens (from issue_token,
#     each naming its session in sid), each sample one statement over many
#     rows, medians over BENCH_ROUNDS rounds in rotating order, against two
#     baselines in plain SQL measured in the same run: a pgjwt-style HS256
#     verify on pgcrypto's hmac(), and the same plus the session lookup a
#     pgjwt/PostgREST user needs for revocation (SELECT on the sessions
#     table by sid: owner, revoked_at, expires_at).  Target: >= 20x.
#       few:        BENCH_TOKENS rows cycling over BENCH_FEW sessions
#                   (every session check a cache hit);
#       many, cold: BENCH_SESSIONS rows, one session each, first pass after
#                   a revocation (which empties every backend's cache);
#       many, warm: the same rows again, right after;
#       many, half, warm: the first half of those rows, second pass in a
#                   row after another revocation (a working set that fits
#                   the per-backend cache, whatever the whole does).
#     The sessions are in user_mgmt.sessions in both implementations.  For
#     reference it also times 1.3's verify entry point (no session check)
#     on the few rows.
# issue_token at 1.4 (BENCH_ISSUE rows per statement): it waits, per call,
#     for the login writer to open and commit the token's session, so it is
#     compared with pgjwt's sign alone and with pgjwt's sign plus an INSERT
#     into a sessions table (committed once with the statement); "sign
#     only" is 1.3's issue_token entry point (same user lookup and signing,
#     no session) against pgjwt's sign.  No target at 1.4.
# (The pgbench run of set_session_token under RLS is bench/bench_sessions.sh;
# the timing of failed logins is bench/bench_login_timing.sh.)
#
# Env: BENCH_TOKENS (rows of the few-sessions case, default 20000),
#      BENCH_FEW (sessions in it, default 16), BENCH_SESSIONS (sessions and
#      rows of the many-sessions case, default 10000), BENCH_ISSUE (rows per
#      issue_token statement, default 2000), BENCH_ROUNDS (default 7),
#      UM_SKIP_DEPS=1 / UM_SKIP_BUILD=1 to skip those steps.
# shellcheck source-path=SCRIPTDIR/..
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOKENS=${BENCH_TOKENS:-20000}
FEW=${BENCH_FEW:-16}
SESSIONS=${BENCH_SESSIONS:-10000}
ISSUE=${BENCH_ISSUE:-2000}
ROUNDS=${BENCH_ROUNDS:-7}
for v in "$TOKENS" "$FEW" "$SESSIONS" "$ISSUE" "$ROUNDS"; do
    if ! [[ "$v" =~ ^[1-9][0-9]*$ ]]; then
        echo "BENCH_TOKENS, BENCH_FEW, BENCH_SESSIONS, BENCH_ISSUE and BENCH_ROUNDS must be positive integers" >&2
        exit 2
    fi
done

# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
bench_setup
echo "few: $TOKENS rows over $FEW sessions; many: $SESSIONS sessions; issue: $ISSUE rows; rounds: $ROUNDS"
start=$SECONDS
psql -X -q -v ON_ERROR_STOP=1 \
    -v tokens="$TOKENS" -v few="$FEW" -v sessions="$SESSIONS" -v issue="$ISSUE" \
    -v rounds="$ROUNDS" \
    -f "$REPO/bench/bench_tokens.sql"
echo "run time: $((SECONDS - start)) s (after set-up)"
