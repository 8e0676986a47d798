#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/e2e/test_route_change.sh: route and neighbour changes under a running
# flow forwarded by Nascar (tap rig, tc and hybrid mode).  A second gw--srv
# link (gw eth1 10.1.0.1 <-> srv eth1 10.1.0.10, declared in the policy) and
# a steady UDP stream vm -> 10.0.0.10:7400 (~150 datagrams/s; srv counts what
# arrives per interface in its raw table).  Cached flows re-look their route
# up after NASCAR_FIB_TTL_NS (250 ms), so each change must show within 1 s:
#  1. route: 10.0.0.10/32 via 10.1.0.10 dev eth1 -> the stream arrives on
#     srv eth1 within 1 s, eth0 gets nothing more, still on the fast path
#     (no stack packets for the flow);
#  2. neighbour: srv eth1 changes its MAC (the stream stops: frames to the
#     old MAC are not for srv), gw's permanent neighbour entry is replaced
#     with the new MAC -> the stream arrives again within 1 s;
#  3. route removed (the /32 and the connected 10.0.0.0/24): within 1 s the
#     flow is counted as stack and the packets reach gw's kernel (its
#     IpExtInNoRoutes rises: not blackholed by the fast path), nothing
#     reaches srv, the fast path counts nothing more;
#  4. route restored -> within 1 s the stream arrives on eth0 again, on the
#     fast path.
# Then detach leaves no trace (eth1 included).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
RIG_PREFIX=${RIG_PREFIX:-nscroute}
. "$(cd "$(dirname "$0")" && pwd)/apply_lib.sh"
apply_need
apply_trap

PORT=7400
NEWMAC=02:00:00:00:0e:01
# the deadline for a change to show (s); ROUTE_DEADLINE=0 to see it fail
DEADLINE=${ROUTE_DEADLINE:-1}

