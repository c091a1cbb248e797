/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_net_garbage.c - 100,000 garbage packets sent to a server's port
 * while real RPCs run, over loopback, in one process.
 *
 *   test_net_garbage udp|raw
 *
 * udp: the garbage goes out of a plain UDP socket to the server's UDP
 * port; raw (root): out of a raw IP protocol 146 socket with the server's
 * port in the Homa header. Eight kinds, in turn: random bytes; valid DATA
 * headers cut short; unknown packet types; DATA with a wrong doff (taken
 * as Linux takes it, but counted in recv_odd_doff); DATA
 * with message_length 0 or above 1,000,000; DATA whose offset + payload
 * overruns the message; control packets (GRANT, RESEND, BUSY,
 * RPC_UNKNOWN, NEED_ACK, ACK) for made-up RPC ids; DATA for made-up ids
 * (which start server RPCs, some complete: the server answers those with
 * 1 byte and counts them as garbage).
 *
 * Passes if the process survives, all 2,000 real RPCs (NT_MIX_LOSS sizes,
 * up to 1 MB) complete byte-exact with each request delivered once, the
 * drops appear by reason in homa_metrics_read, the garbage's server RPCs
 * go away (HOMAIOCINFO), and VmRSS grows by less than RSS_BOUND_KB over
 * its value before the garbage (64 MiB; 512 MiB under ASan, whose
 * quarantine keeps freed memory).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net_util.h"
#include "wire.h"

#define GARBAGE	  100000
#define BATCH	  64
#define REAL_RPCS 2000
#define KINDS	  8
#ifdef __SANITIZE_ADDRESS__
#define RSS_BOUND_KB (512 * 1024)
#define SLOWER	     3 /* ASan: the receiver is about 3 times slower */
#else
#define RSS_BOUND_KB (64 * 1024)
#define SLOWER	     1
#endif

static bool use_raw;
static int srv_fd, srv_port, garbage_port;
static uint64_t sent[KINDS];
static uint64_t rng = 0x2545f4914f6cdd1dull;
static volatile long max_rss_kb;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A valid DATA packet (header + payload of `payload` bytes) in buf. */
static size_t data_pkt(uint8_t *buf, uint64_t id, uint32_t msg_len,
		       uint32_t offset, uint32_t payload)
{
	struct homa_wire_pkt p;
	int n;

	memset(&p, 0, sizeof(p));
	p.common.sport = (uint16_t)garbage_port;
	p.common.dport = (uint16_t)srv_port;
	p.common.type = HOMA_PKT_DATA;
	p.common.sequence = offset;
	p.common.sender_id = id;
	p.u.data.message_length = msg_len;
	p.u.data.incoming = msg_len;
	p.u.data.seg_offset = HOMA_WIRE_SEG_OFFSET_IN_SEQ;
	n = homa_wire_encode(&p, buf, HOMA_WIRE_MAX_HEADER_BYTES);
	for (uint32_t i = 0; i < payload; i++)
		buf[n + i] = (uint8_t)rnd();
	return (size_t)n + payload;
}

/* A control packet of a random type for a made-up id. */
static size_t ctrl_pkt(uint8_t *buf)
{
	static const uint8_t types[] = {
		HOMA_PKT_GRANT,	      HOMA_PKT_RESEND,	 HOMA_PKT_BUSY,
		HOMA_PKT_RPC_UNKNOWN, HOMA_PKT_NEED_ACK, HOMA_PKT_ACK
	};
	struct homa_wire_pkt p;

	memset(&p, 0, sizeof(p));
	p.common.sport = (uint16_t)garbage_port;
	p.common.dport = (uint16_t)srv_port;
	p.common.type = types[rnd() % sizeof(types)];
	p.common.sender_id = rnd() | (1ull << 40);
	p.u.grant.offset = (uint32_t)rnd();
	p.u.resend.offset = (uint32_t)rnd() % 1000000;
	p.u.resend.length = (uint32_t)rnd() % 100000;
	p.u.ack.num_acks = (uint16_t)(rnd() % 6);
	for (int i = 0; i < p.u.ack.num_acks; i++) {
		p.u.ack.acks[i].client_id = rnd();
		p.u.ack.acks[i].server_port = (uint16_t)srv_port;
	}
	return (size_t)homa_wire_encode(&p, buf, HOMA_WIRE_MAX_HEADER_BYTES);
}

