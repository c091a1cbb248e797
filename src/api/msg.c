/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msg.c - sending and receiving: homa_sendmsg and homa_recvmsg with the
 * argument rules and errno of spec/protocol.md 9.2-9.3, blocking through
 * homa_lib_wait (the waiting thread drives the datapath itself), and the
 * convenience calls homa_request, homa_reply and homa_receive.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lib.h"

#define HOMA_IOV_STACK 16

static ssize_t homa_fail(int err)
{
	errno = err < 0 ? -err : err;
	return -1;
}

/*
 * The end of a call on ls. The descriptor's readiness is brought up to
 * date only where the call may have changed it without the core waking
 * the socket: the core wakes it whenever it becomes readable or writable
 * (homa_lib_wake, then homa_lib_sync_pending in the leave), so a call
 * needs to look only at what it can take away itself: a receive its
 * readability (only if the descriptor says readable), a send that
 * succeeded its room (only if the descriptor says writable). A failed
 * call, and most calls of a ping-pong, ask the core nothing.
 */
static inline __attribute__((always_inline)) void
homa_leave(struct homa_lib *lib, struct homa_lsock *ls, bool took_room)
{
	if (ls->readable_set ||
	    (took_room && !ls->unwritable && !homa_sock_writable(ls->hsk)))
		homa_lsock_sync(ls);
	homa_lsock_leave(lib, ls);
}

/* Before a wait: the readiness of every socket the core woke (this
 * call's own failed attempt took nothing away, see homa_leave). */
static void homa_presleep_sync(struct homa_lib *lib)
{
	if (lib->sync_head)
		homa_lib_sync_pending(lib);
}

/* Validate msg for sendmsg and convert its parts. */
/*
 * The checks every send makes first, in Linux's order: the flags, then
 * the address (into *dst, sa->dport); then sa's destination and flags
 * are set. 0 or a negative errno.
 */
static inline __attribute__((always_inline)) int
homa_send_target(const struct homa_lsock *ls, uint32_t flags,
		 const struct sockaddr *to, socklen_t tolen,
		 struct homa_addr *dst, struct homa_send_args *sa)
{
	int ret;

	if (flags & ~(uint32_t)HOMA_SENDMSG_VALID_FLAGS)
		return -EINVAL;
	ret = homa_lib_addr_in(ls, to, tolen, dst, &sa->dport);
	if (ret < 0)
		return ret;
	sa->dst = dst;
	sa->flags = flags & HOMA_SENDMSG_PRIVATE ? HOMA_SEND_PRIVATE : 0;
	if (flags & HOMA_SENDMSG_NOCOPY) /* the core checks it is a request */
		sa->flags |= HOMA_SEND_BORROW;
	return 0;
}

static int homa_send_prepare(const struct homa_lsock *ls,
			     const struct msghdr *msg,
			     struct homa_sendmsg_args *args,
			     struct homa_send_args *sa, struct homa_addr *dst)
{
	int ret;

	/* Linux's order: the control must be a user pointer (controllen
	 * 0), readable (NULL is EFAULT), then the address is checked. */
	if (!msg)
		return -EFAULT;
	if (msg->msg_controllen != 0)
		return -EINVAL;
	if (!msg->msg_control)
		return -EFAULT;
	if (!msg->msg_name)
		return -EINVAL;
	memcpy(args, msg->msg_control, sizeof(*args));
	if (args->reserved)
		return -EINVAL;
	ret = homa_send_target(ls, args->flags, msg->msg_name, msg->msg_namelen,
			       dst, sa);
	if (ret < 0)
		return ret;
	if (msg->msg_iovlen > 1024)
		return -EINVAL;
	if (msg->msg_iovlen && !msg->msg_iov)
		return -EFAULT;
	for (size_t i = 0; i < msg->msg_iovlen; i++)
		if (!msg->msg_iov[i].iov_base && msg->msg_iov[i].iov_len)
			return -EFAULT;
	sa->id = args->id;
	sa->cookie = args->completion_cookie;
	return 0;
}

