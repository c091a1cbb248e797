#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# run.sh BINARY CORPUS SECONDS - run one libFuzzer target for a bounded time
# on a scratch copy of its committed seed corpus. Fails on any finding and
# prints the number of executions reached.
set -u
bin=$1; corpus=$2; secs=${HOMA_FUZZ_SECONDS:-$3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$work/corpus"
[ -d "$corpus" ] && cp -r "$corpus/." "$work/corpus/" 2>/dev/null
"$bin" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$work/" \
	"$work/corpus" >"$work/log" 2>&1
rc=$?
grep -E 'stat::number_of_executed_units|ERROR|SUMMARY|runtime error' "$work/log"
if [ $rc -ne 0 ]; then
	tail -n 40 "$work/log"
	echo "fuzz: $bin failed (exit $rc)"
	exit 1
fi
echo "fuzz: $(basename "$bin") ran ${secs}s without findings"
