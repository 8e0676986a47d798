#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/e2e/test_egress.sh: who owns an interface's root qdisc (nflow
# version 2, `egress auto|keep|replace`).
#
# gw's eth0 gets a root qdisc of the operator's own (a tbf, handle 1:) and
# the policy has a shaped class, so Nascar wants its scheduler there:
#  - egress auto: refused, exit 1, the message names egress replace and
#    keep, nothing changed (the tbf still there, no pins, no state);
#  - egress keep: applied; eth0's qdisc untouched, a warning that shaped
#    classes are policed there; tap0 (default qdisc) gets the scheduler;
#  - egress replace: applied; eth0's root is Nascar's HTB; detach --dry-run
#    says it would remove it and put the tbf back, and changes nothing;
#    detach removes it and puts the operator's tbf back (kind, handle and
#    rate exactly, burst within 1 %: tbf holds it as a time and tc rounds);
#  - egress replace over a classful root (an HTB of the operator's, handle
#    7:, with a class): detach says it is not re-created, where its
#    configuration was saved, and the kernel's default is back.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
RIG_PREFIX=${RIG_PREFIX:-neg$$}
. "$(cd "$(dirname "$0")" && pwd)/apply_lib.sh"
apply_need
apply_trap

if ! rig_up tap --offload on; then
	bad "egress: rig_up"
	exit 1
fi
root_of() { rig_exec gw tc qdisc show dev "$1" root | awk '{ print $2 " " $3; exit }'; }
pol() { # pol NAME EGRESS
	cat >"$RIG_DIR/$1.nflow" <<EOP
interface tap0 { role guest; mode tc; }
interface eth0 { role uplink; mode tc; egress $2; }
class bulk { priority 1; rate 20mbit; }
flow up { from $RIG_VM_IP4; to $RIG_SRV_IP4; class bulk; }
EOP
	"$NC" compile "$RIG_DIR/$1.nflow" -o "$RIG_DIR/$1.nfc" >"$RIG_DIR/$1.cc" 2>&1 ||
		{ cat "$RIG_DIR/$1.cc" >&2; return 1; }
}

rig_exec gw tc qdisc add dev eth0 root handle 1: tbf rate 1gbit burst 64kb limit 1mb ||
	bad "egress: the operator's tbf"
mine=$(root_of eth0)
qdisc_line() { rig_exec gw tc qdisc show dev "$1" root | head -n 1; }
mine_line=$(qdisc_line eth0)

pol auto auto || bad "egress: compile auto"
out=$(na "$RIG_DIR/auto.nfc" 2>&1)
check "egress auto: refused over the operator's qdisc (exit $?)" test $? -eq 1
echo "$out" | grep -q "egress replace" && echo "$out" | grep -q "egress keep" &&
	echo "$out" | grep -q "eth0: its root qdisc is tbf"
check "egress auto: ... the message names the qdisc and both ways out" test $? -eq 0
check "egress auto: ... eth0's qdisc untouched ($(root_of eth0))" test "$(root_of eth0)" = "$mine"
assert_clean "egress auto: ... nothing else changed"

pol keep keep || bad "egress: compile keep"
out=$(na "$RIG_DIR/keep.nfc" 2>&1)
check "egress keep: applied (exit $?)" test $? -eq 0
check "egress keep: ... eth0's qdisc untouched ($(root_of eth0))" test "$(root_of eth0)" = "$mine"
echo "$out" | grep -q "eth0: egress keep: shaped classes are policed"
check "egress keep: ... with a warning that its rates are policed" test $? -eq 0
check "egress keep: ... tap0 gets Nascar's scheduler ($(root_of tap0))" test "$(root_of tap0)" = "htb 4e43:"
na detach >/dev/null 2>&1
check "egress keep: detach ($(root_of eth0) on eth0)" test "$(root_of eth0)" = "$mine"

pol replace replace || bad "egress: compile replace"
out=$(na "$RIG_DIR/replace.nfc" 2>&1)
check "egress replace: applied (exit $?)" test $? -eq 0
check "egress replace: ... eth0's root is Nascar's scheduler ($(root_of eth0))" \
	test "$(root_of eth0)" = "htb 4e43:"
trace=$(nascar_trace)
out=$(na --dry-run detach 2>&1)
check "egress replace: detach --dry-run (exit $?)" test $? -eq 0
if echo "$out" | grep -q "^would remove Nascar's scheduler on eth0 and put back the qdisc it replaced (tbf/1:" &&
	echo "$out" | grep -q "^would remove Nascar's scheduler on tap0$" &&
	echo "$out" | grep -q '^dry run: nothing was changed$'; then
	ok "egress replace: ... says it would remove both schedulers and put the tbf back"
else
	bad "egress replace: ... says it would remove both schedulers and put the tbf back" "$(echo "$out" | tr '\n' '|' | cut -c1-400)"
fi
check "egress replace: ... and changes nothing" test "$(nascar_trace)" = "$trace"
out=$(na detach 2>&1)
check "egress replace: detach (exit $?)" test $? -eq 0
echo "$out" | grep -q "eth0: the qdisc Nascar replaced (tbf/1:, egress replace) is back"
check "egress replace: ... says the replaced tbf is back" test $? -eq 0
# kind, handle and rate exactly; burst and latency as tc reads them back
# (tbf keeps the burst as a time, so tc's rounding moves it a little)
same_tbf() {
	local a b
	a=$(echo "$1" | awk '{ for (i = 1; i <= NF; i++) if ($i == "burst") print $(i + 1) + 0 }')
	b=$(echo "$2" | awk '{ for (i = 1; i <= NF; i++) if ($i == "burst") print $(i + 1) + 0 }')
	[ "$(echo "$1" | awk '{ print $2, $3, $7, $8 }')" = "$(echo "$2" | awk '{ print $2, $3, $7, $8 }')" ] &&
		[ "${a:-0}" -gt 0 ] && [ $((a > b ? a - b : b - a)) -le $((a / 100)) ]
}
check "egress replace: ... and it is, as it was ($mine_line -> $(qdisc_line eth0))" \
	same_tbf "$mine_line" "$(qdisc_line eth0)"
assert_clean "egress replace: detach leaves no trace"

# a classful root of the operator's cannot be made again from what tc prints
if ! rig_exec gw tc qdisc replace dev eth0 root handle 7: htb default 10 r2q 100 ||
	! rig_exec gw tc class add dev eth0 parent 7: classid 7:10 htb rate 100mbit; then
	bad "egress: the operator's htb"
fi
out=$(na "$RIG_DIR/replace.nfc" 2>&1)
check "egress replace over an htb: applied (exit $?)" test $? -eq 0
out=$(na detach 2>&1)
check "egress replace over an htb: detach (exit $?)" test $? -eq 0
echo "$out" | grep -q "eth0: the qdisc Nascar replaced (htb/7:, egress replace) is not re-created" &&
	echo "$out" | grep -q "qdisc-eth0.before"
check "egress replace over an htb: ... says it is not re-created, and where it was saved" test $? -eq 0
check "egress replace over an htb: ... the kernel's default is back ($(root_of eth0))" \
	test "$(root_of eth0)" = "noqueue 0:"
assert_clean "egress replace over an htb: detach leaves no trace"
apply_finish
