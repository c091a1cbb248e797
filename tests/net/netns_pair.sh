# SPDX-License-Identifier: BSD-2-Clause
# netns_pair.sh - sourced by the namespace tests (loss.sh,
# unreachable.sh): the skip rule and two namespaces joined by a veth.
#
#   nt_skip MESSAGE   exit 77 (skipped), or 1 if HOMA_REQUIRE_ROOT=1 (CI)
#   nt_pair_up TAG    needs root, ip and nft (else skips); makes
#                     namespaces $A and $B with veth0 each (segmentation
#                     offloads off, so every packet is wire-size),
#                     $net.1/24 and ${net6}1/64 in A, .2 and ::2 in B
#                     (addresses that exist only inside them), and waits
#                     until IPv6 is usable
#   nt_pair_down      deletes both (call it from the script's EXIT trap)

nt_skip() {
	if [ "${HOMA_REQUIRE_ROOT:-0}" = 1 ]; then
		echo "FAIL: $1, and HOMA_REQUIRE_ROOT=1"
		exit 1
	fi
	echo "SKIP: $1"
	exit 77
}

nt_pair_down() {
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
}

nt_pair_up() {
	[ "$(id -u)" = 0 ] || nt_skip "network namespaces need root"
	command -v nft >/dev/null || nt_skip "nft (nftables) is not installed"
	command -v ip >/dev/null || nt_skip "ip (iproute2) is not installed"
	A=homa-$1-$$-a B=homa-$1-$$-b
	net=10.$((200 + $$ % 50)).$(($$ / 50 % 250))
	net6=fd00:$(($$ % 9000 + 1000))::
	ip netns add "$A" && ip netns add "$B" ||
		nt_skip "cannot create namespaces"
	ip link add veth0 netns "$A" type veth peer name veth0 netns "$B" ||
		{ echo "FAIL: cannot create veth"; exit 1; }
	ip -n "$A" addr add "$net.1/24" dev veth0
	ip -n "$B" addr add "$net.2/24" dev veth0
	ip -n "$A" addr add "${net6}1/64" dev veth0 nodad
	ip -n "$B" addr add "${net6}2/64" dev veth0 nodad
	for ns in "$A" "$B"; do
		ip -n "$ns" link set lo up
		ip -n "$ns" link set veth0 up
		ip netns exec "$ns" ethtool -K veth0 tso off gso off gro off \
			tx-udp-segmentation off >/dev/null 2>&1
	done
	# A veth that just came up drops IPv6 packets until its link-local
	# addresses are no longer tentative.
	for _ in $(seq 50); do
		ip -n "$A" -6 addr show dev veth0 | grep -q tentative ||
			ip -n "$B" -6 addr show dev veth0 |
			grep -q tentative || return 0
		sleep 0.1
	done
}
