#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/e2e/test_apply_rollback.sh: an apply that fails before the switch
# takes back what it added, and only that.
#
# The failure is Nascar's scheduler refused by tc (a tc on PATH that fails
# `tc -batch` and passes everything else to the real one), after the hooks
# of the new policy are attached:
#  - on the first apply: exit 1, the error names tc, and nothing is left
#    (no hooks, no pins, no state, the root qdiscs as they were);
#  - with a policy in force: exit 1, that policy is still in force (same
#    generation, same state file, same links), traffic still passes, the
#    root qdiscs are as they were;
#  - a first apply whose copy of the policy into the state directory
#    fails (after the maps are pinned): exit 1, no pins left;
#  - the same policy then applies with the real tc, and detach leaves no
#    trace.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
RIG_PREFIX=${RIG_PREFIX:-nrb$$}
. "$(cd "$(dirname "$0")" && pwd)/apply_lib.sh"
apply_need
apply_trap

if ! rig_up tap --offload on; then
	bad "rollback: rig_up"
	exit 1
fi
gen() { na status --json 2>/dev/null | jq -r .generation; }
roots() { for d in tap0 eth0; do rig_exec gw tc qdisc show dev "$d" root | awk '{ print $2 }'; done; }
state() { grep -v '^#' "$STATE/nascar.state" 2>/dev/null; }
links() { ls "$PIN/links" 2>/dev/null; }
pol() { # pol NAME CLASS-LINE
	cat >"$RIG_DIR/$1.nflow" <<EOP
interface tap0 { role guest; mode tc; }
interface eth0 { role uplink; mode tc; }
$2
flow udp4 { from $RIG_VM_IP4; to $RIG_SRV_IP4; proto udp; class bulk; }
flow back4 { in eth0; to $RIG_VM_IP4; class bulk; }
default { action stack; }
EOP
	"$NC" compile "$RIG_DIR/$1.nflow" -o "$RIG_DIR/$1.nfc" >"$RIG_DIR/$1.cc" 2>&1 ||
		{ cat "$RIG_DIR/$1.cc" >&2; return 1; }
}
pol plain "class bulk { priority 1; }" || bad "rollback: compile plain"
pol shaped "class bulk { priority 1; rate 20mbit; }" || bad "rollback: compile shaped"
# A tc that refuses `tc -batch` (how Nascar's scheduler is installed) and
# hands everything else to the real one, first on nascar-apply's PATH.
realtc=$(command -v tc)
mkdir -p "$RIG_DIR/faketc"
cat >"$RIG_DIR/faketc/tc" <<EOF
#!/bin/sh
for a; do [ "\$a" = -batch ] && { echo "tc refused the batch (test)"; exit 2; }; done
exec $realtc "\$@"
EOF
chmod +x "$RIG_DIR/faketc/tc"
na_fail() { rig_exec gw env PATH="$RIG_DIR/faketc:$PATH" "$NA" --pin-dir "$PIN" "$@"; }
roots0=$(roots)

out=$(na_fail "$RIG_DIR/shaped.nfc" 2>&1)
check "rollback: first apply, tc fails (exit $?)" test $? -eq 1
echo "$out" | grep -q "tap0: cannot install Nascar's scheduler with tc: tc refused the batch"
check "rollback: ... the error names tc" test $? -eq 0
echo "$out" | grep -q "tap0: tc (tc tcx)"
check "rollback: ... after the hooks were attached" test $? -eq 0
assert_clean "rollback: ... and nothing is left"
check "rollback: ... the root qdiscs as they were ($(roots | tr '\n' ' '))" test "$(roots)" = "$roots0"

# the copy of the policy into the state directory fails (its place is a
# directory) after the maps were pinned: the pins go too
mkdir -p "$STATE/applied-0.nfc"
out=$(na "$RIG_DIR/plain.nfc" 2>&1)
check "rollback: first apply, the policy cannot be copied to the state (exit $?)" test $? -eq 1
echo "$out" | grep -q "cannot copy .* to $STATE/applied-0.nfc"
check "rollback: ... the error names the state file" test $? -eq 0
check "rollback: ... no pins left ($(ls "$PIN" 2>/dev/null | tr '\n' ' '))" test -z "$(ls "$PIN" 2>/dev/null)"
rmdir "$STATE/applied-0.nfc"
assert_clean "rollback: ... and nothing is left"

out=$(na "$RIG_DIR/plain.nfc" 2>&1)
check "rollback: a policy without a scheduler applies (exit $?)" test $? -eq 0
g1=$(gen)
s1=$(state)
l1=$(links)
check "rollback: ... generation 1" test "$g1" = 1
check "rollback: ... with links ($(links | tr "\n" " "))" test -n "$l1"

out=$(na_fail "$RIG_DIR/shaped.nfc" 2>&1)
check "rollback: over it, tc fails (exit $?)" test $? -eq 1
echo "$out" | grep -q "cannot install Nascar's scheduler with tc"
check "rollback: ... the error names tc" test $? -eq 0
check "rollback: ... the old policy is still in force (generation $(gen))" test "$(gen)" = "$g1"
check "rollback: ... the state file is as it was" test "$(state)" = "$s1"
check "rollback: ... the same links" test "$(links)" = "$l1"
check "rollback: ... the root qdiscs as they were ($(roots | tr '\n' ' '))" test "$(roots)" = "$roots0"
check "rollback: ... udp4 still passes" peer_is "$RIG_VM_IP4" udp "$RIG_SRV_IP4" 7300

out=$(na "$RIG_DIR/shaped.nfc" 2>&1)
check "rollback: with the real tc it applies (exit $?)" test $? -eq 0
check "rollback: ... generation 2" test "$(gen)" = 2
check "rollback: ... Nascar's scheduler on tap0 and eth0" test "$(roots | tr '\n' ' ')" = "htb htb "
na detach >/dev/null 2>&1
check "rollback: detach (exit $?)" test $? -eq 0
assert_clean "rollback: detach leaves no trace"
check "rollback: ... the root qdiscs as they were" test "$(roots)" = "$roots0"
apply_finish
