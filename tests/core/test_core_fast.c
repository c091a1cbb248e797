/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_core_fast.c - the core's fast path for small RPCs (issue 14): the
 * cache of RPC records, the message state kept inside the record, and
 * that none of it changes what the protocol does or what the usage
 * counters say. Two instances back to back, as in test_core_rpc.c; the
 * environment counts every allocation, so a leak or a wrong count fails.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core_world.h"
#include "homa_core.h"
#include "homa_impl.h"

#define F_REGION (4u << 20)
#define F_PORT	 99

/* This file's count of the DATA packets sent. */
static struct {
	int64_t data_pkts; /* DATA packets sent */
	int64_t joined;	   /* of those, whose payload followed their header
			    * (hdr + hdr_bytes) */
} F;

static bool f_keep(int from, const struct homa_out_pkt *p)
{
	(void)from;
	if (p->type == HOMA_PKT_DATA) {
		F.data_pkts++;
		if (p->hdr + p->hdr_bytes == p->payload)
			F.joined++;
	}
	return true;
}

static int f_setup(void **state)
{
	memset(&F, 0, sizeof(F));
	core_world_open_default(F_REGION, F_PORT, 4242);
	W->keep = f_keep;
	*state = W;
	return 0;
}

/* Send a request of len bytes (byte i is seed + 7 i). */
static uint64_t f_request(size_t len, uint8_t seed, uint64_t cookie,
			  uint32_t flags)
{
	uint8_t *buf = malloc(len);
	struct homa_iov iov = { buf, len };
	struct homa_send_args a = { &W->addr[1], F_PORT, &iov, 1,
				    0,		 cookie, flags };

	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i * 7);
	assert_int_equal(homa_send(W->cli, &a, W->now), 0);
	free(buf);
	return a.id;
}

/* The bytes of a delivered message against the pattern of seed. */
static void f_check_bytes(struct homa_sock *hsk, const struct homa_recv_args *a,
			  int len, uint8_t seed)
{
	uint8_t *region;
	uint64_t bytes;

	homa_sock_get_rcvbuf(hsk, &region, &bytes);
	for (int i = 0; i < len; i++)
		assert_int_equal(
			region[a->bpage_offsets[i >> 16] + (i & 0xFFFF)],
			(uint8_t)(seed + (size_t)i * 7));
}

/* One whole RPC of len bytes each way (the response carries seed + 1);
 * the bpages of both messages are returned at once. Returns its id. */
static uint64_t f_round_trip(size_t len, uint8_t seed)
{
	struct homa_recv_args *rsp = calloc(2, sizeof(*rsp));
	struct homa_recv_args *rcp = rsp + 1;
	uint8_t *resp = malloc(len);
	struct homa_iov iov = { resp, len };
	struct homa_send_args a = { NULL, 0, &iov, 1, 0, 0, 0 };
	uint64_t id = f_request(len, seed, 7, 0);

	core_world_deliver();
	rsp->id = 0;
	assert_int_equal(homa_recv(W->srv, rsp, W->now), (int)len);
	f_check_bytes(W->srv, rsp, (int)len, seed);
	for (size_t i = 0; i < len; i++)
		resp[i] = (uint8_t)(seed + 1 + i * 7);
	a.dst = &rsp->peer;
	a.dport = rsp->peer_port;
	a.id = rsp->id;
	assert_int_equal(homa_send(W->srv, &a, W->now), 0);
	core_world_deliver();
	rcp->id = 0;
	assert_int_equal(homa_recv(W->cli, rcp, W->now), (int)len);
	assert_true(rcp->id == id);
	assert_true(rcp->cookie == 7);
	f_check_bytes(W->cli, rcp, (int)len, (uint8_t)(seed + 1));
	assert_int_equal(
		homa_release(W->srv, rsp->bpage_offsets, rsp->num_bpages), 0);
	assert_int_equal(
		homa_release(W->cli, rcp->bpage_offsets, rcp->num_bpages), 0);
	free(rsp);
	free(resp);
	return id;
}

