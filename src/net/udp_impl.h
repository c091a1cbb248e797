/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * udp_impl.h - the UDP datapath's own state and the functions its files
 * share: udp.c (ports, sending, the usual read), udp_place.c (reads of
 * several slots or sockets, and into the core's places) and udp_sleep.c
 * (the poller's sleep in the socket's receive, and the wake-ups that end
 * it).
 */
#ifndef HOMA_NET_UDP_IMPL_H
#define HOMA_NET_UDP_IMPL_H

#include <errno.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

#include "datapath.h"
#include "wire.h"

#define UDP_RX_MSGS    HOMA_DP_RX_MSGS /* datagrams per recvmmsg */
#define UDP_RX_BUF     (64 * 1024)     /* bytes per receive buffer (GRO) */
#define UDP_CONN_SLOTS 4 /* destinations a port tracks (udp_conn.c) */
#define UDP_CONN_ICMP  8 /* ICMP errors kept for the next read */

/* A destination a port sends to, and its connected socket (udp_conn.c). */
struct udp_conn_dst {
	struct homa_addr addr; /* peer address */
	uint16_t port;	       /* peer port (0 = entry free: the rest is
				* meaningless) */
	int fd;		       /* socket connected to it, -1 = none yet */
	bool broken;	       /* a send on fd failed: not used, closed at
				* the end of the flush */
	uint32_t sends;	       /* sends to it since tracked (or since a
				* failed connect), while without fd */
	uint64_t last;	       /* the port's sends count at its last send */
};

/* A port's destinations (udp_conn.c). */
struct udp_conn_port {
	struct udp_conn_dst e[UDP_CONN_SLOTS]; /* tracked destinations */
	struct udp_conn_dst *hot; /* the last one sent to (NULL = none) */
	uint64_t sends;		  /* packets the port sent */
};

/* An ICMP error read from a connected socket, for the next read. */
struct udp_conn_icmp {
	struct homa_addr dst; /* unreachable peer */
	uint16_t dport;	      /* its port (0 = the whole host) */
	int err;	      /* errno for the core */
};

struct udp_dp {
	struct homa_dp dp;	    /* common part (first) */
	struct homa_dp_opts opts;   /* options in force */
	int *port_fd;		    /* port -> UDP socket, -1 = none */
	int *port_family;	    /* port -> AF_INET / AF_INET6 */
	int num_ports;		    /* open ports */
	int *open_fds;		    /* their sockets, num_ports entries (rx
				     * walks this, not the port table) */
	uint16_t *open_ports;	    /* their ports, as open_fds */
	struct homa_dp_batch batch; /* packets waiting for flush */
	size_t rx_buf_bytes;	    /* bytes per receive buffer */
	int next_port;		    /* last client port tried */
	unsigned rx_rotor; /* rx starts at open_fds[rx_rotor % num_ports]
			    * (atomic: several threads may read) */
	struct homa_dp_gate ports_gate; /* rx passes it; port_fd, open_fds,
					 * num_ports change with it closed */
	bool gro_live;		 /* UDP_GRO is on for every socket (changes with
			      * ports_gate closed, once) */
	uint32_t gro_wanted;	 /* a reader saw a message of several packets:
			      * turn UDP_GRO on (atomic) */
	uint32_t sleeping;	 /* a thread is in udp_rx_sleep, on open_fds[0]
			      * (atomic) */
	uint64_t sleep_timeo_ns; /* SO_RCVTIMEO of open_fds[0], ns (0 = not
				  * set: the kernel's, none) */
	struct udp_conn_port **conn; /* port -> its destinations (NULL =
				      * none; all NULL without opts.connect) */
	bool conn_broken;	     /* some entry is broken (reap at flush) */
	pthread_mutex_t conn_lock;   /* guards conn_icmp */
	struct udp_conn_icmp conn_icmp[UDP_CONN_ICMP]; /* errors to report */
	int conn_icmp_n; /* entries in conn_icmp (atomic: readers look
			  * without conn_lock) */
};

/* Turn UDP_GRO on for every socket (udp_gro_start). */
void udp_gro_switch(struct udp_dp *u);

/* Turn UDP_GRO on if a reader asked (called outside ports_gate). */
static inline void udp_gro_start(struct udp_dp *u)
{
	if (__builtin_expect(
		    __atomic_load_n(&u->gro_wanted, __ATOMIC_RELAXED) &&
			    !__atomic_load_n(&u->gro_live, __ATOMIC_RELAXED),
		    0))
		udp_gro_switch(u);
}

/*
 * After a read of n datagrams at msgs: several DATA packets in one read
 * are a burst, which UDP_GRO coalesces (GSO runs of many small messages
 * to one peer: without it, 4 clients x 16 outstanding 100-byte RPCs cost
 * the server twice the CPU per RPC), so it is turned on. Other packets
 * do not count: a ping-pong's first response comes with a CUTOFFS, its
 * end with ACKs, and such a pair turned UDP_GRO on for good in 5 of 6
 * runs, every later read a recvmsg with a control message instead of a
 * recvfrom (docs/benchmarks.md, "The eighth round").
 */
static inline void udp_burst_note(struct udp_dp *u, const struct mmsghdr *msgs,
				  int n)
{
	int data = 0;

	if (n < 2 || !u->opts.gro || u->gro_live)
		return;
	for (int i = 0; i < n && data < 2; i++) {
		const struct iovec *v = msgs[i].msg_hdr.msg_iov;

		/* The header is in the first piece (HOMA_PLACE_HDR bytes
		 * when read into a place). */
		if (msgs[i].msg_len > HOMA_WIRE_OFF_TYPE &&
		    v[0].iov_len > HOMA_WIRE_OFF_TYPE &&
		    ((const uint8_t *)v[0].iov_base)[HOMA_WIRE_OFF_TYPE] ==
			    HOMA_PKT_DATA)
			data++;
	}
	if (data >= 2)
		__atomic_store_n(&u->gro_wanted, 1, __ATOMIC_RELAXED);
}

/*
 * Datagram slots the calling thread offers its next recvmmsg (1 to
 * UDP_RX_MSGS). Preparing a slot costs user-space work, and the kernel
 * tries one slot past the last datagram it finds: a second, empty
 * receive inside the call, about 0.1 us. So a read that fills every slot
 * keeps the count, and only udp_rx_need full reads in a row (a burst: no
 * empty read between) double it; a partial read offers as many as came.
 * A spinning ping-pong, whose reads find one packet after empty ones,
 * offers 1. So does a blocking one, whose reads find one packet each
 * with no empty read between: each time a doubled read comes back
 * partial, the full reads needed double (up to UDP_RX_NEED_MAX; it
 * offered 1, 1, 2 slots in turn before, a third of its reads paying the
 * empty try and recvmmsg's loop). A doubled read that fills, or an empty
 * read, sets them back to 2.
 */
#define UDP_RX_NEED_MAX 16
/* Defined in udp.c, and reached as statics are: hidden, local-dynamic
 * (one look-up of the library's thread block per function, not one per
 * variable). */
#define UDP_TLS                                                                \
	__attribute__((visibility("hidden"), tls_model("local-dynamic")))
extern __thread int udp_rx_want UDP_TLS;
extern __thread int udp_rx_need UDP_TLS;     /* full reads in a row to double */
extern __thread int udp_rx_streak UDP_TLS;   /* full reads in a row */
extern __thread bool udp_rx_doubled UDP_TLS; /* the last read offered twice
					      * the slots of the one before */

/* The slots to offer after a read that offered room (want asked) and
 * got n (< 0: nothing). */
static inline int udp_rx_next(int want, int room, int n)
{
	int twice = 2 * room < UDP_RX_MSGS ? 2 * room : UDP_RX_MSGS;

	if (n <= 0) {
		udp_rx_streak = 0;
		udp_rx_need = 2;
		udp_rx_doubled = false;
		return want;
	}
	if (n < room) {
		if (udp_rx_doubled && udp_rx_need < UDP_RX_NEED_MAX)
			udp_rx_need *= 2;
		udp_rx_doubled = false;
		udp_rx_streak = 0;
		return n;
	}
	if (udp_rx_doubled)
		udp_rx_need = 2; /* a burst indeed */
	udp_rx_streak++;
	udp_rx_doubled = udp_rx_streak >= udp_rx_need && twice > room;
	return udp_rx_doubled ? twice : room;
}

/* The GRO segment size of a received message (-1 if none). */
static inline int udp_gro_seg(struct msghdr *m)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(m); cm;
	     cm = CMSG_NXTHDR(m, cm)) {
		if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
			int s;

			memcpy(&s, CMSG_DATA(cm), sizeof(s));
			return s;
		}
	}
	return -1;
}

