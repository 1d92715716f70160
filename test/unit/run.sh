#!/bin/bash
# Build the core unit tests twice (plain -O2, and with ASan+UBSan), run both
# and print one combined TAP stream; exit non-zero on any failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$here/../.."
core="$root/src/core"
build="$here/build"
kat="$root/test/vectors/bcrypt_kat.tsv"
CC="${CC:-gcc}"
warn=(-std=c99 -Wall -Wextra -Werror -Wmissing-prototypes
	-Wdeclaration-after-statement)

mkdir -p "$build"
srcs=("$core"/blowfish.c "$core"/blowfish_tables.c "$core"/bcrypt.c
	"$core"/bcrypt_base64.c "$core"/secure.c "$core"/base64url.c
	"$core"/json_scan.c "$core"/jws.c "$core"/uuid_text.c "$core"/jws_pk.c "$core"/hmac_sha256.c "$here"/*.c)

"$CC" "${warn[@]}" -O2 -I"$core" "${srcs[@]}" -lcrypto -o "$build/test_core"
"$CC" "${warn[@]}" -O1 -g -fsanitize=address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer \
	-I"$core" "${srcs[@]}" -lcrypto -o "$build/test_core_asan"

total=0
failed=0
# Renumber each run's TAP into one stream, tagged with the build.
run_one()
{
	local tag="$1" bin="$2" out rc=0 line n=0 plan=""

	out="$("$bin" "$kat" 2>&1)" || rc=$?
	while IFS= read -r line; do
		case "$line" in
			"ok "*)
				n=$((n + 1)); total=$((total + 1))
				echo "ok $total - [$tag] ${line#* - }" ;;
			"not ok "*)
				n=$((n + 1)); total=$((total + 1)); failed=$((failed + 1))
				echo "not ok $total - [$tag] ${line#* - }" ;;
			1..*)
				plan="${line#1..}" ;;
			*)
				echo "# [$tag] $line" ;;
		esac
	done <<<"$out"
	# A crash or a missing/short plan is a failure of its own.
	total=$((total + 1))
	if [ "$rc" -eq 0 ] && [ "$plan" = "$n" ]; then
		echo "ok $total - [$tag] exited cleanly after $n tests"
	else
		failed=$((failed + 1))
		echo "not ok $total - [$tag] exit status $rc, plan '$plan', ran $n"
	fi
}

run_one plain "$build/test_core"
run_one asan "$build/test_core_asan"
echo "1..$total"
[ "$failed" -eq 0 ] || { echo "# $failed failed"; exit 1; }
