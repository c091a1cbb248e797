/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_core_stress.c - the protocol core under load on the test network:
 * thousands of RPCs among 4 hosts, sizes from 1 byte to 1,000,000 drawn
 * from the W3 and W4 workloads (data/workloads, capped at 1,000,000), a
 * log-uniform spread and boundary sizes, with 0 %, 1 % and 10 % loss, 1 %
 * duplication and reordering. Every RPC must complete, every response be
 * byte-exact, every request reach its server application exactly once,
 * and afterwards no host may hold RPCs, buffers or queued bytes.
 *
 * Also here: SRPT (a short message arriving while long ones are being
 * granted completes first) and the grant limits (granted-but-unreceived
 * bytes and the number of messages holding grants, checked after every
 * event on the receiver through homa_sock_info).
 *
 * Sizes per case (each case 5,000 RPCs, so >= 5,000 per loss level): see
 * the table in main(). Each case prints its simulated and wall time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testnet.h"
#include "tnapp.h"
#include "tnwork.h"

#define MAX_MSG 1000000u

struct stress_case {
	uint64_t seed;	   /* network and workload seed */
	uint32_t num_rpcs; /* RPCs in the case */
	uint32_t loss_ppm; /* faults */
	uint32_t dup_ppm;
	uint32_t reorder_ppm;
	uint64_t dup_window_ns; /* duplicates lag by up to this */
};

static struct tn_dist w3, w4;

static int load_dists(void **state)
{
	char path[4096];

	(void)state;
	tn_dist_load(&w3, tn_data_path(__FILE__, "w3.txt", path, sizeof(path)),
		     MAX_MSG);
	tn_dist_load(&w4, tn_data_path(__FILE__, "w4.txt", path, sizeof(path)),
		     MAX_MSG);
	return 0;
}

static int free_dists(void **state)
{
	(void)state;
	tn_dist_free(&w3);
	tn_dist_free(&w4);
	return 0;
}

/* pick_size() - 45 % W3, 45 % W4, 5 % log-uniform, 5 % boundary sizes. */
static uint32_t pick_size(struct tn_rng *r)
{
	uint64_t x = tn_rng_below(r, 100);

	if (x < 45)
		return tn_dist_sample(&w3, r);
	if (x < 90)
		return tn_dist_sample(&w4, r);
	if (x < 95)
		return tn_size_loguniform(r, MAX_MSG);
	return tn_size_edge(r);
}

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Spec 1.10: every control packet goes out at the highest level. */
static void prio_tap(void *arg, enum tn_tap_kind kind,
		     const struct tn_pkt_info *info)
{
	uint64_t *control = arg;

	if (kind != TN_TAP_SENT || info->type == HOMA_PKT_DATA)
		return;
	(*control)++;
	if (info->priority != HOMA_MAX_PRIORITIES - 1)
		fail_msg("host %d sent %s at priority %u", info->src,
			 homa_wire_type_name(info->type), info->priority);
}

