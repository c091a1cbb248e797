#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# soak.sh [MINUTES] - run libhoma under mixed load for MINUTES (default 10;
# a fraction such as 1 or 0.5 works) and judge whether anything hangs,
# leaks or fails. SOAK_SECONDS overrides MINUTES.
#
# Up to four configurations run one after the other (each for a share of
# the time), each one homa-bench server and five clients: W4 open loop (SOAK_LOAD_MBPS, 200), W5 open loop (same),
# W3 closed loop with 8 outstanding, 100-byte messages closed loop with 4
# and 1,000,000-byte messages closed loop with 1:
#   udp       UDP datapath on loopback
#   raw       raw IP 146 on loopback (root)
#   udp-loss  UDP between two network namespaces, nftables dropping 1 %
#             of the Homa packets arriving in each (root, nft)
#   raw-loss  the same on the raw datapath
# (SOAK_CONFIGS picks some; those that cannot run are skipped, saying
# why.) Once a second it records, for every process, its RSS, its open
# descriptors and the library's HOMA_SAMPLE_FILE line (live client and
# server RPCs, the age of the oldest of each, overdue server RPCs,
# counters) into OUT/samples.txt (SOAK_OUT, default a new directory).
#
# Verdict (exit 0 = pass, 1 = fail):
#  - age: no client RPC older than the timeout (SOAK_TIMEOUT_TICKS,
#    1000 ticks of 1 ms: this shared machine stalls processes beyond the
#    library's default 100 ms) unless its
#    server was alive and busy in that second (it sent replies or held
#    requests in service: the request waits in its queue and RESENDs are
#    answered BUSY); none older than SOAK_MAX_AGE_MS (10000) plus the
#    time that the client and its server waited for a CPU during the
#    phase (each process's most waiting thread, runnable without a CPU:
#    /proc/PID/task/*/schedstat, recorded as runq_ms; an open loop
#    offers a starved server more than it serves, and the backlog ages:
#    raw-loss clients' oldest RPC 12-16 s at load 8, 19-23 s at load 17,
#    when the processes' threads waited most of the phase); no server
#    RPC overdue (in service over overdue_ticks, 1 s);
#  - memory: medians over the last quarter of the run against those over
#    the second (the first quarter is warm-up): (1) the core's own
#    allocations less the messages it holds to send (alloc_bytes -
#    tx_bytes: protocol state and messages received) grow under 5 %
#    (+ 64 kB); (2) RSS, without the receive region's
#    resident part (region_kb, by mincore; the region is written where
#    the pool puts messages, and a page once written stays resident, so
#    it follows the high-water mark of the pages in use, bounded by the
#    region; pool_kb of older samples), without the core's live
#    memory (alloc_bytes, resident while held) and without the
#    datapath's per-thread receive buffers (rx_buf_kb: about 1 MB for
#    each thread once it has read packets) grows under 5 % plus
#    the rise of the core's allocation high-water mark after the first
#    quarter over that of the first quarter (alloc_max_bytes: the
#    library's own mark between two lines, so a peak shorter than a
#    second counts too; the sampled alloc_bytes in older samples). The
#    allowance is for malloc, which keeps the heap pages freed to it
#    (blocks under the fixed mmap threshold, below): a server whose
#    backlog of RPCs peaks in a stall keeps that heap without any leak.
#    Growth that no new high-water mark of the library's live memory
#    explains fails. Judged when each configuration runs at least 120 s (before,
#    the quarters are too short to be past the warm-up). Descriptors grow
#    by at most the two raw ICMP sockets the library opens on first use;
#  - errors: 0 RPC errors without loss (with loss they are reported);
#  - every client finished and every server exited cleanly.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BIN=${HOMA_BIN:-$ROOT/build/bin}
BENCH=$BIN/homa-bench
MIN=${1:-10}
SECS=${SOAK_SECONDS:-$(awk -v m="$MIN" 'BEGIN { printf "%d", m * 60 }')}
LOAD=${SOAK_LOAD_MBPS:-200}
MAX_AGE=${SOAK_MAX_AGE_MS:-10000}
# The machine these runs share stalls whole processes for longer than
# the library's 100 ms timeout; the soak gives RPCs 1 s by default.
TIMEOUT_TICKS=${SOAK_TIMEOUT_TICKS:-1000}
TIMEOUT_MS=$TIMEOUT_TICKS
OUT=${SOAK_OUT:-$(mktemp -d /tmp/homa-soak.XXXXXX)}
# SOAK_JUDGE=1 with SOAK_OUT of a finished run: judge its samples again.
JUDGE_ONLY=${SOAK_JUDGE:-0}
CONFIGS=${SOAK_CONFIGS:-udp raw udp-loss raw-loss}
[ -x "$BENCH" ] || { echo "soak: $BENCH not built (make)"; exit 1; }
[ "$SECS" -ge 10 ] || { echo "soak: at least 10 seconds"; exit 1; }
mkdir -p "$OUT"

