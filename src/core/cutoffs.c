/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cutoffs.c - unscheduled priority cutoffs (spec/protocol.md 7).
 *
 * Three jobs. homa_cutoffs_normalize() applies the rules Linux applies
 * whenever unsched_cutoffs or num_priorities is written, and derives
 * max_sched_prio. homa_cutoffs_pick() is the sender's choice of level for
 * a message's unscheduled bytes. homa_cutoffs_compute() does in the core
 * what Linux leaves to the homa_prio daemon: from the histogram of
 * received message sizes (homa_hist_record) it estimates messages per
 * bucket, computes size deciles, and when enough messages arrived and the
 * workload moved (or num_priorities changed) it spreads the unscheduled
 * bytes evenly over the unscheduled levels. Everything is integer
 * arithmetic: message counts are kept in 1/1024ths of a message and the
 * decile movement in parts per million. No state lives here besides the
 * caller's struct homa_cutoffs_auto.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cutoffs.h"

/* Message counts are estimated in units of 1/MSG_SCALE message. */
#define MSG_SCALE 1024u
/* The decile movement threshold of 1.0, in parts per million. */
#define MOVE_PPM_THRESHOLD 1000000u

/*
 * Bucket i < HOMA_HIST_SMALL_BUCKETS holds lengths (64 i, 64 (i + 1)], the later
 * ones lengths (4096 + 1024 (j - 1), 4096 + 1024 j] with j = i - 63
 * (length 0 counts in bucket 0). Returns 0 for i < 0 (the "previous
 * maximum" of bucket 0) and HOMA_CUTOFF_INFINITE for the large bucket
 * (i >= HOMA_HIST_BUCKETS).
 */
uint32_t homa_hist_bucket_max(int i)
{
	if (i < 0)
		return 0;
	if (i < HOMA_HIST_SMALL_BUCKETS)
		return (uint32_t)(i + 1) * HOMA_HIST_SMALL_STEP;
	if (i < HOMA_HIST_BUCKETS)
		return HOMA_HIST_SMALL_MAX +
		       (uint32_t)(i - HOMA_HIST_SMALL_BUCKETS + 1) *
			       HOMA_HIST_MID_STEP;
	return HOMA_CUTOFF_INFINITE;
}

int homa_cutoffs_normalize(int64_t cutoffs[HOMA_MAX_PRIORITIES],
			   int64_t num_priorities, int64_t max_message)
{
	int n = homa_cutoffs_clamp(num_priorities);
	int i;

	for (i = n; i < HOMA_MAX_PRIORITIES; i++)
		cutoffs[i] = 0;
	cutoffs[0] = HOMA_CUTOFF_INFINITE;
	for (i = n - 1; i > 0; i--)
		if (cutoffs[i] >= max_message)
			return i - 1;
	return 0;
}

