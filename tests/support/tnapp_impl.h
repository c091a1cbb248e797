/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tnapp_impl.h - the test application's internal structures, shared by
 * tnapp.c (sockets, receive and send paths) and tnapp_list.c (RPC list,
 * content, accessors) and by nothing else.
 */
#ifndef TNAPP_IMPL_H
#define TNAPP_IMPL_H

#include "tnapp.h"

#define BPAGE_SHIFT 16
#define BPAGE_BYTES (1u << BPAGE_SHIFT)

struct tnapp_sock {
	struct tn_waiter w;    /* first: the core's sock_ctx points here */
	struct tnapp *app;     /* owner */
	struct homa_sock *hsk; /* core socket */
	uint8_t *region;       /* receive region */
	uint64_t region_bytes; /* its size */
	bool server;	       /* server socket (else client) */
	int ix;		       /* client index */
	bool hold;	       /* keep delivered bpages (server) */
	uint32_t ret[HOMA_CORE_MAX_BPAGES]; /* to return with next recv */
	uint32_t nret;			    /* valid entries in ret */
	uint32_t *held;			    /* bpages kept while hold */
	uint32_t nheld;			    /* entries in held */
	uint32_t cap_held;		    /* allocated entries in held */
	uint32_t *queue;  /* client: serials in sending order */
	uint32_t qlen;	  /* entries in queue */
	uint32_t qhead;	  /* next entry to send */
	uint32_t qcap;	  /* allocated entries */
	int outstanding;  /* client: RPCs sent and not finished */
	uint64_t kick_ns; /* client: time of the pending delayed kick */
};

/* A reply a server with a service time sends later (tn_at). */
struct tnapp_pending {
	struct tnapp *app;	    /* owner */
	int host;		    /* server host */
	uint32_t incarnation;	    /* its incarnation when queued */
	struct homa_addr peer;	    /* client address */
	uint16_t port;		    /* client port */
	uint64_t id;		    /* server RPC id */
	uint32_t serial;	    /* RPC serial (content of the reply) */
	uint32_t bytes;		    /* reply length */
	struct tnapp_pending *next; /* app.pending list (freed at destroy) */
};

/* Argument of a delayed start: which socket to pump. */
struct tnapp_kick {
	struct tnapp *app; /* owner */
	int host;	   /* socket's host */
	int ix;		   /* client index */
};

struct tnapp_map_ent {
	uint64_t key;	 /* (client id << 4 | host) + 1; 0 = empty */
	uint32_t serial; /* RPC */
};

struct tnapp {
	struct tn_net *net;			 /* network */
	struct tnapp_config cfg;		 /* configuration */
	struct tnapp_sock *server[TN_MAX_HOSTS]; /* per host, may be NULL */
	struct tnapp_sock *client[TN_MAX_HOSTS][TNAPP_MAX_CLIENTS];
	struct tnapp_kick kicks[TN_MAX_HOSTS][TNAPP_MAX_CLIENTS];
	bool hold[TN_MAX_HOSTS];     /* server holds bpages */
	bool started;		     /* tnapp_start called */
	struct tnapp_rpc *rpcs;	     /* all RPCs by serial */
	uint32_t nrpcs;		     /* entries in rpcs */
	uint32_t cap_rpcs;	     /* allocated entries */
	uint64_t unfinished;	     /* RPCs queued or sent */
	struct tnapp_map_ent *map;   /* (host, id) -> serial */
	uint64_t map_cap;	     /* entries (power of two) */
	uint64_t map_used;	     /* occupied entries */
	uint8_t *scratch;	     /* outgoing message bytes */
	size_t scratch_bytes;	     /* its size */
	uint8_t expect[BPAGE_BYTES]; /* expected bytes of one chunk */
	struct homa_recv_args rargs; /* recv argument block */
	struct tnapp_stats stats;    /* counters */
	struct tn_app_ops ops;	     /* our callbacks */

	/* Servers with a service time (cfg.service_ns). */
	uint64_t busy_until[TN_MAX_HOSTS]; /* server busy until, ns */
	struct tnapp_pending *pending;	   /* delayed replies (all) */
};

/* tnapp_sock_drain() - homa_recv on s until nothing is ready and no
 * bpage is left to return (tnapp.c). */
void tnapp_sock_drain(struct tnapp *app, struct tnapp_sock *s);

#endif /* TNAPP_IMPL_H */
