#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/e2e/test_police.sh: the policer on the tap rig (offloads on, as
# Firecracker sets them), with Nascar in tc and in hybrid mode.  Two policed
# classes of `rate 20mbit` (default burst): one for a bulk TCP flow (iperf3,
# TSO on in the guest), one for a UDP flood from the guest well above the rate
# (iperf3 -u -b 200M).  It asserts:
#  - UDP flood: the bits/s srv received over a measurement window in the
#    middle of the flood (Ethernet frame bytes, as the policer counts them,
#    from srv's raw PREROUTING counters) are within +-10% of 20 Mbit/s;
#  - TCP bulk (4 s): TCP backs off on policer drops, so its goodput sits
#    somewhat under the rate; asserted: rate*0.5 < goodput <= rate*1.1.
#    The rig's RTT is ~0.1 ms, so an unpaced TCP sender's smallest window
#    (2 segments per RTT, ~230 Mbit/s) is 10x the rate: only retransmission
#    timeouts slow it down, and it gets 5-20% of the rate whatever the
#    policer does (measured: cubic ~3.5, bbr ~1 Mbit/s; bbr's policer
#    detection locks onto that).  A path with a real RTT behaves like a
#    paced sender, so that assertion uses cubic paced at 1.25x the rate
#    (iperf3 --fq-rate 25M: SO_MAX_PACING_RATE, TCP's internal pacing; the
#    policer must still drop a fifth of it).  The unpaced TSO flow (host's
#    default congestion control) is asserted only to be <= rate*1.1 and to
#    make progress (> 0), with policer drops counted;
#  - `nascar-apply stats --json` shows policer drops (police_pkts > 0) for
#    both classes and both flows;
#  - an unpoliced class (the rig policy's `fast`, TCP to port 5202) in the
#    same policy is not limited: well above twice the rate.
# The offered UDP load is checked to be really above the rate (the sender's
# own count), so a weak machine cannot turn the test into a tautology.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
RIG_PREFIX=${RIG_PREFIX:-nscpol}
. "$(cd "$(dirname "$0")" && pwd)/apply_lib.sh"
apply_need
apply_trap

# the asserted rate; POLICE_CLASS_MBIT changes only the policy's class rate
# (to prove the assertions can fail: e.g. 40)
RATE_MBIT=20
WANT=$((RATE_MBIT * 1000000))
CLASS_MBIT=${POLICE_CLASS_MBIT:-$RATE_MBIT}
UPORT=5301 # UDP flood (policed class pudp)
TPORT=5201 # TCP bulk (policed class ptcp)
FPORT=5202 # TCP bulk, unpoliced class fast

if ! rig_up tap --offload on; then
	bad "police: rig_up"
	exit 1
fi
rig_exec srv ethtool -K eth0 gro on >/dev/null 2>&1
# count what arrives at srv for the flood (no drop: iperf3 receives it)
rig_udp_count_start srv "$UPORT" || bad "police: srv counter"

# udp_frame_bytes: Ethernet frame bytes of the flood that reached srv so far
# (IP bytes + 14 per packet: the policer counts whole frames)
udp_frame_bytes() {
	rig_exec srv iptables -w 5 -t raw -L PREROUTING -v -n -x |
		awk -v p="dpt:$UPORT" '$0 ~ p" " || $0 ~ p"$" { s += $2 + 14 * $1 } END { print s + 0 }'
}
now_ns() { date +%s%N; }
mbit() { awk -v b="${1:-0}" 'BEGIN { printf "%.2f", b / 1e6 }'; }

