/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tnapp.c - the test application on the test network (see tnapp.h):
 * sockets, receiving, verifying and answering, sending. The RPC list,
 * message content and accessors are in tnapp_list.c.
 *
 * Each host has one server socket (port TNAPP_SERVER_PORT) and up to
 * TNAPP_MAX_CLIENTS client sockets, each with its own receive region.
 * All work happens in application events queued by wake-ups: a socket
 * drains homa_recv until -EAGAIN, handing back the bpages of the previous
 * message with each call, and a client then issues queued RPCs while fewer
 * than K are in flight. Requests are matched to their RPC through a hash
 * from (client host, client id) filled in when the client sends. Any
 * inconsistency (wrong bytes, wrong length, unknown cookie, a server-side
 * error from homa_recv) fails the running cmocka test at once.
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

#include "tnapp_impl.h"

/* ---- (host, id) -> serial ---- */

static uint64_t map_key(int host, uint64_t id)
{
	return ((id & ~1ull) << 4 | (uint64_t)host) + 1;
}

static void map_put(struct tnapp *app, uint64_t key, uint32_t serial);

static void map_grow(struct tnapp *app)
{
	struct tnapp_map_ent *old = app->map;
	uint64_t i, old_cap = app->map_cap;

	app->map_cap = old_cap ? 2 * old_cap : 1024;
	app->map = calloc(app->map_cap, sizeof(*app->map));
	assert_non_null(app->map);
	app->map_used = 0;
	for (i = 0; i < old_cap; i++)
		if (old[i].key)
			map_put(app, old[i].key, old[i].serial);
	free(old);
}

static void map_put(struct tnapp *app, uint64_t key, uint32_t serial)
{
	uint64_t i;

	if (2 * (app->map_used + 1) > app->map_cap)
		map_grow(app);
	i = (key * 0x9E3779B97F4A7C15ull) & (app->map_cap - 1);
	while (app->map[i].key && app->map[i].key != key)
		i = (i + 1) & (app->map_cap - 1);
	if (!app->map[i].key)
		app->map_used++;
	app->map[i].key = key;
	app->map[i].serial = serial;
}

static bool map_get(const struct tnapp *app, uint64_t key, uint32_t *serial)
{
	uint64_t i;

	if (!app->map_cap)
		return false;
	i = (key * 0x9E3779B97F4A7C15ull) & (app->map_cap - 1);
	while (app->map[i].key) {
		if (app->map[i].key == key) {
			*serial = app->map[i].serial;
			return true;
		}
		i = (i + 1) & (app->map_cap - 1);
	}
	return false;
}

/* ---- receiving ---- */

/* verify() - compare a delivered message with its expected content. */
static void verify(struct tnapp *app, struct tnapp_sock *s,
		   const struct homa_recv_args *a, uint32_t len,
		   uint32_t serial, int dir)
{
	uint32_t pages = (len + BPAGE_BYTES - 1) >> BPAGE_SHIFT;
	uint32_t i, n, k, off;
	const uint8_t *p;

	if (a->num_bpages != pages)
		fail_msg("serial %u dir %d: %u bytes in %u bpages, expected %u",
			 serial, dir, len, a->num_bpages, pages);
	for (i = 0; i < pages; i++) {
		off = a->bpage_offsets[i];
		n = len - (i << BPAGE_SHIFT);
		if (n > BPAGE_BYTES)
			n = BPAGE_BYTES;
		if ((i + 1 < pages && (off & (BPAGE_BYTES - 1))) ||
		    (uint64_t)off + n > s->region_bytes)
			fail_msg("serial %u dir %d: bad bpage offset %u (page "
				 "%u of %u, region %llu)",
				 serial, dir, off, i, pages,
				 (unsigned long long)s->region_bytes);
		if (app->cfg.no_verify)
			continue;
		p = s->region + off;
		tnapp_fill(serial, dir, (uint64_t)i << BPAGE_SHIFT, app->expect,
			   n);
		if (memcmp(p, app->expect, n) == 0)
			continue;
		for (k = 0; k < n && p[k] == app->expect[k]; k++)
			;
		fail_msg("serial %u dir %d (len %u): byte %u is 0x%02x, "
			 "expected 0x%02x",
			 serial, dir, len, (i << BPAGE_SHIFT) + k, p[k],
			 app->expect[k]);
	}
	app->stats.bytes_verified += len;
}

