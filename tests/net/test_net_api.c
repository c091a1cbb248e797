/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_net_api.c - libhoma's behaviour beyond single calls, over loopback:
 *
 *  - poll/epoll readiness (spec 9.4): a socket's descriptor is readable
 *    when a shared message is ready and not before (nor for private
 *    responses), and writable while its outgoing memory is under
 *    wmem_max; this program sets HOMA_WMEM_MAX=50000 for itself so that
 *    one 60 KB request makes the socket unwritable and a MSG_DONTWAIT
 *    send fail with EAGAIN;
 *  - the receive region the library provides when the application
 *    registers none (spec 13 item 11);
 *  - ICMP: a request to a port where nothing listens ends with ENOTCONN
 *    (UDP datapath, IP_RECVERR); so does one to a socket not in server
 *    mode (both datapaths, the library answers with ICMP; root);
 *  - HOMA_SENDMSG_NOCOPY: a lent request arrives whole, one of several
 *    pieces is copied (the caller may change them at once);
 *  - configuration: every HOMA_<PARAMETER> variable is read and a bad
 *    value makes homa_socket fail with EINVAL and a message naming the
 *    variable (checked in fresh processes: this program re-executes
 *    itself with "--env-child"); homa_config_param at run time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "net_util.h"

#define WMEM_MAX 50000

static int srv, srv_port, cli;
static struct sockaddr_in6 srv_addr;
static socklen_t srv_len;

static int sockets_up(void **state)
{
	(void)state;
	srv = homa_socket(AF_INET);
	cli = homa_socket(AF_INET);
	if (srv < 0 || cli < 0)
		return -1;
	srv_port = nt_bind_any(srv, AF_INET, 20000, 30000);
	srv_len = nt_addr(&srv_addr, "127.0.0.1", (uint16_t)srv_port);
	return srv_port < 0 ? -1 : 0;
}

static int sockets_down(void **state)
{
	(void)state;
	nt_close(srv);
	nt_close(cli);
	return 0;
}

static int poll_one(int fd, short events, int timeout_ms)
{
	struct pollfd p = { fd, events, 0 };

	if (poll(&p, 1, timeout_ms) < 0)
		return -1;
	return p.revents & events;
}

static uint64_t send_req(int fd, size_t len, uint32_t flags)
{
	static uint8_t buf[HOMA_MAX_MESSAGE_LENGTH];
	uint64_t id = 0;

	assert_int_equal(homa_request(fd, buf, len,
				      (struct sockaddr *)&srv_addr, srv_len,
				      &id, 1, flags),
			 0);
	return id;
}

/* Receive one request at the server and answer it with the first
 * reply_len bytes of the server's copy; that copy, whose length goes to
 * *len if len is not NULL. */
static const uint8_t *serve_one_len(size_t reply_len, ssize_t *len)
{
	static uint8_t buf[HOMA_MAX_MESSAGE_LENGTH];
	struct sockaddr_in6 peer;
	socklen_t plen = sizeof(peer);
	uint64_t id = 0;
	ssize_t n = homa_receive(srv, buf, sizeof(buf), 0,
				 (struct sockaddr *)&peer, &plen, &id, NULL);

	assert_true(n > 0);
	assert_int_equal(homa_reply(srv, buf, reply_len,
				    (struct sockaddr *)&peer, plen, id),
			 0);
	if (len)
		*len = n;
	return buf;
}

static void serve_one(size_t reply_len)
{
	serve_one_len(reply_len, NULL);
}

static void test_poll__readable_only_when_ready(void **state)
{
	char buf[200];
	uint64_t id = 0;

	(void)state;
	assert_int_equal(poll_one(srv, POLLIN, 50), 0);
	send_req(cli, 100, 0);
	assert_int_equal(poll_one(srv, POLLIN, 5000), POLLIN);
	/* Readable means a message is really there. */
	assert_int_equal(homa_receive(srv, buf, sizeof(buf), MSG_DONTWAIT, NULL,
				      NULL, &id, NULL),
			 100);
	assert_int_equal(poll_one(srv, POLLIN, 0), 0);
	/* Not readable while the response is private... */
	id = send_req(cli, 100, HOMA_SENDMSG_PRIVATE);
	serve_one(300);
	assert_int_equal(poll_one(cli, POLLIN, 200), 0);
	/* ...though it is there for a receive that names it. */
	assert_int_equal(
		homa_receive(cli, buf, sizeof(buf), 0, NULL, NULL, &id, NULL),
		300);
	/* A shared response makes the client readable. */
	send_req(cli, 100, 0);
	serve_one(200);
	assert_int_equal(poll_one(cli, POLLIN, 5000), POLLIN);
	id = 0;
	assert_int_equal(homa_receive(cli, buf, sizeof(buf), MSG_DONTWAIT, NULL,
				      NULL, &id, NULL),
			 200);
	assert_int_equal(poll_one(cli, POLLIN, 0), 0);
}

