/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rpc_peer.c - one end of the network tests' RPC traffic, run as its own
 * process by the shell tests (loopback.sh, loss.sh) and test_net_kill:
 *
 *   rpc_peer server [--raw] [--ipv6] [--port N] [--hold]
 *	bind N (0: a free port in 20000-29999), print "port N", serve the
 *	test protocol of net_util.h until killed. --hold forks a child that
 *	keeps the server's UDP socket open after the server dies (the host
 *	goes silent instead of answering ICMP port unreachable).
 *   rpc_peer client [--raw] [--window W] [--mix loopback|loss|small|large]
 *		     [--first S] [--no-report] HOST PORT COUNT
 *	run COUNT RPCs (serials S..S+COUNT-1, S 0 by default) checking
 *	every byte, then (unless --no-report: several clients share the
 *	server) ask the server for its report and check that it was handed
 *	every request exactly once. Prints "ok ..." and exits 0 on success.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net_util.h"

/* On SIGTERM, print this process's metrics and exit (diagnostics for
 * the scripts, which stop servers with SIGTERM). */
static void *term_main(void *arg)
{
	sigset_t *set = arg;
	int sig;

	sigwait(set, &sig);
	printf("server metrics:\n");
	nt_print_metrics(NULL);
	fflush(stdout);
	_exit(0);
}

static void term_prepare(void)
{
	static sigset_t set;
	pthread_t t;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_create(&t, NULL, term_main, &set);
}

static int server_main(int argc, char **argv)
{
	int family = AF_INET, port = 0, fd, hold = 0;
	struct nt_server s;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--raw") == 0)
			nt_use_datapath("raw");
		else if (strcmp(argv[i], "--ipv6") == 0)
			family = AF_INET6;
		else if (strcmp(argv[i], "--hold") == 0)
			hold = 1;
		else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
			port = atoi(argv[++i]);
	}
	term_prepare(); /* before libhoma starts its threads */
	fd = homa_socket(family);
	if (fd < 0) {
		perror("homa_socket");
		return 1;
	}
	if (port) {
		struct sockaddr_in6 sa = { 0 };

		sa.sin6_family = (sa_family_t)family;
		sa.sin6_port = htons((uint16_t)port);
		if (homa_bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			perror("homa_bind");
			return 1;
		}
	} else {
		port = nt_bind_any(fd, family, 20000, 30000);
		if (port < 0) {
			perror("homa_bind");
			return 1;
		}
	}
	if (hold) {
		pid_t holder = fork();

		if (holder == 0) {
			/* Keep copies of every descriptor; touch nothing. */
			for (;;)
				pause();
		}
		printf("holder %d\n", (int)holder);
	}
	printf("port %d\n", port);
	fflush(stdout);
	if (nt_server_init(&s, fd) < 0)
		return 1;
	errno = nt_serve(&s, 0, NULL);
	perror("nt_serve");
	return 1;
}

static int client_check_report(struct nt_client *c)
{
	struct nt_report r;
	uint64_t want = c->count - c->tiny;

	if (nt_report_get(c, &r) < 0) {
		printf("FAIL: report: %s\n", strerror(errno));
		return 1;
	}
	printf("server: %llu delivered, %llu distinct, %llu duplicates, "
	       "%llu tiny, %llu corrupt, %llu garbage\n",
	       (unsigned long long)r.delivered, (unsigned long long)r.distinct,
	       (unsigned long long)r.dups, (unsigned long long)r.tiny,
	       (unsigned long long)r.corrupt, (unsigned long long)r.garbage);
	if (r.delivered != want || r.distinct != want || r.dups || r.corrupt ||
	    r.garbage || r.tiny != c->tiny) {
		printf("FAIL: the server was not handed each of the %llu "
		       "requests exactly once\n",
		       (unsigned long long)want);
		return 1;
	}
	return 0;
}

static int client_main(int argc, char **argv)
{
	struct nt_client c = { .window = 8, .mix = NT_MIX_LOOPBACK };
	const char *pos[3];
	int npos = 0, fd, report = 1;
	uint64_t t0;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--raw") == 0)
			nt_use_datapath("raw");
		else if (strcmp(argv[i], "--window") == 0 && i + 1 < argc)
			c.window = atoi(argv[++i]);
		else if (strcmp(argv[i], "--mix") == 0 && i + 1 < argc) {
			i++;
			c.mix = strcmp(argv[i], "loss") == 0	? NT_MIX_LOSS
				: strcmp(argv[i], "small") == 0 ? NT_MIX_SMALL
				: strcmp(argv[i], "large") == 0
					? NT_MIX_LARGE
					: NT_MIX_LOOPBACK;
		} else if (strcmp(argv[i], "--first") == 0 && i + 1 < argc)
			c.first_serial = (uint32_t)atol(argv[++i]);
		else if (strcmp(argv[i], "--no-report") == 0)
			report = 0;
		else if (npos < 3)
			pos[npos++] = argv[i];
	}
	if (npos != 3)
		return 2;
	c.server_len = nt_addr(&c.server, pos[0], (uint16_t)atoi(pos[1]));
	c.count = (uint32_t)atol(pos[2]);
	if (!c.server_len)
		return 2;
	fd = homa_socket(c.server.sin6_family);
	if (fd < 0) {
		perror("homa_socket");
		return 1;
	}
	c.fd = fd;
	t0 = nt_now_ns();
	if (nt_client_run(&c) < 0) {
		printf("FAIL: after %u rpcs: %s\n", c.done, c.why);
		nt_print_metrics(NULL);
		return 1;
	}
	printf("ok %u rpcs (%u tiny echoes) in %.2f s, %.1f MB; request "
	       "sizes %u-%u B, response sizes %u-%u B\n",
	       c.done, c.tiny, (double)(nt_now_ns() - t0) / 1e9,
	       (double)c.bytes / 1e6, c.min_req, c.max_req, c.min_resp,
	       c.max_resp);
	if (report && client_check_report(&c))
		return 1;
	if (getenv("RPC_PEER_METRICS"))
		nt_print_metrics(NULL);
	nt_close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 2 && strcmp(argv[1], "server") == 0)
		return server_main(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "client") == 0)
		return client_main(argc - 2, argv + 2);
	fprintf(stderr, "usage: rpc_peer server|client ... (see source)\n");
	return 2;
}
