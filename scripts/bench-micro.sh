#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# bench-micro.sh [RPCS] - the protocol core's cost per RPC, without network
# or system calls: homa-microbench runs 100-byte round trips between two
# core instances in memory. Prints round trips per second (wall clock,
# noisy on a shared machine) and instructions per round trip for both
# sides together (valgrind callgrind, repeatable), with the share spent in
# memcpy/malloc/free reported separately.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
bin=build/bin/homa-microbench
[ -x $bin ] || { echo "build first: make" >&2; exit 2; }
$bin 1000000 100
out=$(mktemp)
trap 'rm -f "$out"' EXIT
valgrind --tool=callgrind --toggle-collect=mb_round_trip \
	--callgrind-out-file="$out" $bin "$n" 100 >/dev/null 2>&1
total=$(callgrind_annotate "$out" | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
libc=$(callgrind_annotate --inclusive=no "$out" |
	awk '/libc\.so/ && /mem(cpy|move|set)|malloc|free/ {gsub(",", "", $1); s += $1} END {print s + 0}')
echo "instructions per 100-byte round trip (both sides): $((total / n))"
echo "  of which memcpy/memset/malloc/free: $((libc / n))"
echo "  protocol alone: $(((total - libc) / n))"
