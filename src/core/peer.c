/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * peer.c - the table of remote hosts (spec/protocol.md 12). A peer holds
 * what the instance knows about a host across RPCs: acks owed to it, its
 * unscheduled cutoffs, and the grant scheduler's per-sender record.
 *
 * Records are created on first use, up to config.max_peers (packets that
 * would need more are dropped and counted). A record with no RPCs is
 * evicted once idle (peer_idle_secs_min/max) while the table holds at
 * least peer_gc_threshold peers; a record in use is never evicted, which
 * is simpler than Linux (which drops the table's reference and lets the
 * last RPC free it) and loses nothing.
 */
#include <string.h>

#include "base.h"
#include "peer.h"

uint32_t homa_peer_addr_hash(const struct homa_addr *a)
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < 16; i++)
		h = (h ^ a->a[i]) * 16777619u;
	return h;
}

static void homa_peer_init_cutoffs(struct homa_peer *peer)
{
	/* Defaults before any CUTOFFS (spec 7), with entry 0 covering all
	 * sizes so a scan never falls off the end (spec 13 item 6). */
	memset(peer->cutoffs, 0, sizeof(peer->cutoffs));
	peer->cutoffs[0] = HOMA_CUTOFF_INFINITE;
	peer->cutoffs[6] = HOMA_CUTOFF_INFINITE;
	peer->cutoff_version = 0;
}

/* homa_peer_get_slow() - homa_peer_get when a is not the last peer. */
struct homa_peer *homa_peer_get_slow(struct homa *homa,
				     const struct homa_addr *a, bool create)
{
	struct homa_list *head, *pos;
	struct homa_peer *peer;
	uint32_t hash;

	hash = homa_peer_addr_hash(a);
	head = &homa->peer_buckets[hash & (HOMA_PEER_BUCKETS - 1)];
	homa_list_for_each(pos, head)
	{
		peer = homa_container_of(pos, struct homa_peer, hash_link);
		if (memcmp(peer->addr.a, a->a, 16) == 0) {
			homa_peer_touch(homa, peer);
			homa->peer_last = peer;
			return peer;
		}
	}
	if (!create)
		return NULL;
	if (homa->num_peers >= (uint64_t)homa->config.max_peers) {
		homa->metrics.v[HOMA_M_peer_limit]++;
		return NULL;
	}
	peer = homa_alloc(homa, sizeof(*peer));
	if (!peer)
		return NULL;
	memset(peer, 0, sizeof(*peer));
	peer->addr = *a;
	peer->addr_hash = hash;
	peer->last_use_ns = homa->now_ns;
	homa_peer_init_cutoffs(peer);
	homa_grant_peer_init(&peer->gpeer);
	if (homa->env.path_mtu) {
		uint32_t mtu =
			homa->env.path_mtu(homa->env.ctx, a, &peer->local);

		/* Out of range: keep config.mtu (below the minimum a packet
		 * could not carry the headers, IPv6's the larger). */
		if (mtu >= HOMA_CONFIG_MTU_MIN && mtu <= HOMA_CONFIG_MTU_MAX &&
		    (int64_t)mtu - homa_ip_overhead(homa, false) -
				    HOMA_WIRE_DATA_BYTES >
			    0)
			peer->mtu = mtu;
	}
	homa_list_add_tail(head, &peer->hash_link);
	homa_list_add_tail(&homa->peer_lru, &peer->lru_link);
	homa->num_peers++;
	homa->metrics.v[HOMA_M_peer_allocs]++;
	homa->peer_last = peer;
	return peer;
}

static void homa_peer_free(struct homa *homa, struct homa_peer *peer)
{
	if (homa->peer_last == peer)
		homa->peer_last = NULL;
	homa_list_del(&peer->hash_link);
	homa_list_del(&peer->lru_link);
	homa->num_peers--;
	homa_free(homa, peer, sizeof(*peer));
}

/*
 * Take the stored acks of client port sport out of peer->acks (oldest
 * first) into pkt's list, up to its room. Returns how many.
 */
static int homa_peer_take_acks(struct homa_peer *peer, uint16_t sport,
			       struct homa_wire_pkt *pkt)
{
	int kept = 0, taken = 0;

	for (int i = 0; i < peer->num_acks; i++) {
		if (peer->ack_sports[i] == sport &&
		    pkt->u.ack.num_acks < HOMA_WIRE_MAX_ACKS) {
			pkt->u.ack.acks[pkt->u.ack.num_acks++] = peer->acks[i];
			taken++;
			continue;
		}
		peer->acks[kept] = peer->acks[i];
		peer->ack_sports[kept++] = peer->ack_sports[i];
	}
	peer->num_acks = kept;
	return taken;
}

