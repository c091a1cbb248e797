/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * timer.h - the tick (timer.c), run by homa_poll.
 */
#ifndef HOMA_CORE_TIMER_H
#define HOMA_CORE_TIMER_H

#include <stdint.h>

#include "homa_impl.h"

void homa_timer(struct homa *homa, uint64_t now_ns);

#endif /* HOMA_CORE_TIMER_H */
