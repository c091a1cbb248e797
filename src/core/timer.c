/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * timer.c - the tick (spec/protocol.md 6.1): detects silence, requests
 * retransmission, times RPCs out, sends NEED_ACK for unacknowledged
 * responses, and does the periodic housekeeping (peer eviction, the tail
 * bpage lease, stalled messages).
 *
 * Deviation from Linux (spec 13 item 9): a server RPC whose response is
 * fully sent but never acknowledged ends after HOMA_ACK_TIMEOUT_FACTOR
 * times timeout_ticks of silence instead of sending NEED_ACK forever. Not
 * after timeout_ticks alone: the client is a process that a loaded host
 * may leave without a CPU for longer (305 ms seen), and until it runs it
 * can neither ack nor ask for a lost packet; a response ended meanwhile
 * never completes (its RESEND meets RPC_UNKNOWN, which a client receiving
 * a response ignores), the client times out instead (test_timer). Only
 * memory is spent waiting, and NEED_ACK backs off. A server RPC stalled
 * for buffers counts silence too (any packet from the client resets it),
 * so made-up requests cannot hold memory forever; live clients keep it
 * alive with their RESENDs.
 */
#include <errno.h>

#include "base.h"
#include "msgin.h"
#include "peer.h"
#include "rpc.h"
#include "timer.h"

/* What one RPC needs at a tick. */
static void homa_timer_rpc(struct homa *homa, struct homa_rpc *rpc,
			   uint64_t now_ns)
{
	const struct homa_config *c = &homa->config;
	bool server = rpc->id & 1;

	if (rpc->error)
		return; /* waiting for recv to collect the error */
	if (rpc->state == HOMA_RPC_IN_SERVICE) {
		/* The application owns it: no limit (the client is told
		 * BUSY), but one it holds too long is counted and flagged
		 * (HOMAIOCINFO) so that it cannot hide. */
		rpc->silent_ticks = 0;
		if (c->overdue_ticks && !(rpc->flags & HOMA_RPC_OVERDUE) &&
		    now_ns - rpc->service_ns >=
			    (uint64_t)c->overdue_ticks * homa->tick_ns) {
			rpc->flags |= HOMA_RPC_OVERDUE;
			homa->metrics.v[HOMA_M_server_rpcs_overdue]++;
		}
		return;
	}
	rpc->silent_ticks++;
	if (server && rpc->state == HOMA_RPC_OUTGOING) {
		if (rpc->out.next_xmit < (uint32_t)rpc->out.length) {
			rpc->silent_ticks = 0; /* the client drives */
			return;
		}
		if (rpc->silent_ticks >=
		    HOMA_ACK_TIMEOUT_FACTOR * (uint32_t)c->timeout_ticks) {
			homa->metrics.v[HOMA_M_server_ack_timeouts]++;
			homa_rpc_end(rpc);
			return;
		}
		uint64_t k = (now_ns - rpc->out.done_ns) / homa->tick_ns;
		uint64_t first = (uint64_t)c->request_ack_ticks;

		/* At request_ack_ticks, then backing off (1, 2, 4, ... ticks
		 * later): a live client answers the first; a made-up or dead
		 * one must not turn each request into a hundred packets. */
		if (k >= first && ((k - first) & (k - first - 1)) == 0) {
			struct homa_wire_pkt pkt = { 0 };

			pkt.common.type = HOMA_PKT_NEED_ACK;
			homa_send_ctrl(homa, rpc->peer, rpc->hsk->port,
				       rpc->dport, rpc->id, &pkt);
		}
		return;
	}
	if (rpc->state == HOMA_RPC_INCOMING) {
		if (rpc->in.num_bpages &&
		    rpc->in.grant.received >= rpc->in.grant.granted) {
			rpc->silent_ticks = 0; /* nothing owed to us */
			return;
		}
		if (!rpc->in.num_bpages && !server) {
			rpc->silent_ticks = 0; /* stalled on purpose */
			return;
		}
	}
	if (rpc->state == HOMA_RPC_OUTGOING &&
	    rpc->out.next_xmit < rpc->out.granted) {
		rpc->silent_ticks = 0; /* our move (pacer) */
		return;
	}
	if (rpc->silent_ticks < (uint32_t)c->resend_ticks)
		return;
	if (rpc->silent_ticks >= (uint32_t)c->timeout_ticks) {
		if (server) {
			homa->metrics.v[HOMA_M_server_rpc_timeouts]++;
			homa_rpc_end(rpc);
		} else {
			homa->metrics.v[HOMA_M_rpc_timeouts]++;
			homa_rpc_fail(rpc, ETIMEDOUT);
		}
		return;
	}
	if ((rpc->silent_ticks - (uint32_t)c->resend_ticks) %
		    (uint32_t)c->resend_interval ==
	    0) {
		if (rpc->state == HOMA_RPC_INCOMING && rpc->in.num_bpages)
			homa_msgin_request_retrans(rpc);
		else if (!server)
			homa_msgin_request_retrans(
				rpc); /* nothing received yet */
	}
}

void homa_timer(struct homa *homa, uint64_t now_ns)
{
	struct homa_list *spos, *pos, *tmp;

	homa_list_for_each(spos, &homa->socks)
	{
		struct homa_sock *hsk =
			homa_container_of(spos, struct homa_sock, link);

		homa_list_for_each_safe(pos, tmp, &hsk->rpcs)
		{
			homa_timer_rpc(homa,
				       homa_container_of(pos, struct homa_rpc,
							 sock_link),
				       now_ns);
		}
		if (hsk->pool.region) {
			homa_pool_tick(&hsk->pool, now_ns);
			if (!homa_list_empty(&hsk->stalled))
				homa_msgin_check_stalled(hsk);
		}
	}
	homa_peer_gc(homa, now_ns);
	/* No RPC for a whole tick: the cached records go back to the host. */
	if (!homa->rpc_created)
		homa_rpc_cache_drain(homa);
	homa->rpc_created = false;
}
