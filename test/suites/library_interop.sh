#!/usr/bin/env bash
# Interoperability with the bcrypt and JWT libraries of other languages:
# Node.js (bcryptjs, jsonwebtoken, and jose for the EdDSA and ES256 keys of
# 1.5, installed from the npm registry into test/interop/node_modules) and
# PHP (password_hash / password_verify, which make $2y$ hashes).  Prints TAP;
# needs PGHOST/PGPORT/PGUSER of a running cluster with the extension (1.5)
# installed, as a superuser.
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

if [[ ! -d $here/node_modules/bcryptjs || ! -d $here/node_modules/jsonwebtoken ||
	! -d $here/node_modules/jose ]]; then
	out=$(cd "$here" && npm install --no-audit --no-fund --no-package-lock 2>&1)
	ok $? "npm installs bcryptjs, jsonwebtoken and jose" "$out"
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

# 1.5: EdDSA and ES256 with Node's jose (on WebCrypto, not on our code).
# jose verifies our tokens with nothing but the JWK Set of jwks() (the key
# picked by kid, the algorithms pinned to that key's alg); tokens jose signs
# with a key pair of its own verify here once a superuser imported its
# public key (exportSPKI), when they carry the sid and sub of a live session,
# taken from a token our login() issued.
jose() { node "$here/jose.mjs" "$@" 2>&1; }
b64url() {	# b64url <text>: unpadded base64url of the text
	sql "SELECT rtrim(translate(encode(convert_to(:'s', 'UTF8'), 'base64'), E'+/\n', '-_'), '=')" "s=$1"
}
declare -A jose_kp
for alg in EdDSA ES256; do
	jose_kp[$alg]=$(jose keypair "$alg")
done
for alg in EdDSA ES256; do
	other=$([[ $alg == EdDSA ]] && echo ES256 || echo EdDSA)
	kid=$(sql "SELECT user_mgmt.rotate_signing_key(:'a')" "a=$alg")
	declare -A tok=()
	tok[login]=$(sql "SELECT user_mgmt.login('interop', 'interop password')")
	pair=$(sql "SELECT access_token || ' ' || refresh_token FROM user_mgmt.sign_in('interop', 'interop password')")
	tok[sign_in]=${pair% *}
	tok[refresh]=$(sql "SELECT access_token FROM user_mgmt.refresh(:'r')" "r=${pair#* }")
	tok[issue_token]=$(sql "SELECT user_mgmt.issue_token($uid)")
	jwks=$(sql "SELECT user_mgmt.jwks()")
	for origin in login sign_in refresh issue_token; do
		out=$(jose verify "$jwks" "${tok[$origin]}")
		r=$(sql "SELECT (:'o'::jsonb ->> 'alg') = :'alg' AND (:'o'::jsonb ->> 'kid') = :'kid'
			AND (:'o'::jsonb -> 'claims') = user_mgmt.verify_token(:'t')" \
			"o=$out" "alg=$alg" "kid=$kid" "t=${tok[$origin]}")
		[[ $r == t ]]
		ok $? "jose verifies our $alg token of $origin() with the JWK Set alone, and reads verify_token's claims" "$out / $r"
	done
	t=${tok[login]}
	sig=${t##*.}
	out=$(jose verify "$jwks" "${t%.*}.$([[ ${sig:0:1} == A ]] && echo B || echo A)${sig:1}")
	[[ $out == ERR_JWS_SIGNATURE_VERIFICATION_FAILED:* ]]
	ok $? "jose refuses our $alg token with a changed signature" "$out"
	out=$(jose verify "$jwks" "$(b64url "{\"alg\":\"$other\",\"typ\":\"JWT\",\"kid\":\"$kid\"}").${t#*.}")
	[[ $out == ERR_JOSE_ALG_NOT_ALLOWED:* ]]
	ok $? "jose, pinned to the key's alg, refuses our $alg token relabelled $other" "$out"

	# jose's own key pair, its public key imported here
	login_claims=$(jose verify "$jwks" "$t")
	sid=$(sql "SELECT :'o'::jsonb -> 'claims' ->> 'sid'" "o=$login_claims")
	sub=$(sql "SELECT :'o'::jsonb -> 'claims' ->> 'sub'" "o=$login_claims")
	now=$(sql "SELECT floor(extract(epoch FROM clock_timestamp()))::bigint")
	pkcs8=$(sql "SELECT :'kp'::jsonb ->> 'pkcs8'" "kp=${jose_kp[$alg]}")
	spki=$(sql "SELECT :'kp'::jsonb ->> 'spki'" "kp=${jose_kp[$alg]}")
	other_pkcs8=$(sql "SELECT :'kp'::jsonb ->> 'pkcs8'" "kp=${jose_kp[$other]}")
	jkid="jose-$alg"
	r=$(sql "SELECT FROM user_mgmt.import_signing_key(:'k', :'a', :'p');
		SELECT (SELECT algorithm = :'a' AND public_key IS NOT NULL AND secret IS NULL
				FROM user_mgmt.signing_keys WHERE kid = :'k')
		AND user_mgmt.public_key_pem(:'k') LIKE '-----BEGIN PUBLIC KEY-----%'
		AND NOT user_mgmt.jwks()::text LIKE '%' || :'k' || '%'" "k=$jkid" "a=$alg" "p=$spki")
	[[ $r == t ]]; ok $? "import_signing_key takes jose's $alg public key (exportSPKI); jwks() does not publish it" "$r"$'\n'"$spki"
	claims="{\"sub\":\"$sub\",\"role\":\"CASHIER\",\"sid\":\"$sid\",\"iat\":$now,\"exp\":$((now + 600))}"
	token=$(jose sign "$alg" "$pkcs8" "$jkid" "$claims")
	r=$(sql "SELECT user_mgmt.verify_token(:'t') = :'c'::jsonb" "t=$token" "c=$claims")
	[[ $r == t ]]; ok $? "verify_token accepts an $alg token jose signed, with the sid of a live session" "$r"$'\n'"token: $token"
	reject "invalid token signature" \
		"$(jose sign "$alg" "$(sql "SELECT :'kp'::jsonb ->> 'pkcs8'" "kp=$(jose keypair "$alg")")" "$jkid" "$claims")" \
		"verify_token rejects an $alg token jose signed with another key under the imported kid"
	reject "token algorithm does not match its key" \
		"$(node_lib sign "$(printf '%s' "$spki" | od -An -v -tx1 | tr -d ' \n')" "$jkid" "$claims" HS256)" \
		"verify_token rejects an HS256 token (jsonwebtoken) whose secret is the imported $alg public key PEM"
	reject "token algorithm does not match its key" \
		"$(jose sign "$other" "$other_pkcs8" "$jkid" "$claims")" \
		"verify_token rejects an $other token jose signed under the imported $alg kid"
	reject "token has an unknown key id" \
		"$(jose sign "$alg" "$pkcs8" "jose-never-imported" "$claims")" \
		"verify_token rejects an $alg token jose signed under a kid that was never imported"
	r=$(sql "SELECT FROM user_mgmt.retire_signing_key(:'k');
		SELECT retired_at IS NOT NULL FROM user_mgmt.signing_keys WHERE kid = :'k'" "k=$jkid")
	[[ $r == t ]]; ok $? "retire_signing_key retires jose's imported $alg key" "$r"
	reject "token has an unknown key id" "$token" \
		"verify_token rejects the jose $alg token once its imported key is retired"
done

r=$(sql "SELECT user_mgmt.stop_login_writer()")
[[ $r == t ]]; ok $? "the database's login writer stops" "$r"

echo "1..$n"
[[ $failed -eq 0 ]]
