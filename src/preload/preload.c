/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * preload.c - the socket calls of libhoma-preload.so on Homa descriptors:
 * socket, bind, connect, sendmsg/sendto/send/write, recvmsg/recvfrom/
 * recv/read, the mmsg forms, setsockopt/getsockopt, ioctl, getsockname,
 * getpeername and shutdown, each with the kernel module's errno (spec
 * 9). Descriptors: preload_fd.c.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "homa.h"
#include "kapi.h"
#include "preload.h"

uint8_t homa_pre_fds[HOMA_PRE_MAX_FDS];
int homa_pre_top = -1;
bool homa_pre_debug;

static int homa_pre_fail(int err)
{
	errno = err;
	return -1;
}

void *homa_pre_next(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (!p) {
		fprintf(stderr, "homa-preload: no next definition of %s\n",
			name);
		abort();
	}
	return p;
}

void homa_pre_mark(int fd, enum homa_pre_kind kind)
{
	int top = __atomic_load_n(&homa_pre_top, __ATOMIC_RELAXED);

	if (fd < 0 || fd >= HOMA_PRE_MAX_FDS)
		return;
	__atomic_store_n(&homa_pre_fds[fd], (uint8_t)kind, __ATOMIC_RELAXED);
	while (kind != HOMA_PRE_NONE && fd > top &&
	       !__atomic_compare_exchange_n(&homa_pre_top, &top, fd, false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

int homa_pre_stale(const char *call, int fd)
{
	if (homa_pre_debug)
		fprintf(stderr,
			"homa-preload: %s(%d): this Homa socket belongs to "
			"the parent process; a forked child cannot use it "
			"(EBADF); open a new one\n",
			call, fd);
	return homa_pre_fail(EBADF);
}

/* The shim's verdict on fd for call: 1 = Homa, 0 = libc,
 * -1 = inherited across fork (errno EBADF set). */
static int homa_pre_route(const char *call, int fd)
{
	int kind = homa_pre_kind(fd);

	if (kind == HOMA_PRE_SOCK)
		return 1;
	if (kind == HOMA_PRE_STALE)
		return homa_pre_stale(call, fd);
	return 0;
}

int socket(int domain, int type, int protocol)
{
	HOMA_PRE_REAL(real, int (*)(int, int, int), socket);
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), fd;

	if (protocol != IPPROTO_HOMA || base != SOCK_DGRAM ||
	    (domain != AF_INET && domain != AF_INET6))
		return real(domain, type, protocol);
	fd = homa_kapi_socket(domain, type);
	if (fd >= HOMA_PRE_MAX_FDS) {
		homa_kapi_close(fd);
		return homa_pre_fail(EMFILE);
	}
	if (fd >= 0)
		homa_pre_mark(fd, HOMA_PRE_SOCK);
	if (homa_pre_debug)
		fprintf(stderr,
			"homa-preload: socket(%s, SOCK_DGRAM, IPPROTO_HOMA) = "
			"%d on libhoma%s%s\n",
			domain == AF_INET ? "AF_INET" : "AF_INET6", fd,
			fd < 0 ? ": " : "", fd < 0 ? strerror(errno) : "");
	return fd;
}

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	HOMA_PRE_REAL(real, int (*)(int, const struct sockaddr *, socklen_t),
		      bind);
	int r = homa_pre_route("bind", fd);

	if (r == 0)
		return real(fd, addr, len);
	return r < 0 ? -1 : homa_bind(fd, addr, len);
}

/* The kernel's datagram connect: checks the address, then Homa ignores
 * it (sendmsg always names the destination). */
static int homa_pre_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_in6 self;
	socklen_t self_len = sizeof(self);

	if (!addr)
		return homa_pre_fail(len ? EFAULT : EINVAL);
	if (len < sizeof(sa_family_t))
		return homa_pre_fail(EINVAL);
	if (addr->sa_family == AF_UNSPEC)
		return 0;
	if (homa_kapi_getsockname(fd, (struct sockaddr *)&self, &self_len) < 0)
		return -1;
	if (len < (self.sin6_family == AF_INET ? sizeof(struct sockaddr_in)
					       : sizeof(struct sockaddr_in6)))
		return homa_pre_fail(EINVAL);
	if (addr->sa_family != self.sin6_family)
		return homa_pre_fail(EAFNOSUPPORT);
	return 0;
}

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	HOMA_PRE_REAL(real, int (*)(int, const struct sockaddr *, socklen_t),
		      connect);
	int r = homa_pre_route("connect", fd);

	if (r == 0)
		return real(fd, addr, len);
	return r < 0 ? -1 : homa_pre_connect(fd, addr, len);
}

