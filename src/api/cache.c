/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cache.c - the bounded cache of freed blocks behind the core's
 * allocations (cache.h). Each size has a home class (its first probe),
 * so the common get or put looks at one class; a size whose home is
 * taken by another goes to the next class that holds it or is empty.
 */
#include <stdlib.h>

#include "cache.h"

/* The first class looked at for blocks of bytes: the low bits of the
 * size mixed with higher ones, so that an RPC's sizes (its struct of a few
 * hundred bytes, a 4-byte page list, a small message) start apart. */
static unsigned int homa_lib_cache_home(size_t bytes)
{
	return (unsigned int)(bytes ^ bytes >> 3 ^ bytes >> 6) %
	       HOMA_LIB_CACHE_CLASSES;
}

void *homa_lib_cache_get(struct homa_lib_cache *c, size_t bytes)
{
	unsigned int home = homa_lib_cache_home(bytes);

	if (bytes <= HOMA_LIB_CACHE_MAX) {
		for (unsigned int n = 0; n < HOMA_LIB_CACHE_CLASSES; n++) {
			struct homa_lib_cache_class *k =
				&c->cls[(home + n) % HOMA_LIB_CACHE_CLASSES];

			if (k->bytes != bytes || !k->count)
				continue;
			c->bytes -= bytes;
			c->hits++;
			return k->blocks[--k->count];
		}
	}
	c->misses++;
	return NULL;
}

bool homa_lib_cache_put(struct homa_lib_cache *c, void *p, size_t bytes)
{
	unsigned int home = homa_lib_cache_home(bytes);
	struct homa_lib_cache_class *empty = NULL, *k = NULL;

	if (!p || !bytes || bytes > HOMA_LIB_CACHE_MAX)
		return false;
	for (unsigned int n = 0; n < HOMA_LIB_CACHE_CLASSES; n++) {
		struct homa_lib_cache_class *q =
			&c->cls[(home + n) % HOMA_LIB_CACHE_CLASSES];

		if (q->bytes == bytes) {
			if (q->count == HOMA_LIB_CACHE_DEPTH)
				return false; /* this size is full */
			k = q;
			break;
		}
		if (!q->count && !empty)
			empty = q;
	}
	if (!k) {
		if (!empty)
			return false; /* every class holds other sizes */
		k = empty;
		k->bytes = bytes;
	}
	k->blocks[k->count++] = p;
	c->bytes += bytes;
	return true;
}

void homa_lib_cache_drain(struct homa_lib_cache *c)
{
	for (int i = 0; i < HOMA_LIB_CACHE_CLASSES; i++) {
		struct homa_lib_cache_class *k = &c->cls[i];

		while (k->count)
			free(k->blocks[--k->count]);
		k->bytes = 0;
	}
	c->bytes = 0;
}
