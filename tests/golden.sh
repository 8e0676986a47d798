#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/golden.sh [--update]: golden tests of nascarc.
#
#   tests/compiler/ok/NAME.nflow   must compile with no diagnostic at all; the
#                                  `nascarc dump` text of the result must equal
#                                  NAME.expected
#   tests/compiler/err/NAME.nflow  `nascarc check NAME.nflow` (run inside err/,
#                                  so paths are stable) must print exactly
#                                  NAME.stderr, carets included, and exit 1 if
#                                  that contains an error, 0 otherwise
#
# --update rewrites the .expected and .stderr files from the current output:
# read the diff before committing it.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-build}
case "$O" in /*) ;; *) O="$top/$O" ;; esac
NASCARC=${NASCARC:-$O/nascarc}
update=0
[ "${1:-}" = "--update" ] && update=1

if [ ! -x "$NASCARC" ]; then
	echo "FAIL: golden (no $NASCARC; run make first)"
	exit 1
fi
tmp=$(mktemp -d -t nascar-golden.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0

for src in "$top"/tests/compiler/ok/*.nflow; do
	[ -f "$src" ] || continue
	name=ok/$(basename "$src" .nflow)
	exp=${src%.nflow}.expected
	if ! "$NASCARC" compile "$src" -o "$tmp/out.nfc" 2>"$tmp/err"; then
		echo "FAIL: $name (compile failed)"
		cat "$tmp/err"
		fails=$((fails + 1))
		continue
	fi
	if [ -s "$tmp/err" ]; then
		echo "FAIL: $name (unexpected diagnostics)"
		cat "$tmp/err"
		fails=$((fails + 1))
		continue
	fi
	if ! "$NASCARC" dump "$tmp/out.nfc" >"$tmp/dump" 2>"$tmp/err"; then
		echo "FAIL: $name (dump failed)"
		cat "$tmp/err"
		fails=$((fails + 1))
		continue
	fi
	if [ "$update" = 1 ]; then
		cp "$tmp/dump" "$exp"
		echo "PASS: $name (updated)"
	elif [ ! -f "$exp" ]; then
		echo "FAIL: $name (no $(basename "$exp"); run tests/golden.sh --update)"
		fails=$((fails + 1))
	elif diff -u "$exp" "$tmp/dump" >"$tmp/diff"; then
		echo "PASS: $name"
	else
		echo "FAIL: $name"
		cat "$tmp/diff"
		fails=$((fails + 1))
	fi
done

cd "$top/tests/compiler/err" || exit 1
for src in *.nflow; do
	[ -f "$src" ] || continue
	base=$(basename "$src" .nflow)
	name=err/$base
	"$NASCARC" check "$src" >"$tmp/out" 2>"$tmp/stderr"
	rc=$?
	if [ "$update" = 1 ]; then
		cp "$tmp/stderr" "$base.stderr"
		echo "PASS: $name (updated, exit $rc)"
		continue
	fi
	if [ ! -f "$base.stderr" ]; then
		echo "FAIL: $name (no $base.stderr; run tests/golden.sh --update)"
		fails=$((fails + 1))
		continue
	fi
	want=0
	grep -q ': error: ' "$base.stderr" && want=1
	if [ "$rc" -ne "$want" ]; then
		echo "FAIL: $name (exit status $rc, expected $want)"
		cat "$tmp/stderr"
		fails=$((fails + 1))
	elif [ -s "$tmp/out" ]; then
		echo "FAIL: $name (check printed on standard output)"
		fails=$((fails + 1))
	elif diff -u "$base.stderr" "$tmp/stderr" >"$tmp/diff"; then
		echo "PASS: $name"
	else
		echo "FAIL: $name"
		cat "$tmp/diff"
		fails=$((fails + 1))
	fi
done
[ "$fails" -eq 0 ]
