/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_cutoffs.c - unit tests for src/core/cutoffs.c.
 *
 * Histogram bucketing at every boundary, the normalization rules and
 * max_sched_prio, the sender's pick with the receiver defaults and the
 * per-peer defaults, and the automatic computation: too few messages, an
 * all-small workload, a bimodal workload, unchanged deciles, a change of
 * num_priorities, and a workload shift that moves the deciles.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "cutoffs.h"

#define MAX_MSG HOMA_DEFAULT_MAX_MESSAGE

static const int64_t default_cutoffs[HOMA_MAX_PRIORITIES] = {
	0, 0, 0, 0, 1000000, 15000, 2800, 200
};

/* Index of the bucket homa_hist_record put length in (-1 = large). */
static int bucket_of(uint32_t length)
{
	struct homa_hist h;
	int i;

	memset(&h, 0, sizeof(h));
	homa_hist_record(&h, length);
	if (h.large_count) {
		assert_int_equal(h.large_count, 1);
		assert_int_equal(h.large_bytes, length);
		return -1;
	}
	for (i = 0; i < HOMA_HIST_BUCKETS; i++)
		if (h.bytes[i])
			return i;
	return -2;
}

static void homa_hist_bucket_max__values(void **state)
{
	int i;

	(void)state;
	assert_int_equal(HOMA_HIST_BUCKETS, 64 + 124);
	assert_int_equal(homa_hist_bucket_max(-1), 0);
	assert_int_equal(homa_hist_bucket_max(0), 64);
	assert_int_equal(homa_hist_bucket_max(1), 128);
	assert_int_equal(homa_hist_bucket_max(63), 4096);
	assert_int_equal(homa_hist_bucket_max(64), 5120);
	assert_int_equal(homa_hist_bucket_max(65), 6144);
	assert_int_equal(homa_hist_bucket_max(HOMA_HIST_BUCKETS - 1), 131072);
	assert_int_equal(homa_hist_bucket_max(HOMA_HIST_BUCKETS),
			 HOMA_CUTOFF_INFINITE);
	for (i = 1; i < HOMA_HIST_BUCKETS; i++)
		assert_true(homa_hist_bucket_max(i) >
			    homa_hist_bucket_max(i - 1));
}

static void homa_hist_record__boundaries(void **state)
{
	struct homa_hist h;
	int i;

	(void)state;
	assert_int_equal(bucket_of(1), 0);
	assert_int_equal(bucket_of(64), 0);
	assert_int_equal(bucket_of(65), 1);
	assert_int_equal(bucket_of(128), 1);
	assert_int_equal(bucket_of(4095), 63);
	assert_int_equal(bucket_of(4096), 63);
	assert_int_equal(bucket_of(4097), 64);
	assert_int_equal(bucket_of(5120), 64);
	assert_int_equal(bucket_of(5121), 65);
	assert_int_equal(bucket_of(131071), HOMA_HIST_BUCKETS - 1);
	assert_int_equal(bucket_of(131072), HOMA_HIST_BUCKETS - 1);
	assert_int_equal(bucket_of(131073), -1);
	assert_int_equal(bucket_of(1000000), -1);
	/* Every length lands in the bucket whose range holds it. */
	for (i = 1; i <= 131072; i += 37) {
		int b = bucket_of((uint32_t)i);

		assert_true((uint32_t)i <= homa_hist_bucket_max(b));
		assert_true((uint32_t)i > homa_hist_bucket_max(b - 1));
	}
	/* Bytes accumulate. */
	memset(&h, 0, sizeof(h));
	homa_hist_record(&h, 100);
	homa_hist_record(&h, 120);
	homa_hist_record(&h, 200000);
	homa_hist_record(&h, 300000);
	assert_int_equal(h.bytes[1], 220);
	assert_int_equal(h.large_count, 2);
	assert_int_equal(h.large_bytes, 500000);
}

static void homa_cutoffs_normalize__defaults(void **state)
{
	int64_t c[HOMA_MAX_PRIORITIES];

	(void)state;
	memcpy(c, default_cutoffs, sizeof(c));
	assert_int_equal(homa_cutoffs_normalize(c, 8, MAX_MSG), 3);
	assert_int_equal(c[0], HOMA_CUTOFF_INFINITE);
	assert_int_equal(c[4], 1000000);
	assert_int_equal(c[7], 200);
}