/* Split one received buffer (possibly GRO-coalesced) into packets;
 * returns how many. A malformed coalesced buffer is dropped whole
 * (udp.c). */
int udp_deliver_buf(struct homa_dp *dp, struct msghdr *m, size_t len,
		    homa_dp_deliver_fn deliver, void *arg);

/* udp_sleep.c: a zero-length datagram was read (inside ports_gate;
 * sleeper: by the thread in udp_rx_sleep): counted, dropped, passed on
 * if another thread sleeps. */
void udp_wake_read(struct udp_dp *u, bool sleeper);

/*
 * UDP_GRO (opts.gro) is turned on for the datapath's sockets only once a
 * message of several packets arrives (udp_gro_want) or a read finds
 * several datagrams (a burst, udp_rx_place), for good. Until
 * then no datagram can arrive coalesced (the kernel splits a GSO send
 * for a socket without UDP_GRO), so a one-slot read needs no control
 * message and is a recvfrom: 0.53-0.58 -> 0.47-0.50 us per successful
 * receive, 0.33 -> 0.29 per empty one (bench-syscalls.sh). Readers learn
 * the switch only by passing ports_gate, which is closed while it is
 * made: no reader uses recvfrom on a socket with UDP_GRO on.
 */
static inline void udp_gro_want(struct udp_dp *u, const uint8_t *pkt,
				size_t len)
{
	/* DATA's message_length follows the common header. */
	if (u->opts.gro && len >= HOMA_WIRE_DATA_BYTES &&
	    pkt[HOMA_WIRE_OFF_TYPE] == HOMA_PKT_DATA &&
	    ((uint32_t)pkt[HOMA_WIRE_COMMON_BYTES] << 24 |
	     (uint32_t)pkt[HOMA_WIRE_COMMON_BYTES + 1] << 16 |
	     (uint32_t)pkt[HOMA_WIRE_COMMON_BYTES + 2] << 8 |
	     pkt[HOMA_WIRE_COMMON_BYTES + 3]) > len - HOMA_WIRE_DATA_BYTES)
		__atomic_store_n(&u->gro_wanted, 1, __ATOMIC_RELAXED);
}

