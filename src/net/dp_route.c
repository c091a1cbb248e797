/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dp_route.c - route lookups for the datapaths: our source address and the
 * path MTU towards a destination (a connected datagram socket), and
 * whether the destination is on this host, so that the core neither paces
 * packets to it nor grants it one packet at a time.
 *
 * A destination is on this host when it is one of our own addresses (the
 * route's source is the destination itself: loopback) or when the route
 * reaches it directly, without a gateway, through a veth device: the
 * other end of a veth pair is a namespace of this host (or a bridge of
 * this host), and a veth's transmit hands each packet, GSO frames whole,
 * to the receiving stack's backlog as loopback does, with no queue and no
 * wire that pacing could keep short. A route through a gateway (a
 * container's way out, through the host's NIC) is paced as before. The
 * route's device and gateway come from one RTM_GETROUTE request
 * (rtnetlink), the device's driver from SIOCETHTOOL (ETHTOOL_GDRVINFO);
 * anything that fails leaves the destination off this host.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "datapath.h"

/* Bytes of the buffer an RTM_GETROUTE reply is read into. */
#define DP_ROUTE_REPLY_BYTES 4096

int homa_dp_route(const struct homa_addr *dst, struct homa_addr *src,
		  uint32_t *mtu)
{
	bool v4 = homa_addr_is_v4(dst);
	struct sockaddr_in6 sa;
	socklen_t len = (socklen_t)homa_dp_sa_from_addr(dst, 9, &sa);
	int fd = socket(sa.sin6_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;
	int m = 0;
	socklen_t mlen = sizeof(m);

	if (fd < 0)
		return -errno;
	/* Connecting a datagram socket only looks up the route. */
	if (connect(fd, (struct sockaddr *)&sa, len) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		ret = -errno;
	} else {
		homa_dp_addr_from_sa(src, &sa);
		if (getsockopt(fd, v4 ? IPPROTO_IP : IPPROTO_IPV6,
			       v4 ? IP_MTU : IPV6_MTU, &m, &mlen) < 0)
			m = 0;
		*mtu = m > 0 ? (uint32_t)m : 0;
	}
	close(fd);
	return ret;
}

/* Walk one RTM_NEWROUTE reply of len bytes: its output device (*oif)
 * and whether it names a gateway. 0, or -ENOENT if it is not a unicast
 * route with a device. */
static int dp_route_parse(const uint8_t *buf, size_t len, int *oif,
			  bool *gateway)
{
	const struct nlmsghdr *n = (const struct nlmsghdr *)buf;
	const struct rtmsg *r;
	const struct rtattr *a;
	int rest;

	if (len < NLMSG_LENGTH(sizeof(*r)) || !NLMSG_OK(n, len) ||
	    n->nlmsg_type != RTM_NEWROUTE)
		return -ENOENT;
	r = NLMSG_DATA(n);
	if (r->rtm_type != RTN_UNICAST)
		return -ENOENT;
	*oif = 0;
	*gateway = false;
	rest = (int)RTM_PAYLOAD(n);
	for (a = RTM_RTA(r); RTA_OK(a, rest); a = RTA_NEXT(a, rest)) {
		if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) >= sizeof(int))
			memcpy(oif, RTA_DATA(a), sizeof(int));
		else if (a->rta_type == RTA_GATEWAY || a->rta_type == RTA_VIA)
			*gateway = true;
	}
	return *oif > 0 ? 0 : -ENOENT;
}

/* The route to dst: its output device (*oif) and whether it goes through
 * a gateway. 0 or -errno. */
static int dp_route_device(const struct homa_addr *dst, int *oif, bool *gateway)
{
	bool v4 = homa_addr_is_v4(dst);
	struct {
		struct nlmsghdr n; /* the request's header */
		struct rtmsg r;	   /* the route asked for */
		struct rtattr a;   /* RTA_DST, then the address */
		uint8_t addr[16];  /* the destination, 4 or 16 bytes used */
	} req;
	uint8_t reply[DP_ROUTE_REPLY_BYTES];
	size_t alen = v4 ? 4 : 16;
	ssize_t n;
	int fd, ret;

	memset(&req, 0, sizeof(req));
	req.n.nlmsg_len =
		(uint32_t)(NLMSG_LENGTH(sizeof(req.r)) + RTA_LENGTH(alen));
	req.n.nlmsg_type = RTM_GETROUTE;
	req.n.nlmsg_flags = NLM_F_REQUEST;
	req.r.rtm_family = v4 ? AF_INET : AF_INET6;
	req.r.rtm_dst_len = (unsigned char)(alen * 8);
	req.a.rta_type = RTA_DST;
	req.a.rta_len = (unsigned short)RTA_LENGTH(alen);
	memcpy(req.addr, v4 ? dst->a + 12 : dst->a, alen);
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, req.n.nlmsg_len, 0) < 0) {
		ret = -errno;
		goto out;
	}
	n = recv(fd, reply, sizeof(reply), 0);
	ret = n < 0 ? -errno : dp_route_parse(reply, (size_t)n, oif, gateway);
out:
	close(fd);
	return ret;
}

/* Whether the device of index ifindex is a veth (its driver's name). */
static bool dp_route_is_veth(int ifindex)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr;
	bool veth = false;
	int fd;

	memset(&ifr, 0, sizeof(ifr));
	if (!if_indextoname((unsigned)ifindex, ifr.ifr_name))
		return false;
	ifr.ifr_data = (char *)&info;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	if (ioctl(fd, SIOCETHTOOL, &ifr) == 0)
		veth = strncmp(info.driver, "veth", sizeof(info.driver)) == 0;
	close(fd);
	return veth;
}

uint32_t homa_dp_path_mtu(const struct homa_addr *dst, bool veth_local,
			  bool *local)
{
	struct homa_addr src;
	bool gateway;
	uint32_t mtu;
	int oif;

	*local = false;
	if (homa_dp_route(dst, &src, &mtu) < 0)
		return 0;
	*local = memcmp(src.a, dst->a, 16) == 0;
	if (!*local && veth_local && dp_route_device(dst, &oif, &gateway) == 0)
		*local = !gateway && dp_route_is_veth(oif);
	return mtu;
}
