#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# bench-syscalls.sh [--rounds N] [--wait spin|block] [--pin CPU] [BINDIR...]
# - how long each system call of a 100-byte loopback ping-pong takes in
# the kernel, on the server and on the client: homa-bench --proto homa
# of each BINDIR (default build/bin; give main's too to compare) and
# --proto udp of the first, alternating, N rounds (default 3). perf
# record on the raw_syscalls tracepoints of each process for 0.3 s in
# the middle of a 2 s run; prints the P50 duration of every system call
# (ok: it returned >= 0, err: it failed, e.g. EAGAIN) and the round
# trip's P50. --pin CPU runs both ends on that CPU: each spin yields to
# the other, a steadier regime on a loaded machine (P50s then include
# the other side's run time). Needs root (perf on the tracepoints).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=3 WAIT=spin PIN="" BINS=()
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) ROUNDS=$2; shift 2 ;;
	--wait) WAIT=$2; shift 2 ;;
	--pin) PIN="taskset -c $2"; shift 2 ;;
	-*) echo "bench-syscalls.sh: unknown option $1" >&2; exit 2 ;;
	*) BINS+=("$1"); shift ;;
	esac
done
[ ${#BINS[@]} -gt 0 ] || BINS=(build/bin)
[ "$(id -u)" -eq 0 ] || { echo "bench-syscalls.sh: needs root (perf)" >&2; exit 2; }
command -v perf >/dev/null || { echo "bench-syscalls.sh: perf missing" >&2; exit 2; }
TMP=$(mktemp -d)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT

# The P50 duration of each (system call, ok/err) in a perf record file.
durations() {
	perf script --ns -i "$1" 2>/dev/null | awk '
	{
		for (i = 1; i <= NF; i++) if ($i ~ /^raw_syscalls:sys_/) break
		if (i > NF) next
		tid = $2; t = $(i - 1); sub(/:$/, "", t); nr = $(i + 2)
		if ($i ~ /enter/) { st[tid] = t; sn[tid] = nr; next }
		if (!(tid in st) || sn[tid] != nr) next
		printf "%s %s %.3f\n", nr, ($NF + 0 >= 0 ? "ok" : "err"), (t - st[tid]) * 1e6
		delete st[tid]
	}' | sort -k1,1n -k2,2 -k3,3n | awk '
	BEGIN {
		split("44 sendto 45 recvfrom 46 sendmsg 47 recvmsg 299 recvmmsg 307 sendmmsg 24 sched_yield 233 epoll_ctl 441 epoll_pwait2 271 ppoll 14 rt_sigprocmask 202 futex", a, " ")
		for (i = 1; i in a; i += 2) name[a[i]] = a[i + 1]
	}
	function out() {
		if (m >= 100)
			printf " %s %s n=%d p50=%.2f us;", (nr in name ? name[nr] : nr), ok, m, v[int((m + 1) / 2)]
	}
	$1 != nr || $2 != ok { out(); nr = $1; ok = $2; m = 0 }
	{ v[++m] = $3 }
	END { out() }'
}

# run BINDIR PROTO: one measured ping-pong.
run() {
	local b=$1/homa-bench proto=$2 p=$((20000 + RANDOM % 12000)) sp cp pp
	$PIN "$b" server --proto "$proto" --port $p --wait "$WAIT" 2>/dev/null &
	sp=$!
	PIDS+=($sp)
	sleep 0.3
	$PIN "$b" client --proto "$proto" --server 127.0.0.1:$p --workload 100 \
		--outstanding 1 --seconds 2 --calibrate 0 --wait "$WAIT" \
		>"$TMP/out" 2>/dev/null &
	cp=$!
	sleep 0.8
	perf record -q -e raw_syscalls:sys_enter,raw_syscalls:sys_exit -p $sp \
		-o "$TMP/s.data" -- sleep 0.3 >/dev/null 2>&1 &
	pp=$!
	perf record -q -e raw_syscalls:sys_enter,raw_syscalls:sys_exit -p $cp \
		-o "$TMP/c.data" -- sleep 0.3 >/dev/null 2>&1 || true
	wait $pp || true
	wait $cp || true
	kill -INT $sp 2>/dev/null || true
	wait $sp 2>/dev/null || true
	echo "$1 $proto --wait $WAIT: round trip $(awk 'NR == 3 { printf "p50 %s p99 %s us", $3, $4 }' "$TMP/out")"
	echo "  server:$(durations "$TMP/s.data")"
	echo "  client:$(durations "$TMP/c.data")"
}

echo "# $(date -u '+%F %T UTC'), $(git rev-parse --short HEAD 2>/dev/null || echo ?), $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$ROUNDS"); do
	for b in "${BINS[@]}"; do run "$b" homa; done
	run "${BINS[0]}" udp
done
