#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/e2e/test_apply_flows.sh: what flows do, in tc, hybrid and auto mode on
# the tap rig with the study's MASQUERADE rules: a `drop` flow never reaches
# the server and is counted; a `stack` flow takes the kernel path (NATed,
# FORWARD counted); anti-spoofing drops a guest source outside allow-src
# and counts it; with cold neighbour caches every connection is forwarded
# consistently (the server always sees the guest's own address, IPv4 and
# IPv6, never the gw's NAT address).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
RIG_PREFIX=${RIG_PREFIX:-ntf$$}
. "$(cd "$(dirname "$0")" && pwd)/apply_lib.sh"
apply_need
apply_trap

if ! rig_up tap --offload on; then
	bad "flows: rig_up"
	exit 1
fi
rig_baseline_rules && rig_baseline_rules6 || bad "flows: baseline rules"
rig_exec srv ethtool -K eth0 gro on >/dev/null 2>&1
rig_exec vm ip addr add 172.16.0.99/24 dev eth0
for p in 9999 9998 7700; do rig_udp_count_start srv $p drop; done

variant() { # variant NAME MODE[/UPMODE]
	local v=$1 n c0 c1 f0 f1 i got
	mkpolicy "$v" "$2" || { bad "$v: compile"; return; }
	na "$RIG_DIR/$v.nfc" >/dev/null 2>&1 || { bad "$v: apply"; return; }
	c0=$(rig_udp_count srv 9999)
	rig_udp_send vm "$RIG_SRV_IP4" 9999 20
	sleep 0.3
	n=$(stat_flow blocked drop_pkts)
	check "$v: drop flow never arrives and is counted ($n)" \
		test "$(rig_udp_count srv 9999)" -eq "$c0" -a "${n:-0}" -ge 20
	c0=$(rig_udp_count srv 9998)
	f0=$(rig_forward_count v4)
	rig_udp_send vm "$RIG_SRV_IP4" 9998 20
	sleep 0.3
	c1=$(rig_udp_count srv 9998)
	f1=$(rig_forward_count v4)
	n=$(stat_flow viastack stack_pkts)
	check "$v: stack flow takes the kernel path (srv +$((c1 - c0)), FORWARD +$((f1 - f0)), counted $n)" \
		test $((c1 - c0)) -ge 19 -a $((f1 - f0)) -ge 19 -a "${n:-0}" -ge 20
	c0=$(rig_udp_count srv 7700)
	for ((i = 0; i < 10; i++)); do
		echo spoof | rig_exec vm timeout 2 socat -u - UDP4-SENDTO:$RIG_SRV_IP4:7700,bind=172.16.0.99 2>/dev/null
	done
	sleep 0.3
	n=$(na stats --json | jq '[.interfaces[] | select(.name == "tap0") | .spoof_pkts] | add')
	check "$v: spoofed source dropped and counted ($n)" \
		test "$(rig_udp_count srv 7700)" -eq "$c0" -a "${n:-0}" -ge 10
	echo ok | rig_exec vm timeout 2 socat -u - UDP4-SENDTO:$RIG_SRV_IP4:7700,bind=$RIG_VM_IP4
	sleep 0.3
	check "$v: the allowed source still passes" test "$(rig_udp_count srv 7700)" -gt "$c0"
	for ((i = 0; i < 3; i++)); do
		rig_flush_neigh
		got=$(rig_tcp_peer vm srv "$RIG_SRV_IP4" $((7800 + i)))
		[ "$got" = "$RIG_VM_IP4" ] || break
		rig_flush_neigh
		got=$(rig_tcp_peer vm srv "$RIG_SRV_IP6" $((7900 + i)))
		[ "$got" = "$RIG_VM_IP6" ] || break
	done
	check "$v: cold neighbours with MASQUERADE: the server always sees the guest ($got)" \
		test "$i" -eq 3
	na detach >/dev/null 2>&1
	assert_clean "$v: detach leaves no trace"
}

variant flows-tc tc
variant flows-hybrid hybrid/tc
variant flows-auto auto
apply_finish
