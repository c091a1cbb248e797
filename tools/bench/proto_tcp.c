/*
 * proto_tcp.c - homa-bench over TCP: one persistent connection per
 * client-server pair (TCP_NODELAY), length-prefixed messages with a
 * 16-byte header {u32 length, u32 reserved, u64 tag}; the server is one
 * epoll loop answering each request with resp_size bytes.
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
#include <unistd.h>

#include "bench.h"

#define TCP_HDR 16

struct tcp_hdr {
	uint32_t length;   /* payload bytes after the header */
	uint32_t reserved; /* 0 */
	uint64_t tag;	   /* request's tag, echoed in the response */
};

/* A connection's receive state. */
struct tcp_conn {
	int fd;		       /* socket */
	pthread_mutex_t wlock; /* writers (client: sender threads) */
	uint8_t hdr[TCP_HDR];  /* header being read */
	uint32_t got;	       /* bytes of the current message read */
	uint32_t need;	       /* bytes of the current message expected */
	struct tcp_hdr h;      /* decoded header */
};

static int tcp_write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			/* Wait for room as a blocking socket would (a fixed
			 * sleep here stalled large messages). */
			struct pollfd pfd = { fd, POLLOUT, 0 };

			poll(&pfd, 1, -1);
			continue;
		}
		if (w <= 0)
			return -errno;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read what is available; returns 1 when a whole message is in, 0 if
 * more is needed, -errno on error or EOF. Payload is discarded. */
static int tcp_read_msg(struct tcp_conn *c)
{
	static __thread uint8_t sink[65536];

	for (;;) {
		ssize_t r;

		if (c->got < TCP_HDR) {
			r = recv(c->fd, c->hdr + c->got, TCP_HDR - c->got, 0);
		} else {
			size_t want = c->need - c->got;

			r = recv(c->fd, sink,
				 want < sizeof(sink) ? want : sizeof(sink), 0);
		}
		if (r == 0)
			return -ECONNRESET;
		if (r < 0)
			return errno == EAGAIN ? 0 : -errno;
		c->got += (uint32_t)r;
		if (c->got == TCP_HDR) {
			memcpy(&c->h, c->hdr, TCP_HDR);
			c->need = TCP_HDR + c->h.length;
		}
		if (c->got >= TCP_HDR && c->got == c->need) {
			c->got = 0;
			return 1;
		}
	}
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
	ret = tcp_write_all(k->fd, &h, sizeof(h));
	if (!ret)
		ret = tcp_write_all(k->fd, t->buf, size);
	pthread_mutex_unlock(&k->wlock);
	return ret;
}

static int bt_recv(struct bench_client *c, uint64_t *tag, int timeout_ms)
{
	struct bench_tcp *t = (struct bench_tcp *)c;
	struct epoll_event ev[BENCH_MAX_SERVERS];
	int n;

	if (t->nready) {
		*tag = t->ready[--t->nready];
		return 1;
	}
	n = epoll_wait(t->epfd, ev, BENCH_MAX_SERVERS, timeout_ms);
	for (int i = 0; i < n; i++) {
		struct tcp_conn *k = &t->conns[ev[i].data.u32];
		int r;

		while ((r = tcp_read_msg(k)) == 1 &&
		       t->nready < (int)(sizeof(t->ready) / 8))
			t->ready[t->nready++] = k->h.tag;
		if (r < 0) {
			*tag = UINT64_MAX;
			return r;
		}
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

	for (int s = 0; s < t->o->num_servers; s++)
		close(t->conns[s].fd);
	close(t->epfd);
	free(t->buf);
	free(t);
}

struct bench_client *bench_tcp_client(const struct bench_opts *o)
{
	struct bench_tcp *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->o = o;
	t->buf = calloc(1, BENCH_MAX_MSG);
	t->epfd = epoll_create1(0);
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
			return NULL;
		}
		tcp_nodelay(k->fd);
		fcntl(k->fd, F_SETFL, O_NONBLOCK);
		pthread_mutex_init(&k->wlock, NULL);
		ev.data.u32 = (uint32_t)s;
		epoll_ctl(t->epfd, EPOLL_CTL_ADD, k->fd, &ev);
	}
	t->c.send = bt_send;
	t->c.recv = bt_recv;
	t->c.close = bt_close;
	return &t->c;
}

/* Accept a connection into the server's epoll set. */
static void tcp_accept(int lfd, int epfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	struct tcp_conn *k;
	struct epoll_event ev = { .events = EPOLLIN };

	if (fd < 0)
		return;
	k = calloc(1, sizeof(*k));
	k->fd = fd;
	tcp_nodelay(fd);
	ev.data.ptr = k;
	epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

int bench_tcp_server(const struct bench_opts *o)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1, epfd;
	uint8_t *resp = calloc(1, TCP_HDR + o->resp_size);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

	addr.sin_port = htons((uint16_t)o->port);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(lfd, 128) < 0) {
		fprintf(stderr, "homa-bench: listen on %d: %s\n", o->port,
			strerror(errno));
		return 1;
	}
	epfd = epoll_create1(0);
	epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
	while (!bench_stop) {
		struct epoll_event evs[64];
		int n = epoll_wait(epfd, evs, 64, 100);

		for (int i = 0; i < n; i++) {
			struct tcp_conn *k = evs[i].data.ptr;
			int r;

			if (!k) {
				tcp_accept(lfd, epfd);
				continue;
			}
			while ((r = tcp_read_msg(k)) == 1) {
				struct tcp_hdr h = { o->resp_size, 0,
						     k->h.tag };

				memcpy(resp, &h, TCP_HDR);
				tcp_write_all(k->fd, resp,
					      TCP_HDR + o->resp_size);
			}
			if (r < 0) {
				epoll_ctl(epfd, EPOLL_CTL_DEL, k->fd, NULL);
				close(k->fd);
				free(k);
			}
		}
	}
	close(lfd);
	free(resp);
	return 0;
}
