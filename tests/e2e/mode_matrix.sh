#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/e2e/mode_matrix.sh GUEST-OFFLOADS: every policy mode against every
# uplink state, on the tap rig with the study's NAT rules (issue 8, defects
# 1-3).  Run by test_mode_matrix_on.sh and test_mode_matrix_off.sh (the
# guest's offloads: Firecracker's default TSO + checksum offload, or none).
#
# Cells: mode (xdp, tc, hybrid, auto, on both interfaces) x the server's
# veth (GRO on/off: whether gw's eth0 takes native XDP redirects; tx
# checksum on/off: whether the server's TCP reaches gw with partial
# checksums).  Each cell is one of:
#  - applied: UDP and TCP cross in both directions with the guest's own
#    address at the server (a split or NATed connection fails this), a
#    bulk TCP transfer each way moves data, no checksum errors at the guest
#    or the server, and Nascar counted the flows on its fast path;
#  - refused: nascar-apply exits 1 with a message that names the cause and
#    the mode to use, and nothing changed.
# Never silence: a cell that neither delivers nor refuses fails.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
GUEST=${1:?usage: mode_matrix.sh on|off}
RIG_PREFIX=${RIG_PREFIX:-nmx$GUEST$$}
. "$(cd "$(dirname "$0")" && pwd)/apply_lib.sh"
apply_need
apply_trap

MODES=${MATRIX_MODES:-xdp tc hybrid auto}
# the floor of a working bulk transfer here is in the hundreds of Mbit/s;
# a split, reset or checksum-broken connection moves (next to) nothing
MIN_BPS=${MATRIX_MIN_BPS:-20000000}

# csum_errors NS: TCP + UDP InCsumErrors of the namespace
csum_errors() {
	rig_exec "$1" cat /proc/net/snmp | awk '
		($1 == "Tcp:" || $1 == "Udp:") && !h[$1]++ { for (i = 2; i <= NF; i++) if ($i == "InCsumErrors") c[$1] = i; next }
		($1 == "Tcp:" || $1 == "Udp:") && c[$1] { s += $(c[$1]) }
		END { print s + 0 }'
}

# bidir NAME PORT: 1 s of iperf3 --bidir from vm; both directions must move
# at least MIN_BPS
bidir() {
	local v=$1 port=$2 up down
	if ! rig_iperf_server srv "$port"; then
		bad "$v: iperf3 server"
		return
	fi
	up=$(rig_iperf_client vm "$RIG_SRV_IP4" 1 -p "$port" --bidir)
	down=$(jq -r '.end.sum_received_bidir_reverse.bits_per_second // 0 | floor' \
		"$RIG_DIR/iperf.json" 2>/dev/null)
	rig_bg_stop "iperf-srv-$port" 2
	check "$v: bulk TCP guest -> server ($((${up:-0} / 1000000)) Mbit/s)" \
		test "${up:-0}" -ge "$MIN_BPS"
	check "$v: bulk TCP server -> guest ($((${down:-0} / 1000000)) Mbit/s)" \
		test "${down:-0}" -ge "$MIN_BPS"
}

# refusal MODE GRO: the cause nascar-apply must name, or "" when the cell
# must apply
refusal() {
	[ "$1" = xdp ] || return 0
	if [ "$GUEST" = on ]; then
		echo "the tap has TSO on"
	elif [ "$2" = off ] || ! rig_kernel_at_least 6 3; then
		echo "mode xdp cannot forward to eth0"
	fi
}

if ! rig_up tap --offload "$GUEST"; then
	bad "matrix-$GUEST: rig_up"
	exit 1
fi
rig_baseline_rules || bad "matrix-$GUEST: the study's NAT rules"

cell=0
for gro in on off; do
	for tx in on off; do
		rig_exec srv ethtool -K eth0 gro "$gro" tx "$tx" >/dev/null 2>&1
		for mode in $MODES; do
			cell=$((cell + 1))
			v="guest-$GUEST/srv-gro-$gro-tx-$tx/$mode"
			port=$((7000 + cell * 10))
			mkpolicy "c$cell" "$mode" || { bad "$v: compile"; continue; }
			why=$(refusal "$mode" "$gro")
			out=$(na "$RIG_DIR/c$cell.nfc" 2>&1)
			rc=$?
			if [ -n "$why" ]; then
				check "$v: refused (exit $rc)" test "$rc" -eq 1
				echo "$out" | grep -q "$why" && echo "$out" | grep -q "use mode hybrid or auto"
				check "$v: ... saying why ('$why') and what to use" test $? -eq 0
				assert_clean "$v: ... and changing nothing"
				[ "$rc" -eq 0 ] && na detach >/dev/null 2>&1
				continue
			fi
			if [ "$rc" -ne 0 ]; then
				bad "$v: apply" "$out"
				na detach >/dev/null 2>&1
				continue
			fi
			rig_exec vm ping -q -c 1 -W 2 "$RIG_SRV_IP4" >/dev/null 2>&1
			rig_exec srv ping -q -c 1 -W 2 "$RIG_VM_IP4" >/dev/null 2>&1
			e0=$(($(csum_errors vm) + $(csum_errors srv)))
			check "$v: udp: the server sees the guest's address" \
				peer_is "$RIG_VM_IP4" udp "$RIG_SRV_IP4" "$port"
			check "$v: tcp: the server sees the guest's address" \
				peer_is "$RIG_VM_IP4" tcp "$RIG_SRV_IP4" "$((port + 2))"
			bidir "$v" "$((port + 3))"
			e1=$(($(csum_errors vm) + $(csum_errors srv)))
			check "$v: no checksum errors at the guest or the server ($((e1 - e0)))" \
				test "$e1" -eq "$e0"
			for f in tcp4 udp4 back4; do
				n=$(fast_pkts $f)
				check "$v: $f on Nascar's fast path ($n)" test "${n:-0}" -gt 0
			done
			na detach >/dev/null 2>&1
			check "$v: detach" test $? -eq 0
			assert_clean "$v: detach leaves no trace"
		done
	done
done
apply_finish