static void test_epoll__readable_only_when_ready(void **state)
{
	struct epoll_event ev = { .events = EPOLLIN }, out;
	int ep = epoll_create1(0);
	char buf[200];
	uint64_t id = 0;

	(void)state;
	assert_true(ep >= 0);
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, srv, &ev), 0);
	assert_int_equal(epoll_wait(ep, &out, 1, 50), 0);
	send_req(cli, 150, 0);
	assert_int_equal(epoll_wait(ep, &out, 1, 5000), 1);
	assert_true(out.events & EPOLLIN);
	assert_int_equal(homa_receive(srv, buf, sizeof(buf), MSG_DONTWAIT, NULL,
				      NULL, &id, NULL),
			 150);
	assert_int_equal(epoll_wait(ep, &out, 1, 0), 0);
	close(ep);
}

/* Shut down: readable (spec 9.4). */
static void test_poll__readable_after_shutdown(void **state)
{
	(void)state;
	assert_int_equal(poll_one(cli, POLLIN, 0), 0);
	assert_int_equal(homa_shutdown(cli, SHUT_RDWR), 0);
	assert_int_equal(poll_one(cli, POLLIN, 1000), POLLIN);
}

/*
 * Writable while outgoing memory < wmem_max. eagain_first: try a
 * MSG_DONTWAIT send while unwritable before the memory comes back.
 */
static void writable_case(bool eagain_first)
{
	static uint8_t buf[WMEM_MAX + 10000];
	struct homa_sendmsg_args args = { 0, 0, 0, 0 };
	struct iovec iov = { buf, 100 };
	struct msghdr msg = { &srv_addr, srv_len, &iov, 1, &args, 0, 0 };
	uint64_t id = 0;

	assert_int_equal(poll_one(cli, POLLOUT, 0), POLLOUT);
	send_req(cli, sizeof(buf), 0); /* held until the response comes */
	assert_int_equal(poll_one(cli, POLLOUT, 0), 0);
	if (eagain_first) {
		errno = 0;
		assert_int_equal(homa_sendmsg(cli, &msg, MSG_DONTWAIT), -1);
		assert_int_equal(errno, EAGAIN);
	}
	serve_one(10);
	assert_int_equal(
		homa_receive(cli, buf, sizeof(buf), 0, NULL, NULL, &id, NULL),
		10);
	/* The request's memory is freed once its RPC is reaped. */
	assert_int_equal(poll_one(cli, POLLOUT, 2000), POLLOUT);
	args.id = 0;
	assert_int_equal(homa_sendmsg(cli, &msg, MSG_DONTWAIT), 0);
}

static void test_poll__writable_after_eagain(void **state)
{
	(void)state;
	writable_case(true);
}

static void test_poll__writable_without_eagain(void **state)
{
	(void)state;
	writable_case(false);
}

/* No SO_HOMA_RCVBUF anywhere: the library provides regions. */
/* O_NONBLOCK on the descriptor means MSG_DONTWAIT (spec 9.2, 9.3). */
static void test_nonblock__o_nonblock_gives_eagain(void **state)
{
	struct homa_recvmsg_args args;
	struct msghdr msg;
	int fl = fcntl(cli, F_GETFL);

	(void)state;
	memset(&args, 0, sizeof(args));
	memset(&msg, 0, sizeof(msg));
	msg.msg_control = &args;
	msg.msg_controllen = sizeof(args);
	assert_int_equal(fcntl(cli, F_SETFL, fl | O_NONBLOCK), 0);
	errno = 0;
	assert_int_equal(homa_recvmsg(cli, &msg, 0), -1);
	assert_int_equal(errno, EAGAIN);
	/* Back to blocking: a reply that exists is received. */
	assert_int_equal(fcntl(cli, F_SETFL, fl), 0);
	send_req(cli, 100, 0);
	serve_one(10);
	memset(&args, 0, sizeof(args));
	assert_int_equal(homa_recvmsg(cli, &msg, 0), 10);
}

