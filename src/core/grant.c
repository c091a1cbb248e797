/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * grant.c - the receiver's grant scheduler (spec/protocol.md 4).
 *
 * Every incoming message that needs grants is "managed" between
 * homa_grant_add and homa_grant_remove. A managed message is in exactly one
 * place: a slot of the active set (g->active, at most max_overcommit of
 * them) or, while inactive, its peer's list (best rank first); peers with
 * inactive messages sit in g->peers, ordered by the rank of their head
 * message. Only active messages receive normal grants: each may have up to
 * one window of granted-but-unreceived bytes, and the sum of those bytes
 * over all managed messages (total_incoming) never passes max_incoming
 * because of a normal grant. A message that could not be granted for lack
 * of room marks its slot "needy"; needy slots are served in rank order as
 * soon as room appears, before any normal grant. Every entry point ends
 * with no needy slot unless total_incoming >= max_incoming.
 *
 * FIFO ("pity") grants give fifo_grant_increment bytes to the oldest
 * managed message, active or not, once per interval (spec 4.8). They are
 * the one way total_incoming may pass max_incoming: the check runs just
 * after a normal grant (which leaves total_incoming <= max_incoming), so
 * the excess is at most one increment. Messages added with unscheduled
 * bytes also count at once, so they too may push total_incoming past the
 * limit; normal grants then wait until enough bytes arrive. The first
 * normal grant after homa_grant_init only arms the FIFO clock
 * (next_fifo_ns 0 = not armed), so no FIFO grant goes out before one
 * interval has passed.
 *
 * Ranking is a total preorder (bytes remaining, then birth). Where two
 * messages are equal under it, the one already placed wins: a candidate
 * must strictly outrank its victim, a message joins a list after its
 * equals and a tie between slots goes to the lowest slot, so all decisions
 * are deterministic. Costs: admission, promotion and
 * granting are O(HOMA_GRANT_MAX_ACTIVE); keeping a peer's list sorted is
 * O(messages of that peer), the peer list O(peers with waiting messages),
 * the age list O(messages younger than the new one) and the FIFO choice
 * O(managed messages) in the worst case. Nothing is allocated, and the
 * module has no locks: the owner serializes all calls. send_grant must not
 * call back into this module.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "grant.h"

/* A cutoff at least this large marks a level used by scheduled bytes. */
#define HOMA_GRANT_SCHED_CUTOFF 1000000

/* grant_msg() - the message whose peer-list link is node. */
static struct homa_grant_msg *grant_msg(struct homa_list *node)
{
	return homa_container_of(node, struct homa_grant_msg, link);
}

/* grant_age_msg() - the message whose age link is node. */
static struct homa_grant_msg *grant_age_msg(struct homa_list *node)
{
	return homa_container_of(node, struct homa_grant_msg, age_link);
}

/* grant_peer() - the peer whose g->peers link is node. */
static struct homa_grant_peer *grant_peer(struct homa_list *node)
{
	return homa_container_of(node, struct homa_grant_peer, link);
}

/* grant_head() - best inactive message of peer; peer->msgs non-empty. */
static struct homa_grant_msg *grant_head(struct homa_grant_peer *peer)
{
	return grant_msg(peer->msgs.next);
}

/* grant_slots() - usable slots: config->max_overcommit clamped to 1..8. */
static int grant_slots(const struct homa_grant *g)
{
	int64_t n = g->config->max_overcommit;

	if (n < 1)
		return 1;
	if (n > HOMA_GRANT_MAX_ACTIVE)
		return HOMA_GRANT_MAX_ACTIVE;
	return (int)n;
}

/* grant_metric_add() - add n to counter id. */
static void grant_metric_add(struct homa_grant *g, enum homa_metric id,
			     uint64_t n)
{
	g->metrics->v[id] += n;
}

/*
 * grant_refresh_incoming() - recompute m->rec_incoming as
 * max(0, granted - received) and move total_incoming by the change.
 */
static void grant_refresh_incoming(struct homa_grant *g,
				   struct homa_grant_msg *m)
{
	int64_t rec = 0;

	if (m->granted > m->received)
		rec = (int64_t)m->granted - m->received;
	g->total_incoming += rec - m->rec_incoming;
	m->rec_incoming = rec;
}