/*
 * Whether a call that would block must fail with EAGAIN instead:
 * MSG_DONTWAIT, or O_NONBLOCK on the descriptor (spec 9.2, 9.3). The
 * application may change O_NONBLOCK at any time with fcntl, which the
 * library does not see, and reading it is a system call. So the call
 * trusts the value last read (ls->blocking_seen) only to go on waiting: the
 * flag is read again before the thread would sleep (homa_lib_wait
 * returns -EAGAIN then) and whenever the last value said non-blocking.
 * A call on a descriptor that was just made non-blocking may therefore
 * busy-poll for up to poll_usecs before its EAGAIN; no call ever sleeps
 * with O_NONBLOCK set, nor fails without it. A kernel-API socket's flag
 * changes only through the preload shim, which records it (nb_track):
 * read there, without a system call, before each sleep too.
 */
static bool homa_dontwait_read(struct homa_lsock *ls)
{
	ls->blocking_seen = homa_lib_fd_nonblock(ls->fd) == 0;
	return !ls->blocking_seen;
}

/* Inline: every receive that finds nothing asks (the fcntl is out of
 * line). */
static inline __attribute__((always_inline)) bool
homa_dontwait(struct homa_lsock *ls, int flags)
{
	uint8_t nb = __atomic_load_n(&ls->nb_track, __ATOMIC_RELAXED);

	if (flags & MSG_DONTWAIT)
		return true;
	if (nb != HOMA_LSOCK_NB_READ)
		return nb == HOMA_LSOCK_NB_SET;
	if (ls->blocking_seen)
		return false;
	return homa_dontwait_read(ls);
}

/* After a wait: remember what it read of O_NONBLOCK. */
static void homa_waited(struct homa_lsock *ls, const struct homa_lib_waitctx *w)
{
	if (w->nonblock >= 0)
		ls->blocking_seen = !w->nonblock;
}

/*
 * Send the message of sa on ls (entered through fd): waits while the
 * core has no room, unless the call must not block. 0 or a negative
 * errno.
 */
static inline __attribute__((always_inline)) int
homa_send_wait(struct homa_lib *lib, struct homa_lsock *ls, int fd,
	       struct homa_send_args *sa, int flags)
{
	struct homa_lib_waitctx w;
	uint64_t now_end = 0; /* the last send's clock read, ns */
	bool waiting = false;
	int ret;

	ret = ls->has_region ? 0 : homa_lsock_ensure_region(lib, ls);
	while (ret == 0) {
		uint64_t now = waiting ? w.now : homa_lib_now();

		ret = homa_send(ls->hsk, sa, now);
		if (ret == 0 && (sa->flags & HOMA_SEND_CHUNKED))
			now = homa_lib_send_chunks(lib, ls, sa, now);
		now_end = now;
		homa_lib_after_msg(lib, ls, ret == 0, true, now);
		if (ret != -EAGAIN || (!waiting && homa_dontwait(ls, flags)))
			break;
		homa_presleep_sync(lib);
		if (!waiting) {
			homa_lib_wait_init(lib, &w, fd, &ls->nb_track, now);
			waiting = true;
		}
		w.now = now;
		ret = homa_lib_wait(lib, 0, &w);
		homa_waited(ls, &w);
	}
	if (waiting)
		homa_lib_wait_done(&w);
	/* A reply has left (or waits corked): now end the RPC whose ack
	 * came with its request (homa_end_acked). */
	if (ret == 0 && (sa->id & 1))
		homa_end_acked(lib->homa, now_end);
	return ret;
}

/* The end of a send on ls: ret 0 or a negative errno (set). */
static inline __attribute__((always_inline)) int
homa_send_leave(struct homa_lib *lib, struct homa_lsock *ls, int ret)
{
	if (ret < 0)
		homa_lsock_error(ls, "sendmsg failed");
	homa_leave(lib, ls, ret == 0);
	return ret < 0 ? (int)homa_fail(ret) : 0;
}