/* sub_sat() - a - b, or 0 if the counter went backwards. */
static uint64_t sub_sat(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/* muldiv() - floor(a * m / d) without overflow for small m and d > 0
 * (exact while (a / d) * m fits in 64 bits). */
static uint64_t muldiv(uint64_t a, uint64_t m, uint64_t d)
{
	return (a / d) * m + (a % d) * m / d;
}

/* One bucket of the period's difference histogram. */
struct bucket {
	uint64_t max;	/* largest length in the bucket, bytes */
	uint64_t bytes; /* bytes of messages received this period */
	uint64_t msgs;	/* estimated messages, 1/MSG_SCALE units */
};

/*
 * bucket_get() - bucket i (0..HOMA_HIST_BUCKETS, the last being the large
 * bucket, whose size is taken to be max_message and whose count is
 * exact) of hist minus last.
 */
static struct bucket bucket_get(const struct homa_hist *hist,
				const struct homa_hist *last, int i,
				uint64_t max_message)
{
	struct bucket b;
	uint64_t den;

	if (i >= HOMA_HIST_BUCKETS) {
		b.max = max_message;
		b.bytes = sub_sat(hist->large_bytes, last->large_bytes);
		b.msgs = sub_sat(hist->large_count, last->large_count) *
			 MSG_SCALE;
		return b;
	}
	b.max = homa_hist_bucket_max(i);
	b.bytes = sub_sat(hist->bytes[i], last->bytes[i]);
	/* Messages average (max + previous max) / 2 bytes. */
	den = b.max + homa_hist_bucket_max(i - 1);
	b.msgs = muldiv(b.bytes, 2 * MSG_SCALE, den);
	return b;
}

/*
 * compute_deciles() - the 9 message-size deciles of the period: decile d
 * is the maximum of the bucket where the cumulative message count first
 * reaches d/10 of total (all counts in 1/MSG_SCALE messages).
 */
static void compute_deciles(const struct homa_hist *hist,
			    const struct homa_hist *last, uint64_t max_message,
			    uint64_t total, uint32_t deciles[9])
{
	uint64_t cum = 0;
	int i, d = 1;

	for (i = 0; i <= HOMA_HIST_BUCKETS && d <= 9; i++) {
		struct bucket b = bucket_get(hist, last, i, max_message);

		cum += b.msgs;
		while (d <= 9 && cum * 10 >= total * (uint64_t)d) {
			deciles[d - 1] = (uint32_t)b.max;
			d++;
		}
	}
	for (; d <= 9; d++)
		deciles[d - 1] = (uint32_t)max_message;
}

/*
 * deciles_moved() - whether the sum over the 9 deciles of
 * (larger - smaller) / larger reaches 1.0 (computed in ppm).
 */
static bool deciles_moved(const uint32_t old[9], const uint32_t cur[9])
{
	uint64_t ppm = 0;
	int i;

	for (i = 0; i < 9; i++) {
		uint64_t hi = old[i] > cur[i] ? old[i] : cur[i];
		uint64_t lo = old[i] > cur[i] ? cur[i] : old[i];

		if (hi)
			ppm += (hi - lo) * 1000000u / hi;
	}
	return ppm >= MOVE_PPM_THRESHOLD;
}

/* bucket_unsched() - the unscheduled bytes of bucket b: all of them if
 * its messages fit in unsched_bytes, else at most unsched per message. */
static uint64_t bucket_unsched(const struct bucket *b, uint64_t unsched)
{
	uint64_t cap;

	if (b->max <= unsched)
		return b->bytes;
	cap = muldiv(b->msgs, unsched, MSG_SCALE);
	return cap < b->bytes ? cap : b->bytes;
}

/*
 * unsched_levels() - k = max(1, floor(n U / T + 0.5)), the number of
 * levels for unscheduled bytes. Both are scaled down first if needed so
 * that 2 n U cannot overflow (U <= T).
 */
static uint64_t unsched_levels(uint64_t u, uint64_t t, int n)
{
	uint64_t k;

	while (t >= (1ull << 58)) {
		u >>= 1;
		t >>= 1;
	}
	k = (2 * (uint64_t)n * u + t) / (2 * t);
	return k ? k : 1;
}

/*
 * assign_cutoffs() - the spec's pseudo-code: walk buckets in increasing
 * size and close a level each time another quota of unscheduled bytes has
 * been passed; every level left gets max_message.
 */
static void assign_cutoffs(const struct homa_hist *hist,
			   const struct homa_hist *last, int n,
			   uint64_t unsched, uint64_t max_message,
			   int64_t cutoffs[HOMA_MAX_PRIORITIES])
{
	uint64_t u = 0, t = 0, k, quota, next, cum = 0;
	int i, level = n - 1;

	for (i = 0; i <= HOMA_HIST_BUCKETS; i++) {
		struct bucket b = bucket_get(hist, last, i, max_message);

		u += bucket_unsched(&b, unsched);
		t += b.bytes;
	}
	k = unsched_levels(u, t, n);
	quota = 1 + (k < (uint64_t)n ? u / k : t / (uint64_t)n);
	next = quota;
	for (i = 0; i <= HOMA_HIST_BUCKETS && level > 0; i++) {
		struct bucket b = bucket_get(hist, last, i, max_message);

		cum += bucket_unsched(&b, unsched);
		if (cum >= u)
			break;
		if (cum >= next) {
			cutoffs[level--] = (int64_t)b.max;
			next = cum + quota;
			if (next >= u)
				break;
		}
	}
	for (; level >= 0; level--)
		cutoffs[level] = (int64_t)max_message;
	for (i = n; i < HOMA_MAX_PRIORITIES; i++)
		cutoffs[i] = 0;
}

/*
 * st changes only when new cutoffs are written, so the difference
 * histogram (the "period") covers everything since the last
 * recomputation: messages keep accumulating across calls until there are
 * min_messages of them, and the deciles are compared with those of the
 * last recomputation, not of the last call.
 */
int homa_cutoffs_compute(struct homa_cutoffs_auto *st,
			 const struct homa_hist *hist, int64_t num_priorities,
			 int64_t unsched_bytes, int64_t min_messages,
			 int64_t max_message,
			 int64_t cutoffs[HOMA_MAX_PRIORITIES])
{
	uint64_t total = 0, bytes = 0, max_msg, unsched;
	uint32_t deciles[9];
	int n = homa_cutoffs_clamp(num_priorities);
	int i;

	max_msg = max_message > 0 ? (uint64_t)max_message : 1;
	unsched = unsched_bytes > 0 ? (uint64_t)unsched_bytes : 0;
	for (i = 0; i <= HOMA_HIST_BUCKETS; i++) {
		struct bucket b = bucket_get(hist, &st->last, i, max_msg);

		total += b.msgs;
		bytes += b.bytes;
	}
	if (bytes == 0 ||
	    (min_messages > 0 && total < (uint64_t)min_messages * MSG_SCALE))
		return 0;
	compute_deciles(hist, &st->last, max_msg, total, deciles);
	if (n == st->num_priorities && !deciles_moved(st->deciles, deciles))
		return 0;
	assign_cutoffs(hist, &st->last, n, unsched, max_msg, cutoffs);
	st->last = *hist;
	memcpy(st->deciles, deciles, sizeof(deciles));
	st->num_priorities = n;
	return 1;
}
