/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * socket.c - the socket calls of libhoma: homa_socket, homa_bind,
 * homa_setsockopt/getsockopt, homa_ioctl, homa_shutdown, homa_close, with
 * the errno of spec/protocol.md 9 for every bad argument.
 *
 * A Homa socket's descriptor is one end of a socketpair; the library keeps
 * the other end to make the descriptor readable (a byte waiting) when a
 * message is ready and unwritable (send buffer filled) while outgoing
 * memory is at its limit, so poll, epoll and select work on it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lib.h"
#include "metrics_shm.h"

/* The Linux API's name for the start of the client ports is the core's. */
_Static_assert(HOMA_MIN_DEFAULT_PORT == HOMA_MIN_CLIENT_PORT,
	       "homa.h and the core agree on the client ports");

#define LOCK(lib)   homa_lib_lock(lib)
#define UNLOCK(lib) homa_lib_unlock(lib)

static int homa_fail(int err)
{
	errno = err < 0 ? -err : err;
	return -1;
}

socklen_t homa_lib_addr_out_slow(const struct homa_lsock *ls,
				 const struct homa_addr *a, uint16_t port,
				 void *sa, socklen_t cap)
{
	struct sockaddr_in6 tmp;
	socklen_t len;

	if (ls->family == AF_INET) {
		len = (socklen_t)homa_dp_sa_from_addr(a, port, &tmp);
	} else {
		memset(&tmp, 0, sizeof(tmp));
		tmp.sin6_family = AF_INET6;
		tmp.sin6_port = htons(port);
		memcpy(&tmp.sin6_addr, a->a, 16);
		len = sizeof(tmp);
	}
	if (sa)
		memcpy(sa, &tmp, len < cap ? len : cap);
	return len;
}

int homa_lib_table(struct homa_lib *lib, int fd)
{
	struct homa_lsock **t;
	int len = lib->socks_len ? lib->socks_len : 256;

	while (len <= fd)
		len *= 2;
	if (len == lib->socks_len)
		return 0;
	t = realloc(lib->socks, (size_t)len * sizeof(*t));
	if (!t)
		return -ENOMEM;
	memset(t + lib->socks_len, 0,
	       (size_t)(len - lib->socks_len) * sizeof(*t));
	lib->socks = t;
	lib->socks_len = len;
	return 0;
}

