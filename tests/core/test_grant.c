/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_grant.c - unit tests for src/core/grant.c.
 *
 * A fake send_grant records every grant (message, offset, priority, and
 * whether it was a FIFO grant, told apart by the fifo_grants counter) and
 * checks on the spot that normal grants go to active messages, never push
 * total_incoming past max_incoming and that offsets only grow. The
 * directed tests follow the examples of spec/protocol.md section 4; the
 * randomized tests run hundreds of messages from several peers with
 * random arrivals and check every invariant of the scheduler after each
 * step, that every message is eventually fully granted and that the
 * scheduler ends empty.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "grant.h"

#define MAX_MSGS  400
#define MAX_PEERS 8
#define MAX_CALLS 64 /* calls recorded in detail; all are counted */

struct call {
	struct homa_grant_msg *m; /* message granted */
	uint32_t offset;	  /* offset in the GRANT */
	int prio;		  /* priority level */
	bool fifo;		  /* a FIFO grant */
	bool nudge;		  /* a nudge (repeats the offset) */
};

struct fixture {
	struct homa_config config;
	struct homa_metrics metrics;
	struct homa_grant g;
	struct homa_grant_peer peers[MAX_PEERS];
	struct homa_grant_msg msgs[MAX_MSGS];
	uint32_t prev_granted[MAX_MSGS]; /* granted at the last check */
	uint32_t last_offset[MAX_MSGS];	 /* last offset sent */
	int seen[MAX_MSGS];		 /* scratch for the invariant check */
	struct call calls[MAX_CALLS];
	int num_calls;	     /* all grants, recorded or not */
	uint64_t fifo_seen;  /* fifo_grants counter at the last grant */
	uint64_t nudge_seen; /* nudges_sent counter at the last grant */
};

/* The defaults of spec section 10, except FIFO grants (off unless a test
 * turns them on, so grant sequences are predictable). */
static void config_defaults(struct homa_config *c)
{
	static const int64_t cutoffs[HOMA_MAX_PRIORITIES] = {
		0, 0, 0, 0, 1000000, 15000, 2800, 200
	};
	int i;

	memset(c, 0, sizeof(*c));
	c->unsched_bytes = 40000;
	c->window = 0;
	c->max_incoming = 400000;
	c->max_overcommit = 8;
	c->grant_fifo_fraction = 0;
	c->fifo_grant_increment = 50000;
	c->num_priorities = 8;
	for (i = 0; i < HOMA_MAX_PRIORITIES; i++) {
		c->priority_map[i] = i;
		c->unsched_cutoffs[i] = cutoffs[i];
	}
	c->link_mbps = 25000;
}

static int msg_ix(struct fixture *f, const struct homa_grant_msg *m)
{
	return (int)(m - f->msgs);
}

