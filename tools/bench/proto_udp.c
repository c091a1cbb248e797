/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proto_udp.c - homa-bench over plain UDP, the baseline for small
 * messages: each request and response is one datagram starting with the
 * 16-byte header {u32 length, u32 reserved, u64 tag}. No reliability:
 * meant for ping-pong on an idle path (sizes up to 65000 bytes). Both
 * sides wait by the --wait policy: non-blocking reads for the spin
 * budget, then a blocking read (bounded by SO_RCVTIMEO).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "bench.h"

#define UDP_HDR 16
#define UDP_MAX 65000

struct bench_udp {
	struct bench_client c;	    /* the table (first) */
	const struct bench_opts *o; /* options */
	int fd;			    /* socket */
	ssize_t len;		    /* bytes of the datagram in buf */
	uint8_t buf[UDP_MAX];	    /* received datagram */
	uint8_t sbuf[UDP_MAX];	    /* datagram to send (the open loop's
				     * sender thread owns it) */
};

/* One non-blocking read (bench_spin's poll): 1 with a datagram in
 * u->buf, 0 if none yet, -errno. */
static int bu_try(void *arg)
{
	struct bench_udp *u = arg;

	u->len = recv(u->fd, u->buf, sizeof(u->buf), MSG_DONTWAIT);
	if (u->len >= 0)
		return 1;
	return errno == EAGAIN || errno == EINTR ? 0 : -errno;
}

static int bu_send(struct bench_client *c, int s, uint32_t size, uint64_t tag)
{
	struct bench_udp *u = (struct bench_udp *)c;
	uint32_t len = size < UDP_HDR ? UDP_HDR : size;
	ssize_t n;

	if (size > UDP_MAX)
		return -EMSGSIZE;
	memcpy(u->sbuf, &size, 4);
	memset(u->sbuf + 4, 0, 4);
	memcpy(u->sbuf + 8, &tag, 8);
	if (u->o->num_servers == 1)
		n = send(u->fd, u->sbuf, len, 0);
	else
		n = sendto(u->fd, u->sbuf, len, 0,
			   (struct sockaddr *)&u->o->servers[s],
			   u->o->server_len[s]);
	return n < 0 ? -errno : 0;
}

static int bu_recv(struct bench_client *c, uint64_t *tag, int timeout_ms)
{
	struct bench_udp *u = (struct bench_udp *)c;
	int r;

	(void)timeout_ms; /* SO_RCVTIMEO set at creation */
	r = bench_spin(bu_try, u, u->o->spin_us, bench_now_ns);
	if (r == 0) {
		u->len = recv(u->fd, u->buf, sizeof(u->buf), 0);
		r = u->len >= 0				? 1
		    : errno == EAGAIN || errno == EINTR ? 0
							: -errno;
	}
	if (r < 0) {
		/* ECONNREFUSED: nothing listens at the server's port. */
		*tag = UINT64_MAX;
		return r;
	}
	if (r == 0 || u->len < UDP_HDR)
		return 0;
	memcpy(tag, u->buf + 8, 8);
	return 1;
}

static void bu_close(struct bench_client *c)
{
	struct bench_udp *u = (struct bench_udp *)c;

	close(u->fd);
	free(u);
}

static int bu_socket(int family)
{
	struct timeval tv = { 0, 50000 };
	int fd = socket(family, SOCK_DGRAM, 0);

	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

struct bench_client *bench_udp_client(const struct bench_opts *o)
{
	struct bench_udp *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->o = o;
	u->fd = bu_socket(o->servers[0].ss_family);
	if (u->fd < 0) {
		free(u);
		return NULL;
	}
	/* With one server, connect: the kernel then reports its ICMP errors
	 * (ECONNREFUSED when nothing listens) instead of a silent timeout. */
	if (o->num_servers == 1 &&
	    connect(u->fd, (struct sockaddr *)&o->servers[0],
		    o->server_len[0]) < 0) {
		fprintf(stderr, "homa-bench: udp connect: %s\n",
			strerror(errno));
		close(u->fd);
		free(u);
		return NULL;
	}
	u->c.send = bu_send;
	u->c.recv = bu_recv;
	u->c.close = bu_close;
	return &u->c;
}

/* The server's receive: the datagram and its sender. */
struct bu_from {
	struct bench_udp *u;	  /* socket and buffer */
	struct sockaddr_in6 peer; /* sender */
	socklen_t pl;		  /* its length */
};

/* One non-blocking recvfrom (bench_spin's poll), as bu_try. */
static int bu_try_from(void *arg)
{
	struct bu_from *f = arg;

	f->pl = sizeof(f->peer);
	f->u->len = recvfrom(f->u->fd, f->u->buf, UDP_MAX, MSG_DONTWAIT,
			     (struct sockaddr *)&f->peer, &f->pl);
	if (f->u->len >= 0)
		return 1;
	return errno == EAGAIN || errno == EINTR ? 0 : -errno;
}

int bench_udp_server(const struct bench_opts *o)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	uint32_t len = o->resp_size < UDP_HDR ? UDP_HDR : o->resp_size;
	struct bench_udp *u = calloc(1, sizeof(*u));
	struct bu_from f = { .u = u };
	int fd = bu_socket(AF_INET);

	addr.sin_port = htons((uint16_t)o->port);
	if (fd < 0 || !u ||
	    bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		fprintf(stderr, "homa-bench: udp port %d: %s\n", o->port,
			strerror(errno));
		free(u);
		return 1;
	}
	u->o = o;
	u->fd = fd;
	if (len > UDP_MAX)
		len = UDP_MAX;
	while (!bench_stop) {
		if (bench_spin(bu_try_from, &f, o->spin_us, bench_now_ns) <=
		    0) {
			f.pl = sizeof(f.peer);
			u->len = recvfrom(fd, u->buf, UDP_MAX, 0,
					  (struct sockaddr *)&f.peer, &f.pl);
		}
		if (u->len < UDP_HDR)
			continue;
		memcpy(u->buf, &o->resp_size, 4);
		bench_served++;
		sendto(fd, u->buf, len, 0, (struct sockaddr *)&f.peer, f.pl);
	}
	close(fd);
	free(u);
	return 0;
}
