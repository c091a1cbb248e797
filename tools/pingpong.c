/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pingpong.c - homa-pingpong: the smallest ping-pong we could write, the
 * outside check of homa-bench's baselines (with sockperf for blocking
 * waits; sockperf cannot spin on plain sockets). One client sends SIZE
 * bytes over UDP or TCP, the server echoes them, the client times each
 * round trip and prints P50 and P99. --wait spin reads without blocking
 * in a loop (yielding the CPU between reads, as libhoma and homa-bench
 * do); --wait block uses blocking reads.
 *
 *   homa-pingpong server udp|tcp PORT [spin|block]
 *   homa-pingpong client udp|tcp HOST PORT SECONDS [spin|block] [SIZE]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PP_MAX_SIZE 65000    /* bytes per message at most */
#define PP_MAX_RTTS 20000000 /* round trips recorded at most */

static double pp_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Read exactly n bytes (a datagram for UDP); spinning or blocking. */
static int pp_read(int fd, char *buf, size_t n, bool udp, bool spin)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = recv(fd, buf + got, udp ? PP_MAX_SIZE : n - got,
				 spin ? MSG_DONTWAIT : 0);

		if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
			sched_yield();
			continue;
		}
		if (r <= 0)
			return -1;
		got += (size_t)r;
		if (udp)
			break;
	}
	return 0;
}

static int pp_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static char buf[PP_MAX_SIZE];
	struct sockaddr_in a = { .sin_family = AF_INET };
	bool server = argc >= 4 && strcmp(argv[1], "server") == 0;
	bool udp = argc >= 3 && strcmp(argv[2], "udp") == 0;
	const char *wait =
		argc > (server ? 4 : 6) ? argv[server ? 4 : 6] : "spin";
	bool spin = strcmp(wait, "spin") == 0;
	size_t size = argc > 7 ? (size_t)atol(argv[7]) : 100;
	int fd, one = 1;

	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("homa-pingpong %s\n", HOMA_TOOL_VERSION);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		printf("usage: homa-pingpong server udp|tcp PORT [spin|block]\n"
		       "       homa-pingpong client udp|tcp HOST PORT SECONDS "
		       "[spin|block] [SIZE]\n"
		       "  a minimal ping-pong: the baseline homa-bench's UDP "
		       "and TCP\n  round trips are checked against\n");
		return 0;
	}
	if ((!server && (argc < 6 || strcmp(argv[1], "client"))) ||
	    (!udp && strcmp(argv[2], "tcp")) ||
	    (!spin && strcmp(wait, "block")) || !size || size > PP_MAX_SIZE) {
		fprintf(stderr,
			"usage: homa-pingpong server udp|tcp PORT "
			"[spin|block]\n"
			"       homa-pingpong client udp|tcp HOST PORT SECONDS "
			"[spin|block] [SIZE]\n");
		return 2;
	}
	fd = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
	a.sin_port = htons((uint16_t)atoi(argv[server ? 3 : 4]));
	if (server) {
		struct sockaddr_in peer;
		socklen_t pl = sizeof(peer);
		int c = fd;

		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
		    (!udp &&
		     (listen(fd, 1) < 0 || (c = accept(fd, NULL, NULL)) < 0))) {
			perror("homa-pingpong: server");
			return 1;
		}
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		for (;;) {
			ssize_t r;

			do {
				r = recvfrom(c, buf, sizeof(buf),
					     spin ? MSG_DONTWAIT : 0,
					     (struct sockaddr *)&peer, &pl);
				if (r < 0 && spin)
					sched_yield();
			} while (r < 0 && (errno == EAGAIN || errno == EINTR));
			if (r <= 0)
				return 0;
			if (udp)
				sendto(c, buf, (size_t)r, 0,
				       (struct sockaddr *)&peer, pl);
			else
				send(c, buf, (size_t)r, MSG_NOSIGNAL);
		}
	}
	if (inet_pton(AF_INET, argv[3], &a.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		fprintf(stderr, "homa-pingpong: connect to %s: %s\n", argv[3],
			strerror(errno));
		return 1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	{
		double end = pp_now_us() + atof(argv[5]) * 1e6, t0;
		double *rtt = malloc(PP_MAX_RTTS * sizeof(*rtt));
		size_t n = 0;

		while (rtt && n < PP_MAX_RTTS && (t0 = pp_now_us()) < end) {
			if (send(fd, buf, size, MSG_NOSIGNAL) < 0 ||
			    pp_read(fd, buf, size, udp, spin) < 0) {
				perror("homa-pingpong: client");
				return 1;
			}
			rtt[n++] = pp_now_us() - t0;
		}
		if (!n)
			return 1;
		qsort(rtt, n, sizeof(*rtt), pp_cmp);
		printf("%s %s %zu-byte round trips: %zu, p50 %.1f us, p99 %.1f "
		       "us\n",
		       argv[2], wait, size, n, rtt[n / 2],
		       rtt[(size_t)((double)n * 0.99)]);
		free(rtt);
	}
	return 0;
}
