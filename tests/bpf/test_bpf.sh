#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/bpf/test_bpf.sh: runs build/tests/bpf_tests (packet tests and the
# differential test) inside a private network namespace with veth peers,
# addresses, routes and permanent neighbours, so bpf_fib_lookup has real
# answers.  Prints PASS:/FAIL:/SKIP: lines; exit 77 only when the kernel
# lacks what the tests need (no BPF test runs, no veth, no netns).
set -u
O=${O:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=$top/$O/tests/bpf_tests
case $O in /*) bin=$O/tests/bpf_tests ;; esac
nascarc=$(dirname "$bin")/../nascarc
ns=nscbpf-$$

if [ ! -x "$bin" ]; then
	echo "FAIL: bpf_tests not built ($bin)"
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: bpf tests need root"
	exit 77
fi

cleanup() { ip netns del "$ns" 2>/dev/null; }
trap cleanup EXIT INT TERM

if ! ip netns add "$ns" 2>/dev/null; then
	echo "SKIP: cannot create a network namespace"
	exit 77
fi
x() { ip -n "$ns" "$@"; }
for i in 0 1 2; do
	if ! x link add nsc$i type veth peer name nsc${i}p 2>/dev/null; then
		echo "SKIP: no veth support"
		exit 77
	fi
done
ip netns exec "$ns" sh -e <<'SETUP' || { echo "FAIL: netns setup"; exit 1; }
sysctl -qw net.ipv4.ip_forward=1
sysctl -qw net.ipv6.conf.all.forwarding=1
sysctl -qw net.ipv6.conf.default.accept_dad=0
ip link set lo up
for i in 0 1 2; do
	sysctl -qw net.ipv6.conf.nsc$i.accept_dad=0 2>/dev/null || true
	ip link set nsc$i up
	ip link set nsc${i}p up
done
ip link set nsc0 address 02:00:00:00:00:10
ip link set nsc1 address 02:00:00:00:00:11
ip link set nsc2 address 02:00:00:00:00:12
ip addr add 172.16.0.1/24 dev nsc0
ip addr add 2001:db8:16::1/64 dev nsc0 nodad
ip addr add 10.0.0.1/24 dev nsc1
ip addr add 2001:db8:10::1/64 dev nsc1 nodad
ip addr add 192.168.50.1/24 dev nsc2
ip neigh replace 172.16.0.42 lladdr 02:00:00:00:00:2a dev nsc0 nud permanent
ip neigh replace 2001:db8:16::42 lladdr 02:00:00:00:00:2a dev nsc0 nud permanent
ip neigh replace 10.0.0.10 lladdr 02:00:00:00:01:0a dev nsc1 nud permanent
ip neigh replace 10.0.0.11 lladdr 02:00:00:00:01:0b dev nsc1 nud permanent
ip neigh replace 10.0.0.12 lladdr 02:00:00:00:01:0c dev nsc1 nud permanent
ip neigh replace 10.0.0.13 lladdr 02:00:00:00:01:0d dev nsc1 nud permanent
ip neigh replace 10.0.0.254 lladdr 02:00:00:00:01:fe dev nsc1 nud permanent
ip neigh replace 2001:db8:10::10 lladdr 02:00:00:00:01:0a dev nsc1 nud permanent
ip neigh replace 192.168.50.10 lladdr 02:00:00:00:05:0a dev nsc2 nud permanent
ip route add 10.1.0.0/16 via 10.0.0.254 dev nsc1
ip -6 route add 2001:db8:11::/64 via 2001:db8:10::10 dev nsc1
SETUP

cd "$top" || exit 1
NASCARC=$nascarc ip netns exec "$ns" "$bin" "$@"
rc=$?
exit $rc
