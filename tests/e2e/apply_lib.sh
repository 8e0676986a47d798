#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/e2e/apply_lib.sh: helpers shared by the nascar-apply end-to-end tests
# (test_apply_*.sh, test_errors.sh).  Source it after setting RIG_PREFIX;
# it sources lib.sh (the rig).
#
# Every test gets its own pin directory /sys/fs/bpf/$RIG_PREFIX (and so its
# own state directory under /run/nascar), and runs nascar-apply in the gw
# namespace with nsenter --net (never `ip netns exec`, which hides bpffs).

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"

NA=${NASCAR_APPLY:-$_rig_o/nascar-apply}
NC=${NASCARC:-$_rig_o/nascarc}
PIN=/sys/fs/bpf/$RIG_PREFIX
STATE=/run/nascar/sys-fs-bpf-$RIG_PREFIX


# na ARGS...: nascar-apply in gw with this test's pin directory.
na() { rig_exec gw "$NA" --pin-dir "$PIN" "$@"; }

apply_need() {
	rig_need_root_tools
	local f
	for f in "$NA" "$NC" "$RIG_VMM"; do
		[ -x "$f" ] || { echo "SKIP: $(basename "$0") (no $f; run make)"; exit 77; }
	done
}

# apply_cleanup: detach (ignoring errors) then rig_down; for the EXIT trap.
apply_cleanup() {
	[ -e "/run/netns/$RIG_GW" ] && na detach >/dev/null 2>&1
	rig_exec gw true 2>/dev/null || "$NA" --pin-dir "$PIN" detach >/dev/null 2>&1
	rm -rf "$PIN" 2>/dev/null
	rig_down
}

