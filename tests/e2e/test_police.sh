#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/e2e/test_police.sh: the policer on the tap rig (offloads on, as
# Firecracker sets them), with Nascar in tc and in hybrid mode.  Two policed
# classes of `rate 20mbit; police;` (default burst): one for a bulk TCP flow (iperf3,
# TSO on in the guest), one for a UDP flood from the guest well above the rate
# (iperf3 -u -b 200M).  Every rate is asserted between a lower and an upper
# bound, and a negative control (below) shows in each run that the bounds
# reject a policer at the wrong rate.  Measured on the 2-core dev machine,
# shared and noisy (tc and hybrid alike, Mbit/s, median (min..max) of n
# runs): UDP flood 19.99 (19.41..20.98, n=17); paced TCP 17.8 (14.9..19.1,
# n=32), its median of 3 17.9 (15.6..18.7, n=8); unpaced TCP 1.02
# (0.90..1.60, n=15).  With the classes at 40mbit: UDP 39.3..40.1, paced TCP
# 22.6..25.0; at 15mbit: UDP 14.9..15.1, paced 1.7..2.4; at 10mbit: UDP
# 9.5..10.0, paced 0.8..2.0.  It asserts:
#  - UDP flood: the bits/s srv received over a measurement window in the
#    middle of the flood (Ethernet frame bytes, as the policer counts them,
#    from srv's raw PREROUTING counters) are within +-10% of 20 Mbit/s;
#  - TCP bulk, paced: the rig's RTT is ~0.1 ms, so an unpaced TCP sender's
#    smallest window (2 segments per RTT, ~230 Mbit/s) is 10x the rate; a
#    path with a real RTT behaves like a paced sender, so the rate assertion
#    uses cubic paced at 1.25x the rate (iperf3 --fq-rate 25M:
#    SO_MAX_PACING_RATE, TCP's internal pacing; the policer must still drop
#    a fifth of it).  TCP backs off on policer drops, so its goodput sits
#    under the rate: asserted rate*0.7 < median of 3 runs of 4 s <= rate,
#    for the first of up to two sets of 3 runs that meets it.
#    The upper bound is the rate itself: goodput counts payload and the
#    policer whole frames (1448 of 1514 bytes, the headers once per
#    super-packet), so a policer at the rate passes at most about 19.6
#    Mbit/s of goodput (measured 19.16..19.18); at
#    1.1x the rate a policer at 2x (the control below, whose sender paces
#    at 25) could not be told apart whenever the shared host slowed the
#    sender (one CI run: 25.02, 21.58, 21.25, median 21.58 < 22).
#    A policer that drops too much collapses paced TCP (see the figures at
#    15 and 10 mbit above), so the lower bound is what shows the policer
#    drops no more than the rate asks;
#  - TCP bulk, unpaced (TSO super-packets, host's default congestion
#    control) in a `police;` class: a policer can only pass or drop a TSO
#    super-packet whole (BPF cannot cut a GSO skb; it now judges one by its
#    first segment and carries the rest as a debt, so the packets after it
#    are dropped whole instead), so one unpaced TCP stream still gets ~5-8%
#    of the class rate (1.2-1.6 Mbit/s of 20 measured).  That is what
#    `police;` means for TCP; a class without `police` is shaped instead and
#    TCP gets 0.96x its rate (test_shape.sh).  The bound a shaper meets
#    (goodput > rate/2) is reported as an expected failure (a SKIP line that
#    says XFAIL), and as a FAIL (XPASS) if it ever holds.  What is asserted:
#    it makes progress (> 0, a policer that drops everything fails) and
#    stays <= rate*1.1 (no policing at all gives Gbit/s, see the unpoliced
#    class);
#  - `nascar-apply stats --json` shows policer drops (police_pkts > 0) for
#    both classes and both flows;
#  - an unpoliced class (the rig policy's `fast`, TCP to port 5202) in the
#    same policy is not limited: well above twice the rate (a lower bound
#    only: there is no rate to hold it to);
#  - negative control (tc mode): the same measurements with the classes at
#    2x the rate (40mbit: a policer that lets too much through) and at 3/4
#    of it (15mbit: one that drops too much); each of the UDP and paced TCP
#    bounds must reject both, on the side the wrong rate is on.  Reported
#    as PASS of the control, FAIL when a bound accepts the wrong policer.
# The offered UDP load is checked to be really above the rate (the sender's
# own count), so a weak machine cannot turn the test into a tautology.
#
# Knobs: POLICE_CLASS_MBIT=N puts the main variants' classes at N mbit (the
# assertions stay at 20: with 40 or 15 the rate checks must FAIL);
# POLICE_CONTROLS="40 15" the control rates ("" for none).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
RIG_PREFIX=${RIG_PREFIX:-nscpol}
. "$(cd "$(dirname "$0")" && pwd)/apply_lib.sh"
apply_need
apply_trap