static void test_region__provided_by_library(void **state)
{
	struct homa_rcvbuf_args a = { 1, 1 };
	socklen_t len = sizeof(a);
	char buf[5000];
	uint64_t id = 0;

	(void)state;
	send_req(cli, 3000, 0);
	serve_one(4000);
	assert_int_equal(
		homa_receive(cli, buf, sizeof(buf), 0, NULL, NULL, &id, NULL),
		4000);
	assert_int_equal(
		homa_getsockopt(cli, IPPROTO_HOMA, SO_HOMA_RCVBUF, &a, &len),
		0);
	assert_true(a.start != 0 && a.start % 4096 == 0);
	assert_true(a.length >= 2 * HOMA_MAX_MESSAGE_LENGTH);
}

static void icmp_case(int family, const char *host)
{
	struct sockaddr_in6 sa;
	socklen_t len = sizeof(sa);
	int fd = homa_socket(family), udp = socket(family, SOCK_DGRAM, 0);
	uint64_t id = 0, want, t0;
	char buf[16] = { 0 };

	assert_true(fd >= 0 && udp >= 0);
	/* A port free a moment ago: nothing listens there. */
	nt_addr(&sa, host, 0);
	assert_int_equal(bind(udp, (struct sockaddr *)&sa, len), 0);
	assert_int_equal(getsockname(udp, (struct sockaddr *)&sa, &len), 0);
	close(udp);
	t0 = nt_now_ns();
	assert_int_equal(homa_request(fd, buf, sizeof(buf),
				      (struct sockaddr *)&sa, len, &want, 0, 0),
			 0);
	errno = 0;
	assert_int_equal(
		homa_receive(fd, buf, sizeof(buf), 0, NULL, NULL, &id, NULL),
		-1);
	assert_int_equal(errno, ENOTCONN);
	assert_int_equal(id, want);
	printf("  %s: ENOTCONN after %.1f ms\n", host,
	       (double)(nt_now_ns() - t0) / 1e6);
	nt_close(fd);
}

static void test_icmp__no_listener_is_enotconn(void **state)
{
	(void)state;
	icmp_case(AF_INET, "127.0.0.1");
	icmp_case(AF_INET6, "::1");
}

/*
 * Child mode "--not-server DP FAMILY KIND": a request to a socket of this
 * process that is not in server mode (KIND "unbound": a fresh socket,
 * reached at its client port; "off": bound, then SO_HOMA_SERVER 0).
 * Prints the errno and the time it took; exits 0 on ENOTCONN within
 * 50 ms (well below the 100 ms timeout) plus the time the process waited
 * for a CPU meanwhile (nt_run_delay_ns: a starved host), else 1.
 */
static int not_server_child(const char *dp, const char *fam, const char *kind)
{
	int family = strcmp(fam, "6") == 0 ? AF_INET6 : AF_INET, off = 0;
	const char *host = family == AF_INET6 ? "::1" : "127.0.0.1";
	struct homa_info info;
	struct sockaddr_in6 sa;
	uint64_t id = 0, t0, delay0, ms_x10;
	char buf[16] = { 0 };
	int s, c, port, err = 0;
	double waited;

	nt_use_datapath(dp);
	s = homa_socket(family);
	c = homa_socket(family);
	if (s < 0 || c < 0)
		return 2;
	if (strcmp(kind, "off") == 0) {
		port = nt_bind_any(s, family, 20000, 30000);
		if (port < 0 || homa_setsockopt(s, IPPROTO_HOMA, SO_HOMA_SERVER,
						&off, sizeof(off)) < 0)
			return 2;
	} else {
		memset(&info, 0, sizeof(info));
		if (homa_ioctl(s, HOMAIOCINFO, &info) < 0)
			return 2;
		port = (int)info.port;
	}
	t0 = nt_now_ns();
	delay0 = nt_run_delay_ns(0);
	if (homa_request(c, buf, sizeof(buf), (struct sockaddr *)&sa,
			 nt_addr(&sa, host, (uint16_t)port), &id, 0, 0) < 0)
		return 2;
	id = 0;
	if (homa_receive(c, buf, sizeof(buf), 0, NULL, NULL, &id, NULL) < 0)
		err = errno;
	ms_x10 = (nt_now_ns() - t0) / 100000;
	waited = nt_waited_ms(delay0);
	printf("%s after %llu.%llu ms (%.1f ms waited for a CPU)\n",
	       err ? strerror(err) : "success",
	       (unsigned long long)(ms_x10 / 10),
	       (unsigned long long)(ms_x10 % 10), waited);
	/* 50 ms, and what a starved host took from this process. */
	return err == ENOTCONN && (double)ms_x10 < 500 + 10 * waited ? 0 : 1;
}

/* Run this program again with argv, its output descriptor out_fd (1 or
 * 2) captured into out and, if var is set, one more environment
 * variable; returns its exit status. */