static void ensure_scratch(struct tnapp *app, size_t bytes)
{
	if (bytes <= app->scratch_bytes)
		return;
	free(app->scratch);
	app->scratch = malloc(bytes);
	assert_non_null(app->scratch);
	app->scratch_bytes = bytes;
}

static void reply_to(struct tnapp *app, struct tnapp_sock *s,
		     const struct homa_addr *peer, uint16_t port, uint64_t id,
		     uint32_t serial, uint32_t bytes)
{
	struct homa_send_args sa;
	struct homa_iov iov;
	int ret;

	ensure_scratch(app, bytes);
	tnapp_fill(serial, 1, 0, app->scratch, bytes);
	iov.base = app->scratch;
	iov.bytes = bytes;
	memset(&sa, 0, sizeof(sa));
	sa.dst = peer;
	sa.dport = port;
	sa.iov = &iov;
	sa.iov_count = 1;
	sa.id = id;
	ret = homa_send(s->hsk, &sa, tn_now(app->net));
	if (ret != 0)
		fail_msg("host %d: reply to id %llu (serial %u): %d", s->w.host,
			 (unsigned long long)id, serial, ret);
	app->stats.requests_served++;
}

/* A delayed reply is due (server still the same incarnation). */
static void reply_due(void *arg, struct tn_net *net)
{
	struct tnapp_pending *p = arg;
	struct tnapp_sock *s = p->app->server[p->host];

	if (!s || tn_host_incarnation(net, p->host) != p->incarnation)
		return;
	reply_to(p->app, s, &p->peer, p->port, p->id, p->serial, p->bytes);
	tn_touch(net, p->host);
}

/* Answer now, later (service_ns: one request at a time, in arrival
 * order) or never (TNAPP_NEVER). */
static void reply(struct tnapp *app, struct tnapp_sock *s,
		  const struct homa_recv_args *a, uint32_t serial,
		  uint32_t bytes)
{
	uint64_t service = app->cfg.service_ns[s->w.host];
	uint64_t now = tn_now(app->net), *busy = &app->busy_until[s->w.host];
	struct tnapp_pending *p;

	if (!service) {
		reply_to(app, s, &a->peer, a->peer_port, a->id, serial, bytes);
		return;
	}
	if (service == TNAPP_NEVER) {
		app->stats.requests_held++;
		return;
	}
	p = calloc(1, sizeof(*p));
	assert_non_null(p);
	p->app = app;
	p->host = s->w.host;
	p->incarnation = tn_host_incarnation(app->net, s->w.host);
	p->peer = a->peer;
	p->port = a->peer_port;
	p->id = a->id;
	p->serial = serial;
	p->bytes = bytes;
	p->next = app->pending;
	app->pending = p;
	*busy = (*busy > now ? *busy : now) + service;
	tn_at(app->net, *busy, reply_due, p);
}

static void on_request(struct tnapp *app, struct tnapp_sock *s,
		       const struct homa_recv_args *a, uint32_t len)
{
	int client = tn_host_of(app->net, &a->peer);
	struct tnapp_rpc *rpc;
	uint32_t serial;

	if (client < 0 || !(a->id & 1) ||
	    !map_get(app, map_key(client, a->id), &serial)) {
		/* Not one of ours (injected): answer so the RPC can end. */
		app->stats.unknown_requests++;
		reply(app, s, a, 0, 1);
		return;
	}
	rpc = &app->rpcs[serial];
	if (rpc->server_host != s->w.host || rpc->req_bytes != len)
		fail_msg("request serial %u: %u bytes at host %d, expected %u "
			 "at host %d",
			 serial, len, s->w.host, rpc->req_bytes,
			 rpc->server_host);
	verify(app, s, a, len, serial, 0);
	rpc->deliveries++;
	rpc->delivered_incarnation = tn_host_incarnation(app->net, s->w.host);
	reply(app, s, a, serial, rpc->resp_bytes);
}

