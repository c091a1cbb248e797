/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cutoffs.h - unscheduled priority cutoffs (spec/protocol.md 7): applying
 * a cutoff vector, the sender's choice of level, and computing cutoffs
 * automatically from the sizes of messages received (what Linux leaves to
 * the homa_prio daemon). Integer arithmetic only.
 */
#ifndef HOMA_CORE_CUTOFFS_H
#define HOMA_CORE_CUTOFFS_H

#include <stdint.h>

#include "config.h"

#define HOMA_CUTOFF_INFINITE 0x7FFFFFFF /* INT_MAX: every size */

/* Size histogram of received messages (spec 11 msg_bytes_N): 64-byte
 * buckets up to 4096, 1 KiB buckets up to 131072, then one large bucket. */
#define HOMA_HIST_SMALL_STEP 64
#define HOMA_HIST_SMALL_MAX  4096
#define HOMA_HIST_MID_STEP   1024
#define HOMA_HIST_MID_MAX    131072
#define HOMA_HIST_BUCKETS                                                      \
	(HOMA_HIST_SMALL_MAX / HOMA_HIST_SMALL_STEP +                          \
	 (HOMA_HIST_MID_MAX - HOMA_HIST_SMALL_MAX) / HOMA_HIST_MID_STEP)

struct homa_hist {
	uint64_t bytes[HOMA_HIST_BUCKETS]; /* bytes of messages per bucket */
	uint64_t large_count; /* messages above HOMA_HIST_MID_MAX */
	uint64_t large_bytes; /* their bytes */
};

/* State of the automatic computation between periods. */
struct homa_cutoffs_auto {
	struct homa_hist last;	/* histogram at the last recomputation */
	uint32_t deciles[9];	/* message-size deciles then, bytes */
	int64_t num_priorities; /* num_priorities then (0 = never ran) */
};

/* homa_hist_bucket_max() - largest length in bucket i. */
uint32_t homa_hist_bucket_max(int i);

/* Number of small (64-byte) buckets. */
#define HOMA_HIST_SMALL_BUCKETS (HOMA_HIST_SMALL_MAX / HOMA_HIST_SMALL_STEP)

/* homa_hist_record() - count one received message of length bytes
 * (inline: every message received). */
static inline void homa_hist_record(struct homa_hist *hist, uint32_t length)
{
	uint32_t i;

	if (length <= HOMA_HIST_SMALL_MAX) {
		i = length ? (length - 1) / HOMA_HIST_SMALL_STEP : 0;
	} else if (length <= HOMA_HIST_MID_MAX) {
		i = HOMA_HIST_SMALL_BUCKETS +
		    (length - HOMA_HIST_SMALL_MAX - 1) / HOMA_HIST_MID_STEP;
	} else {
		hist->large_count++;
		hist->large_bytes += length;
		return;
	}
	hist->bytes[i] += length;
}

/* homa_cutoffs_clamp() - num_priorities forced into
 * 1..HOMA_MAX_PRIORITIES. */
static inline int homa_cutoffs_clamp(int64_t num_priorities)
{
	if (num_priorities < 1)
		return 1;
	if (num_priorities > HOMA_MAX_PRIORITIES)
		return HOMA_MAX_PRIORITIES;
	return (int)num_priorities;
}

/*
 * homa_cutoffs_normalize() - the rules applied whenever cutoffs or
 * num_priorities change: entries >= num_priorities become 0, entry 0
 * becomes HOMA_CUTOFF_INFINITE. Returns max_sched_prio: (highest i below
 * num_priorities with cutoff >= max_message) - 1, or 0 if only entry 0.
 */
int homa_cutoffs_normalize(int64_t cutoffs[HOMA_MAX_PRIORITIES],
			   int64_t num_priorities, int64_t max_message);

/*
 * homa_cutoffs_pick() - the sender's level for the unscheduled bytes of a
 * message of length bytes: the first i from num_priorities-1 down whose
 * cutoff >= length; 0 if none (inline: every message sent).
 */
static inline int homa_cutoffs_pick(const uint32_t cutoffs[HOMA_MAX_PRIORITIES],
				    int64_t num_priorities, uint32_t length)
{
	for (int i = homa_cutoffs_clamp(num_priorities) - 1; i >= 0; i--)
		if (cutoffs[i] >= length)
			return i;
	return 0;
}

/*
 * homa_cutoffs_compute() - the automatic algorithm of spec 7 on the
 * difference between hist and st->last. Proceeds only if at least
 * min_messages arrived and the deciles moved by >= 1.0 in total (or
 * num_priorities changed); then writes new cutoffs (not yet normalized),
 * updates st and returns 1. Returns 0 when nothing should change.
 * max_message is the cutoff written for the scheduled levels.
 */
int homa_cutoffs_compute(struct homa_cutoffs_auto *st,
			 const struct homa_hist *hist, int64_t num_priorities,
			 int64_t unsched_bytes, int64_t min_messages,
			 int64_t max_message,
			 int64_t cutoffs[HOMA_MAX_PRIORITIES]);

#endif /* HOMA_CORE_CUTOFFS_H */