/* Garbage packet number i (kind i % KINDS) into buf; returns its size. */
static size_t garbage(uint8_t *buf, uint64_t i)
{
	uint64_t id = rnd() | (1ull << 40);
	size_t n;

	switch (i % KINDS) {
	case 0: /* random bytes, Homa ports where there is room */
		n = rnd() % 1500;
		for (size_t k = 0; k < n; k++)
			buf[k] = (uint8_t)rnd();
		if (n >= 4) {
			buf[0] = (uint8_t)(garbage_port >> 8);
			buf[1] = (uint8_t)garbage_port;
			buf[2] = (uint8_t)(srv_port >> 8);
			buf[3] = (uint8_t)srv_port;
		}
		return n;
	case 1: /* a valid header cut short */
		data_pkt(buf, id, 1000, 0, 100);
		return rnd() % HOMA_WIRE_DATA_BYTES;
	case 2: /* unknown type */
		n = data_pkt(buf, id, 1000, 0, 100);
		buf[11] = (uint8_t)(rnd() % 2 ? rnd() % HOMA_PKT_TYPE_MIN
					      : HOMA_PKT_TYPE_MAX + 1 +
							rnd() % 200);
		return n;
	case 3: /* wrong doff for DATA: accepted, counted (recv_odd_doff) */
		n = data_pkt(buf, id, 1000, 0, 100);
		buf[12] = HOMA_WIRE_DOFF_CONTROL;
		return n;
	case 4: /* message_length 0 or too large */
		return data_pkt(
			buf, id,
			rnd() % 2 ? 0 : 1000001 + (uint32_t)(rnd() % 1000000),
			0, 100);
	case 5: /* offset + payload beyond the message */
		return data_pkt(buf, id, 500, 400 + (uint32_t)(rnd() % 5000),
				200);
	case 6: /* control packets for RPCs that do not exist */
		return ctrl_pkt(buf);
	default: /* DATA for made-up RPCs: whole small ones or pieces */
		if (rnd() % 2) /* a whole request: even client id */
			return data_pkt(buf, id & ~1ull, 300, 0, 300);
		return data_pkt(buf, id, 1000000,
				(uint32_t)(rnd() % 700) * 1400, 1000);
	}
}

static int garbage_socket(struct sockaddr_in *dst)
{
	struct sockaddr_in me = { .sin_family = AF_INET };
	socklen_t len = sizeof(me);
	int fd = socket(AF_INET, use_raw ? SOCK_RAW : SOCK_DGRAM,
			use_raw ? IPPROTO_HOMA : 0);

	if (fd < 0)
		nt_fail("garbage socket: %s", strerror(errno));
	me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (!use_raw) {
		bind(fd, (struct sockaddr *)&me, sizeof(me));
		getsockname(fd, (struct sockaddr *)&me, &len);
		garbage_port = ntohs(me.sin_port);
	} else {
		garbage_port = 40000 + getpid() % 20000;
	}
	memset(dst, 0, sizeof(*dst));
	dst->sin_family = AF_INET;
	dst->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	dst->sin_port = use_raw ? 0 : htons((uint16_t)srv_port);
	return fd;
}

static void *garbage_main(void *arg)
{
	static uint8_t bufs[BATCH][1600];
	struct mmsghdr msgs[BATCH];
	struct iovec iovs[BATCH];
	struct sockaddr_in dst;
	int fd = garbage_socket(&dst);

	(void)arg;
	for (uint64_t i = 0; i < GARBAGE; i += BATCH) {
		long rss;

		for (int k = 0; k < BATCH; k++) {
			iovs[k].iov_base = bufs[k];
			iovs[k].iov_len = garbage(bufs[k], i + (uint64_t)k);
			sent[(i + (uint64_t)k) % KINDS]++;
			memset(&msgs[k], 0, sizeof(msgs[k]));
			msgs[k].msg_hdr.msg_name = &dst;
			msgs[k].msg_hdr.msg_namelen = sizeof(dst);
			msgs[k].msg_hdr.msg_iov = &iovs[k];
			msgs[k].msg_hdr.msg_iovlen = 1;
		}
		if (sendmmsg(fd, msgs, BATCH, 0) < 0)
			nt_fail("sendmmsg: %s", strerror(errno));
		/* About 200,000 packets/s over UDP (GRO batches them),
		 * 30,000 over raw IP: what one receiving thread absorbs
		 * here; more is a flood, which no transport survives. */
		usleep(SLOWER * (use_raw ? 2000 : 300));
		rss = nt_rss_kb(0);
		if (rss > max_rss_kb)
			max_rss_kb = rss;
	}
	close(fd);
	return NULL;
}

static void *server_main(void *arg)
{
	nt_serve(arg, 0, NULL);
	return NULL;
}

