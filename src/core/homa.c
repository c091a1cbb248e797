/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * homa.c - one Homa instance: creation and teardown, the environment's
 * memory wrappers (with accounting), run-time configuration, control
 * packet transmission, and homa_poll, which runs whatever is due.
 */
#include <errno.h>
#include <string.h>

#include "homa_impl.h"

void *homa_alloc(struct homa *homa, size_t bytes)
{
	void *p = homa->env.alloc(homa->env.ctx, bytes);

	if (p)
		homa->alloc_bytes += bytes;
	return p;
}

void homa_free(struct homa *homa, void *ptr, size_t bytes)
{
	if (!ptr)
		return;
	homa->alloc_bytes -= bytes;
	homa->env.free(homa->env.ctx, ptr, bytes);
}

static void *homa_menv_alloc(void *ctx, size_t bytes)
{
	return homa_alloc(ctx, bytes);
}

static void homa_menv_free(void *ctx, void *ptr, size_t bytes)
{
	homa_free(ctx, ptr, bytes);
}

/* homa_prio_map() - the network priority for internal level. */
uint8_t homa_prio_map(const struct homa *homa, int level)
{
	if (level < 0)
		level = 0;
	if (level >= HOMA_MAX_PRIORITIES)
		level = HOMA_MAX_PRIORITIES - 1;
	return (uint8_t)homa->config.priority_map[level];
}

/* homa_high_prio() - level for FIFO grants and buffer-wakeup RESENDs. */
int homa_high_prio(const struct homa *homa)
{
	return homa->config.num_priorities <= 2
		       ? 0
		       : (int)homa->config.num_priorities - 2;
}

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

/*
 * homa_send_ctrl() - encode and transmit a control packet to peer at the
 * highest level. pkt->common.type and the body must be set.
 */
void homa_send_ctrl(struct homa *homa, struct homa_peer *peer, uint16_t sport,
		    uint16_t dport, uint64_t sender_id,
		    struct homa_wire_pkt *pkt)
{
	uint8_t hdr[HOMA_WIRE_MAX_HEADER_BYTES];
	struct homa_out_pkt out;
	int len;

	pkt->common.sport = sport;
	pkt->common.dport = dport;
	pkt->common.sender_id = sender_id;
	len = homa_wire_encode(pkt, hdr, sizeof(hdr));
	if (len < 0)
		return;
	out.dst = &peer->addr;
	out.sport = sport;
	out.dport = dport;
	out.priority =
		homa_prio_map(homa, (int)homa->config.num_priorities - 1);
	out.type = pkt->common.type;
	out.hdr = hdr;
	out.hdr_bytes = (uint32_t)len;
	out.payload = NULL;
	out.payload_bytes = 0;
	homa->metrics
		.v[HOMA_M_sent_data + (pkt->common.type - HOMA_PKT_TYPE_MIN)]++;
	/* Control packets take link time too: the pacer must count them, or
	 * a host receiving at full rate (a GRANT per DATA) overfills its own
	 * uplink. IP header by address family, Ethernet framing 42. */
	if (!peer->local)
		homa_nic_charge(
			homa,
			(uint64_t)len +
				(homa_addr_is_v4(&peer->addr) ? 20 : 40) +
				(uint64_t)homa->config.extra_header_bytes + 42,
			homa->now_ns);
	homa->env.xmit(homa->env.ctx, &out);
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
	if (now_ns >= homa->next_tick_ns) {
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

void homa_get_usage(const struct homa *homa, struct homa_usage *u)
{
	const struct homa_list *pos;

	memset(u, 0, sizeof(*u));
	u->sockets = homa->num_socks;
	u->rpcs = homa->num_rpcs;
	u->peers = homa->num_peers;
	u->peer_refs = homa->peer_refs;
	u->alloc_bytes = homa->alloc_bytes;
	u->grantable = (uint64_t)homa->grant.num_managed;
	u->throttled = homa->num_throttled;
	homa_list_for_each(pos, &homa->socks)
	{
		const struct homa_sock *hsk =
			homa_container_of(pos, struct homa_sock, link);
		u->tx_bytes += hsk->tx_bytes;
		if (hsk->pool.region) {
			u->pool_pages_used += homa_pool_used_pages(&hsk->pool);
			u->pool_pages_touched += hsk->pool.touched_bpages;
		}
	}
}
