/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * homa_core.h - the entry points of the sans-I/O Homa protocol core.
 *
 * One struct homa is one Homa host: its sockets, RPCs, peers, grant
 * scheduler, pacer, buffer pools, metrics and configuration. Its host (the
 * library, the simulator or the test network) drives it through the calls
 * below and supplies an environment table for everything outside: packet
 * transmission, wake-ups, randomness and memory. The core reads no clock:
 * every entry point that can depend on time takes now_ns.
 *
 * Threading: none. A host serializes all calls into one instance; several
 * instances may live in one process. Callbacks of the environment must not
 * call back into the same instance.
 *
 * Errors: functions return 0 (or a length) on success, a negative errno on
 * failure, and leave their outputs untouched on failure unless stated.
 */
#ifndef HOMA_CORE_H
#define HOMA_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "metrics.h"

struct homa;
struct homa_sock;

/* A host address: IPv6, or IPv4 mapped as ::ffff:a.b.c.d. */
struct homa_addr {
	uint8_t a[16]; /* network byte order */
};

/* homa_addr_is_v4() - an IPv4 address in its mapped form ::ffff:a.b.c.d
 * (the core, the datapaths and every host ask this one helper). */
static inline bool homa_addr_is_v4(const struct homa_addr *a)
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0,    0,
					    0, 0, 0, 0, 0xff, 0xff };

	return memcmp(a->a, prefix, sizeof(prefix)) == 0;
}

/* homa_addr_set_v4() - a becomes ::ffff:a.b.c.d for the IPv4 address at
 * v4 (4 bytes, network order). */
static inline void homa_addr_set_v4(struct homa_addr *a, const void *v4)
{
	memset(a->a, 0, 10);
	a->a[10] = 0xff;
	a->a[11] = 0xff;
	memcpy(&a->a[12], v4, 4);
}

/* Ports from here up are client ports, handed out automatically; servers
 * bind below (Linux's HOMA_MIN_DEFAULT_PORT in include/homa.h). */
#define HOMA_MIN_CLIENT_PORT 0x8000

/* homa_next_client_port() - the client port after prev, wrapping from
 * 65535 back to HOMA_MIN_CLIENT_PORT. */
static inline uint32_t homa_next_client_port(uint32_t prev)
{
	return prev >= 0xFFFF ? HOMA_MIN_CLIENT_PORT : prev + 1;
}

/* One packet handed to the host for transmission. The pointers are valid
 * only during the xmit callback. */
struct homa_out_pkt {
	const struct homa_addr *dst; /* destination host */
	uint16_t sport;		     /* source Homa port (as in the header) */
	uint16_t dport;		     /* destination Homa port */
	uint8_t priority;	     /* 3-bit network priority (after map) */
	uint8_t type;		     /* enum homa_pkt_type */
	const uint8_t *hdr;	     /* encoded Homa header */
	uint32_t hdr_bytes;	     /* bytes at hdr */
	const uint8_t *payload;	     /* DATA payload, else NULL; may
				      * follow hdr directly (hdr +
				      * hdr_bytes == payload) */
	uint32_t payload_bytes;	     /* bytes at payload */
};

/* Events passed to the wake callback (bit mask). */
#define HOMA_WAKE_READABLE 0x1 /* a message or an error is ready */
#define HOMA_WAKE_WRITABLE 0x2 /* outgoing memory fell below the limit */
#define HOMA_WAKE_SHUTDOWN 0x4 /* socket was shut down */