/*
 * The usual read: one socket, no places, one slot (a ping-pong's). A
 * datagram that came without a control message is one packet (UDP_GRO
 * gives a segment size with every coalesced buffer): delivered as it is,
 * without the loop and checks of udp_rx_place. flags: MSG_DONTWAIT, or 0
 * for udp_rx_sleep's sleeping read (inline in both: a call with seven
 * arguments per read). Returns datagrams read (1), 0 for none or a
 * wake-up, -errno if the read failed (-EAGAIN: nothing came; -EINTR: a
 * signal).
 */
static inline __attribute__((always_inline)) int
udp_rx_lone_in(struct udp_dp *u, struct homa_dp_rx_ring *r, int fd,
	       homa_dp_deliver_fn deliver, homa_dp_icmp_fn icmp, void *arg,
	       long flags)
{
	struct msghdr *m = &r->msgs[0].msg_hdr;
	int n = homa_dp_recv1(fd, r->msgs, flags), pkts = 1, err;
	struct homa_addr src;

	udp_rx_want = udp_rx_next(1, 1, n);
	HOMA_DP_ADD(u->dp.rx_calls, 1);
	if (n < 0) {
		err = errno;
		if (err != EAGAIN && err != EWOULDBLOCK && err != EINTR) {
			homa_dp_rx_reuse(r, 0, 1);
			homa_dp_errqueue(fd, NULL, icmp, arg);
		}
		return -err;
	}
	if (!r->msgs[0].msg_len) {
		homa_dp_rx_reuse(r, 0, 1);
		udp_wake_read(u, flags == 0);
		return 0;
	}
	if (m->msg_controllen) {
		pkts = udp_deliver_buf(&u->dp, m, r->msgs[0].msg_len, deliver,
				       arg);
	} else {
		if (!u->gro_live)
			udp_gro_want(u, r->iovs[0].iov_base,
				     r->msgs[0].msg_len);
		homa_dp_addr_from_sa(&src, m->msg_name);
		deliver(arg, &src, r->iovs[0].iov_base, r->msgs[0].msg_len);
	}
	homa_dp_rx_reuse(r, 0, 1);
	if (pkts)
		HOMA_DP_ADD(u->dp.rx_pkts, pkts);
	return 1;
}

