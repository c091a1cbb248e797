/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * raw.c - the raw IP protocol 146 datapath (opt-in, needs CAP_NET_RAW):
 * the exact wire format of Linux Homa, so this library can talk to hosts
 * running the kernel module. One raw socket per family per process
 * receives every Homa packet of the host and keeps those whose
 * destination port this process owns; ports are reserved host-wide by
 * binding a UDP socket to the same number (never read). A BPF socket
 * filter on each raw socket, rebuilt whenever the port set changes, lets
 * the kernel drop packets for other ports (another process's, or the
 * packets this process sends to others over loopback) before they take
 * space in the receive queue; user space checks the port again. The kernel
 * protects only the IP header, so the checksum field is filled as Linux
 * Homa does (TCP-style over a pseudo-header, spec 1.9) and can be checked
 * on receive (verify_csum).
 *
 * Closed ports: Linux answers a packet for a port without a socket with
 * ICMP port unreachable. Here no process alone knows that a port is closed
 * host-wide, so one raw process per network namespace, the answerer (the
 * holder of an abstract Unix socket name, released by the kernel when it
 * dies), also takes RESEND and NEED_ACK packets for other ports: a client
 * asking a dead or absent server for its response, a server asking a
 * departed client for its ack. If no process holds the port (binding its
 * UDP reservation succeeds), it answers port unreachable, so the client
 * fails with ENOTCONN and the server drops the RPC, within a resend
 * interval. Only these two rare types pass its filter, so the answerer
 * does not copy other processes' data. Another process takes the role
 * when it next opens or closes a port.
 *
 * A full receive queue: since Linux 6.9 the kernel passes over a raw
 * socket whose receive queue is full when it looks for one to take a
 * packet, and when it finds none it answers the sender ICMP protocol
 * unreachable (IPv6: parameter problem, unknown next header), which a
 * Homa client takes for "no Homa on this host" and fails every RPC to
 * it with EPROTONOSUPPORT. A process that falls behind (an overloaded
 * server, a stalled machine) would do that to its clients. So each
 * family also has a guard: a raw socket of protocol 146, never read,
 * whose filter drops every packet, so that its queue never fills. The
 * kernel always finds it and never declares Homa absent while this
 * process lives; a packet the full queue could not take is only lost,
 * and retransmission recovers it. Cost: one more clone per packet, freed
 * by the filter. (test_dp_raw_full)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <time.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "datapath.h"
#include "homa.h"
#include "wire.h"

#define RAW_RX_MSGS	 HOMA_DP_RX_MSGS
#define RAW_RX_BUF	 65536 /* bytes per receive buffer: an IP datagram */
#define RAW_MAX_PORTS	 65536
#define RAW_ROUTES	 64   /* cached source addresses (direct-mapped) */
#define RAW_FILTER_PORTS 1000 /* more open ports: no kernel filter */
#define RAW_ANSWER_NAME	 "libhoma-raw-146-answerer" /* abstract */
#define RAW_OWNED_SLOTS	 256	  /* ports seen held by others (cache) */
#define RAW_OWNED_NS	 20000000 /* trust "held" that long, ns */
#define RAW_V6_IDLE_NS	 5000	  /* idle IPv6 socket: read this often, ns */
#define RAW_V6_BUSY_NS                                                         \
	1000000 /* IPv6 read every pass this long after
				   * it last had data, ns */

struct raw_route {
	struct homa_addr dst; /* destination */
	struct homa_addr src; /* our address toward it */
	bool valid;	      /* entry in use */
};

struct raw_dp {
	struct homa_dp dp;	    /* common part (first) */
	struct homa_dp_opts opts;   /* options in force */
	int fd4, fd6;		    /* raw sockets, -1 if unavailable */
	int guard4, guard6;	    /* never-full sockets (see top), -1 none */
	int *port_fd;		    /* port -> reserving UDP socket, -1 none */
	int next_port;		    /* last client port tried */
	struct homa_dp_batch batch; /* packets waiting for flush */
	struct raw_route routes[RAW_ROUTES]; /* source address cache */
	uint16_t *ports;		     /* the open ports (compact) */
	int num_ports;			     /* entries in ports */
	int answer_fd; /* abstract socket held as answerer, -1 if not */
	pthread_mutex_t answer_lock; /* serializes the answerer's probes and
				      * every port unreachable sent */
	struct {
		uint16_t port;	   /* a port of another process */
		uint64_t until_ns; /* believed held until then, ns */
	} owned[RAW_OWNED_SLOTS];  /* direct-mapped by port */
	uint64_t v6_read_ns;	   /* when fd6 was last read (any thread), ns */
	uint64_t v6_data_ns;	   /* when a read of fd6 last found data, ns */
};