/* The host's side of the boundary. All callbacks receive ctx. */
struct homa_env {
	void *ctx; /* host's opaque pointer */
	/* Transmit one packet. Must not call into the core. */
	void (*xmit)(void *ctx, const struct homa_out_pkt *pkt);
	/* Something changed for waiters on a socket; id is the RPC whose
	 * message became ready (0 for socket-wide events). */
	void (*wake)(void *ctx, void *sock_ctx, uint32_t events, uint64_t id);
	/* Uniform 64-bit random numbers. */
	uint64_t (*random)(void *ctx);
	/* Memory: NULL on failure; free gets the size given to alloc. */
	void *(*alloc)(void *ctx, size_t bytes);
	void (*free)(void *ctx, void *ptr, size_t bytes);
	/* Optional (may be NULL): the MTU of the route to dst in bytes (IP
	 * header included; 0 = unknown, use config.mtu), and in *local
	 * whether dst is this host (no NIC on the way: such packets are
	 * neither paced nor charged to the NIC model). Asked once per peer
	 * record. */
	uint32_t (*path_mtu)(void *ctx, const struct homa_addr *dst,
			     bool *local);
	/* Optional (may be NULL): a host that batches packets hands those
	 * given to xmit so far to the network now. Called before the core
	 * copies in the rest of a large message, so that its first packets
	 * are on their way meanwhile. Must not call into the core. */
	void (*push)(void *ctx);
	/* Optional (may be NULL): the core no longer reads the lent
	 * message [ptr, ptr + bytes) (HOMA_SEND_BORROW): its RPC ended. The
	 * host makes sure nothing it queued still points there before it
	 * lets the owner reuse the memory. Must not call into the core. */
	void (*lent_done)(void *ctx, const void *ptr, size_t bytes);
};

/* Address family of a socket: decides header sizes and the peer form. */
enum homa_family {
	HOMA_FAMILY_INET = 4,
	HOMA_FAMILY_INET6 = 6,
};

/* A gather list entry for outgoing messages. */
struct homa_iov {
	const void *base; /* first byte */
	size_t bytes;	  /* length */
};

/* Flags of struct homa_send_args. */
#define HOMA_SEND_PRIVATE 0x01 /* response only to a recv naming this id */
/* The message is iov[0] alone, in a buffer of exactly its length that
 * the host got from its env.alloc: on success the core keeps that buffer
 * (and frees it with env.free) instead of copying it. For hosts with
 * messages too large to copy (the simulator). */
#define HOMA_SEND_GIFT 0x02
/* The host copies the message in with homa_send_copy, chunk by chunk,
 * reading packets between chunks; until that returns 0 the core sends
 * the bytes not yet copied straight from iov, which must stay valid and
 * unchanged. For large messages: the copy leaves the critical path. */
#define HOMA_SEND_CHUNKED 0x04
/* The message is iov[0] alone and a request: the core neither copies nor
 * frees it but sends and resends it from there until the RPC ends, then
 * says so through env.lent_done; the host keeps it valid and unchanged
 * until then (HOMA_SENDMSG_NOCOPY). Not with GIFT or CHUNKED. */
#define HOMA_SEND_BORROW 0x08

struct homa_send_args {
	const struct homa_addr *dst; /* peer host */
	uint16_t dport;		     /* peer port */
	const struct homa_iov *iov;  /* message bytes */
	int iov_count;		     /* entries in iov */
	uint64_t id;	 /* in: 0 = new request, odd = reply; out: id */
	uint64_t cookie; /* completion cookie of a request; 0 for replies */
	uint32_t flags;	 /* HOMA_SEND_* */
};

/* Largest number of bpage offsets one received message can have. Sized for
 * the largest configurable message (HOMA_CONFIG_MAX_MESSAGE_LIMIT). */
#define HOMA_CORE_MAX_BPAGES 1025

struct homa_recv_args {
	uint64_t id;	     /* in: 0 = any non-private; else that client RPC.
			    * out: the RPC delivered (also on per-RPC error) */
	uint64_t cookie;     /* out: completion cookie (0 for requests) */
	uint32_t num_bpages; /* in: bpages to return; out: bpages of message */
	uint32_t bpage_offsets[HOMA_CORE_MAX_BPAGES]; /* in/out, see above */
	struct homa_addr peer; /* out: sender's address */
	uint16_t peer_port;    /* out: sender's port */
	uint8_t is_request;    /* out: 1 for a request, 0 for a response */
};

/* ---- instance ---- */

