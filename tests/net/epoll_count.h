/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * epoll_count.h - a test program's own epoll_pwait2 and epoll_pwait,
 * which call the C library's after calling the program's
 * NT_EPOLL_SEEN() (a statement it defines before including this): how a
 * test counts the sleeps of libhoma's poller in epoll. A program may also
 * define NT_EPOLL_DONE(), run when the C library's call returns (to tell
 * a sleep in progress). Include once, in the test's main file.
 */
#ifndef HOMA_TESTS_EPOLL_COUNT_H
#define HOMA_TESTS_EPOLL_COUNT_H

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <sys/epoll.h>
#include <time.h>

#ifndef NT_EPOLL_DONE
#define NT_EPOLL_DONE() ((void)0)
#endif

int epoll_pwait2(int epfd, struct epoll_event *ev, int max,
		 const struct timespec *ts, const sigset_t *mask)
{
	static int (*real)(int, struct epoll_event *, int,
			   const struct timespec *, const sigset_t *);
	int n;

	if (!real)
		real = dlsym(RTLD_NEXT, "epoll_pwait2");

	NT_EPOLL_SEEN();
	if (!real) {
		NT_EPOLL_DONE();
		errno = ENOSYS;
		return -1;
	}
	n = real(epfd, ev, max, ts, mask);
	NT_EPOLL_DONE();
	return n;
}

int epoll_pwait(int epfd, struct epoll_event *ev, int max, int ms,
		const sigset_t *mask)
{
	static int (*real)(int, struct epoll_event *, int, int,
			   const sigset_t *);
	int n;

	if (!real)
		real = dlsym(RTLD_NEXT, "epoll_pwait");

	NT_EPOLL_SEEN();
	n = real(epfd, ev, max, ms, mask);
	NT_EPOLL_DONE();
	return n;
}

#endif /* HOMA_TESTS_EPOLL_COUNT_H */
