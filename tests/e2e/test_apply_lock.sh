#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/e2e/test_apply_lock.sh: nascar-apply runs one at a time per pin
# directory (issue 8, items 6 and 7a), on the veth rig.
#  - several applies started together, each after a random delay of 0-30 ms,
#    on a fresh start and on a re-apply, with the default wait and with
#    --wait 0: every run either applies, finds the policy already in force,
#    or exits 1 with "another nascar-apply (pid N) is running on PIN"; no two
#    runs switch to the same generation; afterwards exactly one policy is in
#    force (the one of the last switch), and the maps, status --json, the
#    state file, the pins and the traffic all agree;
#  - a run holding the lock (stalled before its switch): apply and detach
#    with a short --wait give up in time and name its pid, status, stats
#    and detach --dry-run answer at once, and an apply waiting for it goes
#    ahead when it dies;
#  - a fresh apply killed before its switch: status reports what the maps
#    hold (generation 0, the new policy's hash in slot 0) and says the state
#    file disagrees; the next apply makes them agree;
#  - detach leaves no pin, no hook, no state and no lock file.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
RIG_PREFIX=${RIG_PREFIX:-ntl$$}
. "$(cd "$(dirname "$0")" && pwd)/apply_lib.sh"
apply_need
apply_trap
LOCK=/run/nascar/sys-fs-bpf-$RIG_PREFIX.lock
RACERS=4

if ! rig_up veth --offload on; then
	bad "lock: rig_up"
	exit 1
fi
mkpolicy A tc || bad "lock: compile A"
mkpolicy B tc "flow killme { to $RIG_SRV_IP4 port 7600; proto udp; action drop; }" ||
	bad "lock: compile B"
hash_of() { na --dry-run "$RIG_DIR/$1.nfc" 2>/dev/null | sed -n 's/^dry run: policy \([0-9a-f]*\) .*/\1/p'; }
hashA=$(hash_of A) hashB=$(hash_of B)
[ -n "$hashA" ] && [ -n "$hashB" ] && [ "$hashA" != "$hashB" ] || bad "lock: policy hashes" "'$hashA' '$hashB'"
ethi=$(rig_exec gw ip -o link show eth0 | cut -d: -f1)
tapi=$(rig_exec gw ip -o link show tap0 | cut -d: -f1)
rig_udp_count_start srv 7600 drop

# What the kernel's maps say, read with bpftool (not with nascar-apply).
map_gen() { bpftool -j map dump pinned "$PIN/nascar_state" 2>/dev/null | jq -r '.[0].formatted.value.generation'; }
map_slot() { bpftool -j map dump pinned "$PIN/nascar_state" 2>/dev/null | jq -r '.[0].formatted.value.active_slot'; }
map_hash() { # source_hash of the active slot, as 16 hex digits
	bpftool -j map dump pinned "$PIN/nascar_slots" 2>/dev/null |
		jq -r --argjson s "$(map_slot)" '.[] | select(.formatted.key == $s) | .value[24:32] | reverse | map(.[2:]) | join("")'
}
prog_ids="" # every program id status showed, for the final check

# race TAG WAITOPT FILE...: one apply per FILE (A or B), all in the
# background, each after a random delay of 0-30 ms; WAITOPT is "" (the
# default wait) or an option such as --wait=0.  Each run is bounded by
# timeout 60; results in $RIG_DIR/TAG.I.{out,err,rc}.
race() {
	local tag=$1 w=$2 i=0 f pids=()
	shift 2
	for f in "$@"; do
		(
			sleep "$(printf '0.%03d' $((RANDOM % 31)))"
			rig_exec gw timeout 60 "$NA" --pin-dir "$PIN" ${w:+"$w"} "$RIG_DIR/$f.nfc" \
				>"$RIG_DIR/$tag.$i.out" 2>"$RIG_DIR/$tag.$i.err"
			echo $? >"$RIG_DIR/$tag.$i.rc"
		) &
		pids+=($!)
		i=$((i + 1))
	done
	wait "${pids[@]}"
}

