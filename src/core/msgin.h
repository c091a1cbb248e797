/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msgin.h - the incoming message's lifecycle (msgin.c): set-up, buffers,
 * stalls and resumption, retransmission requests, teardown.
 */
#ifndef HOMA_CORE_MSGIN_H
#define HOMA_CORE_MSGIN_H

#include <stdint.h>

#include "homa_impl.h"

int homa_msgin_init(struct homa_rpc *rpc, uint32_t length, uint32_t incoming,
		    uint64_t now_ns);
void homa_msgin_destroy(struct homa_rpc *rpc);
void homa_msgin_check_stalled(struct homa_sock *hsk);
void homa_msgin_request_retrans(struct homa_rpc *rpc);

#endif /* HOMA_CORE_MSGIN_H */
