#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/compiler/test_policies.sh: every policies/*.nflow compiles with no
# diagnostic at all under --werror, and its .nfc dumps.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-build}
case "$O" in /*) ;; *) O="$top/$O" ;; esac
N=${NASCARC:-$O/nascarc}
tmp=$(mktemp -d -t nascar-pol.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
found=0
for f in "$top"/policies/*.nflow; do
	[ -f "$f" ] || continue
	found=1
	name="policy $(basename "$f")"
	if "$N" compile --werror "$f" -o "$tmp/p.nfc" 2>"$tmp/err" && [ ! -s "$tmp/err" ] &&
		"$N" dump "$tmp/p.nfc" >/dev/null 2>>"$tmp/err"; then
		echo "PASS: $name"
	else
		echo "FAIL: $name"
		sed 's/^/    /' "$tmp/err"
		fails=$((fails + 1))
	fi
done
[ "$found" = 1 ] || echo "SKIP: policies (none in policies/)"
[ "$fails" -eq 0 ]
