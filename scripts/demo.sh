#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# demo.sh - the README's first command (via `make demo`): Homa against
# TCP with workload W4 at 80 % load. As root, on the emulated cluster with
# priority queues (scripts/bench-cluster.sh); otherwise on loopback, where
# network priorities cannot apply. Prints the tables, writes a PNG.
# Both protocols wait the same way (homa-bench --wait block: no spinning,
# the rack's hosts share two vCPUs). DEMO_SECONDS sets the loaded run's
# length (default 60 s per protocol).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=build/demo
SECS=${DEMO_SECONDS:-60}
if [ "$(id -u)" -eq 0 ]; then
	echo "demo: Homa against TCP, W4 at 80 % load, about $((2 * SECS / 60 + 1)) minutes;"
	echo "      each message's slowdown is its latency over its unloaded latency"
	scripts/bench-cluster.sh --workload w4 --load 80 --seconds "$SECS" \
		--configs "homa8 tcp" --wait block --out "$OUT"
	echo
	echo "Short messages are the first rows: compare the p99_sd (P99"
	echo "slowdown) columns of homa8 and tcp. Plot: $OUT/slowdown-w4-80.png"
	exit 0
fi
echo "demo: not root, so no network namespaces: running on loopback, where"
echo "      there are no priority queues and Homa's priorities cannot apply."
BENCH=build/bin/homa-bench
mkdir -p "$OUT"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true' EXIT
echo "      homa8: Homa (8 priorities, unused here); tcp: TCP_NODELAY; both --wait block"
"$BENCH" server --proto homa --port 4100 --wait block &
pids+=($!)
"$BENCH" server --proto tcp --port 4101 --wait block &
pids+=($!)
sleep 0.5
for cfg in homa8:homa:4100 tcp:tcp:4101; do
	IFS=: read -r name proto port <<<"$cfg"
	"$BENCH" client --proto "$proto" --server 127.0.0.1:"$port" \
		--workload w4 --load 800 --seconds "$((SECS / 3))" --calibrate 4 \
		--wait block --label "$name" --json "$OUT/$name.json" |
		tee "$OUT/$name.txt"
done
PLOT_NOTE="loopback, 800 Mbit/s offered, --wait block, $(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
	scripts/plot-slowdown.sh "$OUT" w4 80 homa8 tcp