static void fake_send_grant(void *ctx, struct homa_grant_msg *m,
			    uint32_t offset, int priority)
{
	struct fixture *f = ctx;
	uint64_t fifo_now = f->metrics.v[HOMA_M_fifo_grants];
	uint64_t nudge_now = f->metrics.v[HOMA_M_nudges_sent];
	bool fifo = fifo_now != f->fifo_seen;
	bool nudge = nudge_now != f->nudge_seen;
	int ix = msg_ix(f, m);

	f->fifo_seen = fifo_now;
	f->nudge_seen = nudge_now;
	assert_true(m->managed);
	assert_int_equal(offset, m->granted);
	assert_true(offset <= m->length);
	/* Offsets only grow, except that a nudge repeats the last one for
	 * a message still waiting for granted bytes. */
	if (nudge)
		assert_true(offset == f->last_offset[ix] &&
			    m->received < offset);
	else
		assert_true(offset > f->last_offset[ix]);
	f->last_offset[ix] = offset;
	if (fifo) {
		int high = (int)f->config.num_priorities - 2;

		assert_int_equal(priority, high > 0 ? high : 0);
		/* follows a normal grant: at most one increment past */
		assert_true(f->g.total_incoming <=
			    f->config.max_incoming +
				    f->config.fifo_grant_increment);
	} else {
		assert_true(m->active_ix >= 0);
		assert_true(f->g.total_incoming <= f->config.max_incoming);
		assert_true(priority >= 0 && priority <= f->g.max_sched_prio);
	}
	if (f->num_calls < MAX_CALLS) {
		f->calls[f->num_calls].m = m;
		f->calls[f->num_calls].offset = offset;
		f->calls[f->num_calls].prio = priority;
		f->calls[f->num_calls].fifo = fifo;
		f->calls[f->num_calls].nudge = nudge;
	}
	f->num_calls++;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int i;

	if (!f)
		return -1;
	config_defaults(&f->config);
	homa_grant_init(&f->g, &f->config, &f->metrics, fake_send_grant, f);
	for (i = 0; i < MAX_PEERS; i++)
		homa_grant_peer_init(&f->peers[i]);
	for (i = 0; i < MAX_MSGS; i++)
		homa_grant_msg_init(&f->msgs[i]);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/* mk() - message i of peer, length bytes, granted unscheduled, born at
 * birth, nothing received. */
static struct homa_grant_msg *mk(struct fixture *f, int i, int peer,
				 uint32_t length, uint32_t granted,
				 uint64_t birth)
{
	struct homa_grant_msg *m = &f->msgs[i];

	homa_grant_msg_init(m);
	m->peer = &f->peers[peer];
	m->length = length;
	m->granted = granted;
	m->birth_ns = birth;
	f->prev_granted[i] = granted;
	f->last_offset[i] = granted;
	return m;
}

/* deliver() - m has now received bytes in all; tell the scheduler. */
static void deliver(struct fixture *f, struct homa_grant_msg *m,
		    uint32_t received, uint64_t now_ns)
{
	m->received = received;
	homa_grant_update(&f->g, m, now_ns);
}

static struct call *last_call(struct fixture *f)
{
	assert_true(f->num_calls > 0 && f->num_calls <= MAX_CALLS);
	return &f->calls[f->num_calls - 1];
}

static bool in_peer_list(struct homa_grant_msg *m)
{
	struct homa_list *pos;

	homa_list_for_each(pos, &m->peer->msgs)
	{
		if (pos == &m->link)
			return true;
	}
	return false;
}

/* check_slots() - the active set: within the limit, counts consistent,
 * needy only on occupied slots. */
static void check_slots(struct fixture *f, int num_msgs)
{
	struct homa_grant *g = &f->g;
	int per_peer[MAX_PEERS] = { 0 };
	int i, n = 0;

	for (i = 0; i < HOMA_GRANT_MAX_ACTIVE; i++) {
		struct homa_grant_msg *m = g->active[i];

		if (!m) {
			assert_false(g->needy[i]);
			continue;
		}
		assert_true(i < f->config.max_overcommit);
		assert_int_equal(m->active_ix, i);
		assert_true(m->managed);
		assert_false(homa_list_linked(&m->link));
		assert_true(msg_ix(f, m) < num_msgs);
		per_peer[m->peer - f->peers]++;
		n++;
	}
	assert_int_equal(n, g->num_active);
	assert_true(n <= f->config.max_overcommit);
	for (i = 0; i < MAX_PEERS; i++)
		assert_int_equal(per_peer[i], f->peers[i].num_active);
	if (n < f->config.max_overcommit)
		assert_true(homa_list_empty(&g->peers));
	for (i = 0; i < HOMA_GRANT_MAX_ACTIVE; i++) {
		if (g->needy[i])
			assert_true(g->total_incoming >=
				    f->config.max_incoming);
	}
}

/* check_lists() - peer lists sorted and holding only inactive managed
 * messages of that peer; g->peers sorted by head, holding exactly the
 * peers with inactive messages. Marks f->seen. */
static void check_lists(struct fixture *f)
{
	struct homa_list *pos;
	struct homa_grant_msg *prev;
	int i, nonempty = 0, listed = 0;

	memset(f->seen, 0, sizeof(f->seen));
	for (i = 0; i < MAX_PEERS; i++) {
		struct homa_grant_peer *p = &f->peers[i];

		assert_int_equal(homa_list_empty(&p->msgs),
				 !homa_list_linked(&p->link));
		nonempty += !homa_list_empty(&p->msgs);
		prev = NULL;
		homa_list_for_each(pos, &p->msgs)
		{
			struct homa_grant_msg *m = homa_container_of(
				pos, struct homa_grant_msg, link);

			assert_ptr_equal(m->peer, p);
			assert_true(m->managed);
			assert_int_equal(m->active_ix, -1);
			if (prev)
				assert_false(homa_grant_outranks(m, prev));
			f->seen[msg_ix(f, m)]++;
			prev = m;
		}
	}
	prev = NULL;
	homa_list_for_each(pos, &f->g.peers)
	{
		struct homa_grant_peer *p =
			homa_container_of(pos, struct homa_grant_peer, link);
		struct homa_grant_msg *head = homa_container_of(
			p->msgs.next, struct homa_grant_msg, link);

		assert_false(homa_list_empty(&p->msgs));
		if (prev)
			assert_false(homa_grant_outranks(head, prev));
		prev = head;
		listed++;
	}
	assert_int_equal(listed, nonempty);
}

/* check_invariants() - everything the scheduler promises, for messages
 * 0..num_msgs-1 (the only ones a test uses). */
static void check_invariants(struct fixture *f, int num_msgs)
{
	struct homa_grant *g = &f->g;
	int64_t total = 0, managed = 0;
	struct homa_list *pos;
	uint64_t birth = 0;
	int i, aged = 0;

	check_slots(f, num_msgs);
	check_lists(f);
	for (i = 0; i < num_msgs; i++) {
		struct homa_grant_msg *m = &f->msgs[i];
		int64_t rec = 0;

		assert_true(m->granted <= m->length);
		assert_true(m->granted >= f->prev_granted[i]);
		f->prev_granted[i] = m->granted;
		if (!m->managed) {
			assert_int_equal(f->seen[i], 0);
			assert_int_equal(m->active_ix, -1);
			assert_int_equal(m->rec_incoming, 0);
			continue;
		}
		/* exactly one place: a slot or its peer's list */
		assert_int_equal(f->seen[i], m->active_ix >= 0 ? 0 : 1);
		if (m->granted > m->received)
			rec = (int64_t)m->granted - m->received;
		assert_int_equal(m->rec_incoming, rec);
		total += rec;
		managed++;
	}
	assert_int_equal(total, g->total_incoming);
	assert_int_equal(managed, g->num_managed);
	homa_list_for_each(pos, &g->by_age)
	{
		struct homa_grant_msg *m =
			homa_container_of(pos, struct homa_grant_msg, age_link);

		assert_true(m->managed);
		assert_true(m->birth_ns >= birth);
		birth = m->birth_ns;
		aged++;
	}
	assert_int_equal(aged, managed);
}

/* ---- ranking ---- */

static void homa_grant_outranks__fewer_bytes_remaining(void **state)
{
	struct fixture *f = *state;
	struct homa_grant_msg *a = mk(f, 0, 0, 100000, 60000, 5);
	struct homa_grant_msg *b = mk(f, 1, 0, 60000, 60000, 1);

	/* a: 50000 remaining (received, not granted, counts); b: 60000 */
	a->received = 50000;
	assert_true(homa_grant_outranks(a, b));
	assert_false(homa_grant_outranks(b, a));
	b->received = 20000;
	assert_true(homa_grant_outranks(b, a));
	assert_false(homa_grant_outranks(a, b));
}

static void homa_grant_outranks__ties_broken_by_age(void **state)
{
	struct fixture *f = *state;
	struct homa_grant_msg *a = mk(f, 0, 0, 100000, 40000, 7);
	struct homa_grant_msg *b = mk(f, 1, 1, 100000, 40000, 3);

	assert_true(homa_grant_outranks(b, a));
	assert_false(homa_grant_outranks(a, b));
	b->birth_ns = 7;
	assert_false(homa_grant_outranks(a, b));
	assert_false(homa_grant_outranks(b, a));
	assert_false(homa_grant_outranks(a, a));
}

/* ---- initialization ---- */

static void homa_grant_init__empty(void **state)
{
	struct fixture *f = *state;
	struct homa_grant g;

	assert_int_equal(f->g.num_active, 0);
	assert_int_equal(f->g.total_incoming, 0);
	assert_int_equal(f->g.num_managed, 0);
	assert_true(homa_list_empty(&f->g.peers));
	assert_true(homa_list_empty(&f->g.by_age));
	assert_int_equal(f->g.max_sched_prio, 3);
	for (int i = 0; i < HOMA_GRANT_MAX_ACTIVE; i++) {
		assert_null(f->g.active[i]);
		assert_false(f->g.needy[i]);
	}
	/* max_sched_prio follows the cutoffs: 4 levels, level 2 scheduled */
	f->config.num_priorities = 4;
	f->config.unsched_cutoffs[2] = 1000000;
	homa_grant_init(&g, &f->config, &f->metrics, fake_send_grant, f);
	assert_int_equal(g.max_sched_prio, 1);
	f->config.unsched_cutoffs[2] = 0;
	homa_grant_init(&g, &f->config, &f->metrics, fake_send_grant, f);
	assert_int_equal(g.max_sched_prio, 0);
}

static void homa_grant_msg_init__unmanaged(void **state)
{
	struct fixture *f = *state;
	struct homa_grant_msg *m = &f->msgs[0];
	struct homa_grant_peer *p = &f->peers[0];

	m->granted = 77;
	m->active_ix = 3;
	homa_grant_msg_init(m);
	assert_int_equal(m->active_ix, -1);
	assert_false(m->managed);
	assert_int_equal(m->granted, 0);
	assert_int_equal(m->rec_incoming, 0);
	assert_false(homa_list_linked(&m->link));
	assert_false(homa_list_linked(&m->age_link));
	homa_grant_peer_init(p);
	assert_true(homa_list_empty(&p->msgs));
	assert_false(homa_list_linked(&p->link));
	assert_int_equal(p->num_active, 0);
}

/* ---- admission ---- */

static void homa_grant_add__grants_at_once(void **state)
{
	struct fixture *f = *state;
	struct homa_grant_msg *m = mk(f, 0, 0, 1000000, 40000, 1);

	homa_grant_add(&f->g, m, 0);
	/* window 400000 / (1 + 1); 1 active -> level 0 */
	assert_int_equal(f->num_calls, 1);
	assert_ptr_equal(last_call(f)->m, m);
	assert_int_equal(last_call(f)->offset, 200000);
	assert_int_equal(last_call(f)->prio, 0);
	assert_int_equal(m->rec_incoming, 200000);
	assert_int_equal(f->g.total_incoming, 200000);
	assert_int_equal(f->metrics.v[HOMA_M_grants_sent], 1);
	assert_int_equal(f->metrics.v[HOMA_M_grant_bytes], 160000);
	check_invariants(f, 1);
}

static void homa_grant_add__not_grantable_ignored(void **state)
{
	struct fixture *f = *state;
	struct homa_grant_msg *m = mk(f, 0, 0, 40000, 40000, 1);

	homa_grant_add(&f->g, m, 0);
	assert_false(m->managed);
	assert_int_equal(f->g.num_managed, 0);
	assert_int_equal(f->num_calls, 0);
	/* adding a managed message twice changes nothing */
	m = mk(f, 1, 0, 100000, 40000, 2);
	homa_grant_add(&f->g, m, 0);
	homa_grant_add(&f->g, m, 0);
	assert_int_equal(f->g.num_managed, 1);
	assert_int_equal(f->g.num_active, 1);
	assert_int_equal(f->num_calls, 1);
	check_invariants(f, 2);
}

static void homa_grant_add__empty_slots_then_waits(void **state)
{
	struct fixture *f = *state;
	struct homa_grant_msg *a4;
	int i;

	f->config.max_overcommit = 3;
	f->config.window = 20000;
	for (i = 0; i < 3; i++) {
		struct homa_grant_msg *m =
			mk(f, i, 0, 100000 * (i + 1), 10000, i + 1);

		homa_grant_add(&f->g, m, 0);
		assert_int_equal(m->active_ix, i);
		assert_int_equal(m->granted, 20000);
	}
	assert_int_equal(f->peers[0].num_active, 3);
	/* same peer, worse rank: waits in its peer's list */
	a4 = mk(f, 3, 0, 400000, 10000, 4);
	homa_grant_add(&f->g, a4, 0);
	assert_int_equal(a4->active_ix, -1);
	assert_true(in_peer_list(a4));
	assert_ptr_equal(f->g.peers.next, &f->peers[0].link);
	assert_int_equal(f->num_calls, 3);
	assert_int_equal(f->g.total_incoming, 3 * 20000 + 10000);
	check_invariants(f, 4);
}

static void homa_grant_add__victim_from_busiest_peer(void **state)
{
	struct fixture *f = *state;
	struct homa_grant_msg *a1, *a2, *a3, *b1;

	f->config.max_overcommit = 3;
	f->config.window = 20000;
	a1 = mk(f, 0, 0, 100000, 10000, 1);
	a2 = mk(f, 1, 0, 300000, 10000, 2);
	a3 = mk(f, 2, 0, 300000, 10000, 3);
	homa_grant_add(&f->g, a1, 0);
	homa_grant_add(&f->g, a2, 0);
	homa_grant_add(&f->g, a3, 0);
	/* b1 ranks worst, but peer 0 has 3 active > 0 + 1: evict peer 0's
	 * message with most bytes remaining, the younger of a2 and a3 */
	b1 = mk(f, 3, 1, 900000, 10000, 4);
	homa_grant_add(&f->g, b1, 0);
	assert_int_equal(b1->active_ix, 2);
	assert_int_equal(a3->active_ix, -1);
	assert_true(in_peer_list(a3));
	assert_int_equal(a1->active_ix, 0);
	assert_int_equal(a2->active_ix, 1);
	assert_int_equal(f->peers[0].num_active, 2);
	assert_int_equal(f->peers[1].num_active, 1);
	assert_ptr_equal(last_call(f)->m, b1);
	assert_int_equal(last_call(f)->offset, 20000);
	check_invariants(f, 4);
}

static void homa_grant_add__victim_needs_outrank_when_balanced(void **state)
{
	struct fixture *f = *state;
	struct homa_grant_msg *a1, *a2, *b1, *b2, *b3;

	f->config.max_overcommit = 3;
	f->config.window = 20000;
	a1 = mk(f, 0, 0, 100000, 10000, 1);
	a2 = mk(f, 1, 0, 500000, 10000, 2);
	b1 = mk(f, 2, 1, 300000, 10000, 3);
	homa_grant_add(&f->g, a1, 0);
	homa_grant_add(&f->g, a2, 0);
	homa_grant_add(&f->g, b1, 0);
	/* counts: peer 0 has 2, peer 1 has 1 + candidate = 2; lp = a2 (most
	 * remaining); 2 > 1 + 1 fails, and b2 does not outrank a2 */
	b2 = mk(f, 3, 1, 600000, 10000, 4);
	homa_grant_add(&f->g, b2, 0);
	assert_int_equal(b2->active_ix, -1);
	assert_true(in_peer_list(b2));
	assert_int_equal(f->num_calls, 3);
	/* b3 outranks a2: a2 is evicted */
	b3 = mk(f, 4, 1, 400000, 10000, 5);
	homa_grant_add(&f->g, b3, 0);
	assert_int_equal(b3->active_ix, 1);
	assert_int_equal(a2->active_ix, -1);
	assert_true(in_peer_list(a2));
	assert_ptr_equal(last_call(f)->m, b3);
	/* peers ordered by head: a2 (500000) before b2 (600000) */
	assert_ptr_equal(f->g.peers.next, &f->peers[0].link);
	assert_ptr_equal(f->g.peers.next->next, &f->peers[1].link);
	check_invariants(f, 5);
}

static void homa_grant_add__victim_same_peer_counted(void **state)
{
	struct fixture *f = *state;
	struct homa_grant_msg *a1, *b1, *a2, *a3;

	f->config.max_overcommit = 2;
	f->config.window = 20000;
	a1 = mk(f, 0, 0, 100000, 10000, 1);
	b1 = mk(f, 1, 1, 200000, 10000, 2);
	homa_grant_add(&f->g, a1, 0);
	homa_grant_add(&f->g, b1, 0);
	/* a2 outranks b1, but counting a2 makes peer 0 the busiest, so the
	 * victim is a1, which a2 does not outrank */
	a2 = mk(f, 2, 0, 150000, 10000, 3);
	homa_grant_add(&f->g, a2, 0);
	assert_int_equal(a2->active_ix, -1);
	assert_int_equal(b1->active_ix, 1);
	/* a3 outranks a1: a1 goes back behind a2 */
	a3 = mk(f, 3, 0, 50000, 10000, 4);
	homa_grant_add(&f->g, a3, 0);
	assert_int_equal(a3->active_ix, 0);
	assert_int_equal(a1->active_ix, -1);
	assert_ptr_equal(f->peers[0].msgs.next, &a1->link);
	assert_ptr_equal(f->peers[0].msgs.next->next, &a2->link);
	check_invariants(f, 4);
}

static void homa_grant_add__short_message_preempts_long(void **state)
{
	struct fixture *f = *state;
	struct homa_grant_msg *l1, *l2, *s;

	f->config.max_overcommit = 2;
	f->config.max_incoming = 200000;
	f->config.window = 100000;
	l1 = mk(f, 0, 0, 5000000, 0, 1);
	l2 = mk(f, 1, 1, 4000000, 0, 2);
	homa_grant_add(&f->g, l1, 0);
	homa_grant_add(&f->g, l2, 0);
	assert_int_equal(f->g.total_incoming, 200000);
	s = mk(f, 2, 2, 60000, 10000, 3);
	homa_grant_add(&f->g, s, 0);
	/* s outranks l1 (most remaining): l1 evicted; no room: s needy */
	assert_int_equal(s->active_ix, 0);
	assert_int_equal(l1->active_ix, -1);
	assert_true(f->g.needy[0]);
	assert_int_equal(f->metrics.v[HOMA_M_grant_needy], 1);
	assert_int_equal(f->num_calls, 2);
	check_invariants(f, 3);
	/* room appears through l2's bytes: s is served first, at level 1 */
	deliver(f, l2, 50000, 10);
	assert_int_equal(f->num_calls, 3);
	assert_ptr_equal(last_call(f)->m, s);
	assert_int_equal(last_call(f)->offset, 50000);
	assert_int_equal(last_call(f)->prio, 1);
	assert_true(f->g.needy[0] && f->g.needy[1]);
	check_invariants(f, 3);
	/* l1's granted bytes arrive: l1 stays out; s completes its grants
	 * before l2 gets more */
	deliver(f, l1, 100000, 20);
	assert_int_equal(l1->active_ix, -1);
	assert_int_equal(f->num_calls, 5);
	assert_ptr_equal(f->calls[3].m, s);
	assert_int_equal(f->calls[3].offset, 60000);
	assert_ptr_equal(f->calls[4].m, l2);
	assert_int_equal(f->calls[4].offset, 150000);
	assert_int_equal(f->calls[4].prio, 0);
	check_invariants(f, 3);
	/* s completes: l1 (its peer has none active) returns and is granted */
	deliver(f, s, 60000, 30);
	homa_grant_remove(&f->g, s, 30);
	assert_int_equal(l1->active_ix, 0);
	assert_ptr_equal(last_call(f)->m, l1);
	assert_int_equal(last_call(f)->offset, 200000);
	check_invariants(f, 3);
}

/* ---- promotion ---- */

static void homa_grant_remove__promotes_peer_without_active(void **state)
{
	struct fixture *f = *state;
	struct homa_grant_msg *a1, *b1, *a2, *c1;

	f->config.max_overcommit = 2;
	f->config.window = 20000;
	a1 = mk(f, 0, 0, 100000, 10000, 1);
	b1 = mk(f, 1, 1, 200000, 10000, 2);
	a2 = mk(f, 2, 0, 300000, 10000, 3);
	c1 = mk(f, 3, 2, 400000, 10000, 4);
	homa_grant_add(&f->g, a1, 0);
	homa_grant_add(&f->g, b1, 0);
	homa_grant_add(&f->g, a2, 0);
	homa_grant_add(&f->g, c1, 0);
	assert_int_equal(a2->active_ix, -1);
	assert_int_equal(c1->active_ix, -1);
	assert_ptr_equal(f->g.peers.next, &f->peers[0].link);
	/* a2 ranks better, but c1's peer has no active message */
	homa_grant_remove(&f->g, b1, 5);
	assert_false(b1->managed);
	assert_int_equal(c1->active_ix, 1);
	assert_int_equal(a2->active_ix, -1);
	assert_ptr_equal(last_call(f)->m, c1);
	assert_int_equal(last_call(f)->offset, 20000);
	assert_false(f->g.needy[1]);
	check_invariants(f, 4);
}

static void homa_grant_remove__promotes_peer_with_fewest_active(void **state)
{
	struct fixture *f = *state;
	struct homa_grant_msg *m[6];
	static const struct {
		int peer;
		uint32_t length;
	} spec[6] = { { 0, 100000 }, { 0, 200000 }, { 1, 150000 },
		      { 1, 250000 }, { 1, 300000 }, { 0, 400000 } };
	int i;

	f->config.max_overcommit = 4;
	f->config.window = 20000;
	for (i = 0; i < 6; i++) {
		m[i] = mk(f, i, spec[i].peer, spec[i].length, 10000, i + 1);
		homa_grant_add(&f->g, m[i], 0);
	}
	assert_int_equal(m[4]->active_ix, -1);
	assert_int_equal(m[5]->active_ix, -1);
	assert_ptr_equal(f->g.peers.next, &f->peers[1].link);
	/* peer 0 drops to 1 active, peer 1 keeps 2: peer 0's head wins
	 * though peer 1 comes first in peer order */
	homa_grant_remove(&f->g, m[0], 5);
	assert_int_equal(m[5]->active_ix, 0);
	assert_int_equal(m[4]->active_ix, -1);
	assert_ptr_equal(last_call(f)->m, m[5]);
	check_invariants(f, 6);
}

static void homa_grant_remove__unmanaged_harmless(void **state)
{
	struct fixture *f = *state;
	struct homa_grant_msg *m = mk(f, 0, 0, 100000, 10000, 1);

	homa_grant_remove(&f->g, m, 0);
	homa_grant_update(&f->g, m, 0);
	assert_false(m->managed);
	assert_int_equal(f->num_calls, 0);
	homa_grant_add(&f->g, m, 0);
	homa_grant_remove(&f->g, m, 0);
	homa_grant_remove(&f->g, m, 0);
	assert_int_equal(f->g.num_managed, 0);
	assert_int_equal(f->g.total_incoming, 0);
	check_invariants(f, 1);
}

/* ---- windows and max_incoming ---- */

static void homa_grant_window__dynamic(void **state)
{
	struct fixture *f = *state;
	struct homa_grant_msg *m1 = mk(f, 0, 0, 1000000, 40000, 1);
	struct homa_grant_msg *m2 = mk(f, 1, 1, 2000000, 40000, 2);

	assert_int_equal(homa_grant_window(&f->g), 400000);
	homa_grant_add(&f->g, m1, 0);
	assert_int_equal(homa_grant_window(&f->g), 200000);
	assert_int_equal(m1->granted, 200000);
	homa_grant_add(&f->g, m2, 0);
	assert_int_equal(homa_grant_window(&f->g), 133333);
	assert_int_equal(m2->granted, 133333);
	check_invariants(f, 2);
}

static void homa_grant_window__fixed(void **state)
{
	struct fixture *f = *state;
	struct homa_grant_msg *m = mk(f, 0, 0, 1000000, 10000, 1);

	f->config.window = 50000;
	assert_int_equal(homa_grant_window(&f->g), 50000);
	homa_grant_add(&f->g, m, 0);
	assert_int_equal(homa_grant_window(&f->g), 50000);
	assert_int_equal(m->granted, 50000);
	deliver(f, m, 20000, 1);
	assert_int_equal(m->granted, 70000);
	assert_int_equal(m->rec_incoming, 50000);
	deliver(f, m, 20000, 2);
	assert_int_equal(f->num_calls, 2);
	deliver(f, m, 70000, 3);
	assert_int_equal(m->granted, 120000);
	assert_int_equal(f->num_calls, 3);
	check_invariants(f, 1);
}

/* A sender on this host is granted up to max_incoming ahead (the window
 * is for networks), in steps of half that: no GRANT per packet, yet never
 * stalled, and the end of the message is granted. */
static void homa_grant_update__local_sender_max_incoming_steps(void **state)
{
	struct fixture *f = *state;
	struct homa_grant_msg *m = mk(f, 0, 0, 300000, 10000, 1);

	f->config.window = 20000; /* not for local senders */
	f->config.max_incoming = 100000;
	m->local = true;
	homa_grant_add(&f->g, m, 0);
	assert_int_equal(m->granted, 100000); /* 90000 >= half */
	deliver(f, m, 30000, 1);	      /* could grant 30000: wait */
	assert_int_equal(f->num_calls, 1);
	assert_int_equal(m->granted, 100000);
	deliver(f, m, 50000, 2); /* 50000 = half: grant */
	assert_int_equal(f->num_calls, 2);
	assert_int_equal(m->granted, 150000);
	deliver(f, m, 100000, 3);
	assert_int_equal(m->granted, 200000);
	deliver(f, m, 260000, 4); /* the last 100000 of the message */
	assert_int_equal(m->granted, 300000);
	deliver(f, m, 280000, 5); /* nothing left to grant */
	assert_int_equal(f->num_calls, 4);
	deliver(f, m, 300000, 6);
	check_invariants(f, 1);
}

/* Between two half steps a local sender's bytes only shrink
 * total_incoming (no GRANT), yet a needy slot still gets that room. */
static void homa_grant_update__local_between_steps_serves_needy(void **state)
{
	struct fixture *f = *state;
	struct homa_grant_msg *l = mk(f, 0, 0, 300000, 0, 1);
	struct homa_grant_msg *r = mk(f, 1, 1, 500000, 0, 2);

	f->config.window = 20000; /* r's, not l's */
	f->config.max_incoming = 100000;
	l->local = true;
	homa_grant_add(&f->g, l, 0);
	assert_int_equal(l->granted, 100000);
	homa_grant_add(&f->g, r, 0); /* no room left */
	assert_int_equal(r->granted, 0);
	assert_true(f->g.needy[r->active_ix]);
	assert_int_equal(f->num_calls, 1);
	deliver(f, l, 30000, 1); /* l waits; r takes its window of the room */
	assert_int_equal(l->granted, 100000);
	assert_int_equal(r->granted, 20000);
	assert_int_equal(f->num_calls, 2);
	assert_ptr_equal(last_call(f)->m, r);
	assert_int_equal(f->g.total_incoming, 90000);
	check_invariants(f, 2);
	deliver(f, l, 40000, 2); /* no slot needy now: only the count */
	assert_int_equal(f->num_calls, 2);
	assert_int_equal(f->g.total_incoming, 80000);
	check_invariants(f, 2);
}

static void homa_grant_update__max_incoming_and_needy(void **state)
{
	struct fixture *f = *state;
	struct homa_grant_msg *m1, *m2, *m3;

	f->config.max_incoming = 100000;
	f->config.window = 60000;
	m1 = mk(f, 0, 0, 1000000, 0, 1);
	m2 = mk(f, 1, 1, 800000, 0, 2);
	m3 = mk(f, 2, 2, 500000, 0, 3);
	homa_grant_add(&f->g, m1, 0);
	homa_grant_add(&f->g, m2, 0);
	homa_grant_add(&f->g, m3, 0);
	/* m2 got only the 40000 left; m3 nothing */
	assert_int_equal(m1->granted, 60000);
	assert_int_equal(m2->granted, 40000);
	assert_int_equal(m3->granted, 0);
	assert_true(f->g.needy[1] && f->g.needy[2]);
	assert_int_equal(f->g.total_incoming, 100000);
	check_invariants(f, 3);
	/* m1's bytes make room; the best needy (m3) takes it all */
	deliver(f, m1, 50000, 1);
	assert_ptr_equal(last_call(f)->m, m3);
	assert_int_equal(m3->granted, 50000);
	assert_int_equal(m1->granted, 60000);
	assert_true(f->g.needy[0] && f->g.needy[1] && f->g.needy[2]);
	assert_int_equal(f->g.total_incoming, 100000);
	check_invariants(f, 3);
	/* m3 leaves: its 50000 go to m2 (up to its window), then m1 */
	homa_grant_remove(&f->g, m3, 2);
	assert_int_equal(m2->granted, 60000);
	assert_int_equal(m1->granted, 90000);
	assert_ptr_equal(f->calls[f->num_calls - 2].m, m2);
	assert_ptr_equal(last_call(f)->m, m1);
	assert_false(f->g.needy[1]);
	assert_true(f->g.needy[0]);
	assert_int_equal(f->g.total_incoming, 100000);
	assert_true(f->metrics.v[HOMA_M_grant_needy] >= 4);
	check_invariants(f, 3);
}

static void homa_grant_update__sender_overshoot(void **state)
{
	struct fixture *f = *state;
	struct homa_grant_msg *m = mk(f, 0, 0, 1000000, 10000, 1);

	f->config.max_incoming = 40000;
	f->config.window = 50000;
	homa_grant_add(&f->g, m, 0);
	assert_int_equal(m->granted, 40000);
	assert_true(f->g.needy[0]);
	/* 2000 bytes beyond the grant (frame rounding) arrive: they do not
	 * count against the room, so one grant fills it exactly */
	deliver(f, m, 42000, 1);
	assert_int_equal(m->granted, 82000);
	assert_int_equal(m->rec_incoming, 40000);
	assert_int_equal(f->g.total_incoming, 40000);
	assert_int_equal(f->num_calls, 2);
	check_invariants(f, 1);
}

static void homa_grant_update__fully_received_safe(void **state)
{
	struct fixture *f = *state;
	struct homa_grant_msg *m = mk(f, 0, 0, 100000, 40000, 1);

	homa_grant_add(&f->g, m, 0);
	assert_int_equal(m->granted, 100000);
	deliver(f, m, 100000, 1);
	deliver(f, m, 100000, 2);
	assert_int_equal(f->num_calls, 1);
	assert_int_equal(m->rec_incoming, 0);
	assert_int_equal(f->g.total_incoming, 0);
	check_invariants(f, 1);
	homa_grant_remove(&f->g, m, 3);
	assert_int_equal(f->g.num_active, 0);
	assert_int_equal(f->g.num_managed, 0);
	check_invariants(f, 1);
}

static void homa_grant_update__complete_beyond_grant(void **state)
{
	struct fixture *f = *state;
	struct homa_grant_msg *a1, *b1;

	f->config.max_overcommit = 1;
	f->config.window = 20000;
	a1 = mk(f, 0, 0, 500000, 10000, 1);
	b1 = mk(f, 1, 1, 600000, 10000, 2);
	homa_grant_add(&f->g, a1, 0);
	homa_grant_add(&f->g, b1, 0);
	assert_int_equal(f->num_calls, 1);
	/* senders ran past their grants to the end: no admission, no grant */
	deliver(f, b1, 600000, 1);
	assert_int_equal(b1->active_ix, -1);
	assert_int_equal(a1->active_ix, 0);
	deliver(f, a1, 500000, 2);
	assert_int_equal(f->num_calls, 1);
	assert_int_equal(f->g.total_incoming, 0);
	check_invariants(f, 2);
	homa_grant_remove(&f->g, a1, 3);
	homa_grant_remove(&f->g, b1, 3);
	assert_int_equal(f->num_calls, 1);
	assert_int_equal(f->g.num_managed, 0);
	assert_true(homa_list_empty(&f->g.peers));
	check_invariants(f, 2);
}

/* ---- re-ranking of inactive messages ---- */

static void homa_grant_update__inactive_admitted_when_outranks(void **state)
{
	struct fixture *f = *state;
	struct homa_grant_msg *a1, *b1;

	f->config.max_overcommit = 1;
	f->config.window = 20000;
	a1 = mk(f, 0, 0, 500000, 10000, 1);
	b1 = mk(f, 1, 1, 520000, 40000, 2);
	homa_grant_add(&f->g, a1, 0);
	homa_grant_add(&f->g, b1, 0);
	assert_int_equal(b1->active_ix, -1);
	deliver(f, b1, 10000, 1);
	assert_int_equal(b1->active_ix, -1);
	/* 480000 remaining now beats a1's 500000 */
	deliver(f, b1, 40000, 2);
	assert_int_equal(b1->active_ix, 0);
	assert_int_equal(a1->active_ix, -1);
	assert_ptr_equal(last_call(f)->m, b1);
	assert_int_equal(last_call(f)->offset, 60000);
	check_invariants(f, 2);
}

static void homa_grant_update__inactive_resorted(void **state)
{
	struct fixture *f = *state;
	struct homa_grant_msg *a1, *b1, *b2, *c1;

	f->config.max_overcommit = 1;
	f->config.window = 20000;
	a1 = mk(f, 0, 0, 100000, 10000, 1);
	b1 = mk(f, 1, 1, 300000, 50000, 2);
	b2 = mk(f, 2, 1, 320000, 50000, 3);
	c1 = mk(f, 3, 2, 280000, 50000, 4);
	homa_grant_add(&f->g, a1, 0);
	homa_grant_add(&f->g, b1, 0);
	homa_grant_add(&f->g, b2, 0);
	homa_grant_add(&f->g, c1, 0);
	assert_ptr_equal(f->peers[1].msgs.next, &b1->link);
	assert_ptr_equal(f->g.peers.next, &f->peers[2].link);
	/* b2 drops to 270000 remaining: head of peer 1, which moves ahead */
	deliver(f, b2, 50000, 1);
	assert_ptr_equal(f->peers[1].msgs.next, &b2->link);
	assert_ptr_equal(f->g.peers.next, &f->peers[1].link);
	assert_int_equal(a1->active_ix, 0);
	assert_int_equal(f->num_calls, 1);
	check_invariants(f, 4);
}

static void homa_grant_update__max_overcommit_changed(void **state)
{
	struct fixture *f = *state;
	int i;

	f->config.max_overcommit = 3;
	f->config.window = 10000;
	for (i = 0; i < 3; i++)
		homa_grant_add(&f->g, mk(f, i, i, 100000 * (i + 1), 0, i), 0);
	f->config.max_overcommit = 1;
	deliver(f, &f->msgs[0], 5000, 1);
	assert_int_equal(f->g.num_active, 1);
	assert_int_equal(f->msgs[0].active_ix, 0);
	check_invariants(f, 3);
	f->config.max_overcommit = 3;
	deliver(f, &f->msgs[0], 6000, 2);
	assert_int_equal(f->g.num_active, 3);
	check_invariants(f, 3);
}

/* ---- priorities ---- */

static void homa_grant_prio__levels(void **state)
{
	struct fixture *f = *state;
	static const int want[8][8] = {
		{ 0 },
		{ 1, 0 },
		{ 2, 1, 0 },
		{ 3, 2, 1, 0 },
		{ 3, 2, 1, 0, 0 },
		{ 3, 2, 1, 0, 0, 0 },
		{ 3, 2, 1, 0, 0, 0, 0 },
		{ 3, 2, 1, 0, 0, 0, 0, 0 },
	};
	int n, rank;

	assert_int_equal(f->g.max_sched_prio, 3);
	for (n = 1; n <= 8; n++) {
		f->g.num_active = n;
		for (rank = 0; rank < n; rank++)
			assert_int_equal(homa_grant_prio(&f->g, rank),
					 want[n - 1][rank]);
	}
	f->g.num_active = 0;
}

static void homa_grant_add__priorities_by_rank(void **state)
{
	struct fixture *f = *state;
	int i;

	f->config.window = 10000;
	f->config.max_incoming = 10000000;
	for (i = 0; i < 4; i++)
		homa_grant_add(&f->g, mk(f, i, i, 100000 * (i + 1), 0, i), 0);
	assert_int_equal(f->calls[0].prio, 0); /* 1 active -> level 0 */
	for (i = 3; i >= 0; i--) {
		deliver(f, &f->msgs[i], 5000, 1);
		assert_ptr_equal(last_call(f)->m, &f->msgs[i]);
		assert_int_equal(last_call(f)->offset, 15000);
		assert_int_equal(last_call(f)->prio, 3 - i);
	}
	check_invariants(f, 4);
}

/* ---- FIFO grants ---- */

static void homa_grant_update__fifo_grant_to_oldest(void **state)
{
	struct fixture *f = *state;
	struct homa_grant_msg *o, *y;

	f->config.grant_fifo_fraction = 50; /* 320 us per 50000 bytes */
	f->config.max_overcommit = 1;
	f->config.window = 20000;
	f->config.max_incoming = 1000000;
	o = mk(f, 0, 0, 1000000, 10000, 100);
	y = mk(f, 1, 1, 100000, 10000, 200);
	homa_grant_add(&f->g, o, 1000); /* arms the FIFO clock */
	assert_int_equal(f->g.next_fifo_ns, 321000);
	homa_grant_add(&f->g, y, 2000);
	assert_int_equal(o->active_ix, -1);
	deliver(f, y, 10000, 300000);
	assert_int_equal(f->num_calls, 3);
	assert_int_equal(f->metrics.v[HOMA_M_fifo_grants], 0);
	deliver(f, y, 20000, 321000);
	assert_int_equal(f->num_calls, 5);
	assert_ptr_equal(f->calls[3].m, y);
	assert_int_equal(f->calls[3].offset, 40000);
	assert_ptr_equal(last_call(f)->m, o);
	assert_true(last_call(f)->fifo);
	assert_int_equal(last_call(f)->offset, 70000);
	assert_int_equal(last_call(f)->prio, 6);
	assert_int_equal(f->metrics.v[HOMA_M_fifo_grants], 1);
	assert_int_equal(f->metrics.v[HOMA_M_grants_sent], 4);
	assert_int_equal(f->metrics.v[HOMA_M_grant_bytes], 90000);
	assert_int_equal(f->g.next_fifo_ns, 641000);
	assert_int_equal(f->g.total_incoming, 70000 + 20000);
	check_invariants(f, 2);
	deliver(f, y, 30000, 400000);
	assert_int_equal(f->metrics.v[HOMA_M_fifo_grants], 1);
	check_invariants(f, 2);
}

static void homa_grant_update__fifo_skips_unresponsive(void **state)
{
	struct fixture *f = *state;
	struct homa_grant_msg *o, *p, *y;

	f->config.grant_fifo_fraction = 50;
	f->config.max_overcommit = 1;
	f->config.window = 20000;
	f->config.max_incoming = 1000000;
	/* o has 150000 granted, unreceived bytes: >= window + 2 increments,
	 * so its sender counts as unresponsive */
	o = mk(f, 0, 0, 1000000, 150000, 100);
	p = mk(f, 1, 1, 1000000, 10000, 150);
	y = mk(f, 2, 2, 100000, 10000, 200);
	homa_grant_add(&f->g, o, 1000);
	homa_grant_add(&f->g, p, 1100);
	homa_grant_add(&f->g, y, 2000);
	assert_int_equal(y->active_ix, 0);
	assert_int_equal(f->g.next_fifo_ns, 322000);
	deliver(f, y, 10000, 322000);
	assert_ptr_equal(last_call(f)->m, p);
	assert_true(last_call(f)->fifo);
	assert_int_equal(p->granted, 60000);
	assert_int_equal(o->granted, 150000);
	check_invariants(f, 3);
}

static void homa_grant_update__fifo_oldest_by_birth(void **state)
{
	struct fixture *f = *state;
	struct homa_grant_msg *a, *b;

	f->config.grant_fifo_fraction = 50;
	f->config.max_overcommit = 1;
	f->config.window = 20000;
	f->config.max_incoming = 1000000;
	f->config.num_priorities = 2; /* high priority level is then 0 */
	homa_grant_init(&f->g, &f->config, &f->metrics, fake_send_grant, f);
	assert_int_equal(f->g.max_sched_prio, 0);
	a = mk(f, 0, 0, 1000000, 10000, 500);
	b = mk(f, 1, 1, 2000000, 10000, 100); /* older, added later */
	homa_grant_add(&f->g, a, 1000);
	homa_grant_add(&f->g, b, 1100);
	assert_int_equal(b->active_ix, -1);
	assert_ptr_equal(f->g.by_age.next, &b->age_link);
	deliver(f, a, 10000, 321000);
	assert_ptr_equal(last_call(f)->m, b);
	assert_true(last_call(f)->fifo);
	assert_int_equal(last_call(f)->prio, 0);
	assert_int_equal(b->granted, 60000);
	check_invariants(f, 2);
}

static void homa_grant_update__fifo_disabled(void **state)
{
	struct fixture *f = *state;
	struct homa_grant_msg *m = mk(f, 0, 0, 10000000, 10000, 1);

	f->config.window = 20000;
	homa_grant_add(&f->g, m, 0);
	for (uint32_t r = 1000; r <= 20000; r += 1000)
		deliver(f, m, r, (uint64_t)r * 1000000);
	assert_int_equal(f->metrics.v[HOMA_M_fifo_grants], 0);
	assert_int_equal(f->num_calls, 21);
	check_invariants(f, 1);
}

/* ---- randomized ---- */

static uint64_t rnd_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static uint32_t rnd_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(rnd_next(s) % n);
}

