/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_core_faults.c - host failures and resource exhaustion on the test
 * network: a server killed in the middle of a stream (its clients' RPCs
 * end with ETIMEDOUT about timeout_ticks ticks later, the other server's
 * RPCs are unaffected), a server restarted with a fresh instance (requests
 * it never saw are restarted through RPC_UNKNOWN and complete exactly
 * once), a client restarted (the server's RPCs waiting for its acks end),
 * and a server whose application keeps its bpages until the pool is full
 * (senders stall, then complete once the bpages come back).
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
#include "tnwork.h"

static struct tn_net *make_net(int hosts, uint64_t seed)
{
	struct tn_config c;
	struct tn_net *net;

	tn_config_default(&c);
	c.num_hosts = hosts;
	c.seed = seed;
	assert_int_equal(tn_create(&c, &net), 0);
	return net;
}

static void kill_cb(void *arg, struct tn_net *net)
{
	tn_host_kill(net, (int)(intptr_t)arg);
}

static void restart_cb(void *arg, struct tn_net *net)
{
	tn_host_restart(net, (int)(intptr_t)arg);
}

/* Hosts 2 and 3 run two client sockets each: socket 0 talks to server 0,
 * socket 1 to server 1. Server 0 dies at 2 ms. */
static void homa_timer__killed_server_times_out(void **state)
{
	const uint64_t kill_ns = 2 * TN_NS_PER_MS;
	const struct tnapp_rpc *r;
	const struct homa_config *hc;
	struct tnapp_config ac;
	struct tn_net *net;
	struct tnapp *app;
	struct tn_rng wl;
	uint64_t tick_ns, ref, timeouts = 0, metric = 0;
	int64_t lo, hi, el, min_el = INT64_MAX, max_el = 0;
	uint32_t i, n;
	int c, ix;

	(void)state;
	net = make_net(4, 21);
	tnapp_config_default(&ac);
	ac.region_bytes = 16ull << 20;
	ac.clients_per_host = 2;
	assert_int_equal(tnapp_create(net, &ac, &app), 0);
	tn_rng_seed(&wl, 5);
	/* A steady stream: each socket starts an RPC every 100 us. */
	for (i = 0; i < 30; i++)
		for (c = 2; c <= 3; c++)
			for (ix = 0; ix <= 1; ix++)
				tnapp_add_rpc(app, c, ix, ix,
					      tn_size_loguniform(&wl, 300000),
					      tn_size_loguniform(&wl, 300000),
					      i * 100 * TN_NS_PER_US);
	tn_at(net, kill_ns, kill_cb, (void *)(intptr_t)0);
	tnapp_start(app);
	assert_true(tnapp_run(app, 10000 * TN_NS_PER_MS));

	hc = homa_get_config(tn_homa(net, 2));
	tick_ns = (uint64_t)hc->tick_us * TN_NS_PER_US;
	lo = (hc->timeout_ticks - hc->resend_ticks - 2) * (int64_t)tick_ns;
	hi = (hc->timeout_ticks + 2) * (int64_t)tick_ns;
	n = tnapp_num_rpcs(app);
	for (i = 0; i < n; i++) {
		r = tnapp_rpc(app, i);
		if (r->server_host == 1 || r->state == TNAPP_DONE) {
			assert_int_equal(r->state, TNAPP_DONE);
			assert_int_equal(r->deliveries, 1);
			continue;
		}
		if (r->state != TNAPP_FAILED || r->err != -ETIMEDOUT)
			fail_msg("RPC %u to the dead server: state %d err %d",
				 i, r->state, r->err);
		ref = r->sent_ns > kill_ns ? r->sent_ns : kill_ns;
		el = (int64_t)(r->done_ns - ref);
		if (el < lo || el > hi)
			fail_msg("RPC %u timed out %lld ns after %llu, window "
				 "[%lld, %lld]",
				 i, (long long)el, (unsigned long long)ref,
				 (long long)lo, (long long)hi);
		min_el = el < min_el ? el : min_el;
		max_el = el > max_el ? el : max_el;
		timeouts++;
	}
	for (c = 2; c <= 3; c++)
		metric += tn_metric(net, c, HOMA_M_rpc_timeouts);
	print_message("%llu of %u RPCs timed out, %lld..%lld ns after the "
		      "kill or their send\n",
		      (unsigned long long)timeouts, n, (long long)min_el,
		      (long long)max_el);
	assert_true(timeouts >= 8); /* K = 4 in flight on 2 sockets */
	assert_int_equal(metric, timeouts);
	tn_check_clean(net, 50 * TN_NS_PER_MS);
	tnapp_destroy(app);
	tn_destroy(net);
}

/* Drops everything addressed to host 0 while *arg is true. */
static bool block_host0(void *arg, int src, int dst, const uint8_t *pkt,
			size_t len)
{
	(void)src;
	(void)pkt;
	(void)len;
	return !(*(bool *)arg && dst == 0);
}

static void set_cb(void *arg, struct tn_net *net)
{
	(void)net;
	*(bool *)arg = true;
}

static void clear_cb(void *arg, struct tn_net *net)
{
	(void)net;
	*(bool *)arg = false;
}

/*
 * Server 0 is cut off at 1 ms, killed at 3 ms, restarted at 5 ms and
 * reachable again at 10 ms. Responses fit in the unscheduled bytes, so
 * the old server finished every request it had completely before the
 * kill; the others (partial or never seen) must reach the new instance
 * through RESEND -> RPC_UNKNOWN -> restart, well before the 100 ms
 * timeout, and be executed exactly once.
 */
static void homa_rpc_unknown__restarted_server_completes(void **state)
{
	const struct tnapp_rpc *r;
	struct tnapp_config ac;
	struct tn_net *net;
	struct tnapp *app;
	struct tn_rng wl;
	uint64_t restarts = 0, old = 0, fresh = 0;
	bool blocked = false;
	uint32_t i;
	int c;

	(void)state;
	net = make_net(4, 22);
	tnapp_config_default(&ac);
	ac.region_bytes = 32ull << 20;
	assert_int_equal(tnapp_create(net, &ac, &app), 0);
	tn_set_filter(net, block_host0, &blocked);
	tn_rng_seed(&wl, 6);
	for (i = 0; i < 40; i++)
		for (c = 1; c <= 3; c++)
			tnapp_add_rpc(app, c, 0, 0,
				      tn_size_loguniform(&wl, 500000),
				      tn_size_loguniform(&wl, 30000),
				      i * 100 * TN_NS_PER_US);
	tn_at(net, 1 * TN_NS_PER_MS, set_cb, &blocked);
	tn_at(net, 3 * TN_NS_PER_MS, kill_cb, (void *)(intptr_t)0);
	tn_at(net, 5 * TN_NS_PER_MS, restart_cb, (void *)(intptr_t)0);
	tn_at(net, 10 * TN_NS_PER_MS, clear_cb, &blocked);
	tnapp_start(app);
	assert_true(tnapp_run(app, 10000 * TN_NS_PER_MS));
	tnapp_assert_all_ok(app);
	for (i = 0; i < tnapp_num_rpcs(app); i++) {
		r = tnapp_rpc(app, i);
		if (r->delivered_incarnation == 0)
			old++;
		else
			fresh++;
	}
	for (c = 1; c <= 3; c++)
		restarts += tn_metric(net, c, HOMA_M_client_restarts);
	print_message("%llu requests served before the kill, %llu after; "
		      "%llu client restarts\n",
		      (unsigned long long)old, (unsigned long long)fresh,
		      (unsigned long long)restarts);
	assert_true(old > 0);
	assert_true(fresh > 0);
	assert_true(restarts > 0);
	assert_int_equal(tn_host_incarnation(net, 0), 2);
	tn_check_clean(net, 50 * TN_NS_PER_MS);
	tn_set_filter(net, NULL, NULL);
	tnapp_destroy(app);
	tn_destroy(net);
}

/*
 * Client host 1 dies at 1 ms with RPCs in flight and comes back at 3 ms.
 * Server 0's RPCs for it must still end: complete responses wait for an
 * ack that the new instance gives (NEED_ACK for an unknown RPC is answered
 * with ACK); incomplete requests time out or meet RPC_UNKNOWN; responses
 * larger than the unscheduled bytes wait for grants from a client that
 * forgot them and must not stay forever either.
 */
static void homa_need_ack__restarted_client_acks(void **state)
{
	struct tnapp_config ac;
	struct tn_net *net;
	struct tnapp *app;
	struct tn_rng wl;
	uint32_t i;

	(void)state;
	net = make_net(3, 23);
	tnapp_config_default(&ac);
	ac.region_bytes = 16ull << 20;
	assert_int_equal(tnapp_create(net, &ac, &app), 0);
	tn_rng_seed(&wl, 7);
	for (i = 0; i < 60; i++)
		tnapp_add_rpc(app, 1 + (int)(i & 1), 0, 0,
			      tn_size_loguniform(&wl, 300000),
			      tn_size_loguniform(&wl, 400000),
			      (i / 2) * 50 * TN_NS_PER_US);
	tn_at(net, 1 * TN_NS_PER_MS, kill_cb, (void *)(intptr_t)1);
	tn_at(net, 3 * TN_NS_PER_MS, restart_cb, (void *)(intptr_t)1);
	tnapp_start(app);
	assert_true(tnapp_run(app, 10000 * TN_NS_PER_MS));
	assert_true(tnapp_stats(app)->abandoned > 0);
	assert_int_equal(tnapp_stats(app)->failed, 0);
	for (i = 0; i < tnapp_num_rpcs(app); i++)
		if (tnapp_rpc(app, i)->client_host == 2)
			assert_int_equal(tnapp_rpc(app, i)->state, TNAPP_DONE);
	/* Server RPCs of the dead client end by RESEND timeouts (100 ms)
	 * or by the new instance's ACK / RPC_UNKNOWN. */
	tn_check_clean(net, 200 * TN_NS_PER_MS);
	tnapp_destroy(app);
	tn_destroy(net);
}

struct pool_watch {
	struct tnapp *app; /* application */
	uint64_t stalls;   /* pool_stalls of host 0 at release */
	uint64_t done;	   /* RPCs done at release */
	uint32_t held;	   /* bpage offsets held at release */
	uint64_t avail;	   /* free pool bytes at release */
};

static void release_cb(void *arg, struct tn_net *net)
{
	struct pool_watch *pw = arg;

	pw->stalls = tn_metric(net, 0, HOMA_M_pool_stalls);
	pw->done = tnapp_stats(pw->app)->done;
	pw->held = tnapp_held_bpages(pw->app, 0);
	assert_true(homa_sock_info(tnapp_server_sock(pw->app, 0), NULL, 0,
				   &pw->avail) >= 0);
	tnapp_release_bpages(pw->app, 0);
}

/* Server 0 has a 4 MiB pool (64 bpages) and keeps every bpage it is
 * given until 40 ms; 90 requests of 200,000 bytes need ~360. */
static void homa_pool__exhaustion_stalls_then_completes(void **state)
{
	struct tnapp_config ac;
	struct pool_watch pw;
	struct tn_net *net;
	struct tnapp *app;
	uint32_t i;
	int c;

	(void)state;
	net = make_net(4, 24);
	tnapp_config_default(&ac);
	ac.region_bytes = 16ull << 20;
	ac.host_region_bytes[0] = 4ull << 20;
	assert_int_equal(tnapp_create(net, &ac, &app), 0);
	tnapp_hold_bpages(app, 0, true);
	for (i = 0; i < 30; i++)
		for (c = 1; c <= 3; c++)
			tnapp_add_rpc(app, c, 0, 0, 200000, 100, 0);
	memset(&pw, 0, sizeof(pw));
	pw.app = app;
	tn_at(net, 40 * TN_NS_PER_MS, release_cb, &pw);
	tnapp_start(app);
	assert_true(tnapp_run(app, 10000 * TN_NS_PER_MS));
	tnapp_assert_all_ok(app);
	print_message(
		"at release: %u bpage offsets held, %llu bytes free, "
		"%llu RPCs done, %llu stalls; resumes %llu\n",
		pw.held, (unsigned long long)pw.avail,
		(unsigned long long)pw.done, (unsigned long long)pw.stalls,
		(unsigned long long)tn_metric(net, 0, HOMA_M_pool_resumes));
	assert_true(pw.stalls > 0);
	assert_true(pw.done < 90);
	assert_int_equal(pw.held, 4 * pw.done); /* 3 pages and a tail */
	assert_true(pw.avail < 200000);		/* no room for another */
	assert_true(tn_metric(net, 0, HOMA_M_pool_resumes) > 0);
	assert_int_equal(tnapp_stats(app)->failed, 0);
	tn_check_clean(net, 50 * TN_NS_PER_MS);
	tnapp_destroy(app);
	tn_destroy(net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(homa_timer__killed_server_times_out),
		cmocka_unit_test(homa_rpc_unknown__restarted_server_completes),
		cmocka_unit_test(homa_need_ack__restarted_client_acks),
		cmocka_unit_test(homa_pool__exhaustion_stalls_then_completes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
