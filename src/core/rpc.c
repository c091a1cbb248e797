/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rpc.c - RPC records: creation (client and server side), lookup by id,
 * the ready queue, ending (unlink at once, reclaim later) and the reaper.
 *
 * An RPC that ends is unlinked from every structure at once, so no packet
 * can find it. A small one (no allocated outgoing copy) goes straight to
 * the cache of records while that has room; any other moves to the
 * instance's dead list, and the reaper frees its memory in bounded
 * batches (reap_limit per call) from homa_poll and homa_recv, and all at
 * once at close.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "base.h"
#include "msgin.h"
#include "outgoing.h"
#include "peer.h"
#include "rpc.h"

/* homa_rpc_alloc_record() - a fresh allocation: every byte before
 * out_inline cleared, links self-linked, the grant record unmanaged. */
struct homa_rpc *homa_rpc_alloc_record(struct homa *homa)
{
	struct homa_rpc *rpc = homa_alloc(homa, sizeof(*rpc));

	if (!rpc)
		return NULL;
	memset(rpc, 0, offsetof(struct homa_rpc, out_inline));
	homa_list_init(&rpc->ready_link);
	homa_list_init(&rpc->incoming_link);
	homa_list_init(&rpc->out.throttled_link);
	homa_list_init(&rpc->in.stall_link);
	homa_grant_msg_init(&rpc->in.grant);
	return rpc;
}

/* homa_rpc_cache_drain() - free every cached record (at a tick with no
 * RPC created since the last one, and at teardown), so that an idle
 * instance holds no memory for RPCs it no longer has. */
void homa_rpc_cache_drain(struct homa *homa)
{
	while (homa->num_cached_rpcs) {
		struct homa_rpc *rpc = homa_container_of(
			homa->rpc_cache.next, struct homa_rpc, sock_link);

		homa_list_del(&rpc->sock_link);
		homa->num_cached_rpcs--;
		homa_free(homa, rpc, sizeof(*rpc));
	}
}

/*
 * homa_rpc_fail() - end a client RPC with error (positive errno): it
 * stops all protocol activity and waits for recv to report the error.
 * A server RPC simply ends (servers never see RPC errors).
 */
void homa_rpc_fail(struct homa_rpc *rpc, int error)
{
	struct homa *homa = rpc->hsk->homa;

	if (rpc->id & 1) {
		homa_rpc_end(rpc);
		return;
	}
	if (rpc->error)
		return;
	rpc->error = error;
	if (rpc->in.grant.managed)
		homa_grant_remove(&homa->grant, &rpc->in.grant, homa->now_ns);
	homa_pacer_remove(homa, rpc);
	homa_list_del(&rpc->in.stall_link);
	homa_rpc_ready(rpc);
}

/* Slot of the recently-completed cache for (peer, port, id). */
static struct homa_done *homa_done_slot(struct homa *homa,
					const struct homa_peer *peer,
					uint16_t port, uint64_t id)
{
	uint32_t h = peer->addr_hash;

	h ^= (uint32_t)(id >> 1) * 2654435761u ^ port;
	return &homa->done[h & (HOMA_DONE_SLOTS - 1)];
}

/*
 * homa_rpc_done_record() - remember a server RPC whose request was
 * complete, so that a late duplicate of that request (a packet delayed
 * past the ack, spec 3.8) is not executed a second time. A direct-mapped
 * cache: bounded memory, O(1); a collision only forgets an older entry.
 */
static void homa_rpc_done_record(struct homa *homa, const struct homa_rpc *rpc)
{
	struct homa_done *d =
		homa_done_slot(homa, rpc->peer, rpc->dport, rpc->id);

	d->id = rpc->id;
	d->addr_hash = rpc->peer->addr_hash;
	d->port = rpc->dport;
	d->end_ns = homa->now_ns;
}

/* homa_rpc_done_recent() - was this request completed lately (within
 * twice the RPC timeout)? */
bool homa_rpc_done_recent(struct homa *homa, const struct homa_peer *peer,
			  uint16_t port, uint64_t id)
{
	struct homa_done *d = homa_done_slot(homa, peer, port, id);
	uint32_t hash = peer->addr_hash;
	uint64_t window =
		2 * (uint64_t)homa->config.timeout_ticks * homa->tick_ns;

	return d->end_ns && d->id == id && d->addr_hash == hash &&
	       d->port == port && homa->now_ns - d->end_ns < window;
}

/* Give back what a dead RPC holds (its outgoing copy, bytes, its peer
 * reference) and keep its record for reuse, or free it when the cache
 * is full. The record is on no list. */
