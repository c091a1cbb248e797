/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_dp_batch.c - the transmit batch of the datapaths (src/net/dp_batch.c)
 * over a real loopback UDP socket: small payloads are copied when queued,
 * large ones are sent from where the core keeps them (zero copy), also
 * inside one GSO send; a release of memory a queued payload lies in sends
 * the batch first, and a release elsewhere does not; a packet with its
 * socket's own TOS goes without a control message, every other priority
 * still arrives with its own TOS. A GRANT replaces a queued GRANT for
 * the same RPC (one packet instead of two). A UDP read in a ping-pong
 * offers one slot (a recvmsg), a burst more. Received UDP_GRO buffers split into
 * their packets (a short last one included); malformed coalesced buffers
 * are dropped whole and counted. A lone packet goes with sendto, a
 * one-slot read without control room with recvfrom (no msghdr for the
 * kernel to copy in).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "datapath.h"

struct bt {
	struct homa_dp dp;	 /* counters only */
	struct homa_dp_batch *b; /* the batch under test */
	int tx;			 /* sending socket */
	int rx;			 /* receiving socket, 127.0.0.1:port */
	uint16_t port;		 /* rx's port */
	struct homa_addr dst;	 /* 127.0.0.1 as a mapped address */
	uint8_t hdr[60];	 /* a header: byte i = i */
};