/* sendmsg in the kernel's order: the system call's own checks, then
 * Homa's (no destination, a control that is not the user's pointer). */
static ssize_t homa_pre_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (!msg)
		return homa_pre_fail(EFAULT);
	if (msg->msg_iovlen > 1024)
		return homa_pre_fail(EMSGSIZE);
	if (!msg->msg_name || msg->msg_controllen)
		return homa_pre_fail(EINVAL);
	return homa_sendmsg(fd, msg, flags);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	HOMA_PRE_REAL(real, ssize_t(*)(int, const struct msghdr *, int),
		      sendmsg);
	int r = homa_pre_route("sendmsg", fd);

	if (r == 0) {
		homa_pre_scan_rights(msg);
		return real(fd, msg, flags);
	}
	return r < 0 ? -1 : homa_pre_sendmsg(fd, msg, flags);
}

static ssize_t homa_pre_recvmsg(int fd, struct msghdr *msg, int flags)
{
	if (!msg)
		return homa_pre_fail(EFAULT);
	if (msg->msg_iovlen > 1024)
		return homa_pre_fail(EMSGSIZE);
	return homa_recvmsg(fd, msg, flags);
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	HOMA_PRE_REAL(real, ssize_t(*)(int, struct msghdr *, int), recvmsg);
	int r = homa_pre_route("recvmsg", fd);

	if (r == 0)
		return real(fd, msg, flags);
	return r < 0 ? -1 : homa_pre_recvmsg(fd, msg, flags);
}

/*
 * The calls without a control block: Homa has nowhere to find its
 * homa_sendmsg_args or homa_recvmsg_args, and the kernel module fails
 * them with EINVAL (no destination, or no control).
 */
ssize_t sendto(int fd, const void *buf, size_t len, int flags,
	       const struct sockaddr *addr, socklen_t alen)
{
	HOMA_PRE_REAL(real,
		      ssize_t(*)(int, const void *, size_t, int,
				 const struct sockaddr *, socklen_t),
		      sendto);
	int r = homa_pre_route("sendto", fd);

	if (r == 0)
		return real(fd, buf, len, flags, addr, alen);
	return r < 0 ? -1 : homa_pre_fail(EINVAL);
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	HOMA_PRE_REAL(real, ssize_t(*)(int, const void *, size_t, int), send);
	int r = homa_pre_route("send", fd);

	if (r == 0)
		return real(fd, buf, len, flags);
	return r < 0 ? -1 : homa_pre_fail(EINVAL);
}

ssize_t write(int fd, const void *buf, size_t len)
{
	HOMA_PRE_REAL(real, ssize_t(*)(int, const void *, size_t), write);
	int r = homa_pre_route("write", fd);

	if (r == 0)
		return real(fd, buf, len);
	return r < 0 ? -1 : homa_pre_fail(EINVAL);
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
		 struct sockaddr *addr, socklen_t *alen)
{
	HOMA_PRE_REAL(real,
		      ssize_t(*)(int, void *, size_t, int, struct sockaddr *,
				 socklen_t *),
		      recvfrom);
	int r = homa_pre_route("recvfrom", fd);

	if (r == 0)
		return real(fd, buf, len, flags, addr, alen);
	return r < 0 ? -1 : homa_pre_fail(EINVAL);
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	HOMA_PRE_REAL(real, ssize_t(*)(int, void *, size_t, int), recv);
	int r = homa_pre_route("recv", fd);

