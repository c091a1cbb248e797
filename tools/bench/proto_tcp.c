/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proto_tcp.c - homa-bench over TCP: one persistent connection per
 * client-server pair (TCP_NODELAY), length-prefixed messages with a
 * 16-byte header {u32 length, u32 reserved, u64 tag}; the server is one
 * epoll loop answering each request with resp_size bytes. Both sides
 * wait by the --wait policy: non-blocking epoll_wait for the spin
 * budget, then a blocking one. A small message is one sendmsg and one
 * recv.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench.h"

#define TCP_HDR 16
/* A send that finds no room for this long, ms, fails (ETIMEDOUT). */
#define TCP_ROOM_WAIT_MS 5000

struct tcp_hdr {
	uint32_t length;   /* payload bytes after the header */
	uint32_t reserved; /* 0 */
	uint64_t tag;	   /* request's tag, echoed in the response */
};

#define TCP_RBUF 65536 /* bytes read per recv at most */

/* A connection's receive state: bytes read ahead in buf are parsed into
 * messages, so a small message costs one recv (the old reader took the
 * header, the payload and an EAGAIN in three). */
struct tcp_conn {
	int fd;		       /* socket */
	pthread_mutex_t wlock; /* writers (client: sender threads) */
	uint8_t hdr[TCP_HDR];  /* header being assembled */
	uint32_t hgot;	       /* bytes of hdr received */
	uint32_t left;	       /* payload bytes still to discard */
	struct tcp_hdr h;      /* decoded header of the last message */
	uint32_t off;	       /* parse position in buf */
	uint32_t len;	       /* bytes in buf */
	uint8_t *buf;	       /* TCP_RBUF bytes read, not yet parsed (the
				* server's one buffer, drained before it
				* reads another connection) */
};

/* --nocopy: read every MSG_ZEROCOPY completion queued on fd (the
 * request buffer never changes, so they only need to be taken off the
 * error queue, which would otherwise fill and keep epoll reporting). */
static void tcp_zc_reap(int fd)
{
	char ctl[128];

	for (;;) {
		struct msghdr m = { .msg_control = ctl,
				    .msg_controllen = sizeof(ctl) };

		if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
	}
}

/* Write the header and the payload with one system call when they fit
 * (two sends with TCP_NODELAY made two segments and two wake-ups).
 * zc: send with MSG_ZEROCOPY (the socket has SO_ZEROCOPY). */
