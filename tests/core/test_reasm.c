/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_reasm.c - unit tests for src/core/reasm.c.
 *
 * One test per rule of spec/protocol.md 3.4 (in order, a new gap, front,
 * back and whole fills, a split, duplicates, overlap at each boundary,
 * range errors), the gap limit, allocation failure, and a randomized test
 * that delivers a message's segments in random order with random
 * duplicates and losses and checks the gap list against a byte-level
 * model after every packet. Memory comes from cmocka's test_malloc, so a
 * leaked gap array fails the test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "reasm.h"

/* Allocator state: fail_after allocations succeed, then all fail
 * (negative = never fail). */
struct test_alloc {
	int fail_after; /* successful allocations left; < 0 = unlimited */
	int allocs;	/* allocations attempted */
};

static void *t_alloc(void *ctx, size_t bytes)
{
	struct test_alloc *ta = ctx;

	ta->allocs++;
	if (ta->fail_after == 0)
		return NULL;
	if (ta->fail_after > 0)
		ta->fail_after--;
	return test_malloc(bytes);
}

static void t_free(void *ctx, void *ptr, size_t bytes)
{
	(void)ctx;
	(void)bytes;
	test_free(ptr);
}

static struct test_alloc talloc;
static struct homa_env env;

static int setup(void **state)
{
	(void)state;
	talloc.fail_after = -1;
	talloc.allocs = 0;
	memset(&env, 0, sizeof(env));
	env.ctx = &talloc;
	env.alloc = t_alloc;
	env.free = t_free;
	return 0;
}

/* Asserts that r holds exactly the gaps given as start, end pairs. */
static void check_gaps(const struct homa_reasm *r, const uint32_t *pairs,
		       uint32_t n)
{
	uint32_t i;

	assert_int_equal(r->num_gaps, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(r->gaps[i].start, pairs[2 * i]);
		assert_int_equal(r->gaps[i].end, pairs[2 * i + 1]);
	}
}

/* Saves r and its gaps so a rejected packet can be checked to change
 * nothing. */
struct snapshot {
	struct homa_reasm r;
	struct homa_gap gaps[HOMA_REASM_MAX_GAPS];
};

static void snap(struct snapshot *s, const struct homa_reasm *r)
{
	s->r = *r;
	if (r->num_gaps)
		memcpy(s->gaps, r->gaps, r->num_gaps * sizeof(*r->gaps));
}

static void assert_unchanged(const struct snapshot *s,
			     const struct homa_reasm *r)
{
	assert_int_equal(r->length, s->r.length);
	assert_int_equal(r->recv_end, s->r.recv_end);
	assert_int_equal(r->bytes_remaining, s->r.bytes_remaining);
	assert_int_equal(r->num_gaps, s->r.num_gaps);
	assert_ptr_equal(r->gaps, s->r.gaps);
	assert_int_equal(r->cap_gaps, s->r.cap_gaps);
	if (r->num_gaps)
		assert_memory_equal(r->gaps, s->gaps,
				    r->num_gaps * sizeof(*r->gaps));
}

/* A 10000-byte message with bytes [0,1000) and [2000,3000) and
 * [5000,6000) received: gaps [1000,2000) and [3000,5000). */
static void make_two_gaps(struct homa_reasm *r)
{
	static const uint32_t want[] = { 1000, 2000, 3000, 5000 };

	homa_reasm_init(r, 10000);
	assert_int_equal(homa_reasm_add(r, &env, 0, 1000), HOMA_REASM_ACCEPTED);
	assert_int_equal(homa_reasm_add(r, &env, 2000, 3000),
			 HOMA_REASM_ACCEPTED);
	assert_int_equal(homa_reasm_add(r, &env, 5000, 6000),
			 HOMA_REASM_ACCEPTED);
	check_gaps(r, want, 2);
	assert_int_equal(r->recv_end, 6000);
	assert_int_equal(r->bytes_remaining, 7000);
}