	if (r == 0)
		return real(fd, buf, len, flags);
	return r < 0 ? -1 : homa_pre_fail(EINVAL);
}

ssize_t read(int fd, void *buf, size_t len)
{
	HOMA_PRE_REAL(real, ssize_t(*)(int, void *, size_t), read);
	int r = homa_pre_route("read", fd);

	if (r == 0)
		return real(fd, buf, len);
	return r < 0 ? -1 : homa_pre_fail(EINVAL);
}

/* sendmmsg/recvmmsg: one sendmsg/recvmsg per entry, as the kernel does;
 * after the first, receiving does not wait. */
int sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	HOMA_PRE_REAL(real, int (*)(int, struct mmsghdr *, unsigned int, int),
		      sendmmsg);
	int r = homa_pre_route("sendmmsg", fd);
	unsigned int i;

	if (r == 0) {
		for (i = 0; v && i < n && i < 1024; i++)
			homa_pre_scan_rights(&v[i].msg_hdr);
		return real(fd, v, n, flags);
	}
	if (r < 0)
		return -1;
	for (i = 0; i < n && i < 1024; i++) {
		if (homa_pre_sendmsg(fd, &v[i].msg_hdr, flags) < 0)
			return i ? (int)i : -1;
		v[i].msg_len = 0;
	}
	return (int)i;
}

int recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags,
	     struct timespec *timeout)
{
	HOMA_PRE_REAL(real,
		      int (*)(int, struct mmsghdr *, unsigned int, int,
			      struct timespec *),
		      recvmmsg);
	int r = homa_pre_route("recvmmsg", fd);
	unsigned int i;

	if (r == 0)
		return real(fd, v, n, flags, timeout);
	if (r < 0)
		return -1;
	for (i = 0; i < n && i < 1024; i++) {
		ssize_t len = homa_pre_recvmsg(fd, &v[i].msg_hdr,
					       flags | (i ? MSG_DONTWAIT : 0));

		if (len < 0)
			return i ? (int)i : -1;
		v[i].msg_len = (unsigned int)len;
	}
	return (int)i;
}

/*
 * SO_HOMA_RCVBUF: the checks the kernel makes beyond libhoma's, once
 * libhoma's own would pass (its order: length, EFAULT probe of the start,
 * alignment): the kernel's minimum of one bpage per CPU plus two largest
 * messages (EINVAL), and a region mapped throughout (EFAULT: the kernel
 * would fail each message written there later; here the core would fault).
 */
static int homa_pre_rcvbuf_check(const void *optval, socklen_t optlen)
{
	struct homa_rcvbuf_args args;
	long ncpus = sysconf(_SC_NPROCESSORS_CONF);
	unsigned char *vec;
	size_t pages;
	int ret;

	if (optlen != sizeof(args) || !optval)
		return 0;
	memcpy(&args, optval, sizeof(args));
	if (!args.start || (args.start & 4095) || args.length > (1ull << 32))
		return 0;
	if (args.length < (uint64_t)(ncpus > 0 ? ncpus : 1) * HOMA_BPAGE_SIZE +
				  2ull * HOMA_MAX_MESSAGE_LENGTH)
		return -EINVAL;
	pages = (args.length + 4095) / 4096;
	vec = malloc(pages);
	if (!vec)
		return -ENOMEM;
	ret = mincore((void *)(uintptr_t)args.start, args.length, vec);
	free(vec);
	return ret < 0 && errno == ENOMEM ? -EFAULT : 0;
}

