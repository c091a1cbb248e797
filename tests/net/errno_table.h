/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * errno_table.h - the fixture shared by the errno table tests
 * (test_net_errno.c, test_net_errno_msg.c): a fresh set of descriptors of
 * every kind a row can name, and check(), which prints one row and counts
 * it if the call did not end as the row says. Included by test programs
 * only (its functions are static).
 */
#ifndef HOMA_TESTS_NET_ERRNO_TABLE_H
#define HOMA_TESTS_NET_ERRNO_TABLE_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net_util.h"

/* Which descriptor a row uses. */
enum fd_kind {
	FD_V4,	   /* fresh AF_INET Homa socket */
	FD_V6,	   /* fresh AF_INET6 Homa socket */
	FD_SERVER, /* AF_INET socket bound to fx.port */
	FD_SHUT,   /* AF_INET socket after homa_shutdown */
	FD_NEG,	   /* -1 */
	FD_CLOSED, /* a number that is not open */
	FD_PIPE,   /* an open pipe */
	FD_UDP,	   /* an open UDP socket (a socket, but not Homa) */
	FD_COUNT,
};

static const char *const fd_names[FD_COUNT] = {
	"v4", "v6", "server", "shut down", "-1", "not open", "pipe", "udp",
};

struct fixture {
	int fd[FD_COUNT]; /* by enum fd_kind */
	int pipe_w;	  /* write end of the pipe */
	int port;	  /* FD_SERVER's port */
	int extra[8];	  /* more Homa sockets made by rows */
	int num_extra;	  /* entries in extra */
};

static struct fixture fx;

static int fixture_up(void **state)
{
	int p[2];

	(void)state;
	memset(&fx, 0, sizeof(fx));
	fx.fd[FD_V4] = homa_socket(AF_INET);
	fx.fd[FD_V6] = homa_socket(AF_INET6);
	fx.fd[FD_SERVER] = homa_socket(AF_INET);
	fx.fd[FD_SHUT] = homa_socket(AF_INET);
	if (fx.fd[FD_V4] < 0 || fx.fd[FD_V6] < 0 || fx.fd[FD_SERVER] < 0 ||
	    fx.fd[FD_SHUT] < 0 || pipe(p) < 0)
		return -1;
	fx.port = nt_bind_any(fx.fd[FD_SERVER], AF_INET, 20000, 30000);
	if (fx.port < 0 || homa_shutdown(fx.fd[FD_SHUT], SHUT_RDWR) < 0)
		return -1;
	fx.fd[FD_NEG] = -1;
	fx.fd[FD_CLOSED] = 1000000; /* above any descriptor limit in use */
	fx.fd[FD_PIPE] = p[0];
	fx.pipe_w = p[1];
	fx.fd[FD_UDP] = socket(AF_INET, SOCK_DGRAM, 0);
	return fx.fd[FD_UDP] < 0 ? -1 : 0;
}

static int fixture_down(void **state)
{
	(void)state;
	for (int k = FD_V4; k <= FD_SHUT; k++)
		homa_close(fx.fd[k]);
	for (int i = 0; i < fx.num_extra; i++)
		homa_close(fx.extra[i]);
	close(fx.fd[FD_PIPE]);
	close(fx.pipe_w);
	close(fx.fd[FD_UDP]);
	return 0;
}

/* Check one row: ret < 0 must come with errno `expect`; expect 0 means
 * the call must succeed. Counts mismatches in *bad. */
static void check(int *bad, const char *call, const char *what, long ret,
		  int err, int expect)
{
	bool ok = expect ? (ret < 0 && err == expect) : ret >= 0;

	printf("  %-4s %-14s %-46s -> %s%s\n", ok ? "ok" : "BAD", call, what,
	       ret >= 0 ? "success" : strerror(err),
	       ok	? ""
	       : expect ? " (wanted error)"
			: " (wanted success)");
	if (!ok) {
		if (expect)
			printf("       wanted %s\n", strerror(expect));
		(*bad)++;
	}
}

#endif /* HOMA_TESTS_NET_ERRNO_TABLE_H */
