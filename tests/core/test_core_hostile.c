/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_core_hostile.c - malformed and malicious packets injected into
 * live instances of the core on the test network while real RPCs run.
 *
 * For every packet type: every truncated prefix, unknown type codes,
 * wrong doff, out-of-range DATA, packets for unknown RPCs, for unknown
 * ports and requests to a client socket, each injected at a server and at
 * a client; each must be dropped (or answered, where the protocol says
 * so) and counted in the right metric, with no other drop counter moving.
 * GRANT and RESEND ranges beyond a live message must not make the sender
 * exceed the message. Finally a flood of 100,000 DATA packets announcing
 * 1,000,000-byte messages from made-up ids, ports and addresses must keep
 * the instance's memory under a bound while real RPCs complete. A tap
 * checks that every packet a real host sends decodes cleanly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testnet.h"
#include "tnapp.h"
#include "tnwork.h"

#define SERVER		0     /* host with the server socket under attack */
#define CLIENT		1     /* host with the client socket under attack */
#define FAKE_PORT	40000 /* source port of forged packets */
#define NO_PORT		7777  /* a port nobody has */
#define NONE		HOMA_METRIC_COUNT
#define FLOOD_PKTS	100000
#define FLOOD_MEM_BOUND (64ull << 20) /* bytes the victim may allocate */

/* Every packet a real host transmits must decode. */
static void decode_tap(void *arg, enum tn_tap_kind kind,
		       const struct tn_pkt_info *info)
{
	struct homa_wire_pkt p;
	int reason;

	(void)arg;
	if (kind != TN_TAP_SENT || info->src < 0)
		return;
	reason = homa_wire_decode(info->pkt, info->len, 1000000, &p);
	if (reason != HOMA_WIRE_OK)
		fail_msg("host %d sent an undecodable %s packet (%zu bytes): "
			 "%s",
			 info->src, homa_wire_type_name(info->type), info->len,
			 homa_wire_reason_name(reason));
}

struct fixture {
	struct tn_net *net;	    /* 4 hosts */
	struct tnapp *app;	    /* real RPCs */
	struct homa_addr fake;	    /* a host outside the network */
	uint16_t client_port;	    /* CLIENT's client socket */
	struct homa_metrics before; /* snapshot of the target */
	uint8_t buf[2048];	    /* forged packet */
};

static void fixture_start(struct fixture *f, uint64_t seed, uint32_t rpcs)
{
	struct tnapp_config ac;
	struct tn_config c;
	struct tn_rng wl;
	uint32_t i;
	int client;

	tn_config_default(&c);
	c.seed = seed;
	assert_int_equal(tn_create(&c, &f->net), 0);
	tn_set_tap(f->net, decode_tap, NULL);
	tnapp_config_default(&ac);
	assert_int_equal(tnapp_create(f->net, &ac, &f->app), 0);
	tn_make_addr(&f->fake, 9, 9);
	f->client_port = homa_sock_port(tnapp_client_sock(f->app, CLIENT, 0));
	tn_rng_seed(&wl, seed);
	for (i = 0; i < rpcs; i++) {
		client = (int)tn_rng_below(&wl, 4);
		tnapp_add_rpc(f->app, client, 0,
			      (client + 1 + (int)tn_rng_below(&wl, 3)) % 4,
			      tn_size_loguniform(&wl, 300000),
			      tn_size_loguniform(&wl, 300000),
			      tn_rng_below(&wl, 20 * TN_NS_PER_MS));
	}
	tnapp_start(f->app);
}

static void fixture_finish(struct fixture *f)
{
	assert_true(tnapp_run(f->app, 10000 * TN_NS_PER_MS));
	tnapp_assert_all_ok(f->app);
	tn_check_clean(f->net, 300 * TN_NS_PER_MS);
	tnapp_destroy(f->app);
	tn_destroy(f->net);
}

