#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# loss.sh RPC_PEER DATAPATH [COUNT_1PCT] [COUNT_10PCT] [COUNT_LARGE] - two network
# namespaces joined by a veth pair (segmentation offloads off, so every
# packet is wire-size), an rpc_peer server in one and a client in the
# other. nftables in each namespace drops 1 %, then 10 %, of the Homa
# packets arriving there at random (UDP: the server's port; raw: IP
# protocol 146). Every RPC must complete byte-exact and the server must be
# handed every request exactly once (the client asks for its report); the
# measured drop rate must be near the one asked for. Size mix: NT_MIX_LOSS
# (90% 16-1,000 B, 9% 1-64 KB, 1% 64 KB-1 MB, each direction); then 5 %
# loss with NT_MIX_LARGE (100 KB-1 MB each direction).
# Needs root: exit 77 (skip) without it, exit 1 if HOMA_REQUIRE_ROOT=1
# (netns_pair.sh).
set -u
PEER=$1 DP=$2 N1=${3:-10000} N10=${4:-5000} NL=${5:-150}
# This test judges loss recovery, not the host's scheduler: on a loaded
# host a runnable process can go without a CPU for 300 ms, and a peer
# silent that long is timed out by design after timeout_ticks (100 ms).
# Both processes get 1 s (docs/protocol-notes.md, "A peer that does not
# get the CPU"); the kill, churn and errno tests keep the default.
export HOMA_TIMEOUT_TICKS=1000
. "$(dirname "$0")/netns_pair.sh"
out=$(mktemp -d)
spid=
cleanup() {
	[ -n "$spid" ] && kill -9 "$spid" 2>/dev/null
	wait 2>/dev/null
	nt_pair_down
	rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
nt_pair_up loss

raw=
[ "$DP" = raw ] && raw=--raw

# rules NS MATCH PERMILLE: count every Homa packet arriving in NS and drop
# PERMILLE of them at random.
rules() {
	ip netns exec "$1" nft delete table inet homa_loss 2>/dev/null
	ip netns exec "$1" nft -f - <<-END
		table inet homa_loss {
			chain pre {
				type filter hook prerouting priority -300; policy accept;
				$2 counter
				$2 numgen random mod 1000 < $3 counter drop
			}
		}
	END
}

# counters NS: "seen dropped" packets of the rules in NS.
counters() {
	ip netns exec "$1" nft list chain inet homa_loss pre |
		awk '/counter/ { for (i = 1; i <= NF; i++) if ($i == "packets") printf "%s ", $(i + 1) }'
}

phase() { # phase PERMILLE COUNT [MIX]
	local pm=$1 count=$2 mix=${3:-loss} port rc seen_a drop_a seen_b drop_b
	: >"$out/server"
	ip netns exec "$B" "$PEER" server $raw >"$out/server" 2>&1 &
	spid=$!
	for _ in $(seq 100); do
		grep -q '^port ' "$out/server" 2>/dev/null && break
		sleep 0.05
	done
	port=$(awk '/^port /{print $2}' "$out/server")
	[ -n "$port" ] || { echo "FAIL: server did not start"; cat "$out/server"; return 1; }
	if [ "$DP" = raw ]; then
		rules "$A" "ip protocol 146" "$pm"
		rules "$B" "ip protocol 146" "$pm"
	else
		rules "$A" "udp sport $port" "$pm"
		rules "$B" "udp dport $port" "$pm"
	fi
	echo "== $DP, $((pm / 10)).$((pm % 10)) % loss each way: $count RPCs ($mix) to $net.2:$port"
	local start=$(date +%s%N)
	timeout 200 ip netns exec "$A" "$PEER" client $raw --window 8 --mix "$mix" \
		"$net.2" "$port" "$count"
	rc=$?
	echo "wall $(( ($(date +%s%N) - start) / 1000000 )) ms"
	read -r seen_a drop_a <<<"$(counters "$A")"
	read -r seen_b drop_b <<<"$(counters "$B")"
	echo "client side: $drop_a of $seen_a packets dropped; server side: $drop_b of $seen_b"
	kill -9 "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	spid=
	[ $rc = 0 ] || { echo "server output:"; cat "$out/server"; return 1; }
	# The rate asked for, within a factor of two (thousands of packets).
	local seen=$((seen_a + seen_b)) drop=$((drop_a + drop_b))
	if [ "$seen" -lt 2000 ] || [ $((drop * 2000)) -lt $((seen * pm)) ] ||
		[ $((drop * 500)) -gt $((seen * pm)) ]; then
		echo "FAIL: dropped $drop of $seen packets, wanted $pm per mille"
		return 1
	fi
	return 0
}

phase 10 "$N1" || exit 1
phase 100 "$N10" || exit 1
# Messages of 100 KB-1 MB only: sent from the caller's buffer while
# libhoma copies them in chunks (homa_lib_send_chunks); each side reuses
# its buffer as soon as the send returns, so a loss repaired from
# anything but the library's copy shows as a byte mismatch.
phase 50 "$NL" large || exit 1
echo "ok: every RPC completed byte-exact at 1 %, 10 % and 5 % (large) loss, each request delivered once"
exit 0
