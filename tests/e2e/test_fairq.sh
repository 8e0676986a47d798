#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/e2e/test_fairq.sh: fair queueing within a class of Nascar's egress
# scheduler (fq_codel leaves where the kernel has fq_codel, FIFOs where it
# has not, and apply says which).
#
# Tap rig with Firecracker's offloads, mode tc, the uplink declared `rate
# 20mbit`.  One class carries both a UDP flood offered at 40 Mbit/s and a
# request/response flow (udp_rr, 20 requests a second).  With a FIFO leaf
# the requests queue behind 100 ms of flood; with fq_codel the sparse flow
# is served almost at once: its median round trip under the flood must stay
# under FAIRQ_P50_MS (20).  The drops the flood takes must show in `stats`
# as the class's scheduler drops (fq_codel drops inside the leaf, where HTB's
# own class counter does not see them).  Negative control in the same run:
# the leaf replaced by hand with the FIFO Nascar uses without fq_codel must
# miss the same bound.
#
# This build machine's kernel has no fq_codel: there the test checks that
# apply says so and the leaves are FIFOs, and SKIPs the latency half; the
# VM tier (Debian's kernel) runs all of it.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
RIG_PREFIX=${RIG_PREFIX:-nfq$$}
. "$(cd "$(dirname "$0")" && pwd)/apply_lib.sh"
apply_need
RR=$_rig_o/bench/udp_rr
[ -x "$RR" ] || { echo "SKIP: fair queueing (no $RR; run make)"; exit 77; }
apply_trap

P50_MS=${FAIRQ_P50_MS:-20}
SECS=${FAIRQ_SECS:-6}

if ! rig_up tap --offload on; then
	bad "fairq: rig_up"
	exit 1
fi

cat >"$RIG_DIR/fq.nflow" <<EOP
interface tap0 { role guest; mode tc; allow-src $RIG_VM_IP4; }
interface eth0 { role uplink; mode tc; rate 20mbit; }
class bulk { priority 1; }
flow up4 { from $RIG_VM_IP4; to $RIG_SRV_IP4; proto udp; class bulk; }
flow back4 { in eth0; to $RIG_VM_IP4; class bulk; }
default { action stack; }
EOP
"$NC" compile "$RIG_DIR/fq.nflow" -o "$RIG_DIR/fq.nfc" >/dev/null 2>&1 || bad "fairq: compile"
out=$(na "$RIG_DIR/fq.nfc" 2>&1)
check "fairq: apply" test $? -eq 0
leaf() { rig_exec gw tc qdisc show dev eth0 | awk '$4 == "parent" && $5 == "4e43:100" { print $2 }'; }

if echo "$out" | grep -q "^eth0: .*fair queueing within a class (fq_codel)"; then
	check "fairq: the bulk class's leaf on eth0 is fq_codel ($(leaf))" test "$(leaf)" = fq_codel
else
	echo "$out" | grep -q "^eth0: .*one FIFO a class (this kernel has no fq_codel)"
	check "fairq: apply says this kernel has no fq_codel" test $? -eq 0
	check "fairq: ... and the bulk class's leaf is a FIFO ($(leaf))" test "$(leaf)" = bfifo
	echo "SKIP: fairq: fair queueing under a flood (this kernel has no fq_codel; the VM tier runs it)"
	na detach >/dev/null 2>&1
	apply_finish
	exit $?
fi

# rr_p50: the median round trip (us) of udp_rr requests sent while a UDP
# flood fills the same class; 0 when nothing came back.
rr_p50() {
	local line
	rig_bg rrsrv rig_exec srv "$RR" server --port 7777 --seconds $((SECS + 10))
	rig_iperf_server srv 5300 || { echo 0; return; }
	rig_bg flood rig_exec vm timeout $((SECS + 10)) iperf3 -c "$RIG_SRV_IP4" -p 5300 -u -b 40M \
		-l 1200 -t $((SECS + 2))
	sleep 1
	line=$(rig_exec vm timeout $((SECS + 5)) "$RR" client --addr "$RIG_SRV_IP4" --port 7777 \
		--rate 20 --seconds "$SECS" --timeout-ms 1000 2>/dev/null)
	echo "  $line" >&2
	rig_bg_stop flood 3
	rig_bg_stop iperf-srv-5300 2
	rig_bg_stop rrsrv 2
	echo "$line" | sed -n 's/.* p50_us=\([0-9]*\).*/\1/p' | grep . || echo 0
}
class_drops() {
	na stats --json 2>/dev/null |
		jq -r '[.schedulers[] | select(.interface == "eth0") | .classes[] |
			select(.class == "bulk") | .drops] | add // 0'
}

d0=$(class_drops)
p50=$(rr_p50)
d1=$(class_drops)
check "fairq: fq_codel: request/response p50 under a 40 Mbit/s flood in its class: ${p50} us, under ${P50_MS} ms" \
	test "$p50" -gt 0 -a "$p50" -lt $((P50_MS * 1000))
check "fairq: ... the flood's drops are counted as the class's scheduler drops ($((d1 - d0)))" \
	test $((d1 - d0)) -gt 100

# negative control: the FIFO Nascar installs where there is no fq_codel
limit=250000 # 100 ms at 20 Mbit/s, the bound the FIFO gets
if rig_exec gw tc qdisc replace dev eth0 parent 4e43:100 bfifo limit "$limit"; then
	p50=$(rr_p50)
	if [ "$p50" -gt 0 ] && [ "$p50" -lt $((P50_MS * 1000)) ]; then
		bad "fairq: control: a FIFO leaf meets the bound too (${p50} us): it cannot tell fair queueing"
	else
		ok "fairq: control: a FIFO leaf misses it (p50 ${p50} us)"
	fi
else
	bad "fairq: control: cannot replace the leaf with a FIFO"
fi
na detach >/dev/null 2>&1
check "fairq: detach" test $? -eq 0
assert_clean "fairq: detach leaves no trace"
apply_finish
