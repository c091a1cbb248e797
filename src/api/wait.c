/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wait.c - a call's waiting (struct homa_lib_waitctx: spin budget,
 * signal mask and O_NONBLOCK, both touched only before the first sleep),
 * and how application threads sleep in homa_lib_wait without the poller
 * role: each on its own eventfd in ppoll, listed in lib.waiters, with
 * all signals blocked but its own mask restored atomically by ppoll, so
 * that a signal handler interrupts the sleep and the call returns EINTR
 * (spec 9.2, 9.3; a condition variable would restart after the handler).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "lib.h"

/* The calling thread's eventfd for sleeping in homa_lib_wait (created
 * on first use, closed at thread exit); -1 if none can be made. */
static pthread_key_t homa_lib_efd_key;
static pthread_once_t homa_lib_efd_once = PTHREAD_ONCE_INIT;

static void homa_lib_efd_close(void *p)
{
	close((int)(intptr_t)p - 1);
}

static void homa_lib_efd_init(void)
{
	pthread_key_create(&homa_lib_efd_key, homa_lib_efd_close);
}

static int homa_lib_thread_efd(void)
{
	intptr_t v;
	int efd;

	pthread_once(&homa_lib_efd_once, homa_lib_efd_init);
	v = (intptr_t)pthread_getspecific(homa_lib_efd_key);
	if (v)
		return (int)v - 1; /* stored + 1: 0 means none yet */
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd >= 0)
		pthread_setspecific(homa_lib_efd_key,
				    (void *)(intptr_t)(efd + 1));
	return efd;
}

void homa_lib_wait_unmask(struct homa_lib_waitctx *w)
{
	pthread_sigmask(SIG_SETMASK, &w->saved, NULL);
	w->masked = false;
}

int homa_lib_wait_sleepy(struct homa_lib_waitctx *w, const sigset_t **mask)
{
	sigset_t all;

	*mask = NULL;
	if (!w)
		return 0;
	if (homa_lib_wait_nonblock(w) < 0)
		return -EAGAIN;
	if (!w->masked) {
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &w->saved);
		w->masked = true;
	}
	*mask = &w->saved;
	return 0;
}

int homa_lib_sleep(struct homa_lib *lib, uint64_t deadline_ns,
		   struct homa_lib_waitctx *wc)
{
	struct homa_lib_waiter w = { homa_lib_thread_efd(), false, NULL };
	struct homa_lib_waiter **pp;
	struct pollfd pfd = { w.efd, POLLIN, 0 };
	struct timespec ts, *tsp = NULL;
	const sigset_t *sigmask;
	uint64_t v, now;
	int n;

	n = homa_lib_wait_sleepy(wc, &sigmask);
	if (n < 0)
		return n;

	if (deadline_ns) {
		now = homa_lib_now();
		v = deadline_ns > now ? deadline_ns - now : 0;
		ts.tv_sec = (time_t)(v / 1000000000ull);
		ts.tv_nsec = (long)(v % 1000000000ull);
		tsp = &ts;
	} else if (w.efd < 0) {
		/* No eventfd (descriptors exhausted): recheck every ms. */
		ts.tv_sec = 0;
		ts.tv_nsec = 1000000;
		tsp = &ts;
	}
	w.next = lib->waiters;
	lib->waiters = &w;
	lib->app_waiting++;
	homa_lib_unlock(lib);
	n = ppoll(w.efd >= 0 ? &pfd : NULL, w.efd >= 0 ? 1 : 0, tsp, sigmask);
	if (n < 0 && errno != EINTR)
		n = 0;
	homa_lib_lock(lib);
	lib->app_waiting--;
	for (pp = &lib->waiters; *pp != &w; pp = &(*pp)->next)
		;
	*pp = w.next;
	if (w.woken && read(w.efd, &v, sizeof(v)) < 0)
		v = 0; /* written under the lock: readable now */
	return n < 0 && sigmask ? -EINTR : 0;
}

void homa_lib_wake_waiters(struct homa_lib *lib)
{
	uint64_t one = 1;

	for (struct homa_lib_waiter *w = lib->waiters; w; w = w->next) {
		if (w->woken)
			continue;
		w->woken = true;
		if (write(w->efd, &one, sizeof(one)) < 0)
			continue; /* saturated: it is readable anyway */
	}
}

