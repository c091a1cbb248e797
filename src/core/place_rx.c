/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * place_rx.c - receiving in place, the host's side (place.c has the whole
 * story): reserve the next packets' bytes in the pool, accept a packet
 * read there (homa_input_placed), release the reservation.
 */
#include <errno.h>

#include "incoming.h"
#include "msgin.h"
#include "place.h"
#include "rpc.h"
#include "sock.h"
#include "wire.h"

/* The RPC named by hint h if its message may still receive in place
 * (*hskp: its socket), else NULL. */
static struct homa_rpc *homa_place_hinted(struct homa *homa,
					  const struct homa_place_hint *h,
					  struct homa_sock **hskp)
{
	struct homa_sock *hsk;
	struct homa_rpc *rpc;

	if (!h->id)
		return NULL;
	hsk = homa_sock_find(homa, h->port);
	*hskp = hsk;
	if (!hsk || !hsk->pool.region)
		return NULL;
	rpc = (h->id & 1) ? homa_rpc_find_server(homa, hsk, &h->addr, h->dport,
						 h->id)
			  : homa_rpc_find_client(homa, hsk, h->id);
	if (!rpc || rpc->state != HOMA_RPC_INCOMING || rpc->error ||
	    !rpc->in.num_bpages ||
	    rpc->in.reasm.recv_end >= (uint32_t)rpc->in.length)
		return NULL;
	return rpc;
}

/* Fill pl for payload bytes [off, off + bytes) of rpc's message. */
static void homa_place_fill(struct homa_rpc *rpc, uint32_t off, uint32_t bytes,
			    struct homa_place *pl)
{
	const struct homa_pool *pool = &rpc->hsk->pool;
	uint32_t room = HOMA_BPAGE_BYTES - (off & (HOMA_BPAGE_BYTES - 1));
	uint32_t first = bytes < room ? bytes : room;

	pl->port = rpc->hsk->port;
	pl->offset = off;
	pl->bytes = bytes;
	pl->span[0] = homa_pool_addr(pool, rpc->in.bpages, off);
	pl->span_bytes[0] = first;
	pl->span[1] = first < bytes ? homa_pool_addr(pool, rpc->in.bpages,
						     off + first)
				    : NULL;
	pl->span_bytes[1] = bytes - first;
}

/* Bytes of rpc's message not yet received in order. */
static uint32_t homa_place_left(const struct homa_rpc *rpc)
{
	return (uint32_t)rpc->in.length - rpc->in.reasm.recv_end;
}

/* Reserve rpc's next in-order packets as pl[n..lim) (fewer if its message
 * ends first) and pin the pages they touch; returns the new n. */
static int homa_place_part_add(struct homa *homa, struct homa_rpc *rpc,
			       struct homa_place *pl, int n, int lim)
{
	struct homa_place_state *ps = &homa->place;
	struct homa_place_part *pp = &ps->part[ps->num_parts];
	uint32_t len = (uint32_t)rpc->in.length, off = rpc->in.reasm.recv_end;
	uint32_t end;

	pp->lo = off;
	while (n < lim && off < len) {
		uint32_t bytes =
			len - off < ps->hint_seg ? len - off : ps->hint_seg;

		pl[n].part = (uint8_t)ps->num_parts;
		homa_place_fill(rpc, off, bytes, &pl[n++]);
		off += bytes;
	}
	if (off == pp->lo)
		return n;
	pp->hi = off;
	pp->rpc = rpc;
	pp->id = rpc->id;
	ps->num_parts++;
	/* Pin every page the reserved bytes touch (in order, each once;
	 * two messages never share a page). */
	end = (pp->hi - 1) >> HOMA_CORE_BPAGE_SHIFT;
	for (uint32_t k = pp->lo >> HOMA_CORE_BPAGE_SHIFT; k <= end; k++) {
		if (ps->num_pins < HOMA_PLACE_MAX_PINS &&
		    homa_pool_pin(&rpc->hsk->pool, rpc->in.bpages[k]) == 0)
			ps->pins[ps->num_pins++] = rpc->in.bpages[k];
	}
	return n;
}

/* Move the candidate whose next packet was peeked to cand[0]; returns
 * its former index, or -1 if it is none of them. */
static int homa_place_peek_first(const struct homa_place_state *ps,
				 struct homa_rpc **cand, int nc)
{
	for (int i = 0; i < nc; i++) {
		struct homa_rpc *t = cand[i];

		if (!ps->peek_id || t->id != ps->peek_id ||
		    t->in.reasm.recv_end != ps->peek_off)
			continue;
		for (int j = i; j > 0; j--)
			cand[j] = cand[j - 1];
		cand[0] = t;
		return i;
	}
	return -1;
}

