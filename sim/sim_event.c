/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sim_event.c - the event queue of homa-sim and the test network: a
 * timing wheel for the near future in front of a 4-ary heap for the rest
 * (see sim_event.h).
 *
 * Invariants, with C the current bucket (cur_bucket) and N the number of
 * wheel buckets: a pending event lives in exactly one place. Events of
 * bucket C are in the sorted array cur (entries from cur_pos on); events
 * of buckets C+1 .. C+N-1 are in wheel[b mod N] lists (so each list holds
 * a single bucket); later events are in the heap. The heap may also hold
 * events of buckets that have come within reach since they were pushed:
 * loading the next bucket takes the earlier of the wheel's next non-empty
 * bucket and the heap's top, and drains both for that bucket, so nothing
 * is ever taken out of order. cur_bucket never passes the bucket of the
 * clock's target, so a new event is never earlier than C.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim_event.h"

#define SIM_HEAP_ARITY	   4
#define SIM_HEAP_MIN_SLOTS 1024
#define SIM_WHEEL_MASK	   (SIM_WHEEL_BUCKETS - 1)
#define SIM_BITMAP_WORDS   (SIM_WHEEL_BUCKETS / 64)

static inline uint64_t bucket_of(uint64_t time_ps)
{
	return time_ps >> SIM_WHEEL_BUCKET_BITS;
}

static inline bool slot_before(const struct sim_event_slot *a,
			       const struct sim_event_slot *b)
{
	return a->key < b->key;
}

static inline uint64_t slot_time(const struct sim_event_slot *s)
{
	return (uint64_t)(s->key >> 64);
}

static inline bool slot_live(const struct sim_event_slot *s)
{
	return s->ev->place == SIM_EVENT_SLOT && s->ev->seq == (uint64_t)s->key;
}

/* ---- the heap of far events ---- */

static void heap_up(struct sim_event_slot *heap, uint32_t ix,
		    struct sim_event_slot s)
{
	while (ix > 0) {
		uint32_t parent = (ix - 1) / SIM_HEAP_ARITY;

		if (!slot_before(&s, &heap[parent]))
			break;
		heap[ix] = heap[parent];
		ix = parent;
	}
	heap[ix] = s;
}

static void heap_down(struct sim_event_slot *heap, uint32_t count, uint32_t ix,
		      struct sim_event_slot s)
{
	for (;;) {
		uint32_t first = ix * SIM_HEAP_ARITY + 1;
		uint32_t best, end, c;

		if (first >= count)
			break;
		end = first + SIM_HEAP_ARITY;
		if (end > count)
			end = count;
		best = first;
		for (c = first + 1; c < end; c++)
			if (slot_before(&heap[c], &heap[best]))
				best = c;
		if (!slot_before(&heap[best], &s))
			break;
		heap[ix] = heap[best];
		ix = best;
	}
	heap[ix] = s;
}

static void heap_pop(struct sim_event_queue *q)
{
	q->count--;
	if (q->count)
		heap_down(q->heap, q->count, 0, q->heap[q->count]);
}

/* Drop every stale entry and rebuild the heap (Floyd, O(n)). */
static void heap_purge(struct sim_event_queue *q)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < q->count; i++)
		if (slot_live(&q->heap[i]))
			q->heap[n++] = q->heap[i];
	q->count = n;
	if (n < 2)
		return;
	for (uint32_t i = (n - 2) / SIM_HEAP_ARITY + 1; i-- > 0;)
		heap_down(q->heap, n, i, q->heap[i]);
}

static int heap_push(struct sim_event_queue *q, struct sim_event_slot s)
{
	if (q->count == q->cap) {
		struct sim_event_slot *h;

		if (q->count > 2 * q->live + SIM_HEAP_MIN_SLOTS) {
			heap_purge(q);
		} else {
			h = realloc(q->heap, 2 * (size_t)q->cap * sizeof(*h));
			if (!h)
				return -ENOMEM;
			q->heap = h;
			q->cap *= 2;
		}
	}
	heap_up(q->heap, q->count++, s);
	return 0;
}

/* The heap's earliest live entry, dropping stale ones; NULL if none. */
static struct sim_event_slot *heap_top(struct sim_event_queue *q)
{
	while (q->count && !slot_live(&q->heap[0])) {
		heap_pop(q);
		q->stale++;
	}
	return q->count ? &q->heap[0] : NULL;
}

