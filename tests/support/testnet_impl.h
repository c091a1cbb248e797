/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * testnet_impl.h - the test network's internal structures, shared by
 * testnet.c (hosts, links, faults) and tnevent.c (events, clock, checks)
 * and by nothing else.
 *
 * Events are ordered by the simulator's event queue (sim/sim_event.h,
 * the library homa_sim_engine): each queued event is a heap block holding
 * the engine's entry and a copy of the struct tn_event, scheduled at its
 * time in picoseconds (time_ns * 1000), so the engine's order by (time,
 * sequence of scheduling) is the order of (time_ns, queueing).
 */
#ifndef TESTNET_IMPL_H
#define TESTNET_IMPL_H

#include "sim_event.h"
#include "testnet.h"

enum tn_ev_kind {
	TN_EV_PKT = 1,	/* deliver ptr[0..len) from src to host */
	TN_EV_POLL = 2, /* host's poll deadline (generation gen) */
	TN_EV_APP = 3,	/* application event for waiter ptr */
	TN_EV_CALL = 4, /* fn(ptr, net) */
};

struct tn_event {
	uint64_t time_ns; /* when it runs */
	uint64_t sent_ns; /* packets: transmission time */
	uint32_t gen;	  /* poll generation or host incarnation */
	uint32_t len;	  /* packet bytes */
	int16_t host;	  /* host concerned (destination) */
	int16_t src;	  /* packets: sending host */
	uint8_t kind;	  /* enum tn_ev_kind */
	uint8_t prio;	  /* packets: network priority */
	void *ptr;	  /* packet bytes, waiter or call argument */
	tn_call_fn fn;	  /* calls: the action */
};

struct tn_host {
	struct tn_net *net;	   /* owner */
	int index;		   /* 0..num_hosts-1 */
	struct homa *homa;	   /* instance, NULL while dead */
	struct homa_addr addr;	   /* ::ffff:10.0.0.(index+1) */
	struct homa_config config; /* used at the next (re)start */
	struct homa_env env;	   /* callbacks, ctx = this host */
	bool alive;		   /* instance exists */
	bool dying;		   /* inside homa_destroy: ignore callbacks */
	uint32_t incarnation;	   /* bumped at kill and restart */
	uint32_t poll_gen;	   /* generation of the pending poll */
	uint64_t poll_at_ns;	   /* pending poll time, UINT64_MAX = none */
	uint64_t same_polls;	   /* polls at same_ns returning same_ns */
	uint64_t same_ns;	   /* instant same_polls counts at */
	uint64_t link_free_ns;	   /* uplink busy until then */
	struct tn_rng rng;	   /* the env's random source */
	struct tn_mem mem;	   /* allocations through the env */
};

struct tn_net {
	struct tn_config cfg;	      /* configuration (faults mutable) */
	uint64_t now_ns;	      /* simulated clock */
	struct sim_event_queue queue; /* pending events, ps */
	struct tn_queued *popped;     /* event the queue just handed out */
	bool stop;		      /* stops the queue after one event */
	struct tn_rng rng;	      /* fault model */
	struct tn_host hosts[TN_MAX_HOSTS]; /* hosts by index */
	struct tn_counters ctr;		    /* counters */
	uint64_t trace;			    /* FNV-1a over executed events */
	const struct tn_app_ops *app_ops;   /* application, may be NULL */
	void *app;			    /* its argument */
	tn_filter_fn filter;		    /* per-packet filter, may be NULL */
	void *filter_arg;		    /* its argument */
	tn_tap_fn tap;			    /* packet observer, may be NULL */
	void *tap_arg;			    /* its argument */
	tn_step_fn step;		    /* after-event hook, may be NULL */
	void *step_arg;			    /* its argument */
};

/* ---- tnevent.c ---- */
/* tn_heap_push() - queue a copy of ev (time_ns >= now). */
void tn_heap_push(struct tn_net *net, const struct tn_event *ev);
/* tn_heap_pop() - take the next event due at or before limit_ns into
 * out; false if there is none. */
bool tn_heap_pop(struct tn_net *net, uint64_t limit_ns, struct tn_event *out);
void tn_trace_mix(struct tn_net *net, const void *p, size_t n);
void tn_push_app_event(struct tn_net *net, struct tn_waiter *w);

/* ---- testnet.c ---- */
bool tn_type_ok(uint8_t type);
void tn_tap(struct tn_net *net, enum tn_tap_kind kind, int src, int dst,
	    const uint8_t *buf, size_t len, uint8_t prio, uint64_t sent_ns);
void tn_drop(struct tn_net *net, int src, int dst, uint8_t *buf, size_t len,
	     uint8_t prio, uint64_t *counter);
struct tn_host *tn_host_get(const struct tn_net *net, int host);
void tn_host_poll(struct tn_net *net, struct tn_host *h);

#endif /* TESTNET_IMPL_H */