/*
 * grant_peer_place() - put peer where it belongs in g->peers: unlinked if
 * it has no inactive message, else before the first peer whose head its
 * head outranks (after any equal ones). O(peers in g->peers).
 */
static void grant_peer_place(struct homa_grant *g, struct homa_grant_peer *peer)
{
	struct homa_grant_msg *head;
	struct homa_list *pos;

	homa_list_del(&peer->link);
	if (homa_list_empty(&peer->msgs))
		return;
	head = grant_head(peer);
	homa_list_for_each(pos, &g->peers)
	{
		if (homa_grant_outranks(head, grant_head(grant_peer(pos))))
			break;
	}
	homa_list_insert_after(pos->prev, &peer->link);
}

/*
 * grant_inactive_insert() - put inactive m into its peer's list, before
 * the first message it outranks, and fix the peer's place if m became the
 * head. m must be in no list and no slot.
 */
static void grant_inactive_insert(struct homa_grant *g,
				  struct homa_grant_msg *m)
{
	struct homa_grant_peer *peer = m->peer;
	struct homa_list *pos;

	homa_list_for_each(pos, &peer->msgs)
	{
		if (homa_grant_outranks(m, grant_msg(pos)))
			break;
	}
	homa_list_insert_after(pos->prev, &m->link);
	if (peer->msgs.next == &m->link)
		grant_peer_place(g, peer);
}

/*
 * grant_inactive_remove() - take inactive m out of its peer's list; if it
 * was the head, the peer moves (or leaves g->peers when now empty).
 */
static void grant_inactive_remove(struct homa_grant *g,
				  struct homa_grant_msg *m)
{
	bool was_head = m->peer->msgs.next == &m->link;

	homa_list_del(&m->link);
	if (was_head)
		grant_peer_place(g, m->peer);
}

/* grant_slot_fill() - make m (in no list) the occupant of empty slot ix,
 * not needy. */
static void grant_slot_fill(struct homa_grant *g, int ix,
			    struct homa_grant_msg *m)
{
	g->active[ix] = m;
	g->needy[ix] = false;
	m->active_ix = ix;
	m->peer->num_active++;
	g->num_active++;
}

/* grant_slot_clear() - empty occupied slot ix; returns its former
 * occupant, now in no slot and no list. */
static struct homa_grant_msg *grant_slot_clear(struct homa_grant *g, int ix)
{
	struct homa_grant_msg *m = g->active[ix];

	g->active[ix] = NULL;
	g->needy[ix] = false;
	m->active_ix = -1;
	m->peer->num_active--;
	g->num_active--;
	return m;
}

/*
 * grant_pick_slot() - the slot inactive m may take (spec 4.5): an empty one
 * among the usable slots, else the victim's, or -1 if m must wait. The
 * victim comes from the peer with most active messages (m counted with its
 * own peer); among those it is the lowest ranked (most bytes remaining,
 * then youngest; on a full tie the lowest slot). It is evicted if its peer
 * has more than one active message more than m's peer, else only if m
 * outranks it.
 */
static int grant_pick_slot(const struct homa_grant *g,
			   const struct homa_grant_msg *m)
{
	int limit = grant_slots(g);
	int lp = -1, lp_count = -1;
	int i, count;

	for (i = 0; i < limit; i++) {
		if (!g->active[i])
			return i;
	}
	for (i = 0; i < limit; i++) {
		const struct homa_grant_msg *o = g->active[i];

		count = o->peer->num_active + (o->peer == m->peer ? 1 : 0);
		if (count > lp_count ||
		    (count == lp_count &&
		     homa_grant_outranks(g->active[lp], o))) {
			lp = i;
			lp_count = count;
		}
	}
	if (lp_count > m->peer->num_active + 1)
		return lp;
	if (homa_grant_outranks(m, g->active[lp]))
		return lp;
	return -1;
}

/*
 * grant_admit() - try to move m (inactive: in its peer's list, or in no
 * list when new) into the active set, evicting a victim to the inactive
 * lists if the victim rule says so. Returns true if m is now active (slot
 * not needy); false leaves m where it was.
 */
