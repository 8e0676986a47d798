#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/compiler/test_fuzz.sh: builds the libFuzzer target of the front end
# (clang, ASan+UBSan) and runs it for a bounded time (FUZZ_SECONDS, default
# 30) from the seed corpus in tests/fuzz/corpus.  New inputs go to a scratch
# directory, never into the tree.  SKIP when clang cannot build libFuzzer
# targets here.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-build}
case "$O" in /*) ;; *) O="$top/$O" ;; esac
secs=${FUZZ_SECONDS:-30}
bin="$O/fuzz/fuzz_parse"
tmp=$(mktemp -d -t nascar-fuzz.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if ! command -v "${CLANG:-clang}" >/dev/null 2>&1; then
	echo "SKIP: fuzz_parse (no clang)"
	exit 0
fi
if ! make -s -C "$top" O="$O" "$bin" >"$tmp/build.log" 2>&1; then
	if grep -q -i 'fuzzer' "$tmp/build.log" && grep -q -i 'cannot find\|not found\|unsupported' "$tmp/build.log"; then
		echo "SKIP: fuzz_parse (clang has no libFuzzer here)"
		exit 0
	fi
	echo "FAIL: fuzz_parse build"
	sed 's/^/    /' "$tmp/build.log"
	exit 1
fi
echo "PASS: fuzz_parse build"

# The seeds alone must run clean (a regression check that does not depend on luck).
mkdir -p "$tmp/corpus"
cp "$top"/tests/fuzz/corpus/* "$tmp/corpus/"
if "$bin" -runs=0 "$top/tests/fuzz/corpus" >"$tmp/seeds.log" 2>&1; then
	echo "PASS: fuzz_parse seed corpus"
else
	echo "FAIL: fuzz_parse seed corpus"
	tail -40 "$tmp/seeds.log" | sed 's/^/    /'
	exit 1
fi

if "$bin" -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix="$tmp/" -print_final_stats=1 "$tmp/corpus" >"$tmp/fuzz.log" 2>&1; then
	echo "PASS: fuzz_parse ${secs}s ($(grep -o 'stat::number_of_executed_units: [0-9]*' "$tmp/fuzz.log" | awk '{print $2}') runs)"
else
	echo "FAIL: fuzz_parse ${secs}s"
	grep -A30 'ERROR\|runtime error\|==ERROR' "$tmp/fuzz.log" | head -60 | sed 's/^/    /'
	for a in "$tmp"/crash-* "$tmp"/leak-* "$tmp"/timeout-* "$tmp"/oom-*; do
		[ -f "$a" ] || continue
		echo "    reproducer ($(basename "$a")):"
		od -c "$a" | head -20 | sed 's/^/    /'
	done
	exit 1
fi