/* Once warm, a small RPC allocates nothing on either side: its record
 * comes from the cache, its outgoing copy and its bpage offsets live
 * inside the record. (The server holds three records for a moment: the
 * ack of an RPC rides on the next request, and this host never calls
 * homa_end_acked, so the RPC acked by the one before ends only then.) */
static void homa_rpc__small_rpc_allocates_nothing(void **state)
{
	int64_t before[2];

	(void)state;
	f_round_trip(100, 1);
	f_round_trip(100, 1);
	f_round_trip(100, 1);
	before[0] = W->allocs[0];
	before[1] = W->allocs[1];
	for (int i = 0; i < 10; i++)
		f_round_trip(100, (uint8_t)(2 + i));
	assert_int_equal(W->allocs[0], before[0]);
	assert_int_equal(W->allocs[1], before[1]);
}

/* A one-packet message in the record's own buffer reaches the host as
 * one run of bytes, header right before payload (the datapath copies it
 * at once); a larger one, with its allocated buffer, does not. Both go
 * through byte exact (f_round_trip checks). */
static void homa_rpc__inline_message_header_joins_payload(void **state)
{
	(void)state;
	f_round_trip(100, 3);
	f_round_trip(HOMA_MSGOUT_INLINE, 4);
	assert_int_equal(F.data_pkts, 4);
	assert_int_equal(F.joined, 4);
	f_round_trip(HOMA_MSGOUT_INLINE + 1, 5);
	assert_int_equal(F.data_pkts, 6);
	assert_int_equal(F.joined, 4);
}

/* The sizes at the edges of the inline state go through whole: the
 * largest inline copy, the smallest allocated one, one bpage exactly and
 * one byte over (a second bpage: an allocated offset array). */
static void homa_rpc__inline_edges_byte_exact(void **state)
{
	const size_t sizes[] = {
		1,     HOMA_MSGOUT_INLINE, HOMA_MSGOUT_INLINE + 1, 65536, 65537,
		200000
	};

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (int k = 0; k < 3; k++)
			f_round_trip(sizes[i], (uint8_t)(i * 3 + k));
	f_round_trip(100, 9);
}

/* A reused record starts clean: a private RPC with a cookie that failed
 * leaves nothing (flags, error, cookie) to the next RPC in its record. */
static void homa_rpc__reused_record_starts_clean(void **state)
{
	struct homa_recv_args *r = calloc(1, sizeof(*r));
	uint64_t id;

	(void)state;
	id = f_request(100, 3, 55, HOMA_SEND_PRIVATE);
	W->head = W->tail; /* lost: the server never hears of it */
	assert_int_equal(homa_abort(W->cli, id, ECANCELED, W->now), 0);
	r->id = id;
	assert_int_equal(homa_recv(W->cli, r, W->now), -ECANCELED);
	assert_int_equal(homa_get_metrics(W->h[0])->v[HOMA_M_reaped_rpcs], 1);
	f_round_trip(100, 4); /* a shared RPC with cookie 7, the record's */
	free(r);
}

/* A reused record starts clean after any end: here a client record
 * whose long request was half sent (a gap-free prefix, a granted limit,
 * an allocated copy) and a server record whose request was in the grant
 * scheduler (managed, with a gap left when its tail was lost). What the
 * next RPC in each record shows, and a long RPC through both again. */
