/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * homa.h - the public API of libhoma, the user-space Homa transport.
 *
 * Constants and structures have the names, values and layouts of the Linux
 * Homa user API (include/uapi/linux/homa.h of HomaModule), so code written
 * for the kernel module moves here by renaming calls: socket() becomes
 * homa_socket(), sendmsg() homa_sendmsg(), and so on. A Homa socket is a
 * real file descriptor that poll, epoll and select report readable when a
 * message is ready and writable while outgoing memory is under its limit.
 *
 * All calls follow the sockets convention: they return -1 and set errno on
 * failure. They are thread-safe. See homa(7) for concepts, datapaths (UDP
 * by default, raw IP protocol 146 with HOMA_DATAPATH=raw) and
 * configuration, and the pages of each call for their errors.
 */
#ifndef HOMA_H
#define HOMA_H

#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The version of this header: MAJOR.MINOR.PATCH. The one source is
 * project(VERSION) in CMakeLists.txt, which refuses to configure when
 * these differ from it. homa_version() gives the library's own version,
 * which may differ from the header's when a program runs with another
 * libhoma.so than the one it was built against. Before 1.0, a MINOR
 * release may change the API and the ABI (README.md, "Version, stability
 * and license").
 */
#define HOMA_VERSION_MAJOR  0
#define HOMA_VERSION_MINOR  1
#define HOMA_VERSION_PATCH  0
#define HOMA_VERSION_STRING "0.1.0"

#ifndef IPPROTO_HOMA
#define IPPROTO_HOMA 146
#endif

/* Largest message (bytes); the smallest is 1. */
#define HOMA_MAX_MESSAGE_LENGTH 1000000

/* Receive buffers are made of bpages of this size. */
#define HOMA_BPAGE_SHIFT 16
#define HOMA_BPAGE_SIZE	 (1 << HOMA_BPAGE_SHIFT)

/* Most bpages one message can occupy. */
#define HOMA_MAX_BPAGES                                                        \
	((HOMA_MAX_MESSAGE_LENGTH + HOMA_BPAGE_SIZE - 1) >> HOMA_BPAGE_SHIFT)

/* Ports below this are server ports (bind); at and above, client ports
 * assigned automatically. */
#define HOMA_MIN_DEFAULT_PORT 0x8000

/* msg_control of homa_sendmsg points at this (msg_controllen 0). */
struct homa_sendmsg_args {
	/* in: 0 for a new request, else the id of the request being
	 * answered; out (requests): the new RPC's id */
	uint64_t id;
	/* in (requests): returned with the response; 0 for responses */
	uint64_t completion_cookie;
	/* in: HOMA_SENDMSG_* */
	uint32_t flags;
	/* must be 0 */
	uint32_t reserved;
};

/* The response goes only to a homa_recvmsg that names this RPC's id. */
#define HOMA_SENDMSG_PRIVATE 0x01
/*
 * libhoma only (the kernel module has no such flag; its bits 0x01 and
 * 0x02 are PRIVATE and NONBLOCKING): a request sent without a copy. The
 * library keeps a reference to the caller's bytes and sends, and
 * resends, the request from there. The caller promises that they stay
 * valid and unchanged until the RPC ends: its response or its error is
 * returned by homa_recvmsg / homa_receive, HOMAIOCABORT with error 0
 * returns for it, or homa_shutdown / homa_close returns. A message of
 * more than one iovec piece is copied as without the flag (the promise
 * then costs nothing). A response (id != 0) with this flag fails with
 * EINVAL: a server learns of no end of its RPC. Memory is counted
 * against wmem_max as for a copied request. See homa_sendmsg(3).
 */
#define HOMA_SENDMSG_NOCOPY	 0x100
#define HOMA_SENDMSG_VALID_FLAGS (HOMA_SENDMSG_PRIVATE | HOMA_SENDMSG_NOCOPY)

/* msg_control of homa_recvmsg points at this (msg_controllen = size). */
struct homa_recvmsg_args {
	/* in: 0 for any shared message, else a private client RPC's id;
	 * out: the id of the RPC returned (also on a per-RPC error) */
	uint64_t id;
	/* out: the request's cookie (responses), 0 for requests */
	uint64_t completion_cookie;
	/* in: bpages being returned to the pool; out: bpages of the
	 * message now owned by the application */
	uint32_t num_bpages;
	/* must be 0 */
	uint32_t reserved;
	/* in/out: offsets of those bpages within the buffer region */
	uint32_t bpage_offsets[HOMA_MAX_BPAGES];
};

/* setsockopt(SO_HOMA_RCVBUF) argument: the receive buffer region. */
struct homa_rcvbuf_args {
	uint64_t start; /* address of the region (page-aligned) */
	size_t length;	/* bytes in the region */
};

/* Socket options, level IPPROTO_HOMA. */
#define SO_HOMA_RCVBUF 10
#define SO_HOMA_SERVER 11

/* Flags in homa_rpc_info.flags. */
#define HOMA_RPC_BUF_STALL 1
#define HOMA_RPC_PRIVATE   2
#define HOMA_RPC_RX_READY  4
#define HOMA_RPC_RX_COPY   8
#define HOMA_RPC_OVERDUE                                                       \
	16 /* libhoma only: a server RPC answered by no
			       * homa_reply for overdue_ticks (homa(7)) */

/* One RPC as reported by HOMAIOCINFO (184 bytes). */
struct homa_rpc_info {
	uint64_t id; /* local id: even on clients, odd on servers */
	union {
		struct sockaddr_storage storage;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} peer;			    /* the other end */
	uint64_t completion_cookie; /* clients: the request's cookie */
	int32_t tx_length;	    /* outgoing message bytes, -1 if none yet */
	uint32_t tx_sent;	    /* outgoing bytes transmitted */
	uint32_t tx_granted;	    /* outgoing bytes the receiver allowed */
	uint32_t tx_prio;	    /* priority of scheduled outgoing bytes */
	int32_t rx_length;	    /* incoming message bytes, -1 if unknown */
	uint32_t rx_remaining;	    /* incoming bytes not yet received */
	uint32_t rx_gaps;	    /* gaps in the received data */
	uint32_t rx_gap_bytes;	    /* bytes in those gaps */
	uint32_t rx_granted;	    /* incoming bytes granted to the sender */
	uint16_t flags;		    /* HOMA_RPC_* */
};

/* HOMAIOCINFO argument (136 bytes). */
struct homa_info {
	uint64_t rpc_info;	    /* in: address of homa_rpc_info array */
	size_t rpc_info_length;	    /* in: bytes at rpc_info */
	uint64_t bpool_avail_bytes; /* out: free receive buffer space */
	uint32_t port;		    /* out: the socket's port */
	uint32_t num_rpcs;	    /* out: RPCs of the socket (all) */
	char error_msg[104];	    /* out: text of the last error */
};

/* HOMAIOCABORT argument (32 bytes). */
struct homa_abort_args {
	uint64_t id;	   /* client RPC to abort; 0 = all of the socket */
	uint32_t error;	   /* 0: discard silently; else errno for recvmsg */
	uint32_t _pad1;	   /* must be 0 */
	uint64_t _pad2[2]; /* must be 0 */
};

#define HOMAIOCINFO   _IOWR('h', 0x90, struct homa_info)
#define HOMAIOCABORT  _IOWR('h', 0x91, struct homa_abort_args)
#define HOMAIOCFREEZE _IO('h', 0x92)

/* ---- sockets-like calls (errors: see each man page) ---- */

/* homa_socket() - a Homa socket of domain AF_INET or AF_INET6 with an
 * automatic client port, not in server mode. Returns its descriptor. */
int homa_socket(int domain);

int homa_bind(int fd, const struct sockaddr *addr, socklen_t addrlen);
int homa_setsockopt(int fd, int level, int optname, const void *optval,
		    socklen_t optlen);
int homa_getsockopt(int fd, int level, int optname, void *optval,
		    socklen_t *optlen);
/* Returns 0 on success. flags: MSG_DONTWAIT. */
ssize_t homa_sendmsg(int fd, const struct msghdr *msg, int flags);
/* Returns the message length. flags: MSG_DONTWAIT. */
ssize_t homa_recvmsg(int fd, struct msghdr *msg, int flags);
int homa_ioctl(int fd, unsigned long request, void *arg);
int homa_shutdown(int fd, int how);
int homa_close(int fd);

/* ---- convenience calls ---- */

/*
 * homa_request() - send a request of length bytes from buf to dest;
 * *id receives the RPC id. flags: HOMA_SENDMSG_PRIVATE, HOMA_SENDMSG_NOCOPY
 * (then buf stays valid and unchanged until the RPC ends, see above).
 */
int homa_request(int fd, const void *buf, size_t length,
		 const struct sockaddr *dest, socklen_t destlen, uint64_t *id,
		 uint64_t completion_cookie, uint32_t flags);

/* homa_reply() - send the response to request id from src. */
int homa_reply(int fd, const void *buf, size_t length,
	       const struct sockaddr *src, socklen_t srclen, uint64_t id);

/*
 * homa_receive() - wait for a message (*id 0: any shared message, else
 * that private RPC) and copy it into buf (at most length bytes; the rest
 * is dropped); its bpages go back to the pool. Returns the message's full
 * length; *id, *cookie (may be NULL) and the peer address are filled.
 * flags: MSG_DONTWAIT.
 */
ssize_t homa_receive(int fd, void *buf, size_t length, int flags,
		     struct sockaddr *src, socklen_t *srclen, uint64_t *id,
		     uint64_t *cookie);

/* ---- configuration and metrics ---- */

/*
 * homa_config_param() - set a protocol parameter (spec names, e.g.
 * "unsched_bytes", or library ones: "datapath" = 0 UDP / 1 raw) from
 * text ("40000", or 8 space-separated numbers for arrays). Must be called
 * before the first socket for datapath and tick; others apply at once.
 * Returns 0, or -1 with errno EINVAL (EFAULT if name or value is NULL)
 * and a message naming the parameter in homa_last_error().
 */
int homa_config_param(const char *name, const char *value);

/* homa_version() - the library's version, "MAJOR.MINOR.PATCH" (the
 * HOMA_VERSION_STRING it was built with). */
const char *homa_version(void);

/* homa_last_error() - text of the calling thread's last configuration
 * or socket error (empty if none). */
const char *homa_last_error(void);

/* homa_metrics_read() - call fn for every counter of this process's Homa
 * instance. Returns the number of counters. */
int homa_metrics_read(void (*fn)(void *arg, const char *name, uint64_t value),
		      void *arg);

#ifdef __cplusplus
}
#endif

#endif /* HOMA_H */
