/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cache.h - a small, bounded cache of freed blocks for the core's
 * allocations (homa_lib_alloc/homa_lib_free). Each RPC allocates and
 * frees the same few sizes (its struct, its message buffers); keeping a
 * few freed blocks of each size saves malloc and free their bookkeeping.
 * At most HOMA_LIB_CACHE_CLASSES sizes of at most HOMA_LIB_CACHE_MAX
 * bytes, HOMA_LIB_CACHE_DEPTH blocks each: the cache never holds more
 * than their product in bytes. Not thread-safe: the caller holds the
 * lock that guards the core.
 */
#ifndef HOMA_API_CACHE_H
#define HOMA_API_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HOMA_LIB_CACHE_CLASSES 8    /* block sizes kept at once */
#define HOMA_LIB_CACHE_DEPTH   8    /* blocks kept of each size */
#define HOMA_LIB_CACHE_MAX     4096 /* bytes: larger blocks are not kept */

/* Freed blocks of one size. */
struct homa_lib_cache_class {
	size_t bytes;			    /* block size, bytes (0: free) */
	int count;			    /* blocks in blocks[] */
	void *blocks[HOMA_LIB_CACHE_DEPTH]; /* freed blocks, LIFO */
};

struct homa_lib_cache {
	struct homa_lib_cache_class cls[HOMA_LIB_CACHE_CLASSES]; /* sizes */
	uint64_t bytes;	 /* bytes of the blocks held, bytes */
	uint64_t hits;	 /* allocations served from the cache */
	uint64_t misses; /* allocations of a cacheable size it had not */
};

/* homa_lib_cache_get() - a freed block of exactly bytes, or NULL. */
void *homa_lib_cache_get(struct homa_lib_cache *c, size_t bytes);

/* homa_lib_cache_put() - keep block p of bytes for reuse; false if the
 * cache is full for it (the caller frees it). An empty class takes a new
 * size, so a workload's sizes replace the previous one's. */
bool homa_lib_cache_put(struct homa_lib_cache *c, void *p, size_t bytes);

/* homa_lib_cache_drain() - free every block held (bytes back to 0). */
void homa_lib_cache_drain(struct homa_lib_cache *c);

#endif /* HOMA_API_CACHE_H */
