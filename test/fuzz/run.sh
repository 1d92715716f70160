#!/bin/bash
# Build the libFuzzer targets (ASan + UBSan) and run each for FUZZ_SECONDS
# (per target, default 10), printing one TAP line per target.  Seeds come
# from the KAT file and a few tokens written here; nothing large is
# committed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$here/../.."
core="$root/src/core"
build="$here/build"
kat="$root/test/vectors/bcrypt_kat.tsv"
secs="${FUZZ_SECONDS:-10}"
targets=(fuzz_bcrypt_parse fuzz_bcrypt_hash fuzz_jws fuzz_json_scan fuzz_uuid_text)
core_srcs=("$core"/blowfish.c "$core"/blowfish_tables.c "$core"/bcrypt.c
	"$core"/bcrypt_base64.c "$core"/secure.c "$core"/base64url.c
	"$core"/json_scan.c "$core"/jws.c "$core"/uuid_text.c)

mkdir -p "$build"
for t in "${targets[@]}"; do
	clang -std=c99 -Wall -Wextra -Werror -O1 -g \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-I"$core" "$here/$t.c" "${core_srcs[@]}" -o "$build/$t"
done

# Seeds: hashes, settings and passwords from the KAT vectors.
rm -rf "$build"/seeds_*
mkdir -p "$build/seeds_parse" "$build/seeds_hash" "$build/seeds_jws" \
	"$build/seeds_json" "$build/seeds_uuid"
i=0
tail -n +2 "$kat" | while IFS=$'\t' read -r label pw hash; do
	i=$((i + 1))
	printf '%s' "$hash" >"$build/seeds_parse/h$i"
	printf '%s' "${hash:0:29}" >"$build/seeds_parse/s$i"
	printf '%s' "$pw" | xxd -r -p >"$build/seeds_hash/p$i"
done

# Seeds: RFC 7515 A.1's token, and JSON headers and claims.
printf '%s' 'eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk' \
	>"$build/seeds_jws/a1"
i=0
for j in '{"alg":"HS256","typ":"JWT","kid":"k1"}' '{"alg":"none","crit":["b64"]}' \
	'{"sub":"alice","exp":1.7e9,"nbf":-1.5,"iat":1700000000}' \
	'{"a":[1,{"b":null}],"\u0061lg":"\ud83d\ude00\n","":true,"x":-0.0E+1}'; do
	i=$((i + 1))
	printf '%s' "$j" >"$build/seeds_json/j$i"
	printf '%s' "$j" >"$build/seeds_jws/j$i"
done

# Seeds: session ids as the sid claim carries them.
printf '%s' '123e4567-e89b-42d3-a456-426614174000' >"$build/seeds_uuid/u1"
printf '%s' 'FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF' >"$build/seeds_uuid/u2"

n=0
failed=0
echo "1..${#targets[@]}"
for t in "${targets[@]}"; do
	n=$((n + 1))
	case "$t" in
		fuzz_bcrypt_hash) seeds="$build/seeds_hash" ;;
		fuzz_jws) seeds="$build/seeds_jws" ;;
		fuzz_json_scan) seeds="$build/seeds_json" ;;
		fuzz_uuid_text) seeds="$build/seeds_uuid" ;;
		*) seeds="$build/seeds_parse" ;;
	esac
	corpus="$build/corpus_$t"
	mkdir -p "$corpus"
	log="$build/$t.log"
	if (cd "$build" && "./$t" -max_total_time="$secs" -max_len=512 \
		-print_final_stats=1 "$corpus" "$seeds") >"$log" 2>&1; then
		runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" |
			grep -o '[0-9]*$' || echo '?')"
		echo "ok $n - $t ($runs runs in ${secs}s)"
	else
		failed=$((failed + 1))
		echo "not ok $n - $t (see $log)"
		tail -n 30 "$log" | sed 's/^/# /'
	fi
done
[ "$failed" -eq 0 ]