/*
 * homa_create() - a new instance with a copy of config and env.
 * Errors: -EINVAL (config invalid; err, if non-NULL, gets a message of at
 * most HOMA_ERR_BYTES), -ENOMEM.
 */
#define HOMA_ERR_BYTES 104
int homa_create(const struct homa_env *env, const struct homa_config *config,
		uint64_t now_ns, struct homa **out, char *err);

/* homa_destroy() - shut down every socket and free everything. */
void homa_destroy(struct homa *homa);

/*
 * homa_set_param() - change one configuration parameter by name at run
 * time (e.g. "unsched_cutoffs" takes 8 values). Errors: -EINVAL with a
 * message in err (unknown name, wrong count, out of range).
 */
int homa_set_param(struct homa *homa, const char *name, const int64_t *values,
		   int count, char *err);

/* homa_get_config() - the configuration in force. */
const struct homa_config *homa_get_config(const struct homa *homa);

/* ---- driving ---- */

/* What homa_input did with a packet that its host must act on (bits of
 * its return value; 0: nothing to do, whether processed or dropped). */
enum homa_verdict {
	/* A request for a socket not in server mode, dropped: the host
	 * answers port unreachable, as Linux does (spec 2). */
	HOMA_VERDICT_NOT_SERVER = 0x1,
	/* A request for a server socket without a receive region, dropped
	 * (spec 13 item 11): the host may give the socket a region; the
	 * client's RESEND brings the request back. */
	HOMA_VERDICT_NO_REGION = 0x2,
};

/*
 * homa_input() - process one received packet from host src.
 * Bad packets are counted and dropped; never fails. Returns the
 * HOMA_VERDICT_* bits of what the host must act on (0 = nothing).
 */
unsigned int homa_input(struct homa *homa, const struct homa_addr *src,
			const uint8_t *pkt, size_t bytes, uint64_t now_ns);

/* ---- receiving in place (place.c) ---- */

/* log2 of a receive-pool page (bytes); homa.h's HOMA_BPAGE_SHIFT is the
 * same value for applications, checked at compile time in src/api/lib.h.
 */
#define HOMA_CORE_BPAGE_SHIFT 16

/* Packets reserved at once: enough for one coalesced receive (UDP_GRO
 * gives up to 64 KB, 44 packets at a 1500-byte MTU), so that a whole
 * coalesced buffer lands in place, not its first few packets. */
#define HOMA_PLACE_MAX	 48
#define HOMA_PLACE_HDR	 56 /* bytes before the payload of a DATA packet */
#define HOMA_PLACE_SPANS 2  /* pool pieces one packet's payload may need */

/* Where the payload of one expected DATA packet is to land. */
struct homa_place {
	uint16_t port;			 /* Homa port it arrives on */
	uint32_t offset;		 /* message offset of its payload */
	uint32_t bytes;			 /* payload bytes at most */
	uint8_t *span[HOMA_PLACE_SPANS]; /* where they land, in order */
	uint32_t span_bytes[HOMA_PLACE_SPANS]; /* bytes of each (0 = unused) */
	uint8_t part; /* which message of the reservation it belongs to */
};

/* homa_place.part of an empty place (bytes 0): its packet is read whole
 * into the slot's buffer (homa_place_peeked). */
#define HOMA_PLACE_NO_PART 0xff

/*
 * homa_place_reserve() - guess the next packets to arrive: the following
 * in-order DATA packets of the incoming messages that last received one
 * (up to 4, on one port), packet i at pl[i] (at most max): the message
 * the sender sends first (fewest bytes left, or the latest, whichever
 * order the last read matched) gets its packets granted but not yet
 * received, the next the following places, and so on. Returns
 * how many (0: no guess, or a reservation is still outstanding). Until
 * homa_place_release the host may let the network write into the spans
 * (their pool pages are pinned, and DATA for those bytes that arrives any
 * other way is dropped and counted, drop_placing), and then hands each
 * packet read so to homa_input_placed.
 */
int homa_place_reserve(struct homa *homa, struct homa_place *pl, int max,
		       uint64_t now_ns);

