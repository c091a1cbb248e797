/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * testnet.h - a deterministic simulated network of Homa core instances for
 * the core's integration tests.
 *
 * N hosts, each one struct homa with its own environment (transmit, wake,
 * random, allocation with per-host accounting), joined by one uplink per
 * host (rate, propagation delay) and a fault model (loss, duplication,
 * reordering, a per-packet filter, host kill and restart). Time is
 * simulated in nanoseconds; the simulator's event queue (sim_event.h),
 * ordered by (time, order of queueing), drives everything, and the
 * simulator's random source (sim_rng.h) draws every random number, so one
 * seed gives one run, event for event. After every input or application action on a host the network
 * asks homa_poll() for the host's next deadline and keeps exactly one poll
 * event pending for it: the core's timers run only that way. Wake-ups
 * never re-enter the core: they mark the socket and queue an application
 * event at the current time. The application layer (tnapp.h) plugs in
 * through struct tn_app_ops. Everything here fails the running cmocka test
 * on misuse or on a leak.
 */
#ifndef TESTNET_H
#define TESTNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "homa_core.h"
#include "wire.h"

#define TN_MAX_HOSTS 16
#define TN_NUM_PRIOS HOMA_MAX_PRIORITIES /* network priorities */
#define TN_NS_PER_US 1000ull
#define TN_NS_PER_MS 1000000ull

struct tn_net;

/* Everything about the network fixed at creation (faults may change). */
struct tn_config {
	int num_hosts;		    /* 1..TN_MAX_HOSTS */
	uint64_t seed;		    /* every random draw derives from it */
	uint64_t link_bps;	    /* uplink rate, bits/s; 0 = infinite */
	uint64_t link_delay_ns;	    /* propagation delay of every link */
	uint32_t overhead_bytes;    /* wire bytes per packet beyond Homa's */
	uint32_t loss_ppm;	    /* packets lost, parts per million */
	uint32_t dup_ppm;	    /* packets duplicated, ppm */
	uint64_t dup_window_ns;	    /* a duplicate lags by 1..window ns */
	uint32_t reorder_ppm;	    /* packets delayed extra, ppm */
	uint64_t reorder_window_ns; /* extra delay 0..window ns */
	struct homa_config homa;    /* configuration of every host */
	const struct homa_config
		*host_homa[TN_MAX_HOSTS]; /* override or NULL */
	uint64_t start_ns;		  /* clock at creation */
};

/* tn_config_default() - 4 hosts, 25 Gbit/s, 1 us, no faults, seed 1. */
void tn_config_default(struct tn_config *c);

/* A small deterministic PRNG (splitmix64) for tests and the network. */
struct tn_rng {
	uint64_t s; /* state */
};
void tn_rng_seed(struct tn_rng *r, uint64_t seed);
uint64_t tn_rng_next(struct tn_rng *r);
/* tn_rng_below() - uniform in [0, n); 0 if n is 0. */
uint64_t tn_rng_below(struct tn_rng *r, uint64_t n);

/* Network-wide counters (packets; one DATA packet counts once). */
struct tn_counters {
	uint64_t sent;	     /* packets handed to the network by hosts */
	uint64_t delivered;  /* packets passed to homa_input */
	uint64_t lost;	     /* dropped by the random loss model */
	uint64_t filtered;   /* dropped by the filter hook */
	uint64_t duplicated; /* extra copies created */
	uint64_t reordered;  /* packets given an extra random delay */
	uint64_t vanished;   /* arrived at a dead host */
	uint64_t unroutable; /* addressed to no host of the network */
	uint64_t injected;   /* tn_inject calls */
	uint64_t sent_by_type[HOMA_PKT_TYPE_COUNT];	 /* by type - 0x10 */
	uint64_t delivered_by_type[HOMA_PKT_TYPE_COUNT]; /* by type - 0x10 */
	uint64_t lost_by_type[HOMA_PKT_TYPE_COUNT];	 /* loss + filter */
	uint64_t sent_by_prio[TN_NUM_PRIOS];		 /* by priority */
	uint64_t events;     /* events executed (stale ones excluded) */
	uint64_t polls;	     /* homa_poll calls */
	uint64_t app_events; /* application events executed */
};