static struct tnapp_rpc *rpc_of_cookie(struct tnapp *app, struct tnapp_sock *s,
				       const struct homa_recv_args *a, int ret)
{
	struct tnapp_rpc *rpc;

	if (a->cookie == 0 || a->cookie > app->nrpcs)
		fail_msg("host %d client %d: recv %d with unknown cookie %llu "
			 "(id %llu)",
			 s->w.host, s->ix, ret, (unsigned long long)a->cookie,
			 (unsigned long long)a->id);
	rpc = &app->rpcs[a->cookie - 1];
	if (rpc->state != TNAPP_SENT || rpc->id != a->id ||
	    rpc->client_host != s->w.host || rpc->client_ix != s->ix)
		fail_msg("serial %u: recv %d for id %llu in state %d (sent id "
			 "%llu)",
			 rpc->serial, ret, (unsigned long long)a->id,
			 rpc->state, (unsigned long long)rpc->id);
	return rpc;
}

static void finish(struct tnapp *app, struct tnapp_sock *s,
		   struct tnapp_rpc *rpc, int err)
{
	rpc->err = err;
	rpc->state = err ? TNAPP_FAILED : TNAPP_DONE;
	rpc->done_ns = tn_now(app->net);
	if (err)
		app->stats.failed++;
	else
		app->stats.done++;
	app->unfinished--;
	if (s)
		s->outstanding--;
}

static void on_response(struct tnapp *app, struct tnapp_sock *s,
			const struct homa_recv_args *a, uint32_t len)
{
	struct tnapp_rpc *rpc = rpc_of_cookie(app, s, a, (int)len);

	if (len != rpc->resp_bytes)
		fail_msg("serial %u: response of %u bytes, expected %u",
			 rpc->serial, len, rpc->resp_bytes);
	verify(app, s, a, len, rpc->serial, 1);
	finish(app, s, rpc, 0);
}

static void keep_bpages(struct tnapp_sock *s, const struct homa_recv_args *a)
{
	if (!s->hold) {
		memcpy(s->ret, a->bpage_offsets,
		       a->num_bpages * sizeof(s->ret[0]));
		s->nret = a->num_bpages;
		return;
	}
	if (s->nheld + a->num_bpages > s->cap_held) {
		s->cap_held = 2 * (s->nheld + a->num_bpages);
		s->held = realloc(s->held, s->cap_held * sizeof(*s->held));
		assert_non_null(s->held);
	}
	memcpy(s->held + s->nheld, a->bpage_offsets,
	       a->num_bpages * sizeof(*s->held));
	s->nheld += a->num_bpages;
}

/* take_held() - move up to one recv's worth of held bpages to ret. */
static void take_held(struct tnapp_sock *s)
{
	uint32_t n = s->nheld;

	if (s->hold || s->nret || !n)
		return;
	if (n > HOMA_CORE_MAX_BPAGES)
		n = HOMA_CORE_MAX_BPAGES;
	s->nheld -= n;
	memcpy(s->ret, s->held + s->nheld, n * sizeof(s->ret[0]));
	s->nret = n;
}

/* tnapp_sock_drain() - homa_recv until nothing is ready and nothing to return. */
void tnapp_sock_drain(struct tnapp *app, struct tnapp_sock *s)
{
	struct homa_recv_args *a = &app->rargs;
	int ret;

	for (;;) {
		take_held(s);
		a->id = 0;
		a->cookie = 0;
		a->num_bpages = s->nret;
		memcpy(a->bpage_offsets, s->ret, s->nret * sizeof(s->ret[0]));
		ret = homa_recv(s->hsk, a, tn_now(app->net));
		if (ret == -EINVAL)
			fail_msg("host %d: homa_recv returning %u bpages: "
				 "-EINVAL",
				 s->w.host, s->nret);
		s->nret = 0;
		if (ret == -EAGAIN || ret == -ESHUTDOWN) {
			if (ret == -EAGAIN && !s->hold && s->nheld)
				continue;
			return;
		}
		if (ret < 0) {
			if (s->server)
				fail_msg("host %d: server recv error %d (id "
					 "%llu)",
					 s->w.host, ret,
					 (unsigned long long)a->id);
			finish(app, s, rpc_of_cookie(app, s, a, ret), ret);
			continue;
		}
		if (a->is_request != s->server)
			fail_msg("host %d: is_request %d on a %s socket",
				 s->w.host, a->is_request,
				 s->server ? "server" : "client");
		if (s->server)
			on_request(app, s, a, (uint32_t)ret);
		else
			on_response(app, s, a, (uint32_t)ret);
		keep_bpages(s, a);
	}
}

