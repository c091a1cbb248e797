/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_core_place.c - receiving in place (place.c): two instances back to
 * back, the server fed the way the UDP datapath feeds it when the core
 * reserves places: before each read of a few packets it reserves, each
 * packet read into a reserved slot has its first 56 bytes in the slot's
 * buffer, its payload written into the reserved spans of the pool (as the
 * kernel's recvmsg fills an iovec) and the rest after it; then
 * homa_input_placed, a gather and homa_input for what it turns down, once
 * the reservation is released. Every byte of every message is checked:
 * a span pointing anywhere but where the message's bytes belong fails.
 * In order, reordered, lost, duplicated packets; DATA arriving by another
 * path while reserved; an RPC or socket that ends while pages are pinned;
 * reservations checked against a peek at the first packet of a read.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core_world.h"
#include "homa_core.h"
#include "homa_impl.h"

#define P_REGION (4u << 20)
#define P_SLOTS	 16 /* packets per emulated read */

/* This file's knobs on the world's packets, and its reader. */
static struct {
	int batch;     /* server packets per emulated read */
	bool swap;     /* swap each pair of a read */
	bool peek;     /* check reservations against a peek at the
			* read's first packet */
	int drop_data; /* drop the server's n-th DATA (1-based) */
	int dup_data;  /* deliver the n-th DATA twice */
	int data_seen; /* server DATA packets so far */
	int reads;     /* emulated reads with places */
	uint8_t slot[P_SLOTS][CORE_WORLD_PKT]; /* the reader's slot buffers */
} P;

/* What the kernel's recvmsg does with a slot's iovec: header bytes into
 * the slot, then the spans, then the rest after room for a gather. */
static void p_scatter(const uint8_t *pkt, size_t bytes, uint8_t *slot,
		      const struct homa_place *pl)
{
	size_t hdr = bytes < HOMA_PLACE_HDR ? bytes : HOMA_PLACE_HDR;
	size_t left = bytes - hdr;

	memcpy(slot, pkt, hdr);
	pkt += hdr;
	for (int i = 0; i < HOMA_PLACE_SPANS && left && pl->span_bytes[i];
	     i++) {
		size_t n = left < pl->span_bytes[i] ? left : pl->span_bytes[i];

		memcpy(pl->span[i], pkt, n);
		pkt += n;
		left -= n;
	}
	memcpy(slot + HOMA_PLACE_HDR + pl->bytes, pkt, left);
}

/* Take the next packet for the server off the queue, applying the test's
 * drop and duplicate rules; false if none is next. */
static bool p_next_server(struct core_world_pkt *out)
{
	while (W->head != W->tail) {
		struct core_world_pkt *q = &W->q[W->head % CORE_WORLD_QUEUE];

		if (q->dst != 1)
			return false;
		if (q->data[11] == HOMA_PKT_DATA) {
			P.data_seen++;
			if (P.data_seen == P.drop_data) {
				W->head++;
				continue;
			}
			if (P.data_seen == P.dup_data) {
				*out = *q; /* stays queued: read again */
				return true;
			}
		}
		*out = *q;
		W->head++;
		return true;
	}
	return false;
}

/* One emulated read by the server's poller: reserve, read up to batch
 * packets, feed. */
static void p_server_read(void)
{
	static struct core_world_pkt pkts[P_SLOTS];
	struct homa_place pl[HOMA_PLACE_MAX];
	int n = 0, np, fed[P_SLOTS];

	while (n < P.batch && p_next_server(&pkts[n]))
		n++;
	if (P.swap)
		for (int i = 0; i + 1 < n; i += 2) {
			struct core_world_pkt t = pkts[i];

			pkts[i] = pkts[i + 1];
			pkts[i + 1] = t;
		}
	np = homa_place_reserve(W->h[1], pl, HOMA_PLACE_MAX, W->now);
	if (P.peek && np && n && homa_place_peek_wanted(W->h[1]))
		np = homa_place_peeked(W->h[1], pkts[0].data,
				       pkts[0].bytes < HOMA_PLACE_HDR
					       ? pkts[0].bytes
					       : HOMA_PLACE_HDR,
				       pl, HOMA_PLACE_MAX, W->now);
	assert_true(np >= 0 && np <= HOMA_PLACE_MAX);
	if (np)
		P.reads++;
	for (int i = 0; i < n; i++) {
		if (i < np)
			p_scatter(pkts[i].data, pkts[i].bytes, P.slot[i],
				  &pl[i]);
		else
			memcpy(P.slot[i], pkts[i].data, pkts[i].bytes);
		fed[i] = 0;
	}
	for (int i = 0; i < n && i < np; i++) {
		size_t hdr = pkts[i].bytes < HOMA_PLACE_HDR ? pkts[i].bytes
							    : HOMA_PLACE_HDR;

		if (homa_input_placed(W->h[1], &W->addr[0], P.slot[i], hdr,
				      pkts[i].bytes - hdr, &pl[i], W->now) == 0)
			fed[i] = 1;
		else
			homa_place_gather(P.slot[i], pkts[i].bytes, &pl[i]);
	}
	homa_place_release(W->h[1]);
	for (int i = 0; i < n; i++)
		if (!fed[i])
			homa_input(W->h[1], &W->addr[0], P.slot[i],
				   pkts[i].bytes, W->now);
}

/* Deliver every queued packet (and what they trigger). */
static void p_deliver(void)
{
	while (W->head != W->tail) {
		struct core_world_pkt *q = &W->q[W->head % CORE_WORLD_QUEUE];

		if (q->dst == 1) {
			p_server_read();
			continue;
		}
		W->head++;
		homa_input(W->h[0], &W->addr[1], q->data, q->bytes, W->now);
	}
}

static void p_run_ms(int ms)
{
	core_world_run_ms_with(ms, p_deliver);
}

static int p_setup(void **state)
{
	memset(&P, 0, sizeof(P));
	P.batch = 4;
	core_world_open_default(P_REGION, 99, 777);
	*state = W;
	return 0;
}

static uint8_t p_byte(size_t i, uint8_t seed)
{
	return (uint8_t)(seed + i * 7 + (i >> 11));
}

/* Send a request of len bytes (pattern seed) from the client. */
static void p_request(size_t len, uint8_t seed)
{
	uint8_t *buf = malloc(len);
	struct homa_iov iov = { buf, len };
	struct homa_send_args a = { &W->addr[1], 99, &iov, 1, 0, 1, 0 };

	for (size_t i = 0; i < len; i++)
		buf[i] = p_byte(i, seed);
	assert_int_equal(homa_send(W->cli, &a, W->now), 0);
	free(buf);
}

/* Receive the request at the server; check every byte; return its pages
 * (so the next one may use them). Returns the length. */
static int p_recv_check(int len, uint8_t seed)
{
	struct homa_recv_args a;
	uint8_t *region;
	uint64_t bytes;
	int got;

	memset(&a, 0, sizeof(a));
	got = homa_recv(W->srv, &a, W->now);
	assert_int_equal(got, len);
	homa_sock_get_rcvbuf(W->srv, &region, &bytes);
	for (int i = 0; i < len; i++) {
		uint8_t b = region[a.bpage_offsets[i >> 16] + (i & 0xFFFF)];

		if (b != p_byte((size_t)i, seed))
			fail_msg("byte %d: %u, expected %u", i, b,
				 p_byte((size_t)i, seed));
	}
	assert_int_equal(homa_release(W->srv, a.bpage_offsets, a.num_bpages),
			 0);
	return got;
}

static void place__in_order_lands_in_place(void **state)
{
	uint64_t data;

	(void)state;
	for (int m = 0; m < 3; m++) {
		p_request(300000 + (size_t)m * 777, (uint8_t)(3 + m));
		p_run_ms(5);
		p_recv_check(300000 + m * 777, (uint8_t)(3 + m));
	}
	data = core_world_metric(1, HOMA_M_recv_data);
	/* Each message's first packet has nothing to predict from, and the
	 * unscheduled ones may be cut at the limit; the rest are placed. */
	assert_true(core_world_metric(1, HOMA_M_place_hits) >= data * 9 / 10);
	assert_true(core_world_metric(1, HOMA_M_place_misses) <= 6);
	assert_int_equal(core_world_metric(1, HOMA_M_drop_placing), 0);
	assert_true(P.reads > 0);
}

/* Receive a request at the server that is one of lens[0..2) (patterns
 * seeds[i]), check every byte, return its pages; returns its index. */
static int p_recv_either(const int *lens, const uint8_t *seeds)
{
	struct homa_recv_args a;
	uint8_t *region;
	uint64_t bytes;
	int got, k;

	memset(&a, 0, sizeof(a));
	got = homa_recv(W->srv, &a, W->now);
	k = got == lens[0] ? 0 : 1;
	assert_int_equal(got, lens[k]);
	homa_sock_get_rcvbuf(W->srv, &region, &bytes);
	for (int i = 0; i < got; i++) {
		uint8_t b = region[a.bpage_offsets[i >> 16] + (i & 0xFFFF)];

		if (b != p_byte((size_t)i, seeds[k]))
			fail_msg("message %d byte %d: %u, expected %u", k, i, b,
				 p_byte((size_t)i, seeds[k]));
	}
	assert_int_equal(homa_release(W->srv, a.bpage_offsets, a.num_bpages),
			 0);
	return k;
}

/* Two requests at once: the client sends the packets of both as grants
 * come (the shorter first), so a read holds packets of both. The
 * reservation covers the next packets of each; a packet read into the
 * other message's place, even at the same offset, is turned down. */
static void place__two_messages_interleaved(void **state)
{
	const int lens[2] = { 300000, 200000 };
	const uint8_t seeds[2] = { 61, 62 };
	uint64_t data;

	(void)state;
	P.batch = 8;
	p_request((size_t)lens[0], seeds[0]);
	p_request((size_t)lens[1], seeds[1]);
	p_run_ms(5);
	assert_int_equal(
		p_recv_either(lens, seeds) + p_recv_either(lens, seeds), 1);
	data = core_world_metric(1, HOMA_M_recv_data);
	assert_true(core_world_metric(1, HOMA_M_place_hits) >= data * 3 / 4);
	assert_int_equal(core_world_metric(1, HOMA_M_drop_placing), 0);
}

/* The same with each reservation checked against the read's first
 * packet: a run of the other message's packets first no longer spoils
 * the read. */
static void place__two_messages_peeked(void **state)
{
	const int lens[2] = { 300000, 200000 };
	const uint8_t seeds[2] = { 61, 62 };

	(void)state;
	P.batch = 8;
	P.peek = true;
	p_request((size_t)lens[0], seeds[0]);
	p_request((size_t)lens[1], seeds[1]);
	p_run_ms(5);
	assert_int_equal(
		p_recv_either(lens, seeds) + p_recv_either(lens, seeds), 1);
	/* Without the peeks: 316 of 354 in place, 30 turned down. */
	assert_true(core_world_metric(1, HOMA_M_place_misses) <= 10);
	assert_true(core_world_metric(1, HOMA_M_place_hits) >=
		    core_world_metric(1, HOMA_M_recv_data) * 9 / 10);
	assert_true(core_world_metric(1, HOMA_M_place_peek_redone) > 0);
	assert_int_equal(core_world_metric(1, HOMA_M_drop_placing), 0);
}

/* Two requests of one length, delivered one packet per read until both
 * unscheduled parts are in: the reservation then covers both messages at
 * the same offsets. The next DATA packet read into the other message's
 * place at its own offset is turned down, not taken as its own. */
static void place__same_offset_other_message_turned_down(void **state)
{
	const int lens[2] = { 200000, 200000 + 1 };
	const uint8_t seeds[2] = { 71, 72 };
	struct homa_place pl[HOMA_PLACE_MAX];
	const struct homa_place_state *ps = &W->h[1]->place;
	struct core_world_pkt pkt;
	uint64_t id;
	uint32_t off;
	int n, wrong = -1;

	(void)state;
	/* A small window: a few packets of each message due at a time. */
	assert_int_equal(
		homa_set_param(W->h[1], "window", &(int64_t){ 5000 }, 1, NULL),
		0);
	P.batch = 1;
	p_request((size_t)lens[0], seeds[0]);
	p_request((size_t)lens[1], seeds[1]);
	/* Both unscheduled parts (40,000 bytes each) reach the server. */
	while (P.data_seen < 2 * 29)
		p_server_read();
	/* The grants reach the client, which sends more. */
	W->now += 1000;
	while (W->head != W->tail &&
	       W->q[W->head % CORE_WORLD_QUEUE].dst == 0) {
		struct core_world_pkt *q = &W->q[W->head++ % CORE_WORLD_QUEUE];

		homa_input(W->h[0], &W->addr[1], q->data, q->bytes, W->now);
	}
	n = homa_place_reserve(W->h[1], pl, HOMA_PLACE_MAX, W->now);
	assert_int_equal(ps->num_parts, 2);
	assert_true(p_next_server(&pkt));
	assert_int_equal(pkt.data[11], HOMA_PKT_DATA);
	memcpy(&id, pkt.data + 20, 8);
	id = __builtin_bswap64(id) ^ 1;
	memcpy(&off, pkt.data + 4, 4);
	off = __builtin_bswap32(off);
	for (int i = 0; i < n; i++)
		if (pl[i].offset == off && ps->part[pl[i].part].id != id)
			wrong = i;
	assert_true(wrong >= 0);
	p_scatter(pkt.data, pkt.bytes, P.slot[0], &pl[wrong]);
	assert_int_equal(homa_input_placed(W->h[1], &W->addr[0], P.slot[0],
					   HOMA_PLACE_HDR,
					   pkt.bytes - HOMA_PLACE_HDR,
					   &pl[wrong], W->now),
			 -EAGAIN);
	homa_place_gather(P.slot[0], pkt.bytes, &pl[wrong]);
	homa_place_release(W->h[1]);
	homa_input(W->h[1], &W->addr[0], P.slot[0], pkt.bytes, W->now);
	P.batch = 8;
	p_run_ms(5);
	assert_int_equal(
		p_recv_either(lens, seeds) + p_recv_either(lens, seeds), 1);
}

static void place__reordered_falls_back(void **state)
{
	(void)state;
	P.swap = true;
	p_request(200000, 9);
	p_run_ms(5);
	p_recv_check(200000, 9);
	assert_true(core_world_metric(1, HOMA_M_place_misses) > 10);
	assert_int_equal(core_world_metric(1, HOMA_M_drop_placing), 0);
}

static void place__lost_packet_retransmitted(void **state)
{
	(void)state;
	P.drop_data = 20;
	p_request(250000, 21);
	p_run_ms(5);
	p_run_ms(100); /* RESEND after resend_ticks */
	p_recv_check(250000, 21);
	assert_true(core_world_metric(1, HOMA_M_resend_requests) > 0);
	assert_true(core_world_metric(1, HOMA_M_place_misses) > 0);
	assert_true(core_world_metric(1, HOMA_M_place_hits) > 100);
}

static void place__duplicate_copied_once(void **state)
{
	(void)state;
	P.dup_data = 30;
	P.batch = 7;
	p_request(250000, 33);
	p_run_ms(5);
	p_recv_check(250000, 33);
	assert_true(core_world_metric(1, HOMA_M_drop_dup_data) >= 1);
}

static void place__single_packet_reads(void **state)
{
	(void)state;
	P.batch = 1;
	p_request(150000, 41);
	p_run_ms(5);
	p_recv_check(150000, 41);
	assert_true(core_world_metric(1, HOMA_M_place_hits) > 90);
}

/* Reserve the server's next packets mid-message: send len, deliver
 * packets until `after` DATA packets reached the server. */
static int p_reserve_mid(size_t len, int after, struct homa_place *pl)
{
	P.batch = 1;
	p_request(len, 50);
	while (P.data_seen < after) {
		struct core_world_pkt *q = &W->q[W->head % CORE_WORLD_QUEUE];

		if (W->head == W->tail) {
			W->now += 1000000;
			homa_poll(W->h[0], W->now);
			homa_poll(W->h[1], W->now);
			assert_true(W->head != W->tail);
		} else if (q->dst == 1) {
			p_server_read();
		} else {
			W->head++;
			homa_input(W->h[0], &W->addr[1], q->data, q->bytes,
				   W->now);
		}
	}
	return homa_place_reserve(W->h[1], pl, HOMA_PLACE_MAX, W->now);
}

static void place__other_path_dropped_while_reserved(void **state)
{
	struct homa_place pl[HOMA_PLACE_MAX];
	struct core_world_pkt pkt;
	int n;

	(void)state;
	n = p_reserve_mid(100000, 10, pl);
	assert_true(n > 0);
	assert_int_equal(homa_place_reserve(W->h[1], pl + n, 1, W->now), 0);
	/* The next packet is the first reserved one: fed the usual way it
	 * would be copied over bytes the network may be writing. */
	assert_true(p_next_server(&pkt));
	memset(pl[0].span[0], 0xEE, pl[0].span_bytes[0]);
	homa_input(W->h[1], &W->addr[0], pkt.data, pkt.bytes, W->now);
	assert_int_equal(core_world_metric(1, HOMA_M_drop_placing), 1);
	assert_int_equal(pl[0].span[0][0], 0xEE); /* not copied */
	homa_place_release(W->h[1]);
	/* Released: the retransmission completes the message. */
	P.batch = 4;
	p_run_ms(100);
	p_recv_check(100000, 50);
}

/* One emulated read of a packet nobody reserved (a BUSY for the RPC),
 * then the next three DATA packets, the reservation checked against a
 * peek at the first if peek; returns the packets taken in place. */
static int p_read_after_busy(bool peek)
{
	struct homa_place pl[HOMA_PLACE_MAX];
	struct core_world_pkt pk[4];
	int np, hits = 0, fed[4] = { 0 };

	np = homa_place_reserve(W->h[1], pl, HOMA_PLACE_MAX, W->now);
	assert_true(np >= 3);
	assert_false(homa_place_peek_wanted(W->h[1]) && !peek);
	for (int i = 1; i < 4; i++) {
		assert_true(p_next_server(&pk[i]));
		assert_int_equal(pk[i].data[11], HOMA_PKT_DATA);
	}
	pk[0] = pk[1];
	pk[0].bytes = HOMA_WIRE_COMMON_BYTES;
	pk[0].data[11] = HOMA_PKT_BUSY;
	if (peek) {
		np = homa_place_peeked(W->h[1], pk[0].data, pk[0].bytes, pl,
				       HOMA_PLACE_MAX, W->now);
		assert_true(np >= 4);
		assert_int_equal(pl[0].part, HOMA_PLACE_NO_PART);
		assert_int_equal(pl[0].bytes, 0);
	}
	for (int i = 0; i < 4; i++)
		p_scatter(pk[i].data, pk[i].bytes, P.slot[i], &pl[i]);
	for (int i = 0; i < 4; i++) {
		size_t hdr = pk[i].bytes < HOMA_PLACE_HDR ? pk[i].bytes
							  : HOMA_PLACE_HDR;

		if (homa_input_placed(W->h[1], &W->addr[0], P.slot[i], hdr,
				      pk[i].bytes - hdr, &pl[i], W->now) == 0)
			fed[i] = 1;
		else
			homa_place_gather(P.slot[i], pk[i].bytes, &pl[i]);
	}
	homa_place_release(W->h[1]);
	for (int i = 0; i < 4; i++) {
		hits += fed[i];
		if (!fed[i])
			homa_input(W->h[1], &W->addr[0], P.slot[i], pk[i].bytes,
				   W->now);
	}
	return hits;
}

/* A packet nobody reserved first in a read shifts the rest by a slot:
 * every one is turned down (and copied twice more). Checked against a
 * peek, the reservation starts with an empty place for it, and the rest
 * land in place; the message arrives whole either way. */
static void place__peek_packet_nobody_reserved(void **state)
{
	struct homa_place pl[HOMA_PLACE_MAX];
	uint64_t misses;

	(void)state;
	assert_true(p_reserve_mid(300000, 10, pl) > 0);
	homa_place_release(W->h[1]);
	misses = core_world_metric(1, HOMA_M_place_misses);
	assert_int_equal(p_read_after_busy(false), 0);
	assert_int_equal(core_world_metric(1, HOMA_M_place_misses), misses + 4);
	/* A read that missed: the next ones are worth a peek. */
	assert_int_equal(p_read_after_busy(true), 3);
	assert_int_equal(core_world_metric(1, HOMA_M_place_misses), misses + 4);
	assert_int_equal(core_world_metric(1, HOMA_M_place_peek_redone), 1);
	P.batch = 4;
	p_run_ms(100);
	p_recv_check(300000, 50);
	assert_int_equal(core_world_metric(1, HOMA_M_drop_placing), 0);
}

/* The peek's bytes are whatever the socket holds: the expected packet
 * keeps the reservation; too short, garbage or another port's header
 * puts an empty place first, once. */
static void place__peek_bad_header(void **state)
{
	struct homa_place pl[HOMA_PLACE_MAX];
	uint8_t hdr[HOMA_PLACE_HDR];
	int n;

	(void)state;
	n = p_reserve_mid(100000, 10, pl);
	assert_true(n >= 2);
	memcpy(hdr, W->q[W->head % CORE_WORLD_QUEUE].data, sizeof(hdr));
	assert_int_equal(homa_place_peeked(W->h[1], hdr, sizeof(hdr), pl,
					   HOMA_PLACE_MAX, W->now),
			 n);
	assert_int_equal(core_world_metric(1, HOMA_M_place_peek_redone), 0);
	assert_true(homa_place_peeked(W->h[1], hdr, 20, pl, HOMA_PLACE_MAX,
				      W->now) >= 2);
	assert_int_equal(pl[0].part, HOMA_PLACE_NO_PART);
	assert_int_equal(core_world_metric(1, HOMA_M_place_peek_redone), 1);
	memset(hdr, 0xFF, sizeof(hdr));
	assert_true(homa_place_peeked(W->h[1], hdr, sizeof(hdr), pl,
				      HOMA_PLACE_MAX, W->now) >= 2);
	memcpy(hdr, W->q[W->head % CORE_WORLD_QUEUE].data, sizeof(hdr));
	hdr[2] ^= 0x40; /* another destination port */
	assert_true(homa_place_peeked(W->h[1], hdr, sizeof(hdr), pl,
				      HOMA_PLACE_MAX, W->now) >= 2);
	assert_int_equal(pl[0].part, HOMA_PLACE_NO_PART);
	assert_int_equal(core_world_metric(1, HOMA_M_place_peek_redone), 1);
	homa_place_release(W->h[1]);
	assert_int_equal(homa_place_peeked(W->h[1], hdr, sizeof(hdr), pl,
					   HOMA_PLACE_MAX, W->now),
			 0); /* nothing reserved */
	P.batch = 4;
	p_run_ms(100);
	p_recv_check(100000, 50);
}

static void place__wrong_packet_turned_down(void **state)
{
	struct homa_place pl[HOMA_PLACE_MAX];
	struct core_world_pkt pkt;
	uint64_t hits;
	int n;

	(void)state;
	n = p_reserve_mid(100000, 10, pl);
	assert_true(n >= 2);
	assert_true(p_next_server(&pkt));
	hits = core_world_metric(1, HOMA_M_place_hits);
	/* The right packet offered for the wrong place, too long or too
	 * short a header, another port: all turned down, nothing taken. */
	assert_int_equal(homa_input_placed(W->h[1], &W->addr[0], pkt.data, 56,
					   pkt.bytes - 56, &pl[1], W->now),
			 -EAGAIN);
	assert_int_equal(homa_input_placed(W->h[1], &W->addr[0], pkt.data, 56,
					   pl[0].bytes + 1, &pl[0], W->now),
			 -EAGAIN);
	assert_int_equal(homa_input_placed(W->h[1], &W->addr[0], pkt.data, 40,
					   pkt.bytes - 40, &pl[0], W->now),
			 -EAGAIN);
	assert_int_equal(homa_input_placed(W->h[1], &W->addr[1], pkt.data, 56,
					   pkt.bytes - 56, &pl[0], W->now),
			 -EAGAIN); /* another host: another server RPC */
	pl[0].port = 98;
	assert_int_equal(homa_input_placed(W->h[1], &W->addr[0], pkt.data, 56,
					   pkt.bytes - 56, &pl[0], W->now),
			 -EAGAIN);
	assert_int_equal(core_world_metric(1, HOMA_M_place_hits), hits);
	assert_int_equal(core_world_metric(1, HOMA_M_place_misses), 5);
	homa_place_release(W->h[1]);
	homa_input(W->h[1], &W->addr[0], pkt.data, pkt.bytes, W->now);
	P.batch = 4;
	p_run_ms(5);
	p_recv_check(100000, 50);
}

static void place__pins_outlive_the_rpc(void **state)
{
	struct homa_place pl[HOMA_PLACE_MAX];
	struct homa_usage u;
	int n;

	(void)state;
	n = p_reserve_mid(400000, 40, pl);
	assert_true(n > 0);
	homa_sock_shutdown(W->srv, W->now); /* ends the server RPC */
	homa_get_usage(W->h[1], &u);
	/* Pinned pages are not reusable yet (the core's leased tail page
	 * is the one page left after). */
	assert_true(u.pool_pages_used >= 2);
	homa_place_release(W->h[1]);
	homa_get_usage(W->h[1], &u);
	assert_true(u.pool_pages_used <= 1);
}

static void place__socket_closed_while_reserved(void **state)
{
	struct homa_place pl[HOMA_PLACE_MAX];
	uint64_t no_socket;
	struct core_world_pkt pkt;
	int n;

	(void)state;
	n = p_reserve_mid(400000, 40, pl);
	assert_true(n > 0);
	assert_true(p_next_server(&pkt));
	homa_sock_close(W->srv, W->now);
	W->srv = NULL;
	/* A peek meanwhile leaves the reservation alone. */
	assert_int_equal(homa_place_peeked(W->h[1], pkt.data, HOMA_PLACE_HDR,
					   pl, HOMA_PLACE_MAX, W->now),
			 n);
	/* A packet read into a place before the close: dropped, and the
	 * spans (in a pool that may be gone) never read. */
	pl[0].span[0] = pl[0].span[1] = NULL;
	no_socket = core_world_metric(1, HOMA_M_drop_no_socket);
	assert_int_equal(homa_input_placed(W->h[1], &W->addr[0], pkt.data, 56,
					   pkt.bytes - 56, &pl[0], W->now),
			 0);
	assert_int_equal(core_world_metric(1, HOMA_M_drop_no_socket),
			 no_socket + 1);
	homa_place_release(W->h[1]); /* the pool is gone: nothing to unpin */
	assert_int_equal(homa_place_reserve(W->h[1], pl, 4, W->now), 0);
}

static void place__small_messages_reserve_nothing(void **state)
{
	struct homa_place pl[HOMA_PLACE_MAX];

	(void)state;
	p_request(100, 60);
	p_run_ms(1);
	p_recv_check(100, 60);
	assert_int_equal(
		homa_place_reserve(W->h[1], pl, HOMA_PLACE_MAX, W->now), 0);
	assert_int_equal(core_world_metric(1, HOMA_M_place_hits), 0);
}

static void wire_decode_split__data_only(void **state)
{
	struct homa_wire_pkt p, q;
	uint8_t buf[56 + 100];

	(void)state;
	memset(&p, 0, sizeof(p));
	p.common.type = HOMA_PKT_DATA;
	p.common.sport = 1;
	p.common.dport = 2;
	p.common.sender_id = 10;
	p.u.data.message_length = 1000;
	p.u.data.seg_offset = 300;
	assert_int_equal(homa_wire_encode(&p, buf, sizeof(buf)), 56);
	memset(buf + 56, 0, 100);
	assert_int_equal(homa_wire_decode_split(buf, 56, 100, 5000, &q),
			 HOMA_WIRE_OK);
	assert_null(q.u.data.payload);
	assert_int_equal(q.u.data.payload_bytes, 100);
	assert_int_equal(q.u.data.offset, 300);
	assert_int_equal(homa_wire_decode_split(buf, 56, 701, 5000, &q),
			 HOMA_WIRE_DATA_RANGE);
	assert_int_equal(homa_wire_decode_split(buf, 56, 0, 5000, &q),
			 HOMA_WIRE_DATA_RANGE);
	assert_int_equal(homa_wire_decode_split(buf, 55, 100, 5000, &q),
			 HOMA_WIRE_SHORT_TYPE);
	assert_int_equal(homa_wire_decode_split(buf, 20, 100, 5000, &q),
			 HOMA_WIRE_SHORT);
	buf[11] = HOMA_PKT_GRANT;
	assert_int_equal(homa_wire_decode_split(buf, 56, 100, 5000, &q),
			 HOMA_WIRE_BAD_TYPE);
}

#define T(f) cmocka_unit_test_setup_teardown(f, p_setup, core_world_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(place__in_order_lands_in_place),
		T(place__two_messages_interleaved),
		T(place__two_messages_peeked),
		T(place__same_offset_other_message_turned_down),
		T(place__reordered_falls_back),
		T(place__lost_packet_retransmitted),
		T(place__duplicate_copied_once),
		T(place__single_packet_reads),
		T(place__other_path_dropped_while_reserved),
		T(place__peek_packet_nobody_reserved),
		T(place__peek_bad_header),
		T(place__wrong_packet_turned_down),
		T(place__pins_outlive_the_rpc),
		T(place__socket_closed_while_reserved),
		T(place__small_messages_reserve_nothing),
		cmocka_unit_test(wire_decode_split__data_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
