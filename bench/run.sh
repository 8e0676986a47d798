#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# bench/run.sh [--quick] [--only pps,hit,tcp,qos,shape,prog,classify] [--reps N]
#              [--seconds S] [--out DIR]
# `make bench` / `make bench-quick`: Nascar against the kernel baseline on the
# e2e rig (docs/rig.md), side by side in one run.  Reports; never fails on
# speed (exit 0 unless the bench itself could not run; 77 without root).
# Results: bench/results/<date>[-quick][-partial].{md,json}, and for a whole
# run latest[-quick].{md,json}.
# How to read them: docs/bench.md.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
: "${O:=build}"
case "$O" in /*) OB=$O ;; *) OB=$top/$O ;; esac
export O

quick=0 only="pps,hit,tcp,qos,shape,prog,classify" reps= secs= outdir=$top/bench/results
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1; shift ;;
	--only) only=$2; shift 2 ;;
	--reps) reps=$2; shift 2 ;;
	--seconds) secs=$2; shift 2 ;;
	--out) outdir=$2; shift 2 ;;
	*) echo "usage: bench/run.sh [--quick] [--only LIST] [--reps N] [--seconds S] [--out DIR]" >&2
	   exit 2 ;;
	esac
done
want() { case ",$only," in *",$1,"*) return 0 ;; esac; return 1; }

# ---- settings (full / quick) ---------------------------------------------
if [ $quick = 1 ]; then
	PPS_REPS=${reps:-1} PPS_SECS=${secs:-1} PPS_FLOWS="16"
	HIT_REPS=${reps:-1} HIT_SECS=${secs:-1} HIT_SLICE_MS=50
	TCP_REPS=${reps:-1} TCP_SECS=2 TCP_LINKS="tap-on" TCP_LOADS="16k"
	TCP_MODES="baseline auto"
	PROF_SECS=3 QOS_SECS=2 PROG_REPEAT=100000 SHAPE_SECS=3 SHAPE_REPS=1
else
	PPS_REPS=${reps:-5} PPS_SECS=${secs:-1.5} PPS_FLOWS=${PPS_FLOWS:-"1 16 1024"}
	HIT_REPS=${reps:-6} HIT_SECS=${secs:-2} HIT_SLICE_MS=50
	TCP_REPS=${reps:-3} TCP_SECS=2 TCP_LINKS="tap-on tap-off veth-on veth-off"
	TCP_LOADS="64x4 16k"
	TCP_MODES="baseline norules tc hybrid auto"
	PROF_SECS=6 QOS_SECS=10 PROG_REPEAT=1000000 SHAPE_SECS=8 SHAPE_REPS=3
fi
# nascar-*-nol1: the same hook with the per-CPU first level of the flow
# cache switched off (NASCAR_BENCH_DEBUG, runtime/load.c): what it buys, in
# the same run.  PPS_MODES from the environment picks a subset (A/B runs).
PPS_MODES=${PPS_MODES:-"baseline norules nascar-xdp nascar-xdp-nol1 nascar-xdpgeneric nascar-tc \
nascar-tc-nol1 nascar-hybrid nascar-auto ref-native ref-generic ref-tc limit"}
PPS_CSUMS="complete partial"
GEN_CPU=1            # the VMM thread (generator / forwarder) runs here
OTHER_CPU=0          # guest-side and server-side user processes
QOS_RATE=2000        # control requests per second
QOS_BULK_RATE=100mbit  # the policer's rate for the bulk class
QOS_BULK_BURST=1mb     # and its burst (TSO sends 64 KB at once)
QOS_SHAPE_RATE=100mbit # the uplink's line rate in the qos section (kernel qdiscs and Nascar's)
SHAPE_RATES="20 100 500" # class rates of the shape section (Mbit/s)

RIG_PREFIX=nscbench
# apply_lib.sh: lib.sh (the rig) + na(), $PIN, $NA, $NC, apply_cleanup
. "$top/tests/e2e/apply_lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: SKIP (needs root: network namespaces, BPF)"
	exit 77
fi
rig_need_root_tools
BX=$OB/bench/bench_xdp
RR=$OB/bench/udp_rr
for f in "$NA" "$NC" "$RIG_VMM" "$BX" "$RR"; do
	[ -x "$f" ] || { echo "bench: missing $f (run make)"; exit 1; }
done
[ -f "$OB/bench_qos.bpf.o" ] || { echo "bench: missing $OB/bench_qos.bpf.o (run make)"; exit 1; }

W=$(mktemp -d /tmp/nscbench.XXXXXX)
BP=/sys/fs/bpf/nscbench-helpers
ROWS=$W/rows.jsonl
: >"$ROWS"
bench_cleanup() {
	rm -rf "$BP" 2>/dev/null
	apply_cleanup >/dev/null 2>&1
	rm -rf "$W"
}
trap '_rc=$?; trap - EXIT; bench_cleanup; exit $_rc' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log() { echo "bench: $*" >&2; }
t_start=$(date +%s)

# row JSON...: append one result object (jq -n args)
row() { jq -cn "$@" >>"$ROWS"; }

# ---- CPU accounting from /proc/stat --------------------------------------
# cpu_snap: "busy softirq total" jiffies summed over all CPUs
cpu_snap() {
	awk '$1 == "cpu" { busy = $2 + $3 + $4 + $7 + $8 + $9; print busy, $8, busy + $5 + $6 }' \
		/proc/stat
}
HZ=$(getconf CLK_TCK)

# ---- policies -------------------------------------------------------------
mkpol() { # mkpol NAME TAPMODE ETHMODE [RATE [BURST]]
	sh "$top/bench/mkpolicy.sh" "$2" "$3" "${4:-}" "${5:-}" >"$W/$1.nflow" &&
		"$NC" compile "$W/$1.nflow" -o "$W/$1.nfc" >"$W/$1.cc" 2>&1 ||
		{ log "policy $1 does not compile: $(cat "$W/$1.cc")"; return 1; }
}
mkpol xdp xdp tc && mkpol tc tc tc && mkpol hybrid hybrid tc && mkpol auto auto auto &&
	BULK_POLICE=1 mkpol auto-police auto auto "$QOS_BULK_RATE" "$QOS_BULK_BURST" &&
	UPLINK_RATE=$QOS_SHAPE_RATE mkpol auto-sched auto auto && mkpol tc-qos tc tc ||
	{ log "cannot compile the bench policies"; exit 1; }
cp "$W/auto.nflow" "$W/policy100.nflow"

# ---- Nascar and helper programs on/off ------------------------------------
NASCAR_HOOK=        # what nascar-apply attached on tap0 (status), per mode

nascar_on() { # nascar_on POLICY [NASCAR-APPLY OPTIONS]
	local out p=$1
	shift
	out=$(na "$@" "$W/$p.nfc" 2>&1) || { log "nascar-apply $p failed: $out"; return 1; }
	NASCAR_HOOK=$(na status --json 2>/dev/null |
		jq -r '.interfaces[] | select(.name == "tap0") |
			"xdp=\(.xdp // "none") tc=\(.tc // "none")"')
	echo "$out" >"$W/apply-$p.log"
}
nascar_off() {
	rig_exec gw ip link set dev tap0 xdpgeneric off 2>/dev/null
	na detach >/dev/null 2>&1
	rm -rf "$PIN" 2>/dev/null
}
# nascar_generic: Nascar's own XDP program (policy mode xdp) moved from the
# native to the generic hook on tap0 (nascar-apply has no switch for it: the
# bench drops its native link and attaches the pinned program with ip).
nascar_generic() {
	local idx
	nascar_on xdp --unsafe-mode || return 1
	idx=$(rig_exec gw ip -j link show dev tap0 | jq -r '.[0].ifindex')
	rm -f "$PIN/links/xdp_$idx"
	rig_exec gw ip link set dev tap0 xdpgeneric pinned "$PIN/prog_nascar_xdp" ||
		{ log "cannot attach nascar_xdp generic"; return 1; }
	NASCAR_HOOK="xdp=generic(bench) tc=none"
}
helper_on() { # helper_on NS IFNAME PROG HOOK NAME
	rig_exec "$1" "$BX" attach "$2" "$3" "$4" "$BP/$5" >>"$W/helpers.log" 2>&1 ||
		{ log "bench_xdp attach $3 $4 on $1/$2 failed: $(tail -1 "$W/helpers.log")"; return 1; }
}
helper_off() { rig_exec "$1" "$BX" detach "$BP/$2" >/dev/null 2>&1; }
helper_read() { rig_exec "$1" "$BX" read "$BP/$2" 2>/dev/null; }
kv() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2 }'; }

mode_on() { # mode_on MODE: set up gw for MODE (rules stay installed unless norules)
	NASCAR_HOOK=
	case "$1" in
	baseline) NASCAR_HOOK="kernel+rules" ;;
	norules) rig_flush_rules gw; NASCAR_HOOK="kernel" ;;
	# mode xdp on a tap with the guest's TSO on is refused (its TCP would
	# split between XDP and the kernel's NAT); the pps rows send UDP only
	nascar-xdp) nascar_on xdp --unsafe-mode ;;
	nascar-xdp-nol1) NASCAR_BENCH_DEBUG=4 nascar_on xdp --unsafe-mode ;;
	nascar-tc-nol1) NASCAR_BENCH_DEBUG=4 nascar_on tc ;;
	nascar-xdpgeneric) nascar_generic ;;
	nascar-tc) nascar_on tc ;;
	nascar-hybrid) nascar_on hybrid ;;
	nascar-auto) nascar_on auto ;;
	ref-native) helper_on gw tap0 router native tap && NASCAR_HOOK="xdp=native" ;;
	ref-generic) helper_on gw tap0 router generic tap && NASCAR_HOOK="xdp=generic" ;;
	ref-tc) helper_on gw tap0 tcrouter tc tap && NASCAR_HOOK="tc" ;;
	limit) helper_on gw tap0 drop native tap && NASCAR_HOOK="xdp=native drop" ;;
	*) return 1 ;;
	esac
}
mode_off() {
	case "$1" in
	baseline) ;;
	norules) rig_baseline_rules ;;
	nascar-*) nascar_off ;;
	ref-* | limit) helper_off gw tap ;;
	esac
}

# ---- machine --------------------------------------------------------------
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
ncpu=$(nproc)
kernel=$(uname -r)
date_iso=$(date -u +%Y-%m-%dT%H:%M:%SZ)
stamp=$(date -u +%Y%m%d-%H%M%S)
commit=${NASCAR_COMMIT:-$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)}
others=$(ip netns list 2>/dev/null | grep -vc "^$RIG_PREFIX-")
log "machine: $cpu_model, $ncpu CPUs, kernel $kernel; $others other namespaces exist (concurrent runs add noise)"

# =========================================================================
# 1. pps through one VMM thread
# =========================================================================
# pps_rig_up: the tap rig as the pps sections use it (sink on srv eth0)
pps_rig_up() {
	local smac
	rig_up tap --offload on || { log "pps: rig_up failed"; return 1; }
	rig_vmm_stop
	rig_baseline_rules || log "pps: baseline rules failed"
	# the sink drops ARP too: permanent neighbours on gw's uplink
	smac=$(rig_exec srv ip -j link show dev eth0 | jq -r '.[0].address')
	rig_exec gw ip neigh replace "$RIG_SRV_IP4" lladdr "$smac" dev eth0 nud permanent
	rig_exec gw ip -6 neigh replace "$RIG_SRV_IP6" lladdr "$smac" dev eth0 nud permanent
	# kernel completes partial checksums in software on the way out (docs/rig.md)
	rig_exec gw ethtool -K eth0 tx off >/dev/null 2>&1
	mkdir -p "$BP"
	helper_on srv eth0 sink native sink
}

# pps_once FLOWS CSUM SECONDS: one generator run into tap0; sets M_FRAMES
# M_FPS M_GNS (the thread's CPU ns per frame), M_OK M_BAD M_DEL (at the
# sink: good / bad checksums, UDP frames delivered) and M_DPS.
pps_once() {
	local pc=() a b line
	[ "$2" = partial ] && pc=(--partial-csum)
	a=$(helper_read srv sink)
	M_OUT=$(rig_gen --flows "$1" --seconds "$3" --cpu "$GEN_CPU" "${pc[@]}" "${@:4}" 2>&1)
	line=$(grep '^gen:' <<<"$M_OUT")
	sleep 0.1
	b=$(helper_read srv sink)
	M_FRAMES=$(rig_gen_field "$line" frames)
	M_FPS=$(rig_gen_field "$line" fps)
	M_GNS=$(rig_gen_field "$line" cpu_ns_per_frame)
	: "${M_FRAMES:=0}" "${M_FPS:=0}" "${M_GNS:=0}"
	M_OK=$(($(kv "$b" udp_ok) - $(kv "$a" udp_ok)))
	M_BAD=$(($(kv "$b" udp_bad) - $(kv "$a" udp_bad)))
	# delivered = UDP frames at the sink (not its ARP/ND)
	M_DEL=$((M_OK + M_BAD + $(kv "$b" udp_nocsum) - $(kv "$a" udp_nocsum)))
	M_DPS=$(jq -n --argjson d "$M_DEL" --argjson f "$M_FRAMES" --argjson fps "$M_FPS" \
		--argjson s "$3" 'if $f > 0 then $d * $fps / $f else $d / $s end')
}

pps_section() {
	local rep mode fl cs c0 c1 b0 b1
	log "pps: rig tap (offload on), generator on CPU $GEN_CPU, ${PPS_SECS}s x $PPS_REPS reps"
	pps_rig_up || return 1
	for ((rep = 1; rep <= PPS_REPS; rep++)); do
		for mode in $PPS_MODES; do
			if ! mode_on "$mode"; then
				log "pps: $mode unavailable"
				mode_off "$mode"
				[ $rep = 1 ] && row --arg m "$mode" '{section:"pps", mode:$m, error:"unavailable"}'
				continue
			fi
			for fl in $PPS_FLOWS; do
				for cs in $PPS_CSUMS; do
					c0=$(cpu_snap)
					pps_once "$fl" "$cs" "$PPS_SECS"
					c1=$(cpu_snap)
					read -r b0 _ _ <<<"$c0"
					read -r b1 _ _ <<<"$c1"
					row --arg m "$mode" --arg hook "$NASCAR_HOOK" --argjson fl "$fl" \
						--arg cs "$cs" --argjson rep "$rep" --argjson frames "$M_FRAMES" \
						--argjson fps "$M_FPS" --argjson del "$M_DEL" --argjson ok "$M_OK" \
						--argjson bad "$M_BAD" --argjson gns "$M_GNS" --argjson dps "$M_DPS" \
						--argjson busy "$(((b1 - b0) * 1000000000 / HZ))" \
						'{section:"pps", mode:$m, hook:$hook, flows:$fl, csum:$cs, rep:$rep,
						  frames:$frames, fps:$fps, delivered:$del, dps:$dps,
						  csum_ok:$ok, csum_bad:$bad, loss:($frames - $del),
						  gen_cpu_ns_per_frame:$gns,
						  host_cpu_ns_per_delivered:(if $del > 0 then $busy / $del else null end)}'
					log "pps: rep $rep $mode flows=$fl $cs: fps=$M_FPS delivered=$M_DEL ok=$M_OK bad=$M_BAD"
				done
			done
			mode_off "$mode"
		done
	done
	helper_off srv sink
	rig_down
}

# =========================================================================
# 1b. the hit path against the bare router, back to back on one link
# =========================================================================
# Section 1 pairs a mode with its bare router per repetition, tens of
# seconds apart; on a shared machine the drift between them (a neighbour's
# load, the clock, the caches: +-15 % from one second to the next here) is
# larger than the difference.  Here the generator itself puts Nascar's
# program and the bare router on Nascar's own bpf_link on tap0 (XDP, or
# tcx) in turn, HIT_SLICE_MS each (nascar-vmm gen --ab, bpf_link_update),
# and counts frames and time per program: both see the same drift.  The
# sink counts what arrives over the whole run; a cell that loses more
# than 1 % of its frames does not count as a pass.
hit_section() {
	local hook ref idx link rep fl cs first ab a_fps b_fps a_ns b_ns slices frac
	log "hit: Nascar and the bare router in turn on Nascar's link, ${HIT_SLICE_MS} ms slices, ${HIT_SECS}s x $HIT_REPS reps"
	pps_rig_up || return 1
	idx=$(rig_exec gw ip -j link show dev tap0 | jq -r '.[0].ifindex')
	for hook in xdp tc; do
		case $hook in
		xdp) nascar_on xdp --unsafe-mode; ref=router ;;
		tc) nascar_on tc; ref=tcrouter ;;
		esac
		link=$PIN/links/${hook}_$idx
		if [ ! -e "$link" ] || ! rig_exec gw "$BX" load "$ref" "$BP/hitref" >>"$W/helpers.log" 2>&1; then
			log "hit: $hook unavailable (no bpf_link for it, or the router does not load)"
			row --arg h "$hook" '{section:"hit", hook:$h, error:"unavailable"}'
			nascar_off
			continue
		fi
		for ((rep = 1; rep <= HIT_REPS; rep++)); do
			first=$( ((rep % 2)) && echo a || echo b)
			for fl in $PPS_FLOWS; do
				for cs in $PPS_CSUMS; do
					pps_once "$fl" "$cs" "$HIT_SECS" --ab "$link,$PIN/prog_nascar_$hook,$BP/hitref/prog" \
						--ab-slice-ms "$HIT_SLICE_MS" --ab-first "$first"
					ab=$(grep '^ab:' <<<"$M_OUT")
					a_fps=$(rig_gen_field "$ab" a_fps) b_fps=$(rig_gen_field "$ab" b_fps)
					a_ns=$(rig_gen_field "$ab" a_cpu_ns_per_frame)
					b_ns=$(rig_gen_field "$ab" b_cpu_ns_per_frame)
					slices=$(rig_gen_field "$ab" slices)
					if [ -z "$a_fps" ] || [ -z "$b_fps" ] || [ "$M_FRAMES" = 0 ]; then
						log "hit: $hook flows=$fl $cs: the A/B run failed: $M_OUT"
						break 3
					fi
					frac=$(jq -n --argjson d "$M_DEL" --argjson f "$M_FRAMES" '$d / $f')
					row --arg h "$hook" --argjson fl "$fl" --arg cs "$cs" --argjson rep "$rep" \
						--arg first "$first" --argjson slices "$slices" \
						--argjson af "$a_fps" --argjson bf "$b_fps" --argjson an "$a_ns" \
						--argjson bn "$b_ns" --argjson frac "$frac" \
						'{section:"hit", hook:$h, flows:$fl, csum:$cs, rep:$rep, first:$first,
						  slices:$slices, nascar_fps:$af, ref_fps:$bf,
						  nascar_gen_ns:$an, ref_gen_ns:$bn, delivered_frac:$frac,
						  ratio:(if $bf > 0 then $af / $bf else null end)}'
					log "hit: rep $rep $hook flows=$fl $cs: nascar $a_fps/s ${a_ns}ns ref $b_fps/s ${b_ns}ns, $slices slices, swap $(rig_gen_field "$ab" swap_us) us, delivered $frac"
				done
			done
		done
		helper_off gw hitref
		nascar_off
	done
	helper_off srv sink
	rig_down
}

# =========================================================================
# 1c. where the writing thread's time goes (perf, opt-in: --only prof)
# =========================================================================
# One generator run per mode with `perf record -e cpu-clock` on the
# generator's CPU (hrtimer sampling: this machine's guest has no PMU), and
# the symbols that take the most samples, each as a share and as ns of the
# thread's CPU time per frame.  BPF programs show as bpf_prog_<tag>_<name>
# (net.core.bpf_jit_kallsyms is set for the run).  Not in the default run:
# perf may be missing, and the profile is for reading, not a figure.
# prof_lines LINES NS < SAMPLE-IPS: the samples that fall in the program
# of LINES (bench/jitlines: address, file:line, source), per source line,
# most first: share of all samples, ns per frame, share of the program's.
prof_lines() {
	# jited line info is in instruction order; subprograms' images may
	# lie anywhere, so the lines are sorted by address for the search
	sort "$1" >"$1.sorted"
	awk -v ns="$2" -v lines="$1.sorted" '
	# the low 32 bits of a hex address (mawk has no strtonum; a program
	# spans far less than 4 GB)
	function hex(s,    i, v) {
		s = tolower(substr(s, length(s) > 8 ? length(s) - 7 : 1)); v = 0
		for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return v
	}
	BEGIN {
		while ((getline l < lines) > 0) {
			split(l, f, " ")
			n++; a[n] = hex(f[1]); loc[n] = f[2]
			src[n] = substr(l, length(f[1]) + length(f[2]) + 3)
		}
	}
	{
		total++
		ip = hex($1)
		if (!n || ip < a[1] || ip >= a[n]) next
		lo = 1; hi = n
		while (lo < hi) { mid = int((lo + hi + 1) / 2); if (a[mid] <= ip) lo = mid; else hi = mid - 1 }
		if (loc[lo] == "end") next # between two functions: not this program
		hit[loc[lo] " " src[lo]]++; in_prog++
	}
	END {
		for (k in hit)
			printf "%6.2f%% %6.1f ns %5.1f%%  %s\n", 100 * hit[k] / total,
				ns * hit[k] / total, 100 * hit[k] / in_prog, k
	}' | sort -rn
}
PROF_MODES=${PROF_MODES:-"nascar-xdp ref-native nascar-tc ref-tc limit"}
prof_section() {
	local mode fl=${PROF_FLOWS:-16} cs=${PROF_CSUM:-complete} kall out
	command -v perf >/dev/null 2>&1 || { log "prof: no perf (apt-get install linux-perf)"; return 0; }
	kall=$(cat /proc/sys/net/core/bpf_jit_kallsyms 2>/dev/null)
	echo 1 >/proc/sys/net/core/bpf_jit_kallsyms 2>/dev/null
	pps_rig_up || return 1
	for mode in $PROF_MODES; do
		if ! mode_on "$mode"; then
			log "prof: $mode unavailable"
			mode_off "$mode"
			continue
		fi
		pps_once "$fl" "$cs" 1 # warm the caches and the neighbours
		if [ -n "${PROF_ANNOTATE:-}" ]; then
			mkdir -p "$PROF_ANNOTATE"
			case $mode in
			nascar-xdp | nascar-xdp-*) "$OB/bench/jitlines" "$PIN/prog_nascar_xdp" ;;
			nascar-tc | nascar-tc-*) "$OB/bench/jitlines" "$PIN/prog_nascar_tc" ;;
			ref-* | limit) rig_exec gw "$OB/bench/jitlines" "$BP/tap/link" ;;
			esac >"$PROF_ANNOTATE/$mode.lines" 2>/dev/null
		fi
		perf record -q -e cpu-clock -F "${PROF_FREQ:-2000}" -C "$GEN_CPU" -o "$W/prof-$mode.data" -- \
			sleep "$PROF_SECS" >/dev/null 2>&1 &
		sleep 0.2
		pps_once "$fl" "$cs" "$((PROF_SECS - 1))"
		wait
		out=$(perf report -q -i "$W/prof-$mode.data" --stdio --sort sym 2>/dev/null |
			awk -v ns="$M_GNS" 'NF >= 3 && $1 ~ /%$/ {
				p = $1; sub(/%/, "", p); $1 = ""; $2 = ""
				if (p + 0 >= 0.5) printf "  %6.2f%%  %6.1f ns  %s\n", p, p * ns / 100, $0 }')
		{
			echo "prof: $mode flows=$fl $cs checksums: fps=$M_FPS gen ns/frame=$M_GNS"
			echo "$out"
		} | tee -a "$W/prof.txt" >&2
		# PROF_ANNOTATE=DIR: the data and the JITed programs' annotation
		if [ -n "${PROF_ANNOTATE:-}" ]; then
			mkdir -p "$PROF_ANNOTATE"
			cp "$W/prof-$mode.data" "$PROF_ANNOTATE/"
			perf script -i "$W/prof-$mode.data" -F ip 2>/dev/null |
				prof_lines "$PROF_ANNOTATE/$mode.lines" "$M_GNS" |
				tee "$PROF_ANNOTATE/$mode.hot" | head -40 >&2
		fi
		mode_off "$mode"
	done
	helper_off srv sink
	rig_down
	[ -n "$kall" ] && echo "$kall" >/proc/sys/net/core/bpf_jit_kallsyms 2>/dev/null
}

# =========================================================================
# 2. TCP throughput (iperf3)
# =========================================================================
tcp_mode_on() {
	case "$1" in
	baseline) NASCAR_HOOK="kernel+rules" ;;
	norules) rig_flush_rules gw; NASCAR_HOOK="kernel" ;;
	*) nascar_on "$1" ;;
	esac
}
tcp_mode_off() {
	case "$1" in
	baseline) ;;
	norules) rig_baseline_rules ;;
	*) nascar_off ;;
	esac
}
tcp_section() {
	local lk link off rep mode load args bps c0 c1 b0 s0 t0 b1 s1 t1
	for lk in $TCP_LINKS; do
		link=${lk%-*} off=${lk#*-}
		log "tcp: rig $link offload $off"
		rig_up "$link" --offload "$off" || { log "tcp: rig_up $lk failed"; continue; }
		rig_baseline_rules
		# a native XDP redirect into gw's eth0 veth needs GRO on its peer
		rig_exec srv ethtool -K eth0 gro on >/dev/null 2>&1
		[ "$link" = tap ] && taskset -pc "$GEN_CPU" "$(cat "$RIG_DIR/vmm.pid")" >/dev/null 2>&1
		for ((rep = 1; rep <= TCP_REPS; rep++)); do
			for mode in $TCP_MODES; do
				tcp_mode_on "$mode" || { tcp_mode_off "$mode"; continue; }
				for load in $TCP_LOADS; do
					case $load in
					64x4) args=(-l 64 -P 4) ;;
					16k) args=(-l 16K) ;;
					esac
					rig_iperf_server srv 5201 || { log "tcp: no iperf3 server"; continue; }
					c0=$(cpu_snap)
					bps=$(rig_iperf_client vm "$RIG_SRV_IP4" "$TCP_SECS" -p 5201 -A "$OTHER_CPU,$OTHER_CPU" \
						"${args[@]}")
					c1=$(cpu_snap)
					rig_bg_stop "iperf-srv-5201" 2
					read -r b0 s0 t0 <<<"$c0"
					read -r b1 s1 t1 <<<"$c1"
					row --arg m "$mode" --arg hook "$NASCAR_HOOK" --arg link "$link" \
						--arg off "$off" --arg load "$load" --argjson rep "$rep" \
						--argjson bps "${bps:-0}" --argjson b "$((b1 - b0))" \
						--argjson s "$((s1 - s0))" --argjson t "$((t1 - t0))" \
						'{section:"tcp", mode:$m, hook:$hook, link:$link, offload:$off,
						  load:$load, rep:$rep, mbps:($bps / 1e6),
						  cpu_softirq_pct:(if $t > 0 then 100 * $s / $t else null end),
						  cpu_other_busy_pct:(if $t > 0 then 100 * ($b - $s) / $t else null end)}'
					log "tcp: $lk rep $rep $mode $load: $((bps / 1000000)) Mbit/s"
				done
				tcp_mode_off "$mode"
			done
		done
		rig_down
	done
}

# =========================================================================
# 3. QoS: control-flow latency idle and under a saturating bulk flow
# =========================================================================
# qdisc_on: the bench installs (nascar-apply does not): HTB on gw eth0 shaping
# to QOS_SHAPE_RATE, three classes chosen by skb->priority through
# bench/bpf/bench_qos.bpf.c (cls_bpf): 6..7 -> 1:10 (prio 0), 4..5 -> 1:20 (prio 1),
# the rest -> 1:30 (prio 2, the default class).
qdisc_on() {
	local r=${QOS_SHAPE_RATE%mbit}
	rig_exec gw tc qdisc replace dev eth0 root handle 1: htb default 30 2>/dev/null &&
		rig_exec gw tc class add dev eth0 parent 1: classid 1:1 htb rate "${r}mbit" \
			ceil "${r}mbit" 2>/dev/null &&
		rig_exec gw tc class add dev eth0 parent 1:1 classid 1:10 htb rate "$((r / 4))mbit" \
			ceil "${r}mbit" prio 0 2>/dev/null &&
		rig_exec gw tc class add dev eth0 parent 1:1 classid 1:20 htb rate "$((r / 4))mbit" \
			ceil "${r}mbit" prio 1 2>/dev/null &&
		rig_exec gw tc class add dev eth0 parent 1:1 classid 1:30 htb rate "$((r / 2))mbit" \
			ceil "${r}mbit" prio 2 2>/dev/null &&
		rig_exec gw tc filter add dev eth0 parent 1: protocol all prio 1 bpf \
			obj "$OB/bench_qos.bpf.o" sec tc
}
qdisc_off() { rig_exec gw tc qdisc del dev eth0 root >/dev/null 2>&1; }
# fifo_on: the kernel alone with a plain FIFO at the line rate (a tbf, which
# also splits GSO super-packets): what a 100 Mbit/s link does by itself
fifo_on() {
	rig_exec gw tc qdisc replace dev eth0 root tbf rate "$QOS_SHAPE_RATE" burst 4542 \
		limit 1250000 2>/dev/null
}

qos_measure() { # qos_measure SETUP LOAD(idle|bulk)
	local setup=$1 load=$2 line bulk_bps=0 drops=null st
	rig_bg rrsrv rig_exec srv taskset -c "$OTHER_CPU" "$RR" server --port 7777 --seconds $((QOS_SECS + 30))
	rig_wait_for 5 _rig_udp_bound srv 7777 || { log "qos: no echo server"; return 1; }
	if [ "$load" = bulk ]; then
		rig_iperf_server srv 5201 || return 1
		rig_bg bulk rig_exec vm timeout $((QOS_SECS + 20)) iperf3 -c "$RIG_SRV_IP4" -p 5201 \
			-t $((QOS_SECS + 2)) -J -S 0x20
		sleep 1.5
	fi
	line=$(rig_exec vm timeout $((QOS_SECS + 10)) "$RR" client --addr "$RIG_SRV_IP4" --port 7777 \
		--rate "$QOS_RATE" --count $((QOS_RATE * QOS_SECS)) --seconds "$QOS_SECS" --prio 7 \
		--tos 0xb8 --timeout-ms 200 2>&1 | grep '^rr:')
	if [ "$load" = bulk ]; then
		# bounded wait for iperf3 to finish, then its receiver rate
		rig_wait_for $((QOS_SECS + 10)) sh -c "! kill -0 $(cat "$RIG_DIR/bulk.pid") 2>/dev/null"
		bulk_bps=$(jq -r '.end.sum_received.bits_per_second // 0 | floor' "$RIG_DIR/bulk.log" 2>/dev/null)
		rig_bg_stop bulk 2
		rig_bg_stop iperf-srv-5201 2
		if [ -e "$PIN/links" ] || [ -d "$PIN" ]; then
			st=$(na stats --json 2>/dev/null)
			drops=$(echo "$st" | jq '[.classes[]? | select(.name == "bulk") | .police_pkts] |
				add // null' 2>/dev/null)
			echo "$st" >"$W/stats-$setup.json"
		fi
	fi
	rig_bg_stop rrsrv 2
	row --arg setup "$setup" --arg load "$load" --arg line "$line" \
		--argjson bulk "${bulk_bps:-0}" --argjson drops "${drops:-null}" \
		'def f(k): ($line | capture(k + "=(?<v>[0-9.]+)").v | tonumber);
		 {section:"qos", setup:$setup, load:$load,
		  sent:f("sent"), recv:f("recv"), lost:f("lost"),
		  p50_us:f("p50_us"), p99_us:f("p99_us"), p999_us:f("p999_us"), max_us:f("max_us"),
		  bulk_mbps:($bulk / 1e6), bulk_police_drops:$drops}' ||
		row --arg setup "$setup" --arg load "$load" --arg line "$line" \
			'{section:"qos", setup:$setup, load:$load, error:$line}'
	log "qos: $setup $load: $line bulk=$((${bulk_bps:-0} / 1000000)) Mbit/s"
}
qos_section() {
	local setup
	log "qos: rig tap (offload on), ${QOS_SECS}s per measurement, $QOS_RATE req/s"
	rig_up tap --offload on || { log "qos: rig_up failed"; return 1; }
	rig_baseline_rules
	rig_exec srv ethtool -K eth0 gro on >/dev/null 2>&1
	taskset -pc "$GEN_CPU" "$(cat "$RIG_DIR/vmm.pid")" >/dev/null 2>&1
	for setup in kernel kernel-fifo kernel-htb nascar-police nascar-tc-htb nascar-sched; do
		case $setup in
		kernel) ;;
		kernel-fifo) fifo_on || { log "qos: no tbf"; continue; } ;;
		kernel-htb) qdisc_on || { log "qos: no HTB"; continue; } ;;
		nascar-police) nascar_on auto-police || continue ;;
		nascar-sched) nascar_on auto-sched || continue ;;
		nascar-tc-htb) { nascar_on tc-qos && qdisc_on; } || { nascar_off; qdisc_off; continue; } ;;
		esac
		qos_measure "$setup" idle
		qos_measure "$setup" bulk
		[ "$setup" = nascar-tc-htb ] && rig_exec gw tc -s class show dev eth0 >"$W/htb.txt" 2>&1 &&
			rig_exec gw tc -s qdisc show dev eth0 >>"$W/htb.txt" 2>&1
		nascar_off
		qdisc_off
	done
	rig_down
}

# =========================================================================
# 3b. shaping: one TCP stream in a class with a rate, shaped vs police; vs
#     the kernel with a tbf at the same rate
# =========================================================================
shape_measure() { # shape_measure SETUP RATE
	local bps retr
	rig_iperf_server srv 5201 || return 1
	bps=$(rig_iperf_client vm "$RIG_SRV_IP4" "$SHAPE_SECS" -p 5201)
	retr=$(jq -r '.end.sum_sent.retransmits // null' "$RIG_DIR/iperf.json" 2>/dev/null)
	rig_bg_stop iperf-srv-5201 2
	row --arg setup "$1" --argjson rate "$2" --argjson bps "${bps:-0}" --argjson retr "${retr:-null}" \
		'{section:"shape", setup:$setup, rate_mbit:$rate, mbps:($bps / 1e6), retransmits:$retr}'
	log "shape: $1 at $2 Mbit/s: $((${bps:-0} / 1000000)) Mbit/s, $retr retransmits"
}
shape_section() {
	local r setup rep
	log "shape: rig tap (offload on), NAT rules, ${SHAPE_SECS}s per measurement"
	rig_up tap --offload on || { log "shape: rig_up failed"; return 1; }
	rig_baseline_rules
	rig_exec srv ethtool -K eth0 gro on >/dev/null 2>&1
	taskset -pc "$GEN_CPU" "$(cat "$RIG_DIR/vmm.pid")" >/dev/null 2>&1
	for r in $SHAPE_RATES; do
		mkpol "shape-$r" auto auto "${r}mbit" && BULK_POLICE=1 mkpol "police-$r" auto auto "${r}mbit" ||
			continue
		for ((rep = 1; rep <= SHAPE_REPS; rep++)); do
			for setup in nascar-shaped nascar-police kernel-tbf; do
				case $setup in
				nascar-shaped) nascar_on "shape-$r" || continue ;;
				nascar-police) nascar_on "police-$r" || continue ;;
				kernel-tbf) rig_exec gw tc qdisc replace dev eth0 root tbf rate "${r}mbit" \
					burst $((r * 1250 > 4542 ? r * 1250 : 4542)) latency 100ms || continue ;;
				esac
				shape_measure "$setup" "$r"
				nascar_off
				qdisc_off
			done
		done
	done
	rig_down
}

# =========================================================================
# 4. per-packet cost (BPF_PROG_TEST_RUN) and 5. userspace classification
# =========================================================================
prog_section() {
	local bin=$OB/tests/bpf_tests out
	if [ ! -x "$bin" ] || [ ! -f "$top/tests/bpf/test_bpf.sh" ]; then
		log "prog: no $bin"
		return 0
	fi
	out=$(O=$O timeout 300 sh "$top/tests/bpf/test_bpf.sh" bench "$PROG_REPEAT" 2>&1)
	echo "$out" >"$W/prog.txt"
	echo "$out" | grep '^bench:' >&2
}
classify_section() {
	local bin=$OB/bench/classify_bench
	[ -x "$bin" ] || { log "classify: no $bin"; return 0; }
	timeout 300 "$bin" >"$W/classify.txt" 2>&1
	cat "$W/classify.txt" >&2
}

want pps && pps_section
want hit && hit_section
want prof && prof_section
want tcp && tcp_section
want qos && qos_section
want shape && shape_section
want prog && prog_section
want classify && classify_section
t_end=$(date +%s)

# =========================================================================
# report
# =========================================================================
mkdir -p "$outdir"
suffix=
[ $quick = 1 ] && suffix=-quick
[ "$only" != "pps,hit,tcp,qos,shape,prog,classify" ] && suffix="$suffix-partial"
base=$outdir/$stamp$suffix
settings=$(jq -cn --argjson quick "$quick" --arg only "$only" \
	--argjson ppsreps "$PPS_REPS" --argjson ppssecs "$PPS_SECS" --arg ppsflows "$PPS_FLOWS" \
	--argjson hitreps "$HIT_REPS" --argjson hitsecs "$HIT_SECS" --argjson hitslice "$HIT_SLICE_MS" \
	--argjson tcpreps "$TCP_REPS" --argjson tcpsecs "$TCP_SECS" --arg tcplinks "$TCP_LINKS" \
	--arg tcploads "$TCP_LOADS" --arg tcpmodes "$TCP_MODES" --argjson qossecs "$QOS_SECS" \
	--argjson qosrate "$QOS_RATE" --arg shaperates "$SHAPE_RATES" --argjson shapesecs "$SHAPE_SECS" \
	--argjson shapereps "$SHAPE_REPS" --arg bulkrate "$QOS_BULK_RATE burst $QOS_BULK_BURST" --arg shape "$QOS_SHAPE_RATE" \
	--argjson gencpu "$GEN_CPU" --argjson othercpu "$OTHER_CPU" --argjson repeat "$PROG_REPEAT" \
	'{quick:($quick == 1), sections:$only,
	  pps:{reps:$ppsreps, seconds:$ppssecs, flows:$ppsflows, frame_bytes:106, udp_payload:64,
	       link:"tap, offload on, nascar-vmm gen (forwarder stopped)",
	       sink:"ref_sink native XDP on srv eth0 (drops, counts checksums)",
	       gw:"study iptables rules installed in every mode but norules; permanent neighbour for srv; tx checksum off on gw eth0"},
	  hit:{reps:$hitreps, seconds:$hitsecs, slice_ms:$hitslice},
	  tcp:{reps:$tcpreps, seconds:$tcpsecs, links:$tcplinks, loads:$tcploads, modes:$tcpmodes,
	       iperf3:"-l 64 -P 4 (64x4) or -l 16K (16k), client in vm, server in srv"},
	  qos:{seconds:$qossecs, request_rate:$qosrate, request_bytes:64, control:"udp_rr prio 7 tos 0xb8 to srv:7777",
	       bulk:"iperf3 TCP vm->srv:5201, 1 stream, default writes", bulk_police_rate:$bulkrate,
	       htb:("gw eth0: htb rate " + $shape + ", classes by skb->priority (bench/bpf/bench_qos.bpf.c): 6..7 -> 1:10 prio 0, 4..5 -> 1:20 prio 1, rest -> 1:30 prio 2; installed by the bench"),
	       line_rate:$shape},
	  shape:{rates_mbit:$shaperates, seconds:$shapesecs, reps:$shapereps},
	  pinning:{vmm_thread_cpu:$gencpu,
	           note:("generator (pps) and nascar-vmm forward (tcp, qos) pinned to CPU " + ($gencpu|tostring) + "; iperf3 client/server and udp_rr server on CPU " + ($othercpu|tostring) + "; softirq where the kernel runs it (mostly inside the VMM thread write on its CPU)")},
	  prog_test_run_repeat:$repeat}')
jq -s --arg cpu "$cpu_model" --argjson ncpu "$ncpu" --arg kernel "$kernel" --arg date "$date_iso" \
	--arg commit "$commit" --argjson settings "$settings" --argjson secs "$((t_end - t_start))" \
	--argjson others "$others" --rawfile prog <(cat "$W/prog.txt" 2>/dev/null) \
	--rawfile classify <(cat "$W/classify.txt" 2>/dev/null) \
	--rawfile htb <(cat "$W/htb.txt" 2>/dev/null) \
	'{machine:{cpu:$cpu, cores:$ncpu, kernel:$kernel}, date:$date, commit:$commit,
	  duration_s:$secs, other_namespaces_at_start:$others, settings:$settings, rows:.,
	  prog_test_run:$prog, classify_bench:$classify, qos_qdisc_stats:$htb}' "$ROWS" >"$base.json" ||
	{ log "cannot write $base.json"; exit 1; }
sh "$top/bench/report.sh" "$base.json" >"$base.md" || log "report.sh failed"
if [ -s "$W/prof.txt" ]; then
	{
		printf '\n## 1c. Where the VMM thread'"'"'s time goes (perf, %s Hz)\n\n```\n' "${PROF_FREQ:-2000}"
		cat "$W/prof.txt"
		printf '```\n'
	} >>"$base.md"
fi
# latest[-quick] is a whole run: a partial one (--only) keeps its dated name only
if [ "${suffix%-partial}" = "$suffix" ]; then
	cp "$base.json" "$outdir/latest$([ $quick = 1 ] && echo -quick).json"
	cp "$base.md" "$outdir/latest$([ $quick = 1 ] && echo -quick).md"
fi
cat "$base.md"
log "results: $base.md $base.json ($((t_end - t_start)) s)"
exit 0
