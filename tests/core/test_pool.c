/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_pool.c - unit tests for src/core/pool.c.
 *
 * Checks the layout of messages of several lengths (whole pages only, a
 * tail only, 1,000,000 bytes), tail sharing between messages, restarting
 * an owned page at offset 0, giving up a shared page, lease expiry, the
 * search window that keeps the footprint low, all-or-nothing exhaustion
 * and release, the available-bytes count and init's argument checks. The
 * pool never touches the region's bytes, so a static 4 MiB region serves
 * every test; reference counts come from cmocka's test_malloc, so a
 * leaked pool fails the test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "pool.h"

#define PAGE	     HOMA_BPAGE_BYTES
#define REGION_PAGES 64
#define LEASE_NS     10000000ull /* 10000 us */

static _Alignas(4096) uint8_t region[REGION_PAGES * PAGE];

/* Allocator: fails when fail is set. */
static bool fail_alloc;

static void *t_alloc(void *ctx, size_t bytes)
{
	(void)ctx;
	if (fail_alloc)
		return NULL;
	return test_malloc(bytes);
}

static void t_free(void *ctx, void *ptr, size_t bytes)
{
	(void)ctx;
	(void)bytes;
	test_free(ptr);
}

static struct homa_env env;

static int setup(void **state)
{
	(void)state;
	fail_alloc = false;
	memset(&env, 0, sizeof(env));
	env.alloc = t_alloc;
	env.free = t_free;
	return 0;
}

/* A pool of pages bpages over the start of region. */
static void make_pool(struct homa_pool *pool, uint32_t pages)
{
	assert_int_equal(homa_pool_init(pool, &env, region,
					(uint64_t)pages * PAGE, 0, LEASE_NS),
			 0);
	assert_int_equal(pool->num_bpages, pages);
}

static uint32_t page_of(uint32_t offset)
{
	return offset >> HOMA_CORE_BPAGE_SHIFT;
}

static void homa_pool_init__ok(void **state)
{
	struct homa_pool pool;
	uint32_t i;

	(void)state;
	memset(&pool, 0xAB, sizeof(pool));
	/* Rounded down to whole pages. */
	assert_int_equal(homa_pool_init(&pool, &env, region,
					10 * (uint64_t)PAGE + 1000,
					10 * (uint64_t)PAGE, 77),
			 0);
	assert_ptr_equal(pool.region, region);
	assert_int_equal(pool.num_bpages, 10);
	assert_int_equal(pool.free_bpages, 10);
	assert_int_equal(pool.tail_page, -1);
	assert_int_equal(pool.lease_ns, 77);
	for (i = 0; i < 10; i++)
		assert_int_equal(pool.refs[i], 0);
	assert_int_equal(homa_pool_used_pages(&pool), 0);
	assert_int_equal(homa_pool_avail_bytes(&pool), 10 * (uint64_t)PAGE);
	homa_pool_destroy(&pool, &env);
	assert_null(pool.refs);
}

static void homa_pool_init__4gib(void **state)
{
	/* Never dereferenced: the pool only does arithmetic on it. */
	uint8_t *fake = (uint8_t *)(uintptr_t)0x10000000u;
	struct homa_pool pool;

	(void)state;
	assert_int_equal(homa_pool_init(&pool, &env, fake, 1ull << 32, 0, 1),
			 0);
	assert_int_equal(pool.num_bpages, 65536);
	homa_pool_destroy(&pool, &env);
}

