/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * incoming.c - the receiving side: homa_input decodes a packet, finds its
 * socket and RPC, and dispatches by type (spec/protocol.md 3.3); DATA is
 * reassembled straight into the socket's buffer pool (the message itself,
 * its buffers and stalls are msgin.c's), and a complete message is handed
 * to recv. homa_input returns what its host must act on (its verdict).
 *
 * Every packet that is dropped increments exactly one drop counter.
 */
#include <errno.h>
#include <string.h>

#include "base.h"
#include "incoming.h"
#include "msgin.h"
#include "outgoing.h"
#include "peer.h"
#include "place.h"
#include "rpc.h"
#include "sock.h"

#define HOMA_M_DROP(homa, name) ((homa)->metrics.v[HOMA_M_##name]++)

/* Decode reasons map onto consecutive drop counters. */
_Static_assert(HOMA_M_drop_data_range - HOMA_M_drop_short ==
		       HOMA_WIRE_DATA_RANGE - HOMA_WIRE_SHORT,
	       "wire reasons and drop counters out of step");
_Static_assert(HOMA_M_recv_ack - HOMA_M_recv_data ==
		       HOMA_PKT_ACK - HOMA_PKT_DATA,
	       "packet types and receive counters out of step");

/* Copy payload for message bytes [off, off+n) into the pool pages. */
static void homa_copy_in(struct homa_rpc *rpc, uint32_t off, const uint8_t *src,
			 uint32_t n)
{
	if ((off & (HOMA_BPAGE_BYTES - 1)) + n <= HOMA_BPAGE_BYTES) {
		/* Within one bpage: the usual case. */
		memcpy(homa_pool_addr(&rpc->hsk->pool, rpc->in.bpages, off),
		       src, n);
		return;
	}
	while (n) {
		uint32_t room =
			HOMA_BPAGE_BYTES - (off & (HOMA_BPAGE_BYTES - 1));
		uint32_t chunk = n < room ? n : room;

		memcpy(homa_pool_addr(&rpc->hsk->pool, rpc->in.bpages, off),
		       src, chunk);
		off += chunk;
		src += chunk;
		n -= chunk;
	}
}

/* The message became complete: stop granting, count it, hand it over. */
static void homa_msgin_complete(struct homa_rpc *rpc)
{
	struct homa *homa = rpc->hsk->homa;

	if (rpc->in.grant.managed)
		homa_grant_remove(&homa->grant, &rpc->in.grant, homa->now_ns);
	homa_hist_record(&homa->hist, (uint32_t)rpc->in.length);
	if (rpc->id & 1) {
		homa->num_server_incoming--;
		homa_list_del(&rpc->incoming_link);
		rpc->state = HOMA_RPC_IN_SERVICE;
		rpc->service_ns = homa->now_ns;
	}
	homa_rpc_ready(rpc);
}

/* Add the payload of one DATA packet to rpc's incoming message. */
static void homa_data_add(struct homa_rpc *rpc, const struct homa_wire_data *d)
{
	struct homa *homa = rpc->hsk->homa;
	struct homa_msgin *in = &rpc->in;
	int r;

	if ((uint32_t)in->length != d->message_length) {
		HOMA_M_DROP(homa, drop_length_mismatch);
		return;
	}
	if (!in->num_bpages) {
		HOMA_M_DROP(homa, drop_no_bufs);
		return;
	}
	/* Bytes reserved for receiving in place take no other copy. */
	if (__builtin_expect(homa->place.count != 0, 0) &&
	    homa_place_check(rpc, d) < 0)
		return;
	r = homa_reasm_add(&in->reasm, &homa->menv, d->offset,
			   d->offset + d->payload_bytes);
	switch (r) {
	case HOMA_REASM_ACCEPTED:
		break;
	case HOMA_REASM_DUPLICATE:
		HOMA_M_DROP(homa, drop_dup_data);
		return;
	case HOMA_REASM_OVERLAP:
		HOMA_M_DROP(homa, drop_overlap_data);
		return;
	case HOMA_REASM_GAP_LIMIT:
		HOMA_M_DROP(homa, drop_gap_limit);
		return;
	default:
		HOMA_M_DROP(homa, drop_no_memory);
		return;
	}
	if (d->payload) /* NULL: already in place (homa_input_placed) */
		homa_copy_in(rpc, d->offset, d->payload, d->payload_bytes);
	homa->metrics.v[HOMA_M_msg_bytes_received] += d->payload_bytes;
	in->grant.received = homa_reasm_received(&in->reasm);
	if (in->reasm.bytes_remaining == 0) {
		homa_msgin_complete(rpc);
		return;
	}
	homa_place_note(rpc, d);
	if (in->grant.managed)
		homa_grant_update(&homa->grant, &in->grant, homa->now_ns);
}

