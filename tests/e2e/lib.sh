#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/e2e/lib.sh: the Nascar end-to-end rig (bash; source it from bash).
#
#   vm (guest) --[tap0|eth0]-- gw (host: tap0, eth0) --[eth0|eth0]-- srv
#
# The vm--gw link is either two taps bridged by `nascar-vmm forward` (as a
# Firecracker guest's virtio-net would), or a veth pair.  gw--srv is a veth
# pair.  Everything lives in namespaces ${RIG_PREFIX}-vm/-gw/-srv; set
# RIG_PREFIX to something unique so several runs can coexist.
#
# Typical use:
#   . tests/e2e/lib.sh
#   rig_trap                       # rig_down on any exit
#   rig_up tap --offload on || exit 1
#   rig_exec vm ping -c1 "$RIG_SRV_IP4"
#
# Every function bounds its waits; nothing here touches anything outside the
# rig's own namespaces except the temporary directory $RIG_DIR.
# See docs/rig.md.

# shellcheck disable=SC2016,SC2034  # single-quoted code runs elsewhere; vars are for callers
RIG_PREFIX=${RIG_PREFIX:-nsc}
RIG_VM=${RIG_PREFIX}-vm
RIG_GW=${RIG_PREFIX}-gw
RIG_SRV=${RIG_PREFIX}-srv
RIG_DIR=${RIG_DIR:-${TMPDIR:-/tmp}/nascar-rig.${RIG_PREFIX}}

