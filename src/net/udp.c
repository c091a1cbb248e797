/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * udp.c - the UDP datapath (default, unprivileged). A Homa socket's port
 * is the port of one UDP socket; each UDP payload is one Homa packet, byte
 * for byte from the common header on. Priorities travel in the TOS /
 * traffic class byte (priority << HOMA_WIRE_TOS_PRIO_SHIFT): an IPv4
 * socket carries the top priority's as its IP_TOS, other packets get an
 * IP_TOS / IPV6_TCLASS control message (dp_batch.c).
 *
 * Transmission is batched (dp_batch.c: sendmmsg and UDP GSO). Reception
 * uses recvmmsg and, with UDP_GRO, splits coalesced buffers back into
 * packets (homa_dp_gro_split: a malformed one is dropped and counted);
 * the reads of several slots or sockets, and those into the core's
 * places, are in udp_place.c.
 * ICMP errors arrive through IP_RECVERR and are reported per destination
 * and port.
 *
 * The sockets are blocking, and every read and send passes MSG_DONTWAIT,
 * except rx_sleep's: with one socket, the poller sleeps in its receive,
 * as an application's blocking recv does (udp_rx_sleep). Another thread
 * ends that sleep with a zero-length datagram from the socket to itself
 * (udp_wake_send), never a Homa packet: whoever reads one drops it and
 * counts it (rx_wakes).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "datapath.h"
#include "udp_impl.h"
#include "wire.h"

#define UDP_MAX_PORTS 65536

/* Turn UDP_GRO on for every socket (udp_gro_start). */
void udp_gro_switch(struct udp_dp *u)
{
	int one = 1;

	udp_gate_close(u);
	if (!u->gro_live) {
		for (int i = 0; i < u->num_ports; i++)
			setsockopt(u->open_fds[i], IPPROTO_UDP, UDP_GRO, &one,
				   sizeof(one));
		__atomic_store_n(&u->gro_live, true, __ATOMIC_RELAXED);
	}
	homa_dp_gate_open(&u->ports_gate);
}

static void udp_sockopts(struct udp_dp *u, int fd, int family)
{
	int one = 1;

	if (family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	else
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
	if (u->opts.rcvbuf_bytes)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &u->opts.rcvbuf_bytes,
			   sizeof(int));
	if (u->opts.sndbuf_bytes)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &u->opts.sndbuf_bytes,
			   sizeof(int));
}

/* Bind fd to port (0 = kernel's choice); returns the port or -errno. */
static int udp_bind(int fd, int family, uint16_t port)
{
	struct sockaddr_in6 sa;
	socklen_t len;

	memset(&sa, 0, sizeof(sa));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&sa;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		len = sizeof(*in);
	} else {
		sa.sin6_family = AF_INET6;
		sa.sin6_port = htons(port);
		len = sizeof(sa);
	}
	if (bind(fd, (struct sockaddr *)&sa, len) < 0)
		return -errno;
	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return -errno;
	return ntohs(sa.sin6_port); /* same offset in sockaddr_in */
}

/* A new UDP socket of af bound to port (0 = a free client port). */
static int udp_open_bound(struct udp_dp *u, int af, uint16_t port, int *fdp)
{
	int zero = 0, ret = -EADDRNOTAVAIL;

	for (int tries = 0; tries < 64; tries++) {
		uint16_t want = port;
		int fd = socket(af, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return -errno;
		if (af == AF_INET6) /* reserve the port for IPv4 too */
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
				   sizeof(zero));
		if (!port && tries > 0) {
			/* The kernel's ephemeral port was below the client
			 * range: walk the range ourselves. */
			u->next_port = homa_next_client_port(u->next_port);
			want = (uint16_t)u->next_port;
		}
		ret = udp_bind(fd, af, want);
		if (ret >= 0 && (port || ret >= HOMA_MIN_CLIENT_PORT)) {
			*fdp = fd;
			return ret;
		}
		close(fd);
		if (port)
			return ret < 0 ? ret : -EADDRINUSE;
	}
	return ret < 0 ? ret : -EADDRNOTAVAIL;
}