/*
 * homa_place_peek_wanted() - whether the reservation just made is worth
 * checking against the first packet waiting (a peek costs the host a
 * system call): it covers several messages, or a read missed lately.
 */
bool homa_place_peek_wanted(const struct homa *homa);

/*
 * homa_place_peeked() - the first packet waiting on the reserved socket
 * starts with hdr (bytes of it, from a peek; at least HOMA_PLACE_HDR to
 * be recognised). If the reservation's first place expects another
 * packet, it is redone (place_peek_redone): that packet's message first,
 * or, when it is none of the reserved messages' next packet (a new
 * message, a retransmission, not DATA), an empty place first (bytes 0:
 * the packet is read whole into the slot's buffer, then homa_input). pl
 * and max as for homa_place_reserve; returns the places now reserved
 * (unchanged if the socket closed since the reservation).
 */
int homa_place_peeked(struct homa *homa, const uint8_t *hdr, size_t bytes,
		      struct homa_place *pl, int max, uint64_t now_ns);

/*
 * homa_input_placed() - a packet read with its first hdr_bytes at hdr and
 * its next payload_bytes at pl's spans. If it is the DATA packet pl
 * expected, it is processed like homa_input, without copying the payload
 * (place_hits), and 0 is returned. Otherwise -EAGAIN and nothing changed:
 * the host gathers the packet into one buffer and gives it to homa_input
 * after homa_place_release (place_misses). If the socket closed since the
 * reservation (its pool may be freed), the packet is dropped
 * (drop_no_socket) and 0 returned: the host must not read the spans.
 */
int homa_input_placed(struct homa *homa, const struct homa_addr *src,
		      const uint8_t *hdr, size_t hdr_bytes,
		      size_t payload_bytes, const struct homa_place *pl,
		      uint64_t now_ns);

/* homa_place_release() - end the reservation (unpin its pages). */
void homa_place_release(struct homa *homa);

/*
 * homa_place_gather() - make a packet read into place pl (bytes long, its
 * first HOMA_PLACE_HDR bytes at buf) contiguous at buf, by copying its
 * payload from the spans: for a packet turned down, once the network has
 * finished writing.
 */
void homa_place_gather(uint8_t *buf, size_t bytes, const struct homa_place *pl);

/*
 * homa_input_icmp() - an ICMP error about dst (and dport, 0 = any port):
 * err is ENOTCONN, EHOSTUNREACH or EPROTONOSUPPORT. Ends the RPCs concerned.
 */
void homa_input_icmp(struct homa *homa, const struct homa_addr *dst,
		     uint16_t dport, int err, uint64_t now_ns);

/*
 * homa_poll() - run what is due at now_ns: the timer tick (every
 * tick_us), the pacer, reaping. Returns the time at which the core next
 * needs homa_poll (it may be called earlier; extra calls are cheap).
 */
uint64_t homa_poll(struct homa *homa, uint64_t now_ns);

/* ---- sockets ---- */

/*
 * homa_sock_open() - a socket with an automatic client port (>= 32768),
 * not in server mode. sock_ctx is passed to the wake callback.
 * Errors: -EAFNOSUPPORT, -EADDRNOTAVAIL (no free client port), -ENOMEM.
 */
int homa_sock_open(struct homa *homa, int family, void *sock_ctx,
		   struct homa_sock **out);

/*
 * homa_sock_open_at() - the same with a client port chosen by the host
 * (hosts whose datapath reserves ports, e.g. by binding a UDP socket).
 * Errors: -EINVAL (port < 32768), -EADDRINUSE, -EAFNOSUPPORT, -ENOMEM.
 */
int homa_sock_open_at(struct homa *homa, int family, uint16_t port,
		      void *sock_ctx, struct homa_sock **out);

/*
 * homa_sock_bind() - move to server port (1..32767) and enable server
 * mode; port 0 is a successful no-op. Errors: -EINVAL (port >= 32768),
 * -EADDRINUSE, -ESHUTDOWN.
 */
