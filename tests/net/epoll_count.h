/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * epoll_count.h - a test program's own epoll_pwait2 and epoll_pwait,
 * which call the C library's after calling the program's
 * NT_EPOLL_SEEN() (a statement it defines before including this): how a
 * test counts the sleeps of libhoma's poller in epoll. Include once, in
 * the test's main file.
 */
#ifndef HOMA_TESTS_EPOLL_COUNT_H
#define HOMA_TESTS_EPOLL_COUNT_H

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <sys/epoll.h>
#include <time.h>

int epoll_pwait2(int epfd, struct epoll_event *ev, int max,
		 const struct timespec *ts, const sigset_t *mask)
{
	static int (*real)(int, struct epoll_event *, int,
			   const struct timespec *, const sigset_t *);

	if (!real)
		real = dlsym(RTLD_NEXT, "epoll_pwait2");
	NT_EPOLL_SEEN();
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	return real(epfd, ev, max, ts, mask);
}

int epoll_pwait(int epfd, struct epoll_event *ev, int max, int ms,
		const sigset_t *mask)
{
	static int (*real)(int, struct epoll_event *, int, int,
			   const sigset_t *);

	if (!real)
		real = dlsym(RTLD_NEXT, "epoll_pwait");
	NT_EPOLL_SEEN();
	return real(epfd, ev, max, ms, mask);
}

#endif /* HOMA_TESTS_EPOLL_COUNT_H */
