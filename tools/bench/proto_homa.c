/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proto_homa.c - homa-bench over libhoma: the client tags each request
 * with its slot in the completion cookie; the server answers every
 * request with resp_size bytes without copying the request out. The
 * --wait policy is the library's own: poll_usecs is the spin budget
 * (0 for block), set after the socket so that it overrides
 * HOMA_POLL_USECS. With --nocopy every request is lent from the one
 * request buffer, which never changes (HOMA_SENDMSG_NOCOPY).
 */
#include <errno.h>
#include <sys/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "homa.h"

struct bench_homa {
	struct bench_client c;		/* the table (first) */
	const struct bench_opts *o;	/* options */
	int fd;				/* Homa socket */
	uint8_t *buf;			/* request bytes (never read back) */
	struct homa_recvmsg_args rargs; /* carries bpages back */
};

static int bh_send(struct bench_client *c, int s, uint32_t size, uint64_t tag)
{
	struct bench_homa *h = (struct bench_homa *)c;
	uint64_t id;

	if (homa_request(h->fd, h->buf, size,
			 (struct sockaddr *)&h->o->servers[s],
			 h->o->server_len[s], &id, tag,
			 h->o->nocopy ? HOMA_SENDMSG_NOCOPY : 0) < 0)
		return -errno;
	return 0;
}

/* Blocking receive (the receiving thread drives the datapath itself, no
 * hand-off); SO_RCVTIMEO bounds the wait. */
static int bh_recv(struct bench_client *c, uint64_t *tag, int timeout_ms)
{
	struct bench_homa *h = (struct bench_homa *)c;
	struct msghdr msg = { 0 };
	ssize_t n;

	(void)timeout_ms; /* fixed at socket creation */
	msg.msg_control = &h->rargs;
	msg.msg_controllen = sizeof(h->rargs);
	h->rargs.id = 0;
	n = homa_recvmsg(h->fd, &msg, 0);
	/* EINTR: a signal (SIGINT sets bench_stop, which the caller reads;
	 * a debugger attaching) ends nothing. */
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	*tag = h->rargs.completion_cookie;
	if (n < 0) {
		int err = errno;

		if (!h->rargs.id) {
			*tag = UINT64_MAX;
			h->rargs.num_bpages = 0;
		}
		return -err;
	}
	return 1;
}

static void bh_close(struct bench_client *c)
{
	struct bench_homa *h = (struct bench_homa *)c;

	if (homa_close(h->fd) < 0)
		fprintf(stderr, "homa-bench: homa_close: %s\n",
			strerror(errno));
	free(h->buf);
	free(h);
}

static int bh_socket(const struct bench_opts *o, int family)
{
	struct timeval tv = { 0, 50000 }; /* receive waits at most 50 ms */
	char poll[16];
	int fd;

	if (o->raw && homa_config_param("datapath", "raw") < 0) {
		fprintf(stderr, "homa-bench: %s\n", homa_last_error());
		return -1;
	}
	fd = homa_socket(family);
	if (fd < 0) {
		fprintf(stderr, "homa-bench: homa_socket: %s (%s)\n",
			strerror(errno), homa_last_error());
		return -1;
	}
	snprintf(poll, sizeof(poll), "%u", o->spin_us);
	if (homa_config_param("poll_usecs", poll) < 0) {
		fprintf(stderr, "homa-bench: poll_usecs %s: %s\n", poll,
			homa_last_error());
		homa_close(fd);
		return -1;
	}
	if (homa_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		fprintf(stderr, "homa-bench: SO_RCVTIMEO: %s\n",
			strerror(errno));
		homa_close(fd);
		return -1;
	}
	return fd;
}

struct bench_client *bench_homa_client(const struct bench_opts *o)
{
	struct bench_homa *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->o = o;
	h->buf = calloc(1, BENCH_MAX_MSG);
	h->fd = bh_socket(o, o->servers[0].ss_family);
	if (h->fd < 0 || !h->buf) {
		free(h->buf);
		free(h);
		return NULL;
	}
	h->c.send = bh_send;
	h->c.recv = bh_recv;
	h->c.close = bh_close;
	return &h->c;
}

int bench_homa_server(const struct bench_opts *o)
{
	struct homa_recvmsg_args args = { 0 };
	struct sockaddr_in6 addr = { 0 }, peer;
	uint8_t *resp = calloc(1, o->resp_size);
	int fd = bh_socket(o, AF_INET), ret = 0;
	uint64_t reply_errors = 0;

	if (fd < 0 || !resp)
		return 1;
	addr.sin6_family = AF_INET;
	addr.sin6_port = htons((uint16_t)o->port);
	if (homa_bind(fd, (struct sockaddr *)&addr,
		      sizeof(struct sockaddr_in)) < 0) {
		fprintf(stderr, "homa-bench: bind to port %d: %s\n", o->port,
			strerror(errno));
		return 1;
	}
	while (!bench_stop) {
		struct msghdr msg = { &peer, sizeof(peer), 0, 0,
				      &args, sizeof(args), 0 };
		ssize_t n;

		args.id = 0;
		n = homa_recvmsg(fd, &msg, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue; /* SO_RCVTIMEO: check bench_stop */
		if (n < 0) {
			fprintf(stderr, "homa-bench: homa_recvmsg: %s\n",
				strerror(errno));
			ret = 1;
			break;
		}
		bench_served++;
		/* A reply that fails leaves its RPC in service and the client
		 * answered BUSY until it gives up: never silently. */
		if (homa_reply(fd, resp, o->resp_size, (struct sockaddr *)&peer,
			       msg.msg_namelen, args.id) < 0 &&
		    ++reply_errors <= 10)
			fprintf(stderr,
				"homa-bench: homa_reply to id %llu: %s\n",
				(unsigned long long)args.id, strerror(errno));
	}
	if (reply_errors) {
		fprintf(stderr, "homa-bench: %llu replies failed\n",
			(unsigned long long)reply_errors);
		ret = 1;
	}
	if (homa_close(fd) < 0)
		ret = 1;
	free(resp);
	return ret;
}

int bench_homa_peer(const struct bench_opts *o)
{
	uint8_t buf[100] = { 0 };
	uint64_t id;
	ssize_t n = -1;
	int fd = bh_socket(o, o->servers[0].ss_family), err;

	if (fd < 0)
		return -EIO; /* bh_socket printed why */
	if (homa_request(fd, buf, sizeof(buf),
			 (struct sockaddr *)&o->servers[0], o->server_len[0],
			 &id, 0, 0) == 0) {
		/* SO_RCVTIMEO ends each wait after 50 ms: 5 s in all. */
		for (int i = 0; i < 100 && n < 0 && !bench_stop; i++) {
			id = 0;
			n = homa_receive(fd, buf, sizeof(buf), 0, NULL, NULL,
					 &id, NULL);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				break;
		}
	}
	if (n < 0) {
		err = errno;
		homa_close(fd);
		return -err;
	}
	return fd;
}

int bench_homa_peer_close(int fd)
{
	return homa_close(fd);
}
