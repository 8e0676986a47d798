#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/e2e/test_apply_tc_hybrid.sh: nascar-apply on the tap rig (offloads
# on, as Firecracker sets them) in tc mode (tcx links, and netlink clsact as
# on Debian 12's 6.1) and in hybrid mode: apply, status, IPv4/IPv6 TCP and
# UDP crossing vm -> srv with the server seeing the guest's own address,
# gw's FORWARD chain counters standing still while Nascar's rise (the
# bypass, with the study's MASQUERADE rules in place), a TSO bulk transfer,
# stats (counts, JSON, rates), detach leaving no trace.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
RIG_PREFIX=${RIG_PREFIX:-nth$$}
. "$(cd "$(dirname "$0")" && pwd)/apply_lib.sh"
apply_need
apply_trap

if ! rig_up tap --offload on; then
	bad "tc_hybrid: rig_up"
	exit 1
fi
rig_baseline_rules && rig_baseline_rules6 || bad "tc_hybrid: baseline rules"
# a native XDP redirect into a veth needs GRO (or XDP) on its peer
# (docs/architecture.md, kernel fact 5)
rig_exec srv ethtool -K eth0 gro on >/dev/null 2>&1
# hybrid is for the guest's tap: the uplink (a veth whose peer sends partial
# checksums) stays on tc, as policies/adas.nflow has it

variant() { # variant NAME MODE TCKIND [ENV...]
	local v=$1 mode=$2 tck=$3 out fwd0 fwd1 n t
	shift 3
	mkpolicy "$v" "$mode" || { bad "$v: compile"; return; }
	out=$(rig_exec gw env "$@" "$NA" --pin-dir "$PIN" "$RIG_DIR/$v.nfc" 2>&1)
	if [ $? -ne 0 ]; then
		bad "$v: apply" "$out"
		return
	fi
	if [ "${mode%/*}" = tc ]; then
		echo "$out" | grep -q "^tap0: tc (tc $tck): " && echo "$out" | grep -q "pins: $PIN"
	else
		echo "$out" | grep -Eq "^tap0: hybrid \(xdp (native|generic) \+ tc $tck\): "
	fi
	check "$v: apply says what it attached and where the pins are" test $? -eq 0
	[ "$(status_field tap0 tc)" = "$tck" ] && [ "$(status_field eth0 tc)" = "$tck" ] &&
		[ "$(status_field tap0 tc_prog_id)" -gt 0 ] &&
		[ "$(na status --json | jq -r .generation)" = 1 ]
	check "$v: status shows hooks, program ids, generation" test $? -eq 0
	if [ "${mode%/*}" = hybrid ]; then
		t=$(status_field tap0 xdp)
		check "$v: status shows xdp on tap0 ($t)" test "$t" = native -o "$t" = generic
	fi
	fwd0=$(($(rig_forward_count v4) + $(rig_forward_count v6)))
	check "$v: tcp4 server sees the guest's address" peer_is "$RIG_VM_IP4" tcp "$RIG_SRV_IP4"
	check "$v: udp4 server sees the guest's address" peer_is "$RIG_VM_IP4" udp "$RIG_SRV_IP4"
	check "$v: tcp6 server sees the guest's address" peer_is "$RIG_VM_IP6" tcp "$RIG_SRV_IP6"
	check "$v: udp6 server sees the guest's address" peer_is "$RIG_VM_IP6" udp "$RIG_SRV_IP6"
	n=$(rig_iperf_tcp vm srv "$RIG_SRV_IP4" 2)
	check "$v: TSO bulk TCP crosses ($((n / 1000000)) Mbit/s)" test "${n:-0}" -gt 10000000
	fwd1=$(($(rig_forward_count v4) + $(rig_forward_count v6)))
	check "$v: FORWARD chain still ($fwd0 -> $fwd1)" test "$fwd1" -eq "$fwd0"
	for f in tcp4 udp4 tcp6 udp6 back4 back6; do
		n=$(fast_pkts $f)
		check "$v: Nascar counted $f on the fast path ($n)" test "${n:-0}" -gt 0
	done
	na stats | grep -Eq '^tcp4 +forward +fast '
	check "$v: stats names flows and classes" test $? -eq 0
	n=$(na stats --json --interval 0.3 --count 1 | jq -r '.flows[0] | has("tc_pkts_per_s")')
	check "$v: stats --interval gives rates" test "$n" = true
	out=$(na detach 2>&1)
	check "$v: detach" test $? -eq 0
	assert_clean "$v: detach leaves no trace"
	# traffic still flows through the kernel afterwards
	check "$v: kernel path after detach" peer_is "$RIG_GW_ETH_IP4" tcp "$RIG_SRV_IP4" 7100
}

# tcx links exist from Linux 6.6 on (Debian 12's 6.1 has the netlink path only)
if rig_kernel_at_least 6 6; then
	variant tc-tcx tc tcx
else
	echo "SKIP: tc-tcx (no tcx before Linux 6.6; $(uname -r))"
fi
variant tc-netlink tc netlink NASCAR_NO_TCX=1
if rig_kernel_at_least 6 6; then
	variant hybrid-tcx hybrid/tc tcx
else
	echo "SKIP: hybrid-tcx (no tcx before Linux 6.6; $(uname -r))"
fi
variant hybrid-netlink hybrid/tc netlink NASCAR_NO_TCX=1
apply_finish