static void homa_cutoffs_normalize__fewer_priorities(void **state)
{
	static const int64_t six[HOMA_MAX_PRIORITIES] = {
		0, 1000000, 1000000, 30000, 5000, 500, 77, 88
	};
	int64_t c[HOMA_MAX_PRIORITIES];
	int i;

	(void)state;
	/* num_priorities 4 with the defaults: levels 4..7 go, so only
	 * entry 0 qualifies. */
	memcpy(c, default_cutoffs, sizeof(c));
	assert_int_equal(homa_cutoffs_normalize(c, 4, MAX_MSG), 0);
	assert_int_equal(c[0], HOMA_CUTOFF_INFINITE);
	for (i = 1; i < HOMA_MAX_PRIORITIES; i++)
		assert_int_equal(c[i], 0);

	/* Six levels: entries 6 and 7 zeroed; highest >= max is 2. */
	memcpy(c, six, sizeof(c));
	assert_int_equal(homa_cutoffs_normalize(c, 6, MAX_MSG), 1);
	assert_int_equal(c[0], HOMA_CUTOFF_INFINITE);
	assert_int_equal(c[5], 500);
	assert_int_equal(c[6], 0);
	assert_int_equal(c[7], 0);

	/* One level; and out-of-range counts are clamped. */
	memcpy(c, default_cutoffs, sizeof(c));
	assert_int_equal(homa_cutoffs_normalize(c, 1, MAX_MSG), 0);
	assert_int_equal(c[0], HOMA_CUTOFF_INFINITE);
	assert_int_equal(c[1], 0);
	memcpy(c, default_cutoffs, sizeof(c));
	assert_int_equal(homa_cutoffs_normalize(c, 99, MAX_MSG), 3);
	assert_int_equal(c[7], 200);
}

static void homa_cutoffs_normalize__max_sched_prio(void **state)
{
	int64_t c[HOMA_MAX_PRIORITIES];

	(void)state;
	/* Only entry 1 reaches max_message: max_sched_prio 0. */
	memcpy(c, default_cutoffs, sizeof(c));
	c[4] = 999999;
	c[1] = 1000000;
	assert_int_equal(homa_cutoffs_normalize(c, 8, MAX_MSG), 0);
	/* Every entry is unscheduled except 0: also 0. */
	memcpy(c, default_cutoffs, sizeof(c));
	c[4] = 40000;
	assert_int_equal(homa_cutoffs_normalize(c, 8, MAX_MSG), 0);
	/* The highest qualifying entry wins, whatever lies below. */
	memcpy(c, default_cutoffs, sizeof(c));
	c[6] = 2000000;
	assert_int_equal(homa_cutoffs_normalize(c, 8, MAX_MSG), 5);
	/* The threshold is max_message. */
	memcpy(c, default_cutoffs, sizeof(c));
	assert_int_equal(homa_cutoffs_normalize(c, 8, 15000), 4);
}

static void homa_cutoffs_pick__defaults(void **state)
{
	uint32_t c[HOMA_MAX_PRIORITIES];
	int64_t n[HOMA_MAX_PRIORITIES];
	int i;

	(void)state;
	memcpy(n, default_cutoffs, sizeof(n));
	homa_cutoffs_normalize(n, 8, MAX_MSG);
	for (i = 0; i < HOMA_MAX_PRIORITIES; i++)
		c[i] = (uint32_t)n[i];
	assert_int_equal(homa_cutoffs_pick(c, 8, 1), 7);
	assert_int_equal(homa_cutoffs_pick(c, 8, 100), 7);
	assert_int_equal(homa_cutoffs_pick(c, 8, 200), 7);
	assert_int_equal(homa_cutoffs_pick(c, 8, 201), 6);
	assert_int_equal(homa_cutoffs_pick(c, 8, 2000), 6);
	assert_int_equal(homa_cutoffs_pick(c, 8, 10000), 5);
	assert_int_equal(homa_cutoffs_pick(c, 8, 50000), 4);
	assert_int_equal(homa_cutoffs_pick(c, 8, 1000000), 4);
	assert_int_equal(homa_cutoffs_pick(c, 8, 30000000), 0);
	/* Fewer levels: the scan starts lower. */
	assert_int_equal(homa_cutoffs_pick(c, 6, 100), 5);
	assert_int_equal(homa_cutoffs_pick(c, 6, 50000), 4);
}

