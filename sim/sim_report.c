/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sim_report.c - the results of a run as text (stdout), CSV (one row per
 * size bucket) and JSON (everything). Nothing here depends on the wall
 * clock, so the same seed gives byte-identical reports.
 */
#include <stdio.h>
#include <string.h>

#include "sim_run.h"

static const char *const fate_names[SIM_RPC_FATES] = { "pending",   "completed",
						       "timed_out", "error",
						       "crashed",   "unsent" };
static const char *const kind_names[SIM_PORT_KINDS] = { "nic", "tor_down",
							"tor_up",
							"spine_down" };

static double ms(uint64_t ps)
{
	return (double)ps / SIM_PS_PER_MS;
}

/* Utilization of the links of one kind over the window (0..1). */
static double report_util(const struct sim_run *run, int kind)
{
	const struct sim_topo *t = &run->cfg.topo;
	double secs =
		(double)(run->snap[1].time_ps - run->snap[0].time_ps) / 1e12;
	double bits = 8.0 * (double)(run->snap[1].tx_wire_bytes[kind] -
				     run->snap[0].tx_wire_bytes[kind]);
	double links, bps;

	if (kind == SIM_PORT_NIC || kind == SIM_PORT_TOR_DOWN) {
		links = run->num_hosts;
		bps = (double)t->host_bps;
	} else {
		links = (double)t->racks * t->spines;
		bps = (double)t->fabric_bps;
	}
	return secs > 0 && links > 0 ? bits / (secs * links * bps) : 0;
}

static double report_goodput(const struct sim_run *run)
{
	double secs =
		(double)(run->snap[1].time_ps - run->snap[0].time_ps) / 1e12;
	double bits =
		8.0 * (double)(run->snap[1].msg_bytes - run->snap[0].msg_bytes);

	return secs > 0 ? bits / (secs * run->num_hosts *
				  (double)run->cfg.topo.host_bps)
			: 0;
}

static uint64_t report_unfinished(const struct sim_run *run)
{
	const struct sim_app_counters *a = sim_app_counters(run->app);

	return a->measured - a->measured_done - a->measured_lost;
}

static const char *report_route(const struct sim_run *run)
{
	return run->cfg.topo.route == SIM_ROUTE_HASH ? "hash" : "spray";
}

static void text_config(struct sim_run *run, FILE *f)
{
	const struct sim_topo *t = &run->cfg.topo;
	const struct homa_config *h = &run->homa_cfg;

	fprintf(f,
		"homa-sim: workload %s (mean %.1f B, max %u B), load %.2f, "
		"seed %llu\n",
		run->wl.name, run->wl.mean_bytes, run->wl.max_bytes,
		run->cfg.load, (unsigned long long)run->cfg.seed);
	fprintf(f,
		"network: %d hosts = %d racks x %d, %d spines, %.0f/%.0f "
		"Gbit/s, switch %.3f us, host %.3f/%.3f us, prop %.3f us, "
		"buffers %s, %s, NIC %s\n",
		run->num_hosts, t->racks, t->hosts_per_rack, t->spines,
		(double)t->host_bps / 1e9, (double)t->fabric_bps / 1e9,
		(double)t->switch_ps / 1e6, (double)t->host_tx_ps / 1e6,
		(double)t->host_rx_ps / 1e6, (double)t->prop_ps / 1e6,
		t->buffer_bytes ? "limited" : "unlimited", report_route(run),
		t->nic_fifo ? "fifo" : "8 priorities");
	fprintf(f,
		"core: priorities %lld, unsched_bytes %lld, window %lld, "
		"nudge_usecs %lld, pacer %s, cutoffs",
		(long long)h->num_priorities, (long long)h->unsched_bytes,
		(long long)h->window, (long long)h->nudge_usecs,
		h->flags & HOMA_FLAG_DONT_THROTTLE ? "off" : "on");
	for (int i = HOMA_MAX_PRIORITIES - 1; i >= 0; i--)
		fprintf(f, " %lld", (long long)h->unsched_cutoffs[i]);
	fprintf(f,
		"\ntime: warm-up %.3f ms, window %.3f ms, arrivals "
		"stopped %.3f ms, end %.3f ms\n",
		ms(run->cfg.warmup_ps), ms(run->cfg.window_ps),
		ms(run->drained_ps), ms(run->end_ps));
}