# rx IF: datagrams of the stream srv received on IF so far
rx() {
	rig_exec srv iptables -w 5 -t raw -L PREROUTING -v -n -x |
		awk -v i="$1" -v p="dpt:$PORT" '$6 == i && ($0 ~ p" " || $0 ~ p"$") { s += $1 } END { print s + 0 }'
}
rises() { [ "$("$@")" -gt "$base" ]; } # rises CMD...: CMD's number > $base
no_routes() { rig_exec gw nstat -saz IpExtInNoRoutes | awk '$1 == "IpExtInNoRoutes" { print $2 + 0 }'; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# within NAME CMD...: CMD's number rises above its current value within
# $DEADLINE s; reports the time it took
within() {
	local n=$1 t1
	shift
	if rig_wait_for "$DEADLINE" rises "$@"; then
		t1=$(now_ms)
		check "$n (after $((t1 - T0)) ms)" true
	else
		bad "$n" "nothing within ${DEADLINE} s"
	fi
}

setup() {
	rig_up tap --offload on || return 1
	ip -n "$RIG_GW" link add eth1 type veth peer name eth1 netns "$RIG_SRV" || return 1
	ip -n "$RIG_GW" addr add 10.1.0.1/24 dev eth1
	ip -n "$RIG_SRV" addr add 10.1.0.10/24 dev eth1
	ip -n "$RIG_GW" link set eth1 up
	ip -n "$RIG_SRV" link set eth1 up
	# srv takes 10.0.0.10 on eth1 too (its route back is via eth0)
	rig_exec srv sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth1.rp_filter=0
	# native XDP redirects into a veth need GRO on its peer
	rig_exec srv ethtool -K eth0 gro on >/dev/null 2>&1
	rig_exec srv ethtool -K eth1 gro on >/dev/null 2>&1
	rig_wait_for 5 _rig_carrier gw eth1 || return 1
	local i
	for i in eth0 eth1; do
		rig_exec srv iptables -w 5 -t raw -A PREROUTING -i $i -p udp --dport $PORT -j DROP || return 1
	done
	rig_exec vm ping -q -c 1 -W 2 "$RIG_SRV_IP4" >/dev/null 2>&1
	rig_exec gw ping -q -c 1 -W 2 10.1.0.10 >/dev/null 2>&1
}

variant() { # variant NAME MODE[/UPMODE]
	local v=$1 mode=$2 out a b f0 f1 s0 s1 mac
	if ! setup; then
		bad "$v: rig set-up"
		return
	fi
	mkpolicy "$v" "$mode" "interface eth1 { role uplink; mode ${mode#*/}; }" ||
		{ bad "$v: compile"; return; }
	out=$(na "$RIG_DIR/$v.nfc" 2>&1) || { bad "$v: apply" "$out"; return; }
	echo "$out" | grep -q '^eth1: ' || bad "$v: eth1 attached" "$out"

	# shellcheck disable=SC2016  # expanded by the inner bash
	rig_bg stream rig_exec vm timeout 40 bash -c '
		exec 3>"/dev/udp/$1/$2" || exit 1
		for ((i = 0; i < 8000; i++)); do printf x >&3 2>/dev/null; sleep 0.005; done' \
		stream "$RIG_SRV_IP4" "$PORT"
	base=0 T0=$(now_ms)
	within "$v: the stream arrives on eth0" rx eth0
	sleep 0.5
	check "$v: ... on the fast path ($(fast_pkts udp4))" test "$(fast_pkts udp4)" -gt 0

	# 1. new route via the second link
	rig_exec gw ip route add "$RIG_SRV_IP4/32" via 10.1.0.10 dev eth1
	base=$(rx eth1) T0=$(now_ms)
	s0=$(stat_flow udp4 stack_pkts)
	within "$v: route changed to eth1: the stream follows within ${DEADLINE} s" rx eth1
	sleep 0.3
	a=$(rx eth0) f0=$(fast_pkts udp4)
	sleep 0.5
	b=$(rx eth0) f1=$(fast_pkts udp4) s1=$(stat_flow udp4 stack_pkts)
	check "$v: ... nothing more on the old route (eth0 $a -> $b)" test "$a" -eq "$b"
	check "$v: ... still on the fast path (fast +$((f1 - f0)), stack +$((s1 - s0)))" \
		test "$f1" -gt "$f0" -a "$s1" -eq "$s0"

	# 2. neighbour: srv eth1 gets a new MAC, gw's entry follows
	mac=$(rig_exec srv ip -br link show eth1 | awk '{ print $3 }')
	rig_exec gw ip neigh replace 10.1.0.10 lladdr "$mac" dev eth1 nud permanent
	rig_exec srv ip link set eth1 address "$NEWMAC"
	sleep 0.4
	a=$(rx eth1)
	sleep 0.4
	b=$(rx eth1)
	check "$v: srv's MAC changed: the stream stops while gw's neighbour is stale ($a -> $b)" \
		test "$a" -eq "$b"
	rig_exec gw ip neigh replace 10.1.0.10 lladdr "$NEWMAC" dev eth1 nud permanent
	base=$b T0=$(now_ms)
	within "$v: neighbour replaced: the stream follows within ${DEADLINE} s" rx eth1

	# 3. no route at all: the stack, not a black hole
	rig_exec gw ip route del "$RIG_SRV_IP4/32"
	rig_exec gw ip route del 10.0.0.0/24 dev eth0
	s0=$(stat_flow udp4 stack_pkts) T0=$(now_ms)
	base=$s0
	within "$v: route removed: the flow goes to the stack within ${DEADLINE} s" stat_flow udp4 stack_pkts
	sleep 0.3
	a=$(($(rx eth0) + $(rx eth1))) f0=$(fast_pkts udp4) n0=$(no_routes)
	sleep 0.5
	b=$(($(rx eth0) + $(rx eth1))) f1=$(fast_pkts udp4) n1=$(no_routes)
	check "$v: ... the kernel gets the packets (IpExtInNoRoutes +$((n1 - n0)))" test "$n1" -gt "$n0"
	check "$v: ... nothing reaches srv ($a -> $b), the fast path counts nothing (+$((f1 - f0)))" \
		test "$a" -eq "$b" -a "$f1" -eq "$f0"

	# 4. route back
	rig_exec gw ip route add 10.0.0.0/24 dev eth0 src "$RIG_GW_ETH_IP4"
	base=$(rx eth0) T0=$(now_ms)
	within "$v: route restored: the stream arrives again within ${DEADLINE} s" rx eth0
	sleep 0.3
	f0=$(fast_pkts udp4)
	sleep 0.4
	check "$v: ... on the fast path" test "$(fast_pkts udp4)" -gt "$f0"

	rig_bg_stop stream 1
	na detach >/dev/null 2>&1
	check "$v: detach" test $? -eq 0
	assert_clean "$v: detach leaves no trace"
	[ -z "$(rig_exec gw tc filter show dev eth1 ingress 2>/dev/null)" ] &&
		! rig_exec gw tc qdisc show dev eth1 | grep -q clsact
	check "$v: ... on eth1 too" test $? -eq 0
}

variant route-tc tc
variant route-hybrid hybrid/tc
apply_finish
