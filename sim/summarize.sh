#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# summarize.sh RESULTS - one CSV line per run in RESULTS (the JSON files
# homa-sim --json wrote, named WORKLOAD-LOAD-CONFIG.json): the smallest
# bucket's P50/P99/P99.9 slowdown, the largest P99 over all buckets,
# achieved utilization of host downlinks and goodput in the window,
# buffer drops, window requests still unfinished, and whether every
# end-of-run check passed. Needs jq.
set -eu
dir=${1:?usage: summarize.sh RESULTS}
echo "workload,load,config,short_p50,short_p99,short_p999,max_p99,host_down_util,goodput,drops,unfinished,timeouts,ok"
for f in "$dir"/w*.json; do
	n=$(basename "$f" .json)
	w=$(echo "$n" | cut -d- -f1)
	l=$(echo "$n" | cut -d- -f2)
	c=$(echo "$n" | cut -d- -f3)
	jq -r --arg w "$w" --arg l "$l" --arg c "$c" '[$w, $l, $c,
	  .buckets[0].p50, .buckets[0].p99, .buckets[0].p999,
	  ([.buckets[].p99] | max), .utilization.host_down,
	  .utilization.goodput, .packets.dropped,
	  .rpcs.measured_unfinished, .rpcs.timed_out, .ok] | @csv' "$f" |
		tr -d '"'
done
