/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sim_workload.h - message-size distributions: the published workloads
 * W1-W5 (files of "length_bytes relative_frequency" lines after comment
 * lines), any file in that format, or one fixed size. Sampling is by
 * inverse CDF with a binary search; deciles by message count define the
 * size buckets of the report.
 */
#ifndef SIM_WORKLOAD_H
#define SIM_WORKLOAD_H

#include <stdint.h>

#include "sim_rng.h"

#define SIM_WL_ERR_BYTES 200
#define SIM_WL_DECILES	 10

struct sim_workload {
	char name[64];	    /* "w4", "fixed:1000" or the file name */
	int n;		    /* points */
	uint32_t *size;	    /* message lengths, bytes, ascending */
	double *cdf;	    /* P(length <= size[i]), last is 1 */
	double mean_bytes;  /* mean length, bytes */
	uint32_t min_bytes; /* smallest length, bytes */
	uint32_t max_bytes; /* largest length, bytes */
};

/*
 * sim_workload_load() - spec is "w1".."w5" (read from dir), "fixed:N"
 * (N bytes), or a path. Errors: -EINVAL (bad spec, file or format; err
 * gets a message of SIM_WL_ERR_BYTES), -ENOENT, -ENOMEM.
 */
int sim_workload_load(struct sim_workload *wl, const char *spec,
		      const char *dir, char *err);
void sim_workload_free(struct sim_workload *wl);

/* sim_workload_quantile() - the length at cumulative probability u in
 * [0, 1): the first point whose cdf exceeds u. */
uint32_t sim_workload_quantile(const struct sim_workload *wl, double u);

/* sim_workload_truncate() - lengths above max_bytes become max_bytes (one
 * point carrying their probability); mean and max follow. */
void sim_workload_truncate(struct sim_workload *wl, uint32_t max_bytes);

/* sim_workload_sample() - one message length. */
uint32_t sim_workload_sample(const struct sim_workload *wl, struct sim_rng *r);

/* sim_workload_prob() - probability of point i. */
double sim_workload_prob(const struct sim_workload *wl, int i);

/*
 * sim_workload_deciles() - the distinct upper bounds of the decile
 * buckets: bucket k holds lengths in (bounds[k-1], bounds[k]]. Returns
 * the number of buckets (1..10); the last bound is max_bytes.
 */
int sim_workload_deciles(const struct sim_workload *wl,
			 uint32_t bounds[SIM_WL_DECILES]);

#endif /* SIM_WORKLOAD_H */
