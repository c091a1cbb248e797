#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# cluster.sh - an emulated rack on one machine: N host namespaces joined
# through a switch namespace, every link shaped with HTB into 8 strict
# priority classes selected by the IP precedence bits (DSCP priority, the
# way Homa marks packets), explicit queue limits, static FDB and
# neighbours, segmentation offload off so queues see wire-size packets,
# and flow steering on.
#
#   scripts/cluster.sh up [N] [RATE] [QLIM]   (defaults 4 200mbit 100)
#   scripts/cluster.sh down
#   scripts/cluster.sh exec I CMD...          run CMD in host I
#
# Hosts are hc-h1..hc-hN with address 10.77.0.I; the switch is hc-sw.
# Needs root. Everything it creates is removed by `down`.
set -euo pipefail

# HOMA_CLUSTER_PREFIX names the namespaces (bench-cluster.sh picks one per
# run, so that two users of one machine do not tear down each other's).
PREFIX=${HOMA_CLUSTER_PREFIX:-hc}
NET=10.77.0

rate_bps() {
	local r=${1,,}
	case $r in
	*gbit) echo $((${r%gbit} * 1000000000)) ;;
	*mbit) echo $((${r%mbit} * 1000000)) ;;
	*kbit) echo $((${r%kbit} * 1000)) ;;
	*) echo "${r%bit}" ;;
	esac
}

# shape NS DEV RATE QLIM: HTB parent at RATE, 8 children in strict
# priority (tiny guaranteed rate, ceil RATE); u32 on tos & 0xe0 picks the
# class, so precedence 7 (Homa's highest level) is served first.
shape() {
	local ns=$1 dev=$2 rate=$3 qlim=$4 bps burst i
	bps=$(rate_bps "$rate")
	burst=$((bps / 8 / 50000))          # 20 us at the link rate
	[ $burst -ge 3028 ] || burst=3028   # at least two frames
	tc -n "$ns" qdisc replace dev "$dev" root handle 1: htb default 10 r2q 1000
	tc -n "$ns" class add dev "$dev" parent 1: classid 1:1 htb rate "$rate" \
		ceil "$rate" burst $burst cburst $burst quantum 65536
	for i in 0 1 2 3 4 5 6 7; do
		tc -n "$ns" class add dev "$dev" parent 1:1 classid 1:1$i htb \
			rate $((bps / 1000))bit ceil "$rate" prio $i \
			burst $burst cburst $burst quantum 65536
		tc -n "$ns" qdisc add dev "$dev" parent 1:1$i handle 1$i: \
			pfifo limit "$qlim"
		tc -n "$ns" filter add dev "$dev" parent 1: protocol ip prio 1 \
			u32 match ip tos $((0xe0 - i * 0x20)) 0xe0 flowid 1:1$i
	done
}

down() {
	local ns
	for ns in $(ip netns list | awk '{print $1}' | grep -E "^$PREFIX-(sw|h[0-9]+)$" || true); do
		ip netns del "$ns"
	done
	if [ -f /tmp/$PREFIX-backlog ]; then
		sysctl -qw net.core.netdev_max_backlog="$(cat /tmp/$PREFIX-backlog)"
		rm -f /tmp/$PREFIX-backlog
	fi
}

up() {
	local n=${1:-4} rate=${2:-200mbit} qlim=${3:-100} i j mac
	down
	[ -f /tmp/$PREFIX-backlog ] || sysctl -n net.core.netdev_max_backlog >/tmp/$PREFIX-backlog
	sysctl -qw net.core.netdev_max_backlog=10000
	ip netns add $PREFIX-sw
	ip -n $PREFIX-sw link set lo up
	ip -n $PREFIX-sw link add br0 type bridge stp_state 0 forward_delay 0
	ip -n $PREFIX-sw link set br0 up
	for i in $(seq 1 "$n"); do
		ip netns add $PREFIX-h$i
		ip -n $PREFIX-h$i link set lo up
		ip link add eth0 netns $PREFIX-h$i type veth peer name p$i netns $PREFIX-sw
		ip -n $PREFIX-sw link set p$i master br0 up
		ip -n $PREFIX-h$i addr add $NET.$i/24 dev eth0
		ip -n $PREFIX-h$i link set eth0 up
		ip netns exec $PREFIX-h$i ethtool -K eth0 tso off gso off \
			tx-udp-segmentation off >/dev/null 2>&1 || true
		ip netns exec $PREFIX-h$i sh -c \
			"echo 3 > /sys/class/net/eth0/queues/rx-0/rps_cpus" 2>/dev/null || true
		ip netns exec $PREFIX-sw sh -c \
			"echo 3 > /sys/class/net/p$i/queues/rx-0/rps_cpus" 2>/dev/null || true
		shape $PREFIX-sw p$i "$rate" "$qlim"
		shape $PREFIX-h$i eth0 "$rate" "$qlim"
	done
	# Static FDB and neighbours: no learning, no flooding, no ARP.
	for i in $(seq 1 "$n"); do
		mac=$(ip -n $PREFIX-h$i -br link show eth0 | awk '{print $3}')
		bridge -n $PREFIX-sw fdb replace "$mac" dev p$i master static
		bridge -n $PREFIX-sw link set dev p$i learning off flood off mcast_flood off
		for j in $(seq 1 "$n"); do
			[ "$i" = "$j" ] || ip -n $PREFIX-h$j neigh replace $NET.$i \
				lladdr "$mac" dev eth0 nud permanent
		done
	done
	echo "cluster: $n hosts ($NET.1-$NET.$n), links $rate, queues $qlim packets"
}

case ${1:-} in
up)
	shift
	up "$@"
	;;
down) down ;;
exec)
	i=$2
	shift 2
	exec ip netns exec $PREFIX-h"$i" "$@"
	;;
*)
	echo "usage: $0 up [N] [RATE] [QLIM] | down | exec I CMD..." >&2
	exit 2
	;;
esac
