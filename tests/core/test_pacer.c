/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_pacer.c - the sender's NIC backlog model and pacer (spec 5), on one
 * core instance whose transmissions are captured: admission while the
 * estimated backlog is under max_nic_est_backlog_usecs, the small-message
 * bypass, SRPT order of throttled messages, the FIFO pick, pacing at the
 * link rate over time, HOMA_FLAG_DONT_THROTTLE, and the place of nudged
 * messages (a GRANT that adds no bytes) in the pacer's order.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "homa_core.h"
#include "wire.h"

#define P_MAX 4096

struct p_sent {
	uint64_t t_ns;	 /* when it was handed over */
	uint64_t id;	 /* sender_id */
	uint32_t offset; /* DATA offset */
	uint32_t bytes;	 /* payload bytes */
};

static struct p_sent sent[P_MAX];
static int num_sent;
static uint64_t now;
static int64_t allocated;

static void p_xmit(void *ctx, const struct homa_out_pkt *p)
{
	struct homa_wire_pkt w;

	(void)ctx;
	if (p->type != HOMA_PKT_DATA || num_sent == P_MAX)
		return;
	/* Decode the header with one byte of payload standing in. */
	uint8_t buf[HOMA_WIRE_DATA_BYTES + 1];

	memcpy(buf, p->hdr, HOMA_WIRE_DATA_BYTES);
	buf[HOMA_WIRE_DATA_BYTES] = 0;
	assert_int_equal(homa_wire_decode(buf, sizeof(buf), 1000000, &w), 0);
	sent[num_sent].t_ns = now;
	sent[num_sent].id = w.common.sender_id;
	sent[num_sent].offset = w.u.data.offset;
	sent[num_sent++].bytes = p->payload_bytes;
}

static uint64_t p_random(void *ctx)
{
	(void)ctx;
	return 7;
}

static void *p_alloc(void *ctx, size_t n)
{
	(void)ctx;
	allocated += (int64_t)n;
	return malloc(n);
}

static void p_free(void *ctx, void *p, size_t n)
{
	(void)ctx;
	allocated -= (int64_t)n;
	free(p);
}

struct p_world {
	struct homa *h;	       /* the sender */
	struct homa_sock *s;   /* its socket */
	struct homa_addr peer; /* where messages go */
	uint8_t *msg;	       /* 1 MB of bytes to send */
};

static struct p_world P;

/* Link 1000 Mbit/s: a 1500-byte frame is about 12 us; backlog 5 us. */
/* What p_path_mtu reports for every destination. */
static uint32_t path_mtu;
static bool path_local;
static int path_calls;

static uint32_t p_path_mtu(void *ctx, const struct homa_addr *dst, bool *local)
{
	(void)ctx;
	(void)dst;
	path_calls++;
	*local = path_local;
	return path_mtu;
}

/* Settings p_open applies when not negative. */
static int64_t p_nudge_yield = -1, p_fifo_fraction = -1;

static void p_open(uint32_t unsched, int64_t flags)
{
	struct homa_env env = { NULL,
				p_xmit,
				NULL,
				p_random,
				p_alloc,
				p_free,
				path_mtu || path_local ? p_path_mtu : NULL,
				NULL,
				NULL };
	struct homa_config c;

	homa_config_default(&c);
	c.link_mbps = 1000;
	c.unsched_bytes = unsched;
	c.flags = flags;
	if (p_nudge_yield >= 0)
		c.nudge_yield_bytes = p_nudge_yield;
	if (p_fifo_fraction >= 0)
		c.pacer_fifo_fraction = p_fifo_fraction;
	num_sent = 0;
	now = 1000000;
	allocated = 0;
	assert_int_equal(homa_create(&env, &c, now, &P.h, NULL), 0);
	assert_int_equal(homa_sock_open(P.h, HOMA_FAMILY_INET, NULL, &P.s), 0);
	memset(&P.peer, 0, sizeof(P.peer));
	P.peer.a[10] = P.peer.a[11] = 0xff;
	P.peer.a[15] = 2;
	P.msg = calloc(1, 1000000);
}

static void p_close(void)
{
	homa_destroy(P.h);
	free(P.msg);
	assert_int_equal(allocated, 0);
}

