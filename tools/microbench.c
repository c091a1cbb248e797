/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * microbench.c - homa-microbench: RPC round trips between two core
 * instances in memory, with no network and no system calls, to measure
 * the cost of the protocol itself. Packets are queued by the xmit callback
 * and delivered to the other instance; time is a counter.
 *
 * usage: homa-microbench [RPCS [SIZE]]    (defaults 200000 and 100)
 * Prints round trips per second. Under valgrind --tool=callgrind with
 * --toggle-collect=mb_round_trip the instruction count per round trip
 * comes from the callgrind total divided by RPCS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "homa.h"
#include "homa_core.h"

#define MB_QUEUE  64
#define MB_PKT	  1600
#define MB_REGION (4u << 20)

struct mb_pkt {
	int dst;	      /* instance index */
	size_t bytes;	      /* packet length */
	uint8_t data[MB_PKT]; /* header + payload */
};

struct mb {
	struct homa *homa[2];	   /* client 0, server 1 */
	struct homa_addr addr[2];  /* their addresses */
	struct mb_pkt q[MB_QUEUE]; /* packets in flight */
	int head, tail;		   /* queue indexes */
	uint64_t now;		   /* fake clock, ns */
};

static struct mb mb;

static void mb_xmit(void *ctx, const struct homa_out_pkt *p)
{
	struct mb_pkt *q = &mb.q[mb.tail % MB_QUEUE];

	q->dst = (int)(intptr_t)ctx ^ 1;
	memcpy(q->data, p->hdr, p->hdr_bytes);
	if (p->payload_bytes)
		memcpy(q->data + p->hdr_bytes, p->payload, p->payload_bytes);
	q->bytes = p->hdr_bytes + p->payload_bytes;
	mb.tail++;
}

static uint64_t mb_random(void *ctx)
{
	(void)ctx;
	return 4;
}

static void *mb_alloc(void *ctx, size_t bytes)
{
	(void)ctx;
	return malloc(bytes);
}

static void mb_free(void *ctx, void *p, size_t bytes)
{
	(void)ctx;
	(void)bytes;
	free(p);
}

static void mb_deliver(void)
{
	while (mb.head != mb.tail) {
		struct mb_pkt *q = &mb.q[mb.head % MB_QUEUE];

		mb.head++;
		homa_input(mb.homa[q->dst], &mb.addr[q->dst ^ 1], q->data,
			   q->bytes, mb.now);
	}
}

/* One request/response exchange; the function callgrind measures. */
__attribute__((noinline)) int mb_round_trip(struct homa_sock *cli,
					    struct homa_sock *srv,
					    struct homa_recv_args *rc,
					    struct homa_recv_args *rs,
					    const struct homa_iov *iov);

__attribute__((noinline)) int mb_round_trip(struct homa_sock *cli,
					    struct homa_sock *srv,
					    struct homa_recv_args *rc,
					    struct homa_recv_args *rs,
					    const struct homa_iov *iov)
{
	struct homa_send_args sa = { &mb.addr[1], 99, iov, 1, 0, 0, 0 };

	mb.now += 1000;
	if (homa_send(cli, &sa, mb.now) < 0)
		return -1;
	mb_deliver();
	rs->id = 0;
	if (homa_recv(srv, rs, mb.now) != (int)iov->bytes)
		return -1;
	sa.dst = &rs->peer;
	sa.dport = rs->peer_port;
	sa.id = rs->id;
	if (homa_send(srv, &sa, mb.now) < 0)
		return -1;
	/* As libhoma does once the reply has left (homa_end_acked). */
	homa_end_acked(mb.homa[1], mb.now);
	mb_deliver();
	rc->id = 0;
	if (homa_recv(cli, rc, mb.now) != (int)iov->bytes)
		return -1;
	/* Acks ride on later DATA; run the timer now and then. */
	if ((mb.now / 1000) % 1000 == 0) {
		homa_poll(mb.homa[0], mb.now);
		homa_poll(mb.homa[1], mb.now);
		mb_deliver();
	}
	return 0;
}

int main(int argc, char **argv)
{
	long rpcs, size;
	static struct homa_recv_args rc, rs;
	struct homa_sock *cli, *srv;
	struct homa_config cfg;
	struct timespec t0, t1;
	uint8_t *region;
	uint8_t *msg;
	double secs;

	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("homa-microbench %s\n", HOMA_VERSION_STRING);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		printf("usage: homa-microbench [RPCS [SIZE]]\n"
		       "  RPCS round trips (200000) of SIZE bytes (100, at "
		       "most 1000000)\n"
		       "  between two protocol cores in memory: the cost of "
		       "the "
		       "protocol alone\n");
		return 0;
	}
	rpcs = argc > 1 ? atol(argv[1]) : 200000;
	size = argc > 2 ? atol(argv[2]) : 100;
	if (argc > 3 || rpcs <= 0 || size <= 0 || size > 1000000) {
		fprintf(stderr, "homa-microbench: bad arguments\n"
				"usage: homa-microbench [RPCS [SIZE]] (SIZE "
				"1-1000000), --help, --version\n");
		return 2;
	}
	homa_config_default(&cfg);
	cfg.flags = HOMA_FLAG_DONT_THROTTLE;
	for (int i = 0; i < 2; i++) {
		struct homa_env env = { (void *)(intptr_t)i,
					mb_xmit,
					NULL,
					mb_random,
					mb_alloc,
					mb_free,
					NULL,
					NULL,
					NULL };
		const uint8_t v4[4] = { 10, 0, 0, (uint8_t)(i + 1) };
		char err[HOMA_ERR_BYTES];

		homa_addr_set_v4(&mb.addr[i], v4);
		if (homa_create(&env, &cfg, 0, &mb.homa[i], err) < 0) {
			fprintf(stderr, "homa_create: %s\n", err);
			return 1;
		}
	}
	if (posix_memalign((void **)&region, 4096, 2 * MB_REGION))
		return 1;
	msg = malloc((size_t)size);
	memset(msg, 7, (size_t)size);
	if (homa_sock_open(mb.homa[0], HOMA_FAMILY_INET, NULL, &cli) ||
	    homa_sock_set_rcvbuf(cli, region, MB_REGION) ||
	    homa_sock_open(mb.homa[1], HOMA_FAMILY_INET, NULL, &srv) ||
	    homa_sock_bind(srv, 99) ||
	    homa_sock_set_rcvbuf(srv, region + MB_REGION, MB_REGION)) {
		fprintf(stderr, "socket setup failed\n");
		return 1;
	}
	struct homa_iov iov = { msg, (size_t)size };
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < rpcs; i++) {
		if (mb_round_trip(cli, srv, &rc, &rs, &iov) < 0) {
			fprintf(stderr, "round trip %ld failed\n", i);
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%ld round trips of %ld bytes in %.3f s: %.0f per second, "
	       "%.0f ns each\n",
	       rpcs, size, secs, (double)rpcs / secs,
	       secs * 1e9 / (double)rpcs);
	homa_destroy(mb.homa[0]);
	homa_destroy(mb.homa[1]);
	free(region);
	free(msg);
	return 0;
}
