/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * core_world.h - two core instances back to back, for the core tests that
 * pass packets between a client and a server in memory (test_core_fast,
 * test_core_place, test_core_rpc, test_core_chunk, test_core_borrow): the
 * instances, their sockets, one packet queue, the env callbacks (memory
 * counted per instance, wake-ups, pushes and ends of lent messages
 * counted), the clock, a filter that loses every n-th DATA packet, the
 * metrics, a receive that runs the world while it waits and a check of
 * the received bytes, and the checks at the end (the core's usage
 * matches what the env handed out, nothing leaked). A test file keeps
 * only its own knobs:
 * which packets to drop (W->keep) and what a push does (W->on_push).
 * Include after <cmocka.h>.
 */
#ifndef HOMA_TESTS_CORE_WORLD_H
#define HOMA_TESTS_CORE_WORLD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "homa_core.h"
#include "wire.h"

#define CORE_WORLD_QUEUE 4096 /* packets in flight at most */
#define CORE_WORLD_PKT	 1600 /* bytes a queued packet may have */

/* A packet in flight. */
struct core_world_pkt {
	int dst;		      /* instance index, 0 or 1 */
	size_t bytes;		      /* packet length */
	uint8_t type;		      /* packet type */
	uint8_t prio;		      /* network priority */
	uint8_t data[CORE_WORLD_PKT]; /* bytes */
};

struct core_world {
	struct homa *h[2];	     /* client 0, server 1 */
	struct homa_addr addr[2];    /* host addresses (IPv4-mapped) */
	struct homa_sock *cli, *srv; /* client socket on h[0], server on h[1] */
	uint8_t *region;	     /* 2 x region_bytes, 4096-aligned */
	size_t region_bytes;	     /* receive region of each socket, bytes */
	struct core_world_pkt *q;    /* packets in flight */
	int head, tail;		     /* queue indexes */
	uint64_t now;		     /* ns */
	uint64_t random;	     /* what env.random returns */
	int64_t allocated[2];	     /* bytes the env handed out */
	int64_t allocs[2];	     /* env.alloc calls */
	int wakes[2];		     /* env.wake calls */
	int pushes;		     /* env.push calls */
	int push_tail;		     /* tail at the last push */
	int lent_done;		     /* env.lent_done calls */
	const void *lent_ptr;	     /* the last one's bytes... */
	size_t lent_bytes;	     /* ...and their length */
	int lose_every; /* core_world_lose_data: lose every n-th DATA
			 * packet, 0 = none */
	int lose_phase; /* ...the one whose count % lose_every is this
			 * % lose_every */
	int data_sent;	/* DATA packets it saw sent */
	int data_lost;	/* of those, lost */
	/* Optional: false drops the packet instance from sends. */
	bool (*keep)(int from, const struct homa_out_pkt *p);
	void (*on_push)(void); /* optional: run at each push */
};

/* The world of the running test (one per test file). */
static struct core_world *W;

static void core_world_xmit(void *ctx, const struct homa_out_pkt *p)
{
	int from = (int)(intptr_t)ctx;
	struct core_world_pkt *q;

	if (W->keep && !W->keep(from, p))
		return;
	assert_true(W->tail - W->head < CORE_WORLD_QUEUE);
	assert_true(p->hdr_bytes + p->payload_bytes <= CORE_WORLD_PKT);
	q = &W->q[W->tail % CORE_WORLD_QUEUE];
	q->dst = from ^ 1;
	q->type = p->type;
	q->prio = p->priority;
	memcpy(q->data, p->hdr, p->hdr_bytes);
	if (p->payload_bytes)
		memcpy(q->data + p->hdr_bytes, p->payload, p->payload_bytes);
	q->bytes = p->hdr_bytes + p->payload_bytes;
	W->tail++;
}

static void core_world_wake(void *ctx, void *sock_ctx, uint32_t events,
			    uint64_t id)
{
	(void)sock_ctx;
	(void)events;
	(void)id;
	W->wakes[(int)(intptr_t)ctx]++;
}

static uint64_t core_world_random(void *ctx)
{
	(void)ctx;
	return W->random;
}

/* The core's memory is counted here rather than with test_malloc, since
 * cmocka checks its blocks when the test body returns, before teardown. */
static void *core_world_alloc(void *ctx, size_t bytes)
{
	W->allocated[(int)(intptr_t)ctx] += (int64_t)bytes;
	W->allocs[(int)(intptr_t)ctx]++;
	return malloc(bytes);
}

static void core_world_free(void *ctx, void *p, size_t bytes)
{
	W->allocated[(int)(intptr_t)ctx] -= (int64_t)bytes;
	free(p);
}

/* env.push: remember what had been transmitted, then the test's hook. */
static void core_world_push(void *ctx)
{
	(void)ctx;
	W->pushes++;
	W->push_tail = W->tail;
	if (W->on_push)
		W->on_push();
}

/* env.lent_done: a lent request ended; remember which. */
static void core_world_lent_done(void *ctx, const void *ptr, size_t bytes)
{
	(void)ctx;
	W->lent_done++;
	W->lent_ptr = ptr;
	W->lent_bytes = bytes;
}

/*
 * Make W: both instances with cfg (the env's ctx is the instance's
 * index, 0 or 1; env.random returns random), addresses 10.0.0.1 and .2,
 * the client socket (first half of the region) and the server socket
 * bound to port (second half). Fails the test on any error.
 */
