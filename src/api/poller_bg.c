/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * poller_bg.c - libhoma's background thread (see poller.c for who drives
 * the datapath): it holds the poller role whenever no application thread
 * wants it, so timers, grants and retransmission always run; while
 * application threads drive the core it only watches for them to stop;
 * while a poller has waited long (an idle process) it parks.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "lib.h"

#define HOMA_LIB_MIN_LINGER_NS 100000 /* see homa_lib_linger */
/* The background thread parks once the poller has waited this long. */
#define HOMA_LIB_PARK_AFTER_NS 5000000
/*
 * While application threads drive the core (homa_lib_bg_watch: a poller
 * spins, or the role is free between two calls), the background thread
 * sleeps this many ticks, never reaching the peers' first RESEND
 * (resend_ticks). Each wake-up takes a CPU from a spinning thread for
 * 20-30 us on a small machine: one a tick was 1.3-2 % of a ping-pong's
 * round trips, its P99 (issue 14).
 */
#define HOMA_LIB_WATCH_TICKS 4

/* Timer slack, ns, of the background thread's other sleeps (its
 * default, read at its start). */
static __thread unsigned long homa_lib_bg_slack;
/* Timer slack, ns, in effect now: the watch's while it watches (set
 * once, not around each of its sleeps), else homa_lib_bg_slack. */
static __thread unsigned long homa_lib_bg_slack_now;
/* The thread ran real time (SCHED_FIFO, SCHED_RR) at its start, so the
 * kernel gives it no slack (read once: a policy changed later only makes
 * the watch wake at its soft end, earlier, never later). */
static __thread bool homa_lib_bg_rt;

/* Sets the thread's timer slack to ns unless it is already; false if the
 * kernel refused. */
static bool homa_lib_bg_slack_use(unsigned long ns)
{
	if (ns == homa_lib_bg_slack_now)
		return true;
	if (prctl(PR_SET_TIMERSLACK, ns, 0, 0, 0) < 0)
		return false;
	homa_lib_bg_slack_now = ns;
	return true;
}

/* While application threads keep coming back to wait (a client between
 * requests, a server between replies), the background thread stays out
 * of the datapath, so it neither steals their packets nor must be kicked
 * out every time. Returns the ns left before it may poll (0 = now).
 * Needs no lock. */
static uint64_t homa_lib_linger(struct homa_lib *lib)
{
	uint64_t linger = 2 * (uint64_t)lib->config.poll_usecs * 1000;
	uint64_t last = __atomic_load_n(&lib->app_wait_ns, __ATOMIC_RELAXED);
	uint64_t now = homa_lib_now();

	if (linger < HOMA_LIB_MIN_LINGER_NS)
		linger = HOMA_LIB_MIN_LINGER_NS;
	if (!last || now >= last + linger)
		return 0;
	return last + linger - now;
}

/* Sleep on the background thread's eventfd until until_ns. Parked, a
 * release of the poller role wakes it (homa_lib_release_poller). */
static void homa_lib_bg_sleep(struct homa_lib *lib, uint64_t until_ns,
			      bool park)
{
	uint64_t now = homa_lib_now(), ns = until_ns > now ? until_ns - now : 0;
	struct pollfd pfd = { lib->bg_efd, POLLIN, 0 };
	struct timespec ts = { (time_t)(ns / 1000000000ull),
			       (long)(ns % 1000000000ull) };
	uint64_t v;

	if (park) {
		/* Sequentially consistent against homa_lib_release_poller:
		 * either it sees the flag, or this sees the role free. */
		__atomic_store_n(&lib->bg_parked, true, __ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&lib->poller_busy, __ATOMIC_SEQ_CST))
			ns = 0;
	}
	if (ns && ppoll(&pfd, 1, &ts, NULL) > 0 &&
	    read(lib->bg_efd, &v, sizeof(v)) < 0)
		v = 0;
	if (park)
		__atomic_store_n(&lib->bg_parked, false, __ATOMIC_SEQ_CST);
}