static int homa_pre_setsockopt(int fd, int level, int name, const void *val,
			       socklen_t len)
{
	HOMA_PRE_REAL(real, int (*)(int, int, int, const void *, socklen_t),
		      setsockopt);
	int ret;

	if (level == SOL_SOCKET && name != SO_RCVTIMEO)
		return real(fd, level, name, val, len); /* generic options */
	if (level == IPPROTO_HOMA && name == SO_HOMA_RCVBUF) {
		ret = homa_pre_rcvbuf_check(val, len);
		if (ret < 0)
			return homa_pre_fail(-ret);
	}
	ret = homa_setsockopt(fd, level, name, val, len);
	if (ret == 0 && level == SOL_SOCKET)
		real(fd, level, name, val, len); /* getsockopt reads it */
	return ret;
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	HOMA_PRE_REAL(real, int (*)(int, int, int, const void *, socklen_t),
		      setsockopt);
	int r = homa_pre_route("setsockopt", fd);

	if (r == 0)
		return real(fd, level, name, val, len);
	return r < 0 ? -1 : homa_pre_setsockopt(fd, level, name, val, len);
}

/* getsockopt at SOL_SOCKET: what identifies the socket is Homa's; the
 * rest is the descriptor's own. */
static int homa_pre_getsockopt(int fd, int level, int name, void *val,
			       socklen_t *len)
{
	HOMA_PRE_REAL(real, int (*)(int, int, int, void *, socklen_t *),
		      getsockopt);
	struct sockaddr_in6 self;
	socklen_t self_len = sizeof(self);
	int v;

	if (level != SOL_SOCKET)
		return homa_getsockopt(fd, level, name, val, len);
	if (name != SO_TYPE && name != SO_DOMAIN && name != SO_PROTOCOL &&
	    name != SO_ERROR)
		return real(fd, level, name, val, len);
	if (!val || !len)
		return homa_pre_fail(EFAULT);
	if (homa_kapi_getsockname(fd, (struct sockaddr *)&self, &self_len) < 0)
		return -1;
	v = name == SO_TYPE	  ? SOCK_DGRAM
	    : name == SO_DOMAIN	  ? self.sin6_family
	    : name == SO_PROTOCOL ? IPPROTO_HOMA
				  : 0;
	if (*len > sizeof(v))
		*len = sizeof(v);
	memcpy(val, &v, *len);
	return 0;
}

int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	HOMA_PRE_REAL(real, int (*)(int, int, int, void *, socklen_t *),
		      getsockopt);
	int r = homa_pre_route("getsockopt", fd);

	if (r == 0)
		return real(fd, level, name, val, len);
	return r < 0 ? -1 : homa_pre_getsockopt(fd, level, name, val, len);
}

int ioctl(int fd, unsigned long request, ...)
{
	HOMA_PRE_REAL(real, int (*)(int, unsigned long, ...), ioctl);
	int r = homa_pre_route("ioctl", fd);
	void *arg;

	HOMA_PRE_VA_ARG(arg, request);
	/* The descriptor's own requests (handled by the VFS before the
	 * socket sees them) stay with it; FIONBIO's O_NONBLOCK is recorded
	 * for libhoma like fcntl's (homa_kapi_fionbio). */
	if (r > 0 && request == FIONBIO && arg)
		return homa_kapi_fionbio(fd, *(const int *)arg);
	if (r == 0 || request == FIONBIO || request == FIOCLEX ||
	    request == FIONCLEX || request == FIOASYNC)
		return r < 0 ? -1 : real(fd, request, arg);
	return r < 0 ? -1 : homa_ioctl(fd, request, arg);
}

int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	HOMA_PRE_REAL(real, int (*)(int, struct sockaddr *, socklen_t *),
		      getsockname);
	int r = homa_pre_route("getsockname", fd);

	if (r == 0)
		return real(fd, addr, len);
	return r < 0 ? -1 : homa_kapi_getsockname(fd, addr, len);
}

int getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	HOMA_PRE_REAL(real, int (*)(int, struct sockaddr *, socklen_t *),
		      getpeername);
	int r = homa_pre_route("getpeername", fd);

	if (r == 0)
		return real(fd, addr, len);
	return r < 0 ? -1 : homa_pre_fail(ENOTCONN);
}

int shutdown(int fd, int how)
{
	HOMA_PRE_REAL(real, int (*)(int, int), shutdown);
	int r = homa_pre_route("shutdown", fd);

	if (r == 0)
		return real(fd, how);
	return r < 0 ? -1 : homa_shutdown(fd, how);
}
