#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# bench-instr.sh [SECONDS] - user-space instructions per 100-byte RPC on
# each side of a loopback ping-pong, Homa against plain UDP in the same
# run (valgrind callgrind: repeatable on a loaded machine, where times
# are not). homa-bench runs with --wait block by default, so no spin is
# counted.
#
#   api    instructions inside the protocol's calls: Homa's homa_request/
#          homa_recvmsg (client) and homa_recvmsg/homa_reply (server);
#          UDP's send/recv and recvfrom/sendto. The calls' own waits in
#          the kernel are not instructions of the process.
#   bg     libhoma's background thread (all of its instructions).
#
# valgrind runs one thread at a time, 20-50 times slower, so the
# background thread's share is larger than natively: read it as an upper
# bound. The api column is what the fast path costs.
# BENCH_INSTR_BIN=PATH counts another build's homa-bench (a baseline in
# the same minutes), e.g. BENCH_INSTR_BIN=/work/base7/bin/homa-bench.
# BENCH_INSTR_WAIT=spin counts the spinning path instead (--wait spin:
# the spin's empty reads are counted too, so runs vary a little more).
set -euo pipefail
cd "$(dirname "$0")/.."
S=${1:-4}
B=${BENCH_INSTR_BIN:-$PWD/build/bin/homa-bench}
W=${BENCH_INSTR_WAIT:-block}
case $W in block | spin) ;; *) echo "bench-instr.sh: BENCH_INSTR_WAIT is block or spin" >&2; exit 2 ;; esac
[ -x "$B" ] || { echo "bench-instr.sh: build first (make)" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "bench-instr.sh: valgrind missing" >&2; exit 2; }
TMP=$(mktemp -d)
SP=
cleanup() {
	[ -n "$SP" ] && kill "$SP" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Instructions of the profile FILE (all threads' parts: FILE-*).
total() {
	local t=0 f n
	for f in "$1"*; do
		n=$(awk '/^summary:/ { print $2 }' "$f")
		t=$((t + ${n:-0}))
	done
	echo $t
}

# run PROTO CLIENT_FUNS SERVER_FUNS
run() {
	local proto=$1 cfun=$2 sfun=$3 p rpcs served tog c s f bg=0
	p=$((10000 + RANDOM % 22000))
	tog=()
	for f in $sfun; do tog+=(--toggle-collect="$f"); done
	valgrind --tool=callgrind --separate-threads=yes "${tog[@]}" \
		--callgrind-out-file="$TMP/srv.$proto" \
		"$B" server --proto "$proto" --port "$p" --wait "$W" \
		>/dev/null 2>"$TMP/srv.$proto.log" &
	SP=$!
	sleep 2
	tog=()
	for f in $cfun; do tog+=(--toggle-collect="$f"); done
	valgrind --tool=callgrind "${tog[@]}" \
		--callgrind-out-file="$TMP/cli.$proto" \
		"$B" client --proto "$proto" --server 127.0.0.1:"$p" \
		--workload 100 --outstanding 1 --seconds "$S" --wait "$W" \
		--calibrate 0 >"$TMP/cli.$proto.out" 2>/dev/null
	# The server's own process is valgrind's child of the same pid.
	kill -INT "$SP" 2>/dev/null || true
	wait "$SP" 2>/dev/null || true
	SP=
	rpcs=$(awk 'NR == 1 { print $(NF-5) + 0 }' "$TMP/cli.$proto.out")
	served=$(awk '/requests/ { for (i = 1; i <= NF; i++) if ($i ~ /^requests/) print $(i-1) + 0 }' "$TMP/srv.$proto.log" | tail -1)
	[ "${rpcs:-0}" -gt 0 ] && [ "${served:-0}" -gt 0 ] ||
		{ echo "bench-instr.sh: $proto run failed" >&2; cat "$TMP/srv.$proto.log" >&2; exit 1; }
	c=$(total "$TMP/cli.$proto")
	s=$(total "$TMP/srv.$proto-01")
	# The server's other threads: libhoma's background thread.
	for f in "$TMP/srv.$proto"-0[2-9]; do
		[ -e "$f" ] && bg=$((bg + $(total "$f")))
	done
	printf '%-5s %8d %10d %10d %10d\n' "$proto" "$rpcs" $((c / rpcs)) \
		$((s / served)) $((bg / served))
}

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), load average $(cut -d' ' -f1-3 /proc/loadavg)${BENCH_INSTR_BIN:+, binary $B}"
echo "user-space instructions per 100-byte RPC (callgrind, loopback, --wait $W, ${S} s)"
printf '%-5s %8s %10s %10s %10s\n' proto rpcs client_api server_api server_bg
run udp "bu_send bu_recv" "recvfrom sendto"
run homa "homa_request homa_recvmsg" "homa_recvmsg homa_reply homa_lib_bg_main"
