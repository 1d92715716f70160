#!/usr/bin/env bash
# Interoperability with the bcrypt and JWT libraries of other languages:
# Node.js (bcryptjs, jsonwebtoken, installed from the npm registry into
# test/interop/node_modules) and PHP (password_hash / password_verify, which
# make $2y$ hashes).  Prints TAP; needs PGHOST/PGPORT/PGUSER of a running
# cluster with the extension installed.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../interop" && pwd)
db=um_test_library_interop
n=0
failed=0

ok() {	# ok <condition-exit-status> <description> [diagnostic]
	n=$((n + 1))
	if [[ $1 -eq 0 ]]; then
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
		[[ -n ${3:-} ]] && echo "# ${3//$'\n'/$'\n'# }"
	fi
}

sql() {	# sql <query> [name=value ...]: one value, unaligned; variables via -v
	local query=$1
	shift
	local -a vars=()
	for v in "$@"; do vars+=(-v "$v"); done
	psql -qXAt -v ON_ERROR_STOP=1 -d "$db" "${vars[@]}" <<<"$query" 2>&1
}

node_lib() { node "$here/libraries.js" "$@" 2>&1; }
# shellcheck disable=SC2016 # PHP code: $argv is PHP's, not the shell's
php_hash() { php -r 'echo password_hash($argv[1], PASSWORD_BCRYPT, ["cost" => 4]);' -- "$1"; }
# shellcheck disable=SC2016
php_check() { php -r 'echo password_verify($argv[1], $argv[2]) ? "true" : "false";' -- "$1" "$2"; }

if [[ ! -d $here/node_modules/bcryptjs || ! -d $here/node_modules/jsonwebtoken ]]; then
	out=$(cd "$here" && npm install --no-audit --no-fund --no-package-lock 2>&1)
	ok $? "npm installs bcryptjs and jsonwebtoken" "$out"
fi

dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db" && sql "CREATE EXTENSION user_mgmt" >/dev/null
ok $? "database $db with the extension"
trap 'dropdb --if-exists "$db" >/dev/null 2>&1' EXIT

passwords=("" "password" "пароль" "p@\$\$ w0rd \"'\\" "$(printf 'x%.0s' {1..72})" "日本語のパスワード")
for pw in "${passwords[@]}"; do
	label="password of ${#pw} characters"

	h=$(node_lib hash "$pw" 4)
	r=$(sql "SELECT user_mgmt.verify_password(:'pw', :'h')::text || ',' || user_mgmt.verify_password('!' || :'pw', :'h')::text" "pw=$pw" "h=$h")
	[[ $r == "true,false" ]]; ok $? "bcryptjs hash ($label) verifies here, a wrong password does not" "$h -> $r"

	h=$(php_hash "$pw")
	r=$(sql "SELECT user_mgmt.verify_password(:'pw', :'h')::text || ',' || user_mgmt.verify_password('!' || :'pw', :'h')::text" "pw=$pw" "h=$h")
	[[ $h == "\$2y\$"* && $r == "true,false" ]]; ok $? "PHP password_hash \$2y\$ ($label) verifies here, a wrong password does not" "$h -> $r"

	h=$(sql "SELECT user_mgmt.hash_password(:'pw', 4)" "pw=$pw")
	r="$(node_lib check "$pw" "$h"),$(node_lib check "!$pw" "$h")"
	[[ $r == "true,false" ]]; ok $? "our hash ($label) verifies in bcryptjs, a wrong password does not" "$h -> $r"
	r="$(php_check "$pw" "$h"),$(php_check "!$pw" "$h")"
	[[ $r == "true,false" ]]; ok $? "our hash ($label) verifies in PHP password_verify, a wrong password does not" "$h -> $r"
done

# Tokens: jsonwebtoken against verify_token and issue_token, with the
# exported key.
secret=$(sql "SELECT encode(user_mgmt.export_signing_key(), 'hex')")
kid=$(sql "SELECT kid FROM user_mgmt.signing_keys")
uid=$(sql "SET user_mgmt.bcrypt_cost = 4; SELECT user_mgmt.create_user('interop', 'interop password', 'Интероп', 'CASHIER')")
now=$(date +%s)

token=$(sql "SELECT user_mgmt.issue_token($uid)")
claims=$(node_lib verify "$secret" "$token")
r=$(sql "SELECT (:'claims'::jsonb ->> 'sub') = '$uid' AND (:'claims'::jsonb ->> 'role') = 'CASHIER'" "claims=$claims")
[[ $r == t ]]; ok $? "jsonwebtoken verifies our token and reads its claims" "$claims"

token=$(node_lib sign "$secret" "$kid" "{\"sub\":\"$uid\",\"role\":\"CASHIER\",\"exp\":$((now + 60)),\"iat\":$now}")
r=$(sql "SELECT user_mgmt.verify_token(:'t') ->> 'role'" "t=$token")
[[ $r == CASHIER ]]; ok $? "verify_token accepts a token signed by jsonwebtoken" "$r"

reject() {	# reject <expected message> <token> <description>
	local r
	r=$(sql "SELECT user_mgmt.verify_token(:'t')" "t=$2")
	[[ $r == *"$1"* ]]; ok $? "$3" "$r"
}
reject "unsupported token algorithm" \
	"$(node_lib sign "$secret" "$kid" "{\"sub\":\"1\",\"exp\":$((now + 60))}" HS512)" \
	"verify_token rejects an HS512 token from jsonwebtoken"
reject "token has no expiry" \
	"$(node_lib sign "$secret" "$kid" '{"sub":"1"}')" \
	"verify_token rejects a jsonwebtoken token without exp"
reject "token has expired" \
	"$(node_lib sign "$secret" "$kid" "{\"sub\":\"1\",\"exp\":$((now - 60))}")" \
	"verify_token rejects an expired jsonwebtoken token"
reject "invalid token signature" \
	"$(node_lib sign "$(printf '00%.0s' {1..32})" "$kid" "{\"sub\":\"1\",\"exp\":$((now + 60))}")" \
	"verify_token rejects a jsonwebtoken token signed with another key"

echo "1..$n"
[[ $failed -eq 0 ]]
