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
 * packets (homa_dp_gro_split: a malformed one is dropped and counted).
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

#define UDP_RX_BUF    (64 * 1024) /* bytes per receive buffer (GRO) */
#define UDP_MAX_PORTS 65536

/*
 * UDP_GRO (opts.gro) is turned on for the datapath's sockets only once a
 * message of several packets arrives (udp_gro_want) or a read finds
 * several datagrams (a burst, udp_rx_place), for good. Until
 * then no datagram can arrive coalesced (the kernel splits a GSO send
 * for a socket without UDP_GRO), so a one-slot read needs no control
 * message and is a recvfrom: 0.53-0.58 -> 0.47-0.50 us per successful
 * receive, 0.33 -> 0.29 per empty one (bench-syscalls.sh). Readers learn
 * the switch only by passing ports_gate, which is closed while it is
 * made: no reader uses recvfrom on a socket with UDP_GRO on.
 */
static inline void udp_gro_want(struct udp_dp *u, const uint8_t *pkt,
				size_t len)
{
	/* DATA's message_length follows the common header. */
	if (u->opts.gro && len >= HOMA_WIRE_DATA_BYTES &&
	    pkt[HOMA_WIRE_OFF_TYPE] == HOMA_PKT_DATA &&
	    ((uint32_t)pkt[HOMA_WIRE_COMMON_BYTES] << 24 |
	     (uint32_t)pkt[HOMA_WIRE_COMMON_BYTES + 1] << 16 |
	     (uint32_t)pkt[HOMA_WIRE_COMMON_BYTES + 2] << 8 |
	     pkt[HOMA_WIRE_COMMON_BYTES + 3]) > len - HOMA_WIRE_DATA_BYTES)
		__atomic_store_n(&u->gro_wanted, 1, __ATOMIC_RELAXED);
}

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
			  u->port_family[p->sport] == AF_INET6, true, p);
}

static void udp_release(struct homa_dp *dp, const void *p, size_t bytes)
{
	homa_dp_batch_release(dp, &((struct udp_dp *)dp)->batch, p, bytes);
}

static void udp_flush(struct homa_dp *dp)
{
	struct homa_dp_batch *b = &((struct udp_dp *)dp)->batch;

	if (b->num_pkts) /* not even the large frame of the flush */
		homa_dp_batch_flush(dp, b);
}

/* The GRO segment size of a received message (-1 if none). */
static int udp_gro_seg(struct msghdr *m)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(m); cm;
	     cm = CMSG_NXTHDR(m, cm)) {
		if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
			int s;

			memcpy(&s, CMSG_DATA(cm), sizeof(s));
			return s;
		}
	}
	return -1;
}

/* Split one received buffer (possibly GRO-coalesced) into packets;
 * returns how many. A malformed coalesced buffer is dropped whole. */
