/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_dp_gate.c - the gate that keeps a datapath's socket set still
 * while threads read from it (struct homa_dp_gate, dp_common.c).
 *
 * 1. Readers inside the gate never see a writer's change half made: a
 *    writer keeps two fields equal, changing them one after the other
 *    with the gate closed; readers inside compare them. Without the gate
 *    (or with one that lets a reader in while a writer works) they
 *    differ.
 * 2. The UDP datapath: reading threads call rx without pause while the
 *    main thread opens a port, sends it a datagram and closes it, over
 *    and over; every datagram sent to the long-lived port is delivered,
 *    and nothing crashes. Built with ThreadSanitizer too
 *    (test_dp_gate_tsan), where a reader touching the socket set while
 *    a writer changes it is reported as a race.
 * Exit 0 on success, 1 on failure.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "datapath.h"

#define GATE_READERS 3	  /* reading threads */
#define GATE_CHANGES 3000 /* writer's changes in part 1 */
#define DP_ROUNDS    200  /* port open/send/close rounds in part 2 */
#define DP_BASE_PKTS 50	  /* datagrams to the long-lived port */

static struct homa_dp_gate gate_g; /* part 1's gate */
static volatile uint64_t gate_a;   /* written with the gate closed */
static volatile uint64_t gate_b;   /* ...always set to gate_a's value */
static int gate_done;		   /* writer finished (atomic) */
static uint64_t gate_torn;	   /* reads that saw a != b (atomic) */
static uint64_t gate_reads;	   /* reads made (atomic) */

static void *gate_reader(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&gate_done, __ATOMIC_ACQUIRE)) {
		uint64_t a, b;

		homa_dp_gate_enter(&gate_g);
		a = gate_a;
		for (volatile int i = 0; i < 20; i++)
			;
		b = gate_b;
		homa_dp_gate_leave(&gate_g);
		if (a != b)
			__atomic_fetch_add(&gate_torn, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&gate_reads, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static int test_gate_torn(void)
{
	pthread_t t[GATE_READERS];

	homa_dp_gate_init(&gate_g);
	for (int i = 0; i < GATE_READERS; i++)
		pthread_create(&t[i], NULL, gate_reader, NULL);
	/* Changes go on until the readers have read during them (on a
	 * loaded machine they may start late), for at most 10 s. */
	time_t end = time(NULL) + 10;
	uint64_t n;

	for (n = 1; n <= GATE_CHANGES ||
		    (__atomic_load_n(&gate_reads, __ATOMIC_RELAXED) < 1000 &&
		     time(NULL) < end);
	     n++) {
		homa_dp_gate_close(&gate_g);
		gate_a = n;
		for (volatile int i = 0; i < 500; i++)
			;
		gate_b = n;
		homa_dp_gate_open(&gate_g);
		if (n % 64 == 0)
			sched_yield(); /* let the readers in */
	}
	__atomic_store_n(&gate_done, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < GATE_READERS; i++)
		pthread_join(t[i], NULL);
	homa_dp_gate_destroy(&gate_g);
	if (gate_torn || !gate_reads) {
		fprintf(stderr,
			"gate: %llu of %llu reads saw a change half made\n",
			(unsigned long long)gate_torn,
			(unsigned long long)gate_reads);
		return 1;
	}
	printf("ok: gate, %llu reads during %llu changes, none torn\n",
	       (unsigned long long)gate_reads, (unsigned long long)n - 1);
	return 0;
}

static struct homa_dp *dp_dp; /* part 2's datapath */
static int dp_done;	      /* main thread finished (atomic) */
static uint64_t dp_base_rx;   /* datagrams read for base port (atomic) */
static uint64_t dp_other_rx;  /* datagrams read for the others (atomic) */
static uint16_t dp_base_port; /* the long-lived port */

static void dp_deliver(void *arg, const struct homa_addr *src,
		       const uint8_t *pkt, size_t bytes)
{
	(void)arg;
	(void)src;
	if (bytes == 4 && memcmp(pkt, "base", 4) == 0)
		__atomic_fetch_add(&dp_base_rx, 1, __ATOMIC_RELAXED);
	else
		__atomic_fetch_add(&dp_other_rx, 1, __ATOMIC_RELAXED);
}

static void dp_icmp(void *arg, const struct homa_addr *dst, uint16_t dport,
		    int err)
{
	(void)arg;
	(void)dst;
	(void)dport;
	(void)err;
}

static void *dp_reader(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&dp_done, __ATOMIC_ACQUIRE))
		dp_dp->ops->rx(dp_dp, dp_deliver, dp_icmp, NULL);
	return NULL;
}

static void dp_send(int fd, uint16_t port, const char *what)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sendto(fd, what, strlen(what), 0, (struct sockaddr *)&a, sizeof(a));
}

static int test_dp_udp(void)
{
	struct homa_dp_opts opts = { .gro = true };
	pthread_t t[GATE_READERS];
	int tx = socket(AF_INET, SOCK_DGRAM, 0), ret, base_sent = 0;

	if (tx < 0 || homa_dp_udp_create(&opts, &dp_dp) < 0) {
		fprintf(stderr, "dp: cannot create the UDP datapath\n");
		return 1;
	}
	ret = dp_dp->ops->port_open(dp_dp, HOMA_FAMILY_INET, 0);
	if (ret < 0) {
		fprintf(stderr, "dp: port_open: %s\n", strerror(-ret));
		return 1;
	}
	dp_base_port = (uint16_t)ret;
	for (int i = 0; i < GATE_READERS; i++)
		pthread_create(&t[i], NULL, dp_reader, NULL);
	for (int r = 0; r < DP_ROUNDS; r++) {
		int p = dp_dp->ops->port_open(dp_dp, HOMA_FAMILY_INET, 0);

		if (p < 0) {
			fprintf(stderr, "dp: port_open: %s\n", strerror(-p));
			return 1;
		}
		dp_send(tx, (uint16_t)p, "other");
		if (r % (DP_ROUNDS / DP_BASE_PKTS) == 0) {
			dp_send(tx, dp_base_port, "base");
			base_sent++;
		}
		sched_yield();
		dp_dp->ops->port_close(dp_dp, (uint16_t)p);
	}
	/* Every datagram to the base port arrives (loopback loses none
	 * while the queue has room). */
	for (int i = 0;
	     i < 2000 && __atomic_load_n(&dp_base_rx, __ATOMIC_RELAXED) <
				 (uint64_t)base_sent;
	     i++)
		usleep(1000);
	__atomic_store_n(&dp_done, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < GATE_READERS; i++)
		pthread_join(t[i], NULL);
	dp_dp->ops->destroy(dp_dp);
	close(tx);
	if (dp_base_rx != (uint64_t)base_sent) {
		fprintf(stderr,
			"dp: %llu of %d datagrams to the base port read\n",
			(unsigned long long)dp_base_rx, base_sent);
		return 1;
	}
	printf("ok: udp rx during %d port open/close rounds: %d of %d to the "
	       "base port, %llu to the others\n",
	       DP_ROUNDS, (int)dp_base_rx, base_sent,
	       (unsigned long long)dp_other_rx);
	return 0;
}

int main(void)
{
	int fails = test_gate_torn();

	fails += test_dp_udp();
	return fails ? 1 : 0;
}
