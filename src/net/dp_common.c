/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dp_common.c - what the UDP and raw datapaths share: address
 * conversion, the Homa and Internet checksums, per-thread receive
 * buffers and their recvmmsg slots (the receive ring), the gate that guards a datapath's
 * socket set against concurrent readers and the reading of ICMP errors
 * from a socket's error queue. Route lookups are in dp_route.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <time.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "datapath.h"

int homa_dp_sa_from_addr(const struct homa_addr *a, uint16_t port, void *sa)
{
	if (homa_addr_is_v4(a)) {
		struct sockaddr_in *in = sa;

		memset(in, 0, sizeof(*in));
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		memcpy(&in->sin_addr, &a->a[12], 4);
		return sizeof(*in);
	}
	struct sockaddr_in6 *in6 = sa;

	memset(in6, 0, sizeof(*in6));
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(port);
	memcpy(&in6->sin6_addr, a->a, 16);
	return sizeof(*in6);
}

static uint32_t homa_csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (i < n)
		sum += (uint32_t)(p[i] << 8);
	return sum;
}

/* Fold a 32-bit sum of 16-bit words and complement it. */
static uint16_t homa_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t homa_dp_inet_csum(const uint8_t *p, size_t n)
{
	return homa_csum_fold(homa_csum_add(0, p, n));
}

uint16_t homa_dp_checksum(const struct homa_addr *src,
			  const struct homa_addr *dst, const uint8_t *pkt,
			  size_t bytes)
{
	uint32_t sum = 0;
	uint8_t tail[4];

	if (homa_addr_is_v4(src)) {
		sum = homa_csum_add(sum, &src->a[12], 4);
		sum = homa_csum_add(sum, &dst->a[12], 4);
	} else {
		sum = homa_csum_add(sum, src->a, 16);
		sum = homa_csum_add(sum, dst->a, 16);
	}
	tail[0] = (uint8_t)(bytes >> 24);
	tail[1] = (uint8_t)(bytes >> 16);
	tail[2] = (uint8_t)(bytes >> 8);
	tail[3] = (uint8_t)bytes;
	sum = homa_csum_add(sum, tail, 4);
	sum += 6; /* IPPROTO_TCP, as Linux Homa computes it */
	sum = homa_csum_add(sum, pkt,
			    bytes < HOMA_WIRE_OFF_CHECKSUM
				    ? bytes
				    : HOMA_WIRE_OFF_CHECKSUM);
	if (bytes > HOMA_WIRE_OFF_CHECKSUM + 2)
		sum = homa_csum_add(sum, pkt + HOMA_WIRE_OFF_CHECKSUM + 2,
				    bytes - HOMA_WIRE_OFF_CHECKSUM - 2);
	return homa_csum_fold(sum);
}

/* Per-thread scratch buffers: several threads may read packets at once
 * (the poller and busy-polling waiters), each into its own memory. */
static pthread_key_t homa_dp_keys[HOMA_DP_TLS_SLOTS];
static pthread_once_t homa_dp_keys_once = PTHREAD_ONCE_INIT;
static uint64_t homa_dp_tls_total; /* bytes of all threads' buffers
				    * (atomic) */

/* Each buffer starts with its size (HOMA_DP_TLS_HDR bytes, keeping
 * malloc's alignment), which the thread-exit destructor takes off the
 * total. */
#define HOMA_DP_TLS_HDR 64

static void homa_dp_tls_free(void *base)
{
	__atomic_fetch_sub(&homa_dp_tls_total, *(uint64_t *)base,
			   __ATOMIC_RELAXED);
	free(base);
}

static void homa_dp_keys_init(void)
{
	for (int i = 0; i < HOMA_DP_TLS_SLOTS; i++)
		pthread_key_create(&homa_dp_keys[i], homa_dp_tls_free);
}

uint64_t homa_dp_thread_buf_bytes(void)
{
	return __atomic_load_n(&homa_dp_tls_total, __ATOMIC_RELAXED);
}

/* The same pointers without the lookup (every poll asks for them). */
__thread void *homa_dp_tls[HOMA_DP_TLS_SLOTS];