static uint64_t p_send(size_t len)
{
	struct homa_iov iov = { P.msg, len };
	struct homa_send_args a = { &P.peer, 99, &iov, 1, 0, 0, 0 };

	assert_int_equal(homa_send(P.s, &a, now), 0);
	return a.id;
}

/* Advance time in steps, running the pacer when it asks. */
static void p_run(uint64_t until)
{
	while (now < until) {
		uint64_t next = homa_poll(P.h, now);

		now = next > now && next < until ? next : until;
	}
	homa_poll(P.h, now);
}

static int p_count(uint64_t id)
{
	int n = 0;

	for (int i = 0; i < num_sent; i++)
		n += sent[i].id == id;
	return n;
}

static void homa_xmit_data__admits_under_backlog_then_throttles(void **state)
{
	uint64_t id;
	const struct homa_metrics *m;

	(void)state;
	p_open(40000, 0);
	id = p_send(40000);
	/* One frame always goes; then the estimate exceeds 5 us. */
	assert_true(p_count(id) >= 1 && p_count(id) <= 2);
	m = homa_get_metrics(P.h);
	assert_int_equal(m->v[HOMA_M_throttled_msgs], 1);
	struct homa_usage u;

	homa_get_usage(P.h, &u);
	assert_int_equal(u.throttled, 1);
	/* 40000 bytes at 1 Gbit/s is about 330 us with overheads. */
	p_run(now + 200000);
	assert_true(p_count(id) < 29);
	p_run(now + 300000);
	assert_int_equal(p_count(id), 29); /* ceil(40000/1424) */
	homa_get_usage(P.h, &u);
	assert_int_equal(u.throttled, 0);
	/* Spacing: consecutive frames about 12 us apart, never bunched. */
	for (int i = 3; i < num_sent; i++)
		assert_true(sent[i].t_ns - sent[i - 1].t_ns <= 13000);
	assert_true(sent[num_sent - 1].t_ns - sent[0].t_ns >= 300000);
	assert_true(m->v[HOMA_M_pacer_packets] >= 27);
	p_close();
}

static void homa_xmit_data__small_messages_bypass(void **state)
{
	uint64_t big, small;

	(void)state;
	p_open(40000, 0);
	big = p_send(40000);
	small = p_send(900); /* below defer_min_bytes */
	assert_int_equal(p_count(small), 1);
	assert_true(p_count(big) <= 2);
	p_run(now + 1000000);
	p_close();
}

/* A message of one packet goes at once only when the pacer would let it
 * (homa_msgout_start's shortcut keeps homa_xmit_data's rule): at
 * defer_min_bytes it bypasses a full backlog; one byte more waits. */
static void homa_xmit_data__one_packet_over_defer_min_waits(void **state)
{
	uint64_t big, at, over;

	(void)state;
	p_open(40000, 0);
	big = p_send(40000);
	at = p_send(1000); /* defer_min_bytes */
	over = p_send(1001);
	assert_int_equal(p_count(at), 1);
	assert_int_equal(p_count(over), 0);
	assert_int_equal(homa_get_metrics(P.h)->v[HOMA_M_throttled_msgs], 2);
	p_run(now + 1000000);
	assert_int_equal(p_count(over), 1);
	assert_int_equal(p_count(big), 29);
	/* SRPT: the short one left the pacer before the long one's rest. */
	for (int i = 0; i < num_sent; i++)
		if (sent[i].id == over)
			assert_true(i < num_sent - 1);
	p_close();
}

static void homa_pacer_run__srpt_order(void **state)
{
	uint64_t a, b, c;
	int first_c = -1, last_c = -1, first_b_after_c = -1;

	(void)state;
	p_open(1000000, 0);
	a = p_send(200000);
	b = p_send(100000);
	c = p_send(20000);
	p_run(now + 5000000);
	assert_int_equal(p_count(c), 15);
	/* Once queued, the shortest remaining message goes first. */
	for (int i = 0; i < num_sent; i++) {
		if (sent[i].id == c) {
			if (first_c < 0)
				first_c = i;
			last_c = i;
		}
		if (sent[i].id == b && first_c >= 0 && first_b_after_c < 0 &&
		    i > first_c)
			first_b_after_c = i;
	}
	/* Apart from FIFO picks (5 %), c's packets are contiguous. */
	assert_true(last_c - first_c <= 14 + 2);
	assert_true(first_b_after_c > last_c - 2);
	assert_int_equal(p_count(a), 141);
	assert_int_equal(p_count(b), 71);
	p_close();
}

