#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/e2e/test_metrics.sh: nascar-apply stats --format prometheus and
# --textfile (issue 13).
#
# Tap rig; a policy with a shaped class (so Nascar's egress scheduler is on
# both interfaces), a drop rule, anti-spoofing on tap0, and a flow whose
# name needs escaping in a label.  Drives UDP and TCP through the fast
# path, UDP into the drop rule and UDP from a spoofed source, then checks:
# promtool accepts the output (`promtool check metrics`, Debian package
# prometheus; SKIP when it is missing), the counters say what the traffic
# did and agree with --json, the scheduler's classes are there, and the
# textfile is rewritten atomically on an interval and follows a re-apply
# and a detach.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
RIG_PREFIX=${RIG_PREFIX:-nme$$}
. "$(cd "$(dirname "$0")" && pwd)/apply_lib.sh"
apply_need
apply_trap

if ! rig_up tap --offload on; then
	bad "metrics: rig_up"
	exit 1
fi

PROMTOOL=$(command -v promtool)
[ -n "$PROMTOOL" ] || echo "SKIP: metrics: promtool check metrics (no promtool: apt-get install prometheus, or sh tools/deps.sh)"

# promcheck NAME FILE: promtool check metrics accepts FILE (lint included:
# names, HELP/TYPE, _total on counters)
promcheck() {
	local out
	[ -n "$PROMTOOL" ] || return 0
	if out=$("$PROMTOOL" check metrics <"$2" 2>&1); then
		ok "$1"
	else
		bad "$1" "$(echo "$out" | head -n 5 | tr '\n' ' ')"
	fi
}

# metric FILE 'NAME{LABELS}': the value of that exact series (empty if none)
metric() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }

# metric_sum FILE NAME [LABEL-REGEX]: sum over series of NAME whose labels
# match the regex
metric_sum() {
	awk -v n="$2" -v re="${3:-}" '{ split($1, a, "{") } a[1] == n && $1 ~ re { s += $2 }
		END { printf "%d\n", s }' "$1"
}

mk() { # mk NAME BULK-CLASS-STATEMENTS
	cat >"$RIG_DIR/$1.nflow" <<EOP
interface tap0 { role guest; mode hybrid; allow-src $RIG_VM_IP4, $RIG_VM_IP6; }
interface eth0 { role uplink; mode hybrid; }
class bulk { $2 }
class ctl { priority 7; dscp ef; }
flow blocked { to $RIG_SRV_IP4 port 9999; proto udp; action drop; }
flow "odd\\ name" { to $RIG_SRV_IP4 port 1; proto udp; class ctl; }
flow udp4 { from $RIG_VM_IP4; to $RIG_SRV_IP4; proto udp; class ctl; }
flow tcp4 { from $RIG_VM_IP4; to $RIG_SRV_IP4; proto tcp; class bulk; }
flow back4 { in eth0; to $RIG_VM_IP4; class bulk; }
default { action stack; }
EOP
	"$NC" compile "$RIG_DIR/$1.nflow" -o "$RIG_DIR/$1.nfc" >"$RIG_DIR/$1.cc" 2>&1 ||
		{ cat "$RIG_DIR/$1.cc" >&2; return 1; }
}

P=$RIG_DIR/m.prom
mk pol1 'priority 1; rate 50mbit;' || { bad "metrics: compile"; exit 1; }
out=$(na "$RIG_DIR/pol1.nfc" 2>&1) || { bad "metrics: apply" "$out"; exit 1; }
ok "metrics: apply a policy with a shaped class"