/* Process an ack from src:sport: end the server RPC client_id|1 of that
 * client port on server_port, now or, for an ack that came with a request
 * (later), after the reply to that request has left (homa_rpc_ack_later).
 * An ack sent from another port of the client host names no RPC of ours
 * (a kernel client may piggyback acks from any of its sockets): it counts
 * as a bad ack and NEED_ACK ends the RPC; so does a second ack of an RPC
 * still waiting to end. */
static inline __attribute__((always_inline)) void
homa_ack_process(struct homa *homa, struct homa_sock *cur,
		 const struct homa_addr *src, uint16_t sport,
		 const struct homa_wire_ack *ack, bool later)
{
	/* Mostly the ack of the socket the packet came to. */
	struct homa_sock *hsk =
		ack->server_port == cur->port
			? cur
			: homa_sock_find(homa, ack->server_port);
	struct homa_rpc *rpc;

	if (!hsk) {
		HOMA_M_DROP(homa, drop_bad_ack);
		return;
	}
	rpc = homa_rpc_find_server(homa, hsk, src, sport, ack->client_id | 1);
	if (!rpc || rpc->state != HOMA_RPC_OUTGOING || rpc == homa->acked) {
		HOMA_M_DROP(homa, drop_bad_ack);
		return;
	}
	homa->metrics.v[HOMA_M_server_rpcs_acked]++;
	if (later)
		homa_rpc_ack_later(rpc);
	else
		homa_rpc_end(rpc);
}

/*
 * Send a CUTOFFS packet to peer if it holds an old version (spec 7). The
 * spec leaves sender_id and entry 0 free; they are filled as Linux fills
 * them: the id of our RPC that the DATA packet p belongs to (local form,
 * id), and 0 (a receiver takes entry 0 as "every size" anyway).
 */
static void homa_maybe_send_cutoffs(struct homa *homa, struct homa_peer *peer,
				    const struct homa_wire_pkt *p, uint64_t id)
{
	struct homa_wire_pkt pkt;

	if (p->u.data.cutoff_version == homa->cutoff_version)
		return;
	if (peer->cutoffs_sent &&
	    homa->now_ns - peer->cutoffs_sent_ns < homa->tick_ns)
		return;
	peer->cutoffs_sent = true;
	peer->cutoffs_sent_ns = homa->now_ns;
	memset(&pkt, 0, sizeof(pkt));
	pkt.common.type = HOMA_PKT_CUTOFFS;
	for (int i = 1; i < HOMA_MAX_PRIORITIES; i++)
		pkt.u.cutoffs.unsched_cutoffs[i] =
			(uint32_t)homa->config.unsched_cutoffs[i];
	pkt.u.cutoffs.cutoff_version = homa->cutoff_version;
	homa_send_ctrl(homa, peer, p->common.dport, p->common.sport, id, &pkt);
}

/*
 * At the limit of incomplete server RPCs, make room by ending the one
 * heard from least recently, if nothing arrived for it for a tick: a
 * flood of made-up requests then cannot lock out real clients (whose
 * RPCs stay fresh through retransmission), at O(1) cost per packet.
 */
static bool homa_evict_stale_server(struct homa *homa)
{
	struct homa_rpc *old;

	if (homa_list_empty(&homa->server_incoming))
		return false;
	old = homa_container_of(homa->server_incoming.next, struct homa_rpc,
				incoming_link);
	if (homa->now_ns - old->last_pkt_ns < homa->tick_ns)
		return false;
	homa->metrics.v[HOMA_M_server_rpc_evictions]++;
	homa_rpc_end(old);
	return true;
}

