/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_core_rpc.c - the socket operations of the core (homa_core.h) and
 * the RPC lifecycle between two instances connected back to back: every
 * argument error with its errno, ports, the receive region, round trips,
 * private RPCs, cookies, acks, abort, shutdown and introspection.
 * Allocation goes through cmocka's test_malloc, so any leak fails a test.
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
#include "peer.h"

#define R_REGION (4u << 20)

/* This file's knobs on the world's packets. */
static struct {
	bool drop;	     /* drop everything transmitted */
	uint8_t *scribble;   /* rewritten at a push (len bytes) */
	size_t scribble_len; /* bytes at scribble */
} R;

static bool r_keep(int from, const struct homa_out_pkt *p)
{
	(void)from;
	(void)p;
	return !R.drop;
}

/* At a push, rewrite the sender's buffer if a test asked for it (what
 * the core copies from then on shows in the message). */
static void r_on_push(void)
{
	for (size_t i = 0; i < R.scribble_len; i++)
		R.scribble[i] = (uint8_t)(5 + i * 7);
}

static int r_setup(void **state)
{
	memset(&R, 0, sizeof(R));
	core_world_open_default(R_REGION, 99, 12345);
	W->keep = r_keep;
	W->on_push = r_on_push;
	*state = W;
	return 0;
}

static const struct homa_metrics *r_m(int i)
{
	return homa_get_metrics(W->h[i]);
}

/* Send a request of len bytes (filled with seed) from the client. */
static int r_request(size_t len, uint8_t seed, uint64_t cookie, uint32_t flags,
		     uint64_t *id)
{
	uint8_t *buf = malloc(len ? len : 1);
	struct homa_iov iov = { buf, len };
	struct homa_send_args a = {
		&W->addr[1], 99, &iov, 1, 0, cookie, flags
	};
	int ret;

	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i * 7);
	ret = homa_send(W->cli, &a, W->now);
	if (id)
		*id = a.id;
	free(buf);
	return ret;
}

/* Check a received message's bytes against the request pattern. */
static void r_check_bytes(struct homa_sock *hsk, const struct homa_recv_args *a,
			  int len, uint8_t seed)
{
	uint8_t *region;
	uint64_t bytes;

	homa_sock_get_rcvbuf(hsk, &region, &bytes);
	for (int i = 0; i < len; i++) {
		uint8_t b = region[a->bpage_offsets[i >> 16] + (i & 0xFFFF)];
		assert_int_equal(b, (uint8_t)(seed + (size_t)i * 7));
	}
}

/* Server side: receive one request and echo it. */
static int r_serve_echo(struct homa_recv_args *rs)
{
	uint8_t *region, *copy;
	uint64_t bytes;
	int len;

	rs->id = 0;
	len = homa_recv(W->srv, rs, W->now);
	if (len <= 0)
		return len;
	homa_sock_get_rcvbuf(W->srv, &region, &bytes);
	copy = malloc((size_t)len);
	for (int i = 0; i < len; i++)
		copy[i] = region[rs->bpage_offsets[i >> 16] + (i & 0xFFFF)];
	struct homa_iov iov = { copy, (size_t)len };
	struct homa_send_args a = { &rs->peer, rs->peer_port, &iov,
				    1,	       rs->id,	      0,
				    0 };
	assert_int_equal(homa_send(W->srv, &a, W->now), 0);
	free(copy);
	return len;
}

static void homa_sock_open__family_and_ports(void **state)
{
	struct homa_sock *s;

	(void)state;
	assert_int_equal(homa_sock_open(W->h[0], 5, NULL, &s), -EAFNOSUPPORT);
	assert_int_equal(homa_sock_open(W->h[0], HOMA_FAMILY_INET6, NULL, &s),
			 0);
	assert_true(homa_sock_port(s) >= 0x8000);
	assert_true(homa_sock_port(s) != homa_sock_port(W->cli));
	assert_false(homa_sock_is_server(s));
	homa_sock_close(s, W->now);
}

static void homa_sock_bind__rules(void **state)
{
	struct homa_sock *s;
	uint16_t auto_port;

	(void)state;
	assert_int_equal(homa_sock_open(W->h[1], HOMA_FAMILY_INET, NULL, &s),
			 0);
	auto_port = homa_sock_port(s);
	assert_int_equal(homa_sock_bind(s, 0), 0);
	assert_int_equal(homa_sock_port(s), auto_port);
	assert_false(homa_sock_is_server(s));
	assert_int_equal(homa_sock_bind(s, 0x8000), -EINVAL);
	assert_int_equal(homa_sock_bind(s, 99), -EADDRINUSE);
	assert_int_equal(homa_sock_bind(s, 100), 0);
	assert_int_equal(homa_sock_port(s), 100);
	assert_true(homa_sock_is_server(s));
	assert_int_equal(homa_sock_set_server(s, false), 0);
	assert_int_equal(homa_sock_bind(s, 100), 0); /* rebind keeps mode */
	assert_false(homa_sock_is_server(s));
	homa_sock_shutdown(s, W->now);
	assert_int_equal(homa_sock_bind(s, 101), -ESHUTDOWN);
	assert_int_equal(homa_sock_set_server(s, true), -ESHUTDOWN);
	homa_sock_close(s, W->now);
	/* The old port is free again. */
	assert_int_equal(homa_sock_open(W->h[1], HOMA_FAMILY_INET, NULL, &s),
			 0);
	assert_int_equal(homa_sock_bind(s, 100), 0);
	homa_sock_close(s, W->now);
}

