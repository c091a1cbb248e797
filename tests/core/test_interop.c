/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_interop.c - the core against the Linux Homa kernel module's own
 * packets, as captured in tests/data/interop/ (see its README: the kernel
 * at 82b6b88 of 2025-10 and 9edb958 of 2026-07, talking to libhoma).
 *
 * Every packet of every capture must decode; the facts the README states
 * about the kernel's headers are checked on each packet; and the recorded
 * exchanges of the 2025-10 kernel, whose RPC_UNKNOWN and ACK carry doff 0,
 * are replayed into a core: a lost request is restarted and completes,
 * and a server RPC ends on the kernel's ACK.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "homa_core.h"
#include "homa_impl.h"
#include "homa_pcap.h"
#include "wire.h"

#ifndef HOMA_INTEROP_DIR
#error "HOMA_INTEROP_DIR must name tests/data/interop"
#endif

#define I_MAX_MSG   1000000
#define I_REGION    (4u << 20)
#define I_MAX_SAVED 64
#define I_PKT_BYTES 1600

static const char *const i_files[] = {
	"k82b6b88-kernel-client-large.pcap",
	"k82b6b88-lost-request-kernel-client.pcap",
	"k82b6b88-lost-request-lib-client.pcap",
	"k9edb958-kernel-client-large.pcap",
	"k9edb958-lib-client-small.pcap",
	"k9edb958-lost-request-kernel-client.pcap",
	"k9edb958-lost-request-lib-client.pcap",
};

/* Addresses in the captures: libhoma 10.77.0.1, the kernel 10.77.0.2. */
static void i_addr(struct homa_addr *a, uint8_t host)
{
	memset(a, 0, sizeof(*a));
	a->a[10] = a->a[11] = 0xff;
	a->a[12] = 10;
	a->a[13] = 77;
	a->a[15] = host;
}

static const char *i_path(const char *name, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%s", HOMA_INTEROP_DIR, name);
	return buf;
}

/* ---- decoding every captured packet ---- */

struct i_census {
	bool old_kernel;		       /* a k82b6b88 capture */
	uint64_t packets;		       /* Homa packets */
	uint64_t kernel_packets;	       /* of them sent by the kernel */
	uint64_t odd_doff;		       /* with an unusual doff */
	uint64_t by_type[HOMA_PKT_TYPE_COUNT]; /* decoded, by type */
	uint64_t kernel_cutoffs;	       /* CUTOFFS from the kernel */
};

static int i_census_pkt(void *arg, const struct homa_pcap_pkt *p)
{
	struct i_census *c = arg;
	struct homa_wire_pkt pkt;
	struct homa_addr kernel;
	bool from_kernel;
	int reason;

	i_addr(&kernel, 2);
	from_kernel = memcmp(&p->src, &kernel, sizeof(kernel)) == 0;
	c->packets++;
	c->kernel_packets += from_kernel;
	reason = homa_wire_decode(p->homa, p->homa_bytes, I_MAX_MSG, &pkt);
	if (reason != HOMA_WIRE_OK)
		fail_msg("frame %llu (%zu bytes): %s",
			 (unsigned long long)p->index, p->homa_bytes,
			 homa_wire_reason_name(reason));
	c->by_type[pkt.common.type - HOMA_PKT_TYPE_MIN]++;
	/* The README's facts about every packet. */
	assert_int_equal(pkt.common.flags, HOMA_WIRE_FLAGS);
	assert_int_equal(pkt.common.urgent, HOMA_WIRE_URGENT);
	assert_int_equal(p->homa[14] | p->homa[15], 0); /* window */
	if (!homa_wire_doff_usual(pkt.common.type, pkt.common.doff)) {
		c->odd_doff++;
		/* Only the old kernel's RPC_UNKNOWN and ACK, with doff 0. */
		assert_true(c->old_kernel && from_kernel);
		assert_int_equal(pkt.common.doff, 0);
		assert_true(pkt.common.type == HOMA_PKT_RPC_UNKNOWN ||
			    pkt.common.type == HOMA_PKT_ACK);
	}
	if (from_kernel && pkt.common.type == HOMA_PKT_CUTOFFS) {
		/* The kernel names the RPC and leaves entry 0 at 0. */
		c->kernel_cutoffs++;
		assert_int_not_equal(pkt.common.sender_id, 0);
		assert_int_equal(pkt.u.cutoffs.unsched_cutoffs[0], 0);
	}
	return 0;
}

