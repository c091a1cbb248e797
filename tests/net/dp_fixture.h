/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dp_fixture.h - the fixture shared by the datapath tests over loopback
 * (test_dp_batch.c, test_dp_udp.c): a transmit batch with a sending
 * socket and a receiving one bound to 127.0.0.1, and bt_without, which
 * runs a part of a test in a child whose seccomp filter fails some
 * system calls. Included by test programs only, after <cmocka.h>.
 */
#ifndef HOMA_TESTS_NET_DP_FIXTURE_H
#define HOMA_TESTS_NET_DP_FIXTURE_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "datapath.h"

struct bt {
	struct homa_dp dp;	 /* counters only */
	struct homa_dp_batch *b; /* the batch under test */
	int tx;			 /* sending socket */
	int rx;			 /* receiving socket, 127.0.0.1:port */
	uint16_t port;		 /* rx's port */
	struct homa_addr dst;	 /* 127.0.0.1 as a mapped address */
	uint8_t hdr[60];	 /* a header: byte i = i */
};

static inline int bt_setup(void **state)
{
	struct bt *t = calloc(1, sizeof(*t));
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	struct timeval tv = { 1, 0 };

	assert_non_null(t);
	t->b = calloc(1, sizeof(*t->b));
	assert_non_null(t->b);
	t->tx = socket(AF_INET, SOCK_DGRAM, 0);
	t->rx = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(t->tx >= 0 && t->rx >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(t->rx, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(t->rx, (struct sockaddr *)&a, &len), 0);
	setsockopt(t->rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	t->port = ntohs(a.sin_port);
	t->dst.a[10] = t->dst.a[11] = 0xff;
	memcpy(&t->dst.a[12], &a.sin_addr, 4);
	for (int i = 0; i < (int)sizeof(t->hdr); i++)
		t->hdr[i] = (uint8_t)i;
	*state = t;
	return 0;
}

static int bt_teardown(void **state)
{
	struct bt *t = *state;

	close(t->tx);
	close(t->rx);
	free(t->b);
	free(t);
	return 0;
}

/* Run fn in a child whose seccomp filter fails system call nr1 (-1:
 * none), and nr2 of one message (sendmmsg, recvmmsg), with ENOSYS;
 * returns fn's exit status (3: no seccomp here: skip). */
static inline int bt_without(int nr1, int nr2, int (*fn)(struct bt *),
			     struct bt *t)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr1, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr2, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, args[2])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };
	int status;
	pid_t child = fork();

	assert_true(child >= 0);
	if (child == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
			_exit(3);
		_exit(fn(t));
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
		skip(); /* no seccomp filters here */
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

#endif /* HOMA_TESTS_NET_DP_FIXTURE_H */
