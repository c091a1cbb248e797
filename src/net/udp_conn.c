/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * udp_conn.c - connected sending sockets for the destinations a port
 * sends to most. A send on an unconnected UDP socket makes the kernel look
 * up the route for every datagram (ip_route_output_flow, about 0.2 us on
 * loopback); a connected socket keeps its route. So once a port has sent
 * UDP_CONN_AFTER packets to one peer address and port while it was among
 * the last few it sent to, the datapath opens a second UDP socket,
 * connected to that peer (its own ephemeral local port), and sends the
 * port's packets to that peer from it, without a name.
 *
 * The wire stays Homa's: receivers take the sender's Homa port from the
 * common header's sport, never from the UDP source port (incoming.c;
 * every libhoma, old or new, replies to sport), so the peer's answers
 * still come to the port's own socket, the only one read. The connected
 * socket receives nothing but ICMP errors about its own packets: the
 * kernel records them as the socket's error, and its next send fails with
 * it (ECONNREFUSED for a closed port); the batch then calls
 * udp_conn_err, which reads the error queue (IP_RECVERR) into pending
 * reports that the next read of the datapath hands to the core as any
 * ICMP error, takes the socket out of use (closed at the end of the
 * flush), and the packets go again from the port's socket with names.
 * An error thus reaches the core at the next send to that peer (a
 * request, or the core's RESEND), not at once.
 *
 * Bounded: UDP_CONN_SOCKS connected sockets per port, and a connected
 * one goes to another destination only after UDP_CONN_IDLE of the port's
 * sends without one to it. All change under the library lock (xmit and
 * flush); the pending reports also under conn_lock (readers take them
 * without the library lock).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "udp_impl.h"

#define UDP_CONN_AFTER 32 /* sends to a destination before it gets one */
/* The port's sends without one to a connected destination before its
 * socket may go to another. */
#define UDP_CONN_IDLE 4096

/* Close the sockets udp_conn_err took out of use. */
static void udp_conn_reap_all(struct udp_dp *u)
{
	for (int i = 0; i < u->num_ports; i++) {
		struct udp_conn_port *cp = u->conn[u->open_ports[i]];

		for (int k = 0; cp && k < UDP_CONN_SLOTS; k++) {
			if (cp->e[k].port && cp->e[k].fd >= 0 &&
			    cp->e[k].broken) {
				close(cp->e[k].fd);
				cp->e[k].fd = -1;
				cp->e[k].broken = false;
				cp->e[k].port = 0;
			}
		}
	}
	u->conn_broken = false;
}

void udp_conn_reap(struct udp_dp *u)
{
	udp_conn_reap_all(u);
}

/* Store one ICMP error read from a connected socket's queue. */
static void udp_conn_store(void *arg, const struct homa_addr *dst,
			   uint16_t dport, int err)
{
	struct udp_dp *u = arg;

	pthread_mutex_lock(&u->conn_lock);
	if (u->conn_icmp_n < UDP_CONN_ICMP) {
		u->conn_icmp[u->conn_icmp_n].dst = *dst;
		u->conn_icmp[u->conn_icmp_n].dport = dport;
		u->conn_icmp[u->conn_icmp_n].err = err;
		__atomic_store_n(&u->conn_icmp_n, u->conn_icmp_n + 1,
				 __ATOMIC_RELEASE);
	} else {
		u->dp.tx_conn_lost++;
	}
	pthread_mutex_unlock(&u->conn_lock);
}

void udp_conn_err(struct homa_dp *dp, int conn_fd, int err)
{
	struct udp_dp *u = (struct udp_dp *)dp;

	(void)err; /* the queue says more: address, port, ICMP type */
	homa_dp_errqueue(conn_fd, NULL, udp_conn_store, u);
	for (int i = 0; i < u->num_ports; i++) {
		struct udp_conn_port *cp = u->conn[u->open_ports[i]];

		for (int k = 0; cp && k < UDP_CONN_SLOTS; k++)
			if (cp->e[k].port && cp->e[k].fd == conn_fd)
				cp->e[k].broken = true;
	}
	u->conn_broken = true;
	dp->tx_conn_errors++;
	/* A poller asleep in the port's receive hands the reports over. */
	if (__atomic_load_n(&u->conn_icmp_n, __ATOMIC_ACQUIRE) &&
	    __atomic_load_n(&u->sleeping, __ATOMIC_SEQ_CST))
		udp_rx_wake(dp);
}

void udp_conn_report_slow(struct udp_dp *u, homa_dp_icmp_fn icmp, void *arg)
{
	struct udp_conn_icmp got[UDP_CONN_ICMP];
	int n;

	pthread_mutex_lock(&u->conn_lock);
	n = u->conn_icmp_n;
	memcpy(got, u->conn_icmp, (size_t)n * sizeof(got[0]));
	__atomic_store_n(&u->conn_icmp_n, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&u->conn_lock);
	for (int i = 0; i < n; i++)
		icmp(arg, &got[i].dst, got[i].dport, got[i].err);
}

/* A new socket of the port's family connected to p's destination, or
 * -errno. */
static int udp_conn_open(struct udp_dp *u, const struct homa_out_pkt *p)
{
	int af = u->port_family[p->sport], one = 1, zero = 0, fd, ret;
	struct sockaddr_in6 sa;
	socklen_t len;

	fd = socket(af, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (af == AF_INET) {
		setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
		len = (socklen_t)homa_dp_sa_from_addr(p->dst, p->dport, &sa);
	} else {
		/* An IPv6 socket reaches IPv4 peers by mapped addresses. */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
		memset(&sa, 0, sizeof(sa));
		sa.sin6_family = AF_INET6;
		sa.sin6_port = htons(p->dport);
		memcpy(&sa.sin6_addr, p->dst->a, 16);
		len = sizeof(sa);
	}
	if (u->opts.sndbuf_bytes)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &u->opts.sndbuf_bytes,
			   sizeof(int));
	homa_dp_batch_sock_tos(&u->batch, fd, af);
	if (connect(fd, (struct sockaddr *)&sa, len) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

/* The entry to track p's destination in: a free one, else the least
 * recently used of those without a socket or with an idle one (NULL:
 * every entry is a busy connected destination). */
static struct udp_conn_dst *udp_conn_victim(struct udp_conn_port *cp)
{
	struct udp_conn_dst *v = NULL;

	for (int k = 0; k < UDP_CONN_SLOTS; k++) {
		struct udp_conn_dst *e = &cp->e[k];

		if (!e->port)
			return e;
		if (e->broken ||
		    (e->fd >= 0 && cp->sends - e->last < UDP_CONN_IDLE))
			continue;
		if (!v || e->last < v->last)
			v = e;
	}
	return v;
}

int udp_conn_slow(struct udp_dp *u, struct udp_conn_port *cp,
		  const struct homa_out_pkt *p)
{
	struct udp_conn_dst *e = NULL;
	int fd;

	for (int k = 0; k < UDP_CONN_SLOTS && !e; k++)
		if (cp->e[k].port && cp->e[k].port == p->dport &&
		    memcmp(&cp->e[k].addr, p->dst, sizeof(*p->dst)) == 0)
			e = &cp->e[k];
	if (!e) {
		e = udp_conn_victim(cp);
		if (!e)
			return -1;
		if (e->port && e->fd >= 0)
			close(e->fd); /* idle: no packet of the batch uses it */
		*e = (struct udp_conn_dst){ .addr = *p->dst,
					    .port = p->dport,
					    .fd = -1 };
	}
	e->last = cp->sends;
	cp->hot = e;
	if (e->broken)
		return -1;
	if (e->fd < 0 && ++e->sends >= UDP_CONN_AFTER) {
		fd = udp_conn_open(u, p);
		if (fd >= 0) {
			e->fd = fd;
			u->dp.tx_conn_opened++;
		}
		e->sends = 0; /* a failure is tried again later */
	}
	return e->fd;
}

void udp_conn_close(struct udp_dp *u, uint16_t port)
{
	struct udp_conn_port *cp = u->conn[port];

	if (!cp)
		return;
	for (int k = 0; k < UDP_CONN_SLOTS; k++)
		if (cp->e[k].port && cp->e[k].fd >= 0)
			close(cp->e[k].fd);
	free(cp);
	u->conn[port] = NULL;
}