static void run_stress(const struct stress_case *sc)
{
	uint64_t control = 0;
	const struct tn_counters *ctr;
	struct tnapp_config ac;
	struct tn_config c;
	struct tn_net *net;
	struct tnapp *app;
	struct tn_rng wl;
	double t0 = wall_s();
	uint64_t bytes = 0;
	uint32_t i, req, resp;
	int client;

	tn_config_default(&c);
	c.seed = sc->seed;
	c.loss_ppm = sc->loss_ppm;
	c.dup_ppm = sc->dup_ppm;
	c.reorder_ppm = sc->reorder_ppm;
	c.reorder_window_ns = 20 * TN_NS_PER_US;
	c.dup_window_ns = sc->dup_window_ns;
	assert_int_equal(tn_create(&c, &net), 0);
	tn_set_tap(net, prio_tap, &control);
	tnapp_config_default(&ac);
	ac.clients_per_host = 2;
	ac.max_outstanding = 4;
	assert_int_equal(tnapp_create(net, &ac, &app), 0);
	tn_rng_seed(&wl, sc->seed * 1000003);
	for (i = 0; i < sc->num_rpcs; i++) {
		client = (int)tn_rng_below(&wl, 4);
		req = pick_size(&wl);
		resp = pick_size(&wl);
		bytes += req + resp;
		tnapp_add_rpc(app, client, (int)tn_rng_below(&wl, 2),
			      (client + 1 + (int)tn_rng_below(&wl, 3)) % 4, req,
			      resp, 0);
	}
	tnapp_start(app);
	if (!tnapp_run(app, 600000 * TN_NS_PER_MS))
		fail_msg("%llu of %u RPCs unfinished at %llu ns",
			 (unsigned long long)(sc->num_rpcs -
					      tnapp_stats(app)->done -
					      tnapp_stats(app)->failed),
			 sc->num_rpcs, (unsigned long long)tn_now(net));
	tnapp_assert_all_ok(app);
	assert_int_equal(tnapp_stats(app)->bytes_verified, bytes);
	assert_true(control > 0);
	ctr = tn_counters(net);
	print_message(
		"%u RPCs, %.1f MB, %.1f ms simulated, %.2f s wall; "
		"packets %llu sent, %llu lost, %llu dup, %llu reordered\n",
		sc->num_rpcs, (double)bytes / 1e6, (double)tn_now(net) / 1e6,
		wall_s() - t0, (unsigned long long)ctr->sent,
		(unsigned long long)ctr->lost,
		(unsigned long long)ctr->duplicated,
		(unsigned long long)ctr->reordered);
	tn_check_clean(net, 50 * TN_NS_PER_MS);
	tnapp_destroy(app);
	tn_destroy(net);
}

static void homa_rpc__stress_loss_0pct(void **state)
{
	const struct stress_case sc = { .seed = 101, .num_rpcs = 5000 };

	(void)state;
	run_stress(&sc);
}

static void homa_rpc__stress_loss_1pct(void **state)
{
	const struct stress_case sc = { .seed = 102,
					.num_rpcs = 5000,
					.loss_ppm = 10000 };

	(void)state;
	run_stress(&sc);
}

static void homa_rpc__stress_loss_10pct(void **state)
{
	const struct stress_case sc = { .seed = 103,
					.num_rpcs = 5000,
					.loss_ppm = 100000 };

	(void)state;
	run_stress(&sc);
}

static void homa_rpc__stress_dup_1pct(void **state)
{
	const struct stress_case sc = { .seed = 104,
					.num_rpcs = 5000,
					.dup_ppm = 10000,
					.dup_window_ns = 1500 };

	(void)state;
	run_stress(&sc);
}

static void homa_rpc__stress_reorder(void **state)
{
	const struct stress_case sc = { .seed = 105,
					.num_rpcs = 5000,
					.reorder_ppm = 50000 };

	(void)state;
	run_stress(&sc);
}

/* Everything at once: loss, duplication and reordering. */
static void homa_rpc__stress_all_faults(void **state)
{
	const struct stress_case sc = { .seed = 106,
					.num_rpcs = 2000,
					.loss_ppm = 10000,
					.dup_ppm = 10000,
					.reorder_ppm = 10000,
					.dup_window_ns = 1500 };

	(void)state;
	run_stress(&sc);
}

/* ---- SRPT and grant limits ---- */

#define NUM_VIEWS 256

/* Checked after every event on the receiver. */
struct grant_check {
	struct tnapp *app;	/* application (for the server socket) */
	int host;		/* receiver */
	int64_t max_incoming;	/* receiver's config */
	int64_t fifo_increment; /* 0 when FIFO grants are off */
	int64_t unsched_bytes;	/* senders' config */
	int64_t max_overcommit; /* receiver's config */
	bool check_count;	/* also bound the number of messages */
	int64_t peak_bytes;	/* largest sum seen */
	int peak_count;		/* most messages holding grants */
	uint64_t checks;	/* steps checked */
	struct homa_rpc_view views[NUM_VIEWS];
};