static int bt_setup(void **state)
{
	struct bt *t = calloc(1, sizeof(*t));
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	struct timeval tv = { 1, 0 };

	assert_non_null(t);
	t->b = calloc(1, sizeof(*t->b));
	assert_non_null(t->b);
	t->tx = socket(AF_INET, SOCK_DGRAM, 0);
	t->rx = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(t->tx >= 0 && t->rx >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(t->rx, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(t->rx, (struct sockaddr *)&a, &len), 0);
	setsockopt(t->rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	t->port = ntohs(a.sin_port);
	t->dst.a[10] = t->dst.a[11] = 0xff;
	memcpy(&t->dst.a[12], &a.sin_addr, 4);
	for (int i = 0; i < (int)sizeof(t->hdr); i++)
		t->hdr[i] = (uint8_t)i;
	*state = t;
	return 0;
}

static int bt_teardown(void **state)
{
	struct bt *t = *state;

	close(t->tx);
	close(t->rx);
	free(t->b);
	free(t);
	return 0;
}

/* Queue hdr + payload[0, n) for the receiving socket. */
static void bt_add(struct bt *t, const uint8_t *payload, uint32_t n,
		   bool zero_copy)
{
	struct homa_out_pkt p = { &t->dst, 1,	   t->port,	   3,
				  0x10,	   t->hdr, sizeof(t->hdr), payload,
				  n };

	assert_non_null(
		homa_dp_batch_add(&t->dp, t->b, t->tx, false, zero_copy, &p));
}

/* The next datagram: must be hdr followed by want[0, n). */
static void bt_expect(struct bt *t, const uint8_t *want, uint32_t n)
{
	static uint8_t got[70000];
	ssize_t r = recv(t->rx, got, sizeof(got), 0);

	assert_int_equal(r, (ssize_t)(sizeof(t->hdr) + n));
	assert_memory_equal(got, t->hdr, sizeof(t->hdr));
	assert_memory_equal(got + sizeof(t->hdr), want, n);
}

static uint8_t *bt_pattern(uint32_t n, uint8_t seed)
{
	uint8_t *p = malloc(n);

	assert_non_null(p);
	for (uint32_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + seed);
	return p;
}

static void homa_dp_batch_add__small_payload_copied(void **state)
{
	struct bt *t = *state;
	uint8_t *p = bt_pattern(500, 1), *orig = bt_pattern(500, 1);

	bt_add(t, p, 500, true);
	memset(p, 0xEE, 500); /* the core may reuse it: the copy is sent */
	homa_dp_batch_flush(&t->dp, t->b);
	bt_expect(t, orig, 500);
	assert_int_equal(t->dp.tx_pkts, 1);
	free(p);
	free(orig);
}

static void homa_dp_batch_add__large_payload_not_copied(void **state)
{
	struct bt *t = *state;
	uint8_t *p = bt_pattern(9000, 2);

	bt_add(t, p, 9000, true);
	assert_true(t->b->tx_used < 9000); /* only the header is in tx_buf */
	p[0] = 0x55; /* what is in the message at flush time goes out */
	homa_dp_batch_flush(&t->dp, t->b);
	bt_expect(t, p, 9000);
	free(p);
}

static void homa_dp_batch_add__raw_always_copies(void **state)
{
	struct bt *t = *state;
	uint8_t *p = bt_pattern(9000, 3), *orig = bt_pattern(9000, 3);

	bt_add(t, p, 9000, false); /* zero_copy not allowed */
	memset(p, 0, 9000);
	homa_dp_batch_flush(&t->dp, t->b);
	bt_expect(t, orig, 9000);
	free(p);
	free(orig);
}

/* Three packets of one message, gathered from it, in one GSO send: each
 * arrives as its own datagram with its own header. */
static void homa_dp_batch_flush__gso_gathers_payloads(void **state)
{
	struct bt *t = *state;
	uint8_t *msg = bt_pattern(3 * 1400, 4);

	t->b->gso = true;
	for (int i = 0; i < 3; i++)
		bt_add(t, msg + i * 1400, 1400, true);
	homa_dp_batch_flush(&t->dp, t->b);
	for (int i = 0; i < 3; i++)
		bt_expect(t, msg + i * 1400, 1400);
	assert_int_equal(t->dp.tx_pkts, 3);
	assert_int_equal(t->dp.tx_errors, 0);
	if (!t->b->gso_refused)
		assert_int_equal(t->dp.tx_calls, 1);
	free(msg);
}

static void homa_dp_batch_release__flushes_only_on_overlap(void **state)
{
	struct bt *t = *state;
	uint8_t *msg = bt_pattern(20000, 5), *other = bt_pattern(4000, 6);

	bt_add(t, msg + 2000, 8000, true);
	bt_add(t, msg + 12000, 8000, true);
	/* Memory elsewhere, and the gap before the first payload: kept. */
	homa_dp_batch_release(&t->dp, t->b, other, 4000);
	homa_dp_batch_release(&t->dp, t->b, msg, 2000);
	assert_int_equal(t->b->num_pkts, 2);
	/* One byte of a queued payload: everything goes now. */
	homa_dp_batch_release(&t->dp, t->b, msg + 19999, 1);
	assert_int_equal(t->b->num_pkts, 0);
	assert_int_equal(t->dp.tx_pkts, 2);
	bt_expect(t, msg + 2000, 8000);
	bt_expect(t, msg + 12000, 8000);
	/* An empty batch ignores releases. */
	homa_dp_batch_release(&t->dp, t->b, msg, 20000);
	assert_int_equal(t->dp.tx_calls, 1);
	free(msg);
	free(other);
}

/* Queue a GRANT for RPC id from sport to the receiving socket. */
static void bt_grant(struct bt *t, uint16_t sport, uint8_t id, uint32_t offset,
		     uint8_t prio)
{
	uint8_t h[HOMA_WIRE_GRANT_BYTES] = { 0 };
	struct homa_out_pkt p = { &t->dst,   sport,	     t->port,
				  prio,	     HOMA_PKT_GRANT, h,
				  sizeof(h), NULL,	     0 };

	h[1] = (uint8_t)sport;
	h[HOMA_WIRE_OFF_TYPE] = HOMA_PKT_GRANT;
	h[27] = id;
	h[28] = (uint8_t)(offset >> 24);
	h[29] = (uint8_t)(offset >> 16);
	h[30] = (uint8_t)(offset >> 8);
	h[31] = (uint8_t)offset;
	h[32] = prio;
	assert_non_null(
		homa_dp_batch_add(&t->dp, t->b, t->tx, false, true, &p));
}

/* The next datagram must be a GRANT for id with offset and prio. */
static void bt_expect_grant(struct bt *t, uint8_t id, uint32_t offset,
			    uint8_t prio)
{
	uint8_t got[100];
	ssize_t r = recv(t->rx, got, sizeof(got), 0);

	assert_int_equal(r, HOMA_WIRE_GRANT_BYTES);
	assert_int_equal(got[27], id);
	assert_int_equal((uint32_t)got[28] << 24 | (uint32_t)got[29] << 16 |
				 (uint32_t)got[30] << 8 | got[31],
			 offset);
	assert_int_equal(got[32], prio);
}

/* Only the latest GRANT of an RPC leaves; others (another RPC, another
 * port, an older offset, a nudge repeating the offset) are kept, in
 * order. */
static void homa_dp_batch_add__grant_replaces_older_grant(void **state)
{
	struct bt *t = *state;

	bt_grant(t, 7, 1, 10000, 2);
	bt_grant(t, 7, 2, 5000, 3);  /* another RPC */
	bt_grant(t, 8, 1, 20000, 3); /* another port */
	bt_grant(t, 7, 1, 30000, 5); /* replaces the first */
	bt_grant(t, 7, 2, 4000, 1);  /* older offset: kept as is */
	bt_grant(t, 7, 1, 30000, 6); /* the same offset, a nudge: kept */
	assert_int_equal(t->b->num_pkts, 5);
	assert_int_equal(t->dp.tx_merged, 1);
	homa_dp_batch_flush(&t->dp, t->b);
	bt_expect_grant(t, 1, 30000, 5);
	bt_expect_grant(t, 2, 5000, 3);
	bt_expect_grant(t, 1, 20000, 3);
	bt_expect_grant(t, 2, 4000, 1);
	bt_expect_grant(t, 1, 30000, 6);
	assert_int_equal(t->dp.tx_pkts, 5);
}

/* A Homa packet of bytes bytes, type type, ports 1 -> 2, filled. */
static void bt_homa_pkt(uint8_t *p, size_t bytes, uint8_t type, uint8_t fill)
{
	memset(p, fill, bytes);
	memset(p, 0, HOMA_WIRE_COMMON_BYTES);
	p[1] = 1;
	p[3] = 2;
	p[HOMA_WIRE_OFF_TYPE] = type;
}

static void homa_dp_gro_split__segments_and_malformed(void **state)
{
	static uint8_t buf[1000];
	size_t seg = 0;

	(void)state;
	for (int i = 0; i < 3; i++)
		bt_homa_pkt(buf + 200 * i, 200, HOMA_PKT_DATA, (uint8_t)i);
	bt_homa_pkt(buf + 600, 90, HOMA_PKT_DATA, 9);
	/* no UDP_GRO, or one segment: the buffer is one packet */
	assert_int_equal(homa_dp_gro_split(buf, 690, -1, &seg), 1);
	assert_int_equal(seg, 690);
	assert_int_equal(homa_dp_gro_split(buf, 200, 200, &seg), 1);
	assert_int_equal(seg, 200);
	/* three whole segments and a short last one */
	assert_int_equal(homa_dp_gro_split(buf, 690, 200, &seg), 4);
	assert_int_equal(seg, 200);
	/* segment size 0 */
	assert_int_equal(homa_dp_gro_split(buf, 690, 0, &seg), 0);
	/* a last piece shorter than a common header */
	assert_int_equal(homa_dp_gro_split(buf, 620, 200, &seg), 0);
	/* a DATA segment shorter than its header */
	bt_homa_pkt(buf + 600, 40, HOMA_PKT_DATA, 9);
	assert_int_equal(homa_dp_gro_split(buf, 640, 200, &seg), 0);
	bt_homa_pkt(buf + 600, 40, HOMA_PKT_GRANT, 9); /* control: fine */
	assert_int_equal(homa_dp_gro_split(buf, 640, 200, &seg), 4);
	/* a segment for another port */
	buf[403] = 3;
	assert_int_equal(homa_dp_gro_split(buf, 640, 200, &seg), 0);
}

/* What the UDP datapath delivered (rx callback). */
struct bt_rx {
	int pkts;	  /* packets delivered */
	size_t bytes[8];  /* their lengths */
	uint8_t fill[8];  /* their last byte */
	int placed;	  /* packets delivered in place */
	int place[8];	  /* their place */
	size_t pbytes[8]; /* their lengths */
	uint8_t pfill[8]; /* the last byte of their header part */
};

static void bt_deliver(void *arg, const struct homa_addr *src,
		       const uint8_t *pkt, size_t bytes)
{
	struct bt_rx *r = arg;

	(void)src;
	if (r->pkts < 8) {
		r->bytes[r->pkts] = bytes;
		r->fill[r->pkts] = pkt[bytes - 1];
	}
	r->pkts++;
}

static void bt_placed(void *arg, const struct homa_addr *src, uint8_t *buf,
		      size_t bytes, int place)
{
	struct bt_rx *r = arg;

	(void)src;
	if (r->placed < 8) {
		r->place[r->placed] = place;
		r->pbytes[r->placed] = bytes;
		r->pfill[r->placed] = buf[HOMA_PLACE_HDR - 1];
	}
	r->placed++;
}

static void bt_icmp(void *arg, const struct homa_addr *dst, uint16_t dport,
		    int err)
{
	(void)arg;
	(void)dst;
	(void)dport;
	(void)err;
}

/* One GSO send of len bytes at buf in segments of seg to port. */
static int bt_gso_send(int fd, uint16_t port, const uint8_t *buf, size_t len,
		       uint16_t seg)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };
	union {
		char b[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} c;
	struct iovec iov = { (void *)buf, len };
	struct msghdr m = { &a, sizeof(a), &iov, 1, c.b, sizeof(c.b), 0 };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cm->cmsg_level = SOL_UDP;
	cm->cmsg_type = UDP_SEGMENT;
	cm->cmsg_len = CMSG_LEN(sizeof(seg));
	memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
	return sendmsg(fd, &m, 0) < 0 ? -errno : 0;
}

/* Read from the datapath until something arrives (1 s at most). */
static void bt_dp_read(struct homa_dp *dp, struct bt_rx *r)
{
	struct timespec ts = { 0, 1000000 };

	memset(r, 0, sizeof(*r));
	for (int i = 0; i < 1000; i++) {
		uint64_t bad = HOMA_DP_READ(dp->rx_gro_bad);

		if (dp->ops->rx(dp, bt_deliver, bt_icmp, r) > 0 || r->pkts ||
		    HOMA_DP_READ(dp->rx_gro_bad) != bad)
			return;
		nanosleep(&ts, NULL);
	}
}

static void bt_send_n(int fd, uint16_t port, int n, size_t bytes);

/* Packets delivered by reads until n came (1 s at most). */
static int bt_dp_read_n(struct homa_dp *dp, int n)
{
	struct timespec ts = { 0, 1000000 };
	struct bt_rx r;
	int got = 0;

	for (int i = 0; i < 1000 && got < n; i++) {
		memset(&r, 0, sizeof(r));
		if (dp->ops->rx(dp, bt_deliver, bt_icmp, &r) <= 0)
			nanosleep(&ts, NULL);
		got += r.pkts;
	}
	return got;
}

/* A DATA packet of a message of several packets (bt_homa_pkt's
 * message_length is its fill bytes) reaches dp's socket, and the next
 * read turns UDP_GRO on. */
static void bt_gro_on(struct bt *t, struct homa_dp *dp, uint16_t port)
{
	struct bt_rx r;

	bt_send_n(t->tx, port, 1, 100);
	assert_int_equal(bt_dp_read_n(dp, 1), 1);
	memset(&r, 0, sizeof(r));
	assert_int_equal(dp->ops->rx(dp, bt_deliver, bt_icmp, &r), 0);
}

/* UDP_GRO comes on with the first message of several packets, not
 * before: a GSO send reaches a fresh socket as separate datagrams (read
 * without control messages), also after a message of one packet; after
 * a DATA packet whose message is longer, it arrives coalesced. Without
 * opts.gro it never does. */
static void homa_dp_udp__gro_on_with_first_long_message(void **state)
{
	struct bt *t = *state;
	static uint8_t buf[600], one[100];

	for (int gro = 1; gro >= 0; gro--) {
		struct homa_dp_opts o = { .gso = true, .gro = gro };
		struct homa_dp *dp;
		struct sockaddr_in a = { .sin_family = AF_INET };
		int port;

		assert_int_equal(homa_dp_udp_create(&o, &dp), 0);
		port = dp->ops->port_open(dp, HOMA_FAMILY_INET, 0);
		assert_true(port > 0);
		for (int i = 0; i < 3; i++)
			bt_homa_pkt(buf + 200 * i, 200, HOMA_PKT_DATA,
				    (uint8_t)(i + 1));
		if (bt_gso_send(t->tx, (uint16_t)port, buf, 600, 200) < 0) {
			dp->ops->destroy(dp);
			skip(); /* no UDP GSO in this kernel */
		}
		/* a message of one packet: message_length = its payload */
		bt_homa_pkt(one, sizeof(one), HOMA_PKT_DATA, 0);
		one[HOMA_WIRE_COMMON_BYTES + 3] =
			sizeof(one) - HOMA_WIRE_DATA_BYTES;
		a.sin_port = htons((uint16_t)port);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		assert_int_equal(sendto(t->tx, one, sizeof(one), 0,
					(struct sockaddr *)&a, sizeof(a)),
				 (ssize_t)sizeof(one));
		assert_int_equal(bt_dp_read_n(dp, 4), 4);
		assert_int_equal(HOMA_DP_READ(dp->rx_gro_bufs), 0);
		/* the GSO send's DATA packets were of longer messages */
		assert_int_equal(bt_dp_read_n(dp, 1), 0);
		assert_int_equal(
			bt_gso_send(t->tx, (uint16_t)port, buf, 600, 200), 0);
		assert_int_equal(bt_dp_read_n(dp, 3), 3);
		assert_int_equal(HOMA_DP_READ(dp->rx_gro_bufs), gro ? 1 : 0);
		dp->ops->destroy(dp);
	}
}

/* The UDP datapath with UDP_GRO on: a GSO send of 3 DATA packets and a
 * short one arrives coalesced and comes out as 4 packets; a coalesced
 * buffer with a segment for another port is dropped whole and counted. */
static void homa_dp_udp__gro_buffers_split_or_dropped(void **state)
{
	struct bt *t = *state;
	struct homa_dp_opts o = { .gso = true, .gro = true };
	struct homa_dp *dp;
	static uint8_t buf[1000];
	struct bt_rx r;
	int port, err;

	assert_int_equal(homa_dp_udp_create(&o, &dp), 0);
	port = dp->ops->port_open(dp, HOMA_FAMILY_INET, 0);
	assert_true(port > 0);
	bt_gro_on(t, dp, (uint16_t)port);
	for (int i = 0; i < 3; i++)
		bt_homa_pkt(buf + 200 * i, 200, HOMA_PKT_DATA,
			    (uint8_t)(i + 1));
	bt_homa_pkt(buf + 600, 90, HOMA_PKT_DATA, 9);
	err = bt_gso_send(t->tx, (uint16_t)port, buf, 690, 200);
	if (err == -EIO || err == -EINVAL) {
		dp->ops->destroy(dp);
		skip(); /* no UDP GSO in this kernel */
	}
	assert_int_equal(err, 0);
	bt_dp_read(dp, &r);
	assert_int_equal(r.pkts, 4);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(r.bytes[i], 200);
		assert_int_equal(r.fill[i], i + 1);
	}
	assert_int_equal(r.bytes[3], 90);
	assert_int_equal(r.fill[3], 9);
	/* Coalesced on loopback (the kernel keeps a GSO send whole for a
	 * UDP_GRO socket). */
	assert_int_equal(HOMA_DP_READ(dp->rx_gro_bufs), 1);
	assert_int_equal(HOMA_DP_READ(dp->rx_gro_bad), 0);

	buf[403] = 3; /* the third segment: another destination port */
	assert_int_equal(bt_gso_send(t->tx, (uint16_t)port, buf, 690, 200), 0);
	bt_dp_read(dp, &r);
	assert_int_equal(r.pkts, 0);
	assert_int_equal(HOMA_DP_READ(dp->rx_gro_bad), 1);
	dp->ops->destroy(dp);
}

