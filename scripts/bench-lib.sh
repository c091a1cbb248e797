#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# bench-lib.sh - the measures users ask about, Homa against TCP (and plain
# UDP where it means something), every baseline in the same run, on the
# same path and with the same waiting policy (homa-bench --wait):
#
#   rtt    100-byte round trips, loopback and veth, both policies, with the
#          outside check of the baselines: sockperf (blocking) and
#          homa-pingpong (spinning), which homa-bench's TCP and UDP must
#          match within 15 %
#   mb     1 MB requests with 10-byte responses, 1, 2 and 4 outstanding;
#          the standard rows (tcp, homa) and, next to them, each sender
#          without its copy (tcp-zerocopy: MSG_ZEROCOPY; homa-nocopy:
#          HOMA_SENDMSG_NOCOPY), with the outside check of the TCP
#          baseline: iperf3 (one stream of 1 MB writes), which homa-bench's
#          TCP x1 must match within 15 % (skipped if iperf3 is missing)
#   tput   4 client processes x 16 outstanding 100-byte RPCs against one
#          single-threaded server: RPCs/s and the server's CPU per RPC
#   mem    one server, PEERS (10,000) client sockets in 4 processes,
#          one RPC each, then idle: server RSS and kernel socket memory
#          per peer (both ends: they share the host)
#   sys    system calls per RPC on each side (a separate run: perf stat on
#          the syscall tracepoints as root, else strace -c)
#
#   scripts/bench-lib.sh [--seconds S] [--wait "spin block"] [--runs N]
#       [--only "rtt mb tput mem sys"] [--out DIR]
#
# Prints one table; writes DIR/measures.csv and DIR/measures.json
# (default build/bench-lib) with the machine, date, commit and policy.
# Runs of different protocols alternate; --runs N repeats every measure.
# veth, raw IP and the kernel's slab figures need root (skipped otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
S=3 WAITS="spin block" RUNS=1 ONLY="rtt mb tput mem sys" OUT=build/bench-lib
PEERS=${PEERS:-10000}
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) S=$2; shift 2 ;;
	--wait) WAITS=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--only) ONLY=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	[0-9]*) S=$1; shift ;; # the old form: bench-lib.sh SECONDS
	*) echo "bench-lib.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
B=$PWD/build/bin/homa-bench
PP=$PWD/build/bin/homa-pingpong
[ -x "$B" ] && [ -x "$PP" ] || { echo "bench-lib.sh: build first (make)" >&2; exit 2; }
command -v sockperf >/dev/null || { echo "bench-lib.sh: sockperf missing (scripts/deps.sh net)" >&2; exit 2; }
ROOT=0
[ "$(id -u)" -eq 0 ] && ROOT=1
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
CSV=$OUT/measures.csv
TMP=$OUT/tmp.$$
mkdir -p "$TMP"
NSA=hbA$$ NSB=hbB$$
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ $ROOT = 1 ]; then
		ip netns del $NSA 2>/dev/null || true
		ip netns del $NSB 2>/dev/null || true
		ip netns del hbM$$ 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Homa's server ports are below 32768 (client ports are above).
