/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * timer.h - the tick (timer.c), run by homa_poll.
 */
#ifndef HOMA_CORE_TIMER_H
#define HOMA_CORE_TIMER_H

#include <stdint.h>

#include "homa_impl.h"

/*
 * A server RPC whose response is fully sent but not acknowledged ends
 * after this many times timeout_ticks of silence (1 s by default; timer.c
 * says why not after timeout_ticks).
 */
#define HOMA_ACK_TIMEOUT_FACTOR 10

void homa_timer(struct homa *homa, uint64_t now_ns);

#endif /* HOMA_CORE_TIMER_H */
