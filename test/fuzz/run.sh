#!/bin/bash
# Build the libFuzzer targets (ASan + UBSan) and run each, printing one TAP
# line per target.  `make fuzz` runs this script.
#
# Budget, per target:
#   FUZZ_SECONDS=N   run for N seconds (-max_total_time; default 10): the
#                    smoke run of test/run-all.sh and CI
#   FUZZ_RUNS=N      run until N executions instead (-runs; UM_FUZZ_RUNS is
#                    read too), e.g. FUZZ_RUNS=10000000 for a run at scale
#   FUZZ_JOBS=J      J fuzzing processes per target sharing one corpus, the
#                    executions split between them (default 1)
#   FUZZ_TARGETS="fuzz_jws fuzz_uuid_text"   only these targets
#   FUZZ_MERGE=1     afterwards, minimize the kept corpus plus what the run
#                    found into test/fuzz/corpus/<target>/ (-merge=1); the
#                    only mode that writes to the tree
#
# Seeds: the kept corpus test/fuzz/corpus/<target>/ (minimized; it is copied
# to build/ first, so a run never changes the tree), plus seeds written
# here: the KAT vectors, RFC tokens, the RFC 8037 / RFC 7515 keys and
# signatures of test/unit/test_jws_pk.c, RFC 4231's HMAC cases, refresh
# tokens, and every string literal of test/unit/*.c (unit_literals.py).
# Crashes are written to build/crash-*; each target's output to
# build/<target>.log (build/run_<target>/fuzz-*.log with FUZZ_JOBS > 1).
#
# blowfish.c is built with ASan and UBSan but without coverage
# instrumentation, and at -O2: it has no branch that depends on data, so
# coverage could not guide anything there, and it is what makes
# fuzz_bcrypt_hash slow.  fuzz_jws_pk and fuzz_hmac_sha256 link OpenSSL's
# libcrypto, fuzz_bcrypt_hash libxcrypt's libcrypt (its reference bcrypt).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$here/../.."
core="$root/src/core"
build="$here/build"
kept_root="$here/corpus"
kat="$root/test/vectors/bcrypt_kat.tsv"
secs="${FUZZ_SECONDS:-10}"
runs="${FUZZ_RUNS:-${UM_FUZZ_RUNS:-}}"
jobs="${FUZZ_JOBS:-1}"
merge="${FUZZ_MERGE:-0}"
max_len=512
all_targets=(fuzz_bcrypt_parse fuzz_bcrypt_hash fuzz_jws fuzz_json_scan
	fuzz_uuid_text fuzz_jws_pk fuzz_hmac_sha256)
if [ -n "${FUZZ_TARGETS:-}" ]; then
	read -r -a targets <<<"$FUZZ_TARGETS"
	for t in "${targets[@]}"; do
		[[ " ${all_targets[*]} " == *" $t "* ]] || { echo "unknown target $t" >&2; exit 2; }
	done
else
	targets=("${all_targets[@]}")
fi
core_srcs=("$core"/bcrypt.c "$core"/bcrypt_base64.c "$core"/secure.c
	"$core"/base64url.c "$core"/json_scan.c "$core"/jws.c "$core"/uuid_text.c)
sanitize=(-fsanitize=address,undefined -fno-sanitize-recover=all)

mkdir -p "$build"
clang -std=c99 -Wall -Wextra -Werror -O2 -g "${sanitize[@]}" -I"$core" \
	-c "$core"/blowfish.c -o "$build/blowfish.o"
clang -std=c99 -Wall -Wextra -Werror -O2 -g "${sanitize[@]}" -I"$core" \
	-c "$core"/blowfish_tables.c -o "$build/blowfish_tables.o"
for t in "${targets[@]}"; do
	extra=()
	case "$t" in
		fuzz_jws_pk) extra=("$core"/jws_pk.c -lcrypto) ;;
		fuzz_hmac_sha256) extra=("$core"/hmac_sha256.c -lcrypto) ;;
		fuzz_bcrypt_hash) extra=(-lcrypt) ;;
	esac
	clang -std=c99 -Wall -Wextra -Werror -O1 -g \
		-fsanitize=fuzzer "${sanitize[@]}" \
		-I"$core" "$here/$t.c" "${core_srcs[@]}" \
		"$build/blowfish.o" "$build/blowfish_tables.o" "${extra[@]}" -o "$build/$t"