/* One socket's filter: accept packets whose Homa destination port (2
 * bytes at 2, after the IPv4 header when ip_hdr) is open. An unreadable
 * port (packet too short) is dropped by BPF itself. */
static void raw_filter_attach(const struct raw_dp *r, int fd, bool ip_hdr)
{
	static struct sock_filter prog[2 + 4 + 2 * RAW_FILTER_PORTS + 1];
	struct sock_fprog fprog = { 0, prog };
	int n = 0;

	if (fd < 0)
		return;
	if (r->num_ports > RAW_FILTER_PORTS) {
		setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, NULL, 0);
		return;
	}
	if (ip_hdr)
		prog[n++] = (struct sock_filter)BPF_STMT(
			BPF_LDX | BPF_B | BPF_MSH, 0); /* X = IHL * 4 */
	if (r->answer_fd >= 0) {
		/* The answerer: every RESEND and NEED_ACK (type byte 11). */
		prog[n++] = (struct sock_filter)BPF_STMT(
			BPF_LD | BPF_B | (ip_hdr ? BPF_IND : BPF_ABS), 11);
		prog[n++] = (struct sock_filter)BPF_JUMP(
			BPF_JMP | BPF_JEQ | BPF_K, HOMA_PKT_RESEND, 1, 0);
		prog[n++] = (struct sock_filter)BPF_JUMP(
			BPF_JMP | BPF_JEQ | BPF_K, HOMA_PKT_NEED_ACK, 0, 1);
		prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
							 0xffffffffu);
	}
	if (ip_hdr) {
		prog[n++] = (struct sock_filter)BPF_STMT(
			BPF_LD | BPF_H | BPF_IND, 2);
	} else {
		prog[n++] = (struct sock_filter)BPF_STMT(
			BPF_LD | BPF_H | BPF_ABS, 2);
	}
	for (int i = 0; i < r->num_ports; i++) {
		prog[n++] = (struct sock_filter)BPF_JUMP(
			BPF_JMP | BPF_JEQ | BPF_K, r->ports[i], 0, 1);
		prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
							 0xffffffffu);
	}
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	fprog.len = (unsigned short)n;
	setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog));
}

/* The guard of family af (see the head of the file), -1 if none. */
static int raw_guard_open(int af)
{
	static struct sock_filter drop_all[] = {
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog fprog = { 1, drop_all };
	int fd = socket(af, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_HOMA);

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog,
		       sizeof(fprog)) < 0) {
		close(fd); /* it would fill: no use */
		return -1;
	}
	return fd;
}

/* Become the namespace's answerer if no live process is (lock held). */
static void raw_answer_try(struct raw_dp *r)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
				    strlen(RAW_ANSWER_NAME));
	int fd;

	if (r->answer_fd >= 0)
		return;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	memcpy(sa.sun_path + 1, RAW_ANSWER_NAME, strlen(RAW_ANSWER_NAME));
	if (bind(fd, (struct sockaddr *)&sa, len) < 0) {
		close(fd);
		return;
	}
	__atomic_store_n(&r->answer_fd, fd, __ATOMIC_RELAXED);
	raw_filter_attach(r, r->fd4, true);
	raw_filter_attach(r, r->fd6, false);
}

/* The port set changed: note it and refilter (library lock held). */
static void raw_ports_changed(struct raw_dp *r, uint16_t port, bool open)
{
	if (open) {
		r->ports[r->num_ports++] = port;
	} else {
		for (int i = 0; i < r->num_ports; i++) {
			if (r->ports[i] == port) {
				r->ports[i] = r->ports[--r->num_ports];
				break;
			}
		}
	}
	raw_answer_try(r); /* the answerer may have gone */
	raw_filter_attach(r, r->fd4, true);
	raw_filter_attach(r, r->fd6, false);
}

/* Does some process of the host hold port (its UDP reservation)? */
static bool raw_port_held(uint16_t port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0), zero = 0;
	bool held;

	if (fd < 0)
		return true; /* cannot tell: stay silent */
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	sa.sin6_port = htons(port);
	held = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0;
	close(fd);
	return held;
}

