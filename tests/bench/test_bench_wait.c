/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_bench_wait.c - homa-bench's waiting policy (--wait): parsing and
 * its errors, --help and --version, the policy in the text report and
 * the JSON, bench_spin giving up after its budget (fake clock), and the
 * UDP and TCP baselines' receive waits against a peer that never answers:
 * with spin they burn CPU for the budget and then block until the
 * timeout; with block they do not spin.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
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

volatile int bench_stop;

static bool fake_clock;	   /* bench_now_ns steps instead of reading time */
static uint64_t fake_ns;   /* the fake clock's time, ns */
static uint64_t fake_step; /* ns the fake clock advances per reading */

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	if (fake_clock) {
		fake_ns += fake_step;
		return fake_ns;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double thread_cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Parse a command line given as one string. */
static int parse(const char *cmd, struct bench_opts *o)
{
	static char buf[512]; /* options point into it after return */
	char *argv[32];
	int argc = 0;

	snprintf(buf, sizeof(buf), "homa-bench %s", cmd);
	for (char *t = strtok(buf, " "); t && argc < 31; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	return bench_parse(argc, argv, o);
}

static void bench_wait_parse__values_and_errors(void **state)
{
	static const char *bad[] = { "",	"spin=",	"spin=0",
				     "spin=-5", "spin=1000001", "spin=5x",
				     "spin50",	"Block",	"poll",
				     "spin= 5", "spin=+5" };
	uint32_t us = 7;
	char name[32];

	(void)state;
	assert_int_equal(bench_wait_parse("block", &us), 0);
	assert_int_equal(us, 0);
	assert_int_equal(bench_wait_parse("spin", &us), 0);
	assert_int_equal(us, BENCH_SPIN_DEFAULT_US);
	assert_int_equal(BENCH_SPIN_DEFAULT_US, 50); /* Homa's poll_usecs */
	assert_int_equal(bench_wait_parse("spin=1", &us), 0);
	assert_int_equal(us, 1);
	assert_int_equal(bench_wait_parse("spin=1000000", &us), 0);
	assert_int_equal(us, 1000000);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		us = 7;
		print_message("bad: '%s'\n", bad[i]);
		assert_int_equal(bench_wait_parse(bad[i], &us), -1);
		assert_int_equal(us, 7); /* untouched */
	}
	assert_int_equal(bench_wait_parse(NULL, &us), -1);
	assert_string_equal(bench_wait_name(0, name, sizeof(name)), "block");
	assert_string_equal(bench_wait_name(50, name, sizeof(name)), "spin=50");
}

static void bench_parse__wait_help_version(void **state)
{
	struct bench_opts o;

	(void)state;
	assert_int_equal(parse("server --proto tcp --port 5", &o), 0);
	assert_int_equal(o.spin_us, 50); /* spin is the default */
	assert_int_equal(parse("server --proto udp --port 5 --wait block", &o),
			 0);
	assert_int_equal(o.spin_us, 0);
	assert_int_equal(parse("client --proto homa --server 127.0.0.1:9 "
			       "--workload 100 --outstanding 1 --seconds 1 "
			       "--wait spin=20",
			       &o),
			 0);
	assert_int_equal(o.spin_us, 20);
	assert_int_equal(parse("server --proto tcp --port 5 --wait", &o), -1);
	assert_int_equal(parse("server --proto tcp --port 5 --wait sleep", &o),
			 -1);
	assert_int_equal(parse("server --proto tcp --port 5 --wait spin=0", &o),
			 -1);
	assert_int_equal(parse("report --workload w4 --load-calib c "
			       "--seconds 1 --samples s --wait block",
			       &o),
			 0);
	assert_int_equal(o.spin_us, 0);
	assert_int_equal(parse("--help", &o), 0);
	assert_true(o.help);
	assert_int_equal(parse("client --help", &o), 0);
	assert_true(o.help);
	assert_int_equal(parse("--version", &o), 0);
	assert_true(o.version && !o.help);
	assert_int_equal(parse("peers --proto tcp --server 127.0.0.1:9 "
			       "--count 10",
			       &o),
			 0);
	assert_true(o.peers && o.count == 10);
	assert_int_equal(
		parse("peers --proto udp --server 127.0.0.1:9 --count 10", &o),
		-1);
	assert_int_equal(parse("peers --proto homa --server 127.0.0.1:9", &o),
			 -1);
	assert_int_equal(parse("peers --proto homa --count 3", &o), -1);
}

/* The report's first line and JSON name the policy and its budget. */
static void bench_report__names_the_wait(void **state)
{
	struct bench_results r = { 0 };
	struct bench_workload w;
	struct bench_calib c = { { 100 }, { 10 }, 1 };
	char err[256], path[] = "/tmp/test_bench_wait_XXXXXX", text[4096];
	FILE *f;
	size_t n;
	int fd;

	(void)state;
	assert_int_equal(bench_workload_load(&w, "100", ".", BENCH_MAX_MSG, err,
					     sizeof(err)),
			 0);
	bench_results_add(&r, 100, 12.5, 0);
	r.seconds = 1;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	for (int k = 0; k < 2; k++) {
		uint32_t spin = k ? 0 : 50;
		const char *want_json =
			k ? "\"wait\": {\"policy\": \"block\", \"spin_us\": 0}"
			  : "\"wait\": {\"policy\": \"spin\", \"spin_us\": 50}";

		f = tmpfile();
		assert_non_null(f);
		assert_int_equal(bench_report(&r, &w, &c, "tcp", spin, f, path),
				 0);
		rewind(f);
		n = fread(text, 1, sizeof(text) - 1, f);
		text[n] = 0;
		fclose(f);
		assert_non_null(
			strstr(text, k ? "wait block:" : "wait spin=50:"));
		f = fopen(path, "r");
		assert_non_null(f);
		n = fread(text, 1, sizeof(text) - 1, f);
		text[n] = 0;
		fclose(f);
		print_message("%s", text);
		assert_non_null(strstr(text, want_json));
	}
	unlink(path);
	bench_results_free(&r);
	bench_workload_free(&w);
}

struct spin_probe {
	int calls;    /* poll_once calls so far */
	int ready_at; /* call that reports readiness (0 = never) */
};

static int spin_poll(void *arg)
{
	struct spin_probe *p = arg;

	return ++p->calls == p->ready_at ? 42 : 0;
}

/* With a clock advancing 1 us per reading, a budget of 100 us allows
 * about 100 polls, then bench_spin returns 0 (the caller blocks). */
static void bench_spin__gives_up_after_budget(void **state)
{
	struct spin_probe p = { 0, 0 };

	(void)state;
	fake_clock = true;
	fake_ns = 1000000;
	fake_step = 1000;
	assert_int_equal(bench_spin(spin_poll, &p, 100, bench_now_ns), 0);
	assert_true(p.calls >= 99 && p.calls <= 101);
	p = (struct spin_probe){ 0, 30 };
	assert_int_equal(bench_spin(spin_poll, &p, 100, bench_now_ns), 42);
	assert_int_equal(p.calls, 30);
	p = (struct spin_probe){ 0, 0 };
	assert_int_equal(bench_spin(spin_poll, &p, 0, bench_now_ns), 0);
	assert_int_equal(p.calls, 0); /* block: never polls */
	bench_stop = 1;		      /* a stop request ends the spin */
	assert_int_equal(bench_spin(spin_poll, &p, 100000, bench_now_ns), 0);
	assert_int_equal(p.calls, 1);
	bench_stop = 0;
	fake_clock = false;
}

/* A UDP socket or a TCP listener that never answers, on loopback. */
static int silent_peer(int type, int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, type, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* One receive wait of a baseline client against a silent peer: it must
 * return "nothing" (0) after the spin budget and the blocking timeout.
 * Returns the non-blocking polls it made; *wall gets the elapsed time. */
static uint64_t one_silent_wait(const char *proto, const char *wait,
				double *wall)
{
	struct bench_opts o;
	struct bench_client *c;
	char cmd[256];
	uint64_t tag = 0, polls0;
	double cpu0, t0;
	int port, peer;

	peer = silent_peer(strcmp(proto, "udp") ? SOCK_STREAM : SOCK_DGRAM,
			   &port);
	snprintf(cmd, sizeof(cmd),
		 "client --proto %s --server 127.0.0.1:%d --workload 100 "
		 "--outstanding 1 --seconds 1 --wait %s",
		 proto, port, wait);
	assert_int_equal(parse(cmd, &o), 0);
	c = strcmp(proto, "udp") ? bench_tcp_client(&o) : bench_udp_client(&o);
	assert_non_null(c);
	alarm(10); /* a spin that never gives up kills the test */
	polls0 = bench_spin_polls;
	cpu0 = thread_cpu_ms();
	t0 = wall_ms();
	assert_int_equal(c->recv(c, &tag, 50), 0);
	*wall = wall_ms() - t0;
	cpu0 = thread_cpu_ms() - cpu0;
	polls0 = bench_spin_polls - polls0;
	alarm(0);
	c->close(c);
	close(peer);
	print_message("%s --wait %s: %.1f ms, %llu polls, %.1f ms of CPU\n",
		      proto, wait, *wall, (unsigned long long)polls0, cpu0);
	return polls0;
}

/* spin=100000: non-blocking polls for at least the 100 ms budget (many
 * of them: each yields the CPU between polls, so CPU time says little on
 * a loaded machine, but every yield comes back), then the 50 ms blocking
 * wait (SO_RCVTIMEO or the epoll timeout); block: no poll at all. */
static void bench_baselines__spin_gives_up(void **state)
{
	static const char *protos[] = { "udp", "tcp" };
	uint64_t polls;
	double wall;

	(void)state;
	for (int i = 0; i < 2; i++) {
		polls = one_silent_wait(protos[i], "spin=100000", &wall);
		assert_true(wall >= 140 && wall < 5000);
		assert_true(polls >= 5);
		polls = one_silent_wait(protos[i], "block", &wall);
		assert_true(wall >= 45 && wall < 5000);
		assert_int_equal(polls, 0);
	}
}

/* A client whose every RPC fails (nothing listens at the port) exits
 * with status 1, for each protocol (the message names the errno). */
static void bench_client_run__dead_server_fails(void **state)
{
	static const char *protos[] = { "udp", "tcp", "homa" };

	(void)state;
	for (int i = 0; i < 3; i++) {
		struct bench_opts o;
		char cmd[256];
		int port, fd;

		/* A port that was free a moment ago: bind, read it, close. */
		fd = silent_peer(strcmp(protos[i], "tcp") ? SOCK_DGRAM
							  : SOCK_STREAM,
				 &port);
		close(fd);
		if (port >= 32768) /* Homa's server ports are below 32768 */
			port -= 16384;
		snprintf(cmd, sizeof(cmd),
			 "client --proto %s --server 127.0.0.1:%d --workload "
			 "100 --outstanding 1 --seconds 0.3 --calibrate 0",
			 protos[i], port);
		assert_int_equal(parse(cmd, &o), 0);
		print_message("%s\n", cmd);
		assert_int_equal(bench_client_run(&o), 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bench_wait_parse__values_and_errors),
		cmocka_unit_test(bench_parse__wait_help_version),
		cmocka_unit_test(bench_report__names_the_wait),
		cmocka_unit_test(bench_spin__gives_up_after_budget),
		cmocka_unit_test(bench_baselines__spin_gives_up),
		cmocka_unit_test(bench_client_run__dead_server_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
