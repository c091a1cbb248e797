/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * datapath.h - the one interface between libhoma and the network: UDP
 * (udp.c) and raw IP protocol 146 (raw.c) implement it. A datapath owns
 * its kernel sockets, reserves Homa ports host-wide, transmits packets the
 * core hands it (batched: queued by xmit, sent by flush), and receives
 * packets in batches without blocking. All calls are made with the
 * library lock held, except rx, which reading threads call without it,
 * several at once (the poller and application threads busy-polling
 * without the role, each into its own buffers: homa_dp_thread_buf).
 */
#ifndef HOMA_NET_DATAPATH_H
#define HOMA_NET_DATAPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "homa_core.h"
#include "wire.h"

/* UDP GSO and GRO socket options (Linux 4.18, 5.0), for C libraries
 * whose headers lack them. */
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

/* Packets handed over by rx. */
typedef void (*homa_dp_deliver_fn)(void *arg, const struct homa_addr *src,
				   const uint8_t *pkt, size_t bytes);
/* A packet read by rx_place into reserved place pl[place]: its first
 * HOMA_PLACE_HDR bytes (or all, if shorter) are at buf, the next ones at
 * the place's spans, and any beyond them at buf + HOMA_PLACE_HDR +
 * pl[place].bytes (homa_place_gather makes it one buffer). */
typedef void (*homa_dp_placed_fn)(void *arg, const struct homa_addr *src,
				  uint8_t *buf, size_t bytes, int place);
/* ICMP errors seen by rx: dst:dport could not be reached (errno). */
typedef void (*homa_dp_icmp_fn)(void *arg, const struct homa_addr *dst,
				uint16_t dport, int err);

struct homa_dp;

struct homa_dp_ops {
	const char *name; /* "udp" or "raw" */
	/* Reserve port for a socket of family (0 = any client port, from
	 * HOMA_MIN_CLIENT_PORT up). Returns the port or a negative errno
	 * (-EADDRINUSE). */
	int (*port_open)(struct homa_dp *dp, int family, uint16_t port);
	/* Release a port reserved by port_open. */
	void (*port_close)(struct homa_dp *dp, uint16_t port);
	/* Queue one packet; may flush when the batch is full. */
	void (*xmit)(struct homa_dp *dp, const struct homa_out_pkt *pkt);
	/* Send everything queued. */
	void (*flush)(struct homa_dp *dp);
	/* The core is about to free [p, p + bytes): send what still points
	 * into it (payloads queued without a copy). Optional (NULL): raw
	 * copies every payload. */
	void (*release)(struct homa_dp *dp, const void *p, size_t bytes);
	/* Read what has arrived, without blocking; returns packets read. */
	int (*rx)(struct homa_dp *dp, homa_dp_deliver_fn deliver,
		  homa_dp_icmp_fn icmp, void *arg);
	/* Like rx, but the first packets read from the socket of pl[0].port
	 * land in the places pl[0..n) (the core's reservation, all on one
	 * port), delivered through placed; NULL if the datapath cannot.
	 * Places are not used if a port was closed since close_gen was
	 * gen (their pool may be gone). */
	int (*rx_place)(struct homa_dp *dp, const struct homa_place *pl, int n,
			uint64_t gen, homa_dp_deliver_fn deliver,
			homa_dp_placed_fn placed, homa_dp_icmp_fn icmp,
			void *arg);
	/* Copy the first bytes of the first datagram waiting on port's
	 * socket to buf without taking it (MSG_PEEK); returns how many, 0
	 * if none is waiting or port closed since close_gen was gen. An
	 * error pending on the socket is drained to icmp, as rx does.
	 * Counted in rx_calls. NULL where rx_place is. */
	int (*rx_peek)(struct homa_dp *dp, uint16_t port, uint64_t gen,
		       uint8_t *buf, size_t bytes, homa_dp_icmp_fn icmp,
		       void *arg);
	/* Tell src that pkt (a Homa packet it sent, delivered by rx) found
	 * no server on its port: ICMP port unreachable, if the datapath can
	 * send one (dp_icmp.c). */
	void (*unreachable)(struct homa_dp *dp, const struct homa_addr *src,
			    const uint8_t *pkt, size_t bytes);
	/* Put the receive sockets into epfd (on) or take them out (off).
	 * A socket in an epoll set costs every packet delivered to it a
	 * wake-up pass of the set, even when nobody sleeps there: the
	 * poller takes them out while it spins without sleeping and puts
	 * them back before it sleeps (poller.c). Ports opened meanwhile go
	 * in at once. Optional (NULL): always in. */
	void (*arm)(struct homa_dp *dp, bool on);
	/* Sleep in the receive socket's own blocking read, as an
	 * application's blocking recv does (the sleep and the read are one
	 * system call), and deliver what it read as rx does. Only while
	 * sleepable is true (one receive socket, checked under the library
	 * lock); without the lock, by the poller alone. Ends with a packet
	 * (returns packets read, > 0), with rx_wake or a timeout of
	 * timeout_ns (SO_RCVTIMEO, set again only when it changes: returns
	 * 0), or with a signal (-EINTR: the receive timeout makes the
	 * kernel return EINTR even for an SA_RESTART handler, signal(7)).
	 * Optional (NULL): the library sleeps in epoll (poller.c). */
	int (*rx_sleep)(struct homa_dp *dp, uint64_t timeout_ns,
			homa_dp_deliver_fn deliver, homa_dp_icmp_fn icmp,
			void *arg);
	/* End rx_sleep, now or, if the poller is about to sleep, at once
	 * when it does: a zero-length datagram to the socket, which is never
	 * a Homa packet (whoever reads one drops it and counts it in
	 * rx_wakes). Any thread, with or without the library lock. */
	void (*rx_wake)(struct homa_dp *dp);
	/* Free everything. */
	void (*destroy)(struct homa_dp *dp);
};