apply_trap() {
	trap '_rc=$?; trap - EXIT; apply_cleanup; exit $_rc' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# mkpolicy NAME MODE[/UPMODE] [EXTRA-FLOWS]: write $RIG_DIR/NAME.nflow for
# the rig (tap0 guest with anti-spoofing in MODE, eth0 uplink in UPMODE,
# default MODE) and compile it to $RIG_DIR/NAME.nfc.  EXTRA-FLOWS go first
# (they win).
mkpolicy() {
	local name=$1 mode=${2%/*} upmode=${2#*/} extra=${3:-}
	mkdir -p "$RIG_DIR"
	cat >"$RIG_DIR/$name.nflow" <<EOP
interface tap0 { role guest; mode $mode; allow-src $RIG_VM_IP4, $RIG_VM_IP6; }
interface eth0 { role uplink; mode $upmode; }
class fast { priority 5; }
class ctl { priority 7; dscp ef; }
flow blocked { to $RIG_SRV_IP4 port 9999; proto udp; action drop; }
flow viastack { to $RIG_SRV_IP4 port 9998; proto udp; action stack; }
$extra
flow tcp4 { from $RIG_VM_IP4; to $RIG_SRV_IP4; proto tcp; class fast; }
flow udp4 { from $RIG_VM_IP4; to $RIG_SRV_IP4; proto udp; class ctl; }
flow tcp6 { from $RIG_VM_IP6; to $RIG_SRV_IP6; proto tcp; class fast; }
flow udp6 { from $RIG_VM_IP6; to $RIG_SRV_IP6; proto udp; class ctl; }
flow back4 { in eth0; to $RIG_VM_IP4; class fast; }
flow back6 { in eth0; to $RIG_VM_IP6; class fast; }
default { action stack; }
EOP
	"$NC" compile "$RIG_DIR/$name.nflow" -o "$RIG_DIR/$name.nfc" >"$RIG_DIR/$name.cc" 2>&1 || {
		cat "$RIG_DIR/$name.cc" >&2
		return 1
	}
}

# stat_flow FLOW FIELD...: sum of counters of a flow (stats --json), e.g.
# stat_flow tcp4 xdp_pkts tc_pkts
stat_flow() {
	local flow=$1 expr
	shift
	expr=$(printf '.%s + ' "$@")
	na stats --json 2>/dev/null |
		jq -r --arg f "$flow" "[.flows[] | select(.name == \$f) | (${expr% + })] | add // 0"
}

# fast_pkts FLOW: packets the fast path took for FLOW (xdp + tc).
fast_pkts() { stat_flow "$1" xdp_pkts tc_pkts; }

# status_field IFACE FIELD: from status --json.
status_field() {
	na status --json 2>/dev/null |
		jq -r --arg i "$1" --arg k "$2" '.interfaces[] | select(.name == $i) | .[$k]'
}

# assert_clean NAME: nothing of nascar left in gw (bpftool, tc, ip link,
# pins, state).
assert_clean() {
	local name=$1 why="" d
	for d in tap0 eth0; do
		rig_exec gw ip link show dev "$d" 2>/dev/null | grep -q ' xdp' && why="$why xdp-on-$d"
		[ -n "$(rig_exec gw tc filter show dev "$d" ingress 2>/dev/null)" ] &&
			why="$why tc-filter-on-$d"
		rig_exec gw tc qdisc show dev "$d" 2>/dev/null | grep -q clsact && why="$why clsact-on-$d"
	done
	rig_exec gw bpftool net show 2>/dev/null | grep -Eq 'nascar|tap0|eth0\(' && why="$why bpftool"
	[ -e "$PIN" ] && why="$why pin-dir"
	[ -e "$STATE/nascar.state" ] && why="$why state"
	if [ -z "$why" ]; then ok "$name"; else bad "$name" "left:$why"; fi
}

# nascar_trace: everything of nascar's in gw, as text (XDP, TC filters and
# qdiscs, VLAN maps, bpftool's view, the pins and the state), to compare
# before and after something that must change nothing.
nascar_trace() {
	local d
	for d in $(rig_exec gw ls /sys/class/net); do
		echo "== $d"
		rig_exec gw ip -d link show dev "$d" 2>&1 | grep -Eo 'prog/xdp.*|egress-qos-map.*'
		rig_exec gw tc qdisc show dev "$d" 2>&1
		rig_exec gw tc filter show dev "$d" ingress 2>&1
		rig_exec gw tc filter show dev "$d" egress 2>&1
	done
	rig_exec gw bpftool net show 2>&1
	ls -lR "$PIN" "$STATE" 2>&1
	cat "$STATE/nascar.state" 2>&1
}

# peer_is CLIENT_ADDR_EXPECTED KIND ADDR: TCP or UDP from vm to ADDR, the
# server must see the guest's own address.
peer_is() {
	local want=$1 kind=$2 addr=$3 port=${4:-7000} got
	if [ "$kind" = tcp ]; then
		got=$(rig_tcp_peer vm srv "$addr" "$port")
	else
		# three datagrams and one echo (rig_udp_peer); one retry on
		# another port for a loaded machine
		got=$(rig_udp_peer vm srv "$addr" "$((port + 1))")
		[ "$got" = "$want" ] || got=$(rig_udp_peer vm srv "$addr" "$((port + 51))")
	fi
	[ "$got" = "$want" ] || { echo "  $kind to $addr: server saw '$got', want '$want'" >&2; return 1; }
}

apply_finish() {
	[ "$fails" -eq 0 ]
}

# check_cross NAME [PORT]: TCP and UDP, IPv4 and IPv6, vm -> srv; for each
# the server must see the guest's own address (peer_is; ports PORT.. and
# PORT+1.., default 7000).
check_cross() {
	local v=$1 p=${2:-7000}
	check "$v: tcp4 server sees the guest's address" peer_is "$RIG_VM_IP4" tcp "$RIG_SRV_IP4" "$p"
	check "$v: udp4 server sees the guest's address" peer_is "$RIG_VM_IP4" udp "$RIG_SRV_IP4" "$p"
	check "$v: tcp6 server sees the guest's address" peer_is "$RIG_VM_IP6" tcp "$RIG_SRV_IP6" "$((p + 2))"
	check "$v: udp6 server sees the guest's address" peer_is "$RIG_VM_IP6" udp "$RIG_SRV_IP6" "$((p + 2))"
}

# check_fast NAME FLOW...: each FLOW has packets on the fast path (xdp + tc).
check_fast() {
	local v=$1 f n
	shift
	for f in "$@"; do
		n=$(fast_pkts "$f")
		check "$v: Nascar counted $f on the fast path ($n)" test "${n:-0}" -gt 0
	done
}
