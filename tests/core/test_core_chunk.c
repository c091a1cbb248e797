/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_core_chunk.c - messages the host copies in chunks (HOMA_SEND_CHUNKED,
 * homa_send_copy) between two instances back to back: what is granted
 * leaves from the caller's pieces before they are copied, packets are
 * fed between chunks, a packet lost before the copy ends is sent again
 * from the core's copy after it (the caller's buffer is overwritten as
 * soon as the last chunk is in), pieces of every size, lengths around the
 * chunk size, and RPCs that end between chunks. Also homa_copy, the
 * copy into the core's buffer: every byte at every distance (its speed at
 * the 4K-aliasing distances is a benchmark's, not a test's:
 * docs/benchmarks.md, mb11).
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
#include "base.h"
#include "homa_impl.h"
#include "rpc.h"

#define C_REGION (4u << 20)
#define C_CHUNK	 40000 /* bytes per homa_send_copy in these tests */

/* This file's knobs on the world's packets. */

static int c_setup(void **state)
{
	core_world_open_default(C_REGION, 99, 777);
	W->keep = core_world_lose_data;
	W->lose_phase = 2;
	*state = W;
	return 0;
}

static uint8_t c_byte(size_t i, uint8_t seed)
{
	return (uint8_t)(seed + i * 7 + (i >> 9));
}

/* The caller's message: len bytes of the seed's pattern cut into
 * pieces of piece bytes (the last one shorter; piece 0 = one piece). */
struct c_msg {
	uint8_t *buf;	      /* len bytes */
	struct homa_iov *iov; /* the pieces */
	int count;	      /* pieces */
};

static void c_msg_make(struct c_msg *m, size_t len, size_t piece, uint8_t seed)
{
	size_t n = piece ? (len + piece - 1) / piece : 1;

	m->buf = malloc(len);
	m->iov = malloc(n * sizeof(*m->iov));
	m->count = (int)n;
	for (size_t i = 0; i < len; i++)
		m->buf[i] = c_byte(i, seed);
	for (size_t i = 0; i < n; i++) {
		m->iov[i].base = m->buf + i * (piece ? piece : len);
		m->iov[i].bytes = piece && (i + 1) * piece < len
					  ? piece
					  : len - i * (piece ? piece : 0);
	}
}

static void c_msg_free(struct c_msg *m)
{
	free(m->buf);
	free(m->iov);
}

/* The host's loop (homa_lib_send_chunks): copy a chunk, feed what came.
 * Returns the steps that copied (the number of calls that returned 1). */
static int c_copy_all(struct homa_sock *hsk, struct homa_send_args *a)
{
	int steps = 0;

	while (homa_send_copy(hsk, a, C_CHUNK, W->now)) {
		steps++;
		core_world_deliver();
	}
	return steps;
}

/*
 * One chunked request of len bytes in pieces of piece bytes, every
 * lose_every-th DATA packet lost while it is copied; the caller's buffer
 * is overwritten as soon as homa_send_copy says it is done. The server
 * must get the original bytes, the lost ones through RESENDs.
 */
static void c_request_lossy(size_t len, size_t piece, int lose_every)
{
	struct homa_recv_args *ra = test_calloc(1, sizeof(*ra));
	struct c_msg m;
	struct homa_send_args a;
	struct homa_rpc *rpc;
	uint64_t resent = core_world_metric(0, HOMA_M_resent_packets);
	int steps;

	c_msg_make(&m, len, piece, 11);
	a = (struct homa_send_args){ &W->addr[1],      99, m.iov, m.count, 0, 5,
				     HOMA_SEND_CHUNKED };
	W->lose_every = lose_every;
	W->data_lost = 0;
	assert_int_equal(homa_send(W->cli, &a, W->now), 0);
	rpc = homa_rpc_find_client(W->h[0], W->cli, a.id);
	assert_non_null(rpc);
	/* Nothing copied yet unless a packet across pieces needed it. */
	if (!piece)
		assert_int_equal(rpc->out.copied, 0);
	steps = c_copy_all(W->cli, &a);
	/* Packets across pieces were copied in as they left. */
	if (piece)
		assert_true(steps <= (int)((len - 1) / C_CHUNK));
	else
		assert_int_equal(steps, (int)((len - 1) / C_CHUNK));
	assert_int_equal(rpc->out.copied, len);
	assert_null(rpc->out.src);
	memset(m.buf, 0xEE, len); /* the caller reuses its buffer */
	W->lose_every = 0;
	assert_int_equal(core_world_recv(W->srv, ra, 200), (int)len);
	core_world_check(W->srv, ra, len, c_byte, 11);
	if (lose_every && len > 1400)
		assert_true(W->data_lost > 0 &&
			    core_world_metric(0, HOMA_M_resent_packets) >
				    resent);
	assert_int_equal(
		homa_release(W->srv, ra->bpage_offsets, ra->num_bpages), 0);
	c_msg_free(&m);
	test_free(ra);
}