/* One host's memory seen through its environment. */
struct tn_mem {
	uint64_t bytes;	       /* currently allocated */
	uint64_t blocks;       /* currently allocated blocks */
	uint64_t peak_bytes;   /* largest value of bytes */
	uint64_t total_allocs; /* successful alloc calls */
	uint64_t failures;     /* alloc calls refused by the limit */
	uint64_t limit_bytes;  /* 0 = unlimited */
};

/* What a tap sees of one packet. */
enum tn_tap_kind {
	TN_TAP_SENT = 0,      /* a host transmitted it */
	TN_TAP_DELIVERED = 1, /* about to go into homa_input */
	TN_TAP_DROPPED = 2,   /* lost, filtered, vanished or unroutable */
};
struct tn_pkt_info {
	int src;	    /* sending host, -1 for injected */
	int dst;	    /* receiving host, -1 if unroutable */
	uint8_t priority;   /* network priority the sender chose */
	uint8_t type;	    /* Homa type byte (0 if too short) */
	const uint8_t *pkt; /* header and payload, contiguous */
	size_t len;	    /* bytes at pkt */
	uint64_t sent_ns;   /* time of transmission */
	uint64_t now_ns;    /* time of the tap */
};
/* Runs inside the core's xmit callback for TN_TAP_SENT: it must not call
 * into any instance (fail_msg is fine). */
typedef void (*tn_tap_fn)(void *arg, enum tn_tap_kind kind,
			  const struct tn_pkt_info *info);

/* Return false to drop the packet. Applied when it is sent (after it took
 * its time on the uplink), inside the core's xmit: no calls into a core. */
typedef bool (*tn_filter_fn)(void *arg, int src, int dst, const uint8_t *pkt,
			     size_t len);

/* Called after every event that concerned host (input, poll, app). */
typedef void (*tn_step_fn)(void *arg, struct tn_net *net, int host);

/* Scheduled test action; may call anything except from inside the core. */
typedef void (*tn_call_fn)(void *arg, struct tn_net *net);

/*
 * The application's side. sock_ctx of every socket the application opens
 * must point at a struct tn_waiter (usually its first member). The wake
 * callback ORs the events into it and queues one application event; the
 * event calls ready(). host_down runs after the host's instance is
 * destroyed (forget its sockets, free their regions); host_up after a
 * restart created the new instance (re-open sockets).
 */
struct tn_waiter {
	uint32_t events; /* HOMA_WAKE_* gathered since ready() last ran */
	bool scheduled;	 /* an application event is pending */
	int host;	 /* owning host */
};
struct tn_app_ops {
	void (*ready)(void *app, struct tn_net *net, struct tn_waiter *w);
	void (*host_down)(void *app, struct tn_net *net, int host);
	void (*host_up)(void *app, struct tn_net *net, int host);
};

/* ---- life cycle ---- */

/* tn_create() - the network and all its hosts, alive. 0 or -errno. */
int tn_create(const struct tn_config *c, struct tn_net **out);
/* tn_destroy() - destroy every live instance and check that each host's
 * allocations returned to zero (fails the test otherwise). The
 * application must have detached (tn_set_app(net, NULL, NULL)). */
void tn_destroy(struct tn_net *net);

/* ---- hosts ---- */
int tn_num_hosts(const struct tn_net *net);
struct homa *tn_homa(struct tn_net *net, int host); /* NULL if dead */
const struct homa_addr *tn_addr(const struct tn_net *net, int host);
/* tn_host_of() - host with address a, or -1. */
int tn_host_of(const struct tn_net *net, const struct homa_addr *a);
/* tn_make_addr() - ::ffff:10.0.x.y */
void tn_make_addr(struct homa_addr *a, uint8_t x, uint8_t y);
bool tn_host_alive(const struct tn_net *net, int host);
/* tn_host_incarnation() - bumped by every kill and restart. */
uint32_t tn_host_incarnation(const struct tn_net *net, int host);
/* tn_host_set_config() - config used by the next restart of host. */
void tn_host_set_config(struct tn_net *net, int host,
			const struct homa_config *config);
