/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_dp_udp.c - the receive side of the UDP datapath (src/net/udp.c,
 * udp_place.c) over loopback. UDP_GRO comes on with the first message of several
 * packets; received UDP_GRO buffers split into their packets (a short
 * last one included, homa_dp_gro_split of dp_common.c), or are read into
 * places; malformed coalesced buffers are dropped whole and counted. A
 * UDP read in a ping-pong offers one slot (a recvmsg), a burst more; a
 * one-slot read without control room is a recvfrom (no msghdr for the
 * kernel to copy in). A coalesced buffer of a 1500-byte MTU's packets
 * lands in places whole. The transmit batch is in test_dp_batch.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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

#include "dp_fixture.h"

/* A UDP datapath with options o and one IPv4 port open: the port, or -1
 * (nothing left open) if either fails; for bt_without's children, which
 * report by exit status. */
static int bt_udp_try(const struct homa_dp_opts *o, struct homa_dp **dp)
{
	int port;

	if (homa_dp_udp_create(o, dp) < 0)
		return -1;
	port = (*dp)->ops->port_open(*dp, HOMA_FAMILY_INET, 0);
	if (port <= 0) {
		(*dp)->ops->destroy(*dp);
		return -1;
	}
	return port;
}

/* The same, asserted: the port (every case of this file starts so). */
static int bt_udp(const struct homa_dp_opts *o, struct homa_dp **dp)
{
	int port;

	assert_int_equal(homa_dp_udp_create(o, dp), 0);
	port = (*dp)->ops->port_open(*dp, HOMA_FAMILY_INET, 0);
	assert_true(port > 0);
	return port;
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

		port = bt_udp(&o, &dp);
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

/* A DATA packet of n bytes at p whose message is its own payload. */
static void bt_one_pkt(uint8_t *p, size_t n, uint8_t fill)
{
	bt_homa_pkt(p, n, HOMA_PKT_DATA, fill);
	memset(p + HOMA_WIRE_COMMON_BYTES, 0, 4);
	p[HOMA_WIRE_COMMON_BYTES + 3] = (uint8_t)(n - HOMA_WIRE_DATA_BYTES);
}

/* Send three 200-byte DATA packets to port in one GSO send (skip the
 * case if the kernel has no UDP GSO) and read them off dp. */
static void bt_gso_three(struct bt *t, struct homa_dp *dp, int port)
{
	static uint8_t buf[600];

	for (int i = 0; i < 3; i++)
		bt_one_pkt(buf + 200 * i, 200, (uint8_t)(i + 1));
	if (bt_gso_send(t->tx, (uint16_t)port, buf, 600, 200) < 0) {
		dp->ops->destroy(dp);
		skip(); /* no UDP GSO in this kernel */
	}
	assert_int_equal(bt_dp_read_n(dp, 3), 3);
}

/* UDP_GRO also comes on with a burst: once a read finds several
 * datagrams (of one-packet messages only, which alone never turn it on),
 * a GSO send of three more arrives coalesced. Small RPCs from many
 * clients come in such GSO runs; split one by one they cost the server
 * twice the CPU per RPC. */
static void homa_dp_udp__gro_on_with_a_burst(void **state)
{
	struct bt *t = *state;
	struct homa_dp_opts o = { .gso = true, .gro = true };
	struct sockaddr_in a = { .sin_family = AF_INET };
	static uint8_t buf[100];
	struct homa_dp *dp;
	int port;

	port = bt_udp(&o, &dp);
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* 40 waiting: the slots double within 16 full reads at most */
	for (int i = 0; i < 40; i++) {
		bt_one_pkt(buf, 100, (uint8_t)(i + 1));
		assert_int_equal(sendto(t->tx, buf, 100, 0,
					(struct sockaddr *)&a, sizeof(a)),
				 100);
	}
	assert_int_equal(bt_dp_read_n(dp, 40), 40);
	assert_int_equal(HOMA_DP_READ(dp->rx_gro_bufs), 0);
	assert_int_equal(bt_dp_read_n(dp, 1), 0); /* the switch is made */
	bt_gso_three(t, dp, port);
	assert_int_equal(HOMA_DP_READ(dp->rx_gro_bufs), 1);
	dp->ops->destroy(dp);
}

/* Only DATA packets make a burst: 40 control packets waiting (a first
 * response comes with a CUTOFFS, an RPC's end with ACKs) with one DATA
 * packet among them are read several at a time, and UDP_GRO stays off:
 * a GSO send of three more arrives as separate datagrams. Before, any
 * two datagrams in one read turned it on, and a 100-byte ping-pong paid
 * a recvmsg with a control message for every later read. */
static void homa_dp_udp__no_gro_for_control_packets(void **state)
{
	static const uint8_t types[] = { HOMA_PKT_CUTOFFS, HOMA_PKT_ACK,
					 HOMA_PKT_GRANT, HOMA_PKT_NEED_ACK };
	struct bt *t = *state;
	struct homa_dp_opts o = { .gso = true, .gro = true };
	struct sockaddr_in a = { .sin_family = AF_INET };
	static uint8_t buf[100];
	struct homa_dp *dp;
	int port;

	port = bt_udp(&o, &dp);
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < 40; i++) {
		if (i == 20)
			bt_one_pkt(buf, 100, (uint8_t)(i + 1));
		else
			bt_homa_pkt(buf, 60, types[i % 4], (uint8_t)(i + 1));
		assert_int_equal(sendto(t->tx, buf, i == 20 ? 100 : 60, 0,
					(struct sockaddr *)&a, sizeof(a)),
				 i == 20 ? 100 : 60);
	}
	assert_int_equal(bt_dp_read_n(dp, 40), 40);
	assert_int_equal(bt_dp_read_n(dp, 1), 0); /* a switch would be made */
	bt_gso_three(t, dp, port);
	assert_int_equal(HOMA_DP_READ(dp->rx_gro_bufs), 0);
	dp->ops->destroy(dp);
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

	port = bt_udp(&o, &dp);
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

/* One read of dp: what rx returned. */
static int bt_rx_once(struct homa_dp *dp)
{
	struct bt_rx r;

	memset(&r, 0, sizeof(r));
	return dp->ops->rx(dp, bt_deliver, bt_icmp, &r);
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

	port = bt_udp(&o, &dp);
	/* A ping-pong: one packet, then nothing, twice. */
	for (int i = 0; i < 2; i++) {
		bt_send_n(t->tx, (uint16_t)port, 1, 100);
		bt_dp_read(dp, &r);
		assert_int_equal(r.pkts, 1);
		assert_int_equal(dp->ops->rx(dp, bt_deliver, bt_icmp, &r), 0);
	}
	/* Two waiting: the next read offers one slot (it offered two). */
	bt_send_n(t->tx, (uint16_t)port, 2, 100);
	assert_int_equal(bt_rx_once(dp), 1);
	assert_int_equal(bt_rx_once(dp), 1);
	/* Two full reads in a row: a burst, the next read offers two, then
	 * four. */
	bt_send_n(t->tx, (uint16_t)port, 6, 100);
	assert_int_equal(bt_rx_once(dp), 2);
	memset(&r, 0, sizeof(r));
	assert_int_equal(dp->ops->rx(dp, bt_deliver, bt_icmp, &r), 4);
	assert_int_equal(r.pkts, 4);
	dp->ops->destroy(dp);
}

/* rx_peek: the first bytes of the first datagram waiting, which the next
 * read still takes; 0 with nothing waiting, for a port closed since the
 * generation given, or a port never opened. */
static void homa_dp_udp__peek_leaves_the_packet(void **state)
{
	struct bt *t = *state;
	struct homa_dp_opts o = { .gro = true };
	struct homa_dp *dp;
	uint8_t hdr[HOMA_WIRE_COMMON_BYTES + 8], want[100];
	uint64_t gen;
	int port;

	port = bt_udp(&o, &dp);
	gen = dp->close_gen;
	assert_int_equal(dp->ops->rx_peek(dp, (uint16_t)port, gen, hdr,
					  sizeof(hdr), bt_icmp, NULL),
			 0);
	bt_send_n(t->tx, (uint16_t)port, 2, 100);
	bt_homa_pkt(want, sizeof(want), HOMA_PKT_DATA, 1);
	for (int i = 0; i < 2; i++) {
		memset(hdr, 0, sizeof(hdr));
		assert_int_equal(dp->ops->rx_peek(dp, (uint16_t)port, gen, hdr,
						  sizeof(hdr), bt_icmp, NULL),
				 (int)sizeof(hdr));
		assert_memory_equal(hdr, want, sizeof(hdr));
	}
	assert_int_equal(bt_dp_read_n(dp, 2), 2);
	assert_int_equal(dp->ops->rx_peek(dp, (uint16_t)port, gen, hdr,
					  sizeof(hdr), bt_icmp, NULL),
			 0);
	bt_send_n(t->tx, (uint16_t)port, 1, 100);
	assert_int_equal(dp->ops->rx_peek(dp, (uint16_t)port, gen + 1, hdr,
					  sizeof(hdr), bt_icmp, NULL),
			 0);
	assert_int_equal(dp->ops->rx_peek(dp, (uint16_t)(port ^ 1), gen, hdr,
					  sizeof(hdr), bt_icmp, NULL),
			 0);
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

	port = bt_udp(&o, &dp);
	/* One packet, then an empty read: one slot, no burst so far. */
	bt_send_n(t->tx, (uint16_t)port, 1, 100);
	bt_dp_read(dp, &r);
	assert_int_equal(r.pkts, 1);
	assert_int_equal(dp->ops->rx(dp, bt_deliver, bt_icmp, &r), 0);
	/* One packet per read, five times: the third read offered two. */
	for (int i = 0; i < 5; i++) {
		bt_send_n(t->tx, (uint16_t)port, 1, 100);
		assert_int_equal(bt_rx_once(dp), 1);
	}
	/* Two full reads since: not enough to double (two were before). */
	bt_send_n(t->tx, (uint16_t)port, 2, 100);
	assert_int_equal(bt_rx_once(dp), 1);
	assert_int_equal(bt_rx_once(dp), 1);
	/* The fourth full read in a row doubled them; a full doubled read
	 * (a burst) doubles again. */
	bt_send_n(t->tx, (uint16_t)port, 6, 100);
	assert_int_equal(bt_rx_once(dp), 2);
	assert_int_equal(bt_rx_once(dp), 4);
	dp->ops->destroy(dp);
}

/* A read of one slot is a recvmsg, not a recvmmsg of one: in a child
 * whose seccomp filter fails every recvmmsg of one message (ENOSYS),
 * the datapath still reads a ping-pong's packets (recvmmsg of more
 * slots still allowed). */
/* In bt_without's child: three ping-pong packets read (exit 0). */
static int bt_ping_pong_child(struct bt *t)
{
	struct homa_dp_opts o = { .gro = true };
	struct homa_dp *dp;
	struct bt_rx r;
	int port, got = 0;

	port = bt_udp_try(&o, &dp);
	if (port < 0)
		return 2;
	for (int i = 0; i < 3; i++) {
		bt_send_n(t->tx, (uint16_t)port, 1, 100);
		bt_dp_read(dp, &r);
		got += r.pkts;
	}
	dp->ops->destroy(dp);
	return got == 3 ? 0 : 1;
}

static void homa_dp_udp__one_slot_read_is_recvmsg(void **state)
{
	assert_int_equal(
		bt_without(-1, __NR_recvmmsg, bt_ping_pong_child, *state), 0);
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

	port = bt_udp(&o, &dp);
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

/* A coalesced buffer as large as UDP_GRO makes at a 1500-byte MTU (44
 * segments of 1472 bytes, 64,768 in all) lands in place whole when the
 * core reserved a place for each of its packets: none is left for the
 * usual copy (with 8 places at most, 36 were). */
#define BT_FULL_SEGS 44
#define BT_FULL_SEG  1472
static void homa_dp_udp__whole_gro_buffer_read_into_places(void **state)
{
	struct bt *t = *state;
	struct homa_dp_opts o = { .gso = true, .gro = true };
	static uint8_t buf[BT_FULL_SEGS * BT_FULL_SEG];
	static uint8_t pool[BT_FULL_SEGS * (BT_FULL_SEG - HOMA_PLACE_HDR)];
	const size_t pay = BT_FULL_SEG - HOMA_PLACE_HDR;
	struct homa_place pl[BT_FULL_SEGS];
	struct homa_dp *dp;
	struct bt_rx r;
	int port;

	assert_true(BT_FULL_SEGS <= HOMA_PLACE_MAX);
	port = bt_udp(&o, &dp);
	bt_gro_on(t, dp, (uint16_t)port);
	memset(pl, 0, sizeof(pl));
	for (int j = 0; j < BT_FULL_SEGS; j++) {
		pl[j].port = (uint16_t)port;
		pl[j].bytes = (uint32_t)pay;
		pl[j].span[0] = pool + j * pay;
		pl[j].span_bytes[0] = (uint32_t)pay;
		bt_homa_pkt(buf + BT_FULL_SEG * j, BT_FULL_SEG, HOMA_PKT_DATA,
			    (uint8_t)(j + 1));
	}
	/* The first teaches the read the segment size (copied, split). */
	if (bt_gso_send(t->tx, (uint16_t)port, buf, sizeof(buf), BT_FULL_SEG) <
	    0) {
		dp->ops->destroy(dp);
		skip(); /* no UDP GSO in this kernel */
	}
	bt_dp_read_placed(dp, pl, BT_FULL_SEGS, &r);
	assert_int_equal(r.pkts + r.placed, BT_FULL_SEGS);
	memset(pool, 0, sizeof(pool));
	assert_int_equal(bt_gso_send(t->tx, (uint16_t)port, buf, sizeof(buf),
				     BT_FULL_SEG),
			 0);
	bt_dp_read_placed(dp, pl, BT_FULL_SEGS, &r);
	assert_int_equal(r.pkts, 0);
	assert_int_equal(r.placed, BT_FULL_SEGS);
	for (int j = 0; j < 8; j++) {
		assert_int_equal(r.place[j], j);
		assert_int_equal(r.pbytes[j], BT_FULL_SEG);
	}
	for (int j = 0; j < BT_FULL_SEGS; j++)
		assert_memory_equal(pool + j * pay,
				    buf + BT_FULL_SEG * j + HOMA_PLACE_HDR,
				    pay);
	dp->ops->destroy(dp);
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

	port = bt_udp_try(&o, &dp);
	if (port < 0)
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
		T(homa_dp_gro_split__segments_and_malformed),
		T(homa_dp_udp__gro_on_with_first_long_message),
		T(homa_dp_udp__gro_on_with_a_burst),
		T(homa_dp_udp__no_gro_for_control_packets),
		T(homa_dp_udp__gro_buffers_split_or_dropped),
		T(homa_dp_udp__ping_pong_offers_one_slot),
		T(homa_dp_udp__peek_leaves_the_packet),
		T(homa_dp_udp__blocking_ping_pong_offers_one_slot),
		T(homa_dp_udp__one_slot_read_is_recvmsg),
		T(homa_dp_udp__gro_buffer_read_into_places),
		T(homa_dp_udp__whole_gro_buffer_read_into_places),
		T(homa_dp_udp__read_without_control_is_recvfrom),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
