/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_core_liveness.c - no RPC waits without an end or a sign on the test
 * network: an INET6 server answers IPv4 clients (the reply used to fail
 * with -EAFNOSUPPORT, leaving the RPC in service and its client answered
 * BUSY forever); a server RPC its application never answers is counted
 * and flagged overdue while its client keeps waiting (BUSY) until it
 * aborts; and overload: a server whose application is slower than the
 * offered load, and one whose uplink carries twice its rate in responses,
 * end every RPC within a stated bound, with no error, short responses
 * first.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "testnet.h"
#include "tnapp.h"

static struct tn_net *make_net(int hosts, uint64_t seed, uint64_t link_bps,
			       int64_t overdue_ticks)
{
	struct tn_config c;
	struct tn_net *net;

	tn_config_default(&c);
	c.num_hosts = hosts;
	c.seed = seed;
	c.link_bps = link_bps;
	c.homa.link_mbps = (int64_t)(link_bps / 1000000); /* pacer's rate */
	c.homa.overdue_ticks = overdue_ticks;
	assert_int_equal(tn_create(&c, &net), 0);
	return net;
}

/* Before the fix the server's reply failed (tnapp fails the test on it):
 * the core refused the IPv4-mapped address of the client on an INET6
 * socket although it had accepted the client's request on it. */
static void homa_send__inet6_server_answers_ipv4_clients(void **state)
{
	const uint32_t sizes[] = { 1, 100, 1500, 40000, 300000, 1000000 };
	struct tnapp_config ac;
	struct tn_net *net;
	struct tnapp *app;

	(void)state;
	net = make_net(3, 7, 25000000000ull, 1000);
	tnapp_config_default(&ac);
	ac.server_inet6 = true;
	ac.no_server[0] = ac.no_server[1] = true;
	assert_int_equal(tnapp_create(net, &ac, &app), 0);
	for (int c = 0; c < 2; c++)
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			tnapp_add_rpc(app, c, 0, 2, sizes[i],
				      sizes[(i + 1) % 6], 0);
	tnapp_start(app);
	assert_true(tnapp_run(app, 100 * TN_NS_PER_MS));
	tnapp_assert_all_ok(app);
	assert_int_equal(homa_sock_family(tnapp_server_sock(app, 2)),
			 HOMA_FAMILY_INET6);
	assert_int_equal(tn_metric(net, 0, HOMA_M_recv_busy), 0);
	tn_check_clean(net, 100 * TN_NS_PER_MS);
	tnapp_destroy(app);
	tn_destroy(net);
}

struct overdue_probe {
	struct tnapp *app; /* the application */
	uint64_t id;	   /* client RPC to abort */
};

static void abort_cb(void *arg, struct tn_net *net)
{
	struct overdue_probe *p = arg;

	assert_int_equal(homa_abort(tnapp_client_sock(p->app, 0, 0), p->id,
				    ETIMEDOUT, tn_now(net)),
			 0);
	tn_touch(net, 0);
}