/* forge() - a valid packet of type; returns its length. */
static size_t forge(uint8_t *buf, uint8_t type, uint16_t sport, uint16_t dport,
		    uint64_t sender_id)
{
	static const uint32_t cutoffs[8] = { 0x7fffffff, 0,	0,    0,
					     1000000,	 15000, 2800, 200 };
	struct homa_wire_pkt p;
	int len;

	memset(&p, 0, sizeof(p));
	p.common.type = type;
	p.common.sport = sport;
	p.common.dport = dport;
	p.common.sender_id = sender_id;
	switch (type) {
	case HOMA_PKT_DATA:
		p.u.data.message_length = 100000;
		p.u.data.incoming = 40000;
		p.u.data.seg_offset = 0;
		break;
	case HOMA_PKT_GRANT:
		p.u.grant.offset = 50000;
		p.u.grant.priority = 3;
		break;
	case HOMA_PKT_RESEND:
		p.u.resend.offset = 0;
		p.u.resend.length = 1000;
		p.u.resend.priority = 7;
		break;
	case HOMA_PKT_CUTOFFS:
		memcpy(p.u.cutoffs.unsched_cutoffs, cutoffs, sizeof(cutoffs));
		p.u.cutoffs.cutoff_version = 5;
		break;
	case HOMA_PKT_ACK:
		p.u.ack.num_acks = 1;
		p.u.ack.acks[0].client_id = 0x123456780ull;
		p.u.ack.acks[0].server_port = TNAPP_SERVER_PORT;
		break;
	}
	len = homa_wire_encode(&p, buf, HOMA_WIRE_MAX_HEADER_BYTES);
	assert_true(len > 0);
	if (type == HOMA_PKT_DATA) {
		memset(buf + len, 0xAB, 1000);
		len += 1000;
	}
	return (size_t)len;
}

static void snap(struct fixture *f, int host)
{
	f->before = *homa_get_metrics(tn_homa(f->net, host));
}

static uint64_t delta(struct fixture *f, int host, enum homa_metric m)
{
	if (m == NONE)
		return 0;
	return homa_get_metrics(tn_homa(f->net, host))->v[m] - f->before.v[m];
}

/*
 * expect() - since snap(): must (or alt instead) rose by count in total;
 * no drop counter other than must, alt and also_ok moved.
 */
static void expect(struct fixture *f, int host, const char *what,
		   enum homa_metric must, enum homa_metric alt,
		   enum homa_metric also_ok, uint64_t count)
{
	uint64_t d =
		delta(f, host, must) + (alt != must ? delta(f, host, alt) : 0);
	int m;

	if (d != count)
		fail_msg("%s at host %d: %s%s%s rose by %llu, expected %llu",
			 what, host, homa_metrics_name(must),
			 alt != NONE ? " + " : "",
			 alt != NONE ? homa_metrics_name(alt) : "",
			 (unsigned long long)d, (unsigned long long)count);
	for (m = HOMA_M_drop_short; m <= HOMA_M_drop_bad_ack; m++) {
		if (m == (int)must || m == (int)alt || m == (int)also_ok)
			continue;
		if (delta(f, host, m))
			fail_msg("%s at host %d: unexpected %s +%llu", what,
				 host, homa_metrics_name(m),
				 (unsigned long long)delta(f, host, m));
	}
}

static void inject(struct fixture *f, int host, size_t len)
{
	tn_inject(f->net, host, &f->fake, f->buf, len);
}

/* Both targets: the server's bound port (forged client ids, even) and
 * the client's port (forged server ids, odd). */
static uint16_t target_port(struct fixture *f, int host)
{
	return host == SERVER ? TNAPP_SERVER_PORT : f->client_port;
}

static uint64_t forged_id(int host, uint64_t n)
{
	return host == SERVER ? 0x7000000000ull + 2 * n
			      : 0x7000000001ull + 2 * n;
}

static void attack_truncated(struct fixture *f, int host)
{
	size_t full, len;
	uint8_t type;

	for (type = HOMA_PKT_TYPE_MIN; type <= HOMA_PKT_TYPE_MAX; type++) {
		full = forge(f->buf, type, FAKE_PORT, target_port(f, host),
			     forged_id(host, type));
		if (type == HOMA_PKT_DATA)
			full = HOMA_WIRE_DATA_BYTES;
		if (type == HOMA_PKT_RESEND)
			full = HOMA_WIRE_RESEND_UPSTREAM_BYTES;
		for (len = 0; len < full; len++) {
			snap(f, host);
			inject(f, host, len);
			expect(f, host, homa_wire_type_name(type),
			       len < HOMA_WIRE_COMMON_BYTES
				       ? HOMA_M_drop_short
				       : HOMA_M_drop_short_type,
			       NONE, NONE, 1);
		}
	}
}

