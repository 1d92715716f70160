#!/usr/bin/env bash
# Regenerate the body of user_mgmt.expected_schema_objects() for VERSION in
# the script SCRIPT, from a fresh install of VERSION in the database that
# PGHOST/PGPORT/PGUSER point at (the extension must be installed with
# make install first).  Usage: scripts/expected_schema_objects.sh 1.1 sql/user_mgmt--1.0--1.1.sql
set -euo pipefail
version=$1
script=$2
db=um_expected_$$
createdb "$db"
trap 'dropdb --if-exists "$db"' EXIT
psql -qX -d "$db" -c "CREATE EXTENSION user_mgmt VERSION '$version'" >/dev/null
rows=$(psql -qXAt -d "$db" -c "
	SELECT string_agg(format(E'\t\t(%L, %L, %L)', object_type, object_name, definition),
					  E',\n' ORDER BY object_type, object_name)
	FROM user_mgmt.schema_objects()")
/usr/bin/python3 - "$script" "$version" "$rows" <<'PY'
import re, sys
path, version, rows = sys.argv[1:4]
text = open(path, encoding="utf-8").read()
begin, end = f"-- BEGIN GENERATED {version}\n", f"-- END GENERATED {version}\n"
i, j = text.index(begin) + len(begin), text.index(end)
open(path, "w", encoding="utf-8").write(text[:i] + rows + "\n" + text[j:])
PY
echo "updated $script with $(grep -c . <<<"$rows") objects of $version"