_rig_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${O:=build}"
case "$O" in /*) _rig_o=$O ;; *) _rig_o=$_rig_top/$O ;; esac
RIG_VMM=${RIG_VMM:-$_rig_o/tools/nascar-vmm}

# Addresses (test-only, inside the namespaces).
RIG_VM_IP4=172.16.0.42
RIG_GW_TAP_IP4=172.16.0.1
RIG_GW_ETH_IP4=10.0.0.1
RIG_SRV_IP4=10.0.0.10
RIG_VM_IP6=fd00:16::42
RIG_GW_TAP_IP6=fd00:16::1
RIG_GW_ETH_IP6=fd00:10::1
RIG_SRV_IP6=fd00:10::10

RIG_LINK=
RIG_OFFLOAD=

rig_log() { echo "rig: $*" >&2; }

# Test results in the form tests/run.sh counts: ok NAME, bad NAME [WHY],
# check NAME CMD... (PASS when CMD succeeds); $fails counts the failures.
fails=0
ok() { echo "PASS: $1"; }
bad() {
	echo "FAIL: $1${2:+ ($2)}"
	fails=$((fails + 1))
}
check() { # check NAME CMD...
	local n=$1
	shift
	if "$@"; then ok "$n"; else bad "$n"; fi
}

# rig_ns vm|gw|srv|FULLNAME: print the namespace's full name.
rig_ns() {
	case "$1" in
	vm) echo "$RIG_VM" ;;
	gw) echo "$RIG_GW" ;;
	srv) echo "$RIG_SRV" ;;
	*) echo "$1" ;;
	esac
}

# rig_exec NS CMD...: run CMD in the namespace's network stack only
# (nsenter --net, no fresh /sys, so bpffs pins under /sys/fs/bpf stay
# visible; /proc/sys/net is the namespace's).  Use this for everything.
rig_exec() {
	local ns
	ns=$(rig_ns "$1")
	shift
	nsenter --net="/run/netns/$ns" -- "$@"
}

# rig_exec_sys NS CMD...: `ip netns exec` (fresh /sys, hides bpffs pins);
# only for tools that read /sys/class/net.
rig_exec_sys() {
	local ns
	ns=$(rig_ns "$1")
	shift
	ip netns exec "$ns" "$@"
}

# rig_wait_for TIMEOUT_S CMD...: retry CMD every 0.1 s until it succeeds;
# return 1 after TIMEOUT_S seconds (integer or decimal).
rig_wait_for() {
	local t=$1 i n
	shift
	n=$(awk -v t="$t" 'BEGIN { printf "%d", t * 10 }')
	for ((i = 0; i <= n; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# rig_bg NAME CMD...: start CMD (an external command, or `rig_exec NS CMD...`)
# in the background, output in $RIG_DIR/NAME.log; remember its pid
# ($RIG_DIR/NAME.pid) so rig_down (or rig_bg_stop NAME) ends it.
rig_bg() {
	local name=$1 ns
	shift
	if [ "$1" = rig_exec ]; then
		# exec nsenter directly so that the pid is the process's own
		ns=$(rig_ns "$2")
		shift 2
		set -- nsenter --net="/run/netns/$ns" -- "$@"
	fi
	mkdir -p "$RIG_DIR"
	"$@" >"$RIG_DIR/$name.log" 2>&1 &
	echo $! >"$RIG_DIR/$name.pid"
}

# rig_bg_stop NAME [TIMEOUT_S]: SIGTERM the process, SIGKILL after timeout.
rig_bg_stop() {
	local f=$RIG_DIR/$1.pid t=${2:-3} pid i
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	rm -f "$f"
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < t * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# rig_down: always safe; stops the vmm and background helpers, kills any
# process left inside the rig's namespaces, deletes the namespaces.
rig_down() {
	local f ns pid
	if [ -d "$RIG_DIR" ]; then
		for f in "$RIG_DIR"/*.pid; do
			[ -f "$f" ] || continue
			rig_bg_stop "$(basename "$f" .pid)" 2
		done
	fi
	for ns in "$RIG_VM" "$RIG_GW" "$RIG_SRV"; do
		[ -e "/run/netns/$ns" ] || continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$RIG_DIR"
	return 0
}

# rig_trap: rig_down on exit, including on INT/TERM; keeps the exit status.
rig_trap() {
	# shellcheck disable=SC2154  # _rig_rc is set inside the trap
	trap '_rig_rc=$?; trap - EXIT; rig_down; exit $_rig_rc' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# rig_vmm_start [--offload on|off]: (tap link) start `nascar-vmm forward`
# between tap0 in gw and eth0 in vm; waits until both taps have carrier.
rig_vmm_start() {
	local off=${RIG_OFFLOAD:-on}
	[ "${1:-}" = --offload ] && off=$2
	[ -x "$RIG_VMM" ] || { rig_log "no $RIG_VMM (build it: make)"; return 1; }
	rm -f "$RIG_DIR/vmm.stats"
	rig_bg vmm "$RIG_VMM" forward --ns-a "$RIG_GW" --tap-a tap0 --ns-b "$RIG_VM" \
		--tap-b eth0 --offload "$off" --stats "$RIG_DIR/vmm.stats"
	if ! rig_wait_for 5 test -s "$RIG_DIR/vmm.stats"; then
		rig_log "nascar-vmm did not start: $(cat "$RIG_DIR/vmm.log" 2>/dev/null)"
		return 1
	fi
	rig_wait_for 5 _rig_carrier gw tap0 && rig_wait_for 5 _rig_carrier vm eth0
}

# rig_vmm_stop: stop the forwarder (its taps stay; e.g. to run `rig_gen`).
rig_vmm_stop() { rig_bg_stop vmm 3; }

_rig_no_tentative() { ! rig_exec "$1" ip -6 addr show tentative | grep -q inet6; }
_rig_carrier() { rig_exec "$1" ip link show dev "$2" | grep -q LOWER_UP; }

# rig_vmm_stat guest_tx|guest_rx FIELD: a counter of the running (or last)
# forwarder: frames bytes gso big (frames > 1514 bytes) max_len needs_csum
# write_err eagain.  guest_tx = vm -> gw, guest_rx = gw -> vm.
rig_vmm_stat() {
	local dir
	case "$1" in
	guest_tx) dir=b_to_a ;;
	guest_rx) dir=a_to_b ;;
	*) dir=$1 ;;
	esac
	awk -v d="$dir" -v k="$2" '$1 == d { for (i = 2; i <= NF; i++) { split($i, a, "=");
		if (a[1] == k) print a[2] } }' "$RIG_DIR/vmm.stats" 2>/dev/null
}

# rig_nics: the first two network devices of this namespace that sit on a
# bus (a NIC with a driver, not a virtual device), one a line; the VM tier
# gives its guest two virtio-net NICs wired to one hub (docs/vm.md).
rig_nics() {
	local d
	for d in /sys/class/net/*; do
		[ -e "$d/device/driver" ] && basename "$d"
	done | head -n 2
}

# rig_up tap|veth [--offload on|off] [--uplink veth|nic]: build the three
# namespaces.  offload (default on): tap: TUNSETOFFLOAD csum+tso4+tso6 on
# both taps (the Firecracker default) or none; veth: off turns tso and tx
# checksumming off on both ends of the vm--gw pair.  uplink (default veth):
# gw--srv is a veth pair, or two NICs on one wire (rig_nics) moved into gw
# and srv as their eth0 (returns 2 when there are no two such NICs); the
# kernel hands them back to the first namespace when the rig goes down.
rig_up() {
	local link=${1:-tap} off=on ns uplink=veth nics
	shift
	while [ $# -gt 0 ]; do
		case "$1" in
		--offload) off=$2; shift 2 ;;
		--uplink) uplink=$2; shift 2 ;;
		*) rig_log "rig_up: unknown option $1"; return 1 ;;
		esac
	done
	case "$uplink" in veth | nic) ;; *) rig_log "rig_up: --uplink veth|nic"; return 1 ;; esac
	if [ "$uplink" = nic ]; then
		nics=$(rig_nics)
		[ "$(echo "$nics" | grep -c .)" -eq 2 ] || { rig_log "rig_up: no two NICs"; return 2; }
	fi
	case "$off" in on | off) ;; *) rig_log "rig_up: --offload on|off"; return 1 ;; esac
	case "$link" in tap | veth) ;; *) rig_log "rig_up: tap|veth"; return 1 ;; esac
	RIG_LINK=$link
	RIG_OFFLOAD=$off
	rig_down
	mkdir -p "$RIG_DIR" || return 1
	echo "$link $off" >"$RIG_DIR/link"
	for ns in "$RIG_VM" "$RIG_GW" "$RIG_SRV"; do
		ip netns add "$ns" || { rig_log "ip netns add $ns failed"; return 1; }
		ip -n "$ns" link set lo up
		# no DAD: link-local addresses are usable at once (otherwise the
		# first second or two of IPv6 traffic waits behind DAD)
		rig_exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0
	done
	# gw -- srv
	if [ "$uplink" = nic ]; then
		# shellcheck disable=SC2086  # two names, split on purpose
		set -- $nics
		ip link set dev "$1" netns "$RIG_GW" || return 1
		ip -n "$RIG_GW" link set dev "$1" name eth0 || return 1
		ip link set dev "$2" netns "$RIG_SRV" || return 1
		ip -n "$RIG_SRV" link set dev "$2" name eth0 || return 1
	else
		ip -n "$RIG_GW" link add eth0 type veth peer name eth0 netns "$RIG_SRV" || return 1
	fi
	# vm -- gw
	if [ "$link" = veth ]; then
		ip -n "$RIG_GW" link add tap0 type veth peer name eth0 netns "$RIG_VM" || return 1
		if [ "$off" = off ]; then
			rig_exec gw ethtool -K tap0 tso off tx off >/dev/null 2>&1
			rig_exec vm ethtool -K eth0 tso off tx off >/dev/null 2>&1
		fi
	else
		ip -n "$RIG_GW" tuntap add dev tap0 mode tap vnet_hdr || return 1
		ip -n "$RIG_VM" tuntap add dev eth0 mode tap vnet_hdr || return 1
	fi
	# sysctls: forwarding only in gw
	rig_exec vm sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0
	rig_exec srv sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0
	rig_exec gw sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	# addresses
	ip -n "$RIG_VM" addr add "$RIG_VM_IP4/24" dev eth0
	ip -n "$RIG_VM" addr add "$RIG_VM_IP6/64" dev eth0 nodad
	ip -n "$RIG_GW" addr add "$RIG_GW_TAP_IP4/24" dev tap0
	ip -n "$RIG_GW" addr add "$RIG_GW_TAP_IP6/64" dev tap0 nodad
	ip -n "$RIG_GW" addr add "$RIG_GW_ETH_IP4/24" dev eth0
	ip -n "$RIG_GW" addr add "$RIG_GW_ETH_IP6/64" dev eth0 nodad
	ip -n "$RIG_SRV" addr add "$RIG_SRV_IP4/24" dev eth0
	ip -n "$RIG_SRV" addr add "$RIG_SRV_IP6/64" dev eth0 nodad
	ip -n "$RIG_VM" link set eth0 up
	ip -n "$RIG_GW" link set tap0 up
	ip -n "$RIG_GW" link set eth0 up
	ip -n "$RIG_SRV" link set eth0 up
	# routes: default via gw; srv explicitly back to the guest net (no NAT
	# on the fast path)
	ip -n "$RIG_VM" route add default via "$RIG_GW_TAP_IP4"
	ip -n "$RIG_VM" -6 route add default via "$RIG_GW_TAP_IP6"
	ip -n "$RIG_SRV" route add default via "$RIG_GW_ETH_IP4"
	ip -n "$RIG_SRV" route add 172.16.0.0/24 via "$RIG_GW_ETH_IP4"
	ip -n "$RIG_SRV" -6 route add default via "$RIG_GW_ETH_IP6"
	ip -n "$RIG_SRV" -6 route add fd00:16::/64 via "$RIG_GW_ETH_IP6"
	if [ "$link" = tap ]; then
		rig_vmm_start --offload "$off" || return 1
	fi
	rig_wait_for 5 _rig_carrier gw eth0 || { rig_log "gw eth0 has no carrier"; return 1; }
	rig_wait_for 5 _rig_carrier srv eth0 || return 1
	rig_wait_for 5 _rig_carrier vm eth0 || { rig_log "vm eth0 has no carrier"; return 1; }
	for ns in vm gw srv; do
		rig_wait_for 5 _rig_no_tentative "$ns" || rig_log "$ns: IPv6 addresses still tentative"
	done
	return 0
}

# rig_baseline_rules: the study's host rules in gw (IPv4, iptables).
rig_baseline_rules() {
	rig_exec gw iptables -w 5 -t nat -A POSTROUTING -o eth0 -j MASQUERADE &&
		rig_exec gw iptables -w 5 -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT &&
		rig_exec gw iptables -w 5 -A FORWARD -i tap0 -o eth0 -j ACCEPT
}

# rig_baseline_rules6: the same rules for IPv6 (ip6tables, with MASQUERADE).
rig_baseline_rules6() {
	rig_exec gw ip6tables -w 5 -t nat -A POSTROUTING -o eth0 -j MASQUERADE &&
		rig_exec gw ip6tables -w 5 -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT &&
		rig_exec gw ip6tables -w 5 -A FORWARD -i tap0 -o eth0 -j ACCEPT
}

# rig_flush_rules [NS]: flush filter, nat and raw tables (v4 and v6) in NS
# (default gw) and its conntrack table if the tool is there.
rig_flush_rules() {
	local ns=${1:-gw} t
	for t in filter nat raw; do
		rig_exec "$ns" iptables -w 5 -t "$t" -F 2>/dev/null
		rig_exec "$ns" ip6tables -w 5 -t "$t" -F 2>/dev/null
	done
	command -v conntrack >/dev/null && rig_exec "$ns" conntrack -F >/dev/null 2>&1
	return 0
}

# rig_forward_count [v4|v6]: packets counted by gw's FORWARD chain rules so far
# (sum of the rule counters; 0 without rules).
rig_forward_count() {
	local cmd=iptables
	[ "${1:-v4}" = v6 ] && cmd=ip6tables
	rig_exec gw "$cmd" -w 5 -L FORWARD -v -n -x 2>/dev/null |
		awk 'NR > 2 { s += $1 } END { print s + 0 }'
}

# rig_flush_neigh: cold neighbour caches in all three namespaces.
rig_flush_neigh() {
	local ns
	for ns in vm gw srv; do
		rig_exec "$ns" ip neigh flush all >/dev/null 2>&1
		rig_exec "$ns" ip -6 neigh flush all >/dev/null 2>&1
	done
	return 0
}

# rig_iperf_server NS [PORT]: one-shot iperf3 server (exits after one test,
# or after 60 s) in NS; waits until it listens.
rig_iperf_server() {
	local ns=$1 port=${2:-5201}
	rig_bg "iperf-$ns-$port" rig_exec "$ns" timeout 60 iperf3 -s -1 -p "$port"
	rig_wait_for 5 _rig_listening "$ns" "$port"
}

_rig_listening() { rig_exec "$1" ss -Hltn "sport = :$2" | grep -q .; }

# rig_iperf_client NS ADDR SECONDS [IPERF3 ARGS...]: run an iperf3 client
# (bounded by timeout); prints the receiver's bits per second (integer).
# The JSON result is kept in $RIG_DIR/iperf.json.
rig_iperf_client() {
	local ns=$1 addr=$2 secs=$3
	shift 3
	rig_exec "$ns" timeout $((secs + 15)) iperf3 -c "$addr" -t "$secs" -J "$@" \
		>"$RIG_DIR/iperf.json" 2>"$RIG_DIR/iperf.err" || {
		rig_log "iperf3 failed: $(jq -r '.error // empty' "$RIG_DIR/iperf.json" 2>/dev/null)"
		echo 0
		return 1
	}
	jq -r '.end.sum_received.bits_per_second // 0 | floor' "$RIG_DIR/iperf.json"
}

# rig_iperf_tcp CLIENT_NS SERVER_NS ADDR SECONDS [IPERF3 ARGS...]: server +
# client in one go; prints receiver bits/s.  Uses port 5201 (-p not allowed).
rig_iperf_tcp() {
	local cns=$1 sns=$2 addr=$3 secs=$4 bps
	shift 4
	rig_iperf_server "$sns" 5201 || { echo 0; return 1; }
	bps=$(rig_iperf_client "$cns" "$addr" "$secs" -p 5201 "$@")
	rig_bg_stop "iperf-$sns-5201" 2
	echo "${bps:-0}"
	[ "${bps:-0}" != 0 ]
}

# rig_addr_norm: normalise an address on stdin (strip [], compress IPv6:
# "[fd00:0016:0000:...:0042]" -> "fd00:16::42").
rig_addr_norm() {
	tr -d '[]' | awk '
	!/:/ { print; next }
	{
		n = split($0, g, ":")
		if (n < 8) { print; next }          # already compressed
		for (i = 1; i <= 8; i++) { sub(/^0+/, "", g[i]); if (g[i] == "") g[i] = "0" }
		bs = 0; bl = 0
		for (i = 1; i <= 8; i++) if (g[i] == "0") {
			j = i; while (j <= 8 && g[j] == "0") j++
			if (j - i > bl && j - i > 1) { bs = i; bl = j - i }
			i = j
		}
		out = ""
		for (i = 1; i <= 8; i++) {
			if (bl && i == bs) { out = out "::"; i += bl - 1; continue }
			if (out != "" && substr(out, length(out)) != ":") out = out ":"
			out = out g[i]
		}
		print out
	}'
}

# rig_tcp_peer CLIENT_NS SERVER_NS ADDR [PORT]: connect from CLIENT_NS to
# ADDR:PORT (default 7000) in SERVER_NS; prints the peer address the server
# saw (e.g. the gw's address when NATed).
rig_tcp_peer() {
	local cns=$1 sns=$2 addr=$3 port=${4:-7000} lst=TCP4-LISTEN dst=$3
	case "$addr" in *:*) lst=TCP6-LISTEN dst="[$addr]" ;; esac
	rig_bg "peer-$port" rig_exec "$sns" timeout 10 socat -T 5 "$lst:$port,reuseaddr" \
		SYSTEM:'echo "$SOCAT_PEERADDR"'
	rig_wait_for 5 _rig_listening "$sns" "$port" || return 1
	rig_exec "$cns" timeout 8 socat -T 5 - "TCP:$dst:$port" </dev/null | rig_addr_norm
	rig_bg_stop "peer-$port" 1
}

# rig_udp_peer CLIENT_NS SERVER_NS ADDR [PORT]: the same for one UDP datagram.
rig_udp_peer() {
	local cns=$1 sns=$2 addr=$3 port=${4:-7001} lst=UDP4-RECVFROM dst=$3
	case "$addr" in *:*) lst=UDP6-RECVFROM dst="[$addr]" ;; esac
	# the child reads the datagram before it answers: socat writes the
	# datagram to the child's stdin, and a child that has already exited
	# makes that write fail (EPIPE), so socat quits without sending the
	# answer and the next datagram draws a port unreachable that ends the
	# client (on a loaded machine, about 1 question in 10 failed this way)
	rig_bg "upeer-$port" rig_exec "$sns" timeout 10 socat -T 5 "$lst:$port" \
		SYSTEM:'read -r _; echo "$SOCAT_PEERADDR"'
	rig_wait_for 5 _rig_udp_bound "$sns" "$port" || return 1
	# three datagrams 0.3 s apart: one lost datagram (a loaded machine, a
	# neighbour entry still being resolved) must not fail the question
	{ for _ in 1 2 3; do echo hello; sleep 0.3; done; } |
		rig_exec "$cns" timeout 5 socat -T 2 - "UDP:$dst:$port" 2>/dev/null | head -n 1 | rig_addr_norm
	rig_bg_stop "upeer-$port" 1
}

_rig_udp_bound() { rig_exec "$1" ss -Hlun "sport = :$2" | grep -q .; }

# rig_udp_count_start NS PORT [drop]: count UDP packets to PORT arriving in
# NS (raw PREROUTING counter, v4 and v6); with "drop", drop them too (a
# cheap sink).  rig_udp_count NS PORT prints the count so far.
rig_udp_count_start() {
	local ns=$1 port=$2 tgt=()
	[ "${3:-}" = drop ] && tgt=(-j DROP)
	rig_exec "$ns" iptables -w 5 -t raw -A PREROUTING -p udp --dport "$port" "${tgt[@]}" &&
		rig_exec "$ns" ip6tables -w 5 -t raw -A PREROUTING -p udp --dport "$port" "${tgt[@]}"
}

rig_udp_count() {
	local ns=$1 port=$2 a b
	a=$(rig_exec "$ns" iptables -w 5 -t raw -L PREROUTING -v -n -x |
		awk -v p="dpt:$port" '$0 ~ p" " || $0 ~ p"$" { s += $1 } END { print s + 0 }')
	b=$(rig_exec "$ns" ip6tables -w 5 -t raw -L PREROUTING -v -n -x |
		awk -v p="dpt:$port" '$0 ~ p" " || $0 ~ p"$" { s += $1 } END { print s + 0 }')
	echo $((a + b))
}

# rig_udp_send NS ADDR PORT COUNT [SIZE]: send COUNT datagrams of SIZE bytes
# (default 64) from NS, one write each (bash /dev/udp); bounded by timeout.
rig_udp_send() {
	local ns=$1 addr=$2 port=$3 count=$4 size=${5:-64}
	rig_exec "$ns" timeout 30 bash -c '
		pl=$(head -c "$3" /dev/zero | tr "\0" x)
		exec 3>"/dev/udp/$1/$2" || exit 1
		# a send can fail once with ECONNREFUSED (an ICMP port unreachable
		# queued on the connected socket): the datagram was not sent, retry.
		# A drop sink at the receiver (rig_udp_count_start ... drop) avoids
		# the ICMP errors altogether.
		for ((i = 0; i < $4; i++)); do
			for t in 1 2 3; do printf "%s" "$pl" >&3 2>/dev/null && break; done
		done
		exec 3>&-' rig_udp_send "$addr" "$port" "$size" "$count"
}

# rig_drop_sink [NS]: drop every UDP packet arriving in NS (default srv) in
# the raw table (no socket lookup, no ICMP errors).
rig_drop_sink() {
	local ns=${1:-srv}
	rig_exec "$ns" iptables -w 5 -t raw -A PREROUTING -p udp -j DROP &&
		rig_exec "$ns" ip6tables -w 5 -t raw -A PREROUTING -p udp -j DROP
}

# rig_gen [NASCAR-VMM GEN OPTIONS...]: (tap link, forwarder stopped) run the
# generator on gw's tap0 as the guest, from $RIG_VM_IP4 to $RIG_SRV_IP4
# (IPv6 addresses with --ipv6), port 9; prints its `gen:` line.
# Example: rig_vmm_stop; rig_gen --flows 16 --seconds 3 --cpu 0
rig_gen() {
	local sip=$RIG_VM_IP4 dip=$RIG_SRV_IP4 a secs=5
	for a in "$@"; do [ "$a" = --ipv6 ] && sip=$RIG_VM_IP6 dip=$RIG_SRV_IP6; done
	local prev=
	for a in "$@"; do
		[ "$prev" = --seconds ] && secs=${a%.*}
		prev=$a
	done
	timeout $((secs + 10)) "$RIG_VMM" gen --ns "$RIG_GW" --tap tap0 --src-ip "$sip" \
		--dst-ip "$dip" --offload "${RIG_OFFLOAD:-on}" "$@"
}

# rig_gen_field LINE KEY: extract KEY=value from a `gen:` line.
rig_gen_field() {
	echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2 }'
}

# rig_median: median of the numbers on stdin (one per line).
rig_median() {
	sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) exit 1;
		if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# rig_kernel_at_least MAJOR MINOR: the running kernel is that version or newer
# (tcx needs 6.6, the netdev netlink family 6.3; Debian 12 runs 6.1).
rig_kernel_at_least() {
	local maj min
	maj=$(uname -r | cut -d. -f1)
	min=$(uname -r | cut -d. -f2)
	[ "$maj" -gt "$1" ] || { [ "$maj" -eq "$1" ] && [ "$min" -ge "$2" ]; }
}

# rig_need_root_tools: exit 77 (skip) unless root with the tools the rig uses.
rig_need_root_tools() {
	local t
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP: e2e rig (needs root)"
		exit 77
	fi
	for t in ip nsenter iptables ip6tables socat iperf3 jq ethtool ss timeout; do
		command -v "$t" >/dev/null 2>&1 || { echo "SKIP: e2e rig (no $t)"; exit 77; }
	done
	[ -c /dev/net/tun ] || { echo "SKIP: e2e rig (no /dev/net/tun)"; exit 77; }
}