static void homa_reasm_init__empty(void **state)
{
	struct homa_reasm r;

	(void)state;
	memset(&r, 0xAB, sizeof(r));
	homa_reasm_init(&r, 5000);
	assert_int_equal(r.length, 5000);
	assert_int_equal(r.recv_end, 0);
	assert_int_equal(r.bytes_remaining, 5000);
	assert_null(r.gaps);
	assert_int_equal(r.num_gaps, 0);
	assert_int_equal(r.cap_gaps, 0);
	assert_int_equal(homa_reasm_received(&r), 0);
	assert_int_equal(homa_reasm_gap_bytes(&r), 0);
	homa_reasm_destroy(&r, &env);
}

static void homa_reasm_add__in_order(void **state)
{
	struct homa_reasm r;

	(void)state;
	homa_reasm_init(&r, 3000);
	assert_int_equal(homa_reasm_add(&r, &env, 0, 1400),
			 HOMA_REASM_ACCEPTED);
	assert_int_equal(r.recv_end, 1400);
	assert_int_equal(r.bytes_remaining, 1600);
	assert_int_equal(homa_reasm_add(&r, &env, 1400, 2800),
			 HOMA_REASM_ACCEPTED);
	assert_int_equal(homa_reasm_add(&r, &env, 2800, 3000),
			 HOMA_REASM_ACCEPTED);
	assert_int_equal(r.recv_end, 3000);
	assert_int_equal(r.bytes_remaining, 0);
	assert_int_equal(r.num_gaps, 0);
	assert_int_equal(homa_reasm_received(&r), 3000);
	assert_int_equal(talloc.allocs, 0); /* no gap, no memory */
	homa_reasm_destroy(&r, &env);
}

static void homa_reasm_add__creates_gap(void **state)
{
	static const uint32_t want1[] = { 0, 1000 };
	static const uint32_t want2[] = { 0, 1000, 2000, 4000 };
	struct homa_reasm r;

	(void)state;
	homa_reasm_init(&r, 5000);
	assert_int_equal(homa_reasm_add(&r, &env, 1000, 2000),
			 HOMA_REASM_ACCEPTED);
	check_gaps(&r, want1, 1);
	assert_int_equal(r.recv_end, 2000);
	assert_int_equal(homa_reasm_add(&r, &env, 4000, 5000),
			 HOMA_REASM_ACCEPTED);
	check_gaps(&r, want2, 2);
	assert_int_equal(r.recv_end, 5000);
	assert_int_equal(r.bytes_remaining, 3000);
	assert_int_equal(homa_reasm_gap_bytes(&r), 3000);
	homa_reasm_destroy(&r, &env);
}

static void homa_reasm_add__fill_gap_front(void **state)
{
	static const uint32_t want[] = { 1500, 2000, 3000, 5000 };
	struct homa_reasm r;

	(void)state;
	make_two_gaps(&r);
	assert_int_equal(homa_reasm_add(&r, &env, 1000, 1500),
			 HOMA_REASM_ACCEPTED);
	check_gaps(&r, want, 2);
	assert_int_equal(r.bytes_remaining, 6500);
	assert_int_equal(r.recv_end, 6000);
	homa_reasm_destroy(&r, &env);
}

static void homa_reasm_add__fill_whole_gap_deletes_it(void **state)
{
	static const uint32_t want1[] = { 3000, 5000 };
	static const uint32_t want2[] = { 1000, 2000 };
	struct homa_reasm r;

	(void)state;
	make_two_gaps(&r);
	assert_int_equal(homa_reasm_add(&r, &env, 1000, 2000),
			 HOMA_REASM_ACCEPTED);
	check_gaps(&r, want1, 1);
	assert_int_equal(r.bytes_remaining, 6000);
	homa_reasm_destroy(&r, &env);

	/* The last gap too. */
	make_two_gaps(&r);
	assert_int_equal(homa_reasm_add(&r, &env, 3000, 5000),
			 HOMA_REASM_ACCEPTED);
	check_gaps(&r, want2, 1);
	homa_reasm_destroy(&r, &env);
}