/*
 * The watch's sleep (homa_lib_bg_watch): it ends anywhere in the last
 * slack_ns before until_ns (at most its second half), where the kernel
 * likes (this thread's timer slack: ppoll's soft and hard expiry): on a
 * busy CPU, at the scheduler tick's interrupt, which comes anyway, rather
 * than at one of its own. A timer interrupt costs the thread it lands
 * on 11-12 us in a VM, so each watch's own interrupt (one per process
 * every 4 ms in a spinning ping-pong) was a slow round trip
 * (docs/benchmarks.md, "The P99 of a spinning round trip: the
 * background thread's timer"). Never later than until_ns: the takeover
 * bound holds. The kernel gives real-time threads no slack: they sleep
 * until until_ns as before. (Ending it in its last three quarters took
 * two thirds of those interrupts away, against two fifths, but woke the
 * thread more often, and test_net_rtt's spinning part failed more often
 * under load.) The slack stays set from one watch to the next, and the
 * policy is read once: a wake-up of the watch makes one system call, its
 * ppoll, not four (a spinning thread waits for each wake-up's run).
 */
static void homa_lib_bg_watch_sleep(struct homa_lib *lib, uint64_t now,
				    uint64_t until_ns, uint64_t slack_ns)
{
	uint64_t d = until_ns > now ? until_ns - now : 0;

	/* Its second half at most: a sleep shorter than twice the usual
	 * slack gets its own (one more system call). */
	if (!slack_ns || d < 2 * slack_ns)
		slack_ns = d / 2;
	if (!d || homa_lib_bg_rt || !slack_ns ||
	    !homa_lib_bg_slack_use((unsigned long)slack_ns)) {
		homa_lib_bg_sleep(lib, until_ns, false);
		return;
	}
	homa_lib_bg_sleep(lib, until_ns - slack_ns, false);
}

/*
 * The background thread's sleep while application threads drive the
 * core: one holds the poller role and spins (running the core's timers
 * every round), or one let it go less than max_ns ago (between two calls
 * of a ping-pong: it runs them at its next call) while the core owes
 * nothing but timers (bg_may_watch: no pacer, nothing to grant; and no
 * packet held back by auto-cork). Then the background thread only
 * watches for them to stop: no lock, no timers, one wake-up per max_ns
 * (a few ticks, below the peers' first RESEND; each wake-up takes a CPU
 * from a spinning thread on a small machine). Between calls it sleeps
 * until max_ns after the last release, so it takes over at most max_ns
 * after the application threads stopped coming. True if it slept so;
 * false if it must act as before: nobody drives the core, the poller
 * sleeps in epoll (it runs the timers at its deadline itself; a blocking
 * ping-pong on a loaded machine measured slower with the watch, cause
 * not found) or sleeps in its socket (lean_mode: the background thread
 * wakes it at its deadline, homa_lib_lean_watch), the core has packets to pace or grants to send, or the
 * poller has waited long (an idle process).
 */
static bool homa_lib_bg_watch(struct homa_lib *lib, uint64_t now, bool busy,
			      uint64_t tick, uint64_t max_ns)
{
	uint64_t last = __atomic_load_n(&lib->app_wait_ns, __ATOMIC_RELAXED);
	uint64_t until = __atomic_load_n(&lib->next_deadline, __ATOMIC_RELAXED);
	uint64_t end;

	if (__atomic_load_n(&lib->lean_mode, __ATOMIC_RELAXED))
		return false;
	if (busy) {
		if (now - last > HOMA_LIB_PARK_AFTER_NS ||
		    __atomic_load_n(&lib->poller_asleep, __ATOMIC_SEQ_CST))
			return false;
		end = now + max_ns; /* it spins now */
	} else if (!__atomic_load_n(&lib->bg_may_watch, __ATOMIC_RELAXED) ||
		   __atomic_load_n(&lib->cork_ns, __ATOMIC_RELAXED) || !last ||
		   now - last >= max_ns) {
		return false;
	} else {
		end = last + max_ns;
	}
	/* On the ticks' grid, as the other sleeps (the last grid point
	 * before end, the next one at least): a thread that spins and
	 * sleeps by turns must not bring two wake-ups a tick. */
	if (until <= now || until > now + tick)
		until = now + tick;
	if (end > until)
		until += (end - until) / tick * tick;
	/* A watch while it spins sleeps more than max_ns - tick: its
	 * slack, half of that, is the same every time. */
	homa_lib_bg_watch_sleep(lib, now, until,
				max_ns > tick ? (max_ns - tick) / 2 : 0);
	return true;
}

