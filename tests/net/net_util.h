/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * net_util.h - helpers shared by the network tests of libhoma (label net):
 * the test's application protocol (a request carries a serial number and
 * the length of the response it wants; both directions are filled with a
 * pattern derived from the serial, so either end checks every byte), an
 * RPC server that records each serial it is handed, a windowed client,
 * the size mixes, skipping rules for tests that need root, and small
 * process helpers (resident memory, metrics by name).
 *
 * A request shorter than struct nt_req is "tiny": it has no header, and
 * the server answers with the same bytes (so 1-byte messages are tested
 * too); tiny requests are counted but carry no serial.
 */
#ifndef HOMA_TESTS_NET_UTIL_H
#define HOMA_TESTS_NET_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "homa.h"

#define NT_MAGIC	 0x484f4d54u /* "HOMT": a test request */
#define NT_REPORT_SERIAL 0xffffffffu /* request for the server's report */
#define NT_SKIP		 77	     /* CTest SKIP_RETURN_CODE */
#define NT_MAX_SERIAL	 (1u << 24)  /* serials the server can track */
#define NT_MAX_WINDOW	 64	     /* client RPCs outstanding at most */

/* Header of every non-tiny request (host byte order; same host). */
struct nt_req {
	uint32_t magic;	   /* NT_MAGIC */
	uint32_t serial;   /* unique per request of a run */
	uint32_t resp_len; /* bytes of response wanted (1..1000000) */
	uint32_t req_len;  /* bytes of this request, header included */
};

/* What the server saw; returned as the response to NT_REPORT_SERIAL. */
struct nt_report {
	uint64_t delivered; /* requests with a serial handed to the app */
	uint64_t distinct;  /* distinct serials among them */
	uint64_t dups;	    /* deliveries of a serial already seen */
	uint64_t tiny;	    /* tiny requests (echoed) */
	uint64_t corrupt;   /* requests whose bytes did not match */
	uint64_t garbage;   /* requests without the magic (answered 1 B) */
};

/* A size mix: how request and response lengths are drawn per serial. */
enum nt_mix {
	NT_MIX_LOOPBACK, /* 90% 1-1000 B, 8% 1-100 KB, 2% 100 KB-1 MB */
	NT_MIX_LOSS,	 /* 90% 16-1000 B, 9% 1-64 KB, 1% 64 KB-1 MB */
	NT_MIX_SMALL,	 /* 16-2000 B (threads, garbage) */
	NT_MIX_LARGE,	 /* 100 KB-1 MB: copied in chunks (loss.sh) */
};

/* nt_sizes() - request and response lengths of serial under mix. */
void nt_sizes(enum nt_mix mix, uint32_t serial, uint32_t *req_len,
	      uint32_t *resp_len);

/* nt_fill() / nt_check() - the pattern of stream seed, bytes [from, to)
 * of it written to / compared with buf (buf[0] is byte from). */
void nt_fill(uint8_t *buf, uint64_t seed, size_t from, size_t to);
bool nt_check(const uint8_t *buf, uint64_t seed, size_t from, size_t to);

/* nt_build_request() - the request of serial (length req_len) into buf. */
void nt_build_request(uint8_t *buf, uint32_t serial, uint32_t req_len,
		      uint32_t resp_len);

/* Walk a received message in the socket's region: copy it out to dst
 * (dst may be NULL to only return the region). */
struct nt_msg {
	uint8_t *region;	 /* the socket's receive region */
	const uint32_t *offsets; /* bpage offsets of the message */
	size_t length;		 /* message length */
};
void nt_msg_copy(const struct nt_msg *m, uint8_t *dst, size_t from, size_t to);

/* Server state (one per server process or per shared socket). */
struct nt_server {
	int fd;		      /* Homa socket in server mode */
	uint8_t *seen;	      /* NT_MAX_SERIAL bits */
	struct nt_report rep; /* counters */
	int (*on_request)(struct nt_server *s, uint32_t serial); /* hook */
	void *arg; /* for the hook */
};

/* nt_server_init() - state for serving on fd. Returns 0 or -1. */
int nt_server_init(struct nt_server *s, int fd);

/* nt_server_free() - free what nt_server_init allocated. */
void nt_server_free(struct nt_server *s);

/*
 * nt_serve() - answer requests on s->fd until max_requests were handled
 * (0 = forever) or a receive fails (returns its errno; 0 when max
 * reached). Safe to call from several threads on one nt_server only if
 * lock is given (serializes the counters).
 */
int nt_serve(struct nt_server *s, uint64_t max_requests, void *lock);