static void text_buckets(struct sim_run *run, FILE *f)
{
	fprintf(f, "request delivery slowdown by size (deciles of the "
		   "workload):\n");
	fprintf(f, "%10s %10s %9s %8s %8s %8s %8s %10s\n", "size_lo", "size_hi",
		"count", "p50", "p99", "p99.9", "mean", "best_us");
	for (int i = 0; i < run->stats.num_buckets; i++) {
		const struct sim_stats_bucket *b = &run->stats.b[i];

		fprintf(f, "%10u %10u %9zu %8.3f %8.3f %8.3f %8.3f %10.3f\n",
			b->lo_bytes, b->hi_bytes, b->count,
			sim_stats_percentile(b, 0.5),
			sim_stats_percentile(b, 0.99),
			sim_stats_percentile(b, 0.999),
			b->count ? b->sum / (double)b->count : 0,
			(double)sim_stats_best_ps(&run->stats, b->hi_bytes) /
				1e6);
	}
}

void sim_report_text(struct sim_run *run, FILE *f)
{
	const struct sim_net_counters *c = sim_net_counters(run->net);
	const struct sim_app_counters *a = sim_app_counters(run->app);

	text_config(run, f);
	text_buckets(run, f);
	fprintf(f,
		"utilization in window: host downlinks %.4f, host uplinks "
		"%.4f, fabric up %.4f, down %.4f; goodput %.4f\n",
		report_util(run, SIM_PORT_TOR_DOWN),
		report_util(run, SIM_PORT_NIC),
		report_util(run, SIM_PORT_TOR_UP),
		report_util(run, SIM_PORT_SPINE_DOWN), report_goodput(run));
	fprintf(f,
		"packets: sent %llu, delivered %llu, buffer drops %llu, "
		"lost %llu, duplicated %llu, reordered %llu, vanished %llu, "
		"flushed %llu\n",
		(unsigned long long)c->sent_pkts,
		(unsigned long long)c->deliver_pkts,
		(unsigned long long)c->drop_pkts,
		(unsigned long long)c->lost_pkts,
		(unsigned long long)c->dup_pkts,
		(unsigned long long)c->reordered,
		(unsigned long long)c->vanish_pkts,
		(unsigned long long)c->flush_pkts);
	fprintf(f, "rpcs: %llu sent", (unsigned long long)a->requests);
	for (int i = 1; i < SIM_RPC_FATES; i++)
		fprintf(f, ", %s %llu", fate_names[i],
			(unsigned long long)a->fates[i]);
	fprintf(f, ", pending %llu\n",
		(unsigned long long)sim_app_pending(run->app));
	fprintf(f,
		"measured: %llu requests, %llu delivered, %llu ended "
		"undelivered, %llu unfinished; at-most-once: %llu "
		"deliveries, %llu duplicates, %llu after restart\n",
		(unsigned long long)a->measured,
		(unsigned long long)a->measured_done,
		(unsigned long long)a->measured_lost,
		(unsigned long long)report_unfinished(run),
		(unsigned long long)a->deliveries,
		(unsigned long long)a->dup_deliveries,
		(unsigned long long)a->redeliveries);
	fprintf(f,
		"core: timeouts %llu, resends %llu, retransmitted %llu, "
		"restarts %llu, pool stalls %llu, grants %llu\n",
		(unsigned long long)run->metrics.v[HOMA_M_rpc_timeouts],
		(unsigned long long)run->metrics.v[HOMA_M_resend_requests],
		(unsigned long long)run->metrics.v[HOMA_M_resent_packets],
		(unsigned long long)run->metrics.v[HOMA_M_client_restarts],
		(unsigned long long)run->metrics.v[HOMA_M_pool_stalls],
		(unsigned long long)run->metrics.v[HOMA_M_grants_sent]);
	sim_diag_text(&run->diag, f);
	fprintf(f, "events %llu\n", (unsigned long long)run->q.executed);
	for (int i = 0; i < run->num_notes; i++)
		fprintf(f, "note: %s\n", run->notes[i]);
	for (int i = 0; i < run->num_checks; i++)
		fprintf(f, "CHECK FAILED: %s\n", run->checks[i]);
	fprintf(f, "checks: %s\n", run->num_checks ? "FAILED" : "ok");
}