/* State common to datapaths; each embeds it first. */
struct homa_dp {
	const struct homa_dp_ops *ops; /* the implementation */
	int epfd;	      /* epoll set of the datapath's receive sockets */
	uint64_t tx_pkts;     /* packets sent */
	uint64_t tx_calls;    /* send system calls */
	uint64_t rx_pkts;     /* packets received */
	uint64_t rx_calls;    /* receive system calls */
	uint64_t tx_errors;   /* send failures (packets lost) */
	uint64_t tx_merged;   /* GRANTs replaced in the batch by a later
			       * GRANT for the same RPC (not sent) */
	uint64_t rx_gro_bufs; /* coalesced (UDP_GRO) buffers split */
	uint64_t rx_gro_bad;  /* coalesced buffers dropped as malformed */
	uint64_t
		rx_filtered; /* packets, ICMP errors for ports not ours (raw) */
	uint64_t rx_bad_csum; /* packets failing checksum verification */
	uint64_t rx_wakes;    /* zero-length datagrams read (rx_wake's, or
			       * anyone's) and dropped */
	bool sleepable;	      /* rx_sleep may sleep: one receive socket
			       * (changes under the library lock) */
	uint64_t close_gen;   /* ports closed so far (changes under the
			       * library lock, UDP's ports gate closed) */
	int placing_port;     /* port the poller reads into places: other
			       * readers leave its socket alone; -1 = none
			       * (atomic; read sequentially consistent, see
			       * homa_lib_place) */
	int icmp_fd[2];	      /* raw ICMP, ICMPv6 sockets + 1; 0 = not tried,
			 * -1 = cannot (no CAP_NET_RAW) */
	struct homa_addr icmp_last_dst; /* last port unreachable: to... */
	uint16_t icmp_last_port;	/* ...this client port... */
	uint64_t icmp_last_ns;		/* ...at this time, ns */
	uint64_t icmp_window_ns;	/* start of the current second, ns */
	uint32_t icmp_window_sent;	/* ICMPs sent in it */
	/* UDP's connected sending sockets (udp_conn.c): */
	uint64_t tx_conn_opened; /* sockets opened */
	uint64_t tx_conn_errors; /* sends on them that failed (an ICMP error,
				  * usually): the packets went again from the
				  * port's socket, the socket was closed */
	uint64_t tx_conn_lost;	 /* ICMP errors read from them and dropped:
				  * more than UDP_CONN_ICMP waiting */
	/* tx_* change under the library lock; rx_* are added to by
	 * several reading threads at once: only with HOMA_DP_ADD, and read
	 * with HOMA_DP_READ. */
};