int homa_sock_bind(struct homa_sock *hsk, uint16_t port);

/* homa_sock_set_server() - enable/disable server mode. -ESHUTDOWN. */
int homa_sock_set_server(struct homa_sock *hsk, bool on);
bool homa_sock_is_server(const struct homa_sock *hsk);
uint16_t homa_sock_port(const struct homa_sock *hsk);
int homa_sock_family(const struct homa_sock *hsk);

/*
 * homa_sock_set_rcvbuf() - register the receive region the core writes
 * messages into. region must stay valid until close. Errors: -EINVAL
 * (already registered, misaligned, too small or above 4 GiB), -ENOMEM.
 */
int homa_sock_set_rcvbuf(struct homa_sock *hsk, uint8_t *region,
			 uint64_t bytes);
/* homa_sock_get_rcvbuf() - the region and its usable size (0 if none). */
void homa_sock_get_rcvbuf(const struct homa_sock *hsk, uint8_t **region,
			  uint64_t *bytes);

/*
 * homa_sock_shutdown() - end every RPC, leave the port table, wake all
 * waiters with HOMA_WAKE_SHUTDOWN. Idempotent.
 */
void homa_sock_shutdown(struct homa_sock *hsk, uint64_t now_ns);

/* homa_sock_close() - shutdown and free the socket. */
void homa_sock_close(struct homa_sock *hsk, uint64_t now_ns);

/* homa_sock_readable() - a shared message is ready or shut down. */
bool homa_sock_readable(const struct homa_sock *hsk);
/* homa_sock_writable() - outgoing memory below wmem_max. */
bool homa_sock_writable(const struct homa_sock *hsk);
/* homa_sock_ready() - both at once, as HOMA_SOCK_* bits (the library
 * asks after every call). */
#define HOMA_SOCK_READABLE 0x1 /* homa_sock_readable */
#define HOMA_SOCK_WRITABLE 0x2 /* homa_sock_writable */
unsigned int homa_sock_ready(const struct homa_sock *hsk);
/* homa_sock_is_shutdown() */
bool homa_sock_is_shutdown(const struct homa_sock *hsk);

/*
 * homa_send() - send a request (args->id == 0; the new even id is written
 * back) or the reply to server RPC args->id. The core copies the message
 * (with HOMA_SEND_CHUNKED, through the host's homa_send_copy calls; with
 * HOMA_SEND_BORROW not at all).
 * Errors: -EINVAL (length 0 or above max_message_bytes, bad flags
 * (BORROW on a reply, or with more than one piece, GIFT or CHUNKED), cookie
 * on a reply, reply to an RPC not in service, odd/even id mismatch,
 * iov_count < 0), -EAFNOSUPPORT (an IPv6 dst on an INET socket;
 * an INET6 socket reaches IPv4 peers by their mapped addresses),
 * -EAGAIN (outgoing memory at wmem_max; the host blocks or reports it),
 * -ENOMEM, -ESHUTDOWN. A reply to an unknown RPC succeeds silently.
 */
int homa_send(struct homa_sock *hsk, struct homa_send_args *args,
	      uint64_t now_ns);

/*
 * homa_send_copy() - after a homa_send with HOMA_SEND_CHUNKED that
 * succeeded (args as it left them): copy up to bytes more of the message
 * into the core. Returns 1 while bytes remain to be copied (the core may
 * still read args->iov), 0 once the core holds all of it or the RPC has
 * ended (it never reads args->iov again). The host calls it until 0
 * before it lets the caller reuse the buffer, and sends what the core
 * queued before that too.
 */
int homa_send_copy(struct homa_sock *hsk, const struct homa_send_args *args,
		   size_t bytes, uint64_t now_ns);

/*
 * homa_recv() - return args->num_bpages bpages to the pool, then deliver a
 * ready message without blocking. Returns its length; or -EAGAIN (nothing
 * ready: wait for a wake-up and call again); or a per-RPC error (-ETIMEDOUT,
 * -ENOTCONN, ...) with args->id and cookie set and the RPC ended; or
 * -EINVAL (bad bpage offset, num_bpages > 16 here is allowed up to
 * HOMA_CORE_MAX_BPAGES, no region registered, id not a private client RPC
 * of this socket), -ESHUTDOWN.
 */
