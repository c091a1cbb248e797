/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sim_diag.c - the idle-link diagnostic (see sim_diag.h). It reads the
 * cores' internal structures (homa_impl.h) without calling into them:
 * the grant scheduler's active set, the pacer's list, the RPCs.
 */
#include <string.h>

#include "homa_impl.h"
#include "rpc.h"
#include "sock.h"
#include "sim_diag.h"
#include "sim_run.h"

/* A held sender counts as piling onto a queue from this many bytes. */
#define SIM_DIAG_QUEUED_BYTES 10000

static const char *down_names[SIM_DIAG_DOWN_KINDS] = {
	"busy", "no_demand", "in_flight", "held_busy", "held_idle", "no_grant",
};
static const char *up_names[SIM_DIAG_UP_KINDS] = {
	"busy",	 "sendable", "grant_on_way", "at_busy_receiver",
	"other", "nothing",
};

/* The sending RPC with id at host s's core for receiver dst, if it is on
 * the pacer's list (it has granted bytes it has not sent). */
static struct homa_rpc *diag_throttled(struct sim_run *run, int s, uint64_t id,
				       int dst)
{
	struct homa *h = run->hosts[s].homa;
	struct homa_list *pos;

	homa_list_for_each(pos, &h->throttled)
	{
		struct homa_rpc *r = homa_container_of(pos, struct homa_rpc,
						       out.throttled_link);

		if (r->id == id &&
		    sim_net_host_of(run->net, &r->peer->addr) == dst)
			return r;
	}
	return NULL;
}

/* Why host i's idle downlink is idle although its core manages messages. */
static int diag_down_reason(struct sim_diag *d, int i)
{
	struct sim_run *run = d->run;
	struct homa_grant *g = &run->hosts[i].homa->grant;
	bool flight = false, held = false, held_idle = false;
	int k;

	d->idle_managed += (uint64_t)g->num_managed;
	for (k = 0; k < HOMA_GRANT_MAX_ACTIVE; k++) {
		struct homa_grant_msg *m = g->active[k];
		struct homa_rpc *rpc;
		bool up, down;
		int s, dst;

		if (!m || m->granted <= m->received)
			continue;
		rpc = homa_container_of(m, struct homa_rpc, in.grant);
		s = sim_net_host_of(run->net, &rpc->peer->addr);
		if (s < 0 || !run->hosts[s].homa)
			continue;
		if (!diag_throttled(run, s, rpc->id ^ 1, i)) {
			flight = true;
			continue;
		}
		held = true;
		sim_net_host_ports(run->net, s, &up, &down);
		if (!up) {
			held_idle = true;
			continue;
		}
		d->holders++;
		dst = sim_net_nic_last_dst(run->net, s);
		if (sim_net_down_queued(run->net, dst) >= SIM_DIAG_QUEUED_BYTES)
			d->holders_queued++;
	}
	if (flight)
		return SIM_DIAG_DOWN_IN_FLIGHT;
	if (held_idle)
		return SIM_DIAG_DOWN_HELD_IDLE;
	if (held)
		return SIM_DIAG_DOWN_HELD_BUSY;
	return SIM_DIAG_DOWN_NO_GRANT;
}

/* Where client RPC r of host s stands at its receiver. */
static int diag_up_msg(struct sim_diag *d, int s, struct homa_rpc *r)
{
	struct sim_run *run = d->run;
	int dst = sim_net_host_of(run->net, &r->peer->addr);
	struct homa_grant_msg *m;
	struct homa_sock *hsk;
	struct homa_rpc *rr;
	struct homa_addr a;
	bool up, down;

	if (dst < 0 || !run->hosts[dst].homa || (r->id & 1))
		return SIM_DIAG_UP_OTHER;
	hsk = homa_sock_find(run->hosts[dst].homa, r->dport);
	if (!hsk)
		return SIM_DIAG_UP_OTHER;
	sim_net_addr(s, &a);
	rr = homa_rpc_find_server(run->hosts[dst].homa, hsk, &a, r->hsk->port,
				  r->id | 1);
	if (!rr || !rr->in.grant.managed || rr->in.grant.active_ix < 0)
		return SIM_DIAG_UP_OTHER;
	m = &rr->in.grant;
	if (m->granted > r->out.granted)
		return SIM_DIAG_UP_GRANT_WAY;
	sim_net_host_ports(run->net, dst, &up, &down);
	if (m->granted > m->received && down)
		return SIM_DIAG_UP_AT_BUSY;
	return SIM_DIAG_UP_OTHER;
}

/* Why host s's idle uplink is idle: the best reason over its messages
 * (a GRANT on its way, then bytes at a busy receiver, then other). */
static int diag_up_reason(struct sim_diag *d, int s)
{
	struct homa *h = d->run->hosts[s].homa;
	int best = SIM_DIAG_UP_NOTHING;
	struct homa_list *sp, *rp;

	if (h->num_throttled)
		return SIM_DIAG_UP_SENDABLE;
	homa_list_for_each(sp, &h->socks)
	{
		struct homa_sock *hsk =
			homa_container_of(sp, struct homa_sock, link);

		homa_list_for_each(rp, &hsk->rpcs)
		{
			struct homa_rpc *r = homa_container_of(
				rp, struct homa_rpc, sock_link);
			int why;

			if (r->state != HOMA_RPC_OUTGOING || !r->out.buf ||
			    r->out.next_xmit >= (uint32_t)r->out.length)
				continue;
			why = diag_up_msg(d, s, r);
			if (why < best)
				best = why;
		}
	}
	return best;
}

