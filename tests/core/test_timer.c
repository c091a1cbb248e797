/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_timer.c - the tick (src/core/timer.c) between two instances back to
 * back: how long a server keeps a response that its client has not
 * acknowledged. It gives up on a client that is gone, but not on one whose
 * process the host left without a CPU for a few hundred milliseconds: such
 * a client can neither acknowledge nor ask for a lost packet until it runs
 * again, and a response ended meanwhile can never complete (the client's
 * RESEND meets RPC_UNKNOWN, which a client receiving a response ignores,
 * spec 3.7, and it times out).
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
#include "timer.h"

#define TM_REGION (4u << 20)
#define TM_PORT	  99

/* This file's knobs on the world's packets. */
static struct {
	bool drop;	      /* drop everything transmitted */
	bool mute_server;     /* drop what the server sends */
	int server_data;      /* DATA packets the server sent */
	int lose_server_data; /* lose the server's n-th DATA packet, 0 none */
} T;

static bool tm_keep(int from, const struct homa_out_pkt *p)
{
	if (T.drop || (from == 1 && T.mute_server))
		return false;
	if (from == 1 && p->type == HOMA_PKT_DATA &&
	    ++T.server_data == T.lose_server_data)
		return false;
	return true;
}

static int tm_setup(void **state)
{
	memset(&T, 0, sizeof(T));
	core_world_open_default(TM_REGION, TM_PORT, 12345);
	W->keep = tm_keep;
	*state = W;
	return 0;
}

static uint8_t tm_byte(size_t i, uint8_t seed)
{
	return (uint8_t)(seed + i * 7);
}

/* Send len bytes of tm_byte(., seed) from sock to the peer's port. */
static void tm_send(struct homa_sock *sock, const struct homa_addr *dst,
		    uint16_t port, uint64_t id, size_t len, uint8_t seed)
{
	uint8_t *buf = malloc(len);
	struct homa_iov iov = { buf, len };
	struct homa_send_args a = { dst, port, &iov, 1, id, 0, 0 };

	for (size_t i = 0; i < len; i++)
		buf[i] = tm_byte(i, seed);
	assert_int_equal(homa_send(sock, &a, W->now), 0);
	free(buf);
}

/* A request of 100 bytes, received by the server and answered with
 * resp_len bytes (seed 3). */
static void tm_request_answered(struct homa_recv_args *rs, size_t resp_len)
{
	tm_send(W->cli, &W->addr[1], TM_PORT, 0, 100, 1);
	core_world_deliver();
	rs->id = 0;
	assert_int_equal(homa_recv(W->srv, rs, W->now), 100);
	tm_send(W->srv, &rs->peer, rs->peer_port, rs->id, resp_len, 3);
}

/* The client process gets no CPU for ms milliseconds: the server's
 * instance runs its ticks, the client's none. What the server sends
 * meanwhile (NEED_ACKs) is lost: a client back from the stall answers
 * them just as its own timer would. */
static void tm_client_starved(int ms)
{
	T.mute_server = true;
	for (int i = 0; i < ms; i++) {
		W->now += 1000000;
		homa_poll(W->h[1], W->now);
	}
	T.mute_server = false;
}

/* Before: the server ended the response after timeout_ticks (100) of
 * silence while the client was starved, and the client, back, got
 * RPC_UNKNOWN for the packet it lacked and timed out: ETIMEDOUT where
 * the response should have come (churn and loss tests under load). The
 * host's scheduling tail on a loaded 2-vCPU machine was 305 ms
 * (docs/protocol-notes.md, "A peer that does not get the CPU"). */
static void homa_timer__starved_client_gets_its_response(void **state)
{
	struct homa_recv_args *rs = test_calloc(1, sizeof(*rs));
	struct homa_recv_args *rc = test_calloc(1, sizeof(*rc));
	int got;

	(void)state;
	T.lose_server_data = 2; /* the response's second packet */
	tm_request_answered(rs, 2500);
	core_world_deliver(); /* the client has the first packet only */
	tm_client_starved(400);
	got = core_world_recv(W->cli, rc, 100);
	assert_int_equal(got, 2500);
	core_world_check(W->cli, rc, 2500, tm_byte, 3);
	assert_int_equal(core_world_metric(1, HOMA_M_server_ack_timeouts), 0);
	assert_int_equal(core_world_metric(0, HOMA_M_rpc_timeouts), 0);
	/* The server's NEED_ACKs backed off meanwhile (the next one 514
	 * ticks after the response went out): the client's ACK ends it. */
	core_world_run_ms(200);
	assert_int_equal(core_world_metric(1, HOMA_M_server_rpcs_acked), 1);
	assert_int_equal(core_world_metric(1, HOMA_M_server_ack_timeouts), 0);
	test_free(rs);
	test_free(rc);
}

/* A client that is gone for good: the server gives up after
 * HOMA_ACK_TIMEOUT_FACTOR times timeout_ticks of silence (Linux would
 * send NEED_ACK forever), with NEED_ACKs backing off meanwhile. */
static void homa_timer__server_gives_up_waiting_for_ack(void **state)
{
	struct homa_recv_args *rs = test_calloc(1, sizeof(*rs));
	struct homa_recv_args *rc = test_calloc(1, sizeof(*rc));
	int ticks = HOMA_ACK_TIMEOUT_FACTOR * 100; /* timeout_ticks 100 */
	struct homa_usage u;
	int t;

	(void)state;
	tm_request_answered(rs, 100);
	core_world_deliver();
	rc->id = 0;
	assert_int_equal(homa_recv(W->cli, rc, W->now), 100);
	/* The client vanishes before its ack can leave. */
	T.drop = true;
	for (t = 1; t <= ticks + 100; t++) {
		core_world_run_ms(1);
		homa_get_usage(W->h[1], &u);
		if (u.rpcs == 0)
			break;
	}
	assert_in_range(t, ticks - 1, ticks + 3);
	assert_int_equal(core_world_metric(1, HOMA_M_server_ack_timeouts), 1);
	/* NEED_ACK backs off: offsets 0, 1, 2, 4, ... ticks after the
	 * first, so about log2(ticks) of them. */
	assert_in_range(core_world_metric(1, HOMA_M_sent_need_ack), 10, 12);
	test_free(rs);
	test_free(rc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define TT(f) cmocka_unit_test_setup_teardown(f, tm_setup, core_world_teardown)
		TT(homa_timer__starved_client_gets_its_response),
		TT(homa_timer__server_gives_up_waiting_for_ack),
#undef TT
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