done

# Seeds: hashes, settings and passwords from the KAT vectors.  A
# fuzz_bcrypt_hash input is a control byte (bit 0: a setting follows, bit 2:
# a full hash rather than a 29-character setting), then the password.
rm -rf "$build"/seeds_*
mkdir -p "$build/seeds_parse" "$build/seeds_hash" "$build/seeds_jws" \
	"$build/seeds_json" "$build/seeds_uuid" "$build/seeds_pk" \
	"$build/seeds_hmac" "$build/seeds_unit"
i=0
tail -n +2 "$kat" | while IFS=$'\t' read -r label pw hash; do
	i=$((i + 1))
	printf '%s' "$hash" >"$build/seeds_parse/h$i"
	printf '%s' "${hash:0:29}" >"$build/seeds_parse/s$i"
	{ printf '\0'; printf '%s' "$pw" | xxd -r -p; } >"$build/seeds_hash/p$i"
	{ printf '\1%s' "${hash:0:29}"; printf '%s' "$pw" | xxd -r -p; } >"$build/seeds_hash/s$i"
	{ printf '\7%s' "$hash"; printf '%s' "$pw" | xxd -r -p; } >"$build/seeds_hash/h$i"
done

# Seeds: RFC 7515 A.1's token, and JSON headers and claims.
printf '%s' 'eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk' \
	>"$build/seeds_jws/a1"
i=0
for j in '{"alg":"HS256","typ":"JWT","kid":"k1"}' '{"alg":"none","crit":["b64"]}' \
	'{"sub":"alice","exp":1.7e9,"nbf":-1.5,"iat":1700000000}' \
	'{"a":[1,{"b":null}],"\u0061lg":"\ud83d\ude00\n","":true,"x":-0.0E+1}' \
	'{"sub":"1","role":"um_user","sid":"123e4567-e89b-42d3-a456-426614174000","exp":1700000900,"iat":1700000000,"jti":"AAAAAAAAAAAAAAAAAAAAAA"}'; do
	i=$((i + 1))
	printf '%s' "$j" >"$build/seeds_json/j$i"
	printf '%s' "$j" >"$build/seeds_jws/j$i"
done
# Refresh tokens (1.4): 43 base64url characters of 32 bytes; and near misses.
printf '%s' 'q2Mq7vCz3m1d1bLkq1UwV7r8N8l8cS1Yk4fZx2r5fEw' >"$build/seeds_jws/r1"
printf '%s' '__________________________________________8' >"$build/seeds_jws/r2"
printf '%s' 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB' >"$build/seeds_jws/r3"

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

# Seeds for fuzz_hmac_sha256 (a byte of key length, the key, the message):
# RFC 4231's test cases 1-4, 6 and 7, as test/unit/test_hmac_sha256.c has them.
hmac_seed() { # hmac_seed <name> <key-hex> <message-hex>
	printf '%02x%s%s' $((${#2} / 2)) "$2" "$3" | xxd -r -p >"$build/seeds_hmac/$1"
}
hex() { printf '%s' "$1" | xxd -p | tr -d '\n'; }
rep() { local s='' k; for ((k = 0; k < $2; k++)); do s+=$1; done; printf '%s' "$s"; }
hmac_seed tc1 "$(rep 0b 20)" "$(hex 'Hi There')"
hmac_seed tc2 "$(hex Jefe)" "$(hex 'what do ya want for nothing?')"
hmac_seed tc3 "$(rep aa 20)" "$(rep dd 50)"
hmac_seed tc4 0102030405060708090a0b0c0d0e0f10111213141516171819 "$(rep cd 50)"
hmac_seed tc6 "$(rep aa 131)" "$(hex 'Test Using Larger Than Block-Size Key - Hash Key First')"
hmac_seed tc7 "$(rep aa 131)" "$(hex 'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.')"

# Seeds: every string literal of the unit tests, for the text parsers.
if command -v python3 >/dev/null; then
	python3 "$here/unit_literals.py" "$build/seeds_unit" "$root"/test/unit/test_*.c
fi

seeds_of() { # the seed directories of a target
	case "$1" in
		fuzz_bcrypt_parse) echo "$build/seeds_parse $build/seeds_unit" ;;
		fuzz_bcrypt_hash) echo "$build/seeds_hash" ;;
		fuzz_jws) echo "$build/seeds_jws $build/seeds_unit" ;;
		fuzz_json_scan) echo "$build/seeds_json $build/seeds_unit" ;;
		fuzz_uuid_text) echo "$build/seeds_uuid $build/seeds_unit" ;;
		fuzz_jws_pk) echo "$build/seeds_pk" ;;
		fuzz_hmac_sha256) echo "$build/seeds_hmac" ;;
	esac
}