static void homa_wire_decode__every_captured_packet(void **state)
{
	uint64_t odd_old = 0, odd_new = 0, cutoffs = 0;
	char path[512];

	(void)state;
	for (size_t i = 0; i < sizeof(i_files) / sizeof(i_files[0]); i++) {
		struct i_census c = { .old_kernel = i_files[i][1] == '8' };
		int n = homa_pcap_read(i_path(i_files[i], path, sizeof(path)),
				       0, i_census_pkt, &c);

		printf("  %-42s %5d packets, %4llu from the kernel, %3llu "
		       "with doff 0\n",
		       i_files[i], n, (unsigned long long)c.kernel_packets,
		       (unsigned long long)c.odd_doff);
		assert_true(n > 100);
		assert_int_equal((uint64_t)n, c.packets);
		assert_true(c.kernel_packets > 0 &&
			    c.kernel_packets < c.packets);
		*(c.old_kernel ? &odd_old : &odd_new) += c.odd_doff;
		cutoffs += c.kernel_cutoffs;
	}
	/* The old kernel's doff-0 packets are there, and all decoded. */
	assert_true(odd_old > 10);
	assert_int_equal(odd_new, 0);
	assert_true(cutoffs > 0);
}

/* ---- replaying recorded exchanges into a core ---- */

/* A packet kept from a capture or from the core's xmit. */
struct i_pkt {
	uint8_t data[I_PKT_BYTES]; /* header and payload */
	size_t bytes;		   /* length */
	uint16_t dport;		   /* destination Homa port (xmit) */
};

struct i_world {
	struct homa *homa;	   /* the libhoma side, 10.77.0.1 */
	struct homa_sock *hsk;	   /* its socket */
	uint8_t *region;	   /* its receive region */
	uint64_t first_id;	   /* what env.random hands out */
	uint64_t now;		   /* ns */
	struct i_pkt sent[256];	   /* transmitted, in order */
	int num_sent;		   /* entries in sent */
	struct homa_addr us, them; /* 10.77.0.1, 10.77.0.2 */
};

static struct i_world *IW;

static void i_xmit(void *ctx, const struct homa_out_pkt *p)
{
	struct i_pkt *q;

	(void)ctx;
	assert_true(IW->num_sent < 256);
	q = &IW->sent[IW->num_sent++];
	assert_true(p->hdr_bytes + p->payload_bytes <= I_PKT_BYTES);
	memcpy(q->data, p->hdr, p->hdr_bytes);
	if (p->payload_bytes)
		memcpy(q->data + p->hdr_bytes, p->payload, p->payload_bytes);
	q->bytes = p->hdr_bytes + p->payload_bytes;
	q->dport = p->dport;
}

static void i_wake(void *ctx, void *sock_ctx, uint32_t events, uint64_t id)
{
	(void)ctx;
	(void)sock_ctx;
	(void)events;
	(void)id;
}

static uint64_t i_random(void *ctx)
{
	(void)ctx;
	return IW->first_id;
}

static void *i_alloc(void *ctx, size_t bytes)
{
	(void)ctx;
	return malloc(bytes);
}

static void i_free(void *ctx, void *p, size_t bytes)
{
	(void)ctx;
	(void)bytes;
	free(p);
}