/* Server host 1 never answers. overdue_ticks = 50 (50 ms). */
static void homa_timer__unanswered_server_rpc_overdue(void **state)
{
	struct homa_rpc_view v[2];
	struct overdue_probe probe;
	struct homa_rpc_ages ages;
	const struct tnapp_rpc *r;
	struct tnapp_config ac;
	struct tn_net *net;
	struct tnapp *app;
	uint64_t busy;

	(void)state;
	net = make_net(2, 3, 25000000000ull, 50);
	tnapp_config_default(&ac);
	ac.no_server[0] = true;
	ac.service_ns[1] = TNAPP_NEVER;
	assert_int_equal(tnapp_create(net, &ac, &app), 0);
	tnapp_add_rpc(app, 0, 0, 1, 5000, 100, 0);
	tnapp_start(app);
	tn_run_until(net, 45 * TN_NS_PER_MS);
	assert_int_equal(tnapp_stats(app)->requests_held, 1);
	assert_int_equal(tn_metric(net, 1, HOMA_M_server_rpcs_overdue), 0);
	homa_rpc_get_ages(tn_homa(net, 1), &ages);
	assert_int_equal(ages.in_service, 1);
	assert_int_equal(ages.overdue, 0);
	tn_run_until(net, 55 * TN_NS_PER_MS);
	assert_int_equal(tn_metric(net, 1, HOMA_M_server_rpcs_overdue), 1);
	assert_int_equal(homa_sock_info(tnapp_server_sock(app, 1), v, 2, NULL),
			 1);
	assert_true(v[0].flags & HOMA_VIEW_OVERDUE);
	homa_rpc_get_ages(tn_homa(net, 1), &ages);
	assert_int_equal(ages.overdue, 1);
	assert_true(ages.oldest_service_ns < 5 * TN_NS_PER_MS);
	/* Ten timeouts later the client still waits, without an error: the
	 * server says BUSY to each RESEND. It is counted once. */
	tn_run_until(net, 1000 * TN_NS_PER_MS);
	r = tnapp_rpc(app, 0);
	assert_int_equal(r->state, TNAPP_SENT);
	busy = tn_metric(net, 0, HOMA_M_recv_busy);
	assert_true(busy >= 150);
	assert_int_equal(tn_metric(net, 0, HOMA_M_rpc_timeouts), 0);
	assert_int_equal(tn_metric(net, 1, HOMA_M_server_rpcs_overdue), 1);
	homa_rpc_get_ages(tn_homa(net, 0), &ages);
	assert_int_equal(ages.client_rpcs, 1);
	/* The client bounds its wait itself (homa(7)): HOMAIOCABORT. */
	probe.app = app;
	probe.id = r->id;
	tn_at(net, tn_now(net), abort_cb, &probe);
	tn_run_for(net, TN_NS_PER_MS);
	assert_int_equal(r->state, TNAPP_FAILED);
	assert_int_equal(r->err, -ETIMEDOUT);
	assert_int_equal(tn_metric(net, 0, HOMA_M_rpc_aborts), 1);
	tnapp_destroy(app);
	tn_destroy(net);
}

/* With overdue_ticks 0 nothing is ever counted. */
static void homa_timer__overdue_off(void **state)
{
	struct tnapp_config ac;
	struct tn_net *net;
	struct tnapp *app;

	(void)state;
	net = make_net(2, 3, 25000000000ull, 0);
	tnapp_config_default(&ac);
	ac.no_server[0] = true;
	ac.service_ns[1] = TNAPP_NEVER;
	assert_int_equal(tnapp_create(net, &ac, &app), 0);
	tnapp_add_rpc(app, 0, 0, 1, 100, 100, 0);
	tnapp_start(app);
	tn_run_until(net, 500 * TN_NS_PER_MS);
	assert_int_equal(tnapp_stats(app)->requests_held, 1);
	assert_int_equal(tn_metric(net, 1, HOMA_M_server_rpcs_overdue), 0);
	tnapp_destroy(app);
	tn_destroy(net);
}

/*
 * Application overload: three clients offer 300 requests in 30 ms to a
 * server that takes 1 ms each (10x what it can serve). Requests wait in
 * its queue up to 300 ms, three times the silence timeout (100 ms); each
 * client's RESENDs are answered BUSY, so every RPC completes, none fails,
 * and each ends within the bound: its place in the queue times 1 ms,
 * plus 5 ms. Nothing is overdue (1 s).
 */
static void homa_overload__slow_server_answers_busy(void **state)
{
	const uint64_t service_ns = TN_NS_PER_MS;
	struct tnapp_config ac;
	struct tn_net *net;
	struct tnapp *app;
	uint64_t last_done = 0;
	uint32_t n;

	(void)state;
	net = make_net(4, 11, 25000000000ull, 1000);
	tnapp_config_default(&ac);
	ac.no_server[0] = ac.no_server[1] = ac.no_server[2] = true;
	ac.max_outstanding = 1000;
	ac.service_ns[3] = service_ns;
	assert_int_equal(tnapp_create(net, &ac, &app), 0);
	for (uint32_t i = 0; i < 100; i++)
		for (int c = 0; c < 3; c++)
			tnapp_add_rpc(app, c, 0, 3, 200 + 997 * (i % 7),
				      100 + 1500 * (i % 5),
				      i * 300 * TN_NS_PER_US);
	tnapp_start(app);
	assert_true(tnapp_run(app, 2000 * TN_NS_PER_MS));
	tnapp_assert_all_ok(app);
	n = tnapp_num_rpcs(app);
	for (uint32_t s = 0; s < n; s++) {
		const struct tnapp_rpc *r = tnapp_rpc(app, s);

		/* Served in arrival order: at most n services, 5 ms slack. */
		assert_true(r->done_ns <= n * service_ns + 5 * TN_NS_PER_MS);
		if (r->done_ns > last_done)
			last_done = r->done_ns;
	}
	/* Really overloaded: the last waited beyond the silence timeout. */
	assert_true(last_done >= 250 * TN_NS_PER_MS);
	assert_true(tn_metric(net, 0, HOMA_M_recv_busy) > 0);
	assert_int_equal(tn_metric(net, 0, HOMA_M_rpc_timeouts) +
				 tn_metric(net, 1, HOMA_M_rpc_timeouts) +
				 tn_metric(net, 2, HOMA_M_rpc_timeouts),
			 0);
	assert_int_equal(tn_metric(net, 3, HOMA_M_server_rpcs_overdue), 0);
	tn_check_clean(net, 100 * TN_NS_PER_MS);
	tnapp_destroy(app);
	tn_destroy(net);
}

