#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# bench-matrix.sh [SECONDS] [OUT] [WORKLOADS] [LOADS] [EXTRA] - the cluster results of docs/benchmarks.md:
# W3, W4 and W5 at 50 % and 80 % load, Homa with 8 priorities, Homa with
# 1 priority and TCP (scripts/bench-cluster.sh for each workload and
# load), then one summary table of short-message slowdowns and throughput.
set -euo pipefail
cd "$(dirname "$0")/.."
S=${1:-20}
OUT=${2:-build/matrix}
WORKLOADS=${3:-"w3 w4 w5"}
LOADS=${4:-"50 80"}
EXTRA=${5:-} # e.g. --rt
mkdir -p "$OUT"
for w in $WORKLOADS; do
	for l in $LOADS; do
		scripts/bench-cluster.sh --workload $w --load $l --seconds "$S" \
			--calibrate 4 --configs "homa8 homa1 tcp" $EXTRA \
			--out "$OUT/$w-$l" >"$OUT-$w-$l.log" 2>&1 ||
			echo "run $w $l failed (see $OUT-$w-$l.log)"
	done
done
printf "%-4s %-4s %-6s %9s %9s %9s %9s %10s %7s\n" workload load config \
	"short_p50" "short_p99" "mid_p99" "long_p99" "Mbit/s" errors
for w in $WORKLOADS; do
	for l in $LOADS; do
		for c in homa8 homa1 tcp; do
			t=$OUT/$w-$l/$c.txt
			[ -f "$t" ] || continue
			awk -v w=$w -v l=$l -v c=$c '
				NR == 1 { mbps = $(NF-1); err = $(NF-3) }
				NR == 3 { s50 = $6; s99 = $7 }
				NR == 7 { m99 = $7 }
				NR > 2 { last = $7 }
				END { printf "%-8s %-4s %-6s %9.2f %9.2f %9.2f %9.2f %10.1f %7s\n",
				      w, l, c, s50, s99, m99, last, mbps, err }' "$t"
		done
	done
done