/*
 * The background thread: holds the poller role whenever no application
 * thread wants it, so timers and retransmission always run. While
 * application threads drive the core it only watches for them to stop
 * (homa_lib_bg_watch), waking once every HOMA_LIB_WATCH_TICKS ticks.
 * Otherwise it sleeps without the lock until the core's next deadline
 * and takes the lock only if nobody ran the core's timers. While a poller has waited long (an idle process),
 * it parks until that one lets the role go.
 */
void *homa_lib_bg_main(void *arg)
{
	struct homa_lib *lib = arg;
	uint64_t tick, watch_max;
	int policy;

	homa_lib_bg_slack = (unsigned long)prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	homa_lib_bg_slack_now = homa_lib_bg_slack;
	policy = sched_getscheduler(0);
	homa_lib_bg_rt = policy == SCHED_FIFO || policy == SCHED_RR;
	homa_lib_lock(lib);
	tick = (uint64_t)lib->config.tick_us * 1000;
	watch_max = (uint64_t)lib->config.resend_ticks - 1;
	if (watch_max > HOMA_LIB_WATCH_TICKS)
		watch_max = HOMA_LIB_WATCH_TICKS;
	watch_max = (watch_max ? watch_max : 1) * tick;
	homa_lib_unlock(lib);
	while (!__atomic_load_n(&lib->stopping, __ATOMIC_RELAXED)) {
		uint64_t now, until, corked, linger;
		bool busy;
		uint64_t last;

		/* HOMA_SAMPLE_FILE: sample_fd is fixed from the start. */
		if (lib->sample_fd >= 0) {
			homa_lib_lock(lib);
			homa_lib_sample(lib);
			homa_lib_unlock(lib);
		}
		now = homa_lib_now();
		busy = __atomic_load_n(&lib->poller_busy, __ATOMIC_SEQ_CST);
		last = __atomic_load_n(&lib->app_wait_ns, __ATOMIC_RELAXED);
		corked = __atomic_load_n(&lib->cork_ns, __ATOMIC_RELAXED);

		/* Packets an application thread held back and did not come
		 * back to send (homa_lib_after_msg). */
		if (corked && now - corked >= lib->cork_hold_ns) {
			homa_lib_lock(lib);
			if (lib->cork_ns)
				homa_lib_flush(lib);
			homa_lib_unlock(lib);
		}

		linger = homa_lib_linger(lib);
		if (homa_lib_bg_watch(lib, now, busy, tick, watch_max))
			continue;
		/* Its other sleeps keep their own slack. */
		homa_lib_bg_slack_use(homa_lib_bg_slack);
		if (!busy && !linger) {
			homa_lib_lock(lib);
			if (!lib->poller_busy && !lib->app_waiting) {
				__atomic_store_n(&lib->poller_busy, true,
						 __ATOMIC_RELAXED);
				lib->bg_polling = true;
				homa_lib_poll_round(lib, 0, NULL);
				homa_lib_sync_pending(lib);
				homa_lib_release_poller(lib);
				lib->bg_polling = false;
				homa_lib_unlock(lib);
				continue;
			}
			homa_lib_unlock(lib);
		}
		until = __atomic_load_n(&lib->next_deadline, __ATOMIC_RELAXED);
		if (!busy && until <= now) {
			/* Timers nobody ran while threads linger. */
			homa_lib_lock(lib);
			if (!lib->poller_busy)
				homa_lib_service(lib);
			until = lib->next_deadline;
			homa_lib_unlock(lib);
		}
		/* A poller asleep in its socket runs them when woken. */
		if (busy)
			until = homa_lib_lean_watch(lib, now, until, tick);
		if (until <= now)
			until = now +
				tick; /* the poller is about to run them */
		if (busy && now - last > HOMA_LIB_PARK_AFTER_NS) {
			homa_lib_bg_sleep(lib, until, true);
			continue;
		}
		if (until > now + tick)
			until = now + tick;
		homa_lib_bg_sleep(lib, until, false);
	}
	return NULL;
}