/* A core on port `port` at 10.77.0.1 whose first RPC id is first_id. */
static void i_world_up(uint64_t first_id, uint16_t port, bool server)
{
	struct homa_env env = { NULL,	i_xmit, i_wake, i_random, i_alloc,
				i_free, NULL,	NULL,	NULL };
	struct homa_config cfg;

	IW = calloc(1, sizeof(*IW));
	IW->first_id = first_id;
	IW->now = 1000000000;
	i_addr(&IW->us, 1);
	i_addr(&IW->them, 2);
	homa_config_default(&cfg);
	cfg.flags = HOMA_FLAG_DONT_THROTTLE;
	assert_int_equal(homa_create(&env, &cfg, IW->now, &IW->homa, NULL), 0);
	if (server) {
		assert_int_equal(homa_sock_open(IW->homa, HOMA_FAMILY_INET,
						NULL, &IW->hsk),
				 0);
		assert_int_equal(homa_sock_bind(IW->hsk, port), 0);
	} else {
		assert_int_equal(homa_sock_open_at(IW->homa, HOMA_FAMILY_INET,
						   port, NULL, &IW->hsk),
				 0);
	}
	assert_int_equal(posix_memalign((void **)&IW->region, 4096, I_REGION),
			 0);
	assert_int_equal(homa_sock_set_rcvbuf(IW->hsk, IW->region, I_REGION),
			 0);
}

static void i_world_down(void)
{
	homa_destroy(IW->homa);
	free(IW->region);
	free(IW);
	IW = NULL;
}

static const struct homa_metrics *i_m(void)
{
	return homa_get_metrics(IW->homa);
}

/* Advance the clock ms milliseconds, a tick at a time. */
static void i_run_ms(int ms)
{
	for (int i = 0; i < ms; i++) {
		IW->now += 1000000;
		homa_poll(IW->homa, IW->now);
	}
}

static void i_input(const uint8_t *pkt, size_t bytes)
{
	homa_input(IW->homa, &IW->them, pkt, bytes, IW->now);
}

/* Decode our index-th transmitted packet. */
static void i_sent(int index, struct homa_wire_pkt *p)
{
	assert_true(index < IW->num_sent);
	assert_int_equal(homa_wire_decode(IW->sent[index].data,
					  IW->sent[index].bytes, I_MAX_MSG, p),
			 HOMA_WIRE_OK);
}

/* What the replays pick packets by, read from the bytes themselves (not
 * through the decoder under test): spec 1.1 offsets. */
struct i_raw {
	uint8_t type;	    /* byte 11 */
	uint8_t doff;	    /* byte 12 */
	uint16_t sport;	    /* bytes 0-1 */
	uint16_t dport;	    /* bytes 2-3 */
	uint64_t sender_id; /* bytes 20-27 */
	bool from_kernel;   /* sent by 10.77.0.2 */
};

static void i_raw_read(struct i_raw *r, const uint8_t *h)
{
	r->sport = (uint16_t)(h[0] << 8 | h[1]);
	r->dport = (uint16_t)(h[2] << 8 | h[3]);
	r->type = h[11];
	r->doff = h[12];
	r->sender_id = 0;
	for (int i = 20; i < 28; i++)
		r->sender_id = r->sender_id << 8 | h[i];
}

/* Packets of a capture picked by a predicate. */
struct i_pick {
	bool (*want)(struct i_pick *k, const struct i_raw *r);
	uint64_t id;		       /* predicate parameter */
	struct i_pkt got[I_MAX_SAVED]; /* matches, in order */
	int num;		       /* entries in got */
};

static int i_pick_pkt(void *arg, const struct homa_pcap_pkt *p)
{
	struct i_pick *k = arg;
	struct homa_addr kernel;
	struct i_raw r;

	if (p->homa_bytes < HOMA_WIRE_COMMON_BYTES)
		return 0;
	i_addr(&kernel, 2);
	i_raw_read(&r, p->homa);
	r.from_kernel = memcmp(&p->src, &kernel, sizeof(kernel)) == 0;
	if (k->num < I_MAX_SAVED && k->want(k, &r)) {
		assert_true(p->homa_bytes <= I_PKT_BYTES);
		memcpy(k->got[k->num].data, p->homa, p->homa_bytes);
		k->got[k->num++].bytes = p->homa_bytes;
	}
	return 0;
}

