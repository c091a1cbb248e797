/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * outgoing.c - the sending side: copying a message in, cutting it into
 * DATA packets, SRPT among outgoing messages through the pacer and its NIC
 * backlog model (spec/protocol.md 5), and retransmission of ranges asked
 * for by RESEND (spec 3.6).
 *
 * The NIC model: link_idle_ns is when everything handed to the host so far
 * will have left the link. A packet may go out only while that lies less
 * than max_nic_est_backlog_usecs ahead, unless the message has at most
 * defer_min_bytes left or throttling is off. Blocked messages wait on the
 * throttled list, ordered by bytes left to send (SRPT), except that a
 * message with more than nudge_yield_bytes left whose receiver nudged it
 * goes before the other such messages (homa_pacer_class); homa_pacer_run
 * sends from its head, and every 1000/pacer_fifo_fraction picks from the
 * oldest message instead.
 */
#include <errno.h>
#include <string.h>

#include "base.h"
#include "outgoing.h"
#include "peer.h"

/* Wire bytes of one DATA packet with payload bytes: Homa header, IP
 * and datapath headers, Ethernet framing (spec 1.8). */
static uint64_t homa_wire_cost(const struct homa_sock *hsk, uint32_t payload)
{
	return payload + HOMA_WIRE_DATA_BYTES +
	       (uint64_t)homa_ip_overhead(hsk->homa,
					  hsk->family == HOMA_FAMILY_INET) +
	       HOMA_ETH_FRAMING_BYTES;
}

static bool homa_nic_has_room(const struct homa *homa, uint64_t now_ns)
{
	return homa->link_idle_ns <
	       now_ns + (uint64_t)homa->config.max_nic_est_backlog_usecs *
				HOMA_NS_PER_US;
}

/* Copy bytes [from, to) of the message that iov describes into buf. */
static inline void homa_msgout_copy(uint8_t *buf, const struct homa_iov *iov,
				    int iov_count, size_t from, size_t to)
{
	size_t pos = 0;

	if (iov_count == 1) { /* the usual case: one piece */
		homa_copy(buf + from, (const uint8_t *)iov[0].base + from,
			  to - from);
		return;
	}
	for (int i = 0; i < iov_count && pos < to; i++) {
		size_t lo = from > pos ? from - pos : 0;
		size_t hi = to - pos < iov[i].bytes ? to - pos : iov[i].bytes;

		if (lo < hi)
			homa_copy(buf + pos + lo,
				  (const uint8_t *)iov[i].base + lo, hi - lo);
		pos += iov[i].bytes;
	}
}

/* homa_msgout_buf() - homa_msgout_init's buffer when it is not the
 * record's inline one: the host's gift or loan (flags HOMA_SEND_BORROW:
 * never ours to free), or a new allocation. Errors: -ENOMEM. */
int homa_msgout_buf(struct homa_rpc *rpc, size_t length, void *gift,
		    uint32_t flags)
{
	struct homa *homa = rpc->hsk->homa;
	struct homa_msgout *out = &rpc->out;

	if (gift) {
		out->buf = gift;
		out->borrowed = flags & HOMA_SEND_BORROW;
		if (!out->borrowed)
			homa->alloc_bytes += length;
		return 0;
	}
	out->buf = homa_alloc(homa, length);
	return out->buf ? 0 : -ENOMEM;
}

/*
 * Where the packet [offset, offset + bytes) of rpc's message is read
 * from while the host copies it in chunks (out.src set): the core's copy
 * below the copied mark, else the host's piece that holds the packet (a
 * packet across pieces is copied in first, up to its end). Out of line:
 * only large messages come here.
 */
static __attribute__((noinline)) const uint8_t *
homa_msgout_payload_src(struct homa_rpc *rpc, uint32_t offset, uint32_t bytes)
{
	struct homa_msgout *out = &rpc->out;
	size_t pos = 0;

	if (offset + bytes <= out->copied)
		return out->buf + offset;
	for (int i = 0; i < out->src_count; i++) {
		if (offset < pos + out->src[i].bytes) {
			if (offset + bytes > pos + out->src[i].bytes)
				break;
			rpc->hsk->homa->metrics.v[HOMA_M_tx_caller_bytes] +=
				bytes;
			return (const uint8_t *)out->src[i].base +
			       (offset - pos);
		}
		pos += out->src[i].bytes;
	}
	homa_msgout_copy(out->buf, out->src, out->src_count, out->copied,
			 offset + bytes);
	out->copied = offset + bytes;
	return out->buf + offset;
}

/*
 * Transmit the packet of rpc's message starting at offset (length bytes).
 * retransmit: 0 for a first transmission, else the RESEND's end offset
 * (sent as `incoming`). level: priority level. hdr: where to encode the
 * header (HOMA_WIRE_DATA_BYTES). Inlined into the send of a one-packet
 * message; every other packet calls homa_xmit_packet.
 */
