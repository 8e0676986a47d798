#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/e2e/test_device_change.sh: a device that stops taking native XDP
# redirects after the apply (the server's veth turns GRO off) is noticed
# (issue 8, defect 1, after the fact).
#
# Tap rig, guest offloads off, mode hybrid, GRO on at the server: native XDP
# on tap0 redirects into gw's eth0.  Then the server turns GRO off, and
# from then on the kernel drops every native redirect into eth0:
#  - status warns, naming eth0 and what to do (apply again);
#  - the same policy applied again is not a no-op: a new generation, with
#    XDP handing eth0's packets to TC;
#  - UDP from the guest arrives again, on the fast path.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
RIG_PREFIX=${RIG_PREFIX:-ndc$$}
. "$(cd "$(dirname "$0")" && pwd)/apply_lib.sh"
apply_need
apply_trap

if ! rig_up tap --offload off; then
	bad "device-change: rig_up"
	exit 1
fi
rig_exec srv ethtool -K eth0 gro on >/dev/null 2>&1
mkpolicy dc hybrid || bad "device-change: compile"
out=$(na "$RIG_DIR/dc.nfc" 2>&1) || bad "device-change: apply" "$out"
echo "$out" | grep -q "XDP hands packets for eth0 to TC"
check "device-change: with GRO on at the server XDP redirects into eth0" test $? -ne 0
check "device-change: udp4 delivered with the guest's address" peer_is "$RIG_VM_IP4" udp "$RIG_SRV_IP4" 7100
x0=$(stat_flow udp4 xdp_pkts)
check "device-change: ... by XDP ($x0 packets)" test "${x0:-0}" -gt 0

rig_exec srv ethtool -K eth0 gro off >/dev/null 2>&1
sleep 0.2
st=$(na status 2>&1)
echo "$st" | grep -q "warning: eth0 no longer takes native XDP redirects" &&
	echo "$st" | grep -q "apply the policy again"
check "device-change: status warns that eth0 stopped taking native redirects" test $? -eq 0
g0=$(na status --json | jq -r .generation)
out=$(na "$RIG_DIR/dc.nfc" 2>&1)
check "device-change: the same policy applied again (exit $?)" test $? -eq 0
g1=$(na status --json | jq -r .generation)
check "device-change: ... is not a no-op (generation $g0 -> $g1)" test "$g1" -eq $((g0 + 1))
echo "$out" | grep -q "XDP hands packets for eth0 to TC"
check "device-change: ... and now hands eth0's packets to TC" test $? -eq 0
check "device-change: udp4 delivered again" peer_is "$RIG_VM_IP4" udp "$RIG_SRV_IP4" 7200
t1=$(stat_flow udp4 tc_pkts)
check "device-change: ... by TC ($t1 packets)" test "${t1:-0}" -gt 0
st=$(na status 2>&1)
echo "$st" | grep -q "no longer takes native"
check "device-change: status has nothing to warn about any more" test $? -ne 0
apply_finish