/*
 * The gate that keeps a datapath's socket set still while threads read
 * from it: a socket is not closed (and its number reused) while a reader
 * may still use it. Readers pass it with two atomic additions and a load
 * (a reader-writer lock cost about 60 instructions per read, and every
 * busy-polling read takes it); writers (opening and closing ports, rare)
 * close it, wait for the readers inside to leave, change the set, and
 * open it again. A closed gate turns new readers back until it opens, so
 * writers get in while readers keep coming. Readers never block inside
 * (their reads do not wait), so a writer's wait is short.
 */
struct homa_dp_gate {
	uint32_t readers;	 /* threads inside (atomic) */
	uint32_t closed;	 /* 1 while a writer waits or works (atomic) */
	pthread_mutex_t writers; /* one writer at a time */
};

void homa_dp_gate_init(struct homa_dp_gate *g);
void homa_dp_gate_destroy(struct homa_dp_gate *g);
/* Reader: the gate was closed; wait for it to open, then enter. */
void homa_dp_gate_enter_slow(struct homa_dp_gate *g);

/* Reader: enter (may wait while a writer works). The readers count is
 * raised before closed is looked at and a writer sets closed before it
 * counts the readers (both sequentially consistent): one of the two sees
 * the other. */
static inline void homa_dp_gate_enter(struct homa_dp_gate *g)
{
	__atomic_fetch_add(&g->readers, 1, __ATOMIC_SEQ_CST);
	if (__builtin_expect(__atomic_load_n(&g->closed, __ATOMIC_SEQ_CST), 0))
		homa_dp_gate_enter_slow(g);
}

/* Reader: leave (everything read inside happens before a writer's
 * changes). */
static inline void homa_dp_gate_leave(struct homa_dp_gate *g)
{
	__atomic_fetch_sub(&g->readers, 1, __ATOMIC_RELEASE);
}

/* Writer: close the gate and wait until no reader is inside. */
void homa_dp_gate_close(struct homa_dp_gate *g);
/* Writer: the same, calling wake(arg) while readers stay inside (a
 * reader asleep in rx_sleep leaves only when woken). */
void homa_dp_gate_close_wake(struct homa_dp_gate *g, void (*wake)(void *),
			     void *arg);
/* Writer: let readers in again (they see every change made while it was
 * closed). */
void homa_dp_gate_open(struct homa_dp_gate *g);

#define HOMA_DP_ADD(counter, n)                                                \
	__atomic_fetch_add(&(counter), (uint64_t)(n), __ATOMIC_RELAXED)
#define HOMA_DP_READ(counter) __atomic_load_n(&(counter), __ATOMIC_RELAXED)

/* Options for creating a datapath. */
struct homa_dp_opts {
	bool gso;	  /* UDP: segmentation offload on send */
	bool gro;	  /* UDP: receive offload */
	bool verify_csum; /* raw: check the Homa checksum on receive */
	int rcvbuf_bytes; /* SO_RCVBUF for receive sockets (0 = leave) */
	int sndbuf_bytes; /* SO_SNDBUF (0 = leave) */
	bool connect;	  /* UDP: connected sockets for frequent
			   * destinations (udp_conn.c) */
};

/* ---- the transmit batch (dp_batch.c) ---- */

