#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/e2e/test_service.sh: nascar.service as systemd would run it
# (issue 13).  systemd is not PID 1 here, so the test reads the unit that
# `make install` writes (PREFIX=a staging directory under /run) and runs its
# ExecStartPre, ExecStart, ExecReload and ExecStop command lines itself:
# with the unit's Environment= plus a drop-in (the override the unit
# documents: another policy file, this test's pin directory), a clean
# environment, and the unit's hardening emulated (CapabilityBoundingSet and
# NoNewPrivileges by setpriv; ProtectSystem=strict, ReadWritePaths,
# StateDirectory/RuntimeDirectory/LogsDirectory, ProtectHome and PrivateTmp
# by mounts in a mount namespace of its own), in the rig's gw network
# namespace.  Checks:
#  - systemd-analyze verify accepts the unit (SKIP without systemd-analyze);
#  - the emulated sandbox bites (negative controls: / is read-only, a
#    bounding set without CAP_BPF makes ExecStart fail);
#  - start waits for a declared interface that appears late, and fails
#    naming one that never does;
#  - start applies the policy and traffic takes the fast path;
#  - reload with a broken policy exits non-zero with nascarc's error, and
#    the old policy stays (generation, .nfc, traffic); reload with a policy
#    nascar-apply refuses: the same; reload with a good changed policy:
#    generation + 1;
#  - stop detaches and leaves nothing behind.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
RIG_PREFIX=${RIG_PREFIX:-nsv$$}
. "$(cd "$(dirname "$0")" && pwd)/apply_lib.sh"
apply_need
for t in unshare setpriv make; do
	command -v "$t" >/dev/null || { echo "SKIP: service: no $t"; exit 77; }
done

# Not under /tmp (PrivateTmp hides it) nor /root or /home (ProtectHome).
STAGE=/run/nascar-svc.$RIG_PREFIX
NFC=/var/lib/nascar/test-$RIG_PREFIX.nfc
POLICY=$STAGE/etc/policy.nflow
made_dirs=""
svc_cleanup() {
	rm -rf "$STAGE"
	rm -f "$NFC" "$NFC".*
	# what this test made for StateDirectory= and LogsDirectory= (the
	# negative controls may leave a verifier.log); /run/nascar is shared
	# with every other nascar-apply and stays
	for d in $made_dirs; do
		case "$d" in /var/lib/nascar | /var/log/nascar) rm -rf "$d" ;; esac
	done
	apply_cleanup
}
# shellcheck disable=SC2154  # _rc is set inside the trap
trap '_rc=$?; trap - EXIT; svc_cleanup; exit $_rc' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

top=$(cd "$(dirname "$0")/../.." && pwd)
if ! make -s -C "$top" install O="$_rig_o" SAN="${SAN:-0}" PREFIX="$STAGE/usr" \
	>"$RIG_DIR.install.log" 2>&1; then
	bad "service: make install PREFIX=$STAGE/usr" "$(tail -n 3 "$RIG_DIR.install.log")"
	rm -f "$RIG_DIR.install.log"
	exit 1
fi
rm -f "$RIG_DIR.install.log"
UNIT=$STAGE/usr/lib/systemd/system/nascar.service
check "service: make install puts the unit under lib/systemd/system" test -f "$UNIT"
check "service: and its helper under lib/nascar" test -x "$STAGE/usr/lib/nascar/nascar-service"