static inline __attribute__((always_inline)) void
homa_xmit_packet_inline(struct homa_rpc *rpc, uint32_t offset, uint32_t bytes,
			uint32_t retrans_end, int level, uint8_t *hdr)
{
	struct homa_sock *hsk = rpc->hsk;
	struct homa *homa = hsk->homa;
	struct homa_wire_common c = {
		.sport = hsk->port,
		.dport = rpc->dport,
		.sequence = offset,
		.type = HOMA_PKT_DATA,
		.sender_id = rpc->id,
	};
	struct homa_wire_data d = {
		.message_length = (uint32_t)rpc->out.length,
		.incoming = retrans_end ? retrans_end : rpc->out.unscheduled,
		.cutoff_version = rpc->peer->cutoff_version,
		.retransmit = retrans_end ? 1 : 0,
		.seg_offset = HOMA_WIRE_SEG_OFFSET_IN_SEQ,
	};
	struct homa_out_pkt out;

	/* d's own ack stays in registers; a popped one is copied in. */
	if (!retrans_end && rpc->peer->num_acks) {
		struct homa_wire_ack ack;

		if (homa_peer_pop_ack(rpc->peer, hsk->port, &ack))
			d.ack = ack;
	}
	homa_wire_encode_data(hdr, &c, &d);
	out.dst = &rpc->peer->addr;
	out.sport = hsk->port;
	out.dport = rpc->dport;
	out.priority = homa_prio_map(homa, level);
	out.type = HOMA_PKT_DATA;
	out.hdr = hdr;
	out.hdr_bytes = HOMA_WIRE_DATA_BYTES;
	out.payload = rpc->out.src ? homa_msgout_payload_src(rpc, offset, bytes)
				   : rpc->out.buf + offset;
	out.payload_bytes = bytes;
	if (!rpc->peer->local)
		homa_nic_charge(homa, homa_wire_cost(hsk, bytes), homa->now_ns);
	homa->metrics.v[HOMA_M_sent_data]++;
	homa->env.xmit(homa->env.ctx, &out);
}

static __attribute__((noinline)) void
homa_xmit_packet(struct homa_rpc *rpc, uint32_t offset, uint32_t bytes,
		 uint32_t retrans_end, int level)
{
	uint8_t hdr[HOMA_WIRE_DATA_BYTES];

	homa_xmit_packet_inline(rpc, offset, bytes, retrans_end, level, hdr);
}

/* Level of the packet at offset of rpc's outgoing message. */
static int homa_data_level(const struct homa_rpc *rpc, uint32_t offset)
{
	return offset < rpc->out.unscheduled ? rpc->out.unsched_prio
					     : rpc->out.sched_prio;
}

/* The packet [off, off + bytes) of rpc's message was sent for the first
 * time: advance next_xmit and count it. */
static inline void homa_xmit_sent(struct homa_rpc *rpc, uint32_t off,
				  uint32_t bytes)
{
	struct homa_msgout *out = &rpc->out;

	out->next_xmit = off + bytes;
	rpc->hsk->homa->metrics.v[HOMA_M_msg_bytes_sent] += bytes;
	if (out->next_xmit == (uint32_t)out->length)
		out->done_ns = rpc->hsk->homa->now_ns;
}

/* Send the next packet of rpc (caller checked next_xmit < granted).
 * Inlined into its two callers: it runs once per packet. */
static inline __attribute__((always_inline)) void
homa_xmit_next(struct homa_rpc *rpc)
{
	struct homa_msgout *out = &rpc->out;
	uint32_t off = out->next_xmit;
	uint32_t bytes = (uint32_t)out->length - off;

	if (bytes > out->seg_bytes)
		bytes = out->seg_bytes;
	/* Never cross the unscheduled limit inside one packet. */
	if (off < out->unscheduled && off + bytes > out->unscheduled)
		bytes = out->unscheduled - off;
	homa_xmit_packet(rpc, off, bytes, 0, homa_data_level(rpc, off));
	homa_xmit_sent(rpc, off, bytes);
}

static bool homa_can_send(const struct homa_rpc *rpc)
{
	return rpc->out.buf && rpc->out.next_xmit < rpc->out.granted &&
	       rpc->state == HOMA_RPC_OUTGOING;
}

/*
 * homa_pacer_class() - 0 for a message with at most nudge_yield_bytes
 * left, 1 for a longer one whose receiver nudged it (it waits, idle, for
 * the bytes it granted), 2 for other long ones. Without nudges the order
 * (class, bytes left) is plain SRPT; with them a sender busy with long
 * messages serves the idle receiver first, and shorter messages keep
 * their place.
 */