int sim_report_csv(struct sim_run *run, FILE *f)
{
	const struct homa_config *h = &run->homa_cfg;

	fprintf(f, "workload,load,priorities,unsched_bytes,seed,bucket,"
		   "size_lo,size_hi,count,p50,p99,p999,mean,best_us\n");
	for (int i = 0; i < run->stats.num_buckets; i++) {
		const struct sim_stats_bucket *b = &run->stats.b[i];

		fprintf(f,
			"%s,%.4f,%lld,%lld,%llu,%d,%u,%u,%zu,%.4f,%.4f,%.4f,"
			"%.4f,%.4f\n",
			run->wl.name, run->cfg.load,
			(long long)h->num_priorities,
			(long long)h->unsched_bytes,
			(unsigned long long)run->cfg.seed, i, b->lo_bytes,
			b->hi_bytes, b->count, sim_stats_percentile(b, 0.5),
			sim_stats_percentile(b, 0.99),
			sim_stats_percentile(b, 0.999),
			b->count ? b->sum / (double)b->count : 0,
			(double)sim_stats_best_ps(&run->stats, b->hi_bytes) /
				1e6);
	}
	return ferror(f) ? -1 : 0;
}

/* A JSON string (names and messages here need only quote escaping). */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s >= ' ' ? *s : ' ', f);
	}
	fputc('"', f);
}

static void json_config(struct sim_run *run, FILE *f)
{
	const struct sim_topo *t = &run->cfg.topo;
	const struct sim_faults *x = &run->cfg.faults;
	const struct homa_config *h = &run->homa_cfg;

	fprintf(f, "  \"config\": {\"workload\": ");
	json_str(f, run->wl.name);
	fprintf(f,
		", \"load\": %.4f, \"seed\": %llu, \"resp_bytes\": %u,\n"
		"    \"hosts\": %d, \"racks\": %d, \"hosts_per_rack\": %d, "
		"\"spines\": %d, \"host_gbps\": %.3f, \"fabric_gbps\": %.3f,\n"
		"    \"switch_us\": %.4f, \"host_tx_us\": %.4f, "
		"\"host_rx_us\": "
		"%.4f, \"prop_us\": %.4f, \"buffer_bytes\": %llu, \"route\": "
		"\"%s\", \"nic_fifo\": %s, \"mtu\": %u,\n",
		run->cfg.load, (unsigned long long)run->cfg.seed,
		run->cfg.resp_bytes, run->num_hosts, t->racks,
		t->hosts_per_rack, t->spines, (double)t->host_bps / 1e9,
		(double)t->fabric_bps / 1e9, (double)t->switch_ps / 1e6,
		(double)t->host_tx_ps / 1e6, (double)t->host_rx_ps / 1e6,
		(double)t->prop_ps / 1e6, (unsigned long long)t->buffer_bytes,
		report_route(run), t->nic_fifo ? "true" : "false", t->mtu);
	fprintf(f,
		"    \"loss\": %.9f, \"dup\": %.9f, \"reorder\": %.9f, "
		"\"reorder_window_us\": %.4f,\n"
		"    \"priorities\": %lld, \"unsched_bytes\": %lld, "
		"\"grant_window\": %lld, \"nudge_usecs\": %lld, \"pacer\": "
		"%s, \"max_message_bytes\": %lld, \"unsched_cutoffs\": [",
		(double)x->loss_ppb / 1e9, (double)x->dup_ppb / 1e9,
		(double)x->reorder_ppb / 1e9,
		(double)x->reorder_window_ps / 1e6,
		(long long)h->num_priorities, (long long)h->unsched_bytes,
		(long long)h->window, (long long)h->nudge_usecs,
		h->flags & HOMA_FLAG_DONT_THROTTLE ? "false" : "true",
		(long long)h->max_message_bytes);
	for (int i = 0; i < HOMA_MAX_PRIORITIES; i++)
		fprintf(f, "%s%lld", i ? ", " : "",
			(long long)h->unsched_cutoffs[i]);
	fprintf(f,
		"],\n    \"warmup_ms\": %.4f, \"window_ms\": %.4f, "
		"\"arrivals_stopped_ms\": %.4f, \"end_ms\": %.4f},\n",
		ms(run->cfg.warmup_ps), ms(run->cfg.window_ps),
		ms(run->drained_ps), ms(run->end_ps));
}

