/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * testnet.c - the deterministic test network: hosts and their
 * environments, the link and fault model, kill/restart and the hooks.
 * Events, the clock and the checks live in tnevent.c.
 *
 * Determinism: all randomness comes from splitmix64 generators (the
 * simulator's random source, sim_rng.h) seeded from the configuration (the network's for faults, one per host for the
 * core's random callback), and events are ordered by (time, sequence
 * number), so a seed fixes the run.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_rng.h"
#include "testnet_impl.h"

/* Header of every block handed to the core, to check free's size. */
struct tn_blk {
	uint64_t magic; /* TN_BLK_MAGIC while allocated */
	uint64_t bytes; /* size the core asked for */
};
#define TN_BLK_MAGIC 0x486f6d61426c6b21ull

/* Polls at one instant after which the core is assumed to spin. */
#define TN_MAX_SAME_TIME_POLLS 100000

/* ---- PRNG ---- */

void tn_rng_seed(struct tn_rng *r, uint64_t seed)
{
	r->s = seed;
}

uint64_t tn_rng_next(struct tn_rng *r)
{
	return sim_rng_splitmix(&r->s);
}

uint64_t tn_rng_below(struct tn_rng *r, uint64_t n)
{
	if (n == 0)
		return 0;
	return sim_rng_scale(tn_rng_next(r), n);
}

/* ---- environment callbacks ---- */

static void *env_alloc(void *ctx, size_t bytes)
{
	struct tn_host *h = ctx;
	struct tn_blk *b;

	if (h->mem.limit_bytes && h->mem.bytes + bytes > h->mem.limit_bytes) {
		h->mem.failures++;
		return NULL;
	}
	b = malloc(sizeof(*b) + bytes);
	if (!b) {
		h->mem.failures++;
		return NULL;
	}
	b->magic = TN_BLK_MAGIC;
	b->bytes = bytes;
	h->mem.bytes += bytes;
	h->mem.blocks++;
	h->mem.total_allocs++;
	if (h->mem.bytes > h->mem.peak_bytes)
		h->mem.peak_bytes = h->mem.bytes;
	return b + 1;
}

static void env_free(void *ctx, void *ptr, size_t bytes)
{
	struct tn_host *h = ctx;
	struct tn_blk *b;

	if (!ptr)
		return;
	b = (struct tn_blk *)ptr - 1;
	if (b->magic != TN_BLK_MAGIC || b->bytes != bytes)
		fail_msg(
			"host %d: free(%p, %zu) of a block allocated with %llu "
			"bytes (magic %llx)",
			h->index, ptr, bytes, (unsigned long long)b->bytes,
			(unsigned long long)b->magic);
	b->magic = 0;
	h->mem.bytes -= bytes;
	h->mem.blocks--;
	free(b);
}

static uint64_t env_random(void *ctx)
{
	struct tn_host *h = ctx;

	return tn_rng_next(&h->rng);
}

static void net_send(struct tn_net *net, int src, int dst, uint8_t *buf,
		     size_t len, uint8_t prio);

static void env_xmit(void *ctx, const struct homa_out_pkt *pkt)
{
	struct tn_host *h = ctx;
	size_t len = (size_t)pkt->hdr_bytes + pkt->payload_bytes;
	uint8_t *buf;

	if (h->dying || !h->alive)
		return;
	buf = malloc(len ? len : 1);
	assert_non_null(buf);
	memcpy(buf, pkt->hdr, pkt->hdr_bytes);
	if (pkt->payload_bytes)
		memcpy(buf + pkt->hdr_bytes, pkt->payload, pkt->payload_bytes);
	net_send(h->net, h->index, tn_host_of(h->net, pkt->dst), buf, len,
		 pkt->priority);
}

static void env_wake(void *ctx, void *sock_ctx, uint32_t events, uint64_t id)
{
	struct tn_host *h = ctx;
	struct tn_waiter *w = sock_ctx;

	(void)id;
	if (h->dying || !h->alive || !w)
		return;
	w->events |= events;
	if (!w->scheduled)
		tn_push_app_event(h->net, w);
}

/* ---- packets ---- */

uint64_t tn_serialization_ns(const struct tn_net *net, size_t len)
{
	unsigned __int128 bits;

	if (!net->cfg.link_bps)
		return 0;
	bits = (unsigned __int128)(len + net->cfg.overhead_bytes) * 8 *
	       1000000000ull;
	return (uint64_t)((bits + net->cfg.link_bps - 1) / net->cfg.link_bps);
}

