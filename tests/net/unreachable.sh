#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# unreachable.sh ECHO_CLIENT - ICMP errors from another host end the RPCs
# with the errno of spec 6.4, on both datapaths and both IP versions. Two
# network namespaces joined by a veth pair; the client runs in A, and B
# answers as a host would:
#  - raw datapath, nothing in B handles IP protocol 146: B's kernel sends
#    protocol unreachable (IPv4) or parameter problem "unknown next
#    header" (IPv6) -> EPROTONOSUPPORT (on this host the kernel never
#    sends it, a raw 146 socket being open);
#  - UDP datapath, nftables in B rejects the packets with host (IPv4) or
#    address (IPv6) unreachable -> EHOSTUNREACH;
#  - UDP datapath, nothing listens on the port in B -> ENOTCONN.
# A timeout would give ETIMEDOUT instead: the errno shows that the ICMP
# error ended the RPC.
# Needs root: exit 77 (skip) without it, exit 1 if HOMA_REQUIRE_ROOT=1
# (netns_pair.sh).
set -u
CLIENT=$1
. "$(dirname "$0")/netns_pair.sh"
trap nt_pair_down EXIT
trap 'exit 1' INT TERM
nt_pair_up unr
# ICMP rate limits would turn a burst of errors into timeouts.
ip netns exec "$B" sysctl -qw net.ipv4.icmp_ratelimit=0 \
	net.ipv6.icmp.ratelimit=0

fail=0
# expect LABEL ERRNO_TEXT CLIENT_ARGS...: one RPC from A must fail with
# ERRNO_TEXT (perror's text).
expect() {
	local label=$1 want=$2 out t0 t1 ms
	shift 2
	t0=$(date +%s%N)
	out=$(ip netns exec "$A" env HOMA_TIMEOUT_TICKS=100 HOMA_TICK_US=1000 \
		"$CLIENT" "$@" 2>&1)
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	if [[ $out == *"homa_receive: $want"* ]]; then
		echo "ok   $label: '$want' after $ms ms (process included)"
	else
		echo "BAD  $label: wanted '$want', got '$out' after $ms ms"
		fail=1
	fi
}

expect "raw IPv4, no protocol 146 in B" "Protocol not supported" \
	--raw "$net.2" 4000 1 100
expect "raw IPv6, no protocol 146 in B" "Protocol not supported" \
	--raw "${net6}2" 4000 1 100
expect "UDP IPv4, nothing on the port" "Transport endpoint is not connected" \
	"$net.2" 4000 1 100
expect "UDP IPv6, nothing on the port" "Transport endpoint is not connected" \
	"${net6}2" 4000 1 100
ip netns exec "$B" nft -f - <<-END
	table inet homa_unr {
		chain input {
			type filter hook input priority 0;
			udp dport 4000 meta nfproto ipv4 reject with icmp type host-unreachable
			udp dport 4000 meta nfproto ipv6 reject with icmpv6 type addr-unreachable
		}
	}
END
expect "UDP IPv4, B rejects: host unreachable" "No route to host" \
	"$net.2" 4000 1 100
expect "UDP IPv6, B rejects: address unreachable" "No route to host" \
	"${net6}2" 4000 1 100
exit $fail
