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

#include "base.h"
#include "homa_impl.h"

int homa_msgout_buf(struct homa_rpc *rpc, size_t length, void *gift,
		    uint32_t flags);

/*
 * homa_msgout_init() - set up rpc's outgoing message of length bytes and
 * its buffer: gift (the host's env.alloc memory, from now on ours to
 * free; with HOMA_SEND_BORROW in flags, the host's own, only read) if not
 * NULL, else a new one that homa_msgout_start fills (the
 * record's own for a message up to HOMA_MSGOUT_INLINE bytes).
 * Once per RPC, whose record comes cleared (homa_rpc_new): next_xmit,
 * sched_prio, done_ns and src start at 0, borrowed false.
 * Errors: -ENOMEM. Inline: every message sent.
 */
static inline int homa_msgout_init(struct homa_rpc *rpc, size_t length,
				   void *gift, uint32_t flags)
{
	struct homa *homa = rpc->hsk->homa;
	struct homa_msgout *out = &rpc->out;

	if (!gift && length <= HOMA_MSGOUT_INLINE)
		out->buf = rpc->out_inline;
	else if (homa_msgout_buf(rpc, length, gift, flags) < 0)
		return -ENOMEM;
	out->length = (int32_t)length;
	out->seg_bytes =
		rpc->peer->mtu
			? homa_seg_bytes(homa, rpc->peer->mtu,
					 homa_addr_is_v4(&rpc->peer->addr))
			: rpc->hsk->seg_bytes;
	out->unscheduled = length < (size_t)homa->config.unsched_bytes
				   ? (uint32_t)length
				   : (uint32_t)homa->config.unsched_bytes;
	out->granted = out->unscheduled;
	out->unsched_prio = (uint8_t)homa_cutoffs_pick(
		rpc->peer->cutoffs, homa->config.num_priorities,
		(uint32_t)length);
	out->init_ns = homa->now_ns;
	rpc->hsk->tx_bytes += length;
	homa->tx_bytes += length;
	return 0;
}
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