bool tn_type_ok(uint8_t type)
{
	return type >= HOMA_PKT_TYPE_MIN && type <= HOMA_PKT_TYPE_MAX;
}

void tn_tap(struct tn_net *net, enum tn_tap_kind kind, int src, int dst,
	    const uint8_t *buf, size_t len, uint8_t prio, uint64_t sent_ns)
{
	struct tn_pkt_info info;

	if (!net->tap)
		return;
	info.src = src;
	info.dst = dst;
	info.priority = prio;
	info.type = homa_wire_peek_type(buf, len);
	info.pkt = buf;
	info.len = len;
	info.sent_ns = sent_ns;
	info.now_ns = net->now_ns;
	net->tap(net->tap_arg, kind, &info);
}

void tn_drop(struct tn_net *net, int src, int dst, uint8_t *buf, size_t len,
	     uint8_t prio, uint64_t *counter)
{
	uint8_t type = homa_wire_peek_type(buf, len);

	(*counter)++;
	if ((counter == &net->ctr.lost || counter == &net->ctr.filtered) &&
	    tn_type_ok(type))
		net->ctr.lost_by_type[type - HOMA_PKT_TYPE_MIN]++;
	tn_tap(net, TN_TAP_DROPPED, src, dst, buf, len, prio, net->now_ns);
	free(buf);
}

static bool chance(struct tn_net *net, uint32_t ppm)
{
	return ppm && tn_rng_below(&net->rng, 1000000) < ppm;
}

static void push_pkt(struct tn_net *net, int src, int dst, uint8_t *buf,
		     size_t len, uint8_t prio, uint64_t at_ns)
{
	struct tn_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = TN_EV_PKT;
	ev.time_ns = at_ns;
	ev.sent_ns = net->now_ns;
	ev.host = (int16_t)dst;
	ev.src = (int16_t)src;
	ev.len = (uint32_t)len;
	ev.prio = prio;
	ev.ptr = buf;
	tn_heap_push(net, &ev);
}

/* drop_counter() - the counter of the reason to drop a packet, or NULL
 * to deliver it: unroutable, then the filter, then random loss. */
static uint64_t *drop_counter(struct tn_net *net, int src, int dst,
			      const uint8_t *buf, size_t len)
{
	if (dst < 0)
		return &net->ctr.unroutable;
	if (net->filter && !net->filter(net->filter_arg, src, dst, buf, len))
		return &net->ctr.filtered;
	if (chance(net, net->cfg.loss_ppm))
		return &net->ctr.lost;
	return NULL;
}

/* net_send() - the uplink and fault model; takes ownership of buf. */
static void net_send(struct tn_net *net, int src, int dst, uint8_t *buf,
		     size_t len, uint8_t prio)
{
	struct tn_host *h = &net->hosts[src];
	uint8_t type = homa_wire_peek_type(buf, len);
	uint64_t start, arrive, *drop_ctr;
	uint8_t *copy;

	net->ctr.sent++;
	if (tn_type_ok(type))
		net->ctr.sent_by_type[type - HOMA_PKT_TYPE_MIN]++;
	net->ctr.sent_by_prio[prio & (TN_NUM_PRIOS - 1)]++;
	tn_tap(net, TN_TAP_SENT, src, dst, buf, len, prio, net->now_ns);
	start = h->link_free_ns > net->now_ns ? h->link_free_ns : net->now_ns;
	h->link_free_ns = start + tn_serialization_ns(net, len);
	arrive = h->link_free_ns + net->cfg.link_delay_ns;
	/* Dropped packets still took their time on the uplink. */
	drop_ctr = drop_counter(net, src, dst, buf, len);
	if (drop_ctr) {
		tn_drop(net, src, dst, buf, len, prio, drop_ctr);
		return;
	}
	if (chance(net, net->cfg.reorder_ppm)) {
		arrive +=
			tn_rng_below(&net->rng, net->cfg.reorder_window_ns + 1);
		net->ctr.reordered++;
	}
	if (chance(net, net->cfg.dup_ppm)) {
		copy = malloc(len ? len : 1);
		assert_non_null(copy);
		memcpy(copy, buf, len);
		push_pkt(net, src, dst, copy, len, prio,
			 arrive + 1 +
				 tn_rng_below(&net->rng,
					      net->cfg.dup_window_ns));
		net->ctr.duplicated++;
	}
	push_pkt(net, src, dst, buf, len, prio, arrive);
}

