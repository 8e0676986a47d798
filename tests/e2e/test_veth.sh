#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/e2e/test_veth.sh: nascar-apply on the veth variant of the vm--gw link
# (rig_up veth, offloads on) in tc, hybrid and auto mode, with the study's
# MASQUERADE rules installed (rig_baseline_rules, and the same for IPv6):
#  - apply says what it attached (auto: tc, and why);
#  - IPv4/IPv6 TCP and UDP cross vm -> srv and the server sees the guest's
#    own address (the fast path bypasses the NAT);
#  - gw's FORWARD chain counters stay still while Nascar's counters rise
#    (tcp4 udp4 tcp6 udp6 and the replies back4 back6);
#  - a TSO bulk TCP transfer (iperf3, 2 s) has nonzero throughput; in tc
#    and auto the guest's TSO stays on and its super-packets (> 1514 bytes
#    on average) take the TC fast path;
#  - detach leaves no trace, the guest's TSO is as it was before the apply
#    (hybrid: native XDP on a veth turns its peer's TSO off while attached),
#    and the kernel path (NATed) works afterwards.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
RIG_PREFIX=${RIG_PREFIX:-nscveth}
. "$(cd "$(dirname "$0")" && pwd)/apply_lib.sh"
apply_need
apply_trap

if ! rig_up veth --offload on; then
	bad "veth: rig_up"
	exit 1
fi
rig_baseline_rules && rig_baseline_rules6 || bad "veth: baseline rules"
# a native XDP redirect into a veth needs GRO (or XDP) on its peer
rig_exec srv ethtool -K eth0 gro on >/dev/null 2>&1

guest_tso() { rig_exec vm ethtool -k eth0 | awk '/^tcp-segmentation-offload:/ { print $2 }'; }

variant() { # variant NAME MODE[/UPMODE] EXPECT-REGEX
	local v=$1 mode=$2 want=$3 out fwd0 fwd1 n tso0 tso1 b p
	# VETH_EXTRA: flows put first (e.g. "flow x { action stack; }" to see
	# the assertions fail)
	mkpolicy "$v" "$mode" "${VETH_EXTRA:-}" || { bad "$v: compile"; return; }
	tso0=$(guest_tso)
	out=$(na "$RIG_DIR/$v.nfc" 2>&1) || { bad "$v: apply" "$out"; return; }
	echo "$out" | grep -Eq "^tap0: $want"
	check "$v: apply attaches as expected ($(echo "$out" | grep '^tap0:' | cut -c1-70))" \
		test $? -eq 0
	tso1=$(guest_tso)
	fwd0=$(($(rig_forward_count v4) + $(rig_forward_count v6)))
	check_cross "$v"
	n=$(rig_iperf_tcp vm srv "$RIG_SRV_IP4" 2)
	check "$v: TSO bulk TCP crosses ($((${n:-0} / 1000000)) Mbit/s)" test "${n:-0}" -gt 0
	fwd1=$(($(rig_forward_count v4) + $(rig_forward_count v6)))
	check "$v: FORWARD chain still ($fwd0 -> $fwd1)" test "$fwd1" -eq "$fwd0"
	check_fast "$v" tcp4 udp4 tcp6 udp6 back4 back6
	if [ "${mode%/*}" != hybrid ]; then
		check "$v: the guest's TSO stays on ($tso0 -> $tso1)" test "$tso0" = on -a "$tso1" = on
		b=$(stat_flow tcp4 tc_bytes) p=$(stat_flow tcp4 tc_pkts)
		check "$v: TSO super-packets on the TC fast path ($((b / (p > 0 ? p : 1))) bytes on average)" \
			test "$p" -gt 0 -a $((b / (p > 0 ? p : 1))) -gt 1514
	else
		# native XDP on a veth turns its peer's TSO off (docs/architecture.md, kernel fact 5): say so
		echo "  $v: guest TSO $tso0 -> $tso1 (native XDP on tap0: $(status_field tap0 xdp))" >&2
	fi
	out=$(na detach 2>&1)
	check "$v: detach" test $? -eq 0
	assert_clean "$v: detach leaves no trace"
	check "$v: the guest's TSO is back as it was ($(guest_tso))" test "$(guest_tso)" = "$tso0"
	check "$v: kernel path (NATed) after detach" peer_is "$RIG_GW_ETH_IP4" tcp "$RIG_SRV_IP4" 7100
}

variant veth-tc tc 'tc \(tc (tcx|netlink)\)'
variant veth-hybrid hybrid/tc 'hybrid \(xdp (native|generic) \+ tc (tcx|netlink)\)'
variant veth-auto auto 'tc \(tc (tcx|netlink)\): veth with TSO on'
apply_finish
