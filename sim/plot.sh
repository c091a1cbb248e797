#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# plot.sh RESULTS - one PNG per workload (RESULTS/w1.png ...): P99
# slowdown against message size for every configuration and load found in
# RESULTS (the CSV files run_published.sh or homa-sim --csv wrote, named
# WORKLOAD-LOAD-CONFIG.csv, CONFIG one of homa8, homa1, basic). The look
# is in plot.gp. Needs gnuplot (apt-get install -y gnuplot-nox).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: plot.sh RESULTS}
if ! command -v gnuplot >/dev/null; then
	echo "plot.sh: gnuplot not found (apt-get install -y gnuplot-nox)" >&2
	exit 1
fi
style() { # style CONFIG LOAD -> gnuplot line style
	case $1 in
	homa8) c='#1f77b4' ;;
	homa1) c='#ff7f0e' ;;
	homa8w) c='#9467bd' ;;
	*) c='#2ca02c' ;;
	esac
	case $2 in
	0.8) echo "lw 2 pt 7 lc rgb '$c'" ;;
	*) echo "lw 1 pt 6 dt 2 lc rgb '$c'" ;;
	esac
}
label() {
	case $1 in
	homa8) n="Homa, 8 priorities" ;;
	homa1) n="Homa, 1 priority" ;;
	homa8w) n="Homa, 8 priorities, link_mbps 9500" ;;
	*) n="basic" ;;
	esac
	echo "$n, load $2"
}
for w in w1 w2 w3 w4 w5; do
	lines=""
	for c in homa8 homa8w homa1 basic; do
		for l in 0.8 0.5; do
			f="$dir/$w-$l-$c.csv"
			[ -s "$f" ] || continue
			lines="$lines${lines:+, }'$f' every ::1 using 8:11 with linespoints $(style $c $l) title '$(label $c $l)'"
		done
	done
	[ -n "$lines" ] || continue
	{
		echo "dir='$dir'; w='$w'; out='$dir/$w.png'"
		echo "load '$here/plot.gp'"
		echo "plot $lines"
	} | gnuplot
	echo "$dir/$w.png"
done
