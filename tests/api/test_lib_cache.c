/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_lib_cache.c - the bounded cache of freed blocks behind the core's
 * allocations (src/api/cache.c): blocks come back by exact size, the
 * byte count is exact, every bound holds, and draining frees everything
 * (LeakSanitizer checks that in the ASan run).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cache.h"

static void test_reuse_exact_size(void **state)
{
	struct homa_lib_cache c;
	void *a = malloc(100), *b = malloc(200);

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_null(homa_lib_cache_get(&c, 100));
	assert_true(homa_lib_cache_put(&c, a, 100));
	assert_true(homa_lib_cache_put(&c, b, 200));
	assert_int_equal(c.bytes, 300);
	assert_null(homa_lib_cache_get(&c, 101)); /* exact sizes only */
	assert_ptr_equal(homa_lib_cache_get(&c, 200), b);
	assert_int_equal(c.bytes, 100);
	assert_null(homa_lib_cache_get(&c, 200)); /* taken once */
	assert_ptr_equal(homa_lib_cache_get(&c, 100), a);
	assert_int_equal(c.bytes, 0);
	assert_int_equal(c.hits, 2);
	free(a);
	free(b);
	homa_lib_cache_drain(&c);
}

static void test_bounds(void **state)
{
	struct homa_lib_cache c;
	void *big = malloc(HOMA_LIB_CACHE_MAX + 1), *p;
	uint64_t want = 0;

	(void)state;
	memset(&c, 0, sizeof(c));
	/* Too large: never kept. */
	assert_false(homa_lib_cache_put(&c, big, HOMA_LIB_CACHE_MAX + 1));
	free(big);
	assert_false(homa_lib_cache_put(&c, NULL, 64));
	/* At most DEPTH blocks of one size. */
	for (int i = 0; i < HOMA_LIB_CACHE_DEPTH; i++) {
		assert_true(homa_lib_cache_put(&c, malloc(64), 64));
		want += 64;
	}
	p = malloc(64);
	assert_false(homa_lib_cache_put(&c, p, 64));
	free(p);
	/* At most CLASSES sizes. */
	for (int i = 1; i < HOMA_LIB_CACHE_CLASSES; i++) {
		assert_true(homa_lib_cache_put(&c, malloc(64 + i), 64 + i));
		want += 64 + (uint64_t)i;
	}
	p = malloc(1000);
	assert_false(homa_lib_cache_put(&c, p, 1000));
	assert_int_equal(c.bytes, want);
	assert_true(c.bytes <= (uint64_t)HOMA_LIB_CACHE_CLASSES *
				       HOMA_LIB_CACHE_DEPTH *
				       HOMA_LIB_CACHE_MAX);
	/* A class emptied takes the next new size. */
	free(homa_lib_cache_get(&c, 65));
	want -= 65;
	assert_true(homa_lib_cache_put(&c, p, 1000));
	want += 1000;
	assert_int_equal(c.bytes, want);
	assert_ptr_equal(homa_lib_cache_get(&c, 1000), p);
	free(p);
	homa_lib_cache_drain(&c);
	assert_int_equal(c.bytes, 0);
	assert_null(homa_lib_cache_get(&c, 64));
}

/* An RPC's allocate-free pattern, many times: malloc is called only for
 * the first round, and the bytes held stay those of one round. */
static void test_steady_state(void **state)
{
	static const size_t sizes[] = { 712, 100, 16, 100 };
	struct homa_lib_cache c;
	void *held[4];

	(void)state;
	memset(&c, 0, sizeof(c));
	for (int round = 0; round < 1000; round++) {
		for (int i = 0; i < 4; i++) {
			held[i] = homa_lib_cache_get(&c, sizes[i]);
			if (!held[i])
				held[i] = malloc(sizes[i]);
			memset(held[i], round & 0xff, sizes[i]);
		}
		for (int i = 0; i < 4; i++)
			assert_true(homa_lib_cache_put(&c, held[i], sizes[i]));
	}
	assert_int_equal(c.misses, 4);
	assert_int_equal(c.hits, 4 * 999);
	assert_int_equal(c.bytes, 712 + 100 + 16 + 100);
	homa_lib_cache_drain(&c);
	assert_int_equal(c.bytes, 0);
}

/* Sizes that share a home class (64 and 100: the same first probe, see
 * homa_lib_cache_home) are kept apart, each given back by its own size. */
static void test_shared_home(void **state)
{
	struct homa_lib_cache c;
	void *a = malloc(64), *b = malloc(100), *d = malloc(64);

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_true(homa_lib_cache_put(&c, a, 64));
	assert_true(homa_lib_cache_put(&c, b, 100));
	assert_true(homa_lib_cache_put(&c, d, 64));
	assert_ptr_equal(homa_lib_cache_get(&c, 100), b);
	assert_null(homa_lib_cache_get(&c, 100));
	assert_ptr_equal(homa_lib_cache_get(&c, 64), d);
	/* 64's class is not empty: 100 comes back beside it. */
	assert_true(homa_lib_cache_put(&c, b, 100));
	assert_ptr_equal(homa_lib_cache_get(&c, 64), a);
	assert_ptr_equal(homa_lib_cache_get(&c, 100), b);
	assert_int_equal(c.bytes, 0);
	free(a);
	free(b);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reuse_exact_size),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_steady_state),
		cmocka_unit_test(test_shared_home),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
