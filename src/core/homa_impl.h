/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * homa_impl.h - the core's internal structures, shared by its modules and
 * by nothing else (hosts see only homa_core.h). Types and constants only:
 * each module's functions are declared in its own header (base.h, peer.h,
 * outgoing.h, msgin.h, rpc.h, sock.h, timer.h), and the modules form a
 * stack (docs/architecture.md, scripts/check-layers.sh).
 *
 * Ownership: struct homa owns its sockets, peers and RPCs. An RPC record
 * is in exactly one of: its socket's list of live RPCs (and the id hash),
 * the instance's dead list awaiting the reaper, or the cache of records
 * for reuse (an ended small RPC goes there at once). A live or dead RPC
 * holds one reference on its peer; freeing the record's contents (at
 * once, or by the reaper) drops it.
 */
#ifndef HOMA_CORE_IMPL_H
#define HOMA_CORE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cutoffs.h"
#include "grant.h"
#include "homa_core.h"
#include "list.h"
#include "pool.h"
#include "reasm.h"
#include "wire.h"

#define HOMA_RPC_BUCKETS   4096 /* id hash buckets (power of two) */
#define HOMA_PEER_BUCKETS  1024 /* peer hash buckets (power of two) */
#define HOMA_PORT_BUCKETS  256	/* port hash buckets (power of two) */
#define HOMA_PEER_GC_SCAN  10	/* peers examined per tick */
#define HOMA_PEER_GC_EVICT 5	/* peers evicted per tick at most */
#define HOMA_NS_PER_US	   1000ull
#define HOMA_NS_PER_SEC	   1000000000ull

/* Ended RPC records kept for reuse, at most. */
#define HOMA_RPC_CACHE 32
/* Outgoing messages up to this many bytes are copied into their RPC
 * record (no allocation of their own): a small message costs one record. */
#define HOMA_MSGOUT_INLINE 256
/* Pool offsets an incoming message keeps inside its RPC record: messages
 * up to this many bpages need no array of their own. */
#define HOMA_MSGIN_INLINE_BPAGES 1

/* RPC states (values as in Linux). Client: OUTGOING -> INCOMING -> DEAD.
 * Server: INCOMING -> IN_SERVICE -> OUTGOING -> DEAD. */
enum homa_rpc_state {
	HOMA_RPC_OUTGOING = 5,
	HOMA_RPC_INCOMING = 6,
	HOMA_RPC_IN_SERVICE = 8,
	HOMA_RPC_DEAD = 9,
};

/* struct homa_rpc.flags */
#define HOMA_RPC_PRIVATE 0x1 /* deliver only to recv naming the id */
#define HOMA_RPC_READY	 0x2 /* message (or error) ready for recv */
#define HOMA_RPC_ACKED	 0x4 /* client: ack already queued/sent */
#define HOMA_RPC_OVERDUE 0x8 /* server: in service over overdue_ticks */

struct homa_peer {
	struct homa_addr addr;	    /* the host */
	uint32_t addr_hash;	    /* homa_peer_addr_hash(addr), kept */
	struct homa_list hash_link; /* in homa.peer_buckets */
	struct homa_list lru_link;  /* in homa.peer_lru, least recent first */
	uint32_t refs;		    /* live RPCs using this peer */
	uint64_t last_use_ns;	    /* last time an RPC was created/used */
	struct homa_wire_ack acks[HOMA_WIRE_MAX_ACKS]; /* pending acks */
	uint16_t ack_sports[HOMA_WIRE_MAX_ACKS]; /* client port of each ack */
	int num_acks;				 /* valid entries in acks */
	uint32_t cutoffs[HOMA_MAX_PRIORITIES];	 /* its unscheduled cutoffs */
	uint16_t cutoff_version;      /* version of cutoffs (0 = defaults) */
	uint64_t cutoffs_sent_ns;     /* last CUTOFFS sent to it (rate limit) */
	bool cutoffs_sent;	      /* cutoffs_sent_ns is valid */
	struct homa_grant_peer gpeer; /* grant scheduler's record */
	uint32_t mtu;		      /* route MTU, bytes (0 = config.mtu) */
	bool local;		      /* on this host: never paced */
};

