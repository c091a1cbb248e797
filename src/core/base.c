/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * base.c - the floor of the core's stack: what every protocol module
 * needs and nothing above it provides. Memory through the environment
 * (with accounting), priority levels, segment sizes, transmission of a
 * control packet, the NIC backlog charge, and socket wake-ups. Calls no
 * other module of the core (only the leaves: wire, config, metrics).
 */
#include <string.h>

#include "base.h"

void homa_copy_pieces(void *dst, const void *src, size_t bytes)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	for (size_t off = 0; off < bytes; off += HOMA_COPY_PIECE_BYTES) {
		size_t n = bytes - off < HOMA_COPY_PIECE_BYTES
				   ? bytes - off
				   : HOMA_COPY_PIECE_BYTES;

		/* Hide the bound: knowing n <= 1024, the compiler would
		 * inline the copy as `rep movsq`, which aliases as well. */
		__asm__("" : "+r"(n));
		memcpy(d + off, s + off, n);
	}
}

void *homa_alloc(struct homa *homa, size_t bytes)
{
	void *p = homa->env.alloc(homa->env.ctx, bytes);

	if (p)
		homa->alloc_bytes += bytes;
	return p;
}

void homa_free(struct homa *homa, void *ptr, size_t bytes)
{
	if (!ptr)
		return;
	homa->alloc_bytes -= bytes;
	homa->env.free(homa->env.ctx, ptr, bytes);
}

void *homa_menv_alloc(void *ctx, size_t bytes)
{
	return homa_alloc(ctx, bytes);
}

void homa_menv_free(void *ctx, void *ptr, size_t bytes)
{
	homa_free(ctx, ptr, bytes);
}

uint32_t homa_seg_bytes(const struct homa *homa, int64_t mtu, bool v4)
{
	return (uint32_t)(mtu - homa_ip_overhead(homa, v4) -
			  HOMA_WIRE_DATA_BYTES);
}

/*
 * homa_send_ctrl() - encode and transmit a control packet to peer at the
 * highest level. pkt->common.type and the body must be set.
 */
void homa_send_ctrl(struct homa *homa, struct homa_peer *peer, uint16_t sport,
		    uint16_t dport, uint64_t sender_id,
		    struct homa_wire_pkt *pkt)
{
	uint8_t hdr[HOMA_WIRE_MAX_HEADER_BYTES];
	struct homa_out_pkt out;
	int len;

	pkt->common.sport = sport;
	pkt->common.dport = dport;
	pkt->common.sender_id = sender_id;
	len = homa_wire_encode(pkt, hdr, sizeof(hdr));
	if (len < 0)
		return;
	out.dst = &peer->addr;
	out.sport = sport;
	out.dport = dport;
	out.priority =
		homa_prio_map(homa, (int)homa->config.num_priorities - 1);
	out.type = pkt->common.type;
	out.hdr = hdr;
	out.hdr_bytes = (uint32_t)len;
	out.payload = NULL;
	out.payload_bytes = 0;
	homa->metrics
		.v[HOMA_M_sent_data + (pkt->common.type - HOMA_PKT_TYPE_MIN)]++;
	/* Control packets take link time too: the pacer must count them, or
	 * a host receiving at full rate (a GRANT per DATA) overfills its own
	 * uplink. */
	if (!peer->local)
		homa_nic_charge(
			homa,
			(uint64_t)len +
				(uint64_t)homa_ip_overhead(
					homa, homa_addr_is_v4(&peer->addr)) +
				HOMA_ETH_FRAMING_BYTES,
			homa->now_ns);
	homa->env.xmit(homa->env.ctx, &out);
}

bool homa_sock_writable(const struct homa_sock *hsk)
{
	return homa_sock_room(hsk);
}
