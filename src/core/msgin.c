/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msgin.c - the life of an incoming message, below the RPC that owns it:
 * set up on its first packet (length, unscheduled bytes), laid out in the
 * socket's buffer pool and handed to the grant scheduler, stalled while
 * the pool is full and resumed shortest first when pages come back
 * (spec/protocol.md 8), asked for again when packets are missing
 * (RESEND, spec 6.2), and torn down. incoming.c adds the payload and
 * completes the message; rpc.c ends it.
 */
#include <errno.h>
#include <string.h>

#include "base.h"
#include "msgin.h"

/* homa_msgin_send_resend() - ask rpc's peer to retransmit [offset, +length). */
static void homa_msgin_send_resend(struct homa_rpc *rpc, uint32_t offset,
				   uint32_t length, int level)
{
	struct homa *homa = rpc->hsk->homa;
	struct homa_wire_pkt pkt;

	memset(&pkt, 0, sizeof(pkt));
	pkt.common.type = HOMA_PKT_RESEND;
	pkt.u.resend.offset = offset;
	pkt.u.resend.length = length;
	pkt.u.resend.priority = (uint8_t)level;
	homa->metrics.v[HOMA_M_resend_requests]++;
	homa_send_ctrl(homa, rpc->peer, rpc->hsk->port, rpc->dport, rpc->id,
		       &pkt);
}

/*
 * homa_msgin_alloc_bufs() - lay the message out in the pool and, if it
 * needs grants, hand it to the scheduler. -ENOMEM if the pool is full.
 */
static inline int homa_msgin_alloc_bufs(struct homa_rpc *rpc, uint64_t now_ns)
{
	struct homa *homa = rpc->hsk->homa;
	struct homa_msgin *in = &rpc->in;

	if (!rpc->hsk->pool.region ||
	    homa_pool_alloc_msg(&rpc->hsk->pool, (uint32_t)in->length, now_ns,
				in->bpages) < 0)
		return -ENOMEM;
	in->num_bpages = homa_pool_pages_needed((uint32_t)in->length);
	homa_list_del(&in->stall_link);
	if (in->need_grants) {
		in->grant.local = rpc->peer->local;
		homa_grant_add(&homa->grant, &in->grant, now_ns);
	}
	return 0;
}

/*
 * homa_msgin_init_slow() - the rest of homa_msgin_init (msgin.h) for any
 * message but a small one that got its buffers at once: an offset array
 * for more than HOMA_MSGIN_INLINE_BPAGES pages, the grant scheduler, or
 * a stall. Errors: -ENOMEM (no offset array: the message is as before).
 */
int homa_msgin_init_slow(struct homa_rpc *rpc, uint32_t pages, uint64_t now_ns)
{
	struct homa *homa = rpc->hsk->homa;
	struct homa_msgin *in = &rpc->in;

	if (pages > HOMA_MSGIN_INLINE_BPAGES) {
		in->bpages = homa_alloc(homa, pages * sizeof(uint32_t));
		if (!in->bpages) {
			in->length = -1;
			return -ENOMEM;
		}
	}
	if (homa_msgin_alloc_bufs(rpc, now_ns) < 0) {
		struct homa_list *pos;

		/* Stall, shortest message first. */
		homa_list_for_each(pos, &rpc->hsk->stalled)
		{
			struct homa_rpc *o = homa_container_of(
				pos, struct homa_rpc, in.stall_link);
			if (o->in.length > rpc->in.length)
				break;
		}
		homa_list_insert_after(pos->prev, &in->stall_link);
		homa->metrics.v[HOMA_M_pool_stalls]++;
	}
	return 0;
}

/* homa_msgin_destroy_slow() - homa_msgin_destroy when pages, an offset
 * array or gaps are to be given back (msgin.h). Idempotent. */
void homa_msgin_destroy_slow(struct homa_rpc *rpc)
{
	struct homa *homa = rpc->hsk->homa;
	struct homa_msgin *in = &rpc->in;

	if (in->num_bpages) {
		homa_pool_release(&rpc->hsk->pool, in->bpages, in->num_bpages);
		in->num_bpages = 0;
		if (!homa_list_empty(&rpc->hsk->stalled))
			homa_msgin_check_stalled(rpc->hsk);
	}
	if (in->bpages) {
		if (in->bpages != in->bpages_inline)
			homa_free(homa, in->bpages,
				  in->bpages_cap * sizeof(uint32_t));
		in->bpages = NULL;
	}
	if (in->length >= 0) {
		if (in->reasm.gaps)
			homa_reasm_destroy(&in->reasm, &homa->menv);
		in->length = -1;
	}
}

/*
 * homa_msgin_check_stalled() - give buffers to stalled messages, shortest
 * first, while the pool has room; each resumed message asks its sender to
 * retransmit everything (its earlier packets were discarded).
 */
void homa_msgin_check_stalled(struct homa_sock *hsk)
{
	struct homa *homa = hsk->homa;

	while (!homa_list_empty(&hsk->stalled)) {
		struct homa_rpc *rpc = homa_container_of(
			hsk->stalled.next, struct homa_rpc, in.stall_link);

		if (homa_msgin_alloc_bufs(rpc, homa->now_ns) < 0)
			return;
		homa->metrics.v[HOMA_M_pool_resumes]++;
		homa_msgin_send_resend(rpc, 0, HOMA_WIRE_RESEND_ALL,
				       homa_config_high_prio(&homa->config));
	}
}

/*
 * homa_msgin_request_retrans() - ask the sender of rpc's incoming message for
 * what is missing (spec 6.2): everything if nothing arrived, else each
 * gap and the granted tail.
 */
void homa_msgin_request_retrans(struct homa_rpc *rpc)
{
	struct homa *homa = rpc->hsk->homa;
	struct homa_msgin *in = &rpc->in;
	int level = (int)homa->config.num_priorities - 1;
	uint32_t granted;

	if (in->length < 0) {
		homa_msgin_send_resend(rpc, 0, HOMA_WIRE_RESEND_ALL, level);
		return;
	}
	for (uint32_t i = 0; i < in->reasm.num_gaps; i++)
		homa_msgin_send_resend(
			rpc, in->reasm.gaps[i].start,
			in->reasm.gaps[i].end - in->reasm.gaps[i].start, level);
	granted = in->grant.granted;
	if (granted > in->reasm.recv_end)
		homa_msgin_send_resend(rpc, in->reasm.recv_end,
				       granted - in->reasm.recv_end, level);
}
