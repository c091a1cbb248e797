#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bench-metrics.sh [ROUNDS] [SECONDS] - the cost of the live metrics: the
# 100-byte round trip of homa-bench (closed loop, one RPC outstanding,
# Homa over UDP on loopback) with the metrics published (the default,
# HOMA_METRICS=1, in both processes) and without (HOMA_METRICS=0),
# alternating, ROUNDS times each (default 5), SECONDS per run (default 3).
# Prints one line per run and the range of each setting.
set -u
ROUNDS=${1:-5} S=${2:-3}
B=$PWD/build/bin/homa-bench
[ -x "$B" ] || { echo "build first: make"; exit 1; }
out=$(mktemp -d)
spid=
trap '[ -n "$spid" ] && kill "$spid" 2>/dev/null; wait 2>/dev/null; rm -rf "$out"' EXIT

run() { # run METRICS: "p50 p99 rpcs/s"
	local port=$((20000 + RANDOM % 10000))
	HOMA_METRICS=$1 "$B" server --proto homa --port $port --resp-size 100 &
	spid=$!
	sleep 0.5
	HOMA_METRICS=$1 "$B" client --proto homa --server 127.0.0.1:$port \
		--calibrate 0 --seconds "$S" --workload 100 --outstanding 1 \
		>"$out/run" 2>&1
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	spid=
	awk -v s="$S" 'NR == 1 { rpcs = $4 }
		NR == 3 { printf "%.1f %.1f %.0f\n", $3, $4, rpcs / s }' "$out/run"
}

echo "date $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$ROUNDS"); do
	for m in 1 0; do
		read -r p50 p99 rate <<<"$(run $m)"
		echo "round $r HOMA_METRICS=$m  p50 $p50 us  p99 $p99 us  $rate RPCs/s"
		echo "$p50 $p99 $rate" >>"$out/m$m"
	done
done
for m in 1 0; do
	sort -n "$out/m$m" | awk -v m=$m '
		{ p50[NR] = $1; p99[NR] = $2; r[NR] = $3 }
		END { printf "HOMA_METRICS=%s: p50 %s-%s us (median %s), RPCs/s %s-%s\n",
			m, p50[1], p50[NR], p50[int((NR + 1) / 2)],
			minr(r), maxr(r) }
		function minr(a,  i, v) { v = a[1]; for (i in a) if (a[i] < v) v = a[i]; return v }
		function maxr(a,  i, v) { v = a[1]; for (i in a) if (a[i] > v) v = a[i]; return v }'
done