void *homa_dp_thread_buf_alloc(int slot, size_t bytes)
{
	void *p;

	pthread_once(&homa_dp_keys_once, homa_dp_keys_init);
	p = pthread_getspecific(homa_dp_keys[slot]);
	if (p) {
		p = (uint8_t *)p + HOMA_DP_TLS_HDR;
	} else {
		/* Written whole now, not page by page as large datagrams
		 * first reach a slot: the buffer is resident from the
		 * thread's first read (bytes, e.g. 1 MB), and the process's
		 * memory does not creep up for minutes afterwards. A store
		 * per page: the compiler turns malloc and memset into calloc,
		 * whose fresh pages stay unmapped until the kernel writes a
		 * datagram there (a raw client's RSS stepped up by 1.5 MB at
		 * 106 s of a soak). */
		size_t total = HOMA_DP_TLS_HDR + bytes;
		uint8_t *base = calloc(1, total);

		if (base) {
			volatile uint8_t *page = base;

			for (size_t i = 0; i < total; i += 4096)
				page[i] = 0;
			*(uint64_t *)base = total;
			pthread_setspecific(homa_dp_keys[slot], base);
			__atomic_fetch_add(&homa_dp_tls_total, (uint64_t)total,
					   __ATOMIC_RELAXED);
			p = base + HOMA_DP_TLS_HDR;
		}
	}
	homa_dp_tls[slot] = p;
	return p;
}

void homa_dp_gate_init(struct homa_dp_gate *g)
{
	g->readers = 0;
	g->closed = 0;
	pthread_mutex_init(&g->writers, NULL);
}

void homa_dp_gate_destroy(struct homa_dp_gate *g)
{
	pthread_mutex_destroy(&g->writers);
}

void homa_dp_gate_enter_slow(struct homa_dp_gate *g)
{
	for (;;) {
		/* Out again, so that the writer's wait ends. */
		__atomic_fetch_sub(&g->readers, 1, __ATOMIC_SEQ_CST);
		while (__atomic_load_n(&g->closed, __ATOMIC_ACQUIRE))
			sched_yield();
		__atomic_fetch_add(&g->readers, 1, __ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&g->closed, __ATOMIC_SEQ_CST))
			return;
	}
}

void homa_dp_gate_close_wake(struct homa_dp_gate *g, void (*wake)(void *),
			     void *arg)
{
	pthread_mutex_lock(&g->writers);
	__atomic_store_n(&g->closed, 1, __ATOMIC_SEQ_CST);
	/* A reader asleep in rx_sleep: woken at once, and again every few
	 * thousand yields in case another reader took the wake-up. */
	for (unsigned i = 0; __atomic_load_n(&g->readers, __ATOMIC_SEQ_CST);
	     i++) {
		if (wake && !(i & 4095))
			wake(arg);
		sched_yield();
	}
}

void homa_dp_gate_close(struct homa_dp_gate *g)
{
	homa_dp_gate_close_wake(g, NULL, NULL);
}

void homa_dp_gate_open(struct homa_dp_gate *g)
{
	__atomic_store_n(&g->closed, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&g->writers);
}

/* The errno an ICMP error means for Homa (spec 6.4, as Linux Homa's
 * error handlers decide it), 0 if it ends no RPC. */
static int homa_dp_icmp_errno(const struct sock_extended_err *ee)
{
	if (ee->ee_origin == SO_EE_ORIGIN_ICMP && ee->ee_type == 3)
		return ee->ee_code == 3	  ? ENOTCONN
		       : ee->ee_code == 2 ? EPROTONOSUPPORT
					  : EHOSTUNREACH;
	if (ee->ee_origin == SO_EE_ORIGIN_ICMP6 && ee->ee_type == 1)
		return ee->ee_code == 4	  ? ENOTCONN
		       : ee->ee_code == 3 ? EHOSTUNREACH
					  : 0;
	if (ee->ee_origin == SO_EE_ORIGIN_ICMP6 && ee->ee_type == 4 &&
	    ee->ee_code == 1)
		return EPROTONOSUPPORT; /* unknown next header */
	return 0;
}