/*
 * The answerer got a RESEND or NEED_ACK for port dport, which this
 * process does not hold: port unreachable if no process does (see the
 * head of the file). Any reading thread; takes answer_lock.
 */
static void raw_answer(struct raw_dp *r, const struct homa_addr *src,
		       uint16_t dport, const uint8_t *pkt, size_t len)
{
	unsigned slot = dport % RAW_OWNED_SLOTS;
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	pthread_mutex_lock(&r->answer_lock);
	if (r->owned[slot].port == dport && now < r->owned[slot].until_ns)
		goto out;
	if (raw_port_held(dport)) {
		r->owned[slot].port = dport;
		r->owned[slot].until_ns = now + RAW_OWNED_NS;
		goto out;
	}
	homa_dp_port_unreachable(&r->dp, IPPROTO_HOMA, src, pkt, len);
out:
	pthread_mutex_unlock(&r->answer_lock);
}

static int raw_port_open(struct homa_dp *dp, int family, uint16_t port)
{
	struct raw_dp *r = (struct raw_dp *)dp;
	int zero = 0;

	(void)family;
	for (int tries = 0; tries < 0x10000 - HOMA_MIN_CLIENT_PORT; tries++) {
		struct sockaddr_in6 sa;
		uint16_t want = port;
		int fd;

		if (!port) {
			r->next_port = homa_next_client_port(r->next_port);
			want = (uint16_t)r->next_port;
		}
		fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		memset(&sa, 0, sizeof(sa));
		sa.sin6_family = AF_INET6;
		sa.sin6_port = htons(want);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			__atomic_store_n(&r->port_fd[want], fd,
					 __ATOMIC_RELAXED);
			raw_ports_changed(r, want, true);
			return want;
		}
		close(fd);
		if (port)
			return -EADDRINUSE;
	}
	return -EADDRNOTAVAIL;
}

static void raw_port_close(struct homa_dp *dp, uint16_t port)
{
	struct raw_dp *r = (struct raw_dp *)dp;

	if (r->port_fd[port] >= 0) {
		close(r->port_fd[port]);
		__atomic_store_n(&r->port_fd[port], -1, __ATOMIC_RELAXED);
		raw_ports_changed(r, port, false);
	}
}

