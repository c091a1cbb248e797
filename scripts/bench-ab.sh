#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# bench-ab.sh BENCH_A BENCH_B [ROUNDS] [WAIT] - two builds of homa-bench on
# the same minutes: 100-byte loopback round trips of Homa with build A,
# Homa with build B, then UDP and TCP (build B), alternating, ROUNDS
# (default 4) rounds of 2 s with --wait WAIT (default spin). Prints
# P50/P99 in us per run. For a change's effect on a noisy machine: read
# the rounds side by side, not one number.
set -euo pipefail
A=$1 B=$2 N=${3:-4} W=${4:-spin} P=$((19500 + $$ % 1000))
SP=
trap '[ -n "$SP" ] && kill "$SP" 2>/dev/null; true' EXIT
run() { # BIN PROTO: one run, prints P50/P99
	"$1" server --proto "$2" --port $P --resp-size 100 --wait "$W" \
		>/dev/null 2>&1 &
	SP=$!
	sleep 0.3
	"$1" client --proto "$2" --server 127.0.0.1:$P --calibrate 0 \
		--seconds 2 --wait "$W" --workload 100 --outstanding 1 \
		2>/dev/null | awk 'NR == 3 { printf "%s/%s", $3, $4 }'
	kill "$SP" 2>/dev/null || true
	wait "$SP" 2>/dev/null || true
	SP=
	P=$((P + 1))
}
echo "date: $(date -u '+%F %H:%M') UTC, load average $(cut -d' ' -f1-3 /proc/loadavg), wait $W"
for i in $(seq "$N"); do
	echo "round $i: A homa $(run "$A" homa) | B homa $(run "$B" homa)" \
		"| udp $(run "$B" udp) | tcp $(run "$B" tcp)"
done