static inline __attribute__((always_inline)) void
homa_rpc_free(struct homa *homa, struct homa_rpc *rpc)
{
	struct homa_sock *hsk = rpc->hsk;

	if (rpc->out.buf) {
		bool was_full = !homa_sock_room(hsk);

		if (rpc->out.buf != rpc->out_inline && !rpc->out.borrowed)
			homa_free(homa, rpc->out.buf, (size_t)rpc->out.length);
		hsk->tx_bytes -= (uint64_t)rpc->out.length;
		homa->tx_bytes -= (uint64_t)rpc->out.length;
		/* Writable again (spec 9.4), whether or not a send failed. */
		if ((was_full || hsk->tx_blocked) && homa_sock_room(hsk)) {
			hsk->tx_blocked = false;
			homa_sock_wake(hsk, HOMA_WAKE_WRITABLE, 0);
		}
	}
	homa_peer_put(homa, rpc->peer);
	homa->num_rpcs--;
	homa->metrics.v[HOMA_M_reaped_rpcs]++;
	if (homa->num_cached_rpcs < HOMA_RPC_CACHE) {
		homa_list_add_tail(&homa->rpc_cache, &rpc->sock_link);
		homa->num_cached_rpcs++;
		return;
	}
	homa_free(homa, rpc, sizeof(*rpc));
}

/* A borrowed outgoing message is never read again: tell the host (out of
 * line: only HOMA_SEND_BORROW requests come here). */
static __attribute__((noinline)) void homa_rpc_lent_done(struct homa *homa,
							 struct homa_rpc *rpc)
{
	if (rpc->out.buf && homa->env.lent_done)
		homa->env.lent_done(homa->env.ctx, rpc->out.buf,
				    (size_t)rpc->out.length);
	homa->metrics.v[HOMA_M_tx_lent_msgs]++;
}

/*
 * homa_rpc_end() - unlink the RPC from everything; buffers not yet handed
 * to the application go back to the pool. Its record then goes straight
 * to the cache if that has room and the RPC holds no allocated outgoing
 * copy (the usual small RPC: nothing is freed, so a caller's pointer
 * still reads a DEAD record until the next RPC is created); else it
 * waits on the dead list for the reaper, which frees in bounded batches.
 */
void homa_rpc_end(struct homa_rpc *rpc)
{
	struct homa_sock *hsk = rpc->hsk;
	struct homa *homa = hsk->homa;

	if (rpc->state == HOMA_RPC_DEAD)
		return;
	if ((rpc->id & 1) && rpc->state != HOMA_RPC_INCOMING) {
		homa_rpc_done_record(homa, rpc);
		if (homa->acked == rpc)
			homa->acked = NULL;
	}
	if ((rpc->id & 1) && rpc->state == HOMA_RPC_INCOMING) {
		homa->num_server_incoming--;
		homa_list_del(&rpc->incoming_link);
	}
	rpc->state = HOMA_RPC_DEAD;
	if (rpc->in.grant.managed)
		homa_grant_remove(&homa->grant, &rpc->in.grant, homa->now_ns);
	homa_pacer_remove(homa, rpc);
	/* Mostly unlinked already (never stalled; delivered). */
	if (homa_list_linked(&rpc->in.stall_link))
		homa_list_del(&rpc->in.stall_link);
	if (homa_list_linked(&rpc->ready_link))
		homa_list_del(&rpc->ready_link);
	homa_list_del(&rpc->hash_link);
	homa_list_del(&rpc->sock_link);
	homa_msgin_destroy(rpc);
	if ((!rpc->out.buf || rpc->out.buf == rpc->out_inline) &&
	    homa->num_cached_rpcs < HOMA_RPC_CACHE) {
		homa_rpc_free(homa, rpc);
		return;
	}
	/* A lent message (never in out_inline) ends here; its record
	 * waits for the reaper like any large one. */
	if (rpc->out.borrowed)
		homa_rpc_lent_done(homa, rpc);
	homa_list_add_tail(&homa->dead, &rpc->sock_link);
	homa->num_dead++;
}

/*
 * homa_rpc_reap() - free up to limit dead RPCs (limit < 0: all), then let
 * stalled messages try the pool again. Returns the number freed.
 */
int homa_rpc_reap(struct homa *homa, int limit)
{
	int n = 0;

	while (!homa_list_empty(&homa->dead) && (limit < 0 || n < limit)) {
		struct homa_rpc *rpc = homa_container_of(
			homa->dead.next, struct homa_rpc, sock_link);

		homa_list_del(&rpc->sock_link);
		homa->num_dead--;
		homa_rpc_free(homa, rpc);
		n++;
	}
	return n;
}

void homa_rpc_get_ages(const struct homa *homa, struct homa_rpc_ages *ages)
{
	const struct homa_list *spos, *pos;

	memset(ages, 0, sizeof(*ages));
	homa_list_for_each(spos, &homa->socks)
	{
		const struct homa_sock *hsk =
			homa_container_of(spos, struct homa_sock, link);

		homa_list_for_each(pos, &hsk->rpcs)
		{
			const struct homa_rpc *rpc = homa_container_of(
				pos, struct homa_rpc, sock_link);

			if (!(rpc->id & 1)) {
				ages->client_rpcs++;
				if (!ages->oldest_client_ns ||
				    rpc->out.init_ns < ages->oldest_client_ns)
					ages->oldest_client_ns =
						rpc->out.init_ns;
				continue;
			}
			ages->server_rpcs++;
			if (rpc->state != HOMA_RPC_IN_SERVICE)
				continue;
			ages->in_service++;
			if (rpc->flags & HOMA_RPC_OVERDUE)
				ages->overdue++;
			if (!ages->oldest_service_ns ||
			    rpc->service_ns < ages->oldest_service_ns)
				ages->oldest_service_ns = rpc->service_ns;
		}
	}
}
