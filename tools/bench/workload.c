/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * workload.c - loading, truncating and sampling message-size
 * distributions for homa-bench.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

int bench_workload_load(struct bench_workload *w, const char *spec,
			const char *dir, uint32_t max_len, char *err,
			size_t errlen)
{
	char buf[SIM_WL_ERR_BYTES], fixed[32];
	const char *what = spec;
	unsigned long v;
	char *end;

	memset(w, 0, sizeof(*w));
	snprintf(w->name, sizeof(w->name), "%s", spec);
	if (!(spec[0] == 'w' && spec[1] >= '1' && spec[1] <= '5' && !spec[2])) {
		v = strtoul(spec, &end, 10);
		if (*end || v == 0 || v > max_len) {
			snprintf(err, errlen,
				 "workload '%s': not w1..w5 nor a size in "
				 "1..%u",
				 spec, max_len);
			return -1;
		}
		snprintf(fixed, sizeof(fixed), "fixed:%lu", v);
		what = fixed;
	}
	if (sim_workload_load(&w->wl, what, dir, buf) < 0) {
		snprintf(err, errlen, "%s", buf);
		bench_workload_free(w);
		return -1;
	}
	sim_workload_truncate(&w->wl, max_len);
	for (int d = 0; d < 10; d++)
		w->deciles[d] = bench_workload_sample(w, (d + 1) / 10.0 - 1e-9);
	w->deciles[9] = w->wl.max_bytes;
	return 0;
}

uint32_t bench_workload_sample(const struct bench_workload *w, double u)
{
	return sim_workload_quantile(&w->wl, u);
}

int bench_workload_bucket(const struct bench_workload *w, uint32_t size)
{
	for (int d = 0; d < 10; d++)
		if (size <= w->deciles[d])
			return d;
	return 9;
}

void bench_workload_free(struct bench_workload *w)
{
	sim_workload_free(&w->wl);
}
