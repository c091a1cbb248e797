/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tnapp.h - the test application that runs on the test network: a server
 * socket per host that answers every request, client sockets that issue a
 * list of RPCs with at most K outstanding, and the bookkeeping the
 * integration tests assert on.
 *
 * Every RPC has a serial number (its index). Message bytes are a
 * deterministic function of (serial, direction, offset); a request of 8
 * bytes or more starts with its serial (little endian). Servers find the
 * serial of a request from the client's address and id (recorded when the
 * client sent it), check the request byte for byte through the bpage
 * layout, count the delivery and reply with the response size the test
 * chose. Clients check responses the same way and record completion time
 * and errno. Bpages go back to the core with the socket's next homa_recv,
 * unless the test makes a server hold them.
 */
#ifndef TNAPP_H
#define TNAPP_H

#include <stdbool.h>
#include <stdint.h>

#include "testnet.h"

#define TNAPP_SERVER_PORT    100
#define TNAPP_MAX_CLIENTS    4
#define TNAPP_REGION_DEFAULT (64ull << 20)
#define TNAPP_NEVER	     UINT64_MAX /* service_ns: never answer */

struct tnapp_config {
	uint64_t region_bytes; /* receive region per socket, bytes */
	uint64_t host_region_bytes[TN_MAX_HOSTS]; /* per host; 0 = default */
	int clients_per_host;	      /* client sockets per host, 1..4 */
	int max_outstanding;	      /* K: RPCs in flight per client socket */
	bool no_server[TN_MAX_HOSTS]; /* host opens no server socket */
	bool no_verify;		      /* skip byte checks (speed) */
	bool server_inet6; /* servers open INET6 sockets (clients: INET) */
	uint64_t service_ns[TN_MAX_HOSTS]; /* server time per request, ns,
					    * one at a time in arrival order;
					    * 0 = at once, TNAPP_NEVER = the
					    * server never answers */
};

/* tnapp_config_default() - 64 MiB regions, 1 client socket, K = 4. */
void tnapp_config_default(struct tnapp_config *c);

enum tnapp_state {
	TNAPP_QUEUED = 0,    /* not sent yet */
	TNAPP_SENT = 1,	     /* homa_send succeeded, no answer yet */
	TNAPP_DONE = 2,	     /* response received and verified */
	TNAPP_FAILED = 3,    /* homa_send or homa_recv reported err */
	TNAPP_ABANDONED = 4, /* its client host was killed */
};

struct tnapp_rpc {
	uint32_t serial;	/* index; cookie is serial + 1 */
	int client_host;	/* issuing host */
	int client_ix;		/* its client socket */
	int server_host;	/* destination */
	uint32_t req_bytes;	/* request length */
	uint32_t resp_bytes;	/* response length */
	uint64_t start_ns;	/* not sent before this time */
	uint64_t sent_ns;	/* homa_send time */
	uint64_t done_ns;	/* response or error time */
	uint64_t id;		/* client id from homa_send */
	int err;		/* 0 or the negative errno reported */
	enum tnapp_state state; /* see enum */
	uint32_t deliveries;	/* times a server app received the request */
	uint32_t delivered_incarnation; /* server incarnation at last one */
};

struct tnapp_stats {
	uint64_t done;		   /* RPCs completed OK */
	uint64_t failed;	   /* RPCs with an error */
	uint64_t abandoned;	   /* RPCs lost with their client host */
	uint64_t requests_served;  /* requests answered */
	uint64_t unknown_requests; /* requests matching no RPC (injected) */
	uint64_t bytes_verified;   /* message bytes checked */
	uint64_t send_eagain;	   /* homa_send -EAGAIN (retried later) */
	uint64_t requests_held;	   /* requests a TNAPP_NEVER server kept */
};

struct tnapp;

/* tnapp_create() - attach to net and open every host's sockets. */
int tnapp_create(struct tn_net *net, const struct tnapp_config *c,
		 struct tnapp **out);
/* tnapp_destroy() - close all sockets, free regions, detach from net. */
void tnapp_destroy(struct tnapp *app);

/* tnapp_add_rpc() - queue an RPC on a client socket; returns its serial.
 * Sending starts with tnapp_start() (or at once if already started). */
uint32_t tnapp_add_rpc(struct tnapp *app, int client_host, int client_ix,
		       int server_host, uint32_t req_bytes, uint32_t resp_bytes,
		       uint64_t start_ns);
/* tnapp_start() - let every client socket begin sending. */
void tnapp_start(struct tnapp *app);
/* tnapp_busy() - some RPC is queued or in flight (arg: struct tnapp). */
bool tnapp_busy(void *app);
/* tnapp_run() - run the network until no RPC is pending; false if the
 * deadline passed first. */
bool tnapp_run(struct tnapp *app, uint64_t deadline_ns);

uint32_t tnapp_num_rpcs(const struct tnapp *app);
const struct tnapp_rpc *tnapp_rpc(const struct tnapp *app, uint32_t serial);
const struct tnapp_stats *tnapp_stats(const struct tnapp *app);
/* tnapp_completion_hash() - over every RPC's state, errno and times. */
uint64_t tnapp_completion_hash(const struct tnapp *app);
/* tnapp_assert_all_ok() - every RPC done, no error, request delivered
 * exactly once (fails the test naming the first offender). */
void tnapp_assert_all_ok(const struct tnapp *app);

/* Bpage holding on a host's server socket (pool exhaustion tests). */
void tnapp_hold_bpages(struct tnapp *app, int host, bool hold);
uint32_t tnapp_held_bpages(const struct tnapp *app, int host);
/* tnapp_release_bpages() - stop holding and return everything held. */
void tnapp_release_bpages(struct tnapp *app, int host);

struct homa_sock *tnapp_server_sock(struct tnapp *app, int host);
struct homa_sock *tnapp_client_sock(struct tnapp *app, int host, int ix);

/* tnapp_fill() - bytes [offset, offset+n) of a message: dir 0 request,
 * 1 response. */
void tnapp_fill(uint32_t serial, int dir, uint64_t offset, uint8_t *buf,
		size_t n);

#endif /* TNAPP_H */
