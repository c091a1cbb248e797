#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# bench-dp-rx.sh [udp|raw] [COUNT] - user-space instructions per receive
# read of the datapath (callgrind: repeatable on a loaded machine): a
# read of one 100-byte datagram, and an empty read (the common case of a
# busy-polling thread). Needs the test build (make test builds
# build/tests/bench_dp_rx); raw needs root and counts empty reads only.
set -euo pipefail
cd "$(dirname "$0")/.."
DP=${1:-udp} N=${2:-20000}
B=$PWD/build/tests/bench_dp_rx
[ -x "$B" ] || { echo "bench-dp-rx.sh: build the tests first (make test)" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "bench-dp-rx.sh: valgrind missing" >&2; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for f in rx_one rx_empty; do
	valgrind --tool=callgrind --toggle-collect=$f \
		--callgrind-out-file="$TMP/$f" "$B" "$DP" "$N" >/dev/null 2>&1
done
ins() { awk '/^summary:/ { print $2 }' "$TMP/$1"; }
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
[ "$DP" = raw ] || echo "$DP read of one datagram: $(($(ins rx_one) / N)) instructions"
echo "$DP empty read:            $(($(ins rx_empty) / N)) instructions"
