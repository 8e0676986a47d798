#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/e2e/test_errors.sh: every refusal of nascar-apply is one line on
# stderr ("nascar-apply: <what is wrong>; <what to do>"), exit status 1, and
# changes nothing (no pin directory, no hook): corrupt file, not a policy,
# wrong ABI version, missing interface, no bpffs (a pin dir elsewhere, and
# `ip netns exec` hiding /sys/fs/bpf), not root, a verifier rejection (its
# log kept in a file that the message names), and a usage error (exit 2).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
RIG_PREFIX=${RIG_PREFIX:-nte$$}
. "$(cd "$(dirname "$0")" && pwd)/apply_lib.sh"
apply_need
apply_trap

if ! rig_up veth --offload on; then
	bad "errors: rig_up"
	exit 1
fi
mkpolicy good tc || bad "errors: compile"

# refuse NAME REGEX CMD...: exit 1, exactly one stderr line matching REGEX,
# and nothing created.
refuse() {
	local name=$1 re=$2 rc lines
	shift 2
	"$@" >"$RIG_DIR/out" 2>"$RIG_DIR/err"
	rc=$?
	lines=$(wc -l <"$RIG_DIR/err")
	if [ "$rc" -eq 1 ] && [ "$lines" -eq 1 ] && grep -Eq "^nascar-apply: $re" "$RIG_DIR/err" &&
		grep -q '; ' "$RIG_DIR/err" && [ ! -e "$PIN" ] &&
		! rig_exec gw ip link show tap0 | grep -q ' xdp' &&
		[ -z "$(rig_exec gw tc filter show dev tap0 ingress)" ]; then
		ok "$name"
	else
		bad "$name" "rc=$rc, stderr: $(head -c 300 "$RIG_DIR/err")"
	fi
}

f=$RIG_DIR/corrupt.nfc
cp "$RIG_DIR/good.nfc" "$f"
printf '\xff' | dd of="$f" bs=1 seek=100 conv=notrunc status=none
refuse "errors: corrupt file" ".*checksum mismatch: the file is corrupt; recompile" na "$f"

printf 'interface tap0 { role guest; mode tc; }\n%.0s' 1 2 3 >"$RIG_DIR/text.nfc"
refuse "errors: not a compiled policy" ".*not a compiled nascar policy" na "$RIG_DIR/text.nfc"

f=$RIG_DIR/abi.nfc
cp "$RIG_DIR/good.nfc" "$f"
printf '\x63\x00\x00\x00' | dd of="$f" bs=1 seek=4 conv=notrunc status=none
refuse "errors: wrong ABI version" ".*ABI version 99.*recompile" na "$f"

refuse "errors: missing file" ".*cannot open" na "$RIG_DIR/nonexistent.nfc"

sed 's/interface eth0 {/interface ghost0 { role uplink; }\ninterface eth0 {/' \
	"$RIG_DIR/good.nflow" >"$RIG_DIR/ghost.nflow"
"$NC" compile "$RIG_DIR/ghost.nflow" -o "$RIG_DIR/ghost.nfc" >/dev/null 2>&1
refuse "errors: missing interface" "interface 'ghost0' declared in the policy does not exist" \
	na "$RIG_DIR/ghost.nfc"

mkdir -p "$RIG_DIR/notbpf"
refuse "errors: pin dir not on bpffs" ".*is not on a bpf filesystem" \
	rig_exec gw "$NA" --pin-dir "$RIG_DIR/notbpf/pins" "$RIG_DIR/good.nfc"
rmdir "$RIG_DIR/notbpf/pins" 2>/dev/null
refuse "errors: ip netns exec hides bpffs" "running under .ip netns exec $RIG_GW." \
	ip netns exec "$RIG_GW" "$NA" --pin-dir "$PIN" "$RIG_DIR/good.nfc"

if command -v setpriv >/dev/null; then
	chmod 755 "$RIG_DIR"
	chmod 644 "$RIG_DIR/good.nfc"
	refuse "errors: not root" "needs root" rig_exec gw setpriv --reuid=65534 --regid=65534 \
		--clear-groups "$NA" --pin-dir "$PIN" "$RIG_DIR/good.nfc"
else
	echo "SKIP: errors: not root (no setpriv)"
fi

# a verifier rejection: an object whose XDP program reads past the packet
cat >"$RIG_DIR/bad.bpf.c" <<'EOC'
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp") int nascar_xdp(struct xdp_md *ctx)
{
	char *d = (char *)(long)ctx->data;
	return d[100] == 1 ? XDP_DROP : XDP_PASS; /* no bounds check */
}
SEC("tc") int nascar_tc(struct __sk_buff *skb) { return 0; }
char LICENSE[] SEC("license") = "GPL";
EOC
if clang -target bpf -O2 -g -I"/usr/include/$(gcc -dumpmachine)" -c "$RIG_DIR/bad.bpf.c" \
	-o "$RIG_DIR/bad.bpf.o" 2>"$RIG_DIR/clang.err"; then
	refuse "errors: verifier rejection names its log" \
		"the kernel's verifier rejected program 'nascar_xdp' .*; full log in $RIG_DIR/verifier.log" \
		rig_exec gw env NASCAR_LOG_DIR="$RIG_DIR" "$NA" --pin-dir "$PIN" --bpf-obj \
		"$RIG_DIR/bad.bpf.o" "$RIG_DIR/good.nfc"
	grep -q "invalid access to packet" "$RIG_DIR/verifier.log" 2>/dev/null
	check "errors: the log file holds the verifier's full output" test $? -eq 0
else
	echo "SKIP: errors: verifier rejection (clang failed: $(head -c 200 "$RIG_DIR/clang.err"))"
fi

na --no-such-option >/dev/null 2>&1
check "errors: usage error exits 2" test $? -eq 2

# and the good file applies after all that
na "$RIG_DIR/good.nfc" >/dev/null 2>&1
check "errors: the good policy applies afterwards" test $? -eq 0
na detach >/dev/null 2>&1
assert_clean "errors: detach leaves no trace"
apply_finish
