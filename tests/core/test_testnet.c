/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_testnet.c - tests of the test network itself (tests/support):
 * determinism (one seed, one run: same event trace and same completion
 * time for every RPC; another seed, another run), the link model's exact
 * timing, the fault model's rates over many packets, host kill/restart
 * and the leak checker. The determinism cases run real RPCs through the
 * protocol core; the link and fault cases send raw packets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "testnet.h"
#include "tnapp.h"
#include "tnwork.h"

#define NUM_RPCS 200

struct run_result {
	uint64_t trace;		    /* event trace hash */
	uint64_t completion;	    /* completion hash */
	uint64_t done_ns[NUM_RPCS]; /* per-RPC completion times */
	uint64_t events;	    /* events executed */
};

/* run_rpcs() - 200 RPCs among 4 hosts with 1 % loss, duplication and
 * reordering; the workload is fixed, only the network seed varies. */
static void run_rpcs(uint64_t seed, struct run_result *res)
{
	struct tn_config c;
	struct tnapp_config ac;
	struct tn_net *net;
	struct tnapp *app;
	struct tn_rng wl;
	uint32_t i;
	int client;

	tn_config_default(&c);
	c.seed = seed;
	c.loss_ppm = 10000;
	c.dup_ppm = 10000;
	c.reorder_ppm = 10000;
	assert_int_equal(tn_create(&c, &net), 0);
	tnapp_config_default(&ac);
	ac.region_bytes = 16ull << 20;
	assert_int_equal(tnapp_create(net, &ac, &app), 0);
	tn_rng_seed(&wl, 42);
	for (i = 0; i < NUM_RPCS; i++) {
		client = (int)(i % 4);
		tnapp_add_rpc(app, client, 0,
			      (client + 1 + (int)tn_rng_below(&wl, 3)) % 4,
			      tn_size_loguniform(&wl, 200000),
			      tn_size_loguniform(&wl, 200000), 0);
	}
	tnapp_start(app);
	assert_true(tnapp_run(app, 5000 * TN_NS_PER_MS));
	tnapp_assert_all_ok(app);
	for (i = 0; i < NUM_RPCS; i++)
		res->done_ns[i] = tnapp_rpc(app, i)->done_ns;
	res->completion = tnapp_completion_hash(app);
	tn_check_clean(net, 50 * TN_NS_PER_MS);
	res->trace = tn_trace_hash(net);
	res->events = tn_counters(net)->events;
	tnapp_destroy(app);
	tn_destroy(net);
}

static void tn_run__same_seed_same_trace(void **state)
{
	struct run_result *a = calloc(1, sizeof(*a));
	struct run_result *b = calloc(1, sizeof(*b));

	(void)state;
	run_rpcs(7, a);
	run_rpcs(7, b);
	assert_true(a->events > 1000);
	assert_int_equal(a->events, b->events);
	assert_int_equal(a->trace, b->trace);
	assert_int_equal(a->completion, b->completion);
	assert_memory_equal(a->done_ns, b->done_ns, sizeof(a->done_ns));
	free(a);
	free(b);
}

static void tn_run__different_seed_differs(void **state)
{
	struct run_result *a = calloc(1, sizeof(*a));
	struct run_result *b = calloc(1, sizeof(*b));

	(void)state;
	run_rpcs(7, a);
	run_rpcs(8, b);
	assert_int_not_equal(a->trace, b->trace);
	assert_int_not_equal(a->completion, b->completion);
	assert_true(memcmp(a->done_ns, b->done_ns, sizeof(a->done_ns)) != 0);
	free(a);
	free(b);
}

/* Records delivery times and the order of sequence numbers. */
struct tap_log {
	uint64_t first_sent_ns;	     /* of the first packet seen */
	uint64_t first_delivered_ns; /* of the first packet delivered */
	uint8_t first_type;	     /* its type */
	uint8_t first_prio;	     /* its priority */
	uint64_t delivered;	     /* packets delivered */
	uint64_t out_of_order;	     /* deliveries with a smaller seq */
	uint32_t last_seq;	     /* highest sequence delivered */
	uint64_t times[4];	     /* first four delivery times */
};

