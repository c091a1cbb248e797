#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# run_published.sh - the published configuration (144 hosts, 9 racks, 4
# spines, 10/40 Gbit/s) under W1-W5 at 50% and 80% load, for Homa with 8
# priorities, Homa with 1 priority and the "basic" baseline. One JSON and
# one CSV per run in OUTDIR, plus all.csv (every bucket of every run) and
# summary.csv (one line per run); then plot.sh draws the PNGs.
#
# usage: sim/run_published.sh [OUTDIR] [WORKLOADS] [LOADS] [CONFIGS]
#   defaults: build/sim-results "w1 w2 w3 w4 w5" "0.5 0.8" "homa8 homa1 basic"
#   CONFIGS may also name homa8w (Homa, 8 priorities, link_mbps 9500) and
#   homa8x (Homa, 8 priorities, without the simulator's default nudges:
#   the core's and the library's default).
#   HOMA_SIM=path/to/homa-sim overrides the binary (default build/bin).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../build/sim-results}
workloads=${2:-"w1 w2 w3 w4 w5"}
loads=${3:-"0.5 0.8"}
configs=${4:-"homa8 homa1 basic"}
sim=${HOMA_SIM:-$here/../build/bin/homa-sim}
mkdir -p "$out"

# Warm-up and window per workload, ms: the heavy-tailed W4 and W5 take
# tens of ms to reach steady state (see docs/simulation.md).
timing() {
	case $1 in
	w1 | w2) echo "--warmup-ms 2 --window-ms 5 --tail-ms 20" ;;
	w3) echo "--warmup-ms 5 --window-ms 10 --tail-ms 20" ;;
	*) echo "--warmup-ms 50 --window-ms 50 --tail-ms 50" ;;
	esac
}
flags() {
	case $1 in
	homa8) echo "--prio 8" ;;
	homa1) echo "--prio 1" ;;
	basic) echo "--basic" ;;
	# The workaround for the core's NIC model (docs/simulation.md): the
	# pacer paces data at 95% so control packets fit in the rest.
	homa8w) echo "--prio 8 --homa link_mbps=9500" ;;
	homa8x) echo "--prio 8 --homa nudge_usecs=0" ;;
	esac
}

for w in $workloads; do
	for l in $loads; do
		for c in $configs; do
			name="$w-$l-$c"
			echo "== $name" >&2
			# shellcheck disable=SC2046
			"$sim" --workload "$w" --load "$l" $(flags "$c") \
				$(timing "$w") --drain-ms 300 --no-progress \
				--json "$out/$name.json" --csv "$out/$name.csv" \
				>"$out/$name.txt" 2>"$out/$name.err" || true
			tail -1 "$out/$name.err" >&2
		done
	done
done

# Every bucket of every run, with the configuration name in front.
echo "config,$(head -1 "$(ls "$out"/*.csv | grep -v -e all.csv -e summary.csv | head -1)")" >"$out/all.csv"
for f in "$out"/w*.csv; do
	c=$(basename "$f" .csv | cut -d- -f3)
	tail -n +2 "$f" | sed "s/^/$c,/" >>"$out/all.csv"
done
"$here/summarize.sh" "$out" >"$out/summary.csv"
"$here/plot.sh" "$out"