static void homa_sock_set_rcvbuf__errors(void **state)
{
	struct homa_sock *s;
	uint8_t *r = NULL;

	(void)state;
	assert_int_equal(homa_sock_set_rcvbuf(W->cli, W->region, R_REGION),
			 -EINVAL); /* twice */
	assert_int_equal(homa_sock_open(W->h[0], HOMA_FAMILY_INET, NULL, &s),
			 0);
	assert_int_equal(posix_memalign((void **)&r, 4096, R_REGION), 0);
	assert_int_equal(homa_sock_set_rcvbuf(s, r + 1, R_REGION - 4096),
			 -EINVAL);
	assert_int_equal(homa_sock_set_rcvbuf(s, r, 1000000), -EINVAL);
	assert_int_equal(homa_sock_set_rcvbuf(s, NULL, R_REGION), -EINVAL);
	assert_int_equal(homa_sock_set_rcvbuf(s, r, R_REGION), 0);
	homa_sock_close(s, W->now);
	free(r);
}

static void homa_send__errors(void **state)
{
	uint8_t b[8] = { 0 };
	struct homa_iov iov = { b, sizeof(b) };
	struct homa_iov big = { b, 1000001 };
	struct homa_addr v6 = { { 0xfe, 0x80, [15] = 1 } };
	struct homa_send_args a = { &W->addr[1], 99, &iov, 1, 0, 0, 0 };

	(void)state;
	assert_int_equal(r_request(0, 0, 0, 0, NULL), -EINVAL);
	a.iov = &big;
	assert_int_equal(homa_send(W->cli, &a, 0), -EINVAL);
	a.iov = &iov;
	a.iov_count = -1;
	assert_int_equal(homa_send(W->cli, &a, 0), -EINVAL);
	a.iov_count = 1;
	a.flags = 0x10; /* not a HOMA_SEND_* flag */
	assert_int_equal(homa_send(W->cli, &a, 0), -EINVAL);
	a.flags = 0;
	a.dst = &v6;
	assert_int_equal(homa_send(W->cli, &a, 0), -EAFNOSUPPORT);
	a.dst = NULL;
	assert_int_equal(homa_send(W->cli, &a, 0), -EINVAL);
	a.dst = &W->addr[1];
	a.dport = 0;
	assert_int_equal(homa_send(W->cli, &a, 0), -EINVAL);
	/* Replies: cookie must be 0; id must be odd; unknown id is fine. */
	a.dport = 99;
	a.id = 3;
	a.cookie = 1;
	assert_int_equal(homa_send(W->srv, &a, 0), -EINVAL);
	a.cookie = 0;
	a.id = 4;
	assert_int_equal(homa_send(W->srv, &a, 0), -EINVAL);
	a.id = 12345;
	a.dst = &W->addr[0];
	assert_int_equal(homa_send(W->srv, &a, 0), 0);
	assert_int_equal(W->tail, W->head); /* nothing was sent */
	homa_sock_shutdown(W->cli, 0);
	a.id = 0;
	a.dst = &W->addr[1];
	assert_int_equal(homa_send(W->cli, &a, 0), -ESHUTDOWN);
}

static void homa_send__reply_not_in_service(void **state)
{
	struct homa_recv_args *rs = test_calloc(1, sizeof(*rs));
	uint8_t b[4] = { 1, 2, 3, 4 };
	struct homa_iov iov = { b, 4 };
	uint64_t id;

	(void)state;
	assert_int_equal(r_request(100, 1, 0, 0, &id), 0);
	assert_int_equal(id % 2, 0);
	core_world_deliver();
	assert_int_equal(r_serve_echo(rs), 100);
	/* A second reply to the same RPC is refused. */
	struct homa_send_args a = { &rs->peer, rs->peer_port, &iov,
				    1,	       rs->id,	      0,
				    0 };
	assert_int_equal(homa_send(W->srv, &a, W->now), -EINVAL);
	test_free(rs);
}

static void homa_recv__errors(void **state)
{
	struct homa_recv_args *a = test_calloc(1, sizeof(*a));
	struct homa_sock *s;

	(void)state;
	assert_int_equal(homa_recv(W->cli, a, 0), -EAGAIN);
	assert_int_equal(a->id, 0);
	/* homa_sock_ready: both answers at once. */
	assert_int_equal(homa_sock_ready(W->cli), HOMA_SOCK_WRITABLE);
	a->num_bpages = HOMA_CORE_MAX_BPAGES + 1;
	assert_int_equal(homa_recv(W->cli, a, 0), -EINVAL);
	a->num_bpages = 1;
	a->bpage_offsets[0] = 0; /* page 0 is free */
	assert_int_equal(homa_recv(W->cli, a, 0), -EINVAL);
	a->bpage_offsets[0] = R_REGION; /* out of range */
	a->num_bpages = 1;
	assert_int_equal(homa_recv(W->cli, a, 0), -EINVAL);
	a->num_bpages = 0;
	a->id = 2; /* not an RPC of ours */
	assert_int_equal(homa_recv(W->cli, a, 0), -EINVAL);
	assert_int_equal(homa_sock_open(W->h[0], HOMA_FAMILY_INET, NULL, &s),
			 0);
	a->id = 0;
	assert_int_equal(homa_recv(s, a, 0), -EINVAL); /* no region */
	homa_sock_close(s, 0);
	homa_sock_shutdown(W->cli, 0);
	assert_int_equal(homa_recv(W->cli, a, 0), -ESHUTDOWN);
	assert_true(homa_sock_readable(W->cli));
	assert_int_equal(homa_sock_ready(W->cli),
			 HOMA_SOCK_READABLE | HOMA_SOCK_WRITABLE);
	test_free(a);
}