static void homa_rpc__reused_after_grants_starts_clean(void **state)
{
	uint64_t tick = (uint64_t)homa_get_config(W->h[0])->tick_us * 1000;
	struct homa_rpc_view v[2];
	struct homa_usage u;
	uint64_t id;
	int n;

	(void)state;
	id = f_request(200000, 1, 9, HOMA_SEND_PRIVATE);
	assert_true(W->tail - W->head > 2);
	W->tail--; /* the last unscheduled packet is lost: a gap stays */
	/* The server gets the rest of the first batch and grants; the
	 * GRANTs are lost, so the client stops at its unscheduled bytes. */
	for (int end = W->tail; W->head != end; W->head++) {
		struct core_world_pkt *q = &W->q[W->head % CORE_WORLD_QUEUE];

		homa_input(W->h[q->dst], &W->addr[q->dst ^ 1], q->data,
			   q->bytes, W->now);
	}
	W->head = W->tail;
	assert_int_equal(homa_sock_info(W->srv, v, 2, NULL), 1);
	assert_true(v[0].rx_gaps > 0 || v[0].rx_remaining > 0);
	assert_int_equal(homa_get_metrics(W->h[1])->v[HOMA_M_grants_sent] > 0,
			 1);
	assert_int_equal(homa_sock_info(W->cli, v, 2, NULL), 1);
	assert_true(v[0].tx_sent > 0 && v[0].tx_sent < 200000);
	/* The client forgets it; the server learns so at its next RESEND
	 * (RPC_UNKNOWN) and ends its RPC, still in the grant scheduler. */
	assert_int_equal(homa_abort(W->cli, id, 0, W->now), 0);
	for (n = 0; n < 200 && homa_sock_info(W->srv, NULL, 0, NULL); n++) {
		W->now += tick; /* the client is not polled: its dead record
				 * stays uncached, so no idle tick drains it */
		homa_poll(W->h[1], W->now);
		core_world_deliver();
	}
	assert_int_equal(homa_sock_info(W->srv, NULL, 0, NULL), 0);
	for (int i = 0; i < 2; i++) {
		homa_poll(W->h[i], W->now); /* reap */
		homa_get_usage(W->h[i], &u);
		assert_int_equal(u.rpcs, 0);
		assert_int_equal(W->h[i]->num_cached_rpcs, 1);
	}
	assert_int_equal(W->h[1]->grant.num_managed, 0);
	/* The next request takes the client's record: nothing of the old
	 * one shows (sent, granted, flags, cookie, incoming). */
	id = f_request(100, 2, 11, 0);
	assert_int_equal(homa_sock_info(W->cli, v, 2, NULL), 1);
	assert_true(v[0].id == id);
	assert_true(v[0].cookie == 11);
	assert_int_equal(v[0].tx_length, 100);
	assert_int_equal(v[0].tx_sent, 100);
	assert_int_equal(v[0].tx_granted, 100);
	assert_int_equal(v[0].tx_prio, 0);
	assert_int_equal(v[0].rx_length, -1);
	assert_int_equal(v[0].flags, 0);
	/* The server's request takes its record: a fresh, complete one. */
	core_world_deliver();
	assert_int_equal(homa_sock_info(W->srv, v, 2, NULL), 1);
	assert_int_equal(v[0].rx_length, 100);
	assert_int_equal(v[0].rx_remaining, 0);
	assert_int_equal(v[0].rx_gaps, 0);
	assert_int_equal(v[0].tx_length, -1);
	assert_int_equal(v[0].tx_sent, 0);
	assert_int_equal(v[0].flags, HOMA_VIEW_RX_READY);
	/* Finish it: the response through the server's record. */
	{
		struct homa_recv_args *r = calloc(1, sizeof(*r));
		uint8_t resp[100] = { 0 };
		struct homa_iov iov = { resp, sizeof(resp) };
		struct homa_send_args a = { NULL, 0, &iov, 1, 0, 0, 0 };

		assert_int_equal(homa_recv(W->srv, r, W->now), 100);
		a.dst = &r->peer;
		a.dport = r->peer_port;
		a.id = r->id;
		assert_int_equal(homa_send(W->srv, &a, W->now), 0);
		core_world_deliver();
		memset(r, 0, sizeof(*r));
		assert_int_equal(homa_recv(W->cli, r, W->now), 100);
		assert_true(r->id == id && r->cookie == 11);
		free(r);
	}
	/* Long messages, granted, through the reused records. */
	f_round_trip(200000, 5);
	f_round_trip(100, 6);
}

/* The cache is bounded, the usage counters stay exact, and an idle tick
 * gives every cached record back to the host. */
