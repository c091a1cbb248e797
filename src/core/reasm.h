/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * reasm.h - reassembly state of one incoming message: the highest byte
 * received and an ordered list of gaps below it (spec/protocol.md 3.4).
 * Duplicates and partial overlaps are rejected whole, never trimmed.
 */
#ifndef HOMA_CORE_REASM_H
#define HOMA_CORE_REASM_H

#include <stdint.h>

#include "homa_core.h"

/* Most gaps one message may have; a packet that would create more is
 * dropped (the sender retransmits it later) so memory stays bounded. */
#define HOMA_REASM_MAX_GAPS 1024

struct homa_gap {
	uint32_t start; /* first missing byte */
	uint32_t end;	/* one past the last missing byte */
};

struct homa_reasm {
	uint32_t length;	  /* message length, bytes */
	uint32_t recv_end;	  /* one past the highest byte received */
	uint32_t bytes_remaining; /* bytes not yet received */
	struct homa_gap *gaps;	  /* gaps below recv_end, ascending */
	uint32_t num_gaps;	  /* valid entries in gaps */
	uint32_t cap_gaps;	  /* allocated entries in gaps */
};

/* Outcome of homa_reasm_add. */
enum homa_reasm_result {
	HOMA_REASM_ACCEPTED = 0,  /* new bytes: caller copies the payload */
	HOMA_REASM_DUPLICATE = 1, /* every byte already received */
	HOMA_REASM_OVERLAP = 2,	  /* straddles a gap edge: dropped whole */
	HOMA_REASM_GAP_LIMIT = 3, /* would need more than MAX_GAPS gaps */
	HOMA_REASM_NOMEM = 4,	  /* gap array could not grow */
	HOMA_REASM_RANGE = 5,	  /* empty or beyond length */
};

/* homa_reasm_init() - empty state for a message of length bytes
 * (inline: every incoming message). */
static inline void homa_reasm_init(struct homa_reasm *r, uint32_t length)
{
	r->length = length;
	r->recv_end = 0;
	r->bytes_remaining = length;
	r->gaps = NULL;
	r->num_gaps = 0;
	r->cap_gaps = 0;
}

/* homa_reasm_destroy() - free the gap array. */
void homa_reasm_destroy(struct homa_reasm *r, const struct homa_env *env);

/* homa_reasm_add_slow() - homa_reasm_add for any packet (reasm.c). */
int homa_reasm_add_slow(struct homa_reasm *r, const struct homa_env *env,
			uint32_t start, uint32_t end);

/*
 * homa_reasm_add() - account for a packet carrying [start, end).
 * Returns an enum homa_reasm_result; state changes only on ACCEPTED.
 * The usual packet, the next in order, is accepted inline; any other
 * goes to homa_reasm_add_slow, which also handles this case the same.
 */
static inline int homa_reasm_add(struct homa_reasm *r,
				 const struct homa_env *env, uint32_t start,
				 uint32_t end)
{
	if (start == r->recv_end && start < end && end <= r->length) {
		r->recv_end = end;
		r->bytes_remaining -= end - start;
		return HOMA_REASM_ACCEPTED;
	}
	return homa_reasm_add_slow(r, env, start, end);
}

/* homa_reasm_gap_bytes() - total bytes in the gaps. */
uint32_t homa_reasm_gap_bytes(const struct homa_reasm *r);

/* homa_reasm_received() - bytes received (length - bytes_remaining). */
static inline uint32_t homa_reasm_received(const struct homa_reasm *r)
{
	return r->length - r->bytes_remaining;
}

#endif /* HOMA_CORE_REASM_H */
