/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * peer.h - the table of remote hosts (peer.c), one layer above the floor:
 * records by address, references from RPCs, acks owed, eviction.
 */
#ifndef HOMA_CORE_PEER_H
#define HOMA_CORE_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "homa_impl.h"

/* homa_peer_addr_hash() - FNV-1a of the 16 address bytes (the peer
 * table's and the done cache's hash; kept in peer.addr_hash). */
uint32_t homa_peer_addr_hash(const struct homa_addr *a);
struct homa_peer *homa_peer_get(struct homa *homa, const struct homa_addr *a,
				bool create);
/* homa_peer_hold() - one more RPC uses peer (inline: every RPC). */
static inline void homa_peer_hold(struct homa *homa, struct homa_peer *peer)
{
	peer->refs++;
	homa->peer_refs++;
}

/* homa_peer_put() - an RPC of peer was reaped: it was in use until now. */
static inline void homa_peer_put(struct homa *homa, struct homa_peer *peer)
{
	peer->refs--;
	homa->peer_refs--;
	peer->last_use_ns = homa->now_ns;
}
void homa_peer_add_ack(struct homa *homa, struct homa_peer *peer,
		       uint16_t sport, uint64_t client_id,
		       uint16_t server_port);
bool homa_peer_pop_ack(struct homa_peer *peer, uint16_t sport,
		       struct homa_wire_ack *ack);
void homa_peer_gc(struct homa *homa, uint64_t now_ns);
void homa_peer_destroy_all(struct homa *homa);

#endif /* HOMA_CORE_PEER_H */