static void homa_pool_init__errors(void **state)
{
	struct homa_pool pool, before;
	uint64_t four_gib = 1ull << 32;

	(void)state;
	memset(&pool, 0xAB, sizeof(pool));
	memcpy(&before, &pool, sizeof(pool));
	assert_int_equal(homa_pool_init(&pool, &env, NULL, 4 * PAGE, 0, 1),
			 -EINVAL);
	assert_int_equal(
		homa_pool_init(&pool, &env, region + 8, 4 * PAGE, 0, 1),
		-EINVAL);
	assert_int_equal(
		homa_pool_init(&pool, &env, region + 2048, 4 * PAGE, 0, 1),
		-EINVAL);
	assert_int_equal(
		homa_pool_init(&pool, &env, region, 4 * PAGE, 4 * PAGE + 1, 1),
		-EINVAL);
	assert_int_equal(
		homa_pool_init(&pool, &env, region, four_gib + 1, 0, 1),
		-EINVAL);
	assert_int_equal(homa_pool_init(&pool, &env, region, PAGE - 1, 0, 1),
			 -EINVAL); /* no whole page */
	fail_alloc = true;
	assert_int_equal(homa_pool_init(&pool, &env, region, 4 * PAGE, 0, 1),
			 -ENOMEM);
	assert_memory_equal(&pool, &before, sizeof(pool));
	/* 4096-aligned but not page-aligned is fine. */
	fail_alloc = false;
	assert_int_equal(
		homa_pool_init(&pool, &env, region + 4096, 4 * PAGE, 0, 1), 0);
	assert_int_equal(pool.num_bpages, 4);
	homa_pool_destroy(&pool, &env);
}

static void homa_pool_pages_needed__values(void **state)
{
	(void)state;
	assert_int_equal(homa_pool_pages_needed(0), 0);
	assert_int_equal(homa_pool_pages_needed(1), 1);
	assert_int_equal(homa_pool_pages_needed(PAGE - 1), 1);
	assert_int_equal(homa_pool_pages_needed(PAGE), 1);
	assert_int_equal(homa_pool_pages_needed(PAGE + 1), 2);
	assert_int_equal(homa_pool_pages_needed(1000000), 16);
	assert_int_equal(homa_pool_pages_needed(UINT32_MAX), 65536);
}

static void homa_pool_alloc_msg__whole_pages_only(void **state)
{
	struct homa_pool pool;
	uint32_t offs[4], i, j;

	(void)state;
	make_pool(&pool, 16);
	assert_int_equal(homa_pool_alloc_msg(&pool, 3 * PAGE, 0, offs), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(offs[i] & (PAGE - 1), 0);
		assert_true(page_of(offs[i]) < 16);
		assert_int_equal(pool.refs[page_of(offs[i])], 1);
		for (j = 0; j < i; j++)
			assert_int_not_equal(offs[i], offs[j]);
	}
	assert_int_equal(pool.tail_page, -1); /* no tail, no owned page */
	assert_int_equal(homa_pool_used_pages(&pool), 3);
	assert_int_equal(homa_pool_release(&pool, offs, 3), 0);
	assert_int_equal(homa_pool_used_pages(&pool), 0);
	homa_pool_destroy(&pool, &env);
}

static void homa_pool_alloc_msg__tail_only(void **state)
{
	struct homa_pool pool;
	uint32_t offs[1];

	(void)state;
	make_pool(&pool, 16);
	assert_int_equal(homa_pool_alloc_msg(&pool, 1000, 5, offs), 0);
	assert_int_equal(offs[0] & (PAGE - 1), 0);
	assert_int_equal((int32_t)page_of(offs[0]), pool.tail_page);
	assert_int_equal(pool.refs[pool.tail_page], 2); /* owner + message */
	assert_int_equal(pool.tail_offset, 1000);
	assert_int_equal(pool.tail_lease_end_ns, 5 + LEASE_NS);
	assert_int_equal(homa_pool_used_pages(&pool), 1);
	assert_ptr_equal(homa_pool_addr(&pool, offs, 999),
			 region + offs[0] + 999);
	assert_int_equal(homa_pool_release(&pool, offs, 1), 0);
	assert_int_equal(pool.refs[pool.tail_page], 1);
	assert_int_equal(homa_pool_used_pages(&pool), 1); /* still owned */
	homa_pool_destroy(&pool, &env);
}