/* DATA for a server RPC that does not exist yet: create it. */
static struct homa_rpc *homa_data_new_server(struct homa_sock *hsk,
					     struct homa_peer *peer,
					     const struct homa_wire_pkt *p,
					     uint64_t id)
{
	struct homa *homa = hsk->homa;
	struct homa_rpc *rpc;

	if (!hsk->server) {
		HOMA_M_DROP(homa, drop_not_server);
		homa->verdict |= HOMA_VERDICT_NOT_SERVER;
		return NULL;
	}
	if (homa_rpc_done_recent(homa, peer, p->common.sport, id)) {
		HOMA_M_DROP(homa, drop_stale_request);
		return NULL;
	}
	if (!hsk->pool.region) {
		HOMA_M_DROP(homa, drop_no_region);
		homa->verdict |= HOMA_VERDICT_NO_REGION;
		return NULL;
	}
	if (homa->num_server_incoming >=
		    (uint64_t)homa->config.max_server_rpcs &&
	    !homa_evict_stale_server(homa)) {
		HOMA_M_DROP(homa, drop_rpc_limit);
		return NULL;
	}
	rpc = homa_rpc_alloc_server(hsk, peer, p->common.sport, id);
	if (!rpc) {
		HOMA_M_DROP(homa, drop_no_memory);
		return NULL;
	}
	if (homa_msgin_init(rpc, p->u.data.message_length, p->u.data.incoming,
			    homa->now_ns) < 0) {
		HOMA_M_DROP(homa, drop_no_memory);
		homa_rpc_end(rpc);
		return NULL;
	}
	return rpc;
}

static void homa_data_pkt(struct homa_sock *hsk, struct homa_peer *peer,
			  struct homa_rpc *rpc, const struct homa_wire_pkt *p,
			  uint64_t id)
{
	struct homa *homa = hsk->homa;

	/* The downlink is busy: no nudge before it has been idle again. */
	if (!peer->local)
		homa_grant_data_arrived(&homa->grant, homa->now_ns);
	if (!rpc && (id & 1))
		rpc = homa_data_new_server(hsk, peer, p, id);
	else if (!rpc)
		HOMA_M_DROP(homa, drop_unknown_rpc);
	if (rpc) {
		rpc->silent_ticks = 0;
		rpc->last_pkt_ns = homa->now_ns;
		if ((id & 1) && rpc->state == HOMA_RPC_INCOMING &&
		    homa->server_incoming.prev != &rpc->incoming_link) {
			/* Freshest last: the eviction order (a new RPC is
			 * already last). */
			homa_list_del(&rpc->incoming_link);
			homa_list_add_tail(&homa->server_incoming,
					   &rpc->incoming_link);
		}
		if (rpc->state == HOMA_RPC_OUTGOING && !(id & 1) &&
		    !rpc->error) {
			/* First packet of the response. */
			if (homa_msgin_init(rpc, p->u.data.message_length,
					    p->u.data.incoming,
					    homa->now_ns) < 0)
				HOMA_M_DROP(homa, drop_no_memory);
			else
				rpc->state = HOMA_RPC_INCOMING;
		}
		if (rpc->state == HOMA_RPC_INCOMING && !rpc->error)
			homa_data_add(rpc, &p->u.data);
		else
			HOMA_M_DROP(homa, drop_wrong_state);
	}
	if (p->u.data.ack.client_id)
		homa_ack_process(homa, hsk, &peer->addr, p->common.sport,
				 &p->u.data.ack, true);
	homa_maybe_send_cutoffs(homa, peer, p, id);
}