static void homa_send_copy__lost_packets_come_from_the_copy(void **state)
{
	(void)state;
	/* One piece: the first transmissions read the caller's buffer. */
	c_request_lossy(300001, 0, 5);
	assert_true(core_world_metric(0, HOMA_M_tx_caller_bytes) >= 40000);
	assert_int_equal(core_world_metric(0, HOMA_M_tx_chunk_copies), 8);
	/* Four pieces at odd cuts, and many small pieces across packets. */
	c_request_lossy(250000, 61111, 3);
	c_request_lossy(150000, 333, 4);
	c_request_lossy(100000, 1400, 6);
	core_world_run_ms(20);
}

static void homa_send_copy__lengths_around_the_chunk(void **state)
{
	size_t lens[] = { 1,
			  1399,
			  1400,
			  C_CHUNK - 1,
			  C_CHUNK,
			  C_CHUNK + 1,
			  2 * C_CHUNK - 1,
			  2 * C_CHUNK,
			  2 * C_CHUNK + 1 };

	(void)state;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		c_request_lossy(lens[i], 0, 0);
		c_request_lossy(lens[i], 0, 2);
	}
	core_world_run_ms(20);
}

/* Until the copy is done, what was granted leaves from the caller's
 * buffer: the unscheduled packets before any copy, the rest as GRANTs
 * are fed between chunks. */
static void homa_send_copy__granted_bytes_leave_before_the_copy(void **state)
{
	struct homa_recv_args *ra = test_calloc(1, sizeof(*ra));
	struct c_msg m;
	struct homa_send_args a;
	struct homa_rpc *rpc;
	size_t len = 400000;

	(void)state;
	c_msg_make(&m, len, 0, 3);
	a = (struct homa_send_args){ &W->addr[1],      99, m.iov, m.count, 0, 1,
				     HOMA_SEND_CHUNKED };
	assert_int_equal(homa_send(W->cli, &a, W->now), 0);
	rpc = homa_rpc_find_client(W->h[0], W->cli, a.id);
	assert_int_equal(rpc->out.copied, 0);
	assert_int_equal(rpc->out.next_xmit, 40000);
	assert_int_equal(core_world_metric(0, HOMA_M_tx_caller_bytes), 40000);
	/* One chunk, then the GRANTs for the unscheduled bytes: */
	assert_int_equal(homa_send_copy(W->cli, &a, C_CHUNK, W->now), 1);
	core_world_deliver();
	assert_int_equal(rpc->out.copied, C_CHUNK);
	assert_true(rpc->out.next_xmit > 2 * C_CHUNK);
	assert_true(core_world_metric(0, HOMA_M_tx_caller_bytes) >
		    (uint64_t)rpc->out.next_xmit - C_CHUNK);
	assert_int_equal(c_copy_all(W->cli, &a), (int)(len / C_CHUNK) - 2);
	/* A step after the end, or with other pieces, copies nothing. */
	assert_int_equal(homa_send_copy(W->cli, &a, C_CHUNK, W->now), 0);
	memset(m.buf, 0, len);
	assert_int_equal(core_world_recv(W->srv, ra, 50), (int)len);
	core_world_check(W->srv, ra, len, c_byte, 3);
	c_msg_free(&m);
	test_free(ra);
}

/* An RPC that ends between chunks: the next step finds nothing, reads
 * nothing, and the memory is freed (teardown checks). */