# judge TAG N PREV_GEN: classify the N runs of race TAG; sets want_gen and
# want_hash to what the last switch put in force (PREV_GEN and the previous
# want_hash when no run switched).
judge() {
	local tag=$1 n=$2 i rc g h gens="" won=0 noop=0 lost=0 other="" maxg=$3
	for ((i = 0; i < n; i++)); do
		rc=$(cat "$RIG_DIR/$tag.$i.rc" 2>/dev/null)
		g=$(sed -n 's/^policy [0-9a-f]* in force: generation \([0-9]*\),.*/\1/p' "$RIG_DIR/$tag.$i.out")
		h=$(sed -n 's/^policy \([0-9a-f]*\) in force: generation .*/\1/p' "$RIG_DIR/$tag.$i.out")
		if [ "$rc" = 0 ] && [ -n "$g" ]; then
			won=$((won + 1))
			gens="$gens $g"
			if [ "$g" -gt "$maxg" ]; then
				maxg=$g
				want_hash=$h
			fi
		elif [ "$rc" = 0 ] && grep -q "already in force" "$RIG_DIR/$tag.$i.out"; then
			noop=$((noop + 1))
		elif [ "$rc" = 1 ] && [ "$(wc -l <"$RIG_DIR/$tag.$i.err")" -eq 1 ] &&
			grep -Eq "^nascar-apply: another nascar-apply \(pid [0-9]+\) is running on $PIN; " \
				"$RIG_DIR/$tag.$i.err"; then
			lost=$((lost + 1))
		else
			other="$other [run $i: rc=$rc: $(tr '\n' ' ' <"$RIG_DIR/$tag.$i.err" | head -c 240)]"
		fi
	done
	if [ -z "$other" ]; then
		ok "$tag: every run applied ($won), found it in force ($noop) or was told another nascar-apply is running ($lost)"
	else
		bad "$tag: every run applied, found it in force or was told another nascar-apply is running" "$other"
	fi
	check "$tag: no two runs switched to the same generation (${gens# })" \
		test "$(echo "$gens" | tr ' ' '\n' | grep -c .)" -eq "$(echo "$gens" | tr ' ' '\n' | grep . | sort -u | wc -l)"
	want_gen=$maxg
}

# consistent TAG: exactly the policy of the last switch (want_gen,
# want_hash) in force, and the maps, status --json, the state file, the
# pins and the traffic agree.
consistent() {
	local tag=$1 mg ms mh sj why="" f pid lp lid c0 c1
	mg=$(map_gen) ms=$(map_slot) mh=$(map_hash)
	[ "$mg" = "$want_gen" ] || why="$why maps-generation=$mg-want-$want_gen"
	[ "$mh" = "$want_hash" ] || why="$why maps-hash=$mh-want-$want_hash"
	sj=$(na status --json 2>/dev/null)
	[ "$(jq -r .generation <<<"$sj")" = "$mg" ] || why="$why status-generation=$(jq -r .generation <<<"$sj")"
	[ "$(jq -r .active_slot <<<"$sj")" = "$ms" ] || why="$why status-slot"
	[ "$(jq -r .source_hash <<<"$sj")" = "$mh" ] || why="$why status-hash=$(jq -r .source_hash <<<"$sj")"
	[ "$(jq -r .consistent <<<"$sj")" = true ] || why="$why status-not-consistent:$(jq -c .problems <<<"$sj")"
	f=$STATE/nascar.state
	grep -qx "generation $mg" "$f" 2>/dev/null || why="$why state-file-generation"
	grep -qx "active_slot $ms" "$f" 2>/dev/null || why="$why state-file-slot"
	grep -q "^slot $ms hash=$mh " "$f" 2>/dev/null || why="$why state-file-hash"
	# pins: the maps, the two programs, and one tcx link per interface,
	# each running the pinned program
	[ "$(find "$PIN/links" -mindepth 1 | sort | tr '\n' ' ')" = "$PIN/links/tc_$ethi $PIN/links/tc_$tapi " ] ||
		why="$why links=[$(ls "$PIN/links" 2>&1 | tr '\n' ' ')]"
	[ "$(find "$PIN" -maxdepth 1 -type f -name 'prog_*' | wc -l)" -eq 2 ] || why="$why prog-pins"
	pid=$(bpftool -j prog show pinned "$PIN/prog_nascar_tc" 2>/dev/null | jq -r .id)
	for lp in "$PIN/links/tc_$ethi" "$PIN/links/tc_$tapi"; do
		lid=$(bpftool -j link show pinned "$lp" 2>/dev/null | jq -r .prog_id)
		[ -n "$pid" ] && [ "$lid" = "$pid" ] || why="$why $(basename "$lp")-runs-prog-$lid-not-$pid"
	done
	for d in tap0 eth0; do
		[ "$(jq -r --arg d "$d" '.interfaces[] | select(.name == $d) | .tc_prog_id' <<<"$sj")" = "$pid" ] ||
			why="$why status-$d-prog"
	done
	prog_ids="$prog_ids $pid"
	# traffic: port 7600 is forwarded under A, dropped under B
	c0=$(rig_udp_count srv 7600)
	rig_udp_send vm "$RIG_SRV_IP4" 7600 10
	sleep 0.3
	c1=$(rig_udp_count srv 7600)
	if [ "$want_hash" = "$hashB" ]; then
		[ "$c1" -eq "$c0" ] || why="$why B-in-force-but-7600-forwarded($((c1 - c0)))"
	else
		[ "$c1" -ge $((c0 + 9)) ] || why="$why A-in-force-but-7600-lost($((c1 - c0)))"
	fi
	if [ -z "$why" ]; then
		ok "$tag: one policy in force (generation $mg, $([ "$mh" = "$hashA" ] && echo A || echo B)); maps, status, state file, pins and traffic agree"
	else
		bad "$tag: one policy in force; maps, status, state file, pins and traffic agree" "${why# }"
	fi
}