/* n datagrams of bytes each to 127.0.0.1:port, then time for loopback
 * to queue them. */
static void bt_send_n(int fd, uint16_t port, int n, size_t bytes)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };
	struct timespec ts = { 0, 5000000 };
	static uint8_t buf[200];

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < n; i++) {
		bt_homa_pkt(buf, bytes, HOMA_PKT_DATA, (uint8_t)(i + 1));
		assert_int_equal(sendto(fd, buf, bytes, 0,
					(struct sockaddr *)&a, sizeof(a)),
				 (ssize_t)bytes);
	}
	nanosleep(&ts, NULL);
}

/* The slots a UDP read offers: a ping-pong (one packet, then empty reads)
 * offers one, so the kernel does not try a second, empty one in every
 * other read; a second full read in a row (a burst) doubles them. Seen
 * by how many of the datagrams waiting one read takes. */
static void homa_dp_udp__ping_pong_offers_one_slot(void **state)
{
	struct bt *t = *state;
	struct homa_dp_opts o = { .gro = true };
	struct homa_dp *dp;
	struct bt_rx r;
	int port;

	assert_int_equal(homa_dp_udp_create(&o, &dp), 0);
	port = dp->ops->port_open(dp, HOMA_FAMILY_INET, 0);
	assert_true(port > 0);
	/* A ping-pong: one packet, then nothing, twice. */
	for (int i = 0; i < 2; i++) {
		bt_send_n(t->tx, (uint16_t)port, 1, 100);
		bt_dp_read(dp, &r);
		assert_int_equal(r.pkts, 1);
		assert_int_equal(dp->ops->rx(dp, bt_deliver, bt_icmp, &r), 0);
	}
	/* Two waiting: the next read offers one slot (it offered two). */
	bt_send_n(t->tx, (uint16_t)port, 2, 100);
	memset(&r, 0, sizeof(r));
	assert_int_equal(dp->ops->rx(dp, bt_deliver, bt_icmp, &r), 1);
	memset(&r, 0, sizeof(r));
	assert_int_equal(dp->ops->rx(dp, bt_deliver, bt_icmp, &r), 1);
	/* Two full reads in a row: a burst, the next read offers two, then
	 * four. */
	bt_send_n(t->tx, (uint16_t)port, 6, 100);
	memset(&r, 0, sizeof(r));
	assert_int_equal(dp->ops->rx(dp, bt_deliver, bt_icmp, &r), 2);
	memset(&r, 0, sizeof(r));
	assert_int_equal(dp->ops->rx(dp, bt_deliver, bt_icmp, &r), 4);
	assert_int_equal(r.pkts, 4);
	dp->ops->destroy(dp);
}

