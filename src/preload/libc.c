/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libc.c - where libhoma's own system calls go inside the shim. The shim's
 * copy of libhoma is built from libhoma.a with every interposed name
 * renamed homa_pre_libc_NAME (objcopy, see CMakeLists.txt), so that its
 * calls (on its datapath sockets, its eventfds, the socket pairs behind
 * Homa descriptors) reach the C library directly: never the shim itself,
 * nor another interposer in front of it (a sanitizer runtime).
 */
#define _GNU_SOURCE
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "preload.h"

/* Declare and define homa_pre_libc_NAME forwarding to the next NAME. */
#define HOMA_PRE_LIBC(ret, name, params, args)                                 \
	ret homa_pre_libc_##name params;                                       \
	ret homa_pre_libc_##name params                                        \
	{                                                                      \
		HOMA_PRE_REAL(real, ret(*) params, name);                      \
		return real args;                                              \
	}

HOMA_PRE_LIBC(int, socket, (int d, int t, int p), (d, t, p))
HOMA_PRE_LIBC(int, bind, (int fd, const struct sockaddr *a, socklen_t l),
	      (fd, a, l))
HOMA_PRE_LIBC(int, connect, (int fd, const struct sockaddr *a, socklen_t l),
	      (fd, a, l))
HOMA_PRE_LIBC(ssize_t, sendmsg, (int fd, const struct msghdr *m, int f),
	      (fd, m, f))
HOMA_PRE_LIBC(ssize_t, sendto,
	      (int fd, const void *b, size_t n, int f, const struct sockaddr *a,
	       socklen_t l),
	      (fd, b, n, f, a, l))
HOMA_PRE_LIBC(ssize_t, send, (int fd, const void *b, size_t n, int f),
	      (fd, b, n, f))
HOMA_PRE_LIBC(ssize_t, write, (int fd, const void *b, size_t n), (fd, b, n))
HOMA_PRE_LIBC(int, sendmmsg, (int fd, struct mmsghdr *v, unsigned int n, int f),
	      (fd, v, n, f))
HOMA_PRE_LIBC(ssize_t, recvmsg, (int fd, struct msghdr *m, int f), (fd, m, f))
HOMA_PRE_LIBC(ssize_t, recvfrom,
	      (int fd, void *b, size_t n, int f, struct sockaddr *a,
	       socklen_t *l),
	      (fd, b, n, f, a, l))
HOMA_PRE_LIBC(ssize_t, recv, (int fd, void *b, size_t n, int f), (fd, b, n, f))
HOMA_PRE_LIBC(ssize_t, read, (int fd, void *b, size_t n), (fd, b, n))
HOMA_PRE_LIBC(int, recvmmsg,
	      (int fd, struct mmsghdr *v, unsigned int n, int f,
	       struct timespec *t),
	      (fd, v, n, f, t))
HOMA_PRE_LIBC(int, setsockopt,
	      (int fd, int lv, int o, const void *v, socklen_t l),
	      (fd, lv, o, v, l))
HOMA_PRE_LIBC(int, getsockopt, (int fd, int lv, int o, void *v, socklen_t *l),
	      (fd, lv, o, v, l))
HOMA_PRE_LIBC(int, getsockname, (int fd, struct sockaddr *a, socklen_t *l),
	      (fd, a, l))
HOMA_PRE_LIBC(int, getpeername, (int fd, struct sockaddr *a, socklen_t *l),
	      (fd, a, l))
HOMA_PRE_LIBC(int, shutdown, (int fd, int how), (fd, how))
HOMA_PRE_LIBC(int, close, (int fd), (fd))
HOMA_PRE_LIBC(int, dup, (int fd), (fd))
HOMA_PRE_LIBC(int, dup2, (int a, int b), (a, b))
HOMA_PRE_LIBC(int, dup3, (int a, int b, int f), (a, b, f))
HOMA_PRE_LIBC(int, close_range, (unsigned int a, unsigned int b, int f),
	      (a, b, f))

/* The variadic ones carry one pointer-sized argument at most. */
int homa_pre_libc_ioctl(int fd, unsigned long request, ...);
int homa_pre_libc_ioctl(int fd, unsigned long request, ...)
{
	HOMA_PRE_REAL(real, int (*)(int, unsigned long, ...), ioctl);
	void *arg;

	HOMA_PRE_VA_ARG(arg, request);
	return real(fd, request, arg);
}

int homa_pre_libc_fcntl(int fd, int cmd, ...);
int homa_pre_libc_fcntl(int fd, int cmd, ...)
{
	HOMA_PRE_REAL(real, int (*)(int, int, ...), fcntl);
	void *arg;

	HOMA_PRE_VA_ARG(arg, cmd);
	return real(fd, cmd, arg);
}

int homa_pre_libc_fcntl64(int fd, int cmd, ...);
int homa_pre_libc_fcntl64(int fd, int cmd, ...)
{
	HOMA_PRE_REAL(real, int (*)(int, int, ...), fcntl64);
	void *arg;

	HOMA_PRE_VA_ARG(arg, cmd);
	return real(fd, cmd, arg);
}