int homa_recv(struct homa_sock *hsk, struct homa_recv_args *args,
	      uint64_t now_ns);

/*
 * homa_end_acked() - end the server RPC whose ack came with the request
 * just received (at most one waits so). homa_input does not end it at
 * once: the host calls this after it has sent what a send queued (the
 * reply to that request), so that the work of ending it does not delay
 * the reply. Otherwise homa_recv does it when it finds nothing ready, and
 * homa_poll at the next tick, before the timer would ask for the ack
 * again. No errors; cheap when nothing waits.
 */
void homa_end_acked(struct homa *homa, uint64_t now_ns);

/*
 * homa_release() - return bpages of delivered messages to the pool
 * without receiving (what homa_recv does first). Errors: -EINVAL (an
 * offset out of range or on a free page: none is released).
 */
int homa_release(struct homa_sock *hsk, const uint32_t *offsets,
		 uint32_t count);

/*
 * homa_abort() - end client RPC id (0 = all client RPCs of the socket).
 * error 0 discards silently; otherwise recv reports -error for it.
 * Errors: -EINVAL (no such client RPC), -ESHUTDOWN.
 */
int homa_abort(struct homa_sock *hsk, uint64_t id, int error, uint64_t now_ns);

/* Flags of struct homa_rpc_view (values of the Linux homa_rpc_info). */
#define HOMA_VIEW_BUF_STALL 1
#define HOMA_VIEW_PRIVATE   2
#define HOMA_VIEW_RX_READY  4
#define HOMA_VIEW_RX_COPY   8
#define HOMA_VIEW_OVERDUE   16 /* server: in service over overdue_ticks */

/* One RPC as reported by homa_sock_info (shape of homa_rpc_info). */
struct homa_rpc_view {
	uint64_t id;	       /* local id */
	struct homa_addr peer; /* peer host */
	uint16_t peer_port;    /* peer port */
	uint64_t cookie;       /* completion cookie */
	int32_t tx_length;     /* outgoing bytes, -1 if none yet */
	uint32_t tx_sent;      /* bytes handed to the host */
	uint32_t tx_granted;   /* bytes the peer allowed */
	uint32_t tx_prio;      /* priority for scheduled bytes */
	int32_t rx_length;     /* incoming length, -1 if unknown */
	uint32_t rx_remaining; /* bytes not yet received */
	uint32_t rx_gaps;      /* gaps in received data */
	uint32_t rx_gap_bytes; /* bytes in those gaps */
	uint32_t rx_granted;   /* bytes granted to the sender */
	uint16_t flags;	       /* HOMA_VIEW_* */
};

/*
 * homa_sock_info() - socket introspection (HOMAIOCINFO): up to max views
 * written; returns the total number of RPCs. avail_bytes gets free pool
 * space. Errors: -ESHUTDOWN.
 */
int homa_sock_info(const struct homa_sock *hsk, struct homa_rpc_view *views,
		   int max, uint64_t *avail_bytes);

/* ---- accounting (leak checks, tests, tools) ---- */

struct homa_usage {
	uint64_t sockets;   /* open sockets */
	uint64_t peer_refs; /* references held on peers by RPCs */
	uint64_t rpcs;	    /* live RPCs (any state, incl. dead unreaped) */
	uint64_t peers;	    /* peer records */
	uint64_t pool_pages_used;    /* bpages in use across all sockets */
	uint64_t pool_pages_touched; /* bpages ever handed out (the highest
				      * index + 1), all sockets: how much of
				      * the regions has been written */
	uint64_t tx_bytes;	     /* bytes of outgoing messages held */
	uint64_t alloc_bytes;	     /* bytes currently allocated via env */
	uint64_t grantable;	     /* messages in the grant scheduler */
	uint64_t throttled;	     /* messages on the pacer's list */
};
void homa_get_usage(const struct homa *homa, struct homa_usage *usage);

