/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * place.c - receiving in place, the hooks the protocol modules call (the
 * host's side is place_rx.c): the host reads the next packets of a large
 * incoming message with their payload landing straight in the socket's
 * pool, where the message's bytes belong, instead of in a scratch buffer
 * the core then copies from. The core guesses those packets (the
 * following in-order packets of the messages that last received one, each
 * as long as that one: a sender with several messages interleaves them,
 * each as far as it is granted), reserves their bytes and pins their
 * pages; the host hands each packet read so to homa_input_placed, which
 * accepts it without a copy only if it is exactly the packet guessed
 * (same RPC, offset, at most the bytes reserved). Anything else is turned
 * down and the host copies it into one buffer and feeds it as usual, once
 * the reservation is released: by then the network has finished writing.
 *
 * While reserved, those bytes may be overwritten by whatever packet the
 * network puts there; so DATA for them that arrives any other way (another
 * thread's read) is dropped (drop_placing) and retransmitted later, and
 * the pages stay pinned even if the RPC ends, so no other message can be
 * given them meanwhile.
 */
#include <string.h>

#include "place.h"

/* Whether hint h names rpc (a server RPC's id is unique only with its
 * client's address and port). */
static bool homa_place_hint_is(const struct homa_place_hint *h,
			       const struct homa_rpc *rpc)
{
	return h->id == rpc->id && h->port == rpc->hsk->port &&
	       h->dport == rpc->dport &&
	       memcmp(h->addr.a, rpc->peer->addr.a, 16) == 0;
}

void homa_place_note(struct homa_rpc *rpc, const struct homa_wire_data *d)
{
	struct homa_place_state *ps = &rpc->hsk->homa->place;
	uint32_t end = d->offset + d->payload_bytes;
	struct homa_place_hint *h = &ps->hint[0];
	int j = 1;

	/* Only the packet that extends the message in order predicts the
	 * next; a retransmission filling a gap does not. */
	if (end != rpc->in.reasm.recv_end)
		return;
	/* A packet that ends at the unscheduled limit may be cut short
	 * there; the others show the sender's packet size. */
	if (end != d->incoming || !ps->seg_full)
		ps->seg_full = d->payload_bytes;
	ps->hint_seg = ps->seg_full;
	if (homa_place_hint_is(h, rpc))
		return;
	/* Another message: it becomes the latest, the ones before it move
	 * down (rpc's own older entry, or else the oldest, drops out). */
	while (j < HOMA_PLACE_RPCS - 1 &&
	       !homa_place_hint_is(&ps->hint[j], rpc))
		j++;
	for (; j > 0; j--)
		ps->hint[j] = ps->hint[j - 1];
	h->id = rpc->id;
	h->port = rpc->hsk->port;
	h->dport = rpc->dport;
	h->addr = rpc->peer->addr;
}

int homa_place_check(struct homa_rpc *rpc, const struct homa_wire_data *d)
{
	struct homa *homa = rpc->hsk->homa;
	struct homa_place_state *ps = &homa->place;
	const struct homa_place *cur = ps->cur;

	if (cur) {
		/* homa_input_placed checked all of this already. */
		if (rpc == ps->cur_rpc && d->offset == cur->offset &&
		    d->payload_bytes <= cur->bytes)
			return 1;
		homa->metrics.v[HOMA_M_drop_placing]++;
		return -1;
	}
	for (int i = 0; i < ps->num_parts; i++) {
		const struct homa_place_part *pp = &ps->part[i];

		if (rpc == pp->rpc && rpc->id == pp->id && d->offset < pp->hi &&
		    d->offset + d->payload_bytes > pp->lo) {
			homa->metrics.v[HOMA_M_drop_placing]++;
			return -1;
		}
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
	for (int i = 0; i < HOMA_PLACE_RPCS; i++)
		if (ps->hint[i].port == hsk->port)
			ps->hint[i].id = 0;
}
