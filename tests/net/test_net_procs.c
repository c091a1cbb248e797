/*
 * test_net_procs.c - many client processes against one libhoma server over
 * loopback: no RPC may ever be taken for another process's.
 *
 *   test_net_procs DATAPATH MODE	DATAPATH: udp | raw (root)
 *
 * MODE:
 *  - concurrent: 20 rounds of 8 client processes started together, each
 *    with 8 RPCs outstanding (every process draws its own first RPC id);
 *  - collide: 5 rounds of 8 client processes forced onto the same first
 *    RPC id (HOMA_TEST_FIRST_ID), so the server sees 8 RPCs with one id
 *    from one address at a time, told apart only by the client port;
 *  - restart: one client process started 50 times in a row.
 * Packets are cut at 1500 bytes (HOMA_MTU, HOMA_PATH_MTU=0) so that
 * requests and responses of several packets interleave. Every response is
 * checked byte for byte by its client, every request by the server, and at
 * the end the server must have been handed each request exactly once.
 * The parent never uses libhoma itself (every process that does is forked
 * from it before touching the library), and kills only its own children.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net_util.h"

#define PROCS		8   /* client processes per round */
#define WINDOW		8   /* RPCs outstanding per client */
#define COUNT		40  /* RPCs per client process */
#define ROUNDS		20  /* concurrent mode */
#define COLLIDE_ROUNDS	5   /* collide mode */
#define RESTARTS	50  /* restart mode */
#define RESTART_COUNT	20  /* RPCs per restarted process */
#define TEST_DEADLINE_S 100 /* the whole test, whatever happens */
#define FORCED_ID_BASE	0x6b8b4567327b23c6ull

static const char *datapath;
static pid_t server_pid = -1;
static pid_t kids[PROCS];
static int server_port;
static pid_t parent_pid;   /* the test's own process */
static int port_pipe = -1; /* restart mode: clients write their port here */

/* The server prints its metrics when told to stop (diagnostics). */
static void *server_term_main(void *arg)
{
	sigset_t *set = arg;
	int sig;

	sigwait(set, &sig);
	printf("server metrics:\n");
	nt_print_metrics(NULL);
	fflush(stdout);
	_exit(0);
}

static void kill_children(void)
{
	if (getpid() != parent_pid) /* a child's exit runs this too */
		return;
	for (int i = 0; i < PROCS; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGKILL);
	if (server_pid > 0)
		kill(server_pid, SIGKILL);
}

static void on_alarm(int sig)
{
	(void)sig;
	kill_children();
	_exit(1);
}

/* Settings of every libhoma process of the test (before its first call). */
static void child_setup(void)
{
	setenv("HOMA_MTU", "1500", 1);
	setenv("HOMA_PATH_MTU", "0", 1);
	nt_use_datapath(datapath);
}

/* Fork the server; returns once it printed its port into the pipe. */
static void start_server(void)
{
	int p[2], port = -1, fd;

	if (pipe(p) < 0)
		nt_fail("pipe: %s", strerror(errno));
	server_pid = fork();
	if (server_pid < 0)
		nt_fail("fork: %s", strerror(errno));
	if (server_pid == 0) {
		static sigset_t set;
		struct nt_server s;
		pthread_t t;

		close(p[0]);
		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
		pthread_create(&t, NULL, server_term_main, &set);
		child_setup();
		fd = homa_socket(AF_INET);
		if (fd >= 0)
			port = nt_bind_any(fd, AF_INET, 20000, 30000);
		if (write(p[1], &port, sizeof(port)) != sizeof(port) ||
		    port < 0 || nt_server_init(&s, fd) < 0)
			_exit(1);
		close(p[1]);
		nt_serve(&s, 0, NULL);
		_exit(1);
	}
	close(p[1]);
	if (read(p[0], &port, sizeof(port)) != sizeof(port) || port < 0)
		nt_fail("the server did not start");
	close(p[0]);
	server_port = port;
}

/* One client process: count RPCs with serials first.., all checked. */
static pid_t start_client(uint32_t first, uint32_t count, uint64_t force_id)
{
	pid_t pid = fork();
	char idtext[32];

	if (pid < 0)
		nt_fail("fork: %s", strerror(errno));
	if (pid > 0)
		return pid;
	if (force_id) {
		snprintf(idtext, sizeof(idtext), "0x%llx",
			 (unsigned long long)force_id);
		setenv("HOMA_TEST_FIRST_ID", idtext, 1);
	}
	child_setup();
	struct nt_client c = { .window = WINDOW, .mix = NT_MIX_LOSS };

	c.server_len = nt_addr(&c.server, "127.0.0.1", (uint16_t)server_port);
	c.first_serial = first;
	c.count = count;
	c.quiet = true;
	c.fd = homa_socket(AF_INET);
	if (c.fd < 0) {
		printf("FAIL: client %d: homa_socket: %s\n", (int)getpid(),
		       strerror(errno));
		_exit(1);
	}
	if (port_pipe >= 0) {
		struct homa_info info = { 0 };

		if (homa_ioctl(c.fd, HOMAIOCINFO, &info) < 0 ||
		    write(port_pipe, &info.port, sizeof(info.port)) !=
			    sizeof(info.port))
			_exit(1);
	}
	if (nt_client_run(&c) < 0) {
		printf("FAIL: client %d (serials %u..): after %u RPCs: %s\n",
		       (int)getpid(), first, c.done, c.why);
		nt_print_metrics(NULL);
		fflush(stdout);
		_exit(1);
	}
	homa_close(c.fd);
	_exit(0);
}