static void i_pick(const char *file, struct i_pick *k)
{
	char path[512];

	k->num = 0;
	assert_true(homa_pcap_read(i_path(file, path, sizeof(path)), 0,
				   i_pick_pkt, k) > 0);
}

static bool i_is_kernel_unknown(struct i_pick *k, const struct i_raw *r)
{
	(void)k;
	return r->from_kernel && r->type == HOMA_PKT_RPC_UNKNOWN;
}

static bool i_is_kernel_data_of(struct i_pick *k, const struct i_raw *r)
{
	return r->from_kernel && r->type == HOMA_PKT_DATA &&
	       r->sender_id == k->id;
}

static void i_put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/*
 * k82b6b88-lost-request-lib-client.pcap: our request's only DATA was lost;
 * the kernel server answered each RESEND with RPC_UNKNOWN, doff 0x00.
 * Replayed: a core whose RPC has the recorded id and port sends the
 * request (lost), RESENDs, gets the kernel's recorded RPC_UNKNOWN bytes,
 * restarts the request, and completes with the kernel's echo (its
 * recorded response header to the previous request, with this RPC's id,
 * carrying the bytes of the restarted request).
 */
static void homa_input__2025_kernel_rpc_unknown_restarts_request(void **state)
{
	static struct i_pick unknown = { .want = i_is_kernel_unknown };
	static struct i_pick resp = { .want = i_is_kernel_data_of };
	const char *file = "k82b6b88-lost-request-lib-client.pcap";
	uint8_t req[100], echo[HOMA_WIRE_DATA_BYTES + sizeof(req)];
	struct homa_iov iov = { req, sizeof(req) };
	struct homa_recv_args *rc = calloc(1, sizeof(*rc));
	struct homa_wire_pkt p;
	struct i_raw u;
	uint64_t id;
	int resent = -1;

	(void)state;
	i_pick(file, &unknown);
	assert_true(unknown.num > 5);
	i_raw_read(&u, unknown.got[0].data);
	assert_int_equal(u.doff, 0); /* what the old code rejected */
	id = u.sender_id ^ 1;	     /* our id */
	resp.id = (id ^ 1) - 2; /* the kernel's response to the RPC before */
	i_pick(file, &resp);
	assert_int_equal(resp.num, 1);
	assert_int_equal(resp.got[0].bytes, sizeof(echo));

	i_world_up(id, u.dport, false);
	for (size_t i = 0; i < sizeof(req); i++)
		req[i] = (uint8_t)(i * 13 + 5);
	struct homa_send_args a = { &IW->them, u.sport, &iov, 1, 0, 77, 0 };
	assert_int_equal(homa_send(IW->hsk, &a, IW->now), 0);
	assert_int_equal(a.id, id);
	/* The request is lost; after 5 ms of silence the client RESENDs. */
	IW->num_sent = 0;
	i_run_ms(6);
	assert_true(i_m()->v[HOMA_M_sent_resend] >= 1);
	/* The kernel's answer, byte for byte as it sent it. */
	i_input(unknown.got[0].data, unknown.got[0].bytes);
	assert_int_equal(i_m()->v[HOMA_M_recv_rpc_unknown], 1);
	assert_int_equal(i_m()->v[HOMA_M_recv_odd_doff], 1);
	assert_int_equal(i_m()->v[HOMA_M_client_restarts], 1);
	for (int i = 0; i < IW->num_sent; i++) {
		i_sent(i, &p);
		if (p.common.type == HOMA_PKT_DATA)
			resent = i;
	}
	assert_true(resent >= 0);
	i_sent(resent, &p);
	assert_int_equal(p.common.sender_id, id);
	assert_int_equal(p.u.data.offset, 0);
	assert_int_equal(p.u.data.payload_bytes, sizeof(req));
	assert_memory_equal(p.u.data.payload, req, sizeof(req));
	/* The kernel's echo of the restarted request. */
	memcpy(echo, resp.got[0].data, HOMA_WIRE_DATA_BYTES);
	i_put_be64(echo + 20, id ^ 1);
	memcpy(echo + HOMA_WIRE_DATA_BYTES, req, sizeof(req));
	i_input(echo, sizeof(echo));
	rc->id = 0;
	assert_int_equal(homa_recv(IW->hsk, rc, IW->now), sizeof(req));
	assert_int_equal(rc->id, id);
	assert_int_equal(rc->cookie, 77);
	assert_memory_equal(IW->region + rc->bpage_offsets[0], req,
			    sizeof(req));
	assert_int_equal(i_m()->v[HOMA_M_rpc_timeouts], 0);
	i_world_down();
	free(rc);
}