static void homa_rpc__cache_bounded_and_drained(void **state)
{
	struct homa_usage u;
	uint64_t base;
	int n = 3 * HOMA_RPC_CACHE;

	(void)state;
	f_round_trip(100, 1); /* the peer record exists from now on */
	for (int t = 0; t < 2; t++) {
		W->now += (uint64_t)homa_get_config(W->h[0])->tick_us * 1000;
		homa_poll(W->h[0], W->now);
	}
	assert_int_equal(W->h[0]->num_cached_rpcs, 0);
	homa_get_usage(W->h[0], &u);
	base = u.alloc_bytes;
	for (int i = 0; i < n; i++)
		f_request(100, (uint8_t)i, 0, 0);
	homa_get_usage(W->h[0], &u);
	assert_int_equal(u.rpcs, n);
	assert_int_equal(homa_abort(W->cli, 0, 0, W->now), 0);
	W->now += 1000;
	for (int i = 0; i < n && u.rpcs; i++) {
		homa_poll(W->h[0], W->now); /* reaps (no tick due yet) */
		homa_get_usage(W->h[0], &u);
	}
	homa_get_usage(W->h[0], &u);
	assert_int_equal(u.rpcs, 0);
	assert_int_equal(W->h[0]->num_cached_rpcs, HOMA_RPC_CACHE);
	assert_int_equal(u.alloc_bytes, W->allocated[0]);
	assert_int_equal(u.alloc_bytes,
			 base + HOMA_RPC_CACHE * sizeof(struct homa_rpc));
	/* Two ticks with no new RPC: the first sees the reuse flag clear. */
	for (int t = 0; t < 2; t++) {
		W->now += (uint64_t)homa_get_config(W->h[0])->tick_us * 1000;
		homa_poll(W->h[0], W->now);
	}
	homa_get_usage(W->h[0], &u);
	assert_int_equal(W->h[0]->num_cached_rpcs, 0);
	assert_int_equal(u.alloc_bytes, base);
	assert_int_equal(u.alloc_bytes, W->allocated[0]);
	core_world_deliver(); /* the server's RPCs time out in teardown's destroy */
}

/* Records reused tick after tick stay cached: only idle ticks drain. */
static void homa_rpc__busy_ticks_keep_the_cache(void **state)
{
	uint64_t tick = (uint64_t)homa_get_config(W->h[0])->tick_us * 1000;
	int64_t before;

	(void)state;
	f_round_trip(100, 1);
	before = W->allocs[0];
	for (int t = 0; t < 5; t++) {
		W->now += tick;
		homa_poll(W->h[0], W->now);
		homa_poll(W->h[1], W->now);
		core_world_deliver();
		f_round_trip(100, (uint8_t)t);
	}
	assert_int_equal(W->allocs[0], before);
	assert_int_equal(W->h[0]->num_cached_rpcs, 1);
}

/* The usage counters kept as they change, against a walk over the
 * sockets (what homa_get_usage did before). */
static void f_check_usage(int i)
{
	struct homa *h = W->h[i];
	const struct homa_list *pos;
	uint64_t tx = 0, used = 0, touched = 0;
	struct homa_usage u;

	homa_list_for_each(pos, &h->socks)
	{
		const struct homa_sock *hsk =
			homa_container_of(pos, struct homa_sock, link);

		tx += hsk->tx_bytes;
		if (hsk->pool.region) {
			used += homa_pool_used_pages(&hsk->pool);
			touched += hsk->pool.touched_bpages;
		}
	}
	homa_get_usage(h, &u);
	assert_int_equal(u.tx_bytes, tx);
	assert_int_equal(u.pool_pages_used, used);
	assert_int_equal(u.pool_pages_touched, touched);
	assert_int_equal(u.alloc_bytes, W->allocated[i]);
}

/* Pages used and touched and bytes held, through messages of one and of
 * several bpages, pages kept and returned, the tail lease running out,
 * and a socket closed with pages still in use. */
