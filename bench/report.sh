#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# bench/report.sh RESULT.json: the Markdown report of one bench/run.sh run
# (medians, spreads, ratios) on stdout.  How to read it: docs/bench.md.
set -eu
[ $# -eq 1 ] || { echo "usage: bench/report.sh RESULT.json" >&2; exit 2; }
exec jq -r -f "$(dirname "$0")/report.jq" "$1"