static uint32_t get_seq(const uint8_t *p)
{
	return (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 |
	       (uint32_t)p[6] << 8 | p[7];
}

static void log_tap(void *arg, enum tn_tap_kind kind,
		    const struct tn_pkt_info *info)
{
	struct tap_log *log = arg;
	uint32_t seq;

	if (kind != TN_TAP_DELIVERED || info->len < 8)
		return;
	if (log->delivered < 4)
		log->times[log->delivered] = info->now_ns;
	if (log->delivered++ == 0) {
		log->first_sent_ns = info->sent_ns;
		log->first_delivered_ns = info->now_ns;
		log->first_type = info->type;
		log->first_prio = info->priority;
	}
	seq = get_seq(info->pkt);
	if (seq < log->last_seq)
		log->out_of_order++;
	else
		log->last_seq = seq;
}

/* make_freeze() - a FREEZE packet (ignored by the core) with seq. */
static size_t make_freeze(uint8_t *buf, uint32_t seq)
{
	struct homa_wire_pkt p;
	int len;

	memset(&p, 0, sizeof(p));
	p.common.type = HOMA_PKT_FREEZE;
	p.common.sequence = seq;
	len = homa_wire_encode(&p, buf, HOMA_WIRE_MAX_HEADER_BYTES);
	assert_int_equal(len, HOMA_WIRE_COMMON_BYTES);
	return (size_t)len;
}

static void tn_send__timing_is_serialization_plus_delay(void **state)
{
	struct tap_log log;
	struct tn_config c;
	struct tn_net *net;
	uint8_t pkt[200];

	(void)state;
	memset(&log, 0, sizeof(log));
	tn_config_default(&c);
	c.num_hosts = 2;
	c.link_bps = 10000000000ull;
	c.link_delay_ns = 5000;
	c.overhead_bytes = 62;
	assert_int_equal(tn_create(&c, &net), 0);
	tn_set_tap(net, log_tap, &log);
	/* 100 + 62 bytes at 10 Gbit/s = 129.6 ns, rounded up to 130. */
	assert_int_equal(tn_serialization_ns(net, 100), 130);
	tn_run_until(net, 1000);
	memset(pkt, 0, sizeof(pkt));
	make_freeze(pkt, 1);
	tn_send(net, 0, 1, pkt, 100, 5);
	tn_send(net, 0, 1, pkt, 100, 5);
	tn_run_until(net, 20000);
	assert_int_equal(log.delivered, 2);
	assert_int_equal(log.first_sent_ns, 1000);
	assert_int_equal(log.times[0], 1000 + 130 + 5000);
	/* The second waits for the first to leave the uplink. */
	assert_int_equal(log.times[1], 1000 + 2 * 130 + 5000);
	assert_int_equal(log.first_prio, 5);
	assert_int_equal(tn_counters(net)->sent_by_prio[5], 2);
	assert_int_equal(tn_counters(net)->delivered_by_type[HOMA_PKT_FREEZE -
							     HOMA_PKT_TYPE_MIN],
			 2);
	tn_destroy(net);
}

static void tn_send__infinite_link_is_delay_only(void **state)
{
	struct tap_log log;
	struct tn_config c;
	struct tn_net *net;
	uint8_t pkt[64];

	(void)state;
	memset(&log, 0, sizeof(log));
	tn_config_default(&c);
	c.num_hosts = 2;
	c.link_bps = 0;
	c.link_delay_ns = 777;
	assert_int_equal(tn_create(&c, &net), 0);
	tn_set_tap(net, log_tap, &log);
	tn_run_until(net, 3000);
	tn_send(net, 1, 0, pkt, make_freeze(pkt, 1), 0);
	tn_send(net, 1, 0, pkt, make_freeze(pkt, 2), 0);
	tn_run_until(net, 10000);
	assert_int_equal(log.times[0], 3777);
	assert_int_equal(log.times[1], 3777);
	tn_destroy(net);
}

/* A core-generated packet: the first DATA of a 1-byte request. */
static void tn_send__core_packet_timing(void **state)
{
	struct tap_log log;
	struct tnapp_config ac;
	struct tn_config c;
	struct tn_net *net;
	struct tnapp *app;

	(void)state;
	memset(&log, 0, sizeof(log));
	tn_config_default(&c);
	c.num_hosts = 2;
	c.link_bps = 10000000000ull;
	c.link_delay_ns = 2000;
	assert_int_equal(tn_create(&c, &net), 0);
	tnapp_config_default(&ac);
	ac.region_bytes = 4ull << 20;
	assert_int_equal(tnapp_create(net, &ac, &app), 0);
	tn_set_tap(net, log_tap, &log);
	tnapp_add_rpc(app, 0, 0, 1, 1, 1, 0);
	tnapp_start(app);
	assert_true(tnapp_run(app, 100 * TN_NS_PER_MS));
	tnapp_assert_all_ok(app);
	assert_int_equal(log.first_type, HOMA_PKT_DATA);
	/* 56 + 1 bytes + 62 overhead = 119 bytes: 95.2 ns, rounded to 96. */
	assert_int_equal(log.first_delivered_ns - log.first_sent_ns, 96 + 2000);
	tn_check_clean(net, 50 * TN_NS_PER_MS);
	tnapp_destroy(app);
	tn_destroy(net);
}

/* send_many() - n FREEZE packets from host 0 to 1 with given faults. */
static struct tn_net *send_many(uint32_t n, uint32_t loss, uint32_t dup,
				uint32_t reorder, struct tap_log *log)
{
	struct tn_config c;
	struct tn_net *net;
	uint8_t pkt[64];
	uint32_t i;

	tn_config_default(&c);
	c.num_hosts = 2;
	c.seed = 12345;
	c.loss_ppm = loss;
	c.dup_ppm = dup;
	c.reorder_ppm = reorder;
	assert_int_equal(tn_create(&c, &net), 0);
	tn_set_tap(net, log_tap, log);
	for (i = 1; i <= n; i++) {
		tn_send(net, 0, 1, pkt, make_freeze(pkt, i), 0);
		tn_run_for(net, 10);
	}
	/* The uplink needs 29 ns per packet: let it drain. */
	tn_run_for(net, 10 * TN_NS_PER_MS);
	return net;
}

static void tn_faults__loss_and_dup_rates(void **state)
{
	const struct tn_counters *ctr;
	struct tap_log log;
	struct tn_net *net;

	(void)state;
	memset(&log, 0, sizeof(log));
	net = send_many(100000, 100000, 10000, 0, &log);
	ctr = tn_counters(net);
	assert_int_equal(ctr->sent, 100000);
	/* 10 % of 100,000: sd 95; 1 % of 90,000: sd 30. Six sd of room. */
	assert_in_range(ctr->lost, 10000 - 570, 10000 + 570);
	assert_in_range(ctr->duplicated, 900 - 180, 900 + 180);
	assert_int_equal(ctr->delivered,
			 ctr->sent - ctr->lost + ctr->duplicated);
	assert_int_equal(log.delivered, ctr->delivered);
	assert_int_equal(tn_metric(net, 1, HOMA_M_recv_freeze), ctr->delivered);
	tn_destroy(net);
}

static void tn_faults__reorder(void **state)
{
	const struct tn_counters *ctr;
	struct tap_log log;
	struct tn_net *net;

	(void)state;
	memset(&log, 0, sizeof(log));
	net = send_many(20000, 0, 0, 0, &log);
	assert_int_equal(log.delivered, 20000);
	assert_int_equal(log.out_of_order, 0);
	tn_destroy(net);

	memset(&log, 0, sizeof(log));
	net = send_many(20000, 0, 0, 50000, &log);
	ctr = tn_counters(net);
	assert_in_range(ctr->reordered, 1000 - 200, 1000 + 200);
	assert_int_equal(log.delivered, 20000);
	/* A packet delayed up to 10 us is overtaken by most of those sent
	 * in the next 10 us, but each overtaken packet counts once. */
	assert_true(log.out_of_order > 0);
	assert_true(log.out_of_order <= ctr->reordered);
	tn_destroy(net);
}

static bool drop_odd_seq(void *arg, int src, int dst, const uint8_t *pkt,
			 size_t len)
{
	(void)arg;
	(void)src;
	(void)dst;
	return len < 8 || !(get_seq(pkt) & 1);
}

static void tn_set_filter__drops_selected(void **state)
{
	struct tn_config c;
	struct tn_net *net;
	uint8_t pkt[64];
	uint32_t i;

	(void)state;
	tn_config_default(&c);
	c.num_hosts = 2;
	assert_int_equal(tn_create(&c, &net), 0);
	tn_set_filter(net, drop_odd_seq, NULL);
	for (i = 0; i < 100; i++)
		tn_send(net, 0, 1, pkt, make_freeze(pkt, i), 0);
	tn_run_for(net, TN_NS_PER_MS);
	assert_int_equal(tn_counters(net)->filtered, 50);
	assert_int_equal(tn_counters(net)->delivered, 50);
	tn_destroy(net);
}

static void tn_host_kill__vanish_then_restart(void **state)
{
	struct tnapp_config ac;
	struct tn_config c;
	struct tn_net *net;
	struct tnapp *app;
	uint8_t pkt[64];
	uint32_t s;

	(void)state;
	tn_config_default(&c);
	c.num_hosts = 2;
	assert_int_equal(tn_create(&c, &net), 0);
	tnapp_config_default(&ac);
	ac.region_bytes = 4ull << 20;
	assert_int_equal(tnapp_create(net, &ac, &app), 0);
	tn_host_kill(net, 1);
	assert_false(tn_host_alive(net, 1));
	assert_null(tn_homa(net, 1));
	assert_int_equal(tn_host_mem(net, 1)->bytes, 0);
	tn_send(net, 0, 1, pkt, make_freeze(pkt, 1), 0);
	tn_run_for(net, TN_NS_PER_MS);
	assert_int_equal(tn_counters(net)->vanished, 1);
	tn_host_restart(net, 1);
	assert_true(tn_host_alive(net, 1));
	assert_int_equal(tn_host_incarnation(net, 1), 2);
	s = tnapp_add_rpc(app, 0, 0, 1, 5000, 70000, 0);
	tnapp_start(app);
	assert_true(tnapp_run(app, 100 * TN_NS_PER_MS));
	tnapp_assert_all_ok(app);
	assert_int_equal(tnapp_rpc(app, s)->delivered_incarnation, 2);
	tn_check_clean(net, 50 * TN_NS_PER_MS);
	tnapp_destroy(app);
	tn_destroy(net);
}

/* The leak checker must notice bpages the application keeps. */
static void tn_host_clean__sees_held_bpages(void **state)
{
	struct tnapp_config ac;
	struct tn_config c;
	struct tn_net *net;
	struct tnapp *app;

	(void)state;
	tn_config_default(&c);
	c.num_hosts = 2;
	assert_int_equal(tn_create(&c, &net), 0);
	tnapp_config_default(&ac);
	ac.region_bytes = 4ull << 20;
	assert_int_equal(tnapp_create(net, &ac, &app), 0);
	tnapp_hold_bpages(app, 1, true);
	tnapp_add_rpc(app, 0, 0, 1, 100000, 10, 0);
	tnapp_start(app);
	assert_true(tnapp_run(app, 100 * TN_NS_PER_MS));
	tnapp_assert_all_ok(app);
	tn_run_for(net, 50 * TN_NS_PER_MS);
	assert_int_equal(tnapp_held_bpages(app, 1), 2);
	assert_non_null(tn_host_clean(net, 1));
	tnapp_release_bpages(app, 1);
	assert_int_equal(tnapp_held_bpages(app, 1), 0);
	tn_check_clean(net, 50 * TN_NS_PER_MS);
	tnapp_destroy(app);
	tn_destroy(net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tn_run__same_seed_same_trace),
		cmocka_unit_test(tn_run__different_seed_differs),
		cmocka_unit_test(tn_send__timing_is_serialization_plus_delay),
		cmocka_unit_test(tn_send__infinite_link_is_delay_only),
		cmocka_unit_test(tn_send__core_packet_timing),
		cmocka_unit_test(tn_faults__loss_and_dup_rates),
		cmocka_unit_test(tn_faults__reorder),
		cmocka_unit_test(tn_set_filter__drops_selected),
		cmocka_unit_test(tn_host_kill__vanish_then_restart),
		cmocka_unit_test(tn_host_clean__sees_held_bpages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