# ---- traffic ------------------------------------------------------------
rig_udp_count_start srv 9999 drop
check_cross_v4() {
	peer_is "$RIG_VM_IP4" udp "$RIG_SRV_IP4" 7100 && peer_is "$RIG_VM_IP4" tcp "$RIG_SRV_IP4" 7200
}
check "metrics: udp4 and tcp4 from the guest reach the server" check_cross_v4
rig_udp_send vm "$RIG_SRV_IP4" 9999 20
# spoofed: a second address on the guest's interface that allow-src does
# not list
rig_exec vm ip addr add 172.16.0.99/32 dev eth0
for _ in 1 2 3 4 5; do
	echo spoof | rig_exec vm timeout 3 socat -u - "UDP:$RIG_SRV_IP4:7300,bind=172.16.0.99" 2>/dev/null
done
sleep 0.3

# ---- one snapshot -------------------------------------------------------
na stats --format prometheus >"$P" 2>"$RIG_DIR/prom.err"
check "metrics: stats --format prometheus exits 0" test $? -eq 0
check "metrics: no warning on stderr ($(head -c 200 "$RIG_DIR/prom.err"))" test ! -s "$RIG_DIR/prom.err"
promcheck "metrics: promtool check metrics accepts stats --format prometheus" "$P"
na stats --json >"$RIG_DIR/s.json" 2>/dev/null
check "metrics: stats --json still parses" jq -e '.flows | length > 0' "$RIG_DIR/s.json" >/dev/null

gen_json=$(na status --json | jq -r .generation)
check "metrics: nascar_policy_generation is the kernel's ($gen_json)" \
	test "$(metric "$P" nascar_policy_generation)" = "$gen_json"
check "metrics: nascar_policy_applied 1" test "$(metric "$P" nascar_policy_applied)" = 1
for fam in nascar_flow_packets_total nascar_flow_bytes_total nascar_class_packets_total \
	nascar_interface_bytes_total nascar_flow_dropped_packets_total \
	nascar_class_policed_packets_total nascar_interface_spoofed_packets_total \
	nascar_sched_backlog_bytes nascar_sched_dropped_packets_total; do
	check "metrics: # HELP and # TYPE for $fam" \
		grep -q "^# TYPE $fam \(counter\|gauge\)\$" "$P"
done
n=$(grep -c '^nascar_flow_packets_total{flow="udp4",class="ctl",action="forward",path="\(xdp\|tc\|stack\)"} ' "$P")
check "metrics: udp4 has one series per path xdp, tc, stack ($n)" test "$n" = 3
fast=$(metric_sum "$P" nascar_flow_packets_total 'flow="udp4".*path="(xdp|tc)"')
check "metrics: udp4 packets on the fast path ($fast)" test "$fast" -gt 0
fast=$(metric_sum "$P" nascar_flow_bytes_total 'flow="tcp4".*path="(xdp|tc)"')
check "metrics: tcp4 bytes on the fast path ($fast)" test "$fast" -gt 0
dropped=$(metric_sum "$P" nascar_flow_dropped_packets_total 'flow="blocked"')
want=$(jq -r '.flows[] | select(.name == "blocked") | .drop_pkts' "$RIG_DIR/s.json")
check "metrics: blocked: dropped $dropped packets, as --json says ($want), at least 20" \
	test "$dropped" = "$want" -a "$dropped" -ge 20
spoofed=$(metric_sum "$P" nascar_interface_spoofed_packets_total 'interface="tap0"')
check "metrics: tap0 counted the spoofed datagrams ($spoofed)" test "$spoofed" -ge 5
check "metrics: a flow name with a backslash is escaped in its label" \
	grep -q '^nascar_flow_packets_total{flow="odd\\\\ name",class="ctl",' "$P"
for d in tap0 eth0; do
	n=$(grep -c "^nascar_sched_backlog_bytes{interface=\"$d\"," "$P")
	check "metrics: $d: the scheduler's classes' backlog ($n classes)" test "$n" -ge 4
done
sent=$(metric_sum "$P" nascar_sched_bytes_total 'interface="eth0",class="bulk"')
check "metrics: eth0's scheduler class bulk sent bytes ($sent)" test "$sent" -gt 0

