/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * place.h - the core's side of receiving in place (place.c): which
 * message is likely to receive next, and the reservation of the bytes the
 * host lets the network write straight into the pool.
 */
#ifndef HOMA_CORE_PLACE_H
#define HOMA_CORE_PLACE_H

#include <stdbool.h>
#include <stdint.h>

#include "homa_core.h"

struct homa_rpc;
struct homa_sock;
struct homa_wire_data;

/* Pages one reservation may pin: each packet's payload spans two. */
#define HOMA_PLACE_MAX_PINS (HOMA_PLACE_MAX * HOMA_PLACE_SPANS)

struct homa_place_state {
	uint64_t hint_id;	    /* local id of the RPC that last received
				      * in-order DATA, 0 = none */
	uint16_t hint_port;	    /* its socket's port */
	uint16_t hint_dport;	    /* its peer's port (server lookup) */
	struct homa_addr hint_addr; /* its peer (server lookup) */
	uint32_t hint_seg;	    /* payload bytes expected per packet */
	uint32_t seg_full;	    /* payload of the last packet not cut
				      * at an unscheduled limit, bytes */
	int count;		    /* packets reserved, 0 = no reservation */
	struct homa_sock *hsk;	    /* socket whose pool is pinned */
	const struct homa_rpc *rpc; /* reserved RPC (compared, never read) */
	uint64_t id;		    /* its local id */
	uint32_t lo;		    /* first reserved message byte */
	uint32_t hi;		    /* one past the last */
	uint32_t pins[HOMA_PLACE_MAX_PINS]; /* pinned pool offsets */
	uint32_t num_pins;		    /* entries in pins */
	const struct homa_place *cur; /* packet homa_input_placed is feeding,
				       * NULL outside it */
};

/* homa_place_note() - rpc accepted DATA d; remember it if more of its
 * message should follow in order. */
void homa_place_note(struct homa_rpc *rpc, const struct homa_wire_data *d);

/* homa_place_check() - what to do with the payload of DATA d for rpc:
 * 0 = copy it, 1 = it is already in place (homa_input_placed), -1 =
 * drop it (it would overwrite reserved bytes; counted). */
int homa_place_check(struct homa_rpc *rpc, const struct homa_wire_data *d);

/* homa_place_sock_gone() - hsk's pool is about to be destroyed. */
void homa_place_sock_gone(struct homa_sock *hsk);

#endif /* HOMA_CORE_PLACE_H */
