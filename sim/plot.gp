# SPDX-License-Identifier: BSD-2-Clause
# plot.gp - the look of the P99-slowdown-by-size plots; plot.sh loads it
# with dir, w and out set and then adds one line per run it found.
set terminal pngcairo size 1150,600 font ",11" noenhanced
set output out
set datafile separator ","
set logscale x
set logscale y
set grid
set key outside right top Left reverse
set xlabel "message size (bytes, upper bound of the decile bucket)"
set ylabel "P99 slowdown (log scale)"
set title sprintf("homa-sim, published topology: %s, P99 slowdown by size", w)
# CSV columns (homa-sim --csv): 8 = size_hi, 11 = p99.
