#!/usr/bin/env bash
# Throwaway PostgreSQL 15 cluster for tests, the demo and the benchmark.
# Source this file, then:
#   cluster_start   # creates /tmp/um-pg.XXXXXX, starts the server, exports
#                   # PGHOST PGPORT PGUSER PGDATABASE (+ UM_CLUSTER_DIR)
#   cluster_stop    # stops the server and removes the directory
# PostgreSQL refuses to run as root, so the server runs as the `postgres` OS
# user (via runuser when we are root).  The directory lives under /tmp, never
# inside the checkout (the postgres user may not be able to enter it).
# Loopback only; the unix socket is in the temporary directory.

: "${PG_BINDIR:=/usr/lib/postgresql/15/bin}"
: "${PG_OS_USER:=postgres}"

# Runs a command as the postgres OS user (directly when we already are it).
_cluster_as_pg() {
    if [[ "$(id -un)" == "$PG_OS_USER" ]]; then
        "$@"
    else
        runuser -u "$PG_OS_USER" -- "$@"
    fi
}

# Prints a TCP port on 127.0.0.1 that is free right now (and has no socket file).
_cluster_free_port() {
    local port
    port=$(/usr/bin/python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
    ) || return 1
    printf '%s\n' "$port"
}

_cluster_locale() {
    if locale -a 2>/dev/null | grep -qiE '^C\.utf-?8$'; then
        echo C.UTF-8
    else
        echo C
    fi
}

cluster_start() {
    if [[ -n "${UM_CLUSTER_DIR:-}" && -d "${UM_CLUSTER_DIR}/data" ]]; then
        echo "cluster: already running in $UM_CLUSTER_DIR" >&2
        return 0
    fi
    local dir data log locale port attempt
    dir=$(mktemp -d /tmp/um-pg.XXXXXX) || return 1
    chmod 755 "$dir"
    if [[ "$(id -un)" != "$PG_OS_USER" ]]; then
        chown "$PG_OS_USER:" "$dir" || return 1
    fi
    data="$dir/data"
    log="$dir/postgresql.log"
    locale=$(_cluster_locale)
    UM_CLUSTER_DIR="$dir"
    export UM_CLUSTER_DIR

    if ! _cluster_as_pg "$PG_BINDIR/initdb" -D "$data" --username=postgres \
        --encoding=UTF8 --locale="$locale" --auth=trust --no-sync \
        >"$dir/initdb.log" 2>&1; then
        echo "cluster: initdb failed:" >&2
        tail -n 30 "$dir/initdb.log" >&2
        return 1
    fi
    cat >>"$data/postgresql.conf" <<CONF

# --- throwaway test cluster (scripts/lib/cluster.sh) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
# logins need the library at server start (its shared memory)
shared_preload_libraries = 'user_mgmt'
shared_buffers = 64MB
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
CONF

    # A port can be taken between picking and binding: retry a few times.
    for attempt in 1 2 3 4 5; do
        port=$(_cluster_free_port) || return 1
        if _cluster_as_pg "$PG_BINDIR/pg_ctl" -D "$data" -l "$log" -w -t 60 \
            -o "-p $port" start >"$dir/pg_ctl.log" 2>&1; then
            export PGHOST="$dir" PGPORT="$port" PGUSER=postgres PGDATABASE=postgres
            echo "cluster: PostgreSQL running in $dir (port $port, socket dir $dir)"
            return 0
        fi
        echo "cluster: start attempt $attempt on port $port failed" >&2
    done
    echo "cluster: could not start PostgreSQL; pg_ctl output and log tail:" >&2
    cat "$dir/pg_ctl.log" >&2
    tail -n 40 "$log" >&2 2>/dev/null
    return 1
}

cluster_stop() {
    local dir="${UM_CLUSTER_DIR:-}"
    if [[ -z "$dir" ]]; then
        return 0
    fi
    if [[ -f "$dir/data/postmaster.pid" ]]; then
        _cluster_as_pg "$PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 ||
            echo "cluster: pg_ctl stop failed for $dir" >&2
    fi
    case "$dir" in
        /tmp/um-pg.*) rm -rf -- "$dir" ;;
    esac
    unset UM_CLUSTER_DIR
    return 0
}