/* What an instance holds that decides when its caller must run homa_poll
 * (bits of homa_activity; a few loads, no walk, unlike homa_get_usage). */
#define HOMA_ACTIVE_RPCS      1u /* live RPCs (any state) */
#define HOMA_ACTIVE_THROTTLED 2u /* messages wait for the pacer */
#define HOMA_ACTIVE_GRANTABLE 4u /* messages in the grant scheduler */
#define HOMA_ACTIVE_DEAD      8u /* ended RPCs wait for the reaper */
unsigned int homa_activity(const struct homa *homa);

/* The ages of an instance's live RPCs (one walk over them all). */
struct homa_rpc_ages {
	uint64_t client_rpcs;	   /* live client RPCs */
	uint64_t server_rpcs;	   /* live server RPCs */
	uint64_t in_service;	   /* server RPCs whose request is complete
				     * and not yet answered */
	uint64_t overdue;	   /* of those, in service over overdue_ticks */
	uint64_t oldest_client_ns; /* creation of the oldest live client
				     * RPC, ns; 0 = none */
	uint64_t oldest_service_ns; /* service start of the oldest server
				     * RPC in service, ns; 0 = none */
};

/* homa_rpc_get_ages() - fill ages from every live RPC of the instance. */
void homa_rpc_get_ages(const struct homa *homa, struct homa_rpc_ages *ages);

/* homa_get_metrics() - the instance's counters (read-only view). */
const struct homa_metrics *homa_get_metrics(const struct homa *homa);

/* ---- read-only views of the schedulers (diagnostics: sim/sim_diag.c) ---- */

/* An incoming message as the grant scheduler sees it. */
struct homa_in_view {
	uint64_t id;	       /* local id of its RPC */
	struct homa_addr peer; /* sender's host */
	uint16_t peer_port;    /* sender's port */
	uint16_t port;	       /* local port */
	uint32_t length;       /* message bytes */
	uint32_t granted;      /* bytes the sender may send */
	uint32_t received;     /* bytes received */
	bool managed;	       /* the grant scheduler has it */
	bool active;	       /* in its active set */
};

/* An outgoing message as the pacer sees it. */
struct homa_out_view {
	uint64_t id;	       /* local id of its RPC */
	struct homa_addr peer; /* receiver's host */
	uint16_t peer_port;    /* receiver's port */
	uint16_t port;	       /* local port */
	uint32_t length;       /* message bytes */
	uint32_t sent;	       /* bytes transmitted (next offset) */
	uint32_t granted;      /* bytes the receiver allows */
	uint32_t unscheduled;  /* bytes sent without grants */
};

/* Called once per message; return false to stop the walk. The view is
 * valid during the call only; the callback must not call the core. */
typedef bool (*homa_in_view_fn)(void *arg, const struct homa_in_view *v);
typedef bool (*homa_out_view_fn)(void *arg, const struct homa_out_view *v);

/* homa_view_granting() - the grant scheduler's active set, slot order. */
void homa_view_granting(const struct homa *homa, homa_in_view_fn fn, void *arg);

/* homa_view_pacer() - the messages waiting for the pacer, in its order. */
void homa_view_pacer(const struct homa *homa, homa_out_view_fn fn, void *arg);

/* homa_view_sending() - every outgoing message of an RPC still in the
 * sending state (client: request; server: response), by socket. */
void homa_view_sending(const struct homa *homa, homa_out_view_fn fn, void *arg);

/*
 * homa_view_request() - the incoming request of the server RPC id (odd,
 * local form) from client:client_port at local port. Returns 0 and fills
 * v, or -ENOENT if there is no such RPC.
 */
int homa_view_request(const struct homa *homa, uint16_t port,
		      const struct homa_addr *client, uint16_t client_port,
		      uint64_t id, struct homa_in_view *v);

#endif /* HOMA_CORE_H */
