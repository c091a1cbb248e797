/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_dp_udp_conn.c - the UDP datapath's connected sending sockets
 * (src/net/udp_conn.c) over loopback: a port's first sends to a peer go
 * from its own socket, with names; from the 32nd on, from a socket
 * connected to the peer (another UDP source port, the Homa header's sport
 * unchanged); a peer whose port closed is still reported to the reader
 * as ENOTCONN for its address and port, the failed packet goes again from
 * the port's socket, and the connected socket is closed; closing the port
 * closes its connected sockets; HOMA_UDP_CONNECT=0 (opts.connect false)
 * opens none.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cmocka.h>

#include "datapath.h"

#define CT_AFTER 32 /* UDP_CONN_AFTER of udp_conn.c */

/* A sending datapath with one port, and a plain UDP socket as the peer. */
struct ct {
	struct homa_dp *dp;   /* the UDP datapath under test */
	uint16_t port;	      /* its port */
	int peer;	      /* the peer's socket, 127.0.0.1:peer_port */
	uint16_t peer_port;   /* its port */
	struct homa_addr dst; /* 127.0.0.1, mapped */
	int icmps;	      /* ICMP errors reported by rx */
	int icmp_err;	      /* the last one's errno */
	uint16_t icmp_port;   /* ...and port */
};