/* The outgoing message of an RPC (request or response). */
struct homa_msgout {
	int32_t length;	      /* bytes, -1 = no message yet */
	uint8_t *buf;	      /* copy of the message (length bytes), or the
			       * host's own bytes if borrowed */
	uint32_t seg_bytes;   /* payload of a full DATA packet, bytes */
	uint32_t next_xmit;   /* first byte never transmitted (tx_end) */
	uint32_t granted;     /* bytes the receiver allows */
	uint32_t unscheduled; /* bytes sent without grants */
	uint8_t unsched_prio; /* level of unscheduled bytes */
	uint8_t sched_prio;   /* level of scheduled bytes (last GRANT) */
	bool nudged;	      /* last GRANT repeated the offset (pacer order) */
	uint64_t init_ns;     /* creation time (pacer FIFO) */
	struct homa_list throttled_link; /* in homa.throttled */
	uint64_t done_ns;		 /* time next_xmit reached length */
	uint32_t copied;		 /* while src is set: bytes in buf,
					  * from 0; the rest is read from
					  * src (HOMA_SEND_CHUNKED) */
	const struct homa_iov *src;	 /* host's pieces until copied all,
					  * else NULL: buf holds it all */
	int src_count;			 /* pieces in src */
	bool borrowed; /* buf is the host's (HOMA_SEND_BORROW): never freed,
			* announced to env.lent_done when the RPC ends */
};

/* The incoming message of an RPC. */
struct homa_msgin {
	int32_t length;		     /* bytes, -1 = nothing received yet */
	struct homa_reasm reasm;     /* received ranges */
	struct homa_grant_msg grant; /* grant scheduler's record */
	bool need_grants;	     /* length > initial incoming */
	uint32_t *bpages;	     /* pool offsets, NULL = no buffers yet */
	uint32_t num_bpages;	     /* entries in bpages */
	uint32_t bpages_cap;	     /* entries in bpages (allocated, unless
				      * bpages is bpages_inline) */
	uint32_t bpages_inline[HOMA_MSGIN_INLINE_BPAGES]; /* bpages of a
							  * small message */
	struct homa_list stall_link; /* in sock.stalled while waiting */
	uint64_t birth_ns;	     /* first packet's arrival */
};

struct homa_rpc {
	struct homa_sock *hsk;	     /* owning socket */
	struct homa_peer *peer;	     /* the other end (one reference) */
	uint16_t dport;		     /* the other end's port */
	uint64_t id;		     /* local id: even = client, odd = server */
	uint64_t cookie;	     /* completion cookie (client) */
	enum homa_rpc_state state;   /* see enum */
	uint32_t flags;		     /* HOMA_RPC_* */
	int error;		     /* positive errno once failed, else 0 */
	uint32_t silent_ticks;	     /* ticks without a sign of life */
	uint64_t last_pkt_ns;	     /* last DATA received for it, ns */
	uint64_t service_ns;	     /* server: IN_SERVICE since, ns */
	struct homa_list sock_link;  /* hsk.rpcs while live; homa.dead after */
	struct homa_list hash_link;  /* in homa.rpc_buckets while live */
	struct homa_list ready_link; /* in hsk.ready while ready and shared */
	struct homa_list incoming_link; /* server, receiving: in
					 * homa.server_incoming, least recently
					 * heard from first */
	struct homa_msgout out; /* request (client) / response (server) */
	struct homa_msgin in;	/* response (client) / request (server) */
	/* The DATA header of a one-packet message in out_inline, written
	 * right before its payload: the host sees header and payload as one
	 * run of bytes (homa_out_pkt), which it may copy at once. */
	uint8_t out_hdr[HOMA_WIRE_DATA_BYTES];
	/* out.buf of a message up to HOMA_MSGOUT_INLINE bytes; last, so
	 * that a new record clears only what comes before it. */
	uint8_t out_inline[HOMA_MSGOUT_INLINE];
};
_Static_assert(offsetof(struct homa_rpc, out_inline) ==
		       offsetof(struct homa_rpc, out_hdr) +
			       HOMA_WIRE_DATA_BYTES,
	       "out_hdr lies right before out_inline");