# ---- systemd-analyze verify ----------------------------------------------
if command -v systemd-analyze >/dev/null; then
	out=$(MANPATH=$STAGE/usr/share/man systemd-analyze verify "$UNIT" 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && [ -z "$out" ]; then
		ok "service: systemd-analyze verify nascar.service (Exec paths, man pages)"
	else
		bad "service: systemd-analyze verify nascar.service" "rc $rc: $(echo "$out" | head -n 3)"
	fi
else
	echo "SKIP: service: systemd-analyze verify (no systemd-analyze: apt-get install systemd)"
fi

# ---- the unit, read as systemd reads it ------------------------------------
DROPIN_DIR=$STAGE/nascar.service.d
mkdir -p "$DROPIN_DIR" "$STAGE/etc"
cat >"$DROPIN_DIR/test.conf" <<EOF
[Unit]
ConditionPathExists=
ConditionPathExists=$POLICY
[Service]
Environment=NASCAR_POLICY=$POLICY
Environment=NASCAR_NFC=$NFC
Environment=NASCAR_IFACE_WAIT=3
Environment="NASCAR_APPLY_OPTS=--pin-dir $PIN"
EOF

# unit_get KEY: the values of KEY= in the unit and then the drop-in, in
# order; an empty assignment resets the list (as systemd does)
unit_get() {
	cat "$UNIT" "$DROPIN_DIR/test.conf" | awk -v k="$1" '
		/^[ \t]*#/ { next }
		index($0, k "=") == 1 { v = substr($0, length(k) + 2)
			if (v == "") n = 0; else a[++n] = v }
		END { for (i = 1; i <= n; i++) print a[i] }'
}
unit_last() { unit_get "$1" | tail -n 1; }

# the environment: a clean one, systemd's PATH, then every Environment=
# assignment (quoted words as systemd splits them)
SVC_ENV=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8)
[ -n "${ASAN_OPTIONS:-}" ] && SVC_ENV+=("ASAN_OPTIONS=$ASAN_OPTIONS")
[ -n "${UBSAN_OPTIONS:-}" ] && SVC_ENV+=("UBSAN_OPTIONS=$UBSAN_OPTIONS")
while IFS= read -r line; do
	eval "set -- $line"
	SVC_ENV+=("$@")
done < <(unit_get Environment)