static void homa_pool_alloc_msg__one_million(void **state)
{
	struct homa_pool pool;
	uint32_t offs[16], i;
	uint32_t tail = 1000000 - 15 * PAGE;

	(void)state;
	assert_int_equal(tail, 16960);
	make_pool(&pool, 32);
	assert_int_equal(homa_pool_pages_needed(1000000), 16);
	assert_int_equal(homa_pool_alloc_msg(&pool, 1000000, 0, offs), 0);
	for (i = 0; i < 15; i++) {
		assert_int_equal(offs[i] & (PAGE - 1), 0);
		assert_int_equal(pool.refs[page_of(offs[i])], 1);
		assert_int_not_equal((int32_t)page_of(offs[i]), pool.tail_page);
	}
	assert_int_equal((int32_t)page_of(offs[15]), pool.tail_page);
	assert_int_equal(pool.tail_offset, tail);
	assert_int_equal(homa_pool_used_pages(&pool), 16);
	/* Byte addresses follow the layout. */
	assert_ptr_equal(homa_pool_addr(&pool, offs, 0), region + offs[0]);
	assert_ptr_equal(homa_pool_addr(&pool, offs, 3 * PAGE + 7),
			 region + offs[3] + 7);
	assert_ptr_equal(homa_pool_addr(&pool, offs, 999999),
			 region + offs[15] + tail - 1);
	/* A second such message puts its tail after the first's. */
	{
		uint32_t offs2[16];

		assert_int_equal(homa_pool_alloc_msg(&pool, 1000000, 0, offs2),
				 0);
		assert_int_equal(offs2[15], offs[15] + tail);
		assert_int_equal(homa_pool_used_pages(&pool), 31);
		assert_int_equal(homa_pool_release(&pool, offs2, 16), 0);
	}
	assert_int_equal(homa_pool_release(&pool, offs, 16), 0);
	assert_int_equal(homa_pool_used_pages(&pool), 1);
	homa_pool_destroy(&pool, &env);
}

static void homa_pool_alloc_msg__tail_sharing(void **state)
{
	struct homa_pool pool;
	uint32_t a[1], b[1], c[2];

	(void)state;
	make_pool(&pool, 16);
	assert_int_equal(homa_pool_alloc_msg(&pool, 1000, 0, a), 0);
	assert_int_equal(homa_pool_alloc_msg(&pool, 3000, 0, b), 0);
	assert_int_equal(homa_pool_alloc_msg(&pool, PAGE + 500, 0, c), 0);
	assert_int_equal(b[0], a[0] + 1000);
	assert_int_equal(c[1], a[0] + 4000);
	assert_int_not_equal(page_of(c[0]), page_of(a[0]));
	assert_int_equal(pool.refs[page_of(a[0])], 4);
	assert_int_equal(pool.tail_offset, 4500);
	assert_int_equal(homa_pool_used_pages(&pool), 2);
	/* Release in any order, mixing messages. */
	assert_int_equal(homa_pool_release(&pool, b, 1), 0);
	{
		uint32_t mix[3] = { c[1], a[0], c[0] };

		assert_int_equal(homa_pool_release(&pool, mix, 3), 0);
	}
	assert_int_equal(pool.refs[page_of(a[0])], 1);
	assert_int_equal(homa_pool_used_pages(&pool), 1);
	homa_pool_destroy(&pool, &env);
}

/* A tail that fills the owned page to its last byte is appended (the
 * inline path of pool.h); one byte more no longer fits, and the next tail
 * goes to a fresh page while messages still use the old one. */
static void homa_pool_alloc_msg__append_to_the_last_byte(void **state)
{
	struct homa_pool pool;
	uint32_t a[1], b[1], c[1];

	(void)state;
	make_pool(&pool, 16);
	assert_int_equal(homa_pool_alloc_msg(&pool, 1000, 0, a), 0);
	assert_int_equal(homa_pool_alloc_msg(&pool, PAGE - 1000, 7, b), 0);
	assert_int_equal(b[0], a[0] + 1000);
	assert_int_equal(pool.tail_offset, PAGE);
	assert_int_equal(pool.tail_lease_end_ns, 7 + LEASE_NS);
	assert_int_equal(pool.refs[page_of(a[0])], 3);
	assert_int_equal(homa_pool_used_pages(&pool), 1);
	assert_int_equal(homa_pool_alloc_msg(&pool, 1, 9, c), 0);
	assert_int_not_equal(page_of(c[0]), page_of(a[0]));
	assert_int_equal(c[0] & (PAGE - 1), 0);
	assert_int_equal((int32_t)page_of(c[0]), pool.tail_page);
	assert_int_equal(pool.tail_offset, 1);
	assert_int_equal(pool.refs[page_of(a[0])], 2); /* owner gone */
	assert_int_equal(homa_pool_used_pages(&pool), 2);
	/* One offset at a time (pool.h's inline release while the page
	 * stays in use): the page is freed with its last message, and an
	 * offset with no reference left fails, also on the owned page. */
	assert_int_equal(homa_pool_release(&pool, a, 1), 0);
	assert_int_equal(pool.refs[page_of(a[0])], 1);
	assert_int_equal(homa_pool_used_pages(&pool), 2);
	assert_int_equal(homa_pool_release(&pool, b, 1), 0);
	assert_int_equal(pool.refs[page_of(b[0])], 0);
	assert_int_equal(homa_pool_used_pages(&pool), 1);
	assert_int_equal(homa_pool_release(&pool, b, 1), -EINVAL);
	assert_int_equal(homa_pool_release(&pool, c, 1), 0);
	assert_int_equal(pool.refs[page_of(c[0])], 1); /* the owner's */
	assert_int_equal(homa_pool_release(&pool, c, 1), -EINVAL);
	assert_int_equal(homa_pool_used_pages(&pool), 1);
	homa_pool_destroy(&pool, &env);
}

