#!/bin/bash
# Benchmark our bcrypt core against libxcrypt (crypt_rn, "$2b$") in the same
# process, for Debian's PostgreSQL CFLAGS and for candidate per-object flags
# added to them.  Prints median ms per hash and ours/libxcrypt per cost.
# BENCH_SCALE (default 1) multiplies the repetitions.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
core="$here/../src/core"
build="$here/build"
scale="${BENCH_SCALE:-1}"
CC="${CC:-gcc}"
core_srcs=(blowfish.c blowfish_tables.c bcrypt.c bcrypt_base64.c secure.c)

# The flags PostgreSQL's PGXS would use, or Debian's if pg_config is absent.
if command -v pg_config >/dev/null; then
	read -r -a pg_cflags <<<"$(pg_config --cflags)"
else
	pg_cflags=(-Wall -g -O2 -fstack-protector-strong -Wformat
		-Werror=format-security -fno-omit-frame-pointer)
fi

variants=(
	"debian:"
	"O3:-O3"
	"omit-fp:-fomit-frame-pointer"
	"unroll:-funroll-loops"
	"O3+omit-fp:-O3 -fomit-frame-pointer"
)

mkdir -p "$build"
echo "# CC=$CC; base flags: ${pg_cflags[*]}"
echo "# cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
for v in "${variants[@]}"; do
	name="${v%%:*}"
	read -r -a extra <<<"${v#*:}"
	dir="$build/$name"
	mkdir -p "$dir"
	objs=()
	for s in "${core_srcs[@]}"; do
		"$CC" "${pg_cflags[@]}" ${extra[@]+"${extra[@]}"} -Werror \
			-c "$core/$s" -o "$dir/${s%.c}.o"
		objs+=("$dir/${s%.c}.o")
	done
	"$CC" "${pg_cflags[@]}" -Wno-missing-prototypes -I"$core" \
		"$here/core_bench.c" "${objs[@]}" -lcrypt -o "$dir/core_bench"
	# The first variant prints the table's header; the others only rows.
	if [ "$v" = "${variants[0]}" ]; then
		"$dir/core_bench" "$name" "$scale"
	else
		"$dir/core_bench" "$name" "$scale" | tail -n +2
	fi
done
