/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * grant.h - the receiver's grant scheduler (spec/protocol.md 4): which
 * incoming messages may receive more data, how much, and at what priority.
 *
 * The owner (the RPC layer) embeds a struct homa_grant_msg in each incoming
 * message that needs grants (length above its unscheduled bytes) and a
 * struct homa_grant_peer in each peer. It calls homa_grant_add once the
 * message has buffer space, homa_grant_update after each batch of received
 * bytes, and homa_grant_remove when the message completes or ends. Grants
 * go out through the send_grant callback. No allocation happens here.
 */
#ifndef HOMA_CORE_GRANT_H
#define HOMA_CORE_GRANT_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "list.h"
#include "metrics.h"

#define HOMA_GRANT_MAX_ACTIVE 8

struct homa_grant_peer {
	struct homa_list msgs; /* inactive messages of this peer, best first */
	struct homa_list link; /* in homa_grant.peers while msgs non-empty */
	int num_active;	       /* this peer's messages in the active set */
};

struct homa_grant_msg {
	struct homa_grant_peer *peer; /* sender's record; owner sets it */
	uint32_t length;	      /* message length, bytes; owner sets it */
	uint32_t received;     /* bytes received (any order); owner updates */
	uint32_t granted;      /* bytes the sender may send; owner sets the
				* initial value (its unscheduled bytes), then
				* only this module raises it */
	uint64_t birth_ns;     /* arrival of the first packet; owner sets */
	int64_t rec_incoming;  /* max(0, granted - received) as counted in
				* total_incoming; this module writes it */
	bool local;	       /* sender on this host: grant in steps of half
				* a window; owner sets it */
	int active_ix;	       /* slot in the active set, -1 = inactive */
	bool managed;	       /* between add and remove */
	struct homa_list link; /* in peer->msgs while inactive */
	struct homa_list age_link; /* in homa_grant.by_age while managed */
};

struct homa_grant {
	const struct homa_config *config; /* parameters (owned by instance) */
	struct homa_metrics *metrics;	  /* counters to increment */
	struct homa_grant_msg *active[HOMA_GRANT_MAX_ACTIVE]; /* active set */
	bool needy[HOMA_GRANT_MAX_ACTIVE]; /* slot wants a grant when room */
	int num_active;			   /* occupied slots */
	int64_t total_incoming;		   /* sum of rec_incoming, bytes */
	int64_t num_managed;		   /* messages between add and remove */
	struct homa_list peers;	 /* peers with inactive messages, by head */
	struct homa_list by_age; /* managed messages, oldest first */
	uint64_t next_fifo_ns;	 /* earliest time of the next FIFO grant */
	int max_sched_prio;	 /* highest scheduled level; owner updates */
	uint64_t last_data_ns;	 /* last DATA arrival (any message), ns */
	bool nudged;		 /* nudges sent since that arrival */
	/* Transmit a GRANT for m: offset and priority level (0..7). */
	void (*send_grant)(void *ctx, struct homa_grant_msg *m, uint32_t offset,
			   int priority);
	void *ctx; /* first argument of send_grant */
};

/* homa_grant_init() - empty scheduler. */
void homa_grant_init(struct homa_grant *g, const struct homa_config *config,
		     struct homa_metrics *metrics,
		     void (*send_grant)(void *ctx, struct homa_grant_msg *m,
					uint32_t offset, int priority),
		     void *ctx);

/* homa_grant_peer_init() - a peer record with no messages. */
void homa_grant_peer_init(struct homa_grant_peer *peer);

/* homa_grant_msg_init() - an unmanaged message (active_ix -1). */
void homa_grant_msg_init(struct homa_grant_msg *m);

/*
 * homa_grant_add() - start managing m (granted < length required). It
 * enters the active set if there is room or it wins by the victim rule
 * (spec 4.5), else waits in its peer's list; grants follow at once.
 */
void homa_grant_add(struct homa_grant *g, struct homa_grant_msg *m,
		    uint64_t now_ns);

/*
 * homa_grant_update() - m->received changed: update total_incoming,
 * re-rank m (possibly promoting it), issue grants that are now possible.
 */
void homa_grant_update(struct homa_grant *g, struct homa_grant_msg *m,
		       uint64_t now_ns);

/*
 * homa_grant_remove() - stop managing m (complete or ended); its
 * rec_incoming leaves total_incoming and a waiting message is promoted.
 * Harmless on an unmanaged message.
 */
void homa_grant_remove(struct homa_grant *g, struct homa_grant_msg *m,
		       uint64_t now_ns);

/* homa_grant_data_arrived() - a DATA packet (any message) arrived
 * (inline: every DATA packet). */
static inline void homa_grant_data_arrived(struct homa_grant *g,
					   uint64_t now_ns)
{
	g->last_data_ns = now_ns;
	g->nudged = false;
}

/*
 * homa_grant_nudge() - with config->nudge_usecs set, once no DATA has
 * arrived for that long while active messages from other hosts have
 * granted bytes not yet received, send each such message a GRANT that
 * repeats its offset (a nudge: its sender is busy elsewhere and this
 * receiver is idle); once per idle period. Returns when to call again
 * (0 = not until more DATA or grants).
 */
uint64_t homa_grant_nudge(struct homa_grant *g, uint64_t now_ns);

/* homa_grant_prio() - the level for the message of rank (0 = best)
 * among num_active active messages (spec 4.7). */
int homa_grant_prio(const struct homa_grant *g, int rank);

/* homa_grant_outranks() - true if a should be granted before b
 * (fewer bytes remaining, then older). */
bool homa_grant_outranks(const struct homa_grant_msg *a,
			 const struct homa_grant_msg *b);

/* homa_grant_window() - current per-message window, bytes. */
int64_t homa_grant_window(const struct homa_grant *g);

#endif /* HOMA_CORE_GRANT_H */
