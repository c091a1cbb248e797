/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tnwork.c - message-size distributions for the tests (tnwork.h): the
 * simulator's workload module (sim_workload.c) sampled with the test
 * network's PRNG, so it is exact for the file's discrete points and
 * deterministic for a given PRNG state; and synthetic size choosers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tnwork.h"

void tn_dist_load(struct tn_dist *d, const char *path, uint32_t cap_bytes)
{
	char err[SIM_WL_ERR_BYTES];

	if (sim_workload_load(&d->wl, path, ".", err) < 0)
		fail_msg("workload: %s", err);
	sim_workload_truncate(&d->wl, cap_bytes);
}

void tn_dist_free(struct tn_dist *d)
{
	sim_workload_free(&d->wl);
}

uint32_t tn_dist_sample(const struct tn_dist *d, struct tn_rng *r)
{
	/* A uniform 53-bit fraction: deterministic for the PRNG state. */
	return sim_workload_quantile(&d->wl, sim_rng_fraction(tn_rng_next(r)));
}

uint32_t tn_size_edge(struct tn_rng *r)
{
	static const uint32_t sizes[] = {
		1,     2,     7,      8,      9,      1423,   1424,
		1425,  2848,  2849,   39999,  40000,  40001,  65535,
		65536, 65537, 131072, 131073, 500000, 999999, 1000000,
	};

	return sizes[tn_rng_below(r, sizeof(sizes) / sizeof(sizes[0]))];
}

uint32_t tn_size_loguniform(struct tn_rng *r, uint32_t max)
{
	/* A power of two chosen uniformly, then uniform within it. */
	uint32_t bits = 0, n;

	while (bits < 31 && (1u << (bits + 1)) <= max)
		bits++;
	n = 1u << tn_rng_below(r, bits + 1);
	n += (uint32_t)tn_rng_below(r, n);
	return n > max ? max : n;
}
