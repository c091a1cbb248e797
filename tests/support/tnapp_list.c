/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tnapp_list.c - the test application's RPC list (queueing, start, run,
 * results and the exactly-once assertion), message content, bpage
 * holding and accessors. See tnapp.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tnapp_impl.h"

/* ---- message content ---- */

static uint64_t pattern_word(uint32_t serial, int dir, uint64_t w)
{
	uint64_t z = ((uint64_t)serial << 1 | (uint64_t)dir) *
			     0x9E3779B97F4A7C15ull +
		     (w + 1) * 0xD1B54A32D192ED03ull;

	z ^= z >> 31;
	z *= 0xD6E8FEB86659FD93ull;
	z ^= z >> 29;
	return z;
}

void tnapp_fill(uint32_t serial, int dir, uint64_t offset, uint8_t *buf,
		size_t n)
{
	uint64_t v;
	unsigned int k;

	while (n) {
		if (dir == 0 && offset < 8)
			v = serial;
		else
			v = pattern_word(serial, dir, offset >> 3);
		for (k = offset & 7; k < 8 && n; k++, n--, offset++)
			*buf++ = (uint8_t)(v >> (8 * k));
	}
}

/* ---- RPC list ---- */

uint32_t tnapp_add_rpc(struct tnapp *app, int client_host, int client_ix,
		       int server_host, uint32_t req_bytes, uint32_t resp_bytes,
		       uint64_t start_ns)
{
	struct tnapp_sock *s = app->client[client_host][client_ix];
	struct tnapp_rpc *rpc;

	assert_non_null(s);
	assert_true(server_host >= 0 && server_host < tn_num_hosts(app->net));
	if (app->nrpcs == app->cap_rpcs) {
		app->cap_rpcs = app->cap_rpcs ? 2 * app->cap_rpcs : 256;
		app->rpcs =
			realloc(app->rpcs, app->cap_rpcs * sizeof(*app->rpcs));
		assert_non_null(app->rpcs);
	}
	rpc = &app->rpcs[app->nrpcs];
	memset(rpc, 0, sizeof(*rpc));
	rpc->serial = app->nrpcs++;
	rpc->client_host = client_host;
	rpc->client_ix = client_ix;
	rpc->server_host = server_host;
	rpc->req_bytes = req_bytes;
	rpc->resp_bytes = resp_bytes;
	rpc->start_ns = start_ns;
	rpc->state = TNAPP_QUEUED;
	if (s->qlen == s->qcap) {
		s->qcap = s->qcap ? 2 * s->qcap : 64;
		s->queue = realloc(s->queue, s->qcap * sizeof(*s->queue));
		assert_non_null(s->queue);
	}
	s->queue[s->qlen++] = rpc->serial;
	app->unfinished++;
	if (app->started)
		tn_kick(app->net, &s->w);
	return rpc->serial;
}

void tnapp_start(struct tnapp *app)
{
	int h, c;

	app->started = true;
	for (h = 0; h < tn_num_hosts(app->net); h++)
		for (c = 0; c < TNAPP_MAX_CLIENTS; c++)
			if (app->client[h][c])
				tn_kick(app->net, &app->client[h][c]->w);
}

bool tnapp_busy(void *arg)
{
	return ((struct tnapp *)arg)->unfinished > 0;
}

bool tnapp_run(struct tnapp *app, uint64_t deadline_ns)
{
	return tn_run_while(app->net, tnapp_busy, app, deadline_ns);
}

uint32_t tnapp_num_rpcs(const struct tnapp *app)
{
	return app->nrpcs;
}

const struct tnapp_rpc *tnapp_rpc(const struct tnapp *app, uint32_t serial)
{
	assert_true(serial < app->nrpcs);
	return &app->rpcs[serial];
}

const struct tnapp_stats *tnapp_stats(const struct tnapp *app)
{
	return &app->stats;
}

uint64_t tnapp_completion_hash(const struct tnapp *app)
{
	uint64_t h = 0xCBF29CE484222325ull, v[4];
	uint32_t i, k;

	for (i = 0; i < app->nrpcs; i++) {
		v[0] = app->rpcs[i].state;
		v[1] = (uint64_t)(int64_t)app->rpcs[i].err;
		v[2] = app->rpcs[i].sent_ns;
		v[3] = app->rpcs[i].done_ns;
		for (k = 0; k < 4; k++) {
			h ^= v[k];
			h *= 0x100000001B3ull;
		}
	}
	return h;
}

void tnapp_assert_all_ok(const struct tnapp *app)
{
	const struct tnapp_rpc *r;
	uint32_t i;

	for (i = 0; i < app->nrpcs; i++) {
		r = &app->rpcs[i];
		if (r->state != TNAPP_DONE || r->err != 0 || r->deliveries != 1)
			fail_msg(
				"RPC %u (host %d -> %d, %u/%u bytes, id %llu): "
				"state %d, err %d, delivered %u times; "
				"totals: %llu done, %llu failed",
				i, r->client_host, r->server_host, r->req_bytes,
				r->resp_bytes, (unsigned long long)r->id,
				r->state, r->err, r->deliveries,
				(unsigned long long)app->stats.done,
				(unsigned long long)app->stats.failed);
	}
}

/* ---- bpage holding ---- */

void tnapp_hold_bpages(struct tnapp *app, int host, bool hold)
{
	app->hold[host] = hold;
	if (app->server[host])
		app->server[host]->hold = hold;
}

uint32_t tnapp_held_bpages(const struct tnapp *app, int host)
{
	return app->server[host] ? app->server[host]->nheld : 0;
}

void tnapp_release_bpages(struct tnapp *app, int host)
{
	tnapp_hold_bpages(app, host, false);
	if (app->server[host]) {
		tnapp_sock_drain(app, app->server[host]);
		tn_touch(app->net, host);
	}
}

struct homa_sock *tnapp_server_sock(struct tnapp *app, int host)
{
	return app->server[host] ? app->server[host]->hsk : NULL;
}

struct homa_sock *tnapp_client_sock(struct tnapp *app, int host, int ix)
{
	return app->client[host][ix] ? app->client[host][ix]->hsk : NULL;
}
