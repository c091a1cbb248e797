/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * reasm.c - reassembly bookkeeping of one incoming message.
 *
 * The receiver tracks which bytes of a message have arrived as recv_end
 * (one past the highest byte received) plus an ascending list of gaps
 * [start, end) below it, exactly as spec/protocol.md 3.4 describes. A
 * packet is either accepted whole (it extends recv_end, possibly opening a
 * gap, or fills the front, the back or the middle of one gap) or rejected
 * whole: duplicates and packets that straddle a gap edge or recv_end are
 * never trimmed, since retransmissions reuse the original segment
 * boundaries. The gap array lives in host memory obtained through the
 * environment table, grows by doubling and is capped at
 * HOMA_REASM_MAX_GAPS entries so a hostile sender cannot make it grow
 * without bound. The state changes only when a packet is accepted.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "reasm.h"

/* First allocation of the gap array, entries. */
#define REASM_INITIAL_GAPS 4

void homa_reasm_destroy(struct homa_reasm *r, const struct homa_env *env)
{
	if (r->gaps)
		env->free(env->ctx, r->gaps, r->cap_gaps * sizeof(*r->gaps));
	r->gaps = NULL;
	r->num_gaps = 0;
	r->cap_gaps = 0;
}

/*
 * reasm_reserve() - make room for one more gap. Returns HOMA_REASM_ACCEPTED
 * when there is room, HOMA_REASM_GAP_LIMIT when the list is full or
 * HOMA_REASM_NOMEM when the array could not grow (gaps then unchanged).
 */
static int reasm_reserve(struct homa_reasm *r, const struct homa_env *env)
{
	struct homa_gap *grown;
	uint32_t cap;

	if (r->num_gaps >= HOMA_REASM_MAX_GAPS)
		return HOMA_REASM_GAP_LIMIT;
	if (r->num_gaps < r->cap_gaps)
		return HOMA_REASM_ACCEPTED;
	cap = r->cap_gaps ? r->cap_gaps * 2 : REASM_INITIAL_GAPS;
	if (cap > HOMA_REASM_MAX_GAPS)
		cap = HOMA_REASM_MAX_GAPS;
	grown = env->alloc(env->ctx, cap * sizeof(*grown));
	if (!grown)
		return HOMA_REASM_NOMEM;
	if (r->num_gaps)
		memcpy(grown, r->gaps, r->num_gaps * sizeof(*grown));
	if (r->gaps)
		env->free(env->ctx, r->gaps, r->cap_gaps * sizeof(*r->gaps));
	r->gaps = grown;
	r->cap_gaps = cap;
	return HOMA_REASM_ACCEPTED;
}

/*
 * reasm_fill() - a packet [start, end) lying wholly below recv_end: find
 * the gap it falls in and shrink or split that gap (spec 3.4 rule 3).
 */
static int reasm_fill(struct homa_reasm *r, const struct homa_env *env,
		      uint32_t start, uint32_t end)
{
	struct homa_gap *g;
	uint32_t i;
	int err;

	for (i = 0; i < r->num_gaps; i++) {
		g = &r->gaps[i];
		if (end <= g->start)
			break; /* gaps ascend: nothing later intersects */
		if (start >= g->end)
			continue;
		if (start < g->start || end > g->end)
			return HOMA_REASM_OVERLAP; /* crosses a gap edge */
		if (start == g->start) {
			g->start = end;
			if (g->start == g->end) {
				memmove(g, g + 1,
					(r->num_gaps - i - 1) * sizeof(*g));
				r->num_gaps--;
			}
		} else if (end == g->end) {
			g->end = start;
		} else {
			err = reasm_reserve(r, env);
			if (err != HOMA_REASM_ACCEPTED)
				return err;
			g = &r->gaps[i]; /* the array may have moved */
			memmove(g + 1, g, (r->num_gaps - i) * sizeof(*g));
			r->num_gaps++;
			g[0].end = start;
			g[1].start = end;
		}
		r->bytes_remaining -= end - start;
		return HOMA_REASM_ACCEPTED;
	}
	return HOMA_REASM_DUPLICATE;
}

int homa_reasm_add_slow(struct homa_reasm *r, const struct homa_env *env,
			uint32_t start, uint32_t end)
{
	int err;

	if (start >= end || end > r->length)
		return HOMA_REASM_RANGE;
	if (start < r->recv_end) {
		/* Straddles recv_end: it has new bytes above recv_end, so it
		 * is no duplicate, but spec 3.4 never trims: drop it whole. */
		if (end > r->recv_end)
			return HOMA_REASM_OVERLAP;
		return reasm_fill(r, env, start, end);
	}
	if (start > r->recv_end) {
		err = reasm_reserve(r, env);
		if (err != HOMA_REASM_ACCEPTED)
			return err;
		r->gaps[r->num_gaps].start = r->recv_end;
		r->gaps[r->num_gaps].end = start;
		r->num_gaps++;
	}
	r->recv_end = end;
	r->bytes_remaining -= end - start;
	return HOMA_REASM_ACCEPTED;
}

uint32_t homa_reasm_gap_bytes(const struct homa_reasm *r)
{
	uint32_t total = 0;
	uint32_t i;

	for (i = 0; i < r->num_gaps; i++)
		total += r->gaps[i].end - r->gaps[i].start;
	return total;
}
