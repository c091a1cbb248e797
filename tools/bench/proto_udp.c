/*
 * proto_udp.c - homa-bench over plain UDP, the baseline for small
 * messages: each request and response is one datagram starting with the
 * 16-byte header {u32 length, u32 reserved, u64 tag}. No reliability:
 * meant for ping-pong on an idle path (sizes up to 65000 bytes).
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
	uint8_t buf[UDP_MAX];	    /* datagram buffer */
};

static int bu_send(struct bench_client *c, int s, uint32_t size, uint64_t tag)
{
	struct bench_udp *u = (struct bench_udp *)c;
	uint32_t len = size < UDP_HDR ? UDP_HDR : size;

	if (size > UDP_MAX)
		return -EMSGSIZE;
	memcpy(u->buf, &size, 4);
	memset(u->buf + 4, 0, 4);
	memcpy(u->buf + 8, &tag, 8);
	if (sendto(u->fd, u->buf, len, 0, (struct sockaddr *)&u->o->servers[s],
		   u->o->server_len[s]) < 0)
		return -errno;
	return 0;
}

static int bu_recv(struct bench_client *c, uint64_t *tag, int timeout_ms)
{
	struct bench_udp *u = (struct bench_udp *)c;
	ssize_t n;

	(void)timeout_ms; /* SO_RCVTIMEO set at creation */
	n = recv(u->fd, u->buf, sizeof(u->buf), 0);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (n < UDP_HDR)
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
	u->c.send = bu_send;
	u->c.recv = bu_recv;
	u->c.close = bu_close;
	return &u->c;
}

int bench_udp_server(const struct bench_opts *o)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	uint32_t len = o->resp_size < UDP_HDR ? UDP_HDR : o->resp_size;
	uint8_t *buf = calloc(1, UDP_MAX);
	int fd = bu_socket(AF_INET);

	addr.sin_port = htons((uint16_t)o->port);
	if (fd < 0 || !buf ||
	    bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		fprintf(stderr, "homa-bench: udp port %d: %s\n", o->port,
			strerror(errno));
		return 1;
	}
	if (len > UDP_MAX)
		len = UDP_MAX;
	while (!bench_stop) {
		struct sockaddr_in6 peer;
		socklen_t pl = sizeof(peer);
		ssize_t n = recvfrom(fd, buf, UDP_MAX, 0,
				     (struct sockaddr *)&peer, &pl);

		if (n < UDP_HDR)
			continue;
		memcpy(buf, &o->resp_size, 4);
		sendto(fd, buf, len, 0, (struct sockaddr *)&peer, pl);
	}
	close(fd);
	free(buf);
	return 0;
}
