#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tools/vm/check-vm.sh [ARCH]: the VM test tier.  Boots Debian 12's own
# kernel (linux-image-amd64 or linux-image-arm64, 6.1) under qemu (TCG,
# or KVM with VM_KVM=1) with a small initramfs
# made of Debian's binaries, runs the BPF packet tests and the chosen e2e
# tests inside, prints their PASS:/FAIL:/SKIP: lines and the closing count
# "N passed, N failed, N skipped" like tests/run.sh, and keeps the console
# and kernel log under $O/vm/ARCH/.  ARCH: x86_64 (default on x86_64 hosts)
# or arm64 (cross-built with crossbuild-essential-arm64; also checks that
# every policy compiles to byte-identical .nfc files on both).
#
# Installs what is missing (as root, Debian packages only), caches the
# kernel package and the base image under $O/vm/, rebuilds only the layer
# that holds the project.  Environment:
#   O              build directory (default build); images in $O/vm/ARCH
#   VM_TESTS       file listing the tests to run (default tools/vm/tests.ARCH)
#   VM_TIMEOUT     seconds for the whole guest run (default 2400; arm64 3600)
#   VM_SMP VM_MEM  vCPUs (default 2) and MiB (default 2048)
#   VM_CPU         qemu -cpu (default max; arm64 max,pauth-impdef=on)
#   VM_KVM=1       use KVM when /dev/kvm works (default TCG: KVM hangs here)
# Docs: docs/vm.md.
set -u
# The whole script is one compound command, so that bash has read all of it
# before it runs any of it (editing it during a run cannot derail the run).
{
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
ARCH=${1:-${ARCH:-$(uname -m)}}
case "$ARCH" in
x86_64 | amd64) ARCH=x86_64 DEB_ARCH=amd64 TRIPLET=x86_64-linux-gnu ;;
arm64 | aarch64) ARCH=arm64 DEB_ARCH=arm64 TRIPLET=aarch64-linux-gnu ;;
*)
	echo "check-vm: unknown ARCH '$ARCH' (x86_64 or arm64)" >&2
	exit 2
	;;
