/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_dp_batch.c - the transmit batch of the datapaths (src/net/dp_batch.c)
 * over a real loopback UDP socket: small payloads are copied when queued,
 * large ones are sent from where the core keeps them (zero copy), also
 * inside one GSO send; a release of memory a queued payload lies in sends
 * the batch first, and a release elsewhere does not; a packet with its
 * socket's own TOS goes without a control message, every other priority
 * still arrives with its own TOS. A GRANT replaces a queued GRANT for
 * the same RPC (one packet instead of two). A lone packet goes with
 * sendto. A full batch sends whole GSO frames and keeps the rest. A
 * packet without a socket, too large, or whose send fails is counted in
 * tx_errors. The UDP datapath's receive side is in test_dp_udp.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <cmocka.h>

#include "dp_fixture.h"

/* Queue hdr + payload[0, n) for the receiving socket. */
static void bt_add(struct bt *t, const uint8_t *payload, uint32_t n,
		   bool zero_copy)
{
	struct homa_out_pkt p = { &t->dst, 1,	   t->port,	   3,
				  0x10,	   t->hdr, sizeof(t->hdr), payload,
				  n };

	assert_non_null(homa_dp_batch_add(&t->dp, t->b, t->tx, -1, false,
					  zero_copy, &p));
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

/* A GSO buffer read whole (UDP_GRO on rx): its bytes, and the segment
 * size its control message gives (0 if none). */
static ssize_t bt_recv_gro(struct bt *t, uint8_t *buf, size_t len, int *seg)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { buf, len };
	struct msghdr m = { .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	ssize_t r = recvmsg(t->rx, &m, 0);

	*seg = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO)
			memcpy(seg, CMSG_DATA(c), sizeof(*seg));
	return r;
}

/* 100 packets of 1,472 bytes (a 1500 MTU's), payloads left in the
 * message: the flush of the full batch (64) sends one whole frame of 44
 * and keeps the other 20 for the next, so the frames are 44, 44, 12, not
 * 43, 21, 36; every packet arrives once, in order, with its payload, and
 * the kept ones' payloads still count for a release. */
static void homa_dp_batch_flush__full_batch_sends_whole_frames(void **state)
{
	enum { PKTS = 100, PAY = 1472 - sizeof(((struct bt *)0)->hdr) };
	static const int want[] = { 44, 44, 12 };
	static uint8_t buf[65536];
	struct bt *t = *state;
	uint8_t *msg = bt_pattern(PKTS * PAY, 9);
	int one = 1, seg, pkt = 0;

	if (setsockopt(t->rx, IPPROTO_UDP, UDP_GRO, &one, sizeof(one)) < 0)
		skip();
	t->b->gso = true;
	for (int i = 0; i < PKTS; i++)
		bt_add(t, msg + i * PAY, PAY, true);
	assert_int_equal(t->b->num_pkts, PKTS - 44); /* 20 kept, 36 added */
	/* the kept packets' payloads are still the batch's to send */
	homa_dp_batch_release(&t->dp, t->b, msg + 50 * PAY, 1);
	assert_int_equal(t->b->num_pkts, 0);
	assert_false(t->b->gso_refused);
	for (int f = 0; f < 3; f++) {
		ssize_t r = bt_recv_gro(t, buf, sizeof(buf), &seg);

		assert_int_equal(r, want[f] * 1472);
		if (want[f] > 1)
			assert_int_equal(seg, 1472);
		for (int k = 0; k < want[f]; k++, pkt++) {
			assert_memory_equal(buf + k * 1472, t->hdr,
					    sizeof(t->hdr));
			assert_memory_equal(buf + k * 1472 + sizeof(t->hdr),
					    msg + pkt * PAY, PAY);
		}
	}
	assert_int_equal(t->dp.tx_pkts, PKTS);
	assert_int_equal(t->dp.tx_errors, 0);
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
		homa_dp_batch_add(&t->dp, t->b, t->tx, -1, false, true, &p));
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

