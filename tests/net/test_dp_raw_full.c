/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_dp_raw_full.c - a raw datapath whose receive queue is full must not
 * make the kernel answer ICMP protocol unreachable (issue 19). Since Linux
 * 6.9 the kernel passes over raw sockets with a full queue and, finding no
 * other, tells the sender that protocol 146 does not exist on this host;
 * a Homa client then fails every RPC to the host with EPROTONOSUPPORT.
 * The datapath holds a guard socket that never fills (src/net/raw.c).
 *
 * In a network namespace of its own (root; no other process's raw socket
 * can take the packets), with a raw datapath that has a port open and is
 * never read, it sends 1,500 packets of 1,400 bytes for that port over
 * loopback from an IPPROTO_RAW socket (which receives no protocol-146
 * packets itself), then checks that the datapath's queue overflowed (the
 * raw sockets' drops in /proc/net/raw) and that the kernel answered none
 * of them as an unknown protocol (Ip InUnknownProtos in /proc/net/snmp).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "datapath.h"
#include "net_util.h"

#define RF_PKTS	 1500 /* packets sent */
#define RF_BYTES 1400 /* bytes per packet, IP header included */

/* A field of /proc/net/snmp: the value under name on the line of proto. */
static long rf_snmp(const char *proto, const char *name)
{
	char head[4096], vals[4096], *hs, *vs, *h, *v;
	FILE *f = fopen("/proc/net/snmp", "r");
	size_t plen = strlen(proto);

	assert_non_null(f);
	while (fgets(head, sizeof(head), f) && fgets(vals, sizeof(vals), f)) {
		if (strncmp(head, proto, plen) != 0 || head[plen] != ':')
			continue;
		h = strtok_r(head + plen + 1, " \n", &hs);
		v = strtok_r(vals + plen + 1, " \n", &vs);
		while (h && v) {
			if (strcmp(h, name) == 0) {
				fclose(f);
				return atol(v);
			}
			h = strtok_r(NULL, " \n", &hs);
			v = strtok_r(NULL, " \n", &vs);
		}
	}
	fclose(f);
	fail_msg("no %s %s in /proc/net/snmp", proto, name);
	return -1;
}

/* Packets the raw sockets of this namespace dropped (last column). */
static long rf_raw_drops(void)
{
	char line[512];
	FILE *f = fopen("/proc/net/raw", "r");
	long total = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *last = strrchr(line, ' ');

		if (strstr(line, "local_address") || !last)
			continue;
		total += atol(last + 1);
	}
	fclose(f);
	return total;
}

static void test_full_queue_is_no_unknown_protocol(void **state)
{
	struct homa_dp_opts opts = { .rcvbuf_bytes = 0 }; /* default queue */
	struct sockaddr_in to = { .sin_family = AF_INET };
	uint8_t pkt[RF_BYTES];
	struct homa_dp *dp;
	long unknown0, unknown, drops;
	int fd, port, sent = 0;

	(void)state;
	nt_private_net();
	assert_int_equal(homa_dp_raw_create(&opts, &dp), 0);
	port = dp->ops->port_open(dp, AF_INET, 0);
	assert_true(port > 0);

	/* IPv4 header (the kernel fills id and checksum), then the start of
	 * a Homa DATA packet for our port: sport, dport, type at 11. */
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x45;
	pkt[2] = RF_BYTES >> 8;
	pkt[3] = RF_BYTES & 0xff;
	pkt[8] = 64;
	pkt[9] = 146;
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	memcpy(pkt + 12, &to.sin_addr, 4);
	memcpy(pkt + 16, &to.sin_addr, 4);
	pkt[20] = 0x30;
	pkt[21] = 0x39;
	pkt[22] = (uint8_t)(port >> 8);
	pkt[23] = (uint8_t)port;
	pkt[20 + 11] = 0x10; /* DATA */
	fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	assert_true(fd >= 0);

	unknown0 = rf_snmp("Ip", "InUnknownProtos");
	for (int i = 0; i < RF_PKTS; i++)
		if (sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&to,
			   sizeof(to)) == (ssize_t)sizeof(pkt))
			sent++;
	usleep(100000); /* loopback delivery is done by now */
	unknown = rf_snmp("Ip", "InUnknownProtos") - unknown0;
	drops = rf_raw_drops();
	printf("sent %d, dropped by full raw queues %ld, answered as an "
	       "unknown protocol %ld\n",
	       sent, drops, unknown);
	assert_int_equal(sent, RF_PKTS);
	assert_true(drops > 0); /* the datapath's queue did overflow */
	assert_int_equal(unknown, 0);
	close(fd);
	dp->ops->port_close(dp, (uint16_t)port);
	dp->ops->destroy(dp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_queue_is_no_unknown_protocol),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
