#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tools/vm/guest-run.sh: runs, inside the check-vm guest, the tests listed
# in vm-tests (one "TIMEOUT SCRIPT [ARGS]" per line, paths relative to the
# tree) and counts their PASS:/FAIL:/SKIP: lines the way tests/run.sh does.
# First loads every BPF object once with $O/nascar-insns (tools/vm/insns.c)
# to record the verifier's instruction counts on this kernel.
set -u
cd "$(dirname "$0")/../.." || exit 2
export O=${O:-build}
list=${1:-vm-tests}
pass=0
fail=0
skip=0

run() { # run NAME TIMEOUT CMD...
	local name=$1 to=$2 out rc p f s t0 t1
	shift 2
	out=$(mktemp -t nascar-vm-test.XXXXXX)
	t0=$(date +%s)
	timeout -k 5 "$to" "$@" >"$out" 2>&1
	rc=$?
	t1=$(date +%s)
	cat "$out"
	p=$(grep -c '^PASS: ' "$out")
	f=$(grep -c '^FAIL: ' "$out")
	s=$(grep -c '^SKIP: ' "$out")
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "FAIL: $name (timed out after ${to} s)"
		f=$((f + 1))
	elif [ "$rc" -eq 77 ] && [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$s" -eq 0 ]; then
		echo "SKIP: $name (exit 77)"
		s=1
	elif [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ "$f" -eq 0 ]; then
		echo "FAIL: $name (exit status $rc)"
		f=1
	fi
	echo "NASCAR-VM-TIME: $name $((t1 - t0)) s ($p passed, $f failed, $s skipped)"
	pass=$((pass + p))
	fail=$((fail + f))
	skip=$((skip + s))
	rm -f "$out"
}

echo "== vm: $(uname -r) $(uname -m)"
if [ -f /run/nascar-vm-modules ]; then
	read -r nmods badmods </run/nascar-vm-modules
	if [ -n "${badmods:-}" ]; then
		echo "FAIL: vm: kernel modules that did not load: $badmods"
		fail=$((fail + 1))
	else
		echo "PASS: vm: the $nmods kernel modules the tests may use are loaded"
		pass=$((pass + 1))
	fi
fi
if [ -x "$O/nascar-insns" ]; then
	echo "== verifier instruction counts"
	run verifier-insns 900 "$O/nascar-insns" "$O"/*.bpf.o
fi
while read -r to script args; do
	case "$to" in '' | '#'*) continue ;; esac
	echo "== $script"
	# shellcheck disable=SC2086  # args are words
	run "$(basename "$script")" "$to" bash "$script" $args
done <"$list"

echo
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