static void homa_send_copy__rpc_ended_between_chunks(void **state)
{
	struct homa_recv_args *ra = test_calloc(1, sizeof(*ra));
	struct c_msg m, r;
	struct homa_send_args a, b;
	uint64_t copies;

	(void)state;
	c_msg_make(&m, 300000, 0, 9);
	a = (struct homa_send_args){ &W->addr[1],      99, m.iov, m.count, 0, 1,
				     HOMA_SEND_CHUNKED };
	assert_int_equal(homa_send(W->cli, &a, W->now), 0);
	assert_int_equal(homa_send_copy(W->cli, &a, C_CHUNK, W->now), 1);
	assert_int_equal(homa_abort(W->cli, a.id, ECANCELED, W->now), 0);
	copies = core_world_metric(0, HOMA_M_tx_chunk_copies);
	assert_int_equal(homa_send_copy(W->cli, &a, C_CHUNK, W->now), 0);
	assert_int_equal(core_world_metric(0, HOMA_M_tx_chunk_copies), copies);
	assert_int_equal(core_world_metric(0, HOMA_M_tx_copy_skipped_bytes),
			 300000 - C_CHUNK);
	assert_int_equal(homa_recv(W->cli, ra, W->now), -ECANCELED);
	core_world_run_ms(5);

	/* A reply whose client goes away between chunks (its RPC_UNKNOWN
	 * or an ack would end it; here the server's socket shuts down). */
	a.id = 0;
	a.flags = 0;
	assert_int_equal(homa_send(W->cli, &a, W->now), 0);
	assert_int_equal(core_world_recv(W->srv, ra, 50), 300000);
	c_msg_make(&r, 200000, 7000, 4);
	b = (struct homa_send_args){ &ra->peer,	       ra->peer_port, r.iov,
				     r.count,	       ra->id,	      0,
				     HOMA_SEND_CHUNKED };
	assert_int_equal(
		homa_release(W->srv, ra->bpage_offsets, ra->num_bpages), 0);
	assert_int_equal(homa_send(W->srv, &b, W->now), 0);
	assert_int_equal(homa_send_copy(W->srv, &b, C_CHUNK, W->now), 1);
	homa_sock_shutdown(W->srv, W->now);
	assert_int_equal(homa_send_copy(W->srv, &b, C_CHUNK, W->now), 0);
	/* A chunked reply to an RPC that is gone: nothing to copy. */
	b.id += 2;
	assert_int_equal(homa_send_copy(W->srv, &b, C_CHUNK, W->now), 0);
	assert_int_equal(homa_abort(W->cli, 0, ECANCELED, W->now), 0);
	core_world_run_ms(5);
	c_msg_free(&m);
	c_msg_free(&r);
	test_free(ra);
}

/* A client whose response starts before its request is all copied in
 * never sends the request again (a request is resent only while the RPC
 * is OUTGOING): the rest of the copy is skipped. */
static void homa_send_copy__response_first_skips_the_rest(void **state)
{
	struct homa_recv_args *ra = test_calloc(1, sizeof(*ra));
	struct homa_recv_args *rc = test_calloc(1, sizeof(*rc));
	struct c_msg m;
	struct homa_send_args a;
	struct homa_rpc *rpc;
	uint8_t resp[100] = { 0 };
	struct homa_iov riov = { resp, sizeof(resp) };
	struct homa_send_args b;
	size_t len = 300000;

	(void)state;
	c_msg_make(&m, len, 0, 17);
	a = (struct homa_send_args){ &W->addr[1],      99, m.iov, m.count, 0, 1,
				     HOMA_SEND_CHUNKED };
	assert_int_equal(homa_send(W->cli, &a, W->now), 0);
	rpc = homa_rpc_find_client(W->h[0], W->cli, a.id);
	/* One chunk, then the whole request leaves from the caller's
	 * buffer and the server answers before the next chunk. */
	assert_int_equal(homa_send_copy(W->cli, &a, C_CHUNK, W->now), 1);
	assert_int_equal(core_world_recv(W->srv, ra, 0), (int)len);
	core_world_check(W->srv, ra, len, c_byte, 17);
	assert_int_equal(rpc->out.copied, C_CHUNK);
	b = (struct homa_send_args){ &ra->peer, ra->peer_port, &riov,
				     1,		ra->id,	       0,
				     0 };
	assert_int_equal(homa_send(W->srv, &b, W->now), 0);
	core_world_deliver();
	assert_int_equal(homa_send_copy(W->cli, &a, C_CHUNK, W->now), 0);
	assert_int_equal(rpc->out.copied, C_CHUNK);
	assert_null(rpc->out.src);
	assert_int_equal(core_world_metric(0, HOMA_M_tx_copy_skipped_bytes),
			 len - C_CHUNK);
	assert_int_equal(homa_recv(W->cli, rc, W->now), (int)sizeof(resp));
	assert_int_equal(
		homa_release(W->srv, ra->bpage_offsets, ra->num_bpages), 0);
	assert_int_equal(
		homa_release(W->cli, rc->bpage_offsets, rc->num_bpages), 0);
	core_world_run_ms(5);
	c_msg_free(&m);
	test_free(ra);
	test_free(rc);
}