/* Open files of this process. */
static int ct_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void ct_open(struct ct *t, bool connect)
{
	struct homa_dp_opts o = { .connect = connect };
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	struct timeval tv = { 1, 0 };
	int port;

	memset(t, 0, sizeof(*t));
	assert_int_equal(homa_dp_udp_create(&o, &t->dp), 0);
	port = t->dp->ops->port_open(t->dp, HOMA_FAMILY_INET, 0);
	assert_true(port > 0);
	t->port = (uint16_t)port;
	t->peer = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(t->peer >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(t->peer, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(t->peer, (struct sockaddr *)&a, &len), 0);
	setsockopt(t->peer, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	t->peer_port = ntohs(a.sin_port);
	t->dst.a[10] = t->dst.a[11] = 0xff;
	memcpy(&t->dst.a[12], &a.sin_addr, 4);
}

/* Send one 100-byte packet (header and payload together) to the peer,
 * flushed; its byte 20 is tag. */
static void ct_send(struct ct *t, uint8_t tag)
{
	uint8_t pkt[100];
	struct homa_out_pkt p = {
		.dst = &t->dst,
		.sport = t->port,
		.dport = t->peer_port,
		.priority = HOMA_DP_SOCK_PRIO,
		.type = HOMA_PKT_DATA,
		.hdr = pkt,
		.hdr_bytes = 40,
		.payload = pkt + 40,
		.payload_bytes = 60,
	};

	memset(pkt, 0, sizeof(pkt));
	pkt[0] = (uint8_t)(t->port >> 8); /* sport, as the core writes it */
	pkt[1] = (uint8_t)t->port;
	pkt[HOMA_WIRE_OFF_TYPE] = HOMA_PKT_DATA;
	pkt[20] = tag;
	t->dp->ops->xmit(t->dp, &p);
	t->dp->ops->flush(t->dp);
}

/* The peer reads one packet: its UDP source port; asserts tag and the
 * header's sport. */
static uint16_t ct_recv(struct ct *t, uint8_t tag)
{
	uint8_t buf[200];
	struct sockaddr_in from;
	socklen_t len = sizeof(from);
	ssize_t n = recvfrom(t->peer, buf, sizeof(buf), 0,
			     (struct sockaddr *)&from, &len);

	assert_int_equal(n, 100);
	assert_int_equal(buf[20], tag);
	assert_int_equal(buf[0] << 8 | buf[1], t->port);
	return ntohs(from.sin_port);
}

static void ct_deliver(void *arg, const struct homa_addr *src,
		       const uint8_t *pkt, size_t bytes)
{
	(void)arg, (void)src, (void)pkt, (void)bytes;
	fail_msg("nothing was sent to the datapath's port");
}

static void ct_icmp(void *arg, const struct homa_addr *dst, uint16_t dport,
		    int err)
{
	struct ct *t = arg;

	assert_memory_equal(dst, &t->dst, sizeof(*dst));
	t->icmps++;
	t->icmp_err = err;
	t->icmp_port = dport;
}

static void ct_close(struct ct *t)
{
	if (t->peer >= 0)
		close(t->peer);
	t->dp->ops->destroy(t->dp);
}

static void udp_conn_fd__connected_after_threshold(void **state)
{
	struct ct t;
	int fds;

	(void)state;
	ct_open(&t, true);
	for (int i = 0; i < CT_AFTER - 1; i++) {
		ct_send(&t, (uint8_t)i);
		assert_int_equal(ct_recv(&t, (uint8_t)i), t.port);
	}
	assert_int_equal(t.dp->tx_conn_opened, 0);
	fds = ct_fds();
	/* The 32nd and later: another source port, the same Homa port. */
	for (int i = CT_AFTER - 1; i < CT_AFTER + 8; i++) {
		ct_send(&t, (uint8_t)i);
		assert_int_not_equal(ct_recv(&t, (uint8_t)i), t.port);
	}
	assert_int_equal(t.dp->tx_conn_opened, 1);
	assert_int_equal(t.dp->tx_pkts, CT_AFTER + 8);
	assert_int_equal(t.dp->tx_errors, 0);
	assert_int_equal(t.dp->tx_calls, CT_AFTER + 8); /* no new call */
	assert_int_equal(ct_fds(), fds + 1); /* the connected socket */
	/* Closing the port closes its connected socket too. */
	t.dp->ops->port_close(t.dp, t.port);
	assert_int_equal(ct_fds(), fds - 1);
	ct_close(&t);
}

static void udp_conn_err__closed_peer_reported(void **state)
{
	struct ct t;
	int fds = 0;

	(void)state;
	ct_open(&t, true);
	for (int i = 0; i < CT_AFTER + 1; i++) {
		if (i == CT_AFTER - 1)
			fds = ct_fds();
		ct_send(&t, (uint8_t)i);
		ct_recv(&t, (uint8_t)i);
	}
	assert_int_equal(t.dp->tx_conn_opened, 1);
	assert_int_equal(ct_fds(), fds + 1);
	/* The peer goes away: the next packet draws a port unreachable,
	 * which the kernel keeps as the connected socket's error; the send
	 * after it fails, and the error is reported at the next read. */
	close(t.peer);
	t.peer = -1;
	ct_send(&t, 1);
	assert_int_equal(t.dp->ops->rx(t.dp, ct_deliver, ct_icmp, &t), 0);
	assert_int_equal(t.icmps, 0); /* none for the port's socket yet */
	ct_send(&t, 2);
	assert_int_equal(t.dp->tx_conn_errors, 1);
	assert_int_equal(t.dp->tx_errors, 0); /* sent again, with a name */
	assert_int_equal(t.dp->ops->rx(t.dp, ct_deliver, ct_icmp, &t), 0);
	/* The connected socket's report, then the port's own (the packet
	 * sent again drew another). */
	assert_true(t.icmps >= 1);
	assert_int_equal(t.icmp_err, ENOTCONN);
	assert_int_equal(t.icmp_port, t.peer_port);
	/* The connected socket is closed: the next sends go from the
	 * port's socket until the destination earns one again. */
	assert_int_equal(ct_fds(), fds - 1); /* the peer's is closed too */
	ct_send(&t, 3);
	assert_int_equal(t.dp->tx_conn_opened, 1);
	assert_int_equal(t.dp->tx_conn_errors, 1);
	ct_close(&t);
}

static void udp_conn_fd__off_opens_none(void **state)
{
	struct ct t;

	(void)state;
	ct_open(&t, false);
	for (int i = 0; i < 2 * CT_AFTER; i++) {
		ct_send(&t, (uint8_t)i);
		assert_int_equal(ct_recv(&t, (uint8_t)i), t.port);
	}
	assert_int_equal(t.dp->tx_conn_opened, 0);
	ct_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(udp_conn_fd__connected_after_threshold),
		cmocka_unit_test(udp_conn_err__closed_peer_reported),
		cmocka_unit_test(udp_conn_fd__off_opens_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