/* tn_host_kill() - destroy the instance (its allocations must return to
 * zero); packets to it vanish until restart. */
void tn_host_kill(struct tn_net *net, int host);
/* tn_host_restart() - a fresh instance at the same address. */
void tn_host_restart(struct tn_net *net, int host);
const struct tn_mem *tn_host_mem(const struct tn_net *net, int host);
void tn_host_set_alloc_limit(struct tn_net *net, int host, uint64_t bytes);
/* tn_metric() - one counter of a live host's instance (0 if dead). */
uint64_t tn_metric(struct tn_net *net, int host, enum homa_metric m);
/* tn_touch() - after an application call into host's core: run
 * homa_poll and reschedule the host's poll event. */
void tn_touch(struct tn_net *net, int host);

/* ---- hooks and faults ---- */
void tn_set_app(struct tn_net *net, const struct tn_app_ops *ops, void *app);
void tn_set_filter(struct tn_net *net, tn_filter_fn fn, void *arg);
void tn_set_tap(struct tn_net *net, tn_tap_fn fn, void *arg);
void tn_set_step_hook(struct tn_net *net, tn_step_fn fn, void *arg);
void tn_set_faults(struct tn_net *net, uint32_t loss_ppm, uint32_t dup_ppm,
		   uint32_t reorder_ppm);

/* ---- clock and events ---- */
uint64_t tn_now(const struct tn_net *net);
/* tn_at() - run fn(arg, net) at time at_ns (>= now). */
void tn_at(struct tn_net *net, uint64_t at_ns, tn_call_fn fn, void *arg);
/* tn_kick() - queue an application event for w at the current time. */
void tn_kick(struct tn_net *net, struct tn_waiter *w);
/* tn_step() - execute the next event; false if there is none. */
bool tn_step(struct tn_net *net);
/* tn_run_until() - execute every event up to t; the clock ends at t. */
void tn_run_until(struct tn_net *net, uint64_t t_ns);
/* tn_run_for() - tn_run_until(now + dt). */
void tn_run_for(struct tn_net *net, uint64_t dt_ns);
/* tn_run_while() - execute events while busy(arg) holds. Returns true
 * once busy is false; false at deadline_ns or when no event is left. */
bool tn_run_while(struct tn_net *net, bool (*busy)(void *arg), void *arg,
		  uint64_t deadline_ns);

/* ---- packets ---- */
/* tn_send() - host src transmits pkt to host dst through its uplink and
 * the fault model, as if its core had sent it. */
void tn_send(struct tn_net *net, int src, int dst, const uint8_t *pkt,
	     size_t len, uint8_t priority);
/* tn_inject() - give pkt to host dst now, as if from address src,
 * bypassing links and faults (then poll). Not from inside a callback. */
void tn_inject(struct tn_net *net, int dst, const struct homa_addr *src,
	       const uint8_t *pkt, size_t len);
/* tn_serialization_ns() - time the uplink needs for a packet of len bytes
 * (overhead added), rounded up; 0 on infinite links. */
uint64_t tn_serialization_ns(const struct tn_net *net, size_t len);

/* ---- observation ---- */
const struct tn_counters *tn_counters(const struct tn_net *net);
/* tn_trace_hash() - FNV-1a over every executed event (time, kind, host,
 * packet source, length and header bytes). */
uint64_t tn_trace_hash(const struct tn_net *net);
/*
 * tn_check_clean() - run the clock idle_ns further (use >= 50 ms so acks,
 * reaping and the bpage lease finish), then assert on every live host:
 * no RPCs, no pool pages used, no outgoing bytes, nothing grantable or
 * throttled. The application must hold no bpages.
 */
void tn_check_clean(struct tn_net *net, uint64_t idle_ns);
/* tn_host_clean() - the same checks on one host, no clock; returns a
 * description of the first violation or NULL. */
const char *tn_host_clean(struct tn_net *net, int host);

/* tn_data_path() - path of a file in data/workloads, from a test source's
 * __FILE__ (tests/core/x.c) or $HOMA_TEST_DATA; buf gets it. */
const char *tn_data_path(const char *src_file, const char *name, char *buf,
			 size_t cap);

#endif /* TESTNET_H */