/* Our source address toward dst (a route lookup, cached). */
static const struct homa_addr *raw_source(struct raw_dp *r,
					  const struct homa_addr *dst)
{
	unsigned h =
		(unsigned)(dst->a[15] ^ dst->a[14] * 7u ^ dst->a[13] * 31u) %
		RAW_ROUTES;
	struct raw_route *rt = &r->routes[h];
	struct sockaddr_in6 sa;
	socklen_t len;
	int fd;

	if (rt->valid && memcmp(&rt->dst, dst, sizeof(*dst)) == 0)
		return &rt->src;
	len = (socklen_t)homa_dp_sa_from_addr(dst, 9, &sa);
	fd = socket(sa.sin6_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	if (connect(fd, (struct sockaddr *)&sa, len) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		close(fd);
		return NULL;
	}
	close(fd);
	rt->dst = *dst;
	homa_dp_addr_from_sa(&rt->src, &sa);
	rt->valid = true;
	return &rt->src;
}

static void raw_xmit(struct homa_dp *dp, const struct homa_out_pkt *p)
{
	struct raw_dp *r = (struct raw_dp *)dp;
	bool v4 = homa_addr_is_v4(p->dst);
	const struct homa_addr *src;
	uint8_t *data;
	uint16_t csum;

	data = homa_dp_batch_add(dp, &r->batch, v4 ? r->fd4 : r->fd6, -1, false,
				 false, p);
	if (!data)
		return;
	/* Raw sockets have no port: the batch wrote one into the address,
	 * which the kernel ignores for raw sockets (it reads sin_port as
	 * the protocol for IPv6, so clear it). */
	r->batch.pkts[r->batch.num_pkts - 1].dst.sin6_port = 0;
	src = raw_source(r, p->dst);
	if (!src)
		return;
	csum = homa_dp_checksum(src, p->dst, data,
				p->hdr_bytes + p->payload_bytes);
	homa_wire_poke16(data, HOMA_WIRE_OFF_CHECKSUM, csum);
}

static void raw_flush(struct homa_dp *dp)
{
	struct homa_dp_batch *b = &((struct raw_dp *)dp)->batch;

	homa_dp_batch_flush(dp, b); /* inline: a call only if one is queued */
}

/* What raw_deliver did with a packet (for the counters). */
enum raw_verdict { RAW_DELIVERED, RAW_FILTERED, RAW_BAD_CSUM };

/* Keep a packet only if it is for one of our ports (and checks out). */
static enum raw_verdict raw_deliver(struct raw_dp *r,
				    const struct homa_addr *src,
				    const struct homa_addr *dst,
				    const uint8_t *pkt, size_t len,
				    homa_dp_deliver_fn deliver, void *arg)
{
	uint16_t dport, csum;
	uint8_t type;

	if (len < HOMA_WIRE_COMMON_BYTES) {
		deliver(arg, src, pkt, len); /* the core counts it */
		return RAW_DELIVERED;
	}
	dport = homa_wire_peek16(pkt, HOMA_WIRE_OFF_DPORT);
	/* port_fd changes under the library lock; readers do not take it. */
	if (__atomic_load_n(&r->port_fd[dport], __ATOMIC_RELAXED) < 0) {
		type = homa_wire_peek_type(pkt, len);
		if ((type == HOMA_PKT_RESEND || type == HOMA_PKT_NEED_ACK) &&
		    __atomic_load_n(&r->answer_fd, __ATOMIC_RELAXED) >= 0)
			raw_answer(r, src, dport, pkt, len);
		return RAW_FILTERED;
	}
	if (r->opts.verify_csum && dst) {
		csum = homa_wire_peek16(pkt, HOMA_WIRE_OFF_CHECKSUM);
		if (csum != homa_dp_checksum(src, dst, pkt, len))
			return RAW_BAD_CSUM;
	}
	deliver(arg, src, pkt, len);
	return RAW_DELIVERED;
}

/* Datagram slots the calling thread offers its next read (1 to
 * RAW_RX_MSGS), by UDP's rule (udp_rx_want): a read that fills its slots
 * keeps their number, only a second full read in a row (a burst) doubles
 * it, a partial read offers as many as came. A ping-pong offers 1 (a
 * recvmsg), not 1 and 2 in turn (half its reads paying the kernel's
 * empty try of the second slot). */
static __thread unsigned raw_rx_want = RAW_RX_MSGS;
static __thread bool raw_rx_full; /* the last read filled its slots */

/* Read from fd into the receive buffers from index `used` on (those
 * below hold packets already delivered by the other socket). */
static int raw_rx_one(struct raw_dp *r, int fd, bool v4, int used,
		      homa_dp_deliver_fn deliver, homa_dp_icmp_fn icmp,
		      void *arg)
{
	struct homa_dp_rx_ring *ring = homa_dp_rx_ring(RAW_RX_BUF, false);
	unsigned room = (unsigned)(RAW_RX_MSGS - used);
	struct iovec *iovs;
	struct sockaddr_in6 *names;
	int n, counts[3] = { 0, 0, 0 };

	if (!ring || !room)
		return 0;
	if (room > raw_rx_want)
		room = raw_rx_want;
	iovs = &ring->iovs[used];
	names = &ring->names[used];
	n = homa_dp_recvmmsg(fd, &ring->msgs[used], room);
	HOMA_DP_ADD(r->dp.rx_calls, 1);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
		homa_dp_rx_reuse(ring, used, 1);
		/* ICMP errors pending; those about other processes' packets
		 * (every raw socket of the host gets them) are counted with
		 * the packets for ports not ours: either is read in vain. */
		HOMA_DP_ADD(r->dp.rx_filtered,
			    homa_dp_errqueue(fd, r->port_fd, icmp, arg));
	}
	if (n <= 0) {
		if (!used) /* an empty pass so far: no burst */
			raw_rx_full = false;
		return 0;
	}
	homa_dp_rx_reuse(ring, used, n);
	if ((unsigned)n < room)
		raw_rx_want = (unsigned)n;
	else if (raw_rx_full)
		raw_rx_want = 2 * room < RAW_RX_MSGS ? 2 * room : RAW_RX_MSGS;
	else
		raw_rx_want = room;
	raw_rx_full = (unsigned)n == room;
	for (int i = 0; i < n; i++) {
		const uint8_t *p = iovs[i].iov_base;
		size_t len = ring->msgs[used + i].msg_len;
		struct homa_addr src, dst;

		homa_dp_addr_from_sa(&src, &names[i]);
		if (!v4) {
			counts[raw_deliver(r, &src, NULL, p, len, deliver,
					   arg)]++;
			continue;
		}
		/* IPv4 raw sockets deliver the IP header too. */
		size_t ihl = len ? (size_t)(p[0] & 0xF) * 4 : 0;

		if (ihl < HOMA_WIRE_IPV4_BYTES || ihl > len)
			continue;
		homa_addr_set_v4(&dst, p + 16); /* the IPv4 destination */
		counts[raw_deliver(r, &src, &dst, p + ihl, len - ihl, deliver,
				   arg)]++;
	}
	HOMA_DP_ADD(r->dp.rx_pkts, counts[RAW_DELIVERED]);
	HOMA_DP_ADD(r->dp.rx_filtered, counts[RAW_FILTERED]);
	HOMA_DP_ADD(r->dp.rx_bad_csum, counts[RAW_BAD_CSUM]);
	return n;
}

