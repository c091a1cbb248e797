/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * place.c - receiving in place, the hooks the protocol modules call (the
 * host's side is place_rx.c): the host reads the next packets of a large
 * incoming message with their payload landing straight in the socket's
 * pool, where the message's bytes belong, instead of in a scratch buffer
 * the core then copies from. The core guesses those packets (the
 * following in-order packets of the message that last received one, each
 * as long as that one), reserves their bytes and pins their pages; the
 * host hands each packet read so to homa_input_placed, which accepts it
 * without a copy only if it is exactly the packet guessed (same RPC,
 * offset, at most the bytes reserved). Anything else is turned down and
 * the host copies it into one buffer and feeds it as usual, once the
 * reservation is released: by then the network has finished writing.
 *
 * While reserved, those bytes may be overwritten by whatever packet the
 * network puts there; so DATA for them that arrives any other way (another
 * thread's read) is dropped (drop_placing) and retransmitted later, and
 * the pages stay pinned even if the RPC ends, so no other message can be
 * given them meanwhile.
 */
#include "place.h"

void homa_place_note(struct homa_rpc *rpc, const struct homa_wire_data *d)
{
	struct homa_place_state *ps = &rpc->hsk->homa->place;
	uint32_t end = d->offset + d->payload_bytes;

	/* Only the packet that extends the message in order predicts the
	 * next; a retransmission filling a gap does not. */
	if (end != rpc->in.reasm.recv_end)
		return;
	/* A packet that ends at the unscheduled limit may be cut short
	 * there; the others show the sender's packet size. */
	if (end != d->incoming || !ps->seg_full)
		ps->seg_full = d->payload_bytes;
	ps->hint_id = rpc->id;
	ps->hint_port = rpc->hsk->port;
	ps->hint_dport = rpc->dport;
	ps->hint_addr = rpc->peer->addr;
	ps->hint_seg = ps->seg_full;
}

int homa_place_check(struct homa_rpc *rpc, const struct homa_wire_data *d)
{
	struct homa *homa = rpc->hsk->homa;
	struct homa_place_state *ps = &homa->place;
	const struct homa_place *cur = ps->cur;

	if (cur) {
		/* homa_input_placed checked all of this already. */
		if (rpc == ps->rpc && d->offset == cur->offset &&
		    d->payload_bytes <= cur->bytes)
			return 1;
		homa->metrics.v[HOMA_M_drop_placing]++;
		return -1;
	}
	if (rpc == ps->rpc && rpc->id == ps->id && d->offset < ps->hi &&
	    d->offset + d->payload_bytes > ps->lo) {
		homa->metrics.v[HOMA_M_drop_placing]++;
		return -1;
	}
	return 0;
}

void homa_place_sock_gone(struct homa_sock *hsk)
{
	struct homa_place_state *ps = &hsk->homa->place;

	if (ps->hsk == hsk) {
		/* The pool goes with the socket: nothing to unpin. */
		ps->hsk = NULL;
		ps->num_pins = 0;
	}
	if (ps->hint_port == hsk->port)
		ps->hint_id = 0;
}