void tn_send(struct tn_net *net, int src, int dst, const uint8_t *pkt,
	     size_t len, uint8_t priority)
{
	uint8_t *buf = malloc(len ? len : 1);

	assert_true(src >= 0 && src < net->cfg.num_hosts);
	assert_non_null(buf);
	memcpy(buf, pkt, len);
	net_send(net, src, dst, buf, len, priority);
}

/* ---- hosts ---- */

void tn_make_addr(struct homa_addr *a, uint8_t x, uint8_t y)
{
	const uint8_t v4[4] = { 10, 0, x, y };

	homa_addr_set_v4(a, v4);
}

int tn_host_of(const struct tn_net *net, const struct homa_addr *a)
{
	int i = a->a[15] - 1;

	if (i < 0 || i >= net->cfg.num_hosts)
		return -1;
	if (memcmp(a, &net->hosts[i].addr, sizeof(*a)) != 0)
		return -1;
	return i;
}

int tn_num_hosts(const struct tn_net *net)
{
	return net->cfg.num_hosts;
}

struct tn_host *tn_host_get(const struct tn_net *net, int host)
{
	if (host < 0 || host >= net->cfg.num_hosts)
		fail_msg("host %d out of range", host);
	return (struct tn_host *)&net->hosts[host];
}

struct homa *tn_homa(struct tn_net *net, int host)
{
	return tn_host_get(net, host)->homa;
}

const struct homa_addr *tn_addr(const struct tn_net *net, int host)
{
	return &tn_host_get(net, host)->addr;
}

bool tn_host_alive(const struct tn_net *net, int host)
{
	return tn_host_get(net, host)->alive;
}

uint32_t tn_host_incarnation(const struct tn_net *net, int host)
{
	return tn_host_get(net, host)->incarnation;
}

const struct tn_mem *tn_host_mem(const struct tn_net *net, int host)
{
	return &tn_host_get(net, host)->mem;
}

void tn_host_set_alloc_limit(struct tn_net *net, int host, uint64_t bytes)
{
	tn_host_get(net, host)->mem.limit_bytes = bytes;
}

void tn_host_set_config(struct tn_net *net, int host,
			const struct homa_config *config)
{
	tn_host_get(net, host)->config = *config;
}

uint64_t tn_metric(struct tn_net *net, int host, enum homa_metric m)
{
	struct tn_host *h = tn_host_get(net, host);

	if (!h->alive)
		return 0;
	return homa_get_metrics(h->homa)->v[m];
}

/* tn_host_poll() - run the host's due work and keep one poll event for it. */
void tn_host_poll(struct tn_net *net, struct tn_host *h)
{
	struct tn_event ev;
	uint64_t next;

	if (!h->alive)
		return;
	next = homa_poll(h->homa, net->now_ns);
	net->ctr.polls++;
	if (next <= net->now_ns) {
		next = net->now_ns;
		if (h->same_ns != next) {
			h->same_ns = next;
			h->same_polls = 0;
		}
		if (++h->same_polls > TN_MAX_SAME_TIME_POLLS)
			fail_msg("host %d: homa_poll keeps returning now "
				 "(%llu ns)",
				 h->index, (unsigned long long)next);
	}
	if (next == h->poll_at_ns)
		return;
	h->poll_gen++;
	h->poll_at_ns = next;
	if (next == UINT64_MAX)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = TN_EV_POLL;
	ev.time_ns = next;
	ev.host = (int16_t)h->index;
	ev.gen = h->poll_gen;
	tn_heap_push(net, &ev);
}

void tn_touch(struct tn_net *net, int host)
{
	tn_host_poll(net, tn_host_get(net, host));
}

static void host_start(struct tn_net *net, struct tn_host *h)
{
	char err[HOMA_ERR_BYTES] = "";
	int ret;

	ret = homa_create(&h->env, &h->config, net->now_ns, &h->homa, err);
	if (ret != 0)
		fail_msg("host %d: homa_create: %d (%s)", h->index, ret, err);
	h->alive = true;
	h->dying = false;
	h->poll_at_ns = UINT64_MAX;
	h->poll_gen++;
}

/* host_stop() - destroy the instance and require a clean allocator. */
static void host_stop(struct tn_net *net, struct tn_host *h)
{
	(void)net;
	h->dying = true;
	homa_destroy(h->homa);
	h->homa = NULL;
	h->dying = false;
	h->alive = false;
	h->poll_gen++;
	h->poll_at_ns = UINT64_MAX;
	if (h->mem.bytes != 0 || h->mem.blocks != 0)
		fail_msg("host %d: %llu bytes in %llu blocks still allocated "
			 "after homa_destroy",
			 h->index, (unsigned long long)h->mem.bytes,
			 (unsigned long long)h->mem.blocks);
}

