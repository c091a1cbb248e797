/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * main.c - homa-bench entry point: parse arguments, run a server or the
 * client engine. See bench.h and `homa-bench` without arguments.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench.h"

#ifndef HOMA_BENCH_VERSION
#define HOMA_BENCH_VERSION "unknown" /* CMake passes the project's version */
#endif

volatile int bench_stop;

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void bench_on_signal(int sig)
{
	(void)sig;
	bench_stop = 1;
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	struct sigaction sa;

	if (bench_parse(argc, argv, &o) < 0)
		return 2;
	if (o.help) {
		bench_usage(stdout);
		return 0;
	}
	if (o.version) {
		printf("homa-bench %s\n", HOMA_BENCH_VERSION);
		return 0;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = bench_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (o.report)
		return bench_report_run(&o);
	if (o.peers)
		return bench_peers_run(&o);
	if (o.server) {
		char wname[32];
		uint64_t ctx;
		double cpu;
		int ret;

		if (strcmp(o.proto, "homa") == 0)
			ret = bench_homa_server(&o);
		else if (strcmp(o.proto, "udp") == 0)
			ret = bench_udp_server(&o);
		else
			ret = bench_tcp_server(&o);
		/* What the measures table reads: the server's cost. */
		bench_rusage(&cpu, &ctx);
		fprintf(stderr,
			"homa-bench server %s wait %s: %llu requests, CPU "
			"%.0f us, %llu context switches\n",
			o.proto,
			bench_wait_name(o.spin_us, wname, sizeof(wname)),
			(unsigned long long)bench_served, cpu,
			(unsigned long long)ctx);
		return ret;
	}
	return bench_client_run(&o);
}