static void homa_grant_pkt(struct homa_rpc *rpc, const struct homa_wire_pkt *p)
{
	struct homa *homa = rpc->hsk->homa;
	struct homa_msgout *out = &rpc->out;
	uint32_t offset = p->u.grant.offset;
	bool was_nudged = out->nudged;

	rpc->silent_ticks = 0;
	if (rpc->state != HOMA_RPC_OUTGOING || !out->buf) {
		HOMA_M_DROP(homa, drop_wrong_state);
		return;
	}
	if (offset > (uint32_t)out->length)
		offset = (uint32_t)out->length;
	/* A GRANT repeating the offset is a nudge: the receiver is idle and
	 * waits for the bytes already granted (see homa_pacer_class). One
	 * with a lower offset is stale (reordered) and changes neither. */
	if (offset > out->granted) {
		out->granted = offset;
		out->nudged = false;
	} else if (offset == out->granted) {
		out->nudged = true;
		homa->metrics.v[HOMA_M_nudges_received]++;
	}
	out->sched_prio = p->u.grant.priority < HOMA_MAX_PRIORITIES
				  ? p->u.grant.priority
				  : HOMA_MAX_PRIORITIES - 1;
	if (out->nudged != was_nudged)
		homa_pacer_resort(homa, rpc);
	homa_xmit_data(rpc, homa->now_ns);
}

static void homa_resend_pkt(struct homa_rpc *rpc, const struct homa_wire_pkt *p)
{
	struct homa *homa = rpc->hsk->homa;
	struct homa_msgout *out = &rpc->out;
	const struct homa_wire_resend *r = &p->u.resend;
	struct homa_wire_pkt busy;
	uint32_t end;

	memset(&busy, 0, sizeof(busy));
	busy.common.type = HOMA_PKT_BUSY;
	if (rpc->id & 1)
		rpc->silent_ticks = 0; /* the client is alive */
	if (!out->buf || rpc->state != HOMA_RPC_OUTGOING || rpc->error) {
		/* Server still working on the request (or client with
		 * nothing to resend): prove liveness. */
		homa_send_ctrl(homa, rpc->peer, rpc->hsk->port, rpc->dport,
			       rpc->id, &busy);
		return;
	}
	if (r->length == HOMA_WIRE_RESEND_ALL)
		end = out->next_xmit;
	else if ((uint64_t)r->offset + r->length > (uint32_t)out->length)
		end = (uint32_t)out->length;
	else
		end = r->offset + r->length;
	homa_resend_data(rpc, r->offset, end, r->priority, homa->now_ns);
	if (end > out->granted) {
		/* A GRANT was lost: the receiver wants more than we know. */
		out->granted = end;
		homa_xmit_data(rpc, homa->now_ns);
	}
	if (r->offset >= out->next_xmit)
		homa_send_ctrl(homa, rpc->peer, rpc->hsk->port, rpc->dport,
			       rpc->id, &busy);
}

static void homa_rpc_unknown_pkt(struct homa_rpc *rpc)
{
	struct homa *homa = rpc->hsk->homa;

	if (rpc->id & 1) {
		homa_rpc_end(rpc); /* client forgot it */
		return;
	}
	if (rpc->state != HOMA_RPC_OUTGOING || rpc->error) {
		HOMA_M_DROP(homa, drop_wrong_state);
		return;
	}
	/* The server lost the request: send it all again. */
	homa->metrics.v[HOMA_M_client_restarts]++;
	homa_resend_data(rpc, 0, rpc->out.next_xmit, rpc->out.unsched_prio,
			 homa->now_ns);
}

/*
 * Send an ACK to peer naming client RPC id (to server port dport), plus
 * stored acks; a stored ack for id itself is dropped, since the header
 * names it (the server would count the second one as a bad ack).
 */
static void homa_send_ack(struct homa *homa, struct homa_peer *peer,
			  uint16_t sport, uint16_t dport, uint64_t id)
{
	struct homa_wire_pkt pkt;
	struct homa_wire_ack ack;

	memset(&pkt, 0, sizeof(pkt));
	pkt.common.type = HOMA_PKT_ACK;
	while (pkt.u.ack.num_acks < HOMA_WIRE_MAX_ACKS &&
	       homa_peer_pop_ack(peer, sport, &ack)) {
		if (ack.client_id == id && ack.server_port == dport)
			continue;
		pkt.u.ack.acks[pkt.u.ack.num_acks++] = ack;
	}
	homa_send_ctrl(homa, peer, sport, dport, id, &pkt);
}

