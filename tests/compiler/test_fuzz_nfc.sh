#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/compiler/test_fuzz_nfc.sh: fuzzes the .nfc reader (nfc_parse, dump,
# classify) for a bounded time (FUZZ_SECONDS, default 20), seeded with the
# compiled policies/*.nflow.  Any crash, leak or sanitizer report fails.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-build}
case "$O" in /*) ;; *) O="$top/$O" ;; esac
secs=${FUZZ_SECONDS:-20}
bin="$O/fuzz/fuzz_nfc"
tmp=$(mktemp -d -t nascar-fuzz-nfc.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if ! command -v "${CLANG:-clang}" >/dev/null 2>&1; then
	echo "SKIP: fuzz_nfc (no clang)"
	exit 0
fi
if ! make -s -C "$top" O="$O" "$bin" >"$tmp/build.log" 2>&1; then
	echo "FAIL: fuzz_nfc build"
	sed 's/^/    /' "$tmp/build.log"
	exit 1
fi
mkdir -p "$tmp/corpus"
for p in "$top"/policies/*.nflow; do
	"$O/nascarc" compile "$p" -o "$tmp/corpus/$(basename "$p" .nflow).nfc" || {
		echo "FAIL: fuzz_nfc seeds ($p does not compile)"
		exit 1
	}
done
if "$bin" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix="$tmp/" -print_final_stats=1 "$tmp/corpus" >"$tmp/fuzz.log" 2>&1; then
	echo "PASS: fuzz_nfc ${secs}s ($(grep -o 'stat::number_of_executed_units: [0-9]*' "$tmp/fuzz.log" | awk '{print $2}') runs)"
else
	echo "FAIL: fuzz_nfc ${secs}s"
	grep -A30 'ERROR\|runtime error' "$tmp/fuzz.log" | head -60 | sed 's/^/    /'
	exit 1
fi
