/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_net_errno_msg.c - the errno tables of homa_sendmsg, homa_recvmsg,
 * homa_ioctl (HOMAIOCINFO, HOMAIOCABORT and its padding), homa_shutdown
 * and homa_close (spec/protocol.md 9.2-9.5), plus what the successful
 * rows promise: HOMAIOCABORT's errno reaches recvmsg with the id and
 * cookie, HOMAIOCINFO describes the RPCs (PRIVATE flag right, spec 13
 * item 10), a second waiter on a private id is refused, and a closed
 * descriptor is EBADF for every call. Traffic goes over loopback between
 * sockets of this process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "errno_table.h"

static socklen_t server_addr(struct sockaddr_in6 *sa)
{
	return nt_addr(sa, "127.0.0.1", (uint16_t)fx.port);
}

/* Send a request of len bytes from fd to the fixture's server. */
static uint64_t request(int fd, size_t len, uint64_t cookie, uint32_t flags)
{
	static uint8_t buf[100];
	struct sockaddr_in6 sa;
	socklen_t n = server_addr(&sa);
	uint64_t id = 0;

	assert_int_equal(homa_request(fd, buf, len, (struct sockaddr *)&sa, n,
				      &id, cookie, flags),
			 0);
	return id;
}

/* Wait for the next request at the server; its id and client address. */
static uint64_t serve_one(struct sockaddr_in6 *client, socklen_t *len)
{
	uint8_t buf[100];
	uint64_t id = 0;

	*len = sizeof(*client);
	assert_true(homa_receive(fx.fd[FD_SERVER], buf, sizeof(buf), 0,
				 (struct sockaddr *)client, len, &id,
				 NULL) > 0);
	return id;
}

enum name_kind { N_NONE, N_SERVER, N_V6, N_SHORT, N_CLIENT };
enum ctl_kind { C_OK, C_NULL, C_LEN24 };
enum id_kind { I_NEW, I_UNKNOWN, I_EVEN, I_SERVED };