/* ---- sending ---- */

static int send_request(struct tnapp *app, struct tnapp_sock *s,
			struct tnapp_rpc *rpc)
{
	struct homa_send_args sa;
	struct homa_iov iov;
	int ret;

	ensure_scratch(app, rpc->req_bytes);
	tnapp_fill(rpc->serial, 0, 0, app->scratch, rpc->req_bytes);
	iov.base = app->scratch;
	iov.bytes = rpc->req_bytes;
	memset(&sa, 0, sizeof(sa));
	sa.dst = tn_addr(app->net, rpc->server_host);
	sa.dport = TNAPP_SERVER_PORT;
	sa.iov = &iov;
	sa.iov_count = 1;
	sa.cookie = (uint64_t)rpc->serial + 1;
	ret = homa_send(s->hsk, &sa, tn_now(app->net));
	if (ret != 0)
		return ret;
	if (sa.id == 0 || (sa.id & 1))
		fail_msg("serial %u: homa_send gave id %llu", rpc->serial,
			 (unsigned long long)sa.id);
	rpc->id = sa.id;
	rpc->sent_ns = tn_now(app->net);
	rpc->state = TNAPP_SENT;
	map_put(app, map_key(s->w.host, sa.id), rpc->serial);
	return 0;
}

static void kick_cb(void *arg, struct tn_net *net);

/* client_pump() - send queued RPCs while fewer than K are in flight. */
static void client_pump(struct tnapp *app, struct tnapp_sock *s)
{
	struct tnapp_rpc *rpc;
	int ret;

	while (app->started && s->qhead < s->qlen &&
	       s->outstanding < app->cfg.max_outstanding) {
		rpc = &app->rpcs[s->queue[s->qhead]];
		if (rpc->start_ns > tn_now(app->net)) {
			if (s->kick_ns != rpc->start_ns)
				tn_at(app->net, rpc->start_ns, kick_cb,
				      &app->kicks[s->w.host][s->ix]);
			s->kick_ns = rpc->start_ns;
			return;
		}
		ret = send_request(app, s, rpc);
		if (ret == -EAGAIN) {
			/* The core wakes us with HOMA_WAKE_WRITABLE. */
			app->stats.send_eagain++;
			return;
		}
		s->qhead++;
		if (ret < 0) {
			finish(app, NULL, rpc, ret);
			continue;
		}
		s->outstanding++;
	}
}

static void kick_cb(void *arg, struct tn_net *net)
{
	struct tnapp_kick *k = arg;
	struct tnapp_sock *s = k->app->client[k->host][k->ix];

	(void)net;
	if (s)
		client_pump(k->app, s);
}

static void app_ready(void *arg, struct tn_net *net, struct tn_waiter *w)
{
	struct tnapp *app = arg;
	struct tnapp_sock *s = (struct tnapp_sock *)w;

	(void)net;
	w->events = 0;
	tnapp_sock_drain(app, s);
	if (!s->server)
		client_pump(app, s);
}

/* ---- sockets and hosts ---- */

static struct tnapp_sock *sock_open(struct tnapp *app, int host, bool server,
				    int ix)
{
	struct tnapp_sock *s = calloc(1, sizeof(*s));
	uint64_t bytes = app->cfg.host_region_bytes[host]
				 ? app->cfg.host_region_bytes[host]
				 : app->cfg.region_bytes;
	void *region = NULL;
	int ret;

	assert_non_null(s);
	s->w.host = host;
	s->app = app;
	s->server = server;
	s->ix = ix;
	s->hold = server && app->hold[host];
	ret = homa_sock_open(tn_homa(app->net, host),
			     server && app->cfg.server_inet6 ? HOMA_FAMILY_INET6
							     : HOMA_FAMILY_INET,
			     &s->w, &s->hsk);
	if (ret != 0)
		fail_msg("host %d: homa_sock_open: %d", host, ret);
	if (server) {
		ret = homa_sock_bind(s->hsk, TNAPP_SERVER_PORT);
		if (ret != 0)
			fail_msg("host %d: bind: %d", host, ret);
	}
	ret = posix_memalign(&region, 4096, bytes);
	assert_int_equal(ret, 0);
	s->region = region;
	s->region_bytes = bytes;
	ret = homa_sock_set_rcvbuf(s->hsk, s->region, bytes);
	if (ret != 0)
		fail_msg("host %d: set_rcvbuf(%llu bytes): %d", host,
			 (unsigned long long)bytes, ret);
	return s;
}