static int tcp_write_msg(int fd, const struct tcp_hdr *h, const void *p,
			 size_t n, bool zc)
{
	struct iovec iov[2] = { { (void *)h, TCP_HDR }, { (void *)p, n } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = n ? 2 : 1 };
	/* A MSG_ZEROCOPY send never blocks in the kernel: its completions
	 * sit in the socket's receive memory until read, and a sender asleep
	 * for send room behind them stalled for good (4 outstanding over
	 * veth: incoming ACK segments were dropped, so no room came). */
	int flags = MSG_NOSIGNAL | (zc ? MSG_ZEROCOPY | MSG_DONTWAIT : 0);

	if (zc)
		tcp_zc_reap(fd);
	while (m.msg_iovlen) {
		ssize_t w = sendmsg(fd, &m, flags);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			/* Wait for room as a blocking socket would (a fixed
			 * sleep here stalled large messages); with zc, a
			 * completion queued wakes it too (POLLERR), and is
			 * taken off. Bounded: a MSG_ZEROCOPY sender over veth
			 * with 4 outstanding once waited here for good (no
			 * room ever came), and held bench-lib with it. */
			struct pollfd pfd = { fd, POLLOUT, 0 };

			if (bench_stop)
				return -EINTR;
			if (poll(&pfd, 1, TCP_ROOM_WAIT_MS) == 0)
				return -ETIMEDOUT;
			if (zc)
				tcp_zc_reap(fd);
			continue;
		}
		if (w <= 0)
			return w < 0 ? -errno : -EPIPE;
		while (m.msg_iovlen && (size_t)w >= m.msg_iov->iov_len) {
			w -= (ssize_t)m.msg_iov->iov_len;
			m.msg_iov++;
			m.msg_iovlen--;
		}
		if (m.msg_iovlen) {
			m.msg_iov->iov_base =
				(uint8_t *)m.msg_iov->iov_base + w;
			m.msg_iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* Parse buffered bytes: 1 when a message completed (c->h), else 0 with
 * the buffer consumed. Payload is discarded. */
static int tcp_parse(struct tcp_conn *c)
{
	while (c->off < c->len) {
		uint32_t avail = c->len - c->off, take;

		if (c->hgot < TCP_HDR) {
			take = TCP_HDR - c->hgot;
			take = take < avail ? take : avail;
			memcpy(c->hdr + c->hgot, c->buf + c->off, take);
			c->hgot += take;
			c->off += take;
			if (c->hgot < TCP_HDR)
				return 0;
			memcpy(&c->h, c->hdr, TCP_HDR);
			c->left = c->h.length;
		} else {
			take = c->left < avail ? c->left : avail;
			c->left -= take;
			c->off += take;
		}
		if (c->hgot == TCP_HDR && !c->left) {
			c->hgot = 0;
			return 1;
		}
	}
	return 0;
}

/* The next message of a non-blocking connection: 1 when one is in (c->h),
 * 0 if more bytes are needed, -errno on error or EOF. After a message it
 * returns without another recv; tcp_buffered() says if more is parsed.
 * flags: MSG_DONTWAIT, or 0 to block (SO_RCVTIMEO bounds the wait). */
static int tcp_read_msg(struct tcp_conn *c, int flags)
{
	for (;;) {
		ssize_t r;

		if (tcp_parse(c))
			return 1;
		r = recv(c->fd, c->buf, TCP_RBUF, flags);
		if (r == 0)
			return -ECONNRESET;
		if (r < 0)
			return errno == EAGAIN ? 0 : -errno;
		c->off = 0;
		c->len = (uint32_t)r;
	}
}

/* Unparsed bytes are waiting in c's buffer. */
static bool tcp_buffered(const struct tcp_conn *c)
{
	return c->off < c->len;
}

static void tcp_nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

struct bench_tcp {
	struct bench_client c;			  /* the table (first) */
	const struct bench_opts *o;		  /* options */
	struct tcp_conn conns[BENCH_MAX_SERVERS]; /* one per server */
	int epfd;				  /* readable connections */
	uint8_t *buf;				  /* request payload */
	uint64_t done_tag;			  /* pending completion */
	int pending; /* completions not yet returned */
	uint64_t ready[BENCH_MAX_SERVERS * 64]; /* completed tags queue */
	int nready;				/* entries in ready */
};

static int bt_send(struct bench_client *c, int s, uint32_t size, uint64_t tag)
{
	struct bench_tcp *t = (struct bench_tcp *)c;
	struct tcp_conn *k = &t->conns[s];
	struct tcp_hdr h = { size, 0, tag };
	int ret;

	pthread_mutex_lock(&k->wlock);
	ret = tcp_write_msg(k->fd, &h, t->buf, size, t->o->nocopy);
	pthread_mutex_unlock(&k->wlock);
	return ret;
}

/* Read the connections epoll reported: complete messages go to the ready
 * queue. 0, or -errno for a broken connection. */
static int bt_collect(struct bench_tcp *t, const struct epoll_event *ev, int n)
{
	for (int i = 0; i < n; i++) {
		struct tcp_conn *k = &t->conns[ev[i].data.u32];
		int r = 0;

		while (t->nready < (int)(sizeof(t->ready) / 8) &&
		       (r = tcp_read_msg(k, MSG_DONTWAIT)) == 1) {
			t->ready[t->nready++] = k->h.tag;
			if (!tcp_buffered(k))
				break; /* epoll reports more bytes */
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* One connection: read it directly, 1 with a message's tag queued, 0 if
 * none came, -errno (a blocking read ends at SO_RCVTIMEO). */
static int bt_read_one(struct bench_tcp *t, int flags)
{
	int r = tcp_read_msg(&t->conns[0], flags);

	if (r == 1)
		t->ready[t->nready++] = t->conns[0].h.tag;
	return r;
}

/* bench_spin's poll with one connection: a non-blocking read. */
static int bt_try_one(void *arg)
{
	return bt_read_one(arg, MSG_DONTWAIT);
}

/* bench_spin's poll: a non-blocking epoll_wait. */
static int bt_try(void *arg)
{
	struct bench_tcp *t = arg;
	struct epoll_event ev[BENCH_MAX_SERVERS];
	int n = epoll_wait(t->epfd, ev, BENCH_MAX_SERVERS, 0), r;

	if (n <= 0)
		return 0;
	r = bt_collect(t, ev, n);
	return r < 0 ? r : t->nready > 0;
}

static int bt_recv(struct bench_client *c, uint64_t *tag, int timeout_ms)
{
	struct bench_tcp *t = (struct bench_tcp *)c;
	struct epoll_event ev[BENCH_MAX_SERVERS];
	int n, r = 0;

	for (int s = 0; !t->nready && s < t->o->num_servers; s++) {
		struct tcp_conn *k = &t->conns[s];

		/* Bytes already read may hold the next message. */
		if (tcp_buffered(k) && tcp_parse(k))
			t->ready[t->nready++] = k->h.tag;
	}
	if (!t->nready && t->o->num_servers == 1) {
		/* Like a minimal ping-pong: read the socket itself, without
		 * epoll (one system call per wait, not two). */
		r = bench_spin(bt_try_one, t, t->o->spin_us, bench_now_ns);
		if (r == 0)
			r = bt_read_one(t, 0);
	}
	if (!t->nready && r == 0 && t->o->num_servers > 1)
		r = bench_spin(bt_try, t, t->o->spin_us, bench_now_ns);
	if (!t->nready && r == 0 && t->o->num_servers > 1) {
		n = epoll_wait(t->epfd, ev, BENCH_MAX_SERVERS, timeout_ms);
		r = n > 0 ? bt_collect(t, ev, n) : 0;
	}
	if (r < 0) {
		*tag = UINT64_MAX;
		return r;
	}
	if (t->nready) {
		*tag = t->ready[--t->nready];
		return 1;
	}
	return 0;
}

static void bt_close(struct bench_client *c)
{
	struct bench_tcp *t = (struct bench_tcp *)c;

	for (int s = 0; s < t->o->num_servers; s++) {
		if (t->conns[s].fd >= 0)
			close(t->conns[s].fd);
		free(t->conns[s].buf);
	}
	if (t->epfd >= 0)
		close(t->epfd);
	free(t->buf);
	free(t);
}

struct bench_client *bench_tcp_client(const struct bench_opts *o)
{
	struct bench_tcp *t = calloc(1, sizeof(*t));
	struct timeval tv = { 0, 50000 }; /* a blocking read: 50 ms at most */
	int one = 1;

	if (!t)
		return NULL;
	t->o = o;
	for (int s = 0; s < BENCH_MAX_SERVERS; s++)
		t->conns[s].fd = -1;
	t->buf = calloc(1, BENCH_MAX_MSG);
	t->epfd = epoll_create1(0);
	if (!t->buf || t->epfd < 0)
		goto fail;
	for (int s = 0; s < o->num_servers; s++) {
		struct tcp_conn *k = &t->conns[s];
		struct epoll_event ev = { .events = EPOLLIN };

		k->fd = socket(o->servers[s].ss_family, SOCK_STREAM, 0);
		if (k->fd < 0 ||
		    connect(k->fd, (struct sockaddr *)&o->servers[s],
			    o->server_len[s]) < 0) {
			fprintf(stderr,
				"homa-bench: connect to server %d: %s\n", s,
				strerror(errno));
			goto fail;
		}
		k->buf = malloc(TCP_RBUF);
		if (!k->buf)
			goto fail;
		tcp_nodelay(k->fd);
		if (o->nocopy && setsockopt(k->fd, SOL_SOCKET, SO_ZEROCOPY,
					    &one, sizeof(one)) < 0) {
			fprintf(stderr, "homa-bench: SO_ZEROCOPY: %s\n",
				strerror(errno));
			goto fail;
		}
		if (o->num_servers > 1)
			fcntl(k->fd, F_SETFL, O_NONBLOCK);
		else /* blocking reads, bounded */
			setsockopt(k->fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
				   sizeof(tv));
		pthread_mutex_init(&k->wlock, NULL);
		ev.data.u32 = (uint32_t)s;
		epoll_ctl(t->epfd, EPOLL_CTL_ADD, k->fd, &ev);
	}
	t->c.send = bt_send;
	t->c.recv = bt_recv;
	t->c.close = bt_close;
	return &t->c;
fail:
	bt_close(&t->c);
	return NULL;
}

int bench_tcp_peer(const struct bench_opts *o)
{
	struct tcp_hdr h = { 100, 0, 0 };
	uint8_t payload[100] = { 0 };
	struct tcp_conn k = { .fd = -1 };
	int r;

	k.buf = malloc(TCP_RBUF);
	k.fd = socket(o->servers[0].ss_family, SOCK_STREAM, 0);
	if (!k.buf || k.fd < 0) {
		r = k.buf ? -errno : -ENOMEM;
		goto fail;
	}
	if (connect(k.fd, (struct sockaddr *)&o->servers[0], o->server_len[0]) <
	    0) {
		r = -errno;
		goto fail;
	}
	tcp_nodelay(k.fd);
	r = tcp_write_msg(k.fd, &h, payload, sizeof(payload), false);
	if (!r)
		r = tcp_read_msg(&k, 0);
	if (r <= 0) {
		r = r ? r : -ETIMEDOUT;
		goto fail;
	}
	free(k.buf);
	return k.fd;
fail:
	if (k.fd >= 0)
		close(k.fd);
	free(k.buf);
	return r;
}

/* The server's state for its wait. */
struct tcp_server {
	const struct bench_opts *o; /* options */
	int lfd;		    /* listening socket */
	int epfd;		    /* connections and lfd */
	uint8_t *buf;		    /* the read buffer, TCP_RBUF bytes */
	uint8_t *resp;		    /* response payload */
	struct epoll_event evs[64]; /* ready, from the last wait */
	int n;			    /* entries in evs */
	int nconns;		    /* connections open */
	struct tcp_conn *only;	    /* the one connection, read directly
				     * (NULL: use epoll) */
	uint64_t listen_ns;	    /* last look for new connections */
};

/* Blocking reads for the server's only connection (bounded, so that it
 * still looks for new ones), or back to non-blocking. */
static void ts_direct(struct tcp_conn *k, bool on)
{
	struct timeval tv = { 0, 50000 };

	fcntl(k->fd, F_SETFL, on ? 0 : O_NONBLOCK);
	if (on)
		setsockopt(k->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* Accept a connection into the server's epoll set. A single connection
 * is read directly, as a minimal ping-pong server does (one recv per
 * request instead of epoll_wait and recv); a second one ends that. */
static void tcp_accept(struct tcp_server *ts)
{
	int fd = accept4(ts->lfd, NULL, NULL, SOCK_NONBLOCK);
	struct tcp_conn *k;
	struct epoll_event ev = { .events = EPOLLIN };

	if (fd < 0)
		return;
	k = calloc(1, sizeof(*k));
	if (!k) {
		close(fd);
		return;
	}
	k->fd = fd;
	tcp_nodelay(fd);
	ev.data.ptr = k;
	epoll_ctl(ts->epfd, EPOLL_CTL_ADD, fd, &ev);
	if (++ts->nconns == 1) {
		ts->only = k;
		ts_direct(k, true);
	} else if (ts->only) {
		ts_direct(ts->only, false);
		ts->only = NULL;
	}
}

/* bench_spin's poll: a non-blocking epoll_wait. */
static int ts_try(void *arg)
{
	struct tcp_server *ts = arg;

	ts->n = epoll_wait(ts->epfd, ts->evs, 64, 0);
	return ts->n > 0;
}

/* A connection ended (EOF or error). */
static void ts_close(struct tcp_server *ts, struct tcp_conn *k)
{
	epoll_ctl(ts->epfd, EPOLL_CTL_DEL, k->fd, NULL);
	close(k->fd);
	free(k);
	ts->nconns--;
	if (ts->only == k)
		ts->only = NULL;
}

/* Answer every whole request a ready connection holds; close it on EOF
 * or error. */
static void ts_serve(struct tcp_server *ts, struct tcp_conn *k)
{
	struct tcp_hdr h = { ts->o->resp_size, 0, 0 };
	int r;

	k->buf = ts->buf;
	k->off = k->len = 0;
	while ((r = tcp_read_msg(k, MSG_DONTWAIT)) == 1) {
		h.tag = k->h.tag;
		bench_served++;
		tcp_write_msg(k->fd, &h, ts->resp, ts->o->resp_size, false);
		if (!tcp_buffered(k))
			break; /* epoll reports more bytes */
	}
	k->buf = NULL;
	if (r < 0)
		ts_close(ts, k);
}

/* bench_spin's poll for the only connection: a non-blocking read. */
static int ts_try_only(void *arg)
{
	struct tcp_server *ts = arg;

	return tcp_read_msg(ts->only, MSG_DONTWAIT);
}

/* Serve the only connection: spin, then a blocking read (at most 50 ms);
 * every 10 ms, look for new connections. */
static void ts_serve_only(struct tcp_server *ts)
{
	struct tcp_conn *k = ts->only;
	struct tcp_hdr h = { ts->o->resp_size, 0, 0 };
	uint64_t now;
	int r;

	k->buf = ts->buf;
	k->off = k->len = 0;
	r = bench_spin(ts_try_only, ts, ts->o->spin_us, bench_now_ns);
	if (r == 0)
		r = tcp_read_msg(k, 0);
	while (r == 1) {
		h.tag = k->h.tag;
		bench_served++;
		tcp_write_msg(k->fd, &h, ts->resp, ts->o->resp_size, false);
		if (!tcp_buffered(k))
			break;
		r = tcp_read_msg(k, MSG_DONTWAIT);
	}
	k->buf = NULL;
	if (r < 0) {
		ts_close(ts, k);
		return;
	}
	now = bench_now_ns();
	if (now - ts->listen_ns < 10000000ull)
		return;
	ts->listen_ns = now;
	ts->n = epoll_wait(ts->epfd, ts->evs, 64, 0);
	for (int i = 0; i < ts->n; i++)
		if (!ts->evs[i].data.ptr)
			tcp_accept(ts);
}

int bench_tcp_server(const struct bench_opts *o)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	struct tcp_server ts = { .o = o };
	int one = 1, ret = 1;

	ts.lfd = socket(AF_INET, SOCK_STREAM, 0);
	ts.epfd = epoll_create1(0);
	ts.buf = malloc(TCP_RBUF);
	ts.resp = calloc(1, o->resp_size);
	addr.sin_port = htons((uint16_t)o->port);
	if (ts.lfd < 0 || ts.epfd < 0 || !ts.buf || !ts.resp)
		goto out;
	setsockopt(ts.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ts.lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(ts.lfd, 4096) < 0) {
		fprintf(stderr, "homa-bench: listen on %d: %s\n", o->port,
			strerror(errno));
		goto out;
	}
	epoll_ctl(ts.epfd, EPOLL_CTL_ADD, ts.lfd, &ev);
	while (!bench_stop) {
		if (ts.only) {
			ts_serve_only(&ts);
			continue;
		}
		if (!bench_spin(ts_try, &ts, o->spin_us, bench_now_ns))
			ts.n = epoll_wait(ts.epfd, ts.evs, 64, 100);
		for (int i = 0; i < ts.n; i++) {
			struct tcp_conn *k = ts.evs[i].data.ptr;

			if (k)
				ts_serve(&ts, k);
			else
				tcp_accept(&ts);
		}
	}
	ret = 0;
out:
	if (ts.lfd >= 0)
		close(ts.lfd);
	if (ts.epfd >= 0)
		close(ts.epfd);
	free(ts.buf);
	free(ts.resp);
	return ret;
}