/*
 * Whether this pass reads the IPv6 socket as well as the IPv4 one. A
 * process with only IPv4 traffic would pay an empty IPv6 read (a system
 * call, about 0.3 us) on every pass of a spinning poller. So while fd6
 * is idle it is read at most every RAW_V6_IDLE_NS (by any thread), and
 * on every pass while it had data within RAW_V6_BUSY_NS. Nothing is
 * lost: a packet waits in the queue at most RAW_V6_IDLE_NS longer, and
 * a poller woken from epoll by fd6 alone finds it on its first read
 * (more than RAW_V6_IDLE_NS after the last one, as a rule) or within
 * RAW_V6_IDLE_NS of spinning or level-triggered wake-ups. Races between
 * threads cost at most an extra read or one skipped. (test_dp_raw_rx)
 */
static bool raw_rx_v6_due(struct raw_dp *r)
{
	struct timespec ts;
	uint64_t now;

	if (r->fd4 < 0)
		return true;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if (now - __atomic_load_n(&r->v6_data_ns, __ATOMIC_RELAXED) <
		    RAW_V6_BUSY_NS ||
	    now - __atomic_load_n(&r->v6_read_ns, __ATOMIC_RELAXED) >=
		    RAW_V6_IDLE_NS) {
		__atomic_store_n(&r->v6_read_ns, now, __ATOMIC_RELAXED);
		return true;
	}
	return false;
}

static int raw_rx(struct homa_dp *dp, homa_dp_deliver_fn deliver,
		  homa_dp_icmp_fn icmp, void *arg)
{
	struct raw_dp *r = (struct raw_dp *)dp;
	int n = 0, n6;

	if (r->fd4 >= 0)
		n += raw_rx_one(r, r->fd4, true, 0, deliver, icmp, arg);
	if (r->fd6 >= 0 && n < RAW_RX_MSGS && raw_rx_v6_due(r)) {
		n6 = raw_rx_one(r, r->fd6, false, n, deliver, icmp, arg);
		if (n6 > 0)
			__atomic_store_n(&r->v6_data_ns,
					 __atomic_load_n(&r->v6_read_ns,
							 __ATOMIC_RELAXED),
					 __ATOMIC_RELAXED);
		n += n6;
	}
	return n;
}

static void raw_unreachable(struct homa_dp *dp, const struct homa_addr *src,
			    const uint8_t *pkt, size_t bytes)
{
	struct raw_dp *r = (struct raw_dp *)dp;

	pthread_mutex_lock(&r->answer_lock); /* raw_answer sends too */
	homa_dp_port_unreachable(dp, IPPROTO_HOMA, src, pkt, bytes);
	pthread_mutex_unlock(&r->answer_lock);
}

static void raw_destroy(struct homa_dp *dp)
{
	struct raw_dp *r = (struct raw_dp *)dp;

	homa_dp_icmp_close(dp);
	if (r->answer_fd >= 0)
		close(r->answer_fd);
	pthread_mutex_destroy(&r->answer_lock);
	for (int p = 0; p < RAW_MAX_PORTS; p++)
		if (r->port_fd[p] >= 0)
			close(r->port_fd[p]);
	if (r->fd4 >= 0)
		close(r->fd4);
	if (r->fd6 >= 0)
		close(r->fd6);
	if (r->guard4 >= 0)
		close(r->guard4);
	if (r->guard6 >= 0)
		close(r->guard6);
	close(dp->epfd);
	free(r->port_fd);
	free(r->ports);
	free(r);
}

/* Put the raw receive sockets into the epoll set or take them out
 * (datapath.h). They are made at creation and closed only by destroy,
 * so no gate is needed; ports opened meanwhile change nothing here. */