/* homa_place_reserve past its first test: a message is being received
 * (peeked: the reservation starts with the packet peeked at). Out of
 * line, so that the usual answer, none (every poller round of a
 * ping-pong asks), costs no frame for the candidates. */
static __attribute__((noinline)) int
homa_place_reserve_hinted(struct homa *homa, struct homa_place *pl, int max,
			  uint64_t now_ns, bool peeked)
{
	struct homa_place_state *ps = &homa->place;
	struct homa_rpc *cand[HOMA_PLACE_RPCS];
	struct homa_sock *hsk = NULL;
	int n = 0, nc = 0;

	homa->now_ns = now_ns;
	for (int i = 0; i < HOMA_PLACE_RPCS; i++) {
		struct homa_sock *s = NULL;
		struct homa_rpc *rpc =
			homa_place_hinted(homa, &ps->hint[i], &s);

		if (!rpc) {
			ps->hint[i].id = 0;
			continue;
		}
		/* One read takes one socket's packets: the latest first. */
		if (nc && s != hsk)
			continue;
		hsk = s;
		cand[nc++] = rpc;
	}
	if (!nc)
		return 0;
	if (ps->read_misses)
		ps->peek_reads = HOMA_PLACE_PEEK_READS;
	else if (ps->peek_reads && !peeked)
		ps->peek_reads--;
	/* The order of the messages' packets in the next read: usually the
	 * sender sends the message with the fewest bytes left first (SRPT),
	 * as far as it is granted, then the next. But it sends what grants
	 * allow in the order they came: when a read missed more than it hit,
	 * try the other order, the message that received last first (the
	 * hints' order). */
	if (ps->read_misses > ps->read_hits)
		ps->by_recency = !ps->by_recency;
	for (int i = 1; i < nc && !ps->by_recency; i++) {
		struct homa_rpc *t = cand[i];
		int j = i;

		for (;
		     j > 0 && homa_place_left(t) < homa_place_left(cand[j - 1]);
		     j--)
			cand[j] = cand[j - 1];
		cand[j] = t;
	}
	ps->read_hits = 0;
	ps->read_misses = 0;
	if (max > HOMA_PLACE_MAX)
		max = HOMA_PLACE_MAX;
	ps->num_pins = 0;
	ps->num_parts = 0;
	if (peeked && homa_place_peek_first(ps, cand, nc) < 0) {
		/* The first packet waiting is none of the reserved ones:
		 * its slot reads it whole. */
		pl[n++] = (struct homa_place){ .port = hsk->port,
					       .part = HOMA_PLACE_NO_PART };
	}
	for (int i = 0; i < nc; i++) {
		int lim = max;

		if (i + 1 < nc) {
			/* All but the last: only its bytes granted, not
			 * yet received (what the sender may send of it). */
			struct homa_rpc *r = cand[i];
			uint32_t g = r->in.need_grants ? r->in.grant.granted
						       : (uint32_t)r->in.length;
			uint32_t due = g > r->in.reasm.recv_end
					       ? g - r->in.reasm.recv_end
					       : 0;
			uint32_t pkts = (due + ps->hint_seg - 1) / ps->hint_seg;

			if (pkts < (uint32_t)(max - n))
				lim = n + (int)pkts;
		}
		n = homa_place_part_add(homa, cand[i], pl, n, lim);
	}
	if (!ps->num_parts) /* at most the empty place */
		return 0;
	ps->count = n;
	ps->hsk = hsk;
	return n;
}

int homa_place_reserve(struct homa *homa, struct homa_place *pl, int max,
		       uint64_t now_ns)
{
	struct homa_place_state *ps = &homa->place;
	bool peeked = ps->peek_set;

	ps->peek_set = false; /* it was about this reservation only */
	if (ps->count || max <= 0 || !ps->hint_seg)
		return 0;
	return homa_place_reserve_hinted(homa, pl, max, now_ns, peeked);
}

bool homa_place_peek_wanted(const struct homa *homa)
{
	const struct homa_place_state *ps = &homa->place;

	return ps->count && (ps->num_parts > 1 || ps->peek_reads);
}

int homa_place_peeked(struct homa *homa, const uint8_t *hdr, size_t bytes,
		      struct homa_place *pl, int max, uint64_t now_ns)
{
	struct homa_place_state *ps = &homa->place;
	const struct homa_place_part *pp;
	struct homa_wire_pkt p;