/* HOMA_SEND_GIFT: the core keeps the host's buffer instead of copying
 * it, sends it byte for byte, and frees it with env.free (the teardown
 * checks that every byte allocated was freed, gift included); a gift
 * must be one iovec; a reply gift for an RPC that is gone is freed. */
static void homa_send__gift_kept_and_freed(void **state)
{
	struct homa_recv_args *rs = test_calloc(1, sizeof(*rs));
	struct homa_recv_args *rc = test_calloc(1, sizeof(*rc));
	size_t len = 200000;
	uint8_t *gift = core_world_alloc((void *)0, len);
	struct homa_iov iov = { gift, len };
	struct homa_iov two[2] = { { gift, 10 }, { gift + 10, len - 10 } };
	struct homa_send_args a = { &W->addr[1], 99, two,	    2,
				    0,		 7,  HOMA_SEND_GIFT };
	uint8_t *stray;
	int64_t before;
	int got = 0;

	(void)state;
	for (size_t i = 0; i < len; i++)
		gift[i] = (uint8_t)(3 + i * 7);
	assert_int_equal(homa_send(W->cli, &a, W->now), -EINVAL);
	a.iov = &iov;
	a.iov_count = 1;
	before = W->allocated[0];
	assert_int_equal(homa_send(W->cli, &a, W->now), 0);
	/* No copy: the core allocated its records, not another message. */
	assert_true(W->allocated[0] - before < (int64_t)len);
	for (int t = 0; t < 50 && got <= 0; t++) {
		core_world_deliver();
		got = r_serve_echo(rs);
		core_world_run_ms(1);
	}
	assert_int_equal(got, (int)len);
	r_check_bytes(W->srv, rs, got, 3);
	for (int t = 0, n = 0; t < 50 && n <= 0; t++) {
		core_world_deliver();
		rc->id = 0;
		n = homa_recv(W->cli, rc, W->now);
		core_world_run_ms(1);
	}
	r_check_bytes(W->cli, rc, (int)len, 3);
	/* A reply gift to an RPC that does not exist: freed at once. */
	stray = core_world_alloc((void *)(intptr_t)1, 100);
	iov.base = stray;
	iov.bytes = 100;
	a.dst = &W->addr[0];
	a.id = 777777; /* no such RPC */
	a.cookie = 0;
	assert_int_equal(homa_send(W->srv, &a, W->now), 0);
	core_world_run_ms(30);
	rc->id = 0;
	homa_recv(W->cli, rc, W->now);
	rs->id = 0;
	homa_recv(W->srv, rs, W->now);
	core_world_run_ms(30);
	test_free(rs);
	test_free(rc);
}

/*
 * The core copies a message larger than its unscheduled bytes in two
 * parts when the host can push packets out (env.push): the unscheduled
 * bytes, which it transmits and pushes, then the rest. The push comes
 * after exactly the unscheduled packets and before the rest is copied
 * (the sender's buffer rewritten at the push shows in the received bytes
 * from the unscheduled limit on), across iovec boundaries; a message
 * that fits in the unscheduled bytes is copied once, with no push.
 */
static void homa_send__unscheduled_out_before_rest_copied(void **state)
{
	struct homa_recv_args *rs = test_calloc(1, sizeof(*rs));
	size_t len = 300001, unsched = 40000,
	       cuts[] = { 0, 7, 39999, 40003, 300001 };
	uint8_t *msg = test_malloc(len), *region;
	struct homa_iov iov[4];
	struct homa_send_args a = { &W->addr[1], 99, iov, 4, 0, 1, 0 };
	uint64_t bytes;
	int got = 0, data = 0;

	(void)state;
	for (size_t i = 0; i < len; i++)
		msg[i] = (uint8_t)(3 + i * 7);
	for (int i = 0; i < 4; i++) {
		iov[i].base = msg + cuts[i];
		iov[i].bytes = cuts[i + 1] - cuts[i];
	}
	R.scribble = msg;
	R.scribble_len = len;
	assert_int_equal(homa_send(W->cli, &a, W->now), 0);
	R.scribble_len = 0;
	assert_int_equal(W->pushes, 1);
	for (int i = W->head; i < W->push_tail; i++)
		data += W->q[i % CORE_WORLD_QUEUE].type == HOMA_PKT_DATA;
	assert_int_equal(data, (int)((unsched + 1399) / 1400)); /* 1400 B */
	for (int t = 0; t < 50 && got <= 0; t++) {
		core_world_deliver();
		rs->id = 0;
		got = homa_recv(W->srv, rs, W->now);
		core_world_run_ms(1);
	}
	assert_int_equal(got, (int)len);
	homa_sock_get_rcvbuf(W->srv, &region, &bytes);
	for (size_t i = 0; i < len; i++) {
		uint8_t b = region[rs->bpage_offsets[i >> 16] + (i & 0xFFFF)];

		assert_int_equal(b, (uint8_t)((i < unsched ? 3 : 5) + i * 7));
	}
	/* Fits in the unscheduled bytes: no push. */
	iov[0].base = msg;
	iov[0].bytes = unsched;
	a.iov_count = 1;
	a.id = 0; /* homa_send set it */
	assert_int_equal(homa_send(W->cli, &a, W->now), 0);
	assert_int_equal(W->pushes, 1);
	core_world_run_ms(5);
	test_free(msg);
	test_free(rs);
}