static void raw_arm(struct homa_dp *dp, bool on)
{
	struct raw_dp *r = (struct raw_dp *)dp;
	struct epoll_event ev = { .events = EPOLLIN };
	int fds[2] = { r->fd4, r->fd6 };

	for (int i = 0; i < 2; i++) {
		if (fds[i] < 0)
			continue;
		/* EEXIST / ENOENT: already as wanted. */
		if (on)
			epoll_ctl(dp->epfd, EPOLL_CTL_ADD, fds[i], &ev);
		else
			epoll_ctl(dp->epfd, EPOLL_CTL_DEL, fds[i], NULL);
	}
}

static const struct homa_dp_ops raw_ops = {
	.name = "raw",
	.port_open = raw_port_open,
	.port_close = raw_port_close,
	.xmit = raw_xmit,
	.flush = raw_flush,
	.rx = raw_rx,
	.unreachable = raw_unreachable,
	.arm = raw_arm,
	.destroy = raw_destroy,
};

static int raw_open(int af, int epfd, const struct homa_dp_opts *opts)
{
	int fd = socket(af, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			IPPROTO_HOMA);
	struct epoll_event ev = { .events = EPOLLIN };
	int one = 1;

	if (fd < 0)
		return -errno;
	/* ICMP errors about our packets come to the error queue (spec
	 * 6.4); raw_rx reads it when a receive reports one pending. */
	if (af == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	else
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
	/* A raw socket gets every Homa packet of the host: give it the
	 * receive buffer asked for (FORCE passes rmem_max; raw sockets
	 * need privilege anyway), else bursts overflow the default. */
	if (opts->rcvbuf_bytes &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &opts->rcvbuf_bytes,
		       sizeof(int)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &opts->rcvbuf_bytes,
			   sizeof(int));
	ev.data.u32 = (uint32_t)af;
	epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
	return fd;
}

/*
 * Where this process starts handing out client ports (the one before it):
 * a random client port (HOMA_MIN_CLIENT_PORT-65535), so that a process started right after
 * another does not take the port its predecessor just used, for which a
 * server may still hold RPCs (ids, acks, NEED_ACKs) of the dead process.
 */
static int raw_first_port(void)
{
	uint32_t v;

	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
		v = (uint32_t)getpid() * 2654435761u ^ (uint32_t)time(NULL);
	return HOMA_MIN_CLIENT_PORT - 1 +
	       (int)(v % (0x10000 - HOMA_MIN_CLIENT_PORT));
}

int homa_dp_raw_create(const struct homa_dp_opts *opts, struct homa_dp **out)
{
	struct raw_dp *r = calloc(1, sizeof(*r));
	int ret;

	if (!r)
		return -ENOMEM;
	r->dp.ops = &raw_ops;
	r->opts = *opts;
	r->next_port = raw_first_port();
	r->answer_fd = -1;
	r->guard4 = r->guard6 = -1;
	pthread_mutex_init(&r->answer_lock, NULL);
	r->port_fd = malloc(RAW_MAX_PORTS * sizeof(int));
	r->ports = malloc(RAW_MAX_PORTS * sizeof(uint16_t));
	r->dp.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!r->port_fd || !r->ports || r->dp.epfd < 0) {
		ret = -ENOMEM;
		goto fail;
	}
	for (int p = 0; p < RAW_MAX_PORTS; p++)
		r->port_fd[p] = -1;
	r->fd4 = raw_open(AF_INET, r->dp.epfd, opts);
	if (r->fd4 < 0) {
		ret = r->fd4; /* -EPERM without CAP_NET_RAW */
		goto fail;
	}
	r->fd6 = raw_open(AF_INET6, r->dp.epfd, opts);
	if (r->fd6 < 0)
		r->fd6 = -1;		    /* IPv6 may be absent: IPv4 only */
	raw_filter_attach(r, r->fd4, true); /* no ports yet: nothing */
	raw_filter_attach(r, r->fd6, false);
	r->guard4 = raw_guard_open(AF_INET);
	if (r->fd6 >= 0)
		r->guard6 = raw_guard_open(AF_INET6);
	raw_answer_try(r);
	*out = &r->dp;
	return 0;

fail:
	if (r->dp.epfd >= 0)
		close(r->dp.epfd);
	free(r->port_fd);
	free(r->ports);
	free(r);
	return ret;
}
