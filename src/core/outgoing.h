/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * outgoing.h - the outgoing message and the pacer (outgoing.c): copy in,
 * cut into DATA packets, SRPT through the NIC backlog model, retransmit.
 */
#ifndef HOMA_CORE_OUTGOING_H
#define HOMA_CORE_OUTGOING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "homa_impl.h"

int homa_msgout_init(struct homa_rpc *rpc, size_t length, void *gift);
void homa_msgout_start(struct homa_rpc *rpc, const struct homa_iov *iov,
		       int iov_count, uint32_t flags);
int homa_msgout_copy_step(struct homa_rpc *rpc, size_t bytes);
void homa_xmit_data(struct homa_rpc *rpc, uint64_t now_ns);
void homa_resend_data(struct homa_rpc *rpc, uint32_t start, uint32_t end,
		      int level, uint64_t now_ns);
uint64_t homa_pacer_run(struct homa *homa, uint64_t now_ns);
/* homa_pacer_remove() - take rpc off the pacer's list, if it is there
 * (inline: every ended RPC and every message sent asks). */
static inline void homa_pacer_remove(struct homa *homa, struct homa_rpc *rpc)
{
	if (!homa_list_linked(&rpc->out.throttled_link))
		return;
	homa_list_del(&rpc->out.throttled_link);
	homa->num_throttled--;
}
/* homa_pacer_resort() - rpc's place in the pacer's order may have changed
 * (bytes sent, or a nudge began or ended); move it if it is on the list. */
void homa_pacer_resort(struct homa *homa, struct homa_rpc *rpc);

#endif /* HOMA_CORE_OUTGOING_H */