esac
O=${O:-build}
case "$O" in /*) ob=$O ;; *) ob=$top/$O ;; esac
vmdir=$ob/vm
work=$vmdir/$ARCH
mkdir -p "$work" "$vmdir/debs"
host_arch=$(dpkg --print-architecture 2>/dev/null || echo unknown)

pass=0
fail=0
skip=0
say() { echo "check-vm[$ARCH]: $*"; }
res() { # res PASS|FAIL|SKIP TEXT
	echo "$1: $2"
	case "$1" in PASS) pass=$((pass + 1)) ;; FAIL) fail=$((fail + 1)) ;; *) skip=$((skip + 1)) ;; esac
}
finish() {
	echo
	echo "$pass passed, $fail failed, $skip skipped"
	[ "$fail" -eq 0 ]
	exit
}
die() { # die WHY: the tier cannot run; say so as a failure
	res FAIL "vm-$ARCH tier cannot run: $*"
	finish
}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
t_start=$(now)

# ---- host packages --------------------------------------------------------

is_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
apt_updated=0
apt_install() { # apt_install PKG...: install what is missing, or die saying what
	local p missing=""
	for p in "$@"; do is_installed "$p" || missing="$missing $p"; done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		die "missing Debian packages:$missing (run as root, or apt-get install$missing)"
	fi
	say "installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	if [ $apt_updated -eq 0 ]; then
		apt-get update -qq >/dev/null 2>&1
		apt_updated=1
	fi
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >"$work/apt.log" 2>&1 ||
		die "apt-get install$missing failed (see $work/apt.log)"
}

if [ "$ARCH" = arm64 ] && [ "$host_arch" != arm64 ]; then
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		[ "$(id -u)" -eq 0 ] || die "dpkg has no arm64 architecture (dpkg --add-architecture arm64, as root)"
		say "dpkg --add-architecture arm64"
		dpkg --add-architecture arm64
		apt-get update -qq >/dev/null 2>&1
		apt_updated=1
	fi
	apt_install qemu-system-arm crossbuild-essential-arm64 libbpf-dev:arm64 libelf-dev:arm64 \
		zlib1g-dev:arm64 qemu-user-static busybox-static cpio kmod binutils
	QEMU=qemu-system-aarch64
	CROSS=aarch64-linux-gnu-
elif [ "$ARCH" = x86_64 ] && [ "$host_arch" = amd64 ]; then
	apt_install qemu-system-x86 busybox-static cpio kmod binutils tcpdump
	QEMU=qemu-system-x86_64
	CROSS=
elif [ "$ARCH" = arm64 ]; then
	apt_install qemu-system-arm busybox-static cpio kmod binutils
	QEMU=qemu-system-aarch64
	CROSS=
else
	die "host architecture $host_arch cannot build for $ARCH"
fi
command -v "$QEMU" >/dev/null 2>&1 || die "no $QEMU (Debian package qemu-system-${ARCH/x86_64/x86})"
sh tools/deps.sh >/dev/null || die "tools/deps.sh failed"

# ---- download: fetch a Debian package of $DEB_ARCH into the cache ---------

# cached PKG: print the cached .deb of PKG for $DEB_ARCH, if there is one
cached() {
	local f
	for f in "$vmdir/debs/${1}_"*"_${DEB_ARCH}.deb" "$vmdir/debs/${1}_"*_all.deb; do
		[ -e "$f" ] && { echo "$f"; return 0; }
	done
	return 1
}

# fetch PKG: print the path of PKG's .deb for $DEB_ARCH (downloaded once)
fetch() {
	local p=$1 f
	f=$(cached "$p")
	if [ -z "$f" ]; then
		(cd "$vmdir/debs" && apt-get download -qq "$p:$DEB_ARCH" >/dev/null 2>&1) || {
			[ $apt_updated -eq 0 ] && [ "$(id -u)" -eq 0 ] && apt-get update -qq >/dev/null 2>&1
			apt_updated=1
			(cd "$vmdir/debs" && apt-get download -qq "$p:$DEB_ARCH" >/dev/null 2>&1)
		} || return 1
		f=$(cached "$p")
	fi
	[ -n "$f" ] && echo "$f"
}

# ---- kernel -----------------------------------------------------------------

kpkg=$(apt-cache depends "linux-image-$DEB_ARCH:$DEB_ARCH" 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/ { sub(/:.*/, "", $2); print $2; exit }')
[ -n "$kpkg" ] || kpkg=$(apt-cache depends "linux-image-$DEB_ARCH" 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/ { sub(/:.*/, "", $2); print $2; exit }')
[ -n "$kpkg" ] || die "apt knows no linux-image-$DEB_ARCH (apt-get update?)"
kver=${kpkg#linux-image-}
kdir=$work/kernel-$kver
if [ ! -f "$kdir/.done" ]; then
	say "fetching $kpkg"
	kdeb=$(fetch "$kpkg") || die "apt-get download $kpkg:$DEB_ARCH failed"
	rm -rf "$kdir"
	mkdir -p "$kdir"
	dpkg-deb -x "$kdeb" "$kdir" || die "cannot extract $kdeb"
	depmod -b "$kdir" "$kver" || die "depmod on $kver failed"
	touch "$kdir/.done"
fi
vmlinuz=$kdir/boot/vmlinuz-$kver
[ -f "$vmlinuz" ] || die "no $vmlinuz in $kpkg"
say "kernel $kver ($vmlinuz)"

# ---- build the project for $ARCH ------------------------------------------

obj=$work/obj
mk=(make -s -j"$(nproc)" O="$obj")
if [ -n "$CROSS" ]; then
	mk+=(CC="${CROSS}gcc")
	export PKG_CONFIG_LIBDIR=/usr/lib/$TRIPLET/pkgconfig:/usr/share/pkgconfig
fi
t0=$(now)
if ! "${mk[@]}" all >"$work/build.log" 2>&1; then
	cat "$work/build.log"
	die "build for $ARCH failed (make O=$obj${CROSS:+ CC=${CROSS}gcc})"
fi
# shellcheck disable=SC2046
"${CROSS}gcc" -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 $(pkg-config --cflags libbpf) tools/vm/insns.c \
	-o "$obj/nascar-insns" $(pkg-config --libs libbpf) >>"$work/build.log" 2>&1 ||
	die "build of tools/vm/insns.c failed (see $work/build.log)"
say "built in $(secs "$t0" "$(now)") s into $obj"
unset PKG_CONFIG_LIBDIR

# ---- .nfc identical on both architectures ---------------------------------

if [ "$ARCH" = arm64 ] && [ -n "$CROSS" ]; then
	nat=$vmdir/x86_64/obj
	make -s -j"$(nproc)" O="$nat" "$nat/nascarc" >>"$work/build.log" 2>&1
	qu=$(command -v qemu-aarch64-static || command -v qemu-aarch64)
	nd=$work/nfc
	rm -rf "$nd"
	mkdir -p "$nd/native" "$nd/arm64"
	if [ -z "$qu" ] || [ ! -x "$nat/nascarc" ]; then
		res FAIL "nfc: cannot compare (no qemu-aarch64-static or no native nascarc)"
	else
		for p in policies/*.nflow tests/bpf/policies/*.nflow; do
			b=$(basename "$p" .nflow)
			"$nat/nascarc" compile "$p" -o "$nd/native/$b.nfc" >/dev/null 2>&1
			r1=$?
			"$qu" -L "/usr/$TRIPLET" "$obj/nascarc" compile "$p" -o "$nd/arm64/$b.nfc" >/dev/null 2>&1
			r2=$?
			if [ $r1 -ne 0 ] || [ $r2 -ne 0 ]; then
				res FAIL "nfc: $b compiles on both (x86_64 exit $r1, arm64 exit $r2)"
			elif cmp -s "$nd/native/$b.nfc" "$nd/arm64/$b.nfc"; then
				res PASS "nfc: $b.nfc byte-identical on x86_64 and arm64 ($(wc -c <"$nd/native/$b.nfc") bytes)"
			else
				res FAIL "nfc: $b.nfc differs between x86_64 and arm64 ($(cmp "$nd/native/$b.nfc" "$nd/arm64/$b.nfc" 2>&1 | head -n1))"
			fi
		done
	fi
fi

# ---- base image: Debian binaries, their libraries, kernel modules ----------

# Commands the tests use; anything missing falls back to busybox.
CMDS="bash dash env cat ls cp mv rm ln mkdir rmdir mktemp head tail cut tr wc sort uniq
sleep date seq dd tee od cmp diff basename dirname readlink realpath stat timeout id
printf test true false chmod touch nproc uname expr sha256sum md5sum xargs find grep
sed mawk gawk kill ps pgrep pkill sysctl ip tc bridge ethtool iperf3 socat jq ping nsenter
unshare mount umount setsid setpriv flock ss modprobe insmod lsmod depmod dmesg hostname sync
xtables-nft-multi bpftool tcpdump logger nohup du df fuser"
# Kernel modules (with their dependencies) loaded at boot.
MODS="veth tun tap macvlan 8021q bridge sch_ingress sch_htb sch_tbf sch_fq sch_fq_codel
sch_prio sch_mqprio sch_taprio sch_netem sch_sfq cls_bpf cls_u32 cls_matchall cls_flower act_bpf act_police
act_gact act_mirred act_skbedit act_vlan nf_tables nft_compat nft_chain_nat nft_ct
nf_conntrack nf_nat xt_conntrack xt_MASQUERADE xt_tcpudp xt_comment xt_mark xt_nat
nft_masq iptable_nat iptable_raw iptable_filter ip6table_nat ip6table_raw ip6table_filter
nf_defrag_ipv4 nf_defrag_ipv6 udp_tunnel ip6_udp_tunnel dummy ifb virtio_pci virtio_net"

base=$work/base.cpio
key=$(printf '%s\n' "$kver" "$CMDS" "$MODS" "$(cat tools/vm/init)" "$(sed -n '/^# ---- base image/,/^# ---- end of base/p' "$0")" | sha256sum | cut -c1-16)
root=$work/root

# add_file HOSTPATH [DEST]: copy HOSTPATH (following symlinks) into the image
add_file() {
	local src=$1 dst=${2:-$1}
	[ -e "$root$dst" ] && return 0
	mkdir -p "$root$(dirname "$dst")"
	cp -L "$src" "$root$dst"
}

# Where the binaries come from: this host for a native image, the arm64
# packages of the same Debian release (extracted into $src) for a foreign one.
foreign=0
[ "$DEB_ARCH" != "$host_arch" ] && foreign=1
src=$work/debroot
if [ $foreign -eq 1 ]; then
	# find_src PATH: the foreign file for the host's PATH (triplet replaced)
	find_src() {
		local p=${1//x86_64-linux-gnu/$TRIPLET}
		if [ ! -e "$src$p" ] && [ -e "$src${p#/usr}" ]; then
			echo "$src${p#/usr}"
		else
			echo "$src$p"
		fi
	}
	# pull PATH_ON_HOST: extract the $DEB_ARCH package owning the host's file
	pull() {
		local pk f
		pk=$(dpkg -S "$1" 2>/dev/null | grep -v '^diversion' | head -n1 | cut -d: -f1 | cut -d, -f1)
		[ -n "$pk" ] || case "$1" in /usr/*)
			pk=$(dpkg -S "${1#/usr}" 2>/dev/null | grep -v '^diversion' | head -n1 | cut -d: -f1 | cut -d, -f1) ;;
		esac
		[ -n "$pk" ] || return 1
		[ -e "$src/.have-$pk" ] && return 0
		f=$(fetch "$pk") || return 1
		dpkg-deb -x "$f" "$src" || return 1
		touch "$src/.have-$pk"
	}
	libdirs="$src/usr/lib/$TRIPLET $src/lib/$TRIPLET $src/usr/lib /usr/lib/$TRIPLET /lib/$TRIPLET /usr/$TRIPLET/lib"
	hostlibs="/usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu"
else
	find_src() { echo "$1"; }
	pull() { return 0; }
	libdirs="/usr/lib/$TRIPLET /lib/$TRIPLET /usr/lib64 /lib64 /usr/lib /lib"
	hostlibs=""
fi

# find_lib SONAME: print the path of a library for $ARCH
find_lib() {
	local d h
	for d in $libdirs; do
		[ -e "$d/$1" ] && { echo "$d/$1"; return 0; }
	done
	for h in $hostlibs; do
		if [ -e "$h/$1" ] && pull "$h/$1"; then
			for d in $libdirs; do
				[ -e "$d/$1" ] && { echo "$d/$1"; return 0; }
			done
		fi
	done
	return 1
}

# add_elf FILE: the libraries FILE needs (recursively), into the image
add_elf() {
	local f=$1 n l
	for n in $(readelf -d "$f" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		[ -e "$root/usr/lib/$TRIPLET/$n" ] && continue
		l=$(find_lib "$n") || {
			echo "missing library $n (needed by $f)"
			return 1
		}
		add_file "$l" "/usr/lib/$TRIPLET/$n"
		add_elf "$l" || return 1
	done
}

# prefetch: download in one apt-get call the $DEB_ARCH packages of the
# commands and of every library the host's copies need (same names)
prefetch() {
	local c p files pk want=""
	files=$(for c in $CMDS; do
		p=$(type -P "$c" 2>/dev/null) || continue
		readlink -f "$p"
		ldd "$p" 2>/dev/null | awk '$3 ~ /^\// { print $3 }'
	done | sort -u)
	for p in $files /bin/busybox; do
		pk=$(dpkg -S "$p" 2>/dev/null || dpkg -S "${p#/usr}" 2>/dev/null)
		pk=$(echo "$pk" | grep -v '^diversion' | head -n1 | cut -d: -f1 | cut -d, -f1)
		[ -n "$pk" ] || continue
		cached "$pk" >/dev/null && continue
		want="$want $pk:$DEB_ARCH"
	done
	want=$(echo "$want" | tr ' ' '\n' | sort -u | tr '\n' ' ')
	[ -n "${want// /}" ] || return 0
	# shellcheck disable=SC2086
	(cd "$vmdir/debs" && apt-get download -qq $want >/dev/null 2>&1) || true
}

build_base() {
	local c p s r m ko
	[ $foreign -eq 1 ] && prefetch
	rm -rf "$root"
	mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib/"$TRIPLET",etc,proc,sys,dev,run,tmp,root,var,busybox,etc/nascar-vm}
	ln -s usr/bin "$root/bin"
	ln -s usr/sbin "$root/sbin"
	ln -s usr/lib "$root/lib"
	ln -s ../run "$root/var/run"
	mkdir -p "$root/var/tmp"
	if [ "$ARCH" = x86_64 ]; then
		mkdir -p "$root/usr/lib64"
		ln -s usr/lib64 "$root/lib64"
		add_file /lib64/ld-linux-x86-64.so.2 /usr/lib64/ld-linux-x86-64.so.2
	else
		if [ $foreign -eq 1 ]; then
			add_file "/usr/lib/$TRIPLET/ld-linux-aarch64.so.1" /usr/lib/ld-linux-aarch64.so.1 ||
				die "no /usr/lib/$TRIPLET/ld-linux-aarch64.so.1 (libc6:arm64)"
		else
			add_file /lib/ld-linux-aarch64.so.1 /usr/lib/ld-linux-aarch64.so.1
		fi
	fi
	for c in $CMDS; do
		p=$(type -P "$c" 2>/dev/null) || {
			echo "check-vm: $c not on this host; busybox stands in"
			continue
		}
		r=$(readlink -f "$p")
		if [ $foreign -eq 1 ]; then
			pull "$r" || pull "$p" || { echo "check-vm: no $DEB_ARCH package for $r"; continue; }
		fi
		s=$(find_src "$r")
		[ -e "$s" ] || { echo "check-vm: $s missing; busybox stands in for $c"; continue; }
		add_file "$s" "$r"
		add_elf "$s" || return 1
		case "$p" in /bin/* | /sbin/* | /lib/*) p=/usr$p ;; esac
		[ "$p" = "$r" ] || { mkdir -p "$root$(dirname "$p")" && ln -sf "$r" "$root$p"; }
	done
	# iptables through the nft backend; its extensions are dlopened
	for c in iptables ip6tables iptables-save ip6tables-save iptables-restore ip6tables-restore; do
		ln -sf xtables-nft-multi "$root/usr/sbin/$c"
	done
	for s in "$(find_src "/usr/lib/x86_64-linux-gnu")/xtables/"*.so; do
		[ -e "$s" ] || continue
		add_file "$s" "/usr/lib/$TRIPLET/xtables/$(basename "$s")"
		add_elf "$s" || return 1
	done
	# glibc's pthread_cancel and friends dlopen libgcc_s
	s=$(find_lib libgcc_s.so.1) && add_file "$s" "/usr/lib/$TRIPLET/libgcc_s.so.1"
	[ -e "$root/usr/bin/sh" ] || ln -s dash "$root/usr/bin/sh"
	[ -e "$root/usr/bin/dash" ] || ln -sf bash "$root/usr/bin/sh"
	[ -e "$root/usr/bin/awk" ] || ln -s mawk "$root/usr/bin/awk"
	# busybox for anything else
	if [ $foreign -eq 1 ]; then
		pull /bin/busybox || return 1
		s=$src/bin/busybox
	else
		s=/bin/busybox
	fi
	cp "$s" "$root/busybox/busybox"
	for c in $(qemu_user "$root/busybox/busybox" --list 2>/dev/null || /bin/busybox --list); do
		[ "$c" = busybox ] || ln -s busybox "$root/busybox/$c"
	done
	# modules: the wanted ones and their dependencies, then depmod
	mkdir -p "$root/lib/modules/$kver"
	for m in $MODS; do
		modprobe -d "$kdir" -S "$kver" --show-depends "$m" 2>/dev/null |
			awk '$1 == "insmod" { print $2 }'
	done | sort -u | while read -r ko; do
		add_file "$ko" "/usr/lib/modules/$kver/${ko#"$kdir"/lib/modules/"$kver"/}"
	done
	cp "$kdir/lib/modules/$kver/"modules.{builtin,builtin.modinfo,order} "$root/usr/lib/modules/$kver/"
	depmod -b "$root" "$kver" || return 1
	# shellcheck disable=SC2086  # one module a line
	printf '%s\n' $MODS >"$root/etc/nascar-vm/modules"
	# etc
	echo 'root:x:0:0:root:/root:/bin/bash' >"$root/etc/passwd"
	echo 'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin' >>"$root/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
	printf '127.0.0.1 localhost\n::1 localhost\n' >"$root/etc/hosts"
	printf 'passwd: files\ngroup: files\nhosts: files\nservices: files\nprotocols: files\n' >"$root/etc/nsswitch.conf"
	for f in /etc/protocols /etc/services /etc/ethertypes; do
		[ -f "$f" ] && cp "$f" "$root$f"
	done
	[ -d /etc/iproute2 ] && cp -r /etc/iproute2 "$root/etc/"
	[ -d /usr/share/iproute2 ] && mkdir -p "$root/usr/share" && cp -r /usr/share/iproute2 "$root/usr/share/"
	install -m 0755 tools/vm/init "$root/init"
	(cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio -o -0 -H newc -R 0:0 --quiet) >"$base.tmp" || return 1
	mv "$base.tmp" "$base"
	echo "$key" >"$base.key"
	# the image is the cache; the tree would only confuse finds over $O
	rm -rf "$root"
}
# ---- end of base

# qemu_user BIN ARGS: run a $ARCH binary on this host
qemu_user() {
	if [ $foreign -eq 1 ]; then
		qemu-aarch64-static "$@"
	else
		"$@"
	fi
}

if [ ! -f "$base" ] || [ "$(cat "$base.key" 2>/dev/null)" != "$key" ]; then
	say "building the base image (Debian $DEB_ARCH binaries, $kver modules)"
	t0=$(now)
	out=$(build_base 2>&1)
	r=$?
	echo "$out" | grep -v '^$' | sed "s/^/check-vm[$ARCH]: /"
	if [ $r -ne 0 ] || [ ! -f "$base" ]; then
		die "cannot build the base image"
	fi
	say "base image $(du -h "$base" | cut -f1) in $(secs "$t0" "$(now)") s"
fi

# ---- the project layer -------------------------------------------------------

lay=$work/layer
rm -rf "$lay"
mkdir -p "$lay/nascar/build/tests" "$lay/nascar/build/tools" "$lay/nascar/build/bench"
cp -r tests tools policies include "$lay/nascar/"
rm -rf "$lay/nascar/tools/vm/"*.cpio
for f in nascarc nascar-apply nascar-insns ./*.bpf.o tests/bpf_tests tools/nascar-vmm bench/udp_rr; do
	for g in "$obj"/$f; do
		[ -e "$g" ] && cp "$g" "$lay/nascar/build/${g#"$obj"/}"
	done
done
for g in "$obj"/tests/test_*; do
	case "$g" in *.o | *.d) ;; *) [ -x "$g" ] && cp "$g" "$lay/nascar/build/tests/" ;; esac
done
tests_file=${VM_TESTS:-tools/vm/tests.$ARCH}
[ -f "$tests_file" ] || die "no test list $tests_file"
cp "$tests_file" "$lay/nascar/vm-tests"
(cd "$lay" && find . -print0 | LC_ALL=C sort -z | cpio -o -0 -H newc -R 0:0 --quiet) >"$work/layer.cpio" ||
	die "cannot pack the project layer"
cat "$base" "$work/layer.cpio" >"$work/initrd.img"
rm -rf "$lay"

# ---- boot ----------------------------------------------------------------------

smp=${VM_SMP:-2}
mem=${VM_MEM:-2048}
accel=tcg
if [ "${VM_KVM:-0}" = 1 ] && [ "$DEB_ARCH" = "$host_arch" ] && [ -w /dev/kvm ]; then
	accel=kvm
fi
if [ "$ARCH" = x86_64 ]; then
	q=("$QEMU" -M pc -accel "$accel" -cpu "${VM_CPU:-max}")
	con=ttyS0
	to=${VM_TIMEOUT:-2400}
else
	cpu=${VM_CPU:-max,pauth-impdef=on}
	[ "$accel" = kvm ] && cpu=host
	q=("$QEMU" -M virt -accel "$accel" -cpu "$cpu")
	con=ttyAMA0
	to=${VM_TIMEOUT:-3600}
fi
# two virtio-net NICs on one qemu hub: a real driver's uplink for the rig
# (rig_up --uplink nic); nothing else is on the hub
q+=(-netdev hubport,id=n0,hubid=0 -device virtio-net-pci,netdev=n0,mac=52:54:00:4e:43:01
	-netdev hubport,id=n1,hubid=0 -device virtio-net-pci,netdev=n1,mac=52:54:00:4e:43:02)
q+=(-smp "$smp" -m "$mem" -display none -monitor none -serial stdio -no-reboot -nic none
	-kernel "$vmlinuz" -initrd "$work/initrd.img"
	-append "console=$con panic=-1 loglevel=4 quiet NASCAR_VM_TEST_TIMEOUT=$((to > 300 ? to - 120 : to))")
say "booting $kver on $QEMU ($accel, -smp $smp, -m $mem), at most $to s"
printf '%q ' "${q[@]}" >"$work/qemu.cmd"
echo >>"$work/qemu.cmd"
console=$work/console.log
: >"$console"
t_boot=$(now)
t_init=
t_tests=
t_end=
inres=0
while IFS= read -r line; do
	line=${line%$'\r'}
	printf '%s\n' "$line" >>"$console"
	case "$line" in
	NASCAR-VM:\ init*) t_init=$(now) ;;
	NASCAR-VM-RESULTS-BEGIN) t_tests=$(now); inres=1; continue ;;
	NASCAR-VM-RESULTS-END*) t_end=$(now); inres=0 ;;
	esac
	if [ $inres -eq 1 ]; then
		# the guest's own closing count; the tier prints the total below
		case "$line" in [0-9]*" passed, "*" failed, "*" skipped") continue ;; esac
		printf '%s\n' "$line"
	else
		case "$line" in NASCAR-VM:*) say "${line#NASCAR-VM: }" ;; esac
	fi
done < <(timeout -k 10 "$to" "${q[@]}" </dev/null 2>&1; echo "NASCAR-VM-QEMU-EXIT $?")
t_off=$(now)
qrc=$(sed -n 's/^NASCAR-VM-QEMU-EXIT //p' "$console" | tail -n1)
sed -n '/^NASCAR-VM-RESULTS-BEGIN$/,/^NASCAR-VM-RESULTS-END/p' "$console" | sed '1d;$d' >"$work/results.log"
sed -n '/^NASCAR-VM-DMESG-BEGIN$/,/^NASCAR-VM-DMESG-END$/p' "$console" | sed '1d;$d' >"$work/dmesg.log"
grep '^INSNS: ' "$work/results.log" | sed 's/^INSNS: //' >"$work/insns.txt"

p=$(grep -c '^PASS: ' "$work/results.log")
f=$(grep -c '^FAIL: ' "$work/results.log")
s=$(grep -c '^SKIP: ' "$work/results.log")
pass=$((pass + p))
fail=$((fail + f))
skip=$((skip + s))
if [ -z "$t_end" ]; then
	if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
		res FAIL "vm-$ARCH: the guest did not finish within $to s (console: $console)"
	else
		res FAIL "vm-$ARCH: the guest stopped before the tests finished, qemu exit $qrc (console: $console)"
	fi
	tail -n 30 "$console" | sed 's/^/  | /'
elif [ "$p" -eq 0 ]; then
	res FAIL "vm-$ARCH: no test passed in the guest"
fi
grep -q '^NASCAR-VM-DMESG-END$' "$console" || res FAIL "vm-$ARCH: no kernel log from the guest"
if grep -Eq 'BUG:|Oops|WARNING: CPU|Kernel panic|general protection' "$work/dmesg.log" "$console"; then
	res FAIL "vm-$ARCH: the guest kernel logged a BUG/WARNING/Oops (see $work/dmesg.log)"
fi

b=$(secs "$t_boot" "${t_init:-$t_off}")
tt=$([ -n "$t_tests" ] && secs "$t_tests" "${t_end:-$t_off}" || echo "?")
{
	echo "kernel=$kver arch=$ARCH accel=$accel smp=$smp"
	echo "boot_s=$b tests_s=$tt total_s=$(secs "$t_start" "$(now)") qemu_s=$(secs "$t_boot" "$t_off")"
} >"$work/times.txt"
say "boot $b s (qemu start to init), tests $tt s, whole tier $(secs "$t_start" "$(now)") s"
say "console $console, kernel log $work/dmesg.log, instruction counts $work/insns.txt"
finish
}
# shellcheck disable=SC2317  # finish exits; this is for a truncated read
exit
