/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_net_stall.c - a process whose poller is stopped keeps serving its
 * peers (issue 14, point 7; docs/protocol-notes.md "A peer that does not
 * get the CPU"). On a loaded host the thread holding the poller role can
 * wait 100-300 ms on the run queue while the process's other threads
 * run; nobody else read packets or answered RESENDs, and the peer timed
 * the RPCs out (net_loss_udp under load). Here the role holder is stopped
 * in a signal handler for a second instead: a thread blocked in
 * homa_receive (the poller, asleep in epoll) takes SIGUSR1, whose handler
 * sleeps. Meanwhile another thread sends a request; the server (a child
 * process) answers at once. The answer must be read while the poller is
 * still stopped (dp_rx_packets grows, poller_rescues counts it); before
 * the fix it waited in the kernel until the handler returned.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net_util.h"

#define STALL_NS 1000000000ull /* how long the poller stays stopped */

static volatile int stall_done; /* the handler returned */

static void stall_handler(int sig)
{
	struct timespec ts = { (time_t)(STALL_NS / 1000000000ull),
			       (long)(STALL_NS % 1000000000ull) };

	(void)sig;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	stall_done = 1;
}

/* The child: answer the first two requests, the second first (the first
 * keeps the parent's poller waiting until the second comes). */
static void server_main(int wfd)
{
	struct sockaddr_in6 src[2];
	socklen_t len[2];
	uint64_t id[2];
	char buf[64];
	int fd = homa_socket(AF_INET), port;

	if (fd < 0)
		nt_fail("server homa_socket: %s", strerror(errno));
	port = nt_bind_any(fd, AF_INET, 20000, 30000);
	if (write(wfd, &port, sizeof(port)) != sizeof(port))
		_exit(1);
	for (int i = 0; i < 2; i++) {
		len[i] = sizeof(src[i]);
		id[i] = 0;
		if (homa_receive(fd, buf, sizeof(buf), 0,
				 (struct sockaddr *)&src[i], &len[i], &id[i],
				 NULL) < 0)
			nt_fail("server receive: %s", strerror(errno));
	}
	for (int i = 1; i >= 0; i--)
		if (homa_reply(fd, "pong", 4, (struct sockaddr *)&src[i],
			       len[i], id[i]) < 0)
			nt_fail("server reply: %s", strerror(errno));
	pause(); /* until the parent kills it */
	_exit(0);
}

struct poller {
	int fd;			  /* client socket */
	struct sockaddr_in6 dest; /* the server */
	volatile bool in;	  /* about to wait in homa_receive */
	ssize_t got;		  /* what the receive returned */
};

/* Sends a private request and waits for its response: the poller. */
static void *poller_main(void *arg)
{
	struct poller *p = arg;
	uint64_t id = 0, want;
	char buf[64];

	if (homa_request(p->fd, "ping", 4, (struct sockaddr *)&p->dest,
			 sizeof(p->dest), &id, 0, HOMA_SENDMSG_PRIVATE) < 0)
		nt_fail("request: %s", strerror(errno));
	want = id;
	p->in = true;
	do { /* the signal may end the call (EINTR) */
		id = want;
		p->got = homa_receive(p->fd, buf, sizeof(buf), 0, NULL, NULL,
				      &id, NULL);
	} while (p->got < 0 && errno == EINTR);
	return NULL;
}

int main(void)
{
	struct poller p = { .fd = -1 };
	uint64_t rx0, rescues0, t0, id = 0, read_ns = 0;
	struct sigaction sa;
	int pfd[2], port = 0;
	pthread_t t;
	char buf[64];
	pid_t child;

	alarm(60);
	if (pipe(pfd) < 0)
		nt_fail("pipe: %s", strerror(errno));
	child = fork(); /* before any libhoma call: its own instance */
	if (child < 0)
		nt_fail("fork: %s", strerror(errno));
	if (child == 0) {
		close(pfd[0]);
		server_main(pfd[1]);
	}
	close(pfd[1]);
	if (read(pfd[0], &port, sizeof(port)) != sizeof(port) || port <= 0)
		nt_fail("the server did not start");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = stall_handler;
	if (sigaction(SIGUSR1, &sa, NULL) < 0)
		nt_fail("sigaction: %s", strerror(errno));
	p.fd = homa_socket(AF_INET);
	if (p.fd < 0)
		nt_fail("homa_socket: %s", strerror(errno));
	nt_addr(&p.dest, "127.0.0.1", (uint16_t)port);
	pthread_create(&t, NULL, poller_main, &p);
	while (!p.in)
		usleep(1000);
	usleep(50000); /* it holds the poller role, asleep in epoll */
	pthread_kill(t, SIGUSR1);
	usleep(20000); /* the handler runs: the poller is stopped */
	rx0 = nt_metric("dp_rx_packets");
	rescues0 = nt_metric("poller_rescues");
	t0 = nt_now_ns();
	if (homa_request(p.fd, "ping", 4, (struct sockaddr *)&p.dest,
			 sizeof(p.dest), &id, 0, 0) < 0)
		nt_fail("second request: %s", strerror(errno));
	while (!stall_done && !read_ns) {
		if (nt_metric("dp_rx_packets") > rx0)
			read_ns = nt_now_ns();
		usleep(2000);
	}
	if (!read_ns || stall_done)
		nt_fail("the server's answers were not read while the poller "
			"was stopped (for %.0f ms)",
			(double)(nt_now_ns() - t0) / 1e6);
	printf("ok: with the poller stopped, the answers were read %.1f ms "
	       "after the request (poller_rescues %llu)\n",
	       (double)(read_ns - t0) / 1e6,
	       (unsigned long long)(nt_metric("poller_rescues") - rescues0));
	if (nt_metric("poller_rescues") == rescues0)
		nt_fail("poller_rescues did not count the rescue");
	/* The second answer is there for this thread without the poller. */
	id = 0;
	if (homa_receive(p.fd, buf, sizeof(buf), 0, NULL, NULL, &id, NULL) != 4)
		nt_fail("second response: %s", strerror(errno));
	pthread_join(t, NULL);
	if (p.got != 4)
		nt_fail("first response: %zd", p.got);
	printf("ok: both responses complete once the poller came back\n");
	homa_close(p.fd);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	return 0;
}
