#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# tools/check.sh: the README's test command.  Installs what is missing,
# builds with AddressSanitizer and UBSan, and runs every test tier.
set -eu
cd "$(dirname "$0")/.."
sh tools/deps.sh
O=${O:-build}
make -s -j"$(nproc)" O="$O" SAN=1
make -s O="$O" SAN=1 check