/* A full round trip both ways chunked, the response too. */
static void homa_send_copy__reply_chunked(void **state)
{
	struct homa_recv_args *ra = test_calloc(1, sizeof(*ra));
	struct homa_recv_args *rc = test_calloc(1, sizeof(*rc));
	struct c_msg m, r;
	struct homa_send_args a, b;

	(void)state;
	c_msg_make(&m, 180000, 0, 21);
	a = (struct homa_send_args){ &W->addr[1],      99, m.iov, m.count, 0, 1,
				     HOMA_SEND_CHUNKED };
	assert_int_equal(homa_send(W->cli, &a, W->now), 0);
	c_copy_all(W->cli, &a);
	assert_int_equal(core_world_recv(W->srv, ra, 50), 180000);
	core_world_check(W->srv, ra, 180000, c_byte, 21);
	c_msg_make(&r, 222222, 50000, 22);
	b = (struct homa_send_args){ &ra->peer,	       ra->peer_port, r.iov,
				     r.count,	       ra->id,	      0,
				     HOMA_SEND_CHUNKED };
	W->lose_every = 7;
	assert_int_equal(homa_send(W->srv, &b, W->now), 0);
	c_copy_all(W->srv, &b);
	W->lose_every = 0;
	memset(r.buf, 1, 222222);
	assert_int_equal(core_world_recv(W->cli, rc, 200), 222222);
	core_world_check(W->cli, rc, 222222, c_byte, 22);
	assert_int_equal(
		homa_release(W->srv, ra->bpage_offsets, ra->num_bpages), 0);
	assert_int_equal(
		homa_release(W->cli, rc->bpage_offsets, rc->num_bpages), 0);
	core_world_run_ms(20);
	c_msg_free(&m);
	c_msg_free(&r);
	test_free(ra);
	test_free(rc);
}

/* homa_copy at every distance 0-70 modulo 4096 and lengths around its
 * pieces: every byte arrives and none past the end is touched. */
static void homa_copy__every_distance_every_byte(void **state)
{
	static const size_t lens[] = { 1, 63, 1023, 1024, 1025, 5000, 65553 };
	uint8_t *src = test_malloc(2 * 65536 + 8192);
	uint8_t *dst = test_malloc(2 * 65536 + 8192);

	(void)state;
	for (size_t i = 0; i < 2 * 65536 + 8192; i++)
		src[i] = c_byte(i, 5);
	for (size_t gap = 0; gap <= 70; gap++) {
		for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
			/* src at page offset 100, dst gap bytes past it */
			uint8_t *s = src + 100, *d;
			uintptr_t want = ((uintptr_t)s + gap) & 4095;

			d = dst + 4096 + ((want - (uintptr_t)dst) & 4095);
			memset(dst, 0xAB, 2 * 65536 + 8192);
			homa_copy(d, s, lens[k]);
			assert_int_equal(((uintptr_t)d - (uintptr_t)s) & 4095,
					 gap);
			assert_memory_equal(d, s, lens[k]);
			assert_int_equal(d[-1], 0xAB);
			assert_int_equal(d[lens[k]], 0xAB);
		}
	}
	test_free(src);
	test_free(dst);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, c_setup, core_world_teardown)
		T(homa_send_copy__lost_packets_come_from_the_copy),
		T(homa_send_copy__lengths_around_the_chunk),
		T(homa_send_copy__granted_bytes_leave_before_the_copy),
		T(homa_send_copy__rpc_ended_between_chunks),
		T(homa_send_copy__response_first_skips_the_rest),
		T(homa_send_copy__reply_chunked),
#undef T
		cmocka_unit_test(homa_copy__every_distance_every_byte),
	};
	if (getenv("TEST_FILTER"))
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
