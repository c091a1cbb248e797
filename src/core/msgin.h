/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msgin.h - the incoming message's lifecycle (msgin.c): set-up, buffers,
 * stalls and resumption, retransmission requests, teardown.
 */
#ifndef HOMA_CORE_MSGIN_H
#define HOMA_CORE_MSGIN_H

#include <stdint.h>

#include "homa_impl.h"

int homa_msgin_init_slow(struct homa_rpc *rpc, uint32_t pages, uint64_t now_ns);

/*
 * homa_msgin_init() - first packet of an incoming message: length and
 * the sender's unscheduled bytes. Tries to get buffers at once; without
 * them the message stalls (spec 8). Errors: -ENOMEM. Inline for the
 * usual small message (one bpage, all unscheduled, buffers at once); any
 * other continues in homa_msgin_init_slow.
 */
static inline int homa_msgin_init(struct homa_rpc *rpc, uint32_t length,
				  uint32_t incoming, uint64_t now_ns)
{
	struct homa_pool *pool = &rpc->hsk->pool;
	struct homa_msgin *in = &rpc->in;
	uint32_t pages = homa_pool_pages_needed(length);

	in->bpages = in->bpages_inline;
	in->bpages_cap = pages;
	in->num_bpages = 0;
	in->length = (int32_t)length;
	in->birth_ns = now_ns;
	homa_reasm_init(&in->reasm, length);
	in->grant.peer = &rpc->peer->gpeer;
	in->grant.length = length;
	in->grant.received = 0;
	in->grant.granted = incoming < length ? incoming : length;
	in->grant.birth_ns = now_ns;
	in->need_grants = in->grant.granted < length;
	/* A new message is on no stall list: nothing to unlink. */
	if (pages <= HOMA_MSGIN_INLINE_BPAGES && !in->need_grants &&
	    pool->region &&
	    homa_pool_alloc_msg(pool, length, now_ns, in->bpages) == 0) {
		in->num_bpages = pages;
		return 0;
	}
	return homa_msgin_init_slow(rpc, pages, now_ns);
}
void homa_msgin_destroy_slow(struct homa_rpc *rpc);

/* homa_msgin_destroy() - give back pages not handed to the app, free the
 * offset array and the reassembly state. Idempotent. Inline for the usual
 * delivered small message, which holds none of them. */
static inline void homa_msgin_destroy(struct homa_rpc *rpc)
{
	struct homa_msgin *in = &rpc->in;

	if (in->num_bpages || in->reasm.gaps ||
	    (in->bpages && in->bpages != in->bpages_inline)) {
		homa_msgin_destroy_slow(rpc);
		return;
	}
	in->bpages = NULL;
	in->length = -1;
}
void homa_msgin_check_stalled(struct homa_sock *hsk);
void homa_msgin_request_retrans(struct homa_rpc *rpc);

#endif /* HOMA_CORE_MSGIN_H */