/*
 * homa_peer_add_ack_full() - homa_peer_add_ack (peer.h) with 5 acks
 * already stored: send an ACK whose header names this RPC and whose list
 * holds the stored acks of the same port (spec 3.5); if none is of that
 * port, the oldest stored ack and those of its port go out from their own
 * port instead, and this one is stored.
 */
void homa_peer_add_ack_full(struct homa *homa, struct homa_peer *peer,
			    uint16_t sport, uint64_t client_id,
			    uint16_t server_port)
{
	struct homa_wire_ack first;
	struct homa_wire_pkt pkt;
	uint16_t from;

	{
		memset(&pkt, 0, sizeof(pkt));
		pkt.common.type = HOMA_PKT_ACK;
		homa->metrics.v[HOMA_M_ack_overflows]++;
		if (homa_peer_take_acks(peer, sport, &pkt) > 0) {
			homa_send_ctrl(homa, peer, sport, server_port,
				       client_id, &pkt);
			return;
		}
		from = peer->ack_sports[0];
		first = peer->acks[0];
		homa_peer_take_acks(peer, from, &pkt);
		/* Its first entry is the oldest ack, named by the header. */
		pkt.u.ack.num_acks--;
		memmove(&pkt.u.ack.acks[0], &pkt.u.ack.acks[1],
			(size_t)pkt.u.ack.num_acks * sizeof(pkt.u.ack.acks[0]));
		homa_send_ctrl(homa, peer, from, first.server_port,
			       first.client_id, &pkt);
	}
	peer->acks[peer->num_acks] =
		(struct homa_wire_ack){ client_id, server_port };
	peer->ack_sports[peer->num_acks++] = sport;
}

/* homa_peer_pop_ack_slow() - homa_peer_pop_ack with any stored acks. */
bool homa_peer_pop_ack_slow(struct homa_peer *peer, uint16_t sport,
			    struct homa_wire_ack *ack)
{
	for (int i = peer->num_acks - 1; i >= 0; i--) {
		if (peer->ack_sports[i] != sport)
			continue;
		*ack = peer->acks[i];
		for (int j = i + 1; j < peer->num_acks; j++) {
			peer->acks[j - 1] = peer->acks[j];
			peer->ack_sports[j - 1] = peer->ack_sports[j];
		}
		peer->num_acks--;
		return true;
	}
	return false;
}

/*
 * homa_peer_gc() - once per tick: with at least peer_gc_threshold peers,
 * look at up to 10 of the least recently used and evict up to 5 that have
 * no RPCs and have been idle long enough. Bounded work per tick.
 */
void homa_peer_gc(struct homa *homa, uint64_t now_ns)
{
	const struct homa_config *c = &homa->config;
	uint64_t min_ns = (uint64_t)c->peer_idle_secs_min * HOMA_NS_PER_SEC;
	uint64_t max_ns = (uint64_t)c->peer_idle_secs_max * HOMA_NS_PER_SEC;
	struct homa_list *pos, *tmp;
	int scanned = 0, evicted = 0;
	bool crowded;

	if (homa->num_peers < (uint64_t)c->peer_gc_threshold)
		return;
	/* Near the hard limit, the minimum idle time is enough. */
	crowded = homa->num_peers * 10 >= (uint64_t)c->max_peers * 9;
	homa_list_for_each_safe(pos, tmp, &homa->peer_lru)
	{
		struct homa_peer *peer =
			homa_container_of(pos, struct homa_peer, lru_link);
		uint64_t idle = now_ns - peer->last_use_ns;

		if (scanned++ >= HOMA_PEER_GC_SCAN ||
		    evicted >= HOMA_PEER_GC_EVICT)
			break;
		if (peer->refs) {
			/* In use: rotate it out of the scan window. */
			homa_list_del(&peer->lru_link);
			homa_list_add_tail(&homa->peer_lru, &peer->lru_link);
			continue;
		}
		if (idle < min_ns)
			break; /* the rest are more recent still */
		if (idle < max_ns && !crowded)
			continue;
		homa_peer_free(homa, peer);
		homa->metrics.v[HOMA_M_peer_evictions]++;
		evicted++;
	}
}

/* homa_peer_destroy_all() - free every record (instance teardown). */
void homa_peer_destroy_all(struct homa *homa)
{
	struct homa_list *pos, *tmp;

	homa_list_for_each_safe(pos, tmp, &homa->peer_lru)
	{
		homa_peer_free(homa, homa_container_of(pos, struct homa_peer,
						       lru_link));
	}
}
