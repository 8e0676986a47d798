#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/run.sh TIER...: runs test tiers and prints one closing count.
#
# Convention for every test program and script: print one line per case,
# "PASS: name", "FAIL: name" or "SKIP: name" (automake style).  A program
# that exits non-zero without printing a FAIL line counts as one failure;
# exit status 77 with no other result counts as one skip.
# Tiers: compiler unit bpf e2e (all = every tier); pkg (make check-pkg: the
# Debian package, tests/pkg/) only when asked for.
set -u
O=${O:-build}
export O
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
log=$(mktemp -t nascar-check.XXXXXX)
trap 'rm -f "$log"' EXIT

pass=0
fail=0
skip=0

# run NAME CMD...: run one test program, tee its output, count its results.
run() {
	name=$1
	shift
	out=$(mktemp -t nascar-test.XXXXXX)
	"$@" >"$out" 2>&1
	rc=$?
	cat "$out"
	p=$(grep -c '^PASS: ' "$out")
	f=$(grep -c '^FAIL: ' "$out")
	s=$(grep -c '^SKIP: ' "$out")
	if [ "$rc" -eq 77 ] && [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$s" -eq 0 ]; then
		echo "SKIP: $name (exit 77)"
		s=1
	elif [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ "$f" -eq 0 ]; then
		echo "FAIL: $name (exit status $rc)"
		f=1
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	skip=$((skip + s))
	rm -f "$out"
}

tier_compiler() {
	echo "== compiler"
	[ -x tests/golden.sh ] || [ -f tests/golden.sh ] && run golden sh tests/golden.sh
	for t in tests/compiler/test_*.sh; do
		[ -f "$t" ] || continue
		run "$(basename "$t")" sh "$t"
	done
}

tier_unit() {
	echo "== unit"
	for t in "$O"/tests/test_*; do
		[ -x "$t" ] || continue
		case "$t" in *.o | *.d) continue ;; esac
		run "$(basename "$t")" "$t"
	done
}

tier_bpf() {
	echo "== bpf"
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP: bpf tier (needs root)"
		skip=$((skip + 1))
		return
	fi
	for t in tests/bpf/test_*.sh; do
		[ -f "$t" ] || continue
		run "$(basename "$t")" sh "$t"
	done
}

tier_e2e() {
	echo "== e2e"
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP: e2e tier (needs root)"
		skip=$((skip + 1))
		return
	fi
	for t in tests/e2e/test_*.sh; do
		[ -f "$t" ] || continue
		run "$(basename "$t")" timeout 300 sh "$t"
	done
}

tier_pkg() {
	echo "== pkg"
	for t in tests/pkg/test_*.sh; do
		[ -f "$t" ] || continue
		run "$(basename "$t")" timeout 600 sh "$t"
	done
}

[ $# -eq 0 ] && set -- all
for tier in "$@"; do
	case "$tier" in
	all) tier_compiler; tier_unit; tier_bpf; tier_e2e ;;
	compiler | unit | bpf | e2e | pkg) "tier_$tier" ;;
	*) echo "run.sh: unknown tier '$tier'" >&2; exit 2 ;;
	esac
done

echo
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