static int run_self(const char *const *argv, int out_fd, const char *var,
		    const char *value, char *out, size_t cap)
{
	int p[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		dup2(p[1], out_fd);
		close(p[0]);
		if (var)
			setenv(var, value, 1);
		execv("/proc/self/exe", (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	while ((n = read(p[0], out + got, cap - 1 - (size_t)got)) > 0)
		got += n;
	out[got] = 0;
	close(p[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Run this program again with args (NULL-terminated, after argv[0]);
 * returns its exit status and its stdout in out. */
static int run_args(const char *const *args, char *out, size_t cap)
{
	const char *argv[8] = { "test_net_api" };

	for (int i = 0; args[i] && i < 6; i++)
		argv[i + 1] = args[i];
	return run_self(argv, 1, NULL, NULL, out, cap);
}

/*
 * Spec 2: a request to a socket that is not in server mode is refused
 * with ICMP port unreachable, which the client turns into ENOTCONN
 * (spec 6.4). The library sends that ICMP itself (dp_icmp.c; it needs
 * CAP_NET_RAW), over both datapaths; the raw rows also prove that the
 * raw datapath reads ICMP errors (IP_RECVERR). Each row is a fresh
 * process (the datapath is chosen once per process).
 */
static void test_icmp__not_server_is_enotconn(void **state)
{
	static const struct {
		const char *dp, *family, *kind;
	} rows[] = {
		{ "udp", "4", "off" },	   { "udp", "4", "unbound" },
		{ "udp", "6", "off" },	   { "raw", "4", "off" },
		{ "raw", "4", "unbound" }, { "raw", "6", "off" },
	};
	char out[256];
	int bad = 0;

	(void)state;
	if (geteuid() != 0) {
		printf("  not root: no ICMP can be sent (ETIMEDOUT), "
		       "skipped\n");
		skip();
	}
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *args[] = { "--not-server", rows[i].dp,
				       rows[i].family, rows[i].kind, NULL };
		int st = run_args(args, out, sizeof(out));

		printf("  %-4s %s IPv%s %-8s -> %s", st ? "BAD" : "ok",
		       rows[i].dp, rows[i].family, rows[i].kind,
		       st == 2 ? "setup failed\n" : out);
		bad += st != 0;
	}
	assert_int_equal(bad, 0);
}

/* Run this program again with one more environment variable; returns
 * its exit status and its stderr in out. */
static int run_child(const char *var, const char *value, char *out, size_t cap)
{
	const char *argv[] = { "test_net_api", "--env-child", NULL };

	return run_self(argv, 2, var, value, out, cap);
}

/* Child mode: exit 0 if homa_socket works, 3 if it fails with EINVAL. */
static int env_child(void)
{
	int fd = homa_socket(AF_INET);

	if (fd >= 0)
		return 0;
	return errno == EINVAL ? 3 : 4;
}

/* The server's copy of the next request must be len bytes of seed's
 * pattern; it answers with 10 bytes, which the client receives. */
static void nocopy_check_round_trip(size_t len, uint8_t seed)
{
	static uint8_t resp[10];
	uint64_t id = 0;
	ssize_t n;
	const uint8_t *got = serve_one_len(sizeof(resp), &n);

	assert_int_equal(n, (ssize_t)len);
	for (size_t i = 0; i < len; i++)
		if (got[i] != (uint8_t)(seed + i * 7 + (i >> 11)))
			fail_msg("byte %zu of %zu differs", i, len);
	assert_int_equal(
		homa_receive(cli, resp, sizeof(resp), 0, NULL, NULL, &id, NULL),
		10);
}

/* HOMA_SENDMSG_NOCOPY: a request of one piece arrives whole from the
 * caller's bytes (which stay unchanged until its response is
 * received); one of two pieces is copied, so the caller may scribble
 * over them as soon as the call returns. */
static void test_nocopy__lent_and_copied_requests(void **state)
{
	static uint8_t buf[HOMA_MAX_MESSAGE_LENGTH];
	struct homa_sendmsg_args args = { 0, 0, HOMA_SENDMSG_NOCOPY, 0 };
	struct iovec iov[2] = { { buf, 100000 }, { buf + 100000, 200001 } };
	struct msghdr msg = { .msg_name = &srv_addr,
			      .msg_namelen = srv_len,
			      .msg_iov = iov,
			      .msg_iovlen = 2,
			      .msg_control = &args };
	uint64_t id = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(3 + i * 7 + (i >> 11));
	assert_int_equal(homa_request(cli, buf, sizeof(buf),
				      (struct sockaddr *)&srv_addr, srv_len,
				      &id, 1, HOMA_SENDMSG_NOCOPY),
			 0);
	nocopy_check_round_trip(sizeof(buf), 3);
	assert_int_equal(homa_sendmsg(cli, &msg, 0), 0);
	assert_true(args.id && !(args.id & 1));
	memset(buf, 0xEE, 300001);
	nocopy_check_round_trip(300001, 3);
}

static void test_config__bad_env_names_variable(void **state)
{
	char out[1024], var[64];
	const char *name;
	int n = 0;

	(void)state;
	assert_int_equal(run_child("HOMA_TIMEOUT_TICKS", "0", out, sizeof(out)),
			 3);
	printf("  HOMA_TIMEOUT_TICKS=0 -> %s", out);
	assert_non_null(strstr(out, "HOMA_TIMEOUT_TICKS"));
	assert_int_equal(
		run_child("HOMA_DATAPATH", "carrier-pigeon", out, sizeof(out)),
		3);
	assert_non_null(strstr(out, "HOMA_DATAPATH"));
	assert_int_equal(
		run_child("HOMA_UNSCHED_BYTES", "12abc", out, sizeof(out)), 3);
	assert_non_null(strstr(out, "HOMA_UNSCHED_BYTES"));
	/* Every parameter has its variable, and it is checked. */
	for (int i = 0; (name = homa_config_name(i)); i++, n++) {
		snprintf(var, sizeof(var), "HOMA_%s", name);
		for (char *c = var + 5; *c; c++)
			*c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
		if (run_child(var, "-5", out, sizeof(out)) != 3 ||
		    !strstr(out, var)) {
			printf("  %s=-5 was not refused by name: %s\n", var,
			       out);
			fail();
		}
	}
	printf("  all %d HOMA_* parameters refuse -5 by name\n", n);
	/* A good value is accepted. */
	assert_int_equal(
		run_child("HOMA_TIMEOUT_TICKS", "250", out, sizeof(out)), 0);
}

static void test_config__param(void **state)
{
	(void)state;
	assert_int_equal(homa_config_param("timeout_ticks", "120"), 0);
	assert_int_equal(homa_config_param("unsched_cutoffs",
					   "0 0 0 0 1000000 15000 2800 200"),
			 0);
	errno = 0;
	assert_int_equal(homa_config_param("no_such_parameter", "1"), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(homa_last_error(), "no_such_parameter"));
	errno = 0;
	assert_int_equal(homa_config_param("timeout_ticks", "0"), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(homa_last_error(), "timeout_ticks"));
	assert_int_equal(homa_config_param("timeout_ticks", "many"), -1);
	assert_int_equal(homa_config_param("unsched_cutoffs", "1 2 3"), -1);
	assert_int_equal(homa_config_param(NULL, "1"), -1);
	assert_int_equal(homa_config_param("timeout_ticks", NULL), -1);
	/* Fixed once sockets exist. */
	assert_int_equal(homa_config_param("datapath", "raw"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(homa_config_param("timeout_ticks", "100"), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_poll__readable_only_when_ready, sockets_up,
			sockets_down),
		cmocka_unit_test_setup_teardown(
			test_epoll__readable_only_when_ready, sockets_up,
			sockets_down),
		cmocka_unit_test_setup_teardown(
			test_poll__readable_after_shutdown, sockets_up,
			sockets_down),
		cmocka_unit_test_setup_teardown(
			test_poll__writable_after_eagain, sockets_up,
			sockets_down),
		cmocka_unit_test_setup_teardown(
			test_poll__writable_without_eagain, sockets_up,
			sockets_down),
		cmocka_unit_test_setup_teardown(
			test_nonblock__o_nonblock_gives_eagain, sockets_up,
			sockets_down),
		cmocka_unit_test_setup_teardown(
			test_region__provided_by_library, sockets_up,
			sockets_down),
		cmocka_unit_test_setup_teardown(
			test_nocopy__lent_and_copied_requests, sockets_up,
			sockets_down),
		cmocka_unit_test(test_icmp__no_listener_is_enotconn),
		cmocka_unit_test(test_icmp__not_server_is_enotconn),
		cmocka_unit_test(test_config__bad_env_names_variable),
		cmocka_unit_test(test_config__param),
	};
	char wmem[32];

	if (argc == 2 && strcmp(argv[1], "--env-child") == 0)
		return env_child();
	if (argc == 5 && strcmp(argv[1], "--not-server") == 0)
		return not_server_child(argv[2], argv[3], argv[4]);
	snprintf(wmem, sizeof(wmem), "%d", WMEM_MAX);
	setenv("HOMA_WMEM_MAX", wmem, 1);
	alarm(120);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
