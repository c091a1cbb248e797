/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * incoming.h - what incoming.c offers the core's higher files beyond
 * homa_input (homa_core.h).
 */
#ifndef HOMA_CORE_INCOMING_H
#define HOMA_CORE_INCOMING_H

#include "homa_impl.h"

/* homa_input_pkt() - homa_input for a packet already decoded
 * (homa_input_placed); homa->now_ns is set. */
void homa_input_pkt(struct homa *homa, const struct homa_addr *src,
		    const struct homa_wire_pkt *p);

#endif /* HOMA_CORE_INCOMING_H */