# hardening: the capabilities as setpriv names them
caps_of() { # "CAP_BPF CAP_NET_ADMIN" -> "-all,+bpf,+net_admin"
	local c out=-all
	for c in $1; do out="$out,+$(echo "${c#CAP_}" | tr '[:upper:]' '[:lower:]')"; done
	echo "$out"
}
SB_CAPS=$(unit_get CapabilityBoundingSet | tr '\n' ' ')
SB_NNP=$(unit_last NoNewPrivileges)
SB_PROTECT_SYSTEM=$(unit_last ProtectSystem)
SB_PROTECT_HOME=$(unit_last ProtectHome)
SB_PRIVATE_TMP=$(unit_last PrivateTmp)
SB_RW=$(unit_get ReadWritePaths | tr '\n' ' ')
for d in $(unit_get StateDirectory); do SB_RW="$SB_RW /var/lib/$d"; done
for d in $(unit_get RuntimeDirectory); do SB_RW="$SB_RW /run/$d"; done
for d in $(unit_get LogsDirectory); do SB_RW="$SB_RW /var/log/$d"; done
for d in $SB_RW; do # systemd makes the *Directory= ones
	case "$d" in /sys/*) continue ;; esac
	[ -d "$d" ] || { mkdir -p "$d" && made_dirs="$d $made_dirs"; }
done
echo "service: hardening emulated: caps '$SB_CAPS' nnp=$SB_NNP system=$SB_PROTECT_SYSTEM" \
	"home=$SB_PROTECT_HOME tmp=$SB_PRIVATE_TMP rw='$SB_RW'"
for k in Type RemainAfterExit; do echo "service: $k=$(unit_last $k)"; done
check "service: Type=oneshot with RemainAfterExit=yes" \
	test "$(unit_last Type) $(unit_last RemainAfterExit)" = "oneshot yes"

# The mounts systemd makes for the hardening above, in a fresh mount
# namespace (run by unshare), then the command ("$@") under setpriv.
# shellcheck disable=SC2016
SANDBOX='
set -e
if [ "$SB_PROTECT_SYSTEM" = strict ]; then
	for m in $(awk "{ print \$5 }" /proc/self/mountinfo | sort -u); do
		case "$m" in /dev | /dev/* | /proc | /proc/* | /sys | /sys/*) continue ;; esac
		mount -o remount,bind,ro "$m"
	done
fi
if [ "$SB_PROTECT_HOME" = yes ]; then
	for d in /home /root /run/user; do
		[ -d "$d" ] && mount -t tmpfs -o ro,mode=0755 tmpfs "$d"
	done
fi
if [ "$SB_PRIVATE_TMP" = yes ]; then
	mount -t tmpfs tmpfs /tmp
	mount -t tmpfs tmpfs /var/tmp
fi
for d in $SB_RW; do
	mount --bind "$d" "$d"
	mount -o remount,bind,rw "$d"
done
set +e
if [ -n "$SB_CAPS" ] && [ "$SB_NNP" = yes ]; then
	exec setpriv --no-new-privs --inh-caps -all --bounding-set "$SB_SETPRIV_CAPS" -- "$@"
elif [ -n "$SB_CAPS" ]; then
	exec setpriv --inh-caps -all --bounding-set "$SB_SETPRIV_CAPS" -- "$@"
elif [ "$SB_NNP" = yes ]; then
	exec setpriv --no-new-privs -- "$@"
fi
exec "$@"
'

# svc_run CMDLINE: one Exec line as the unit would run it (stdout and
# stderr, which systemd would log, into $RIG_DIR/svc.out); returns its
# status.  Words are split with shell quoting, close to systemd's for
# lines without $ (the unit has none).
svc_run() {
	local line=$1
	line=${line#[-@:+!]}
	eval "set -- $line"
	case "$1" in /*) ;; *) echo "service: Exec path not absolute: $1" >&2; return 126 ;; esac
	rig_exec gw env SB_PROTECT_SYSTEM="$SB_PROTECT_SYSTEM" SB_PROTECT_HOME="$SB_PROTECT_HOME" \
		SB_PRIVATE_TMP="$SB_PRIVATE_TMP" SB_RW="$SB_RW" SB_NNP="$SB_NNP" SB_CAPS="$SB_CAPS" \
		SB_SETPRIV_CAPS="$(caps_of "$SB_CAPS")" \
		unshare --mount --propagation slave sh -c "$SANDBOX" sandbox \
		env -i "${SVC_ENV[@]}" "$@" >"$RIG_DIR/svc.out" 2>&1
}

# svc KEY: every KEY= line of the unit in order, stopping at the first
# failure (systemd's ExecStartPre then ExecStart); prints the output
svc() {
	local key line rc=0
	for key in "$@"; do
		while IFS= read -r line; do
			svc_run "$line"
			rc=$?
			cat "$RIG_DIR/svc.out" >>"$RIG_DIR/svc.all"
			[ $rc -eq 0 ] || return $rc
		done < <(unit_get "$key")
	done
	return $rc
}

gen() { na status --json 2>/dev/null | jq -r .generation; }
applied() { na status --json 2>/dev/null | jq -r .applied; }

if ! rig_up tap --offload on; then
	bad "service: rig_up"
	exit 1
fi
rig_baseline_rules || bad "service: the study's NAT rules"

# ---- negative controls: the emulated sandbox bites --------------------------
n=$(unit_get ExecStart | wc -l)
check "service: one ExecStart ($n)" test "$n" = 1
svc_run "/bin/sh -c 'touch /usr/nascar-svc-test.$RIG_PREFIX'"
rc=$?
rm -f "/usr/nascar-svc-test.$RIG_PREFIX"
check "service: ProtectSystem=strict as emulated: /usr is read-only (rc $rc)" test $rc -ne 0
svc_run "/bin/sh -c 'ls /root >/dev/null && test -z \"\$(ls -A /root)\"'"
check "service: ProtectHome as emulated: /root is empty" test $? -eq 0
svc_run "/bin/sh -c 'touch /var/lib/nascar/.w.$RIG_PREFIX && rm /var/lib/nascar/.w.$RIG_PREFIX'"
check "service: /var/lib/nascar stays writable" test $? -eq 0
svc_run "/bin/sh -c 'grep CapBnd /proc/self/status'"
echo "service: in the sandbox: $(cat "$RIG_DIR/svc.out")"

# ---- start, waiting for interfaces ------------------------------------------
mkpolicy late tc "interface nsl0 { role uplink; mode tc; }" || bad "service: compile late"
cp "$RIG_DIR/late.nflow" "$POLICY"
rig_bg mklate bash -c "sleep 1.5; nsenter --net=/run/netns/$RIG_GW -- ip link add nsl0 type veth peer name nsl1 &&
	nsenter --net=/run/netns/$RIG_GW -- ip link set nsl0 up"
: >"$RIG_DIR/svc.all"
t0=$(date +%s%N)
svc ExecStartPre ExecStart
rc=$?
t=$((($(date +%s%N) - t0) / 1000000))
check "service: start waits for an interface that appears 1.5 s later (rc $rc, $t ms)" \
	test $rc -eq 0 -a "$(applied)" = true
[ $rc -eq 0 ] || sed 's/^/  | /' "$RIG_DIR/svc.all"
svc ExecStop >/dev/null
check "service: stop detaches" test "$(applied)" = false
rig_exec gw ip link del nsl0 2>/dev/null

mkpolicy never tc "interface nsn0 { role uplink; mode tc; }" || bad "service: compile never"
cp "$RIG_DIR/never.nflow" "$POLICY"
: >"$RIG_DIR/svc.all"
t0=$(date +%s)
svc ExecStartPre ExecStart
rc=$?
t=$(($(date +%s) - t0))
check "service: start fails when a declared interface never appears (rc $rc, $t s, bound 3 s)" \
	test $rc -ne 0 -a $t -le 6
check "service: and names it (nsn0)" grep -q "nsn0.*do not exist after 3 s" "$RIG_DIR/svc.all"
check "service: nothing applied" test "$(applied)" = false

# ---- the hardening is needed: without CAP_BPF ExecStart fails ----------------
mkpolicy A tc || bad "service: compile A"
cp "$RIG_DIR/A.nflow" "$POLICY"
REAL_CAPS=$SB_CAPS
SB_CAPS=$(echo "$REAL_CAPS" | sed 's/CAP_BPF//; s/CAP_SYS_ADMIN//')
svc ExecStartPre ExecStart >/dev/null
rc=$?
check "service: negative control: without CAP_BPF and CAP_SYS_ADMIN start fails (rc $rc)" \
	test $rc -ne 0 -a "$(applied)" = false
SB_CAPS=$REAL_CAPS
na detach >/dev/null 2>&1

# ---- start ------------------------------------------------------------------
: >"$RIG_DIR/svc.all"
svc ExecStartPre ExecStart
rc=$?
check "service: ExecStartPre + ExecStart apply the policy (rc $rc)" test $rc -eq 0
[ $rc -eq 0 ] || sed 's/^/  | /' "$RIG_DIR/svc.all"
g1=$(gen)
check "service: generation 1 after start ($g1)" test "$g1" = 1
check "service: the policy applied is $NFC" \
	test "$(na status --json | jq -r .source)" = "$NFC"
check_cross "service: started"
check_fast "service: started" udp4 tcp4
cp "$NFC" "$RIG_DIR/nfc.1"

# ---- reload with a broken policy ----------------------------------------------
printf 'interface tap0 { role guest; mode tc; }\nflow broken { to 10.0.0.10 port; }\n' >"$POLICY"
: >"$RIG_DIR/svc.all"
svc ExecReload
rc=$?
check "service: reload with a broken policy exits non-zero (rc $rc)" test $rc -ne 0
check "service: with nascarc's error on stderr" grep -q "policy.nflow:2:[0-9]*: error:" "$RIG_DIR/svc.all"
check "service: and says the policy in force stays" \
	grep -q "reload refused: the policy in force stays (generation $g1)" "$RIG_DIR/svc.all"
sed 's/^/  | /' "$RIG_DIR/svc.all"
check "service: generation unchanged ($(gen))" test "$(gen)" = "$g1"
check "service: $NFC unchanged" cmp -s "$NFC" "$RIG_DIR/nfc.1"
left=$(find /var/lib/nascar -name "test-$RIG_PREFIX.nfc.*" | wc -l)
check "service: no temporary file left in /var/lib/nascar ($left)" test "$left" -eq 0
before=$(fast_pkts udp4)
check "service: udp4 still reaches the server" peer_is "$RIG_VM_IP4" udp "$RIG_SRV_IP4" 7300
after=$(fast_pkts udp4)
check "service: still on the fast path ($before -> $after)" test "$after" -gt "$before"

# ---- reload with a policy that compiles but nascar-apply refuses ----------------
# mode xdp on a tap whose guest has TSO on: refused, nothing changed
# (nascar-apply(8), Attaching)
mkpolicy X xdp/tc || bad "service: compile X"
cp "$RIG_DIR/X.nflow" "$POLICY"
: >"$RIG_DIR/svc.all"
svc ExecReload
rc=$?
check "service: reload with a policy nascar-apply refuses exits non-zero (rc $rc)" test $rc -ne 0
check "service: and says why, and that the policy in force stays" \
	grep -q "nascar-apply refused the new policy.*the policy in force stays (generation $g1)" \
	"$RIG_DIR/svc.all"
sed 's/^/  | /' "$RIG_DIR/svc.all"
check "service: generation unchanged ($(gen))" test "$(gen)" = "$g1"
check "service: $NFC is the one in force again" cmp -s "$NFC" "$RIG_DIR/nfc.1"

# ---- reload with a good, changed policy --------------------------------------------
mkpolicy B tc "flow extra { to $RIG_SRV_IP4 port 8000; proto tcp; class ctl; }" ||
	bad "service: compile B"
cp "$RIG_DIR/B.nflow" "$POLICY"
: >"$RIG_DIR/svc.all"
svc ExecReload
rc=$?
check "service: reload with a good changed policy (rc $rc)" test $rc -eq 0
[ $rc -eq 0 ] || sed 's/^/  | /' "$RIG_DIR/svc.all"
check "service: generation $g1 -> $(gen)" test "$(gen)" = $((g1 + 1))
check "service: $NFC is the new policy" cmp -s "$NFC" "$RIG_DIR/B.nfc"
check "service: the new flow is in force" \
	test "$(na stats --json | jq -r '[.flows[].name] | index("extra") != null')" = true
check_cross "service: reloaded" 7400
svc ExecReload >/dev/null
check "service: reload of the same policy is a no-op (generation $(gen))" \
	test "$(gen)" = $((g1 + 1))

# ---- stop ------------------------------------------------------------------------
svc ExecStop
check "service: ExecStop exits 0" test $? -eq 0
assert_clean "service: stop leaves nothing in gw"

# ---- TC by netlink, as on Debian 12's 6.1 kernel ----------------------------------
# Finding nascar's own clsact filter takes its program's fd by id, which
# needs CAP_SYS_ADMIN: without it a stop would leave the filter behind.
SVC_ENV+=(NASCAR_NO_TCX=1)
cp "$RIG_DIR/A.nflow" "$POLICY"
: >"$RIG_DIR/svc.all"
svc ExecStartPre ExecStart
rc=$?
check "service: netlink TC: start (rc $rc)" test $rc -eq 0
[ $rc -eq 0 ] || sed 's/^/  | /' "$RIG_DIR/svc.all"
check "service: netlink TC: tap0's TC hook is a netlink filter" test "$(status_field tap0 tc)" = netlink
cp "$RIG_DIR/B.nflow" "$POLICY"
g=$(gen)
svc ExecReload
check "service: netlink TC: reload (generation $g -> $(gen))" test "$(gen)" = $((g + 1))
check "service: netlink TC: no warning in status" \
	test "$(na status --json | jq -r .consistent)" = true
svc ExecStop
check "service: netlink TC: ExecStop exits 0" test $? -eq 0
assert_clean "service: netlink TC: stop leaves nothing in gw"

apply_finish
