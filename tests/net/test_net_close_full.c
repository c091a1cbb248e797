/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_net_close_full.c - closing a socket whose outgoing messages are at
 * the wmem_max limit (issue 19: a homa-bench client crashed in its
 * background thread after closing such a socket at the end of a soak).
 * Closing frees the socket's RPCs; the last request freed makes the
 * socket writable again, and the core's wake-up put the library's socket
 * on the list of descriptors to bring up to date, after the close had
 * emptied that list and just before it freed the socket: the next
 * library call (or the background thread) read the freed socket. Here a
 * client socket holds one outstanding request with wmem_max 1 byte (a
 * server socket of this process takes the request and never answers), a
 * second request fails with EAGAIN under MSG_DONTWAIT, the client socket
 * is closed, and other calls follow; it must not crash (ASan, in CI,
 * names the use after free exactly).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "homa.h"

static void close_at_wmem_limit__no_use_after_free(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	static char buf[1000], rbuf[2000];
	struct msghdr msg = { 0 };
	struct homa_sendmsg_args args = { 0 };
	struct iovec iov = { buf, sizeof(buf) };
	uint64_t id = 0;
	int srv, cli, port;

	(void)state;
	assert_int_equal(homa_config_param("wmem_max", "1"), 0);
	srv = homa_socket(AF_INET);
	assert_true(srv >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (port = 1000 + getpid() % 20000;; port++) {
		a.sin_port = htons((uint16_t)port);
		if (homa_bind(srv, (struct sockaddr *)&a, sizeof(a)) == 0)
			break;
		assert_int_equal(errno, EADDRINUSE);
	}
	for (int round = 0; round < 20; round++) {
		struct sockaddr_in src;
		socklen_t srclen = sizeof(src);
		uint64_t sid = 0;

		cli = homa_socket(AF_INET);
		assert_true(cli >= 0);
		assert_int_equal(homa_request(cli, buf, sizeof(buf),
					      (struct sockaddr *)&a, sizeof(a),
					      &id, 1, 0),
				 0);
		/* The socket is at its limit: the next request must wait. */
		msg.msg_name = &a;
		msg.msg_namelen = sizeof(a);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = &args;
		msg.msg_controllen = 0; /* Linux Homa: a pointer only */
		args.id = 0;
		assert_int_equal(homa_sendmsg(cli, &msg, MSG_DONTWAIT), -1);
		assert_int_equal(errno, EAGAIN);
		/* The server takes the request and never answers it. */
		assert_true(homa_receive(srv, rbuf, sizeof(rbuf), 0,
					 (struct sockaddr *)&src, &srclen, &sid,
					 NULL) == (ssize_t)sizeof(buf));
		assert_int_equal(homa_close(cli), 0);
		/* Calls after the close bring the pending list up to date. */
		sid = 0;
		srclen = sizeof(src);
		assert_int_equal(homa_receive(srv, rbuf, sizeof(rbuf),
					      MSG_DONTWAIT,
					      (struct sockaddr *)&src, &srclen,
					      &sid, NULL),
				 -1);
		assert_int_equal(errno, EAGAIN);
		usleep(2000); /* and the background thread */
	}
	assert_int_equal(homa_close(srv), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(close_at_wmem_limit__no_use_after_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