/* Queue a packet of priority prio (payload n bytes of payload). */
static void bt_add_prio(struct bt *t, uint8_t prio, const uint8_t *payload,
			uint32_t n)
{
	struct homa_out_pkt p = { &t->dst,	  1,	   t->port,
				  prio,		  0x10,	   t->hdr,
				  sizeof(t->hdr), payload, n };

	assert_non_null(
		homa_dp_batch_add(&t->dp, t->b, t->tx, -1, false, true, &p));
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

/* A packet whose payload follows its header (a one-packet message in its
 * RPC record) takes the lean path: copied at once, sent whole; the next
 * one, apart, after it in the same batch. */
static void homa_dp_batch_add__joined_header_and_payload(void **state)
{
	struct bt *t = *state;
	uint8_t *run = malloc(sizeof(t->hdr) + 100);
	uint8_t *p = bt_pattern(100, 3);
	struct homa_out_pkt o = {
		&t->dst, 1,   t->port,	      3,
		0x10,	 run, sizeof(t->hdr), run + sizeof(t->hdr),
		100
	};

	assert_non_null(run);
	memcpy(run, t->hdr, sizeof(t->hdr));
	memcpy(run + sizeof(t->hdr), p, 100);
	assert_non_null(
		homa_dp_batch_add(&t->dp, t->b, t->tx, -1, false, true, &o));
	memset(run, 0xEE, sizeof(t->hdr) + 100); /* the copy is sent */
	bt_add(t, p, 50, true);
	assert_int_equal(t->b->num_pkts, 2);
	homa_dp_batch_flush(&t->dp, t->b);
	bt_expect(t, p, 100);
	bt_expect(t, p, 50);
	assert_int_equal(t->dp.tx_pkts, 2);
	free(run);
	free(p);
}

/* A packet without a socket or larger than any datagram is dropped and
 * counted, whichever path would have queued it (the lean path first sees
 * a joined header and payload to the last destination); a lone packet
 * whose send fails is counted as an error and leaves the batch empty. */
static void homa_dp_batch_add__dropped_and_failed_counted(void **state)
{
	struct bt *t = *state;
	uint8_t *run = calloc(1, HOMA_DP_PKT_MAX + 1);
	struct homa_out_pkt o = { .dst = &t->dst,
				  .sport = 1,
				  .dport = t->port,
				  .priority = 3,
				  .type = 0x10,
				  .hdr = run,
				  .hdr_bytes = sizeof(t->hdr),
				  .payload = run + sizeof(t->hdr),
				  .payload_bytes = 100 };

	assert_non_null(run);
	memcpy(run, t->hdr, sizeof(t->hdr));
	bt_add(t, run + sizeof(t->hdr), 10, true); /* sets the destination */
	homa_dp_batch_flush(&t->dp, t->b);
	bt_expect(t, run + sizeof(t->hdr), 10);
	assert_null(homa_dp_batch_add(&t->dp, t->b, -1, -1, false, true, &o));
	o.payload_bytes = HOMA_DP_PKT_MAX + 1 - sizeof(t->hdr);
	assert_null(
		homa_dp_batch_add(&t->dp, t->b, t->tx, -1, false, false, &o));
	assert_int_equal(t->dp.tx_errors, 2);
	assert_int_equal(t->b->num_pkts, 0);
	/* A send on a socket that is not one fails: counted, not kept. */
	o.payload_bytes = 100;
	assert_non_null(
		homa_dp_batch_add(&t->dp, t->b, 1 << 20, -1, false, false, &o));
	homa_dp_batch_flush(&t->dp, t->b);
	assert_int_equal(t->dp.tx_errors, 3);
	assert_int_equal(t->dp.tx_pkts, 1);
	assert_int_equal(t->b->num_pkts, 0);
	free(run);
}

/* homa_dp_syscall answers as syscall(2): the result, or -1 with errno. */
static void homa_dp_syscall__result_and_errno(void **state)
{
	struct bt *t = *state;
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(t->port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	uint8_t buf[16] = { 1, 2, 3 };

	assert_int_equal(homa_dp_syscall(SYS_sendto, t->tx, (long)buf, 3, 0,
					 (long)&a, sizeof(a)),
			 3);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(homa_dp_syscall(SYS_recvfrom, t->rx, (long)buf,
					 sizeof(buf), MSG_DONTWAIT, 0, 0),
			 3);
	assert_int_equal(buf[2], 3);
	errno = 0;
	assert_int_equal(homa_dp_syscall(SYS_recvfrom, t->rx, (long)buf,
					 sizeof(buf), MSG_DONTWAIT, 0, 0),
			 -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	errno = 0;
	assert_int_equal(homa_dp_syscall(SYS_sendto, -1, (long)buf, 3, 0,
					 (long)&a, sizeof(a)),
			 -1);
	assert_int_equal(errno, EBADF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, bt_setup, bt_teardown)
		T(homa_dp_batch_add__small_payload_copied),
		T(homa_dp_batch_add__large_payload_not_copied),
		T(homa_dp_batch_add__raw_always_copies),
		T(homa_dp_batch_flush__gso_gathers_payloads),
		T(homa_dp_batch_flush__full_batch_sends_whole_frames),
		T(homa_dp_batch_release__flushes_only_on_overlap),
		T(homa_dp_batch_add__grant_replaces_older_grant),
		T(homa_dp_batch_flush__no_control_message_for_sock_tos),
		T(homa_dp_batch_sock_tos__every_priority_arrives),
		T(homa_dp_batch_flush__lone_packet_is_sendto),
		T(homa_dp_batch_add__joined_header_and_payload),
		T(homa_dp_batch_add__dropped_and_failed_counted),
		T(homa_dp_syscall__result_and_errno),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
