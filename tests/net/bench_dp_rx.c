/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_dp_rx.c - the receive cost of a datapath, one read at a time:
 * COUNT reads of one 100-byte datagram each (sent to the datapath's port
 * over loopback just before; the slots offered settle as in a ping-pong),
 * then COUNT reads of an empty socket. scripts/bench-dp-rx.sh counts the
 * instructions of each kind of read under callgrind (rx_one, rx_empty);
 * run natively it checks that every datagram was read.
 *
 *   bench_dp_rx [udp|raw] [COUNT]   raw (root): empty reads only
 *
 * Exit 0 on success, 77 if the datapath cannot be made (raw without
 * CAP_NET_RAW), 1 on failure.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "datapath.h"

static int bench_got; /* datagrams delivered */

static void bench_deliver(void *arg, const struct homa_addr *src,
			  const uint8_t *pkt, size_t bytes)
{
	(void)arg;
	(void)src;
	(void)pkt;
	(void)bytes;
	bench_got++;
}

static void bench_icmp(void *arg, const struct homa_addr *dst, uint16_t dport,
		       int err)
{
	(void)arg;
	(void)dst;
	(void)dport;
	(void)err;
}

/* Two functions, so that callgrind can count each kind of read alone
 * (external: identical static ones would be folded into one). */
int rx_one(struct homa_dp *dp);
int rx_empty(struct homa_dp *dp);

__attribute__((noinline)) int rx_one(struct homa_dp *dp)
{
	return dp->ops->rx(dp, bench_deliver, bench_icmp, NULL);
}

__attribute__((noinline)) int rx_empty(struct homa_dp *dp)
{
	return dp->ops->rx(dp, bench_deliver, bench_icmp, NULL);
}

/* A second thread that only sleeps: a process using libhoma has its
 * background thread, and a multithreaded process takes glibc's slower
 * paths (cancellable system calls). */
static void *bench_idle(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	struct homa_dp_opts opts = { .gro = true };
	bool raw = argc > 1 && strcmp(argv[1], "raw") == 0;
	int count = argc > 2 ? atoi(argv[2]) : 20000;
	struct sockaddr_in a = { .sin_family = AF_INET };
	uint8_t pkt[100] = { 0 };
	struct homa_dp *dp;
	int port, tx, ret;
	pthread_t idle;

	pthread_create(&idle, NULL, bench_idle, NULL);
	ret = raw ? homa_dp_raw_create(&opts, &dp)
		  : homa_dp_udp_create(&opts, &dp);
	if (ret < 0) {
		fprintf(stderr, "bench_dp_rx: %s datapath: %s\n",
			raw ? "raw" : "udp", strerror(-ret));
		return ret == -EPERM ? 77 : 1;
	}
	port = dp->ops->port_open(dp, HOMA_FAMILY_INET, 0);
	tx = socket(AF_INET, SOCK_DGRAM, 0);
	if (port < 0 || tx < 0 || count <= 0) {
		fprintf(stderr, "bench_dp_rx: no port or socket\n");
		return 1;
	}
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	homa_wire_poke16(pkt, HOMA_WIRE_OFF_DPORT, (uint16_t)port);
	/* raw: a UDP datagram never reaches protocol 146's socket */
	for (int i = 0; i < count && !raw; i++) {
		int spins = 0;

		sendto(tx, pkt, sizeof(pkt), 0, (struct sockaddr *)&a,
		       sizeof(a));
		while (rx_one(dp) == 0 && ++spins < 1000000)
			;
	}
	for (int i = 0; i < count; i++)
		rx_empty(dp);
	dp->ops->destroy(dp);
	close(tx);
	if (!raw && bench_got != count) {
		fprintf(stderr, "bench_dp_rx: %d of %d datagrams read\n",
			bench_got, count);
		return 1;
	}
	printf("bench_dp_rx %s: %d datagrams read one per call, %d empty "
	       "reads\n",
	       raw ? "raw" : "udp", bench_got, count);
	return 0;
}