port() { echo $((10000 + RANDOM % 22000)); }
has() { case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- src include tools 2>/dev/null || COMMIT="$COMMIT+dirty"
MACHINE="$(uname -n), $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), Linux $(uname -r)"
echo "machine: $MACHINE"
echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC'), commit $COMMIT, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "policy:  --wait $WAITS (spin: non-blocking reads for the budget, then block; block: no spin)"
echo "runs:    $RUNS, $S s each; protocols alternate within each run"
echo "measure,path,proto,wait,run,p50_us,p99_us,value,unit" >"$CSV"
row() { # measure path proto wait run p50 p99 value unit
	local IFS=,
	echo "$*" >>"$CSV"
	printf "  %-11s %-8s %-16s %-8s run %s  p50 %8s  p99 %8s  %12s %s\n" "$@"
}

# hb NS_S NS_C ADDR PROTO WAIT RESP [client args]: one homa-bench run;
# sets P50 P99 MBPS RPCS and SRV (the server's summary line).
hb() {
	local s=$1 c=$2 addr=$3 proto=$4 wait=$5 resp=$6 p raw="" nc="" sp
	shift 6
	p=$(port)
	[ "$proto" = homa-raw ] && raw=--raw && proto=homa
	# The client's --nocopy: Homa's HOMA_SENDMSG_NOCOPY, TCP's MSG_ZEROCOPY.
	[ "$proto" = homa-nocopy ] && nc=--nocopy && proto=homa
	[ "$proto" = tcp-zerocopy ] && nc=--nocopy && proto=tcp
	$s "$B" server --proto "$proto" $raw --port "$p" --resp-size "$resp" \
		--wait "$wait" 2>"$TMP/server.err" &
	sp=$!
	PIDS+=($sp)
	sleep 0.3
	$c "$B" client --proto "$proto" $raw --server "$addr:$p" --calibrate 0 \
		--seconds "$S" --wait "$wait" $nc "$@" >"$TMP/client.out" \
		2>"$TMP/client.err" || true
	kill "$sp" 2>/dev/null || true
	wait "$sp" 2>/dev/null || true
	read -r RPCS MBPS P50 P99 < <(awk 'NR == 1 { r = $(NF-5); m = $(NF-1) }
		NR == 3 { p50 = $3; p99 = $4 }
		END { printf "%s %s %s %s\n", r + 0, m + 0, p50 ? p50 : "-", p99 ? p99 : "-" }' \
		"$TMP/client.out")
	SRV=$(grep "homa-bench server" "$TMP/server.err" || true)
}

# sp NS_S NS_C ADDR udp|tcp: sockperf ping-pong (its blocking default);
# sets P50 P99.
sp() {
	local s=$1 c=$2 addr=$3 t="" p pid
	[ "$4" = tcp ] && t=--tcp
	p=$(port)
	$s sockperf server $t -i "$addr" -p "$p" >/dev/null 2>&1 &
	pid=$!
	PIDS+=($pid)
	sleep 0.5
	$c sockperf ping-pong $t -i "$addr" -p "$p" -t "$S" -m 100 --full-rtt \
		>"$TMP/sp.out" 2>&1 || true
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	P50=$(awk '/percentile 50.000/ { print $NF }' "$TMP/sp.out")
	P99=$(awk '/percentile 99.000/ { print $NF }' "$TMP/sp.out")
	P50=${P50:--} P99=${P99:--}
}

# pp NS_S NS_C ADDR udp|tcp: homa-pingpong, spinning; sets P50 P99.
pp() {
	local s=$1 c=$2 addr=$3 p pid
	p=$(port)
	$s "$PP" server "$4" "$p" spin &
	pid=$!
	PIDS+=($pid)
	sleep 0.3
	$c "$PP" client "$4" "$addr" "$p" "$S" spin >"$TMP/pp.out" 2>&1 || true
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	read -r P50 P99 < <(awk '/round trips/ { print $(NF-4), $(NF-1) }' "$TMP/pp.out")
	P50=${P50:--} P99=${P99:--}
}

# ip3 NS_S NS_C ADDR: iperf3, one TCP stream of 1 MB writes for S
# seconds (blocking sends); sets MBPS (the receiver's Mbit/s, - if
# iperf3 failed).
ip3() {
	local s=$1 c=$2 addr=$3 p pid
	p=$(port)
	$s iperf3 -s -1 -p "$p" >/dev/null 2>&1 &
	pid=$!
	PIDS+=($pid)
	sleep 0.3
	$c iperf3 -c "$addr" -p "$p" -l 1M -t "$S" -f m >"$TMP/ip3.out" 2>&1 || true
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	MBPS=$(awk '/ receiver$/ { print $(NF-2) }' "$TMP/ip3.out")
	MBPS=${MBPS:--}
}

# The outside check of one baseline: homa-bench's P50 within 15 % of
# the outside tool's; for a throughput (UNIT Mbit/s), its time per byte.
CHECKS=()
check() { # path proto wait ours theirs tool [UNIT]
	local v u=${7:-us}
	v=$(awk -v a="$4" -v b="$5" -v u="$u" 'BEGIN {
		if (u != "us") { t = a; a = b; b = t }
		if (a + 0 > 0 && b + 0 > 0)
			printf "%.2f %s", a / b, (a / b <= 1.15 ? "ok" : "MISSED");
		else print "- -" }')
	CHECKS+=("$1 $2 --wait $3: homa-bench $4 $u, $6 $5 $u, ratio $v")
	row check "$1" "$2" "$3" "-" "$4" "$5" "${v% *}" "ratio_to_$6"
}

declare -A RTT
rtt() { # PLACE NS_S NS_C ADDR
	local place=$1 s=$2 c=$3 a=$4 run w proto
	echo "== 100-byte round trips, $place"
	for run in $(seq "$RUNS"); do
		for w in $WAITS; do
			for proto in udp tcp homa homa-raw; do
				[ $proto = homa-raw ] && [ $ROOT = 0 ] && continue
				hb "$s" "$c" "$a" $proto "$w" 100 --workload 100 \
					--outstanding 1
				row rtt "$place" $proto "$w" "$run" "$P50" "$P99" "$RPCS" rpcs
				RTT[$place.$proto.$w.$run]=$P50
			done
			for proto in udp tcp; do
				if [ "$w" = block ]; then
					sp "$s" "$c" "$a" $proto
					row rtt "$place" "sockperf-$proto" block "$run" "$P50" "$P99" - -
					check "$place" $proto block "${RTT[$place.$proto.block.$run]}" "$P50" sockperf
				else
					pp "$s" "$c" "$a" $proto
					row rtt "$place" "pingpong-$proto" spin "$run" "$P50" "$P99" - -
					check "$place" $proto "$w" "${RTT[$place.$proto.$w.$run]}" "$P50" homa-pingpong
				fi
			done
			for proto in tcp udp; do
				awk -v h="${RTT[$place.homa.$w.$run]}" -v b="${RTT[$place.$proto.$w.$run]}" \
					-v p=$proto 'BEGIN { if (h > 0 && b > 0) printf "  Homa / %s P50: %.2f\n", p, h / b }'
			done
		done
	done
}

mb() { # PLACE NS_S NS_C ADDR
	local place=$1 s=$2 c=$3 a=$4 run o proto w=${WAITS%% *} TCP1=-
	command -v iperf3 >/dev/null || echo "(iperf3 missing: no outside check of TCP's 1 MB rows; scripts/deps.sh net)"
	echo "== 1 MB requests, 10-byte responses, $place, --wait $w (value: Mbit/s of requests)"
	for run in $(seq "$RUNS"); do
		for o in 1 2 4; do
			# The standard rows (tcp, homa: the sender copies),
			# then each protocol's no-copy send next to them.
			for proto in tcp homa tcp-zerocopy homa-nocopy; do
				hb "$s" "$c" "$a" $proto "$w" 10 --workload 1000000 \
					--outstanding $o
				row mb "$place" "$proto-x$o" "$w" "$run" "$P50" "$P99" "$MBPS" Mbit/s
				[ "$proto-x$o" = tcp-x1 ] && TCP1=$MBPS
			done
			if [ $o = 1 ] && command -v iperf3 >/dev/null; then
				ip3 "$s" "$c" "$a"
				row mb "$place" iperf3-tcp block "$run" - - "$MBPS" Mbit/s
				check "$place" tcp-x1-mb "$w" "$TCP1" "$MBPS" iperf3 Mbit/s
			fi
		done
	done
}

tput() { # 4 clients x 16 outstanding 100-byte RPCs, loopback
	local run w proto p sp i total cpu req
	echo "== small-RPC throughput: 4 client processes x 16 outstanding, 100 bytes, one server, loopback"
	for run in $(seq "$RUNS"); do
		for w in $WAITS; do
			for proto in tcp homa; do
				p=$(port)
				"$B" server --proto $proto --port "$p" --wait "$w" 2>"$TMP/server.err" &
				sp=$!
				PIDS+=($sp)
				sleep 0.3
				local cp=()
				for i in 1 2 3 4; do
					"$B" client --proto $proto --server 127.0.0.1:"$p" \
						--workload 100 --outstanding 16 --seconds "$S" \
						--calibrate 0 --wait "$w" --seed $i \
						>"$TMP/c$i.out" 2>/dev/null &
					cp+=($!)
				done
				for i in "${cp[@]}"; do wait "$i" || true; done
				kill "$sp" 2>/dev/null || true
				wait "$sp" 2>/dev/null || true
				total=$(awk 'FNR == 1 { n += $(NF-5) } END { print n + 0 }' "$TMP"/c[1-4].out)
				read -r req cpu < <(awk '/homa-bench server/ { print $(NF-7), $(NF-4) }' "$TMP/server.err")
				P50=$(awk 'FNR == 3 { print $3; exit }' "$TMP/c1.out")
				P99=$(awk 'FNR == 3 { print $4; exit }' "$TMP/c1.out")
				row tput loopback $proto "$w" "$run" "${P50:--}" "${P99:--}" \
					"$(awk -v n="$total" -v s="$S" 'BEGIN { printf "%.0f", n / s }')" rpcs/s
				row tput loopback "$proto-server" "$w" "$run" - - \
					"$(awk -v c="$cpu" -v r="$req" 'BEGIN { printf "%.2f", (r > 0 ? c / r : 0) }')" cpu_us/rpc
			done
		done
	done
}

# Kernel socket memory in bytes, in the namespace $1 runs in: its TCP and
# UDP sockets (sockstat's inuse, per namespace) times their slab object
# size (as root; /proc/slabinfo is unreadable otherwise). sockstat's
# buffer pages are host-wide, so other users' traffic would count: left
# out (idle sockets hold next to no buffers).
kmem() {
	local ts=0 us=0
	if [ -r /proc/slabinfo ]; then
		ts=$(awk '$1 == "TCP" { print $4 }' /proc/slabinfo)
		us=$(awk '$1 == "UDP" { print $4 }' /proc/slabinfo)
	fi
	$1 cat /proc/net/sockstat | awk -v ts="${ts:-0}" -v us="${us:-0}" '
		/^(TCP|UDP):/ { for (i = 2; i < NF; i++) {
			if ($i == "mem") m += $(i+1)
			if ($i == "inuse") n[$1] += $(i+1) } }
		END { printf "%.0f\n", n["TCP:"] * ts + n["UDP:"] * us }'
}

# One server, PEERS client sockets in PEER_PROCS (4) processes, each
# after one RPC, idle. As root in a namespace of its own, so that sockstat
# counts only these sockets. (A libhoma socket holds 3 kernel sockets, so
# 10,000 of them need 30,000 descriptors: spread over processes.)
mem() {
	local proto p sp r0 r1 k0 k1 i n ns="" NSM=hbM$$ procs=${PEER_PROCS:-4}
	local per=$((PEERS / procs))
	echo "== memory per peer: one server, $PEERS client sockets in $procs processes, one RPC each, then idle (loopback)"
	# The TCP server holds PEERS sockets, a peers process 3 per Homa peer.
	ulimit -n $((PEERS + 3 * per + 400)) 2>/dev/null || {
		echo "  cannot raise the open files limit to $((PEERS + 3 * per + 400)): skipped"
		return
	}
	if [ $ROOT = 1 ]; then
		ip netns add $NSM
		ip -n $NSM link set lo up
		ns="ip netns exec $NSM"
	fi
	for proto in tcp homa; do
		p=$(port)
		$ns "$B" server --proto $proto --port "$p" --wait block 2>/dev/null &
		sp=$!
		PIDS+=($sp)
		sleep 0.5
		# One peer first, not counted: the server's one-time costs of
		# its first RPC (its receive thread's buffers, its first pool
		# pages, TCP's accept path) are not per peer.
		$ns "$B" peers --proto $proto --server 127.0.0.1:"$p" \
			--count 1 >"$TMP/warm.out" 2>&1 &
		i=$!
		for n in $(seq 100); do
			grep -q idle "$TMP/warm.out" 2>/dev/null && break
			sleep 0.1
		done
		kill "$i" 2>/dev/null || true
		wait "$i" 2>/dev/null || true
		sleep 0.5
		r0=$(awk '/VmRSS/ { print $2 }' /proc/$sp/status)
		k0=$(kmem "$ns")
		local cp=()
		rm -f "$TMP"/peers*.out
		for i in $(seq "$procs"); do
			$ns "$B" peers --proto $proto --server 127.0.0.1:"$p" \
				--count "$per" >"$TMP/peers$i.out" 2>"$TMP/peers$i.err" &
			cp+=($!)
			PIDS+=($!)
		done
		for n in $(seq 900); do
			[ "$(cat "$TMP"/peers*.out 2>/dev/null | awk '/idle/ { c++ } END { print c + 0 }')" -ge "$procs" ] && break
			sleep 0.2
		done
		sleep 1
		r1=$(awk '/VmRSS/ { print $2 }' /proc/$sp/status)
		k1=$(kmem "$ns")
		n=$(awk '{ n += $2 } END { print n + 0 }' "$TMP"/peers*.out)
		cat "$TMP"/peers*.err >&2
		for i in "${cp[@]}"; do kill "$i" 2>/dev/null || true; done
		for i in "${cp[@]}"; do wait "$i" 2>/dev/null || true; done
		kill "$sp" 2>/dev/null || true
		wait "$sp" 2>/dev/null || true
		row mem loopback "$proto-server-rss" block - - - \
			"$(awk -v a="$r0" -v b="$r1" -v n="${n:-0}" 'BEGIN { printf "%.0f", (n ? (b - a) * 1024 / n : 0) }')" "bytes/peer($n)"
		row mem loopback "$proto-kernel" block - - - \
			"$(awk -v a="$k0" -v b="$k1" -v n="${n:-0}" 'BEGIN { printf "%.0f", (n ? (b - a) / n : 0) }')" "bytes/peer($n; both ends)"
	done
	[ -n "$ns" ] && ip netns del $NSM
}

# Separate counting run, 1 s of ping-pong: the kernel counts every system
# call of both sides (perf stat on the syscall tracepoints, root), at no
# cost to the processes; strace -c, the fallback, slows every call so
# much that a spin overruns its budget and sleeps (more calls). Besides
# the total, the calls issue 14 wants off the fast path: futex, signal
# masks, fcntl (rows sys-futex, sys-sigmask, sys-fcntl).
SYS_EV=
if [ $ROOT = 1 ] && perf stat -e syscalls:sys_enter_futex -- true >/dev/null 2>&1; then
	SYS_EV="raw_syscalls:sys_enter,syscalls:sys_enter_futex,syscalls:sys_enter_rt_sigprocmask,syscalls:sys_enter_fcntl"
fi
# syscount OUT: the counter (perf) or strace command that writes OUT.
syscount() {
	if [ -n "$SYS_EV" ]; then
		echo perf stat -x, -e "$SYS_EV" -o "$1" --
	else
		echo strace -f -c -o "$1"
	fi
}
sys() {
	local w proto p st srv side f
	if [ -n "$SYS_EV" ]; then
		echo "== system calls per RPC (perf stat on the syscall tracepoints, separate runs; context switches are in the timed runs' JSON)"
	elif command -v strace >/dev/null; then
		echo "== system calls per RPC (strace -c, separate runs: strace slows the calls, a spin then overruns its budget)"
	else
		echo "  neither perf (root) nor strace: skipped"
		return
	fi
	for w in $WAITS; do
		for proto in udp tcp homa; do
			p=$(port)
			$(syscount "$TMP/ser.count") "$B" server --proto $proto \
				--port "$p" --wait "$w" 2>/dev/null &
			st=$!
			PIDS+=($st)
			sleep 0.5
			$(syscount "$TMP/cli.count") "$B" client --proto $proto \
				--server 127.0.0.1:"$p" --workload 100 --outstanding 1 \
				--seconds 1 --calibrate 0 --wait "$w" >"$TMP/client.out" 2>/dev/null || true
			# Stop the counted server itself, so the counter writes.
			srv=$(ps -o pid= --ppid "$st" | head -1)
			[ -n "$srv" ] && kill -INT $srv 2>/dev/null || true
			wait "$st" 2>/dev/null || true
			RPCS=$(awk 'NR == 1 { print $(NF-5) + 0 }' "$TMP/client.out")
			for side in client server; do
				f=$TMP/${side:0:3}.count
				if [ -n "$SYS_EV" ]; then
					while read -r k v; do
						row "$k" loopback "$proto-$side" "$w" - - - "$v" syscalls/rpc
					done < <(awk -F, -v n="$RPCS" '
						$3 ~ /raw_syscalls/ { k = "sys" }
						$3 ~ /futex/ { k = "sys-futex" }
						$3 ~ /sigprocmask/ { k = "sys-sigmask" }
						$3 ~ /fcntl/ { k = "sys-fcntl" }
						$3 ~ /sys_enter/ { printf "%s %.2f\n", k, n ? $1 / n : 0 }' "$f")
				else
					row sys loopback "$proto-$side" "$w" - - - \
						"$(awk -v n="$RPCS" '$NF == "total" { c = NF == 6 ? $(NF-2) : $(NF-1)
							printf "%.2f", n ? c / n : 0 }' "$f")" syscalls/rpc
				fi
			done
		done
	done
}

if has rtt; then rtt loopback "" "" 127.0.0.1; fi
if [ $ROOT = 1 ] && { has rtt || has mb; }; then
	ip netns add $NSA
	ip netns add $NSB
	ip link add hbv$$a netns $NSA type veth peer name hbv$$b netns $NSB
	ip -n $NSA addr add 10.78.0.1/24 dev hbv$$a
	ip -n $NSB addr add 10.78.0.2/24 dev hbv$$b
	for n in $NSA $NSB; do ip -n $n link set lo up; done
	ip -n $NSA link set hbv$$a up
	ip -n $NSB link set hbv$$b up
	sleep 1
	VA="ip netns exec $NSA" VB="ip netns exec $NSB"
	if has rtt; then rtt veth "$VA" "$VB" 10.78.0.1; fi
elif [ $ROOT = 0 ]; then
	echo "(not root: no veth pair, no raw IP)"
fi
if has mb; then
	mb loopback "" "" 127.0.0.1
	if [ $ROOT = 1 ]; then mb veth "$VA" "$VB" 10.78.0.1; fi
fi
if has tput; then tput; fi
if has mem; then mem; fi
if has sys; then sys; fi
if [ ${#CHECKS[@]} -gt 0 ]; then
	echo "== the baselines against the outside tools (P50 or time per byte, homa-bench / tool, must be <= 1.15)"
	printf '  %s\n' "${CHECKS[@]}"
fi
# The same rows as JSON, with the conditions.
awk -F, -v m="$MACHINE" -v d="$(date -u '+%Y-%m-%dT%H:%MZ')" -v c="$COMMIT" \
	-v w="$WAITS" -v s="$S" -v l="$(cut -d' ' -f1-3 /proc/loadavg)" '
	NR == 1 { for (i = 1; i <= NF; i++) k[i] = $i
		  printf "{\"machine\": \"%s\", \"date\": \"%s\", \"commit\": \"%s\", \"wait\": \"%s\", \"seconds\": %s, \"loadavg\": \"%s\", \"rows\": [", m, d, c, w, s, l
		  next }
	{ printf "%s\n  {", (NR > 2 ? "," : "")
	  for (i = 1; i <= NF; i++) {
		v = $i
		if (v ~ /^-?[0-9.]+$/ && v != "-") printf "%s\"%s\": %s", (i > 1 ? ", " : ""), k[i], v
		else printf "%s\"%s\": \"%s\"", (i > 1 ? ", " : ""), k[i], v
	  }
	  printf "}" }
	END { print "\n]}" }' "$CSV" >"$OUT/measures.json"
echo "written: $CSV and $OUT/measures.json"