static void homa_pacer_run__fifo_share(void **state)
{
	const struct homa_metrics *m;
	uint64_t old;

	(void)state;
	p_open(1000000, 0);
	old = p_send(1000000);
	/* Keep shorter messages arriving: SRPT alone would starve old. */
	for (int k = 0; k < 20; k++) {
		p_send(50000);
		p_run(now + 100000);
	}
	m = homa_get_metrics(P.h);
	/* pacer_fifo_fraction 50: one pick in 20 takes the oldest. */
	assert_in_range(m->v[HOMA_M_pacer_fifo_picks],
			m->v[HOMA_M_pacer_packets] / 20 - 1,
			m->v[HOMA_M_pacer_packets] / 20 + 1);
	assert_true((uint64_t)p_count(old) >= m->v[HOMA_M_pacer_fifo_picks]);
	assert_true((uint64_t)p_count(old) <=
		    m->v[HOMA_M_pacer_fifo_picks] + 2);
	p_run(now + 100000000);
	p_close();
}

/* The receiver of client RPC id grants up to offset. */
static void p_grant(uint64_t id, uint32_t offset)
{
	struct homa_wire_pkt g;
	uint8_t buf[128];
	int len;

	memset(&g, 0, sizeof(g));
	g.common.type = HOMA_PKT_GRANT;
	g.common.sport = 99;
	g.common.dport = homa_sock_port(P.s);
	g.common.sender_id = id | 1;
	g.u.grant.offset = offset;
	len = homa_wire_encode(&g, buf, sizeof(buf));
	assert_true(len > 0);
	homa_input(P.h, &P.peer, buf, (size_t)len, now);
}

/* Payload bytes of id sent so far. */
static uint32_t p_bytes(uint64_t id)
{
	uint32_t n = 0;

	for (int i = 0; i < num_sent; i++)
		if (sent[i].id == id)
			n += sent[i].bytes;
	return n;
}

/* Index in sent[] of the last packet of id at or after from, or -1. */
static int p_last(uint64_t id, int from)
{
	int last = -1;

	for (int i = from; i < num_sent; i++)
		if (sent[i].id == id)
			last = i;
	return last;
}

/* Index in sent[] of the first packet of id at or after from, or -1. */
static int p_first(uint64_t id, int from)
{
	for (int i = from; i < num_sent; i++)
		if (sent[i].id == id)
			return i;
	return -1;
}

/* A sender with 10000 unscheduled bytes, messages above 100 kB yielding
 * to nudged ones, and no FIFO picks (so the order is exact). */
static void p_open_nudge(void)
{
	p_nudge_yield = 100000;
	p_fifo_fraction = 0;
	p_open(10000, 0);
}

static void p_close_nudge(void)
{
	p_close();
	p_nudge_yield = p_fifo_fraction = -1;
}

/*
 * A GRANT repeating a message's offset (a nudge: its receiver is idle)
 * puts that message before the other messages with more than
 * nudge_yield_bytes left, never before shorter ones; the next GRANT that
 * adds bytes returns it to SRPT order.
 */
static void homa_pacer_run__nudged_message_first_among_long(void **state)
{
	uint64_t a, b, s;
	int mark, end_s, end_b1, first_a;

	(void)state;
	p_open_nudge();
	a = p_send(150000);
	b = p_send(400000);
	s = p_send(50000);
	p_run(now + 1000000); /* the unscheduled bytes */
	mark = num_sent;
	/* b's first packet leaves at once (the NIC is idle), then the
	 * backlog model throttles everything. */
	p_grant(b, 200000);
	p_grant(b, 200000); /* nudge */
	p_grant(s, 50000);
	p_grant(a, 150000);
	assert_int_equal(homa_get_metrics(P.h)->v[HOMA_M_nudges_received], 1);
	/* 380 kB at 1 Gbit/s: about 3.3 ms; stop in the middle of a. */
	p_run(now + 2500000);
	end_s = p_last(s, mark);
	end_b1 = p_last(b, mark);
	first_a = p_first(a, mark);
	/* s (short) first, then b's granted bytes (nudged), then a. */
	assert_true(end_s >= 0 && end_b1 > end_s);
	assert_true(first_a > end_b1);
	assert_int_equal(p_bytes(s), 50000);
	/* all of b's granted bytes (whole frames: the last runs past) */
	assert_in_range(sent[end_b1].offset + sent[end_b1].bytes, 200000,
			200000 + sent[end_b1].bytes - 1);
	/* A GRANT that adds bytes ends the nudge: a (fewer bytes left)
	 * goes on before the rest of b. */
	mark = num_sent;
	p_grant(b, 400000);
	p_grant(b, 300000); /* stale (reordered): not a nudge */
	assert_int_equal(homa_get_metrics(P.h)->v[HOMA_M_nudges_received], 1);
	p_run(now + 5000000);
	assert_true(p_first(b, mark) > p_last(a, mark));
	assert_int_equal(p_bytes(a), 150000);
	p_close_nudge();
}

