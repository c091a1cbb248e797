#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# bench-cluster.sh - Homa and TCP side by side on the emulated cluster
# (scripts/cluster.sh): host 1 serves, hosts 2..N send requests drawn from
# a workload at a share of the server's downlink, so that link is the
# bottleneck as in a rack. Every configuration gets an unloaded
# calibration run (for slowdown) and then the loaded run; results are
# merged into one table and JSON per configuration, and plotted.
#
#   scripts/bench-cluster.sh [--workload w4] [--load 80] [--seconds 30]
#       [--hosts 4] [--rate 200mbit] [--configs "homa8 homa1 tcp"]
#       [--out DIR] [--raw] [--rt] [--wait block|spin[=USECS]]
#
# --wait is homa-bench's waiting policy, the same for both protocols:
# block (the default here: the whole rack shares two vCPUs, and spinning
# receivers on four hosts would take the CPU from the senders) or spin.
#
# --rt runs every benchmark process (both protocols alike) with SCHED_FIFO
# priority 10, so the two vCPUs that carry the whole rack schedule them
# promptly; without it the tails mostly measure the CPU scheduler.
#
# Configurations: homa8 (Homa, 8 network priorities), homa1 (Homa with one
# priority: only its SRPT and grants), tcp (one TCP_NODELAY connection per
# client).
# Needs root; always tears the cluster down, also on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

WORKLOAD=w4 LOAD=80 SECONDS_RUN=30 HOSTS=4 RATE=200mbit
CONFIGS="homa8 tcp" OUT=build/cluster RAW="" CAL_SECONDS=6 RT="" WAIT=block
while [ $# -gt 0 ]; do
	case $1 in
	--workload) WORKLOAD=$2; shift 2 ;;
	--load) LOAD=$2; shift 2 ;;
	--seconds) SECONDS_RUN=$2; shift 2 ;;
	--hosts) HOSTS=$2; shift 2 ;;
	--rate) RATE=$2; shift 2 ;;
	--configs) CONFIGS=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--calibrate) CAL_SECONDS=$2; shift 2 ;;
	--raw) RAW=--raw; shift ;;
	--rt) RT="chrt -f 10"; shift ;;
	--wait) WAIT=$2; shift 2 ;;
	*) echo "bench-cluster.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
if [ "$(id -u)" -ne 0 ]; then
	echo "bench-cluster.sh: needs root for network namespaces" >&2
	exit 77
fi
if [ "$HOSTS" -lt 2 ]; then
	echo "bench-cluster.sh: --hosts must be at least 2" >&2
	exit 2
fi
BENCH=$PWD/build/bin/homa-bench
# Namespaces of our own (scripts/cluster.sh), not the default hc-*, which
# a concurrent test run may take down under us.
export HOMA_CLUSTER_PREFIX=${HOMA_CLUSTER_PREFIX:-hc$$}
[ -x "$BENCH" ] || { echo "bench-cluster.sh: build first (make)" >&2; exit 2; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	scripts/cluster.sh down || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rate_mbps() {
	local r=${1,,}
	case $r in
	*gbit) echo $((${r%gbit} * 1000)) ;;
	*mbit) echo "${r%mbit}" ;;
	*) echo "bench-cluster.sh: rate must be in mbit or gbit" >&2; exit 2 ;;
	esac
}
MBPS=$(rate_mbps "$RATE")
CLIENTS=$((HOSTS - 1))
# Offered load per client: the share of the server's downlink.
PER_CLIENT=$(awk -v m="$MBPS" -v l="$LOAD" -v c="$CLIENTS" \
	'BEGIN { printf "%.3f", m * l / 100 / c }')

# Homa tuned for the link: its rate for the pacer; unscheduled bytes near
# the bandwidth-delay product (about 400 us of round trip at 200 Mbit/s is
# 10 kB) and a few of them granted at once; timers scaled with the link
# (a queue of 100 packets is 6 ms here, longer than the default 5 ms
# before a RESEND, which would retransmit packets that are only queued).
# Waiting (poll_usecs) is set by homa-bench's --wait, as for TCP.
homa_env() { # $1 = number of priorities
	echo "HOMA_LINK_MBPS=$MBPS" \
		"HOMA_UNSCHED_BYTES=10000 HOMA_MAX_INCOMING=40000" \
		"HOMA_RESEND_TICKS=20 HOMA_RESEND_INTERVAL=20" \
		"HOMA_TIMEOUT_TICKS=2000 HOMA_NUM_PRIORITIES=$1"
}