static bool grant_admit(struct homa_grant *g, struct homa_grant_msg *m)
{
	int ix = grant_pick_slot(g, m);

	if (ix < 0)
		return false;
	if (homa_list_linked(&m->link))
		grant_inactive_remove(g, m);
	if (g->active[ix])
		grant_inactive_insert(g, grant_slot_clear(g, ix));
	grant_slot_fill(g, ix, m);
	return true;
}

/*
 * grant_promote() - fill empty slot ix with the head message of the first
 * peer (in g->peers order) that has no active message, else of the first
 * peer with the fewest; the slot is marked needy so the needy pass grants
 * it. Returns false (slot left empty) if no message waits.
 */
static bool grant_promote(struct homa_grant *g, int ix)
{
	struct homa_grant_peer *best = NULL;
	struct homa_grant_msg *m;
	struct homa_list *pos;

	homa_list_for_each(pos, &g->peers)
	{
		struct homa_grant_peer *peer = grant_peer(pos);

		if (!best || peer->num_active < best->num_active)
			best = peer;
		if (peer->num_active == 0)
			break;
	}
	if (!best)
		return false;
	m = grant_head(best);
	grant_inactive_remove(g, m);
	grant_slot_fill(g, ix, m);
	g->needy[ix] = true;
	return true;
}

/*
 * grant_rebalance() - make the active set match max_overcommit: occupants
 * of slots at or beyond it (left by a lowered setting) go back to the
 * inactive lists, then empty usable slots are filled by promotion. After
 * it, an empty usable slot implies that no message waits.
 */
static void grant_rebalance(struct homa_grant *g)
{
	int limit = grant_slots(g);
	int i;

	for (i = limit; i < HOMA_GRANT_MAX_ACTIVE; i++) {
		if (g->active[i])
			grant_inactive_insert(g, grant_slot_clear(g, i));
	}
	for (i = 0; i < limit; i++) {
		if (!g->active[i] && !grant_promote(g, i))
			break;
	}
}

/* grant_rank() - number of other active messages that outrank m. */
static int grant_rank(const struct homa_grant *g,
		      const struct homa_grant_msg *m)
{
	int rank = 0;
	int i;

	for (i = 0; i < HOMA_GRANT_MAX_ACTIVE; i++) {
		const struct homa_grant_msg *o = g->active[i];

		if (o && o != m && homa_grant_outranks(o, m))
			rank++;
	}
	return rank;
}

/* grant_best_needy() - the needy slot with the best-ranked message (lowest
 * slot on a tie), or -1 if no slot is needy. */
static int grant_best_needy(const struct homa_grant *g)
{
	int best = -1;
	int i;

	for (i = 0; i < HOMA_GRANT_MAX_ACTIVE; i++) {
		if (!g->needy[i] || !g->active[i])
			continue;
		if (best < 0 ||
		    homa_grant_outranks(g->active[i], g->active[best]))
			best = i;
	}
	return best;
}

/*
 * grant_fifo_interval_ns() - time to send fifo_grant_increment bytes at
 * link_mbps * grant_fifo_fraction / 1000 (320 us with the defaults), or 0
 * if FIFO grants are disabled (a zero fraction, increment or link speed).
 */
static uint64_t grant_fifo_interval_ns(const struct homa_config *config)
{
	uint64_t bits_x1e6, rate;

	if (config->grant_fifo_fraction <= 0 ||
	    config->fifo_grant_increment <= 0 || config->link_mbps <= 0)
		return 0;
	bits_x1e6 = (uint64_t)config->fifo_grant_increment * 8 * 1000 * 1000;
	rate = (uint64_t)config->link_mbps *
	       (uint64_t)config->grant_fifo_fraction;
	return bits_x1e6 / rate;
}

/*
 * grant_check_fifo() - called after each normal grant: if the FIFO
 * interval has elapsed (the first call only arms the clock), give the
 * oldest managed message that still lacks grants and data (a complete
 * one is about to be removed) and whose sender is responsive
 * (rec_incoming < window + 2 increments) one more increment, clamped to
 * its length, at the high priority level.
 */