/*
 * grant_step() - scheduled credit outstanding on the receiver: for every
 * incoming message, bytes granted beyond both what has arrived and the
 * unscheduled bytes the sender could send unasked. Their sum may exceed
 * max_incoming only by one FIFO grant; with FIFO grants off and one
 * message per sender, at most max_overcommit messages hold such credit.
 */
static void grant_step(void *arg, struct tn_net *net, int host)
{
	struct grant_check *gc = arg;
	struct homa_sock *hsk = tnapp_server_sock(gc->app, host);
	int64_t sum = 0, len, received, base;
	const struct homa_rpc_view *v;
	uint64_t avail;
	int i, n, count = 0;

	(void)net;
	if (host != gc->host || !hsk)
		return;
	n = homa_sock_info(hsk, gc->views, NUM_VIEWS, &avail);
	assert_true(n >= 0 && n <= NUM_VIEWS);
	for (i = 0; i < n; i++) {
		v = &gc->views[i];
		if (v->rx_length <= 0)
			continue;
		len = v->rx_length;
		received = len - v->rx_remaining;
		base = len < gc->unsched_bytes ? len : gc->unsched_bytes;
		if (received > base)
			base = received;
		assert_true(v->rx_granted <= len);
		if (v->rx_granted > base) {
			sum += v->rx_granted - base;
			count++;
		}
	}
	gc->checks++;
	if (sum > gc->peak_bytes)
		gc->peak_bytes = sum;
	if (count > gc->peak_count)
		gc->peak_count = count;
	if (sum > gc->max_incoming + gc->fifo_increment)
		fail_msg("%lld granted-unreceived bytes > %lld + %lld at %llu "
			 "ns",
			 (long long)sum, (long long)gc->max_incoming,
			 (long long)gc->fifo_increment,
			 (unsigned long long)tn_now(net));
	if (gc->check_count && count > gc->max_overcommit)
		fail_msg("%d messages hold grants > max_overcommit %lld at "
			 "%llu ns",
			 count, (long long)gc->max_overcommit,
			 (unsigned long long)tn_now(net));
}

/* Host 0 receives 1,000,000-byte requests from hosts 1..3 (granted one
 * at a time) and, 50 us later, a 200,000-byte one from host 4. */
static void homa_grant__srpt_short_first(void **state)
{
	struct homa_config rx;
	struct tnapp_config ac;
	struct tn_config c;
	struct tn_net *net;
	struct tnapp *app;
	uint32_t longs[3], shrt, i;

	(void)state;
	tn_config_default(&c);
	c.num_hosts = 5;
	rx = c.homa;
	rx.max_overcommit = 1;
	c.host_homa[0] = &rx;
	assert_int_equal(tn_create(&c, &net), 0);
	tnapp_config_default(&ac);
	ac.region_bytes = 16ull << 20;
	assert_int_equal(tnapp_create(net, &ac, &app), 0);
	for (i = 0; i < 3; i++)
		longs[i] =
			tnapp_add_rpc(app, (int)i + 1, 0, 0, MAX_MSG, 100, 0);
	shrt = tnapp_add_rpc(app, 4, 0, 0, 200000, 100, 50 * TN_NS_PER_US);
	tnapp_start(app);
	assert_true(tnapp_run(app, 1000 * TN_NS_PER_MS));
	tnapp_assert_all_ok(app);
	for (i = 0; i < 3; i++) {
		print_message(
			"long %u done at %llu ns\n", i,
			(unsigned long long)tnapp_rpc(app, longs[i])->done_ns);
		assert_true(tnapp_rpc(app, shrt)->done_ns <
			    tnapp_rpc(app, longs[i])->done_ns);
	}
	print_message("short done at %llu ns\n",
		      (unsigned long long)tnapp_rpc(app, shrt)->done_ns);
	tn_check_clean(net, 50 * TN_NS_PER_MS);
	tnapp_destroy(app);
	tn_destroy(net);
}

