#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/e2e/test_rig_baseline.sh: the rig itself, on the kernel baseline (no
# Nascar): real traffic vm -> gw -> srv over a tap link driven by nascar-vmm
# (offload on and off) and over veth; the study's NAT rules; TSO super-packets
# crossing the tap; the generator's frames (complete and partial checksums,
# IPv4 and IPv6) arriving with valid checksums.
# Needs root; exit 77 (skip) otherwise.  bash (re-executes itself under bash
# when run by sh, as tests/run.sh does).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

here=$(cd "$(dirname "$0")" && pwd)
# a prefix of our own, so that concurrent runs do not collide
RIG_PREFIX=${RIG_PREFIX:-nrb$$}
. "$here/lib.sh"

rig_need_root_tools
if [ ! -x "$RIG_VMM" ]; then
	echo "SKIP: rig_baseline (no $RIG_VMM; run make)"
	exit 77
fi
rig_trap


have_ping=1
command -v ping >/dev/null 2>&1 || have_ping=0

ping4() { rig_exec vm ping -q -c 3 -i 0.2 -W 2 "$RIG_SRV_IP4" >/dev/null 2>&1; }
ping6() { rig_exec vm ping -6 -q -c 3 -i 0.2 -W 2 "$RIG_SRV_IP6" >/dev/null 2>&1; }

# snmp_get FILE KEY: a counter from srv's /proc/net/snmp (Udp InCsumErrors...)
# or /proc/net/snmp6 (Udp6InCsumErrors ...).
snmp_get() {
	local file=$1 key=$2
	if [ "$file" = snmp6 ]; then
		rig_exec srv cat /proc/net/snmp6 | awk -v k="$key" '$1 == k { print $2 }'
	else
		rig_exec srv cat /proc/net/snmp | awk -v k="$key" '
			$1 == "Udp:" && !h { for (i = 2; i <= NF; i++) n[i] = $i; h = 1; next }
			$1 == "Udp:" && h { for (i = 2; i <= NF; i++) if (n[i] == k) print $i }'
	fi
}

# gen_case NAME GEN-OPTS...: the generator's frames reach srv with valid
# checksums (srv has no socket on the port: they count as NoPorts; a bad
# checksum counts as InCsumErrors).
gen_case() {
	local name=$1 v6=0 f=snmp kin=NoPorts kerr=InCsumErrors a0 e0 a1 e1 line
	shift
	case " $* " in *" --ipv6 "*) v6=1 f=snmp6 kin=Udp6NoPorts kerr=Udp6InCsumErrors ;; esac
	# veth would carry a partial checksum to srv as it is (and srv would
	# trust it); with tx checksumming off on gw's eth0 the kernel completes
	# it in software, so srv checks the bytes the generator built
	rig_exec gw ethtool -K eth0 tx off >/dev/null 2>&1
	a0=$(snmp_get $f $kin)
	e0=$(snmp_get $f $kerr)
	line=$(rig_gen --seconds 1 --flows 4 "$@" 2>&1)
	sleep 0.3
	a1=$(snmp_get $f $kin)
	e1=$(snmp_get $f $kerr)
	rig_exec gw ethtool -K eth0 tx on >/dev/null 2>&1
	local frames
	frames=$(rig_gen_field "$line" frames)
	if [ "${frames:-0}" -gt 0 ] && [ $((a1 - a0)) -gt 0 ] && [ "$e1" = "$e0" ]; then
		ok "$name"
	else
		bad "$name" "gen '$line', srv ${kin} +$((a1 - a0)) ${kerr} +$((e1 - e0)) (v6=$v6)"
	fi
}