#define HOMA_DP_BATCH_PKTS   64	   /* packets queued before a flush */
#define HOMA_DP_PKT_MAX	     65535 /* largest Homa packet (loopback MTU), bytes */
#define HOMA_DP_ZC_MIN_BYTES 1024 /* smaller payloads are copied, bytes */

struct homa_dp_pkt {
	int fd;			 /* socket to send from */
	int conn_fd;		 /* socket connected to dst to send from
				  * instead, without a name (no route lookup
				  * per send; UDP, udp_conn.c); -1 = none */
	const uint8_t *payload;	 /* payload left in the core's memory, or
				  * NULL if copied after the header */
	uint32_t payload_bytes;	 /* bytes at payload */
	struct sockaddr_in6 dst; /* destination (sockaddr_in or _in6) */
	socklen_t dst_len;	 /* bytes of dst */
	uint8_t tos;		 /* TOS / traffic class byte */
	uint32_t off;		 /* offset of the copied bytes in tx_buf */
	uint32_t bytes;		 /* packet length (header and payload) */
};

struct homa_dp_batch {
	struct homa_dp_pkt pkts[HOMA_DP_BATCH_PKTS]; /* queued packets */
	int num_pkts;				     /* entries in pkts */
	uint8_t tx_buf[HOMA_DP_BATCH_PKTS * HOMA_DP_PKT_MAX]; /* bytes */
	uint32_t tx_used;  /* bytes used in tx_buf */
	uintptr_t zc_lo;   /* lowest address of a payload left uncopied */
	uintptr_t zc_hi;   /* end of the highest one (zc_lo = zc_hi: none) */
	bool gso;	   /* UDP GSO allowed */
	bool gso_refused;  /* the kernel refused GSO once */
	bool sock_tos_set; /* every IPv4 sending socket carries sock_tos
			    * (homa_dp_batch_sock_tos), so its packets
			    * need no IP_TOS control message */
	uint8_t sock_tos;  /* that TOS byte */
	/* The socket address of the last destination (a round trip sends
	 * to one peer: built once, not per packet). */
	struct homa_addr last_addr;  /* its Homa address... */
	uint16_t last_port;	     /* ...port... */
	bool last_v6;		     /* ...for an IPv6 socket (mapped) */
	struct sockaddr_in6 last_sa; /* its socket address */
	socklen_t last_sa_len;	     /* bytes of last_sa (0 = none yet) */
	/* A send from a conn_fd failed with err (errno): the datapath
	 * takes that socket out of use and reports what its error queue
	 * holds; the batch then sends the packets from fd, with names.
	 * NULL: no connected sockets (raw). */
	void (*conn_err)(struct homa_dp *dp, int conn_fd, int err);
};

/* The priority every IPv4 datapath socket carries as its IP_TOS: the top
 * one, which the default priority map gives short messages and control
 * packets. Packets of other priorities carry an IP_TOS control message. */
#define HOMA_DP_SOCK_PRIO (HOMA_MAX_PRIORITIES - 1)

/* Give a new sending socket fd (AF_INET or AF_INET6) the batch's socket
 * TOS: IPv4 sockets get IP_TOS = HOMA_DP_SOCK_PRIO's TOS byte. If that
 * fails, the batch stops relying on it (every packet gets its control
 * message again). IPv6 sockets keep a control message per packet. */
void homa_dp_batch_sock_tos(struct homa_dp_batch *b, int fd, int family);

/* Is p's destination b's last one (for a socket of IPv6 or not)? */
static inline bool homa_dp_batch_same_dst(const struct homa_dp_batch *b,
					  bool v6_socket,
					  const struct homa_out_pkt *p)
{
	return b->last_sa_len != 0 && b->last_port == p->dport &&
	       b->last_v6 == v6_socket &&
	       memcmp(&b->last_addr, p->dst, sizeof(b->last_addr)) == 0;
}
/* The rest of homa_dp_batch_add (dp_batch.c). */
uint8_t *homa_dp_batch_add_slow(struct homa_dp *dp, struct homa_dp_batch *b,
				int fd, int conn_fd, bool v6_socket,
				bool zero_copy, const struct homa_out_pkt *p);
