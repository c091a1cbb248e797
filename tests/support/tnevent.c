/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tnevent.c - the test network's clock and events: queueing them in the
 * simulator's event queue (sim_event.h; ordered by time, then order of
 * queueing), the execution of each kind of event
 * (packet delivery, poll deadline, application event, test action),
 * injection, the trace hash and the leak checks.
 *
 * Only poll events can become stale (a newer deadline replaced them, or
 * the host died): each carries the generation it was queued under and is
 * skipped, unhashed, if that is no longer current. Application events
 * carry the host's incarnation for the same reason.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testnet_impl.h"

/* ---- event queue (the simulator's engine, sim_event.h) ---- */

/* One queued event: the engine's entry and the event it carries. */
struct tn_queued {
	struct sim_event entry; /* in net->queue, due at e.time_ns * 1000 */
	struct tn_net *net;	/* owner */
	struct tn_event e;	/* the event */
};

/* Largest time the engine's picosecond clock can hold, ns. */
#define TN_MAX_TIME_NS (SIM_TIME_NEVER / SIM_PS_PER_NS - 1)

/* The engine's handler only hands the event out and stops the engine:
 * tn_step() runs it outside, so events may run the clock themselves. */
static void tn_queued_fire(struct sim_event *entry)
{
	struct tn_queued *q =
		(struct tn_queued *)((char *)entry -
				     offsetof(struct tn_queued, entry));

	q->net->popped = q;
	q->net->stop = true;
}

void tn_heap_push(struct tn_net *net, const struct tn_event *ev)
{
	struct tn_queued *q;

	if (ev->time_ns < net->now_ns)
		fail_msg("event in the past: %llu < %llu",
			 (unsigned long long)ev->time_ns,
			 (unsigned long long)net->now_ns);
	if (ev->time_ns > TN_MAX_TIME_NS)
		fail_msg("event beyond the clock's range: %llu ns",
			 (unsigned long long)ev->time_ns);
	q = malloc(sizeof(*q));
	assert_non_null(q);
	sim_event_init(&q->entry, tn_queued_fire);
	q->net = net;
	q->e = *ev;
	assert_int_equal(sim_event_schedule(&net->queue, &q->entry,
					    ev->time_ns * SIM_PS_PER_NS),
			 0);
}

bool tn_heap_pop(struct tn_net *net, uint64_t limit_ns, struct tn_event *out)
{
	uint64_t limit_ps = limit_ns > TN_MAX_TIME_NS
				    ? SIM_TIME_NEVER
				    : limit_ns * SIM_PS_PER_NS;
	struct tn_queued *q;

	if (!net->queue.live)
		return false;
	net->popped = NULL;
	net->stop = false;
	sim_event_run_until(&net->queue, limit_ps, &net->stop);
	assert_int_equal(net->queue.error, 0);
	q = net->popped;
	if (!q)
		return false;
	*out = q->e;
	free(q);
	return true;
}

void tn_trace_mix(struct tn_net *net, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		net->trace ^= b[i];
		net->trace *= 0x100000001B3ull;
	}
}

static void tn_trace_event(struct tn_net *net, const struct tn_event *ev)
{
	uint64_t w[4] = { ev->time_ns, ev->kind, (uint64_t)ev->host,
			  (uint64_t)(int64_t)ev->src };

	tn_trace_mix(net, w, sizeof(w));
	if (ev->kind == TN_EV_PKT) {
		tn_trace_mix(net, &ev->len, sizeof(ev->len));
		tn_trace_mix(net, ev->ptr,
			     ev->len < HOMA_WIRE_DATA_BYTES
				     ? ev->len
				     : HOMA_WIRE_DATA_BYTES);
	}
}

void tn_push_app_event(struct tn_net *net, struct tn_waiter *w)
{
	struct tn_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = TN_EV_APP;
	ev.time_ns = net->now_ns;
	ev.host = (int16_t)w->host;
	ev.gen = net->hosts[w->host].incarnation;
	ev.ptr = w;
	w->scheduled = true;
	tn_heap_push(net, &ev);
}

/* ---- running ---- */

void tn_at(struct tn_net *net, uint64_t at_ns, tn_call_fn fn, void *arg)
{
	struct tn_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = TN_EV_CALL;
	ev.time_ns = at_ns > net->now_ns ? at_ns : net->now_ns;
	ev.host = -1;
	ev.src = -1;
	ev.ptr = arg;
	ev.fn = fn;
	tn_heap_push(net, &ev);
}

void tn_kick(struct tn_net *net, struct tn_waiter *w)
{
	if (!w->scheduled && tn_host_get(net, w->host)->alive)
		tn_push_app_event(net, w);
}

static void run_pkt(struct tn_net *net, struct tn_event *ev)
{
	struct tn_host *h = &net->hosts[ev->host];
	uint8_t type = homa_wire_peek_type(ev->ptr, ev->len);

	if (!h->alive) {
		tn_drop(net, ev->src, ev->host, ev->ptr, ev->len, ev->prio,
			&net->ctr.vanished);
		return;
	}
	net->ctr.delivered++;
	if (tn_type_ok(type))
		net->ctr.delivered_by_type[type - HOMA_PKT_TYPE_MIN]++;
	tn_tap(net, TN_TAP_DELIVERED, ev->src, ev->host, ev->ptr, ev->len,
	       ev->prio, ev->sent_ns);
	homa_input(h->homa, &net->hosts[ev->src].addr, ev->ptr, ev->len,
		   net->now_ns);
	free(ev->ptr);
	tn_host_poll(net, h);
}

