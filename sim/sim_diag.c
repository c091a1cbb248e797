/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sim_diag.c - the idle-link diagnostic (see sim_diag.h). It reads the
 * cores through their read-only views (homa_core.h): the grant
 * scheduler's active set, the pacer's list, the messages being sent.
 */
#include <string.h>

#include "homa_core.h"
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

/* diag_throttled's search: a message on a pacer's list. */
struct diag_find {
	struct sim_run *run; /* the run */
	uint64_t id;	     /* the sender's RPC id */
	int dst;	     /* receiving host */
	bool found;	     /* out: it is there */
};

static bool diag_find_one(void *arg, const struct homa_out_view *v)
{
	struct diag_find *f = arg;

	if (v->id == f->id && sim_net_host_of(f->run->net, &v->peer) == f->dst)
		f->found = true;
	return !f->found;
}

/* Whether the sending RPC with id at host s's core for receiver dst is on
 * the pacer's list (it has granted bytes it has not sent). */
static bool diag_throttled(struct sim_run *run, int s, uint64_t id, int dst)
{
	struct diag_find f = { run, id, dst, false };

	homa_view_pacer(run->hosts[s].homa, diag_find_one, &f);
	return f.found;
}

/* diag_down_reason's walk over host i's active set. */
struct diag_down {
	struct sim_diag *d; /* the diagnostic */
	int i;		    /* receiving host */
	bool flight;	    /* granted bytes in flight to it */
	bool held;	    /* granted bytes held at a busy sender */
	bool held_idle;	    /* granted bytes held at an idle sender */
};

static bool diag_down_msg(void *arg, const struct homa_in_view *m)
{
	struct diag_down *w = arg;
	struct sim_diag *d = w->d;
	struct sim_run *run = d->run;
	bool up, down;
	int s, dst;

	if (m->granted <= m->received)
		return true;
	s = sim_net_host_of(run->net, &m->peer);
	if (s < 0 || !run->hosts[s].homa)
		return true;
	if (!diag_throttled(run, s, m->id ^ 1, w->i)) {
		w->flight = true;
		return true;
	}
	w->held = true;
	sim_net_host_ports(run->net, s, &up, &down);
	if (!up) {
		w->held_idle = true;
		return true;
	}
	d->holders++;
	dst = sim_net_nic_last_dst(run->net, s);
	if (sim_net_down_queued(run->net, dst) >= SIM_DIAG_QUEUED_BYTES)
		d->holders_queued++;
	return true;
}

/* Why host i's idle downlink is idle although its core manages messages
 * (managed of them). */
static int diag_down_reason(struct sim_diag *d, int i, uint64_t managed)
{
	struct diag_down w = { d, i, false, false, false };

	d->idle_managed += managed;
	homa_view_granting(d->run->hosts[i].homa, diag_down_msg, &w);
	if (w.flight)
		return SIM_DIAG_DOWN_IN_FLIGHT;
	if (w.held_idle)
		return SIM_DIAG_DOWN_HELD_IDLE;
	if (w.held)
		return SIM_DIAG_DOWN_HELD_BUSY;
	return SIM_DIAG_DOWN_NO_GRANT;
}

/* Where client message r of host s stands at its receiver. */
static int diag_up_msg(struct sim_diag *d, int s, const struct homa_out_view *r)
{
	struct sim_run *run = d->run;
	int dst = sim_net_host_of(run->net, &r->peer);
	struct homa_in_view m;
	struct homa_addr a;
	bool up, down;

	if (dst < 0 || !run->hosts[dst].homa || (r->id & 1))
		return SIM_DIAG_UP_OTHER;
	sim_net_addr(s, &a);
	if (homa_view_request(run->hosts[dst].homa, r->peer_port, &a, r->port,
			      r->id | 1, &m) < 0 ||
	    !m.managed || !m.active)
		return SIM_DIAG_UP_OTHER;
	if (m.granted > r->granted)
		return SIM_DIAG_UP_GRANT_WAY;
	sim_net_host_ports(run->net, dst, &up, &down);
	if (m.granted > m.received && down)
		return SIM_DIAG_UP_AT_BUSY;
	return SIM_DIAG_UP_OTHER;
}

/* diag_up_reason's walk over host s's outgoing messages. */
struct diag_up {
	struct sim_diag *d; /* the diagnostic */
	int s;		    /* sending host */
	int best;	    /* best reason so far */
};

static bool diag_up_one(void *arg, const struct homa_out_view *r)
{
	struct diag_up *w = arg;
	int why;

	if (r->sent >= r->length)
		return true;
	why = diag_up_msg(w->d, w->s, r);
	if (why < w->best)
		w->best = why;
	return true;
}

/* Why host s's idle uplink is idle: the best reason over its messages
 * (a GRANT on its way, then bytes at a busy receiver, then other);
 * throttled is the length of its pacer's list. */
static int diag_up_reason(struct sim_diag *d, int s, uint64_t throttled)
{
	struct diag_up w = { d, s, SIM_DIAG_UP_NOTHING };

	if (throttled)
		return SIM_DIAG_UP_SENDABLE;
	homa_view_sending(d->run->hosts[s].homa, diag_up_one, &w);
	return w.best;
}

/* diag_unannounced's walk over one pacer's list. */
struct diag_unann {
	struct sim_run *run; /* the run */
	uint32_t *unann;     /* per receiving host */
};

static bool diag_unann_one(void *arg, const struct homa_out_view *r)
{
	struct diag_unann *w = arg;
	int dst = sim_net_host_of(w->run->net, &r->peer);

	if (dst >= 0 && r->sent < r->unscheduled)
		w->unann[dst]++;
	return true;
}

/* Hosts with a message for them whose unscheduled bytes wait at its
 * sender: unann[host] counts them. */
static void diag_unannounced(struct sim_run *run, uint32_t *unann)
{
	struct diag_unann w = { run, unann };

	memset(unann, 0, sizeof(*unann) * (size_t)run->num_hosts);
	for (int i = 0; i < run->num_hosts; i++) {
		if (run->hosts[i].homa)
			homa_view_pacer(run->hosts[i].homa, diag_unann_one, &w);
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
		struct homa_usage u;
		bool up, down;
		int why;

		if (!h)
			continue;
		homa_get_usage(h, &u);
		sim_net_host_ports(run->net, i, &up, &down);
		d->samples++;
		if (down)
			why = SIM_DIAG_DOWN_BUSY;
		else if (u.grantable == 0)
			why = SIM_DIAG_DOWN_NO_DEMAND;
		else
			why = diag_down_reason(d, i, u.grantable);
		d->down[why]++;
		if (!down && unann[i])
			d->idle_unannounced++;
		d->up[up ? SIM_DIAG_UP_BUSY
			 : diag_up_reason(d, i, u.throttled)]++;
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
