#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# check-sim-identical.sh BASE_REF [HEAD_REF] - prove that a change left the
# protocol's behaviour alone: build homa-sim at both commits (from git
# archive, in a temporary directory; no worktree or branch is touched),
# run the simulator's published configuration (sim/run_published.sh:
# 144 hosts, homa8/homa1/basic, fixed default seed) on a subset of the
# workloads, plus one small faulty run with the idle diagnostics and an
# explicit seed, and diff every text, CSV and JSON output byte for byte.
# The runs' .err files (wall-clock timings) and the PNGs are not compared.
#
#   HEAD_REF defaults to HEAD (commit what you want checked first).
#   SIM_IDENTICAL_WORKLOADS (default "w1 w3"), SIM_IDENTICAL_LOADS
#   (default "0.5 0.8"), SIM_IDENTICAL_CONFIGS (default "homa8 homa1
#   basic") choose the matrix; SIM_IDENTICAL_KEEP=1 keeps the directory.
# Exit status 0 if identical, 1 if any output differs, 2 on usage/build
# errors.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: check-sim-identical.sh BASE_REF [HEAD_REF]}
head=${2:-HEAD}
workloads=${SIM_IDENTICAL_WORKLOADS:-"w1 w3"}
loads=${SIM_IDENTICAL_LOADS:-"0.5 0.8"}
configs=${SIM_IDENTICAL_CONFIGS:-"homa8 homa1 basic"}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sim-identical.XXXXXX")
if [ "${SIM_IDENTICAL_KEEP:-0}" != 1 ]; then
	trap 'rm -rf "$tmp"' EXIT
fi

# build REF DIR - homa-sim of commit REF into DIR/build/bin.
build() {
	mkdir -p "$2"
	git archive "$1" | tar -x -C "$2"
	cmake -S "$2" -B "$2/build" -DCMAKE_BUILD_TYPE=Release \
		>"$2/configure.log" 2>&1 ||
		{ echo "configure of $1 failed: $2/configure.log" >&2; exit 2; }
	cmake --build "$2/build" --target homa-sim >"$2/build.log" 2>&1 ||
		{ echo "build of $1 failed: $2/build.log" >&2; exit 2; }
}

# run DIR - every run with DIR's homa-sim, outputs in DIR/out.
run() {
	local sim=$1/build/bin/homa-sim
	# The published matrix (plot.sh's exit status is not ours to judge).
	HOMA_SIM=$sim sim/run_published.sh "$1/out" "$workloads" "$loads" \
		"$configs" >/dev/null 2>&1 || true
	# A small faulty run: loss, duplicates, reordering, a crash, and the
	# idle diagnostics (sim_diag.c) on, with an explicit seed.
	"$sim" --topo rack:8 --workload w3 --load 0.7 --seed 12345 \
		--window-ms 3 --loss 0.002 --dup 0.001 --reorder 0.01 \
		--crash 3:2500:3000 --idle-diag-us 5 --no-progress \
		--json "$1/out/faulty.json" --csv "$1/out/faulty.csv" \
		>"$1/out/faulty.txt" 2>"$1/out/faulty.err" || true
	rm -f "$1"/out/*.png "$1"/out/*.err
}

echo "check-sim-identical: $base vs $head ($workloads x $loads x $configs)"
for side in base head; do
	ref=$base
	[ $side = head ] && ref=$head
	echo "== $side: $(git rev-parse --short "$ref"), building" >&2
	build "$ref" "$tmp/$side"
	echo "== $side: running" >&2
	run "$tmp/$side"
done
n=$(find "$tmp/head/out" -type f | wc -l)
for side in base head; do
	for f in "$tmp/$side"/out/*.txt; do
		if [ ! -s "$f" ]; then
			echo "check-sim-identical: $side run $(basename "$f") failed" >&2
			exit 2
		fi
	done
done
if [ "$n" -lt 4 ]; then
	echo "check-sim-identical: only $n output files, runs failed" >&2
	exit 2
fi
if diff -r "$tmp/base/out" "$tmp/head/out" >"$tmp/diff.txt"; then
	echo "check-sim-identical: $n output files byte-identical"
	exit 0
fi
head -40 "$tmp/diff.txt"
echo "check-sim-identical: outputs differ" >&2
exit 1