/* rnd_length() - mostly short and medium messages, some long ones. */
static uint32_t rnd_length(uint64_t *s)
{
	uint32_t kind = rnd_below(s, 10);

	if (kind < 3)
		return 20001 + rnd_below(s, 60000);
	if (kind < 8)
		return 20001 + rnd_below(s, 500000);
	return 500000 + rnd_below(s, 2500000);
}

/*
 * random_run() - num_msgs messages over 5 peers, added over time; each
 * step adds one or delivers a random chunk of granted bytes to a random
 * message (removed when complete, or aborted with probability 1/abort_div
 * if abort_div > 0). Checks every invariant after every step and that
 * the run finishes (no stall) with every non-aborted message fully
 * granted and the scheduler empty.
 */
static void random_run(struct fixture *f, uint64_t seed, int num_msgs,
		       uint32_t abort_div)
{
	uint64_t s = seed, now = 0;
	int added = 0, done = 0, i, n, step;
	int live[MAX_MSGS];
	bool aborted[MAX_MSGS] = { false };

	f->config.max_overcommit = 4;
	f->config.max_incoming = 300000;
	f->config.grant_fifo_fraction = 25; /* every 256 us */
	f->config.fifo_grant_increment = 20000;
	for (step = 0; step < 10000000 && done < num_msgs; step++) {
		struct homa_grant_msg *m;
		uint32_t chunk;

		now += rnd_below(&s, 20000);
		for (n = 0, i = 0; i < added; i++) {
			if (f->msgs[i].managed &&
			    f->msgs[i].received < f->msgs[i].granted)
				live[n++] = i;
		}
		if (added < num_msgs && (n == 0 || rnd_below(&s, 8) == 0)) {
			m = mk(f, added, (int)rnd_below(&s, 5), rnd_length(&s),
			       1 + rnd_below(&s, 20000), now);
			added++;
			homa_grant_add(&f->g, m, now);
			check_invariants(f, added);
			continue;
		}
		if (n == 0)
			fail_msg("stall: %d managed, nothing in flight",
				 (int)f->g.num_managed);
		m = &f->msgs[live[rnd_below(&s, (uint32_t)n)]];
		if (abort_div && rnd_below(&s, abort_div) == 0) {
			aborted[msg_ix(f, m)] = true;
			homa_grant_remove(&f->g, m, now);
			done++;
			check_invariants(f, added);
			continue;
		}
		chunk = 1 + rnd_below(&s, m->granted - m->received);
		if (chunk > 30000)
			chunk = 1 + rnd_below(&s, 30000);
		deliver(f, m, m->received + chunk, now);
		if (m->received == m->length) {
			homa_grant_remove(&f->g, m, now);
			done++;
		}
		check_invariants(f, added);
	}
	assert_int_equal(done, num_msgs);
	for (i = 0; i < num_msgs; i++) {
		assert_false(f->msgs[i].managed);
		if (!aborted[i])
			assert_int_equal(f->msgs[i].granted, f->msgs[i].length);
	}
	assert_int_equal(f->g.num_managed, 0);
	assert_int_equal(f->g.num_active, 0);
	assert_int_equal(f->g.total_incoming, 0);
	assert_true(homa_list_empty(&f->g.peers));
	assert_true(homa_list_empty(&f->g.by_age));
	assert_true(f->metrics.v[HOMA_M_grant_needy] > 0);
	assert_true(f->metrics.v[HOMA_M_fifo_grants] > 0);
}