int homa_dp_errqueue(int fd, const int *raw_ports, homa_dp_icmp_fn icmp,
		     void *arg)
{
	bool raw = raw_ports != NULL;
	int others = 0; /* errors about another process's packets */

	for (int tries = 0; tries < 16; tries++) {
		union {
			char buf[512];
			struct cmsghdr align;
		} c;
		struct sockaddr_in6 dst;
		uint8_t data[64];
		struct iovec iov = { data, sizeof(data) };
		struct msghdr m = { &dst,  sizeof(dst),	  &iov, 1,
				    c.buf, sizeof(c.buf), 0 };
		struct cmsghdr *cm;
		ssize_t n = recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT);

		if (n < 0)
			return others;
		for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
			struct sock_extended_err ee;
			struct homa_addr a;
			uint16_t port;
			int err;

			if (!((cm->cmsg_level == IPPROTO_IP &&
			       cm->cmsg_type == IP_RECVERR) ||
			      (cm->cmsg_level == IPPROTO_IPV6 &&
			       cm->cmsg_type == IPV6_RECVERR)))
				continue;
			memcpy(&ee, CMSG_DATA(cm), sizeof(ee));
			err = homa_dp_icmp_errno(&ee);
			if (!err || (err == ENOTCONN && raw && n < 4))
				continue;
			if (raw && (n < 2 ||
				    __atomic_load_n(
					    &raw_ports[homa_wire_peek16(
						    data, HOMA_WIRE_OFF_SPORT)],
					    __ATOMIC_RELAXED) < 0)) {
				others++; /* another process's packet */
				continue;
			}
			homa_dp_addr_from_sa(&a, &dst);
			if (err != ENOTCONN)
				port = 0;
			else if (raw) /* the quoted Homa header's dport */
				port = homa_wire_peek16(data,
							HOMA_WIRE_OFF_DPORT);
			else
				port = ntohs(dst.sin6_port);
			icmp(arg, &a, port, err);
		}
	}
	return others;
}

__thread struct homa_dp_rx_ring *homa_dp_rx_cur;

struct homa_dp_rx_ring *homa_dp_rx_ring_setup(size_t buf_bytes, bool control)
{
	/* The ring, then its buffers (64-byte aligned): one size for every
	 * datapath, as homa_dp_thread_buf asks. */
	size_t head = (sizeof(struct homa_dp_rx_ring) + 63) & ~(size_t)63;
	struct homa_dp_rx_ring *r = homa_dp_thread_buf(
		0, head + HOMA_DP_RX_MSGS * HOMA_DP_RX_BUF_MAX);
	socklen_t cb = control ? sizeof(r->cms[0]) : 0;

	if (!r || buf_bytes > HOMA_DP_RX_BUF_MAX)
		return NULL;
	homa_dp_rx_cur = r;
	if (r->buf_bytes == buf_bytes && r->control_bytes == cb)
		return r;
	r->bufs = (uint8_t *)r + head;
	r->buf_bytes = buf_bytes;
	r->control_bytes = cb;
	for (int i = 0; i < HOMA_DP_RX_MSGS; i++) {
		struct msghdr *m = &r->msgs[i].msg_hdr;

		r->iovs[i].iov_base = r->bufs + (size_t)i * buf_bytes;
		r->iovs[i].iov_len = buf_bytes;
		memset(m, 0, sizeof(*m));
		m->msg_name = &r->names[i];
		m->msg_iov = &r->iovs[i];
		m->msg_iovlen = 1;
		m->msg_control = cb ? r->cms[i].buf : NULL;
	}
	homa_dp_rx_reuse(r, 0, HOMA_DP_RX_MSGS);
	return r;
}

int homa_dp_gro_split(const uint8_t *buf, size_t len, int gro, size_t *seg)
{
	size_t s = (size_t)gro, n = 0;

	if (gro < 0 || (size_t)gro >= len) {
		*seg = len;
		return 1;
	}
	if (gro == 0)
		return 0;
	for (size_t off = 0; off < len; off += s, n++) {
		const uint8_t *p = buf + off;
		size_t bytes = len - off < s ? len - off : s;

		if (bytes < HOMA_WIRE_COMMON_BYTES ||
		    (p[HOMA_WIRE_OFF_TYPE] == HOMA_PKT_DATA &&
		     bytes < HOMA_WIRE_DATA_BYTES))
			return 0;
		/* one GSO send: one socket to one port */
		if (off && memcmp(p, buf, HOMA_WIRE_OFF_DPORT + 2) != 0)
			return 0;
	}
	*seg = s;
	return (int)n;
}
