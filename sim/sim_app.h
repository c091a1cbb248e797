/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sim_app.h - the application every simulated host runs: an open-loop
 * client that sends requests with Poisson arrivals, sizes drawn from the
 * workload and uniform random destinations, and a server that answers
 * each request with a short response.
 *
 * Every request carries its serial number in its first 8 bytes (and the
 * completion cookie is serial + 1), so the server can tell which request
 * it got: that measures the request's delivery time (send to the server
 * application receiving it) and checks at-most-once delivery. Every RPC
 * keeps a record of its fate: completed (response received), timed out,
 * failed with another error, lost with its client's crash, or never sent.
 */
#ifndef SIM_APP_H
#define SIM_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "homa_core.h"
#include "sim_event.h"
#include "sim_host.h"
#include "sim_stats.h"
#include "sim_workload.h"

#define SIM_APP_SERVER_PORT 4000

enum sim_rpc_fate {
	SIM_RPC_PENDING = 0, /* sent; no response or error yet */
	SIM_RPC_DONE = 1,    /* response delivered to the client */
	SIM_RPC_TIMEOUT = 2, /* client got -ETIMEDOUT */
	SIM_RPC_ERROR = 3,   /* client got another error */
	SIM_RPC_CRASHED = 4, /* the client host crashed while it pended */
	SIM_RPC_UNSENT = 5,  /* homa_send refused it */
	SIM_RPC_FATES = 6,
};

/* One request/response exchange, indexed by serial number. */
struct sim_rpc {
	uint64_t send_ps;    /* client application sent the request, ps */
	uint64_t deliver_ps; /* first delivery to the server app, ps; 0 none */
	uint64_t done_ps;    /* response or error at the client, ps; 0 none */
	uint32_t size;	     /* request length, bytes */
	uint16_t src;	     /* client host */
	uint16_t dst;	     /* server host */
	uint16_t server_inc; /* server's incarnation at first delivery */
	uint8_t deliveries;  /* deliveries to server apps (saturates) */
	uint8_t fate;	     /* enum sim_rpc_fate */
	uint8_t measured;    /* sent inside the measurement window */
};

struct sim_app_config {
	const struct sim_workload *wl; /* request sizes */
	double load;		       /* offered load, fraction of host link */
	uint64_t host_bps;	       /* host link rate, bit/s */
	uint32_t mtu;		       /* IP MTU, bytes */
	uint32_t resp_bytes;	       /* response length, bytes */
	uint64_t max_rpcs;	       /* requests in all; 0 = no limit */
	uint64_t server_region_bytes;  /* server receive region, bytes */
	uint64_t client_region_bytes;  /* client receive region, bytes */
	uint32_t max_message_bytes;    /* largest request or response */
	uint64_t seed;		       /* root of the hosts' app streams */
	uint64_t resident_region_bytes; /* region prefix never discarded */
};

struct sim_app_counters {
	uint64_t requests;	 /* requests handed to homa_send */
	uint64_t send_errors;	 /* client homa_send failures */
	uint64_t reply_errors;	 /* server homa_send failures */
	uint64_t recv_errors;	 /* unexpected homa_recv errors */
	uint64_t deliveries;	 /* requests delivered to server apps */
	uint64_t dup_deliveries; /* same request, same server incarnation */
	uint64_t redeliveries;	 /* same request after the server restarted */
	uint64_t bad_messages;	 /* unknown serial or wrong length/host */
	uint64_t fates[SIM_RPC_FATES]; /* RPCs by fate */
	uint64_t measured;	       /* requests sent in the window */
	uint64_t measured_done;	       /* ... delivered to their server */
	uint64_t measured_lost;	       /* ... ended without delivery */
	uint64_t window_msg_bytes; /* message bytes delivered in the window */
	uint64_t window_msgs;	   /* messages delivered in the window */
};

struct sim_app;

/*
 * sim_app_create() - the application for hosts[0..n-1] (not yet up).
 * Registers itself as the hosts' wake hook. Errors: -ENOMEM, -EINVAL
 * (load or sizes out of range).
 */
int sim_app_create(const struct sim_app_config *cfg, struct sim_event_queue *q,
		   struct sim_host *hosts, int n, struct sim_stats *stats,
		   struct sim_app **out);
void sim_app_destroy(struct sim_app *app);

/* sim_app_host_up() - after the host's instance started: open and bind
 * the sockets, register regions, resume arrivals. -errno on failure. */
int sim_app_host_up(struct sim_app *app, int host);
/* sim_app_host_down() - before the host's instance is destroyed: its
 * pending client RPCs become SIM_RPC_CRASHED; its events stop. */
void sim_app_host_down(struct sim_app *app, int host);

/* Arrivals run while on; [start, end) is the measurement window. */
void sim_app_set_arrivals(struct sim_app *app, bool on);
void sim_app_set_window(struct sim_app *app, uint64_t start_ps,
			uint64_t end_ps);

/* sim_app_measured_pending() - window requests not yet resolved. */
uint64_t sim_app_measured_pending(const struct sim_app *app);
/* sim_app_pending() - RPCs whose fate is still SIM_RPC_PENDING. */
uint64_t sim_app_pending(const struct sim_app *app);
/* sim_app_mean_gap_ps() - mean time between a host's requests, ps. */
double sim_app_mean_gap_ps(const struct sim_app *app);
/* sim_app_offered_wire_bytes() - mean link bytes per RPC (req + resp). */
double sim_app_offered_wire_bytes(const struct sim_app *app);

const struct sim_app_counters *sim_app_counters(const struct sim_app *app);
const struct sim_rpc *sim_app_rpcs(const struct sim_app *app, uint64_t *n);
/* sim_app_error() - first fatal error (-ENOMEM), 0 if none. */
int sim_app_error(const struct sim_app *app);

#endif /* SIM_APP_H */