static int homa_pacer_class(const struct homa *homa, const struct homa_rpc *rpc,
			    uint32_t left)
{
	if (left <= (uint64_t)homa->config.nudge_yield_bytes)
		return 0;
	return rpc->out.nudged ? 1 : 2;
}

/* Insert rpc into the throttled list, ordered by (class, bytes left). */
static void homa_pacer_add(struct homa *homa, struct homa_rpc *rpc)
{
	uint32_t left = (uint32_t)rpc->out.length - rpc->out.next_xmit;
	int cls = homa_pacer_class(homa, rpc, left);
	struct homa_list *pos;

	if (homa_list_linked(&rpc->out.throttled_link))
		return;
	homa_list_for_each(pos, &homa->throttled)
	{
		struct homa_rpc *o = homa_container_of(pos, struct homa_rpc,
						       out.throttled_link);
		uint32_t o_left = (uint32_t)o->out.length - o->out.next_xmit;
		int o_cls = homa_pacer_class(homa, o, o_left);

		if (o_cls > cls || (o_cls == cls && o_left > left))
			break;
	}
	homa_list_insert_after(pos->prev, &rpc->out.throttled_link);
	homa->num_throttled++;
	homa->metrics.v[HOMA_M_throttled_msgs]++;
}

void homa_pacer_resort(struct homa *homa, struct homa_rpc *rpc)
{
	if (!homa_list_linked(&rpc->out.throttled_link))
		return;
	homa_pacer_remove(homa, rpc);
	homa_pacer_add(homa, rpc);
	homa->metrics.v[HOMA_M_throttled_msgs]--;
}

/*
 * homa_msgout_start() - copy in a message just set up by homa_msgout_init
 * (unless it was a gift) and transmit what it may. If the host can push
 * packets out, only the unscheduled bytes are copied first: they are
 * sent and pushed before the rest is copied, so the receiver gets them,
 * and its grants are on the way, while the bulk is copied (Linux Homa
 * also overlaps the copy with transmission). flags: HOMA_SEND_*; with
 * HOMA_SEND_CHUNKED (and no gift) nothing is copied here: what may go
 * leaves from iov, and the host copies the rest with homa_send_copy.
 */
void homa_msgout_start(struct homa_rpc *rpc, const struct homa_iov *iov,
		       int iov_count, uint32_t flags)
{
	struct homa *homa = rpc->hsk->homa;
	struct homa_msgout *out = &rpc->out;
	size_t length = (size_t)out->length, first = length;
	bool gift = flags & (HOMA_SEND_GIFT | HOMA_SEND_BORROW);

	if (!gift && (flags & HOMA_SEND_CHUNKED)) {
		/* The host copies the rest (homa_msgout_copy_step); what
		 * may go now goes from its buffer. */
		out->copied = 0;
		out->src = iov;
		out->src_count = iov_count;
		homa_xmit_data(rpc, homa->now_ns);
		if (homa->env.push)
			homa->env.push(homa->env.ctx);
		return;
	}
	/* The usual small message: one packet, all unscheduled and too
	 * short for the pacer (homa_xmit_data's rule): copied and sent
	 * without the pacer's checks. */
	if (length <= out->seg_bytes && out->granted == length &&
	    (length <= (size_t)homa->config.defer_min_bytes ||
	     (homa->config.flags & HOMA_FLAG_DONT_THROTTLE) ||
	     rpc->peer->local)) {
		uint8_t hdr[HOMA_WIRE_DATA_BYTES];

		/* One piece: plain memcpy (homa_copy's test would cost
		 * every small RPC an instruction or two; bench-micro). */
		if (!gift && iov_count == 1)
			memcpy(out->buf, iov[0].base, length);
		else if (!gift)
			homa_msgout_copy(out->buf, iov, iov_count, 0, length);
		/* In the record's own buffer, the header goes right before
		 * the payload (one run of bytes for the host to copy). */
		homa_xmit_packet_inline(
			rpc, 0, (uint32_t)length, 0, out->unsched_prio,
			out->buf == rpc->out_inline ? rpc->out_hdr : hdr);
		homa_xmit_sent(rpc, 0, (uint32_t)length);
		return;
	}
	if (!gift && homa->env.push)
		first = out->unscheduled;
	if (!gift)
		homa_msgout_copy(out->buf, iov, iov_count, 0, first);
	homa_xmit_data(rpc, homa->now_ns);
	if (first < length) {
		homa->env.push(homa->env.ctx);
		homa_msgout_copy(out->buf, iov, iov_count, first, length);
	}
}

/*
 * homa_msgout_copy_step() - copy up to bytes more of rpc's message from
 * the host's pieces (HOMA_SEND_CHUNKED). Returns 1 while some remain,
 * 0 once all are in (the pieces are forgotten then).
 */
