#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# make_captures.sh RPC_PEER DISSECTOR OUTDIR - record the project's test
# captures of tests/data/captures/ (run once by hand; the files are
# committed): for each datapath (udp, raw) and IP version (4, 6), an
# rpc_peer server and client in two namespaces (netns_pair.sh) run COUNT
# RPCs of the loss mix while nftables drops 10 % of the Homa packets
# arriving on each side, so that every packet type of a lossy run appears
# (RESEND, RPC_UNKNOWN, BUSY, NEED_ACK, ACK, CUTOFFS, GRANT). dumpcap
# records the client's veth (IPv6 runs with a 200-byte snap length, so
# the files also hold DATA whose payload the capture cut); the file kept
# holds every control packet, the first DATA packets and the first
# retransmitted ones (tshark with DISSECTOR selects them), to stay small.
# Needs root. Bounded: each run stops after 120 s.
set -u
PEER=$1 LUA=$2 OUTDIR=$3 COUNT=${COUNT:-400} KEEP_DATA=${KEEP_DATA:-100}
. "$(dirname "$0")/../net/netns_pair.sh"
tmp=$(mktemp -d)
spid= cpid=
cleanup() {
	[ -n "$spid" ] && kill -9 "$spid" 2>/dev/null
	[ -n "$cpid" ] && kill "$cpid" 2>/dev/null
	wait 2>/dev/null
	nt_pair_down
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
nt_pair_up capture
mkdir -p "$OUTDIR"

rules() { # rules NS MATCH PERMILLE
	ip netns exec "$1" nft delete table inet homa_loss 2>/dev/null
	ip netns exec "$1" nft -f - <<-END
		table inet homa_loss {
			chain pre {
				type filter hook prerouting priority -300; policy accept;
				$2 numgen random mod 1000 < $3 drop
			}
		}
	END
}

for dp in udp raw; do
	for fam in 4 6; do
		raw= v6= host=$net.2 ipm="ip protocol 146" snap=262144
		[ "$dp" = raw ] && raw=--raw
		if [ "$fam" = 6 ]; then
			v6=--ipv6 host=${net6}2 ipm="ip6 nexthdr 146" snap=200
		fi
		ip netns exec "$B" "$PEER" server $raw $v6 >"$tmp/server" 2>&1 &
		spid=$!
		for _ in $(seq 100); do
			grep -q '^port ' "$tmp/server" && break
			sleep 0.05
		done
		port=$(awk '/^port /{print $2}' "$tmp/server")
		if [ "$dp" = raw ]; then
			rules "$A" "$ipm" 100
			rules "$B" "$ipm" 100
		else
			rules "$A" "udp sport $port" 100
			rules "$B" "udp dport $port" 100
		fi
		ip netns exec "$A" dumpcap -q -P -s "$snap" -i veth0 -w "$tmp/all.pcap" \
			-f "udp or ip proto 146 or ip6 proto 146" 2>/dev/null &
		cpid=$!
		sleep 1
		timeout 120 ip netns exec "$A" "$PEER" client $raw --window 8 \
			--mix loss "$host" "$port" "$COUNT"
		sleep 0.5
		kill "$cpid"
		wait "$cpid" 2>/dev/null
		cpid=
		kill -9 "$spid"
		wait "$spid" 2>/dev/null
		spid=
		tshark -X "lua_script:$LUA" -r "$tmp/all.pcap" -F pcap \
			-Y "homa.type != 0x10 or frame.number <= $KEEP_DATA or (homa.data.retransmit == 1 and frame.number <= 1500)" \
			-w "$OUTDIR/libhoma-$dp$fam-loss.pcap"
		echo "$dp$fam: $(tshark -X "lua_script:$LUA" -r "$OUTDIR/libhoma-$dp$fam-loss.pcap" \
			-T fields -e homa.type | sort | uniq -c | tr '\n' ' ')"
	done
done
