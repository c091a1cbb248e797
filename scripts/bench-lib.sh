#!/usr/bin/env bash
# bench-lib.sh [SECONDS] - libhoma against its baselines, in one run:
# 100-byte round trips (closed loop, one outstanding) for plain UDP,
# TCP_NODELAY, Homa over UDP and Homa over raw IP 146, on loopback and
# across a veth pair between two namespaces; then 1 MB requests (10-byte
# responses, 1, 2 and 4 outstanding) for TCP and Homa. Prints P50/P99 and the ratios the issue
# asks for. Raw IP and veth need root (skipped otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
S=${1:-5}
B=$PWD/build/bin/homa-bench
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del hb-a 2>/dev/null || true
	ip netns del hb-b 2>/dev/null || true
}
trap cleanup EXIT

# run NS_SERVER NS_CLIENT ADDR LABEL PROTO [bench args...]: p50 p99
run() {
	local ns_s=$1 ns_c=$2 addr=$3 label=$4 proto=$5 port=$((6000 + RANDOM % 2000))
	shift 5
	local raw=""
	[ "$label" = homa-raw ] && raw=--raw
	$ns_s "$B" server --proto "$proto" $raw --port $port --resp-size "$RESP" &
	pids+=($!)
	sleep 0.5
	$ns_c "$B" client --proto "$proto" $raw --server "$addr:$port" \
		--calibrate 0 --seconds "$S" "$@" >/tmp/hb.$$ || true
	kill "${pids[-1]}" 2>/dev/null || true
	wait "${pids[-1]}" 2>/dev/null || true
	awk -v l="$label" 'NR == 1 { split($0, h, " "); mbps = $(NF-1) }
		NR == 3 { printf "%-10s p50 %8.1f us  p99 %8.1f us  %10.1f Mbit/s\n",
			  l, $3, $4, mbps }' /tmp/hb.$$
	rm -f /tmp/hb.$$
}

pingpong() { # PLACE NS_S NS_C ADDR
	local place=$1 s=$2 c=$3 a=$4
	echo "== 100-byte round trips, $place (${S}s each)"
	RESP=100
	for p in udp tcp homa homa-raw; do
		[ $p = homa-raw ] && [ "$(id -u)" -ne 0 ] && continue
		run "$s" "$c" "$a" $p "${p%-raw}" --workload 100 --outstanding 1
	done
}

pingpong loopback "" "" 127.0.0.1
if [ "$(id -u)" -eq 0 ]; then
	ip netns add hb-a
	ip netns add hb-b
	ip link add veth0 netns hb-a type veth peer name veth1 netns hb-b
	ip -n hb-a addr add 10.78.0.1/24 dev veth0
	ip -n hb-b addr add 10.78.0.2/24 dev veth1
	for n in hb-a hb-b; do
		ip -n $n link set lo up
	done
	ip -n hb-a link set veth0 up
	ip -n hb-b link set veth1 up
	sleep 1
	pingpong veth "ip netns exec hb-a" "ip netns exec hb-b" 10.78.0.1
fi
RESP=10
for o in 1 2 4; do
	echo "== 1 MB requests, 10-byte responses, loopback, $o outstanding"
	run "" "" 127.0.0.1 tcp tcp --workload 1000000 --outstanding $o
	run "" "" 127.0.0.1 homa homa --workload 1000000 --outstanding $o
done
# The same with 1500-byte packets, paced at the default 25 Gbit/s (as if
# the peer were across a NIC).
echo "== 1 MB requests, Homa with HOMA_PATH_MTU=0, 1 outstanding"
HOMA_PATH_MTU=0 \
	run "" "" 127.0.0.1 homa-1500 homa --workload 1000000 --outstanding 1
