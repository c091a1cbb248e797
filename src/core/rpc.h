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
struct homa_rpc *homa_rpc_find_client(struct homa *homa, struct homa_sock *hsk,
				      uint64_t id);
struct homa_rpc *homa_rpc_find_server(struct homa *homa, struct homa_sock *hsk,
				      const struct homa_addr *addr,
				      uint16_t port, uint64_t id);
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
