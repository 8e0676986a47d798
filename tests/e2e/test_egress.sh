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
#    detach removes it and puts the operator's tbf back, every setting as
#    tc -d prints it;
#  - egress replace over a classful tree (an HTB of the operator's, handle
#    7:, inner and leaf classes, leaf qdiscs of their own): detach makes
#    it again, qdiscs and classes exactly as tc -d prints them;
#  - the same with what apply kept damaged: detach says it cannot put it
#    back and why, and leaves the kernel's default, not half a tree;
#  - the same with a filter on it: apply warns that detach will not make
#    it again, detach says so and why, where its configuration was saved,
#    and the kernel's default is back.
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
# tree_of DEV: its qdiscs and classes with every setting tc prints (-d),
# clsact/ingress aside
tree_of() {
	rig_exec gw tc -d qdisc show dev "$1" | grep -v -e '^qdisc clsact' -e '^qdisc ingress'
	rig_exec gw tc -d class show dev "$1"
}
mine_line=$(qdisc_line eth0)
mine_tree=$(tree_of eth0)

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
check "egress replace: ... and it is, exactly as it was ($mine_line -> $(qdisc_line eth0))" \
	test "$(tree_of eth0)" = "$mine_tree"
assert_clean "egress replace: detach leaves no trace"

# a classful tree of the operator's: an HTB with options, an inner class,
# two leaf classes with their own qdiscs
if ! rig_exec gw sh -e -c '
	tc qdisc replace dev eth0 root handle 7: htb default 20 r2q 100
	tc class add dev eth0 parent 7: classid 7:1 htb rate 100mbit ceil 100mbit
	tc class add dev eth0 parent 7:1 classid 7:10 htb rate 30mbit ceil 80mbit burst 20k cburst 30k prio 2 quantum 3000
	tc class add dev eth0 parent 7:1 classid 7:20 htb rate 12345kbit ceil 99mbit prio 5
	tc qdisc add dev eth0 parent 7:10 handle 70: pfifo limit 77
	tc qdisc add dev eth0 parent 7:20 handle 71: tbf rate 5mbit burst 10kb latency 30ms'; then
	bad "egress: the operator's htb"
fi
htb_tree=$(tree_of eth0)
out=$(na "$RIG_DIR/replace.nfc" 2>&1)
check "egress replace over an htb tree: applied (exit $?)" test $? -eq 0
check "egress replace over an htb tree: ... eth0's root is Nascar's scheduler ($(root_of eth0))" \
	test "$(root_of eth0)" = "htb 4e43:"
out=$(na detach 2>&1)
check "egress replace over an htb tree: detach (exit $?)" test $? -eq 0
echo "$out" | grep -q "eth0: the qdisc Nascar replaced (htb/7:, egress replace) is back"
check "egress replace over an htb tree: ... says it is back" test $? -eq 0
check "egress replace over an htb tree: ... qdiscs and classes exactly as they were" \
	test "$(tree_of eth0)" = "$htb_tree"
assert_clean "egress replace over an htb tree: detach leaves no trace"

# what apply kept is damaged: detach says so and leaves the kernel's
# default, not half a tree
out=$(na "$RIG_DIR/replace.nfc" 2>&1)
check "egress replace, tree damaged: applied (exit $?)" test $? -eq 0
truncate -s 200 "$STATE/qdisc-eth0.tree"
out=$(na detach 2>&1)
check "egress replace, tree damaged: detach (exit $?)" test $? -eq 0
echo "$out" | grep -q "eth0: cannot put back the qdisc Nascar replaced (htb/7:, egress replace): .*cut short or damaged"
check "egress replace, tree damaged: ... says it cannot put it back, and why" test $? -eq 0
check "egress replace, tree damaged: ... the kernel's default is back ($(root_of eth0))" \
	test "$(root_of eth0)" = "noqueue 0:"
assert_clean "egress replace, tree damaged: detach leaves no trace"
# the operator's tree again, for the filter case
rig_exec gw sh -e -c '
	tc qdisc replace dev eth0 root handle 7: htb default 20 r2q 100
	tc class add dev eth0 parent 7: classid 7:10 htb rate 30mbit' || bad "egress: the operator's htb again"

# with a filter it is not made again: apply says so up front, detach too
rig_exec gw tc filter add dev eth0 parent 7: prio 1 bpf bytecode '1,6 0 0 0,' classid 7:10 ||
	bad "egress: the operator's filter"
out=$(na "$RIG_DIR/replace.nfc" 2>&1)
check "egress replace over a filtered htb: applied (exit $?)" test $? -eq 0
echo "$out" | grep -q "eth0: egress replace: detach will not make the htb 7: it replaces again (it has filters"
check "egress replace over a filtered htb: ... apply warns that detach will not make it again" test $? -eq 0
out=$(na --dry-run detach 2>&1)
echo "$out" | grep -q "^would remove Nascar's scheduler on eth0 and leave the kernel's default: the qdisc it replaced (htb/7:) cannot be made again (it has filters"
check "egress replace over a filtered htb: ... detach --dry-run says it would leave the kernel's default, and why" test $? -eq 0
out=$(na detach 2>&1)
check "egress replace over a filtered htb: detach (exit $?)" test $? -eq 0
echo "$out" | grep -q "eth0: the qdisc Nascar replaced (htb/7:, egress replace) is not re-created (it has filters" &&
	echo "$out" | grep -q "qdisc-eth0.before"
check "egress replace over a filtered htb: ... says it is not re-created, why, and where it was saved" test $? -eq 0
check "egress replace over a filtered htb: ... the kernel's default is back ($(root_of eth0))" \
	test "$(root_of eth0)" = "noqueue 0:"
assert_clean "egress replace over a filtered htb: detach leaves no trace"
apply_finish