/* run_event() - execute ev; false if it was stale (nothing happened). */
static bool run_event(struct tn_net *net, struct tn_event *ev)
{
	struct tn_host *h = ev->host >= 0 ? &net->hosts[ev->host] : NULL;
	struct tn_waiter *w;
	int i;

	switch (ev->kind) {
	case TN_EV_PKT:
		tn_trace_event(net, ev);
		run_pkt(net, ev);
		break;
	case TN_EV_POLL:
		if (!h->alive || ev->gen != h->poll_gen)
			return false;
		tn_trace_event(net, ev);
		h->poll_at_ns = UINT64_MAX;
		tn_host_poll(net, h);
		break;
	case TN_EV_APP:
		/* Once the application detached, w may be gone. */
		if (!h->alive || ev->gen != h->incarnation || !net->app_ops)
			return false;
		tn_trace_event(net, ev);
		w = ev->ptr;
		w->scheduled = false;
		net->ctr.app_events++;
		if (net->app_ops->ready)
			net->app_ops->ready(net->app, net, w);
		tn_host_poll(net, h);
		break;
	case TN_EV_CALL:
		tn_trace_event(net, ev);
		ev->fn(ev->ptr, net);
		for (i = 0; i < net->cfg.num_hosts; i++)
			tn_host_poll(net, &net->hosts[i]);
		return true;
	default:
		fail_msg("bad event kind %d", ev->kind);
	}
	if (net->step && h && h->alive)
		net->step(net->step_arg, net, ev->host);
	return true;
}

/* exec() - set the clock to ev's time and run it. */
static void exec(struct tn_net *net, struct tn_event *ev)
{
	net->now_ns = ev->time_ns;
	if (run_event(net, ev))
		net->ctr.events++;
}

bool tn_step(struct tn_net *net)
{
	struct tn_event ev;

	if (!tn_heap_pop(net, UINT64_MAX, &ev))
		return false;
	exec(net, &ev);
	return true;
}

void tn_run_until(struct tn_net *net, uint64_t t_ns)
{
	struct tn_event ev;

	while (tn_heap_pop(net, t_ns, &ev))
		exec(net, &ev);
	if (net->now_ns < t_ns)
		net->now_ns = t_ns;
}

void tn_run_for(struct tn_net *net, uint64_t dt_ns)
{
	tn_run_until(net, net->now_ns + dt_ns);
}

bool tn_run_while(struct tn_net *net, bool (*busy)(void *arg), void *arg,
		  uint64_t deadline_ns)
{
	struct tn_event ev;

	for (;;) {
		if (!busy(arg))
			return true;
		if (!net->queue.live)
			return false;
		if (!tn_heap_pop(net, deadline_ns, &ev)) {
			if (net->now_ns < deadline_ns)
				net->now_ns = deadline_ns;
			return false;
		}
		exec(net, &ev);
	}
}

void tn_inject(struct tn_net *net, int dst, const struct homa_addr *src,
	       const uint8_t *pkt, size_t len)
{
	struct tn_host *h = tn_host_get(net, dst);
	uint64_t w[3] = { net->now_ns, (uint64_t)dst, len };

	net->ctr.injected++;
	tn_trace_mix(net, w, sizeof(w));
	if (!h->alive)
		return;
	homa_input(h->homa, src, pkt, len, net->now_ns);
	tn_host_poll(net, h);
}

/* ---- checks ---- */

const char *tn_host_clean(struct tn_net *net, int host)
{
	static char msg[200];
	struct tn_host *h = tn_host_get(net, host);
	struct homa_usage u;

	if (!h->alive)
		return NULL;
	homa_get_usage(h->homa, &u);
	if (u.rpcs || u.pool_pages_used || u.tx_bytes || u.grantable ||
	    u.throttled) {
		snprintf(msg, sizeof(msg),
			 "host %d not clean at %llu ns: rpcs %llu, pool pages "
			 "%llu, tx_bytes %llu, grantable %llu, throttled %llu",
			 host, (unsigned long long)net->now_ns,
			 (unsigned long long)u.rpcs,
			 (unsigned long long)u.pool_pages_used,
			 (unsigned long long)u.tx_bytes,
			 (unsigned long long)u.grantable,
			 (unsigned long long)u.throttled);
		return msg;
	}
	return NULL;
}

void tn_check_clean(struct tn_net *net, uint64_t idle_ns)
{
	const char *msg;
	int i;

	tn_run_for(net, idle_ns);
	for (i = 0; i < net->cfg.num_hosts; i++) {
		msg = tn_host_clean(net, i);
		if (msg)
			fail_msg("%s", msg);
	}
}

const char *tn_data_path(const char *src_file, const char *name, char *buf,
			 size_t cap)
{
	const char *dir = getenv("HOMA_TEST_DATA");
	const char *slash;
	size_t n;

	if (dir && *dir) {
		snprintf(buf, cap, "%s/%s", dir, name);
		return buf;
	}
	/* src_file is ROOT/tests/core/x.c: the workloads are the project's
	 * one copy in ROOT/data/workloads. Strip three components. */
	slash = strrchr(src_file, '/');
	n = slash ? (size_t)(slash - src_file) : 0;
	for (int k = 0; k < 2; k++) {
		while (n > 0 && src_file[n - 1] != '/')
			n--;
		if (k == 0 && n > 0)
			n--;
	}
	snprintf(buf, cap, "%.*sdata/workloads/%s", (int)n, src_file, name);
	return buf;
}
