/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * preload_fd.c - descriptors in libhoma-preload.so: close, dup, dup2,
 * dup3, fcntl(F_DUPFD...), close_range on Homa descriptors, and fork.
 *
 * Fork: the child gets a copy of the process but none of libhoma's
 * threads, and shares the parent's datapath sockets; it cannot drive the
 * parent's sockets. Every call on an inherited Homa descriptor fails with
 * EBADF (said on stderr under HOMA_DEBUG), except close, which releases
 * it; new Homa sockets in the child work (a new libhoma instance). Exec:
 * Homa descriptors are close-on-exec; LD_PRELOAD carries the shim into
 * the new image, which starts with no Homa socket.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kapi.h"
#include "preload.h"

#define HOMA_PRE_INTERNAL_MAX 4096 /* library descriptors close_range spares */

/* Close fd as the shim sees it (kind: its mark). */
static int homa_pre_close(int fd, int kind)
{
	HOMA_PRE_REAL(real, int (*)(int), close);

	homa_pre_mark(fd, HOMA_PRE_NONE);
	if (kind == HOMA_PRE_SOCK)
		return homa_kapi_close(fd);
	return real(fd);
}

int close(int fd)
{
	HOMA_PRE_REAL(real, int (*)(int), close);
	int kind = homa_pre_kind(fd);

	if (kind == HOMA_PRE_NONE)
		return real(fd);
	return homa_pre_close(fd, kind);
}

/* newfd (made by the caller from Homa descriptor oldfd) names the same
 * socket; on failure newfd is closed. Returns newfd or -1. */
static int homa_pre_alias(int oldfd, int newfd)
{
	HOMA_PRE_REAL(real, int (*)(int), close);
	int err;

	if (newfd < 0)
		return -1;
	if (newfd >= HOMA_PRE_MAX_FDS || homa_kapi_alias(oldfd, newfd) < 0) {
		err = newfd >= HOMA_PRE_MAX_FDS ? EMFILE : errno;
		real(newfd);
		errno = err;
		return -1;
	}
	homa_pre_mark(newfd, HOMA_PRE_SOCK);
	return newfd;
}

int dup(int fd)
{
	HOMA_PRE_REAL(real, int (*)(int), dup);
	int kind = homa_pre_kind(fd);

	if (kind == HOMA_PRE_NONE)
		return real(fd);
	if (kind == HOMA_PRE_STALE)
		return homa_pre_stale("dup", fd);
	return homa_pre_alias(fd, real(fd));
}

/* dup2/dup3: newfd is closed first when it is a Homa descriptor (not
 * atomically, unlike the kernel). */
static int homa_pre_dup3(int oldfd, int newfd, int flags, bool three)
{
	HOMA_PRE_REAL(real2, int (*)(int, int), dup2);
	HOMA_PRE_REAL(real3, int (*)(int, int, int), dup3);
	int kind = homa_pre_kind(oldfd), ret;

	if (kind == HOMA_PRE_STALE)
		return homa_pre_stale(three ? "dup3" : "dup2", oldfd);
	if (oldfd == newfd || (fcntl(oldfd, F_GETFD) < 0 && errno == EBADF))
		return three ? real3(oldfd, newfd, flags) : real2(oldfd, newfd);
	if (homa_pre_kind(newfd) != HOMA_PRE_NONE)
		homa_pre_close(newfd, homa_pre_kind(newfd));
	ret = three ? real3(oldfd, newfd, flags) : real2(oldfd, newfd);
	if (ret < 0 || kind != HOMA_PRE_SOCK)
		return ret;
	return homa_pre_alias(oldfd, ret);
}

int dup2(int oldfd, int newfd)
{
	HOMA_PRE_REAL(real, int (*)(int, int), dup2);

	if ((homa_pre_kind(oldfd) == HOMA_PRE_NONE &&
	     homa_pre_kind(newfd) == HOMA_PRE_NONE))
		return real(oldfd, newfd);
	return homa_pre_dup3(oldfd, newfd, 0, false);
}

int dup3(int oldfd, int newfd, int flags)
{
	HOMA_PRE_REAL(real, int (*)(int, int, int), dup3);

	if ((homa_pre_kind(oldfd) == HOMA_PRE_NONE &&
	     homa_pre_kind(newfd) == HOMA_PRE_NONE))
		return real(oldfd, newfd, flags);
	return homa_pre_dup3(oldfd, newfd, flags, true);
}

/* fcntl: F_DUPFD and F_DUPFD_CLOEXEC make another descriptor of a Homa
 * socket; F_SETFL sets the flags and tells libhoma the O_NONBLOCK it
 * set (its calls then never read it back); every other command acts on
 * the descriptor itself. */
static int homa_pre_fcntl(int (*real)(int, int, ...), int fd, int cmd,
			  void *arg)
{
	int kind = homa_pre_kind(fd);

	if (kind == HOMA_PRE_SOCK && cmd == F_SETFL)
		return homa_kapi_setfl(fd, (int)(intptr_t)arg);
	if (kind == HOMA_PRE_NONE || (cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC))
		return real(fd, cmd, arg);
	if (kind == HOMA_PRE_STALE)
		return homa_pre_stale("fcntl", fd);
	return homa_pre_alias(fd, real(fd, cmd, arg));
}