/* Queue p to go out of fd (or of conn_fd, a socket connected to p's
 * destination, if >= 0). Its header is copied; so is its payload unless
 * zero_copy allows leaving a large one where the core keeps it (the core
 * then announces frees through homa_dp_batch_release). Returns where the
 * copied bytes are (for checksums), or NULL if the packet was dropped
 * (counted in tx_errors). */
static inline uint8_t *homa_dp_batch_add(struct homa_dp *dp,
					 struct homa_dp_batch *b, int fd,
					 int conn_fd, bool v6_socket,
					 bool zero_copy,
					 const struct homa_out_pkt *p)
{
	uint32_t bytes = p->hdr_bytes + p->payload_bytes;
	struct homa_dp_pkt *q;
	uint8_t *data;

	/* The usual packet, a small message's to the last destination:
	 * header and payload lie together (a one-packet message in its RPC
	 * record), one copy, and the copy is the only call (no frame).
	 * Inline in the datapath's xmit: the call with its seven arguments
	 * cost about 15 instructions per packet (docs/benchmarks.md,
	 * "lean11"). Everything else: homa_dp_batch_add_slow. */
	if (__builtin_expect(
		    fd >= 0 && bytes <= HOMA_DP_PKT_MAX &&
			    !(zero_copy &&
			      p->payload_bytes >= HOMA_DP_ZC_MIN_BYTES) &&
			    p->hdr + p->hdr_bytes == p->payload &&
			    b->num_pkts < HOMA_DP_BATCH_PKTS &&
			    homa_dp_batch_same_dst(b, v6_socket, p),
		    1)) {
		q = &b->pkts[b->num_pkts++];
		q->fd = fd;
		q->conn_fd = conn_fd;
		q->dst = b->last_sa;
		q->dst_len = b->last_sa_len;
		q->tos = (uint8_t)(p->priority << HOMA_WIRE_TOS_PRIO_SHIFT);
		q->off = b->tx_used;
		q->bytes = bytes;
		q->payload = NULL;
		q->payload_bytes = 0;
		data = b->tx_buf + b->tx_used;
		b->tx_used += bytes;
		return memcpy(data, p->hdr, bytes);
	}
	return homa_dp_batch_add_slow(dp, b, fd, conn_fd, v6_socket, zero_copy,
				      p);
}
/* Send b's one queued packet (homa_dp_batch_flush's usual case). */
void homa_dp_batch_flush_one(struct homa_dp *dp, struct homa_dp_batch *b);
/* Send the packets queued in b when there are several. */
void homa_dp_batch_flush_many(struct homa_dp *dp, struct homa_dp_batch *b);
/* Send everything queued in b. */
static inline void homa_dp_batch_flush(struct homa_dp *dp,
				       struct homa_dp_batch *b)
{
	if (b->num_pkts == 1)
		homa_dp_batch_flush_one(dp, b);
	else if (b->num_pkts) /* most flushes of a round trip: nothing */
		homa_dp_batch_flush_many(dp, b);
}
/* Memory [p, p + bytes) is about to be freed: flush b if a payload
 * queued without a copy may lie in it. */
void homa_dp_batch_release(struct homa_dp *dp, struct homa_dp_batch *b,
			   const void *p, size_t bytes);

/* Create a datapath; *out on success. Negative errno on failure
 * (-EPERM for raw without CAP_NET_RAW). */
int homa_dp_udp_create(const struct homa_dp_opts *opts, struct homa_dp **out);
int homa_dp_raw_create(const struct homa_dp_opts *opts, struct homa_dp **out);

/* ICMP port unreachable to src for pkt, quoted as l4proto (IPPROTO_UDP
 * or 146): see dp_icmp.c. Lock held. */