int homa_msgout_copy_step(struct homa_rpc *rpc, size_t bytes)
{
	struct homa_msgout *out = &rpc->out;
	size_t end = (size_t)out->copied + bytes;

	if (!out->src)
		return 0;
	if (end > (size_t)out->length)
		end = (size_t)out->length;
	homa_msgout_copy(out->buf, out->src, out->src_count, out->copied, end);
	rpc->hsk->homa->metrics.v[HOMA_M_tx_chunk_copies]++;
	out->copied = (uint32_t)end;
	if (end < (size_t)out->length)
		return 1;
	out->src = NULL;
	out->src_count = 0;
	return 0;
}

/*
 * homa_xmit_data() - send what rpc may send now: packets below granted,
 * subject to the NIC backlog rule; the rest waits for the pacer.
 */
void homa_xmit_data(struct homa_rpc *rpc, uint64_t now_ns)
{
	struct homa *homa = rpc->hsk->homa;
	bool throttle = !(homa->config.flags & HOMA_FLAG_DONT_THROTTLE) &&
			!rpc->peer->local;

	while (homa_can_send(rpc)) {
		uint32_t left = (uint32_t)rpc->out.length - rpc->out.next_xmit;

		if (throttle && left > (uint32_t)homa->config.defer_min_bytes &&
		    !homa_nic_has_room(homa, now_ns)) {
			homa_pacer_add(homa, rpc);
			return;
		}
		homa_xmit_next(rpc);
	}
	homa_pacer_remove(homa, rpc);
}

/* Choose the pacer's next message: SRPT head, or ~5% the oldest. */
static struct homa_rpc *homa_pacer_pick(struct homa *homa)
{
	struct homa_rpc *best = homa_container_of(
		homa->throttled.next, struct homa_rpc, out.throttled_link);
	struct homa_list *pos;

	homa->pacer_fifo_count -= homa->config.pacer_fifo_fraction;
	if (homa->pacer_fifo_count > 0)
		return best;
	homa->pacer_fifo_count += 1000;
	homa->metrics.v[HOMA_M_pacer_fifo_picks]++;
	homa_list_for_each(pos, &homa->throttled)
	{
		struct homa_rpc *o = homa_container_of(pos, struct homa_rpc,
						       out.throttled_link);
		if (o->out.init_ns < best->out.init_ns)
			best = o;
	}
	return best;
}

/*
 * homa_pacer_run() - send throttled packets while the NIC has room.
 * Returns when the pacer next wants to run (0 = list empty).
 */
uint64_t homa_pacer_run(struct homa *homa, uint64_t now_ns)
{
	uint64_t backlog = (uint64_t)homa->config.max_nic_est_backlog_usecs *
			   HOMA_NS_PER_US;

	while (!homa_list_empty(&homa->throttled)) {
		struct homa_rpc *rpc;

		if (!homa_nic_has_room(homa, now_ns))
			return homa->link_idle_ns - backlog + 1;
		rpc = homa_pacer_pick(homa);
		if (homa_can_send(rpc)) {
			uint32_t before = rpc->out.next_xmit;

			homa_xmit_next(rpc);
			homa->metrics.v[HOMA_M_pacer_packets]++;
			homa->metrics.v[HOMA_M_pacer_bytes] +=
				rpc->out.next_xmit - before;
		}
		if (!homa_can_send(rpc)) {
			homa_pacer_remove(homa, rpc);
			continue;
		}
		/* Keep the order: its remaining bytes shrank. */
		homa_pacer_resort(homa, rpc);
	}
	return 0;
}

/*
 * homa_resend_data() - retransmit every original packet overlapping
 * [start, end) (end clipped to what was sent), each as its own packet at
 * level; charged to the NIC estimate but never throttled.
 */
void homa_resend_data(struct homa_rpc *rpc, uint32_t start, uint32_t end,
		      int level, uint64_t now_ns)
{
	struct homa_msgout *out = &rpc->out;
	struct homa *homa = rpc->hsk->homa;
	uint32_t seg = out->seg_bytes, off;

	(void)now_ns;
	if (!out->buf)
		return;
	if (end > out->next_xmit)
		end = out->next_xmit;
	/* Walk the original packet boundaries (seg-sized, plus the cut at
	 * the unscheduled limit). */
	off = 0;
	while (off < end) {
		uint32_t bytes = (uint32_t)out->length - off;

		if (bytes > seg)
			bytes = seg;
		if (off < out->unscheduled && off + bytes > out->unscheduled)
			bytes = out->unscheduled - off;
		if (off + bytes > start) {
			homa_xmit_packet(rpc, off, bytes, end, level);
			homa->metrics.v[HOMA_M_resent_packets]++;
			homa->metrics.v[HOMA_M_resent_bytes] += bytes;
		}
		off += bytes;
	}
}
