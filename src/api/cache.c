/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cache.c - the bounded cache of freed blocks behind the core's
 * allocations (cache.h).
 */
#include <stdlib.h>

#include "cache.h"

void *homa_lib_cache_get(struct homa_lib_cache *c, size_t bytes)
{
	if (bytes > HOMA_LIB_CACHE_MAX)
		return NULL;
	for (int i = 0; i < HOMA_LIB_CACHE_CLASSES; i++) {
		struct homa_lib_cache_class *k = &c->cls[i];

		if (k->bytes != bytes)
			continue;
		if (!k->count)
			break;
		c->bytes -= bytes;
		c->hits++;
		return k->blocks[--k->count];
	}
	c->misses++;
	return NULL;
}

bool homa_lib_cache_put(struct homa_lib_cache *c, void *p, size_t bytes)
{
	struct homa_lib_cache_class *empty = NULL, *k = NULL;

	if (!p || !bytes || bytes > HOMA_LIB_CACHE_MAX)
		return false;
	for (int i = 0; i < HOMA_LIB_CACHE_CLASSES; i++) {
		if (c->cls[i].bytes == bytes) {
			k = &c->cls[i];
			break;
		}
		if (!c->cls[i].count && !empty)
			empty = &c->cls[i];
	}
	if (!k) {
		if (!empty)
			return false;
		k = empty;
		k->bytes = bytes;
	}
	if (k->count == HOMA_LIB_CACHE_DEPTH)
		return false;
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