static void grant_check_fifo(struct homa_grant *g, uint64_t now_ns)
{
	uint64_t interval = grant_fifo_interval_ns(g->config);
	int64_t inc = g->config->fifo_grant_increment;
	int64_t limit, add;
	struct homa_grant_msg *m = NULL;
	struct homa_list *pos;

	if (interval == 0)
		return;
	if (g->next_fifo_ns == 0 || now_ns < g->next_fifo_ns) {
		if (g->next_fifo_ns == 0)
			g->next_fifo_ns = now_ns + interval;
		return;
	}
	g->next_fifo_ns = now_ns + interval;
	limit = homa_grant_window(g) + 2 * inc;
	homa_list_for_each(pos, &g->by_age)
	{
		struct homa_grant_msg *o = grant_age_msg(pos);

		if (o->granted < o->length && o->received < o->length &&
		    o->rec_incoming < limit) {
			m = o;
			break;
		}
	}
	if (!m)
		return;
	add = (int64_t)m->length - m->granted;
	if (add > inc)
		add = inc;
	m->granted += (uint32_t)add;
	grant_refresh_incoming(g, m);
	grant_metric_add(g, HOMA_M_fifo_grants, 1);
	grant_metric_add(g, HOMA_M_grant_bytes, (uint64_t)add);
	g->send_grant(g->ctx, m, m->granted, homa_config_high_prio(g->config));
}

/* grant_defer() - slot ix could not be (fully) granted for lack of room:
 * mark it needy and count the deferral. */
static void grant_defer(struct homa_grant *g, int ix)
{
	g->needy[ix] = true;
	grant_metric_add(g, HOMA_M_grant_needy, 1);
}

/*
 * grant_try() - grant the occupant m of slot ix up to received + window
 * (spec 4.6). On the normal path it defers (needy) when any slot is needy;
 * on both paths it defers when there is no room and grants only what fits
 * when room is short; a complete message (received == length, possible
 * when the sender ran past its grant) gets nothing. The room limits the
 * growth of rec_incoming, so bytes the sender sent beyond its grant
 * (received > granted) do not count against it. A grant is sent at the
 * priority of m's rank, then the FIFO check runs.
 */
static void grant_try(struct homa_grant *g, int ix, bool normal,
		      uint64_t now_ns)
{
	struct homa_grant_msg *m = g->active[ix];
	int64_t want, room, cap, window;
	int i;

	if (m->received >= m->length)
		return;
	/* A sender on this host has no network to keep from queueing: only
	 * max_incoming (the receiver's memory) bounds it. */
	window = m->local ? g->config->max_incoming : homa_grant_window(g);
	want = (int64_t)m->received + window - m->granted;
	if (want > (int64_t)m->length - m->granted)
		want = (int64_t)m->length - m->granted;
	if (want <= 0)
		return;
	/* From this host, a GRANT per packet keeps no link busy and costs a
	 * system call each: wait until half the window can be granted (or
	 * the rest of the message). */
	if (m->local && want < window / 2 && m->granted + want < m->length)
		return;
	room = g->config->max_incoming - g->total_incoming;
	/* normal path: any needy slot goes first, as if there were no room */
	for (i = 0; normal && i < HOMA_GRANT_MAX_ACTIVE; i++) {
		if (g->needy[i])
			room = 0;
	}
	if (room <= 0) {
		grant_defer(g, ix);
		return;
	}
	cap = room;
	if (m->received > m->granted)
		cap += (int64_t)m->received - m->granted;
	if (want > cap) {
		want = cap;
		grant_defer(g, ix);
	}
	m->granted += (uint32_t)want;
	grant_refresh_incoming(g, m);
	grant_metric_add(g, HOMA_M_grants_sent, 1);
	grant_metric_add(g, HOMA_M_grant_bytes, (uint64_t)want);
	g->send_grant(g->ctx, m, m->granted,
		      homa_grant_prio(g, grant_rank(g, m)));
	grant_check_fifo(g, now_ns);
}

/*
 * grant_check_needy() - while room remains, serve needy slots best rank
 * first, without the needy test. Each pass clears a flag for good or
 * fills the room, so it ends within HOMA_GRANT_MAX_ACTIVE + 1 passes.
 */
static void grant_check_needy(struct homa_grant *g, uint64_t now_ns)
{
	int ix;

	while (g->total_incoming < g->config->max_incoming) {
		ix = grant_best_needy(g);
		if (ix < 0)
			return;
		g->needy[ix] = false;
		grant_try(g, ix, false, now_ns);
	}
}