static void test_sendmsg__table(void **state)
{
	static const struct {
		const char *what;
		enum fd_kind fd;
		bool null_msg;
		enum name_kind name;
		enum ctl_kind ctl;
		enum id_kind id;
		uint64_t cookie;
		uint32_t flags, reserved;
		size_t len;
		int expect;
	} rows[] = {
		{ "fd -1", FD_NEG, 0, N_SERVER, C_OK, I_NEW, 0, 0, 0, 10,
		  EBADF },
		{ "fd not open", FD_CLOSED, 0, N_SERVER, C_OK, I_NEW, 0, 0, 0,
		  10, EBADF },
		{ "pipe", FD_PIPE, 0, N_SERVER, C_OK, I_NEW, 0, 0, 0, 10,
		  ENOTSOCK },
		{ "UDP socket", FD_UDP, 0, N_SERVER, C_OK, I_NEW, 0, 0, 0, 10,
		  ENOTSOCK },
		{ "NULL msghdr", FD_V4, 1, N_SERVER, C_OK, I_NEW, 0, 0, 0, 10,
		  EFAULT },
		{ "no msg_name", FD_V4, 0, N_NONE, C_OK, I_NEW, 0, 0, 0, 10,
		  EINVAL },
		{ "msg_control NULL (unreadable)", FD_V4, 0, N_SERVER, C_NULL,
		  I_NEW, 0, 0, 0, 10, EFAULT },
		{ "msg_controllen 24 (not a user ptr)", FD_V4, 0, N_SERVER,
		  C_LEN24, I_NEW, 0, 0, 0, 10, EINVAL },
		{ "unknown flag 0x2", FD_V4, 0, N_SERVER, C_OK, I_NEW, 0, 2, 0,
		  10, EINVAL },
		{ "unknown flag 0x200", FD_V4, 0, N_SERVER, C_OK, I_NEW, 0,
		  0x200, 0, 10, EINVAL },
		{ "reserved 1", FD_V4, 0, N_SERVER, C_OK, I_NEW, 0, 0, 1, 10,
		  EINVAL },
		{ "AF_INET6 address, v4 socket", FD_V4, 0, N_V6, C_OK, I_NEW, 0,
		  0, 0, 10, EAFNOSUPPORT },
		{ "msg_namelen 8", FD_V4, 0, N_SHORT, C_OK, I_NEW, 0, 0, 0, 10,
		  EINVAL },
		{ "unknown flag and AF_INET6 address (flag first)", FD_V4, 0,
		  N_V6, C_OK, I_NEW, 0, 2, 0, 10, EINVAL },
		{ "length 0", FD_V4, 0, N_SERVER, C_OK, I_NEW, 0, 0, 0, 0,
		  EINVAL },
		{ "length 1,000,001", FD_V4, 0, N_SERVER, C_OK, I_NEW, 0, 0, 0,
		  1000001, EINVAL },
		{ "shut down", FD_SHUT, 0, N_SERVER, C_OK, I_NEW, 0, 0, 0, 10,
		  ESHUTDOWN },
		{ "request of 1 byte", FD_V4, 0, N_SERVER, C_OK, I_NEW, 0, 0, 0,
		  1, 0 },
		{ "request of 1,000,000 bytes", FD_V4, 0, N_SERVER, C_OK, I_NEW,
		  7, HOMA_SENDMSG_PRIVATE, 0, 1000000, 0 },
		{ "NOCOPY request of 10 bytes", FD_V4, 0, N_SERVER, C_OK, I_NEW,
		  0, HOMA_SENDMSG_NOCOPY, 0, 10, 0 },
		{ "NOCOPY request of 1,000,000 bytes", FD_V4, 0, N_SERVER, C_OK,
		  I_NEW, 0, HOMA_SENDMSG_NOCOPY, 0, 1000000, 0 },
		{ "NOCOPY reply to unknown id (not silent)", FD_SERVER, 0,
		  N_CLIENT, C_OK, I_UNKNOWN, 0, HOMA_SENDMSG_NOCOPY, 0, 10,
		  EINVAL },
		{ "NOCOPY reply (refused; the RPC stays in service)", FD_SERVER,
		  0, N_CLIENT, C_OK, I_SERVED, 0, HOMA_SENDMSG_NOCOPY, 0, 10,
		  EINVAL },
		{ "reply to unknown id (silent)", FD_SERVER, 0, N_CLIENT, C_OK,
		  I_UNKNOWN, 0, 0, 0, 10, 0 },
		{ "reply to even id", FD_SERVER, 0, N_CLIENT, C_OK, I_EVEN, 0,
		  0, 0, 10, EINVAL },
		{ "reply with a cookie", FD_SERVER, 0, N_CLIENT, C_OK, I_SERVED,
		  5, 0, 0, 10, EINVAL },
		{ "reply", FD_SERVER, 0, N_CLIENT, C_OK, I_SERVED, 0, 0, 0, 10,
		  0 },
		{ "reply again (not IN_SERVICE)", FD_SERVER, 0, N_CLIENT, C_OK,
		  I_SERVED, 0, 0, 0, 10, EINVAL },
	};
	static uint8_t buf[1000001];
	struct sockaddr_in6 client;
	socklen_t client_len;
	uint64_t served;
	int bad = 0;

	(void)state;
	request(fx.fd[FD_V4], 10, 1, 0);
	served = serve_one(&client, &client_len);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct homa_sendmsg_args args = { 0, rows[i].cookie,
						  rows[i].flags,
						  rows[i].reserved };
		struct iovec iov = { buf, rows[i].len };
		struct sockaddr_in6 sa;
		struct msghdr msg;
		long ret;

		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_name = &sa;
		msg.msg_namelen = server_addr(&sa);
		if (rows[i].name == N_NONE)
			msg.msg_name = NULL;
		else if (rows[i].name == N_V6)
			msg.msg_namelen = nt_addr(&sa, "::1", 1);
		else if (rows[i].name == N_SHORT)
			msg.msg_namelen = 8;
		else if (rows[i].name == N_CLIENT) {
			sa = client;
			msg.msg_namelen = client_len;
		}
		msg.msg_control = rows[i].ctl == C_NULL ? NULL : &args;
		msg.msg_controllen = rows[i].ctl == C_LEN24 ? 24 : 0;
		args.id = rows[i].id == I_UNKNOWN  ? 123457
			  : rows[i].id == I_EVEN   ? 2
			  : rows[i].id == I_SERVED ? served
						   : 0;
		errno = 0;
		ret = homa_sendmsg(fx.fd[rows[i].fd],
				   rows[i].null_msg ? NULL : &msg, 0);
		check(&bad, "homa_sendmsg", rows[i].what, ret, errno,
		      rows[i].expect);
		if (ret == 0 && rows[i].id == I_NEW &&
		    !(args.id && !(args.id & 1))) {
			printf("       no even id written back\n");
			bad++;
		}
		/* homa_request and homa_reply take their own path (no
		 * msghdr): the same errno for every row they can express
		 * (not the ones that need a msghdr, nor the replies with a
		 * cookie or flags; not the successes that use up their
		 * RPC). */
		if (rows[i].null_msg || rows[i].ctl != C_OK ||
		    rows[i].reserved || rows[i].name == N_NONE ||
		    (rows[i].id != I_NEW &&
		     (rows[i].cookie || rows[i].flags)) ||
		    (!rows[i].expect &&
		     (rows[i].len > 100 || rows[i].id == I_SERVED)))
			continue;
		errno = 0;
		if (rows[i].id == I_NEW) {
			uint64_t id = 0;

			ret = homa_request(fx.fd[rows[i].fd], buf, rows[i].len,
					   (struct sockaddr *)&sa,
					   msg.msg_namelen, &id, rows[i].cookie,
					   rows[i].flags);
			if (ret == 0 && !(id && !(id & 1))) {
				printf("       homa_request: no even id\n");
				bad++;
			}
		} else {
			ret = homa_reply(fx.fd[rows[i].fd], buf, rows[i].len,
					 (struct sockaddr *)&sa,
					 msg.msg_namelen, args.id);
		}
		check(&bad, rows[i].id == I_NEW ? "homa_request" : "homa_reply",
		      rows[i].what, ret, errno, rows[i].expect);
	}
	assert_int_equal(bad, 0);
}

