/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tnwork.h - message-size distributions for the integration tests: the
 * published workloads (data/workloads/w*.txt: "length relative_frequency"
 * lines, '#' comments) loaded as a CDF and sampled with the test
 * network's PRNG, plus a mixed sampler covering 1 byte to 1,000,000.
 */
#ifndef TNWORK_H
#define TNWORK_H

#include <stdint.h>

#include "sim_workload.h"
#include "testnet.h"

struct tn_dist {
	struct sim_workload wl; /* the simulator's reader and sampler */
};

/* tn_dist_load() - read path; lengths above cap_bytes become cap_bytes.
 * Fails the test if the file is missing or empty. */
void tn_dist_load(struct tn_dist *d, const char *path, uint32_t cap_bytes);
void tn_dist_free(struct tn_dist *d);
/* tn_dist_sample() - one length drawn from the distribution. */
uint32_t tn_dist_sample(const struct tn_dist *d, struct tn_rng *r);

/* tn_size_edge() - one of the boundary sizes (1, 1423..1425, 65535..,
 * 40000, 1000000, ...) chosen by r. */
uint32_t tn_size_edge(struct tn_rng *r);
/* tn_size_loguniform() - log-uniform in [1, max]. */
uint32_t tn_size_loguniform(struct tn_rng *r, uint32_t max);

#endif /* TNWORK_H */