static void homa_cutoffs_pick__peer_defaults(void **state)
{
	uint32_t c[HOMA_MAX_PRIORITIES] = { 0 };

	(void)state;
	/* Before any CUTOFFS: [7] = 0, [6] = INT_MAX, others 0. */
	c[6] = HOMA_CUTOFF_INFINITE;
	assert_int_equal(homa_cutoffs_pick(c, 8, 1), 6);
	assert_int_equal(homa_cutoffs_pick(c, 8, 1000000), 6);
	/* With fewer levels nothing matches: fall back to 0. */
	assert_int_equal(homa_cutoffs_pick(c, 4, 100), 0);
	/* With entry 0 set to INT_MAX, as recommended, also 0. */
	c[0] = HOMA_CUTOFF_INFINITE;
	assert_int_equal(homa_cutoffs_pick(c, 4, 100), 0);
}

/* Adds count messages of length bytes to h. */
static void add_msgs(struct homa_hist *h, uint32_t length, int count)
{
	int i;

	for (i = 0; i < count; i++)
		homa_hist_record(h, length);
}

static void homa_cutoffs_compute__too_few_messages(void **state)
{
	struct homa_cutoffs_auto st;
	struct homa_hist h;
	int64_t c[HOMA_MAX_PRIORITIES], before[HOMA_MAX_PRIORITIES];

	(void)state;
	memset(&st, 0, sizeof(st));
	memset(&h, 0, sizeof(h));
	memcpy(c, default_cutoffs, sizeof(c));
	memcpy(before, c, sizeof(c));
	/* Nothing at all. */
	assert_int_equal(homa_cutoffs_compute(&st, &h, 8, 40000, 0, MAX_MSG, c),
			 0);
	add_msgs(&h, 1000, 5000);
	assert_int_equal(
		homa_cutoffs_compute(&st, &h, 8, 40000, 10000, MAX_MSG, c), 0);
	assert_memory_equal(c, before, sizeof(c));
	assert_int_equal(st.num_priorities, 0);
	/* The count accumulates until the next recomputation. */
	add_msgs(&h, 1000, 5000);
	assert_int_equal(
		homa_cutoffs_compute(&st, &h, 8, 40000, 10000, MAX_MSG, c), 1);
	assert_int_equal(st.num_priorities, 8);
	assert_memory_equal(&st.last, &h, sizeof(h));
}

/* Applies normalize to c and copies it to u for pick. */
static int apply(int64_t c[HOMA_MAX_PRIORITIES], uint32_t u[8], int n)
{
	int prio = homa_cutoffs_normalize(c, n, MAX_MSG);
	int i;

	for (i = 0; i < HOMA_MAX_PRIORITIES; i++)
		u[i] = (uint32_t)c[i];
	return prio;
}

static void homa_cutoffs_compute__all_small(void **state)
{
	struct homa_cutoffs_auto st;
	struct homa_hist h;
	int64_t c[HOMA_MAX_PRIORITIES];
	uint32_t u[HOMA_MAX_PRIORITIES];
	uint32_t len;
	int i;

	(void)state;
	memset(&st, 0, sizeof(st));
	memset(&h, 0, sizeof(h));
	/* 100 messages each of 100, 200, ..., 20000 bytes: all below
	 * unsched_bytes, so every byte is unscheduled. */
	for (len = 100; len <= 20000; len += 100)
		add_msgs(&h, len, 100);
	memcpy(c, default_cutoffs, sizeof(c));
	assert_int_equal(
		homa_cutoffs_compute(&st, &h, 8, 40000, 10000, MAX_MSG, c), 1);
	/* k = 8 levels; quota rounding closes six of them (7..2) in
	 * increasing size, and 1 and 0 take the rest. */
	for (i = 7; i > 1; i--)
		assert_true(c[i] < c[i - 1]);
	assert_true(c[7] > 4096);
	assert_true(c[2] <= 20480);
	assert_int_equal(c[1], MAX_MSG);
	assert_int_equal(c[0], MAX_MSG);
	assert_int_equal(apply(c, u, 8), 0); /* all levels unscheduled */
	assert_int_equal(homa_cutoffs_pick(u, 8, 100), 7);
	assert_int_equal(homa_cutoffs_pick(u, 8, 20000), 1);
	/* Levels share the bytes: the median byte is near level 4. */
	assert_true(homa_cutoffs_pick(u, 8, 14000) >= 3);
	assert_true(homa_cutoffs_pick(u, 8, 14000) <= 4);
}