/* Wait for the n clients in kids[]; returns how many failed. */
static int wait_clients(int n)
{
	int failed = 0, status;

	for (int i = 0; i < n; i++) {
		if (waitpid(kids[i], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			failed++;
		kids[i] = -1;
	}
	return failed;
}

/* A last client asks for the server's report: each of the total requests
 * handed over exactly once, none corrupt. */
static void check_report(uint64_t total)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		nt_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		struct nt_client c = { 0 };
		struct nt_report r;

		child_setup();
		c.server_len =
			nt_addr(&c.server, "127.0.0.1", (uint16_t)server_port);
		c.fd = homa_socket(AF_INET);
		if (c.fd < 0 || nt_report_get(&c, &r) < 0) {
			printf("FAIL: report: %s\n", strerror(errno));
			_exit(1);
		}
		printf("server: %llu delivered, %llu distinct, %llu "
		       "duplicates, %llu corrupt, %llu garbage\n",
		       (unsigned long long)r.delivered,
		       (unsigned long long)r.distinct,
		       (unsigned long long)r.dups,
		       (unsigned long long)r.corrupt,
		       (unsigned long long)r.garbage);
		_exit(r.delivered == total && r.distinct == total && !r.dups &&
				      !r.corrupt && !r.garbage
			      ? 0
			      : 1);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		nt_fail("the server was not handed each of the %llu requests "
			"exactly once",
			(unsigned long long)total);
}

/* Is port among the first n of ports? */
static bool port_seen(const uint32_t *ports, int n, uint32_t port)
{
	for (int k = 0; k < n; k++)
		if (ports[k] == port)
			return true;
	return false;
}

/* restart mode: RESTARTS client processes one after the other; each tells
 * its client port, and the ports must not repeat. */
static void restarts(uint64_t *total, int *failed)
{
	uint32_t ports[RESTARTS];
	int p[2], distinct = 0;

	if (pipe(p) < 0)
		nt_fail("pipe: %s", strerror(errno));
	port_pipe = p[1];
	for (int r = 0; r < RESTARTS; r++) {
		kids[0] = start_client((uint32_t)*total, RESTART_COUNT, 0);
		*failed += wait_clients(1);
		*total += RESTART_COUNT;
		if (read(p[0], &ports[r], sizeof(ports[r])) != sizeof(ports[r]))
			nt_fail("client %d did not tell its port", r);
		distinct += !port_seen(ports, r, ports[r]);
	}
	/* Each process takes a client port at random (the kernel's ephemeral
	 * choice over UDP, raw.c's random start over raw): 50 draws from
	 * 32768 ports repeat one about 4% of the time, five essentially
	 * never. The same port every time would leave 1. */
	printf("%d distinct client ports in %d processes\n", distinct,
	       RESTARTS);
	if (distinct < RESTARTS - 4)
		nt_fail("client ports are reused by the next process");
	close(p[0]);
	close(p[1]);
	port_pipe = -1;
}

int main(int argc, char **argv)
{
	uint64_t total = 0, t0;
	const char *mode;
	int failed = 0;

	if (argc != 3)
		nt_fail("usage: test_net_procs udp|raw concurrent|collide|"
			"restart");
	datapath = argv[1];
	mode = argv[2];
	if (strcmp(datapath, "raw") == 0)
		nt_need_root("the raw datapath");
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i < PROCS; i++)
		kids[i] = -1;
	parent_pid = getpid();
	atexit(kill_children); /* nt_fail exits too */
	signal(SIGALRM, on_alarm);
	alarm(TEST_DEADLINE_S);
	start_server();
	t0 = nt_now_ns();
	if (strcmp(mode, "concurrent") == 0 || strcmp(mode, "collide") == 0) {
		bool collide = strcmp(mode, "collide") == 0;
		int rounds = collide ? COLLIDE_ROUNDS : ROUNDS;

		for (int r = 0; r < rounds; r++) {
			uint64_t id = collide ? FORCED_ID_BASE + 1000 * r : 0;

			for (int i = 0; i < PROCS; i++) {
				kids[i] = start_client(
					(uint32_t)(total + (uint64_t)i * COUNT),
					COUNT, id);
			}
			failed += wait_clients(PROCS);
			total += PROCS * COUNT;
		}
	} else if (strcmp(mode, "restart") == 0) {
		restarts(&total, &failed);
	} else {
		nt_fail("unknown mode %s", mode);
	}
	if (failed) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
		server_pid = -1;
		nt_fail("%d client processes failed", failed);
	}
	check_report(total);
	printf("ok: %s %s: %llu RPCs from %s client processes in %.2f s, "
	       "every byte checked, each request served once\n",
	       datapath, mode, (unsigned long long)total,
	       strcmp(mode, "restart") == 0 ? "sequential" : "concurrent",
	       (double)(nt_now_ns() - t0) / 1e9);
	kill_children();
	waitpid(server_pid, NULL, 0);
	return 0;
}
