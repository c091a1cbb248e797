/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_dp_raw_rx.c - the receive side of the raw datapath (src/net/raw.c),
 * in a network namespace of its own (root), packets sent over loopback
 * from raw sockets of protocol 146: a read in a ping-pong offers one slot
 * (a recvmsg) and only a burst more, as UDP's; a process with only IPv4
 * traffic does not read the idle IPv6 socket on every pass (one receive
 * call per pass, not two), yet an IPv6 packet sent to ::1 is still read
 * within microseconds, and while IPv6 has traffic its socket is read on
 * every pass.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include <cmocka.h>

#include "datapath.h"
#include "net_util.h"

#define RX_PROTO 146 /* IPPROTO_HOMA */

/* Packets seen by rx_deliver. */
struct rx_seen {
	int pkts; /* packets delivered */
};

static void rx_deliver(void *arg, const struct homa_addr *src,
		       const uint8_t *pkt, size_t bytes)
{
	(void)src;
	(void)pkt;
	(void)bytes;
	((struct rx_seen *)arg)->pkts++;
}

static void rx_icmp(void *arg, const struct homa_addr *dst, uint16_t dport,
		    int err)
{
	(void)arg;
	(void)dst;
	(void)dport;
	(void)err;
}

/* Send n 100-byte Homa packets for port over loopback (family 4 or 6),
 * then wait 5 ms for them to be queued. */
static void rx_send(int fam, uint16_t port, int n)
{
	int fd = socket(fam == 4 ? AF_INET : AF_INET6, SOCK_RAW, RX_PROTO);
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct timespec ts = { 0, 5000000 };
	uint8_t pkt[100];

	assert_true(fd >= 0);
	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a6.sin6_addr = in6addr_loopback;
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x9c; /* a source port */
	pkt[1] = 0x40;
	pkt[2] = (uint8_t)(port >> 8); /* the destination port */
	pkt[3] = (uint8_t)port;
	for (int i = 0; i < n; i++) {
		ssize_t r =
			fam == 4 ? sendto(fd, pkt, sizeof(pkt), 0,
					  (struct sockaddr *)&a4, sizeof(a4))
				 : sendto(fd, pkt, sizeof(pkt), 0,
					  (struct sockaddr *)&a6, sizeof(a6));
		assert_int_equal(r, (ssize_t)sizeof(pkt));
	}
	close(fd);
	nanosleep(&ts, NULL);
}

/* Whether ::1 can be reached (IPv6 enabled in the namespace). */
static bool rx_has_v6(void)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = 9 };
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);
	bool ok;

	a6.sin6_addr = in6addr_loopback;
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a6, sizeof(a6)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* One pass of the datapath's rx: packets read. */
static int rx_pass(struct homa_dp *dp)
{
	struct rx_seen s = { 0 };

	return dp->ops->rx(dp, rx_deliver, rx_icmp, &s);
}

static struct homa_dp *rx_dp(int *port)
{
	struct homa_dp_opts o = { 0 };
	struct homa_dp *dp;

	nt_private_net();
	assert_int_equal(homa_dp_raw_create(&o, &dp), 0);
	*port = dp->ops->port_open(dp, HOMA_FAMILY_INET6, 0);
	assert_true(*port > 0);
	return dp;
}

/* The slots a raw read offers, as UDP's (test_dp_udp): a ping-pong
 * offers one, a second full read in a row doubles them. */
static void test_ping_pong_offers_one_slot(void **state)
{
	struct homa_dp *dp;
	int port;

	(void)state;
	dp = rx_dp(&port);
	for (int i = 0; i < 2; i++) {
		rx_send(4, (uint16_t)port, 1);
		assert_int_equal(rx_pass(dp), 1);
		assert_int_equal(rx_pass(dp), 0);
	}
	/* Two waiting: the next read offers one slot (it offered two). */
	rx_send(4, (uint16_t)port, 2);
	assert_int_equal(rx_pass(dp), 1);
	assert_int_equal(rx_pass(dp), 1);
	/* Two full reads in a row: a burst, then two slots, then four. */
	rx_send(4, (uint16_t)port, 6);
	assert_int_equal(rx_pass(dp), 2);
	assert_int_equal(rx_pass(dp), 4);
	dp->ops->destroy(dp);
}

/* IPv4 traffic only: most passes make one receive call, not two; an
 * IPv6 packet is still read within 1 ms of polling (the datapath reads
 * an idle IPv6 socket every few microseconds); while IPv6 has traffic,
 * every pass reads both sockets. */
static void test_idle_v6_not_read_every_pass(void **state)
{
	struct homa_dp *dp;
	uint64_t calls, start, v6_reads;
	int port, got = 0, passes = 0;

	(void)state;
	dp = rx_dp(&port);
	if (!rx_has_v6()) {
		dp->ops->destroy(dp);
		skip(); /* no IPv6 here */
	}
	rx_send(4, (uint16_t)port, 1);
	assert_int_equal(rx_pass(dp), 1);
	calls = HOMA_DP_READ(dp->rx_calls);
	start = nt_now_ns();
	for (int i = 0; i < 100; i++)
		assert_int_equal(rx_pass(dp), 0);
	/* 100 IPv4 reads, and IPv6 reads at most once per idle interval
	 * (RAW_V6_IDLE_NS, 5 us) of the time the passes took (a pass takes
	 * well under it); 200 if both sockets were read on every pass. */
	v6_reads = HOMA_DP_READ(dp->rx_calls) - calls - 100;
	print_message("100 idle passes in %llu ns: %llu IPv6 reads\n",
		      (unsigned long long)(nt_now_ns() - start),
		      (unsigned long long)v6_reads);
	assert_true(v6_reads <= (nt_now_ns() - start) / 5000 + 1);
	assert_true(v6_reads < 100);
	/* An IPv6 packet waiting is read promptly. */
	rx_send(6, (uint16_t)port, 1);
	start = nt_now_ns();
	while (!got && nt_now_ns() - start < 1000000) {
		got = rx_pass(dp);
		passes++;
	}
	assert_int_equal(got, 1);
	/* IPv6 busy: every pass reads both sockets. */
	calls = HOMA_DP_READ(dp->rx_calls);
	for (int i = 0; i < 100; i++)
		assert_int_equal(rx_pass(dp), 0);
	assert_int_equal(HOMA_DP_READ(dp->rx_calls) - calls, 200);
	print_message("IPv6 packet read after %d passes\n", passes);
	dp->ops->destroy(dp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ping_pong_offers_one_slot),
		cmocka_unit_test(test_idle_v6_not_read_every_pass),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