static bool i_is_kernel_ack(struct i_pick *k, const struct i_raw *r)
{
	(void)k;
	return r->from_kernel && r->type == HOMA_PKT_ACK;
}

/*
 * k82b6b88-lost-request-kernel-client.pcap: the kernel client answers our
 * server's NEED_ACK with ACK packets of doff 0x00, which we used to drop
 * (and repeat NEED_ACK). Replayed: the kernel's recorded request arrives
 * at a server core on the recorded port, is answered, and the kernel's
 * recorded ACK ends the server RPC: no NEED_ACK after it.
 */
static void homa_input__2025_kernel_ack_ends_server_rpc(void **state)
{
	static struct i_pick ack = { .want = i_is_kernel_ack };
	static struct i_pick req = { .want = i_is_kernel_data_of };
	const char *file = "k82b6b88-lost-request-kernel-client.pcap";
	struct homa_recv_args *rs = calloc(1, sizeof(*rs));
	uint8_t resp[64] = { 1, 2, 3 };
	struct homa_iov iov = { resp, sizeof(resp) };
	struct homa_usage u;
	struct i_raw a;
	uint64_t need_acks;

	(void)state;
	i_pick(file, &ack);
	assert_true(ack.num > 0);
	i_raw_read(&a, ack.got[0].data);
	assert_int_equal(a.doff, 0);
	req.id = a.sender_id; /* the kernel client's id */
	i_pick(file, &req);
	assert_true(req.num >= 1);

	i_world_up(2, a.dport, true);
	i_input(req.got[0].data, req.got[0].bytes);
	rs->id = 0;
	assert_true(homa_recv(IW->hsk, rs, IW->now) > 0);
	assert_int_equal(rs->id, a.sender_id | 1);
	assert_int_equal(rs->peer_port, a.sport);
	struct homa_send_args s = { &rs->peer, rs->peer_port, &iov,
				    1,	       rs->id,	      0,
				    0 };
	assert_int_equal(homa_send(IW->hsk, &s, IW->now), 0);
	/* The response is out; the kernel's ack does not come piggybacked:
	 * NEED_ACK goes out, and the recorded ACK answers it. */
	i_run_ms(10);
	need_acks = i_m()->v[HOMA_M_sent_need_ack];
	assert_true(need_acks >= 1);
	i_input(ack.got[0].data, ack.got[0].bytes);
	assert_int_equal(i_m()->v[HOMA_M_server_rpcs_acked], 1);
	assert_int_equal(i_m()->v[HOMA_M_recv_odd_doff], 1);
	i_run_ms(200);
	assert_int_equal(i_m()->v[HOMA_M_sent_need_ack], need_acks);
	homa_get_usage(IW->homa, &u);
	assert_int_equal(u.rpcs, 0);
	i_world_down();
	free(rs);
}

