#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tests/pkg/test_deb.sh: the Debian package (issue 13), for `make check-pkg`.
#
# Builds the .deb with `make deb` in a temporary copy of the tree (build/
# and $O stay untouched), checks what it holds and what it depends on, runs
# lintian (no errors allowed; warnings are printed), installs it with
# dpkg -i, runs what it installed (nascarc check on every shipped policy,
# nascar-apply, systemd-analyze verify on the installed unit), then purges
# it and checks that nothing of it is left: every path dpkg -L listed, the
# unit's enable symlink, dpkg's own records, /var/lib/nascar.
# Needs root; refuses (SKIP) to touch a machine where nascar is installed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
fails=0
ok() { echo "PASS: $1"; }
bad() {
	echo "FAIL: $1${2:+ ($2)}"
	fails=$((fails + 1))
}
check() {
	n=$1
	shift
	if "$@"; then ok "$n"; else bad "$n"; fi
}

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: pkg: the .deb test installs a package (needs root)"
	exit 77
fi
for t in dpkg-buildpackage dh fakeroot; do
	command -v "$t" >/dev/null 2>&1 ||
		{ echo "SKIP: pkg: no $t (apt-get install dpkg-dev debhelper fakeroot, or sh tools/deps.sh)"; exit 77; }
done
if dpkg-query -W -f='${Status}' nascar 2>/dev/null | grep -q 'ok installed'; then
	echo "SKIP: pkg: a nascar package is installed here already; the test would replace and purge it"
	exit 77
fi

T=$(mktemp -d -t nascar-pkg.XXXXXX)
installed=0
cleanup() {
	[ "$installed" = 1 ] && dpkg --purge nascar >/dev/null 2>&1
	rm -rf "$T"
}
trap 'rc=$?; trap - EXIT; cleanup; exit $rc' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- a copy of the tree --------------------------------------------------
SRC=$T/nascar-1.0
mkdir -p "$SRC"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# what git tracks, and new files not ignored (build/ is)
	(cd "$top" && git ls-files -co --exclude-standard -z | xargs -0 cp -P --parents -t "$SRC") ||
		{ bad "pkg: copy the tree"; exit 1; }
else
	(cd "$top" && tar --exclude=./build --exclude=./debian/build -cf - .) | (cd "$SRC" && tar -xf -) ||
		{ bad "pkg: copy the tree"; exit 1; }
fi
[ -d "$SRC/debian" ] || { bad "pkg: no debian/ in the tree"; exit 1; }

# ---- make deb --------------------------------------------------------------
t0=$(date +%s)
if (cd "$SRC" && make deb) >"$T/build.log" 2>&1; then
	ok "pkg: make deb ($(($(date +%s) - t0)) s)"
else
	bad "pkg: make deb" "see below"
	tail -n 30 "$T/build.log"
	exit 1
fi
DEB=$(find "$T" -maxdepth 1 -name 'nascar_*.deb' | head -n 1)
check "pkg: a .deb ($(basename "${DEB:-none}"))" test -f "${DEB:-/nonexistent}"
[ -f "${DEB:-/nonexistent}" ] || exit 1
check "pkg: built in the copy's debian/build, not in build/" \
	test -d "$SRC/debian/build" -a ! -e "$SRC/build"

dep=$(dpkg-deb -f "$DEB" Depends)
echo "pkg: Depends: $dep"
for d in libbpf1 iproute2 libc6; do
	case ", $dep," in *", $d"[\ ,]*) ok "pkg: depends on $d" ;; *) bad "pkg: depends on $d" "$dep" ;; esac
done
dpkg-deb -c "$DEB" | awk '{ print $6 }' | sed 's|^\./|/|' >"$T/contents"
for f in /usr/bin/nascarc /usr/sbin/nascar-apply /usr/lib/nascar/nascar-service \
	/lib/systemd/system/nascar.service /usr/share/man/man1/nascarc.1.gz \
	/usr/share/man/man5/nflow.5.gz /usr/share/man/man8/nascar-apply.8.gz \
	/usr/share/doc/nascar/copyright; do
	check "pkg: ships $f" grep -qx "$f" "$T/contents"