enum off_kind { O_NONE, O_RANGE, O_FREE };
enum rid_kind { R_ANY, R_UNKNOWN, R_SHARED };

static void test_recvmsg__table(void **state)
{
	static const struct {
		const char *what;
		enum fd_kind fd;
		bool null_msg;
		enum ctl_kind ctl; /* C_LEN24 here: controllen 87 */
		uint32_t num_bpages, reserved;
		enum off_kind off;
		enum rid_kind id;
		int flags, expect;
	} rows[] = {
		{ "fd -1", FD_NEG, 0, C_OK, 0, 0, O_NONE, R_ANY, MSG_DONTWAIT,
		  EBADF },
		{ "fd not open", FD_CLOSED, 0, C_OK, 0, 0, O_NONE, R_ANY,
		  MSG_DONTWAIT, EBADF },
		{ "pipe", FD_PIPE, 0, C_OK, 0, 0, O_NONE, R_ANY, MSG_DONTWAIT,
		  ENOTSOCK },
		{ "UDP socket", FD_UDP, 0, C_OK, 0, 0, O_NONE, R_ANY,
		  MSG_DONTWAIT, ENOTSOCK },
		{ "NULL msghdr", FD_V4, 1, C_OK, 0, 0, O_NONE, R_ANY,
		  MSG_DONTWAIT, EFAULT },
		{ "msg_control NULL", FD_V4, 0, C_NULL, 0, 0, O_NONE, R_ANY,
		  MSG_DONTWAIT, EINVAL },
		{ "msg_controllen 87", FD_V4, 0, C_LEN24, 0, 0, O_NONE, R_ANY,
		  MSG_DONTWAIT, EINVAL },
		{ "num_bpages 17", FD_V4, 0, C_OK, 17, 0, O_NONE, R_ANY,
		  MSG_DONTWAIT, EINVAL },
		{ "reserved 1", FD_V4, 0, C_OK, 0, 1, O_NONE, R_ANY,
		  MSG_DONTWAIT, EINVAL },
		{ "bpage offset beyond the region", FD_V4, 0, C_OK, 1, 0,
		  O_RANGE, R_ANY, MSG_DONTWAIT, EINVAL },
		{ "bpage offset of a free page", FD_V4, 0, C_OK, 1, 0, O_FREE,
		  R_ANY, MSG_DONTWAIT, EINVAL },
		{ "id of no RPC", FD_V4, 0, C_OK, 0, 0, O_NONE, R_UNKNOWN,
		  MSG_DONTWAIT, EINVAL },
		{ "id of a shared (not private) RPC", FD_V4, 0, C_OK, 0, 0,
		  O_NONE, R_SHARED, MSG_DONTWAIT, EINVAL },
		{ "nothing ready, MSG_DONTWAIT", FD_V4, 0, C_OK, 0, 0, O_NONE,
		  R_ANY, MSG_DONTWAIT, EAGAIN },
		{ "shut down", FD_SHUT, 0, C_OK, 0, 0, O_NONE, R_ANY, 0,
		  ESHUTDOWN },
	};
	uint64_t shared;
	int bad = 0;

	(void)state;
	shared = request(fx.fd[FD_V4], 10, 1, 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct homa_recvmsg_args args;
		struct msghdr msg;
		long ret;

		memset(&args, 0, sizeof(args));
		memset(&msg, 0, sizeof(msg));
		args.num_bpages = rows[i].num_bpages;
		args.reserved = rows[i].reserved;
		args.bpage_offsets[0] = rows[i].off == O_RANGE ? 0xffff0000u
					: rows[i].off == O_FREE
						? 3 * HOMA_BPAGE_SIZE
						: 0;
		args.id = rows[i].id == R_UNKNOWN  ? 1000002
			  : rows[i].id == R_SHARED ? shared
						   : 0;
		msg.msg_control = rows[i].ctl == C_NULL ? NULL : &args;
		msg.msg_controllen = rows[i].ctl == C_LEN24 ? 87 : sizeof(args);
		errno = 0;
		ret = homa_recvmsg(fx.fd[rows[i].fd],
				   rows[i].null_msg ? NULL : &msg,
				   rows[i].flags);
		check(&bad, "homa_recvmsg", rows[i].what, ret, errno,
		      rows[i].expect);
		/* Spec 9.3: num_bpages reads 0 after a failed release, and
		 * id 0 when nothing was ready. */
		if (ret < 0 && rows[i].off != O_NONE && args.num_bpages) {
			printf("       num_bpages %u: wanted 0\n",
			       args.num_bpages);
			bad++;
		}
		if (ret < 0 && rows[i].expect == EAGAIN && args.id) {
			printf("       id %llu: wanted 0\n",
			       (unsigned long long)args.id);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* A thread waiting for private RPC id; returns the errno it ended with. */
struct waiter {
	int fd;		  /* socket */
	uint64_t id;	  /* private RPC waited for */
	int err;	  /* errno at the end */
	volatile bool in; /* about to call homa_recvmsg */
};

static void *wait_main(void *arg)
{
	struct waiter *w = arg;
	uint64_t id = w->id;
	char buf[16];

	w->in = true;
	if (homa_receive(w->fd, buf, sizeof(buf), 0, NULL, NULL, &id, NULL) < 0)
		w->err = errno;
	return NULL;
}

static void test_recvmsg__second_private_waiter(void **state)
{
	struct waiter w = { fx.fd[FD_V4], 0, 0, false };
	uint64_t id = request(fx.fd[FD_V4], 10, 9, HOMA_SENDMSG_PRIVATE);
	char buf[16];
	pthread_t t;

	(void)state;
	w.id = id;
	assert_int_equal(pthread_create(&t, NULL, wait_main, &w), 0);
	while (!w.in)
		usleep(1000);
	usleep(50000); /* let it block inside homa_recvmsg */
	errno = 0;
	assert_int_equal(homa_receive(fx.fd[FD_V4], buf, sizeof(buf),
				      MSG_DONTWAIT, NULL, NULL, &id, NULL),
			 -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(homa_shutdown(fx.fd[FD_V4], SHUT_RDWR), 0);
	pthread_join(t, NULL);
	assert_int_equal(w.err, ESHUTDOWN);
}

/* ---- signals: a blocked call returns EINTR (spec 9.2, 9.3) ---- */

enum sig_call { S_RECV_SHARED, S_RECV_PRIVATE, S_RECV_OTHER_POLLS, S_SEND };

/* A thread blocked in one call; what it ended with. */
struct sig_waiter {
	enum sig_call call; /* which call it makes */
	int fd;		    /* socket */
	uint64_t id;	    /* private RPC for S_RECV_PRIVATE */
	long ret;	    /* the call's return value */
	int err;	    /* errno after it */
	uint64_t end_ns;    /* when it returned */
	volatile bool in;   /* about to make the call */
	volatile pid_t tid; /* its thread id (set before in) */
	uint64_t delay_ns;  /* nt_run_delay_ns when it returned */
};

static volatile int sig_handled; /* handler runs */

static void sig_handler(int sig)
{
	(void)sig;
	sig_handled++;
}

static void *sig_main(void *arg)
{
	static uint8_t big[60000];
	struct sig_waiter *w = arg;
	uint64_t id = w->call == S_RECV_PRIVATE ? w->id : 0;
	struct sockaddr_in6 sa;
	socklen_t n = server_addr(&sa);
	char buf[16];

	w->tid = gettid();
	w->in = true;
	errno = 0;
	if (w->call == S_SEND)
		w->ret = homa_request(w->fd, big, sizeof(big),
				      (struct sockaddr *)&sa, n, &id, 0, 0);
	else
		w->ret = homa_receive(w->fd, buf, sizeof(buf), 0, NULL, NULL,
				      &id, NULL);
	w->err = errno;
	w->end_ns = nt_now_ns();
	w->delay_ns = nt_run_delay_ns(0); /* this thread still counts */
	return NULL;
}

/* A helper that holds the poller role: blocked in a shared receive on
 * the (idle) server socket until it is shut down (ESHUTDOWN). */
static void *poller_main(void *arg)
{
	char buf[16];
	uint64_t id = 0;

	if (homa_receive(*(int *)arg, buf, sizeof(buf), 0, NULL, NULL, &id,
			 NULL) != -1 ||
	    errno != ESHUTDOWN)
		nt_fail("poller thread: receive did not end with ESHUTDOWN");
	return NULL;
}

static void test_signal__blocked_call_is_eintr(void **state)
{
	static const struct {
		const char *what;
		enum sig_call call;
		int sa_flags;
	} rows[] = {
		{ "recvmsg any (thread polls)", S_RECV_SHARED, 0 },
		{ "recvmsg any, SA_RESTART (still EINTR)", S_RECV_SHARED,
		  SA_RESTART },
		{ "recvmsg private id (thread polls)", S_RECV_PRIVATE, 0 },
		{ "recvmsg any (another thread polls)", S_RECV_OTHER_POLLS, 0 },
		{ "sendmsg at wmem_max", S_SEND, 0 },
	};
	static uint8_t big[60000];
	int bad = 0, helper = homa_socket(AF_INET);
	struct sockaddr_in6 addr;
	socklen_t addr_len = server_addr(&addr);
	struct sigaction sa, old;
	pthread_t poller;

	(void)state;
	assert_true(helper >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sig_handler;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct sig_waiter w = { .call = rows[i].call,
					.fd = fx.fd[FD_V4] };
		struct sockaddr_in6 client;
		socklen_t client_len;
		uint64_t t0, delay0, id = 0;
		int handled = sig_handled;
		double waited;
		char buf[16];
		pthread_t t;

		sa.sa_flags = rows[i].sa_flags;
		assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
		if (w.call == S_RECV_PRIVATE)
			w.id = request(w.fd, 10, 3, HOMA_SENDMSG_PRIVATE);
		if (w.call == S_RECV_OTHER_POLLS) {
			assert_int_equal(pthread_create(&poller, NULL,
							poller_main, &helper),
					 0);
			usleep(20000); /* it takes the poller role */
		}
		if (w.call == S_SEND) {
			/* A request held until its response: the next one
			 * blocks at wmem_max. */
			assert_int_equal(homa_config_param("wmem_max", "50000"),
					 0);
			assert_int_equal(homa_request(w.fd, big, sizeof(big),
						      (struct sockaddr *)&addr,
						      addr_len, &id, 0, 0),
					 0);
		}
		assert_int_equal(pthread_create(&t, NULL, sig_main, &w), 0);
		while (!w.in)
			usleep(1000);
		usleep(50000); /* let it block inside the call */
		/* and, on a starved host, wait until it has */
		if (!nt_await_blocked(w.tid, 2000))
			printf("       (the thread did not block within 2 "
			       "s)\n");
		t0 = nt_now_ns();
		delay0 = nt_run_delay_ns(0);
		pthread_kill(t, SIGUSR1);
		pthread_join(t, NULL);
		/* Prompt: within 20 ms, and the time this process's threads
		 * waited for a CPU meanwhile (a starved host). */
		waited = w.delay_ns > delay0
				 ? (double)(w.delay_ns - delay0) / 1e6
				 : 0;
		check(&bad, w.call == S_SEND ? "homa_sendmsg" : "homa_recvmsg",
		      rows[i].what, w.ret, w.err, EINTR);
		if (sig_handled == handled ||
		    (double)(w.end_ns - t0) / 1e6 > 20 + waited) {
			printf("       handler ran %d times, returned after "
			       "%.1f ms (over 20 ms + %.1f ms waited for a "
			       "CPU?)\n",
			       sig_handled - handled,
			       (double)(w.end_ns - t0) / 1e6, waited);
			bad++;
		}
		sigaction(SIGUSR1, &old, NULL);
		if (w.call == S_RECV_OTHER_POLLS) {
			nt_shutdown(helper);
			pthread_join(poller, NULL);
		}
		if (w.call == S_SEND)
			assert_int_equal(
				homa_config_param("wmem_max", "100000000"), 0);
		/* The socket still works: the requests made above and a new
		 * one are answered and received. */
		id = request(w.fd, 10, 0, 0);
		for (;;) {
			uint64_t got = 0, served;

			served = serve_one(&client, &client_len);
			assert_int_equal(homa_reply(fx.fd[FD_SERVER], "ok", 2,
						    (struct sockaddr *)&client,
						    client_len, served),
					 0);
			got = w.call == S_RECV_PRIVATE ? w.id : 0;
			if (w.call == S_RECV_PRIVATE) {
				assert_int_equal(
					homa_receive(w.fd, buf, sizeof(buf), 0,
						     NULL, NULL, &got, NULL),
					2);
				w.call = S_RECV_SHARED;
				continue;
			}
			assert_int_equal(homa_receive(w.fd, buf, sizeof(buf), 0,
						      NULL, NULL, &got, NULL),
					 2);
			if (got == id)
				break;
		}
	}
	nt_close(helper);
	assert_int_equal(bad, 0);
}

enum arg_kind { A_NULL, A_INFO, A_INFO_NULLBUF, A_ABORT };

static void test_ioctl__table(void **state)
{
	static const struct {
		const char *what;
		enum fd_kind fd;
		unsigned long request;
		enum arg_kind arg;
		uint64_t id;
		uint32_t pad1;
		uint64_t pad2_0, pad2_1;
		int expect;
	} rows[] = {
		{ "fd -1", FD_NEG, HOMAIOCINFO, A_INFO, 0, 0, 0, 0, EBADF },
		{ "fd not open", FD_CLOSED, HOMAIOCINFO, A_INFO, 0, 0, 0, 0,
		  EBADF },
		{ "pipe", FD_PIPE, HOMAIOCINFO, A_INFO, 0, 0, 0, 0, ENOTSOCK },
		{ "UDP socket", FD_UDP, HOMAIOCABORT, A_ABORT, 0, 0, 0, 0,
		  ENOTSOCK },
		{ "unknown request 0x1234", FD_V4, 0x1234, A_INFO, 0, 0, 0, 0,
		  EINVAL },
		{ "INFO, NULL argument", FD_V4, HOMAIOCINFO, A_NULL, 0, 0, 0, 0,
		  EFAULT },
		{ "INFO, rpc_info NULL, length 184", FD_V4, HOMAIOCINFO,
		  A_INFO_NULLBUF, 0, 0, 0, 0, EFAULT },
		{ "INFO", FD_V4, HOMAIOCINFO, A_INFO, 0, 0, 0, 0, 0 },
		{ "INFO, shut down", FD_SHUT, HOMAIOCINFO, A_INFO, 0, 0, 0, 0,
		  ESHUTDOWN },
		{ "ABORT, NULL argument", FD_V4, HOMAIOCABORT, A_NULL, 0, 0, 0,
		  0, EFAULT },
		{ "ABORT, _pad1 1", FD_V4, HOMAIOCABORT, A_ABORT, 0, 1, 0, 0,
		  EINVAL },
		{ "ABORT, _pad2[0] 1", FD_V4, HOMAIOCABORT, A_ABORT, 0, 0, 1, 0,
		  EINVAL },
		{ "ABORT, _pad2[1] 1", FD_V4, HOMAIOCABORT, A_ABORT, 0, 0, 0, 1,
		  EINVAL },
		{ "ABORT, id of no RPC", FD_V4, HOMAIOCABORT, A_ABORT, 4000000,
		  0, 0, 0, EINVAL },
		{ "ABORT, odd id", FD_V4, HOMAIOCABORT, A_ABORT, 4000001, 0, 0,
		  0, EINVAL },
		{ "ABORT, id 0 (all)", FD_V4, HOMAIOCABORT, A_ABORT, 0, 0, 0, 0,
		  0 },
		{ "ABORT, shut down", FD_SHUT, HOMAIOCABORT, A_ABORT, 0, 0, 0,
		  0, ESHUTDOWN },
		{ "FREEZE", FD_V4, HOMAIOCFREEZE, A_NULL, 0, 0, 0, 0, 0 },
	};
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct homa_abort_args ab = { rows[i].id,
					      0,
					      rows[i].pad1,
					      { rows[i].pad2_0,
						rows[i].pad2_1 } };
		struct homa_info info;
		void *arg = NULL;
		long ret;

		memset(&info, 0, sizeof(info));
		if (rows[i].arg == A_INFO)
			arg = &info;
		else if (rows[i].arg == A_INFO_NULLBUF) {
			info.rpc_info_length = sizeof(struct homa_rpc_info);
			arg = &info;
		} else if (rows[i].arg == A_ABORT)
			arg = &ab;
		errno = 0;
		ret = homa_ioctl(fx.fd[rows[i].fd], rows[i].request, arg);
		check(&bad, "homa_ioctl", rows[i].what, ret, errno,
		      rows[i].expect);
	}
	assert_int_equal(bad, 0);
}

/* HOMAIOCABORT with an errno: recvmsg reports it with id and cookie. */
static void test_ioctl__abort_reaches_recvmsg(void **state)
{
	uint64_t id = request(fx.fd[FD_V4], 10, 77, 0), got = 0, cookie = 0;
	struct homa_abort_args ab = { id, ECANCELED, 0, { 0, 0 } };
	char buf[16];

	(void)state;
	assert_int_equal(homa_ioctl(fx.fd[FD_V4], HOMAIOCABORT, &ab), 0);
	assert_int_equal(homa_receive(fx.fd[FD_V4], buf, sizeof(buf),
				      MSG_DONTWAIT, NULL, NULL, &got, &cookie),
			 -1);
	assert_int_equal(errno, ECANCELED);
	assert_int_equal(got, id);
	assert_int_equal(cookie, 77);
	/* error 0 discards silently. */
	id = request(fx.fd[FD_V4], 10, 78, 0);
	ab.id = id;
	ab.error = 0;
	assert_int_equal(homa_ioctl(fx.fd[FD_V4], HOMAIOCABORT, &ab), 0);
	got = 0;
	assert_int_equal(homa_receive(fx.fd[FD_V4], buf, sizeof(buf),
				      MSG_DONTWAIT, NULL, NULL, &got, NULL),
			 -1);
	assert_int_equal(errno, EAGAIN);
}

/* HOMAIOCINFO: port, RPC count, per-RPC records with the right flags. */
static void test_ioctl__info_describes_rpcs(void **state)
{
	struct homa_rpc_info recs[4];
	struct homa_info info;
	uint64_t priv, shared;
	bool seen_priv = false, seen_shared = false;
	struct msghdr bad_msg = { 0 };

	(void)state;
	priv = request(fx.fd[FD_V4], 10, 1, HOMA_SENDMSG_PRIVATE);
	shared = request(fx.fd[FD_V4], 20, 2, 0);
	assert_int_equal(homa_sendmsg(fx.fd[FD_V4], &bad_msg, 0), -1);
	memset(&info, 0, sizeof(info));
	info.rpc_info = (uintptr_t)recs;
	info.rpc_info_length = sizeof(recs);
	assert_int_equal(homa_ioctl(fx.fd[FD_V4], HOMAIOCINFO, &info), 0);
	assert_int_equal(info.num_rpcs, 2);
	assert_true(info.port >= HOMA_MIN_DEFAULT_PORT);
	assert_true(info.bpool_avail_bytes > 0);
	assert_true(info.error_msg[0] != 0); /* the failed sendmsg */
	for (int i = 0; i < 2; i++) {
		if (recs[i].id == priv) {
			seen_priv = true;
			assert_true(recs[i].flags & HOMA_RPC_PRIVATE);
			assert_int_equal(recs[i].completion_cookie, 1);
			assert_int_equal(recs[i].tx_length, 10);
		} else if (recs[i].id == shared) {
			seen_shared = true;
			assert_false(recs[i].flags & HOMA_RPC_PRIVATE);
			assert_int_equal(recs[i].tx_length, 20);
		}
		assert_int_equal(recs[i].peer.in4.sin_family, AF_INET);
		assert_int_equal(ntohs(recs[i].peer.in4.sin_port), fx.port);
	}
	assert_true(seen_priv && seen_shared);
}

static void test_shutdown_close__table(void **state)
{
	static const struct {
		const char *what;
		enum fd_kind fd;
		bool close; /* homa_close instead of homa_shutdown */
		int expect;
	} rows[] = {
		{ "shutdown fd -1", FD_NEG, 0, EBADF },
		{ "shutdown fd not open", FD_CLOSED, 0, EBADF },
		{ "shutdown pipe", FD_PIPE, 0, ENOTSOCK },
		{ "shutdown UDP socket", FD_UDP, 0, ENOTSOCK },
		{ "shutdown", FD_V4, 0, 0 },
		{ "shutdown again", FD_V4, 0, 0 },
		{ "close fd -1", FD_NEG, 1, EBADF },
		{ "close fd not open", FD_CLOSED, 1, EBADF },
		{ "close pipe", FD_PIPE, 1, ENOTSOCK },
		{ "close UDP socket", FD_UDP, 1, ENOTSOCK },
		{ "close shut-down socket", FD_V4, 1, 0 },
		{ "close again", FD_V4, 1, EBADF },
	};
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int fd = fx.fd[rows[i].fd], ret;

		errno = 0;
		ret = rows[i].close ? homa_close(fd) : homa_shutdown(fd, 0);
		check(&bad, rows[i].close ? "homa_close" : "homa_shutdown",
		      rows[i].what, ret, errno, rows[i].expect);
	}
	/* The closed number is EBADF for every call (the fixture's close
	 * of it fails harmlessly). */
	{
		int fd = fx.fd[FD_V4], on = 1;
		socklen_t len = sizeof(on);
		struct homa_info info = { 0 };
		struct msghdr msg = { 0 };
		long ret;

		ret = homa_bind(fd, NULL, 0);
		check(&bad, "homa_bind", "closed socket", ret, errno, EBADF);
		ret = homa_getsockopt(fd, IPPROTO_HOMA, SO_HOMA_SERVER, &on,
				      &len);
		check(&bad, "homa_getsockopt", "closed socket", ret, errno,
		      EBADF);
		ret = homa_sendmsg(fd, &msg, 0);
		check(&bad, "homa_sendmsg", "closed socket", ret, errno, EBADF);
		ret = homa_recvmsg(fd, &msg, 0);
		check(&bad, "homa_recvmsg", "closed socket", ret, errno, EBADF);
		ret = homa_ioctl(fd, HOMAIOCINFO, &info);
		check(&bad, "homa_ioctl", "closed socket", ret, errno, EBADF);
	}
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sendmsg__table, fixture_up,
						fixture_down),
		cmocka_unit_test_setup_teardown(test_recvmsg__table, fixture_up,
						fixture_down),
		cmocka_unit_test_setup_teardown(
			test_recvmsg__second_private_waiter, fixture_up,
			fixture_down),
		cmocka_unit_test_setup_teardown(
			test_signal__blocked_call_is_eintr, fixture_up,
			fixture_down),
		cmocka_unit_test_setup_teardown(test_ioctl__table, fixture_up,
						fixture_down),
		cmocka_unit_test_setup_teardown(
			test_ioctl__abort_reaches_recvmsg, fixture_up,
			fixture_down),
		cmocka_unit_test_setup_teardown(test_ioctl__info_describes_rpcs,
						fixture_up, fixture_down),
		cmocka_unit_test_setup_teardown(test_shutdown_close__table,
						fixture_up, fixture_down),
	};

	alarm(120);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
