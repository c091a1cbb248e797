/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kapi.c - libhoma's part of the kernel API shim (see kapi.h): sockets
 * under the kernel's region rules, descriptors made by dup, getsockname,
 * the library's own descriptors, and forgetting the instance in a forked
 * child.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kapi.h"
#include "lib.h"

/* Some kernel-API socket was made by this process (its instance lives). */
static bool homa_kapi_live;

static int homa_kapi_fail(int err)
{
	errno = err < 0 ? -err : err;
	return -1;
}

int homa_kapi_socket(int domain, int flags)
{
	struct homa_lib *lib;
	struct homa_lsock *ls;
	int fd = homa_socket(domain);

	if (fd < 0)
		return -1;
	ls = homa_lsock_enter(&lib, fd);
	if (!ls)
		return -1;
	ls->kapi = true;
	ls->nfds = 1;
	/* From here every change of O_NONBLOCK goes through the shim
	 * (homa_kapi_setfl) until the file leaves this process's hands
	 * (homa_kapi_untrack); the flag below is set before fd is
	 * returned. */
	ls->nb_track = (flags & SOCK_NONBLOCK) ? HOMA_LSOCK_NB_SET
					       : HOMA_LSOCK_NB_CLEAR;
	homa_lsock_leave(lib, ls);
	homa_kapi_live = true;
	if ((flags & SOCK_NONBLOCK) &&
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		homa_close(fd);
		return -1;
	}
	return fd;
}

int homa_kapi_alias(int oldfd, int newfd)
{
	struct homa_lib *lib;
	struct homa_lsock *ls;
	int ret;

	ls = homa_lsock_enter(&lib, oldfd);
	if (!ls)
		return -1;
	ret = homa_lib_table(lib, newfd);
	if (ret == 0 && lib->socks[newfd])
		ret = -EBUSY; /* the caller closed it first: cannot happen */
	if (ret == 0) {
		lib->socks[newfd] = ls;
		ls->nfds = (ls->nfds ? ls->nfds : 1) + 1;
	}
	homa_lsock_leave(lib, ls);
	return ret < 0 ? homa_kapi_fail(ret) : 0;
}

int homa_kapi_close(int fd)
{
	struct homa_lib *lib;
	struct homa_lsock *ls;

	ls = homa_lsock_enter(&lib, fd);
	if (!ls)
		return -1;
	if (ls->nfds <= 1) {
		homa_lsock_leave(lib, ls);
		return homa_close(fd); /* ls->fd == fd: the last one */
	}
	lib->socks[fd] = NULL;
	ls->nfds--;
	if (ls->fd == fd) {
		/* The library's I/O on the pair needs a live descriptor. */
		for (int i = 0; i < lib->socks_len; i++) {
			if (lib->socks[i] == ls) {
				ls->fd = i;
				break;
			}
		}
	}
	homa_lsock_leave(lib, ls);
	return close(fd);
}

/* Set the file flags of fd to flags (F_SETFL), or only O_NONBLOCK to
 * on (on >= 0: FIONBIO), and record O_NONBLOCK for the socket's calls.
 * Under the lock, so that the record follows the file when threads set
 * the flag at once. */
static int homa_kapi_nonblock(int fd, int flags, int on)
{
	struct homa_lib *lib;
	struct homa_lsock *ls;
	int ret, err = 0;

	ls = homa_lsock_enter(&lib, fd);
	if (!ls)
		return -1;
	if (on >= 0) {
		flags = fcntl(fd, F_GETFL);
		if (flags >= 0)
			flags = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
	}
	ret = flags < 0 ? -1 : fcntl(fd, F_SETFL, flags);
	if (ret < 0)
		err = errno;
	else if (ls->nb_track != HOMA_LSOCK_NB_READ)
		__atomic_store_n(&ls->nb_track,
				 (flags & O_NONBLOCK) ? HOMA_LSOCK_NB_SET
						      : HOMA_LSOCK_NB_CLEAR,
				 __ATOMIC_RELAXED);
	homa_lsock_leave(lib, ls);
	return ret < 0 ? homa_kapi_fail(err) : ret;
}

int homa_kapi_setfl(int fd, int flags)
{
	return homa_kapi_nonblock(fd, flags, -1);
}

int homa_kapi_fionbio(int fd, int on)
{
	return homa_kapi_nonblock(fd, 0, on != 0);
}

void homa_kapi_untrack(int fd)
{
	struct homa_lib *lib;
	struct homa_lsock *ls;

	if (fd >= 0) {
		ls = homa_lsock_enter(&lib, fd);
		if (!ls)
			return;
		__atomic_store_n(&ls->nb_track, HOMA_LSOCK_NB_READ,
				 __ATOMIC_RELAXED);
		homa_lsock_leave(lib, ls);
		return;
	}
	if (!homa_kapi_live)
		return;
	lib = homa_lib_get();
	if (!lib)
		return;
	homa_lib_lock(lib);
	for (int i = 0; i < lib->socks_len; i++)
		if (lib->socks[i])
			__atomic_store_n(&lib->socks[i]->nb_track,
					 HOMA_LSOCK_NB_READ, __ATOMIC_RELAXED);
	homa_lib_unlock(lib);
}

int homa_kapi_getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct sockaddr_in6 out;
	struct homa_lib *lib;
	struct homa_lsock *ls;
	socklen_t n;

	ls = homa_lsock_enter(&lib, fd);
	if (!ls)
		return -1;
	memset(&out, 0, sizeof(out));
	out.sin6_family = (sa_family_t)ls->family;
	out.sin6_port = htons(ls->port); /* same offset in sockaddr_in */
	n = ls->family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(out);
	homa_lsock_leave(lib, ls);
	if (!sa || !len)
		return homa_kapi_fail(EFAULT);
	memcpy(sa, &out, *len < n ? *len : n);
	*len = n;
	return 0;
}

/* Add the descriptors of the epoll set epfd ("tfd:" lines of its fdinfo). */
static int homa_kapi_epoll_members(int epfd, int *fds, int n, int max)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", epfd);
	f = fopen(path, "re");
	if (!f)
		return n;
	while (n < max && fgets(line, sizeof(line), f)) {
		int tfd;

		if (sscanf(line, "tfd: %d", &tfd) == 1)
			fds[n++] = tfd;
	}
	fclose(f);
	return n;
}

int homa_kapi_internal_fds(int *fds, int max)
{
	struct homa_lib *lib;
	int n = 0;

	if (!homa_kapi_live)
		return 0;
	lib = homa_lib_get();
	if (!lib)
		return 0;
	homa_lib_lock(lib);
	if (n + 6 <= max) {
		fds[n++] = lib->epfd;
		fds[n++] = lib->wake_efd;
		fds[n++] = lib->bg_efd;
		fds[n++] = lib->dp->epfd;
		for (int i = 0; i < 2; i++)
			if (lib->dp->icmp_fd[i] > 0)
				fds[n++] = lib->dp->icmp_fd[i] - 1;
	}
	for (int i = 0; i < lib->socks_len && n < max; i++)
		if (lib->socks[i] && lib->socks[i]->fd == i)
			fds[n++] = lib->socks[i]->peer_fd;
	n = homa_kapi_epoll_members(lib->dp->epfd, fds, n, max);
	homa_lib_unlock(lib);
	return n;
}

void homa_kapi_fork_child(void)
{
	homa_kapi_live = false;
	homa_lib_abandon();
}
