/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msgin.h - the incoming message's lifecycle (msgin.c): set-up, buffers,
 * stalls and resumption, retransmission requests, teardown.
 */
#ifndef HOMA_CORE_MSGIN_H
#define HOMA_CORE_MSGIN_H

#include <stdint.h>

#include "homa_impl.h"

int homa_msgin_init(struct homa_rpc *rpc, uint32_t length, uint32_t incoming,
		    uint64_t now_ns);
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