static void homa_reasm_add__fill_gap_back(void **state)
{
	static const uint32_t want[] = { 1000, 2000, 3000, 4200 };
	struct homa_reasm r;

	(void)state;
	make_two_gaps(&r);
	assert_int_equal(homa_reasm_add(&r, &env, 4200, 5000),
			 HOMA_REASM_ACCEPTED);
	check_gaps(&r, want, 2);
	assert_int_equal(r.bytes_remaining, 6200);
	homa_reasm_destroy(&r, &env);
}

static void homa_reasm_add__split_gap(void **state)
{
	static const uint32_t want[] = { 1000, 1200, 1800, 2000, 3000, 5000 };
	struct homa_reasm r;

	(void)state;
	make_two_gaps(&r);
	assert_int_equal(homa_reasm_add(&r, &env, 1200, 1800),
			 HOMA_REASM_ACCEPTED);
	check_gaps(&r, want, 3);
	assert_int_equal(r.bytes_remaining, 6400);
	assert_int_equal(homa_reasm_gap_bytes(&r), 2400);
	homa_reasm_destroy(&r, &env);
}

static void homa_reasm_add__complete_out_of_order(void **state)
{
	struct homa_reasm r;

	(void)state;
	make_two_gaps(&r);
	assert_int_equal(homa_reasm_add(&r, &env, 6000, 10000),
			 HOMA_REASM_ACCEPTED);
	assert_int_equal(homa_reasm_add(&r, &env, 3000, 5000),
			 HOMA_REASM_ACCEPTED);
	assert_int_equal(homa_reasm_add(&r, &env, 1000, 2000),
			 HOMA_REASM_ACCEPTED);
	assert_int_equal(r.bytes_remaining, 0);
	assert_int_equal(r.num_gaps, 0);
	assert_int_equal(r.recv_end, 10000);
	homa_reasm_destroy(&r, &env);
}

static void homa_reasm_add__duplicate(void **state)
{
	struct homa_reasm r;
	struct snapshot s;

	(void)state;
	make_two_gaps(&r);
	snap(&s, &r);
	/* Before the first gap, between gaps, after the last gap. */
	assert_int_equal(homa_reasm_add(&r, &env, 0, 1000),
			 HOMA_REASM_DUPLICATE);
	assert_int_equal(homa_reasm_add(&r, &env, 100, 200),
			 HOMA_REASM_DUPLICATE);
	assert_int_equal(homa_reasm_add(&r, &env, 2000, 3000),
			 HOMA_REASM_DUPLICATE);
	assert_int_equal(homa_reasm_add(&r, &env, 5000, 6000),
			 HOMA_REASM_DUPLICATE);
	assert_int_equal(homa_reasm_add(&r, &env, 5500, 6000),
			 HOMA_REASM_DUPLICATE);
	assert_unchanged(&s, &r);
	homa_reasm_destroy(&r, &env);

	/* No gaps at all. */
	homa_reasm_init(&r, 3000);
	assert_int_equal(homa_reasm_add(&r, &env, 0, 2000),
			 HOMA_REASM_ACCEPTED);
	assert_int_equal(homa_reasm_add(&r, &env, 0, 2000),
			 HOMA_REASM_DUPLICATE);
	assert_int_equal(r.bytes_remaining, 1000);
	homa_reasm_destroy(&r, &env);
}

static void homa_reasm_add__overlap_each_boundary(void **state)
{
	static const uint32_t bad[][2] = {
		{ 900, 1100 },	/* across the first gap's start */
		{ 1900, 2100 }, /* across the first gap's end */
		{ 500, 2500 },	/* covers the whole first gap */
		{ 1500, 3500 }, /* from one gap into the next */
		{ 2500, 3100 }, /* received data into the second gap's start */
		{ 4900, 5100 }, /* across the second gap's end */
		{ 5500, 6500 }, /* across recv_end */
		{ 4000, 7000 }, /* from a gap across recv_end */
		{ 0, 10000 },	/* everything */
	};
	struct homa_reasm r;
	struct snapshot s;
	size_t i;

	(void)state;
	make_two_gaps(&r);
	snap(&s, &r);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(homa_reasm_add(&r, &env, bad[i][0], bad[i][1]),
				 HOMA_REASM_OVERLAP);
		assert_unchanged(&s, &r);
	}
	homa_reasm_destroy(&r, &env);
}