/* udp_conn.c */
/* The socket connected to p's destination to send from, or -1 (not yet,
 * or the port has none); the slow part of udp_conn_fd. */
int udp_conn_slow(struct udp_dp *u, struct udp_conn_port *cp,
		  const struct homa_out_pkt *p);
/* The batch's conn_err: a send on conn_fd failed. */
void udp_conn_err(struct homa_dp *dp, int conn_fd, int err);
/* Close the sockets udp_conn_err took out of use (after a flush). */
void udp_conn_reap(struct udp_dp *u);
/* Close port's connected sockets and forget its destinations. */
void udp_conn_close(struct udp_dp *u, uint16_t port);
/* Hand the stored ICMP errors to icmp (udp_conn_report). */
void udp_conn_report_slow(struct udp_dp *u, homa_dp_icmp_fn icmp, void *arg);

/* The socket to send p from instead of its port's (udp_conn.c), -1 for
 * the port's: the last destination's, in a few loads and compares. */
static inline int udp_conn_fd(struct udp_dp *u, const struct homa_out_pkt *p)
{
	struct udp_conn_port *cp = u->conn[p->sport];
	struct udp_conn_dst *e;

	if (!cp)
		return -1;
	e = cp->hot;
	cp->sends++;
	if (e && e->fd >= 0 && !e->broken && e->port == p->dport &&
	    memcmp(&e->addr, p->dst, sizeof(e->addr)) == 0) {
		e->last = cp->sends;
		return e->fd;
	}
	return udp_conn_slow(u, cp, p);
}

/* Readers: hand over ICMP errors read from connected sockets, if any. */
static inline void udp_conn_report(struct udp_dp *u, homa_dp_icmp_fn icmp,
				   void *arg)
{
	if (__builtin_expect(__atomic_load_n(&u->conn_icmp_n, __ATOMIC_ACQUIRE),
			     0))
		udp_conn_report_slow(u, icmp, arg);
}

/* udp_place.c */
/* The datapath operation rx_place (and rx's read of several slots or
 * sockets). */
int udp_rx_place(struct homa_dp *dp, const struct homa_place *pl, int num_pl,
		 uint64_t gen, homa_dp_deliver_fn deliver,
		 homa_dp_placed_fn placed, homa_dp_icmp_fn icmp, void *arg);

/* udp_sleep.c */
/* Close ports_gate, waking a reader asleep in udp_rx_sleep. */
void udp_gate_close(struct udp_dp *u);
/* The datapath operations rx_sleep and rx_wake. */
int udp_rx_sleep(struct homa_dp *dp, uint64_t timeout_ns,
		 homa_dp_deliver_fn deliver, homa_dp_icmp_fn icmp, void *arg);
void udp_rx_wake(struct homa_dp *dp);

#endif /* HOMA_NET_UDP_IMPL_H */