/*
 * The poller's lean sleep. An application thread that holds the poller
 * role sleeps, when it can, in the datapath's own socket (the
 * datapath's rx_sleep: a blocking receive with SO_RCVTIMEO), as an
 * application's blocking recv does: one system call sleeps and reads,
 * where the epoll sleep made four (the signal mask blocked and restored
 * around epoll_pwait2 on the nested sets, then the read), and the
 * sockets leave the epoll set, so a packet no longer passes through its
 * wake-up (docs/benchmarks.md, "Blocking waits: the lean sleep"). It
 * can when the datapath has one receive socket (UDP, one Homa socket),
 * nothing was reserved a place, nothing waits for the pacer, the
 * caller's own deadline (a Homa SO_RCVTIMEO) is not sooner than the
 * core's, and the call has not blocked signals for an epoll sleep.
 *
 * What ends it: a packet (read at once); another thread's kick
 * (homa_lib_kick: the datapath's rx_wake, a zero-length datagram, as
 * rare as kicks of the epoll sleep were: a socket woken by another
 * thread, the core's deadline moved sooner, a port opened or closed);
 * the core's deadline, which the background thread watches
 * (lean_until, homa_lib_lean_watch: a socket's receive timeout counts in
 * jiffies, 4 ms here, and ends 4-12 ms after it was due); a signal
 * (EINTR: the receive timeout makes the kernel return it even for an
 * SA_RESTART handler); or HOMA_LIB_LEAN_TIMEO_NS, a safety net set once.
 *
 * Signals: the epoll sleep unblocks the thread's mask atomically for the
 * sleep alone, so a signal that arrives anywhere in the call after its
 * first sleep began ends the call with EINTR. A receive cannot: the lean
 * sleep runs with the thread's own mask, so a signal that arrives while
 * the thread runs between two sleeps of one call (about a microsecond
 * per wake-up, from the poller's round to its receive) runs its handler
 * and the call goes on waiting, as a signal during the spin always did
 * (test_net_spin). A handler that sets a flag for a loop around
 * homa_recvmsg then sees the call return only with the next message,
 * kick or timeout. The kernel module has no such window; the lean sleep
 * accepts it for three system calls fewer per blocking call.
 */
/* (homa_lib_lean_ok, inline in lib.h, is the test of the rules above.) */

/*
 * The background thread wakes a poller asleep in its socket this long
 * after the core's deadline, not at it: a poller whose peer answers
 * (a ping-pong: sleeps of a few us) wakes by itself meanwhile, runs the
 * timers at the end of that round and sleeps again with the next
 * deadline, and no wake datagram is sent. One sent at the deadline
 * itself reached a thread that a packet would have woken microseconds
 * later, as a wake-up from the background thread's vCPU (32 a second
 * per process in a blocking ping-pong, 2026-12-07). A poller that
 * nobody answers runs its timers this much late: a fifth of a 1 ms
 * tick, within the tick's own granularity.
 */
#define HOMA_LIB_LEAN_GRACE_NS 200000

uint64_t homa_lib_lean_watch(struct homa_lib *lib, uint64_t now, uint64_t until,
			     uint64_t tick)
{
	uint64_t lean = __atomic_load_n(&lib->lean_until, __ATOMIC_SEQ_CST);

	if (!lean)
		return until;
	lean += HOMA_LIB_LEAN_GRACE_NS;
	if (now >= lean) {
		/* Every tick until the poller wakes and clears it: a wake
		 * datagram can be lost (a full socket buffer, a firewall
		 * rule on the port: churn.sh drops 1 % of what reaches the
		 * server's port, and one lost wake-up held the server's
		 * timers for the socket's 2 s receive timeout). */
		lib->dp->ops->rx_wake(lib->dp);
		/* Its next deadline: most likely the next tick. */
		return lean + tick > now ? lean + tick : now + tick;
	}
	/* Not at until (the core's deadline, which the poller itself runs
	 * if it wakes before): a deadline moved sooner kicks the poller
	 * (homa_lib_after). */
	return lean;
}
