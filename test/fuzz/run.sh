#!/bin/bash
# Build the libFuzzer targets (ASan + UBSan) and run each for FUZZ_SECONDS
# (per target, default 10), printing one TAP line per target.  Seeds come
# from the KAT file, a few tokens written here, and the RFC 8037 / RFC 7515
# keys and signatures of test/unit/test_jws_pk.c; nothing large is
# committed.  fuzz_jws_pk links OpenSSL's libcrypto (-lcrypto).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$here/../.."
core="$root/src/core"
build="$here/build"
kat="$root/test/vectors/bcrypt_kat.tsv"
secs="${FUZZ_SECONDS:-10}"
targets=(fuzz_bcrypt_parse fuzz_bcrypt_hash fuzz_jws fuzz_json_scan fuzz_uuid_text fuzz_jws_pk)
core_srcs=("$core"/blowfish.c "$core"/blowfish_tables.c "$core"/bcrypt.c
	"$core"/bcrypt_base64.c "$core"/secure.c "$core"/base64url.c
	"$core"/json_scan.c "$core"/jws.c "$core"/uuid_text.c)

mkdir -p "$build"
for t in "${targets[@]}"; do
	extra=()
	[ "$t" = fuzz_jws_pk ] && extra=("$core"/jws_pk.c -lcrypto)
	clang -std=c99 -Wall -Wextra -Werror -O1 -g \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-I"$core" "$here/$t.c" "${core_srcs[@]}" "${extra[@]}" -o "$build/$t"
done

# Seeds: hashes, settings and passwords from the KAT vectors.
rm -rf "$build"/seeds_*
mkdir -p "$build/seeds_parse" "$build/seeds_hash" "$build/seeds_jws" \
	"$build/seeds_json" "$build/seeds_uuid" "$build/seeds_pk"
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

# Seeds for fuzz_jws_pk (its first byte: 0 PEM, 1 public DER, 2 private
# DER, 3 signature check, then a byte of key and signature length): the
# keys and signatures of RFC 8037 A.1-A.4 (Ed25519) and RFC 7515 A.3
# (P-256), as test/unit/test_jws_pk.c has them, and a P-384 key.
ed_priv=302e020100300506032b6570042204209d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60
ed_pub=302a300506032b6570032100d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a
es_priv=308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b02010104208e9b109e719098bf980487df1f5d77e9cb29606ebed2263b5f57c213df84f4b2a144034200047fcdce2770f6c45d4183cbee6fdb4b7b580733357be9ef13bacf6e3c7bd15445c7f144cd1bbd9b7e872cdfedb9eeb9f4b3695d6ea90b24ad8a4623288588e5ad
es_pub=3059301306072a8648ce3d020106082a8648ce3d030107034200047fcdce2770f6c45d4183cbee6fdb4b7b580733357be9ef13bacf6e3c7bd15445c7f144cd1bbd9b7e872cdfedb9eeb9f4b3695d6ea90b24ad8a4623288588e5ad
ed_input='eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc'
ed_sig=860c98d2297f3060a33f42739672d61b53cf3adefed3d3c672f320dc021b411e9d59b8628dc351e248b88b29468e0e41855b0fb7d83bb15be902bfccb8cd0a02
es_input='eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ'
es_sig=0ed1215379636c483c2f7f155807d402a3b228033af97c7e17819ac3169ea665c50a07d38c3c70e5d8f12daf084a5480a66590c5f293509a8f3f7f8a83a354d5
pk_seed() { # pk_seed <name> <first-byte-hex> <hex>...
	local name=$1
	shift
	printf '%s' "$@" | xxd -r -p >"$build/seeds_pk/$name"
}
pk_seed ed_pub 01 "$ed_pub"
pk_seed es_pub 01 "$es_pub"
pk_seed ed_priv 02 "$ed_priv"
pk_seed es_priv 02 "$es_priv"
pk_seed ed_sig 03 80 "$(printf '%s' "$ed_input" | xxd -p | tr -d '\n')" "$ed_sig"
pk_seed es_sig 03 81 "$(printf '%s' "$es_input" | xxd -p | tr -d '\n')" "$es_sig"
{ printf '\0'; printf '%s\n' '-----BEGIN PUBLIC KEY-----' \
	'MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=' \
	'-----END PUBLIC KEY-----'; } >"$build/seeds_pk/ed_pem"
{ printf '\0'; printf '%s\n' '-----BEGIN PUBLIC KEY-----' \
	'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEf83OJ3D2xF1Bg8vub9tLe1gHMzV7' \
	'6e8Tus9uPHvRVEXH8UTNG72bfocs3+257rn0s2ldbqkLJK2KRiMohYjlrQ==' \
	'-----END PUBLIC KEY-----'; } >"$build/seeds_pk/es_pem"
{ printf '\0'; printf '%s\n' '-----BEGIN PUBLIC KEY-----' \
	'MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEt+3KWL5mgFHEk9hZDh1d7k0Z0PY7KM6V' \
	'szlrAuta67i8dG+Aa8o5wwU2mTOToYSU2Jombm8jfOuCuJDCoUWYL6g1zeP4+1vG' \
	'5Oil8489jKWMIYpw6VT/dowm+sWc9pfA' \
	'-----END PUBLIC KEY-----'; } >"$build/seeds_pk/p384_pem"
{ printf '\0'; printf '%s\n' '-----BEGIN PRIVATE KEY-----' \
	'MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g' \
	'-----END PRIVATE KEY-----'; } >"$build/seeds_pk/ed_private_pem"

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
		fuzz_jws_pk) seeds="$build/seeds_pk" ;;
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