void homa_dp_port_unreachable(struct homa_dp *dp, int l4proto,
			      const struct homa_addr *src, const uint8_t *pkt,
			      size_t bytes);
/* Close the ICMP sockets (destroy). */
void homa_dp_icmp_close(struct homa_dp *dp);

/* Helpers shared by datapaths (dp_common.c). */
/* The Homa address of a sockaddr_in or _in6 (IPv4 as ::ffff:a.b.c.d).
 * Inline: every packet read asks it. */
static inline void homa_dp_addr_from_sa(struct homa_addr *a, const void *sa)
{
	const struct sockaddr *s = sa;

	if (s->sa_family == AF_INET)
		homa_addr_set_v4(a,
				 &((const struct sockaddr_in *)sa)->sin_addr);
	else
		memcpy(a->a, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
}
/* Fill a sockaddr_in or _in6 (per the address form); returns its length. */
int homa_dp_sa_from_addr(const struct homa_addr *a, uint16_t port, void *sa);
/*
 * homa_dp_syscall() - system call nr with up to six arguments, as
 * syscall(2) makes it (-1 and errno on failure, never a cancellation
 * point), but inline on x86-64: glibc's syscall() is variadic and moves
 * every argument twice, about 25 instructions of the 40 around each send
 * and receive of a ping-pong (callgrind). Elsewhere it is syscall().
 */
static inline long homa_dp_syscall(long nr, long a1, long a2, long a3, long a4,
				   long a5, long a6)
{
#if defined(__x86_64__) && defined(__linux__)
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	long r;

	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10),
			   "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	if (__builtin_expect((unsigned long)r > -4096UL, 0)) {
		errno = (int)-r;
		return -1;
	}
	return r;
#else
	return syscall(nr, a1, a2, a3, a4, a5, a6);
#endif
}

/*
 * recvmmsg(fd, msgs, n, MSG_DONTWAIT, NULL) (recvmsg if n is 1) without
 * glibc's wrapper: the same system call, errno set the same way, but no
 * cancellation point (glibc turns asynchronous cancellation on and off
 * around the call, about 300 of the 400 instructions an empty read cost
 * in user space).
 * The reads never block (MSG_DONTWAIT), so a thread waiting in libhoma
 * still reaches its cancellation point where it sleeps (wait.c's ppoll,
 * epoll_pwait2); and UDP reads inside its ports gate, where a
 * cancellation would have shut writers out for good.
 */
static inline int homa_dp_recv1(int fd, struct mmsghdr *msgs, long flags)
{
	/* One slot: recvmsg, the same receive without recvmmsg's loop
	 * around it (0.54 -> 0.50 us per datagram read on loopback,
	 * measured with a plain C probe); recvfrom if the slot wants no
	 * control message and has one buffer: the kernel then copies in no
	 * msghdr and imports no iovec (a third of a 100-byte recvmsg's
	 * kernel time, perf). flags: MSG_DONTWAIT, or 0 to sleep (rx_sleep,
	 * a socket opened blocking). */
	struct msghdr *h = &msgs[0].msg_hdr;
	long r;

	if (!h->msg_controllen && h->msg_iovlen == 1)
		r = homa_dp_syscall(SYS_recvfrom, (long)fd,
				    (long)h->msg_iov[0].iov_base,
				    (long)h->msg_iov[0].iov_len, flags,
				    (long)h->msg_name, (long)&h->msg_namelen);
	else
		r = homa_dp_syscall(SYS_recvmsg, (long)fd, (long)h, flags, 0, 0,
				    0);
	if (r < 0)
		return -1;
	msgs[0].msg_len = (unsigned)r;
	return 1;
}