/* grant_age_insert() - link m into g->by_age after every message born
 * no later than it (usually at the tail). */
static void grant_age_insert(struct homa_grant *g, struct homa_grant_msg *m)
{
	struct homa_list *pos = g->by_age.prev;

	while (pos != &g->by_age && grant_age_msg(pos)->birth_ns > m->birth_ns)
		pos = pos->prev;
	homa_list_insert_after(pos, &m->age_link);
}

/*
 * grant_default_sched_prio() - max_sched_prio implied by config (spec 7):
 * the highest level below num_priorities whose cutoff is at least
 * HOMA_GRANT_SCHED_CUTOFF, minus one; 0 if only level 0 qualifies.
 */
static int grant_default_sched_prio(const struct homa_config *config)
{
	int64_t n = config->num_priorities;
	int i;

	if (n > HOMA_MAX_PRIORITIES)
		n = HOMA_MAX_PRIORITIES;
	for (i = (int)n - 1; i >= 1; i--) {
		if (config->unsched_cutoffs[i] >= HOMA_GRANT_SCHED_CUTOFF)
			return i - 1;
	}
	return 0;
}

/*
 * homa_grant_init() - an empty scheduler using config and metrics (both
 * must outlive it). max_sched_prio starts at the value the configured
 * cutoffs imply (3 with the defaults); the owner updates it when cutoffs
 * change. The FIFO clock is not armed (next_fifo_ns 0). Cannot fail.
 */
void homa_grant_init(struct homa_grant *g, const struct homa_config *config,
		     struct homa_metrics *metrics,
		     void (*send_grant)(void *ctx, struct homa_grant_msg *m,
					uint32_t offset, int priority),
		     void *ctx)
{
	memset(g, 0, sizeof(*g));
	g->config = config;
	g->metrics = metrics;
	homa_list_init(&g->peers);
	homa_list_init(&g->by_age);
	g->max_sched_prio = grant_default_sched_prio(config);
	g->send_grant = send_grant;
	g->ctx = ctx;
}

/* grant_held() - m has granted bytes not received from another host. */
static bool grant_held(const struct homa_grant_msg *m)
{
	return m && !m->local && m->granted > m->received &&
	       m->received < m->length;
}

uint64_t homa_grant_nudge(struct homa_grant *g, uint64_t now_ns)
{
	uint64_t due;
	bool any = false;
	int i;

	if (!g->config->nudge_usecs || g->nudged)
		return 0;
	for (i = 0; i < HOMA_GRANT_MAX_ACTIVE; i++)
		any = any || grant_held(g->active[i]);
	if (!any)
		return 0;
	due = g->last_data_ns + (uint64_t)g->config->nudge_usecs * 1000;
	if (now_ns < due)
		return due;
	g->nudged = true;
	for (i = 0; i < HOMA_GRANT_MAX_ACTIVE; i++) {
		struct homa_grant_msg *m = g->active[i];

		if (!grant_held(m))
			continue;
		grant_metric_add(g, HOMA_M_nudges_sent, 1);
		g->send_grant(g->ctx, m, m->granted,
			      homa_grant_prio(g, grant_rank(g, m)));
	}
	return 0;
}

/* homa_grant_peer_init() - a peer record with no inactive and no active
 * message, linked nowhere. Cannot fail. */
void homa_grant_peer_init(struct homa_grant_peer *peer)
{
	homa_list_init(&peer->msgs);
	homa_list_init(&peer->link);
	peer->num_active = 0;
}

/*
 * homa_grant_msg_init() - an unmanaged message: every field zero, no
 * slot (active_ix -1), links self-linked. The owner then sets peer,
 * length, received, granted and birth_ns before homa_grant_add.
 */
void homa_grant_msg_init(struct homa_grant_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->active_ix = -1;
	homa_list_init(&m->link);
	homa_list_init(&m->age_link);
}

/*
 * homa_grant_add() - start managing m: its granted-but-unreceived bytes
 * join total_incoming; it enters the active set (possibly evicting a
 * victim, spec 4.5) or waits in its peer's list; due grants are sent
 * before return (through send_grant, possibly for other messages too).
 * Does nothing if m is already managed or has nothing left to grant
 * (granted >= length). m and m->peer stay owned by the caller and must
 * not be freed before homa_grant_remove.
 */
