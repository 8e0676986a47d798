#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tools/demo.sh: the README's first command.  Installs what is missing,
# builds, compiles policies/vehicle.nflow, builds the vm -- gw -- srv rig
# (a tap driven by the VMM emulator, TSO and checksum offload on, as
# Firecracker sets it up), applies the policy on gw, drives a control flow,
# a camera stream and a bulk download, shows per-flow statistics, then
# detaches and removes everything.  Traffic stays inside the rig's own
# network namespaces.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "demo.sh: needs root (network namespaces, BPF); run: sudo $0" >&2
	exit 1
fi
sh tools/deps.sh
O=${O:-build}
make -s -j"$(nproc)" O="$O"
case $O in /*) B=$O ;; *) B=$top/$O ;; esac

export RIG_PREFIX=${RIG_PREFIX:-nscdemo}
export RIG_VMM="$B/tools/nascar-vmm"
# shellcheck source=../tests/e2e/lib.sh
. tests/e2e/lib.sh
rig_need_root_tools

work=$(mktemp -d -t nascar-demo.XXXXXX)
pin=/sys/fs/bpf/nascar-demo
apply() { rig_exec gw "$B/nascar-apply" --pin-dir "$pin" "$@"; }
cleanup() {
	rc=$?
	set +e # tear down everything, whatever fails on the way
	trap - EXIT
	apply detach >/dev/null 2>&1 || true
	rig_down
	rm -rf "$work"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. compile the vehicle policy"
sed -n '1,200p' policies/vehicle.nflow | grep -v '^#' | sed '/^$/d'
"$B/nascarc" compile policies/vehicle.nflow -o "$work/vehicle.nfc"
echo "-> $work/vehicle.nfc ($(stat -c %s "$work/vehicle.nfc") bytes)"
echo
echo "what the classifier answers (same tables the kernel will use):"
for q in "udp 172.16.0.42:4000 10.0.0.10:29536" "udp 172.16.0.42:5003 10.0.0.10:6000" \
	"tcp 172.16.0.42:40000 10.0.0.10:5201" "tcp 172.16.0.42:40001 10.0.0.10:23" \
	"udp 172.16.0.99:4000 10.0.0.10:29536"; do
	# shellcheck disable=SC2086
	printf '  tap0 %-42s -> %s\n' "$q" "$("$B/nascarc" classify "$work/vehicle.nfc" --in tap0 $q)"
done

step "2. build the rig: vm (guest) --tap0/VMM emulator-- gw --eth0-- srv"
rig_trap
trap cleanup EXIT
rig_up tap --offload on
# A veth takes native XDP redirects only while its peer has GRO on (a NIC
# with ndo_xdp_xmit always does); with it, auto puts native XDP on tap0.
rig_exec srv ethtool -K eth0 gro on >/dev/null
echo "guest $RIG_VM_IP4 behind gw tap0; server $RIG_SRV_IP4 behind gw eth0 (TSO on)"

step "3. apply the policy on gw"
apply "$work/vehicle.nfc"
apply status

step "4. drive traffic for a few seconds"
rig_udp_count_start srv 29536 drop
rig_udp_count_start srv 6000 drop
echo "control: 500 UDP messages to the CAN gateway (class control, priority 7, EF)"
rig_udp_send vm "$RIG_SRV_IP4" 29536 500 64
echo "camera: 2.4 MB as ~1200-byte UDP frames from port 5003 in one burst (class adas, 400mbit, 256kb burst)"
head -c 2400000 /dev/zero |
	rig_exec vm timeout 20 socat -b 1200 -u STDIN "UDP:$RIG_SRV_IP4:6000,sourceport=5003" || true
echo "bulk: 3 s UDP upload offered at 200 Mbit/s (class bulk, shaped to 50mbit: over the rate it waits in Nascar's scheduler on eth0, at most 100 ms, then is dropped)"
rig_iperf_server srv 5201 || true
bps=$(rig_iperf_client vm "$RIG_SRV_IP4" 3 -p 5201 -u -b 200M -l 1200 || true)
rig_bg_stop iperf-srv-5201 2
echo "  received by the server: $((${bps:-0} / 1000000)) Mbit/s"
echo "server received: control $(rig_udp_count srv 29536) of 500 messages, camera $(rig_udp_count srv 6000) frames"

step "5. per-flow statistics (which path each flow took; the scheduler's classes: what was queued and dropped)"
apply stats

step "6. detach and clean up"
apply detach
echo "after detach: $(rig_exec gw ip -d link show tap0 | grep -c xdp) XDP programs on tap0," \
	"$(rig_exec gw tc filter show dev tap0 ingress | grep -c bpf) TC filters," \
	"pin dir $( [ -e "$pin" ] && echo present || echo gone)"
