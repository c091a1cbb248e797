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

struct homa_rpc *homa_rpc_alloc_client(struct homa_sock *hsk,
				       struct homa_peer *peer, uint16_t dport);
struct homa_rpc *homa_rpc_alloc_server(struct homa_sock *hsk,
				       struct homa_peer *peer, uint16_t sport,
				       uint64_t id);
/* homa_rpc_bucket() - the id hash bucket of local id. */
static inline struct homa_list *homa_rpc_bucket(struct homa *homa, uint64_t id)
{
	return &homa->rpc_buckets[(id >> 1) & (HOMA_RPC_BUCKETS - 1)];
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
int homa_rpc_reap(struct homa *homa, int limit);
void homa_rpc_cache_drain(struct homa *homa);
bool homa_rpc_done_recent(struct homa *homa, const struct homa_peer *peer,
			  uint16_t port, uint64_t id);

#endif /* HOMA_CORE_RPC_H */
