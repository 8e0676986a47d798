#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/compiler/test_hostile_input.sh: nascarc on input that is not a
# friendly policy: the source size cap (8 MiB), one --max-errors cap for
# errors and warnings together, control bytes never reaching the terminal,
# a UTF-8 byte order mark, and declarations past a limit.  (Time on long
# inputs: test_scaling.sh.  Exact renderings: tests/compiler/err/.)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-build}
case "$O" in /*) ;; *) O="$top/$O" ;; esac
N=${NASCARC:-$O/nascarc}
tmp=$(mktemp -d -t nascar-hostile.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
max=8388608

pass() { echo "PASS: $1"; }
fail() {
	echo "FAIL: $1"
	[ -f "$tmp/err" ] && head -c 2000 "$tmp/err" | sed 's/^/    /'
	fails=$((fails + 1))
}

# run WANT_STATUS ARGS...: nascarc ARGS, stderr in $tmp/err; 0 when the status is WANT
run() {
	want=$1
	shift
	"$N" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ "$rc" -eq "$want" ]
}

has() { grep -q -- "$1" "$tmp/err"; }

policy='interface eth0 { role uplink; }
interface tap0 { role guest; }
class c { priority 1; }
flow f { to 10.0.0.1; class c; }
'

# pad SIZE: the policy above, then one comment line, SIZE bytes in all
pad() {
	printf '%s#' "$policy"
	head -c $(($1 - ${#policy} - 2)) /dev/zero | tr '\0' 'x'
	printf '\n'
}

# ---- the size cap
pad $max >"$tmp/at.nflow"
if run 0 check "$tmp/at.nflow" && [ ! -s "$tmp/err" ]; then
	pass "size: a source of exactly 8 MiB is read"
else
	fail "size: a source of exactly 8 MiB is read (exit $rc)"
fi
pad $((max + 1)) >"$tmp/over.nflow"
if run 1 check "$tmp/over.nflow" &&
	has "^$tmp/over.nflow: error: the file is too large (8388609 bytes): the limit is 8388608 bytes (8 MiB)$" &&
	has "^$tmp/over.nflow: note: .*check that this is the right file"; then
	pass "size: one byte over is an error naming the file, the limit and what to do"
else
	fail "size: one byte over is an error naming the file, the limit and what to do (exit $rc)"
fi
{ printf '\357\273\277'; cat "$tmp/at.nflow"; } >"$tmp/bom-at.nflow"
if run 0 check "$tmp/bom-at.nflow" && [ ! -s "$tmp/err" ]; then
	pass "size: a byte order mark does not count"
else
	fail "size: a byte order mark does not count (exit $rc)"
fi
pad $((max + 100000)) | "$N" check - >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 1 ] && has "^-: error: the input is too large (over 8388608 bytes): the limit is 8 MiB$"; then
	pass "size: standard input is cut off at the limit"
else
	fail "size: standard input is cut off at the limit (exit $rc)"
fi
truncate -s 50M "$tmp/big.nflow"
if run 1 compile "$tmp/big.nflow" -o "$tmp/big.nfc" &&
	has "error: the file is too large (52428800 bytes)" && [ ! -e "$tmp/big.nfc" ]; then
	pass "size: a 50 MB file is refused from its size, nothing written"
else
	fail "size: a 50 MB file is refused from its size, nothing written (exit $rc)"
fi

# ---- one cap for errors and warnings
{
	echo "class c { priority 1; }"
	echo "class unused { priority 2; }"
	echo "flow all { class c; }"
	i=1
	while [ $i -le 6 ]; do
		echo "flow w$i { proto udp; class c; }"
		echo "flow e$i { class nope$i; }"
		i=$((i + 1))
	done
} >"$tmp/mixed.nflow"
# 1 unused class + 6 unreachable flows = 7 warnings, 6 errors; by position the
# first 4 are 3 warnings and 1 error
shown() { grep -c ': \(error\|warning\): ' "$tmp/err"; }
if run 1 check --max-errors 4 "$tmp/mixed.nflow" && [ "$(shown)" -eq 4 ] &&
	has "^$tmp/mixed.nflow: note: 5 more errors and 4 more warnings not shown (--max-errors 4)$"; then
	pass "cap: --max-errors 4 prints 4 errors and warnings together, then counts the rest"
else
	fail "cap: --max-errors 4 prints 4 errors and warnings together, then counts the rest ($(shown) shown)"
fi
if run 1 check --max-errors 0 "$tmp/mixed.nflow" && [ "$(shown)" -eq 13 ] && ! has "not shown"; then
	pass "cap: --max-errors 0 prints all 13"
else
	fail "cap: --max-errors 0 prints all 13 ($(shown) shown)"
fi
awk 'BEGIN { print "class c { priority 1; }"; for (i = 0; i < 5000; i++) printf "flow f%d { class c; }\n", i }' \
	>"$tmp/warn5k.nflow"
if run 1 check "$tmp/warn5k.nflow" && [ "$(shown)" -eq 20 ] &&
	has "note: 1 more error and 4075 more warnings not shown (--max-errors 20)" &&
	[ "$(wc -c <"$tmp/err")" -lt 8000 ]; then
	pass "cap: 5000 flows print 20 diagnostics by default, not 4095 warnings"
else
	fail "cap: 5000 flows print 20 diagnostics by default, not 4095 warnings ($(shown) shown)"
fi
if run 1 check --werror --max-errors 2 "$tmp/warn5k.nflow" && [ "$(shown)" -eq 2 ] &&
	has "note: 4094 more errors not shown (--max-errors 2)"; then
	pass "cap: with --werror the cap counts the promoted warnings"
else
	fail "cap: with --werror the cap counts the promoted warnings ($(shown) shown)"
fi
# 99999 errors on one 1.2 MB line: output stays small (20 records, a window of the line)
awk 'BEGIN { printf "class c {"; for (i = 0; i < 100000; i++) printf " priority 1;"; print " }" }' \
	>"$tmp/oneline.nflow"
if run 1 check "$tmp/oneline.nflow" && [ "$(wc -c <"$tmp/err")" -lt 20000 ] &&
	has "note: 99980 more errors not shown"; then
	pass "cap: a 1.2 MB line with 99999 errors prints a few KB"
else
	fail "cap: a 1.2 MB line with 99999 errors prints a few KB ($(wc -c <"$tmp/err") bytes)"
fi

# ---- control bytes are escaped, never echoed
LC_ALL=C
export LC_ALL
{
	printf 'class c { priority 1; }\nflow "'
	# every byte but NUL, newline and the double quote, in a quoted name (echoed with its error)
	awk 'BEGIN { for (i = 1; i < 256; i++) if (i != 10 && i != 34) printf "%c", i }'
	printf '" { class c; } # and in a comment: \033]0;title\007 \033[2J \302\233 \342\200\256 \377\n'
	printf 'flow x { \033[31m to 10.0.0.1; class cc; }\n'
} >"$tmp/ctl.nflow"
run 1 check --max-errors 0 "$tmp/ctl.nflow"
n=$(tr -d '\t\n' <"$tmp/err" | grep -c '[[:cntrl:]]')
if [ "$n" -eq 0 ] && has 'string contains the control byte 0x01' && has '\\x1b\[31m'; then
	pass "escape: no control byte reaches the terminal"
else
	fail "escape: no control byte reaches the terminal ($n lines with one)"
fi
if command -v iconv >/dev/null 2>&1; then
	if iconv -f UTF-8 -t UTF-8 <"$tmp/err" >/dev/null 2>&1 &&
		! od -An -v -tx1 "$tmp/err" | tr -s ' \n' '  ' | grep -q 'c2 \(8[0-9a-f]\|9[0-9a-f]\)\|e2 80 ae'; then
		pass "escape: what is echoed is valid UTF-8 without C1 or bidi controls"
	else
		fail "escape: what is echoed is valid UTF-8 without C1 or bidi controls"
	fi
else
	echo "SKIP: escape: UTF-8 check (no iconv)"
fi
# the caret stays under the token after an escaped byte: \x1b takes 4 columns
if grep -A2 "^$tmp/ctl.nflow:3:[0-9]*: error: unknown class 'cc'" "$tmp/err" >"$tmp/cc" &&
	[ "$(sed -n 2p "$tmp/cc")" = '    flow x { \x1b[31m to 10.0.0.1; class cc; }' ] &&
	[ "$(sed -n 3p "$tmp/cc")" = '                                         ^~' ]; then
	pass "escape: caret under the token after an escaped byte"
else
	fail "escape: caret under the token after an escaped byte"
	sed 's/^/    /' "$tmp/cc"
fi
unset LC_ALL

# ---- byte order mark
{ printf '\357\273\277'; printf '%s' "$policy"; } >"$tmp/bom.nflow"
printf '%s' "$policy" >"$tmp/plain.nflow"
# the dumps differ only in line 1 (the source hash covers every byte read)
if run 0 compile "$tmp/bom.nflow" -o "$tmp/bom.nfc" && [ ! -s "$tmp/err" ] &&
	"$N" compile "$tmp/plain.nflow" -o "$tmp/plain.nfc" &&
	"$N" dump "$tmp/bom.nfc" >"$tmp/d1" && "$N" dump "$tmp/plain.nfc" >"$tmp/d2" &&
	[ -s "$tmp/d1" ] && sed 1d "$tmp/d1" >"$tmp/d1b" && sed 1d "$tmp/d2" >"$tmp/d2b" &&
	cmp -s "$tmp/d1b" "$tmp/d2b"; then
	pass "bom: a byte order mark is accepted, same tables as without"
else
	fail "bom: a byte order mark is accepted, same tables as without (exit $rc)"
fi
printf '\357\273\277\357\273\277%s' "$policy" >"$tmp/bom2.nflow"
if run 1 check "$tmp/bom2.nflow" && has ":1:1: error: unexpected byte 0xef"; then
	pass "bom: only one, at the start"
else
	fail "bom: only one, at the start (exit $rc)"
fi

# ---- past a declaration limit the policy fails, whatever the later declarations are
awk 'BEGIN {
	print "class c { priority 1; }"
	for (i = 0; i < 4096; i++) printf "flow f%d { to 10.%d.%d.%d; class c; }\n", i, int(i / 65536),
		int(i / 256) % 256, i % 256
	print "flow f7 { to 10.99.0.1; class c; }"
	for (i = 0; i < 3; i++) printf "flow extra%d { to 10.99.1.%d; class c; }\n", i, i
}' >"$tmp/over-dup.nflow"
if run 1 compile "$tmp/over-dup.nflow" -o "$tmp/o.nfc" && has "error: duplicate flow 'f7'" &&
	[ ! -e "$tmp/o.nfc" ]; then
	pass "limits: 4096 flows, a duplicate and more: an error, nothing written"
else
	fail "limits: 4096 flows, a duplicate and more: an error, nothing written (exit $rc)"
fi
awk 'BEGIN {
	print "class c { priority 1; }"
	for (i = 0; i < 20000; i++) printf "flow f%d { to 10.%d.%d.%d; class c; }\n", i, int(i / 65536),
		int(i / 256) % 256, i % 256
	print "flow broken { to ; class c; }"
}' >"$tmp/over-syntax.nflow"
if run 1 check "$tmp/over-syntax.nflow" && has "error: too many flows: the limit is 4096 flows per policy" &&
	has ":20002:[0-9]*: error: syntax error"; then
	pass "limits: syntax errors past the limit are still reported"
else
	fail "limits: syntax errors past the limit are still reported (exit $rc)"
fi
[ "$fails" -eq 0 ]
