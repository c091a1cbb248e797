/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rpc.h - RPC records (rpc.c): creation, lookup, the ready queue, ending,
 * the reaper, and the cache of recently completed server RPCs.
 */
#ifndef HOMA_CORE_RPC_H
#define HOMA_CORE_RPC_H

#include <stdbool.h>
#include <stdint.h>

#include "base.h"
#include "homa_impl.h"
#include "peer.h"

/* homa_rpc_bucket() - the id hash bucket of local id. */
static inline struct homa_list *homa_rpc_bucket(struct homa *homa, uint64_t id)
{
	return &homa->rpc_buckets[(id >> 1) & (HOMA_RPC_BUCKETS - 1)];
}

/* homa_rpc_alloc_record() - a new record, as from the cache (rpc.c). */
struct homa_rpc *homa_rpc_alloc_record(struct homa *homa);

/*
 * homa_rpc_clear() - the fields of a record that a new RPC must find
 * zero (or -1), stored one by one: a memset of the whole record cost
 * more than these stores, and what homa_msgout_init / homa_msgin_init
 * set before anything reads it is left to them (outgoing.c, msgin.c).
 * The links and the grant record are not touched: homa_rpc_new
 * initializes them in a fresh record, and a cached one holds them as
 * homa_rpc_end left them (self-linked, unmanaged).
 */
static inline void homa_rpc_clear(struct homa_rpc *rpc)
{
	rpc->cookie = 0;
	rpc->flags = 0;
	rpc->error = 0;
	rpc->silent_ticks = 0;
	rpc->last_pkt_ns = 0;
	rpc->service_ns = 0;
	rpc->out.length = -1;
	rpc->out.buf = NULL;
	rpc->out.next_xmit = 0;
	rpc->out.granted = 0;
	rpc->out.sched_prio = 0;
	rpc->out.nudged = false;
	rpc->out.done_ns = 0;
	rpc->out.copied = 0;
	rpc->out.src = NULL;
	rpc->out.src_count = 0;
	rpc->out.borrowed = false; /* only homa_msgout_buf's loan sets it */
	rpc->in.length = -1;
	rpc->in.bpages = NULL;
	rpc->in.num_bpages = 0;
	rpc->in.reasm.gaps = NULL;
}

/*
 * A record for a new RPC: a cached one if there is one, else a new
 * allocation. A cached record was ended (homa_rpc_end) and reaped: its
 * links are self-linked and its grant record unmanaged, as in a fresh
 * one, so only homa_rpc_clear's fields need setting.
 */
static inline struct homa_rpc *homa_rpc_get_record(struct homa *homa)
{
	struct homa_rpc *rpc;

	if (homa->num_cached_rpcs) {
		rpc = homa_container_of(homa->rpc_cache.next, struct homa_rpc,
					sock_link);
		homa_list_del(&rpc->sock_link);
		homa->num_cached_rpcs--;
	} else {
		rpc = homa_rpc_alloc_record(homa);
		if (!rpc)
			return NULL;
	}
	homa_rpc_clear(rpc);
	homa->rpc_created = true;
	return rpc;
}

static inline __attribute__((always_inline)) struct homa_rpc *
homa_rpc_new(struct homa_sock *hsk, struct homa_peer *peer, uint16_t dport,
	     uint64_t id)
{
	struct homa *homa = hsk->homa;
	struct homa_rpc *rpc = homa_rpc_get_record(homa);

	if (!rpc)
		return NULL;
	rpc->hsk = hsk;
	rpc->peer = peer;
	rpc->dport = dport;
	rpc->id = id;
	homa_peer_hold(homa, peer);
	homa_list_add_tail(&hsk->rpcs, &rpc->sock_link);
	homa_list_add_tail(homa_rpc_bucket(homa, id), &rpc->hash_link);
	homa->num_rpcs++;
	return rpc;
}

/* homa_rpc_alloc_client() - a new client RPC in OUTGOING with a fresh even
 * id. NULL on allocation failure. */
static inline struct homa_rpc *homa_rpc_alloc_client(struct homa_sock *hsk,
						     struct homa_peer *peer,
						     uint16_t dport)
{
	struct homa *homa = hsk->homa;
	struct homa_rpc *rpc = homa_rpc_new(hsk, peer, dport, homa->next_id);

	if (!rpc)
		return NULL;
	homa->next_id += 2;
	rpc->state = HOMA_RPC_OUTGOING;
	return rpc;
}