void homa_pre_scan_rights(const struct msghdr *msg)
{
	const struct cmsghdr *c;
	const int *fds;
	size_t n;

	if (!msg || !msg->msg_control ||
	    msg->msg_controllen < sizeof(struct cmsghdr))
		return;
	for (c = CMSG_FIRSTHDR(msg); c;
	     c = CMSG_NXTHDR((struct msghdr *)msg, (struct cmsghdr *)c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		fds = (const int *)CMSG_DATA(c);
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++)
			if (homa_pre_kind(fds[i]) == HOMA_PRE_SOCK)
				homa_kapi_untrack(fds[i]);
	}
}

int fcntl(int fd, int cmd, ...)
{
	HOMA_PRE_REAL(real, int (*)(int, int, ...), fcntl);
	void *arg;

	HOMA_PRE_VA_ARG(arg, cmd);
	return homa_pre_fcntl(real, fd, cmd, arg);
}

int fcntl64(int fd, int cmd, ...)
{
	HOMA_PRE_REAL(real, int (*)(int, int, ...), fcntl64);
	void *arg;

	HOMA_PRE_VA_ARG(arg, cmd);
	return homa_pre_fcntl(real, fd, cmd, arg);
}

static int homa_pre_int_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Whether fd is an eventfd (libhoma's threads sleep on their own). */
static bool homa_pre_is_eventfd(int fd)
{
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = 0;
	return strcmp(link, "anon_inode:[eventfd]") == 0;
}

/*
 * close_range without CLOSE_RANGE_CLOEXEC: the Homa descriptors in the
 * range go through libhoma; while libhoma runs in this process its own
 * descriptors (and eventfds, which its threads sleep on) are spared,
 * the others closed one by one; with no libhoma instance (none created,
 * or a forked child) the range goes to libc whole.
 */
static int homa_pre_close_range(unsigned int first, unsigned int last,
				int flags)
{
	HOMA_PRE_REAL(real, int (*)(unsigned int, unsigned int, int),
		      close_range);
	HOMA_PRE_REAL(real_close, int (*)(int), close);
	int top = __atomic_load_n(&homa_pre_top, __ATOMIC_RELAXED), n;
	int *internal;
	DIR *dir;
	struct dirent *de;

	for (int fd = (int)first; fd <= top && (unsigned int)fd <= last; fd++)
		if (homa_pre_kind(fd) != HOMA_PRE_NONE)
			homa_pre_close(fd, homa_pre_kind(fd));
	internal = malloc(HOMA_PRE_INTERNAL_MAX * sizeof(int));
	if (!internal)
		return real(first, last, flags);
	n = homa_kapi_internal_fds(internal, HOMA_PRE_INTERNAL_MAX);
	if (n == 0) {
		free(internal);
		return real(first, last, flags);
	}
	qsort(internal, (size_t)n, sizeof(int), homa_pre_int_cmp);
	dir = opendir("/proc/self/fd");
	while (dir && (de = readdir(dir))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (*end || end == de->d_name || fd < first || fd > last ||
		    fd == dirfd(dir) ||
		    bsearch(&(int){ (int)fd }, internal, (size_t)n, sizeof(int),
			    homa_pre_int_cmp) ||
		    homa_pre_is_eventfd((int)fd))
			continue;
		real_close((int)fd);
	}
	if (dir)
		closedir(dir);
	free(internal);
	return 0;
}

int close_range(unsigned int first, unsigned int last, int flags)
{
	HOMA_PRE_REAL(real, int (*)(unsigned int, unsigned int, int),
		      close_range);

	if ((flags & CLOSE_RANGE_CLOEXEC) || first > last)
		return real(first, last, flags);
	return homa_pre_close_range(first, last, flags);
}

/* In the parent after fork: the child holds the sockets' files too, and
 * may change their O_NONBLOCK (or hand them on) without this shim
 * seeing it: libhoma reads the flag again (homa_kapi_untrack). */
static void homa_pre_atfork_parent(void)
{
	homa_kapi_untrack(-1);
}

/* In a forked child: the parent's Homa sockets are no longer ours. */
static void homa_pre_atfork_child(void)
{
	int top = __atomic_load_n(&homa_pre_top, __ATOMIC_RELAXED);

	for (int fd = 0; fd <= top; fd++)
		if (homa_pre_kind(fd) == HOMA_PRE_SOCK)
			homa_pre_mark(fd, HOMA_PRE_STALE);
	homa_kapi_fork_child();
}

__attribute__((constructor)) static void homa_pre_init(void)
{
	const char *debug = getenv("HOMA_DEBUG");

	homa_pre_debug = debug && *debug && strcmp(debug, "0") != 0;
	pthread_atfork(NULL, homa_pre_atfork_parent, homa_pre_atfork_child);
}
