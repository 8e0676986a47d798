#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/compiler/test_cli.sh: nascarc commands, outputs and exit statuses
# (0 ok, 1 policy errors or bad .nfc, 2 usage or I/O error).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-build}
case "$O" in /*) ;; *) O="$top/$O" ;; esac
N=${NASCARC:-$O/nascarc}
ok="$top/tests/compiler/ok"
tmp=$(mktemp -d -t nascar-cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0

pass() { echo "PASS: $1"; }
fail() {
	echo "FAIL: $1"
	[ -f "$tmp/err" ] && sed 's/^/    /' "$tmp/err"
	fails=$((fails + 1))
}

# status NAME WANT CMD...: exit status of CMD must be WANT
status() {
	name=$1 want=$2
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -eq "$want" ]; then pass "$name"; else fail "$name (exit $rc, want $want)"; fi
}

# output NAME WANT CMD...: stdout of CMD must be exactly WANT, exit 0
output() {
	name=$1 want=$2
	shift 2
	got=$("$@" 2>"$tmp/err")
	rc=$?
	if [ "$rc" -eq 0 ] && [ "$got" = "$want" ]; then
		pass "$name"
	else
		fail "$name (exit $rc, got '$got', want '$want')"
	fi
}

cp "$ok/contract_example.nflow" "$tmp/v.nflow"
cp "$ok/default_forward.nflow" "$tmp/d.nflow"
cp "$top/tests/compiler/err/warn_unused_class.nflow" "$tmp/warn.nflow"
cp "$top/tests/compiler/err/unknown_class_suggest.nflow" "$tmp/bad.nflow"

# ---- usage
status "usage: no arguments" 2 "$N"
status "usage: unknown command" 2 "$N" frobnicate
status "usage: unknown option" 2 "$N" check --frob "$tmp/v.nflow"
status "usage: check without file" 2 "$N" check
status "usage: check two files" 2 "$N" check "$tmp/v.nflow" "$tmp/v.nflow"
status "usage: bad --max-errors" 2 "$N" check --max-errors x "$tmp/v.nflow"
status "usage: -o needs an argument" 2 "$N" compile "$tmp/v.nflow" -o
status "help" 0 "$N" --help
grep -q '^Usage: nascarc' "$tmp/out" && pass "help: text" || fail "help: text"
status "version" 0 "$N" --version
for c in check compile dump classify; do
	status "help: $c" 0 "$N" "$c" --help
	grep -q "^Usage: nascarc $c" "$tmp/out" && pass "help: $c text" || fail "help: $c text"
done

# ---- check
status "check: valid policy" 0 "$N" check "$tmp/v.nflow"
[ -s "$tmp/err" ] && fail "check: valid policy is silent" || pass "check: valid policy is silent"
[ -e "$tmp/v.nfc" ] && fail "check: writes nothing" || pass "check: writes nothing"
status "check: errors" 1 "$N" check "$tmp/bad.nflow"
grep -q "bad.nflow:6:29: error: unknown class 'adsa'; did you mean 'adas'?" "$tmp/err" &&
	pass "check: error format" || fail "check: error format"
status "check: missing file" 2 "$N" check "$tmp/nope.nflow"
grep -q "nope.nflow" "$tmp/err" && pass "check: missing file named" || fail "check: missing file named"
status "check: directory" 2 "$N" check "$tmp"
status "check: warnings only" 0 "$N" check "$tmp/warn.nflow"
grep -q "warning: class 'spare' is not used" "$tmp/err" && pass "check: warning printed" ||
	fail "check: warning printed"
status "check: --werror" 1 "$N" check --werror "$tmp/warn.nflow"
grep -q "error: class 'spare' is not used" "$tmp/err" && pass "check: --werror promotes" ||
	fail "check: --werror promotes"
status "check: options after operands" 1 "$N" check "$tmp/warn.nflow" --werror
status "check: empty file" 0 "$N" check /dev/null
status "check: standard input" 1 sh -c "'$N' check - <'$tmp/bad.nflow'"

# --max-errors
"$N" check --max-errors 3 "$top/tests/compiler/err/error_limit.nflow" 2>"$tmp/err"
n=$(grep -c ': error: ' "$tmp/err")
[ "$n" -eq 3 ] && grep -q '22 more errors not shown' "$tmp/err" && pass "check: --max-errors 3" ||
	fail "check: --max-errors 3 ($n errors)"
"$N" check --max-errors 0 "$top/tests/compiler/err/error_limit.nflow" 2>"$tmp/err"
n=$(grep -c ': error: ' "$tmp/err")
[ "$n" -eq 25 ] && pass "check: --max-errors 0 shows all" || fail "check: --max-errors 0 ($n)"
"$N" check "$top/tests/compiler/err/error_limit.nflow" 2>"$tmp/err"
n=$(grep -c ': error: ' "$tmp/err")
[ "$n" -eq 20 ] && pass "check: 20 errors by default" || fail "check: 20 errors by default ($n)"

# ---- compile
status "compile: beside the source" 0 "$N" compile "$tmp/v.nflow"
[ -s "$tmp/v.nfc" ] && pass "compile: wrote v.nfc" || fail "compile: wrote v.nfc"
[ "$(head -c 4 "$tmp/v.nfc")" = "NFC1" ] && pass "compile: magic" || fail "compile: magic"
cp "$tmp/v.nflow" "$tmp/noext"
status "compile: other suffix" 0 "$N" compile "$tmp/noext"
[ -s "$tmp/noext.nfc" ] && pass "compile: appends .nfc" || fail "compile: appends .nfc"
status "compile: -o" 0 "$N" compile "$tmp/v.nflow" -o "$tmp/other.nfc"
cmp -s "$tmp/v.nfc" "$tmp/other.nfc" && pass "compile: deterministic" || fail "compile: deterministic"
"$N" compile "$tmp/v.nflow" -o - >"$tmp/stdout.nfc" 2>"$tmp/err"
cmp -s "$tmp/v.nfc" "$tmp/stdout.nfc" && pass "compile: -o -" || fail "compile: -o -"
status "compile: unwritable output" 2 "$N" compile "$tmp/v.nflow" -o "$tmp/no/such/dir/x.nfc"
status "compile: errors" 1 "$N" compile "$tmp/bad.nflow"
[ -e "$tmp/bad.nfc" ] && fail "compile: no output on errors" || pass "compile: no output on errors"
status "compile: warnings" 0 "$N" compile "$tmp/warn.nflow"
[ -s "$tmp/warn.nfc" ] && pass "compile: output despite warnings" ||
	fail "compile: output despite warnings"
rm -f "$tmp/warn.nfc"
status "compile: --werror" 1 "$N" compile --werror "$tmp/warn.nflow"
[ -e "$tmp/warn.nfc" ] && fail "compile: --werror writes nothing" ||
	pass "compile: --werror writes nothing"
status "compile: missing file" 2 "$N" compile "$tmp/nope.nflow"
if [ ! -e /etc/nascar/policy.nflow ]; then
	status "compile: default source missing" 2 "$N" compile
	grep -q /etc/nascar/policy.nflow "$tmp/err" && pass "compile: default source named" ||
		fail "compile: default source named"
else
	echo "SKIP: compile: default source missing (/etc/nascar/policy.nflow exists)"
fi

# ---- dump
status "dump: text" 0 "$N" dump "$tmp/v.nfc"
grep -q '^flow 0 can-gateway' "$tmp/out" && pass "dump: text content" || fail "dump: text content"
status "dump: json" 0 "$N" dump --json "$tmp/v.nfc"
if command -v python3 >/dev/null 2>&1; then
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/out" 2>"$tmp/err" &&
		pass "dump: json parses" || fail "dump: json parses"
else
	echo "SKIP: dump: json parses (no python3)"
fi
status "dump: missing file" 2 "$N" dump "$tmp/nope.nfc"
printf 'this is not a policy\n' >"$tmp/garbage.nfc"
status "dump: garbage" 1 "$N" dump "$tmp/garbage.nfc"
grep -q "^nascarc: $tmp/garbage.nfc: " "$tmp/err" && pass "dump: error format" || fail "dump: error format"
cp "$tmp/v.nfc" "$tmp/corrupt.nfc"
printf 'X' | dd of="$tmp/corrupt.nfc" bs=1 seek=100 conv=notrunc 2>/dev/null
status "dump: bad checksum" 1 "$N" dump "$tmp/corrupt.nfc"
head -c 50 "$tmp/v.nfc" >"$tmp/short.nfc"
status "dump: truncated" 1 "$N" dump "$tmp/short.nfc"
status "dump: source is not .nfc" 1 "$N" dump "$tmp/v.nflow"

# ---- classify
for f in v.nflow v.nfc; do
	output "classify $f: flow with class" \
		"flow=can-gateway class=control action=forward priority=7 dscp=46" \
		"$N" classify "$tmp/$f" --in tap0 udp 172.16.0.42:1234 10.0.0.10:29536
	output "classify $f: drop flow" "flow=telnet-block class=- action=drop priority=- dscp=-" \
		"$N" classify "$tmp/$f" --in tap0 tcp 172.16.0.42:1000 10.0.0.99:23
	output "classify $f: port range" \
		"flow=adas-camera class=adas action=forward priority=5 dscp=34" \
		"$N" classify "$tmp/$f" --in tap0 udp 172.16.0.42:5005 10.0.0.77:9
	output "classify $f: in eth0" "flow=reply-path class=diag action=forward priority=3 dscp=-" \
		"$N" classify "$tmp/$f" --in eth0 icmp 10.0.0.10 172.16.0.42
	output "classify $f: default stack" "flow=- class=- action=stack priority=- dscp=-" \
		"$N" classify "$tmp/$f" --in eth0 udp 10.9.9.9:1 10.9.9.8:2
	output "classify $f: undeclared interface" "flow=- class=- action=stack priority=- dscp=-" \
		"$N" classify "$tmp/$f" --in wlan0 udp 172.16.0.42:1234 10.0.0.10:29536
	output "classify $f: spoofed source" "flow=- class=- action=drop priority=- dscp=-" \
		"$N" classify "$tmp/$f" --in tap0 udp 172.16.0.99:1234 10.0.0.10:29536
done
output "classify: quoted flow name" \
	'flow="ssh from the VM" class=interactive action=forward priority=6 dscp=18' \
	"$N" classify "$tmp/d.nflow" --in vm-tap tcp 192.168.7.2:5555 1.1.1.1:22
output "classify: default forward" "flow=- class=best-effort action=forward priority=0 dscp=-" \
	"$N" classify "$tmp/d.nflow" --in vm-tap udp 192.168.7.2:5 1.1.1.1:22
output "classify: protocol number" "flow=class class=- action=drop priority=- dscp=-" \
	"$N" classify "$tmp/d.nflow" --in vm-tap 47 192.168.7.2 1.1.1.1
output "classify: ipv6" "flow=doc-net class=c action=forward priority=4 dscp=-" \
	"$N" classify "$ok/ipv6_forms.nflow" --in dead tcp '[2001:db8::5]:999' '[2001:db8::1]:443'
status "classify: needs --in" 2 "$N" classify "$tmp/v.nflow" udp 1.2.3.4 1.2.3.5
status "classify: bad protocol" 2 "$N" classify "$tmp/v.nflow" --in tap0 sctpx 1.2.3.4 1.2.3.5
status "classify: bad address" 2 "$N" classify "$tmp/v.nflow" --in tap0 udp 1.2.3 1.2.3.5
status "classify: mixed families" 2 "$N" classify "$tmp/v.nflow" --in tap0 udp 1.2.3.4 '[::1]:5'
status "classify: too few arguments" 2 "$N" classify "$tmp/v.nflow" --in tap0 udp 1.2.3.4
status "classify: policy errors" 1 "$N" classify "$tmp/bad.nflow" --in tap0 udp 1.2.3.4 1.2.3.5
status "classify: missing file" 2 "$N" classify "$tmp/nope.nflow" --in tap0 udp 1.2.3.4 1.2.3.5
status "classify: garbage .nfc" 1 "$N" classify "$tmp/garbage.nfc" --in tap0 udp 1.2.3.4 1.2.3.5

# ---- the same style in nascar-apply's command line (no root needed: it
# answers these before it touches anything)
A=${NASCAR_APPLY:-$O/nascar-apply}
if [ -x "$A" ]; then
	status "apply: help" 0 "$A" --help
	grep -q '^Usage: nascar-apply' "$tmp/out" && pass "apply: help text" || fail "apply: help text"
	for c in apply status stats detach; do
		grep -q "^  $c" "$tmp/out" && pass "apply: help lists $c" || fail "apply: help lists $c"
	done
	status "apply: version" 0 "$A" --version
	grep -q '^nascar-apply [0-9]' "$tmp/out" && pass "apply: version text" || fail "apply: version text"
	status "apply: -V" 0 "$A" -V
	status "apply: unknown option" 2 "$A" --no-such-option
	[ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "^nascar-apply: unknown option '--no-such-option'" "$tmp/err" &&
		pass "apply: unknown option is one error line" || fail "apply: unknown option is one error line"
	status "apply: option without its argument" 2 "$A" status --wait
	grep -q "^nascar-apply: option '--wait' needs an argument" "$tmp/err" &&
		pass "apply: missing argument named" || fail "apply: missing argument named"
	status "apply: a command takes no file" 2 "$A" status "$tmp/v.nfc"
else
	echo "SKIP: nascar-apply's command line (no $A)"
fi

echo "$fails failed"
[ "$fails" -eq 0 ]