fresh() { # a clean start: nothing applied
	na detach >/dev/null 2>&1
	[ ! -e "$PIN" ] && [ ! -e "$STATE/nascar.state" ] || bad "lock: detach before a fresh round" "$(ls "$PIN" 2>&1 | head -c 200)"
}

# 1. fresh starts, the default wait
for r in 1 2 3; do
	fresh
	race "lock: fresh start $r" "" A B A B
	want_hash=none
	judge "lock: fresh start $r" "$RACERS" 0
	consistent "lock: fresh start $r"
done

# 2. re-applies, the default wait
for r in 1 2 3; do
	na "$RIG_DIR/A.nfc" >/dev/null 2>&1 || bad "lock: apply A before re-apply round $r"
	g=$(map_gen)
	want_hash=$hashA
	race "lock: re-apply $r" "" B A B A
	judge "lock: re-apply $r" "$RACERS" "$g"
	consistent "lock: re-apply $r"
done

# 3. --wait 0: the losers give up at once
fresh
race "lock: fresh start, --wait 0" --wait=0 A B A B
want_hash=none
judge "lock: fresh start, --wait 0" "$RACERS" 0
consistent "lock: fresh start, --wait 0"
g=$(map_gen)
race "lock: re-apply, --wait 0" --wait=0 B A B A
judge "lock: re-apply, --wait 0" "$RACERS" "$g"
consistent "lock: re-apply, --wait 0"