# "cov: N ft: M" of the last status line in the given logs (the largest).
coverage() {
	grep -h -o 'cov: [0-9]* ft: [0-9]*' "$@" 2>/dev/null |
		sort -t' ' -k2,2n | tail -n 1 || true
}

if [ -n "$runs" ]; then
	budget=(-runs=$(((runs + jobs - 1) / jobs)))
else
	budget=(-max_total_time="$secs")
fi
parallel=()
[ "$jobs" -gt 1 ] && parallel=(-jobs="$jobs" -workers="$jobs")

n=0
failed=0
echo "1..${#targets[@]}"
for t in "${targets[@]}"; do
	n=$((n + 1))
	read -r -a seeds <<<"$(seeds_of "$t")"
	kept="$kept_root/$t"
	mkdir -p "$kept"
	# A copy: libFuzzer writes what it finds into its first directory.
	corpus="$build/corpus_$t"
	rm -rf "$corpus"
	cp -r "$kept" "$corpus"
	rundir="$build/run_$t"
	rm -rf "$rundir"
	mkdir -p "$rundir"
	log="$build/$t.log"
	start=$(date +%s)
	rc=0
	(cd "$rundir" && "$build/$t" "${budget[@]}" "${parallel[@]}" \
		-max_len="$max_len" -timeout=60 -print_final_stats=1 \
		-artifact_prefix="$build/" "$corpus" "${seeds[@]}") >"$log" 2>&1 || rc=$?
	wall=$(($(date +%s) - start))
	logs=("$log")
	[ "$jobs" -gt 1 ] && logs=("$rundir"/fuzz-*.log)
	if [ "$rc" -ne 0 ] || grep -q -e '^==[0-9]*==ERROR' -e 'runtime error' "${logs[@]}"; then
		failed=$((failed + 1))
		echo "not ok $n - $t (see ${logs[*]})"
		tail -n 30 "${logs[@]}" | sed 's/^/# /'
		continue
	fi
	execs="$(grep -h -o 'stat::number_of_executed_units: *[0-9]*' "${logs[@]}" |
		awk '{ s += $2 } END { print s + 0 }')"
	cov="$(coverage "${logs[@]}")"
	note=""
	if [ "$merge" = 1 ]; then
		fresh="$build/merge_$t"
		rm -rf "$fresh"
		mkdir -p "$fresh"
		if ! "$build/$t" -merge=1 -max_len="$max_len" -timeout=60 \
			-artifact_prefix="$build/" "$fresh" "$kept" "$corpus" "${seeds[@]}" \
			>"$build/$t.merge.log" 2>&1; then
			failed=$((failed + 1))
			echo "not ok $n - $t (merge failed: see $build/$t.merge.log)"
			continue
		fi
		find "$kept" -type f -delete
		cp "$fresh"/* "$kept"/ 2>/dev/null || true
		inited="$("$build/$t" -runs=0 -max_len="$max_len" "$kept" 2>&1 |
			grep -o 'INITED cov: [0-9]* ft: [0-9]*' | tail -n 1 || true)"
		note=", kept corpus $(find "$kept" -type f | wc -l) files $(find "$kept" -type f -exec cat {} + | wc -c) bytes${inited:+ (${inited#INITED })}"
	fi
	echo "ok $n - $t ($execs runs in ${wall}s${cov:+, $cov}$note)"
done
[ "$failed" -eq 0 ]
