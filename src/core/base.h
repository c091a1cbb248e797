/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * base.h - the floor of the core's stack (base.c): helpers every protocol
 * module uses. See docs/architecture.md for the layers.
 */
#ifndef HOMA_CORE_BASE_H
#define HOMA_CORE_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "homa_impl.h"

/* Wire bytes of a packet outside its IP packet: Ethernet header 18 plus
 * preamble, SFD, CRC and inter-packet gap 24 (spec 1.8). */
#define HOMA_ETH_FRAMING_BYTES 42

/*
 * homa_ip_overhead() - bytes below the Homa header inside the MTU: the IP
 * header (20 for IPv4, 40 for IPv6) and the datapath's own header
 * (config.extra_header_bytes, 8 for UDP). The one home of the framing
 * arithmetic: segment sizes (homa_seg_bytes), the MTU floor (peer.c) and
 * the NIC charge of every packet (+ HOMA_ETH_FRAMING_BYTES) use it.
 */
static inline int64_t homa_ip_overhead(const struct homa *homa, bool v4)
{
	return (v4 ? 20 : 40) + homa->config.extra_header_bytes;
}

/* Bytes of homa_copy's pieces, and the distance (destination past
 * source, modulo 4096) below which it copies in such pieces. */
#define HOMA_COPY_PIECE_BYTES 1024
#define HOMA_COPY_ALIAS_BYTES 16
/*
 * homa_copy() - memcpy for the core's large copies (a message into its
 * retransmission buffer). Where dst lies 1 to HOMA_COPY_ALIAS_BYTES - 1
 * bytes past src modulo 4096, a long `rep movsb` (glibc's memcpy above a
 * few KB) runs 10-15x slower on this project's AMD machine (4K
 * aliasing: docs/benchmarks.md, mb11) and the vector loop of a short
 * memcpy does not, so such a copy goes in pieces of
 * HOMA_COPY_PIECE_BYTES (homa_copy_pieces). Two malloc'd buffers never
 * meet so (both 16-byte aligned); a caller's message at an odd offset
 * (after a header of its own) can. Inline: a short copy costs one
 * comparison more than memcpy.
 */
void homa_copy_pieces(void *dst, const void *src, size_t bytes);
static inline void homa_copy(void *dst, const void *src, size_t bytes)
{
	if (bytes > HOMA_COPY_PIECE_BYTES &&
	    (((uintptr_t)dst - (uintptr_t)src - 1) & 4095) <
		    HOMA_COPY_ALIAS_BYTES - 1) {
		homa_copy_pieces(dst, src, bytes);
		return;
	}
	memcpy(dst, src, bytes);
}
void *homa_alloc(struct homa *homa, size_t bytes);
void homa_free(struct homa *homa, void *ptr, size_t bytes);
/* The memory-only environment of the leaf modules (homa.menv): ctx is
 * the instance; counts into alloc_bytes like homa_alloc/homa_free. */
void *homa_menv_alloc(void *ctx, size_t bytes);
void homa_menv_free(void *ctx, void *ptr, size_t bytes);
/* homa_prio_map() - the network priority for internal level (inline:
 * every packet sent asks). */
static inline uint8_t homa_prio_map(const struct homa *homa, int level)
{
	if (level < 0)
		level = 0;
	if (level >= HOMA_MAX_PRIORITIES)
		level = HOMA_MAX_PRIORITIES - 1;
	return (uint8_t)homa->config.priority_map[level];
}
/* Payload bytes of a full DATA packet on a route of mtu bytes. */
uint32_t homa_seg_bytes(const struct homa *homa, int64_t mtu, bool v4);
/* homa_nic_charge() - charge a packet to the NIC backlog estimate: its
 * time at 99% of the link rate (inline: every packet sent). */
static inline void homa_nic_charge(struct homa *homa, uint64_t wire_bytes,
				   uint64_t now_ns)
{
	/* ns = bytes * 8 bits * 1000 / Mbps, inflated by 1%: 8080 / Mbps */
	uint64_t cost = wire_bytes * 8080 / (uint64_t)homa->config.link_mbps;

	if (homa->link_idle_ns < now_ns)
		homa->link_idle_ns = now_ns;
	homa->link_idle_ns += cost;
}
void homa_send_ctrl(struct homa *homa, struct homa_peer *peer, uint16_t sport,
		    uint16_t dport, uint64_t sender_id,
		    struct homa_wire_pkt *pkt);
/* homa_sock_wake() - tell the host's waiters on hsk about events (id:
 * the RPC whose message became ready, 0 for socket-wide events). */
static inline void homa_sock_wake(struct homa_sock *hsk, uint32_t events,
				  uint64_t id)
{
	struct homa *homa = hsk->homa;

	if (homa->env.wake)
		homa->env.wake(homa->env.ctx, hsk->ctx, events, id);
}

/* homa_sock_room() - outgoing memory below wmem_max: homa_sock_writable,
 * inline for the core's own use (every send and every freed message). */
static inline bool homa_sock_room(const struct homa_sock *hsk)
{
	return hsk->tx_bytes < (uint64_t)hsk->homa->config.wmem_max;
}

#endif /* HOMA_CORE_BASE_H */