static inline int homa_dp_recvmmsg(int fd, struct mmsghdr *msgs, unsigned n)
{
	if (n == 1)
		return homa_dp_recv1(fd, msgs, (long)MSG_DONTWAIT);
#ifdef SYS_recvmmsg
	/* Every argument as wide as a register: syscall() reads longs. */
	return (int)homa_dp_syscall(SYS_recvmmsg, (long)fd, (long)msgs, (long)n,
				    (long)MSG_DONTWAIT, 0, 0);
#else
	return recvmmsg(fd, msgs, n, MSG_DONTWAIT, NULL);
#endif
}

/*
 * The calling thread's receive slots: HOMA_DP_RX_MSGS recvmmsg messages,
 * slot i reading into buffer i (buf_bytes each, up to HOMA_DP_RX_BUF_MAX)
 * with its source address and, if asked, room for one int-sized control
 * message. They are written whole once per thread (again if a datapath
 * asks for another layout); after each read only what the kernel
 * overwrote is reset (homa_dp_rx_reuse). A datapath that points a
 * slot's msg_iov elsewhere (reading into places) puts it back before its
 * read returns.
 */
#define HOMA_DP_RX_MSGS	   16			   /* datagrams per recvmmsg */
#define HOMA_DP_RX_BUF_MAX (HOMA_DP_PKT_MAX + 512) /* largest buffer, bytes */

struct homa_dp_rx_ring {
	struct mmsghdr msgs[HOMA_DP_RX_MSGS];	    /* the slots */
	struct iovec iovs[HOMA_DP_RX_MSGS];	    /* slot i: buffer i */
	struct sockaddr_in6 names[HOMA_DP_RX_MSGS]; /* sources */
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cms[HOMA_DP_RX_MSGS];	 /* control messages (UDP_GRO) */
	uint8_t *bufs;		 /* the buffers, HOMA_DP_RX_MSGS of
				  * buf_bytes */
	size_t buf_bytes;	 /* bytes per buffer (0 = not written) */
	socklen_t control_bytes; /* control room per slot (0 = none) */
};

/* The calling thread's ring once homa_dp_rx_ring_setup made it. */
extern __thread struct homa_dp_rx_ring *homa_dp_rx_cur;

/* Lay the calling thread's ring out for buffers of buf_bytes (at most
 * HOMA_DP_RX_BUF_MAX), with control room or not. NULL if out of memory.
 * Lives in per-thread buffer 0 (homa_dp_thread_buf). */
struct homa_dp_rx_ring *homa_dp_rx_ring_setup(size_t buf_bytes, bool control);

/* The calling thread's ring for buffers of buf_bytes (with control room
 * or not): written only the first time, or when another layout was last
 * asked for. NULL if out of memory. */
static inline struct homa_dp_rx_ring *homa_dp_rx_ring(size_t buf_bytes,
						      bool control)
{
	struct homa_dp_rx_ring *r = homa_dp_rx_cur;

	if (__builtin_expect(r && r->buf_bytes == buf_bytes &&
				     !r->control_bytes == !control,
			     1))
		return r;
	return homa_dp_rx_ring_setup(buf_bytes, control);
}

/* The kernel filled slots [first, first + n) (a read returned n; a
 * failed one: n = 1): give the lengths it wrote back their room for the
 * next read. Slots it did not fill are still ready, so an empty read
 * costs nothing here. */
static inline void homa_dp_rx_reuse(struct homa_dp_rx_ring *r, int first, int n)
{
	for (int i = first; i < first + n; i++) {
		r->msgs[i].msg_hdr.msg_namelen = sizeof(r->names[i]);
		r->msgs[i].msg_hdr.msg_controllen = r->control_bytes;
	}
}

/* Point slot i's message back at its own buffer. */
static inline void homa_dp_rx_restore(struct homa_dp_rx_ring *r, int i)
{
	r->msgs[i].msg_hdr.msg_iov = &r->iovs[i];
	r->msgs[i].msg_hdr.msg_iovlen = 1;
}