void tn_host_kill(struct tn_net *net, int host)
{
	struct tn_host *h = tn_host_get(net, host);

	assert_true(h->alive);
	host_stop(net, h);
	h->incarnation++;
	if (net->app_ops && net->app_ops->host_down)
		net->app_ops->host_down(net->app, net, host);
}

void tn_host_restart(struct tn_net *net, int host)
{
	struct tn_host *h = tn_host_get(net, host);

	assert_false(h->alive);
	host_start(net, h);
	h->incarnation++;
	if (net->app_ops && net->app_ops->host_up)
		net->app_ops->host_up(net->app, net, host);
	tn_host_poll(net, h);
}

void tn_config_default(struct tn_config *c)
{
	memset(c, 0, sizeof(*c));
	c->num_hosts = 4;
	c->seed = 1;
	c->link_bps = 25000000000ull;
	c->link_delay_ns = 1000;
	c->overhead_bytes = HOMA_WIRE_IPV4_BYTES + HOMA_WIRE_ETH_FRAMING_BYTES;
	c->dup_window_ns = 20 * TN_NS_PER_US;
	c->reorder_window_ns = 10 * TN_NS_PER_US;
	homa_config_default(&c->homa);
}

int tn_create(const struct tn_config *c, struct tn_net **out)
{
	struct tn_net *net;
	struct tn_host *h;
	int i;

	if (c->num_hosts < 1 || c->num_hosts > TN_MAX_HOSTS)
		return -EINVAL;
	net = calloc(1, sizeof(*net));
	if (!net)
		return -ENOMEM;
	if (sim_event_queue_init(&net->queue)) {
		free(net);
		return -ENOMEM;
	}
	net->cfg = *c;
	net->now_ns = c->start_ns;
	net->trace = 0xCBF29CE484222325ull;
	tn_rng_seed(&net->rng, c->seed);
	for (i = 0; i < c->num_hosts; i++) {
		h = &net->hosts[i];
		h->net = net;
		h->index = i;
		tn_make_addr(&h->addr, 0, (uint8_t)(i + 1));
		h->config = c->host_homa[i] ? *c->host_homa[i] : c->homa;
		h->env.ctx = h;
		h->env.xmit = env_xmit;
		h->env.wake = env_wake;
		h->env.random = env_random;
		h->env.alloc = env_alloc;
		h->env.free = env_free;
		tn_rng_seed(&h->rng, c->seed ^ (0xA24BAED4963EE407ull *
						(uint64_t)(i + 1)));
		host_start(net, h);
	}
	for (i = 0; i < c->num_hosts; i++)
		tn_host_poll(net, &net->hosts[i]);
	*out = net;
	return 0;
}

void tn_destroy(struct tn_net *net)
{
	struct tn_event ev;
	int i;

	if (!net)
		return;
	for (i = 0; i < net->cfg.num_hosts; i++)
		if (net->hosts[i].alive)
			host_stop(net, &net->hosts[i]);
	while (tn_heap_pop(net, UINT64_MAX, &ev))
		if (ev.kind == TN_EV_PKT)
			free(ev.ptr);
	sim_event_queue_free(&net->queue);
	free(net);
}

/* ---- hooks ---- */

void tn_set_app(struct tn_net *net, const struct tn_app_ops *ops, void *app)
{
	net->app_ops = ops;
	net->app = app;
}

void tn_set_filter(struct tn_net *net, tn_filter_fn fn, void *arg)
{
	net->filter = fn;
	net->filter_arg = arg;
}

void tn_set_tap(struct tn_net *net, tn_tap_fn fn, void *arg)
{
	net->tap = fn;
	net->tap_arg = arg;
}

void tn_set_step_hook(struct tn_net *net, tn_step_fn fn, void *arg)
{
	net->step = fn;
	net->step_arg = arg;
}

void tn_set_faults(struct tn_net *net, uint32_t loss_ppm, uint32_t dup_ppm,
		   uint32_t reorder_ppm)
{
	net->cfg.loss_ppm = loss_ppm;
	net->cfg.dup_ppm = dup_ppm;
	net->cfg.reorder_ppm = reorder_ppm;
}

const struct tn_counters *tn_counters(const struct tn_net *net)
{
	return &net->ctr;
}

uint64_t tn_trace_hash(const struct tn_net *net)
{
	return net->trace;
}

uint64_t tn_now(const struct tn_net *net)
{
	return net->now_ns;
}