/* sock_free() - forget a socket whose core side is closed or gone. */
static void sock_free(struct tnapp *app, struct tnapp_sock *s)
{
	uint32_t i;

	for (i = s->qhead; i < s->qlen; i++) {
		app->rpcs[s->queue[i]].state = TNAPP_ABANDONED;
		app->unfinished--;
		app->stats.abandoned++;
	}
	free(s->region);
	free(s->held);
	free(s->queue);
	free(s);
}

static void host_open(struct tnapp *app, int host)
{
	int i;

	if (!app->cfg.no_server[host])
		app->server[host] = sock_open(app, host, true, 0);
	for (i = 0; i < app->cfg.clients_per_host; i++)
		app->client[host][i] = sock_open(app, host, false, i);
	tn_touch(app->net, host);
}

/* app_host_down() - the host's instance is gone: drop its sockets; its
 * clients' RPCs in flight are abandoned. */
static void app_host_down(void *arg, struct tn_net *net, int host)
{
	struct tnapp *app = arg;
	struct tnapp_rpc *rpc;
	uint32_t i;
	int c;

	(void)net;
	for (i = 0; i < app->nrpcs; i++) {
		rpc = &app->rpcs[i];
		if (rpc->client_host == host && rpc->state == TNAPP_SENT) {
			rpc->state = TNAPP_ABANDONED;
			app->unfinished--;
			app->stats.abandoned++;
		}
	}
	if (app->server[host])
		sock_free(app, app->server[host]);
	app->server[host] = NULL;
	for (c = 0; c < TNAPP_MAX_CLIENTS; c++) {
		if (app->client[host][c])
			sock_free(app, app->client[host][c]);
		app->client[host][c] = NULL;
	}
}

static void app_host_up(void *arg, struct tn_net *net, int host)
{
	(void)net;
	host_open(arg, host);
}

void tnapp_config_default(struct tnapp_config *c)
{
	memset(c, 0, sizeof(*c));
	c->region_bytes = TNAPP_REGION_DEFAULT;
	c->clients_per_host = 1;
	c->max_outstanding = 4;
}

int tnapp_create(struct tn_net *net, const struct tnapp_config *c,
		 struct tnapp **out)
{
	struct tnapp *app;
	int h, i;

	if (c->clients_per_host < 0 ||
	    c->clients_per_host > TNAPP_MAX_CLIENTS || c->max_outstanding < 1)
		return -EINVAL;
	app = calloc(1, sizeof(*app));
	if (!app)
		return -ENOMEM;
	app->net = net;
	app->cfg = *c;
	app->ops.ready = app_ready;
	app->ops.host_down = app_host_down;
	app->ops.host_up = app_host_up;
	for (h = 0; h < tn_num_hosts(net); h++) {
		for (i = 0; i < TNAPP_MAX_CLIENTS; i++) {
			app->kicks[h][i].app = app;
			app->kicks[h][i].host = h;
			app->kicks[h][i].ix = i;
		}
		if (tn_host_alive(net, h))
			host_open(app, h);
	}
	tn_set_app(net, &app->ops, app);
	*out = app;
	return 0;
}

static void sock_close(struct tnapp *app, struct tnapp_sock *s)
{
	homa_sock_close(s->hsk, tn_now(app->net));
	sock_free(app, s);
}

void tnapp_destroy(struct tnapp *app)
{
	int h, c;

	if (!app)
		return;
	tn_set_app(app->net, NULL, NULL);
	for (h = 0; h < tn_num_hosts(app->net); h++) {
		if (app->server[h])
			sock_close(app, app->server[h]);
		for (c = 0; c < TNAPP_MAX_CLIENTS; c++)
			if (app->client[h][c])
				sock_close(app, app->client[h][c]);
	}
	while (app->pending) {
		struct tnapp_pending *p = app->pending;

		app->pending = p->next;
		free(p);
	}
	free(app->rpcs);
	free(app->map);
	free(app->scratch);
	free(app);
}
