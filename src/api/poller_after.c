/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * poller_after.c - what follows an application thread's call into the
 * core (lock held): the packets it queued leave now, or a send's are held
 * back for the next ones (auto-cork, homa_lib_after_msg in lib.h); if the
 * core woke from idle, or now needs the CPU before the poller's round
 * planned to look, it is serviced, the poller is kicked out of its sleep
 * (homa_lib_kick) and the parked background thread woken. The poller's
 * round itself is in poller.c.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <unistd.h>

#include "lib.h"

/* Interrupt the poller's sleep, or its next one (lock held). */
void homa_lib_kick(struct homa_lib *lib)
{
	uint64_t one = 1;

	if (lib->poller_lean) {
		lib->dp->ops->rx_wake(lib->dp); /* asleep in its socket */
		return;
	}
	if (write(lib->wake_efd, &one, sizeof(one)) < 0)
		return; /* counter saturated: a kick is pending anyway */
}

/* homa_lib_after_op, flushing only if flush; now: the caller's last
 * clock read, ns (0 = none). */
static void homa_lib_after(struct homa_lib *lib, bool flush, uint64_t now)
{
	uint64_t one = 1, next;
	bool was_idle = lib->core_idle;

	if (flush)
		homa_lib_flush(lib);
	if (!was_idle && !(lib->poller_busy && lib->bg_polling))
		return;
	next = homa_lib_service_at(lib, now ? now : homa_lib_now());
	if (lib->poller_busy && next < lib->poller_deadline)
		homa_lib_kick(lib);
	if (was_idle && !lib->core_idle &&
	    __atomic_exchange_n(&lib->bg_parked, false, __ATOMIC_SEQ_CST) &&
	    write(lib->bg_efd, &one, sizeof(one)) < 0)
		return; /* saturated: it is readable anyway */
}

void homa_lib_after_op(struct homa_lib *lib)
{
	homa_lib_after(lib, true, 0);
}

void homa_lib_after_msg_slow(struct homa_lib *lib, struct homa_lsock *ls,
			     bool ok, bool sent, uint64_t now)
{
	uint64_t since = lib->cork_ns;
	bool hold = ok && (sent ? homa_sock_readable(ls->hsk) : since != 0);

	/* Most calls of a round trip: nothing queued, nothing held, the
	 * core busy and driven by an application thread (homa_lib_after
	 * would do nothing). */
	if (!hold && !since && !lib->tx_queued && !lib->core_idle &&
	    !lib->bg_polling)
		return;
	if (hold) {
		if (!since)
			__atomic_store_n(&lib->cork_ns, since = now,
					 __ATOMIC_RELAXED);
		hold = now - since < lib->cork_hold_ns;
	}
	homa_lib_after(lib, !hold, now);
}