static void homa_rpc__round_trip_sizes(void **state)
{
	static const size_t sizes[] = { 1,     100,    1423,   1424,
					1425,  40000,  40001,  65536,
					65537, 200000, 999999, 1000000 };
	struct homa_recv_args *rs = test_calloc(1, sizeof(*rs));
	struct homa_recv_args *rc = test_calloc(1, sizeof(*rc));

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t id;
		int len;

		assert_int_equal(
			r_request(sizes[i], (uint8_t)i, 1000 + i, 0, &id), 0);
		assert_true(homa_activity(W->h[0]) & HOMA_ACTIVE_RPCS);
		for (int t = 0; t < 50; t++) {
			core_world_deliver();
			len = r_serve_echo(rs);
			if (len > 0)
				break;
			assert_int_equal(len, -EAGAIN);
			core_world_run_ms(1);
		}
		assert_int_equal(len, (int)sizes[i]);
		assert_int_equal(rs->id, id | 1);
		assert_int_equal(rs->cookie, 0);
		assert_int_equal(rs->is_request, 1);
		for (int t = 0; t < 50; t++) {
			core_world_deliver();
			rc->id = 0;
			len = homa_recv(W->cli, rc, W->now);
			if (len > 0)
				break;
			core_world_run_ms(1);
		}
		assert_int_equal(len, (int)sizes[i]);
		/* Delivered: the client RPC ended, its memory not yet reaped
		 * unless the core did it at once. */
		assert_int_equal(!!(homa_activity(W->h[0]) & HOMA_ACTIVE_DEAD),
				 !!(homa_activity(W->h[0]) & HOMA_ACTIVE_RPCS));
		assert_int_equal(rc->id, id);
		assert_int_equal(rc->cookie, 1000 + i);
		assert_int_equal(rc->is_request, 0);
		assert_int_equal(rc->peer_port, 99);
		assert_memory_equal(rc->peer.a, W->addr[1].a, 16);
		r_check_bytes(W->cli, rc, len, (uint8_t)i);
	}
	/* Acks end the server RPCs; return the last pages; all clean. */
	core_world_run_ms(20);
	rc->id = 0;
	assert_int_equal(homa_recv(W->cli, rc, W->now), -EAGAIN);
	rs->id = 0;
	assert_int_equal(homa_recv(W->srv, rs, W->now), -EAGAIN);
	core_world_run_ms(20);
	for (int i = 0; i < 2; i++) {
		struct homa_usage u;

		homa_get_usage(W->h[i], &u);
		assert_int_equal(u.rpcs, 0);
		assert_int_equal(u.peer_refs, 0);
		assert_int_equal(u.pool_pages_used, 0);
		assert_int_equal(u.tx_bytes, 0);
		assert_int_equal(u.grantable, 0);
		assert_int_equal(homa_activity(W->h[i]), 0);
	}
	assert_true(r_m(1)->v[HOMA_M_server_rpcs_acked] >= 12);
	assert_int_equal(r_m(1)->v[HOMA_M_server_requests_received], 12);
	test_free(rs);
	test_free(rc);
}

static void homa_rpc__private_delivery(void **state)
{
	struct homa_recv_args *rs = test_calloc(1, sizeof(*rs));
	struct homa_recv_args *rc = test_calloc(1, sizeof(*rc));
	uint64_t pid, sid;

	(void)state;
	assert_int_equal(r_request(10, 1, 7, HOMA_SEND_PRIVATE, &pid), 0);
	assert_int_equal(r_request(10, 2, 8, 0, &sid), 0);
	core_world_deliver();
	assert_int_equal(r_serve_echo(rs), 10);
	assert_int_equal(r_serve_echo(rs), 10);
	core_world_deliver();
	/* The shared recv sees only the shared RPC. */
	assert_int_equal(homa_recv(W->cli, rc, W->now), 10);
	assert_int_equal(rc->id, sid);
	rc->id = 0;
	assert_int_equal(homa_recv(W->cli, rc, W->now), -EAGAIN);
	rc->id = pid;
	assert_int_equal(homa_recv(W->cli, rc, W->now), 10);
	assert_int_equal(rc->id, pid);
	assert_int_equal(rc->cookie, 7);
	/* A non-private RPC cannot be named. */
	assert_int_equal(r_request(10, 2, 8, 0, &sid), 0);
	rc->id = sid;
	assert_int_equal(homa_recv(W->cli, rc, W->now), -EINVAL);
	test_free(rs);
	test_free(rc);
}

static void homa_abort__errors_and_reporting(void **state)
{
	struct homa_recv_args *rc = test_calloc(1, sizeof(*rc));
	uint64_t id1, id2;

	(void)state;
	assert_int_equal(homa_abort(W->cli, 4000, ECANCELED, 0), -EINVAL);
	assert_int_equal(homa_abort(W->cli, 3, ECANCELED, 0), -EINVAL);
	assert_int_equal(r_request(100, 1, 55, 0, &id1), 0);
	assert_int_equal(r_request(100, 1, 66, 0, &id2), 0);
	assert_int_equal(homa_abort(W->cli, id1, ECANCELED, 0), 0);
	assert_int_equal(homa_recv(W->cli, rc, 0), -ECANCELED);
	assert_int_equal(rc->id, id1);
	assert_int_equal(rc->cookie, 55);
	rc->id = 0;
	assert_int_equal(homa_abort(W->cli, 0, 0, 0), 0); /* silent */
	assert_int_equal(homa_recv(W->cli, rc, 0), -EAGAIN);
	assert_int_equal(homa_sock_info(W->cli, NULL, 0, NULL), 0);
	test_free(rc);
}