/* The drop counters that each kind must have moved. */
static void check_drops(void)
{
	static const char *const names[] = {
		"drop_short",	    "drop_short_type",	"drop_bad_type",
		"recv_odd_doff",    "drop_bad_msg_len", "drop_data_range",
		"drop_unknown_rpc",
	};
	uint64_t total = 0;

	printf("drops by reason (and other counters that moved):\n");
	nt_print_metrics("drop_");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		uint64_t v = nt_metric(names[i]);

		if (v < 100)
			nt_fail("%s is %llu: that garbage was not counted",
				names[i], (unsigned long long)v);
		total += v;
	}
	if (total < GARBAGE / 4)
		nt_fail("only %llu of %d garbage packets counted as drops",
			(unsigned long long)total, GARBAGE);
}

int main(int argc, char **argv)
{
	struct nt_client c = { .window = 4,
			       .mix = NT_MIX_LOSS,
			       .count = REAL_RPCS,
			       .quiet = true };
	struct nt_server s;
	struct homa_info info;
	pthread_t st, gt;
	long rss0;
	uint64_t t0;

	if (argc != 2 || (strcmp(argv[1], "udp") && strcmp(argv[1], "raw")))
		return 2;
	use_raw = strcmp(argv[1], "raw") == 0;
	if (use_raw) {
		nt_need_root("the raw datapath and raw garbage socket");
		nt_use_datapath("raw");
	}
	alarm(120);
	srv_fd = homa_socket(AF_INET);
	c.fd = homa_socket(AF_INET);
	if (srv_fd < 0 || c.fd < 0 || nt_server_init(&s, srv_fd) < 0)
		nt_fail("sockets: %s", strerror(errno));
	srv_port = nt_bind_any(srv_fd, AF_INET, 20000, 30000);
	c.server_len = nt_addr(&c.server, "127.0.0.1", (uint16_t)srv_port);
	pthread_create(&st, NULL, server_main, &s);
	/* Warm up (regions, peers) before taking the baseline. */
	c.count = 200;
	if (nt_client_run(&c) < 0)
		nt_fail("warm-up: %s", c.why);
	rss0 = nt_rss_kb(0);
	max_rss_kb = rss0;
	c.first_serial = 200;
	c.count = REAL_RPCS;
	c.done = 0;
	t0 = nt_now_ns();
	pthread_create(&gt, NULL, garbage_main, NULL);
	if (nt_client_run(&c) < 0) {
		nt_print_metrics(NULL);
		nt_fail("real RPC failed after %u: %s", c.done, c.why);
	}
	pthread_join(gt, NULL);
	printf("%s: %d garbage packets (%llu of each of %d kinds) in %.2f s; "
	       "%u real RPCs ok meanwhile\n",
	       argv[1], GARBAGE, (unsigned long long)sent[0], KINDS,
	       (double)(nt_now_ns() - t0) / 1e9, c.done);
	check_drops();
	/* The garbage's server RPCs time out; real traffic still works. */
	usleep(400000);
	memset(&info, 0, sizeof(info));
	if (homa_ioctl(srv_fd, HOMAIOCINFO, &info) < 0 || info.num_rpcs > 20)
		nt_fail("%u server RPCs left 400 ms after the garbage",
			info.num_rpcs);
	c.first_serial = 200 + REAL_RPCS;
	c.count = 200;
	c.done = 0;
	if (nt_client_run(&c) < 0)
		nt_fail("after the garbage: %s", c.why);
	{
		struct nt_report r;

		if (nt_report_get(&c, &r) < 0 || r.delivered != 2400 ||
		    r.dups || r.corrupt) {
			nt_print_metrics("client_restarts");
			nt_fail("server: %llu delivered, %llu dups, %llu "
				"corrupt (wanted 2400, 0, 0)",
				(unsigned long long)r.delivered,
				(unsigned long long)r.dups,
				(unsigned long long)r.corrupt);
		}
		printf("server: %llu real requests each once, %llu garbage "
		       "requests answered\n",
		       (unsigned long long)r.delivered,
		       (unsigned long long)r.garbage);
	}
	if (nt_rss_kb(0) > max_rss_kb)
		max_rss_kb = nt_rss_kb(0);
	printf("VmRSS %ld kB before the garbage, at most %ld kB during and "
	       "after (bound: +%d kB)\n",
	       rss0, max_rss_kb, RSS_BOUND_KB);
	if (max_rss_kb - rss0 > RSS_BOUND_KB)
		nt_fail("resident memory grew by %ld kB", max_rss_kb - rss0);
	nt_shutdown(srv_fd); /* ends the server thread */
	pthread_join(st, NULL);
	nt_server_free(&s);
	nt_close(srv_fd);
	nt_close(c.fd);
	printf("ok\n");
	return 0;
}
