#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/e2e/test_nic_uplink.sh: Nascar's scheduler on a NIC uplink with a
# line rate: super-packets are split before the wire.
#
# Needs two NICs wired to each other (rig_up --uplink nic): the VM tier
# gives its guest two virtio-net NICs on one qemu hub; elsewhere it SKIPs.
# Tap rig with Firecracker's offloads, the uplink declared `rate 100mbit`,
# modes tc, hybrid and auto.  apply must say the leaves split super-packets and make them
# tbf qdiscs, with an fq_codel under each where the kernel has one (fair
# queueing within a class, after the split); one bulk TCP upload (the guest's TSO on, so the TC path sees
# 64 KB super-packets) must reach 0.2x..1.05x the line rate under emulation
# while the bulk class's leaf sends frames of at most two MTUs on average
# (tbf's burst: what splitting means; unsplit, the guest's super-packets
# are tens of KB, which the same run checks on the guest's side).  Detach
# puts back the NIC's own qdisc.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
RIG_PREFIX=${RIG_PREFIX:-nnu$$}
. "$(cd "$(dirname "$0")" && pwd)/apply_lib.sh"
apply_need
apply_trap

rig_up tap --offload on --uplink nic
case $? in
0) ;;
2)
	echo "SKIP: nic uplink (no two NICs wired together here; the VM tier has them)"
	exit 77
	;;
*)
	bad "nic-uplink: rig_up"
	exit 1
	;;
esac
drv=$(rig_exec gw ethtool -i eth0 2>/dev/null | awk '$1 == "driver:" { print $2 }')
ok "nic-uplink: gw's eth0 is a NIC (driver ${drv:-?})"
root0=$(rig_exec gw tc qdisc show dev eth0 root | awk '{ print $2; exit }')

leaf() { # leaf MINOR: the kind of the leaf qdisc under 4e43:MINOR on gw eth0
	rig_exec gw tc qdisc show dev eth0 | awk -v p="4e43:$1" '$4 == "parent" && $5 == p { print $2 }'
}
# avg_len MINOR: bytes per packet the leaf under 4e43:MINOR sent
avg_len() {
	rig_exec gw tc -s qdisc show dev eth0 | awk -v p="4e43:$1" '
		$1 == "qdisc" { on = ($4 == "parent" && $5 == p) }
		on && $1 == "Sent" { if ($4 > 0) print int($2 / $4); else print 0; exit }'
}

# does this kernel make an fq_codel? (asked here, apart from nascar-apply's
# own probe, in a throwaway namespace)
have_fq=0
fqns=nscfq-$$
if ip netns add "$fqns" 2>/dev/null; then
	ip -n "$fqns" link set lo up 2>/dev/null
	tc -n "$fqns" qdisc add dev lo root fq_codel 2>/dev/null && have_fq=1
	ip netns del "$fqns" 2>/dev/null
fi

for mode in tc hybrid auto; do
	cat >"$RIG_DIR/nic-$mode.nflow" <<-EOP
	interface tap0 { role guest; mode $mode; allow-src $RIG_VM_IP4; }
	interface eth0 { role uplink; mode $mode; rate 100mbit; }
	class bulk { priority 1; }
	class ctl { priority 7; }
	flow tcp4 { from $RIG_VM_IP4; to $RIG_SRV_IP4; proto tcp; class bulk; }
	flow udp4 { from $RIG_VM_IP4; to $RIG_SRV_IP4; proto udp; class ctl; }
	flow back4 { in eth0; to $RIG_VM_IP4; class bulk; }
	default { action stack; }
	EOP
	"$NC" compile "$RIG_DIR/nic-$mode.nflow" -o "$RIG_DIR/nic-$mode.nfc" >/dev/null 2>&1 || bad "nic-$mode: compile"
	out=$(na "$RIG_DIR/nic-$mode.nfc" 2>&1)
	check "nic-$mode: apply" test $? -eq 0
	echo "$out" | grep -q "^eth0: Nascar's scheduler: at most 100 Mbit/s.*super-packets split"
	check "nic-$mode: apply says eth0's leaves split super-packets" test $? -eq 0
	check "nic-$mode: the bulk class's leaf is a tbf ($(leaf 100))" test "$(leaf 100)" = tbf
	kid=$(rig_exec gw tc qdisc show dev eth0 | awk '$4 == "parent" && $5 == "4c01:1" { print $2 }')
	if [ "$have_fq" = 1 ]; then
		echo "$out" | grep -q "^eth0: .*fair queueing within a class (fq_codel), super-packets split (tbf)"
		check "nic-$mode: apply says the split leaves queue fairly" test $? -eq 0
		check "nic-$mode: ... and the tbf's child is fq_codel (${kid:-none})" test "$kid" = fq_codel
	else
		check "nic-$mode: no fq_codel here: the tbf keeps its own FIFO (${kid:-none})" test -z "$kid"
	fi
	bps=$(rig_iperf_tcp vm srv "$RIG_SRV_IP4" 5)
	mb=$(awk -v b="${bps:-0}" 'BEGIN { printf "%.1f", b / 1e6 }')
	# under emulation the guest's CPU, not the line, limits this (31-82
	# Mbit/s seen, lower when the host is busy): the lower bound is one a
	# scheduler that dropped or policed super-packets misses (TCP gets a
	# few percent of the rate then), the upper one the line rate
	check "nic-$mode: TCP upload through the 100mbit NIC uplink: $mb Mbit/s, within 20..105" \
		test "${bps:-0}" -ge 20000000 -a "${bps:-0}" -le 105000000
	n=$(fast_pkts tcp4)
	check "nic-$mode: ... on Nascar's fast path ($n packets)" test "${n:-0}" -gt 100
	a=$(avg_len 100)
	# tbf splits a super-packet longer than its burst (two 1514-byte frames):
	# the average is at most that, against tens of KB unsplit
	check "nic-$mode: ... and its leaf sent frames of $a bytes on average (split: at most 3028)" \
		test "${a:-0}" -gt 0 -a "${a:-0}" -le 3028
	g=$(rig_vmm_stat guest_tx max_len)
	check "nic-$mode: control: the guest sent super-packets (largest $g bytes)" test "${g:-0}" -gt 10000

	na detach >/dev/null 2>&1
	check "nic-$mode: detach" test $? -eq 0
	root1=$(rig_exec gw tc qdisc show dev eth0 root | awk '{ print $2; exit }')
	check "nic-$mode: detach puts back the NIC's qdisc ($root0 -> $root1)" test "$root1" = "$root0"
	assert_clean "nic-$mode: detach leaves no trace"
done
apply_finish