static void homa_grant_update__random(void **state)
{
	struct fixture *f = *state;
	static const uint64_t seeds[] = { 1, 0x9e3779b97f4a7c15ull, 424242 };

	for (size_t k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++) {
		teardown(state);
		assert_int_equal(setup(state), 0);
		f = *state;
		random_run(f, seeds[k], 300, 0);
	}
}

/* An idle receiver nudges the senders that hold its grants: after
 * nudge_usecs without DATA, one GRANT repeating each active message's
 * offset at its rank's level; once until DATA arrives again. */
static void homa_grant_nudge__idle_receiver(void **state)
{
	struct fixture *f = *state;
	struct homa_grant_msg *a = mk(f, 0, 0, 100000, 10000, 1);
	struct homa_grant_msg *b = mk(f, 1, 1, 200000, 10000, 2);
	struct homa_grant_msg *c = mk(f, 2, 2, 300000, 10000, 3);
	int n;

	f->config.window = 20000;
	f->config.nudge_usecs = 3;
	homa_grant_add(&f->g, a, 0);
	homa_grant_add(&f->g, b, 0);
	homa_grant_add(&f->g, c, 0);
	/* c has received all it was granted (its next GRANT not yet out) */
	c->received = c->granted;
	homa_grant_data_arrived(&f->g, 500);
	n = f->num_calls;
	assert_int_equal(homa_grant_nudge(&f->g, 501), 3500);
	assert_int_equal(homa_grant_nudge(&f->g, 3499), 3500);
	assert_int_equal(f->num_calls, n);
	assert_int_equal(homa_grant_nudge(&f->g, 3500), 0);
	/* a and b, not c (nothing held); normal levels by rank */
	assert_int_equal(f->num_calls, n + 2);
	assert_int_equal(f->metrics.v[HOMA_M_nudges_sent], 2);
	for (int i = n; i < n + 2; i++) {
		struct call *k = &f->calls[i];

		assert_true(k->nudge);
		assert_true(k->m == a || k->m == b);
		assert_int_equal(k->offset, 20000);
		assert_int_equal(k->prio,
				 homa_grant_prio(&f->g, k->m == a ? 0 : 1));
	}
	assert_int_equal(a->granted, 20000); /* nothing added */
	/* once per idle period */
	assert_int_equal(homa_grant_nudge(&f->g, 9000), 0);
	assert_int_equal(f->num_calls, n + 2);
	/* DATA re-arms it */
	deliver(f, a, 5000, 9500);
	homa_grant_data_arrived(&f->g, 9500);
	n = f->num_calls;
	assert_int_equal(homa_grant_nudge(&f->g, 12500), 0);
	assert_int_equal(f->num_calls, n + 2);
	c->received = 0;
	check_invariants(f, 3);
}