static void homa_cutoffs_compute__bimodal(void **state)
{
	struct homa_cutoffs_auto st;
	struct homa_hist h;
	int64_t c[HOMA_MAX_PRIORITIES];
	uint32_t u[HOMA_MAX_PRIORITIES];
	int prio;

	(void)state;
	memset(&st, 0, sizeof(st));
	memset(&h, 0, sizeof(h));
	/* 50000 messages of 1000 bytes, 1000 of 100000 bytes. */
	add_msgs(&h, 1000, 50000);
	add_msgs(&h, 100000, 1000);
	memcpy(c, default_cutoffs, sizeof(c));
	assert_int_equal(
		homa_cutoffs_compute(&st, &h, 8, 40000, 10000, MAX_MSG, c), 1);
	/* U = 50e6 + 40e6, T = 150e6: k = 5 levels; the small mode fills
	 * the highest one and the cutoff falls between the modes. */
	assert_true(c[7] >= 1000);
	assert_true(c[7] < 100000);
	assert_int_equal(c[6], MAX_MSG);
	prio = apply(c, u, 8);
	assert_int_equal(prio, 5);
	assert_int_equal(homa_cutoffs_pick(u, 8, 1000), 7);
	assert_int_equal(homa_cutoffs_pick(u, 8, 100000), 6);
	assert_int_equal(st.deciles[0], 1024);
	assert_int_equal(st.deciles[8], 1024); /* 98% are small */
}

static void homa_cutoffs_compute__unchanged_deciles(void **state)
{
	struct homa_cutoffs_auto st;
	struct homa_hist h;
	int64_t c[HOMA_MAX_PRIORITIES], before[HOMA_MAX_PRIORITIES];
	uint32_t len;

	(void)state;
	memset(&st, 0, sizeof(st));
	memset(&h, 0, sizeof(h));
	for (len = 100; len <= 20000; len += 100)
		add_msgs(&h, len, 100);
	memcpy(c, default_cutoffs, sizeof(c));
	assert_int_equal(
		homa_cutoffs_compute(&st, &h, 8, 40000, 10000, MAX_MSG, c), 1);
	/* The same workload again: nothing moves, nothing is written. */
	for (len = 100; len <= 20000; len += 100)
		add_msgs(&h, len, 100);
	memcpy(before, c, sizeof(c));
	c[3] = 12345;
	before[3] = 12345;
	assert_int_equal(
		homa_cutoffs_compute(&st, &h, 8, 40000, 10000, MAX_MSG, c), 0);
	assert_memory_equal(c, before, sizeof(c));
	/* A slightly different mix still does not move 1.0 in total. */
	add_msgs(&h, 3000, 2000);
	assert_int_equal(
		homa_cutoffs_compute(&st, &h, 8, 40000, 10000, MAX_MSG, c), 0);
}

static void homa_cutoffs_compute__num_priorities_change(void **state)
{
	struct homa_cutoffs_auto st;
	struct homa_hist h;
	int64_t c[HOMA_MAX_PRIORITIES];
	uint32_t len;
	int i;

	(void)state;
	memset(&st, 0, sizeof(st));
	memset(&h, 0, sizeof(h));
	for (len = 100; len <= 20000; len += 100)
		add_msgs(&h, len, 100);
	memcpy(c, default_cutoffs, sizeof(c));
	assert_int_equal(
		homa_cutoffs_compute(&st, &h, 8, 40000, 10000, MAX_MSG, c), 1);
	for (len = 100; len <= 20000; len += 100)
		add_msgs(&h, len, 100);
	assert_int_equal(
		homa_cutoffs_compute(&st, &h, 4, 40000, 10000, MAX_MSG, c), 1);
	assert_int_equal(st.num_priorities, 4);
	for (i = 4; i < HOMA_MAX_PRIORITIES; i++)
		assert_int_equal(c[i], 0);
	for (i = 3; i > 1; i--)
		assert_true(c[i] < c[i - 1]);
	assert_int_equal(c[0], MAX_MSG);
}