static void homa_reasm_add__range(void **state)
{
	struct homa_reasm r;
	struct snapshot s;

	(void)state;
	make_two_gaps(&r);
	snap(&s, &r);
	assert_int_equal(homa_reasm_add(&r, &env, 6000, 6000),
			 HOMA_REASM_RANGE); /* empty */
	assert_int_equal(homa_reasm_add(&r, &env, 7000, 6000),
			 HOMA_REASM_RANGE); /* reversed */
	assert_int_equal(homa_reasm_add(&r, &env, 9000, 10001),
			 HOMA_REASM_RANGE); /* past the end */
	assert_int_equal(homa_reasm_add(&r, &env, 10000, 10100),
			 HOMA_REASM_RANGE);
	assert_int_equal(homa_reasm_add(&r, &env, 0, UINT32_MAX),
			 HOMA_REASM_RANGE);
	assert_unchanged(&s, &r);
	/* The last byte exactly is fine. */
	assert_int_equal(homa_reasm_add(&r, &env, 9999, 10000),
			 HOMA_REASM_ACCEPTED);
	homa_reasm_destroy(&r, &env);
}

static void homa_reasm_add__array_grows(void **state)
{
	struct homa_reasm r;
	uint32_t i;

	(void)state;
	/* Every other 10-byte block: 100 gaps, several doublings. */
	homa_reasm_init(&r, 2000);
	for (i = 0; i < 100; i++)
		assert_int_equal(
			homa_reasm_add(&r, &env, 20 * i + 10, 20 * i + 20),
			HOMA_REASM_ACCEPTED);
	assert_int_equal(r.num_gaps, 100);
	assert_true(r.cap_gaps >= 100);
	for (i = 0; i < 100; i++) {
		assert_int_equal(r.gaps[i].start, 20 * i);
		assert_int_equal(r.gaps[i].end, 20 * i + 10);
	}
	assert_int_equal(homa_reasm_gap_bytes(&r), 1000);
	assert_int_equal(r.bytes_remaining, 1000);
	homa_reasm_destroy(&r, &env);
	assert_null(r.gaps);
	assert_int_equal(r.cap_gaps, 0);
}

static void homa_reasm_add__gap_limit(void **state)
{
	struct homa_reasm r;
	struct snapshot *s = malloc(sizeof(*s));
	uint32_t i;

	(void)state;
	assert_non_null(s);
	homa_reasm_init(&r, 100000);
	for (i = 0; i < HOMA_REASM_MAX_GAPS; i++)
		assert_int_equal(homa_reasm_add(&r, &env, 2 * i + 1, 2 * i + 2),
				 HOMA_REASM_ACCEPTED);
	assert_int_equal(r.num_gaps, HOMA_REASM_MAX_GAPS);
	assert_int_equal(r.cap_gaps, HOMA_REASM_MAX_GAPS);
	snap(s, &r);
	/* A new gap above recv_end. */
	assert_int_equal(homa_reasm_add(&r, &env, 5000, 5001),
			 HOMA_REASM_GAP_LIMIT);
	assert_unchanged(s, &r);
	/* Extending recv_end without a gap still works. */
	assert_int_equal(homa_reasm_add(&r, &env, 2 * HOMA_REASM_MAX_GAPS,
					2 * HOMA_REASM_MAX_GAPS + 10),
			 HOMA_REASM_ACCEPTED);
	homa_reasm_destroy(&r, &env);

	/* A split of the full list's only wide gap. */

	homa_reasm_init(&r, 100000);
	assert_int_equal(homa_reasm_add(&r, &env, 100, 200),
			 HOMA_REASM_ACCEPTED); /* gap [0,100) */
	for (i = 1; i < HOMA_REASM_MAX_GAPS; i++)
		assert_int_equal(
			homa_reasm_add(&r, &env, 200 + 2 * i - 1, 200 + 2 * i),
			HOMA_REASM_ACCEPTED);
	assert_int_equal(r.num_gaps, HOMA_REASM_MAX_GAPS);
	snap(s, &r);
	assert_int_equal(homa_reasm_add(&r, &env, 40, 60),
			 HOMA_REASM_GAP_LIMIT);
	assert_unchanged(s, &r);
	/* Front and back fills need no new gap and still work. */
	assert_int_equal(homa_reasm_add(&r, &env, 0, 40), HOMA_REASM_ACCEPTED);
	assert_int_equal(homa_reasm_add(&r, &env, 60, 100),
			 HOMA_REASM_ACCEPTED);
	assert_int_equal(homa_reasm_add(&r, &env, 40, 60), HOMA_REASM_ACCEPTED);
	assert_int_equal(r.num_gaps, HOMA_REASM_MAX_GAPS - 1);
	homa_reasm_destroy(&r, &env);
	free(s);
}