/*
 * Network overload: three clients ask one server for responses at twice
 * its 10 Gbit/s uplink for 20 ms (9 in 10 of 100 bytes, 1 in 10 of 500
 * KB: 50 MB offered, 40 ms of link time). The server's pacer sends the
 * shortest remaining first, so every short response arrives within 100
 * us of its request while long ones wait (10x longer on average); every
 * RPC ends, without error, within the bound: half the window plus 1.1x
 * the link time of everything offered plus 10 ms.
 */
static void homa_overload__uplink_short_first(void **state)
{
	const uint64_t link_bps = 10000000000ull, window_ns = 20 * TN_NS_PER_MS;
	uint64_t offered_bytes = 0, short_max = 0, long_sum = 0, long_n = 0;
	struct tnapp_config ac;
	struct tn_net *net;
	struct tnapp *app;
	struct tn_rng rng;
	uint64_t bound_ns;
	uint32_t n;

	(void)state;
	net = make_net(4, 5, link_bps, 1000);
	tnapp_config_default(&ac);
	ac.no_server[0] = ac.no_server[1] = ac.no_server[2] = true;
	ac.max_outstanding = 1000;
	ac.no_verify = true;
	assert_int_equal(tnapp_create(net, &ac, &app), 0);
	tn_rng_seed(&rng, 9);
	/* Mean response 50 KB; 2 x 10 Gbit/s = 2.5 MB/ms: 50 per ms. */
	for (uint64_t t = 0; t < window_ns; t += 60 * TN_NS_PER_US) {
		for (int c = 0; c < 3; c++) {
			uint32_t resp =
				tn_rng_below(&rng, 10) == 0 ? 500000 : 100;

			tnapp_add_rpc(app, c, 0, 3, 100, resp,
				      t + tn_rng_below(&rng, 60000));
			offered_bytes += resp;
		}
	}
	tnapp_start(app);
	bound_ns = window_ns / 2 +
		   offered_bytes * 8 * 1000000000ull / link_bps * 11 / 10 +
		   10 * TN_NS_PER_MS;
	assert_true(offered_bytes * 8 * 1000000000ull / link_bps >=
		    3 * window_ns / 2); /* really more than the link */
	assert_true(tnapp_run(app, 10 * bound_ns));
	tnapp_assert_all_ok(app);
	n = tnapp_num_rpcs(app);
	for (uint32_t s = 0; s < n; s++) {
		const struct tnapp_rpc *r = tnapp_rpc(app, s);
		uint64_t el = r->done_ns - r->sent_ns;

		assert_true(r->done_ns <= bound_ns);
		if (r->resp_bytes == 100) {
			if (el > short_max)
				short_max = el;
		} else {
			long_sum += el;
			long_n++;
		}
	}
	print_message("overload: %llu bytes offered, bound %llu us, short "
		      "max %llu us, long mean %llu us\n",
		      (unsigned long long)offered_bytes,
		      (unsigned long long)(bound_ns / 1000),
		      (unsigned long long)(short_max / 1000),
		      (unsigned long long)(long_sum / long_n / 1000));
	assert_true(short_max <= 100 * TN_NS_PER_US);
	assert_true(long_sum / long_n >= 10 * short_max);
	tn_check_clean(net, 100 * TN_NS_PER_MS);
	tnapp_destroy(app);
	tn_destroy(net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(homa_send__inet6_server_answers_ipv4_clients),
		cmocka_unit_test(homa_timer__unanswered_server_rpc_overdue),
		cmocka_unit_test(homa_timer__overdue_off),
		cmocka_unit_test(homa_overload__slow_server_answers_busy),
		cmocka_unit_test(homa_overload__uplink_short_first),
	};
	if (getenv("TEST_FILTER"))
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
