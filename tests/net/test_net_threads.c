/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_net_threads.c - libhoma under threads, in one process over
 * loopback (also built with ThreadSanitizer as test_net_threads_tsan):
 *
 *  1. 8 client threads share one socket and issue RPCs concurrently to a
 *     server socket served by 2 threads. Even threads send private
 *     requests and receive by id; odd threads send shared ones and take
 *     whichever shared response comes (possibly another thread's): every
 *     response is checked byte for byte against the request it answers,
 *     found by id in a registry. The server checks each request once.
 *  2. Threads blocked in homa_recvmsg (any message, and a private id) are
 *     woken by homa_shutdown from another thread with ESHUTDOWN, and the
 *     descriptor polls readable.
 *  3. A thread blocked in homa_recvmsg is released by homa_close from
 *     another thread, which then returns.
 *  4. Progress: 8 threads issue private RPCs one at a time on one socket
 *     for a fixed time (one server thread), all on one CPU (the harshest
 *     case); every thread must complete at least 1/8 of the average, so
 *     none is starved of the lock or the poller role. Before the poller
 *     role was handed on (poller.c, HOMA_LIB_HANDOFF_NS), the thread that
 *     happened to hold it kept it round after round and, busy-polling
 *     while the others slept and were woken first, got 5-9 % of the
 *     average in about a third of runs; now the slowest gets 70-95 % on
 *     one CPU (24 % once on a 2-CPU machine at load average 18).
 *
 * usage: test_net_threads [RPCS_PER_THREAD]  (default 400)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net_util.h"

#define CLIENTS	     8
#define SERVERS	     2
#define REGISTRY     65536 /* > RPCs outstanding at once */
#define PER_THREAD_W 3	   /* requests a client thread keeps outstanding */

struct reg_entry {
	uint64_t id;	   /* 1 = in use, 0 = free */
	uint32_t serial;   /* request serial */
	uint32_t resp_len; /* expected response bytes */
};

static struct reg_entry registry[REGISTRY];
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t srv_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sockaddr_in6 srv_addr;
static socklen_t srv_len;
static int cli_fd, per_thread;

struct client {
	int index;			    /* 0..CLIENTS-1 */
	pthread_t thread;		    /* its thread */
	uint32_t done;			    /* responses checked */
	char why[160];			    /* first failure, "" if none */
	uint64_t private_ids[PER_THREAD_W]; /* outstanding private RPCs */
};

static struct client clients[CLIENTS];

/* Entries are keyed by serial (the completion cookie): a shared
 * response may reach another thread before homa_request returns. */
static void reg_put(uint32_t serial, uint32_t resp_len)
{
	struct reg_entry *e = &registry[serial % REGISTRY];

	pthread_mutex_lock(&reg_lock);
	e->id = 1;
	e->serial = serial;
	e->resp_len = resp_len;
	pthread_mutex_unlock(&reg_lock);
}

/* Take the entry of serial; false if there is none. */
static bool reg_take(uint64_t serial, struct reg_entry *out)
{
	struct reg_entry *e = &registry[serial % REGISTRY];
	bool ok;

	pthread_mutex_lock(&reg_lock);
	ok = e->id && e->serial == serial;
	if (ok) {
		*out = *e;
		e->id = 0;
	}
	pthread_mutex_unlock(&reg_lock);
	return ok;
}

static int client_send(struct client *c, uint8_t *buf, uint32_t serial,
		       uint64_t *id)
{
	uint32_t req_len, resp_len;
	bool priv = c->index % 2 == 0;

	nt_sizes(NT_MIX_SMALL, serial, &req_len, &resp_len);
	nt_build_request(buf, serial, req_len, resp_len);
	reg_put(serial, resp_len);
	*id = 0;
	if (homa_request(cli_fd, buf, req_len, (struct sockaddr *)&srv_addr,
			 srv_len, id, serial,
			 priv ? HOMA_SENDMSG_PRIVATE : 0) < 0) {
		snprintf(c->why, sizeof(c->why), "request: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* Receive one response (want = private id, or 0) and check it. */
static int client_recv(struct client *c, uint64_t want, uint8_t *buf)
{
	struct reg_entry e;
	uint64_t id = want, cookie = 0;
	ssize_t n;

	n = homa_receive(cli_fd, buf, HOMA_MAX_MESSAGE_LENGTH, 0, NULL, NULL,
			 &id, &cookie);
	if (n < 0) {
		snprintf(c->why, sizeof(c->why), "recv (id %llu): %s",
			 (unsigned long long)id, strerror(errno));
		return -1;
	}
	if (!reg_take(cookie, &e) || (uint32_t)n != e.resp_len ||
	    !nt_check(buf, ((uint64_t)e.serial << 1) | 1, 0, (size_t)n)) {
		snprintf(c->why, sizeof(c->why),
			 "response id %llu (%zd bytes) does not match",
			 (unsigned long long)id, n);
		return -1;
	}
	c->done++;
	return 0;
}

static void *client_main(void *arg)
{
	struct client *c = arg;
	uint8_t *buf = malloc(HOMA_MAX_MESSAGE_LENGTH);
	uint32_t first = (uint32_t)c->index * 100000, sent = 0, got = 0;
	int k = 0;

	if (!buf)
		return NULL;
	while (got < (uint32_t)per_thread) {
		while (sent < (uint32_t)per_thread &&
		       sent - got < PER_THREAD_W) {
			if (client_send(c, buf, first + sent,
					&c->private_ids[sent % PER_THREAD_W]) <
			    0)
				goto out;
			sent++;
		}
		/* Private: wait for the oldest of ours; shared: any. */
		k = got % PER_THREAD_W;
		if (client_recv(c, c->index % 2 == 0 ? c->private_ids[k] : 0,
				buf) < 0)
			goto out;
		got++;
	}
out:
	free(buf);
	return NULL;
}

static struct nt_server served; /* shared by the server threads */

static void *server_main(void *arg)
{
	int *err = arg;

	*err = nt_serve(&served, 0, &srv_lock);
	return NULL;
}

static void part_concurrent_rpcs(void)
{
	pthread_t st[SERVERS];
	int srv, total = 0, err[SERVERS];
	uint64_t t0 = nt_now_ns();

	srv = homa_socket(AF_INET);
	cli_fd = homa_socket(AF_INET);
	if (srv < 0 || cli_fd < 0 || nt_server_init(&served, srv) < 0)
		nt_fail("sockets: %s", strerror(errno));
	srv_len = nt_addr(&srv_addr, "127.0.0.1",
			  (uint16_t)nt_bind_any(srv, AF_INET, 20000, 30000));
	for (int i = 0; i < SERVERS; i++)
		pthread_create(&st[i], NULL, server_main, &err[i]);
	for (int i = 0; i < CLIENTS; i++) {
		clients[i].index = i;
		pthread_create(&clients[i].thread, NULL, client_main,
			       &clients[i]);
	}
	for (int i = 0; i < CLIENTS; i++) {
		pthread_join(clients[i].thread, NULL);
		total += (int)clients[i].done;
		if (clients[i].why[0]) {
			nt_print_metrics(NULL);
			nt_fail("client thread %d: %s", i, clients[i].why);
		}
	}
	nt_shutdown(srv); /* releases the server threads */
	for (int i = 0; i < SERVERS; i++) {
		pthread_join(st[i], NULL);
		if (err[i] != ESHUTDOWN)
			nt_fail("server thread ended with %s",
				strerror(err[i]));
	}
	if (served.rep.delivered != (uint64_t)total || served.rep.dups ||
	    served.rep.corrupt)
		nt_fail("server: %llu delivered, %llu dups, %llu corrupt for "
			"%d RPCs",
			(unsigned long long)served.rep.delivered,
			(unsigned long long)served.rep.dups,
			(unsigned long long)served.rep.corrupt, total);
	printf("ok: %d threads x %d RPCs on one socket (%d private, %d "
	       "shared) in %.2f s, server with %d threads\n",
	       CLIENTS, per_thread, total / 2, total / 2,
	       (double)(nt_now_ns() - t0) / 1e9, SERVERS);
	nt_close(srv);
	nt_close(cli_fd);
	nt_server_free(&served);
}

struct blocked {
	int fd;		  /* socket */
	uint64_t id;	  /* private id waited for, 0 = any */
	int err;	  /* errno it returned with */
	uint64_t done_ns; /* when it returned */
	pthread_t thread; /* its thread */
};

static void *blocked_main(void *arg)
{
	struct blocked *b = arg;
	uint64_t id = b->id;
	char buf[64];

	if (homa_receive(b->fd, buf, sizeof(buf), 0, NULL, NULL, &id, NULL) < 0)
		b->err = errno;
	__atomic_store_n(&b->done_ns, nt_now_ns(), __ATOMIC_RELEASE);
	return NULL;
}

static void part_shutdown_wakes(bool use_close)
{
	struct blocked b[2];
	struct pollfd p;
	char buf[10] = { 0 };
	int fd = homa_socket(AF_INET), srv = homa_socket(AF_INET);
	uint64_t t0;

	if (fd < 0 || srv < 0)
		nt_fail("sockets: %s", strerror(errno));
	srv_len = nt_addr(&srv_addr, "127.0.0.1",
			  (uint16_t)nt_bind_any(srv, AF_INET, 20000, 30000));
	memset(b, 0, sizeof(b));
	for (int i = 0; i < 2; i++) {
		b[i].fd = fd;
		b[i].err = 0;
	}
	/* b[1] waits for a private RPC nobody answers. */
	if (homa_request(fd, buf, sizeof(buf), (struct sockaddr *)&srv_addr,
			 srv_len, &b[1].id, 0, HOMA_SENDMSG_PRIVATE) < 0)
		nt_fail("request: %s", strerror(errno));
	for (int i = 0; i < (use_close ? 1 : 2); i++)
		pthread_create(&b[i].thread, NULL, blocked_main, &b[i]);
	usleep(200000); /* they are blocked by now */
	for (int i = 0; i < (use_close ? 1 : 2); i++)
		if (__atomic_load_n(&b[i].done_ns, __ATOMIC_ACQUIRE))
			nt_fail("receiver %d returned early (%s)", i,
				strerror(b[i].err));
	t0 = nt_now_ns();
	if ((use_close ? homa_close(fd) : homa_shutdown(fd, SHUT_RDWR)) < 0)
		nt_fail("shutdown/close: %s", strerror(errno));
	for (int i = 0; i < (use_close ? 1 : 2); i++) {
		pthread_join(b[i].thread, NULL);
		if (b[i].err != ESHUTDOWN)
			nt_fail("receiver %d: %s, not ESHUTDOWN", i,
				strerror(b[i].err));
		if (b[i].done_ns - t0 > 1000000000ull)
			nt_fail("receiver %d woke after %.0f ms", i,
				(double)(b[i].done_ns - t0) / 1e6);
	}
	if (!use_close) {
		p.fd = fd;
		p.events = POLLIN;
		if (poll(&p, 1, 1000) != 1 || !(p.revents & POLLIN))
			nt_fail("not readable after shutdown");
		nt_close(fd);
	}
	printf("ok: %s from another thread woke %s receiver%s with "
	       "ESHUTDOWN\n",
	       use_close ? "homa_close" : "homa_shutdown",
	       use_close ? "a blocked" : "blocked shared and private",
	       use_close ? "" : "s");
	nt_close(srv);
}

#define PROGRESS_NS 600000000ull /* length of part 4 */

struct progress {
	pthread_t thread; /* its thread */
	uint32_t done;	  /* RPCs completed */
	char why[120];	  /* first failure, "" if none */
};

static volatile bool progress_stop; /* set when part 4's time is up */

static void *progress_main(void *arg)
{
	struct progress *p = arg;
	uint8_t req[100] = { 0 }, resp[200];

	while (!__atomic_load_n(&progress_stop, __ATOMIC_ACQUIRE)) {
		uint64_t id = 0;

		if (homa_request(cli_fd, req, sizeof(req),
				 (struct sockaddr *)&srv_addr, srv_len, &id, 0,
				 HOMA_SENDMSG_PRIVATE) < 0 ||
		    homa_receive(cli_fd, resp, sizeof(resp), 0, NULL, NULL, &id,
				 NULL) < 0) {
			snprintf(p->why, sizeof(p->why), "rpc: %s",
				 strerror(errno));
			return NULL;
		}
		p->done++;
	}
	return NULL;
}

/* The server of part 4: echoes every request until shut down. */
static void *echo_main(void *arg)
{
	int fd = *(int *)arg;
	uint8_t buf[200];
	struct sockaddr_in6 peer;
	socklen_t peer_len;
	uint64_t id;
	ssize_t n;

	for (;;) {
		id = 0;
		peer_len = sizeof(peer);
		n = homa_receive(fd, buf, sizeof(buf), 0,
				 (struct sockaddr *)&peer, &peer_len, &id,
				 NULL);
		if (n < 0 && errno == ESHUTDOWN)
			return NULL;
		if (n >= 0)
			homa_reply(fd, buf, (size_t)n, (struct sockaddr *)&peer,
				   peer_len, id);
	}
}

static void part_progress(void)
{
	struct progress p[CLIENTS];
	uint32_t total = 0, least = UINT32_MAX;
	int srv = homa_socket(AF_INET);
	pthread_t echo;

	cpu_set_t one;

	/* Every thread of this part on the CPU this one runs on. */
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &one);
	pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
	cli_fd = homa_socket(AF_INET);
	if (srv < 0 || cli_fd < 0)
		nt_fail("sockets: %s", strerror(errno));
	srv_len = nt_addr(&srv_addr, "127.0.0.1",
			  (uint16_t)nt_bind_any(srv, AF_INET, 20000, 30000));
	pthread_create(&echo, NULL, echo_main, &srv);
	memset(p, 0, sizeof(p));
	for (int i = 0; i < CLIENTS; i++)
		pthread_create(&p[i].thread, NULL, progress_main, &p[i]);
	usleep((useconds_t)(PROGRESS_NS / 1000));
	__atomic_store_n(&progress_stop, true, __ATOMIC_RELEASE);
	for (int i = 0; i < CLIENTS; i++) {
		pthread_join(p[i].thread, NULL);
		if (p[i].why[0])
			nt_fail("progress thread %d: %s", i, p[i].why);
		total += p[i].done;
		least = p[i].done < least ? p[i].done : least;
	}
	homa_shutdown(srv, SHUT_RDWR);
	pthread_join(echo, NULL);
	printf("ok: %d threads on one socket for %.1f s: %u RPCs, the "
	       "slowest thread %u (average %u)\n",
	       CLIENTS, (double)PROGRESS_NS / 1e9, total, least,
	       total / CLIENTS);
	if (!least || (uint64_t)least * CLIENTS * 8 < total)
		nt_fail("a thread was starved: %u RPCs against an average "
			"of %u",
			least, total / CLIENTS);
	homa_close(srv);
	homa_close(cli_fd);
}

int main(int argc, char **argv)
{
	per_thread = argc > 1 ? atoi(argv[1]) : 400;
	/* Ten busy threads on two CPUs: a thread holding packets it read
	 * can be descheduled for milliseconds while another feeds later
	 * ones. A request overtaken by its RESEND for longer than
	 * resend_ticks draws RPC_UNKNOWN, the client sends it again, and
	 * the late original is executed a second time after the ack (the
	 * core's hazard of spec 3.8, reported): keep RESENDs for real
	 * silences here, this test is about threads. */
	setenv("HOMA_RESEND_TICKS", "30", 0);
	alarm(240);
	part_concurrent_rpcs();
	part_shutdown_wakes(false);
	part_shutdown_wakes(true);
	part_progress();
	return 0;
}
