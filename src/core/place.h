/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * place.h - the hooks of receiving in place that the protocol modules
 * call (place.c): which message is likely to receive next, whether a
 * DATA payload may be copied. The host's side (reserve, input, release)
 * is in place_rx.c, declared in homa_core.h.
 */
#ifndef HOMA_CORE_PLACE_H
#define HOMA_CORE_PLACE_H

#include "homa_impl.h"

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
