/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sim_event.h - the discrete-event engine of homa-sim and of the test
 * network (tests/support; library homa_sim_engine): a clock in
 * picoseconds and a queue of pending events ordered by (time, sequence
 * number). The sequence number is taken from a counter each time an event
 * is scheduled, so events due at the same picosecond run in the order they
 * were scheduled and one seed gives one run, event for event.
 *
 * Events are embedded in the objects they concern (in homa-sim a packet,
 * a port, a host; the test network embeds each in a block it allocates
 * per event), so scheduling never allocates; an event is either pending
 * or idle, and scheduling a pending event moves it.
 *
 * The queue is a timing wheel in front of a heap. Time is cut into
 * buckets of 2^SIM_WHEEL_BUCKET_BITS ps; the wheel holds the events of the
 * next SIM_WHEEL_BUCKETS buckets in unsorted per-bucket lists, and a 4-ary
 * min-heap holds the events beyond. When the clock reaches a bucket its
 * events (from the wheel and from the heap) are sorted by (time, sequence)
 * into a small array that is then consumed in order; an event scheduled
 * into the current bucket is inserted into that array at its place. So
 * the order is exactly (time, sequence), and the cost per event is O(1)
 * for the common near-future event and O(log n) for far ones. Cancelled
 * or moved events leave stale entries in the array or the heap, which are
 * recognized by their sequence numbers and skipped. Handlers run with the
 * clock set to the event's time and may schedule anything.
 */
#ifndef SIM_EVENT_H
#define SIM_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_PS_PER_NS  1000ull
#define SIM_PS_PER_US  1000000ull
#define SIM_PS_PER_MS  1000000000ull
#define SIM_TIME_NEVER UINT64_MAX /* a time no event reaches */

struct sim_event;

/* Handler of an event; the clock is already at the event's time. */
typedef void (*sim_event_fn)(struct sim_event *ev);

/* Where a pending event is kept. */
enum sim_event_place {
	SIM_EVENT_IDLE = 0,  /* not pending */
	SIM_EVENT_WHEEL = 1, /* in a wheel bucket's list */
	SIM_EVENT_SLOT = 2,  /* in a slot of the current array or the heap */
};

struct sim_event {
	sim_event_fn fn;	/* handler, set by the owner */
	uint64_t time_ps;	/* due time while pending, ps */
	uint64_t seq;		/* sequence number of the live entry */
	struct sim_event *next; /* wheel bucket list */
	struct sim_event *prev; /* wheel bucket list */
	uint8_t place;		/* enum sim_event_place */
};

/* One entry of the current bucket's array or of the heap: the key is
 * copied here so comparisons stay local. An entry whose seq no longer
 * matches its event's is stale. */
struct sim_event_slot {
	unsigned __int128 key; /* due time (ps) << 64 | sequence number */
	struct sim_event *ev;  /* the event */
};

#define SIM_WHEEL_BUCKET_BITS 14 /* 16.384 ns buckets */
#define SIM_WHEEL_BITS	      14 /* 16384 buckets: 268 us ahead */
#define SIM_WHEEL_BUCKETS     (1u << SIM_WHEEL_BITS)

struct sim_event_queue {
	struct sim_event **wheel;    /* bucket lists (heads) */
	uint64_t *bitmap;	     /* bit b set iff wheel[b] is not empty */
	uint64_t cur_bucket;	     /* absolute number of the current bucket */
	struct sim_event_slot *cur;  /* current bucket, sorted */
	uint32_t cur_pos;	     /* next entry of cur to run */
	uint32_t cur_n;		     /* entries in cur */
	uint32_t cur_cap;	     /* entries allocated in cur */
	struct sim_event_slot *heap; /* 4-ary min-heap of far events */
	uint32_t count;		     /* heap entries (live and stale) */
	uint32_t cap;		     /* heap entries allocated */
	uint32_t live;		     /* pending events */
	uint64_t next_seq;	     /* sequence number of the next schedule */
	uint64_t now_ps;	     /* the clock: time of the current event */
	uint64_t executed;	     /* events run since init */
	uint64_t stale;		     /* stale entries skipped since init */
	int error;		     /* first failure (-ENOMEM), 0 if none */
};

/* sim_event_queue_init() - an empty queue at time 0. 0 or -ENOMEM. */
int sim_event_queue_init(struct sim_event_queue *q);
/* sim_event_queue_free() - release the heap. Pending events are dropped
 * without being touched (their owners may already be gone). */
void sim_event_queue_free(struct sim_event_queue *q);

/* sim_event_init() - make ev idle with handler fn. */
static inline void sim_event_init(struct sim_event *ev, sim_event_fn fn)
{
	ev->fn = fn;
	ev->time_ps = 0;
	ev->seq = 0;
	ev->next = ev->prev = NULL;
	ev->place = SIM_EVENT_IDLE;
}

static inline bool sim_event_pending(const struct sim_event *ev)
{
	return ev->place != SIM_EVENT_IDLE;
}

/*
 * sim_event_schedule() - run ev at time_ps (clamped to now). A pending ev
 * is moved and gets a new sequence number. Errors: -ENOMEM (heap growth;
 * ev is left idle and q->error is set, which stops the run loop, so
 * callers may ignore the return value).
 */
int sim_event_schedule(struct sim_event_queue *q, struct sim_event *ev,
		       uint64_t time_ps);
/* sim_event_cancel() - make ev idle (O(1)); no-op if it is not pending. */
void sim_event_cancel(struct sim_event_queue *q, struct sim_event *ev);
/* sim_event_time() - due time of a pending ev, SIM_TIME_NEVER if idle. */
static inline uint64_t sim_event_time(const struct sim_event *ev)
{
	return sim_event_pending(ev) ? ev->time_ps : SIM_TIME_NEVER;
}

/*
 * sim_event_run_until() - run events due at or before end_ps, in order,
 * until none is left, *stop becomes true (stop may be NULL) or q->error
 * is set. Leaves the clock at end_ps if it ran out of events before it
 * (never moves it back). Returns the number of events run.
 */
uint64_t sim_event_run_until(struct sim_event_queue *q, uint64_t end_ps,
			     const bool *stop);

#endif /* SIM_EVENT_H */
