#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/e2e/test_vlan_uplink.sh: a VLAN device as the uplink (nflow version
# 2, 802.1Q priority).  Needs 802.1Q VLAN devices and tcpdump: this build
# machine's kernel has no 8021q, so it runs in the VM tier (Debian 12's
# kernel, `make check-vm`) and SKIPs here.
#
# gw's eth0.100 (VLAN 100 on the veth to srv) is declared as the uplink in
# modes tc, hybrid and auto: UDP from the guest crosses with its own
# address, on Nascar's fast path, and leaves tagged with PCP = its class's
# priority (5; tcpdump -e on srv's parent device); detach puts the VLAN
# device's egress-qos-map back as it was.  Control: with `egress keep` the
# device is left alone and the PCP is the kernel's default, 0.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
RIG_PREFIX=${RIG_PREFIX:-nvu$$}
. "$(cd "$(dirname "$0")" && pwd)/apply_lib.sh"
apply_need
command -v tcpdump >/dev/null 2>&1 || { echo "SKIP: vlan uplink (no tcpdump)"; exit 77; }
apply_trap

VIP=10.0.100.10
if ! rig_up tap --offload on; then
	bad "vlan-uplink: rig_up"
	exit 1
fi
if ! ip -n "$RIG_GW" link add link eth0 name eth0.100 type vlan id 100 2>/dev/null; then
	echo "SKIP: vlan uplink (this kernel makes no 802.1Q VLAN devices; the VM tier runs it)"
	exit 77
fi
ip -n "$RIG_SRV" link add link eth0 name eth0.100 type vlan id 100 || bad "vlan-uplink: srv vlan"
ip -n "$RIG_GW" addr add 10.0.100.1/24 dev eth0.100
ip -n "$RIG_SRV" addr add "$VIP/24" dev eth0.100
ip -n "$RIG_GW" link set eth0.100 up
ip -n "$RIG_SRV" link set eth0.100 up
ip -n "$RIG_SRV" route replace 172.16.0.0/24 via 10.0.100.1
rig_exec srv ethtool -K eth0 gro on >/dev/null 2>&1
qosmap() { rig_exec gw ip -d link show dev eth0.100 | grep -o 'egress-qos-map {[^}]*}'; }
map0=$(qosmap)

# the last round is the control: with egress keep Nascar leaves the VLAN
# device alone, and the frames leave with the kernel's default PCP 0
for mode in tc hybrid auto keep; do
	v="vlan-uplink-$mode" egress="" want=5
	if [ "$mode" = keep ]; then
		mode=tc egress="egress keep;" want=0 v="vlan-uplink-control-egress-keep"
	fi
	cat >"$RIG_DIR/$v.nflow" <<EOP
interface tap0 { role guest; mode $mode; allow-src $RIG_VM_IP4; }
interface eth0.100 { role uplink; mode $mode; $egress }
class ctl { priority 5; }
flow up { from $RIG_VM_IP4; to $VIP; class ctl; }
flow back { in eth0.100; to $RIG_VM_IP4; class ctl; }
default { action stack; }
EOP
	"$NC" compile "$RIG_DIR/$v.nflow" -o "$RIG_DIR/$v.nfc" >/dev/null 2>&1 || { bad "$v: compile"; continue; }
	out=$(na "$RIG_DIR/$v.nfc" 2>&1) || { bad "$v: apply" "$out"; continue; }
	ok "$v: apply"
	rig_exec vm ping -q -c 1 -W 2 "$VIP" >/dev/null 2>&1
	# capture on srv's parent device while the guest sends
	rig_bg cap rig_exec srv timeout 30 tcpdump -Z root -e -n -l -c 3 -i eth0 "vlan 100 and udp"
	rig_wait_for 10 grep -q "listening on" "$RIG_DIR/cap.log"
	check "$v: udp: the server sees the guest's address" peer_is "$RIG_VM_IP4" udp "$VIP" 7399
	rig_bg_stop cap 2
	n=$(fast_pkts up)
	check "$v: ... on Nascar's fast path ($n packets)" test "${n:-0}" -gt 0
	pcp=$(grep -o 'vlan 100, p [0-9]' "$RIG_DIR/cap.log" | head -n 1 | awk '{ print $4 }')
	check "$v: the frames leave tagged with PCP ${pcp:-?} (want $want)" test "${pcp:-x}" = "$want" ||
		sed 's/^/  tcpdump: /' "$RIG_DIR/cap.log" | head -n 8
	na detach >/dev/null 2>&1
	check "$v: detach" test $? -eq 0
	check "$v: ... puts the egress-qos-map back ($(qosmap))" test "$(qosmap)" = "$map0"
done
apply_finish