ssize_t homa_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct homa_iov stack_iov[HOMA_IOV_STACK], *iov = stack_iov;
	struct homa_sendmsg_args args;
	struct homa_send_args sa;
	struct homa_addr dst;
	struct homa_lsock *ls;
	struct homa_lib *lib;
	int ret;

	ls = homa_lsock_enter(&lib, fd);
	if (!ls)
		return -1;
	ret = homa_send_prepare(ls, msg, &args, &sa, &dst);
	if (ret < 0)
		goto out;
	if (msg->msg_iovlen > HOMA_IOV_STACK) {
		iov = malloc(msg->msg_iovlen * sizeof(*iov));
		if (!iov) {
			ret = -ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0, total = 0; i < msg->msg_iovlen; i++) {
		iov[i].base = msg->msg_iov[i].iov_base;
		iov[i].bytes = msg->msg_iov[i].iov_len;
		total += iov[i].bytes;
		if (total >= HOMA_LIB_CHUNK_MIN) /* homa_lib_send_chunks */
			sa.flags |= HOMA_SEND_CHUNKED;
	}
	/* NOCOPY: a message of one piece is lent, not copied; one of several
	 * is copied as usual (a reply still fails in the core). */
	if ((sa.flags & HOMA_SEND_BORROW) && (msg->msg_iovlen == 1 || args.id))
		sa.flags &= ~(uint32_t)HOMA_SEND_CHUNKED;
	else
		sa.flags &= ~(uint32_t)HOMA_SEND_BORROW;
	sa.iov = iov;
	sa.iov_count = (int)msg->msg_iovlen;
	ret = homa_send_wait(lib, ls, fd, &sa, flags);
	if (ret == 0 && args.id == 0) {
		args.id = sa.id;
		memcpy(msg->msg_control, &args, sizeof(args));
	}
	if (iov != stack_iov)
		free(iov);
out:
	return homa_send_leave(lib, ls, ret);
}

/*
 * homa_request and homa_reply: homa_sendmsg of one buffer, without
 * building its msghdr and reading it back. The same checks in the same
 * order as homa_send_prepare (homa_send_target, then the buffer).
 */
static inline __attribute__((always_inline)) int
homa_send_buf(int fd, const void *buf, size_t length, const struct sockaddr *to,
	      socklen_t tolen, struct homa_send_args *sa, uint32_t flags)
{
	struct homa_iov iov = { buf, length };
	struct homa_addr dst;
	struct homa_lsock *ls;
	struct homa_lib *lib;
	int ret;

	ls = homa_lsock_enter(&lib, fd);
	if (!ls)
		return -1;
	ret = homa_send_target(ls, flags, to, tolen, &dst, sa);
	if (ret < 0)
		goto out;
	ret = -EFAULT;
	if (!buf && length)
		goto out;
	sa->iov = &iov;
	sa->iov_count = 1;
	if (length >= HOMA_LIB_CHUNK_MIN && !(sa->flags & HOMA_SEND_BORROW))
		sa->flags |= HOMA_SEND_CHUNKED; /* homa_lib_send_chunks */
	ret = homa_send_wait(lib, ls, fd, sa, 0);
out:
	return homa_send_leave(lib, ls, ret);
}