static void homa_rpc__timeout_without_server(void **state)
{
	struct homa_recv_args *rc = test_calloc(1, sizeof(*rc));
	uint64_t id;
	int t;

	(void)state;
	R.drop = true;
	assert_int_equal(r_request(5000, 1, 9, 0, &id), 0);
	for (t = 1; t <= 200; t++) {
		core_world_run_ms(1);
		rc->id = 0;
		if (homa_recv(W->cli, rc, W->now) != -EAGAIN)
			break;
	}
	/* timeout_ticks (100) of silence, counted from the request. */
	assert_in_range(t, 99, 102);
	assert_int_equal(rc->id, id);
	assert_int_equal(rc->cookie, 9);
	assert_true(r_m(0)->v[HOMA_M_rpc_timeouts] == 1);
	assert_true(r_m(0)->v[HOMA_M_resend_requests] >= 18);
	test_free(rc);
}

static void homa_sock_info__views(void **state)
{
	struct homa_rpc_view v[4];
	uint64_t avail = 0, id;

	(void)state;
	assert_int_equal(r_request(50000, 1, 3, HOMA_SEND_PRIVATE, &id), 0);
	assert_int_equal(homa_sock_info(W->cli, v, 4, &avail), 1);
	assert_int_equal(v[0].id, id);
	assert_int_equal(v[0].cookie, 3);
	assert_int_equal(v[0].tx_length, 50000);
	assert_int_equal(v[0].tx_sent, 40000); /* unscheduled bytes */
	assert_int_equal(v[0].tx_granted, 40000);
	assert_int_equal(v[0].rx_length, -1);
	assert_true(v[0].flags & HOMA_VIEW_PRIVATE);
	assert_int_equal(avail, R_REGION);
	core_world_deliver();
	assert_int_equal(homa_sock_info(W->srv, v, 4, &avail), 1);
	assert_int_equal(v[0].id, id | 1);
	assert_int_equal(v[0].rx_length, 50000);
	assert_int_equal(v[0].rx_remaining, 0); /* granted and delivered */
	assert_true(v[0].flags & HOMA_VIEW_RX_READY);
	assert_true(avail < R_REGION);
}

static void homa_input__ack_overflow_and_need_ack(void **state)
{
	struct homa_recv_args *rs = test_calloc(1, sizeof(*rs));
	struct homa_recv_args *rc = test_calloc(1, sizeof(*rc));

	(void)state;
	/* Seven RPCs complete with no later DATA to carry their acks. */
	for (int i = 0; i < 7; i++)
		assert_int_equal(r_request(10, 1, 0, 0, NULL), 0);
	core_world_deliver();
	for (int i = 0; i < 7; i++)
		assert_int_equal(r_serve_echo(rs), 10);
	core_world_deliver();
	for (int i = 0; i < 7; i++) {
		rc->id = 0;
		assert_int_equal(homa_recv(W->cli, rc, W->now), 10);
	}
	core_world_deliver();
	/* The sixth completion overflowed the ack list into an ACK. */
	assert_int_equal(r_m(0)->v[HOMA_M_ack_overflows], 1);
	assert_int_equal(r_m(1)->v[HOMA_M_server_rpcs_acked], 6);
	/* NEED_ACK after request_ack_ticks finishes the last one. */
	core_world_run_ms(5);
	assert_true(r_m(1)->v[HOMA_M_sent_need_ack] >= 1);
	assert_int_equal(r_m(1)->v[HOMA_M_server_rpcs_acked], 7);
	/* The ACK names the last RPC once: not again in its list. */
	assert_int_equal(r_m(1)->v[HOMA_M_drop_bad_ack], 0);
	test_free(rs);
	test_free(rc);
}

static void homa_input__late_duplicate_request_not_executed(void **state)
{
	struct homa_recv_args *rs = test_calloc(1, sizeof(*rs));
	struct homa_recv_args *rc = test_calloc(1, sizeof(*rc));
	struct core_world_pkt late;

	(void)state;
	assert_int_equal(r_request(100, 1, 0, 0, NULL), 0);
	late = W->q[W->head %
		    CORE_WORLD_QUEUE]; /* the request, delayed in flight */
	core_world_deliver();
	assert_int_equal(r_serve_echo(rs), 100);
	core_world_deliver();
	assert_int_equal(homa_recv(W->cli, rc, W->now), 100);
	core_world_run_ms(5); /* NEED_ACK, ACK: the server RPC ends */
	assert_int_equal(r_m(1)->v[HOMA_M_server_rpcs_acked], 1);
	/* The delayed copy arrives after the ack (spec 3.8). */
	homa_input(W->h[1], &W->addr[0], late.data, late.bytes, W->now);
	assert_int_equal(r_m(1)->v[HOMA_M_drop_stale_request], 1);
	rs->id = 0;
	assert_int_equal(homa_recv(W->srv, rs, W->now), -EAGAIN);
	assert_int_equal(r_m(1)->v[HOMA_M_server_requests_received], 1);
	test_free(rs);
	test_free(rc);
}