static void homa_cutoffs_compute__workload_shift(void **state)
{
	struct homa_cutoffs_auto st;
	struct homa_hist h;
	int64_t c[HOMA_MAX_PRIORITIES];
	uint32_t old7;

	(void)state;
	memset(&st, 0, sizeof(st));
	memset(&h, 0, sizeof(h));
	add_msgs(&h, 1000, 50000);
	add_msgs(&h, 100000, 1000);
	assert_int_equal(
		homa_cutoffs_compute(&st, &h, 8, 40000, 10000, MAX_MSG, c), 1);
	old7 = (uint32_t)c[7];
	/* Only the difference since the last recomputation counts: now
	 * 20000 messages of 10000 bytes and 1000 of 100000. */
	add_msgs(&h, 10000, 20000);
	add_msgs(&h, 100000, 1000);
	assert_int_equal(
		homa_cutoffs_compute(&st, &h, 8, 40000, 10000, MAX_MSG, c), 1);
	assert_true(c[7] >= 10000);
	assert_true((uint32_t)c[7] > old7);
	assert_int_equal(st.deciles[0], 10240);
}

static void homa_cutoffs_compute__large_messages(void **state)
{
	struct homa_cutoffs_auto st;
	struct homa_hist h;
	int64_t c[HOMA_MAX_PRIORITIES];

	(void)state;
	memset(&st, 0, sizeof(st));
	memset(&h, 0, sizeof(h));
	/* Only large messages: their deciles sit at max_message and each
	 * sends 40000 unscheduled bytes of 500000: k = 1. */
	add_msgs(&h, 500000, 20000);
	assert_int_equal(
		homa_cutoffs_compute(&st, &h, 8, 40000, 10000, MAX_MSG, c), 1);
	assert_int_equal(st.deciles[0], MAX_MSG);
	assert_int_equal(st.deciles[8], MAX_MSG);
	assert_int_equal(c[7], MAX_MSG);
	assert_int_equal(c[0], MAX_MSG);
	assert_int_equal(homa_cutoffs_normalize(c, 8, MAX_MSG), 6);
}

static void homa_cutoffs_compute__quota_exact(void **state)
{
	struct homa_cutoffs_auto st;
	struct homa_hist h;
	int64_t c[HOMA_MAX_PRIORITIES];
	uint32_t len;

	(void)state;
	memset(&st, 0, sizeof(st));
	memset(&h, 0, sizeof(h));
	/* Small: 100 each of 100, 200, ..., 20000 bytes: T_s = U_s = 201e6.
	 * Large: 1000 of 1e6 bytes: 1e9 bytes, 1000 x 40000 = 40e6
	 * unscheduled. U = 241e6, T = 1201e6: k = floor(8 U / T + 0.5) = 2,
	 * quota = 1 + U / 2 = 120500001. The cumulative small bytes first
	 * reach it with the 15500-byte messages (bucket 15361..16384), and
	 * the next quota would pass U: one level closes, at 16384. */
	for (len = 100; len <= 20000; len += 100)
		add_msgs(&h, len, 100);
	add_msgs(&h, 1000000, 1000);
	assert_int_equal(
		homa_cutoffs_compute(&st, &h, 8, 40000, 10000, MAX_MSG, c), 1);
	assert_int_equal(c[7], 16384);
	assert_int_equal(c[6], MAX_MSG);
	assert_int_equal(c[0], MAX_MSG);
	assert_int_equal(homa_cutoffs_normalize(c, 8, MAX_MSG), 5);
	assert_int_equal(st.deciles[8], 19456); /* large ones are 5% */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(homa_hist_bucket_max__values),
		cmocka_unit_test(homa_hist_record__boundaries),
		cmocka_unit_test(homa_cutoffs_normalize__defaults),
		cmocka_unit_test(homa_cutoffs_normalize__fewer_priorities),
		cmocka_unit_test(homa_cutoffs_normalize__max_sched_prio),
		cmocka_unit_test(homa_cutoffs_pick__defaults),
		cmocka_unit_test(homa_cutoffs_pick__peer_defaults),
		cmocka_unit_test(homa_cutoffs_compute__too_few_messages),
		cmocka_unit_test(homa_cutoffs_compute__all_small),
		cmocka_unit_test(homa_cutoffs_compute__bimodal),
		cmocka_unit_test(homa_cutoffs_compute__unchanged_deciles),
		cmocka_unit_test(homa_cutoffs_compute__num_priorities_change),
		cmocka_unit_test(homa_cutoffs_compute__workload_shift),
		cmocka_unit_test(homa_cutoffs_compute__large_messages),
		cmocka_unit_test(homa_cutoffs_compute__quota_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