static void attack_bad_type_and_doff(struct fixture *f, int host)
{
	static const uint8_t bad[] = { 0x00, 0x01, 0x0F, 0x19, 0x20, 0xFF };
	size_t len, i;
	uint8_t type;

	for (type = HOMA_PKT_TYPE_MIN; type <= HOMA_PKT_TYPE_MAX; type++) {
		for (i = 0; i < sizeof(bad); i++) {
			len = forge(f->buf, type, FAKE_PORT,
				    target_port(f, host), forged_id(host, 1));
			f->buf[11] = bad[i];
			snap(f, host);
			inject(f, host, len);
			expect(f, host, "bad type", HOMA_M_drop_bad_type, NONE,
			       NONE, 1);
		}
		len = forge(f->buf, type, FAKE_PORT, target_port(f, host),
			    forged_id(host, 1));
		f->buf[12] = type == HOMA_PKT_DATA ? HOMA_WIRE_DOFF_CONTROL
						   : HOMA_WIRE_DOFF_DATA;
		snap(f, host);
		inject(f, host, len);
		/* Accepted, as Linux does (it never reads doff), counted, and
		 * then handled like any made-up packet of its type. */
		if (delta(f, host, HOMA_M_recv_odd_doff) != 1)
			fail_msg("odd doff on %s not counted",
				 homa_wire_type_name(type));
		for (int m = HOMA_M_drop_short; m <= HOMA_M_drop_data_range;
		     m++)
			if (delta(f, host, m))
				fail_msg("odd doff on %s: %s",
					 homa_wire_type_name(type),
					 homa_metrics_name(m));
	}
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* DATA fields: message_length at 28, seg.offset at 52 (spec 1.4). */
static void attack_data_range(struct fixture *f, int host)
{
	static const struct {
		uint32_t msg_len, offset, payload;
		enum homa_metric m;
	} cases[] = {
		{ 0, 0, 100, HOMA_M_drop_bad_msg_len },
		{ 1000001, 0, 100, HOMA_M_drop_bad_msg_len },
		{ 0xFFFFFFFF, 0, 100, HOMA_M_drop_bad_msg_len },
		{ 100000, 100000, 100, HOMA_M_drop_data_range },
		{ 100000, 99950, 100, HOMA_M_drop_data_range },
		{ 100000, 0xFFFFFF00, 1000, HOMA_M_drop_data_range },
		{ 100000, 0, 0, HOMA_M_drop_data_range },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		forge(f->buf, HOMA_PKT_DATA, FAKE_PORT, target_port(f, host),
		      forged_id(host, 2));
		put_be32(f->buf + 28, cases[i].msg_len);
		put_be32(f->buf + 52, cases[i].offset);
		snap(f, host);
		inject(f, host, HOMA_WIRE_DATA_BYTES + cases[i].payload);
		expect(f, host, "DATA range", cases[i].m, NONE, NONE, 1);
	}
}

/* Expected handling of a valid packet for an RPC that does not exist. */
struct unknown_case {
	uint8_t type;	       /* packet type */
	int host;	       /* SERVER or CLIENT */
	enum homa_metric must; /* rises by one ... */
	enum homa_metric alt;  /* ... or this one instead */
	enum homa_metric also; /* a drop that may accompany must */
};

static const struct unknown_case unknown_cases[] = {
	{ HOMA_PKT_DATA, CLIENT, HOMA_M_drop_unknown_rpc, NONE, NONE },
	{ HOMA_PKT_GRANT, SERVER, HOMA_M_drop_unknown_rpc, NONE, NONE },
	{ HOMA_PKT_GRANT, CLIENT, HOMA_M_drop_unknown_rpc, NONE, NONE },
	/* RESEND for an unknown RPC is answered with RPC_UNKNOWN. */
	{ HOMA_PKT_RESEND, SERVER, HOMA_M_sent_rpc_unknown, NONE,
	  HOMA_M_drop_unknown_rpc },
	{ HOMA_PKT_RESEND, CLIENT, HOMA_M_sent_rpc_unknown, NONE,
	  HOMA_M_drop_unknown_rpc },
	{ HOMA_PKT_RPC_UNKNOWN, SERVER, HOMA_M_drop_unknown_rpc, NONE, NONE },
	{ HOMA_PKT_RPC_UNKNOWN, CLIENT, HOMA_M_drop_unknown_rpc, NONE, NONE },
	{ HOMA_PKT_BUSY, SERVER, HOMA_M_drop_unknown_rpc, NONE, NONE },
	{ HOMA_PKT_BUSY, CLIENT, HOMA_M_drop_unknown_rpc, NONE, NONE },
	/* CUTOFFS concern the peer, not an RPC: always applied. */
	{ HOMA_PKT_CUTOFFS, SERVER, HOMA_M_cutoffs_updates, NONE, NONE },
	{ HOMA_PKT_CUTOFFS, CLIENT, HOMA_M_cutoffs_updates, NONE, NONE },
	{ HOMA_PKT_FREEZE, SERVER, HOMA_M_recv_freeze, NONE, NONE },
	{ HOMA_PKT_FREEZE, CLIENT, HOMA_M_recv_freeze, NONE, NONE },
	/* NEED_ACK goes to clients; an unknown client RPC is acked. */
	{ HOMA_PKT_NEED_ACK, SERVER, HOMA_M_drop_bad_id, HOMA_M_sent_ack,
	  NONE },
	{ HOMA_PKT_NEED_ACK, CLIENT, HOMA_M_sent_ack, NONE, NONE },
	/* The listed ack names no server RPC. */
	{ HOMA_PKT_ACK, SERVER, HOMA_M_drop_bad_ack, NONE, NONE },
	{ HOMA_PKT_ACK, CLIENT, HOMA_M_drop_bad_ack, NONE, HOMA_M_drop_bad_id },
};

static void attack_unknown_rpc(struct fixture *f)
{
	const struct unknown_case *uc;
	char what[64];
	size_t i, len;

	for (i = 0; i < sizeof(unknown_cases) / sizeof(unknown_cases[0]); i++) {
		uc = &unknown_cases[i];
		len = forge(f->buf, uc->type, FAKE_PORT,
			    target_port(f, uc->host), forged_id(uc->host, i));
		snprintf(what, sizeof(what), "unknown-RPC %s",
			 homa_wire_type_name(uc->type));
		snap(f, uc->host);
		inject(f, uc->host, len);
		expect(f, uc->host, what, uc->must, uc->alt, uc->also, 1);
	}
}

static void attack_ports(struct fixture *f, int host)
{
	size_t len;
	uint8_t type;

	for (type = HOMA_PKT_TYPE_MIN; type <= HOMA_PKT_TYPE_MAX; type++) {
		if (type == HOMA_PKT_FREEZE)
			continue; /* acted on before any socket lookup */
		len = forge(f->buf, type, FAKE_PORT, NO_PORT,
			    forged_id(host, 3));
		snap(f, host);
		inject(f, host, len);
		expect(f, host, "no socket", HOMA_M_drop_no_socket, NONE, NONE,
		       1);
	}
	/* A request (client id, even) to a socket not in server mode. */
	len = forge(f->buf, HOMA_PKT_DATA, FAKE_PORT, f->client_port,
		    forged_id(SERVER, 4));
	snap(f, CLIENT);
	inject(f, CLIENT, len);
	expect(f, CLIENT, "request to client", HOMA_M_drop_not_server, NONE,
	       NONE, 1);
}

static void attack_cb(void *arg, struct tn_net *net)
{
	struct fixture *f = arg;
	int host;

	(void)net;
	for (host = SERVER; host <= CLIENT; host++) {
		attack_truncated(f, host);
		attack_bad_type_and_doff(f, host);
		attack_data_range(f, host);
		attack_ports(f, host);
	}
	attack_unknown_rpc(f);
}

/* Attacks at 1, 5 and 10 ms while 200 real RPCs run among the 4 hosts. */
static void homa_input__malformed_packets_dropped(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	(void)state;
	assert_non_null(f);
	fixture_start(f, 31, 200);
	tn_at(f->net, 1 * TN_NS_PER_MS, attack_cb, f);
	tn_at(f->net, 5 * TN_NS_PER_MS, attack_cb, f);
	tn_at(f->net, 10 * TN_NS_PER_MS, attack_cb, f);
	fixture_finish(f);
	free(f);
}

/* Drops everything from CLIENT to SERVER while *arg is true. */
static bool block_c2s(void *arg, int src, int dst, const uint8_t *pkt,
		      size_t len)
{
	(void)pkt;
	(void)len;
	return !(*(bool *)arg && src == CLIENT && dst == SERVER);
}

static void view_of(struct fixture *f, uint64_t id, struct homa_rpc_view *out)
{
	struct homa_rpc_view views[16];
	uint64_t avail;
	int i, n;

	n = homa_sock_info(tnapp_client_sock(f->app, CLIENT, 0), views, 16,
			   &avail);
	for (i = 0; i < n && i < 16; i++) {
		if (views[i].id == id) {
			*out = views[i];
			return;
		}
	}
	fail_msg("client RPC %llu not found", (unsigned long long)id);
}

/*
 * A 1,000,000-byte request stalls (CLIENT's packets to SERVER are
 * dropped). Forged GRANT and RESEND from the server's address, port and
 * id name offsets beyond the message: the client must never grant itself
 * or send past the message (the tap checks every DATA it sends), and a
 * GRANT below the current one must not lower it. Then the path opens and
 * the RPC completes intact.
 */
static void homa_input__grant_resend_beyond_message(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct homa_rpc_view v;
	struct homa_wire_pkt p;
	bool blocked = true;
	uint32_t serial, granted;
	uint64_t id;
	int len;

	(void)state;
	assert_non_null(f);
	fixture_start(f, 32, 0);
	tn_set_filter(f->net, block_c2s, &blocked);
	serial = tnapp_add_rpc(f->app, CLIENT, 0, SERVER, 1000000, 5000, 0);
	tn_run_for(f->net, 2 * TN_NS_PER_MS);
	id = tnapp_rpc(f->app, serial)->id;
	view_of(f, id, &v);
	granted = v.tx_granted;
	assert_true(granted > 0 && granted < 1000000);

	memset(&p, 0, sizeof(p));
	p.common.type = HOMA_PKT_GRANT;
	p.common.sport = TNAPP_SERVER_PORT;
	p.common.dport = f->client_port;
	p.common.sender_id = id | 1;
	p.u.grant.offset = 2000000;
	len = homa_wire_encode(&p, f->buf, sizeof(f->buf));
	tn_inject(f->net, CLIENT, tn_addr(f->net, SERVER), f->buf, (size_t)len);
	view_of(f, id, &v);
	assert_true(v.tx_granted <= 1000000);
	assert_true(v.tx_sent <= 1000000);

	p.u.grant.offset = 10;
	len = homa_wire_encode(&p, f->buf, sizeof(f->buf));
	tn_inject(f->net, CLIENT, tn_addr(f->net, SERVER), f->buf, (size_t)len);
	view_of(f, id, &v);
	assert_true(v.tx_granted >= granted);

	memset(&p.u, 0, sizeof(p.u));
	p.common.type = HOMA_PKT_RESEND;
	p.u.resend.offset = 1500000;
	p.u.resend.length = 1000;
	len = homa_wire_encode(&p, f->buf, sizeof(f->buf));
	tn_inject(f->net, CLIENT, tn_addr(f->net, SERVER), f->buf, (size_t)len);
	p.u.resend.offset = 999000;
	p.u.resend.length = 0xFFFFFFF0;
	len = homa_wire_encode(&p, f->buf, sizeof(f->buf));
	tn_inject(f->net, CLIENT, tn_addr(f->net, SERVER), f->buf, (size_t)len);
	tn_run_for(f->net, 1 * TN_NS_PER_MS);
	blocked = false;
	fixture_finish(f);
	free(f);
}

struct flood {
	struct fixture *f;  /* network */
	struct tn_rng rng;  /* forged values */
	uint32_t sent;	    /* packets injected so far */
	uint64_t peak_rpcs; /* most RPCs the victim held */
};

/* flood_cb() - 1,000 forged DATA packets now, again in 100 us. */
static void flood_cb(void *arg, struct tn_net *net)
{
	struct flood *fl = arg;
	struct homa_addr src;
	struct homa_usage u;
	uint64_t id;
	size_t len;
	int k;

	for (k = 0; k < 1000 && fl->sent < FLOOD_PKTS; k++, fl->sent++) {
		if (tn_rng_below(&fl->rng, 10) < 8)
			tn_make_addr(
				&src,
				(uint8_t)(20 + tn_rng_below(&fl->rng, 50)),
				(uint8_t)(1 + tn_rng_below(&fl->rng, 250)));
		else
			src = *tn_addr(net, 1 + (int)tn_rng_below(&fl->rng, 3));
		id = (tn_rng_next(&fl->rng) | 2) & ~1ull;
		len = forge(fl->f->buf, HOMA_PKT_DATA,
			    (uint16_t)(32768 + tn_rng_below(&fl->rng, 32768)),
			    TNAPP_SERVER_PORT, id);
		put_be32(fl->f->buf + 28, 1000000);
		put_be32(fl->f->buf + 52,
			 (uint32_t)tn_rng_below(&fl->rng, 700) * 1424);
		tn_inject(net, SERVER, &src, fl->f->buf, len);
	}
	homa_get_usage(tn_homa(net, SERVER), &u);
	if (u.rpcs > fl->peak_rpcs)
		fl->peak_rpcs = u.rpcs;
	if (fl->sent < FLOOD_PKTS)
		tn_at(net, tn_now(net) + 100 * TN_NS_PER_US, flood_cb, fl);
}

/*
 * 100,000 DATA packets, each announcing a 1,000,000-byte request under a
 * new id and port (80 % from addresses outside the network, 20 % from
 * real hosts), over 10 ms while 300 real RPCs run. The victim may
 * allocate at most FLOOD_MEM_BOUND; the forged RPCs must end by
 * themselves (they never complete) so that the victim ends up clean.
 */
static void homa_input__data_flood_bounded(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct flood fl;
	const struct tn_mem *mem;
	uint32_t i;

	(void)state;
	assert_non_null(f);
	fixture_start(f, 33, 300);
	/* And a stream to the victim itself while the flood goes on. */
	for (i = 0; i < 40; i++)
		tnapp_add_rpc(f->app, 1 + (int)(i % 3), 0, SERVER,
			      100 + 1000 * i, 100 + 500 * i,
			      2 * TN_NS_PER_MS + i * 250 * TN_NS_PER_US);
	memset(&fl, 0, sizeof(fl));
	fl.f = f;
	tn_rng_seed(&fl.rng, 99);
	tn_at(f->net, 1 * TN_NS_PER_MS, flood_cb, &fl);
	assert_true(tnapp_run(f->app, 10000 * TN_NS_PER_MS));
	assert_int_equal(fl.sent, FLOOD_PKTS);
	mem = tn_host_mem(f->net, SERVER);
	print_message("victim: peak %llu bytes allocated, peak %llu RPCs; "
		      "rpc_limit drops %llu, server timeouts %llu, stalls "
		      "%llu; real RPCs done at %llu ns\n",
		      (unsigned long long)mem->peak_bytes,
		      (unsigned long long)fl.peak_rpcs,
		      (unsigned long long)tn_metric(f->net, SERVER,
						    HOMA_M_drop_rpc_limit),
		      (unsigned long long)tn_metric(f->net, SERVER,
						    HOMA_M_server_rpc_timeouts),
		      (unsigned long long)tn_metric(f->net, SERVER,
						    HOMA_M_pool_stalls),
		      (unsigned long long)tn_now(f->net));
	print_message("real RPCs: %llu done, %llu failed\n",
		      (unsigned long long)tnapp_stats(f->app)->done,
		      (unsigned long long)tnapp_stats(f->app)->failed);
	assert_true(mem->peak_bytes < FLOOD_MEM_BOUND);
	fixture_finish(f);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(homa_input__malformed_packets_dropped),
		cmocka_unit_test(homa_input__grant_resend_beyond_message),
		cmocka_unit_test(homa_input__data_flood_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
