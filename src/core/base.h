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

#include "homa_impl.h"

void *homa_alloc(struct homa *homa, size_t bytes);
void homa_free(struct homa *homa, void *ptr, size_t bytes);
/* The memory-only environment of the leaf modules (homa.menv): ctx is
 * the instance; counts into alloc_bytes like homa_alloc/homa_free. */
void *homa_menv_alloc(void *ctx, size_t bytes);
void homa_menv_free(void *ctx, void *ptr, size_t bytes);
uint8_t homa_prio_map(const struct homa *homa, int level);
int homa_high_prio(const struct homa *homa);
/* Payload bytes of a full DATA packet on a route of mtu bytes. */
uint32_t homa_seg_bytes(const struct homa *homa, int64_t mtu, bool v4);
void homa_nic_charge(struct homa *homa, uint64_t wire_bytes, uint64_t now_ns);
void homa_send_ctrl(struct homa *homa, struct homa_peer *peer, uint16_t sport,
		    uint16_t dport, uint64_t sender_id,
		    struct homa_wire_pkt *pkt);
void homa_sock_wake(struct homa_sock *hsk, uint32_t events, uint64_t id);

#endif /* HOMA_CORE_BASE_H */
