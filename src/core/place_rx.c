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

/* The RPC named by the hint, or NULL. */
static struct homa_rpc *homa_place_hinted(struct homa *homa,
					  struct homa_sock **hskp)
{
	struct homa_place_state *ps = &homa->place;
	struct homa_sock *hsk = homa_sock_find(homa, ps->hint_port);

	*hskp = hsk;
	if (!hsk || !hsk->pool.region)
		return NULL;
	if (ps->hint_id & 1)
		return homa_rpc_find_server(homa, hsk, &ps->hint_addr,
					    ps->hint_dport, ps->hint_id);
	return homa_rpc_find_client(homa, hsk, ps->hint_id);
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

int homa_place_reserve(struct homa *homa, struct homa_place *pl, int max,
		       uint64_t now_ns)
{
	struct homa_place_state *ps = &homa->place;
	struct homa_sock *hsk;
	struct homa_rpc *rpc;
	uint32_t off, end, len;
	int n = 0;

	if (ps->count || !ps->hint_id || max <= 0)
		return 0;
	homa->now_ns = now_ns;
	rpc = homa_place_hinted(homa, &hsk);
	if (!rpc || rpc->state != HOMA_RPC_INCOMING || rpc->error ||
	    !rpc->in.num_bpages || !ps->hint_seg ||
	    rpc->in.reasm.recv_end >= (uint32_t)rpc->in.length) {
		ps->hint_id = 0;
		return 0;
	}
	if (max > HOMA_PLACE_MAX)
		max = HOMA_PLACE_MAX;
	len = (uint32_t)rpc->in.length;
	off = rpc->in.reasm.recv_end;
	ps->lo = off;
	while (n < max && off < len) {
		uint32_t bytes =
			len - off < ps->hint_seg ? len - off : ps->hint_seg;

		homa_place_fill(rpc, off, bytes, &pl[n++]);
		off += bytes;
	}
	ps->hi = off;
	/* Pin every page the reserved bytes touch (in order, each once). */
	ps->num_pins = 0;
	end = (ps->hi - 1) >> HOMA_CORE_BPAGE_SHIFT;
	for (uint32_t k = ps->lo >> HOMA_CORE_BPAGE_SHIFT; k <= end; k++) {
		if (homa_pool_pin(&hsk->pool, rpc->in.bpages[k]) == 0)
			ps->pins[ps->num_pins++] = rpc->in.bpages[k];
	}
	ps->count = n;
	ps->hsk = hsk;
	ps->rpc = rpc;
	ps->id = rpc->id;
	return n;
}

int homa_input_placed(struct homa *homa, const struct homa_addr *src,
		      const uint8_t *hdr, size_t hdr_bytes,
		      size_t payload_bytes, const struct homa_place *pl,
		      uint64_t now_ns)
{
	struct homa_place_state *ps = &homa->place;
	struct homa_wire_pkt p;
	struct homa_rpc *rpc;
	uint64_t id;

	if (ps->count && !ps->hsk) {
		/* The socket closed meanwhile: its pool, where the rest of
		 * the packet went, may be gone; so is its port. */
		homa->metrics.v[HOMA_M_drop_no_socket]++;
		return 0;
	}
	if (!ps->count || pl->port != ps->hsk->port || pl->offset < ps->lo ||
	    pl->offset >= ps->hi)
		goto miss;
	if (homa_wire_decode_split(hdr, hdr_bytes, payload_bytes,
				   (uint32_t)homa->config.max_message_bytes,
				   &p) != HOMA_WIRE_OK)
		goto miss;
	id = p.common.sender_id ^ 1;
	if (p.common.dport != pl->port || id != ps->id)
		goto miss;
	rpc = (id & 1) ? homa_rpc_find_server(homa, ps->hsk, src,
					      p.common.sport, id)
		       : homa_rpc_find_client(homa, ps->hsk, id);
	if (rpc != ps->rpc || rpc->state != HOMA_RPC_INCOMING || rpc->error ||
	    p.u.data.offset != pl->offset ||
	    p.u.data.payload_bytes > pl->bytes ||
	    p.u.data.message_length != (uint32_t)rpc->in.length)
		goto miss;
	homa->now_ns = now_ns;
	homa->metrics.v[HOMA_M_place_hits]++;
	ps->cur = pl;
	homa_input_pkt(homa, src, &p);
	ps->cur = NULL;
	return 0;

miss:
	homa->metrics.v[HOMA_M_place_misses]++;
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
	ps->hsk = NULL;
	ps->rpc = NULL;
	ps->lo = ps->hi = 0;
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
