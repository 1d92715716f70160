#!/usr/bin/env bash
# Regenerate the body of user_mgmt.expected_schema_objects() for VERSION:
# every sql/user_mgmt--*.sql script that defines it for VERSION (between
# "-- BEGIN GENERATED VERSION" and "-- END GENERATED VERSION") gets the
# schema_objects() of a fresh install of VERSION.  The upgrade to VERSION
# and the downgrade back to it must agree, so both are written at once.
#
# Needs the extension installed (make install) and a server reached through
# PGHOST/PGPORT/PGUSER.  Usage: scripts/expected_schema_objects.sh 1.2
set -euo pipefail
version=$1
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
db=um_expected_$$
createdb "$db"
trap 'dropdb --if-exists "$db"' EXIT
psql -qX -v ON_ERROR_STOP=1 -d "$db" -c "CREATE EXTENSION user_mgmt VERSION '$version'" >/dev/null
rows=$(psql -qXAt -v ON_ERROR_STOP=1 -d "$db" -c "
	SELECT string_agg(format(E'\t\t(%L, %L, %L)', object_type, object_name, definition),
					  E',\n' ORDER BY object_type, object_name)
	FROM user_mgmt.schema_objects()")
for script in "$repo"/sql/user_mgmt--*.sql; do
	grep -q -- "-- BEGIN GENERATED $version\$" "$script" || continue
	/usr/bin/python3 - "$script" "$version" "$rows" <<'PY'
import sys
path, version, rows = sys.argv[1:4]
text = open(path, encoding="utf-8").read()
begin, end = f"-- BEGIN GENERATED {version}\n", f"-- END GENERATED {version}\n"
i, j = text.index(begin) + len(begin), text.index(end)
open(path, "w", encoding="utf-8").write(text[:i] + rows + "\n" + text[j:])
PY
	echo "updated ${script#"$repo"/} with $(grep -c . <<<"$rows") objects of $version"
done
