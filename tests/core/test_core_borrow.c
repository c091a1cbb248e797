/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_core_borrow.c - requests the host lends the core (HOMA_SEND_BORROW,
 * the library's HOMA_SENDMSG_NOCOPY) between two instances back to back:
 * nothing is copied or allocated for the message, first transmissions
 * and retransmissions read the host's bytes, and env.lent_done comes
 * exactly once, when the RPC ends (its response or error received, an
 * abort without error, the socket shut down) and never before. The flag
 * is refused on a reply and with more than one piece, GIFT or CHUNKED.
 * A record that held a lent message forgets it when reused.
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
#include "rpc.h"

#define B_REGION (4u << 20)

static int b_setup(void **state)
{
	core_world_open_default(B_REGION, 99, 777);
	W->keep = core_world_lose_data;
	W->lose_phase = 1;
	*state = W;
	return 0;
}

static uint8_t b_byte(size_t i, uint8_t seed)
{
	return (uint8_t)(seed + i * 13 + (i >> 10));
}

static uint8_t *b_msg(size_t len, uint8_t seed)
{
	uint8_t *buf = malloc(len);

	for (size_t i = 0; i < len; i++)
		buf[i] = b_byte(i, seed);
	return buf;
}

/* A lent request of len bytes to the server (id written back). */
static int b_send(const uint8_t *buf, size_t len, uint64_t *id)
{
	struct homa_iov iov = { buf, len };
	struct homa_send_args a = { &W->addr[1],     99, &iov, 1, 0, 1,
				    HOMA_SEND_BORROW };
	int ret = homa_send(W->cli, &a, W->now);

	*id = a.id;
	return ret;
}

/* The server answers its next request with 10 bytes (after checking
 * the request's len bytes of seed). */
static void b_answer(struct homa_recv_args *ra, size_t len, uint8_t seed)
{
	uint8_t resp[10] = { 1 };
	struct homa_iov riov = { resp, sizeof(resp) };
	struct homa_send_args b;

	assert_int_equal(core_world_recv(W->srv, ra, 200), (int)len);
	core_world_check(W->srv, ra, len, b_byte, seed);
	b = (struct homa_send_args){ &ra->peer, ra->peer_port, &riov,
				     1,		ra->id,	       0,
				     0 };
	assert_int_equal(
		homa_release(W->srv, ra->bpage_offsets, ra->num_bpages), 0);
	assert_int_equal(homa_send(W->srv, &b, W->now), 0);
}

/*
 * A lent request with every n-th DATA packet lost: the core allocates
 * nothing for it, its packets (resent ones too) come from the host's
 * bytes, and lent_done comes once, when the client receives the
 * response, with the host's pointer and length.
 */
static void b_round_trip(size_t len, int lose_every)
{
	struct homa_recv_args *ra = test_calloc(1, sizeof(*ra));
	struct homa_recv_args *rc = test_calloc(1, sizeof(*rc));
	uint8_t *buf = b_msg(len, 5);
	int64_t before = W->allocated[0];
	uint64_t resent = core_world_metric(0, HOMA_M_resent_packets), id;
	struct homa_rpc *rpc;

	W->lose_every = lose_every;
	assert_int_equal(b_send(buf, len, &id), 0);
	rpc = homa_rpc_find_client(W->h[0], W->cli, id);
	assert_non_null(rpc);
	assert_ptr_equal(rpc->out.buf, buf);
	assert_true(rpc->out.borrowed);
	/* At most the RPC's record and the peer's: not the message. */
	assert_true(
		W->allocated[0] - before <=
		(int64_t)(sizeof(struct homa_rpc) + sizeof(struct homa_peer)));
	b_answer(ra, len, 5);
	W->lose_every = 0;
	if (lose_every)
		assert_true(W->data_lost > 0 &&
			    core_world_metric(0, HOMA_M_resent_packets) >
				    resent);
	assert_int_equal(core_world_metric(0, HOMA_M_tx_chunk_copies), 0);
	/* The response is in (unless lost), but not yet received: still
	 * lent. */
	core_world_deliver();
	assert_int_equal(W->lent_done, 0);
	assert_int_equal(core_world_recv(W->cli, rc, 200), 10);
	assert_int_equal(W->lent_done, 1);
	assert_ptr_equal(W->lent_ptr, buf);
	assert_int_equal(W->lent_bytes, len);
	assert_int_equal(core_world_metric(0, HOMA_M_tx_lent_msgs), 1);
	assert_int_equal(
		homa_release(W->cli, rc->bpage_offsets, rc->num_bpages), 0);
	core_world_run_ms(20);
	assert_int_equal(W->lent_done, 1);
	free(buf);
	test_free(ra);
	test_free(rc);
}

static void homa_send_borrow__large_request_not_copied(void **state)
{
	(void)state;
	b_round_trip(1000000, 0);
}

static void homa_send_borrow__lost_packets_resent_from_the_host(void **state)
{
	(void)state;
	b_round_trip(300001, 5);
}

static void homa_send_borrow__one_packet_request(void **state)
{
	(void)state;
	b_round_trip(100, 0);
}

/* Refused: on a reply (a server learns of no end of its RPC; even one
 * whose RPC is gone, which would otherwise succeed silently), with
 * more than one piece, with GIFT or CHUNKED. Nothing is lent then. */
static void homa_send_borrow__refused_combinations(void **state)
{
	struct homa_recv_args *ra = test_calloc(1, sizeof(*ra));
	uint8_t buf[3000] = { 0 };
	struct homa_iov two[2] = { { buf, 1000 }, { buf + 1000, 2000 } };
	struct homa_iov one = { buf, sizeof(buf) };
	struct homa_send_args a = { &W->addr[1],     99, two, 2, 0, 0,
				    HOMA_SEND_BORROW };
	uint64_t id;

	(void)state;
	assert_int_equal(homa_send(W->cli, &a, W->now), -EINVAL);
	a.iov = &one;
	a.iov_count = 1;
	a.flags = HOMA_SEND_BORROW | HOMA_SEND_GIFT;
	assert_int_equal(homa_send(W->cli, &a, W->now), -EINVAL);
	a.flags = HOMA_SEND_BORROW | HOMA_SEND_CHUNKED;
	assert_int_equal(homa_send(W->cli, &a, W->now), -EINVAL);
	assert_int_equal(b_send(buf, sizeof(buf), &id), 0);
	assert_int_equal(core_world_recv(W->srv, ra, 50), (int)sizeof(buf));
	a = (struct homa_send_args){
		&ra->peer, ra->peer_port, &one, 1, ra->id, 0, HOMA_SEND_BORROW
	};
	assert_int_equal(homa_send(W->srv, &a, W->now), -EINVAL);
	a.id = ra->id + 2; /* an RPC the server does not have */
	assert_int_equal(homa_send(W->srv, &a, W->now), -EINVAL);
	assert_int_equal(
		homa_release(W->srv, ra->bpage_offsets, ra->num_bpages), 0);
	assert_int_equal(W->lent_done, 0);
	assert_int_equal(homa_abort(W->cli, 0, 0, W->now), 0);
	assert_int_equal(W->lent_done, 1);
	core_world_run_ms(5);
	test_free(ra);
}

/* The other ends: an abort without error ends it at once; one with an
 * error only when recv reports that error (the bytes may be read until
 * then); a shutdown ends every lent request of the socket. */
static void homa_send_borrow__ends_by_abort_and_shutdown(void **state)
{
	struct homa_recv_args *rc = test_calloc(1, sizeof(*rc));
	uint8_t *buf = b_msg(200000, 9);
	uint64_t id;

	(void)state;
	assert_int_equal(b_send(buf, 200000, &id), 0);
	assert_int_equal(homa_abort(W->cli, id, 0, W->now), 0);
	assert_int_equal(W->lent_done, 1);
	assert_ptr_equal(W->lent_ptr, buf);

	assert_int_equal(b_send(buf, 200000, &id), 0);
	assert_int_equal(homa_abort(W->cli, id, ECANCELED, W->now), 0);
	assert_int_equal(W->lent_done, 1);
	core_world_run_ms(3);
	assert_int_equal(W->lent_done, 1);
	assert_int_equal(homa_recv(W->cli, rc, W->now), -ECANCELED);
	assert_int_equal(W->lent_done, 2);

	assert_int_equal(b_send(buf, 200000, &id), 0);
	assert_int_equal(b_send(buf + 1, 1000, &id), 0);
	core_world_deliver();
	homa_sock_shutdown(W->cli, W->now);
	assert_int_equal(W->lent_done, 4);
	assert_int_equal(core_world_metric(0, HOMA_M_tx_lent_msgs), 4);
	core_world_run_ms(5);
	free(buf);
	test_free(rc);
}

/*
 * A record that held a lent request is reaped, cached and reused for a
 * copied one: that message is the core's own, so it is freed when its
 * RPC ends and never announced to lent_done (the record must not keep
 * the earlier RPC's borrowed mark; the teardown finds the copy leaked
 * if it does).
 */
static void homa_send_borrow__reused_record_copies_again(void **state)
{
	uint8_t *buf = b_msg(200000, 3);
	uint8_t copied[2000] = { 7 };
	struct homa_iov iov = { copied, sizeof(copied) };
	struct homa_send_args a = { &W->addr[1], 99, &iov, 1, 0, 1, 0 };
	int64_t before;
	struct homa_rpc *lent, *rpc;
	uint64_t id;

	(void)state;
	homa_rpc_cache_drain(W->h[0]);
	assert_int_equal(b_send(buf, 200000, &id), 0);
	lent = homa_rpc_find_client(W->h[0], W->cli, id);
	assert_non_null(lent);
	assert_int_equal(homa_abort(W->cli, id, 0, W->now), 0);
	assert_int_equal(W->lent_done, 1);
	assert_int_equal(homa_rpc_reap(W->h[0], -1), 1);
	assert_int_equal(W->h[0]->num_cached_rpcs, 1);

	before = W->allocated[0];
	assert_int_equal(homa_send(W->cli, &a, W->now), 0);
	rpc = homa_rpc_find_client(W->h[0], W->cli, a.id);
	assert_ptr_equal(rpc, lent); /* the cached record */
	assert_false(rpc->out.borrowed);
	assert_ptr_not_equal(rpc->out.buf, copied);
	assert_true(W->allocated[0] - before >= (int64_t)sizeof(copied));
	assert_int_equal(homa_abort(W->cli, a.id, 0, W->now), 0);
	assert_int_equal(W->lent_done, 1);
	assert_int_equal(core_world_metric(0, HOMA_M_tx_lent_msgs), 1);
	assert_int_equal(homa_rpc_reap(W->h[0], -1), 1);
	assert_int_equal(W->allocated[0], before);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, b_setup, core_world_teardown)
		T(homa_send_borrow__large_request_not_copied),
		T(homa_send_borrow__lost_packets_resent_from_the_host),
		T(homa_send_borrow__one_packet_request),
		T(homa_send_borrow__refused_combinations),
		T(homa_send_borrow__ends_by_abort_and_shutdown),
		T(homa_send_borrow__reused_record_copies_again),
#undef T
	};
	if (getenv("TEST_FILTER"))
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