/*
 * run_grant_limits() - 4 senders send requests to host 0, whose config
 * allows 2 messages in the active set and 150,000 bytes incoming.
 * staggered: one 500,000-byte message per sender per round, senders 30 us
 * apart, rounds 2 ms apart, FIFO grants off. A later message then never
 * outranks an active one (it has more bytes left) and every sender has
 * one message, so nothing is ever evicted with credit outstanding (spec
 * 4.5) and at most max_overcommit messages may hold scheduled credit.
 * Otherwise: random sizes, K = 3 per sender, FIFO grants on; evictions
 * make the message count meaningless, so only the bytes are bounded.
 */
static void run_grant_limits(bool staggered)
{
	struct grant_check *gc = calloc(1, sizeof(*gc));
	struct homa_config rx;
	struct tnapp_config ac;
	struct tn_config c;
	struct tn_net *net;
	struct tnapp *app;
	struct tn_rng wl;
	uint32_t len;
	uint64_t at;
	int i, s;

	assert_non_null(gc);
	tn_config_default(&c);
	c.num_hosts = 5;
	rx = c.homa;
	rx.max_overcommit = 2;
	rx.max_incoming = 150000;
	if (staggered)
		rx.grant_fifo_fraction = 0;
	c.host_homa[0] = &rx;
	assert_int_equal(tn_create(&c, &net), 0);
	tnapp_config_default(&ac);
	ac.max_outstanding = staggered ? 1 : 3;
	assert_int_equal(tnapp_create(net, &ac, &app), 0);
	gc->app = app;
	gc->max_incoming = rx.max_incoming;
	gc->fifo_increment = staggered ? 0 : rx.fifo_grant_increment;
	gc->unsched_bytes = c.homa.unsched_bytes;
	gc->max_overcommit = rx.max_overcommit;
	gc->check_count = staggered;
	tn_set_step_hook(net, grant_step, gc);
	tn_rng_seed(&wl, 77);
	for (i = 0; i < 15; i++) {
		for (s = 1; s <= 4; s++) {
			len = 100000 + (uint32_t)tn_rng_below(&wl, 900001);
			at = 0;
			if (staggered) {
				len = 500000;
				at = (uint64_t)i * 2 * TN_NS_PER_MS +
				     (uint64_t)s * 30 * TN_NS_PER_US;
			}
			tnapp_add_rpc(app, s, 0, 0, len, 100, at);
		}
	}
	tnapp_start(app);
	assert_true(tnapp_run(app, 5000 * TN_NS_PER_MS));
	tnapp_assert_all_ok(app);
	print_message("%llu checks; peak %lld granted-unreceived bytes, peak "
		      "%d messages holding grants\n",
		      (unsigned long long)gc->checks, (long long)gc->peak_bytes,
		      gc->peak_count);
	assert_true(gc->checks > 1000);
	assert_true(gc->peak_count >= 2); /* the limits were reached */
	tn_set_step_hook(net, NULL, NULL);
	tn_check_clean(net, 50 * TN_NS_PER_MS);
	tnapp_destroy(app);
	tn_destroy(net);
	free(gc);
}

static void homa_grant__limits_staggered(void **state)
{
	(void)state;
	run_grant_limits(true);
}

static void homa_grant__incoming_bounded_with_fifo(void **state)
{
	(void)state;
	run_grant_limits(false);
}

int main(void)
{
	/* 5,000 RPCs per loss level (0 %, 1 %, 10 %), 5,000 with 1 %
	 * duplication, 5,000 with 5 % reordering, 2,000 with all three. */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(homa_rpc__stress_loss_0pct),
		cmocka_unit_test(homa_rpc__stress_loss_1pct),
		cmocka_unit_test(homa_rpc__stress_loss_10pct),
		cmocka_unit_test(homa_rpc__stress_dup_1pct),
		cmocka_unit_test(homa_rpc__stress_reorder),
		cmocka_unit_test(homa_rpc__stress_all_faults),
		cmocka_unit_test(homa_grant__srpt_short_first),
		cmocka_unit_test(homa_grant__limits_staggered),
		cmocka_unit_test(homa_grant__incoming_bounded_with_fifo),
	};

	return cmocka_run_group_tests(tests, load_dists, free_dists);
}