static int udp_deliver_buf(struct homa_dp *dp, struct msghdr *m, size_t len,
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

/*
 * Datagram slots the calling thread offers its next recvmmsg (1 to
 * UDP_RX_MSGS). Preparing a slot costs user-space work, and the kernel
 * tries one slot past the last datagram it finds: a second, empty
 * receive inside the call, about 0.1 us. So a read that fills every slot
 * keeps the count, and only udp_rx_need full reads in a row (a burst: no
 * empty read between) double it; a partial read offers as many as came.
 * A spinning ping-pong, whose reads find one packet after empty ones,
 * offers 1. So does a blocking one, whose reads find one packet each
 * with no empty read between: each time a doubled read comes back
 * partial, the full reads needed double (up to UDP_RX_NEED_MAX; it
 * offered 1, 1, 2 slots in turn before, a third of its reads paying the
 * empty try and recvmmsg's loop). A doubled read that fills, or an empty
 * read, sets them back to 2.
 */
#define UDP_RX_NEED_MAX 16
static __thread int udp_rx_want = UDP_RX_MSGS;
static __thread int udp_rx_need = 2; /* full reads in a row to double */
static __thread int udp_rx_streak;   /* full reads in a row */
static __thread bool udp_rx_doubled; /* the last read offered twice the
				       * slots of the one before */

/* The slots to offer after a read that offered room (want asked) and
 * got n (< 0: nothing). */
static inline int udp_rx_next(int want, int room, int n)
{
	int twice = 2 * room < UDP_RX_MSGS ? 2 * room : UDP_RX_MSGS;

	if (n <= 0) {
		udp_rx_streak = 0;
		udp_rx_need = 2;
		udp_rx_doubled = false;
		return want;
	}
	if (n < room) {
		if (udp_rx_doubled && udp_rx_need < UDP_RX_NEED_MAX)
			udp_rx_need *= 2;
		udp_rx_doubled = false;
		udp_rx_streak = 0;
		return n;
	}
	if (udp_rx_doubled)
		udp_rx_need = 2; /* a burst indeed */
	udp_rx_streak++;
	udp_rx_doubled = udp_rx_streak >= udp_rx_need && twice > room;
	return udp_rx_doubled ? twice : room;
}

/*
 * The usual read: one socket, no places, one slot (a ping-pong's). A
 * datagram that came without a control message is one packet (UDP_GRO
 * gives a segment size with every coalesced buffer): delivered as it is,
 * without the loop and checks of udp_rx_place. flags: MSG_DONTWAIT, or 0
 * for udp_rx_sleep's sleeping read. Returns datagrams read (1), 0 for
 * none or a wake-up, -errno if the read failed (-EAGAIN: nothing came;
 * -EINTR: a signal).
 */
int udp_rx_lone(struct udp_dp *u, struct homa_dp_rx_ring *r, int fd,
		homa_dp_deliver_fn deliver, homa_dp_icmp_fn icmp, void *arg,
		long flags)
{
	struct msghdr *m = &r->msgs[0].msg_hdr;
	int n = homa_dp_recv1(fd, r->msgs, flags), pkts = 1, err;
	struct homa_addr src;

	udp_rx_want = udp_rx_next(1, 1, n);
	HOMA_DP_ADD(u->dp.rx_calls, 1);
	if (n < 0) {
		err = errno;
		if (err != EAGAIN && err != EWOULDBLOCK && err != EINTR) {
			homa_dp_rx_reuse(r, 0, 1);
			homa_dp_errqueue(fd, NULL, icmp, arg);
		}
		return -err;
	}
	if (!r->msgs[0].msg_len) {
		homa_dp_rx_reuse(r, 0, 1);
		udp_wake_read(u, flags == 0);
		return 0;
	}
	if (m->msg_controllen) {
		pkts = udp_deliver_buf(&u->dp, m, r->msgs[0].msg_len, deliver,
				       arg);
	} else {
		if (!u->gro_live)
			udp_gro_want(u, r->iovs[0].iov_base,
				     r->msgs[0].msg_len);
		homa_dp_addr_from_sa(&src, m->msg_name);
		deliver(arg, &src, r->iovs[0].iov_base, r->msgs[0].msg_len);
	}
	homa_dp_rx_reuse(r, 0, 1);
	if (pkts)
		HOMA_DP_ADD(u->dp.rx_pkts, pkts);
	return 1;
}

/* The iovecs of one packet read into place pl, its header at hdr:
 * returns how many were written at v (at most 1 + HOMA_PLACE_SPANS). */
static int udp_place_iov(struct iovec *v, uint8_t *hdr,
			 const struct homa_place *pl)
{
	int k = 0;

	v[k++] = (struct iovec){ hdr, HOMA_PLACE_HDR };
	for (int j = 0; j < HOMA_PLACE_SPANS; j++)
		if (pl->span_bytes[j])
			v[k++] = (struct iovec){ pl->span[j],
						 pl->span_bytes[j] };
	return k;
}

/* Point the first n slots of msgs (buffers of buf_bytes at bufs) at the
 * places pl: header into the slot's buffer, payload into the spans, the
 * rest after room left in the buffer for homa_place_gather. */
static int udp_place_slots(struct mmsghdr *msgs, struct iovec *piovs,
			   uint8_t *bufs, size_t buf_bytes,
			   const struct homa_place *pl, int n)
{
	for (int i = 0; i < n; i++) {
		struct iovec *v = &piovs[i * (HOMA_PLACE_SPANS + 2)];
		uint8_t *buf = bufs + (size_t)i * buf_bytes;
		size_t used = HOMA_PLACE_HDR + pl[i].bytes;
		int k;

		if (used >= buf_bytes)
			return i; /* no room to gather it: read as usual */
		k = udp_place_iov(v, buf, &pl[i]);
		v[k++] = (struct iovec){ buf + used, buf_bytes - used };
		msgs[i].msg_hdr.msg_iov = v;
		msgs[i].msg_hdr.msg_iovlen = (size_t)k;
	}
	return n;
}

/* Segment size of the coalesced buffers this thread last read from the
 * socket it places into (0: none arrived coalesced): the next read into
 * places expects one such buffer (udp_gro_layout). */
static __thread size_t udp_gro_last;

/* Note message i of a read from the placing socket (udp_gro_last: the
 * largest segment size of the read's coalesced buffers, 0 if none). */
static void udp_gro_note(struct msghdr *m, size_t len, int i)
{
	int gro = udp_gro_seg(m);

	if (i == 0)
		udp_gro_last = 0;
	if (gro > 0 && (size_t)gro < len && (size_t)gro > udp_gro_last)
		udp_gro_last = (size_t)gro;
}

/* How many of the places pl[0..n) one coalesced buffer of segments of
 * seg bytes can fill, from the first: each must take a whole segment's
 * payload (seg - HOMA_PLACE_HDR bytes), and their headers with room to
 * gather them must fit buf_bytes. */
static int udp_gro_places(const struct homa_place *pl, int n, size_t seg,
			  size_t buf_bytes)
{
	int k = 0;

	if (seg <= HOMA_PLACE_HDR)
		return 0;
	while (k < n && (size_t)(k + 2) * seg <= buf_bytes) {
		size_t bytes = 0;

		for (int j = 0; j < HOMA_PLACE_SPANS; j++)
			bytes += pl[k].span_bytes[j];
		if (pl[k].bytes != seg - HOMA_PLACE_HDR || bytes != pl[k].bytes)
			break;
		k++;
	}
	return k;
}

/* Point slot m (buffer buf) at the places pl[0..k) for a buffer coalesced
 * from segments of seg bytes: segment j's header at buf + j * seg (the
 * rest of those seg bytes is room for homa_place_gather), its payload
 * in pl[j]'s spans; the segments after the k-th at buf + k * seg. */
static void udp_gro_layout(struct msghdr *m, struct iovec *v, uint8_t *buf,
			   size_t buf_bytes, const struct homa_place *pl, int k,
			   size_t seg)
{
	int n = 0;

	for (int j = 0; j < k; j++)
		n += udp_place_iov(v + n, buf + (size_t)j * seg, &pl[j]);
	v[n++] = (struct iovec){ buf + (size_t)k * seg,
				 buf_bytes - (size_t)k * seg };
	m->msg_iov = v;
	m->msg_iovlen = (size_t)n;
}

/* Whether the headers of the first k segments (seg bytes each, len in
 * all) at buf + j * seg are Homa packets of the first one's port pair
 * (homa_dp_gro_split checks the rest). */
static bool udp_gro_heads_ok(const uint8_t *buf, size_t len, size_t seg, int k)
{
	for (int j = 0; j < k && (size_t)j * seg < len; j++) {
		const uint8_t *h = buf + (size_t)j * seg;
		size_t bytes = len - (size_t)j * seg;

		if (bytes > seg)
			bytes = seg;
		if (bytes < HOMA_WIRE_COMMON_BYTES ||
		    (h[HOMA_WIRE_OFF_TYPE] == HOMA_PKT_DATA &&
		     bytes < HOMA_WIRE_DATA_BYTES) ||
		    memcmp(h, buf, HOMA_WIRE_OFF_DPORT + 2) != 0)
			return false;
	}
	return true;
}

/*
 * Deliver what slot m read with udp_gro_layout(k places, segments of seg
 * bytes at buf): the segments in places through placed, the others
 * through deliver. A buffer that does not fit the layout (another segment
 * size, a single longer packet) is copied back into one piece first and
 * split as usual. Returns the packets delivered.
 */
static int udp_gro_deliver(struct homa_dp *dp, struct msghdr *m, size_t len,
			   uint8_t *buf, int k, size_t seg,
			   homa_dp_deliver_fn deliver, homa_dp_placed_fn placed,
			   void *arg)
{
	int gro = udp_gro_seg(m), pkts = 0;
	size_t s = gro > 0 && (size_t)gro < len ? (size_t)gro : len, tail, t;
	struct homa_addr src;

	if (gro == 0 || (s != seg && !(s < seg && s == len))) {
		uint8_t *flat = homa_dp_thread_buf(2, UDP_RX_BUF);
		struct iovec fv = { flat, len };
		size_t off = 0;

		if (!flat)
			return 0;
		for (size_t i = 0; i < m->msg_iovlen && off < len; i++) {
			size_t n = m->msg_iov[i].iov_len < len - off
					   ? m->msg_iov[i].iov_len
					   : len - off;

			memcpy(flat + off, m->msg_iov[i].iov_base, n);
			off += n;
		}
		m->msg_iov = &fv;
		m->msg_iovlen = 1;
		return udp_deliver_buf(dp, m, len, deliver, arg);
	}
	tail = (size_t)k * s;
	if (s < len) { /* coalesced: check every segment's header */
		if (!udp_gro_heads_ok(buf, len, s, k) ||
		    (tail < len &&
		     (homa_dp_gro_split(buf + tail, len - tail, (int)s, &t) ==
			      0 ||
		      memcmp(buf + tail, buf, HOMA_WIRE_OFF_DPORT + 2) != 0))) {
			HOMA_DP_ADD(dp->rx_gro_bad, 1);
			return 0;
		}
		HOMA_DP_ADD(dp->rx_gro_bufs, 1);
	}
	homa_dp_addr_from_sa(&src, m->msg_name);
	for (int j = 0; j < k && (size_t)j * s < len; j++, pkts++)
		placed(arg, &src, buf + (size_t)j * s,
		       len - (size_t)j * s < s ? len - (size_t)j * s : s, j);
	for (size_t off = tail; off < len; off += s, pkts++)
		deliver(arg, &src, buf + off, len - off < s ? len - off : s);
	return pkts;
}

static int udp_rx_place(struct homa_dp *dp, const struct homa_place *pl,
			int num_pl, uint64_t gen, homa_dp_deliver_fn deliver,
			homa_dp_placed_fn placed, homa_dp_icmp_fn icmp,
			void *arg)
{
	struct udp_dp *u = (struct udp_dp *)dp;
	struct homa_dp_rx_ring *r;
	struct iovec piovs[HOMA_PLACE_MAX * (HOMA_PLACE_SPANS + 2)];
	int total = 0, calls = 0, pkts = 0, want = udp_rx_want, place_fd = -1;
	int skip_fd = -1, gro_k = 0;
	size_t gro_seg = udp_gro_last;
	int skip_port = __atomic_load_n(&dp->placing_port, __ATOMIC_RELAXED);
	unsigned start;

	if (num_pl > 0 && !__atomic_load_n(&u->gro_live, __ATOMIC_RELAXED))
		/* places: a message of several packets is coming */
		__atomic_store_n(&u->gro_wanted, 1, __ATOMIC_RELAXED);
	udp_gro_start(u);
	/* Readers pass ports_gate: a socket is not closed (and its number
	 * reused) while some thread may still read from it. */
	homa_dp_gate_enter(&u->ports_gate);
	if (num_pl > HOMA_PLACE_MAX)
		num_pl = HOMA_PLACE_MAX;
	/* Places belong to a socket's pool: not if a port closed since. */
	if (num_pl > 0 && dp->close_gen == gen)
		place_fd = u->port_fd[pl[0].port];
	else if (num_pl == 0 && skip_port >= 0)
		skip_fd = u->port_fd[skip_port]; /* the poller reads it */
	r = homa_dp_rx_ring(u->rx_buf_bytes, u->gro_live);
	if (!r || (skip_fd >= 0 && u->num_ports == 1)) {
		/* Nothing to read for this thread: the poller reads the
		 * only socket. */
		homa_dp_gate_leave(&u->ports_gate);
		return 0;
	}
	/* Each socket reads into the slots the previous ones left free:
	 * the packets delivered so far point into their buffers until the
	 * caller has fed them to the core. The first socket rotates
	 * (fairness). */
	start = __atomic_fetch_add(&u->rx_rotor, 1, __ATOMIC_RELAXED);
	for (int k = 0; k < u->num_ports && total < UDP_RX_MSGS; k++) {
		int fd = u->open_fds[(start + (unsigned)k) %
				     (unsigned)u->num_ports],
		    n, room = UDP_RX_MSGS - total, np = 0, cap, moved;
		struct mmsghdr *msgs = &r->msgs[total];
		struct iovec *iovs = &r->iovs[total];
		uint8_t *b = r->bufs + (size_t)total * u->rx_buf_bytes;

		if (fd == skip_fd)
			continue;
		gro_k = 0;
		/* A read into places offers a slot for each place. */
		cap = fd == place_fd && num_pl > want ? num_pl : want;
		if (room > cap)
			room = cap;
		if (fd == place_fd && gro_seg)
			gro_k = udp_gro_places(pl, num_pl, gro_seg,
					       u->rx_buf_bytes);
		if (gro_k > 0) /* one coalesced buffer expected: slot 0 */
			udp_gro_layout(&msgs[0].msg_hdr, piovs, b,
				       u->rx_buf_bytes, pl, gro_k, gro_seg);
		else if (fd == place_fd)
			np = udp_place_slots(msgs, piovs, b, u->rx_buf_bytes,
					     pl, num_pl < room ? num_pl : room);
		/* Slots pointed at places (or, below, elsewhere): put back
		 * after this read. */
		moved = gro_k > 0 ? 1 : np;
		n = homa_dp_recvmmsg(fd, msgs, (unsigned)room);
		calls++;
		if (n < 0) {
			want = udp_rx_next(want, room, n);
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				homa_dp_rx_reuse(r, total, 1);
				homa_dp_errqueue(fd, NULL, icmp, arg);
			}
			for (int i = 0; i < moved; i++)
				homa_dp_rx_restore(r, total + i);
			continue;
		}
		udp_burst_note(u, msgs, n);
		for (int i = 0; i < n; i++) {
			struct msghdr *m = &msgs[i].msg_hdr;
			size_t len = msgs[i].msg_len;
			struct homa_addr src;
			int seg;

			if (!len) {
				udp_wake_read(u, false);
				continue;
			}
			if (fd == place_fd)
				udp_gro_note(m, len, i);
			if (i == 0 && gro_k > 0) {
				pkts += udp_gro_deliver(dp, m, len, b, gro_k,
							gro_seg, deliver,
							placed, arg);
				gro_k = -1; /* done: the places are used */
				continue;
			}
			if (i >= np) {
				pkts += udp_deliver_buf(dp, m, len, deliver,
							arg);
				continue;
			}
			m->msg_iov = &iovs[i]; /* the slot's own buffer */
			m->msg_iovlen = 1;
			seg = udp_gro_seg(m);
			if (seg >= 0 && (size_t)seg < len) {
				/* Several packets coalesced: not one
				 * placed packet. Split them as usual. */
				homa_place_gather(iovs[i].iov_base, len,
						  &pl[i]);
				pkts += udp_deliver_buf(dp, m, len, deliver,
							arg);
				continue;
			}
			homa_dp_addr_from_sa(&src, m->msg_name);
			placed(arg, &src, iovs[i].iov_base, len, i);
			pkts++;
		}
		for (int i = 0; i < moved; i++)
			homa_dp_rx_restore(r, total + i);
		homa_dp_rx_reuse(r, total, n);
		total += n;
		want = udp_rx_next(want, room, n); /* udp_rx_want */
	}
	udp_rx_want = want;
	homa_dp_gate_leave(&u->ports_gate);
	HOMA_DP_ADD(dp->rx_calls, calls);
	if (pkts)
		HOMA_DP_ADD(dp->rx_pkts, pkts);
	return total;
}

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

	if (udp_rx_want != 1)
		return udp_rx_place(dp, NULL, 0, 0, deliver, NULL, icmp, arg);
	/* One slot: udp_rx_lone, if there is one socket and the poller
	 * does not read it into places (else as udp_rx_place). */
	udp_gro_start(u);
	homa_dp_gate_enter(&u->ports_gate);
	if (u->num_ports != 1 ||
	    __atomic_load_n(&dp->placing_port, __ATOMIC_RELAXED) >= 0 ||
	    !(r = homa_dp_rx_ring(u->rx_buf_bytes, u->gro_live))) {
		homa_dp_gate_leave(&u->ports_gate);
		return udp_rx_place(dp, NULL, 0, 0, deliver, NULL, icmp, arg);
	}
	n = udp_rx_lone(u, r, u->open_fds[0], deliver, icmp, arg,
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
	for (int p = 0; p < UDP_MAX_PORTS; p++)
		if (u->port_fd[p] >= 0)
			close(u->port_fd[p]);
	close(dp->epfd);
	homa_dp_gate_destroy(&u->ports_gate);
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
	u->batch.sock_tos_set = true;
	u->batch.sock_tos = HOMA_DP_SOCK_PRIO << HOMA_WIRE_TOS_PRIO_SHIFT;
	u->next_port = HOMA_MIN_CLIENT_PORT - 1;
	u->rx_buf_bytes = opts->gro ? UDP_RX_BUF : HOMA_DP_PKT_MAX + 512;
	u->port_fd = malloc(UDP_MAX_PORTS * sizeof(int));
	u->port_family = calloc(UDP_MAX_PORTS, sizeof(int));
	u->open_fds = calloc(UDP_MAX_PORTS, sizeof(int));
	u->open_ports = calloc(UDP_MAX_PORTS, sizeof(uint16_t));
	u->dp.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!u->port_fd || !u->port_family || !u->open_fds || !u->open_ports ||
	    u->dp.epfd < 0) {
		if (u->dp.epfd >= 0)
			close(u->dp.epfd);
		free(u->port_fd);
		free(u->port_family);
		free(u->open_fds);
		free(u->open_ports);
		free(u);
		return -ENOMEM;
	}
	for (int p = 0; p < UDP_MAX_PORTS; p++)
		u->port_fd[p] = -1;
	homa_dp_gate_init(&u->ports_gate);
	*out = &u->dp;
	return 0;
}
