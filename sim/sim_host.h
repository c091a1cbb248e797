/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sim_host.h - one simulated host: a real instance of the Homa core
 * driven through its environment table. Transmission goes into the
 * host's NIC queue in the simulated network, the clock is the engine's,
 * random numbers come from the host's own stream and memory from malloc
 * with per-host accounting (so a leak shows after homa_destroy).
 *
 * The core's timers run only through homa_poll: after every call into
 * the core (packet input, application call, poll) the host asks
 * homa_poll for its next deadline and keeps exactly one poll event
 * pending for it. Wake-ups never re-enter the core: they are passed to
 * the application layer, which schedules its own event.
 */
#ifndef SIM_HOST_H
#define SIM_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "homa_core.h"
#include "sim_event.h"
#include "sim_net.h"
#include "sim_rng.h"

struct sim_host;

/* The application's wake hook (from inside the core: must not call it). */
typedef void (*sim_host_wake_fn)(void *app, struct sim_host *h, void *sock_ctx,
				 uint32_t events);

struct sim_host {
	struct sim_event poll_ev;  /* next homa_poll (first member) */
	struct sim_event_queue *q; /* the engine (clock) */
	struct sim_net *net;	   /* network the NIC feeds */
	int index;		   /* host number, 0.. */
	struct homa *homa;	   /* core instance, NULL while down */
	struct homa_config config; /* configuration for every start */
	struct homa_env env;	   /* environment given to the core */
	struct sim_rng rng;	   /* the core's random stream */
	sim_host_wake_fn wake;	   /* application hook */
	void *app;		   /* for wake */
	bool alive;		   /* instance exists */
	uint32_t incarnation;	   /* starts so far */
	uint64_t mem_bytes;	   /* bytes allocated through env now */
	uint64_t mem_blocks;	   /* blocks allocated through env now */
	uint64_t mem_peak_bytes;   /* largest mem_bytes */
	uint64_t mem_fail;	   /* allocations refused (malloc NULL) */
	uint64_t polls;		   /* homa_poll calls */
	uint64_t inputs;	   /* homa_input calls */
};

/* sim_host_init() - set up host index (not started). */
void sim_host_init(struct sim_host *h, int index, struct sim_event_queue *q,
		   struct sim_net *net, const struct homa_config *config,
		   uint64_t seed);

/* sim_host_start() - create the instance. Errors: those of homa_create,
 * with its message in err (HOMA_ERR_BYTES). */
int sim_host_start(struct sim_host *h, char *err);

/*
 * sim_host_stop() - destroy the instance (a crash, or the end of the
 * run). Returns 0, or -EBUSY if the host's allocations did not return
 * to zero after homa_destroy (a leak in the core).
 */
int sim_host_stop(struct sim_host *h);

/* sim_host_alloc() / sim_host_free() - the memory of h's environment
 * (counted in mem_bytes), also for messages handed to the core with
 * HOMA_SEND_GIFT. */
void *sim_host_alloc(struct sim_host *h, size_t bytes);
void sim_host_free(struct sim_host *h, void *ptr, size_t bytes);

/* sim_host_prefault_zeros() - map the unwritten pages of a block from
 * sim_host_alloc to the shared zero page in one call: the core reads a
 * gift's zeros packet by packet, and a fault per 4 KiB page cost more
 * than half of the simulator's page faults. Blocks below the mapping
 * size (malloc'd) are left alone. */
void sim_host_prefault_zeros(void *ptr, size_t bytes);

/* sim_host_touch() - after a call into the core: poll and keep the one
 * poll event at the core's next deadline. */
void sim_host_touch(struct sim_host *h);

/* sim_host_deliver() - a packet from the network; false if down. */
bool sim_host_deliver(struct sim_host *h, const struct sim_pkt *pkt);

/* sim_host_now_ns() - the clock as the core sees it. */
static inline uint64_t sim_host_now_ns(const struct sim_host *h)
{
	return h->q->now_ps / SIM_PS_PER_NS;
}

/*
 * sim_host_usage_clean() - NULL if the live instance holds nothing for
 * RPCs (no RPCs, peer references, pool pages, outgoing bytes, grantable
 * or throttled messages); else a description of the first violation,
 * written to buf (cap bytes).
 */
const char *sim_host_usage_clean(const struct sim_host *h, char *buf,
				 size_t cap);

#endif /* SIM_HOST_H */