/* Without a nudge the same messages go in SRPT order (a before b). */
static void homa_pacer_run__no_nudge_plain_srpt(void **state)
{
	uint64_t a, b;
	int mark;

	(void)state;
	p_open_nudge();
	a = p_send(150000);
	b = p_send(400000);
	p_run(now + 1000000);
	mark = num_sent;
	p_grant(a, 150000);
	p_grant(b, 200000);
	p_run(now + 5000000);
	assert_true(p_first(b, mark) > p_last(a, mark));
	assert_int_equal(homa_get_metrics(P.h)->v[HOMA_M_nudges_received], 0);
	p_close_nudge();
}

static void homa_xmit_data__dont_throttle(void **state)
{
	uint64_t id;

	(void)state;
	p_open(40000, HOMA_FLAG_DONT_THROTTLE);
	id = p_send(40000);
	assert_int_equal(p_count(id), 29); /* all at once */
	assert_int_equal(homa_get_metrics(P.h)->v[HOMA_M_throttled_msgs], 0);
	p_close();
}

static void homa_peer_get__path_mtu_sizes_packets(void **state)
{
	uint64_t id;
	int n;

	(void)state;
	/* 9000-byte route: 9000 - 20 (IPv4) - 60 (DATA header). */
	path_mtu = 9000;
	path_calls = 0;
	p_open(40000, HOMA_FLAG_DONT_THROTTLE);
	id = p_send(40000);
	n = p_count(id);
	assert_int_equal(n, 5); /* 4 x 8920 + 4320 */
	assert_int_equal(sent[0].bytes, 9000 - 20 - HOMA_WIRE_DATA_BYTES);
	assert_int_equal(sent[n - 1].bytes, 40000 - 4 * sent[0].bytes);
	p_send(100);
	assert_int_equal(path_calls, 1); /* asked once per peer */
	p_close();
	/* An answer out of range (here below 576) falls back to mtu. */
	path_mtu = 100;
	p_open(40000, HOMA_FLAG_DONT_THROTTLE);
	id = p_send(40000);
	assert_int_equal(p_count(id), 29);
	p_close();
	path_mtu = 0;
}

static void homa_peer_get__local_peer_never_paced(void **state)
{
	uint64_t id;

	(void)state;
	/* The same 1 MB that the 1 Gbit/s link would pace over 8 ms goes
	 * at once to a peer on this host. */
	path_local = true;
	p_open(40000, 0);
	id = p_send(1000000);
	p_run(now + 1000); /* grants are not needed: give them all */
	assert_int_equal(p_count(id), 29); /* unscheduled, all at once */
	assert_int_equal(homa_get_metrics(P.h)->v[HOMA_M_throttled_msgs], 0);
	p_close();
	path_local = false;
	p_open(40000, 0);
	id = p_send(1000000);
	assert_true(p_count(id) < 29); /* the NIC model holds some back */
	p_close();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			homa_xmit_data__admits_under_backlog_then_throttles),
		cmocka_unit_test(homa_xmit_data__small_messages_bypass),
		cmocka_unit_test(
			homa_xmit_data__one_packet_over_defer_min_waits),
		cmocka_unit_test(homa_pacer_run__srpt_order),
		cmocka_unit_test(homa_pacer_run__fifo_share),
		cmocka_unit_test(
			homa_pacer_run__nudged_message_first_among_long),
		cmocka_unit_test(homa_pacer_run__no_nudge_plain_srpt),
		cmocka_unit_test(homa_xmit_data__dont_throttle),
		cmocka_unit_test(homa_peer_get__path_mtu_sizes_packets),
		cmocka_unit_test(homa_peer_get__local_peer_never_paced),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