/* No nudge when off (the default), when nothing granted is missing, or
 * for a sender on this host (no network between them). */
static void homa_grant_nudge__off_or_nothing_held(void **state)
{
	struct fixture *f = *state;
	struct homa_grant_msg *a = mk(f, 0, 0, 100000, 10000, 1);
	struct homa_grant_msg *l = mk(f, 1, 1, 100000, 10000, 2);

	f->config.window = 20000;
	homa_grant_add(&f->g, a, 0);
	assert_int_equal(homa_grant_nudge(&f->g, 1000000), 0); /* off */
	f->config.nudge_usecs = 3;
	deliver(f, a, 20000, 10); /* granted 40000 */
	homa_grant_data_arrived(&f->g, 10);
	assert_int_equal(homa_grant_nudge(&f->g, 20), 3010);
	deliver(f, a, 40000, 30); /* granted 60000 */
	a->received = 60000;	  /* all granted bytes in */
	homa_grant_data_arrived(&f->g, 40);
	assert_int_equal(homa_grant_nudge(&f->g, 5000), 0);
	l->local = true;
	homa_grant_add(&f->g, l, 50);
	assert_int_equal(homa_grant_nudge(&f->g, 5000), 0);
	assert_int_equal(f->metrics.v[HOMA_M_nudges_sent], 0);
	a->received = 40000;
	check_invariants(f, 2);
}