/* A blocking ping-pong (each read finds one packet, no empty read
 * between) keeps offering one slot: a doubled read that came back partial
 * makes the next doubling wait for four full reads (it offered 1, 1, 2
 * in turn); a burst still doubles them. */
static void homa_dp_udp__blocking_ping_pong_offers_one_slot(void **state)
{
	struct bt *t = *state;
	struct homa_dp_opts o = { .gro = true };
	struct homa_dp *dp;
	struct bt_rx r;
	int port;

	assert_int_equal(homa_dp_udp_create(&o, &dp), 0);
	port = dp->ops->port_open(dp, HOMA_FAMILY_INET, 0);
	assert_true(port > 0);
	/* One packet, then an empty read: one slot, no burst so far. */
	bt_send_n(t->tx, (uint16_t)port, 1, 100);
	bt_dp_read(dp, &r);
	assert_int_equal(r.pkts, 1);
	assert_int_equal(dp->ops->rx(dp, bt_deliver, bt_icmp, &r), 0);
	/* One packet per read, five times: the third read offered two. */
	for (int i = 0; i < 5; i++) {
		bt_send_n(t->tx, (uint16_t)port, 1, 100);
		memset(&r, 0, sizeof(r));
		assert_int_equal(dp->ops->rx(dp, bt_deliver, bt_icmp, &r), 1);
	}
	/* Two full reads since: not enough to double (two were before). */
	bt_send_n(t->tx, (uint16_t)port, 2, 100);
	memset(&r, 0, sizeof(r));
	assert_int_equal(dp->ops->rx(dp, bt_deliver, bt_icmp, &r), 1);
	memset(&r, 0, sizeof(r));
	assert_int_equal(dp->ops->rx(dp, bt_deliver, bt_icmp, &r), 1);
	/* The fourth full read in a row doubled them; a full doubled read
	 * (a burst) doubles again. */
	bt_send_n(t->tx, (uint16_t)port, 6, 100);
	memset(&r, 0, sizeof(r));
	assert_int_equal(dp->ops->rx(dp, bt_deliver, bt_icmp, &r), 2);
	memset(&r, 0, sizeof(r));
	assert_int_equal(dp->ops->rx(dp, bt_deliver, bt_icmp, &r), 4);
	dp->ops->destroy(dp);
}