static void homa_need_ack_pkt(struct homa_sock *hsk, struct homa_peer *peer,
			      struct homa_rpc *rpc,
			      const struct homa_wire_pkt *p, uint64_t id)
{
	struct homa *homa = hsk->homa;

	if (id & 1) {
		HOMA_M_DROP(homa, drop_bad_id);
		return;
	}
	if (rpc && !rpc->error &&
	    (rpc->state != HOMA_RPC_INCOMING ||
	     rpc->in.reasm.bytes_remaining)) {
		/* We do not have the whole response: ask for it instead. */
		homa_msgin_request_retrans(rpc);
		return;
	}
	homa_send_ack(homa, peer, hsk->port, p->common.sport, id);
}

static void homa_ack_pkt(struct homa_sock *hsk, struct homa_peer *peer,
			 struct homa_rpc *rpc, const struct homa_wire_pkt *p)
{
	struct homa *homa = hsk->homa;

	if (rpc) {
		if (rpc->id & 1 && rpc->state == HOMA_RPC_OUTGOING) {
			/* One acked already (homa_rpc_ack_later) counts as
			 * the unknown RPC it would have been by now. */
			if (rpc == homa->acked)
				HOMA_M_DROP(homa, drop_unknown_rpc);
			else
				homa->metrics.v[HOMA_M_server_rpcs_acked]++;
			homa_rpc_end(rpc);
		} else {
			HOMA_M_DROP(homa, drop_wrong_state);
		}
	} else if (p->u.ack.num_acks == 0) {
		HOMA_M_DROP(homa, drop_unknown_rpc);
	}
	for (int i = 0; i < p->u.ack.num_acks; i++)
		homa_ack_process(homa, hsk, &peer->addr, p->common.sport,
				 &p->u.ack.acks[i], false);
}

static void homa_cutoffs_pkt(struct homa *homa, struct homa_peer *peer,
			     const struct homa_wire_pkt *p)
{
	peer->cutoffs[0] = HOMA_CUTOFF_INFINITE;
	for (int i = 1; i < HOMA_MAX_PRIORITIES; i++)
		peer->cutoffs[i] = p->u.cutoffs.unsched_cutoffs[i];
	peer->cutoff_version = p->u.cutoffs.cutoff_version;
	homa->metrics.v[HOMA_M_cutoffs_updates]++;
}

/* Reply RPC_UNKNOWN to a RESEND for an RPC we do not have. */
static void homa_reply_unknown(struct homa *homa, struct homa_peer *peer,
			       const struct homa_wire_pkt *p, uint64_t id)
{
	struct homa_wire_pkt pkt;

	memset(&pkt, 0, sizeof(pkt));
	pkt.common.type = HOMA_PKT_RPC_UNKNOWN;
	homa_send_ctrl(homa, peer, p->common.dport, p->common.sport, id, &pkt);
}

/* Dispatch a decoded packet for socket hsk (spec 3.3). */
static void homa_dispatch(struct homa_sock *hsk, const struct homa_addr *src,
			  const struct homa_wire_pkt *p)
{
	struct homa *homa = hsk->homa;
	uint64_t id = p->common.sender_id ^ 1;
	struct homa_rpc *rpc;
	struct homa_peer *peer;
	uint8_t type = p->common.type;

	if (id & 1)
		rpc = homa_rpc_find_server(homa, hsk, src, p->common.sport, id);
	else
		rpc = homa_rpc_find_client(homa, hsk, id);
	if (type == HOMA_PKT_DATA) { /* the usual packet, first */
		peer = rpc ? rpc->peer : homa_peer_get(homa, src, true);
		if (!peer) {
			HOMA_M_DROP(homa, drop_unknown_rpc);
			return;
		}
		homa_data_pkt(hsk, peer, rpc, p, id);
		return;
	}
	peer = rpc ? rpc->peer
		   : homa_peer_get(homa, src,
				   type == HOMA_PKT_RESEND ||
					   type == HOMA_PKT_NEED_ACK ||
					   type == HOMA_PKT_ACK ||
					   type == HOMA_PKT_CUTOFFS);
	if (!peer) {
		HOMA_M_DROP(homa, drop_unknown_rpc);
		return;
	}
	switch (type) {
	case HOMA_PKT_CUTOFFS:
		homa_cutoffs_pkt(homa, peer, p);
		return;
	case HOMA_PKT_NEED_ACK:
		homa_need_ack_pkt(hsk, peer, rpc, p, id);
		return;
	case HOMA_PKT_ACK:
		homa_ack_pkt(hsk, peer, rpc, p);
		return;
	case HOMA_PKT_RESEND:
		if (!rpc) {
			homa_reply_unknown(homa, peer, p, id);
			HOMA_M_DROP(homa, drop_unknown_rpc);
			return;
		}
		homa_resend_pkt(rpc, p);
		return;
	default:
		break;
	}
	if (!rpc) {
		HOMA_M_DROP(homa, drop_unknown_rpc);
		return;
	}
	switch (type) {
	case HOMA_PKT_GRANT:
		homa_grant_pkt(rpc, p);
		break;
	case HOMA_PKT_RPC_UNKNOWN:
		homa_rpc_unknown_pkt(rpc);
		break;
	case HOMA_PKT_BUSY:
		rpc->silent_ticks = 0;
		break;
	default:
		HOMA_M_DROP(homa, drop_bad_type);
		break;
	}
}