/* ---- the wheel ---- */

static void wheel_add(struct sim_event_queue *q, struct sim_event *ev,
		      uint64_t bucket)
{
	uint32_t b = (uint32_t)(bucket & SIM_WHEEL_MASK);

	ev->prev = NULL;
	ev->next = q->wheel[b];
	if (ev->next)
		ev->next->prev = ev;
	q->wheel[b] = ev;
	q->bitmap[b / 64] |= 1ull << (b % 64);
	ev->place = SIM_EVENT_WHEEL;
}

static void wheel_remove(struct sim_event_queue *q, struct sim_event *ev)
{
	uint32_t b = (uint32_t)(bucket_of(ev->time_ps) & SIM_WHEEL_MASK);

	if (ev->prev)
		ev->prev->next = ev->next;
	else
		q->wheel[b] = ev->next;
	if (ev->next)
		ev->next->prev = ev->prev;
	if (!q->wheel[b])
		q->bitmap[b / 64] &= ~(1ull << (b % 64));
}

/* Absolute number of the first non-empty wheel bucket after the current
 * one, or UINT64_MAX. */
static uint64_t wheel_next(const struct sim_event_queue *q)
{
	uint32_t start = (uint32_t)((q->cur_bucket + 1) & SIM_WHEEL_MASK);
	uint32_t w = start / 64, dist = 0;
	uint64_t bits = q->bitmap[w] & (~0ull << (start % 64));

	for (uint32_t n = 0; n <= SIM_BITMAP_WORDS; n++) {
		if (bits) {
			uint32_t b = w * 64 + (uint32_t)__builtin_ctzll(bits);

			dist = (b - start) & SIM_WHEEL_MASK;
			return q->cur_bucket + 1 + dist;
		}
		w = (w + 1) % SIM_BITMAP_WORDS;
		bits = q->bitmap[w];
	}
	return UINT64_MAX;
}

/* ---- the current bucket ---- */

static int cur_reserve(struct sim_event_queue *q, uint32_t n)
{
	struct sim_event_slot *c;
	uint32_t cap = q->cur_cap;

	if (n <= cap)
		return 0;
	while (cap < n)
		cap *= 2;
	c = realloc(q->cur, cap * sizeof(*c));
	if (!c)
		return -ENOMEM;
	q->cur = c;
	q->cur_cap = cap;
	return 0;
}

/* Insert s among the pending entries of cur, keeping them sorted. */
static int cur_insert(struct sim_event_queue *q, struct sim_event_slot s)
{
	uint32_t lo = q->cur_pos, hi = q->cur_n;

	if (q->cur_pos == q->cur_n)
		q->cur_pos = q->cur_n = lo = hi = 0;
	if (cur_reserve(q, q->cur_n + 1))
		return -ENOMEM;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (slot_before(&s, &q->cur[mid]))
			hi = mid;
		else
			lo = mid + 1;
	}
	memmove(&q->cur[lo + 1], &q->cur[lo],
		(q->cur_n - lo) * sizeof(q->cur[0]));
	q->cur[lo] = s;
	q->cur_n++;
	return 0;
}

static void cur_sort(struct sim_event_slot *v, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++) {
		struct sim_event_slot s = v[i];
		uint32_t j = i;

		while (j > 0 && slot_before(&s, &v[j - 1])) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = s;
	}
}

/* Make the next bucket with events, if it is not after last_bucket, the
 * current one. Returns false if there is none. */
static bool cur_load(struct sim_event_queue *q, uint64_t last_bucket)
{
	uint64_t next = wheel_next(q);
	struct sim_event_slot *top = heap_top(q);
	struct sim_event *ev;
	uint32_t n = 0;

	if (top && bucket_of(slot_time(top)) < next)
		next = bucket_of(slot_time(top));
	if (next == UINT64_MAX || next > last_bucket)
		return false;
	q->cur_bucket = next;
	q->cur_pos = q->cur_n = 0;
	ev = q->wheel[next & SIM_WHEEL_MASK];
	for (; ev; ev = ev->next, n++) {
		if (cur_reserve(q, n + 1)) {
			q->error = -ENOMEM;
			return false;
		}
		ev->place = SIM_EVENT_SLOT;
		q->cur[n].key = (unsigned __int128)ev->time_ps << 64 | ev->seq;
		q->cur[n].ev = ev;
	}
	q->wheel[next & SIM_WHEEL_MASK] = NULL;
	q->bitmap[(next & SIM_WHEEL_MASK) / 64] &=
		~(1ull << ((next & SIM_WHEEL_MASK) % 64));
	while ((top = heap_top(q)) && bucket_of(slot_time(top)) == next) {
		if (cur_reserve(q, n + 1)) {
			q->error = -ENOMEM;
			return false;
		}
		q->cur[n++] = *top;
		heap_pop(q);
	}
	cur_sort(q->cur, n);
	q->cur_n = n;
	return true;
}

