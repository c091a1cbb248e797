/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics_shm.h - the live metrics of a process: the layout of the file
 * that libhoma keeps in shared memory (/dev/shm/homa-metrics-PID) and that
 * homa-metrics(1) reads, and the library's side (metrics_shm.c).
 *
 * The file: a header, then `count` 64-bit values (counters first, then
 * gauges, in the order of the names), then `count` names of
 * HOMA_SHM_NAME_BYTES bytes each (NUL-padded). Descriptions are not in the
 * file: readers look names up in the table of src/core/metrics.h, so a
 * reader of another build still shows every value. The writer (one thread
 * of the process) refreshes the values every interval_ns under a sequence
 * counter: seq is odd while it writes, and a reader retries until it sees
 * the same even seq before and after its copy.
 */
#ifndef HOMA_API_METRICS_SHM_H
#define HOMA_API_METRICS_SHM_H

#include <stdint.h>

#define HOMA_SHM_MAGIC	     0x314d53414d4f48ull /* "HOMASM1" little-endian */
#define HOMA_SHM_VERSION     1
#define HOMA_SHM_NAME_BYTES  32
#define HOMA_SHM_PATH_FMT    "/dev/shm/homa-metrics-%d" /* per process id */
#define HOMA_SHM_INTERVAL_NS 100000000ull		/* refresh period, ns */

struct homa_shm_header {
	uint64_t magic;	       /* HOMA_SHM_MAGIC */
	uint32_t version;      /* HOMA_SHM_VERSION */
	uint32_t count;	       /* values (and names) that follow */
	uint32_t num_counters; /* the first num_counters are counters, the
				* rest gauges */
	uint32_t datapath;     /* 0 = UDP, 1 = raw IP protocol 146 */
	uint64_t pid;	       /* the publishing process */
	uint64_t start_ticks;  /* its start time (field 22 of /proc/PID/stat,
				* clock ticks after boot): tells a reused pid */
	uint64_t interval_ns;  /* refresh period of the values, ns */
	uint64_t seq;	       /* even: values stable; odd: being written */
	uint64_t update_ns;    /* CLOCK_MONOTONIC time of the last refresh */
	uint64_t updates;      /* refreshes since the process started */
};

/* Bytes of a file of count values. */
#define HOMA_SHM_BYTES(count)                                                  \
	(sizeof(struct homa_shm_header) +                                      \
	 (uint64_t)(count) * (8 + HOMA_SHM_NAME_BYTES))

/* homa_shm_start_ticks() - field 22 of /proc/PID/stat; 0 if there is no
 * such process or it is a zombie. */
uint64_t homa_shm_start_ticks(int pid);

struct homa_lib;

/*
 * homa_lib_metrics_start() - called once when the process's instance has
 * been created: unless HOMA_METRICS=0, create the file (mode 0600, removed
 * at exit) and a thread that refreshes it every HOMA_SHM_INTERVAL_NS,
 * taking the library lock only for the copy; with HOMA_PRINT_METRICS=1,
 * print the counters at exit (also after an error exit). Failures to
 * publish are reported on stderr once and otherwise ignored.
 */
void homa_lib_metrics_start(struct homa_lib *lib);

/*
 * homa_lib_metrics_snapshot() - copy every counter and gauge, in the order
 * of the table of metrics.h (HOMA_METRIC_ALL values), into out. Takes the
 * library lock.
 */
void homa_lib_metrics_snapshot(struct homa_lib *lib, uint64_t *out);

#endif /* HOMA_API_METRICS_SHM_H */
