/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dp_icmp.c - ICMP port-unreachable for requests that reach a socket not
 * in server mode (spec 2: "the packet is dropped and an ICMP
 * port-unreachable is returned, which the client turns into ENOTCONN").
 * The kernel sends it for Linux Homa; here the port is held by a Homa
 * socket of this process (over UDP, by its UDP socket), so the kernel
 * sees a listener and stays silent, and the library must answer itself.
 *
 * The message is a real ICMP (ICMPv6) destination-unreachable / port
 * unreachable quoting the packet as the client sent it: IP header with
 * protocol UDP (UDP datapath: the client's UDP socket gets it through
 * IP_RECVERR) or 146 (raw datapath: the client's raw socket, or the Linux
 * module's ICMP handler). Sending it takes a raw ICMP socket, hence
 * CAP_NET_RAW: without it (the usual unprivileged UDP case) nothing is
 * sent and the client times out (ETIMEDOUT) as before. Answers are
 * limited to one per client port per tick (HOMA_DP_ICMP_GAP_NS): one is
 * enough to end all the client's RPCs to this port; and, as the kernel's
 * icmp_msgs_per_sec, to HOMA_DP_ICMP_PER_SEC in all (a flood of requests
 * from many ports).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "datapath.h"

#define HOMA_DP_ICMP_GAP_NS	1000000 /* per client port, ns */
#define HOMA_DP_ICMP_PER_SEC	1000	/* ICMPs per second at most */
#define HOMA_DP_ICMP_QUOTE	64	/* bytes of the packet quoted */
#define HOMA_DP_ICMP_V4_UNREACH 3	/* type; code 3 = port */
#define HOMA_DP_ICMP_V6_UNREACH 1	/* type; code 4 = port */
#define HOMA_DP_ICMP_HDR_BYTES	8	/* ICMP and ICMPv6 header */

static uint64_t homa_dp_icmp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Store the Internet checksum of n bytes at p (field zero) at p + off. */
static void homa_dp_icmp_csum(uint8_t *p, size_t n, size_t off)
{
	homa_wire_poke16(p, off, homa_dp_inet_csum(p, n));
}

/* The raw ICMP socket of the family (opened on first use); -1 if it
 * cannot be had (no CAP_NET_RAW: tried once). */
static int homa_dp_icmp_fd(struct homa_dp *dp, bool v4)
{
	int *slot = &dp->icmp_fd[v4 ? 0 : 1], fd;

	if (*slot)
		return *slot - 1; /* open: the fd; failed (-1): -2 */
	fd = socket(v4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_CLOEXEC,
		    v4 ? IPPROTO_ICMP : IPPROTO_ICMPV6);
	*slot = fd < 0 ? -1 : fd + 1;
	return fd;
}

void homa_dp_port_unreachable(struct homa_dp *dp, int l4proto,
			      const struct homa_addr *src, const uint8_t *pkt,
			      size_t bytes)
{
	uint8_t msg[HOMA_DP_ICMP_HDR_BYTES + HOMA_WIRE_IPV6_BYTES +
		    HOMA_DP_ICMP_QUOTE];
	uint8_t *ip = msg + HOMA_DP_ICMP_HDR_BYTES, *l4;
	bool v4 = homa_addr_is_v4(src);
	size_t iph = v4 ? HOMA_WIRE_IPV4_BYTES : HOMA_WIRE_IPV6_BYTES;
	size_t quote, len;
	struct homa_addr local;
	struct sockaddr_in6 sa;
	uint32_t mtu;
	uint16_t sport;
	uint64_t now;
	int fd;

	if (bytes < 4)
		return;
	sport = homa_wire_peek16(pkt, HOMA_WIRE_OFF_SPORT);
	now = homa_dp_icmp_now();
	if (memcmp(&dp->icmp_last_dst, src, sizeof(*src)) == 0 &&
	    dp->icmp_last_port == sport &&
	    now - dp->icmp_last_ns < HOMA_DP_ICMP_GAP_NS)
		return;
	if (now - dp->icmp_window_ns >= 1000000000ull) {
		dp->icmp_window_ns = now;
		dp->icmp_window_sent = 0;
	}
	if (dp->icmp_window_sent >= HOMA_DP_ICMP_PER_SEC)
		return;
	fd = homa_dp_icmp_fd(dp, v4);
	if (fd < 0 || homa_dp_route(src, &local, &mtu) < 0)
		return;
	dp->icmp_window_sent++;
	dp->icmp_last_dst = *src;
	dp->icmp_last_port = sport;
	dp->icmp_last_ns = now;

	/* The quoted packet: its IP header, then its first bytes (UDP:
	 * the UDP header the client's kernel matches its socket by). */
	memset(msg, 0, sizeof(msg));
	l4 = ip + iph;
	if (l4proto == IPPROTO_UDP) {
		const size_t udph = HOMA_WIRE_UDP_BYTES;
		uint16_t ulen = (uint16_t)(bytes + udph);

		memcpy(l4, pkt, 4); /* Homa ports are the UDP ports */
		l4[4] = (uint8_t)(ulen >> 8);
		l4[5] = (uint8_t)ulen;
		quote = udph + (bytes < HOMA_DP_ICMP_QUOTE - udph
					? bytes
					: HOMA_DP_ICMP_QUOTE - udph);
		memcpy(l4 + udph, pkt, quote - udph);
	} else {
		quote = bytes < HOMA_DP_ICMP_QUOTE ? bytes : HOMA_DP_ICMP_QUOTE;
		memcpy(l4, pkt, quote);
	}
	if (v4) {
		uint16_t tot = (uint16_t)(iph + quote);

		ip[0] = 0x45;
		ip[2] = (uint8_t)(tot >> 8);
		ip[3] = (uint8_t)tot;
		ip[8] = 64; /* TTL */
		ip[9] = (uint8_t)l4proto;
		memcpy(ip + 12, &src->a[12], 4);  /* the client sent it */
		memcpy(ip + 16, &local.a[12], 4); /* to us */
		homa_dp_icmp_csum(ip, iph, 10);	  /* of the quoted header */
		msg[0] = HOMA_DP_ICMP_V4_UNREACH;
		msg[1] = 3; /* port unreachable */
	} else {
		ip[0] = 0x60;
		ip[4] = (uint8_t)(quote >> 8);
		ip[5] = (uint8_t)quote;
		ip[6] = (uint8_t)l4proto;
		ip[7] = 64; /* hop limit */
		memcpy(ip + 8, src->a, 16);
		memcpy(ip + 24, local.a, 16);
		msg[0] = HOMA_DP_ICMP_V6_UNREACH;
		msg[1] = 4; /* port unreachable */
	}
	len = HOMA_DP_ICMP_HDR_BYTES + iph + quote;
	if (v4) /* the kernel fills the ICMPv6 checksum, not the ICMP one */
		homa_dp_icmp_csum(msg, len, 2);
	homa_dp_sa_from_addr(src, 0, &sa);
	if (sendto(fd, msg, len, MSG_DONTWAIT, (struct sockaddr *)&sa,
		   v4 ? sizeof(struct sockaddr_in) : sizeof(sa)) < 0)
		dp->tx_errors++;
}

void homa_dp_icmp_close(struct homa_dp *dp)
{
	for (int i = 0; i < 2; i++)
		if (dp->icmp_fd[i] > 0)
			close(dp->icmp_fd[i] - 1);
}