static void json_buckets(struct sim_run *run, FILE *f)
{
	fprintf(f, "  \"buckets\": [\n");
	for (int i = 0; i < run->stats.num_buckets; i++) {
		const struct sim_stats_bucket *b = &run->stats.b[i];

		fprintf(f,
			"    {\"size_lo\": %u, \"size_hi\": %u, \"count\": "
			"%zu, "
			"\"p50\": %.4f, \"p99\": %.4f, \"p999\": %.4f, "
			"\"mean\": %.4f, \"min\": %.6f, \"best_us\": %.4f}%s\n",
			b->lo_bytes, b->hi_bytes, b->count,
			sim_stats_percentile(b, 0.5),
			sim_stats_percentile(b, 0.99),
			sim_stats_percentile(b, 0.999),
			b->count ? b->sum / (double)b->count : 0,
			b->count ? b->min : 0,
			(double)sim_stats_best_ps(&run->stats, b->hi_bytes) /
				1e6,
			i + 1 < run->stats.num_buckets ? "," : "");
	}
	fprintf(f, "  ],\n");
}

static void json_network(struct sim_run *run, FILE *f)
{
	const struct sim_net_counters *c = sim_net_counters(run->net);

	fprintf(f,
		"  \"utilization\": {\"offered\": %.4f, \"host_down\": %.4f, "
		"\"host_up\": %.4f, \"fabric_up\": %.4f, \"fabric_down\": "
		"%.4f, \"goodput\": %.4f},\n",
		run->cfg.load, report_util(run, SIM_PORT_TOR_DOWN),
		report_util(run, SIM_PORT_NIC),
		report_util(run, SIM_PORT_TOR_UP),
		report_util(run, SIM_PORT_SPINE_DOWN), report_goodput(run));
	fprintf(f,
		"  \"packets\": {\"sent\": %llu, \"sent_bytes\": %llu, "
		"\"delivered\": %llu, \"delivered_bytes\": %llu, \"dropped\": "
		"%llu, \"dropped_bytes\": %llu, \"lost\": %llu, "
		"\"lost_bytes\": %llu,\n    \"duplicated\": %llu, "
		"\"dup_bytes\": %llu, \"reordered\": %llu, \"vanished\": %llu, "
		"\"vanished_bytes\": %llu, \"flushed\": %llu, "
		"\"flushed_bytes\": %llu, \"in_flight\": %llu,\n",
		(unsigned long long)c->sent_pkts,
		(unsigned long long)c->sent_bytes,
		(unsigned long long)c->deliver_pkts,
		(unsigned long long)c->deliver_bytes,
		(unsigned long long)c->drop_pkts,
		(unsigned long long)c->drop_bytes,
		(unsigned long long)c->lost_pkts,
		(unsigned long long)c->lost_bytes,
		(unsigned long long)c->dup_pkts,
		(unsigned long long)c->dup_bytes,
		(unsigned long long)c->reordered,
		(unsigned long long)c->vanish_pkts,
		(unsigned long long)c->vanish_bytes,
		(unsigned long long)c->flush_pkts,
		(unsigned long long)c->flush_bytes,
		(unsigned long long)c->in_flight);
	fprintf(f, "    \"by_port\": {");
	for (int k = 0; k < SIM_PORT_KINDS; k++)
		fprintf(f,
			"%s\"%s\": {\"drops\": %llu, \"max_queue_bytes\": "
			"%llu, \"max_wait_us\": %.3f}",
			k ? ", " : "", kind_names[k],
			(unsigned long long)c->drops_by_kind[k],
			(unsigned long long)c->max_queue_bytes[k],
			(double)c->max_wait_ps[k] / 1e6);
	fprintf(f, "},\n    \"by_priority\": [");
	for (int p = 0; p < SIM_NUM_PRIOS; p++)
		fprintf(f, "%s%llu", p ? ", " : "",
			(unsigned long long)c->sent_by_prio[p]);
	fprintf(f, "]},\n");
}

