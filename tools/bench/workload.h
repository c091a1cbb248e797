/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * workload.h - message-size distributions for homa-bench: the W1-W5
 * workloads of the Homa papers (data/workloads/wN.txt: lines of
 * "length relative_frequency"), truncated to a maximum length, or one
 * fixed size; sampling by inverse CDF and the decile boundaries used to
 * bucket results. Reading and sampling are the simulator's
 * (sim/sim_workload.c), so both tools see the same distributions.
 */
#ifndef HOMA_BENCH_WORKLOAD_H
#define HOMA_BENCH_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "sim_workload.h"

struct bench_workload {
	char name[32];		/* "w4" or the fixed size as text */
	struct sim_workload wl; /* the distribution (the simulator's
				 * reader and sampler, truncated here) */
	uint32_t deciles[10];	/* upper size of each tenth of messages */
};

/*
 * bench_workload_load() - spec is "w1".."w5" (read from dir) or a size in
 * bytes; lengths above max_len are truncated to max_len. Returns 0 or -1
 * with a message in err (size errlen).
 */
int bench_workload_load(struct bench_workload *w, const char *spec,
			const char *dir, uint32_t max_len, char *err,
			size_t errlen);

/* bench_workload_sample() - a length for the uniform u in [0, 1). */
uint32_t bench_workload_sample(const struct bench_workload *w, double u);

/* bench_workload_bucket() - index 0..9 of the decile bucket of size. */
int bench_workload_bucket(const struct bench_workload *w, uint32_t size);

void bench_workload_free(struct bench_workload *w);

#endif /* HOMA_BENCH_WORKLOAD_H */
