#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# verdict.sh SOAK BIN - the memory rule of scripts/soak.sh on made-up
# samples (SOAK_JUDGE=1), one 160 s UDP phase of a server and a client:
#   flat                                  -> pass
#   RSS +1 MB after a 1.5 MB peak between two samples, seen only by
#     alloc_max_bytes (the library's high-water mark)   -> pass
#   the same samples without alloc_max_bytes            -> fail
#   RSS +1 MB with no new peak at all                   -> fail
#   RSS +1 MB after a peak seen in the first quarter    -> fail
#   RSS +1 MB while the core holds a 1 MB request (alloc_bytes and
#     tx_bytes +1 MB)                                   -> pass
#   the core's memory less tx_bytes +1 MB (RSS too)     -> fail
#   RSS +1 MB when one more thread reads packets (rx_buf_kb +1 MB)
#                                                       -> pass
# and its age rule (the server busy throughout):
#   a client RPC 12 s old (10 s allowed)                -> fail
#   the same while the server's threads waited 3 s for a CPU during
#     the phase (runq_ms)                               -> pass
set -u
SOAK=$1 BIN=$2
T=$(mktemp -d /tmp/homa-verdict.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0

# make DIR GROW_KB PEAK_S PEAK_BYTES WITH_MAX HELD SENDING RXBUF AGE RUNQ:
# samples (the client's oldest RPC AGE ms old at 130 s; the server's
# run-queue wait RUNQ ms by the end, from 0); and samples
# of one phase (RXBUF kB more receive buffers from 100 s on). The client's RSS (less its region) is 5,000 kB, GROW_KB
# more from 100 s on; its core holds 150 kB (HELD bytes more from 100 s
# on, SENDING of them in tx_bytes), and at PEAK_S (0 = never) PEAK_BYTES
# for less than a second (alloc_max_bytes only, if WITH_MAX).
make() {
	local d=$1
	mkdir -p "$d"
	printf 'udp server server 1\nudp client w4 2\n' >"$d/procs"
	echo 'homa(udp) workload w4 wait spin=50: 1600 rpcs, 0 errors, 1.0 Mbit/s' \
		>"$d/udp.w4.out"
	awk -v grow="$2" -v peak_s="$3" -v peak="$4" -v with_max="$5" \
		-v held="${6:-0}" -v sending="${7:-0}" -v rxbuf="${8:-0}" \
		-v age="${9:-0}" -v runq="${10:-0}" 'BEGIN {
		for (s = 1; s <= 160; s++) {
			printf "%d udp server server 1 4400 9 t_ms=%d client_rpcs=0 oldest_client_ms=0 server_rpcs=0 in_service=0 oldest_service_ms=0 overdue=0 overdue_total=0 served=%d alloc_bytes=150000 region_kb=1000%s runq_ms=%d\n", s, s * 1000, s * 10, with_max ? " alloc_max_bytes=150000" : "", runq * (s - 1) / 159
			rss = 6000 + (s >= 100 ? grow : 0)
			a = 150000 + (s >= 100 ? held : 0)
			tx = s >= 100 ? sending : 0
			amax = s == peak_s ? peak : a
			printf "%d udp client w4 2 %d 9 t_ms=%d client_rpcs=1 oldest_client_ms=%d requests=%d responses=%d alloc_bytes=%d region_kb=1000 tx_bytes=%d rx_buf_kb=%d%s\n", s, rss, s * 1000, s == 130 && age ? age : 1, s * 10, s * 10, a, tx, 1024 + (s >= 100 ? rxbuf : 0), with_max ? " alloc_max_bytes=" amax : ""
		}
	}' >"$d/samples.txt"
}

# expect NAME PASS|FAIL GROW_KB PEAK_S PEAK_BYTES WITH_MAX [HELD SENDING RXBUF
# AGE RUNQ]
expect() {
	local name=$1 want=$2 got out rc
	make "$T/$name" "$3" "$4" "$5" "$6" "${7:-0}" "${8:-0}" "${9:-0}" \
		"${10:-0}" "${11:-0}"
	out=$(SOAK_JUDGE=1 SOAK_OUT="$T/$name" SOAK_SECONDS=160 \
		SOAK_CONFIGS=udp HOMA_BIN="$BIN" "$SOAK" 2>&1)
	rc=$?
	# A fail must be the client's memory, not a broken script.
	case $rc in
	0) got=PASS ;;
	1) grep -q '^FAIL udp w4: ' <<<"$out" && got=FAIL || got="fail, not the client's memory" ;;
	*) got="exit $rc" ;;
	esac
	if [ "$got" = "$want" ]; then
		echo "ok   $name: $got"
	else
		echo "FAIL $name: $got, expected $want"
		echo "$out"
		fails=$((fails + 1))
	fi
}

expect flat PASS 0 0 0 1
expect peak_between_samples PASS 1000 120 1650000 1
expect peak_unseen_old_lines FAIL 1000 120 1650000 0
expect growth_no_peak FAIL 1000 0 0 1
expect peak_in_warmup FAIL 1000 20 1650000 1
expect request_held PASS 1000 0 0 1 1024000 1024000
expect core_grows FAIL 1000 0 0 1 1024000 0
expect new_reader PASS 1000 0 0 1 0 0 1024
expect old_rpc FAIL 0 0 0 1 0 0 0 12000 0
expect old_rpc_server_starved PASS 0 0 0 1 0 0 0 12000 3000
[ $fails = 0 ]
