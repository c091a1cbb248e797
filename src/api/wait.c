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
#include <fcntl.h>
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

void homa_lib_wait_init(struct homa_lib *lib, struct homa_lib_waitctx *w,
			int nonblock_fd, uint64_t now)
{
	w->now = now;
	w->spin_end = now + (uint64_t)lib->config.poll_usecs * 1000;
	w->nonblock_fd = nonblock_fd;
	w->nonblock = -1;
	w->masked = false;
	w->handoff = false;
}

void homa_lib_wait_done(struct homa_lib_waitctx *w)
{
	if (w->masked)
		pthread_sigmask(SIG_SETMASK, &w->saved, NULL);
	w->masked = false;
}

int homa_lib_wait_sleepy(struct homa_lib_waitctx *w, const sigset_t **mask)
{
	sigset_t all;
	int fl;

	*mask = NULL;
	if (!w)
		return 0;
	if (w->nonblock_fd >= 0 && w->nonblock < 0) {
		fl = fcntl(w->nonblock_fd, F_GETFL);
		w->nonblock = fl >= 0 && (fl & O_NONBLOCK);
	}
	if (w->nonblock > 0)
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