pids=() A= B=
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "$A" ] && nt_pair_down
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Which configurations can run here.
run=()
for cfg in $CONFIGS; do
	case $cfg in
	udp) run+=("$cfg") ;;
	raw | udp-loss | raw-loss)
		if [ "$(id -u)" != 0 ]; then
			echo "soak: skip $cfg: needs root"
		elif [[ $cfg == *loss ]] && ! command -v nft >/dev/null; then
			echo "soak: skip $cfg: nft (nftables) is not installed"
		else
			run+=("$cfg")
		fi
		;;
	*) echo "soak: unknown configuration $cfg"; exit 1 ;;
	esac
done
[ ${#run[@]} -gt 0 ] || { echo "soak: nothing to run"; exit 1; }

[ "$JUDGE_ONLY" = 1 ] || for cfg in "${run[@]}"; do
	[[ $cfg == *loss ]] || continue
	. "$ROOT/tests/net/netns_pair.sh"
	nt_pair_up soak
	for ns in "$A" "$B"; do
		ip netns exec "$ns" nft -f - <<-END
			table inet homa_soak {
				chain pre {
					type filter hook prerouting priority -300; policy accept;
					meta l4proto { udp, 146 } counter
					meta l4proto { udp, 146 } numgen random mod 100 < 1 counter drop
				}
			}
		END
	done
	break
done

# procs: "cfg role name pid" lines, for the sampler and the verdict.
[ "$JUDGE_ONLY" = 1 ] || : >"$OUT/procs"
start() { # start CFG ROLE NAME NETNS ARGS...
	local cfg=$1 role=$2 name=$3 ns=$4 pre=()
	shift 4
	[ -n "$ns" ] && pre=(ip netns exec "$ns")
	# One malloc arena (SOAK_ARENAS): each arena keeps freed memory of
	# its own, so with the threads of a process (application, sender,
	# background) RSS wanders by megabytes whatever the library does.
	# A fixed mmap threshold (SOAK_MMAP_THRESHOLD, bytes): glibc's
	# default one rises to the size of each large block freed, so after
	# the first 1 MB message every later one comes from the heap, which
	# keeps the pages of the largest backlog ever held (69 MB in a W4
	# client whose library held 145 kB); fixed, a block of 128 kB or more
	# is a mapping of its own, returned to the system when freed.
	"${pre[@]}" env HOMA_SAMPLE_FILE="$OUT/$cfg.$name.samples" \
		MALLOC_ARENA_MAX="${SOAK_ARENAS:-1}" \
		MALLOC_MMAP_THRESHOLD_="${SOAK_MMAP_THRESHOLD:-131072}" \
		HOMA_TIMEOUT_TICKS="$TIMEOUT_TICKS" \
		HOMA_PRINT_METRICS=1 "$BENCH" "$@" \
		>"$OUT/$cfg.$name.out" 2>"$OUT/$cfg.$name.err" &
	pids+=($!)
	echo "$cfg $role $name $!" >>"$OUT/procs"
}

# runq_ms PID: how long the thread of PID that waited most on the run
# queue (runnable, no CPU) has waited so far, ms (field 2 of
# /proc/PID/task/*/schedstat; 0 without it).
runq_ms() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null |
		awk '$2 > w { w = $2 } END { printf "%d", w / 1000000 }'
}
PHASE=$((SECS / ${#run[@]}))
echo "soak: ${run[*]}, one after the other, $PHASE s each;" \
	"open loop $LOAD Mbit/s; out $OUT"
fail=0
[ "$JUDGE_ONLY" = 1 ] || : >"$OUT/samples.txt"

# phase CFG: one server and its clients for PHASE seconds, sampled.
phase() {
	local cfg=$1 port=$((10000 + RANDOM % 20000)) opt=() sns= cns=
	local host=127.0.0.1 c t0 now alive rss fds line role name pid rc
	[[ $cfg == raw* ]] && opt=(--raw)
	[[ $cfg == *loss ]] && sns=$B cns=$A host=$net.2
	start "$cfg" server server "$sns" server --proto homa "${opt[@]}" \
		--port "$port"
	sleep 0.5
	c=(client --proto homa "${opt[@]}" --server "$host:$port"
		--seconds "$PHASE"
		--max-samples 65536)
	start "$cfg" client w4 "$cns" "${c[@]}" --workload w4 --load "$LOAD"
	start "$cfg" client w5 "$cns" "${c[@]}" --workload w5 --load "$LOAD"
	start "$cfg" client w3 "$cns" "${c[@]}" --workload w3 --outstanding 8
	start "$cfg" client small "$cns" "${c[@]}" --workload 100 \
		--outstanding 4
	start "$cfg" client 1mb "$cns" "${c[@]}" --workload 1000000 \
		--outstanding 1
	# One row per process per second:
	# "s cfg role name pid rss_kb fds k=v..." (s from the phase's start).
	t0=$(date +%s)
	while :; do
		now=$(($(date +%s) - t0))
		alive=0
		while read -r c role name pid; do
			[ "$c" = "$cfg" ] && [ -d /proc/$pid ] || continue
			[ "$role" = client ] && alive=1
			rss=$(awk '/^VmRSS/ { print $2 }' /proc/$pid/status \
				2>/dev/null)
			fds=$(ls /proc/$pid/fd 2>/dev/null | wc -l)
			line=$(tail -n 1 "$OUT/$cfg.$name.samples" 2>/dev/null)
			echo "$now $cfg $role $name $pid ${rss:-0} $fds $line" \
				"runq_ms=$(runq_ms "$pid")"
		done <"$OUT/procs" >>"$OUT/samples.txt"
		[ $alive = 0 ] && break
		if [ $now -gt $((PHASE + 60)) ]; then
			echo "FAIL $cfg: clients still running 60 s after the end"
			fail=1
			break
		fi
		sleep 1
	done
	while read -r c role name pid; do
		[ "$c" = "$cfg" ] && [ "$role" = server ] &&
			kill -INT "$pid" 2>/dev/null
	done <"$OUT/procs"
	sleep 2
	while read -r c role name pid; do
		[ "$c" = "$cfg" ] || continue
		if kill -0 "$pid" 2>/dev/null; then
			echo "FAIL $cfg $name: still running (killed)"
			kill -9 "$pid" 2>/dev/null
			fail=1
		fi
		wait "$pid" 2>/dev/null
		rc=$?
		[ $rc = 0 ] || { echo "FAIL $cfg $name: exit status $rc"; fail=1; }
	done <"$OUT/procs"
}

[ "$JUDGE_ONLY" = 1 ] || for cfg in "${run[@]}"; do
	phase "$cfg"
done
pids=()

# Client results and errors (0 required without loss).
while read -r cfg role name pid; do
	[ "$role" = client ] || continue
	res=$(grep -h '^homa.* workload' "$OUT/$cfg.$name.out")
	errs=$(echo "$res" | sed -n 's/.* \([0-9]*\) errors.*/\1/p')
	echo "     $cfg $name: ${res:-no result}"
	if [ -z "$res" ]; then
		fail=1
	elif [ "${errs:-1}" != 0 ] && [[ $cfg != *loss ]]; then
		echo "FAIL $cfg $name: $errs errors without loss"
		fail=1
	fi
done <"$OUT/procs"
[ -n "$A" ] && for ns in "$A" "$B"; do
	echo "     loss in $ns: $(ip netns exec "$ns" nft list chain inet homa_soak pre |
		awk '/counter/ { for (i = 1; i <= NF; i++) if ($i == "packets") printf "%s ", $(i + 1) }')(seen, dropped)"
done

# Ages, overdue RPCs, RSS and descriptors from the samples.
awk -v secs="$PHASE" -v judge_rss=$((PHASE >= 120)) -v tmo="$TIMEOUT_MS" -v max_age="$MAX_AGE" '
function kv(   i, a) {
	delete f
	for (i = 8; i <= NF; i++) { split($i, a, "="); f[a[1]] = a[2] }
}
{
	kv()
	s = $1; key = $2 " " $4
	# Run-queue wait in the phase (the most waiting thread), from its
	# first sample to its last: the server per configuration, each
	# client per key.
	if (!(("q0 " key) in rq)) rq["q0 " key] = f["runq_ms"]
	rq["q1 " key] = f["runq_ms"]
	if ($3 == "server") {
		srvkey[$2] = key
		busy[$2, s] = (f["in_service"] > 0 || f["served"] > served[$2])
		served[$2] = f["served"]
		if (f["overdue_total"] > overdue[$2]) overdue[$2] = f["overdue_total"]
		if (f["oldest_service_ms"] > srv_age[$2]) srv_age[$2] = f["oldest_service_ms"]
	} else {
		age = f["oldest_client_ms"] + 0
		if (age > maxage[key]) maxage[key] = age
		if (age > tmo) { over[key]++; late[key, s] = 1 }
	}
	# The receive region is counted apart: its resident part
	# (region_kb; older builds: pool_kb, the pages handed out); so is
	# the memory the core holds (alloc_bytes: a 1 MB message in flight
	# at the moment of the sample is resident), and so are the
	# per-thread receive buffers (rx_buf_kb: about 1 MB for each that has
	# read packets, from its first read). rest = what else the
	# process holds. core = the core without the messages it holds to
	# send (tx_bytes), whose mix varies from second to second.
	rss = $6
	reg = ("region_kb" in f) ? f["region_kb"] : f["pool_kb"]
	alloc = int(f["alloc_bytes"] / 1024)
	rest = rss - reg - alloc - f["rx_buf_kb"]
	core = int((f["alloc_bytes"] - f["tx_bytes"]) / 1024)
	# The high-water mark: that of the library (alloc_max_bytes, the
	# most the core held since the line before), else the sampled alloc_bytes.
	amax = ("alloc_max_bytes" in f) ? int(f["alloc_max_bytes"] / 1024) : alloc
	if (s <= secs / 4) {
		if (amax > peak1[key]) peak1[key] = amax
	} else if (amax > peak2[key]) {
		peak2[key] = amax
	}
	if (s > secs / 4 && s <= secs / 2) {
		q2[key] = q2[key] " " rest
		p2[key] = p2[key] " " reg
		a2[key] = a2[key] " " core
	} else if (s > 3 * secs / 4 && s <= secs) {
		q4[key] = q4[key] " " rest
		p4[key] = p4[key] " " reg
		a4[key] = a4[key] " " core
	}
	if (s <= secs / 2 || !(key in fd0)) fd0[key] = $7
	else if ($7 > fdtop[key]) fdtop[key] = $7
	keys[key] = 1
}
function median(list,   n, v, i, j, t) {
	n = split(list, v, " ")
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
		}
	return n ? v[int((n + 1) / 2)] + 0 : 0
}
END {
	fail = 0
	for (k in late) {
		split(k, p, SUBSEP); split(p[1], c, " ")
		if (!busy[c[1], p[2]] && !busy[c[1], p[2] - 1]) unexcused[p[1]]++
	}
	for (key in keys) {
		split(key, c, " ")
		m2 = median(q2[key]); m4 = median(q4[key])
		g = m2 > 0 ? 100 * (m4 - m2) / m2 : 0
		c2 = median(a2[key]); c4 = median(a4[key])
		# Growth that a new high-water mark of the core memory
		# explains (malloc keeps the pages it got back).
		hw = peak2[key] > peak1[key] ? peak2[key] - peak1[key] : 0
		mem_bad = (m4 - m2 >= 0.05 * m2 + hw) || (c4 - c2 >= 0.05 * c2 + 64)
		msg = sprintf("%s: rss-region-core-rxbuf %d -> %d kB (%+.1f %%; new core high-water %d kB), region %d -> %d kB, core less tx %d -> %d kB, fds %d -> %d",
			      key, m2, m4, g, hw, median(p2[key]), median(p4[key]),
			      c2, c4, fd0[key], fdtop[key])
		# The age bound widens by the time the client and its server
		# waited for a CPU during the phase: a starved server serves
		# an open loop less than it offers, and its backlog ages.
		sk = srvkey[c[1]]
		waited = (rq["q1 " key] - rq["q0 " key]) + (rq["q1 " sk] - rq["q0 " sk])
		age_max[key] = max_age + waited
		if (key in maxage)
			msg = msg sprintf(", oldest rpc %d ms (at most %d: %d + %d ms waited for a CPU), %d s over %d ms (%d with the server idle)",
					  maxage[key], age_max[key], max_age, waited, over[key], tmo, unexcused[key])
		else
			msg = msg sprintf(", overdue %d, oldest in service %d ms",
					  overdue[c[1]], srv_age[c[1]])
		if (fdtop[key] < fd0[key]) fdtop[key] = fd0[key]
		if (!judge_rss) msg = msg " (memory not judged: phase under 120 s)"
		# Up to two raw ICMP sockets open on first use (dp_icmp.c).
		bad = (judge_rss && mem_bad) || fdtop[key] > fd0[key] + 2 || maxage[key] > age_max[key] ||
		      unexcused[key] > 0 || (!(key in maxage) && overdue[c[1]] > 0)
		print (bad ? "FAIL " : "ok   ") msg
		if (bad) fail = 1
	}
	exit fail
}' "$OUT/samples.txt" >"$OUT/verdict" || fail=1
sort -k2 "$OUT/verdict"
if [ $fail = 0 ]; then
	echo "soak: PASS (${run[*]}, $SECS s; samples in $OUT)"
else
	echo "soak: FAIL (samples in $OUT)"
fi
exit $fail