static int udp_port_open(struct homa_dp *dp, int family, uint16_t port)
{
	struct udp_dp *u = (struct udp_dp *)dp;
	int af = family == HOMA_FAMILY_INET ? AF_INET : AF_INET6;
	struct epoll_event ev;
	int fd = -1, ret;

	ret = udp_open_bound(u, af, port, &fd);
	if (ret < 0)
		return ret;
	udp_sockopts(u, fd, af);
	homa_dp_batch_sock_tos(&u->batch, fd, af);
	ev.events = EPOLLIN;
	ev.data.u32 = (uint32_t)ret;
	if (epoll_ctl(dp->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	udp_gate_close(u);
	if (u->gro_live) {
		int one = 1;

		setsockopt(fd, IPPROTO_UDP, UDP_GRO, &one, sizeof(one));
	}
	u->port_fd[ret] = fd;
	/* Without memory, the port sends all from its own socket. */
	if (u->opts.connect)
		u->conn[ret] = calloc(1, sizeof(struct udp_conn_port));
	u->open_fds[u->num_ports] = fd;
	u->open_ports[u->num_ports] = (uint16_t)ret;
	u->port_family[ret] = af;
	u->num_ports++;
	u->dp.sleepable = u->num_ports == 1;
	u->sleep_timeo_ns = 0;
	homa_dp_gate_open(&u->ports_gate);
	return ret;
}

static void udp_port_close(struct homa_dp *dp, uint16_t port)
{
	struct udp_dp *u = (struct udp_dp *)dp;

	if (u->port_fd[port] < 0)
		return;
	dp->ops->flush(dp);
	udp_conn_close(u, port);
	epoll_ctl(dp->epfd, EPOLL_CTL_DEL, u->port_fd[port], NULL);
	udp_gate_close(u);
	for (int i = 0; i < u->num_ports; i++) {
		if (u->open_fds[i] == u->port_fd[port]) {
			u->open_fds[i] = u->open_fds[--u->num_ports];
			u->open_ports[i] = u->open_ports[u->num_ports];
			break;
		}
	}
	u->dp.sleepable = u->num_ports == 1;
	u->sleep_timeo_ns = 0;
	close(u->port_fd[port]);
	u->port_fd[port] = -1;
	dp->close_gen++;
	homa_dp_gate_open(&u->ports_gate);
}

static void udp_arm(struct homa_dp *dp, bool on)
{
	struct udp_dp *u = (struct udp_dp *)dp;
	struct epoll_event ev = { .events = EPOLLIN };

	homa_dp_gate_enter(&u->ports_gate);
	for (int i = 0; i < u->num_ports; i++) {
		/* EEXIST / ENOENT: a port opened since (already in) or a
		 * socket taken out twice; either way it is as wanted. */
		if (on)
			epoll_ctl(dp->epfd, EPOLL_CTL_ADD, u->open_fds[i], &ev);
		else
			epoll_ctl(dp->epfd, EPOLL_CTL_DEL, u->open_fds[i],
				  NULL);
	}
	homa_dp_gate_leave(&u->ports_gate);
}

static void udp_xmit(struct homa_dp *dp, const struct homa_out_pkt *p)
{
	struct udp_dp *u = (struct udp_dp *)dp;

	homa_dp_batch_add(dp, &u->batch, u->port_fd[p->sport],
			  udp_conn_fd(u, p),
			  u->port_family[p->sport] == AF_INET6, true, p);
}

static void udp_release(struct homa_dp *dp, const void *p, size_t bytes)
{
	homa_dp_batch_release(dp, &((struct udp_dp *)dp)->batch, p, bytes);
}

static void udp_flush(struct homa_dp *dp)
{
	struct homa_dp_batch *b = &((struct udp_dp *)dp)->batch;

	homa_dp_batch_flush(dp, b); /* inline: a call only if one is queued */
	if (__builtin_expect(((struct udp_dp *)dp)->conn_broken, 0))
		udp_conn_reap((struct udp_dp *)dp);
}

/* Split one received buffer (possibly GRO-coalesced) into packets;
 * returns how many. A malformed coalesced buffer is dropped whole. */
int udp_deliver_buf(struct homa_dp *dp, struct msghdr *m, size_t len,
		    homa_dp_deliver_fn deliver, void *arg)
{
	uint8_t *p = m->msg_iov->iov_base;
	struct homa_addr src;
	size_t seg;
	int pkts = homa_dp_gro_split(p, len, udp_gro_seg(m), &seg);

	if (pkts == 0) {
		HOMA_DP_ADD(dp->rx_gro_bad, 1);
		return 0;
	}
	if (pkts > 1)
		HOMA_DP_ADD(dp->rx_gro_bufs, 1);
	if (pkts == 1 && !((struct udp_dp *)dp)->gro_live)
		udp_gro_want((struct udp_dp *)dp, p, len);
	homa_dp_addr_from_sa(&src, m->msg_name);
	for (size_t off = 0; off < len; off += seg) {
		size_t n = len - off < seg ? len - off : seg;

		deliver(arg, &src, p + off, n);
	}
	return pkts;
}

/* The thread's read slots (udp_rx_next, udp_impl.h). */
__thread int udp_rx_want UDP_TLS = UDP_RX_MSGS;
__thread int udp_rx_need UDP_TLS = 2;
__thread int udp_rx_streak UDP_TLS;
__thread bool udp_rx_doubled UDP_TLS;

static int udp_rx_peek(struct homa_dp *dp, uint16_t port, uint64_t gen,
		       uint8_t *buf, size_t bytes, homa_dp_icmp_fn icmp,
		       void *arg)
{
	struct udp_dp *u = (struct udp_dp *)dp;
	ssize_t n = 0;
	int fd;

	homa_dp_gate_enter(&u->ports_gate);
	fd = dp->close_gen == gen ? u->port_fd[port] : -1;
	if (fd >= 0) {
		n = recv(fd, buf, bytes, MSG_PEEK | MSG_DONTWAIT);
		HOMA_DP_ADD(dp->rx_calls, 1); /* a receive call too */
		/* The socket's pending error was taken with the peek: the
		 * next read would not see it, so drain the queue now. */
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			homa_dp_errqueue(fd, NULL, icmp, arg);
	}
	homa_dp_gate_leave(&u->ports_gate);
	return n > 0 ? (int)n : 0;
}

static int udp_rx(struct homa_dp *dp, homa_dp_deliver_fn deliver,
		  homa_dp_icmp_fn icmp, void *arg)
{
	struct udp_dp *u = (struct udp_dp *)dp;
	struct homa_dp_rx_ring *r;
	int n;

	udp_conn_report(u, icmp, arg);
	if (udp_rx_want != 1)
		return udp_rx_place(dp, NULL, 0, 0, deliver, NULL, icmp, arg);
	/* One slot: udp_rx_lone_in, if there is one socket and the poller
	 * does not read it into places (else as udp_rx_place). */
	udp_gro_start(u);
	homa_dp_gate_enter(&u->ports_gate);
	if (u->num_ports != 1 ||
	    __atomic_load_n(&dp->placing_port, __ATOMIC_SEQ_CST) >= 0 ||
	    !(r = homa_dp_rx_ring(u->rx_buf_bytes, u->gro_live))) {
		homa_dp_gate_leave(&u->ports_gate);
		return udp_rx_place(dp, NULL, 0, 0, deliver, NULL, icmp, arg);
	}
	n = udp_rx_lone_in(u, r, u->open_fds[0], deliver, icmp, arg,
			   (long)MSG_DONTWAIT);
	homa_dp_gate_leave(&u->ports_gate);
	return n > 0 ? n : 0;
}

static void udp_unreachable(struct homa_dp *dp, const struct homa_addr *src,
			    const uint8_t *pkt, size_t bytes)
{
	homa_dp_port_unreachable(dp, IPPROTO_UDP, src, pkt, bytes);
}

static void udp_destroy(struct homa_dp *dp)
{
	struct udp_dp *u = (struct udp_dp *)dp;

	homa_dp_icmp_close(dp);
	for (int p = 0; p < UDP_MAX_PORTS; p++) {
		if (u->port_fd[p] >= 0)
			close(u->port_fd[p]);
		udp_conn_close(u, (uint16_t)p);
	}
	close(dp->epfd);
	homa_dp_gate_destroy(&u->ports_gate);
	pthread_mutex_destroy(&u->conn_lock);
	free(u->conn);
	free(u->port_fd);
	free(u->open_fds);
	free(u->open_ports);
	free(u->port_family);
	free(u);
}

static const struct homa_dp_ops udp_ops = {
	.name = "udp",
	.port_open = udp_port_open,
	.port_close = udp_port_close,
	.xmit = udp_xmit,
	.flush = udp_flush,
	.release = udp_release,
	.rx = udp_rx,
	.rx_place = udp_rx_place,
	.rx_peek = udp_rx_peek,
	.unreachable = udp_unreachable,
	.arm = udp_arm,
	.rx_sleep = udp_rx_sleep,
	.rx_wake = udp_rx_wake,
	.destroy = udp_destroy,
};

int homa_dp_udp_create(const struct homa_dp_opts *opts, struct homa_dp **out)
{
	struct udp_dp *u = calloc(1, sizeof(*u));

	if (!u)
		return -ENOMEM;
	u->dp.ops = &udp_ops;
	u->dp.placing_port = -1;
	u->opts = *opts;
	u->batch.gso = opts->gso;
	u->batch.conn_err = udp_conn_err;
	u->batch.sock_tos_set = true;
	u->batch.sock_tos = HOMA_DP_SOCK_PRIO << HOMA_WIRE_TOS_PRIO_SHIFT;
	u->next_port = HOMA_MIN_CLIENT_PORT - 1;
	u->rx_buf_bytes = opts->gro ? UDP_RX_BUF : HOMA_DP_PKT_MAX + 512;
	u->port_fd = malloc(UDP_MAX_PORTS * sizeof(int));
	u->port_family = calloc(UDP_MAX_PORTS, sizeof(int));
	u->open_fds = calloc(UDP_MAX_PORTS, sizeof(int));
	u->open_ports = calloc(UDP_MAX_PORTS, sizeof(uint16_t));
	u->conn = calloc(UDP_MAX_PORTS, sizeof(*u->conn));
	u->dp.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!u->port_fd || !u->port_family || !u->open_fds || !u->open_ports ||
	    !u->conn || u->dp.epfd < 0) {
		if (u->dp.epfd >= 0)
			close(u->dp.epfd);
		free(u->port_fd);
		free(u->port_family);
		free(u->open_fds);
		free(u->open_ports);
		free(u->conn);
		free(u);
		return -ENOMEM;
	}
	for (int p = 0; p < UDP_MAX_PORTS; p++)
		u->port_fd[p] = -1;
	homa_dp_gate_init(&u->ports_gate);
	pthread_mutex_init(&u->conn_lock, NULL);
	*out = &u->dp;
	return 0;
}
