/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * homa.c - the top of the core's stack: one Homa instance, its creation
 * and teardown, run-time configuration, usage, and homa_poll, which runs
 * whatever is due (timer, automatic cutoffs, reaper, pacer, nudges).
 */
#include <errno.h>
#include <string.h>

#include "base.h"
#include "peer.h"
#include "rpc.h"
#include "outgoing.h"
#include "timer.h"

static void homa_grant_send_cb(void *ctx, struct homa_grant_msg *m,
			       uint32_t offset, int priority)
{
	struct homa_rpc *rpc = homa_container_of(m, struct homa_rpc, in.grant);
	struct homa_wire_pkt pkt;

	memset(&pkt, 0, sizeof(pkt));
	pkt.common.type = HOMA_PKT_GRANT;
	pkt.u.grant.offset = offset;
	pkt.u.grant.priority = (uint8_t)priority;
	homa_send_ctrl((struct homa *)ctx, rpc->peer, rpc->hsk->port,
		       rpc->dport, rpc->id, &pkt);
}

/* Apply config.unsched_cutoffs/num_priorities: normalize, bump version. */
static void homa_apply_cutoffs(struct homa *homa)
{
	homa->grant.max_sched_prio = homa_cutoffs_normalize(
		homa->config.unsched_cutoffs, homa->config.num_priorities,
		homa->config.max_message_bytes);
	homa->cutoff_version++;
	if (homa->cutoff_version == 0)
		homa->cutoff_version = 1;
}

int homa_create(const struct homa_env *env, const struct homa_config *config,
		uint64_t now_ns, struct homa **out, char *err)
{
	struct homa *homa;
	int i, ret;

	if (!env || !env->xmit || !env->alloc || !env->free || !out) {
		if (err)
			strcpy(err, "homa_create: incomplete environment");
		return -EINVAL;
	}
	ret = homa_config_validate(config, err);
	if (ret < 0)
		return ret;
	homa = env->alloc(env->ctx, sizeof(*homa));
	if (!homa)
		return -ENOMEM;
	memset(homa, 0, sizeof(*homa));
	homa->env = *env;
	homa->menv.ctx = homa;
	homa->menv.alloc = homa_menv_alloc;
	homa->menv.free = homa_menv_free;
	homa->config = *config;
	homa->alloc_bytes = sizeof(*homa);
	/* Ids start at a random even value: a restarted host must not reuse
	 * ids that servers still hold for its previous incarnation. */
	homa->next_id = env->random ? (env->random(env->ctx) & ~1ull) : 2;
	if (homa->next_id < 2)
		homa->next_id = 2;
	homa->prev_client_port = 0xFFFF;
	homa_list_init(&homa->socks);
	for (i = 0; i < HOMA_PORT_BUCKETS; i++)
		homa_list_init(&homa->port_buckets[i]);
	for (i = 0; i < HOMA_RPC_BUCKETS; i++)
		homa_list_init(&homa->rpc_buckets[i]);
	for (i = 0; i < HOMA_PEER_BUCKETS; i++)
		homa_list_init(&homa->peer_buckets[i]);
	homa_list_init(&homa->peer_lru);
	homa_list_init(&homa->dead);
	homa_list_init(&homa->rpc_cache);
	homa_list_init(&homa->server_incoming);
	homa_list_init(&homa->throttled);
	homa_grant_init(&homa->grant, &homa->config, &homa->metrics,
			homa_grant_send_cb, homa);
	homa->pacer_fifo_count = 1000;
	homa->tick_ns = (uint64_t)config->tick_us * HOMA_NS_PER_US;
	homa->next_tick_ns = now_ns + homa->tick_ns;
	homa->now_ns = now_ns;
	homa->cutoff_version = 0;
	homa_apply_cutoffs(homa);
	if (config->cutoff_period_ms)
		homa->next_cutoffs_ns =
			now_ns +
			(uint64_t)config->cutoff_period_ms * 1000000ull;
	*out = homa;
	return 0;
}

void homa_destroy(struct homa *homa)
{
	struct homa_list *pos, *tmp;

	if (!homa)
		return;
	homa_list_for_each_safe(pos, tmp, &homa->socks)
	{
		struct homa_sock *hsk =
			homa_container_of(pos, struct homa_sock, link);
		homa_sock_close(hsk, homa->now_ns);
	}
	homa_rpc_reap(homa, -1);
	homa_rpc_cache_drain(homa);
	homa_peer_destroy_all(homa);
	homa->env.free(homa->env.ctx, homa, sizeof(*homa));
}