int homa_socket(int domain)
{
	struct homa_lib *lib;
	struct homa_lsock *ls;
	int sv[2], ret, port, size = 4096;

	if (domain != AF_INET && domain != AF_INET6)
		return homa_fail(EAFNOSUPPORT);
	lib = homa_lib_get();
	if (!lib)
		return -1;
	ls = calloc(1, sizeof(*ls));
	if (!ls)
		return homa_fail(ENOMEM);
	/* Blocking mode of fd is the application's (O_NONBLOCK means
	 * MSG_DONTWAIT, spec 9.2); the library's own I/O on the pair uses
	 * MSG_DONTWAIT. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		ret = -errno;
		goto fail;
	}
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	ls->fd = sv[0];
	ls->peer_fd = sv[1];
	ls->family = domain;
	LOCK(lib);
	ret = homa_lib_table(lib, ls->fd);
	if (ret < 0)
		goto fail_unlock;
	port = lib->dp->ops->port_open(lib->dp, domain == AF_INET ? 4 : 6, 0);
	if (port < 0) {
		ret = port;
		goto fail_unlock;
	}
	ret = homa_sock_open_at(lib->homa, domain == AF_INET ? 4 : 6,
				(uint16_t)port, ls, &ls->hsk);
	if (ret < 0) {
		lib->dp->ops->port_close(lib->dp, (uint16_t)port);
		goto fail_unlock;
	}
	ls->port = (uint16_t)port;
	lib->socks[ls->fd] = ls;
	UNLOCK(lib);
	return ls->fd;

fail_unlock:
	UNLOCK(lib);
	close(sv[0]);
	close(sv[1]);
fail:
	free(ls);
	return homa_fail(ret);
}

int homa_bind(int fd, const struct sockaddr *addr, socklen_t addrlen)
{
	struct homa_lib *lib;
	struct homa_lsock *ls;
	uint16_t port;
	int ret;

	ls = homa_lsock_enter(&lib, fd);
	if (!ls)
		return -1;
	if (!addr)
		ret = -EFAULT;
	else if (addr->sa_family != ls->family)
		ret = -EAFNOSUPPORT;
	else if (addrlen < (ls->family == AF_INET
				    ? sizeof(struct sockaddr_in)
				    : sizeof(struct sockaddr_in6)))
		ret = -EINVAL;
	else if (homa_sock_is_shutdown(ls->hsk))
		ret = -ESHUTDOWN;
	else {
		port = ntohs(((const struct sockaddr_in *)addr)->sin_port);
		ret = 0;
		if (port >= HOMA_MIN_DEFAULT_PORT)
			ret = -EINVAL;
		else if (port && port != ls->port) {
			ret = lib->dp->ops->port_open(
				lib->dp, ls->family == AF_INET ? 4 : 6, port);
			if (ret >= 0) {
				ret = homa_sock_bind(ls->hsk, port);
				if (ret < 0) {
					lib->dp->ops->port_close(lib->dp, port);
				} else {
					lib->dp->ops->port_close(lib->dp,
								 ls->port);
					ls->port = port;
				}
			}
		} else if (port) {
			ret = homa_sock_bind(ls->hsk, port);
		}
	}
	if (ret < 0)
		homa_lsock_error(ls, "bind failed");
	homa_lsock_leave(lib, ls);
	return ret < 0 ? homa_fail(ret) : 0;
}

/* SO_HOMA_RCVBUF: check the region as Linux does, then register it. */
static int homa_set_rcvbuf(struct homa_lsock *ls, const void *optval,
			   socklen_t optlen)
{
	struct homa_rcvbuf_args args;
	int devzero, ret;

	if (optlen != sizeof(args))
		return -EINVAL;
	memcpy(&args, optval, sizeof(args));
	/* Linux first writes at start as a probe (EFAULT if it cannot,
	 * NULL included), then checks the alignment. Here the kernel does
	 * the probing: a 1-byte read from /dev/zero into the region. */
	if (!args.start)
		return -EFAULT;
	devzero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	if (devzero >= 0) {
		ret = (int)read(devzero, (void *)(uintptr_t)args.start, 1);
		close(devzero);
		if (ret < 0 && errno == EFAULT)
			return -EFAULT;
	}
	if (args.start & 4095)
		return -EINVAL;
	return homa_sock_set_rcvbuf(ls->hsk, (uint8_t *)(uintptr_t)args.start,
				    args.length);
}

/* SO_RCVTIMEO (level SOL_SOCKET): a receive timeout, as for sockets. */
static int homa_set_rcvtimeo(struct homa_lsock *ls, const void *optval,
			     socklen_t optlen)
{
	struct timeval tv;

	if (!optval)
		return -EFAULT;
	if (optlen < sizeof(tv))
		return -EINVAL;
	memcpy(&tv, optval, sizeof(tv));
	if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000)
		return -EDOM;
	ls->rcvtimeo_ns = (uint64_t)tv.tv_sec * 1000000000ull +
			  (uint64_t)tv.tv_usec * 1000ull;
	return 0;
}

