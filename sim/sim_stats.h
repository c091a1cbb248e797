/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sim_stats.h - slowdown statistics. The best possible time of a message
 * is computed from the topology's longest host-to-host path: the packets
 * the core cuts the message into (MTU-sized, split at the unscheduled
 * limit) go through that path's links back to back with no other traffic,
 * store and forward, with every fixed delay (host software, switches,
 * propagation). A measured delivery time divided by that is the
 * message's slowdown; slowdowns are kept per size bucket (the workload's
 * deciles) for percentiles at the end.
 */
#ifndef SIM_STATS_H
#define SIM_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "sim_net.h"
#include "sim_workload.h"

/* Samples of one size bucket. */
struct sim_stats_bucket {
	uint32_t lo_bytes; /* lengths above this ... */
	uint32_t hi_bytes; /* ... up to this, bytes */
	float *slowdown;   /* samples (sorted by sim_stats_finish) */
	size_t count;	   /* samples */
	size_t cap;	   /* allocated samples */
	double sum;	   /* sum of samples, for the mean */
	double min;	   /* smallest sample */
};

/* One cached best time. */
struct sim_best_entry {
	uint32_t size;	  /* message length, bytes; 0 = empty slot */
	uint64_t best_ps; /* its best time, ps */
};

struct sim_stats {
	struct sim_path path;	/* the longest path */
	uint32_t seg_bytes;	/* payload bytes per full packet */
	uint32_t unsched_bytes; /* the core's unscheduled limit */
	int num_buckets;	/* 1..SIM_WL_DECILES */
	struct sim_stats_bucket b[SIM_WL_DECILES]; /* by size */
	struct sim_best_entry *cache; /* open addressing, by size */
	size_t cache_cap;	      /* slots, a power of 2 */
	size_t cache_used;	      /* occupied slots */
	int oom;		      /* a sample could not be stored */
};

/* sim_stats_init() - buckets from wl's deciles; best times for path. */
int sim_stats_init(struct sim_stats *st, const struct sim_workload *wl,
		   const struct sim_path *path, uint32_t mtu,
		   uint32_t unsched_bytes);
void sim_stats_free(struct sim_stats *st);

/* sim_stats_best_ps() - best possible delivery time of size bytes. */
uint64_t sim_stats_best_ps(struct sim_stats *st, uint32_t size);

/* sim_stats_record() - one message of size bytes took elapsed_ps. */
void sim_stats_record(struct sim_stats *st, uint32_t size, uint64_t elapsed_ps);

/* sim_stats_finish() - sort the samples (before percentiles). */
void sim_stats_finish(struct sim_stats *st);

/* sim_stats_percentile() - nearest-rank percentile q (0..1) of bucket b
 * (after sim_stats_finish); 0 if empty. */
double sim_stats_percentile(const struct sim_stats_bucket *b, double q);

#endif /* SIM_STATS_H */
