/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pool.c - the receive buffer pool of one socket (spec/protocol.md 8).
 *
 * The application's region is cut into 64 KiB bpages, each with a
 * reference count: one per message laid out in it, plus one while the core
 * owns it as the page it carves message tails from. A message of length L
 * gets L >> 16 whole pages and, if L mod 64 KiB is not 0, a tail fragment
 * cut sequentially from the owned page. The core is a single "core" in the
 * spec's terms: it owns at most one tail page, under a lease of lease_ns
 * that each tail allocation refreshes; homa_pool_tick() drops the
 * ownership once the lease has run out so an idle socket holds no pages.
 * Free pages are found with a rotating cursor over the lowest few page
 * indices (used pages plus a quarter, at least HOMA_POOL_MIN_WINDOW) so the
 * footprint in the region stays small, falling back to the whole region.
 * Allocation and release are both all or nothing. The pool does no I/O
 * and never touches the region's bytes; only the reference counts live
 * in host memory obtained through the environment table.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pool.h"

/* Alignment the region must have, bytes. */
#define POOL_REGION_ALIGN 4096u
/* Largest region, bytes: offsets are 32-bit. */
#define POOL_MAX_BYTES (1ull << 32)

/* pool_sum_add() - count a change of used and touched pages into the
 * totals the pool belongs to, if any. */
static void pool_sum_add(struct homa_pool *pool, int64_t used, int64_t touched)
{
	if (!pool->sum)
		return;
	pool->sum->used_bpages += (uint64_t)used;
	pool->sum->touched_bpages += (uint64_t)touched;
}

int homa_pool_init(struct homa_pool *pool, const struct homa_env *env,
		   uint8_t *region, uint64_t bytes, uint64_t min_bytes,
		   uint64_t lease_ns)
{
	uint32_t num_bpages;
	uint32_t *refs;

	if (!region || ((uintptr_t)region & (POOL_REGION_ALIGN - 1)) != 0)
		return -EINVAL;
	if (bytes < min_bytes || bytes > POOL_MAX_BYTES)
		return -EINVAL;
	num_bpages = (uint32_t)(bytes >> HOMA_CORE_BPAGE_SHIFT);
	if (num_bpages == 0)
		return -EINVAL;
	refs = env->alloc(env->ctx, (size_t)num_bpages * sizeof(*refs));
	if (!refs)
		return -ENOMEM;
	memset(refs, 0, (size_t)num_bpages * sizeof(*refs));
	pool->region = region;
	pool->num_bpages = num_bpages;
	pool->refs = refs;
	pool->free_bpages = num_bpages;
	pool->cursor = 0;
	pool->touched_bpages = 0;
	pool->tail_page = -1;
	pool->tail_offset = 0;
	pool->tail_lease_end_ns = 0;
	pool->lease_ns = lease_ns;
	pool->sum = NULL;
	return 0;
}

void homa_pool_destroy(struct homa_pool *pool, const struct homa_env *env)
{
	pool_sum_add(pool, -(int64_t)homa_pool_used_pages(pool),
		     -(int64_t)pool->touched_bpages);
	pool->sum = NULL;
	if (pool->refs)
		env->free(env->ctx, pool->refs,
			  (size_t)pool->num_bpages * sizeof(*pool->refs));
	pool->refs = NULL;
	pool->region = NULL;
	pool->num_bpages = 0;
	pool->free_bpages = 0;
	pool->cursor = 0;
	pool->touched_bpages = 0;
	pool->tail_page = -1;
	pool->tail_offset = 0;
}

/*
 * pool_take_page() - find a free page, give it refs references and return
 * its index. window is the number of lowest page indices the rotating
 * cursor searches first; if none of them is free the whole pool is
 * scanned. The caller has checked free_bpages > 0, so this cannot fail.
 */
static uint32_t pool_take_page(struct homa_pool *pool, uint32_t window,
			       uint32_t refs)
{
	uint32_t i, idx = 0;

	if (pool->cursor >= window)
		pool->cursor = 0;
	for (i = 0; i < window; i++) {
		idx = pool->cursor + i;
		if (idx >= window)
			idx -= window;
		if (pool->refs[idx] == 0)
			goto found;
	}
	/* Fallback. Unreachable in practice: window exceeds the pages in
	 * use, so by counting it always holds a free page; kept so the
	 * search never depends on how the window was sized. */
	for (idx = window; idx < pool->num_bpages; idx++)
		if (pool->refs[idx] == 0)
			break;
found:
	pool->cursor = idx + 1;
	if (idx >= pool->touched_bpages) {
		pool_sum_add(pool, 0, idx + 1 - pool->touched_bpages);
		pool->touched_bpages = idx + 1;
	}
	pool->refs[idx] = refs;
	pool->free_bpages--;
	pool_sum_add(pool, 1, 0);
	return idx;
}

/*
 * pool_window() - how many of the lowest page indices the search prefers
 * when used pages will be in use (spec 8: used + max(used / 4, 4), capped
 * at the pool size). Like Linux, used already counts the pages about to
 * be allocated.
 */
static uint32_t pool_window(const struct homa_pool *pool, uint32_t used)
{
	uint64_t extra = used / 4;

	if (extra < HOMA_POOL_MIN_WINDOW)
		extra = HOMA_POOL_MIN_WINDOW;
	if ((uint64_t)used + extra > pool->num_bpages)
		return pool->num_bpages;
	return (uint32_t)(used + extra);
}

/* pool_drop_owner() - end the core's ownership of its tail page. */
static void pool_drop_owner(struct homa_pool *pool)
{
	uint32_t idx = (uint32_t)pool->tail_page;

	pool->tail_page = -1;
	pool->tail_offset = 0;
	if (--pool->refs[idx] == 0) {
		pool->free_bpages++;
		pool_sum_add(pool, -1, 0);
	}
}

