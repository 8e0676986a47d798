#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tools/deps.sh: install what building and testing Nascar needs, from
# Debian 12's own packages, and mount bpffs.  Safe to run again: it only
# calls apt-get when a package is missing.
set -eu
PKGS="make gcc clang llvm libclang-rt-14-dev flex bison pkg-config libbpf-dev libelf-dev
zlib1g-dev bpftool iproute2 iptables iperf3 ethtool socat procps util-linux jq iputils-ping"
# issue 13 (shipping): promtool (package prometheus) checks the metrics,
# systemd-analyze (systemd) the unit; dpkg-buildpackage, debhelper and
# lintian build and check the .deb (make check-pkg).
PKGS="$PKGS prometheus systemd dpkg-dev debhelper fakeroot lintian"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps.sh: missing packages:$missing; run this as root (sudo $0)" >&2
		exit 1
	fi
	echo "deps.sh: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ "$(id -u)" -eq 0 ] && ! mount | grep -q ' /sys/fs/bpf type bpf'; then
	mount -t bpf bpf /sys/fs/bpf 2>/dev/null || true
fi
exit 0
