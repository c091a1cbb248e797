/*
 * homa-echo-client [--raw] HOST PORT COUNT SIZE - send COUNT requests of
 * SIZE random bytes to an echo server, one at a time, check every response
 * byte for byte and print "ok COUNT rpcs, p50 X us, p99 Y us". Exits 0
 * only if all matched.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "homa.h"

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

int main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai;
	int i = 1, fd, bad = 0, rc = 1;
	long count, size;
	uint8_t *req, *resp;
	uint64_t *lat;

	if (i < argc && strcmp(argv[i], "--raw") == 0) {
		homa_config_param("datapath", "raw");
		i++;
	}
	if (argc - i != 4 || (count = atol(argv[i + 2])) <= 0 ||
	    (size = atol(argv[i + 3])) <= 0 || size > HOMA_MAX_MESSAGE_LENGTH) {
		fprintf(stderr, "usage: homa-echo-client [--raw] HOST PORT "
				"COUNT SIZE (1-1000000)\n");
		return 2;
	}
	if (getaddrinfo(argv[i], argv[i + 1], &hints, &ai) != 0) {
		fprintf(stderr, "cannot resolve %s\n", argv[i]);
		return 2;
	}
	fd = homa_socket(ai->ai_family);
	if (fd < 0) {
		perror("homa_socket");
		freeaddrinfo(ai);
		return 1;
	}
	req = malloc((size_t)size);
	resp = malloc((size_t)size);
	lat = malloc((size_t)count * sizeof(*lat));
	if (!req || !resp || !lat) {
		perror("malloc");
		goto out;
	}
	srandom((unsigned)now_ns());
	for (long n = 0; n < count; n++) {
		uint64_t id, t0 = now_ns();
		ssize_t got;

		for (long k = 0; k < size; k++)
			req[k] = (uint8_t)random();
		if (homa_request(fd, req, (size_t)size, ai->ai_addr,
				 ai->ai_addrlen, &id, 0, 0) < 0) {
			perror("homa_request");
			goto out;
		}
		id = 0;
		got = homa_receive(fd, resp, (size_t)size, 0, NULL, NULL, &id,
				   NULL);
		lat[n] = now_ns() - t0;
		if (got < 0) {
			perror("homa_receive");
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
	free(req);
	free(resp);
	free(lat);
	freeaddrinfo(ai);
	homa_close(fd);
	return rc;
}
