/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pool.h - the receive buffer pool of one socket (spec/protocol.md 8).
 *
 * The application registers a region; the pool carves it into 64 KiB
 * bpages and lays each incoming message out as whole bpages plus, for the
 * last L mod 64 KiB bytes, a tail fragment cut from a page the core owns.
 * Pages are reference counted (one per message using the page, plus one
 * while the core owns it for tails). Delivered messages' pages belong to
 * the application until it returns their offsets.
 */
#ifndef HOMA_CORE_POOL_H
#define HOMA_CORE_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "homa_core.h"

#define HOMA_BPAGE_BYTES (1u << HOMA_CORE_BPAGE_SHIFT)
/* Minimum number of pages the core searches among (spec 8). */
#define HOMA_POOL_MIN_WINDOW 4

/* Totals over several pools (an instance's sockets), kept as they
 * change, so that reading them costs nothing. */
struct homa_pool_sum {
	uint64_t used_bpages;	 /* pages with a reference, all pools */
	uint64_t touched_bpages; /* touched_bpages of all pools */
};

struct homa_pool {
	uint8_t *region;	    /* start of the app's region; NULL = none */
	uint32_t num_bpages;	    /* pages in the region */
	uint32_t *refs;		    /* per page: references (0 = free) */
	uint32_t free_bpages;	    /* pages with refs == 0 */
	uint32_t cursor;	    /* next page index to try */
	uint32_t touched_bpages;    /* highest page index handed out + 1:
				     * the region's pages written so far */
	int32_t tail_page;	    /* page owned for tails, -1 = none */
	uint32_t tail_offset;	    /* next free byte in tail_page */
	uint64_t tail_lease_end_ns; /* ownership lapses at this time */
	uint64_t lease_ns;	    /* bpage_lease_usecs in ns */
	struct homa_pool_sum *sum;  /* totals this pool counts into, NULL =
				     * none (set after homa_pool_init) */
};

/*
 * homa_pool_init() - take over region[0..bytes). bytes is rounded down to
 * whole pages. Errors: -EINVAL (region NULL or not 4096-aligned, bytes
 * below min_bytes or above 4 GiB), -ENOMEM. On error pool is untouched.
 */
int homa_pool_init(struct homa_pool *pool, const struct homa_env *env,
		   uint8_t *region, uint64_t bytes, uint64_t min_bytes,
		   uint64_t lease_ns);

/* homa_pool_destroy() - free the bookkeeping (not the region). */
void homa_pool_destroy(struct homa_pool *pool, const struct homa_env *env);

/* homa_pool_pages_needed() - pages a message of length bytes needs
 * (whole pages plus one for a tail, as an upper bound): ceil(L/64K). */
static inline uint32_t homa_pool_pages_needed(uint32_t length)
{
	return (uint32_t)(((uint64_t)length + HOMA_BPAGE_BYTES - 1) >>
			  HOMA_CORE_BPAGE_SHIFT);
}

/*
 * homa_pool_alloc_msg() - lay out a message of length bytes: writes
 * homa_pool_pages_needed(length) offsets (relative to the region) to
 * offsets. Returns 0, or -ENOMEM if not enough free space (nothing is
 * allocated then: the caller stalls the message and retries later).
 */
int homa_pool_alloc_msg_slow(struct homa_pool *pool, uint32_t length,
			     uint64_t now_ns, uint32_t *offsets);
static inline int homa_pool_alloc_msg(struct homa_pool *pool, uint32_t length,
				      uint64_t now_ns, uint32_t *offsets)
{
	/* The usual small message: a tail only, appended to the page the
	 * core owns (pool.c's TAIL_APPEND, the same steps). */
	if (length < HOMA_BPAGE_BYTES && pool->tail_page >= 0 &&
	    pool->tail_offset + length <= HOMA_BPAGE_BYTES && length) {
		uint32_t idx = (uint32_t)pool->tail_page;

		pool->refs[idx]++;
		offsets[0] = (idx << HOMA_CORE_BPAGE_SHIFT) + pool->tail_offset;
		pool->tail_offset += length;
		pool->tail_lease_end_ns = now_ns + pool->lease_ns;
		return 0;
	}
	return homa_pool_alloc_msg_slow(pool, length, now_ns, offsets);
}

/*
 * homa_pool_release() - drop one reference on the page of each offset
 * (offset >> 16). All offsets are checked first: any out of range or on a
 * free page gives -EINVAL and releases none (all or nothing).
 */
int homa_pool_release_slow(struct homa_pool *pool, const uint32_t *offsets,
			   uint32_t count);
static inline int homa_pool_release(struct homa_pool *pool,
				    const uint32_t *offsets, uint32_t count)
{
	/* The usual small message: one offset on a page that stays in use
	 * (by the core's ownership or other messages) after the drop, so
	 * no page is freed and no total changes. More than one reference
	 * is both: the offset's own (the core's ownership of the tail page
	 * is at most one, so one is left to the message) and one left. A
	 * ping-pong's tail page holds two, its owner's and the message's:
	 * it took the slow path on every release with "> 2" for the tail. */
	if (count == 1) {
		uint32_t idx = offsets[0] >> HOMA_CORE_BPAGE_SHIFT;

		if (idx < pool->num_bpages && pool->refs[idx] > 1) {
			pool->refs[idx]--;
			return 0;
		}
	}
	return homa_pool_release_slow(pool, offsets, count);
}

/*
 * homa_pool_pin() - one more reference on the page of offset, which must
 * have one (a page of a message being received); homa_pool_release drops
 * it. -EINVAL if the offset is out of range or its page free.
 */
int homa_pool_pin(struct homa_pool *pool, uint32_t offset);

/* homa_pool_tick() - end the core's ownership of its tail page once the
 * lease has run out, so an idle pool holds no pages. */
void homa_pool_tick(struct homa_pool *pool, uint64_t now_ns);

/* homa_pool_used_pages() - pages with at least one reference. */
uint32_t homa_pool_used_pages(const struct homa_pool *pool);

/* homa_pool_avail_bytes() - free pages x 64 KiB plus unused tail space. */
uint64_t homa_pool_avail_bytes(const struct homa_pool *pool);

/* homa_pool_addr() - the address of byte msg_offset of a message laid
 * out at offsets (no bounds check: offsets come from alloc_msg). */
static inline uint8_t *homa_pool_addr(const struct homa_pool *pool,
				      const uint32_t *offsets,
				      uint32_t msg_offset)
{
	return pool->region + offsets[msg_offset >> HOMA_CORE_BPAGE_SHIFT] +
	       (msg_offset & (HOMA_BPAGE_BYTES - 1));
}

#endif /* HOMA_CORE_POOL_H */
