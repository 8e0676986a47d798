#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/compiler/test_limits.sh: a policy at each limit (4096 flows, 256
# classes, 64 interfaces) compiles; one more is an error naming the limit.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-build}
case "$O" in /*) ;; *) O="$top/$O" ;; esac
N=${NASCARC:-$O/nascarc}
tmp=$(mktemp -d -t nascar-lim.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0

# gen FLOWS CLASSES IFACES > file
gen() {
	awk -v nf="$1" -v nc="$2" -v ni="$3" 'BEGIN {
		for (i = 0; i < ni; i++)
			printf "interface if%d { role %s; }\n", i, i == 0 ? "uplink" : "guest"
		for (i = 0; i < nc; i++)
			printf "class c%d { priority %d; }\n", i, i % 8
		for (i = 0; i < nf; i++)
			printf "flow f%d { to 10.%d.%d.%d; class c%d; }\n", i,
				int(i / 65536), int(i / 256) % 256, i % 256, i % nc
	}'
}

# expect NAME WANT_STATUS PATTERN FILE
expect() {
	"$N" compile "$4" -o "$tmp/out.nfc" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne "$2" ]; then
		echo "FAIL: $1 (exit $rc, want $2)"
		head -5 "$tmp/err" | sed 's/^/    /'
		fails=$((fails + 1))
	elif [ -n "$3" ] && ! grep -q -- "$3" "$tmp/err"; then
		echo "FAIL: $1 (no '$3' in the diagnostics)"
		head -5 "$tmp/err" | sed 's/^/    /'
		fails=$((fails + 1))
	else
		echo "PASS: $1"
	fi
}

gen 4096 256 64 >"$tmp/max.nflow"
expect "limits: 4096 flows, 256 classes, 64 interfaces" 0 "" "$tmp/max.nflow"
gen 4097 1 1 >"$tmp/flows.nflow"
expect "limits: 4097 flows" 1 "error: too many flows: the limit is 4096 flows per policy" \
	"$tmp/flows.nflow"
gen 257 257 1 >"$tmp/classes.nflow"
expect "limits: 257 classes" 1 "error: too many classes: the limit is 256 classes per policy" "$tmp/classes.nflow"
gen 1 1 65 >"$tmp/ifaces.nflow"
expect "limits: 65 interfaces" 1 "error: too many interfaces: the limit is 64 interfaces per policy" "$tmp/ifaces.nflow"
grep -c ': error: ' "$tmp/err" | grep -qx 1 && echo "PASS: limits: reported once" ||
	{ echo "FAIL: limits: reported once"; fails=$((fails + 1)); }
[ "$fails" -eq 0 ]