/* A read of one slot is a recvmsg, not a recvmmsg of one: in a child
 * whose seccomp filter fails every recvmmsg of one message (ENOSYS),
 * the datapath still reads a ping-pong's packets (recvmmsg of more
 * slots still allowed). */
static void homa_dp_udp__one_slot_read_is_recvmsg(void **state)
{
	struct bt *t = *state;
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_recvmmsg, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, args[2])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };
	int status;
	pid_t child = fork();

	assert_true(child >= 0);
	if (child == 0) {
		struct homa_dp_opts o = { .gro = true };
		struct homa_dp *dp;
		struct bt_rx r;
		int port, got = 0;

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
			_exit(3);
		if (homa_dp_udp_create(&o, &dp) < 0)
			_exit(2);
		port = dp->ops->port_open(dp, HOMA_FAMILY_INET, 0);
		if (port <= 0)
			_exit(2);
		for (int i = 0; i < 3; i++) {
			bt_send_n(t->tx, (uint16_t)port, 1, 100);
			bt_dp_read(dp, &r);
			got += r.pkts;
		}
		dp->ops->destroy(dp);
		_exit(got == 3 ? 0 : 1);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
		skip(); /* no seccomp filters here */
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Read into places pl[0..n) until something arrives (1 s at most). */
static void bt_dp_read_placed(struct homa_dp *dp, const struct homa_place *pl,
			      int n, struct bt_rx *r)
{
	struct timespec ts = { 0, 1000000 };

	memset(r, 0, sizeof(*r));
	for (int i = 0; i < 1000; i++) {
		uint64_t bad = HOMA_DP_READ(dp->rx_gro_bad);

		if (dp->ops->rx_place(dp, pl, n, dp->close_gen, bt_deliver,
				      bt_placed, bt_icmp, r) > 0 ||
		    HOMA_DP_READ(dp->rx_gro_bad) != bad)
			return;
		nanosleep(&ts, NULL);
	}
}

/* Reading into places: once a coalesced buffer of 200-byte segments has
 * come, the next read lays the places out for one (each segment's header
 * in the slot, its payload in its place); a buffer of other segments is
 * made whole again and split as usual; a malformed one is dropped. */
static void homa_dp_udp__gro_buffer_read_into_places(void **state)
{
	struct bt *t = *state;
	struct homa_dp_opts o = { .gso = true, .gro = true };
	static uint8_t buf[1000], pool[4 * 144];
	struct homa_place pl[4];
	struct homa_dp *dp;
	struct bt_rx r;
	int port;

	assert_int_equal(homa_dp_udp_create(&o, &dp), 0);
	port = dp->ops->port_open(dp, HOMA_FAMILY_INET, 0);
	assert_true(port > 0);
	bt_gro_on(t, dp, (uint16_t)port);
	memset(pl, 0, sizeof(pl));
	for (int j = 0; j < 4; j++) {
		pl[j].port = (uint16_t)port;
		pl[j].bytes = 144;
		pl[j].span[0] = pool + j * 144;
		pl[j].span_bytes[0] = 144;
		bt_homa_pkt(buf + 200 * j, 200, HOMA_PKT_DATA,
			    (uint8_t)(j + 1));
	}
	/* The first: placed the usual way (one packet per slot), so the
	 * coalesced buffer is copied and split. */
	if (bt_gso_send(t->tx, (uint16_t)port, buf, 800, 200) < 0) {
		dp->ops->destroy(dp);
		skip(); /* no UDP GSO in this kernel */
	}
	bt_dp_read_placed(dp, pl, 4, &r);
	assert_int_equal(r.pkts, 4);
	assert_int_equal(r.placed, 0);
	/* The second: each segment's payload lands in its place. */
	memset(pool, 0, sizeof(pool));
	assert_int_equal(bt_gso_send(t->tx, (uint16_t)port, buf, 800, 200), 0);
	bt_dp_read_placed(dp, pl, 4, &r);
	assert_int_equal(r.pkts, 0);
	assert_int_equal(r.placed, 4);
	for (int j = 0; j < 4; j++) {
		assert_int_equal(r.place[j], j);
		assert_int_equal(r.pbytes[j], 200);
		assert_int_equal(r.pfill[j], j + 1); /* its own header */
		assert_memory_equal(pool + j * 144, buf + 200 * j + 56, 144);
	}
	/* Segments of 150: not the layout; whole again, split as usual. */
	for (int j = 0; j < 4; j++)
		bt_homa_pkt(buf + 150 * j, 150, HOMA_PKT_DATA,
			    (uint8_t)(j + 5));
	assert_int_equal(bt_gso_send(t->tx, (uint16_t)port, buf, 600, 150), 0);
	bt_dp_read_placed(dp, pl, 4, &r);
	assert_int_equal(r.placed, 0);
	assert_int_equal(r.pkts, 4);
	for (int j = 0; j < 4; j++) {
		assert_int_equal(r.bytes[j], 150);
		assert_int_equal(r.fill[j], j + 5);
	}
	/* 200 again, then one with a segment for another port: dropped. */
	for (int j = 0; j < 4; j++)
		bt_homa_pkt(buf + 200 * j, 200, HOMA_PKT_DATA,
			    (uint8_t)(j + 1));
	assert_int_equal(bt_gso_send(t->tx, (uint16_t)port, buf, 800, 200), 0);
	bt_dp_read_placed(dp, pl, 4, &r);
	assert_int_equal(r.pkts, 4); /* after the 150s: the usual way */
	buf[403] = 9;
	assert_int_equal(bt_gso_send(t->tx, (uint16_t)port, buf, 800, 200), 0);
	bt_dp_read_placed(dp, pl, 4, &r);
	assert_int_equal(r.pkts + r.placed, 0);
	assert_int_equal(HOMA_DP_READ(dp->rx_gro_bad), 1);
	dp->ops->destroy(dp);
}

/* Queue a packet of priority prio (payload n bytes of payload). */
static void bt_add_prio(struct bt *t, uint8_t prio, const uint8_t *payload,
			uint32_t n)
{
	struct homa_out_pkt p = { &t->dst,	  1,	   t->port,
				  prio,		  0x10,	   t->hdr,
				  sizeof(t->hdr), payload, n };

	assert_non_null(
		homa_dp_batch_add(&t->dp, t->b, t->tx, false, true, &p));
}

/* The next datagram's length and TOS byte (IP_RECVTOS is on). */
static int bt_recv_tos(struct bt *t, ssize_t *len)
{
	static uint8_t got[70000];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} c;
	struct iovec iov = { got, sizeof(got) };
	struct msghdr m = { .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = c.buf,
			    .msg_controllen = sizeof(c.buf) };
	int tos = -1;

	*len = recvmsg(t->rx, &m, 0);
	assert_true(*len > 0);
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm;
	     cm = CMSG_NXTHDR(&m, cm))
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TOS)
			tos = *(uint8_t *)CMSG_DATA(cm);
	return tos;
}

