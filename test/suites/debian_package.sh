#!/usr/bin/env bash
# The Debian package, built from this tree and tested installed (TAP).
#
#   bash test/suites/debian_package.sh      (as root: it runs dpkg -i)
#
# Copies the tracked files to a temporary directory, builds
# postgresql-15-user-mgmt there with dpkg-buildpackage (debian/rules: dh
# --with pgxs, so pg_buildext), installs the .deb with dpkg -i, checks what
# it holds, then starts a throwaway cluster of its own (so the server loads
# the package's library, not one already in memory) and runs CREATE
# EXTENSION and the pg_regress suite (make installcheck) against the
# installed files.  The package stays installed: its files are the ones
# `make install` puts in the same places, built from the same sources.
# shellcheck source-path=SCRIPTDIR/../..
set -uo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
n=0
failed=0

ok() { # ok <exit-status> <description> [diagnostic]
    n=$((n + 1))
    if [[ $1 -eq 0 ]]; then
        echo "ok $n - $2"
    else
        failed=$((failed + 1))
        echo "not ok $n - $2"
        [[ -n ${3:-} ]] && echo "# ${3//$'\n'/$'\n'# }"
    fi
}

finish() {
    echo "1..$n"
    [[ $failed -eq 0 ]]
    exit $?
}

work=$(mktemp -d /tmp/um-deb.XXXXXX)
chmod 755 "$work"
# the suite's own cluster: forget the one test/run-all.sh exported
unset UM_CLUSTER_DIR PGHOST PGPORT PGDATABASE
# shellcheck source=scripts/lib/cluster.sh
source "$REPO/scripts/lib/cluster.sh"
cleanup() {
    cluster_stop
    rm -rf -- "$work"
}
trap cleanup EXIT

version=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$REPO/META.json")
deb_version=$(sed -n '1s/^user-mgmt (\([^)]*\)).*/\1/p' "$REPO/debian/changelog")
ok "$([[ "$deb_version" == "$version" ]]; echo $?)" \
    "debian/changelog's version ($deb_version) is META.json's ($version)"

# 1. build from a copy of the tracked files (the build writes next to the tree)
mkdir -p "$work/src"
out=$(git -C "$REPO" ls-files -z | (cd "$REPO" && xargs -0 cp --parents -t "$work/src") 2>&1)
ok $? "copy the tracked files" "$out"
out=$(cd "$work/src" && dpkg-buildpackage -us -uc -b 2>&1)
status=$?
ok $status "dpkg-buildpackage builds the package" "$(tail -n 30 <<<"$out")"
deb=$(ls "$work"/postgresql-15-user-mgmt_"$version"_*.deb 2>/dev/null | head -n 1)
ok "$([[ -f "$deb" ]]; echo $?)" "the .deb is postgresql-15-user-mgmt, version $version" \
    "$(ls "$work")"
warnings=$(grep -E '(warning|error):' <<<"$out" | grep -v -- '-Werror' || true)
ok "$([[ -z "$warnings" ]]; echo $?)" "the package builds without compiler warnings" "$warnings"
[[ -f "$deb" ]] || finish

# 2. install it, and look at what it holds
out=$(dpkg -i "$deb" 2>&1)
ok $? "dpkg -i installs it" "$out"
ok "$([[ "$(dpkg-query -W -f='${Status} ${Version}' postgresql-15-user-mgmt)" == "install ok installed $version" ]]; echo $?)" \
    "dpkg knows it as installed, version $version"
files=$(dpkg -L postgresql-15-user-mgmt)
missing=""
for f in /usr/lib/postgresql/15/lib/user_mgmt.so /usr/share/postgresql/15/extension/user_mgmt.control \
    "$REPO"/sql/user_mgmt--*.sql; do
    base=${f##*/}
    grep -q "/$base\$" <<<"$files" || missing+="$base "
done
ok "$([[ -z "$missing" ]]; echo $?)" "it holds the library, the control file and every extension script" \
    "missing: $missing"
out=$(cmp "$REPO/user_mgmt.control" /usr/share/postgresql/15/extension/user_mgmt.control 2>&1)
ok $? "the installed control file is the tree's" "$out"

# 3. a server that loads the package's library
if ! cluster_start >"$work/cluster.log" 2>&1; then
    ok 1 "start a throwaway cluster" "$(cat "$work/cluster.log")"
    finish
fi
ok 0 "start a throwaway cluster (shared_preload_libraries = 'user_mgmt')"
out=$(psql -qXAt -v ON_ERROR_STOP=1 -c "CREATE EXTENSION user_mgmt" \
    -c "SELECT extversion FROM pg_extension WHERE extname = 'user_mgmt'" 2>&1)
ok "$([[ "$out" == "${version%.0}" ]]; echo $?)" "CREATE EXTENSION user_mgmt installs ${version%.0}" "$out"
out=$(psql -qXAt -v ON_ERROR_STOP=1 <<'SQL' 2>&1
SET user_mgmt.bcrypt_cost = 4;
SELECT user_mgmt.create_user('deb_olga', 'correct horse', 'Ольга') > 0;
SELECT user_mgmt.verify_token(user_mgmt.login('deb_olga', 'correct horse')) ->> 'username';
SELECT user_mgmt.authenticate('deb_olga', 'wrong horse') IS NULL;
SELECT count(*) FROM user_mgmt.check_schema();
SELECT user_mgmt.stop_login_writer();
SQL
)
ok "$([[ "$out" == $'t\ndeb_olga\nt\n0\nt' ]]; echo $?)" \
    "a user, a login, a token, a refused guess and an undrifted schema on the package" "$out"
out=$(cd "$work/src" && make -s installcheck PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config 2>&1)
status=$?
ok $status "pg_regress (make installcheck) passes against the installed package" \
    "$(tail -n 15 <<<"$out"; cat "$work/src/regression.diffs" 2>/dev/null | head -n 40)"
finish
