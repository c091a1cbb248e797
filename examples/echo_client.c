/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * homa-echo-client [--raw] [--socket-per-rpc] HOST PORT COUNT SIZE - send
 * COUNT requests of SIZE random bytes to an echo server, one at a time,
 * check every response byte for byte and print "ok COUNT rpcs, p50 X us,
 * p99 Y us". The times are of the RPCs alone (request sent to response
 * received), not of making up the requests; with --socket-per-rpc they
 * include opening and closing a socket for each RPC, to show what that
 * costs. Exits 0 only if all matched; a failed call is
 * named with its errno, and the likely cause when it is a timeout.
 */
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "homa.h"

static const char usage[] =
	"usage: homa-echo-client [--raw] [--socket-per-rpc] HOST PORT COUNT "
	"SIZE\n"
	"  send COUNT requests of SIZE bytes (1-1000000) to the echo server "
	"at\n"
	"  HOST, server port PORT (1-32767), one at a time; check each "
	"response\n"
	"  --raw      raw IP protocol 146 instead of UDP (needs CAP_NET_RAW;\n"
	"             the server must use the same datapath)\n"
	"  --socket-per-rpc  open and close a socket for every RPC (timed):\n"
	"             what it costs against the one socket kept by default\n"
	"  --help     this text;  --version  the version\n"
	"  HOMA_PRINT_METRICS=1: the library prints its counters at exit.\n";

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A failed call: its errno, and what usually causes it. */
static void report(const char *call, int err)
{
	const char *hint = "";

	if (err == ETIMEDOUT)
		hint = " (no answer: is the server running, and on the same "
		       "datapath? a --raw server does not hear a UDP client, "
		       "nor the reverse)";
	else if (err == ENOTCONN)
		hint = " (nothing listens on that port over this datapath: "
		       "is the server running, with --raw on both sides or "
		       "neither?)";
	else if (err == EPERM)
		hint = " (--raw needs CAP_NET_RAW: run as root)";
	fprintf(stderr, "homa-echo-client: %s: %s%s\n", call, strerror(err),
		hint);
}

/* A whole number in [lo, hi] from text, or -1. */
static long parse_num(const char *text, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < lo || v > hi)
		return -1;
	return v;
}

int main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICSERV },
			*ai;
	int i = 1, fd, bad = 0, rc = 1, gai;
	bool per_rpc = false; /* --socket-per-rpc */
	long count, size, port;
	uint8_t *req, *resp;
	uint64_t *lat;

	for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("homa-echo-client %s (libhoma %s)\n",
			       HOMA_VERSION_STRING, homa_version());
			return 0;
		} else if (strcmp(argv[i], "--socket-per-rpc") == 0) {
			per_rpc = true;
		} else if (strcmp(argv[i], "--raw") == 0) {
			if (homa_config_param("datapath", "raw") < 0) {
				fprintf(stderr, "homa-echo-client: %s\n",
					homa_last_error());
				return 2;
			}
		} else {
			fprintf(stderr, "homa-echo-client: unknown option %s\n",
				argv[i]);
			fputs(usage, stderr);
			return 2;
		}
	}
	if (argc - i != 4) {
		fputs(usage, stderr);
		return 2;
	}
	port = parse_num(argv[i + 1], 1, 32767);
	count = parse_num(argv[i + 2], 1, 1000000000);
	size = parse_num(argv[i + 3], 1, HOMA_MAX_MESSAGE_LENGTH);
	if (port < 0 || count < 0 || size < 0) {
		fprintf(stderr, "homa-echo-client: bad %s '%s': %s\n",
			port < 0    ? "PORT"
			: count < 0 ? "COUNT"
				    : "SIZE",
			argv[i + (port < 0    ? 1
				  : count < 0 ? 2
					      : 3)],
			port < 0 ? "a server port is a number from 1 to 32767"
			: count < 0 ? "a number of RPCs, 1 or more"
				    : "a message length from 1 to 1000000");
		return 2;
	}
	gai = getaddrinfo(argv[i], argv[i + 1], &hints, &ai);
	if (gai != 0) {
		fprintf(stderr,
			"homa-echo-client: cannot resolve host '%s': %s\n",
			argv[i], gai_strerror(gai));
		return 2;
	}
	fd = homa_socket(ai->ai_family);
	if (fd < 0) {
		report("homa_socket", errno);
		freeaddrinfo(ai);
		return 1;
	}
	req = malloc((size_t)size);
	resp = malloc((size_t)size);
	lat = malloc((size_t)count * sizeof(*lat));
	if (!req || !resp || !lat) {
		report("malloc", ENOMEM);
		goto out;
	}
	srandom((unsigned)now_ns());
	for (long n = 0; n < count; n++) {
		uint64_t id, t0;
		ssize_t got;

		for (long k = 0; k < size; k++)
			req[k] = (uint8_t)random();
		t0 = now_ns(); /* the RPC only, not the fill above */
		if (per_rpc && n > 0) {
			homa_close(fd);
			fd = homa_socket(ai->ai_family);
			if (fd < 0) {
				report("homa_socket", errno);
				goto out_nofd;
			}
		}
		if (homa_request(fd, req, (size_t)size, ai->ai_addr,
				 ai->ai_addrlen, &id, 0, 0) < 0) {
			report("homa_request", errno);
			goto out;
		}
		id = 0; /* any response: the only one in flight */
		got = homa_receive(fd, resp, (size_t)size, 0, NULL, NULL, &id,
				   NULL);
		lat[n] = now_ns() - t0;
		if (got < 0) {
			report("homa_receive", errno);
			goto out;
		}
		if (got != size || memcmp(req, resp, (size_t)size) != 0)
			bad++;
	}
	qsort(lat, (size_t)count, sizeof(*lat), cmp_u64);
	if (bad) {
		printf("FAILED %d of %ld responses differ\n", bad, count);
		goto out;
	}
	printf("ok %ld rpcs, p50 %.1f us, p99 %.1f us\n", count,
	       (double)lat[count / 2] / 1000.0,
	       (double)lat[(count * 99) / 100] / 1000.0);
	rc = 0;
out:
	if (homa_close(fd) < 0)
		report("homa_close", errno);
out_nofd:
	free(req);
	free(resp);
	free(lat);
	freeaddrinfo(ai);
	return rc;
}
