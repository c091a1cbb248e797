/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench.h - homa-bench: one harness driving Homa and TCP the same way.
 * A protocol implements the small table below; the client engine
 * (client.c) generates requests open-loop (Poisson arrivals at a load) or
 * closed-loop (N outstanding), times every RPC, and reports slowdown
 * against an unloaded calibration run on the same setup.
 */
#ifndef HOMA_BENCH_H
#define HOMA_BENCH_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "stats.h"
#include "workload.h"

#define BENCH_MAX_SERVERS     16
#define BENCH_MAX_MSG	      1000000
#define BENCH_SPIN_DEFAULT_US 50      /* --wait spin: Homa's poll_usecs */
#define BENCH_SPIN_MAX_US     1000000 /* --wait spin=USECS at most */

struct bench_opts {
	bool server;	   /* server mode (else client) */
	const char *proto; /* "homa" or "tcp" */
	bool raw;	   /* Homa over raw IP 146 */
	bool nocopy;	   /* client: requests without the sender's copy
			    * (Homa: HOMA_SENDMSG_NOCOPY; TCP: MSG_ZEROCOPY) */
	int port;	   /* server: port to listen on */
	struct sockaddr_storage servers[BENCH_MAX_SERVERS]; /* targets */
	socklen_t server_len[BENCH_MAX_SERVERS];	    /* their lengths */
	int num_servers;				    /* targets given */
	const char *workload;	  /* w1..w5 or a size */
	const char *workload_dir; /* where wN.txt live */
	double load_mbps;	  /* open loop: offered request Mbit/s */
	int outstanding;	  /* closed loop: RPCs in flight */
	double seconds;		  /* measured duration */
	double cal_seconds;	  /* calibration duration (0 = skip) */
	uint32_t resp_size;	  /* response bytes (server) */
	const char *json;	  /* JSON output path or NULL */
	const char *save_calib;	  /* write the calibration here */
	const char *load_calib;	  /* read the calibration from here */
	const char *samples;	  /* write every RPC (size, latency) here */
	size_t max_samples;	  /* keep at most this many (0 = all) */
	const char *label;	  /* name in the report (default proto) */
	bool report;		  /* report mode: merge sample files */
	bool peers;		  /* peers mode: idle client sockets */
	int count;		  /* peers: sockets to open */
	const char *sample_files[BENCH_MAX_SERVERS]; /* report inputs */
	int num_sample_files; /* entries in sample_files */
	uint64_t seed;	      /* random seed */
	uint32_t spin_us;     /* --wait: spin budget per wait, us (0 = block) */
	bool help;	      /* --help: usage printed, nothing to run */
	bool version;	      /* --version: version printed, nothing to run */
};

/* One protocol's client side. Tags identify RPCs (slot numbers). */
struct bench_client {
	/* Send a request of size bytes to server s, tagged. 0 or -errno. */
	int (*send)(struct bench_client *c, int s, uint32_t size, uint64_t tag);
	/* Wait up to timeout_ms for a response: 1 with *tag set, 0 on
	 * timeout, -errno for a failed RPC (*tag set) or a fatal error
	 * (*tag = UINT64_MAX). */
	int (*recv)(struct bench_client *c, uint64_t *tag, int timeout_ms);
	void (*close)(struct bench_client *c);
};

struct bench_client *bench_homa_client(const struct bench_opts *o);
struct bench_client *bench_tcp_client(const struct bench_opts *o);
struct bench_client *bench_udp_client(const struct bench_opts *o);
int bench_udp_server(const struct bench_opts *o);
int bench_homa_server(const struct bench_opts *o);
int bench_tcp_server(const struct bench_opts *o);

int bench_calib_save(const char *path, const struct bench_calib *c);
int bench_calib_load(const char *path, struct bench_calib *c);
int bench_samples_save(const char *path, const struct bench_results *r);

/* One idle peer for `homa-bench peers`: a new client socket that has
 * completed one 100-byte RPC with the first server; its fd or -errno. */
int bench_homa_peer(const struct bench_opts *o);
int bench_tcp_peer(const struct bench_opts *o);
int bench_homa_peer_close(int fd);

/* `homa-bench peers`: --count idle peers; returns the exit status. */
int bench_peers_run(const struct bench_opts *o);

/* Merge sample files into one report; returns the exit status. */
int bench_report_run(const struct bench_opts *o);

/* Run the client engine; returns the exit status. */
int bench_client_run(const struct bench_opts *o);

/* Print the usage text (with --wait explained) to f. */
void bench_usage(FILE *f);

/* Parse argv into o; returns 0, or -1 after printing a message. */
int bench_parse(int argc, char **argv, struct bench_opts *o);

uint64_t bench_now_ns(void);

/* --wait VALUE: "block" (0), "spin" (BENCH_SPIN_DEFAULT_US) or
 * "spin=USECS" (1..BENCH_SPIN_MAX_US) into *spin_us; 0, or -1 if
 * malformed. */
int bench_wait_parse(const char *v, uint32_t *spin_us);

/* The policy as printed and written in JSON: "spin=50" or "block". */
const char *bench_wait_name(uint32_t spin_us, char *buf, size_t len);

/*
 * bench_spin() - call poll_once(arg) (a non-blocking check: 0 = nothing
 * yet, anything else = done, returned) until it reports something or
 * budget_us of now_ns() have passed (or bench_stop). Returns poll_once's
 * result, or 0 when the budget ran out (the caller then blocks).
 */
int bench_spin(int (*poll_once)(void *arg), void *arg, uint32_t budget_us,
	       uint64_t (*now_ns)(void));

/* Requests a server answered (servers are single-threaded). */
extern uint64_t bench_served;

/* Non-blocking polls bench_spin has made (a diagnostic; tests read it). */
extern uint64_t bench_spin_polls;

/* The process's CPU time (user + system, us) and context switches
 * (voluntary + involuntary) so far, from getrusage. */
void bench_rusage(double *cpu_us, uint64_t *ctx_switches);

/* Set by SIGINT/SIGTERM: stop cleanly. */
extern volatile int bench_stop;

#endif /* HOMA_BENCH_H */
