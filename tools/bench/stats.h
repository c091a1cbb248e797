/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stats.h - homa-bench results: latencies per size bucket, percentiles,
 * slowdown against an unloaded calibration of the same setup, and the
 * text table and JSON output.
 */
#ifndef HOMA_BENCH_STATS_H
#define HOMA_BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "workload.h"

#define BENCH_CAL_POINTS 12

/* Unloaded latency by size, from a calibration run: interpolated. */
struct bench_calib {
	uint32_t size[BENCH_CAL_POINTS]; /* sizes measured, ascending */
	double lat_us[BENCH_CAL_POINTS]; /* median unloaded latency, us */
	int n;				 /* points used */
};

struct bench_sample {
	uint32_t size;	   /* request bytes */
	float lat_us;	   /* completion latency, us */
	uint64_t start_ns; /* when it was sent, CLOCK_MONOTONIC ns (0 =
			    * unknown: a loaded samples file) */
};

struct bench_results {
	struct bench_sample *s; /* completed RPCs */
	size_t n, cap;		/* samples kept, allocated */
	uint64_t total;		/* RPCs completed, kept or not */
	size_t max;		/* samples kept at most (uniform
				 * reservoir), 0 = every one */
	uint64_t rng;		/* reservoir's random state */
	uint64_t errors;	/* RPCs that failed */
	int last_errno;		/* errno of the last failure, 0 = none */
	double cpu_us;		/* client CPU in the measured run, us (0 =
				 * not measured: merged reports) */
	uint64_t ctx_switches;	/* client context switches in it */
	uint64_t bytes;		/* request bytes completed */
	double seconds;		/* measured interval */
};

/* Percentile p (0..100) of sorted v[0..n) by nearest rank; 0 if n = 0. */
double bench_percentile(const double *v, size_t n, double p);

/* Unloaded latency for size, interpolated linearly in size between
 * calibration points (and clamped at the ends). */
double bench_calib_us(const struct bench_calib *c, uint32_t size);

/* Slowdown of one RPC: its latency over the unloaded one (>= 0). */
double bench_slowdown(const struct bench_calib *c, uint32_t size,
		      double lat_us);

/* bench_touch() - make bytes at p resident now: a store to every page,
 * keeping the contents. */
void bench_touch(void *p, size_t bytes);
int bench_results_add(struct bench_results *r, uint32_t size, double lat_us,
		      uint64_t start_ns);
void bench_results_free(struct bench_results *r);

/* Print the per-bucket table (and totals) to f, headed by the label, the
 * workload and the waiting policy (wait: "spin=50" or "block", see
 * bench_wait_name); write JSON to json_path if non-NULL (with "wait":
 * {"policy", "spin_us"}). Returns 0 or -1 if the JSON file cannot be
 * written. */
int bench_report(const struct bench_results *r, const struct bench_workload *w,
		 const struct bench_calib *c, const char *label,
		 uint32_t spin_us, FILE *f, const char *json_path);

#endif /* HOMA_BENCH_STATS_H */