static void homa_reasm_add__nomem(void **state)
{
	struct homa_reasm r;
	struct snapshot s;
	uint32_t i;

	(void)state;
	/* The first gap needs memory. */
	homa_reasm_init(&r, 10000);
	talloc.fail_after = 0;
	assert_int_equal(homa_reasm_add(&r, &env, 100, 200), HOMA_REASM_NOMEM);
	assert_int_equal(r.recv_end, 0);
	assert_int_equal(r.bytes_remaining, 10000);
	assert_null(r.gaps);
	/* A growth fails: 4 gaps fit the first array, the 5th needs more. */
	talloc.fail_after = 1;
	for (i = 0; i < 4; i++)
		assert_int_equal(homa_reasm_add(&r, &env, 1000 * i + 500,
						1000 * i + 1000),
				 HOMA_REASM_ACCEPTED);
	assert_int_equal(r.num_gaps, 4);
	snap(&s, &r);
	assert_int_equal(homa_reasm_add(&r, &env, 4500, 5000),
			 HOMA_REASM_NOMEM);
	assert_unchanged(&s, &r);
	/* A split that needs growth fails the same way. */
	assert_int_equal(homa_reasm_add(&r, &env, 100, 200), HOMA_REASM_NOMEM);
	assert_unchanged(&s, &r);
	talloc.fail_after = -1;
	assert_int_equal(homa_reasm_add(&r, &env, 100, 200),
			 HOMA_REASM_ACCEPTED);
	assert_int_equal(r.num_gaps, 5);
	assert_int_equal(r.gaps[0].end, 100);
	assert_int_equal(r.gaps[1].start, 200);
	homa_reasm_destroy(&r, &env);
}

/* xorshift64*: a deterministic generator for the randomized test. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 33) % n;
}

/* Checks r against have[] (1 = byte received): recv_end, counts, and that
 * the gaps are exactly the maximal runs of missing bytes below recv_end. */
static void check_model(const struct homa_reasm *r, const uint8_t *have,
			uint32_t length)
{
	uint32_t got = 0, end = 0, g = 0, i;

	for (i = 0; i < length; i++) {
		if (have[i]) {
			got++;
			end = i + 1;
		}
	}
	assert_int_equal(r->recv_end, end);
	assert_int_equal(r->bytes_remaining, length - got);
	for (i = 0; i < end;) {
		uint32_t start;

		if (have[i]) {
			i++;
			continue;
		}
		start = i;
		while (i < end && !have[i])
			i++;
		assert_true(g < r->num_gaps);
		assert_int_equal(r->gaps[g].start, start);
		assert_int_equal(r->gaps[g].end, i);
		g++;
	}
	assert_int_equal(r->num_gaps, g);
}