# Elapsed time every 10 s while the clients (pids) run.
progress() {
	local t=0
	while kill -0 "$@" 2>/dev/null; do
		sleep 1
		t=$((t + 1))
		if [ $((t % 10)) -eq 0 ] && [ "$t" -lt "$SECONDS_RUN" ]; then
			echo "    ... $t of $SECONDS_RUN s"
		fi
	done
}

run_config() { # $1 = config name
	local cfg=$1 proto=homa envs="" port=4000 i
	case $cfg in
	homa8) envs=$(homa_env 8) ;;
	homa1) envs=$(homa_env 1) ;;
	tcp) proto=tcp ;;
	*) echo "bench-cluster.sh: unknown config $cfg" >&2; exit 2 ;;
	esac
	local raw=""
	[ "$proto" = homa ] && raw=$RAW
	scripts/cluster.sh exec 1 $RT env $envs HOMA_PRINT_METRICS=1 "$BENCH" \
		server --proto $proto $raw --port $port --wait "$WAIT" \
		>"$OUT/$cfg-server.log" 2>&1 &
	PIDS+=($!)
	sleep 0.5
	# Unloaded calibration from host 2, one RPC at a time (its output,
	# counters included, goes to a log: the table below is the result).
	echo "[$cfg] unloaded calibration, $CAL_SECONDS s ($(date -u +%H:%M:%S))"
	scripts/cluster.sh exec 2 $RT env $envs "$BENCH" client --proto $proto \
		$raw --server 10.77.0.1:$port --workload "$WORKLOAD" \
		--outstanding 1 --seconds 0.2 --calibrate "$CAL_SECONDS" \
		--wait "$WAIT" --save-calib "$OUT/$cfg-calib.txt" \
		>"$OUT/$cfg-calib.log" 2>&1
	local samples=() cpids=()
	for i in $(seq 2 "$HOSTS"); do
		scripts/cluster.sh exec "$i" $RT env $envs "$BENCH" client \
			--proto $proto $raw --server 10.77.0.1:$port \
			--workload "$WORKLOAD" --load "$PER_CLIENT" \
			--seconds "$SECONDS_RUN" --seed "$i" --wait "$WAIT" \
			--load-calib "$OUT/$cfg-calib.txt" \
			--samples "$OUT/$cfg-h$i.samples" \
			>"$OUT/$cfg-h$i.log" 2>&1 &
		cpids+=($!)
		samples+=(--samples "$OUT/$cfg-h$i.samples")
	done
	echo "[$cfg] loaded run: $CLIENTS clients for $SECONDS_RUN s ($(date -u +%H:%M:%S))"
	progress "${cpids[@]}"
	for p in "${cpids[@]}"; do wait "$p"; done
	kill "${PIDS[-1]}" 2>/dev/null || true
	wait "${PIDS[-1]}" 2>/dev/null || true
	"$BENCH" report --workload "$WORKLOAD" --label "$cfg" --wait "$WAIT" \
		--load-calib "$OUT/$cfg-calib.txt" --seconds "$SECONDS_RUN" \
		"${samples[@]}" --json "$OUT/$cfg.json" | tee "$OUT/$cfg.txt"
}

scripts/cluster.sh up "$HOSTS" "$RATE" 100
echo "workload $WORKLOAD at $LOAD% of $RATE ($CLIENTS clients x $PER_CLIENT Mbit/s" \
	"to host 1), $SECONDS_RUN s per configuration, --wait $WAIT for every" \
	"protocol"
for cfg in $CONFIGS; do
	case $cfg in
	homa8) echo "  homa8: Homa with 8 network priorities (DSCP, strict-priority queues)" ;;
	homa1) echo "  homa1: Homa with 1 priority (its SRPT and grants only)" ;;
	tcp) echo "  tcp:   TCP_NODELAY, one connection per client" ;;
	esac
done
for cfg in $CONFIGS; do
	run_config "$cfg"
done
PLOT_NOTE="$RATE links, $HOSTS hosts, --wait $WAIT${RT:+, --rt}, $(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
	scripts/plot-slowdown.sh "$OUT" "$WORKLOAD" "$LOAD" $CONFIGS