const struct homa_config *homa_get_config(const struct homa *homa)
{
	return &homa->config;
}

const struct homa_metrics *homa_get_metrics(const struct homa *homa)
{
	return &homa->metrics;
}

int homa_set_param(struct homa *homa, const char *name, const int64_t *values,
		   int count, char *err)
{
	int ret;

	if (strcmp(name, "tick_us") == 0) {
		if (err)
			strcpy(err, "tick_us: fixed once the instance exists");
		return -EINVAL;
	}
	ret = homa_config_set(&homa->config, name, values, count, err);
	if (ret < 0)
		return ret;
	if (strcmp(name, "unsched_cutoffs") == 0 ||
	    strcmp(name, "num_priorities") == 0 ||
	    strcmp(name, "max_message_bytes") == 0)
		homa_apply_cutoffs(homa);
	return 0;
}

/* Recompute cutoffs from the sizes received in the last period. */
static void homa_auto_cutoffs(struct homa *homa, uint64_t now_ns)
{
	int64_t cutoffs[HOMA_MAX_PRIORITIES];

	homa->next_cutoffs_ns =
		now_ns + (uint64_t)homa->config.cutoff_period_ms * 1000000ull;
	if (!homa_cutoffs_compute(&homa->cutoffs_auto, &homa->hist,
				  homa->config.num_priorities,
				  homa->config.unsched_bytes,
				  homa->config.cutoff_min_messages,
				  homa->config.max_message_bytes, cutoffs))
		return;
	memcpy(homa->config.unsched_cutoffs, cutoffs, sizeof(cutoffs));
	homa_apply_cutoffs(homa);
	homa->metrics.v[HOMA_M_cutoffs_computed]++;
}

uint64_t homa_poll(struct homa *homa, uint64_t now_ns)
{
	uint64_t next, pacer, nudge;

	homa->now_ns = now_ns;
	/* Nothing due, the usual case between ticks: no tick, no automatic
	 * cutoffs, no dead RPC, nothing for the pacer, and no message in
	 * the grant scheduler (so none to nudge). What the full pass below
	 * would return then is the next tick. */
	if (now_ns < homa->next_tick_ns && !homa->num_dead &&
	    homa_list_empty(&homa->throttled) && !homa->grant.num_managed &&
	    (!homa->config.cutoff_period_ms || now_ns < homa->next_cutoffs_ns))
		return homa->next_tick_ns;
	if (now_ns >= homa->next_tick_ns) {
		/* Before the timer, which would ask for its ack again. */
		homa_rpc_end_acked(homa);
		homa_timer(homa, now_ns);
		homa->next_tick_ns += homa->tick_ns;
		if (homa->next_tick_ns <= now_ns)
			homa->next_tick_ns = now_ns + homa->tick_ns;
	}
	if (homa->config.cutoff_period_ms && now_ns >= homa->next_cutoffs_ns)
		homa_auto_cutoffs(homa, now_ns);
	if (homa->num_dead)
		homa_rpc_reap(homa, (int)homa->config.reap_limit);
	pacer = homa_pacer_run(homa, now_ns);
	next = homa->next_tick_ns;
	nudge = homa_grant_nudge(&homa->grant, now_ns);
	if (nudge && nudge < next)
		next = nudge;
	if (homa->num_dead && now_ns + 1 < next)
		next = now_ns + 1;
	if (pacer && pacer < next)
		next = pacer;
	return next;
}

unsigned int homa_activity(const struct homa *homa)
{
	return (homa->num_rpcs ? HOMA_ACTIVE_RPCS : 0) |
	       (homa->num_throttled ? HOMA_ACTIVE_THROTTLED : 0) |
	       (homa->grant.num_managed ? HOMA_ACTIVE_GRANTABLE : 0) |
	       (homa->num_dead ? HOMA_ACTIVE_DEAD : 0);
}

void homa_get_usage(const struct homa *homa, struct homa_usage *u)
{
	/* Every field is a counter kept as it changes: O(1). */
	*u = (struct homa_usage){
		.sockets = homa->num_socks,
		.peer_refs = homa->peer_refs,
		.rpcs = homa->num_rpcs,
		.peers = homa->num_peers,
		.pool_pages_used = homa->pool_sum.used_bpages,
		.pool_pages_touched = homa->pool_sum.touched_bpages,
		.tx_bytes = homa->tx_bytes,
		.alloc_bytes = homa->alloc_bytes,
		.grantable = (uint64_t)homa->grant.num_managed,
		.throttled = homa->num_throttled,
	};
}