variant() {
	local link=$1 off=$2 v="$1-offload-$2" peer bps big gso csum fwd0 fwd1 n
	if ! rig_up "$link" --offload "$off"; then
		bad "$v: rig_up"
		rig_down
		return
	fi
	ok "$v: rig_up"

	if [ "$have_ping" = 1 ]; then
		check "$v: ping IPv4 vm->srv" ping4
		check "$v: ping IPv6 vm->srv" ping6
	else
		echo "SKIP: $v: ping (no ping installed)"
	fi

	peer=$(rig_tcp_peer vm srv "$RIG_SRV_IP4")
	[ "$peer" = "$RIG_VM_IP4" ] && ok "$v: no rules, srv sees the guest address" ||
		bad "$v: no rules, srv sees the guest address" "saw '$peer'"

	rig_baseline_rules || bad "$v: baseline rules installed"
	fwd0=$(rig_forward_count)
	peer=$(rig_tcp_peer vm srv "$RIG_SRV_IP4")
	[ "$peer" = "$RIG_GW_ETH_IP4" ] && ok "$v: MASQUERADE, srv sees the gw address (TCP)" ||
		bad "$v: MASQUERADE, srv sees the gw address (TCP)" "saw '$peer'"
	peer=$(rig_udp_peer vm srv "$RIG_SRV_IP4")
	[ "$peer" = "$RIG_GW_ETH_IP4" ] && ok "$v: MASQUERADE, srv sees the gw address (UDP)" ||
		bad "$v: MASQUERADE, srv sees the gw address (UDP)" "saw '$peer'"
	peer=$(rig_tcp_peer vm srv "$RIG_SRV_IP6")
	[ "$peer" = "$RIG_VM_IP6" ] && ok "$v: IPv6 TCP forwarded (srv sees the guest)" ||
		bad "$v: IPv6 TCP forwarded (srv sees the guest)" "saw '$peer'"

	rig_udp_count_start srv 5555 drop
	rig_udp_send vm "$RIG_SRV_IP4" 5555 100
	sleep 0.2
	n=$(rig_udp_count srv 5555)
	[ "$n" = 100 ] && ok "$v: 100 UDP datagrams vm->srv counted at srv" ||
		bad "$v: 100 UDP datagrams vm->srv counted at srv" "counted $n"
	rig_udp_send vm "$RIG_SRV_IP6" 5555 100
	sleep 0.2
	n=$(rig_udp_count srv 5555)
	[ "$n" = 200 ] && ok "$v: 100 UDP IPv6 datagrams vm->srv counted at srv" ||
		bad "$v: 100 UDP IPv6 datagrams vm->srv counted at srv" "counted $((n - 100))"

	bps=$(rig_iperf_tcp vm srv "$RIG_SRV_IP4" 2)
	[ "${bps:-0}" -gt 0 ] && ok "$v: iperf3 TCP vm->srv 2 s ($((bps / 1000000)) Mbit/s)" ||
		bad "$v: iperf3 TCP vm->srv 2 s" "$(cat "$RIG_DIR/iperf.err" 2>/dev/null)"
	bps=$(rig_iperf_tcp vm srv "$RIG_SRV_IP6" 1)
	[ "${bps:-0}" -gt 0 ] && ok "$v: iperf3 TCP IPv6 vm->srv 1 s ($((bps / 1000000)) Mbit/s)" ||
		bad "$v: iperf3 TCP IPv6 vm->srv 1 s"
	fwd1=$(rig_forward_count)
	[ "$fwd1" -gt "$fwd0" ] && ok "$v: traffic went through gw's FORWARD chain" ||
		bad "$v: traffic went through gw's FORWARD chain" "$fwd0 -> $fwd1"

	if [ "$link" = tap ]; then
		big=$(rig_vmm_stat guest_tx big)
		gso=$(rig_vmm_stat guest_tx gso)
		csum=$(rig_vmm_stat guest_tx needs_csum)
		if [ "$off" = on ]; then
			[ "${big:-0}" -gt 0 ] && [ "${gso:-0}" -gt 0 ] && [ "${csum:-0}" -gt 0 ] &&
				ok "$v: TSO super-packets and partial checksums cross the tap (big=$big gso=$gso)" ||
				bad "$v: TSO super-packets cross the tap" "big=$big gso=$gso needs_csum=$csum"
		else
			[ "${big:-x}" = 0 ] && [ "${gso:-x}" = 0 ] && [ "${csum:-x}" = 0 ] &&
				ok "$v: no super-packets or partial checksums with offload off" ||
				bad "$v: no super-packets with offload off" "big=$big gso=$gso needs_csum=$csum"
		fi
		# generator on tap0 (forwarder stopped: a tap takes one fd)
		rig_vmm_stop
		gen_case "$v: gen IPv4 complete checksums arrive valid"
		gen_case "$v: gen IPv4 partial checksums completed by the kernel" --partial-csum
		gen_case "$v: gen IPv6 complete checksums arrive valid" --ipv6
		gen_case "$v: gen IPv6 partial checksums completed by the kernel" --ipv6 --partial-csum
	fi
	rig_down
}

variant tap on
variant tap off
variant veth on
variant veth off

# rig_down leaves nothing behind
left=$(ip netns list | grep -c "^$RIG_PREFIX-")
[ "$left" = 0 ] && ok "rig_down removes the namespaces" || bad "rig_down removes the namespaces"

[ "$fails" -eq 0 ]