static void homa_pool_alloc_msg__restart_at_zero(void **state)
{
	struct homa_pool pool;
	uint32_t a[1], b[1];

	(void)state;
	make_pool(&pool, 16);
	assert_int_equal(homa_pool_alloc_msg(&pool, 40000, 0, a), 0);
	assert_int_equal(homa_pool_release(&pool, a, 1), 0);
	/* 40000 more do not fit after 40000, but only the owner uses the
	 * page: the tail restarts at offset 0 of the same page. */
	assert_int_equal(homa_pool_alloc_msg(&pool, 40000, 0, b), 0);
	assert_int_equal(b[0], a[0]);
	assert_int_equal(pool.tail_offset, 40000);
	assert_int_equal(pool.refs[page_of(b[0])], 2);
	assert_int_equal(homa_pool_used_pages(&pool), 1);
	assert_int_equal(homa_pool_release(&pool, b, 1), 0);
	homa_pool_destroy(&pool, &env);
}

static void homa_pool_alloc_msg__fresh_page_when_shared(void **state)
{
	struct homa_pool pool;
	uint32_t a[1], b[1], p;

	(void)state;
	make_pool(&pool, 16);
	assert_int_equal(homa_pool_alloc_msg(&pool, 40000, 0, a), 0);
	p = page_of(a[0]);
	/* a still uses the page: give it up, take another. */
	assert_int_equal(homa_pool_alloc_msg(&pool, 40000, 0, b), 0);
	assert_int_not_equal(page_of(b[0]), p);
	assert_int_equal(b[0] & (PAGE - 1), 0);
	assert_int_equal(pool.tail_page, (int32_t)page_of(b[0]));
	assert_int_equal(pool.refs[p], 1); /* only a's reference is left */
	assert_int_equal(homa_pool_used_pages(&pool), 2);
	assert_int_equal(homa_pool_release(&pool, a, 1), 0);
	assert_int_equal(pool.refs[p], 0); /* now free */
	assert_int_equal(homa_pool_used_pages(&pool), 1);
	assert_int_equal(homa_pool_release(&pool, b, 1), 0);
	homa_pool_destroy(&pool, &env);
}

