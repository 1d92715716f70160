#!/usr/bin/env bash
# Idempotent installation of everything user_mgmt's build, tests, demo and
# benchmark need on Debian 12.  Source it and call `deps_install`, or run it.
# apt is skipped entirely when every package is already installed; `apt-get
# update` runs only when something is missing.

UM_DEPS_PACKAGES=(
    postgresql-15
    postgresql-server-dev-15
    libssl-dev
    python3-cryptography
    postgresql-contrib
    postgresql-15-pgtap
    build-essential
    clang
    libclang-rt-14-dev
    python3-bcrypt
    python3-jwt
    python3-psycopg2
    python3-sqlalchemy
    python3-alembic
    python3-asyncpg
    python3-fastapi
    python3-httpx
    python3-multipart
    python3-pip
    php-cli
    debhelper
    dpkg-dev
    postgresql-server-dev-all
)

# Prints the packages of UM_DEPS_PACKAGES that are not installed.
deps_missing() {
    local pkg status
    for pkg in "${UM_DEPS_PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
        if [[ "$status" != "installed" ]]; then
            printf '%s\n' "$pkg"
        fi
    done
    # Node.js may come with the machine rather than from Debian: any will do.
    command -v node >/dev/null 2>&1 || printf '%s\n' nodejs
    command -v npm >/dev/null 2>&1 || printf '%s\n' npm
}

deps_install() {
    local -a missing
    mapfile -t missing < <(deps_missing)
    if ((${#missing[@]} == 0)); then
        echo "deps: all ${#UM_DEPS_PACKAGES[@]} packages already installed"
        return 0
    fi
    echo "deps: installing: ${missing[*]}"
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq || return 1
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || return 1
    mapfile -t missing < <(deps_missing)
    if ((${#missing[@]} != 0)); then
        echo "deps: still missing after apt-get install: ${missing[*]}" >&2
        return 1
    fi
    echo "deps: done"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
    deps_install
fi
