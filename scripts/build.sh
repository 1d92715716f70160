#!/usr/bin/env bash
# Builds and installs the extension with PGXS against PostgreSQL 15.
# Usage: bash scripts/build.sh   (as root, or a user that can write to the PG dirs)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${PG_CONFIG:=/usr/lib/postgresql/15/bin/pg_config}"
export PG_CONFIG
jobs=$(nproc 2>/dev/null || echo 2)
make -C "$repo" -j"$jobs" PG_CONFIG="$PG_CONFIG"
make -C "$repo" install PG_CONFIG="$PG_CONFIG"