int homa_setsockopt(int fd, int level, int optname, const void *optval,
		    socklen_t optlen)
{
	struct homa_lib *lib;
	struct homa_lsock *ls;
	int ret, on;

	ls = homa_lsock_enter(&lib, fd);
	if (!ls)
		return -1;
	if (level == SOL_SOCKET && optname == SO_RCVTIMEO) {
		ret = homa_set_rcvtimeo(ls, optval, optlen);
	} else if (level != IPPROTO_HOMA)
		ret = -ENOPROTOOPT;
	else if (optname != SO_HOMA_RCVBUF && optname != SO_HOMA_SERVER)
		ret = -ENOPROTOOPT;
	else if (!optval)
		ret = -EFAULT;
	else if (optname == SO_HOMA_RCVBUF)
		ret = homa_set_rcvbuf(ls, optval, optlen);
	else if (optlen != sizeof(int))
		ret = -EINVAL;
	else {
		memcpy(&on, optval, sizeof(on));
		ret = homa_sock_set_server(ls->hsk, on != 0);
	}
	if (ret < 0)
		homa_lsock_error(ls, "setsockopt failed");
	homa_lsock_leave(lib, ls);
	return ret < 0 ? homa_fail(ret) : 0;
}

int homa_getsockopt(int fd, int level, int optname, void *optval,
		    socklen_t *optlen)
{
	struct homa_lib *lib;
	struct homa_rcvbuf_args args;
	struct homa_lsock *ls;
	uint8_t *region;
	uint64_t bytes;
	int ret = 0, on;

	ls = homa_lsock_enter(&lib, fd);
	if (!ls)
		return -1;
	if (level != IPPROTO_HOMA ||
	    (optname != SO_HOMA_RCVBUF && optname != SO_HOMA_SERVER))
		ret = -ENOPROTOOPT;
	else if (!optval || !optlen)
		ret = -EFAULT;
	else if (optname == SO_HOMA_RCVBUF) {
		if (*optlen < sizeof(args)) {
			ret = -EINVAL;
		} else {
			homa_sock_get_rcvbuf(ls->hsk, &region, &bytes);
			args.start = (uint64_t)(uintptr_t)region;
			args.length = bytes;
			memcpy(optval, &args, sizeof(args));
			*optlen = sizeof(args);
		}
	} else if (*optlen < sizeof(int)) {
		ret = -EINVAL;
	} else {
		on = homa_sock_is_server(ls->hsk);
		memcpy(optval, &on, sizeof(on));
		*optlen = sizeof(int);
	}
	homa_lsock_leave(lib, ls);
	return ret < 0 ? homa_fail(ret) : 0;
}

static int homa_ioctl_info(struct homa_lsock *ls, struct homa_info *info)
{
	struct homa_rpc_info *out = (void *)(uintptr_t)info->rpc_info;
	size_t max = info->rpc_info_length / sizeof(struct homa_rpc_info);
	struct homa_rpc_view *views = NULL;
	uint64_t avail = 0;
	int n;

	if (max && !out)
		return -EFAULT;
	if (max) {
		views = calloc(max, sizeof(*views));
		if (!views)
			return -ENOMEM;
	}
	n = homa_sock_info(ls->hsk, views, (int)max, &avail);
	if (n < 0) {
		free(views);
		return n;
	}
	for (size_t i = 0; i < max && i < (size_t)n; i++) {
		struct homa_rpc_info *r = &out[i];
		const struct homa_rpc_view *v = &views[i];

		memset(r, 0, sizeof(*r));
		r->id = v->id;
		homa_lib_addr_out(ls, &v->peer, v->peer_port, &r->peer,
				  sizeof(r->peer));
		r->completion_cookie = v->cookie;
		r->tx_length = v->tx_length;
		r->tx_sent = v->tx_sent;
		r->tx_granted = v->tx_granted;
		r->tx_prio = v->tx_prio;
		r->rx_length = v->rx_length;
		r->rx_remaining = v->rx_remaining;
		r->rx_gaps = v->rx_gaps;
		r->rx_gap_bytes = v->rx_gap_bytes;
		r->rx_granted = v->rx_granted;
		r->flags = v->flags; /* same bit values as HOMA_RPC_* */
	}
	free(views);
	info->bpool_avail_bytes = avail;
	info->port = ls->port;
	info->num_rpcs = (uint32_t)n;
	memcpy(info->error_msg, ls->error_msg, sizeof(info->error_msg));
	return 0;
}