/* Hosts with a message for them whose unscheduled bytes wait at its
 * sender: unann[host] counts them. */
static void diag_unannounced(struct sim_run *run, uint32_t *unann)
{
	memset(unann, 0, sizeof(*unann) * (size_t)run->num_hosts);
	for (int i = 0; i < run->num_hosts; i++) {
		struct homa *h = run->hosts[i].homa;
		struct homa_list *pos;

		if (!h)
			continue;
		homa_list_for_each(pos, &h->throttled)
		{
			struct homa_rpc *r = homa_container_of(
				pos, struct homa_rpc, out.throttled_link);
			int dst = sim_net_host_of(run->net, &r->peer->addr);

			if (dst >= 0 && r->out.next_xmit < r->out.unscheduled)
				unann[dst]++;
		}
	}
}

static void diag_sample(struct sim_event *ev)
{
	struct sim_diag *d = (struct sim_diag *)ev;
	struct sim_run *run = d->run;
	uint32_t unann[run->num_hosts];
	uint64_t now = run->q.now_ps;

	diag_unannounced(run, unann);
	for (int i = 0; i < run->num_hosts; i++) {
		struct homa *h = run->hosts[i].homa;
		bool up, down;
		int why;

		if (!h)
			continue;
		sim_net_host_ports(run->net, i, &up, &down);
		d->samples++;
		if (down)
			why = SIM_DIAG_DOWN_BUSY;
		else if (h->grant.num_managed == 0)
			why = SIM_DIAG_DOWN_NO_DEMAND;
		else
			why = diag_down_reason(d, i);
		d->down[why]++;
		if (!down && unann[i])
			d->idle_unannounced++;
		d->up[up ? SIM_DIAG_UP_BUSY : diag_up_reason(d, i)]++;
	}
	if (now + d->period_ps <= run->cfg.warmup_ps + run->cfg.window_ps)
		sim_event_schedule(&run->q, ev, now + d->period_ps);
}

void sim_diag_start(struct sim_diag *d, struct sim_run *run, uint64_t period_ps)
{
	memset(d, 0, sizeof(*d));
	sim_event_init(&d->ev, diag_sample);
	d->run = run;
	d->period_ps = period_ps;
	if (period_ps)
		sim_event_schedule(&run->q, &d->ev, run->q.now_ps + period_ps);
}

void sim_diag_stop(struct sim_diag *d)
{
	if (d->run)
		sim_event_cancel(&d->run->q, &d->ev);
}

/* share() - n as a fraction of all samples. */
static double share(const struct sim_diag *d, uint64_t n)
{
	return d->samples ? (double)n / (double)d->samples : 0.0;
}

void sim_diag_text(const struct sim_diag *d, FILE *f)
{
	uint64_t idle_demand = d->samples - d->down[SIM_DIAG_DOWN_BUSY] -
			       d->down[SIM_DIAG_DOWN_NO_DEMAND];
	uint64_t idle = d->samples - d->down[SIM_DIAG_DOWN_BUSY];

	if (!d->period_ps || !d->samples)
		return;
	fprintf(f, "idle diag (%llu host samples): downlinks",
		(unsigned long long)d->samples);
	for (int i = 0; i < SIM_DIAG_DOWN_KINDS; i++)
		fprintf(f, " %s %.4f", down_names[i], share(d, d->down[i]));
	fprintf(f, "; uplinks");
	for (int i = 0; i < SIM_DIAG_UP_KINDS; i++)
		fprintf(f, " %s %.4f", up_names[i], share(d, d->up[i]));
	fprintf(f,
		"; idle with demand: %.2f managed messages; idle with an "
		"unannounced message: %.4f of idle; busy holders sending to "
		"a downlink with >= %d B queued: %.3f\n",
		idle_demand ? (double)d->idle_managed / (double)idle_demand
			    : 0.0,
		idle ? (double)d->idle_unannounced / (double)idle : 0.0,
		SIM_DIAG_QUEUED_BYTES,
		d->holders ? (double)d->holders_queued / (double)d->holders
			   : 0.0);
}

void sim_diag_json(const struct sim_diag *d, FILE *f)
{
	if (!d->period_ps)
		return;
	fprintf(f, "  \"idle_diag\": {\"period_us\": %.3f, \"samples\": %llu",
		(double)d->period_ps / SIM_PS_PER_US,
		(unsigned long long)d->samples);
	for (int i = 0; i < SIM_DIAG_DOWN_KINDS; i++)
		fprintf(f, ", \"down_%s\": %llu", down_names[i],
			(unsigned long long)d->down[i]);
	for (int i = 0; i < SIM_DIAG_UP_KINDS; i++)
		fprintf(f, ", \"up_%s\": %llu", up_names[i],
			(unsigned long long)d->up[i]);
	fprintf(f,
		", \"idle_managed_sum\": %llu, \"idle_unannounced\": %llu, "
		"\"holders\": %llu, \"holders_queued\": %llu},\n",
		(unsigned long long)d->idle_managed,
		(unsigned long long)d->idle_unannounced,
		(unsigned long long)d->holders,
		(unsigned long long)d->holders_queued);
}
