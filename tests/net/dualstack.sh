#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# dualstack.sh ECHO_SERVER ECHO_CLIENT - an AF_INET6 Homa server answers
# IPv4 clients through their IPv4-mapped addresses, on both datapaths
# (loopback). Before the fix its homa_reply failed with EAFNOSUPPORT and
# each client waited forever, answered BUSY. Every client must finish in
# 10 s (it needs well under one). Raw needs root: skipped without it.
set -u
SERVER=$1
CLIENT=$2
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail=0
for dp in udp raw; do
	opt=()
	if [[ $dp == raw ]]; then
		if [[ $(id -u) != 0 ]]; then
			echo "skip raw: needs root"
			continue
		fi
		opt=(--raw)
	fi
	port=$((10000 + RANDOM % 20000))
	"$SERVER" "${opt[@]}" --ipv6 "$port" &
	pids+=($!)
	sleep 0.3
	for host in 127.0.0.1 ::1 127.0.0.1; do
		out=$(timeout 10 "$CLIENT" "${opt[@]}" "$host" "$port" 20 \
			3000 2>&1)
		rc=$?
		if [[ $rc == 0 && $out == ok* ]]; then
			echo "ok   $dp $host -> [::]:$port: $out"
		else
			echo "FAIL $dp $host -> [::]:$port: rc $rc: $out"
			fail=1
		fi
	done
done
exit $fail