/* The batch trusts sock_tos: a socket that does not really carry it shows
 * that packets of that TOS went without a control message (the kernel
 * sent them with the socket's TOS, 0), and that others did not. */
static void homa_dp_batch_flush__no_control_message_for_sock_tos(void **state)
{
	struct bt *t = *state;
	int one = 1;
	ssize_t len;

	setsockopt(t->rx, IPPROTO_IP, IP_RECVTOS, &one, sizeof(one));
	t->b->sock_tos_set = true;
	t->b->sock_tos = 7 << HOMA_WIRE_TOS_PRIO_SHIFT; /* tx does not */
	bt_add_prio(t, 7, NULL, 0);
	homa_dp_batch_flush(&t->dp, t->b);
	bt_add_prio(t, 3, NULL, 0);
	homa_dp_batch_flush(&t->dp, t->b);
	assert_int_equal(bt_recv_tos(t, &len), 0);
	assert_int_equal(bt_recv_tos(t, &len), 3 << HOMA_WIRE_TOS_PRIO_SHIFT);
}

/* A socket set up by homa_dp_batch_sock_tos: every priority arrives with
 * its own TOS, alone, batched with others, and in a GSO send (a
 * UDP_SEGMENT control message without an IP_TOS one). */
static void homa_dp_batch_sock_tos__every_priority_arrives(void **state)
{
	struct bt *t = *state;
	uint8_t *msg = bt_pattern(3 * 1400, 7);
	const uint8_t prios[] = { 7, 0, 3, 7, 6 };
	int one = 1;
	ssize_t len;

	setsockopt(t->rx, IPPROTO_IP, IP_RECVTOS, &one, sizeof(one));
	t->b->sock_tos_set = true;
	t->b->sock_tos = HOMA_DP_SOCK_PRIO << HOMA_WIRE_TOS_PRIO_SHIFT;
	homa_dp_batch_sock_tos(t->b, t->tx, AF_INET);
	assert_true(t->b->sock_tos_set);
	for (int i = 0; i < 5; i++) {
		bt_add_prio(t, prios[i], msg, 10);
		if (i != 2)
			homa_dp_batch_flush(&t->dp, t->b); /* 2, 3 together */
	}
	for (int i = 0; i < 5; i++) {
		assert_int_equal(bt_recv_tos(t, &len),
				 prios[i] << HOMA_WIRE_TOS_PRIO_SHIFT);
		assert_int_equal(len, (ssize_t)sizeof(t->hdr) + 10);
	}
	t->b->gso = true;
	for (int i = 0; i < 3; i++)
		bt_add_prio(t, HOMA_DP_SOCK_PRIO, msg + i * 1400, 1400);
	homa_dp_batch_flush(&t->dp, t->b);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(bt_recv_tos(t, &len),
				 HOMA_DP_SOCK_PRIO << HOMA_WIRE_TOS_PRIO_SHIFT);
		assert_int_equal(len, (ssize_t)sizeof(t->hdr) + 1400);
	}
	assert_int_equal(t->dp.tx_errors, 0);
	free(msg);
}

