/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sim_run.c - building and running one simulation (see sim_run.h).
 *
 * Phases: arrivals start at time 0; requests sent during the warm-up are
 * not measured; requests sent during the window are; after the window
 * arrivals continue (so the window's last messages see the same load)
 * until every window request has been delivered or tail_ps has passed;
 * then arrivals stop and the network drains until every RPC has a fate
 * and every core is idle (or drain_ps has passed). The checks run last.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cutoffs.h"
#include "sim_run.h"

/* Simulated time between progress checks and drain checks. */
#define SIM_CHUNK_PS	   (100 * SIM_PS_PER_US)
#define SIM_DRAIN_CHUNK_PS SIM_PS_PER_MS
/* Messages assumed when turning the workload into a size histogram. */
#define SIM_HIST_MESSAGES 1e9
#define SIM_REGION_MIN	  (64ull << 20)
#define SIM_REGION_MAX	  ((4ull << 30) - 65536)
/* Prefix of each server region kept resident (see sim_app.c). */
#define SIM_RESIDENT_BYTES (8ull << 20)

void sim_topo_published(struct sim_topo *t)
{
	memset(t, 0, sizeof(*t));
	t->racks = 9;
	t->hosts_per_rack = 16;
	t->spines = 4;
	t->host_bps = 10000000000ull;
	t->fabric_bps = 40000000000ull;
	t->prop_ps = 0;
	t->switch_ps = 250 * SIM_PS_PER_NS;
	t->host_tx_ps = 500 * SIM_PS_PER_NS;
	t->host_rx_ps = 500 * SIM_PS_PER_NS;
	t->buffer_bytes = 0;
	t->route = SIM_ROUTE_SPRAY;
	t->nic_fifo = false;
	t->mtu = 1500;
}

void sim_config_default(struct sim_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	sim_topo_published(&cfg->topo);
	snprintf(cfg->workload, sizeof(cfg->workload), "w4");
#ifdef SIM_WORKLOAD_DIR
	snprintf(cfg->workload_dir, sizeof(cfg->workload_dir), "%s",
		 SIM_WORKLOAD_DIR);
#else
	snprintf(cfg->workload_dir, sizeof(cfg->workload_dir), "sim/workloads");
#endif
	cfg->load = 0.5;
	cfg->resp_bytes = 100;
	cfg->seed = 1;
	cfg->warmup_ps = 2 * SIM_PS_PER_MS;
	cfg->window_ps = 10 * SIM_PS_PER_MS;
	cfg->tail_ps = SIM_TIME_NEVER;
	cfg->drain_ps = 1000 * SIM_PS_PER_MS;
	cfg->num_priorities = 8;
	cfg->unsched_bytes = -1;
	cfg->grant_window = -1;
	cfg->cutoffs = SIM_CUTOFFS_WORKLOAD;
	cfg->series_ps = SIM_PS_PER_MS;
}

/* ---- core configuration ---- */

/* The workload as the histogram of received sizes the core keeps. */
static void run_workload_hist(const struct sim_workload *wl,
			      struct homa_hist *hist)
{
	memset(hist, 0, sizeof(*hist));
	for (int i = 0; i < wl->n; i++) {
		double msgs = sim_workload_prob(wl, i) * SIM_HIST_MESSAGES;
		struct homa_hist one;

		memset(&one, 0, sizeof(one));
		homa_hist_record(&one, wl->size[i]);
		if (one.large_count) {
			hist->large_count += (uint64_t)(msgs + 0.5);
			hist->large_bytes +=
				(uint64_t)(msgs * wl->size[i] + 0.5);
			continue;
		}
		for (int b = 0; b < HOMA_HIST_BUCKETS; b++)
			if (one.bytes[b])
				hist->bytes[b] +=
					(uint64_t)(msgs * wl->size[i] + 0.5);
	}
}

/* Unscheduled cutoffs: the core's own algorithm (what homa_prio would
 * compute after observing the workload), or its scaled defaults. */
static void run_cutoffs(struct sim_run *run, struct homa_config *c)
{
	struct homa_cutoffs_auto st;
	struct homa_hist hist;
	int64_t cut[HOMA_MAX_PRIORITIES];

	if (run->cfg.cutoffs == SIM_CUTOFFS_DEFAULT) {
		c->unsched_cutoffs[4] = c->max_message_bytes;
		return;
	}
	memset(&st, 0, sizeof(st));
	run_workload_hist(&run->wl, &hist);
	if (homa_cutoffs_compute(&st, &hist, c->num_priorities,
				 c->unsched_bytes, 0, c->max_message_bytes,
				 cut))
		memcpy(c->unsched_cutoffs, cut, sizeof(cut));
	else
		c->unsched_cutoffs[4] = c->max_message_bytes;
}

/* Bytes the host link carries in one round trip on the longest path: a
 * full DATA packet there and a GRANT back (the paper's RTTbytes). */
static int64_t run_rtt_bytes(const struct sim_run *run)
{
	uint32_t full =
		sim_net_wire_bytes(run->cfg.topo.mtu - HOMA_WIRE_IPV4_BYTES);
	uint32_t grant = sim_net_wire_bytes(HOMA_WIRE_GRANT_BYTES);
	struct sim_path path;
	uint64_t rtt = 0;

	sim_net_path(run->net, &path);
	for (int k = 0; k < path.hops; k++)
		rtt += (uint64_t)(full + grant) * path.ps_per_byte[k] +
		       2 * path.delay_ps[k];
	return (int64_t)((rtt * run->cfg.topo.host_bps + 8000000000000ull - 1) /
			 8000000000000ull);
}

static int run_homa_config(struct sim_run *run, char *err)
{
	const struct sim_config *cfg = &run->cfg;
	struct homa_config *c = &run->homa_cfg;
	char herr[HOMA_ERR_BYTES] = "";
	int ret;

	homa_config_default(c);
	c->link_mbps = (int64_t)(cfg->topo.host_bps / 1000000);
	c->flags = cfg->no_pacer ? HOMA_FLAG_DONT_THROTTLE : 0;
	c->mtu = cfg->topo.mtu;
	c->max_message_bytes = run->wl.max_bytes > cfg->resp_bytes
				       ? run->wl.max_bytes
				       : cfg->resp_bytes;
	c->wmem_max = 1ll << 40;
	c->cutoff_period_ms = 0;
	c->num_priorities = cfg->num_priorities;
	if (cfg->unsched_bytes > 0)
		c->unsched_bytes = cfg->unsched_bytes;
	else if (cfg->unsched_bytes < 0)
		c->unsched_bytes = run_rtt_bytes(run);
	/* One RTTbytes of granted-unreceived data per message, as in the
	 * papers: the core's dynamic window (max_incoming / (active + 1),
	 * 44-400 kB) let scheduled packets queue for tens of ms at the
	 * receiver's ToR, where the 5 ms RESEND timer then fired for them
	 * (docs/simulation.md, "Grant window"). */
	if (cfg->grant_window > 0)
		c->window = cfg->grant_window;
	else if (cfg->grant_window < 0)
		c->window = run_rtt_bytes(run);
	/* Nudges (an extension of ours, off in the core by default because
	 * the library would have to wake every few us): an idle receiver
	 * repeats its GRANTs after two full packet times at the host link
	 * rate, rounded up (3 us at 10 Gbit/s). A simulated host reacts as
	 * fast as a kernel would; W5's highest sustained load goes from 80%
	 * to 85% (docs/simulation.md, "Nudges"). --homa nudge_usecs=0
	 * turns them off. */
	if (c->link_mbps > 0) /* else validation below refuses the rate */
		c->nudge_usecs =
			(2 * 8 * c->mtu + c->link_mbps - 1) / c->link_mbps;
	if (cfg->basic) {
		c->unsched_bytes = c->max_message_bytes;
		c->num_priorities = 1;
		c->nudge_usecs = 0;
	}
	run_cutoffs(run, c);
	for (int i = 0; i < cfg->num_params; i++) {
		const struct sim_param *p = &cfg->params[i];

		ret = homa_config_set(c, p->name, p->values, p->count, herr);
		if (ret) {
			snprintf(err, SIM_ERR_BYTES, "--homa %s: %s", p->name,
				 herr);
			return ret;
		}
	}
	ret = homa_config_validate(c, herr);
	if (ret)
		snprintf(err, SIM_ERR_BYTES, "core configuration: %s", herr);
	return ret;
}

/* ---- building ---- */

static bool run_deliver(void *ctx, const struct sim_pkt *pkt)
{
	struct sim_run *run = ctx;

	return sim_host_deliver(&run->hosts[pkt->dst], pkt);
}

static uint64_t run_region_bytes(const struct sim_run *run)
{
	uint64_t min = 65536 + 2 * (uint64_t)run->homa_cfg.max_message_bytes;
	uint64_t b = run->cfg.server_region_bytes;

	if (!b) {
		b = 65536 + 16 * (uint64_t)run->homa_cfg.max_message_bytes;
		if (b < SIM_REGION_MIN)
			b = SIM_REGION_MIN;
		if (b > SIM_REGION_MAX)
			b = SIM_REGION_MAX;
	}
	b = (b + 65535) & ~65535ull;
	return b < min ? (min + 65535) & ~65535ull : b;
}

static int run_build_app(struct sim_run *run)
{
	struct sim_app_config ac;
	struct sim_path path;
	int ret;

	sim_net_path(run->net, &path);
	ret = sim_stats_init(&run->stats, &run->wl, &path, run->cfg.topo.mtu,
			     (uint32_t)run->homa_cfg.unsched_bytes);
	if (ret)
		return ret;
	memset(&ac, 0, sizeof(ac));
	ac.wl = &run->wl;
	ac.load = run->cfg.load;
	ac.host_bps = run->cfg.topo.host_bps;
	ac.mtu = run->cfg.topo.mtu;
	ac.resp_bytes = run->cfg.resp_bytes;
	ac.max_rpcs = run->cfg.max_rpcs;
	ac.server_region_bytes = run_region_bytes(run);
	ac.client_region_bytes =
		(65536 + 2 * (uint64_t)run->homa_cfg.max_message_bytes +
		 65535) &
		~65535ull;
	ac.max_message_bytes = (uint32_t)run->homa_cfg.max_message_bytes;
	ac.seed = run->cfg.seed;
	ac.resident_region_bytes = SIM_RESIDENT_BYTES;
	return sim_app_create(&ac, &run->q, run->hosts, run->num_hosts,
			      &run->stats, &run->app);
}

int sim_run_create(const struct sim_config *cfg, struct sim_run **out,
		   char *err)
{
	char werr[SIM_WL_ERR_BYTES] = "";
	struct sim_run *run;
	int ret;

	run = calloc(1, sizeof(*run));
	if (!run)
		return -ENOMEM;
	run->cfg = *cfg;
	ret = sim_event_queue_init(&run->q);
	if (ret)
		goto fail;
	ret = sim_workload_load(&run->wl, cfg->workload, cfg->workload_dir,
				werr);
	if (ret) {
		snprintf(err, SIM_ERR_BYTES, "workload: %s", werr);
		goto fail;
	}
	ret = sim_net_create(&cfg->topo, &run->q, cfg->seed, run_deliver, run,
			     &run->net, err);
	if (ret)
		goto fail;
	ret = run_homa_config(run, err);
	if (ret)
		goto fail;
	sim_net_set_faults(run->net, &cfg->faults);
	run->num_hosts = sim_net_num_hosts(run->net);
	for (int i = 0; i < cfg->num_crashes; i++) {
		if (cfg->crashes[i].host < 0 ||
		    cfg->crashes[i].host >= run->num_hosts) {
			snprintf(err, SIM_ERR_BYTES,
				 "--crash: host %d is not in 0..%d",
				 cfg->crashes[i].host, run->num_hosts - 1);
			ret = -EINVAL;
			goto fail;
		}
	}
	run->hosts = calloc((size_t)run->num_hosts, sizeof(*run->hosts));
	ret = -ENOMEM;
	if (!run->hosts)
		goto fail;
	for (int i = 0; i < run->num_hosts; i++)
		sim_host_init(&run->hosts[i], i, &run->q, run->net,
			      &run->homa_cfg, cfg->seed);
	ret = run_build_app(run);
	if (ret) {
		snprintf(err, SIM_ERR_BYTES, "application: %s",
			 ret == -EINVAL ? "bad load or message sizes"
					: "out of memory");
		goto fail;
	}
	*out = run;
	return 0;
fail:
	sim_run_destroy(run);
	return ret;
}

void sim_run_destroy(struct sim_run *run)
{
	if (!run)
		return;
	for (int i = 0; run->hosts && i < run->num_hosts; i++)
		sim_host_stop(&run->hosts[i]);
	sim_app_destroy(run->app);
	sim_net_destroy(run->net);
	free(run->hosts);
	sim_stats_free(&run->stats);
	free(run->series);
	sim_workload_free(&run->wl);
	sim_event_queue_free(&run->q);
	free(run);
}

/* ---- checks ---- */

static void run_check(struct sim_run *run, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void run_note(struct sim_run *run, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void run_check(struct sim_run *run, const char *fmt, ...)
{
	va_list ap;

	if (run->num_checks >= SIM_MAX_CHECKS)
		return;
	va_start(ap, fmt);
	vsnprintf(run->checks[run->num_checks++], SIM_CHECK_BYTES, fmt, ap);
	va_end(ap);
}

static void run_note(struct sim_run *run, const char *fmt, ...)
{
	va_list ap;

	if (run->num_notes >= SIM_MAX_CHECKS)
		return;
	va_start(ap, fmt);
	vsnprintf(run->notes[run->num_notes++], SIM_CHECK_BYTES, fmt, ap);
	va_end(ap);
}

/* ---- hosts: start, crash, restart ---- */

static void run_add_metrics(struct sim_run *run, struct sim_host *h)
{
	const struct homa_metrics *m = homa_get_metrics(h->homa);

	for (int i = 0; i < HOMA_METRIC_COUNT; i++)
		run->metrics.v[i] += m->v[i];
	if (h->mem_peak_bytes > run->core_mem_peak)
		run->core_mem_peak = h->mem_peak_bytes;
}

static int run_host_up(struct sim_run *run, int i)
{
	char herr[HOMA_ERR_BYTES] = "";
	int ret = sim_host_start(&run->hosts[i], herr);

	if (ret) {
		run_check(run, "host %d: homa_create failed: %d %s", i, ret,
			  herr);
		return ret;
	}
	ret = sim_app_host_up(run->app, i);
	if (ret)
		run_check(run, "host %d: socket set-up failed: %d", i, ret);
	return ret;
}

static void run_host_down(struct sim_run *run, int i)
{
	struct sim_host *h = &run->hosts[i];

	if (!h->alive)
		return;
	run_add_metrics(run, h);
	run->polls += h->polls;
	h->polls = 0;
	sim_app_host_down(run->app, i);
	if (sim_host_stop(h))
		run_check(run,
			  "host %d: %llu bytes in %llu blocks still allocated "
			  "after homa_destroy",
			  i, (unsigned long long)h->mem_bytes,
			  (unsigned long long)h->mem_blocks);
	sim_net_flush_nic(run->net, i);
}

static void run_crash_event(struct sim_event *ev)
{
	struct sim_crash_event *ce = (struct sim_crash_event *)ev;

	if (ce->restart) {
		if (!ce->run->hosts[ce->host].alive)
			run_host_up(ce->run, ce->host);
	} else {
		run_host_down(ce->run, ce->host);
	}
}

static void run_schedule_crashes(struct sim_run *run)
{
	for (int i = 0; i < run->cfg.num_crashes; i++) {
		const struct sim_crash *c = &run->cfg.crashes[i];

		for (int k = 0; k < 2; k++) {
			struct sim_crash_event *ce = &run->crash_ev[2 * i + k];
			uint64_t t = k ? c->restart_ps : c->at_ps;

			sim_event_init(&ce->ev, run_crash_event);
			ce->run = run;
			ce->host = c->host;
			ce->restart = k;
			if (t != SIM_TIME_NEVER)
				sim_event_schedule(&run->q, &ce->ev, t);
		}
	}
}

static bool run_faults_pending(const struct sim_run *run)
{
	for (int i = 0; i < 2 * run->cfg.num_crashes; i++)
		if (sim_event_pending(&run->crash_ev[i].ev))
			return true;
	return false;
}

/* ---- phases ---- */

static double run_wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wall-clock state of the progress line. */
struct run_progress {
	double start; /* wall time the run began, s */
	double last;  /* wall time of the last line, s */
	bool on;      /* print (stderr is a terminal) */
	bool shown;   /* a line is on the screen */
};

static void run_progress(struct sim_run *run, struct run_progress *p,
			 const char *phase)
{
	double now;

	if (!p->on)
		return;
	now = run_wall_now();
	if (now - p->last < 0.5)
		return;
	p->last = now;
	p->shown = true;
	fprintf(stderr,
		"\r%-6s sim %9.3f ms  events %8.1f M  %5.2f M ev/s  rpcs %llu "
		"pending %llu   ",
		phase, (double)run->q.now_ps / SIM_PS_PER_MS,
		(double)run->q.executed / 1e6,
		(double)run->q.executed / 1e6 / (now - p->start + 1e-9),
		(unsigned long long)sim_app_counters(run->app)->requests,
		(unsigned long long)sim_app_pending(run->app));
}

/* Run to end_ps in chunks, or until done(run) holds between chunks. */
static void run_phase(struct sim_run *run, struct run_progress *p,
		      const char *phase, uint64_t end_ps, uint64_t chunk_ps,
		      bool (*done)(struct sim_run *run))
{
	while (run->q.now_ps < end_ps && !run->q.error &&
	       !sim_app_error(run->app)) {
		uint64_t t = run->q.now_ps + chunk_ps;

		if (done && done(run))
			return;
		sim_event_run_until(&run->q, t < end_ps ? t : end_ps, NULL);
		run_progress(run, p, phase);
	}
}

static void run_snapshot(struct sim_run *run, struct sim_snapshot *s)
{
	const struct sim_net_counters *c = sim_net_counters(run->net);

	s->time_ps = run->q.now_ps;
	memcpy(s->tx_wire_bytes, c->tx_wire_bytes, sizeof(s->tx_wire_bytes));
	memcpy(s->tx_data_wire_bytes, c->tx_data_wire_bytes,
	       sizeof(s->tx_data_wire_bytes));
	s->msg_bytes = sim_app_counters(run->app)->window_msg_bytes;
}

/* Periodic sample: link use over the last interval and the backlog. */
static void run_series_event(struct sim_event *ev)
{
	struct sim_run *run =
		(struct sim_run *)((char *)ev -
				   offsetof(struct sim_run, series_ev));
	const struct sim_net_counters *c = sim_net_counters(run->net);
	double cap = (double)run->cfg.series_ps / 1e12 * run->num_hosts *
		     (double)run->cfg.topo.host_bps / 8;
	struct sim_sample *x;

	if (run->num_series == run->cap_series) {
		size_t n = run->cap_series ? 2 * run->cap_series : 256;
		struct sim_sample *v = realloc(run->series, n * sizeof(*v));

		if (!v) {
			run->q.error = -ENOMEM;
			return;
		}
		run->series = v;
		run->cap_series = n;
	}
	x = &run->series[run->num_series++];
	memset(x, 0, sizeof(*x));
	x->time_ps = run->q.now_ps;
	x->down_util =
		(float)((c->tx_wire_bytes[SIM_PORT_TOR_DOWN] -
			 run->series_last.tx_wire_bytes[SIM_PORT_TOR_DOWN]) /
			cap);
	x->down_data =
		(float)((c->tx_data_wire_bytes[SIM_PORT_TOR_DOWN] -
			 run->series_last
				 .tx_data_wire_bytes[SIM_PORT_TOR_DOWN]) /
			cap);
	x->up_util = (float)((c->tx_wire_bytes[SIM_PORT_NIC] -
			      run->series_last.tx_wire_bytes[SIM_PORT_NIC]) /
			     cap);
	x->pending = sim_app_pending(run->app);
	for (int i = 0; i < run->num_hosts; i++) {
		struct homa_usage u;

		if (!run->hosts[i].alive)
			continue;
		homa_get_usage(run->hosts[i].homa, &u);
		x->backlog += u.tx_bytes;
	}
	run_snapshot(run, &run->series_last);
	sim_event_schedule(&run->q, ev, run->q.now_ps + run->cfg.series_ps);
}

static bool run_tail_done(struct sim_run *run)
{
	return sim_app_measured_pending(run->app) == 0;
}

/* Drain is over when every RPC has a fate and every live core is idle. */
static bool run_drain_done(struct sim_run *run)
{
	char buf[SIM_CHECK_BYTES];

	if (sim_app_pending(run->app) || run_faults_pending(run) ||
	    sim_net_counters(run->net)->in_flight)
		return false;
	for (int i = 0; i < run->num_hosts; i++)
		if (sim_host_usage_clean(&run->hosts[i], buf, sizeof(buf)))
			return false;
	return true;
}

static uint64_t run_add_sat(uint64_t a, uint64_t b)
{
	return a > SIM_TIME_NEVER - b ? SIM_TIME_NEVER : a + b;
}

static void run_phases(struct sim_run *run)
{
	struct run_progress p = { 0 };
	uint64_t win_end = run->cfg.warmup_ps + run->cfg.window_ps;

	p.on = run->cfg.progress && isatty(STDERR_FILENO);
	p.start = run_wall_now();
	if (run->cfg.series_ps) {
		sim_event_init(&run->series_ev, run_series_event);
		run_snapshot(run, &run->series_last);
		sim_event_schedule(&run->q, &run->series_ev,
				   run->cfg.series_ps);
	}
	sim_app_set_window(run->app, run->cfg.warmup_ps, win_end);
	sim_app_set_arrivals(run->app, true);
	run_phase(run, &p, "warmup", run->cfg.warmup_ps, SIM_CHUNK_PS, NULL);
	run_snapshot(run, &run->snap[0]);
	sim_diag_start(&run->diag, run, run->cfg.idle_diag_ps);
	run_phase(run, &p, "window", win_end, SIM_CHUNK_PS, NULL);
	run_snapshot(run, &run->snap[1]);
	run_phase(run, &p, "tail", run_add_sat(win_end, run->cfg.tail_ps),
		  SIM_CHUNK_PS, run_tail_done);
	sim_app_set_arrivals(run->app, false);
	run->drained_ps = run->q.now_ps;
	run_phase(run, &p, "drain",
		  run_add_sat(run->q.now_ps, run->cfg.drain_ps),
		  SIM_DRAIN_CHUNK_PS, run_drain_done);
	run->drained = run_drain_done(run);
	run->end_ps = run->q.now_ps;
	sim_event_cancel(&run->q, &run->series_ev);
	sim_diag_stop(&run->diag);
	if (p.shown)
		fprintf(stderr, "\r%100s\r", "");
}

/* ---- checks at the end ---- */

static void run_check_rpcs(struct sim_run *run)
{
	const struct sim_app_counters *a = sim_app_counters(run->app);

	if (sim_app_pending(run->app) && run->cfg.drain_ps)
		run_check(run, "%llu RPCs have no fate after the drain",
			  (unsigned long long)sim_app_pending(run->app));
	if (a->dup_deliveries)
		run_check(run,
			  "at-most-once: %llu requests delivered twice by the "
			  "same server incarnation",
			  (unsigned long long)a->dup_deliveries);
	if (a->redeliveries)
		run_note(run,
			 "%llu requests delivered again after their server "
			 "restarted (it lost its memory of them)",
			 (unsigned long long)a->redeliveries);
	if (a->bad_messages)
		run_check(run, "%llu messages with a wrong serial or length",
			  (unsigned long long)a->bad_messages);
	if (a->recv_errors || a->reply_errors || a->send_errors)
		run_note(run, "errors: recv %llu, reply %llu, send %llu",
			 (unsigned long long)a->recv_errors,
			 (unsigned long long)a->reply_errors,
			 (unsigned long long)a->send_errors);
}

static bool run_host_lost(const struct sim_run *run)
{
	for (int i = 0; i < run->num_hosts; i++)
		if (!run->hosts[i].alive)
			return true;
	return false;
}

static void run_check_leaks(struct sim_run *run)
{
	bool lost = run_host_lost(run);
	char buf[SIM_CHECK_BYTES];
	int dirty = 0;

	for (int i = 0; i < run->num_hosts; i++) {
		const char *why =
			sim_host_usage_clean(&run->hosts[i], buf, sizeof(buf));

		if (!why || !run->cfg.drain_ps)
			continue;
		if (dirty++ < 3) {
			if (lost)
				run_note(run,
					 "%s (a host stayed down: servers keep "
					 "RPCs its client never acks, spec "
					 "13.9)",
					 why);
			else
				run_check(run, "after the drain: %s", why);
		}
	}
	for (int i = 0; i < run->num_hosts; i++) {
		struct sim_host *h = &run->hosts[i];

		if (!h->alive)
			continue;
		run_add_metrics(run, h);
		run->polls += h->polls;
		if (sim_host_stop(h))
			run_check(run,
				  "host %d: %llu bytes in %llu blocks still "
				  "allocated after homa_destroy",
				  i, (unsigned long long)h->mem_bytes,
				  (unsigned long long)h->mem_blocks);
	}
}

static void run_check_conservation(struct sim_run *run)
{
	const struct sim_net_counters *c = sim_net_counters(run->net);
	uint64_t in = c->sent_pkts + c->dup_pkts;
	uint64_t out = c->deliver_pkts + c->lost_pkts + c->drop_pkts +
		       c->vanish_pkts + c->flush_pkts + c->unroutable;
	uint64_t in_b = c->sent_bytes + c->dup_bytes;
	uint64_t out_b = c->deliver_bytes + c->lost_bytes + c->drop_bytes +
			 c->vanish_bytes + c->flush_bytes;

	if (c->in_flight && run->cfg.drain_ps)
		run_check(run, "%llu packets still in the network at the end",
			  (unsigned long long)c->in_flight);
	if (in != out + c->in_flight)
		run_check(run,
			  "packet conservation: sent+dup %llu != delivered+"
			  "dropped %llu",
			  (unsigned long long)in, (unsigned long long)out);
	if (!c->unroutable && in_b != out_b + c->in_flight_bytes)
		run_check(run,
			  "byte conservation: sent+dup %llu != delivered+"
			  "dropped %llu",
			  (unsigned long long)in_b, (unsigned long long)out_b);
	if (c->unroutable)
		run_check(run, "%llu packets to unknown addresses",
			  (unsigned long long)c->unroutable);
}

static double run_cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int sim_run_execute(struct sim_run *run)
{
	double t0 = run_wall_now(), c0 = run_cpu_now();
	int ret = 0;

	for (int i = 0; i < run->num_hosts && !ret; i++)
		ret = run_host_up(run, i);
	if (ret)
		return ret;
	run_schedule_crashes(run);
	run_phases(run);
	if (run->q.error || sim_app_error(run->app) || run->stats.oom) {
		run_check(run, "simulation ran out of memory");
		ret = -ENOMEM;
	}
	if (!run->cfg.drain_ps)
		run_note(run,
			 "no drain (--drain-ms 0): the checks of RPC fates, "
			 "core usage and packets in flight were skipped");
	else if (!run->drained)
		run_note(run, "the drain did not settle within %.1f ms",
			 (double)run->cfg.drain_ps / SIM_PS_PER_MS);
	run_check_rpcs(run);
	run_check_leaks(run);
	run_check_conservation(run);
	sim_stats_finish(&run->stats);
	run->wall_s = run_wall_now() - t0;
	run->cpu_s = run_cpu_now() - c0;
	return ret;
}