# 4. a run that holds the lock
na "$RIG_DIR/A.nfc" >/dev/null 2>&1
g=$(map_gen) want_hash=$(map_hash)
rig_bg holder rig_exec gw env NASCAR_TEST_STALL=before-switch "$NA" --pin-dir "$PIN" --force "$RIG_DIR/B.nfc"
if rig_wait_for 10 grep -q "stalled at before-switch" "$RIG_DIR/holder.log"; then
	hpid=$(cat "$RIG_DIR/holder.pid")
	t0=$(date +%s%N)
	na --wait 1 "$RIG_DIR/A.nfc" >"$RIG_DIR/w.out" 2>"$RIG_DIR/w.err"
	rc=$? ms=$((($(date +%s%N) - t0) / 1000000))
	grep -q "^nascar-apply: another nascar-apply (pid $hpid) is running on $PIN; waited 1 s" "$RIG_DIR/w.err" &&
		[ "$rc" -eq 1 ] && [ "$(wc -l <"$RIG_DIR/w.err")" -eq 1 ] && [ "$ms" -ge 900 ] && [ "$ms" -lt 5000 ]
	r=$?
	check "lock: an apply with --wait 1 gives up after 1 s (${ms} ms, rc $rc) and names the holder (pid $hpid)" test "$r" -eq 0 ||
		head -c 300 "$RIG_DIR/w.err"
	na --wait 0 detach >"$RIG_DIR/d.out" 2>"$RIG_DIR/d.err"
	rc=$?
	grep -q "^nascar-apply: another nascar-apply (pid $hpid) is running on $PIN; " "$RIG_DIR/d.err" && [ "$rc" -eq 1 ]
	check "lock: detach with --wait 0 refuses at once and names the holder" test $? -eq 0
	out=$(rig_exec gw timeout 5 "$NA" --pin-dir "$PIN" status 2>&1)
	rc=$?
	echo "$out" | grep -q "nascar-apply (pid $hpid) is changing this policy now"
	check "lock: status answers while an apply runs (rc $rc) and says which one" test $? -eq 0 -a "$rc" -eq 0
	[ "$(rig_exec gw timeout 5 "$NA" --pin-dir "$PIN" status --json 2>/dev/null | jq -r .busy_pid)" = "$hpid" ]
	check "lock: status --json names the running apply (busy_pid)" test $? -eq 0
	rig_exec gw timeout 5 "$NA" --pin-dir "$PIN" stats --json >/dev/null 2>&1
	check "lock: stats answers while an apply runs" test $? -eq 0
	out=$(rig_exec gw timeout 5 "$NA" --pin-dir "$PIN" --wait 0 --dry-run detach 2>&1)
	rc=$?
	echo "$out" | grep -q '^dry run: nothing was changed$'
	check "lock: detach --dry-run answers while an apply runs (rc $rc)" test $? -eq 0 -a "$rc" -eq 0
	rig_bg waiter rig_exec gw "$NA" --pin-dir "$PIN" --wait 30 "$RIG_DIR/A.nfc"
	sleep 0.5
	kill -0 "$(cat "$RIG_DIR/waiter.pid")" 2>/dev/null
	check "lock: an apply with --wait 30 waits for the holder" test $? -eq 0
	{ kill -KILL "$hpid" && wait "$hpid"; } 2>/dev/null
	rm -f "$RIG_DIR/holder.pid"
	wpid=$(cat "$RIG_DIR/waiter.pid")
	rig_wait_for 20 bash -c "! kill -0 $wpid 2>/dev/null"
	wait "$wpid" 2>/dev/null
	rc=$?
	rm -f "$RIG_DIR/waiter.pid"
	check "lock: ... and applies once the holder is killed (rc $rc)" test "$rc" -eq 0
	# the holder was killed before its switch; the waiter applied A (not
	# in force as such: the holder's hooks and state were there) or found
	# it in force
	g2=$(sed -n 's/^policy [0-9a-f]* in force: generation \([0-9]*\),.*/\1/p' "$RIG_DIR/waiter.log")
	want_gen=${g2:-$g} want_hash=$hashA
	consistent "lock: after the holder died"
else
	bad "lock: stall point before-switch not reached" "$(cat "$RIG_DIR/holder.log")"
fi

# 5. (issue 8, 7a) a fresh apply killed before its switch: status says what
# the maps hold, and that the state file disagrees
fresh
rig_bg killed rig_exec gw env NASCAR_TEST_STALL=before-switch "$NA" --pin-dir "$PIN" "$RIG_DIR/B.nfc"
if rig_wait_for 10 grep -q "stalled at before-switch" "$RIG_DIR/killed.log"; then
	kpid=$(cat "$RIG_DIR/killed.pid")
	{ kill -KILL "$kpid" && wait "$kpid"; } 2>/dev/null
	rm -f "$RIG_DIR/killed.pid"
	sj=$(na status --json 2>/dev/null)
	[ "$(jq -r .generation <<<"$sj")" = "$(map_gen)" ] && [ "$(jq -r .source_hash <<<"$sj")" = "$(map_hash)" ] &&
		[ "$(map_hash)" = "$hashB" ]
	rc=$?
	check "lock: killed fresh apply: status --json reports the maps (generation $(map_gen), slot 0 holds B)" test "$rc" -eq 0
	[ "$(jq -r .consistent <<<"$sj")" = false ] && jq -r '.problems[]' <<<"$sj" | grep -q "state file"
	rc=$?
	check "lock: ... and flags that the state file disagrees ($(jq -c .problems <<<"$sj" | head -c 200))" test "$rc" -eq 0
	na status 2>&1 | grep -q "^warning: .*state file"
	check "lock: ... in the text output too" test $? -eq 0
	na "$RIG_DIR/B.nfc" >/dev/null 2>&1
	check "lock: ... the next apply finishes the job" test $? -eq 0
	want_gen=1 want_hash=$hashB
	consistent "lock: ... and then everything agrees"
else
	bad "lock: stall point before-switch not reached (fresh)" "$(cat "$RIG_DIR/killed.log")"
fi

na detach >/dev/null 2>&1
assert_clean "lock: detach leaves no trace"
check "lock: detach leaves no lock file" test ! -e "$LOCK"
left=""
for id in $(echo "$prog_ids" | tr ' ' '\n' | sort -u); do
	bpftool prog show id "$id" >/dev/null 2>&1 && left="$left $id"
done
check "lock: no program of this test is left in the kernel (${left:-none})" test -z "$left"
apply_finish