/* Read fd's error queue (IP_RECVERR / IPV6_RECVERR) and report each ICMP
 * error that ends RPCs (spec 6.4, decided by ICMP type and code as Linux
 * Homa does): port unreachable -> ENOTCONN for the port (raw: the dport
 * of the quoted Homa header; UDP: the datagram's destination port),
 * protocol unreachable / unknown next header -> EPROTONOSUPPORT, other
 * destination unreachable codes -> EHOSTUNREACH; other types are
 * ignored. raw_ports (raw datapath: port -> fd, -1 = not ours; NULL for
 * UDP): the kernel gives an ICMP error about a protocol-146 packet to
 * every raw socket of the host, so one is reported only if the quoted
 * Homa header's source port is this process's (else another process's
 * error would end our RPCs to that host). Returns how many errors it read
 * that were about another process's packets (raw; 0 for UDP). */
int homa_dp_errqueue(int fd, const int *raw_ports, homa_dp_icmp_fn icmp,
		     void *arg);
/* The route to dst: our address on it (*src) and its MTU (*mtu, 0 if
 * unknown). 0 or -errno. */
int homa_dp_route(const struct homa_addr *dst, struct homa_addr *src,
		  uint32_t *mtu);
/* The MTU of the route to dst (0 if unknown; loopback reports 65536) and
 * whether dst is on this host (*local): one of its addresses, or, if
 * veth_local, reached without a gateway through a veth device (another
 * namespace of this host; dp_route.c says why). A few system calls: the
 * core asks once per peer. */
uint32_t homa_dp_path_mtu(const struct homa_addr *dst, bool veth_local,
			  bool *local);
/* How a buffer of len bytes read from a UDP socket splits into Homa
 * packets: gro is the UDP_GRO segment size its control message gave (-1
 * if none). Returns the packets (*seg: bytes of each, the last may be
 * shorter), or 0 if the buffer is malformed and must be dropped whole
 * (counted in rx_gro_bad): a segment size of 0 or less, or a coalesced
 * buffer whose segments are not all Homa packets of one port pair (each
 * at least a common header long, a DATA segment at least its header).
 * A buffer without coalescing (no cmsg, or seg >= len) is one packet,
 * left to the core's checks. */
int homa_dp_gro_split(const uint8_t *buf, size_t len, int gro, size_t *seg);

/* Per-thread buffer number slot (0: the datapath's receive ring, 1: the
 * library's packet batch, 2: UDP's coalesced buffer made whole again), allocated on first use with at least bytes
 * (callers always ask the same size per slot); freed at thread exit.
 * NULL if out of memory. */
#define HOMA_DP_TLS_SLOTS 3
/* The calling thread's buffers once allocated (NULL: not yet). */
extern __thread void *homa_dp_tls[HOMA_DP_TLS_SLOTS];
/* Allocate (or find) the calling thread's buffer number slot. */
void *homa_dp_thread_buf_alloc(int slot, size_t bytes);

static inline void *homa_dp_thread_buf(int slot, size_t bytes)
{
	void *p = homa_dp_tls[slot];

	return __builtin_expect(p != NULL, 1)
		       ? p
		       : homa_dp_thread_buf_alloc(slot, bytes);
}
/* Bytes of the per-thread buffers that all threads hold now (each thread
 * that has read packets holds about 1 MB until it exits). */
uint64_t homa_dp_thread_buf_bytes(void);

/* The Internet checksum (RFC 1071) of n bytes at p, e.g. an IP or ICMP
 * header with its checksum field zero. */
uint16_t homa_dp_inet_csum(const uint8_t *p, size_t n);

/* The 16-bit one's-complement checksum of spec 1.9 (TCP pseudo-header
 * over src, dst, length, protocol 6) on Homa bytes, with the checksum
 * field (HOMA_WIRE_OFF_CHECKSUM) taken as zero. */
uint16_t homa_dp_checksum(const struct homa_addr *src,
			  const struct homa_addr *dst, const uint8_t *pkt,
			  size_t bytes);

#endif /* HOMA_NET_DATAPATH_H */
