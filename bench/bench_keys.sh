#!/usr/bin/env bash
# Signing-key benchmark (1.5): tokens signed and verified per second with
# HS256, EdDSA (Ed25519) and ES256 (P-256), timed on the server, against
# OpenSSL's own speed for the same primitive on this machine, as a ratio.
# A benchmark, not a test: it prints tables and exits 0.
#
#   bash bench/bench_keys.sh
#
# Each round times, for each algorithm in turn (bench/bench_keys.sql says
# exactly what): signing without a session ("sign"), issue_token() with the
# session the login writer opens for it, and verify_token(); then
#   openssl speed -elapsed -mr -seconds $OPENSSL_SECONDS ed25519 ecdsap256
#   openssl speed -elapsed -mr -seconds $OPENSSL_SECONDS -hmac sha256 -bytes <signing input>
# (wall clock, like the server's figures).  The report is the median over
# the rounds of each, and ours / OpenSSL's.  OpenSSL's figure is the bare
# primitive (ECDSA over a ready 20-byte digest, Ed25519 over 20 bytes, HMAC
# in a loop); ours is a whole token: claims, JSON, base64url, key lookup,
# the message digest, and for verify_token the session check and the claims
# as jsonb.
#
# Env: BENCH_TOKENS (rows per sign / verify statement, default 10000),
#      BENCH_ISSUE (rows per issue_token statement, default 2000),
#      BENCH_ROUNDS (default 5), OPENSSL_SECONDS (default 3),
#      UM_SKIP_DEPS=1 / UM_SKIP_BUILD=1 to skip those steps; PG_CONFIG (the
#      build, scripts/build.sh) and PG_BINDIR (the cluster, scripts/lib/
#      cluster.sh) choose the PostgreSQL, e.g. an installation of the
#      extension outside the system one:
#        PG_BINDIR=/opt/pg/bin PATH=/opt/pg/bin:$PATH UM_SKIP_BUILD=1 bash bench/bench_keys.sh
# shellcheck source-path=SCRIPTDIR/..
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOKENS=${BENCH_TOKENS:-10000}
ISSUE=${BENCH_ISSUE:-2000}
ROUNDS=${BENCH_ROUNDS:-5}
OSSL_SECONDS=${OPENSSL_SECONDS:-3}
for v in "$TOKENS" "$ISSUE" "$ROUNDS" "$OSSL_SECONDS"; do
    if ! [[ "$v" =~ ^[1-9][0-9]*$ ]]; then
        echo "BENCH_TOKENS, BENCH_ISSUE, BENCH_ROUNDS and OPENSSL_SECONDS must be positive integers" >&2
        exit 2
    fi
done

if ! command -v openssl >/dev/null; then
    echo "bench_keys.sh needs the openssl command (apt-get install openssl)" >&2
    exit 2
fi

# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
bench_setup
echo "$(openssl version); PostgreSQL $(psql -XAtc 'SHOW server_version')"
echo "rows per statement: $TOKENS (sign, verify_token), $ISSUE (issue_token); rounds: $ROUNDS; openssl speed -seconds $OSSL_SECONDS"

run_sql() { # run_sql <phase> [name=value ...]
    local phase=$1
    shift
    local -a vars=()
    for v in "$@"; do vars+=(-v "$v"); done
    psql -X -q -v ON_ERROR_STOP=1 -v phase="$phase" "${vars[@]}" -f "$REPO/bench/bench_keys.sql"
}

setup_out=$(run_sql setup tokens="$TOKENS")
hmac_bytes=$(sed -n 's/^hmac_bytes //p' <<<"$setup_out")
[[ "$hmac_bytes" =~ ^[0-9]+$ ]] || { echo "setup failed: $setup_out" >&2; exit 1; }
echo "HS256 signing input: $hmac_bytes bytes on average (the size given to openssl speed -hmac)"

record() { # record <round> <alg> <op> <per-second>
    psql -X -q -v ON_ERROR_STOP=1 -v r="$1" -v a="$2" -v o="$3" -v p="$4" \
        <<<"INSERT INTO bench.openssl VALUES (:r, :'a', :'o', :'p')"
}

for ((r = 1; r <= ROUNDS; r++)); do
    run_sql round r="$r" issue="$ISSUE"
    # +F4:<n>:256:<sign/s>:<verify/s> (ECDSA), +F6:<n>:253:Ed25519:<sign/s>:<verify/s>
    pk=$(openssl speed -elapsed -mr -seconds "$OSSL_SECONDS" ed25519 ecdsap256 2>/dev/null | grep '^+F[46]:')
    es=$(grep '^+F4:' <<<"$pk" | head -1)
    ed=$(grep '^+F6:' <<<"$pk" | head -1)
    IFS=: read -r _ _ _ es_sign es_verify <<<"$es"
    IFS=: read -r _ _ _ _ ed_sign ed_verify <<<"$ed"
    # +F:<n>:hmac(sha256):<bytes/s> for the one size asked for
    hm=$(openssl speed -elapsed -mr -seconds "$OSSL_SECONDS" -bytes "$hmac_bytes" -hmac sha256 2>/dev/null |
        grep '^+F:' | head -1)
    hmac_bps=${hm##*:}
    for v in "$es_sign" "$es_verify" "$ed_sign" "$ed_verify" "$hmac_bps"; do
        [[ "$v" =~ ^[0-9.]+$ ]] || { echo "could not read openssl speed's output: $pk / $hm" >&2; exit 1; }
    done
    record "$r" ES256 sign "$es_sign"
    record "$r" ES256 verify "$es_verify"
    record "$r" EdDSA sign "$ed_sign"
    record "$r" EdDSA verify "$ed_verify"
    record "$r" HS256 hmac "$(awk -v b="$hmac_bps" -v n="$hmac_bytes" 'BEGIN { printf "%.1f", b / n }')"
    echo "round $r/$ROUNDS done"
done

run_sql report