/* The rest of homa_input for a decoded packet; homa->now_ns is set.
 * Inlined into homa_input, whose cost per packet it is. */
static inline __attribute__((always_inline)) void
homa_input_decoded(struct homa *homa, const struct homa_addr *src,
		   const struct homa_wire_pkt *p)
{
	struct homa_sock *hsk;

	homa->metrics
		.v[HOMA_M_recv_data + (p->common.type - HOMA_PKT_TYPE_MIN)]++;
	if (!homa_wire_doff_usual(p->common.type, p->common.doff))
		homa->metrics.v[HOMA_M_recv_odd_doff]++;
	if (p->common.type == HOMA_PKT_FREEZE)
		return;
	hsk = homa_sock_find(homa, p->common.dport);
	if (!hsk) {
		HOMA_M_DROP(homa, drop_no_socket);
		return;
	}
	homa_dispatch(hsk, src, p);
	if (!homa_list_empty(&homa->throttled))
		homa_pacer_run(homa, homa->now_ns);
}

unsigned int homa_input(struct homa *homa, const struct homa_addr *src,
			const uint8_t *buf, size_t bytes, uint64_t now_ns)
{
	struct homa_wire_pkt p;
	int reason;

	homa->now_ns = now_ns;
	homa->verdict = 0;
	/* DATA, the usual packet, is decoded inline (only what the core
	 * reads); homa_wire_decode checks the others, and short ones. */
	if (__builtin_expect(bytes >= HOMA_WIRE_DATA_BYTES &&
				     buf[HOMA_WIRE_OFF_TYPE] == HOMA_PKT_DATA,
			     1))
		reason = homa_wire_decode_data(
			buf, bytes, (uint32_t)homa->config.max_message_bytes,
			&p);
	else
		reason = homa_wire_decode(
			buf, bytes, (uint32_t)homa->config.max_message_bytes,
			&p);
	if (reason != HOMA_WIRE_OK) {
		homa->metrics.v[HOMA_M_drop_short + reason - 1]++;
		return 0;
	}
	homa_input_decoded(homa, src, &p);
	return homa->verdict;
}

/* homa_input_pkt() - homa_input for a packet already decoded
 * (homa_input_placed); homa->now_ns is set. DATA placed so needs no
 * verdict: it belongs to an RPC that exists. */
void homa_input_pkt(struct homa *homa, const struct homa_addr *src,
		    const struct homa_wire_pkt *p)
{
	homa_input_decoded(homa, src, p);
}

void homa_input_icmp(struct homa *homa, const struct homa_addr *dst,
		     uint16_t dport, int err, uint64_t now_ns)
{
	struct homa_list *spos, *pos, *tmp;

	homa->now_ns = now_ns;
	homa_list_for_each(spos, &homa->socks)
	{
		struct homa_sock *hsk =
			homa_container_of(spos, struct homa_sock, link);

		homa_list_for_each_safe(pos, tmp, &hsk->rpcs)
		{
			struct homa_rpc *rpc = homa_container_of(
				pos, struct homa_rpc, sock_link);

			if (memcmp(rpc->peer->addr.a, dst->a, 16) != 0 ||
			    (dport && rpc->dport != dport))
				continue;
			homa->metrics.v[HOMA_M_icmp_errors]++;
			homa_rpc_fail(rpc, err);
		}
	}
}