static void homa_get_usage__counters_match_a_walk(void **state)
{
	struct homa_recv_args *r = calloc(1, sizeof(*r));
	uint64_t tick = (uint64_t)homa_get_config(W->h[0])->tick_us * 1000;
	struct homa_usage u;
	struct homa_sock *s2;
	uint8_t *region2 = NULL;

	(void)state;
	assert_int_equal(posix_memalign((void **)&region2, 4096, F_REGION), 0);
	assert_int_equal(homa_sock_open(W->h[1], HOMA_FAMILY_INET, NULL, &s2),
			 0);
	assert_int_equal(homa_sock_bind(s2, F_PORT + 1), 0);
	assert_int_equal(homa_sock_set_rcvbuf(s2, region2, F_REGION), 0);
	f_request(100, 1, 0, 0);
	f_request(150000, 2, 0, 0);
	f_check_usage(0);
	homa_get_usage(W->h[0], &u);
	assert_int_equal(u.tx_bytes, 150100);
	for (int k = 0; k < 400 && W->head != W->tail; k++) {
		core_world_deliver();
		W->now += 10000;
		homa_poll(W->h[0], W->now);
		homa_poll(W->h[1], W->now);
	}
	f_check_usage(1);
	homa_get_usage(W->h[1], &u);
	assert_int_equal(u.pool_pages_used, 3); /* 2 whole + the tail page */
	r->id = 0;
	assert_int_equal(homa_recv(W->srv, r, W->now), 100);
	f_check_usage(1);
	assert_int_equal(homa_release(W->srv, r->bpage_offsets, r->num_bpages),
			 0);
	r->num_bpages = 0;
	f_check_usage(1);
	/* A request to the second socket, kept there when it closes. */
	{
		uint8_t b[70000] = { 0 };
		struct homa_iov iov = { b, sizeof(b) };
		struct homa_send_args a = { &W->addr[1], F_PORT + 1, &iov, 1,
					    0,		 0,	     0 };

		assert_int_equal(homa_send(W->cli, &a, W->now), 0);
	}
	for (int k = 0; k < 400 && W->head != W->tail; k++) {
		core_world_deliver();
		W->now += 10000;
		homa_poll(W->h[0], W->now);
		homa_poll(W->h[1], W->now);
	}
	f_check_usage(0);
	f_check_usage(1);
	homa_get_usage(W->h[1], &u);
	assert_int_equal(u.pool_pages_used, 5);
	homa_sock_close(s2, W->now);
	f_check_usage(1);
	homa_get_usage(W->h[1], &u);
	assert_int_equal(u.pool_pages_used, 3);
	/* The lease of the tail page runs out at an idle tick. */
	for (int t = 0; t < 1000; t++) {
		W->now += tick;
		homa_poll(W->h[1], W->now);
	}
	f_check_usage(1);
	homa_get_usage(W->h[1], &u);
	assert_int_equal(u.pool_pages_used, 3); /* the message still holds */
	r->id = 0;
	assert_int_equal(homa_recv(W->srv, r, W->now), 150000);
	assert_int_equal(homa_release(W->srv, r->bpage_offsets, r->num_bpages),
			 0);
	r->num_bpages = 0;
	f_check_usage(1);
	homa_get_usage(W->h[1], &u);
	assert_int_equal(u.pool_pages_used, 0);
	assert_true(u.pool_pages_touched >= 3);
	free(region2);
	free(r);
	W->head = W->tail; /* the client's RPCs end in teardown's destroy */
}

/* homa_poll between ticks returns at once, with what the full pass
 * returns; anything due makes it do the full pass: a dead RPC is reaped,
 * the automatic cutoffs are computed, the tick runs. */