done
for p in "$top"/policies/*.nflow; do
	check "pkg: ships the example policy $(basename "$p")" \
		grep -qx "/usr/share/nascar/policies/$(basename "$p")" "$T/contents"
done

# ---- lintian ---------------------------------------------------------------
if command -v lintian >/dev/null 2>&1; then
	CHANGES=$(find "$T" -maxdepth 1 -name 'nascar_*.changes' | head -n 1)
	lintian --display-info --tag-display-limit 0 "$CHANGES" >"$T/lintian.out" 2>&1
	grep -v 'running with root privileges is not recommended' "$T/lintian.out" | sed 's/^/pkg: lintian: /'
	n=$(grep -c '^E: ' "$T/lintian.out")
	check "pkg: lintian reports no error ($n)" test "$n" -eq 0
	echo "pkg: lintian: $(grep -c '^W: ' "$T/lintian.out") warnings, $(grep -c '^I: ' "$T/lintian.out") info"
else
	echo "SKIP: pkg: lintian (not installed: apt-get install lintian, or sh tools/deps.sh)"
fi

# ---- install ---------------------------------------------------------------
# nothing it ships may be here already (purge would remove it)
clash=""
while read -r f; do
	[ -e "$f" ] && [ ! -d "$f" ] && clash="$clash $f"
done <"$T/contents"
# purge removes the service's state and logs: they must not be someone's
for d in /var/lib/nascar /var/log/nascar; do
	[ -e "$d" ] && clash="$clash $d"
done
if [ -n "$clash" ]; then
	echo "SKIP: pkg: install and purge (what the package ships or purges exists here already:$clash)"
	[ "$fails" -eq 0 ]
	exit
fi
if dpkg -i "$DEB" >"$T/install.log" 2>&1; then
	installed=1
	ok "pkg: dpkg -i"
else
	bad "pkg: dpkg -i" "$(tail -n 5 "$T/install.log" | tr '\n' ' ')"
	exit 1
fi
dpkg -L nascar >"$T/list"
check "pkg: nascarc runs (the installed one)" sh -c '/usr/bin/nascarc --version >/dev/null'
for p in /usr/share/nascar/policies/*.nflow; do
	out=$(/usr/bin/nascarc check "$p" 2>&1)
	rc=$?
	check "pkg: nascarc check $(basename "$p")${out:+: $(echo "$out" | head -n 1)}" test $rc -eq 0
done
check "pkg: nascar-apply runs (its libraries are there)" sh -c '/usr/sbin/nascar-apply --help >/dev/null'
pin=/sys/fs/bpf/nascar-pkg-test.$$
out=$(/usr/sbin/nascar-apply --pin-dir "$pin" stats --format prometheus 2>&1)
echo "$out" | grep -q '^nascar_policy_applied 0$'
check "pkg: nascar-apply stats --format prometheus with nothing applied" test $? -eq 0
# shellcheck disable=SC2016
check "pkg: the helper calls the installed programs" \
	grep -q '^NASCARC=${NASCARC:-/usr/bin/nascarc}$' /usr/lib/nascar/nascar-service
if command -v systemd-analyze >/dev/null 2>&1; then
	out=$(systemd-analyze verify /lib/systemd/system/nascar.service 2>&1)
	rc=$?
	check "pkg: systemd-analyze verify the installed unit${out:+: $(echo "$out" | head -n 2 | tr '\n' ' ')}" \
		test $rc -eq 0 -a -z "$out"
else
	echo "SKIP: pkg: systemd-analyze verify (no systemd-analyze: apt-get install systemd)"
fi
check "pkg: dpkg -i enabled nascar.service" \
	test -L /etc/systemd/system/multi-user.target.wants/nascar.service
if command -v man >/dev/null 2>&1; then
	check "pkg: man finds nascar-apply(8)" sh -c 'man -w 8 nascar-apply | grep -q /usr/share/man/man8/'
fi

# ---- purge -----------------------------------------------------------------
# what the service would have made, so purge is seen removing it
mkdir -p /var/lib/nascar && : >/var/lib/nascar/policy.nfc
if dpkg --purge nascar >"$T/purge.log" 2>&1; then
	installed=0
	ok "pkg: dpkg --purge"
else
	bad "pkg: dpkg --purge" "$(tail -n 5 "$T/purge.log" | tr '\n' ' ')"
	exit 1
fi
left=""
while read -r f; do
	if [ -d "$f" ]; then
		# shared directories (/usr/bin, /lib as a symlink to usr/lib) stay;
		# the package's own do not
		case "$f" in *nascar*) left="$left $f" ;; esac
	elif [ -e "$f" ] || [ -L "$f" ]; then
		left="$left $f"
	fi
done <"$T/list"
check "pkg: nothing dpkg -L listed is left${left:+:$left}" test -z "$left"
# shellcheck disable=SC2012
left=$(ls -d /etc/systemd/system/*/nascar.service /var/lib/systemd/deb-systemd-helper-enabled/nascar.service* \
	/var/lib/systemd/deb-systemd-helper-enabled/*/nascar.service /var/lib/dpkg/info/nascar.* \
	/var/lib/nascar /var/log/nascar 2>/dev/null | tr '\n' ' ')
check "pkg: no enable symlink, dpkg record or state left${left:+: $left}" test -z "$left"
# shellcheck disable=SC2016
check "pkg: dpkg no longer knows nascar" \
	sh -c '! dpkg-query -W -f="\${Status}" nascar 2>/dev/null | grep -q installed'

[ "$fails" -eq 0 ]