	if (!ps->count)
		return 0;
	if (!ps->hsk)
		return ps->count; /* the socket closed: its places go unused */
	ps->peek_id = 0;
	ps->peek_off = 0;
	/* The header alone: a payload of one byte passes the length
	 * checks of any DATA packet. */
	if (homa_wire_decode_split(hdr, bytes, 1,
				   (uint32_t)homa->config.max_message_bytes,
				   &p) == HOMA_WIRE_OK &&
	    p.common.dport == ps->hsk->port) {
		ps->peek_id = p.common.sender_id ^ 1;
		ps->peek_off = p.u.data.offset;
	}
	pp = pl[0].part < ps->num_parts ? &ps->part[pl[0].part] : NULL;
	if (pp && ps->peek_id && pp->id == ps->peek_id &&
	    pl[0].offset == ps->peek_off)
		return ps->count; /* the guess was right */
	if (!pp && !ps->peek_id)
		return ps->count; /* already an empty place first */
	homa_place_release(homa);
	ps->peek_set = true;
	homa->metrics.v[HOMA_M_place_peek_redone]++;
	return homa_place_reserve(homa, pl, max, now_ns);
}

int homa_input_placed(struct homa *homa, const struct homa_addr *src,
		      const uint8_t *hdr, size_t hdr_bytes,
		      size_t payload_bytes, const struct homa_place *pl,
		      uint64_t now_ns)
{
	struct homa_place_state *ps = &homa->place;
	const struct homa_place_part *pp = NULL;
	struct homa_wire_pkt p;
	struct homa_rpc *rpc;
	uint64_t id;

	if (pl->part == HOMA_PLACE_NO_PART)
		return -EAGAIN; /* read whole into the buffer: not a miss */
	if (ps->count && !ps->hsk) {
		/* The socket closed meanwhile: its pool, where the rest of
		 * the packet went, may be gone; so is its port. */
		homa->metrics.v[HOMA_M_drop_no_socket]++;
		return 0;
	}
	if (!ps->count || pl->port != ps->hsk->port)
		goto miss;
	if (homa_wire_decode_split(hdr, hdr_bytes, payload_bytes,
				   (uint32_t)homa->config.max_message_bytes,
				   &p) != HOMA_WIRE_OK)
		goto miss;
	id = p.common.sender_id ^ 1;
	/* The place must be one reserved for the message the packet is
	 * of: offsets alone do not tell two messages apart. */
	if (pl->part >= ps->num_parts)
		goto miss;
	pp = &ps->part[pl->part];
	if (pp->id != id || pl->offset < pp->lo || pl->offset >= pp->hi ||
	    p.common.dport != pl->port)
		goto miss;
	rpc = (id & 1) ? homa_rpc_find_server(homa, ps->hsk, src,
					      p.common.sport, id)
		       : homa_rpc_find_client(homa, ps->hsk, id);
	if (rpc != pp->rpc || rpc->state != HOMA_RPC_INCOMING || rpc->error ||
	    p.u.data.offset != pl->offset ||
	    p.u.data.payload_bytes > pl->bytes ||
	    p.u.data.message_length != (uint32_t)rpc->in.length)
		goto miss;
	homa->now_ns = now_ns;
	homa->metrics.v[HOMA_M_place_hits]++;
	ps->read_hits++;
	ps->cur = pl;
	ps->cur_rpc = rpc;
	homa_input_pkt(homa, src, &p);
	ps->cur = NULL;
	ps->cur_rpc = NULL;
	return 0;

miss:
	homa->metrics.v[HOMA_M_place_misses]++;
	ps->read_misses++;
	return -EAGAIN;
}

void homa_place_release(struct homa *homa)
{
	struct homa_place_state *ps = &homa->place;
	struct homa_sock *hsk = ps->hsk;

	if (!ps->count)
		return;
	if (hsk && ps->num_pins) {
		homa_pool_release(&hsk->pool, ps->pins, ps->num_pins);
		if (!homa_list_empty(&hsk->stalled))
			homa_msgin_check_stalled(hsk);
	}
	ps->count = 0;
	ps->num_pins = 0;
	ps->num_parts = 0;
	ps->hsk = NULL;
}

void homa_place_gather(uint8_t *buf, size_t bytes, const struct homa_place *pl)
{
	size_t left = bytes > HOMA_PLACE_HDR ? bytes - HOMA_PLACE_HDR : 0;
	uint8_t *to = buf + HOMA_PLACE_HDR;

	for (int i = 0; i < HOMA_PLACE_SPANS && left && pl->span_bytes[i];
	     i++) {
		size_t n = left < pl->span_bytes[i] ? left : pl->span_bytes[i];

		memcpy(to, pl->span[i], n);
		to += n;
		left -= n;
	}
}
