#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/e2e/test_apply_reapply.sh: re-applying policies on the tap rig.
#  - the same file twice is a no-op (generation unchanged);
#  - a changed policy applied (several times) under a running UDP stream of a
#    flow present in both loses no packet, and the flow stays on the fast path;
#  - a declared interface added then removed is attached then detached;
#  - nascar-apply killed just before the switch leaves the old policy in
#    force (generation, hash, behaviour), and the next apply finishes the job;
#    killed just after the switch, the new policy is in force and the next
#    apply of the same file is a no-op.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
RIG_PREFIX=${RIG_PREFIX:-ntr$$}
. "$(cd "$(dirname "$0")" && pwd)/apply_lib.sh"
apply_need
apply_trap

gen() { na status --json 2>/dev/null | jq -r .generation; }
hash_() { na status --json 2>/dev/null | jq -r .source_hash; }

if ! rig_up tap --offload on; then
	bad "reapply: rig_up"
	exit 1
fi
mkpolicy A tc || bad "reapply: compile A"
mkpolicy B tc "flow extra { to $RIG_SRV_IP4 port 8000; proto tcp; class ctl; }
flow extra6 { to $RIG_SRV_IP6 port 8000; proto tcp; class fast; }" || bad "reapply: compile B"
mkpolicy C tc "flow killme { to $RIG_SRV_IP4 port 7600; proto udp; action drop; }" ||
	bad "reapply: compile C"
rig_exec gw ip link add nx0 type veth peer name nx1 && rig_exec gw ip link set nx0 up
mkpolicy D tc "interface nx0 { role uplink; mode tc; }" || bad "reapply: compile D"

na "$RIG_DIR/A.nfc" >/dev/null 2>&1
check "reapply: first apply (generation 1)" test "$(gen)" = 1
out=$(na "$RIG_DIR/A.nfc" 2>&1)
echo "$out" | grep -q "already in force" && [ "$(gen)" = 1 ]
check "reapply: same file again is a no-op and says so" test $? -eq 0

# A running stream on udp4 (port 7500): 30 bursts of 50 datagrams
rig_exec vm ping -q -c 1 -W 2 "$RIG_SRV_IP4" >/dev/null 2>&1
rig_udp_count_start srv 7500 drop
rig_bg stream rig_exec vm timeout 30 bash -c '
	exec 3>"/dev/udp/$1/7500" || exit 1
	for ((b = 0; b < 30; b++)); do
		for ((i = 0; i < 50; i++)); do printf x >&3 2>/dev/null; done
		sleep 0.05
	done' stream "$RIG_SRV_IP4"
g0=$(gen)
for p in B A B A; do
	na "$RIG_DIR/$p.nfc" >/dev/null 2>&1 || bad "reapply: apply $p under traffic"
	sleep 0.2
done
rig_wait_for 20 bash -c "! kill -0 \$(cat '$RIG_DIR/stream.pid') 2>/dev/null"
sleep 0.3
got=$(rig_udp_count srv 7500)
check "reapply: 4 switches under a running stream, no loss ($got of 1500)" test "$got" -eq 1500
check "reapply: generation went $g0 -> $(gen)" test "$(gen)" -eq $((g0 + 4))
# the flow is on the fast path in the last generation too (sent after the
# switches: under emulation the stream can end before the last one)
rig_udp_send vm "$RIG_SRV_IP4" 7500 20
n=$(fast_pkts udp4)
check "reapply: the stream stayed on the fast path ($n in the last generation)" test "${n:-0}" -ge 20

# interfaces added and removed
out=$(na "$RIG_DIR/D.nfc" 2>&1)
nxi=$(rig_exec gw ip -o link show nx0 | cut -d: -f1)
# a tcx link is pinned; before 6.6 the hook is a netlink clsact filter
echo "$out" | grep -q "^nx0: tc" && [ "$(status_field nx0 tc_prog_id)" -gt 0 ] &&
	{ [ -e "$PIN/links/tc_$nxi" ] || [ "$(status_field nx0 tc)" = netlink ]; }
check "reapply: a newly declared interface is attached" test $? -eq 0
out=$(na "$RIG_DIR/A.nfc" 2>&1)
echo "$out" | grep -q "^nx0: detached" && [ -z "$(status_field nx0 tc)" ] &&
	[ ! -e "$PIN/links/tc_$nxi" ] && [ -z "$(rig_exec gw tc filter show dev nx0 ingress)" ]
check "reapply: an interface no longer declared is detached" test $? -eq 0

# kill just before the switch: A stays in force
rig_udp_count_start srv 7600
g1=$(gen) h1=$(hash_)
rig_bg killed rig_exec gw env NASCAR_TEST_STALL=before-switch "$NA" --pin-dir "$PIN" "$RIG_DIR/C.nfc"
if rig_wait_for 10 grep -q "stalled at before-switch" "$RIG_DIR/killed.log"; then
	kpid=$(cat "$RIG_DIR/killed.pid")
	{ kill -KILL "$kpid" && wait "$kpid"; } 2>/dev/null
	rm -f "$RIG_DIR/killed.pid"
	sleep 0.2
	[ "$(gen)" = "$g1" ] && [ "$(hash_)" = "$h1" ]
	check "reapply: killed before the switch, the old policy is in force (generation $g1)" \
		test $? -eq 0
	rig_udp_send vm "$RIG_SRV_IP4" 7600 20
	sleep 0.3
	check "reapply: ... and behaves as the old one (port 7600 still forwarded)" \
		test "$(rig_udp_count srv 7600)" -ge 19
	out=$(na "$RIG_DIR/C.nfc" 2>&1)
	check "reapply: the next apply finishes the job" test $? -eq 0 -a "$(gen)" = $((g1 + 1))
	c0=$(rig_udp_count srv 7600)
	rig_udp_send vm "$RIG_SRV_IP4" 7600 20
	sleep 0.3
	n=$(stat_flow killme drop_pkts)
	check "reapply: ... and the new policy drops port 7600 ($n dropped)" \
		test "$(rig_udp_count srv 7600)" -eq "$c0" -a "${n:-0}" -ge 20
else
	bad "reapply: stall point not reached" "$(cat "$RIG_DIR/killed.log")"
fi

# kill just after the switch: the new policy is in force, the next apply is a no-op
g2=$(gen)
rig_bg killed2 rig_exec gw env NASCAR_TEST_STALL=after-switch "$NA" --pin-dir "$PIN" "$RIG_DIR/A.nfc"
if rig_wait_for 10 grep -q "stalled at after-switch" "$RIG_DIR/killed2.log"; then
	kpid=$(cat "$RIG_DIR/killed2.pid")
	{ kill -KILL "$kpid" && wait "$kpid"; } 2>/dev/null
	rm -f "$RIG_DIR/killed2.pid"
	check "reapply: killed after the switch, the new policy is in force" \
		test "$(gen)" = $((g2 + 1))
	out=$(na "$RIG_DIR/A.nfc" 2>&1)
	echo "$out" | grep -q "already in force"
	check "reapply: ... and the next apply of it is a no-op" test $? -eq 0
else
	bad "reapply: stall point after-switch not reached" "$(cat "$RIG_DIR/killed2.log")"
fi
na detach >/dev/null 2>&1
assert_clean "reapply: detach leaves no trace"
apply_finish