static void homa_reasm_add__random_order(void **state)
{
	enum { MAX_LEN = 40000, SEG = 1400, MAX_SEGS = MAX_LEN / SEG + 1 };
	static uint8_t have[MAX_LEN];
	static uint8_t sent[MAX_SEGS];
	static uint32_t order[4 * MAX_SEGS];
	int iter;

	(void)state;
	for (iter = 0; iter < 200; iter++) {
		uint32_t length = 1 + rnd(MAX_LEN);
		uint32_t nsegs = (length + SEG - 1) / SEG;
		uint32_t n = 0, i, covered = 0;
		bool lossy = iter % 3 == 2;
		struct homa_reasm r;

		/* Every segment (or, if lossy, a random subset) once, plus
		 * random duplicates, shuffled. */
		for (i = 0; i < nsegs; i++)
			if (!lossy || rnd(10) != 0)
				order[n++] = i;
		for (i = rnd(nsegs + 1); i > 0; i--)
			order[n++] = rnd(nsegs);
		for (i = n; i > 1; i--) {
			uint32_t j = rnd(i), t = order[i - 1];

			order[i - 1] = order[j];
			order[j] = t;
		}
		memset(have, 0, length);
		memset(sent, 0, nsegs);
		homa_reasm_init(&r, length);
		for (i = 0; i < n; i++) {
			uint32_t seg = order[i], s = seg * SEG;
			uint32_t e = s + SEG < length ? s + SEG : length;
			int res = homa_reasm_add(&r, &env, s, e);

			if (sent[seg]) {
				assert_int_equal(res, HOMA_REASM_DUPLICATE);
			} else {
				assert_int_equal(res, HOMA_REASM_ACCEPTED);
				sent[seg] = 1;
				memset(have + s, 1, e - s);
				covered += e - s;
			}
			check_model(&r, have, length);
		}
		if (covered == length) {
			assert_int_equal(r.bytes_remaining, 0);
			assert_int_equal(r.num_gaps, 0);
			assert_int_equal(r.recv_end, length);
		} else {
			assert_true(r.bytes_remaining > 0);
			assert_true(r.num_gaps > 0 || r.recv_end < length);
		}
		homa_reasm_destroy(&r, &env);
	}
}

/* The inline fast path of homa_reasm_add and the full function agree on
 * every packet, in order or not, in range or not. */
static void homa_reasm_add__inline_same_as_slow(void **state)
{
	uint32_t seed = 12345;

	(void)state;
	for (int round = 0; round < 50; round++) {
		struct homa_reasm a, b;
		uint32_t length = 1000 + (uint32_t)round * 977;

		homa_reasm_init(&a, length);
		homa_reasm_init(&b, length);
		for (int i = 0; i < 200; i++) {
			uint32_t start, end;

			seed = seed * 1103515245u + 12345u;
			/* Mostly the next in order, else anywhere (even
			 * empty or past the end). */
			start = (seed >> 8) % 4 ? a.recv_end
						: (seed >> 12) % (length + 10);
			end = start + (seed >> 16) % 700;
			assert_int_equal(
				homa_reasm_add(&a, &env, start, end),
				homa_reasm_add_slow(&b, &env, start, end));
			assert_int_equal(a.recv_end, b.recv_end);
			assert_int_equal(a.bytes_remaining, b.bytes_remaining);
			assert_int_equal(a.num_gaps, b.num_gaps);
		}
		homa_reasm_destroy(&a, &env);
		homa_reasm_destroy(&b, &env);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(homa_reasm_init__empty, setup),
		cmocka_unit_test_setup(homa_reasm_add__in_order, setup),
		cmocka_unit_test_setup(homa_reasm_add__creates_gap, setup),
		cmocka_unit_test_setup(homa_reasm_add__fill_gap_front, setup),
		cmocka_unit_test_setup(
			homa_reasm_add__fill_whole_gap_deletes_it, setup),
		cmocka_unit_test_setup(homa_reasm_add__fill_gap_back, setup),
		cmocka_unit_test_setup(homa_reasm_add__split_gap, setup),
		cmocka_unit_test_setup(homa_reasm_add__complete_out_of_order,
				       setup),
		cmocka_unit_test_setup(homa_reasm_add__duplicate, setup),
		cmocka_unit_test_setup(homa_reasm_add__overlap_each_boundary,
				       setup),
		cmocka_unit_test_setup(homa_reasm_add__range, setup),
		cmocka_unit_test_setup(homa_reasm_add__array_grows, setup),
		cmocka_unit_test_setup(homa_reasm_add__gap_limit, setup),
		cmocka_unit_test_setup(homa_reasm_add__nomem, setup),
		cmocka_unit_test_setup(homa_reasm_add__random_order, setup),
		cmocka_unit_test_setup(homa_reasm_add__inline_same_as_slow,
				       setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