/* homa_rpc_alloc_server() - a new server RPC in INCOMING for the request
 * id (odd, local form) from peer:sport. NULL on allocation failure. */
static inline struct homa_rpc *homa_rpc_alloc_server(struct homa_sock *hsk,
						     struct homa_peer *peer,
						     uint16_t sport,
						     uint64_t id)
{
	struct homa_rpc *rpc = homa_rpc_new(hsk, peer, sport, id);

	if (!rpc)
		return NULL;
	rpc->state = HOMA_RPC_INCOMING;
	hsk->homa->num_server_incoming++;
	homa_list_add_tail(&hsk->homa->server_incoming, &rpc->incoming_link);
	return rpc;
}
/* homa_rpc_find_client() - socket hsk's client RPC id (even), NULL if
 * none (inline: every packet and receive looks one up). */
static inline struct homa_rpc *
homa_rpc_find_client(struct homa *homa, struct homa_sock *hsk, uint64_t id)
{
	struct homa_list *pos;

	homa_list_for_each(pos, homa_rpc_bucket(homa, id))
	{
		struct homa_rpc *rpc =
			homa_container_of(pos, struct homa_rpc, hash_link);
		if (rpc->id == id && rpc->hsk == hsk)
			return rpc;
	}
	return NULL;
}

/*
 * homa_rpc_find_server() - the server RPC of socket hsk for request id
 * (odd) from the client at addr:port. A server RPC is named by all three:
 * two client processes on one host may pick the same id (spec 3.1 makes
 * ids unique per client host, which separate processes cannot promise),
 * and their RPCs must stay apart. NULL if there is none.
 */
static inline struct homa_rpc *
homa_rpc_find_server(struct homa *homa, struct homa_sock *hsk,
		     const struct homa_addr *addr, uint16_t port, uint64_t id)
{
	struct homa_list *pos;

	homa_list_for_each(pos, homa_rpc_bucket(homa, id))
	{
		struct homa_rpc *rpc =
			homa_container_of(pos, struct homa_rpc, hash_link);
		if (rpc->id == id && rpc->hsk == hsk && rpc->dport == port &&
		    memcmp(rpc->peer->addr.a, addr->a, 16) == 0)
			return rpc;
	}
	return NULL;
}
void homa_rpc_end(struct homa_rpc *rpc);
void homa_rpc_fail(struct homa_rpc *rpc, int error);
/*
 * homa_rpc_ready() - the RPC's incoming message is complete or it failed:
 * queue it for recv (shared RPCs) or flag it (private) and wake waiters
 * (inline: every message received).
 */
static inline void homa_rpc_ready(struct homa_rpc *rpc)
{
	struct homa_sock *hsk = rpc->hsk;

	if (rpc->flags & HOMA_RPC_READY)
		return;
	rpc->flags |= HOMA_RPC_READY;
	if (!(rpc->flags & HOMA_RPC_PRIVATE))
		homa_list_add_tail(&hsk->ready, &rpc->ready_link);
	homa_sock_wake(hsk, HOMA_WAKE_READABLE, rpc->id);
}

/* homa_rpc_end_acked() - end homa.acked, if any (homa_rpc_ack_later). */
static inline void homa_rpc_end_acked(struct homa *homa)
{
	if (homa->acked)
		homa_rpc_end(homa->acked);
}

/*
 * homa_rpc_ack_later() - a server RPC's ack came with a request: end it
 * after the reply the host is about to send (homa_end_acked) rather than
 * before. One waits at most: an older one ends now. Another end first
 * (shutdown, eviction) clears homa.acked (homa_rpc_end).
 */
static inline void homa_rpc_ack_later(struct homa_rpc *rpc)
{
	struct homa *homa = rpc->hsk->homa;

	homa_rpc_end_acked(homa);
	homa->acked = rpc;
}
int homa_rpc_reap(struct homa *homa, int limit);
void homa_rpc_cache_drain(struct homa *homa);
bool homa_rpc_done_recent(struct homa *homa, const struct homa_peer *peer,
			  uint16_t port, uint64_t id);

#endif /* HOMA_CORE_RPC_H */
