#!/bin/bash
# Build the libFuzzer targets (ASan + UBSan) and run each for FUZZ_SECONDS
# (default 15), printing one TAP line per target.  Seeds come from the KAT
# file at run time; nothing large is committed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$here/../.."
core="$root/src/core"
build="$here/build"
kat="$root/test/vectors/bcrypt_kat.tsv"
secs="${FUZZ_SECONDS:-15}"
targets=(fuzz_bcrypt_parse fuzz_bcrypt_hash)
core_srcs=("$core"/blowfish.c "$core"/blowfish_tables.c "$core"/bcrypt.c
	"$core"/bcrypt_base64.c "$core"/secure.c)

mkdir -p "$build"
for t in "${targets[@]}"; do
	clang -std=c99 -Wall -Wextra -Werror -O1 -g \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-I"$core" "$here/$t.c" "${core_srcs[@]}" -o "$build/$t"
done

# Seeds: hashes, settings and passwords from the KAT vectors.
rm -rf "$build/seeds_parse" "$build/seeds_hash"
mkdir -p "$build/seeds_parse" "$build/seeds_hash"
i=0
tail -n +2 "$kat" | while IFS=$'\t' read -r label pw hash; do
	i=$((i + 1))
	printf '%s' "$hash" >"$build/seeds_parse/h$i"
	printf '%s' "${hash:0:29}" >"$build/seeds_parse/s$i"
	printf '%s' "$pw" | xxd -r -p >"$build/seeds_hash/p$i"
done

n=0
failed=0
echo "1..${#targets[@]}"
for t in "${targets[@]}"; do
	n=$((n + 1))
	seeds="$build/seeds_parse"
	[ "$t" = fuzz_bcrypt_hash ] && seeds="$build/seeds_hash"
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