# ---- options ------------------------------------------------------------
na stats --format yaml >/dev/null 2>&1
check "metrics: --format yaml is a usage error" test $? -eq 2
na stats --format prometheus --interval 1 >/dev/null 2>&1
check "metrics: --format prometheus --interval without --textfile is a usage error" test $? -eq 2
na status --format prometheus >/dev/null 2>&1
check "metrics: status --format prometheus is a usage error" test $? -eq 2
na stats --format json | jq -e .generation >/dev/null 2>&1
check "metrics: --format json is --json" test $? -eq 0
na stats --textfile "$RIG_DIR/no/such/dir/x.prom" >/dev/null 2>"$RIG_DIR/tf.err"
rc=$?
check "metrics: --textfile into a missing directory fails, saying so (rc $rc)" \
	test $rc -eq 1 -a -s "$RIG_DIR/tf.err"

# ---- the textfile on an interval ----------------------------------------
TD=$RIG_DIR/textfile
mkdir -p "$TD"
T=$TD/nascar.prom
rig_bg textfile rig_exec gw "$NA" --pin-dir "$PIN" stats --textfile "$T" --interval 0.2
rig_wait_for 5 test -s "$T"
check "metrics: --textfile writes the file" test -s "$T"
check "metrics: the textfile is world-readable" test "$(stat -c %a "$T")" = 644
promcheck "metrics: promtool check metrics accepts the textfile" "$T"
# a reader never sees a partial file: every read has the first and the
# last family
torn=0
for _ in $(seq 1 60); do
	cp "$T" "$RIG_DIR/read.prom"
	grep -q '^nascar_policy_applied 1$' "$RIG_DIR/read.prom" &&
		grep -q '^nascar_sched_backlog_packets{' "$RIG_DIR/read.prom" || torn=$((torn + 1))
	sleep 0.02
done
check "metrics: 60 reads during rewrites, none partial ($torn)" test "$torn" -eq 0
# hold the file open: once it is replaced, what we hold has no name left
# (an inode number alone could be reused)
exec 7<"$T"
sleep 0.6
links=$(stat -L -c %h /proc/$$/fd/7)
exec 7<&-
check "metrics: the textfile is replaced by rename, not written in place (links $links)" \
	test "$links" = 0
# the second policy shapes nothing (Nascar's scheduler comes off again)
mk pol2 'priority 2;' || bad "metrics: compile pol2"
out=$(na "$RIG_DIR/pol2.nfc" 2>&1) || bad "metrics: re-apply" "$out"
gen2=$(na status --json | jq -r .generation)
check "metrics: a changed policy re-applied: generation $gen_json -> $gen2" \
	test "$gen2" = $((gen_json + 1))
check "metrics: the textfile follows the re-apply (generation $gen2)" \
	rig_wait_for 5 grep -q "^nascar_policy_generation $gen2\$" "$T"
check "metrics: and has no scheduler series once the scheduler is gone" \
	rig_wait_for 5 eval "! grep -q '^nascar_sched_' '$T'"
out=$(na detach 2>&1) || bad "metrics: detach" "$out"
check "metrics: the textfile says applied 0 after a detach" \
	rig_wait_for 5 grep -q '^nascar_policy_applied 0$' "$T"
promcheck "metrics: promtool accepts the textfile with nothing applied" "$T"
pid=$(cat "$RIG_DIR/textfile.pid")
kill -TERM "$pid"
gone() { ! kill -0 "$pid" 2>/dev/null; }
check "metrics: the textfile writer ends on SIGTERM" rig_wait_for 3 gone
rm -f "$RIG_DIR/textfile.pid"
left=$(find "$TD" -type f ! -name nascar.prom | wc -l)
check "metrics: no temporary file left beside the textfile ($left)" test "$left" -eq 0
na stats --textfile "$T" --count 1 >/dev/null 2>&1
check "metrics: --textfile alone writes once and exits 0" test $? -eq 0

apply_finish