static void homa_pool_tick__lease_expiry(void **state)
{
	struct homa_pool pool;
	uint32_t a[1], b[1];
	uint64_t t0 = 1000;

	(void)state;
	make_pool(&pool, 16);
	assert_int_equal(homa_pool_alloc_msg(&pool, 100, t0, a), 0);
	assert_int_equal(homa_pool_release(&pool, a, 1), 0);
	homa_pool_tick(&pool, t0 + LEASE_NS - 1);
	assert_int_equal(pool.tail_page, (int32_t)page_of(a[0]));
	assert_int_equal(homa_pool_used_pages(&pool), 1);
	homa_pool_tick(&pool, t0 + LEASE_NS);
	assert_int_equal(pool.tail_page, -1);
	assert_int_equal(pool.refs[page_of(a[0])], 0);
	assert_int_equal(homa_pool_used_pages(&pool), 0);
	assert_int_equal(homa_pool_avail_bytes(&pool), 16 * (uint64_t)PAGE);
	homa_pool_tick(&pool, t0 + 2 * LEASE_NS); /* idempotent */
	assert_int_equal(homa_pool_used_pages(&pool), 0);

	/* Each tail refreshes the lease; a page still used by a message
	 * stays used after the owner lets go. */
	assert_int_equal(homa_pool_alloc_msg(&pool, 100, 0, a), 0);
	assert_int_equal(homa_pool_alloc_msg(&pool, 100, 8000000, b), 0);
	homa_pool_tick(&pool, 12000000);
	assert_true(pool.tail_page >= 0);
	homa_pool_tick(&pool, 18000000);
	assert_int_equal(pool.tail_page, -1);
	assert_int_equal(pool.refs[page_of(a[0])], 2);
	assert_int_equal(homa_pool_release(&pool, a, 1), 0);
	assert_int_equal(homa_pool_release(&pool, b, 1), 0);
	assert_int_equal(homa_pool_used_pages(&pool), 0);
	/* The next tail takes a fresh page again. */
	assert_int_equal(homa_pool_alloc_msg(&pool, 100, 0, a), 0);
	assert_int_equal(a[0] & (PAGE - 1), 0);
	assert_int_equal(pool.refs[page_of(a[0])], 2);
	homa_pool_destroy(&pool, &env);
}

static void homa_pool_alloc_msg__window(void **state)
{
	struct homa_pool pool;
	uint32_t held[8], offs[1], seen = 0, i;

	(void)state;
	make_pool(&pool, REGION_PAGES);
	/* One page in use at a time: window 1 + 4, rotating through all. */
	for (i = 0; i < 100; i++) {
		assert_int_equal(homa_pool_alloc_msg(&pool, PAGE, 0, offs), 0);
		assert_true(page_of(offs[0]) < 5);
		seen |= 1u << page_of(offs[0]);
		assert_int_equal(homa_pool_release(&pool, offs, 1), 0);
	}
	assert_int_equal(seen, 0x1F);
	/* Eight held: the ninth page's window is 9 + 4 = 13 pages. */
	for (i = 0; i < 8; i++)
		assert_int_equal(homa_pool_alloc_msg(&pool, PAGE, 0, &held[i]),
				 0);
	seen = 0;
	for (i = 0; i < 100; i++) {
		assert_int_equal(homa_pool_alloc_msg(&pool, PAGE, 0, offs), 0);
		assert_true(page_of(offs[0]) < 13);
		seen |= 1u << page_of(offs[0]);
		assert_int_equal(homa_pool_release(&pool, offs, 1), 0);
	}
	assert_int_equal(__builtin_popcount(seen), 5); /* the 5 free ones */
	assert_int_equal(homa_pool_release(&pool, held, 8), 0);
	/* What has been handed out so far: the 13 lowest pages. */
	assert_int_equal(pool.touched_bpages, 13);
	/* A 40-page message: window 40 + 10, so within the lowest 50. */
	{
		uint32_t big[40];

		assert_int_equal(homa_pool_alloc_msg(&pool, 40 * PAGE, 0, big),
				 0);
		for (i = 0; i < 40; i++)
			assert_true(page_of(big[i]) < 50);
		assert_int_equal(homa_pool_release(&pool, big, 40), 0);
		/* Released, but written: the high-water stays (RSS too). */
		assert_true(pool.touched_bpages >= 40 &&
			    pool.touched_bpages <= 50);
	}
	/* A full pool's window is the whole pool. */
	{
		uint32_t all[REGION_PAGES];

		assert_int_equal(
			homa_pool_alloc_msg(&pool, REGION_PAGES * PAGE, 0, all),
			0);
		assert_int_equal(pool.free_bpages, 0);
		assert_int_equal(homa_pool_release(&pool, all, REGION_PAGES),
				 0);
	}
	homa_pool_destroy(&pool, &env);
}