/* Run fn in a child whose seccomp filter fails system call nr1, and nr2
 * of one message (sendmmsg, recvmmsg), with ENOSYS; returns fn's exit
 * status (3: no seccomp here: skip). */
static int bt_without(int nr1, int nr2, int (*fn)(struct bt *), struct bt *t)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr1, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr2, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, args[2])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };
	int status;
	pid_t child = fork();

	assert_true(child >= 0);
	if (child == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
			_exit(3);
		_exit(fn(t));
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
		skip(); /* no seccomp filters here */
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* Without sendmsg (and sendmmsg of one message): a lone packet copied whole with the
 * socket's TOS still goes (sendto); one that needs a TOS control message
 * cannot (it is counted lost). */
static int bt_flush_one_child(struct bt *t)
{
	static uint8_t got[300];
	uint8_t payload[100] = { 5 };

	t->b->sock_tos_set = true;
	t->b->sock_tos = HOMA_DP_SOCK_PRIO << HOMA_WIRE_TOS_PRIO_SHIFT;
	homa_dp_batch_sock_tos(t->b, t->tx, AF_INET);
	bt_add_prio(t, HOMA_DP_SOCK_PRIO, payload, sizeof(payload));
	homa_dp_batch_flush(&t->dp, t->b);
	if (recv(t->rx, got, sizeof(got), 0) != sizeof(t->hdr) + 100 ||
	    got[sizeof(t->hdr)] != 5)
		return 1;
	bt_add_prio(t, 2, payload, sizeof(payload));
	homa_dp_batch_flush(&t->dp, t->b);
	return t->dp.tx_pkts == 1 && t->dp.tx_errors == 1 ? 0 : 2;
}

static void homa_dp_batch_flush__lone_packet_is_sendto(void **state)
{
	assert_int_equal(bt_without(__NR_sendmsg, __NR_sendmmsg,
				    bt_flush_one_child, *state),
			 0);
}

/* Without recvmsg (and recvmmsg of one message): a UDP datapath without UDP_GRO (its
 * slots want no control message) still reads one packet at a time
 * (recvfrom); with UDP_GRO it cannot (it needs the segment size). */
static int bt_read_one(struct bt *t, bool gro)
{
	struct homa_dp_opts o = { .gro = gro };
	struct homa_dp *dp;
	struct bt_rx r;
	int port, got = 0;

	if (homa_dp_udp_create(&o, &dp) < 0)
		return 2;
	port = dp->ops->port_open(dp, HOMA_FAMILY_INET, 0);
	if (port <= 0)
		return 2;
	if (gro) /* UDP_GRO on: a message of several packets came */
		bt_gro_on(t, dp, (uint16_t)port);
	for (int i = 0; i < 3; i++) {
		bt_send_n(t->tx, (uint16_t)port, 1, 100);
		memset(&r, 0, sizeof(r));
		dp->ops->rx(dp, bt_deliver, bt_icmp, &r);
		got += r.pkts == 1 && r.bytes[0] == 100 && r.fill[0] == 1;
	}
	dp->ops->destroy(dp);
	return got;
}

static int bt_read_child(struct bt *t)
{
	return bt_read_one(t, false) == 3 && bt_read_one(t, true) == 0 ? 0 : 1;
}

static void homa_dp_udp__read_without_control_is_recvfrom(void **state)
{
	assert_int_equal(
		bt_without(__NR_recvmsg, __NR_recvmmsg, bt_read_child, *state),
		0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, bt_setup, bt_teardown)
		T(homa_dp_batch_add__small_payload_copied),
		T(homa_dp_batch_add__large_payload_not_copied),
		T(homa_dp_batch_add__raw_always_copies),
		T(homa_dp_batch_flush__gso_gathers_payloads),
		T(homa_dp_batch_release__flushes_only_on_overlap),
		T(homa_dp_batch_add__grant_replaces_older_grant),
		T(homa_dp_gro_split__segments_and_malformed),
		T(homa_dp_udp__gro_on_with_first_long_message),
		T(homa_dp_udp__gro_buffers_split_or_dropped),
		T(homa_dp_udp__ping_pong_offers_one_slot),
		T(homa_dp_udp__blocking_ping_pong_offers_one_slot),
		T(homa_dp_udp__one_slot_read_is_recvmsg),
		T(homa_dp_udp__gro_buffer_read_into_places),
		T(homa_dp_batch_flush__no_control_message_for_sock_tos),
		T(homa_dp_batch_sock_tos__every_priority_arrives),
		T(homa_dp_batch_flush__lone_packet_is_sendto),
		T(homa_dp_udp__read_without_control_is_recvfrom),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