/* Send a request of len bytes (pattern seed) from socket hsk. */
static uint64_t r_request_from(struct homa_sock *hsk, size_t len, uint8_t seed)
{
	uint8_t *buf = malloc(len);
	struct homa_iov iov = { buf, len };
	struct homa_send_args a = { &W->addr[1], 99, &iov, 1, 0, 0, 0 };

	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i * 7);
	assert_int_equal(homa_send(hsk, &a, W->now), 0);
	free(buf);
	return a.id;
}

/* Two client processes on one host may draw the same RPC id: the server
 * names its RPCs by client address, port and id, so both are served, each
 * with its own bytes, and both server RPCs end (acked). */
static void homa_rpc__same_id_from_two_client_ports(void **state)
{
	struct homa_recv_args *rs = test_calloc(1, sizeof(*rs));
	struct homa_recv_args *rc = test_calloc(1, sizeof(*rc));
	struct homa_sock *cli2;
	struct homa_usage u;
	uint8_t *region2 = NULL;
	uint64_t id1, id2;

	(void)state;
	assert_int_equal(posix_memalign((void **)&region2, 4096, R_REGION), 0);
	assert_int_equal(homa_sock_open(W->h[0], HOMA_FAMILY_INET, NULL, &cli2),
			 0);
	assert_int_equal(homa_sock_set_rcvbuf(cli2, region2, R_REGION), 0);
	/* Multi-packet requests, so their DATA interleaves at the server. */
	id1 = r_request_from(W->cli, 5000, 1);
	W->h[0]->next_id = id1; /* the other "process" draws the same id */
	id2 = r_request_from(cli2, 4000, 2);
	assert_int_equal(id1, id2);
	assert_int_not_equal(homa_sock_port(W->cli), homa_sock_port(cli2));
	core_world_deliver();
	assert_int_equal(r_serve_echo(rs), 5000);
	assert_int_equal(rs->peer_port, homa_sock_port(W->cli));
	assert_int_equal(r_serve_echo(rs), 4000);
	assert_int_equal(rs->peer_port, homa_sock_port(cli2));
	assert_int_equal(r_m(1)->v[HOMA_M_server_requests_received], 2);
	core_world_deliver();
	rc->id = 0;
	assert_int_equal(homa_recv(W->cli, rc, W->now), 5000);
	assert_int_equal(rc->id, id1);
	r_check_bytes(W->cli, rc, 5000, 1);
	rc->id = 0;
	assert_int_equal(homa_recv(cli2, rc, W->now), 4000);
	assert_int_equal(rc->id, id2);
	r_check_bytes(cli2, rc, 4000, 2);
	/* NEED_ACK and ACK end both server RPCs. */
	core_world_run_ms(20);
	homa_get_usage(W->h[1], &u);
	assert_int_equal(u.rpcs, 0);
	assert_int_equal(r_m(1)->v[HOMA_M_server_rpcs_acked], 2);
	assert_int_equal(r_m(1)->v[HOMA_M_drop_unknown_rpc], 0);
	homa_sock_close(cli2, W->now);
	free(region2);
	test_free(rs);
	test_free(rc);
}

/* Acks are kept per client port and leave only from it: a server names
 * RPCs by client port too, so an ack from another port would be lost (or,
 * with colliding ids, end another process's RPC). */
static void homa_peer_add_ack__acks_leave_from_their_port(void **state)
{
	struct homa_peer *peer = homa_peer_get(W->h[0], &W->addr[1], true);
	struct homa_wire_ack ack;
	struct homa_wire_pkt p;
	struct core_world_pkt *q;

	(void)state;
	homa_peer_add_ack(W->h[0], peer, 40000, 10, 99);
	homa_peer_add_ack(W->h[0], peer, 40001, 12, 99);
	assert_true(homa_peer_pop_ack(peer, 40000, &ack));
	assert_int_equal(ack.client_id, 10);
	assert_false(homa_peer_pop_ack(peer, 40000, &ack));
	/* One stored ack (peer.h's inline case) goes only to its port. */
	assert_int_equal(peer->num_acks, 1);
	assert_false(homa_peer_pop_ack(peer, 40002, &ack));
	assert_int_equal(peer->num_acks, 1);
	assert_true(homa_peer_pop_ack(peer, 40001, &ack));
	assert_int_equal(ack.client_id, 12);
	assert_int_equal(ack.server_port, 99);
	assert_int_equal(peer->num_acks, 0);
	assert_false(homa_peer_pop_ack(peer, 40001, &ack));
	homa_peer_add_ack(W->h[0], peer, 40001, 12, 99);
	/* Full of port 40001's acks, one of port 40002 arrives: the oldest
	 * and the others of its port leave from 40001 in one ACK. */
	for (uint64_t id = 14; id < 22; id += 2)
		homa_peer_add_ack(W->h[0], peer, 40001, id, 99);
	assert_int_equal(W->tail - W->head, 0);
	homa_peer_add_ack(W->h[0], peer, 40002, 30, 99);
	assert_int_equal(W->tail - W->head, 1);
	q = &W->q[W->head % CORE_WORLD_QUEUE];
	assert_int_equal(homa_wire_decode(q->data, q->bytes, 1 << 20, &p), 0);
	assert_int_equal(p.common.type, HOMA_PKT_ACK);
	assert_int_equal(p.common.sport, 40001);
	assert_int_equal(p.common.sender_id, 12);
	assert_int_equal(p.u.ack.num_acks, 4);
	assert_int_equal(p.u.ack.acks[3].client_id, 20);
	W->head = W->tail;
	assert_true(homa_peer_pop_ack(peer, 40002, &ack));
	assert_int_equal(ack.client_id, 30);
	assert_false(homa_peer_pop_ack(peer, 40001, &ack));
}