static void homa_poll__early_return_only_when_nothing_is_due(void **state)
{
	struct homa *h = W->h[0];
	uint64_t tick = (uint64_t)homa_get_config(h)->tick_us * 1000;
	int64_t v = 1;
	uint64_t next, id;
	struct homa_usage u;

	(void)state;
	next = homa_poll(h, W->now);
	assert_true(next == h->next_tick_ns);
	assert_true(homa_poll(h, next - 1) == next);
	/* A small RPC that ends leaves nothing to reap: its record is
	 * back in the cache at once. */
	id = f_request(100, 1, 0, 0);
	assert_int_equal(homa_abort(W->cli, id, 0, W->now), 0);
	homa_get_usage(h, &u);
	assert_int_equal(u.rpcs, 0);
	assert_int_equal(h->num_dead, 0);
	assert_int_equal(h->num_cached_rpcs, 1);
	assert_true(homa_poll(h, next - 1) == next);
	/* A dead RPC (an allocated outgoing copy to free) is reaped
	 * without a tick. */
	id = f_request(HOMA_MSGOUT_INLINE + 1, 1, 0, 0);
	assert_int_equal(homa_abort(W->cli, id, 0, W->now), 0);
	homa_get_usage(h, &u);
	assert_int_equal(u.rpcs, 1);
	assert_int_equal(h->num_dead, 1);
	assert_true(homa_poll(h, next - 1) == next - 1 + 1);
	homa_get_usage(h, &u);
	assert_int_equal(u.rpcs, 0);
	/* Automatic cutoffs, due before the tick. */
	assert_int_equal(homa_set_param(h, "cutoff_period_ms", &v, 1, NULL), 0);
	h->next_cutoffs_ns = next - 2;
	homa_poll(h, next - 2);
	assert_true(h->next_cutoffs_ns > next - 2);
	/* The tick itself. */
	homa_poll(h, next);
	assert_true(h->next_tick_ns == next + tick);
	W->head = W->tail;
}

/* The last peer is remembered; a peer evicted meanwhile is not: the next
 * RPC to its host makes a new record. */
static void homa_peer_get__last_peer_forgotten_when_evicted(void **state)
{
	struct homa *h = W->h[0];
	int64_t v;

	(void)state;
	v = 1;
	assert_int_equal(homa_set_param(h, "peer_idle_secs_min", &v, 1, NULL),
			 0);
	v = 1;
	assert_int_equal(homa_set_param(h, "peer_idle_secs_max", &v, 1, NULL),
			 0);
	v = 1;
	assert_int_equal(homa_set_param(h, "peer_gc_threshold", &v, 1, NULL),
			 0);
	f_round_trip(100, 1);
	f_round_trip(100, 2);
	assert_int_equal(homa_get_metrics(h)->v[HOMA_M_peer_allocs], 1);
	assert_true(h->peer_last != NULL);
	for (int t = 0; t < 1200; t++) {
		W->now += 1000000;
		homa_poll(W->h[0], W->now);
		homa_poll(W->h[1], W->now);
		core_world_deliver();
	}
	assert_int_equal(homa_get_metrics(h)->v[HOMA_M_peer_evictions], 1);
	assert_true(h->peer_last == NULL);
	f_round_trip(100, 3);
	assert_int_equal(homa_get_metrics(h)->v[HOMA_M_peer_allocs], 2);
	assert_true(h->peer_last != NULL);
	f_round_trip(100, 4);
	assert_int_equal(homa_get_metrics(h)->v[HOMA_M_peer_allocs], 2);
}

/* Server RPCs on the server's side (usage). */
static uint64_t f_server_rpcs(void)
{
	struct homa_usage u;

	homa_get_usage(W->h[1], &u);
	return u.rpcs;
}

/* The ack that rides on a request is counted when it comes, but its RPC
 * ends only once the host says the reply to that request has left
 * (homa_end_acked), so that ending it does not delay the reply; one
 * waits at most: the next such ack ends it. */
static void homa_end_acked__ack_with_request_ends_after_reply(void **state)
{
	(void)state;
	f_round_trip(100, 1);
	assert_int_equal(f_server_rpcs(), 1); /* waits for its ack */
	f_round_trip(100, 2);
	/* The second request acked the first RPC: counted, not ended. */
	assert_int_equal(homa_get_metrics(W->h[1])->v[HOMA_M_server_rpcs_acked],
			 1);
	assert_int_equal(f_server_rpcs(), 2);
	homa_end_acked(W->h[1], W->now);
	assert_int_equal(f_server_rpcs(), 1);
	homa_end_acked(W->h[1], W->now); /* nothing waits: nothing ends */
	assert_int_equal(f_server_rpcs(), 1);
	/* Without homa_end_acked, never more than one waits. */
	for (int i = 0; i < 10; i++)
		f_round_trip(100, (uint8_t)(3 + i));
	assert_int_equal(homa_get_metrics(W->h[1])->v[HOMA_M_server_rpcs_acked],
			 11);
	assert_int_equal(f_server_rpcs(), 2);
	assert_int_equal(homa_get_metrics(W->h[1])->v[HOMA_M_drop_bad_ack], 0);
}

