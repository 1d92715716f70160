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

# Tokens: jsonwebtoken against verify_token, issue_token, login and sign_in,
# with the exported key.  Since 1.4 every token names a live session (sid):
# Node verifies ours (which carry it), and a token Node signs verifies here
# only when it carries the sid of a live session of its sub.
secret=$(sql "SELECT encode(user_mgmt.export_signing_key(), 'hex')")
kid=$(sql "SELECT kid FROM user_mgmt.signing_keys WHERE retired_at IS NULL")
uid=$(sql "SET user_mgmt.bcrypt_cost = 4; SELECT user_mgmt.create_user('interop', 'interop password', 'Интероп', 'CASHIER')")
uid2=$(sql "SET user_mgmt.bcrypt_cost = 4; SELECT user_mgmt.create_user('interop2', 'interop password', 'Other')")
now=$(date +%s)
claim() {	# claim <claims-json> <name>: one claim, as text
	sql "SELECT :'c'::jsonb ->> :'k'" "c=$1" "k=$2"
}
uuid_re='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'

token=$(sql "SELECT user_mgmt.issue_token($uid)")
claims=$(node_lib verify "$secret" "$token")
sid=$(claim "$claims" sid)
r=$(sql "SELECT (:'claims'::jsonb ->> 'sub') = '$uid' AND (:'claims'::jsonb ->> 'role') = 'CASHIER'" "claims=$claims")
[[ $r == t && $sid =~ $uuid_re ]]; ok $? "jsonwebtoken verifies our issue_token token and reads its claims, sid included" "$claims"

token=$(sql "SELECT user_mgmt.login('interop', 'interop password')")
claims=$(node_lib verify "$secret" "$token")
sid=$(claim "$claims" sid)
sub=$(claim "$claims" sub)
r=$(sql "SELECT user_mgmt.verify_token(:'t') ->> 'sid'" "t=$token")
[[ $sub == "$uid" && $sid =~ $uuid_re && $r == "$sid" ]]
ok $? "jsonwebtoken verifies our login() token; its sid is the session verify_token names" "$claims / $r"

pair=$(sql "SELECT access_token || ' ' || refresh_token FROM user_mgmt.sign_in('interop', 'interop password')")
access=${pair% *}
refresh=${pair#* }
claims=$(node_lib verify "$secret" "$access")
r=$(sql "SELECT session_id || ' ' || access_token FROM user_mgmt.refresh(:'r')" "r=$refresh")
claims2=$(node_lib verify "$secret" "${r#* }")
[[ $(claim "$claims" sid) =~ $uuid_re && $(claim "$claims" sid) == "${r%% *}" && $(claim "$claims2" sid) == "${r%% *}" ]]
ok $? "jsonwebtoken verifies the access tokens of sign_in and refresh, both of the same session" "$claims / $claims2"

# Node signs tokens of its own, with the sid (and sub) of the live session
# that the login() token above opened.
node_sign() {	# node_sign <claims-json> [alg] [secret-hex]
	node_lib sign "${3:-$secret}" "$kid" "$1" "${2:-HS256}"
}
token=$(node_sign "{\"sub\":\"$uid\",\"role\":\"CASHIER\",\"sid\":\"$sid\",\"exp\":$((now + 60)),\"iat\":$now}")
r=$(sql "SELECT (v ->> 'role') || ' ' || (v ->> 'sid') FROM user_mgmt.verify_token(:'t') AS v" "t=$token")
[[ $r == "CASHIER $sid" ]]; ok $? "verify_token accepts a token signed by jsonwebtoken with the sid of a live session" "$r"$'\n'"token: $token"
r=$(sql "BEGIN; SELECT user_mgmt.set_session_token(:'t') IS NOT NULL; SELECT user_mgmt.current_user_id() || ' ' || user_mgmt.current_session_id(); COMMIT" "t=$token" | sed -n 2p)
[[ $r == "$uid $sid" ]]; ok $? "set_session_token accepts it: current_user_id() and current_session_id() are its sub and sid" "$r"

reject() {	# reject <expected message> <token> <description>
	local r
	r=$(sql "SELECT user_mgmt.verify_token(:'t')" "t=$2")
	[[ $r == *"ERROR:  $1"* ]]; ok $? "$3" "$r"$'\n'"token: $2"
}
reject "token has no session" \
	"$(node_sign "{\"sub\":\"$uid\",\"role\":\"CASHIER\",\"exp\":$((now + 60)),\"iat\":$now}")" \
	"verify_token rejects a jsonwebtoken token (right key, live user) without a sid"
reject "malformed token" \
	"$(node_sign "{\"sub\":\"$uid\",\"role\":\"CASHIER\",\"sid\":\"not-a-uuid\",\"exp\":$((now + 60))}")" \
	"verify_token rejects a jsonwebtoken token whose sid is no uuid"
reject "token's session does not exist" \
	"$(node_sign "{\"sub\":\"$uid\",\"role\":\"CASHIER\",\"sid\":\"$(cat /proc/sys/kernel/random/uuid)\",\"exp\":$((now + 60))}")" \
	"verify_token rejects a jsonwebtoken token whose sid names no session"
reject "token does not match its session" \
	"$(node_sign "{\"sub\":\"$uid2\",\"role\":\"ADMIN\",\"sid\":\"$sid\",\"exp\":$((now + 60))}")" \
	"verify_token rejects a jsonwebtoken token with the live sid of another user's session"
reject "unsupported token algorithm" \
	"$(node_sign "{\"sub\":\"$uid\",\"sid\":\"$sid\",\"exp\":$((now + 60))}" HS512)" \
	"verify_token rejects an HS512 token from jsonwebtoken"
reject "token has no expiry" \
	"$(node_sign "{\"sub\":\"$uid\",\"sid\":\"$sid\"}")" \
	"verify_token rejects a jsonwebtoken token without exp"
reject "token has expired" \
	"$(node_sign "{\"sub\":\"$uid\",\"sid\":\"$sid\",\"exp\":$((now - 60))}")" \
	"verify_token rejects an expired jsonwebtoken token"
reject "invalid token signature" \
	"$(node_sign "{\"sub\":\"$uid\",\"sid\":\"$sid\",\"exp\":$((now + 60))}" HS256 "$(printf '00%.0s' {1..32})")" \
	"verify_token rejects a jsonwebtoken token signed with another key"

# The session ends: the token Node signed for it ends with it.
r=$(sql "SELECT user_mgmt.logout(:'t')" "t=$token")
[[ $r == t ]]; ok $? "logout() takes the jsonwebtoken token and ends its session" "$r"$'\n'"token: $token"
reject "token's session has been revoked" "$token" \
	"verify_token rejects the jsonwebtoken token once its session is logged out"
r=$(sql "SELECT user_mgmt.stop_login_writer()")
[[ $r == t ]]; ok $? "the database's login writer stops" "$r"

echo "1..$n"
[[ $failed -eq 0 ]]
