#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/e2e/test_reapply_modes.sh: a re-apply converges every interface to
# exactly what the new policy's mode says (issue 8, defect 5).
#
# On the veth rig (offloads on, GRO on at the server and the guest so native
# XDP can redirect into both of gw's veths) one policy is re-applied with its mode changed
# step by step, hybrid -> tc -> hybrid -> xdp -> auto -> tc, without a
# detach in between.  After each step: native XDP is attached exactly where
# the mode wants it, TC likewise, status reports the new mode, the guest's
# TSO (the peer of gw's tap0, which native XDP there turns off) is on
# again as soon as XDP is gone, and traffic crosses on the fast path with
# the guest's own address.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
RIG_PREFIX=${RIG_PREFIX:-nrm$$}
. "$(cd "$(dirname "$0")" && pwd)/apply_lib.sh"
apply_need
apply_trap

if ! rig_up veth --offload on; then
	bad "reapply-modes: rig_up"
	exit 1
fi
rig_baseline_rules || bad "reapply-modes: the study's NAT rules"
# GRO on at both far ends, so both of gw's veths take native redirects
# and mode xdp is allowed on both interfaces
rig_exec srv ethtool -K eth0 gro on >/dev/null 2>&1
rig_exec vm ethtool -K eth0 gro on >/dev/null 2>&1

has_xdp() { rig_exec gw ip link show dev "$1" | grep -q ' xdp'; }
guest_tso() { rig_exec vm ethtool -k eth0 | awk '/^tcp-segmentation-offload:/ { print $2 }'; }
tso0=$(guest_tso)

step=0
for mode in hybrid tc hybrid xdp auto tc; do
	step=$((step + 1))
	v="step $step ($mode)"
	mkpolicy "s$step" "$mode" || { bad "$v: compile"; continue; }
	out=$(na "$RIG_DIR/s$step.nfc" 2>&1) || { bad "$v: re-apply" "$out"; continue; }
	# what the mode wants on tap0 (a veth with TSO on): auto chooses TC
	case $mode in
	xdp) want_xdp=1 want_tc=0 ;;
	hybrid) want_xdp=1 want_tc=1 ;;
	*) want_xdp=0 want_tc=1 ;;
	esac
	for d in tap0 eth0; do
		got=0
		has_xdp "$d" && got=1
		check "$v: $d: XDP attached: $got (want $want_xdp)" test "$got" -eq "$want_xdp"
		t=$(status_field "$d" tc)
		got=1
		[ "$t" = none ] && got=0
		check "$v: $d: TC attached: $t (want $want_tc)" test "$got" -eq "$want_tc"
	done
	m=$(status_field tap0 mode)
	want_m=$mode
	[ "$mode" = auto ] && want_m=tc
	check "$v: status says mode $m (want $want_m)" test "$m" = "$want_m"
	if [ "$want_xdp" -eq 0 ]; then
		check "$v: the guest's TSO is back ($(guest_tso), was $tso0)" test "$(guest_tso)" = "$tso0"
	fi
	check "$v: tcp4: the server sees the guest's address" \
		peer_is "$RIG_VM_IP4" tcp "$RIG_SRV_IP4" $((7000 + step * 10))
	check "$v: udp4: the server sees the guest's address" \
		peer_is "$RIG_VM_IP4" udp "$RIG_SRV_IP4" $((7002 + step * 10))
done
na detach >/dev/null 2>&1
check "reapply-modes: detach" test $? -eq 0
assert_clean "reapply-modes: detach leaves no trace"
check "reapply-modes: the guest's TSO is as before ($(guest_tso))" test "$(guest_tso)" = "$tso0"
apply_finish