# the asserted rate; POLICE_CLASS_MBIT changes only the policy's class rate
RATE_MBIT=20
WANT=$((RATE_MBIT * 1000000))
CLASS_MBIT=${POLICE_CLASS_MBIT:-$RATE_MBIT}
CONTROLS=${POLICE_CONTROLS-40 15}
UPORT=5301 # UDP flood (policed class pudp)
TPORT=5201 # TCP bulk (policed class ptcp)
FPORT=5202 # TCP bulk, unpoliced class fast

# bounds (bits/s)
UDP_LO=$((WANT * 9 / 10)) UDP_HI=$((WANT * 11 / 10))
PACED_LO=$((WANT * 7 / 10)) PACED_HI=$WANT
UNPACED_HI=$((WANT * 11 / 10))
UNPACED_PROMISE=$((WANT / 2)) # what a shaper meets; a policer does not (XFAIL)

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
# between LO HI VALUE: LO <= VALUE <= HI (paced TCP: LO < VALUE)
between() { [ "${3:-0}" -ge "$1" ] && [ "${3:-0}" -le "$2" ]; }
udp_ok() { between "$UDP_LO" "$UDP_HI" "$1"; }
paced_ok() { [ "${1:-0}" -gt "$PACED_LO" ] && [ "${1:-0}" -le "$PACED_HI" ]; }
unpaced_ok() { [ "${1:-0}" -gt 0 ] && [ "${1:-0}" -le "$UNPACED_HI" ]; }

# xfail_issue10 NAME CMD...: the check CMD is known to fail (a policer and TSO).
xfail_issue10() {
	local n=$1
	shift
	if "$@"; then
		bad "$n" "XPASS: a policer now keeps unpaced TSO TCP near its rate: make it a plain check"
	else
		echo "SKIP: $n (XFAIL: a policer passes or drops a TSO super-packet whole; TCP wants a shaped class)"
	fi
}

# measure NAME MODE CLASS_MBIT [nounpaced]: apply a policy with both classes
# at CLASS_MBIT, run the UDP flood and the paced and unpaced TCP bulk; sets
# U_BPS (flood at srv), U_SENT (flood offered), U_MS (window), P_BPS (paced
# TCP, median), P_ALL (its runs), N_BPS (unpaced TCP).  Returns 1 (after a
# FAIL line) when the policy cannot be applied.
measure() {
	local v=$1 mode=$2 cm=$3 unpaced=${4:-unpaced} out b0 b1 t0 t1 t
	U_BPS=0 U_SENT=0 U_MS=0 P_BPS=0 P_ALL='' N_BPS=0
	mkpolicy "$v" "$mode" "class ptcp { priority 1; rate ${cm}mbit; police; }
class pudp { priority 1; rate ${cm}mbit; police; }
flow bulk { from $RIG_VM_IP4; to $RIG_SRV_IP4 port $TPORT; proto tcp; class ptcp; }
flow flood { from $RIG_VM_IP4; to $RIG_SRV_IP4 port $UPORT; proto udp; class pudp; }" ||
		{ bad "$v: compile"; return 1; }
	out=$(na "$RIG_DIR/$v.nfc" 2>&1) || { bad "$v: apply" "$out"; return 1; }
	rig_exec vm ping -q -c 1 -W 2 "$RIG_SRV_IP4" >/dev/null 2>&1

	# UDP flood, 5 s at 200 Mbit/s offered; measure 1.0 s .. 4.0 s
	if rig_iperf_server srv "$UPORT"; then
		rig_bg "flood-$v" rig_exec vm timeout 20 iperf3 -c "$RIG_SRV_IP4" -p "$UPORT" -u \
			-b 200M -l 1000 -t 5 -J
		sleep 1
		b0=$(udp_frame_bytes) t0=$(now_ns)
		sleep 3
		b1=$(udp_frame_bytes) t1=$(now_ns)
		rig_wait_for 15 bash -c "! kill -0 \$(cat '$RIG_DIR/flood-$v.pid') 2>/dev/null"
		rig_bg_stop "flood-$v" 1
		rig_bg_stop "iperf-srv-$UPORT" 1
		U_BPS=$(awk -v b=$((b1 - b0)) -v t=$((t1 - t0)) 'BEGIN { printf "%d", b * 8 / (t / 1e9) }')
		U_MS=$(((t1 - t0) / 1000000))
		U_SENT=$(jq -r '.end.sum.bytes // 0' "$RIG_DIR/flood-$v.log" 2>/dev/null)
		U_SENT=$(awk -v s="${U_SENT:-0}" 'BEGIN { printf "%d", s * 8 / 5 }')
	else
		bad "$v: iperf3 server (udp)"
	fi

	# TCP bulk on the policed class, paced at 1.25x the rate (see top):
	# three runs of 4 s, the median; a second three when that median is
	# outside the bounds (a stall of the shared host: one CI run's
	# median was 11.9).  A control must be rejected by both.
	local runs
	for _ in 1 2; do
		runs=""
		for _ in 1 2 3; do
			t=$(rig_iperf_tcp vm srv "$RIG_SRV_IP4" 4 -C cubic --fq-rate $((RATE_MBIT * 5 / 4))M)
			runs="$runs ${t:-0}"
		done
		# shellcheck disable=SC2086 # one run per word
		P_BPS=$(printf '%s\n' $runs | rig_median)
		P_BPS=${P_BPS%.*}
		P_ALL="${P_ALL:+$P_ALL; }$(for t in $runs; do mbit "$t"; echo; done | paste -sd' ')"
		paced_ok "$P_BPS" && break
	done
	# and unpaced, TSO super-packets and all
	if [ "$unpaced" = unpaced ]; then
		N_BPS=$(rig_iperf_tcp vm srv "$RIG_SRV_IP4" 4)
		N_BPS=${N_BPS:-0}
	fi
	return 0
}