/* Client run parameters and results. */
struct nt_client {
	int fd;			    /* Homa socket */
	struct sockaddr_in6 server; /* server address (in or in6) */
	socklen_t server_len;	    /* bytes of server */
	enum nt_mix mix;	    /* size mix */
	uint32_t first_serial;	    /* serials first..first+count-1 */
	uint32_t count;		    /* RPCs to run */
	int window;		    /* outstanding at most (1..64) */
	bool use_private;	    /* HOMA_SENDMSG_PRIVATE + recv by id */
	bool quiet;		    /* no progress messages */
	/* results */
	uint32_t done;		    /* RPCs whose response matched */
	uint32_t tiny;		    /* of which tiny (echo) requests */
	uint64_t bytes;		    /* request + response bytes */
	uint32_t max_req, max_resp; /* largest lengths seen */
	uint32_t min_req, min_resp; /* smallest lengths seen */
	int error;		    /* errno of the first failure, or 0 */
	char why[200];		    /* text of the first failure */
};

/* nt_client_run() - run c->count RPCs; 0 if all succeeded, else -1 with
 * c->error / c->why set. */
int nt_client_run(struct nt_client *c);

/* nt_report_get() - ask the server at c->server for its report. */
int nt_report_get(struct nt_client *c, struct nt_report *rep);

/* nt_addr() - fill sa for host (numeric, "127.0.0.1" / "::1") and port;
 * returns its length or 0. */
socklen_t nt_addr(struct sockaddr_in6 *sa, const char *host, uint16_t port);

/* nt_bind_any() - bind fd to a free server port from [lo, hi); returns the
 * port, or -1. */
int nt_bind_any(int fd, int family, int lo, int hi);

/* nt_fork_server() - fork a child (killed when this process dies) that
 * opens an IPv4 Homa socket, binds it to a free port of [20000, 30000)
 * and exits with serve(fd); its port in *port. Fails the test on any
 * error. Returns the child's pid. */
pid_t nt_fork_server(int (*serve)(int fd), int *port);

/* Time, ns, CLOCK_MONOTONIC. */
uint64_t nt_now_ns(void);

/*
 * nt_run_delay_ns() - ns that the live threads of process pid (0: this
 * one) have spent runnable but waiting for a CPU, summed (the second
 * field of /proc/PID/task/TID/schedstat; 0 where the kernel keeps none).
 * A timing test reads it before and after what it times: what it grew
 * by is the host's starvation of the process, by which an upper bound
 * that is about scheduling (never a lower bound that proves a timeout is
 * honoured) may widen. Threads that wait at the same time count twice,
 * so it overstates the delay; threads that exited meanwhile are lost.
 */
uint64_t nt_run_delay_ns(int pid);

/* nt_waited_ms() - ms that this process's threads waited for a CPU since
 * nt_run_delay_ns(0) returned since_ns (0 if the sum shrank: a thread
 * that had waited exited). */
double nt_waited_ms(uint64_t since_ns);

/*
 * nt_await_blocked() - wait up to about max_ms until thread tid of this
 * process sleeps in a system call other than a futex wait (seen twice,
 * 2 ms apart): a test that signals or wakes a thread blocked in a call
 * must not do so before it blocks, which a fixed sleep cannot promise on
 * a starved host. Returns whether it did.
 */
bool nt_await_blocked(pid_t tid, int max_ms);

/* nt_skip() - the test cannot run here (printf-style reason): exit 77, or
 * exit 1 if HOMA_REQUIRE_ROOT=1 (CI) since it must run there. */
void nt_skip(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));

/* nt_need_root() - nt_skip unless running as root. */
void nt_need_root(const char *what);

/* nt_private_net() - move the process into a network namespace of its
 * own with loopback up (raw sockets there see only the test's packets);
 * nt_skip without root or namespaces, nt_fail if loopback won't come up. */
void nt_private_net(void);

/* nt_use_datapath() - "udp" or "raw" before the first socket; exits on
 * an unknown name. */
void nt_use_datapath(const char *name);

/* nt_patient_timeouts() - RPCs of this process (and its children) time
 * out after 1 s of silence instead of 100 ms (HOMA_TIMEOUT_TICKS=1000),
 * before the first socket: on a loaded host a starved peer goes that long
 * without a CPU. For tests about anything but timeouts. */
void nt_patient_timeouts(void);

/* nt_rss_kb() - VmRSS of pid (0 = self) in KiB, or -1. */
long nt_rss_kb(int pid);

/* nt_metric() - value of the named libhoma metric of this process. */
uint64_t nt_metric(const char *name);

/* nt_print_metrics() - print every nonzero metric whose name starts with
 * prefix (NULL: all) to stdout. */
void nt_print_metrics(const char *prefix);

/* nt_close() / nt_shutdown() - homa_close / homa_shutdown(SHUT_RDWR),
 * failing the test (nt_fail) if the call fails. */
void nt_close(int fd);
void nt_shutdown(int fd);

/* nt_fail() - print "FAIL: ..." and exit 1. */
void nt_fail(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));

#endif /* HOMA_TESTS_NET_UTIL_H */
