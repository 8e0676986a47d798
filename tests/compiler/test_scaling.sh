#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/compiler/test_scaling.sh: nascarc's time grows linearly with its input.
#
# For each shape of long input (one long 'allow-src' list, one statement
# repeated in a block, many flows, many duplicate flows, many syntax errors,
# many warnings) it builds inputs of 1k, 10k and 100k entries, times
# `nascarc check` on each (best of SCALING_RUNS, default 3) and requires
# t(100k) / t(10k) < SCALING_BOUND (default 30).  Linear work gives about 10
# (less while process start-up still counts at 10k); quadratic work gives
# about 100, so the bound leaves room for a noisy shared machine and still
# fails a quadratic pass.  The 100k run is cut off (and fails) once it has
# taken SCALING_BOUND times the 10k time, so a quadratic build fails in
# seconds rather than minutes.  This is a ratio, not an absolute time limit.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-build}
case "$O" in /*) ;; *) O="$top/$O" ;; esac
N=${NASCARC:-$O/nascarc}
runs=${SCALING_RUNS:-3}
bound=${SCALING_BOUND:-30}
tmp=$(mktemp -d -t nascar-scale.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0

# gen SHAPE COUNT > file
gen() {
	awk -v k="$1" -v n="$2" 'function a(i) {
		return sprintf("10.%d.%d.%d", int(i / 65536) % 256, int(i / 256) % 256, i % 256)
	}
	BEGIN {
		if (k == "allow-src") {
			printf "interface eth0 { role uplink; }\ninterface tap0 { role guest; allow-src "
			for (i = 0; i < n; i++)
				printf "%s%s", i ? (i % 8 ? ", " : ",\n\t") : "", a(i)
			print "; }"
		} else if (k == "statements") {
			printf "class c {"
			for (i = 0; i < n; i++)
				printf "%spriority 1;", i % 8 ? " " : "\n\t"
			print "\n}"
		} else if (k == "flows") {
			print "class c { priority 1; }"
			for (i = 0; i < n; i++)
				printf "flow f%d { to %s; class c; }\n", i, a(i)
		} else if (k == "duplicate-flows") {
			print "class c { priority 1; }"
			for (i = 0; i < n; i++)
				printf "flow f { to %s; class c; }\n", a(i)
		} else if (k == "syntax-errors") {
			print "class c { priority 1; }"
			for (i = 0; i < n; i++)
				printf "flow f%d { to ; class c; }\n", i
		} else if (k == "warnings") {
			print "class c { priority 1; }"
			for (i = 0; i < n; i++)
				printf "flow f%d { proto udp; class c; }\n", i
		}
	}'
}

now_ms() {
	t=$(date +%s%N)
	echo $((t / 1000000))
}

# best FILE [LIMIT_MS]: best wall time in ms of `nascarc check FILE` over
# $runs runs; prints "timeout" when one run passes LIMIT_MS.
best() {
	b=
	i=0
	while [ "$i" -lt "$runs" ]; do
		t0=$(now_ms)
		if [ -n "${2:-}" ]; then
			timeout "$(($2 / 1000 + 1))" "$N" check "$1" >/dev/null 2>"$tmp/err"
		else
			"$N" check "$1" >/dev/null 2>"$tmp/err"
		fi
		rc=$?
		t=$(($(now_ms) - t0))
		if [ "$rc" -eq 124 ] || { [ -n "${2:-}" ] && [ "$t" -gt "$2" ]; }; then
			echo timeout
			return
		fi
		if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
			echo "status$rc"
			return
		fi
		[ -z "$b" ] || [ "$t" -lt "$b" ] && b=$t
		i=$((i + 1))
	done
	[ "$b" -gt 0 ] || b=1
	echo "$b"
}

for shape in allow-src statements flows duplicate-flows syntax-errors warnings; do
	for n in 1000 10000 100000; do
		gen "$shape" "$n" >"$tmp/$shape-$n.nflow"
	done
	t1=$(best "$tmp/$shape-1000.nflow")
	t10=$(best "$tmp/$shape-10000.nflow")
	case "$t10" in
	status*)
		echo "FAIL: scaling: $shape (nascarc exit ${t10#status} at 10k)"
		sed 's/^/    /' "$tmp/err" | head -5
		fails=$((fails + 1))
		continue
		;;
	esac
	limit=$((t10 * bound))
	[ "$limit" -ge 2000 ] || limit=2000
	t100=$(best "$tmp/$shape-100000.nflow" "$limit")
	size=$(wc -c <"$tmp/$shape-100000.nflow")
	case "$t100" in
	timeout)
		echo "FAIL: scaling: $shape (1k ${t1} ms, 10k ${t10} ms, 100k over ${limit} ms:" \
			"ratio over $bound, $size bytes)"
		fails=$((fails + 1))
		;;
	status*)
		echo "FAIL: scaling: $shape (nascarc exit ${t100#status} at 100k)"
		sed 's/^/    /' "$tmp/err" | head -5
		fails=$((fails + 1))
		;;
	*)
		ratio=$(awk -v a="$t100" -v b="$t10" 'BEGIN { printf "%.1f", a / b }')
		msg="1k ${t1} ms, 10k ${t10} ms, 100k ${t100} ms ($size bytes): ratio $ratio"
		if awk -v a="$t100" -v b="$t10" -v m="$bound" 'BEGIN { exit !(a < m * b) }'; then
			echo "PASS: scaling: $shape ($msg, bound $bound)"
		else
			echo "FAIL: scaling: $shape ($msg, bound $bound)"
			fails=$((fails + 1))
		fi
		;;
	esac
done
[ "$fails" -eq 0 ]