variant() { # variant NAME MODE[/UPMODE]
	local v=$1 out n cp fp free f
	measure "$v" "$2" "$CLASS_MBIT" || return
	check "$v: UDP flood offered well above the rate ($((U_SENT / 1000000)) Mbit/s)" \
		test "$U_SENT" -gt $((WANT * 2))
	check "$v: UDP flood held to ${RATE_MBIT} Mbit/s +-10% ($(mbit "$U_BPS") Mbit/s over $U_MS ms)" \
		udp_ok "$U_BPS"
	check "$v: TCP bulk (paced 1.25x) policed: rate*0.7 < goodput <= rate (median $(mbit "$P_BPS") Mbit/s of $P_ALL)" \
		paced_ok "$P_BPS"
	check "$v: TCP bulk (unpaced, TSO) policed: makes progress, 0 < goodput <= rate*1.1 ($(mbit "$N_BPS") Mbit/s)" \
		unpaced_ok "$N_BPS"
	xfail_issue10 "$v: TCP bulk (unpaced, TSO) policed: goodput > rate/2 ($(mbit "$N_BPS") Mbit/s)" \
		test "$N_BPS" -gt "$UNPACED_PROMISE"

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

# control_reject NAME OK_FN LO HI VALUE SIDE: the bound check OK_FN must
# reject VALUE, and VALUE lie on SIDE (above: > HI, below: < LO), so that a
# broken rig (zeros everywhere) does not pass the control.
control_reject() {
	local n=$1 fn=$2 lo=$3 hi=$4 val=${5:-0} side=$6
	if "$fn" "$val"; then
		bad "$n" "the bound accepts it: it cannot tell this policer from the right one"
	elif [ "$side" = above ] && [ "$val" -gt "$hi" ]; then
		ok "$n"
	elif [ "$side" = below ] && [ "$val" -lt "$lo" ]; then
		ok "$n"
	else
		bad "$n" "rejected on the wrong side ($(mbit "$val") Mbit/s): the rig, not the bound"
	fi
}

control() { # control CLASS_MBIT: tc mode, classes at the wrong rate
	local cm=$1 v=police-ctl$1 side=above
	[ "$cm" -lt "$RATE_MBIT" ] && side=below
	measure "$v" tc "$cm" nounpaced || return
	check "$v: UDP flood offered well above the rate ($((U_SENT / 1000000)) Mbit/s)" \
		test "$U_SENT" -gt $((WANT * 2))
	control_reject "$v: negative control: policer at ${cm}mbit fails the UDP bound ($(mbit "$U_BPS") Mbit/s)" \
		udp_ok "$UDP_LO" "$UDP_HI" "$U_BPS" "$side"
	control_reject "$v: negative control: policer at ${cm}mbit fails the paced TCP bound (median $(mbit "$P_BPS") Mbit/s of $P_ALL)" \
		paced_ok "$PACED_LO" "$PACED_HI" "$P_BPS" "$side"
	na detach >/dev/null 2>&1
	assert_clean "$v: detach leaves no trace"
}

variant police-tc tc
variant police-hybrid hybrid/tc
for c in $CONTROLS; do
	control "$c"
done
apply_finish