struct homa_sock {
	struct homa *homa;	    /* owning instance */
	void *ctx;		    /* host's pointer for wake-ups */
	int family;		    /* HOMA_FAMILY_INET or _INET6 */
	uint16_t port;		    /* Homa port, 0 once shut down */
	bool server;		    /* accepts requests */
	bool shutdown;		    /* shut down: no new work */
	uint32_t seg_bytes;	    /* payload bytes per DATA packet */
	struct homa_list link;	    /* in homa.socks */
	struct homa_list port_link; /* in homa.port_buckets */
	struct homa_list rpcs;	    /* live RPCs */
	struct homa_list ready;	    /* shared RPCs ready for recv, FIFO */
	struct homa_list
		stalled;       /* messages waiting for buffers, short first */
	struct homa_pool pool; /* receive buffers (region NULL = none) */
	uint64_t tx_bytes;     /* bytes of outgoing messages held */
	bool tx_blocked;       /* a send saw -EAGAIN: wake when room */
};

#define HOMA_DONE_SLOTS 2048 /* recently completed server RPCs (power of 2) */

/* One recently completed server RPC (see homa_rpc_done_record). */
struct homa_done {
	uint64_t id;	    /* server id, 0 = empty */
	uint32_t addr_hash; /* hash of the client's address */
	uint16_t port;	    /* client's port */
	uint64_t end_ns;    /* when it ended */
};

/* Receiving in place (place.c, place_rx.c). */
/* Pages one reservation may pin: each packet's payload spans two. */
#define HOMA_PLACE_MAX_PINS (HOMA_PLACE_MAX * HOMA_PLACE_SPANS)

/* Incoming messages one reservation covers: a sender with several
 * messages interleaves them (the one with the fewest bytes left first,
 * then the next), so the next packets of each are predicted. */
#define HOMA_PLACE_RPCS 4
/* Reads after one that missed during which reservations are checked
 * against a peek at the first packet waiting (homa_place_peek_wanted). */
#define HOMA_PLACE_PEEK_READS 32

/* An incoming message that received DATA in order lately. */
struct homa_place_hint {
	uint64_t id;	       /* local id of its RPC, 0 = none */
	uint16_t port;	       /* its socket's port */
	uint16_t dport;	       /* its peer's port (server lookup) */
	struct homa_addr addr; /* its peer (server lookup) */
};

/* The bytes of one message that a reservation covers. */
struct homa_place_part {
	const struct homa_rpc *rpc; /* reserved RPC (compared, never read) */
	uint64_t id;		    /* its local id */
	uint32_t lo;		    /* first reserved message byte */
	uint32_t hi;		    /* one past the last */
};

struct homa_place_state {
	struct homa_place_hint hint[HOMA_PLACE_RPCS]; /* latest first */
	uint32_t hint_seg;     /* payload bytes expected per packet */
	uint32_t seg_full;     /* payload of the last packet not cut
				  * at an unscheduled limit, bytes */
	int count;	       /* packets reserved, 0 = no reservation */
	struct homa_sock *hsk; /* socket whose pool is pinned */
	struct homa_place_part part[HOMA_PLACE_RPCS]; /* messages reserved,
						       * in place order */
	int num_parts;				      /* entries in part */
	uint32_t read_hits;   /* packets taken in place since the reservation */
	uint32_t read_misses; /* packets turned down since the reservation */
	bool by_recency;      /* order messages latest first, not fewest
			       * bytes left first (flips after a read that
			       * missed more than it hit) */
	bool peek_set;	      /* the next reserve starts with peek_id's
			       * packet at peek_off (homa_place_peeked) */
	uint64_t peek_id;     /* local id of the peeked packet's message,
			       * 0 = not a DATA packet */
	uint32_t peek_off;    /* its message offset, bytes */
	uint32_t peek_reads;  /* reads left to peek before (set after a
			       * read that missed) */
	uint32_t pins[HOMA_PLACE_MAX_PINS]; /* pinned pool offsets */
	uint32_t num_pins;		    /* entries in pins */
	const struct homa_place *cur;	/* packet homa_input_placed is feeding,
				       * NULL outside it */
	const struct homa_rpc *cur_rpc; /* its RPC (compared, never read) */
};