/* A host that never calls homa_end_acked: homa_recv ends the waiting RPC
 * when it finds nothing ready, else the next tick does, before the timer
 * (which would ask for the ack again with NEED_ACK). */
static void homa_end_acked__else_recv_or_tick_ends_it(void **state)
{
	struct homa_recv_args *rs = calloc(1, sizeof(*rs));

	(void)state;
	f_round_trip(100, 1);
	f_round_trip(100, 2);
	assert_int_equal(f_server_rpcs(), 2);
	assert_int_equal(homa_recv(W->srv, rs, W->now), -EAGAIN);
	assert_int_equal(f_server_rpcs(), 1);
	f_round_trip(100, 3);
	assert_int_equal(f_server_rpcs(), 2);
	W->now += 1000000; /* the next tick, nothing delivered */
	homa_poll(W->h[1], W->now);
	assert_int_equal(f_server_rpcs(), 1);
	assert_int_equal(homa_get_metrics(W->h[1])->v[HOMA_M_sent_need_ack], 0);
	assert_int_equal(homa_get_metrics(W->h[1])->v[HOMA_M_server_rpcs_acked],
			 2);
	free(rs);
}

/* An RPC waiting to end ends another way first: an explicit ACK names
 * it (counted as for an RPC already gone, not acked twice), or its
 * socket shuts down; homa_end_acked then finds nothing. */
static void homa_end_acked__other_ends_first(void **state)
{
	uint8_t buf[HOMA_WIRE_MAX_HEADER_BYTES];
	struct homa_wire_pkt p;
	uint64_t id = f_round_trip(100, 1);
	int len;

	(void)state;
	f_round_trip(100, 2);
	assert_int_equal(f_server_rpcs(), 2);
	memset(&p, 0, sizeof(p));
	p.common.type = HOMA_PKT_ACK;
	p.common.sport = homa_sock_port(W->cli);
	p.common.dport = F_PORT;
	p.common.sender_id = id;
	len = homa_wire_encode(&p, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(
		homa_input(W->h[1], &W->addr[0], buf, (size_t)len, W->now), 0);
	assert_int_equal(f_server_rpcs(), 1);
	assert_int_equal(homa_get_metrics(W->h[1])->v[HOMA_M_server_rpcs_acked],
			 1);
	assert_int_equal(homa_get_metrics(W->h[1])->v[HOMA_M_drop_unknown_rpc],
			 1);
	homa_end_acked(W->h[1], W->now);
	assert_int_equal(f_server_rpcs(), 1);
	/* Again, and the socket shuts down with one waiting. */
	f_round_trip(100, 3);
	assert_int_equal(f_server_rpcs(), 2);
	homa_sock_shutdown(W->srv, W->now);
	assert_int_equal(f_server_rpcs(), 0);
	homa_end_acked(W->h[1], W->now);
	assert_int_equal(f_server_rpcs(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, f_setup, core_world_teardown)
		T(homa_rpc__small_rpc_allocates_nothing),
		T(homa_rpc__inline_message_header_joins_payload),
		T(homa_rpc__inline_edges_byte_exact),
		T(homa_rpc__reused_record_starts_clean),
		T(homa_rpc__reused_after_grants_starts_clean),
		T(homa_rpc__cache_bounded_and_drained),
		T(homa_rpc__busy_ticks_keep_the_cache),
		T(homa_get_usage__counters_match_a_walk),
		T(homa_poll__early_return_only_when_nothing_is_due),
		T(homa_peer_get__last_peer_forgotten_when_evicted),
		T(homa_end_acked__ack_with_request_ends_after_reply),
		T(homa_end_acked__else_recv_or_tick_ends_it),
		T(homa_end_acked__other_ends_first),
#undef T
	};
	if (getenv("TEST_FILTER"))
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
