/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sim_stats.c - best possible message times and slowdown samples.
 *
 * The best time is the max-plus recursion of store-and-forward through a
 * tandem of links: packet i leaves hop k at
 *     d(i,k) = max(a(i,k), d(i-1,k)) + wire(i) * ps_per_byte(k)
 * and reaches hop k+1 at a(i,k+1) = d(i,k) + delay(k), with a(i,0) = 0
 * for every packet (an idle sender hands the whole message to its NIC at
 * once). The last packet's arrival at the receiving host is the best
 * time. Equivalently it is the longest path through the grid of (packet,
 * hop) service times; on a path whose slowest links are the two host
 * links that is: first packet to the first host link, every packet
 * through it, then the last packet through the rest. Exact in ps.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim_stats.h"

/* Bytes of a DATA header (spec/protocol.md 1.4). */

static uint64_t best_compute(const struct sim_stats *st, uint32_t size)
{
	uint64_t depart[SIM_PATH_MAX_HOPS] = { 0 };
	uint32_t off = 0;
	uint64_t last = 0;

	while (off < size) {
		uint32_t bytes = size - off;
		uint64_t t = 0;

		if (bytes > st->seg_bytes)
			bytes = st->seg_bytes;
		if (off < st->unsched_bytes && off + bytes > st->unsched_bytes)
			bytes = st->unsched_bytes - off;
		for (int k = 0; k < st->path.hops; k++) {
			uint64_t wire = sim_net_wire_bytes(
				HOMA_WIRE_DATA_BYTES + bytes);

			if (depart[k] > t)
				t = depart[k];
			depart[k] = t + wire * st->path.ps_per_byte[k];
			t = depart[k] + st->path.delay_ps[k];
		}
		last = t;
		off += bytes;
	}
	return last;
}

static int cache_grow(struct sim_stats *st)
{
	size_t cap = st->cache_cap ? 2 * st->cache_cap : 1024;
	struct sim_best_entry *c = calloc(cap, sizeof(*c));

	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < st->cache_cap; i++) {
		struct sim_best_entry *e = &st->cache[i];
		size_t j;

		if (!e->size)
			continue;
		for (j = (e->size * 2654435761u) & (cap - 1); c[j].size;
		     j = (j + 1) & (cap - 1))
			;
		c[j] = *e;
	}
	free(st->cache);
	st->cache = c;
	st->cache_cap = cap;
	return 0;
}

uint64_t sim_stats_best_ps(struct sim_stats *st, uint32_t size)
{
	size_t j;

	if (size == 0)
		size = 1;
	if (2 * (st->cache_used + 1) > st->cache_cap && cache_grow(st))
		return best_compute(st, size);
	for (j = (size * 2654435761u) & (st->cache_cap - 1); st->cache[j].size;
	     j = (j + 1) & (st->cache_cap - 1))
		if (st->cache[j].size == size)
			return st->cache[j].best_ps;
	st->cache[j].size = size;
	st->cache[j].best_ps = best_compute(st, size);
	st->cache_used++;
	return st->cache[j].best_ps;
}

int sim_stats_init(struct sim_stats *st, const struct sim_workload *wl,
		   const struct sim_path *path, uint32_t mtu,
		   uint32_t unsched_bytes)
{
	uint32_t bounds[SIM_WL_DECILES];

	memset(st, 0, sizeof(*st));
	st->path = *path;
	st->seg_bytes = mtu - HOMA_WIRE_IPV4_BYTES - HOMA_WIRE_DATA_BYTES;
	st->unsched_bytes = unsched_bytes;
	st->num_buckets = sim_workload_deciles(wl, bounds);
	for (int i = 0; i < st->num_buckets; i++) {
		st->b[i].lo_bytes = i ? bounds[i - 1] : 0;
		st->b[i].hi_bytes = bounds[i];
		st->b[i].min = INFINITY;
	}
	return cache_grow(st);
}

void sim_stats_free(struct sim_stats *st)
{
	for (int i = 0; i < st->num_buckets; i++)
		free(st->b[i].slowdown);
	free(st->cache);
	memset(st, 0, sizeof(*st));
}

void sim_stats_record(struct sim_stats *st, uint32_t size, uint64_t elapsed_ps)
{
	struct sim_stats_bucket *b = &st->b[st->num_buckets - 1];
	double s = (double)elapsed_ps / (double)sim_stats_best_ps(st, size);

	for (int i = 0; i < st->num_buckets; i++) {
		if (size <= st->b[i].hi_bytes) {
			b = &st->b[i];
			break;
		}
	}
	if (b->count == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 4096;
		float *v = realloc(b->slowdown, cap * sizeof(*v));

		if (!v) {
			st->oom = -ENOMEM;
			return;
		}
		b->slowdown = v;
		b->cap = cap;
	}
	b->slowdown[b->count++] = (float)s;
	b->sum += s;
	if (s < b->min)
		b->min = s;
}

static int float_cmp(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return x < y ? -1 : x > y;
}

void sim_stats_finish(struct sim_stats *st)
{
	for (int i = 0; i < st->num_buckets; i++)
		if (st->b[i].count) /* else slowdown may be NULL */
			qsort(st->b[i].slowdown, st->b[i].count, sizeof(float),
			      float_cmp);
}

double sim_stats_percentile(const struct sim_stats_bucket *b, double q)
{
	size_t rank;

	if (!b->count)
		return 0;
	rank = (size_t)ceil(q * (double)b->count - 1e-9);
	if (rank < 1)
		rank = 1;
	if (rank > b->count)
		rank = b->count;
	return b->slowdown[rank - 1];
}