static inline void core_world_open(const struct homa_config *cfg,
				   size_t region_bytes, uint16_t port,
				   uint64_t random)
{
	const struct homa_env env = { NULL,
				      core_world_xmit,
				      core_world_wake,
				      core_world_random,
				      core_world_alloc,
				      core_world_free,
				      NULL,
				      core_world_push,
				      core_world_lent_done };

	W = test_calloc(1, sizeof(*W));
	W->q = test_malloc(CORE_WORLD_QUEUE * sizeof(*W->q));
	W->random = random;
	W->region_bytes = region_bytes;
	for (int i = 0; i < 2; i++) {
		struct homa_env e = env;

		e.ctx = (void *)(intptr_t)i;
		W->addr[i].a[10] = W->addr[i].a[11] = 0xff;
		W->addr[i].a[12] = 10;
		W->addr[i].a[15] = (uint8_t)(i + 1);
		assert_int_equal(homa_create(&e, cfg, 0, &W->h[i], NULL), 0);
	}
	assert_int_equal(
		posix_memalign((void **)&W->region, 4096, 2 * region_bytes), 0);
	assert_int_equal(
		homa_sock_open(W->h[0], HOMA_FAMILY_INET, NULL, &W->cli), 0);
	assert_int_equal(homa_sock_set_rcvbuf(W->cli, W->region, region_bytes),
			 0);
	assert_int_equal(
		homa_sock_open(W->h[1], HOMA_FAMILY_INET, NULL, &W->srv), 0);
	assert_int_equal(homa_sock_bind(W->srv, port), 0);
	assert_int_equal(homa_sock_set_rcvbuf(W->srv, W->region + region_bytes,
					      region_bytes),
			 0);
}

/* core_world_open with the default configuration, unthrottled. */
static inline void core_world_open_default(size_t region_bytes, uint16_t port,
					   uint64_t random)
{
	struct homa_config cfg;

	homa_config_default(&cfg);
	cfg.flags = HOMA_FLAG_DONT_THROTTLE;
	core_world_open(&cfg, region_bytes, port, random);
}

/*
 * End W: each instance's usage agrees with what the env handed out and
 * with homa_activity, and destroying it gives everything back. Fails the
 * test otherwise.
 */
static inline void core_world_close(void)
{
	struct homa_usage u;

	for (int i = 0; i < 2; i++) {
		unsigned int act = homa_activity(W->h[i]);

		homa_get_usage(W->h[i], &u);
		assert_int_equal(u.alloc_bytes, W->allocated[i]);
		assert_int_equal(!!(act & HOMA_ACTIVE_RPCS), u.rpcs != 0);
		assert_int_equal(!!(act & HOMA_ACTIVE_THROTTLED),
				 u.throttled != 0);
		assert_int_equal(!!(act & HOMA_ACTIVE_GRANTABLE),
				 u.grantable != 0);
		homa_destroy(W->h[i]);
		assert_int_equal(W->allocated[i], 0); /* nothing leaked */
	}
	free(W->region);
	test_free(W->q);
	test_free(W);
	W = NULL;
}

/* A W->keep that loses DATA packets as lose_every and lose_phase say,
 * and counts them. */
static inline bool core_world_lose_data(int from, const struct homa_out_pkt *p)
{
	(void)from;
	if (p->type != HOMA_PKT_DATA)
		return true;
	W->data_sent++;
	if (W->lose_every &&
	    W->data_sent % W->lose_every == W->lose_phase % W->lose_every) {
		W->data_lost++;
		return false;
	}
	return true;
}

/* A cmocka teardown that closes the world (core_world_close). */
static inline int core_world_teardown(void **state)
{
	(void)state;
	core_world_close();
	return 0;
}

/* Metric m of host i. */
static inline uint64_t core_world_metric(int i, int m)
{
	return homa_get_metrics(W->h[i])->v[m];
}

/* Deliver every queued packet (and what they trigger). */
static inline void core_world_deliver(void)
{
	while (W->head != W->tail) {
		struct core_world_pkt *q = &W->q[W->head % CORE_WORLD_QUEUE];

		W->head++;
		homa_input(W->h[q->dst], &W->addr[q->dst ^ 1], q->data,
			   q->bytes, W->now);
	}
}

/* Advance the clock by ms milliseconds, one tick at a time, polling both
 * instances and delivering with deliver after each tick. */
static inline void core_world_run_ms_with(int ms, void (*deliver)(void))
{
	for (int i = 0; i < ms; i++) {
		W->now += 1000000;
		homa_poll(W->h[0], W->now);
		homa_poll(W->h[1], W->now);
		deliver();
	}
}

static inline void core_world_run_ms(int ms)
{
	core_world_run_ms_with(ms, core_world_deliver);
}

/* Receive one message on hsk within ms ticks (the world runs between
 * tries); its length, or the error (-EAGAIN: none came). */
static inline int core_world_recv(struct homa_sock *hsk,
				  struct homa_recv_args *ra, int ms)
{
	int got = -EAGAIN;

	for (int t = 0; t <= ms && got == -EAGAIN; t++) {
		core_world_deliver();
		ra->id = 0;
		got = homa_recv(hsk, ra, W->now);
		if (got == -EAGAIN)
			core_world_run_ms(1);
	}
	return got;
}

/* Fail unless the len bytes that ra received on hsk are byte(i, seed). */
static inline void core_world_check(struct homa_sock *hsk,
				    const struct homa_recv_args *ra, size_t len,
				    uint8_t (*byte)(size_t i, uint8_t seed),
				    uint8_t seed)
{
	uint8_t *region;
	uint64_t bytes;

	homa_sock_get_rcvbuf(hsk, &region, &bytes);
	for (size_t i = 0; i < len; i++)
		if (region[ra->bpage_offsets[i >> 16] + (i & 0xFFFF)] !=
		    byte(i, seed))
			fail_msg("byte %zu of %zu differs", i, len);
}

#endif /* HOMA_TESTS_CORE_WORLD_H */