/*
 * Tail placement plans for homa_pool_alloc_msg: where the next tail goes
 * given the owned page (if any).
 */
enum pool_tail_plan {
	TAIL_NONE,    /* the message has no tail */
	TAIL_APPEND,  /* fits after tail_offset in the owned page */
	TAIL_RESTART, /* owned page used only by the owner: start at 0 */
	TAIL_FRESH,   /* give the owned page up (if any), take a free one */
};

/* pool_plan_tail() - how a tail of tail bytes would be placed now. */
static enum pool_tail_plan pool_plan_tail(const struct homa_pool *pool,
					  uint32_t tail)
{
	if (tail == 0)
		return TAIL_NONE;
	if (pool->tail_page < 0)
		return TAIL_FRESH;
	if (pool->tail_offset + tail <= HOMA_BPAGE_BYTES)
		return TAIL_APPEND;
	if (pool->refs[pool->tail_page] == 1)
		return TAIL_RESTART;
	return TAIL_FRESH;
}

/* homa_pool_alloc_msg_slow() - homa_pool_alloc_msg for any message (the
 * inline part in pool.h takes the usual small one). */
int homa_pool_alloc_msg_slow(struct homa_pool *pool, uint32_t length,
			     uint64_t now_ns, uint32_t *offsets)
{
	uint32_t whole = length >> HOMA_CORE_BPAGE_SHIFT;
	uint32_t tail = length & (HOMA_BPAGE_BYTES - 1);
	enum pool_tail_plan plan = pool_plan_tail(pool, tail);
	uint32_t fresh = whole + (plan == TAIL_FRESH ? 1 : 0);
	uint32_t window, i, idx;

	if (fresh > pool->free_bpages)
		return -ENOMEM;
	window = fresh ? pool_window(pool, pool->num_bpages -
						   pool->free_bpages + fresh)
		       : 0;
	for (i = 0; i < whole; i++) {
		idx = pool_take_page(pool, window, 1);
		offsets[i] = idx << HOMA_CORE_BPAGE_SHIFT;
	}
	if (plan == TAIL_NONE)
		return 0;
	if (plan == TAIL_FRESH) {
		/* Take the new page before giving up the old one, so the
		 * old one (still used by messages) is not picked again. */
		idx = pool_take_page(pool, window, 1);
		if (pool->tail_page >= 0)
			pool_drop_owner(pool);
		pool->tail_page = (int32_t)idx;
		pool->tail_offset = 0;
	} else if (plan == TAIL_RESTART) {
		pool->tail_offset = 0;
	}
	idx = (uint32_t)pool->tail_page;
	pool->refs[idx]++;
	offsets[whole] = (idx << HOMA_CORE_BPAGE_SHIFT) + pool->tail_offset;
	pool->tail_offset += tail;
	pool->tail_lease_end_ns = now_ns + pool->lease_ns;
	return 0;
}

/*
 * Releasing is all or nothing, an improvement on Linux, which frees the
 * pages of the offsets before the first bad one and then fails: each
 * reference is dropped in turn and, at the first bad offset, the drops
 * already made are undone. An offset is bad if its page is out of range
 * or has no reference left to drop (so the same page named more often
 * than it has references fails too). The core's own reference on the
 * owned tail page is not the application's to drop, so that page counts
 * one reference fewer.
 */
int homa_pool_release_slow(struct homa_pool *pool, const uint32_t *offsets,
			   uint32_t count)
{
	uint32_t i, idx, owner, freed = 0;

	for (i = 0; i < count; i++) {
		idx = offsets[i] >> HOMA_CORE_BPAGE_SHIFT;
		if (idx >= pool->num_bpages)
			goto undo;
		owner = (int64_t)idx == pool->tail_page ? 1 : 0;
		if (pool->refs[idx] <= owner)
			goto undo;
		if (--pool->refs[idx] == 0)
			freed++;
	}
	pool->free_bpages += freed;
	pool_sum_add(pool, -(int64_t)freed, 0);
	return 0;

undo:
	while (i-- > 0)
		pool->refs[offsets[i] >> HOMA_CORE_BPAGE_SHIFT]++;
	return -EINVAL;
}

int homa_pool_pin(struct homa_pool *pool, uint32_t offset)
{
	uint32_t idx = offset >> HOMA_CORE_BPAGE_SHIFT;

	if (idx >= pool->num_bpages || pool->refs[idx] == 0)
		return -EINVAL;
	pool->refs[idx]++;
	return 0;
}

void homa_pool_tick(struct homa_pool *pool, uint64_t now_ns)
{
	if (pool->tail_page >= 0 && now_ns >= pool->tail_lease_end_ns)
		pool_drop_owner(pool);
}

uint32_t homa_pool_used_pages(const struct homa_pool *pool)
{
	return pool->num_bpages - pool->free_bpages;
}

/*
 * The owned tail page contributes what the next tail can still use: its
 * whole 64 KiB if no message uses it (a tail that does not fit restarts
 * at offset 0), else the bytes after tail_offset.
 */
uint64_t homa_pool_avail_bytes(const struct homa_pool *pool)
{
	uint64_t bytes = (uint64_t)pool->free_bpages * HOMA_BPAGE_BYTES;

	if (pool->tail_page >= 0) {
		if (pool->refs[pool->tail_page] == 1)
			bytes += HOMA_BPAGE_BYTES;
		else
			bytes += HOMA_BPAGE_BYTES - pool->tail_offset;
	}
	return bytes;
}
