#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# loopback.sh RPC_PEER DATAPATH FAMILY [COUNT] - two processes on loopback:
# an rpc_peer server and an rpc_peer client running COUNT (10,000) RPCs
# over DATAPATH (udp or raw) and FAMILY (4 or 6), every byte checked by
# both ends, then the server's report checked: each request handed to the
# server exactly once. Size mix (net_util.c, NT_MIX_LOOPBACK): serials 0-3
# pin 1 B/1 B, 1 MB/1 MB, 16 B/1 MB and 1 MB/1 B; otherwise requests and
# responses are drawn independently: 90% 1-1,000 B, 8% 1,001-100,000 B,
# 2% 100,001-1,000,000 B (requests under 16 B are echoed byte for byte).
# raw needs root: skipped (77) without it unless HOMA_REQUIRE_ROOT=1.
# It judges the transfer, not the timeout: on a loaded host a process can
# go without a CPU past the default 100 ms (one run in 10 under load
# failed so: 'recv: Connection timed out' after 4,383 RPCs), and a peer
# silent that long is timed out by design. Both processes get 1 s, as in
# loss.sh (docs/protocol-notes.md, "A peer that does not get the CPU").
set -u
export HOMA_TIMEOUT_TICKS=1000
PEER=$1 DP=$2 FAM=$3 COUNT=${4:-10000}
host=127.0.0.1 v6=
[ "$FAM" = 6 ] && { host=::1; v6=--ipv6; }
raw=
if [ "$DP" = raw ]; then
	raw=--raw
	if [ "$(id -u)" != 0 ]; then
		if [ "${HOMA_REQUIRE_ROOT:-0}" = 1 ]; then
			echo "FAIL: raw datapath needs root, HOMA_REQUIRE_ROOT=1"
			exit 1
		fi
		echo "SKIP: raw datapath needs root"
		exit 77
	fi
fi
if [ "$FAM" = 6 ] && ! ip -6 addr show dev lo 2>/dev/null | grep -q '::1'; then
	echo "SKIP: no IPv6 on loopback"
	exit 77
fi
out=$(mktemp -d)
spid=
cleanup() {
	[ -n "$spid" ] && kill -9 "$spid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

"$PEER" server $raw $v6 >"$out/server" 2>&1 &
spid=$!
for _ in $(seq 100); do
	grep -q '^port ' "$out/server" 2>/dev/null && break
	kill -0 "$spid" 2>/dev/null || break
	sleep 0.05
done
port=$(awk '/^port /{print $2}' "$out/server")
if [ -z "$port" ]; then
	echo "FAIL: server did not start"; cat "$out/server"; exit 1
fi
echo "$DP IPv$FAM: $COUNT RPCs to [$host]:$port"
start=$(date +%s%N)
timeout 240 "$PEER" client $raw --window 8 --mix loopback "$host" "$port" "$COUNT"
rc=$?
echo "wall $(( ($(date +%s%N) - start) / 1000000 )) ms"
if ! kill -0 "$spid" 2>/dev/null; then
	echo "FAIL: server died"; rc=1
fi
if [ $rc != 0 ]; then
	kill -TERM "$spid" 2>/dev/null # prints its metrics
	for _ in $(seq 20); do kill -0 "$spid" 2>/dev/null || break; sleep 0.05; done
	echo "server output:"; cat "$out/server"
fi
exit $rc