/* ---- public ---- */

int sim_event_queue_init(struct sim_event_queue *q)
{
	memset(q, 0, sizeof(*q));
	q->wheel = calloc(SIM_WHEEL_BUCKETS, sizeof(*q->wheel));
	q->bitmap = calloc(SIM_BITMAP_WORDS, sizeof(*q->bitmap));
	q->cur = malloc(64 * sizeof(*q->cur));
	q->heap = malloc(SIM_HEAP_MIN_SLOTS * sizeof(*q->heap));
	if (!q->wheel || !q->bitmap || !q->cur || !q->heap) {
		sim_event_queue_free(q);
		return -ENOMEM;
	}
	q->cur_cap = 64;
	q->cap = SIM_HEAP_MIN_SLOTS;
	q->next_seq = 1;
	return 0;
}

void sim_event_queue_free(struct sim_event_queue *q)
{
	free(q->wheel);
	free(q->bitmap);
	free(q->cur);
	free(q->heap);
	q->wheel = NULL;
	q->bitmap = NULL;
	q->cur = q->heap = NULL;
	q->count = q->cap = q->live = q->cur_n = q->cur_pos = q->cur_cap = 0;
}

int sim_event_schedule(struct sim_event_queue *q, struct sim_event *ev,
		       uint64_t time_ps)
{
	struct sim_event_slot s;
	uint64_t b;
	int ret = 0;

	if (time_ps < q->now_ps)
		time_ps = q->now_ps;
	if (ev->place == SIM_EVENT_WHEEL)
		wheel_remove(q, ev);
	else if (ev->place == SIM_EVENT_IDLE)
		q->live++;
	ev->time_ps = time_ps;
	ev->seq = q->next_seq++;
	b = bucket_of(time_ps);
	if (b > q->cur_bucket && b - q->cur_bucket < SIM_WHEEL_BUCKETS) {
		wheel_add(q, ev, b);
		return 0;
	}
	s.key = (unsigned __int128)time_ps << 64 | ev->seq;
	s.ev = ev;
	ev->place = SIM_EVENT_SLOT;
	if (b <= q->cur_bucket)
		ret = cur_insert(q, s);
	else
		ret = heap_push(q, s);
	if (ret) {
		ev->place = SIM_EVENT_IDLE;
		q->live--;
		q->error = ret;
	}
	return ret;
}

void sim_event_cancel(struct sim_event_queue *q, struct sim_event *ev)
{
	if (ev->place == SIM_EVENT_IDLE)
		return;
	if (ev->place == SIM_EVENT_WHEEL)
		wheel_remove(q, ev);
	ev->place = SIM_EVENT_IDLE;
	q->live--;
}

uint64_t sim_event_run_until(struct sim_event_queue *q, uint64_t end_ps,
			     const bool *stop)
{
	uint64_t last =
		end_ps == SIM_TIME_NEVER ? UINT64_MAX : bucket_of(end_ps);
	uint64_t ran = 0;
	bool stopped = false;

	for (;;) {
		struct sim_event_slot s;

		if ((stop && *stop) || q->error) {
			stopped = true;
			break;
		}
		if (q->cur_pos == q->cur_n) {
			if (!cur_load(q, last))
				break;
			continue;
		}
		s = q->cur[q->cur_pos];
		if (!slot_live(&s)) {
			q->cur_pos++;
			q->stale++;
			continue;
		}
		if (slot_time(&s) > end_ps)
			break;
		q->cur_pos++;
		s.ev->place = SIM_EVENT_IDLE;
		q->live--;
		q->now_ps = slot_time(&s);
		s.ev->fn(s.ev);
		ran++;
	}
	q->executed += ran;
	if (!stopped && end_ps != SIM_TIME_NEVER && q->now_ps < end_ps)
		q->now_ps = end_ps;
	return ran;
}