struct homa {
	struct homa_env env;	     /* host's callbacks */
	struct homa_env menv;	     /* memory-only env for leaf modules:
				      * counts into alloc_bytes */
	struct homa_config config;   /* parameters in force */
	struct homa_metrics metrics; /* counters */
	uint64_t alloc_bytes;	     /* bytes allocated through env */
	uint64_t next_id;	     /* next client RPC id (even) */
	uint16_t prev_client_port;   /* last automatic port handed out */
	unsigned int verdict;	     /* HOMA_VERDICT_* of this homa_input
				      * (in padding: size unchanged) */
	uint64_t num_socks;	     /* open sockets */
	struct homa_list socks;	     /* all open sockets */
	struct homa_list port_buckets[HOMA_PORT_BUCKETS]; /* sockets by port */
	struct homa_list rpc_buckets[HOMA_RPC_BUCKETS];	  /* live RPCs by id */
	uint64_t num_rpcs;	      /* RPCs allocated and not yet reaped */
	uint64_t num_server_incoming; /* server RPCs still receiving */
	struct homa_list server_incoming; /* those RPCs, stalest first */
	struct homa_list dead;		  /* ended RPCs awaiting the reaper */
	uint64_t num_dead;		  /* RPCs on dead */
	/* The server RPC whose ack came with the last request, ended after
	 * the reply to that request has left (homa_end_acked), else by
	 * homa_recv or the tick; NULL = none (cleared by homa_rpc_end). */
	struct homa_rpc *acked;
	/* Reaped records kept for reuse (linked by sock_link), at most
	 * HOMA_RPC_CACHE; still counted in alloc_bytes. */
	struct homa_list rpc_cache;
	uint32_t num_cached_rpcs; /* records on rpc_cache */
	bool rpc_created; /* an RPC was created since the last tick (else
			   * the tick frees the cache) */
	struct homa_list peer_buckets[HOMA_PEER_BUCKETS]; /* peers by addr */
	struct homa_list peer_lru;  /* all peers, least recently used first */
	uint64_t num_peers;	    /* peer records */
	uint64_t peer_refs;	    /* sum of peer.refs */
	struct homa_grant grant;    /* receiver's grant scheduler */
	struct homa_list throttled; /* msgouts waiting for the pacer */
	uint64_t num_throttled;	    /* entries on throttled */
	uint64_t link_idle_ns;	    /* estimated time the NIC queue drains */
	int64_t pacer_fifo_count;   /* countdown to a FIFO pick (per mille) */
	uint64_t next_tick_ns;	    /* time of the next timer tick */
	uint64_t tick_ns;	    /* tick_us in ns */
	uint16_t cutoff_version;    /* version of config.unsched_cutoffs */
	struct homa_hist hist;	    /* sizes of messages received */
	struct homa_cutoffs_auto cutoffs_auto; /* automatic cutoffs state */
	uint64_t next_cutoffs_ns; /* next automatic recomputation */
	struct homa_done done[HOMA_DONE_SLOTS]; /* recently completed */
	uint64_t now_ns;	       /* time of the current entry point */
	struct homa_place_state place; /* receiving in place (place.c) */

	/* The peer found or made last, NULL = none (cleared when freed). */
	struct homa_peer *peer_last;
	/* Sum of the sockets' tx_bytes, bytes (kept for homa_get_usage). */
	uint64_t tx_bytes;
	/* Totals of the sockets' pools (kept for homa_get_usage). */
	struct homa_pool_sum pool_sum;
};

#endif /* HOMA_CORE_IMPL_H */
