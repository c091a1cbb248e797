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
struct homa_peer *homa_peer_get_slow(struct homa *homa,
				     const struct homa_addr *a, bool create);

/* homa_peer_touch() - the peer was used now: the most recently used from
 * now on. */
static inline void homa_peer_touch(struct homa *homa, struct homa_peer *peer)
{
	peer->last_use_ns = homa->now_ns;
	if (peer->lru_link.next != &homa->peer_lru) {
		homa_list_del(&peer->lru_link);
		homa_list_add_tail(&homa->peer_lru, &peer->lru_link);
	}
}

/*
 * homa_peer_get() - the record for address a, created if create is true.
 * Returns NULL if absent (create false), at the max_peers limit, or out of
 * memory (each counted). Inline for the usual case: most packets and RPCs
 * name the peer of the one before (homa.peer_last).
 */
static inline struct homa_peer *
homa_peer_get(struct homa *homa, const struct homa_addr *a, bool create)
{
	struct homa_peer *peer = homa->peer_last;

	if (peer && memcmp(peer->addr.a, a->a, 16) == 0) {
		homa_peer_touch(homa, peer);
		return peer;
	}
	return homa_peer_get_slow(homa, a, create);
}
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
void homa_peer_add_ack_full(struct homa *homa, struct homa_peer *peer,
			    uint16_t sport, uint64_t client_id,
			    uint16_t server_port);
bool homa_peer_pop_ack_slow(struct homa_peer *peer, uint16_t sport,
			    struct homa_wire_ack *ack);

/*
 * homa_peer_add_ack() - remember that the client RPC client_id of local
 * port sport (to server_port on peer) is complete. Acks leave only from
 * the port of their RPC, since a server names an RPC by client address,
 * port and id. Inline while there is room; with 5 already stored,
 * homa_peer_add_ack_full sends some.
 */
static inline void homa_peer_add_ack(struct homa *homa, struct homa_peer *peer,
				     uint16_t sport, uint64_t client_id,
				     uint16_t server_port)
{
	if (peer->num_acks == HOMA_WIRE_MAX_ACKS) {
		homa_peer_add_ack_full(homa, peer, sport, client_id,
				       server_port);
		return;
	}
	peer->acks[peer->num_acks] =
		(struct homa_wire_ack){ client_id, server_port };
	peer->ack_sports[peer->num_acks++] = sport;
}

/* homa_peer_pop_ack() - take the most recent stored ack of client port
 * sport, if any. Inline for the usual single stored ack. */
static inline bool homa_peer_pop_ack(struct homa_peer *peer, uint16_t sport,
				     struct homa_wire_ack *ack)
{
	if (peer->num_acks == 1 && peer->ack_sports[0] == sport) {
		*ack = peer->acks[0];
		peer->num_acks = 0;
		return true;
	}
	return homa_peer_pop_ack_slow(peer, sport, ack);
}
void homa_peer_gc(struct homa *homa, uint64_t now_ns);
void homa_peer_destroy_all(struct homa *homa);

#endif /* HOMA_CORE_PEER_H */
