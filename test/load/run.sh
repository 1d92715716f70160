#!/usr/bin/env bash
# Load and crash suite of user_mgmt (TAP).
#
#   bash test/load/run.sh           (as root or as the postgres OS user)
#
# 1. test/load/load.py on a throwaway cluster of its own: UM_LOAD_CLIENTS
#    concurrent clients (default 16, one connection each, autocommit / READ
#    COMMITTED / REPEATABLE READ / SERIALIZABLE) plus admin connections for
#    UM_LOAD_SECONDS (default 20), with a client-side ledger of every write
#    the server confirmed, checked against the database at the end; prints
#    throughput and p50/p99 latency per operation.
# 2. test/load/crash.py, each on a fresh throwaway cluster: the same load
#    for UM_CRASH_SECONDS (default 10) with, in its middle, a kill -9 of a
#    client backend ("backend"), of the login writer ("writer"), or
#    pg_ctl stop -m immediate and start ("immediate"); then recovery, more
#    load and the ledger's checks, unknown outcomes checked both ways, and
#    the session and key caches after the restart.
#
# Env: UM_LOAD_CLIENTS, UM_LOAD_SECONDS, UM_CRASH_SECONDS, UM_LOAD_SEED
# (random by default, printed), UM_LOAD_BCRYPT_COST (default 4),
# UM_LOAD_CRASH (the crash tests to run, default "backend writer
# immediate"; "none" runs none), UM_LOAD_MARKDOWN (a file for the figures as
# a bench/RESULTS.md section).  Loopback only (Unix socket in the cluster's
# directory).  Never touches the cluster of test/run-all.sh: it starts and
# stops its own (scripts/lib/cluster.sh).  Exits non-zero when a test fails.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PYTHON=/usr/bin/python3

# A cluster of the caller (test/run-all.sh) must not be reused, stopped or crashed.
unset UM_CLUSTER_DIR PGHOST PGPORT PGUSER PGDATABASE
# shellcheck source=scripts/lib/cluster.sh
source "$REPO/scripts/lib/cluster.sh"

export UM_LOAD_CLIENTS="${UM_LOAD_CLIENTS:-16}"
export UM_LOAD_SECONDS="${UM_LOAD_SECONDS:-20}"
export UM_CRASH_SECONDS="${UM_CRASH_SECONDS:-10}"
CRASHES="${UM_LOAD_CRASH:-backend writer immediate}"
[[ "$CRASHES" == none ]] && CRASHES=""

WORK=$(mktemp -d /tmp/um-load.XXXXXX)
TAP="$WORK/tap"
: >"$TAP"
STATUS=0

# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
    cluster_stop
    rm -rf -- "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say() { printf '%s\n' "$*" | tee -a "$TAP"; }

# Starts a fresh cluster with room for the clients; false (and a TAP
# failure) when it cannot.
fresh_cluster() { # name
    local need admins
    if ! cluster_start >"$WORK/cluster.log" 2>&1; then
        say "not ok - $1: start a throwaway cluster"
        sed 's/^/# /' "$WORK/cluster.log"
        return 1
    fi
    sed 's/^/# /' "$WORK/cluster.log"
    admins=$((UM_LOAD_CLIENTS / 8))
    need=$((UM_LOAD_CLIENTS + (admins > 0 ? admins : 1) + 10))
    if ((need > 50)); then  # the cluster's max_connections
        if ! psql -X -q -d postgres -c "ALTER SYSTEM SET max_connections = $need" ||
            ! _cluster_as_pg "$PG_BINDIR/pg_ctl" -D "$UM_CLUSTER_DIR/data" \
                -l "$UM_CLUSTER_DIR/postgresql.log" -w -t 60 -o "-p $PGPORT" restart >/dev/null; then
            say "not ok - $1: raise max_connections to $need"
            return 1
        fi
    fi
    return 0
}

run_part() { # name command...
    local name=$1 rc
    shift
    printf '# ---- %s ----\n' "$name"
    "$@" </dev/null 2>&1 | tee -a "$TAP"
    rc=${PIPESTATUS[0]}
    if [[ "$rc" -ne 0 ]] && ! grep -q '^not ok' "$TAP"; then
        say "not ok - $name exited with status $rc"
    fi
    [[ "$rc" -eq 0 ]] || STATUS=1
}

start=$(date +%s)
if fresh_cluster load; then
    run_part "load: $UM_LOAD_CLIENTS clients, ${UM_LOAD_SECONDS}s" "$PYTHON" "$HERE/load.py"
else
    STATUS=1
fi
cluster_stop

for kind in $CRASHES; do
    if fresh_cluster "crash/$kind"; then
        run_part "crash/$kind: $UM_LOAD_CLIENTS clients, ${UM_CRASH_SECONDS}s" \
            "$PYTHON" "$HERE/crash.py" "$kind"
    else
        STATUS=1
    fi
    cluster_stop
done

n=$(grep -cE '^(not )?ok( |$)' "$TAP")
printf '1..%d\n' "$n"
printf '# load suite: %ds\n' "$(($(date +%s) - start))"
if grep -q '^not ok' "$TAP"; then
    STATUS=1
fi
exit "$STATUS"