static void homa_peer_gc__idle_peers_evicted(void **state)
{
	int64_t v;
	struct homa_usage u;
	uint8_t b[10] = { 0 };
	struct homa_iov iov = { b, sizeof(b) };

	(void)state;
	v = 1;
	assert_int_equal(
		homa_set_param(W->h[0], "peer_idle_secs_min", &v, 1, NULL), 0);
	v = 2;
	assert_int_equal(
		homa_set_param(W->h[0], "peer_idle_secs_max", &v, 1, NULL), 0);
	v = 4;
	assert_int_equal(
		homa_set_param(W->h[0], "peer_gc_threshold", &v, 1, NULL), 0);
	R.drop = true;
	/* Requests to 12 hosts that never answer: 12 peers. */
	for (int i = 0; i < 12; i++) {
		struct homa_addr a = W->addr[1];
		struct homa_send_args sa = { &a, 99, &iov, 1, 0, 0, 0 };

		a.a[14] = (uint8_t)(i + 1);
		assert_int_equal(homa_send(W->cli, &sa, W->now), 0);
	}
	homa_get_usage(W->h[0], &u);
	assert_int_equal(u.peers, 12);
	/* In use: never evicted, however long idle. */
	core_world_run_ms(3000);
	homa_get_usage(W->h[0], &u);
	assert_int_equal(r_m(0)->v[HOMA_M_peer_evictions], 0);
	assert_int_equal(homa_abort(W->cli, 0, 0, W->now), 0);
	/* Unused: evicted once idle past peer_idle_secs_max, at most 5 per
	 * tick, down to where the threshold stops collection. */
	core_world_run_ms(2100);
	homa_get_usage(W->h[0], &u);
	assert_int_equal(u.peer_refs, 0);
	assert_true(u.peers <= 4);
	assert_int_equal(r_m(0)->v[HOMA_M_peer_evictions], 12 - u.peers);
}

static void homa_poll__automatic_cutoffs(void **state)
{
	struct homa_recv_args *rs = test_calloc(1, sizeof(*rs));
	struct homa_recv_args *rc = test_calloc(1, sizeof(*rc));
	int64_t min = 100;
	const struct homa_config *c = homa_get_config(W->h[1]);
	int64_t before[8];

	(void)state;
	memcpy(before, c->unsched_cutoffs, sizeof(before));
	assert_int_equal(
		homa_set_param(W->h[1], "cutoff_min_messages", &min, 1, NULL),
		0);
	/* Bimodal: 2,000-byte requests carry about half of the bytes, so
	 * the byte quotas of spec 7 give them levels of their own. */
	for (int i = 0; i < 300; i++) {
		assert_int_equal(
			r_request(i % 10 ? 2000 : 20000, 1, 0, 0, NULL), 0);
		core_world_deliver();
		assert_true(r_serve_echo(rs) > 0);
		core_world_deliver();
		rc->id = 0;
		assert_true(homa_recv(W->cli, rc, W->now) > 0);
	}
	/* The first period (1 s) ends: the server recomputes its cutoffs. */
	core_world_run_ms(1001);
	assert_int_equal(r_m(1)->v[HOMA_M_cutoffs_computed], 1);
	assert_memory_not_equal(before, c->unsched_cutoffs, sizeof(before));
	/* The highest level now covers the small mode only. */
	assert_true(c->unsched_cutoffs[7] >= 2000 &&
		    c->unsched_cutoffs[7] < 20000);
	/* The client learns the new version with its next request. */
	uint64_t learned = r_m(0)->v[HOMA_M_cutoffs_updates];

	assert_int_equal(r_request(100, 1, 0, 0, NULL), 0);
	core_world_deliver();
	assert_int_equal(r_m(0)->v[HOMA_M_cutoffs_updates], learned + 1);
	test_free(rs);
	test_free(rc);
}

/* Take the next packet the client sent (what it sent before is dropped). */
static struct core_world_pkt r_take_sent(int head)
{
	struct core_world_pkt p = W->q[head % CORE_WORLD_QUEUE];

	W->head = W->tail;
	return p;
}

/* homa_input's verdict: what the host must act on, and only that. */
static void homa_input__verdicts(void **state)
{
	uint8_t buf[100] = { 0 };
	struct homa_iov iov = { buf, sizeof(buf) };
	struct homa_send_args a = { &W->addr[1], 100, &iov, 1, 0, 0, 0 };
	struct homa_sock *bare;
	struct core_world_pkt req;
	int head;

	(void)state;
	/* An ordinary request: nothing for the host to do. */
	head = W->tail;
	assert_int_equal(r_request(100, 1, 0, 0, NULL), 0);
	req = r_take_sent(head);
	assert_int_equal(
		homa_input(W->h[1], &W->addr[0], req.data, req.bytes, W->now),
		0);
	/* A request to a socket out of server mode: port unreachable. */
	assert_int_equal(homa_sock_set_server(W->srv, false), 0);
	head = W->tail;
	assert_int_equal(r_request(100, 2, 0, 0, NULL), 0);
	req = r_take_sent(head);
	assert_int_equal(
		homa_input(W->h[1], &W->addr[0], req.data, req.bytes, W->now),
		HOMA_VERDICT_NOT_SERVER);
	/* A request to a server socket without a region: give it one. */
	assert_int_equal(homa_sock_open(W->h[1], HOMA_FAMILY_INET, NULL, &bare),
			 0);
	assert_int_equal(homa_sock_bind(bare, 100), 0);
	head = W->tail;
	assert_int_equal(homa_send(W->cli, &a, W->now), 0);
	req = r_take_sent(head);
	assert_int_equal(
		homa_input(W->h[1], &W->addr[0], req.data, req.bytes, W->now),
		HOMA_VERDICT_NO_REGION);
	/* Malformed, or for no socket: counted, nothing to do. */
	assert_int_equal(homa_input(W->h[1], &W->addr[0], req.data, 3, W->now),
			 0);
	homa_sock_close(bare, W->now);
	assert_int_equal(
		homa_input(W->h[1], &W->addr[0], req.data, req.bytes, W->now),
		0);
	assert_int_equal(r_m(1)->v[HOMA_M_drop_no_socket], 1);
}

