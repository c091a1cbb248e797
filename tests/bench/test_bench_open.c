/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_bench_open.c - homa-bench's open loop ends although its sender is
 * waiting in a send at the end of the run (issue 19: a W5 client at
 * 1 Gbit/s of the raw-loss soak never exited). A socket holds at most
 * wmem_max bytes of requests, and a request's bytes are held until its
 * response is received; a send over the limit waits for room. The
 * receiving thread used to stop at the end of the run plus a 2 s grace
 * while the sender still waited, and nobody freed the room again.
 *
 * Here wmem_max is 1 byte, so each request waits for the response of the
 * one before; the server (a thread of this process) answers the first
 * request only after 3.5 s, past the end (1 s) and the grace (2 s), and
 * the next ones at once. bench_client_run must return (a watchdog fails
 * the test after 20 s).
 *
 * Also: a signal during the run (EINTR from a receive) ends nothing; it
 * used to end the run as a fatal error ("Interrupted system call", seen
 * when a debugger attached to a soak's client).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "bench.h"
#include "homa.h"

volatile int bench_stop;

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct slow_server {
	int fd;		  /* its Homa socket */
	bool prompt;	  /* answer the first request at once too */
	int answered;	  /* requests answered */
	volatile int end; /* set: stop */
};

/* Answer the first request 3.5 s late, the others at once. */
static void *slow_server_main(void *arg)
{
	struct slow_server *s = arg;
	static char buf[HOMA_MAX_MESSAGE_LENGTH];

	while (!s->end) {
		struct sockaddr_in6 src;
		socklen_t srclen = sizeof(src);
		uint64_t id = 0;
		ssize_t n = homa_receive(s->fd, buf, sizeof(buf), 0,
					 (struct sockaddr *)&src, &srclen, &id,
					 NULL);

		if (n < 0)
			continue; /* EAGAIN: SO_RCVTIMEO, look at end */
		if (s->answered == 0 && !s->prompt)
			usleep(3500000);
		if (homa_reply(s->fd, buf, 100, (struct sockaddr *)&src, srclen,
			       id) == 0)
			s->answered++;
	}
	return NULL;
}

/* Bind s->fd on a free port from base up, give it a 100 ms receive
 * timeout and start the slow server thread on it. Returns the port. */
static int slow_server_start(struct slow_server *s, int base, pthread_t *th)
{
	struct timeval tv = { 0, 100000 };
	struct sockaddr_in a = { .sin_family = AF_INET };
	int port;

	s->fd = homa_socket(AF_INET);
	assert_true(s->fd >= 0);
	for (port = base;; port++) {
		a.sin_port = htons((uint16_t)port);
		if (homa_bind(s->fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			break;
		assert_int_equal(errno, EADDRINUSE);
	}
	assert_int_equal(homa_setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
					 sizeof(tv)),
			 0);
	assert_int_equal(pthread_create(th, NULL, slow_server_main, s), 0);
	return port;
}

/* The options of "homa-bench client --proto homa --server 127.0.0.1:PORT
 * ARGS --seconds 1 --calibrate 0" (cmd must outlive o). */
static void client_opts(char *cmd, size_t len, int port, const char *args,
			struct bench_opts *o)
{
	char *argv[32], *save, *tok;
	int argc = 0;

	snprintf(cmd, len,
		 "homa-bench client --proto homa --server 127.0.0.1:%d %s "
		 "--seconds 1 --calibrate 0",
		 port, args);
	for (tok = strtok_r(cmd, " ", &save); tok && argc < 31;
	     tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	assert_int_equal(bench_parse(argc, argv, o), 0);
}

static void watchdog(int sig)
{
	(void)sig;
	static const char msg[] = "bench_client_run still running after "
				  "20 s: the open loop hangs\n";
	if (write(1, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

static void bench_open_loop__ends_with_sender_waiting_for_room(void **state)
{
	struct slow_server s = { 0 };
	struct bench_opts o;
	pthread_t th;
	static char cmd[256];
	int port;
	uint64_t t0;

	(void)state;
	assert_int_equal(homa_config_param("wmem_max", "1"), 0);
	port = slow_server_start(&s, 20000 + getpid() % 10000, &th);
	client_opts(cmd, sizeof(cmd), port, "--workload 60000 --load 100", &o);

	signal(SIGALRM, watchdog);
	alarm(20);
	t0 = bench_now_ns();
	bench_client_run(&o);
	alarm(0);
	print_message("bench_client_run returned after %.1f s; the server "
		      "answered %d requests\n",
		      (double)(bench_now_ns() - t0) / 1e9, s.answered);
	/* It waited for the late answer (the sender was in its send). */
	assert_true(bench_now_ns() - t0 >= 3000000000ull);
	assert_true(s.answered >= 2);
	s.end = 1;
	pthread_join(th, NULL);
	homa_close(s.fd);
}

static void on_usr1(int sig)
{
	(void)sig;
}

struct pester {
	pthread_t target;  /* thread to signal */
	volatile int stop; /* set: stop */
};

/* SIGUSR1 to the target every 10 ms. */
static void *pester_main(void *arg)
{
	struct pester *p = arg;

	while (!p->stop) {
		pthread_kill(p->target, SIGUSR1);
		usleep(10000);
	}
	return NULL;
}

static void bench_client__signals_end_nothing(void **state)
{
	struct sigaction sa = { .sa_handler = on_usr1 }; /* no SA_RESTART */
	struct slow_server s = { .prompt = true };
	struct pester p = { .target = pthread_self() };
	static char cmd[256];
	pthread_t th, pt;
	struct bench_opts o;
	int port;

	(void)state;
	sigaction(SIGUSR1, &sa, NULL);
	port = slow_server_start(&s, 25000 + getpid() % 5000, &th);
	client_opts(cmd, sizeof(cmd), port, "--workload 100 --outstanding 1",
		    &o);
	assert_int_equal(pthread_create(&pt, NULL, pester_main, &p), 0);
	assert_int_equal(bench_client_run(&o), 0);
	p.stop = 1;
	pthread_join(pt, NULL);
	s.end = 1;
	pthread_join(th, NULL);
	homa_close(s.fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bench_client__signals_end_nothing),
		cmocka_unit_test(
			bench_open_loop__ends_with_sender_waiting_for_room),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