/*
 * Where the spec leaves CUTOFFS fields free, we fill them as the kernel
 * does: its CUTOFFS (k9edb958-lib-client-small.pcap, answering our
 * client's DATA) carry the id of its RPC and entry 0 at 0. A server core
 * given the kernel's request answers the same way.
 */
static bool i_is_kernel_cutoffs(struct i_pick *k, const struct i_raw *r)
{
	(void)k;
	return r->from_kernel && r->type == HOMA_PKT_CUTOFFS;
}

static bool i_is_lib_data(struct i_pick *k, const struct i_raw *r)
{
	(void)k;
	return !r->from_kernel && r->type == HOMA_PKT_DATA;
}

static void homa_input__cutoffs_filled_as_the_kernel_fills_them(void **state)
{
	static struct i_pick kc = { .want = i_is_kernel_cutoffs };
	static struct i_pick ld = { .want = i_is_lib_data };
	static struct i_pick kd = { .want = i_is_kernel_data_of };
	struct homa_wire_pkt c, d;
	struct i_raw r;
	int found = 0;

	(void)state;
	/* What the kernel sends, answering libhoma's first request. */
	i_pick("k9edb958-lib-client-small.pcap", &kc);
	i_pick("k9edb958-lib-client-small.pcap", &ld);
	assert_true(kc.num > 0 && ld.num > 0);
	assert_int_equal(homa_wire_decode(kc.got[0].data, kc.got[0].bytes,
					  I_MAX_MSG, &c),
			 0);
	assert_int_equal(homa_wire_decode(ld.got[0].data, ld.got[0].bytes,
					  I_MAX_MSG, &d),
			 0);
	assert_int_equal(c.common.sender_id, d.common.sender_id ^ 1);
	assert_int_equal(c.u.cutoffs.unsched_cutoffs[0], 0);

	/* What a core sends, given a kernel client's first request. */
	i_pick("k9edb958-lost-request-kernel-client.pcap", &kc);
	assert_true(kc.num == 0); /* the kernel client sends none here */
	i_pick("k9edb958-lost-request-kernel-client.pcap", &ld);
	i_raw_read(&r, ld.got[0].data); /* our first response... */
	kd.id = r.sender_id ^ 1;	/* ...answers this kernel request */
	i_pick("k9edb958-lost-request-kernel-client.pcap", &kd);
	assert_true(kd.num >= 1);
	i_raw_read(&r, kd.got[0].data);
	i_world_up(2, r.dport, true);
	/* The kernel had learned our cutoffs in the recorded run; here they
	 * changed since, so the core must tell it. */
	assert_int_equal(homa_wire_decode(kd.got[0].data, kd.got[0].bytes,
					  I_MAX_MSG, &d),
			 0);
	IW->homa->cutoff_version = (uint16_t)(d.u.data.cutoff_version + 1);
	i_input(kd.got[0].data, kd.got[0].bytes);
	for (int i = 0; i < IW->num_sent; i++) {
		i_sent(i, &c);
		if (c.common.type != HOMA_PKT_CUTOFFS)
			continue;
		found++;
		assert_int_equal(c.common.sender_id, r.sender_id ^ 1);
		assert_int_equal(c.u.cutoffs.unsched_cutoffs[0], 0);
		for (int k = 1; k < HOMA_WIRE_NUM_CUTOFFS; k++)
			assert_int_equal(c.u.cutoffs.unsched_cutoffs[k],
					 IW->homa->config.unsched_cutoffs[k]);
	}
	assert_int_equal(found, 1);
	i_world_down();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(homa_wire_decode__every_captured_packet),
		cmocka_unit_test(
			homa_input__2025_kernel_rpc_unknown_restarts_request),
		cmocka_unit_test(homa_input__2025_kernel_ack_ends_server_rpc),
		cmocka_unit_test(
			homa_input__cutoffs_filled_as_the_kernel_fills_them),
	};

	if (getenv("TEST_FILTER"))
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
