#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/e2e/test_apply_modes.sh: every mode on the tap rig with TSO and
# checksum offload on and off, and on the veth rig: xdp (native, and the
# uplink too), auto (its printed reason; it must keep the guest's TSO and
# never choose native XDP where a veth takes the redirect), IPv4/IPv6 TCP
# and UDP crossing with the guest's own address, detach --dry-run changing
# nothing, and detach leaving nothing.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
RIG_PREFIX=${RIG_PREFIX:-ntm$$}
. "$(cd "$(dirname "$0")" && pwd)/apply_lib.sh"
apply_need
apply_trap

traffic() { # traffic NAME
	local v=$1 f n
	# warm neighbours: with XDP alone a flow whose first packet meets a cold
	# neighbour stays on the kernel path for good (consistent, by design)
	rig_exec vm ping -q -c 1 -W 2 "$RIG_SRV_IP4" >/dev/null 2>&1
	rig_exec vm ping -6 -q -c 1 -W 2 "$RIG_SRV_IP6" >/dev/null 2>&1
	check "$v: tcp4" peer_is "$RIG_VM_IP4" tcp "$RIG_SRV_IP4"
	check "$v: udp4" peer_is "$RIG_VM_IP4" udp "$RIG_SRV_IP4"
	check "$v: tcp6" peer_is "$RIG_VM_IP6" tcp "$RIG_SRV_IP6"
	check "$v: udp6" peer_is "$RIG_VM_IP6" udp "$RIG_SRV_IP6"
	for f in tcp4 udp4 tcp6 udp6; do
		n=$(fast_pkts $f)
		check "$v: $f on the fast path ($n)" test "${n:-0}" -gt 0
	done
}

case_mode() { # case_mode LINK OFFLOAD MODE[/UPMODE] EXPECT-REGEX [srv-gro-off]
	local link=$1 off=$2 mode=$3 want=$4 v="$1-$2-${3/\//-}${5:+-$5}" out tso trace
	if ! rig_up "$link" --offload "$off"; then
		bad "$v: rig_up"
		return
	fi
	# native XDP redirects into the srv veth need GRO there; the server
	# keeps its veth's tx checksum offload (its default): native XDP on
	# the uplink completes the partial checksums it sends
	rig_exec srv ethtool -K eth0 gro on >/dev/null 2>&1
	[ "${5:-}" = srv-gro-off ] && rig_exec srv ethtool -K eth0 gro off >/dev/null 2>&1
	mkpolicy "$v" "$mode" || { bad "$v: compile"; return; }
	out=$(na --dry-run "$RIG_DIR/$v.nfc" 2>&1)
	echo "$out" | grep -Eq "^would attach tap0: $want" && [ ! -e "$PIN" ]
	check "$v: dry run says what it would do and changes nothing" test $? -eq 0
	tso=$(rig_exec gw ethtool -k tap0 | awk '/^tcp-segmentation-offload:/ { print $2 }')
	out=$(na "$RIG_DIR/$v.nfc" 2>&1)
	if [ $? -ne 0 ]; then
		bad "$v: apply" "$out"
		return
	fi
	echo "$out" | grep -Eq "^tap0: $want"
	check "$v: apply attaches as expected ($(echo "$out" | grep '^tap0:' | cut -c1-60))" \
		test $? -eq 0
	check "$v: the guest's TSO is unchanged ($tso)" test \
		"$(rig_exec gw ethtool -k tap0 | awk '/^tcp-segmentation-offload:/ { print $2 }')" = "$tso"
	traffic "$v"
	# detach --dry-run: says what it would take out and leaves it all
	trace=$(nascar_trace)
	out=$(na --dry-run detach 2>&1)
	check "$v: detach --dry-run exits 0" test $? -eq 0
	if echo "$out" | grep -Eq "^would detach tap0's (XDP|TC) program" &&
		echo "$out" | grep -Eq "^would remove [1-9][0-9]* pins under $PIN and the state in $STATE\$" &&
		echo "$out" | grep -q '^dry run: nothing was changed$'; then
		ok "$v: detach --dry-run says what it would remove"
	else
		bad "$v: detach --dry-run says what it would remove" "$(echo "$out" | tr '\n' '|' | cut -c1-400)"
	fi
	check "$v: detach --dry-run changes nothing" test "$(nascar_trace)" = "$trace"
	check "$v: tcp4 after detach --dry-run" peer_is "$RIG_VM_IP4" tcp "$RIG_SRV_IP4"
	na detach >/dev/null 2>&1
	check "$v: detach" test $? -eq 0
	assert_clean "$v: detach leaves no trace"
}

# explicit xdp: native on the tap (with the guest's TSO on, or where the
# kernel cannot tell whether eth0 takes native redirects, mode xdp is
# refused: test_mode_matrix_*.sh)
rig_kernel_at_least 6 3 && case_mode tap off xdp 'xdp \(xdp native\): the policy says xdp'
# auto on the rig: eth0 is a veth.  With GRO on at its peer it takes native
# XDP redirects (the kernel says so from 6.3 on): native XDP + TC on the tap;
# with GRO off there, or when the kernel cannot tell, TC alone.
if rig_kernel_at_least 6 3; then
	case_mode tap on auto 'hybrid \(xdp native \+ tc (tcx|netlink)\): tap with TSO on, tx checksum on: native XDP forwards'
	case_mode tap off auto 'hybrid \(xdp native \+ tc (tcx|netlink)\): tap with TSO and tx checksum off'
	case_mode tap on auto 'tc \(tc (tcx|netlink)\): tap with TSO on, tx checksum on, but veth eth0 does not take native XDP redirects now' srv-gro-off
else
	case_mode tap on auto 'tc \(tc (tcx|netlink)\): tap with TSO on, tx checksum on, but veth eth0 may refuse native XDP redirects'
	case_mode tap off auto 'tc \(tc (tcx|netlink)\): tap with TSO off, tx checksum off, but veth eth0 may refuse native XDP redirects'
fi
case_mode veth on auto 'tc \(tc (tcx|netlink)\): veth with TSO on'
case_mode veth off hybrid/tc 'hybrid \(xdp (native|generic) \+ tc (tcx|netlink)\)'
apply_finish