static void json_rpcs(struct sim_run *run, FILE *f)
{
	const struct sim_app_counters *a = sim_app_counters(run->app);

	fprintf(f, "  \"rpcs\": {\"sent\": %llu",
		(unsigned long long)a->requests);
	for (int i = 1; i < SIM_RPC_FATES; i++)
		fprintf(f, ", \"%s\": %llu", fate_names[i],
			(unsigned long long)a->fates[i]);
	fprintf(f,
		", \"pending\": %llu,\n    \"deliveries\": %llu, "
		"\"duplicate_deliveries\": %llu, "
		"\"redeliveries_after_restart\":"
		" %llu, \"bad_messages\": %llu,\n    \"measured\": %llu, "
		"\"measured_delivered\": %llu, \"measured_undelivered\": %llu, "
		"\"measured_unfinished\": %llu},\n",
		(unsigned long long)sim_app_pending(run->app),
		(unsigned long long)a->deliveries,
		(unsigned long long)a->dup_deliveries,
		(unsigned long long)a->redeliveries,
		(unsigned long long)a->bad_messages,
		(unsigned long long)a->measured,
		(unsigned long long)a->measured_done,
		(unsigned long long)a->measured_lost,
		(unsigned long long)report_unfinished(run));
}

static void json_series(struct sim_run *run, FILE *f)
{
	fprintf(f, "  \"series\": [");
	for (size_t i = 0; i < run->num_series; i++) {
		const struct sim_sample *x = &run->series[i];

		fprintf(f,
			"%s\n    {\"t_ms\": %.3f, \"host_down\": %.4f, "
			"\"host_down_data\": %.4f, \"host_up\": %.4f, "
			"\"pending\": %llu, "
			"\"backlog_bytes\": %llu}",
			i ? "," : "", ms(x->time_ps), x->down_util,
			x->down_data, x->up_util,
			(unsigned long long)x->pending,
			(unsigned long long)x->backlog);
	}
	fprintf(f, "],\n");
}

static void json_tail(struct sim_run *run, FILE *f)
{
	fprintf(f, "  \"core_metrics\": {");
	for (int i = 0; i < HOMA_METRIC_COUNT; i++)
		fprintf(f, "%s\"%s\": %llu", i ? ", " : "",
			homa_metrics_name(i),
			(unsigned long long)run->metrics.v[i]);
	fprintf(f,
		"},\n  \"core_mem_peak_bytes\": %llu, \"events\": %llu, "
		"\"polls\": %llu, \"drained\": %s,\n  \"notes\": [",
		(unsigned long long)run->core_mem_peak,
		(unsigned long long)run->q.executed,
		(unsigned long long)run->polls,
		run->drained ? "true" : "false");
	for (int i = 0; i < run->num_notes; i++) {
		fprintf(f, "%s", i ? ", " : "");
		json_str(f, run->notes[i]);
	}
	fprintf(f, "],\n  \"checks_failed\": [");
	for (int i = 0; i < run->num_checks; i++) {
		fprintf(f, "%s", i ? ", " : "");
		json_str(f, run->checks[i]);
	}
	fprintf(f, "],\n  \"ok\": %s\n}\n", run->num_checks ? "false" : "true");
}

int sim_report_json(struct sim_run *run, FILE *f)
{
	fprintf(f, "{\n");
	json_config(run, f);
	json_buckets(run, f);
	json_network(run, f);
	json_rpcs(run, f);
	json_series(run, f);
	sim_diag_json(&run->diag, f);
	json_tail(run, f);
	return ferror(f) ? -1 : 0;
}

int sim_report_rpcs(struct sim_run *run, FILE *f)
{
	const struct sim_rpc *r;
	uint64_t n;

	r = sim_app_rpcs(run->app, &n);
	fprintf(f, "serial,client,server,bytes,sent_us,delivered_us,done_us,"
		   "deliveries,measured,fate\n");
	for (uint64_t i = 0; i < n; i++, r++)
		fprintf(f, "%llu,%u,%u,%u,%.6f,%.6f,%.6f,%u,%u,%s\n",
			(unsigned long long)i, r->src, r->dst, r->size,
			(double)r->send_ps / 1e6,
			r->deliveries ? (double)r->deliver_ps / 1e6 : -1.0,
			r->fate ? (double)r->done_ps / 1e6 : -1.0,
			r->deliveries, r->measured, fate_names[r->fate]);
	return ferror(f) ? -1 : 0;
}