variant() { # variant NAME MODE[/UPMODE]
	local v=$1 out b0 b1 t0 t1 bps lo hi n sent cp fp tcp free f
	mkpolicy "$v" "$2" "class ptcp { priority 1; rate ${CLASS_MBIT}mbit; }
class pudp { priority 1; rate ${CLASS_MBIT}mbit; }
flow bulk { from $RIG_VM_IP4; to $RIG_SRV_IP4 port $TPORT; proto tcp; class ptcp; }
flow flood { from $RIG_VM_IP4; to $RIG_SRV_IP4 port $UPORT; proto udp; class pudp; }" ||
		{ bad "$v: compile"; return; }
	out=$(na "$RIG_DIR/$v.nfc" 2>&1) || { bad "$v: apply" "$out"; return; }
	rig_exec vm ping -q -c 1 -W 2 "$RIG_SRV_IP4" >/dev/null 2>&1

	# UDP flood, 5 s at 200 Mbit/s offered; measure 1.0 s .. 4.0 s
	rig_iperf_server srv "$UPORT" || { bad "$v: iperf3 server (udp)"; return; }
	rig_bg "flood-$v" rig_exec vm timeout 20 iperf3 -c "$RIG_SRV_IP4" -p "$UPORT" -u \
		-b 200M -l 1000 -t 5 -J
	sleep 1
	b0=$(udp_frame_bytes) t0=$(now_ns)
	sleep 3
	b1=$(udp_frame_bytes) t1=$(now_ns)
	rig_wait_for 15 bash -c "! kill -0 \$(cat '$RIG_DIR/flood-$v.pid') 2>/dev/null"
	rig_bg_stop "flood-$v" 1
	rig_bg_stop "iperf-srv-$UPORT" 1
	bps=$(awk -v b=$((b1 - b0)) -v t=$((t1 - t0)) 'BEGIN { printf "%d", b * 8 / (t / 1e9) }')
	sent=$(jq -r '.end.sum.bytes // 0' "$RIG_DIR/flood-$v.log" 2>/dev/null)
	sent=$(awk -v s="${sent:-0}" 'BEGIN { printf "%d", s * 8 / 5 }')
	check "$v: UDP flood offered well above the rate ($((sent / 1000000)) Mbit/s)" \
		test "$sent" -gt $((WANT * 2))
	lo=$((WANT * 9 / 10)) hi=$((WANT * 11 / 10))
	check "$v: UDP flood held to ${RATE_MBIT} Mbit/s +-10% ($(mbit "$bps") Mbit/s over $(((t1 - t0) / 1000000)) ms)" \
		test "$bps" -ge "$lo" -a "$bps" -le "$hi"

	# TCP bulk on the policed class, 4 s: paced at 1.25x the rate (see top)
	tcp=$(rig_iperf_tcp vm srv "$RIG_SRV_IP4" 4 -C cubic --fq-rate $((RATE_MBIT * 5 / 4))M)
	check "$v: TCP bulk (paced 1.25x) policed: rate/2 < goodput <= rate*1.1 ($(mbit "$tcp") Mbit/s)" \
		test "${tcp:-0}" -gt $((WANT / 2)) -a "${tcp:-0}" -le "$hi"
	# and unpaced, TSO super-packets and all
	tcp=$(rig_iperf_tcp vm srv "$RIG_SRV_IP4" 4)
	check "$v: TCP bulk (unpaced, TSO) policed: 0 < goodput <= rate*1.1 ($(mbit "$tcp") Mbit/s)" \
		test "${tcp:-0}" -gt 0 -a "${tcp:-0}" -le "$hi"

	# TCP bulk on the unpoliced class (port 5202), 2 s
	rig_iperf_server srv "$FPORT" || { bad "$v: iperf3 server (free)"; return; }
	free=$(rig_iperf_client vm "$RIG_SRV_IP4" 2 -p "$FPORT")
	rig_bg_stop "iperf-srv-$FPORT" 1
	check "$v: unpoliced class not limited ($((${free:-0} / 1000000)) Mbit/s > 2x rate)" \
		test "${free:-0}" -gt $((WANT * 22 / 10))

	# stats: policer drops per class and per flow
	out=$(na stats --json 2>/dev/null)
	for cp in ptcp pudp; do
		n=$(echo "$out" | jq -r --arg c "$cp" '[.classes[] | select(.name == $c) | .police_pkts] | add // 0')
		check "$v: stats show policer drops for class $cp ($n)" test "${n:-0}" -gt 0
	done
	for fp in bulk flood; do
		n=$(echo "$out" | jq -r --arg f "$fp" '[.flows[] | select(.name == $f) | .police_pkts] | add // 0')
		check "$v: stats show policer drops for flow $fp ($n)" test "${n:-0}" -gt 0
	done
	n=$(echo "$out" | jq -r '[.classes[] | select(.name == "fast") | .police_pkts] | add // 0')
	f=$(fast_pkts tcp4)
	check "$v: no policer drops in the unpoliced class ($n), its flow was on the fast path ($f)" \
		test "${n:-1}" -eq 0 -a "${f:-0}" -gt 0
	na detach >/dev/null 2>&1
	assert_clean "$v: detach leaves no trace"
}

variant police-tc tc
variant police-hybrid hybrid/tc
apply_finish