/* Views: collect what a walk reports. */
struct r_views {
	int n_in, n_out;	  /* views seen */
	struct homa_in_view in;	  /* the last incoming one */
	struct homa_out_view out; /* the last outgoing one */
};

static bool r_view_in(void *arg, const struct homa_in_view *v)
{
	struct r_views *w = arg;

	w->n_in++;
	w->in = *v;
	return true;
}

static bool r_view_out(void *arg, const struct homa_out_view *v)
{
	struct r_views *w = arg;

	w->n_out++;
	w->out = *v;
	return true;
}

/* The read-only views show a scheduled request half-way: its sender's
 * side (sending, not throttled) and its receiver's (granting). */
static void homa_view__scheduled_request(void **state)
{
	struct r_views c = { 0 }, s = { 0 }, none = { 0 };
	struct homa_in_view req;
	int head = W->tail, end;
	uint64_t id;

	(void)state;
	assert_int_equal(r_request(200000, 3, 0, 0, &id), 0);
	end = W->tail;
	homa_view_sending(W->h[0], r_view_out, &c);
	homa_view_pacer(W->h[0], r_view_out, &none);
	assert_int_equal(c.n_out, 1);
	assert_int_equal(none.n_out, 0); /* HOMA_FLAG_DONT_THROTTLE */
	assert_true(c.out.id == id);
	assert_memory_equal(&c.out.peer, &W->addr[1], sizeof(c.out.peer));
	assert_int_equal(c.out.peer_port, 99);
	assert_int_equal(c.out.port, homa_sock_port(W->cli));
	assert_int_equal(c.out.length, 200000);
	assert_true(c.out.unscheduled > 0 && c.out.unscheduled < 200000);
	assert_int_equal(c.out.sent, c.out.unscheduled);
	assert_int_equal(c.out.granted, c.out.unscheduled);
	/* The unscheduled packets reach the server; its grants do not
	 * reach the client. */
	for (int k = head; k < end; k++)
		homa_input(W->h[1], &W->addr[0],
			   W->q[k % CORE_WORLD_QUEUE].data,
			   W->q[k % CORE_WORLD_QUEUE].bytes, W->now);
	W->head = W->tail;
	homa_view_granting(W->h[1], r_view_in, &s);
	assert_int_equal(s.n_in, 1);
	assert_true(s.in.id == (id | 1));
	assert_memory_equal(&s.in.peer, &W->addr[0], sizeof(s.in.peer));
	assert_int_equal(s.in.peer_port, homa_sock_port(W->cli));
	assert_int_equal(s.in.port, 99);
	assert_int_equal(s.in.length, 200000);
	assert_int_equal(s.in.received, c.out.unscheduled);
	assert_true(s.in.granted > s.in.received);
	assert_true(s.in.managed && s.in.active);
	assert_int_equal(homa_view_request(W->h[1], 99, &W->addr[0],
					   homa_sock_port(W->cli), id | 1,
					   &req),
			 0);
	assert_true(req.id == s.in.id);
	assert_int_equal(req.length, s.in.length);
	assert_int_equal(req.granted, s.in.granted);
	assert_int_equal(req.received, s.in.received);
	assert_int_equal(homa_view_request(W->h[1], 99, &W->addr[0],
					   homa_sock_port(W->cli), id + 3,
					   &req),
			 -ENOENT);
	assert_int_equal(homa_view_request(W->h[1], 98, &W->addr[0],
					   homa_sock_port(W->cli), id | 1,
					   &req),
			 -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, r_setup, core_world_teardown)
		T(homa_sock_open__family_and_ports),
		T(homa_sock_bind__rules),
		T(homa_sock_set_rcvbuf__errors),
		T(homa_send__errors),
		T(homa_send__unscheduled_out_before_rest_copied),
		T(homa_send__gift_kept_and_freed),
		T(homa_send__reply_not_in_service),
		T(homa_recv__errors),
		T(homa_rpc__round_trip_sizes),
		T(homa_rpc__private_delivery),
		T(homa_abort__errors_and_reporting),
		T(homa_rpc__timeout_without_server),
		T(homa_sock_info__views),
		T(homa_input__ack_overflow_and_need_ack),
		T(homa_input__late_duplicate_request_not_executed),
		T(homa_rpc__same_id_from_two_client_ports),
		T(homa_peer_add_ack__acks_leave_from_their_port),
		T(homa_peer_gc__idle_peers_evicted),
		T(homa_poll__automatic_cutoffs),
		T(homa_input__verdicts),
		T(homa_view__scheduled_request),
#undef T
	};
	if (getenv("TEST_FILTER"))
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