static void homa_pool_alloc_msg__exhaustion(void **state)
{
	struct homa_pool pool, before;
	uint32_t a[4], b[1], offs[3], sentinel[3] = { ~0u, ~0u, ~0u };
	uint32_t refs_before[4];

	(void)state;
	make_pool(&pool, 4);
	/* Not enough whole pages. */
	assert_int_equal(homa_pool_alloc_msg(&pool, 3 * PAGE, 0, a), 0);
	memcpy(offs, sentinel, sizeof(offs));
	assert_int_equal(homa_pool_alloc_msg(&pool, 2 * PAGE, 0, offs),
			 -ENOMEM);
	assert_memory_equal(offs, sentinel, sizeof(offs));
	assert_int_equal(homa_pool_used_pages(&pool), 3);
	assert_int_equal(homa_pool_release(&pool, a, 3), 0);

	/* The whole pages would fit, but the tail needs a fresh page too:
	 * nothing at all is allocated. */
	assert_int_equal(homa_pool_alloc_msg(&pool, 100, 0, b), 0);
	assert_int_equal(homa_pool_alloc_msg(&pool, 2 * PAGE, 0, a), 0);
	assert_int_equal(pool.free_bpages, 1);
	memcpy(&before, &pool, sizeof(pool));
	memcpy(refs_before, pool.refs, sizeof(refs_before));
	assert_int_equal(homa_pool_alloc_msg(&pool, PAGE + 65500, 0, offs),
			 -ENOMEM);
	assert_memory_equal(&pool, &before, sizeof(pool));
	assert_memory_equal(pool.refs, refs_before, sizeof(refs_before));
	/* A tail that fits in the owned page needs no free page. */
	assert_int_equal(homa_pool_alloc_msg(&pool, 2 * PAGE + 200, 0, offs),
			 -ENOMEM);
	assert_int_equal(homa_pool_alloc_msg(&pool, PAGE + 200, 0, offs), 0);
	assert_int_equal(offs[1], b[0] + 100);
	assert_int_equal(pool.free_bpages, 0);
	assert_int_equal(homa_pool_alloc_msg(&pool, 1, 0, &sentinel[0]), 0);
	assert_int_equal(homa_pool_alloc_msg(&pool, PAGE, 0, &sentinel[1]),
			 -ENOMEM);
	homa_pool_destroy(&pool, &env);
}

static void homa_pool_release__errors_all_or_nothing(void **state)
{
	struct homa_pool pool;
	uint32_t a[2], b[1], refs_before[8], bad[3];

	(void)state;
	make_pool(&pool, 8);
	assert_int_equal(homa_pool_alloc_msg(&pool, PAGE + 100, 0, a), 0);
	assert_int_equal(homa_pool_alloc_msg(&pool, PAGE, 0, b), 0);
	memcpy(refs_before, pool.refs, sizeof(refs_before));

	/* Out of range, after valid ones. */
	bad[0] = a[0];
	bad[1] = b[0];
	bad[2] = 8u << HOMA_CORE_BPAGE_SHIFT;
	assert_int_equal(homa_pool_release(&pool, bad, 3), -EINVAL);
	assert_memory_equal(pool.refs, refs_before, sizeof(refs_before));
	assert_int_equal(homa_pool_used_pages(&pool), 3);
	bad[2] = UINT32_MAX;
	assert_int_equal(homa_pool_release(&pool, bad, 3), -EINVAL);
	assert_memory_equal(pool.refs, refs_before, sizeof(refs_before));

	/* A free page. */
	bad[2] = 7u << HOMA_CORE_BPAGE_SHIFT;
	assert_int_equal(pool.refs[7], 0);
	assert_int_equal(homa_pool_release(&pool, bad, 3), -EINVAL);
	assert_memory_equal(pool.refs, refs_before, sizeof(refs_before));

	/* The same single-reference page twice. */
	bad[2] = b[0] + 5;
	assert_int_equal(homa_pool_release(&pool, bad, 3), -EINVAL);
	assert_memory_equal(pool.refs, refs_before, sizeof(refs_before));
	assert_int_equal(homa_pool_used_pages(&pool), 3);

	/* The tail twice: the second would take the core's reference. */
	bad[0] = a[1];
	bad[1] = a[1];
	assert_int_equal(pool.refs[page_of(a[1])], 2);
	assert_int_equal(homa_pool_release(&pool, bad, 2), -EINVAL);
	assert_memory_equal(pool.refs, refs_before, sizeof(refs_before));

	/* Nothing to do is fine; valid lists work after all that. */
	assert_int_equal(homa_pool_release(&pool, bad, 0), 0);
	assert_int_equal(homa_pool_release(&pool, a, 2), 0);
	assert_int_equal(homa_pool_release(&pool, b, 1), 0);
	assert_int_equal(homa_pool_used_pages(&pool), 1);
	/* Released twice across calls: the page is free the second time. */
	assert_int_equal(homa_pool_release(&pool, b, 1), -EINVAL);
	homa_pool_destroy(&pool, &env);
}