void homa_grant_add(struct homa_grant *g, struct homa_grant_msg *m,
		    uint64_t now_ns)
{
	if (m->managed || m->granted >= m->length)
		return;
	m->managed = true;
	m->active_ix = -1;
	m->rec_incoming = 0;
	g->num_managed++;
	grant_age_insert(g, m);
	grant_refresh_incoming(g, m);
	grant_rebalance(g);
	if (grant_admit(g, m))
		grant_try(g, m->active_ix, true, now_ns);
	else
		grant_inactive_insert(g, m);
	grant_check_needy(g, now_ns);
}

/*
 * homa_grant_update() - m->received grew (or m changed otherwise): its
 * rec_incoming and total_incoming shrink accordingly. An active m is
 * granted if its window allows; an inactive m is re-sorted in its peer's
 * list and, if it is now the head and still lacks grants and data,
 * retried for admission. Needy slots are then served with any room that
 * appeared; grants go out through send_grant before return. Safe on an
 * unmanaged message (no effect) and when received == length (no grant;
 * the owner removes m next).
 */
void homa_grant_update(struct homa_grant *g, struct homa_grant_msg *m,
		       uint64_t now_ns)
{
	if (!m->managed)
		return;
	grant_refresh_incoming(g, m);
	if (m->active_ix < 0) {
		grant_inactive_remove(g, m);
		grant_inactive_insert(g, m);
	}
	grant_rebalance(g);
	if (m->active_ix < 0) {
		if (grant_head(m->peer) == m && m->granted < m->length &&
		    m->received < m->length && grant_admit(g, m))
			grant_try(g, m->active_ix, true, now_ns);
	} else {
		grant_try(g, m->active_ix, true, now_ns);
	}
	grant_check_needy(g, now_ns);
}

/*
 * homa_grant_remove() - stop managing m: its rec_incoming leaves
 * total_incoming (and becomes 0); if it held a slot, a waiting message is
 * promoted into it (spec 4.5) and granted if there is room, as are other
 * needy slots. Afterwards m is unmanaged and the caller may free it.
 * Harmless on an unmanaged message.
 */
void homa_grant_remove(struct homa_grant *g, struct homa_grant_msg *m,
		       uint64_t now_ns)
{
	if (!m->managed)
		return;
	g->total_incoming -= m->rec_incoming;
	m->rec_incoming = 0;
	homa_list_del(&m->age_link);
	m->managed = false;
	g->num_managed--;
	if (m->active_ix >= 0)
		grant_slot_clear(g, m->active_ix);
	else
		grant_inactive_remove(g, m);
	grant_rebalance(g);
	grant_check_needy(g, now_ns);
}

/*
 * homa_grant_prio() - the grant priority level for the active message of
 * the given rank (0 = best) with g->num_active messages active (spec 4.7):
 * levels count down from max_sched_prio, shifted to the lowest levels when
 * fewer than max_sched_prio + 1 messages are active, never below 0.
 */
int homa_grant_prio(const struct homa_grant *g, int rank)
{
	int p = g->max_sched_prio - rank;
	int extra = g->max_sched_prio + 1 - g->num_active;

	if (extra >= 0)
		p -= extra;
	return p < 0 ? 0 : p;
}

/*
 * homa_grant_outranks() - true if a should be granted before b: fewer
 * bytes remaining (length - received), then an older birth_ns. False when
 * the two are equal under both, so it is a strict order on ranks.
 */
bool homa_grant_outranks(const struct homa_grant_msg *a,
			 const struct homa_grant_msg *b)
{
	int64_t rem_a = (int64_t)a->length - a->received;
	int64_t rem_b = (int64_t)b->length - b->received;

	if (rem_a != rem_b)
		return rem_a < rem_b;
	return a->birth_ns < b->birth_ns;
}

/* homa_grant_window() - config->window if set, else max_incoming divided
 * by (active messages + 1); bytes. */
int64_t homa_grant_window(const struct homa_grant *g)
{
	if (g->config->window)
		return g->config->window;
	return g->config->max_incoming / (g->num_active + 1);
}