/* Claim the right to wait for private RPC id (one waiter each). */
static int homa_private_claim(struct homa_lsock *ls, uint64_t id)
{
	int free_slot = -1;

	for (int i = 0; i < HOMA_LIB_PRIVATE_WAITERS; i++) {
		if (ls->private_waits[i] == id)
			return -EINVAL;
		if (!ls->private_waits[i] && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		return -EAGAIN;
	ls->private_waits[free_slot] = id;
	return free_slot;
}

/* Receive into the core's args, waiting unless MSG_DONTWAIT. */
static int homa_recv_wait(struct homa_lib *lib, struct homa_lsock *ls,
			  struct homa_recv_args *ra, int flags)
{
	uint64_t want = ra->id, deadline = 0;
	struct homa_lib_waitctx w;
	bool waiting = false;
	int ret, slot = -1;

	if (want) {
		slot = homa_private_claim(ls, want);
		if (slot < 0)
			return slot;
	}
	for (;;) {
		/* One clock read per attempt: the core, the timeout and the
		 * spin budget all start from it; after a wait, the wait's
		 * last read. */
		uint64_t now = waiting ? w.now : homa_lib_now();

		if (ls->rcvtimeo_ns && !deadline)
			deadline = now + ls->rcvtimeo_ns;
		ra->id = want;
		ret = homa_recv(ls->hsk, ra, now);
		homa_lib_after_msg(lib, ls, ret >= 0, false, now);
		if (ret != -EAGAIN || (!waiting && homa_dontwait(ls, flags)))
			break;
		if (deadline && now >= deadline)
			break; /* SO_RCVTIMEO: EAGAIN */
		homa_presleep_sync(lib);
		if (!waiting) {
			/* Signals: see struct homa_lib_waitctx. */
			homa_lib_wait_init(lib, &w, ls->fd, &ls->nb_track, now);
			waiting = true;
		}
		w.now = now;
		ret = homa_lib_wait(lib, deadline, &w);
		homa_waited(ls, &w);
		if (ret < 0)
			break; /* -EINTR, or -EAGAIN: O_NONBLOCK */
	}
	if (waiting)
		homa_lib_wait_done(&w);
	if (slot >= 0)
		ls->private_waits[slot] = 0;
	return ret;
}

/* The fixed part of homa_recvmsg_args, before its bpage offsets: only
 * the offsets in use (num_bpages) are read and written, as the kernel's
 * copy leaves the others as the caller passed them. */
#define HOMA_RECVMSG_HDR offsetof(struct homa_recvmsg_args, bpage_offsets)

ssize_t homa_recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct homa_recvmsg_args args;
	struct homa_recv_args ra;
	struct homa_lsock *ls;
	struct homa_lib *lib;
	uint8_t *offsets;
	int ret;

	ls = homa_lsock_enter(&lib, fd);
	if (!ls)
		return -1;
	if (!msg) {
		ret = -EFAULT;
		goto out;
	}
	if (!msg->msg_control || msg->msg_controllen != sizeof(args)) {
		ret = -EINVAL;
		goto out;
	}
	offsets = (uint8_t *)msg->msg_control + HOMA_RECVMSG_HDR;
	memcpy(&args, msg->msg_control, HOMA_RECVMSG_HDR);
	if (args.num_bpages > HOMA_MAX_BPAGES || args.reserved) {
		ret = -EINVAL;
		goto out;
	}
	ret = ls->has_region ? 0 : homa_lsock_ensure_region(lib, ls);
	if (ret < 0)
		goto out;
	ra.id = args.id;
	ra.peer_port = 0; /* set by the core only when an RPC is delivered */
	ra.num_bpages = args.num_bpages;
	for (uint32_t i = 0; i < args.num_bpages; i++)
		memcpy(&ra.bpage_offsets[i], offsets + i * sizeof(uint32_t),
		       sizeof(uint32_t));
	ret = homa_recv_wait(lib, ls, &ra, flags);
	args.num_bpages = 0;
	if (ret < 0 && !ra.peer_port) {
		/* An error of the call itself, not of an RPC. */
		args.id = 0;
		memcpy(msg->msg_control, &args, HOMA_RECVMSG_HDR);
		goto out;
	}
	args.id = ra.id;
	args.completion_cookie = ra.cookie;
	/* A message of our 1 MB limit fits HOMA_MAX_BPAGES. */
	if (ret >= 0)
		args.num_bpages = ra.num_bpages;
	memcpy(msg->msg_control, &args, HOMA_RECVMSG_HDR);
	for (uint32_t i = 0; i < args.num_bpages; i++)
		memcpy(offsets + i * sizeof(uint32_t), &ra.bpage_offsets[i],
		       sizeof(uint32_t));
	if (msg->msg_name)
		msg->msg_namelen =
			homa_lib_addr_out(ls, &ra.peer, ra.peer_port,
					  msg->msg_name, msg->msg_namelen);
out:
	if (ret < 0 && ret != -EAGAIN)
		homa_lsock_error(ls, "recvmsg failed");
	homa_leave(lib, ls, false);
	return ret < 0 ? homa_fail(ret) : ret;
}

int homa_request(int fd, const void *buf, size_t length,
		 const struct sockaddr *dest, socklen_t destlen, uint64_t *id,
		 uint64_t completion_cookie, uint32_t flags)
{
	struct homa_send_args sa;
	int ret;

	if (!dest)
		return (int)homa_fail(EFAULT); /* homa(7): NULL is EFAULT */
	sa.id = 0;
	sa.cookie = completion_cookie;
	ret = homa_send_buf(fd, buf, length, dest, destlen, &sa, flags);
	if (ret == 0 && id)
		*id = sa.id;
	return ret;
}

int homa_reply(int fd, const void *buf, size_t length,
	       const struct sockaddr *src, socklen_t srclen, uint64_t id)
{
	struct homa_send_args sa;

	if (!src)
		return (int)homa_fail(EFAULT);
	sa.id = id;
	sa.cookie = 0;
	return homa_send_buf(fd, buf, length, src, srclen, &sa, 0);
}

ssize_t homa_receive(int fd, void *buf, size_t length, int flags,
		     struct sockaddr *src, socklen_t *srclen, uint64_t *id,
		     uint64_t *cookie)
{
	struct homa_recvmsg_args args;
	struct sockaddr_in6 peer;
	struct msghdr msg;
	struct homa_lsock *ls;
	struct homa_lib *lib;
	uint8_t *region;
	uint64_t bytes;
	ssize_t len;

	/* Before anything is received: a message taken from the socket
	 * could not be given back. */
	if ((!buf && length) || (src && !srclen))
		return homa_fail(EFAULT);
	memset(&args, 0, sizeof(args));
	args.id = id ? *id : 0;
	memset(&msg, 0, sizeof(msg));
	msg.msg_name = &peer;
	msg.msg_namelen = sizeof(peer);
	msg.msg_control = &args;
	msg.msg_controllen = sizeof(args);
	len = homa_recvmsg(fd, &msg, flags);
	if (id)
		*id = args.id;
	if (cookie)
		*cookie = args.completion_cookie;
	if (len < 0)
		return -1;
	ls = homa_lsock_enter(&lib, fd);
	if (!ls)
		return -1;
	homa_sock_get_rcvbuf(ls->hsk, &region, &bytes);
	for (size_t off = 0; off < (size_t)len && off < length;) {
		size_t chunk = HOMA_BPAGE_SIZE - (off & (HOMA_BPAGE_SIZE - 1));

		if (chunk > (size_t)len - off)
			chunk = (size_t)len - off;
		if (chunk > length - off)
			chunk = length - off;
		memcpy((uint8_t *)buf + off,
		       region + args.bpage_offsets[off >> HOMA_BPAGE_SHIFT] +
			       (off & (HOMA_BPAGE_SIZE - 1)),
		       chunk);
		off += chunk;
	}
	homa_release(ls->hsk, args.bpage_offsets, args.num_bpages);
	homa_leave(lib, ls, false);
	if (src && srclen) {
		socklen_t n =
			msg.msg_namelen < *srclen ? msg.msg_namelen : *srclen;

		memcpy(src, &peer, n);
		*srclen = msg.msg_namelen;
	}
	return len;
}
