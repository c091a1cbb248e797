/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dp_route.c - route lookups for the datapaths: our source address and the
 * path MTU towards a destination (a connected datagram socket), and
 * whether the destination is on this host, so that the core neither paces
 * packets to it nor grants it one packet at a time.
 *
 * A destination is on this host when it is one of our own addresses (the
 * route's source is the destination itself: loopback) or when the route
 * reaches it directly, without a gateway, through a veth device with no
 * queueing discipline (noqueue, a veth's default): the other end of such
 * a pair is a namespace of this host (or a bridge of this host), and its
 * transmit hands each packet, GSO frames whole, to the receiving stack's
 * backlog as loopback does, with no queue and no wire that pacing could
 * keep short. A route through a gateway (a container's way out, through
 * the host's NIC) is paced as before, and so is a veth with a qdisc (the
 * emulated rack of scripts/cluster.sh shapes its veths with htb: the
 * queue the pacer keeps short is that one). Two rtnetlink requests tell
 * it: RTM_GETROUTE (the route's device and gateway), then RTM_GETLINK
 * (the device's kind and qdisc); anything that fails leaves the
 * destination off this host.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "datapath.h"

/* Bytes of the buffer an rtnetlink reply is read into. */
#define DP_ROUTE_REPLY_BYTES 8192

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

/* Send the rtnetlink request req (its header's length says how long)
 * on a new socket and read the one reply into reply (bytes long). The
 * reply's length, or -errno: -EMSGSIZE if it is longer than bytes,
 * -EPROTO if malformed, -ENOENT for an NLMSG_ERROR reply. */
static ssize_t dp_route_ask(const struct nlmsghdr *req, uint8_t *reply,
			    size_t bytes)
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_ROUTE);
	const struct nlmsghdr *n = (const struct nlmsghdr *)reply;
	ssize_t got;

	if (fd < 0)
		return -errno;
	if (send(fd, req, req->nlmsg_len, 0) < 0) {
		got = -errno;
		goto out;
	}
	/* MSG_TRUNC: the reply's whole length, so a longer one (a device
	 * with many attributes) is refused rather than read in part. */
	got = recv(fd, reply, bytes, MSG_TRUNC);
	if (got < 0) {
		got = -errno;
		goto out;
	}
	if ((size_t)got > bytes)
		got = -EMSGSIZE;
	else if ((size_t)got < sizeof(*n) || !NLMSG_OK(n, (size_t)got))
		got = -EPROTO;
	else if (n->nlmsg_type == NLMSG_ERROR)
		got = -ENOENT;
out:
	close(fd);
	return got;
}

/* The route to dst: its output device (*oif) and whether it goes through
 * a gateway. 0, or -errno (-ENOENT: no unicast route with a device). */
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
	const struct nlmsghdr *n = (const struct nlmsghdr *)reply;
	const struct rtmsg *r;
	const struct rtattr *a;
	size_t alen = v4 ? 4 : 16;
	ssize_t len;
	int rest;

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
	len = dp_route_ask(&req.n, reply, sizeof(reply));
	if (len < 0)
		return (int)len;
	if (n->nlmsg_type != RTM_NEWROUTE ||
	    n->nlmsg_len < NLMSG_LENGTH(sizeof(*r)))
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

/* Whether string attribute a is exactly text. */
static bool dp_route_attr_is(const struct rtattr *a, const char *text)
{
	size_t n = strlen(text) + 1;

	return RTA_PAYLOAD(a) >= n && memcmp(RTA_DATA(a), text, n) == 0;
}

/* Whether the device of index ifindex is a veth with no queueing
 * discipline (IFLA_LINKINFO's kind "veth", IFLA_QDISC "noqueue"). */
static bool dp_route_bare_veth(int ifindex)
{
	struct {
		struct nlmsghdr n;  /* the request's header */
		struct ifinfomsg i; /* the device asked for */
	} req;
	uint8_t reply[DP_ROUTE_REPLY_BYTES];
	const struct nlmsghdr *n = (const struct nlmsghdr *)reply;
	const struct rtattr *a;
	bool veth = false, noqueue = false;
	int rest;

	memset(&req, 0, sizeof(req));
	req.n.nlmsg_len = (uint32_t)NLMSG_LENGTH(sizeof(req.i));
	req.n.nlmsg_type = RTM_GETLINK;
	req.n.nlmsg_flags = NLM_F_REQUEST;
	req.i.ifi_family = AF_UNSPEC;
	req.i.ifi_index = ifindex;
	if (dp_route_ask(&req.n, reply, sizeof(reply)) < 0 ||
	    n->nlmsg_type != RTM_NEWLINK ||
	    n->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
		return false;
	rest = (int)IFLA_PAYLOAD(n);
	for (a = IFLA_RTA(NLMSG_DATA(n)); RTA_OK(a, rest);
	     a = RTA_NEXT(a, rest)) {
		int type = a->rta_type & NLA_TYPE_MASK; /* flags off */

		if (type == IFLA_QDISC) {
			noqueue = dp_route_attr_is(a, "noqueue");
		} else if (type == IFLA_LINKINFO) {
			const struct rtattr *k;
			int krest = (int)RTA_PAYLOAD(a);

			for (k = RTA_DATA(a); RTA_OK(k, krest);
			     k = RTA_NEXT(k, krest)) {
				if ((k->rta_type & NLA_TYPE_MASK) ==
				    IFLA_INFO_KIND)
					veth = dp_route_attr_is(k, "veth");
			}
		}
	}
	return veth && noqueue;
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
		*local = !gateway && dp_route_bare_veth(oif);
	return mtu;
}
