/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sim_host.c - a simulated host's environment table and the bookkeeping
 * that keeps exactly one poll event pending at the core's next deadline.
 * Time is kept in ps by the engine and given to the core in ns; a
 * deadline the core gives in ns becomes that ns in ps (never earlier than
 * the next ns, so a core that asks for "now" again cannot spin the clock).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "sim_host.h"

static void host_xmit(void *ctx, const struct homa_out_pkt *pkt)
{
	struct sim_host *h = ctx;

	sim_net_send(h->net, h->index, pkt);
}

static void host_wake(void *ctx, void *sock_ctx, uint32_t events, uint64_t id)
{
	struct sim_host *h = ctx;

	(void)id;
	if (h->wake)
		h->wake(h->app, h, sock_ctx, events);
}

static uint64_t host_random(void *ctx)
{
	struct sim_host *h = ctx;

	return sim_rng_next(&h->rng);
}

/* Blocks this large are mapped, not malloc'd: pages cost memory only
 * once written, and a message whose bytes the application never wrote
 * (the simulated payload is zeros) reads the shared zero page. */
#define SIM_HOST_MAP_BYTES (256u * 1024)

void *sim_host_alloc(struct sim_host *h, size_t bytes)
{
	void *p;

	if (bytes >= SIM_HOST_MAP_BYTES) {
		p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			p = NULL;
	} else {
		p = malloc(bytes ? bytes : 1);
	}
	if (!p) {
		h->mem_fail++;
		return NULL;
	}
	h->mem_bytes += bytes;
	h->mem_blocks++;
	if (h->mem_bytes > h->mem_peak_bytes)
		h->mem_peak_bytes = h->mem_bytes;
	return p;
}

void sim_host_prefault_zeros(void *ptr, size_t bytes)
{
	/* Best effort: without it (kernels before 5.14) each page faults
	 * when first read, which is only slower. */
#ifdef MADV_POPULATE_READ
	if (ptr && bytes >= SIM_HOST_MAP_BYTES)
		(void)madvise(ptr, bytes, MADV_POPULATE_READ);
#else
	(void)ptr;
	(void)bytes;
#endif
}

void sim_host_free(struct sim_host *h, void *ptr, size_t bytes)
{
	if (!ptr)
		return;
	h->mem_bytes -= bytes;
	h->mem_blocks--;
	if (bytes >= SIM_HOST_MAP_BYTES)
		munmap(ptr, bytes);
	else
		free(ptr);
}

static void *host_alloc(void *ctx, size_t bytes)
{
	return sim_host_alloc(ctx, bytes);
}

static void host_free(void *ctx, void *ptr, size_t bytes)
{
	sim_host_free(ctx, ptr, bytes);
}

static void host_poll_event(struct sim_event *ev)
{
	sim_host_touch((struct sim_host *)ev);
}

void sim_host_init(struct sim_host *h, int index, struct sim_event_queue *q,
		   struct sim_net *net, const struct homa_config *config,
		   uint64_t seed)
{
	sim_event_init(&h->poll_ev, host_poll_event);
	h->q = q;
	h->net = net;
	h->index = index;
	h->homa = NULL;
	h->config = *config;
	h->env.ctx = h;
	h->env.xmit = host_xmit;
	h->env.wake = host_wake;
	h->env.random = host_random;
	h->env.alloc = host_alloc;
	h->env.free = host_free;
	sim_rng_seed(&h->rng, seed, 0x1000 + (uint64_t)index);
	h->alive = false;
	h->incarnation = 0;
	h->mem_bytes = h->mem_blocks = h->mem_peak_bytes = h->mem_fail = 0;
	h->polls = h->inputs = 0;
}

int sim_host_start(struct sim_host *h, char *err)
{
	int ret;

	ret = homa_create(&h->env, &h->config, sim_host_now_ns(h), &h->homa,
			  err);
	if (ret)
		return ret;
	h->alive = true;
	h->incarnation++;
	sim_host_touch(h);
	return 0;
}

int sim_host_stop(struct sim_host *h)
{
	if (!h->alive)
		return 0;
	sim_event_cancel(h->q, &h->poll_ev);
	homa_destroy(h->homa);
	h->homa = NULL;
	h->alive = false;
	return h->mem_bytes || h->mem_blocks ? -EBUSY : 0;
}

void sim_host_touch(struct sim_host *h)
{
	uint64_t now_ns = sim_host_now_ns(h);
	uint64_t next_ns, next_ps;

	if (!h->alive)
		return;
	next_ns = homa_poll(h->homa, now_ns);
	h->polls++;
	if (next_ns <= now_ns)
		next_ns = now_ns + 1;
	next_ps = next_ns >= SIM_TIME_NEVER / SIM_PS_PER_NS
			  ? SIM_TIME_NEVER
			  : next_ns * SIM_PS_PER_NS;
	if (next_ps == SIM_TIME_NEVER) {
		sim_event_cancel(h->q, &h->poll_ev);
		return;
	}
	if (sim_event_time(&h->poll_ev) != next_ps)
		sim_event_schedule(h->q, &h->poll_ev, next_ps);
}

bool sim_host_deliver(struct sim_host *h, const struct sim_pkt *pkt)
{
	struct homa_addr src;

	if (!h->alive)
		return false;
	sim_net_addr(pkt->src, &src);
	homa_input(h->homa, &src, pkt->data, pkt->len, sim_host_now_ns(h));
	h->inputs++;
	sim_host_touch(h);
	return true;
}

const char *sim_host_usage_clean(const struct sim_host *h, char *buf,
				 size_t cap)
{
	struct homa_usage u;

	if (!h->alive)
		return NULL;
	homa_get_usage(h->homa, &u);
	if (u.rpcs || u.peer_refs || u.pool_pages_used || u.tx_bytes ||
	    u.grantable || u.throttled) {
		snprintf(buf, cap,
			 "host %d: rpcs %llu peer_refs %llu pool_pages %llu "
			 "tx_bytes %llu grantable %llu throttled %llu",
			 h->index, (unsigned long long)u.rpcs,
			 (unsigned long long)u.peer_refs,
			 (unsigned long long)u.pool_pages_used,
			 (unsigned long long)u.tx_bytes,
			 (unsigned long long)u.grantable,
			 (unsigned long long)u.throttled);
		return buf;
	}
	return NULL;
}