int homa_ioctl(int fd, unsigned long request, void *arg)
{
	struct homa_lib *lib;
	struct homa_abort_args abort_args;
	struct homa_lsock *ls;
	int ret;

	ls = homa_lsock_enter(&lib, fd);
	if (!ls)
		return -1;
	if (request == HOMAIOCFREEZE) {
		ret = 0; /* no timetrace to freeze */
	} else if (request != HOMAIOCINFO && request != HOMAIOCABORT) {
		ret = -EINVAL;
	} else if (!arg) {
		ret = -EFAULT;
	} else if (request == HOMAIOCINFO) {
		ret = homa_ioctl_info(ls, arg);
	} else {
		memcpy(&abort_args, arg, sizeof(abort_args));
		if (abort_args._pad1 || abort_args._pad2[0] ||
		    abort_args._pad2[1])
			ret = -EINVAL;
		else
			ret = homa_abort(ls->hsk, abort_args.id,
					 (int)abort_args.error, homa_lib_now());
		/* An RPC taken away unseen may leave nothing readable
		 * (sendmsg and recvmsg look only at what they change). */
		homa_lsock_sync(ls);
		homa_lib_after_op(lib);
	}
	homa_lsock_leave(lib, ls);
	return ret < 0 ? homa_fail(ret) : 0;
}

int homa_shutdown(int fd, int how)
{
	struct homa_lib *lib;
	struct homa_lsock *ls;

	(void)how;
	ls = homa_lsock_enter(&lib, fd);
	if (!ls)
		return -1;
	homa_sock_shutdown(ls->hsk, homa_lib_now());
	homa_lsock_sync(ls);
	homa_lib_after_op(lib);
	homa_lib_wake_waiters(lib);
	homa_lsock_leave(lib, ls);
	return 0;
}

int homa_close(int fd)
{
	struct homa_lib *lib;
	struct homa_lsock *ls;

	ls = homa_lsock_enter(&lib, fd);
	if (!ls)
		return -1;
	homa_sock_shutdown(ls->hsk, homa_lib_now());
	ls->closing = true;
	homa_lib_wake_waiters(lib);
	ls->users--;
	while (ls->users > 0) {
		/* Threads still inside a call on it were woken (shutdown)
		 * and leave soon: look again shortly. */
		struct timespec ts = { 0, 50000 };

		UNLOCK(lib);
		nanosleep(&ts, NULL);
		LOCK(lib);
	}
	lib->socks[fd] = NULL;
	homa_lib_sync_pending(lib); /* ls must leave the pending list */
	homa_sock_close(ls->hsk, homa_lib_now());
	/* Freeing its RPCs may have made the socket writable, and the wake
	 * put ls back on the list: the core socket is gone now. */
	homa_lib_sync_forget(lib, ls);
	lib->dp->ops->port_close(lib->dp, ls->port);
	homa_lib_after_op(lib);
	UNLOCK(lib);
	close(ls->fd);
	close(ls->peer_fd);
	if (ls->own_region)
		munmap(ls->own_region, ls->own_region_bytes);
	free(ls);
	return 0;
}

int homa_metrics_read(void (*fn)(void *arg, const char *name, uint64_t value),
		      void *arg)
{
	struct homa_lib *lib = fn ? homa_lib_get() : NULL;
	uint64_t v[HOMA_METRIC_ALL];

	if (!fn) {
		errno = EFAULT;
		return -1;
	}
	if (!lib)
		return -1;
	homa_lib_metrics_snapshot(lib, v);
	/* The counters of the table of metrics.h (core, then datapath). */
	for (int i = 0; i < HOMA_METRIC_COUNTERS; i++)
		fn(arg, homa_metrics_name(i), v[i]);
	return HOMA_METRIC_COUNTERS;
}