static void homa_pool_release__shared_page_twice(void **state)
{
	struct homa_pool pool;
	uint32_t a[1], b[1], both[2];

	(void)state;
	make_pool(&pool, 8);
	assert_int_equal(homa_pool_alloc_msg(&pool, 100, 0, a), 0);
	assert_int_equal(homa_pool_alloc_msg(&pool, 100, 0, b), 0);
	homa_pool_tick(&pool, LEASE_NS); /* owner lets go: refs 2 */
	assert_int_equal(pool.refs[page_of(a[0])], 2);
	/* Two messages on one page: the page may appear twice. */
	both[0] = a[0];
	both[1] = b[0];
	assert_int_equal(homa_pool_release(&pool, both, 2), 0);
	assert_int_equal(homa_pool_used_pages(&pool), 0);
	homa_pool_destroy(&pool, &env);
}

static void homa_pool_avail_bytes__counts(void **state)
{
	struct homa_pool pool;
	uint32_t a[2], b[1];

	(void)state;
	make_pool(&pool, 8);
	assert_int_equal(homa_pool_avail_bytes(&pool), 8 * (uint64_t)PAGE);
	assert_int_equal(homa_pool_alloc_msg(&pool, PAGE + 1000, 0, a), 0);
	assert_int_equal(homa_pool_avail_bytes(&pool),
			 6 * (uint64_t)PAGE + PAGE - 1000);
	assert_int_equal(homa_pool_alloc_msg(&pool, 500, 0, b), 0);
	assert_int_equal(homa_pool_avail_bytes(&pool),
			 6 * (uint64_t)PAGE + PAGE - 1500);
	assert_int_equal(homa_pool_release(&pool, a, 2), 0);
	assert_int_equal(homa_pool_release(&pool, b, 1), 0);
	/* Only the owner uses the tail page: all of it is usable. */
	assert_int_equal(homa_pool_avail_bytes(&pool), 8 * (uint64_t)PAGE);
	homa_pool_tick(&pool, LEASE_NS);
	assert_int_equal(homa_pool_avail_bytes(&pool), 8 * (uint64_t)PAGE);
	homa_pool_destroy(&pool, &env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(homa_pool_init__ok, setup),
		cmocka_unit_test_setup(homa_pool_init__4gib, setup),
		cmocka_unit_test_setup(homa_pool_init__errors, setup),
		cmocka_unit_test_setup(homa_pool_pages_needed__values, setup),
		cmocka_unit_test_setup(homa_pool_alloc_msg__whole_pages_only,
				       setup),
		cmocka_unit_test_setup(homa_pool_alloc_msg__tail_only, setup),
		cmocka_unit_test_setup(homa_pool_alloc_msg__one_million, setup),
		cmocka_unit_test_setup(homa_pool_alloc_msg__tail_sharing,
				       setup),
		cmocka_unit_test_setup(
			homa_pool_alloc_msg__append_to_the_last_byte, setup),
		cmocka_unit_test_setup(homa_pool_alloc_msg__restart_at_zero,
				       setup),
		cmocka_unit_test_setup(
			homa_pool_alloc_msg__fresh_page_when_shared, setup),
		cmocka_unit_test_setup(homa_pool_tick__lease_expiry, setup),
		cmocka_unit_test_setup(homa_pool_alloc_msg__window, setup),
		cmocka_unit_test_setup(homa_pool_alloc_msg__exhaustion, setup),
		cmocka_unit_test_setup(homa_pool_release__errors_all_or_nothing,
				       setup),
		cmocka_unit_test_setup(homa_pool_release__shared_page_twice,
				       setup),
		cmocka_unit_test_setup(homa_pool_avail_bytes__counts, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
