#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# plot-slowdown.sh DIR WORKLOAD LOAD CONFIG... - P50 and P99 slowdown
# against message size from DIR/CONFIG.txt tables (homa-bench output),
# one line per configuration, in the style of the Homa papers' figures.
# Writes DIR/slowdown-WORKLOAD-LOAD.png; PLOT_NOTE (link rate, policy,
# date, commit) goes into the title.
set -euo pipefail
dir=$1 workload=$2 load=$3
shift 3
if ! command -v gnuplot >/dev/null; then
	echo "plot-slowdown.sh: gnuplot missing (scripts/deps.sh demo installs it)" >&2
	exit 0
fi
png="$dir/slowdown-$workload-$load.png"
plots=""
for cfg in "$@"; do
	# data rows start at line 3 of the table; columns: 1 size, 6 p50_sd, 7 p99_sd
	plots="$plots '$dir/$cfg.txt' every ::2 using 1:7 with linespoints lw 2 title '$cfg P99',"
	plots="$plots '$dir/$cfg.txt' every ::2 using 1:6 with linespoints dt 2 title '$cfg P50',"
done
gnuplot <<GP
set terminal pngcairo size 900,560 font ",11"
set output "$png"
set title "$workload at $load% load: slowdown by message size${PLOT_NOTE:+\\n$PLOT_NOTE}"
set xlabel "message size (bytes, upper end of each decile)"
set ylabel "slowdown (latency / unloaded latency)"
set logscale xy
set grid
set key top left
plot ${plots%,}
GP
echo "plot: $png"