static void homa_grant_remove__random_with_aborts(void **state)
{
	struct fixture *f = *state;

	random_run(f, 7, 300, 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(homa_grant_outranks__fewer_bytes_remaining),
		T(homa_grant_outranks__ties_broken_by_age),
		T(homa_grant_init__empty),
		T(homa_grant_msg_init__unmanaged),
		T(homa_grant_add__grants_at_once),
		T(homa_grant_add__not_grantable_ignored),
		T(homa_grant_add__empty_slots_then_waits),
		T(homa_grant_add__victim_from_busiest_peer),
		T(homa_grant_add__victim_needs_outrank_when_balanced),
		T(homa_grant_add__victim_same_peer_counted),
		T(homa_grant_add__short_message_preempts_long),
		T(homa_grant_remove__promotes_peer_without_active),
		T(homa_grant_remove__promotes_peer_with_fewest_active),
		T(homa_grant_remove__unmanaged_harmless),
		T(homa_grant_window__dynamic),
		T(homa_grant_window__fixed),
		T(homa_grant_update__local_sender_max_incoming_steps),
		T(homa_grant_update__local_between_steps_serves_needy),
		T(homa_grant_update__max_incoming_and_needy),
		T(homa_grant_update__sender_overshoot),
		T(homa_grant_update__fully_received_safe),
		T(homa_grant_update__complete_beyond_grant),
		T(homa_grant_update__inactive_admitted_when_outranks),
		T(homa_grant_update__inactive_resorted),
		T(homa_grant_update__max_overcommit_changed),
		T(homa_grant_prio__levels),
		T(homa_grant_add__priorities_by_rank),
		T(homa_grant_update__fifo_grant_to_oldest),
		T(homa_grant_update__fifo_skips_unresponsive),
		T(homa_grant_update__fifo_oldest_by_birth),
		T(homa_grant_update__fifo_disabled),
		T(homa_grant_nudge__idle_receiver),
		T(homa_grant_nudge__off_or_nothing_held),
		T(homa_grant_update__random),
		T(homa_grant_remove__random_with_aborts),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
