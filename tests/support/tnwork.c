/*
 * tnwork.c - loading and sampling message-size distributions (tnwork.h).
 * Sampling draws a uniform 53-bit fraction of the total frequency and
 * binary-searches the cumulative table, so it is exact for the file's
 * discrete points and deterministic for a given PRNG state.
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
	FILE *f = fopen(path, "r");
	uint32_t cap = 0;
	char line[256];
	double len, freq;

	if (!f)
		fail_msg("cannot open workload %s", path);
	memset(d, 0, sizeof(*d));
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || sscanf(line, "%lf %lf", &len, &freq) != 2)
			continue;
		if (d->n == cap) {
			cap = cap ? 2 * cap : 256;
			d->len = realloc(d->len, cap * sizeof(*d->len));
			d->cum = realloc(d->cum, cap * sizeof(*d->cum));
			assert_non_null(d->len);
			assert_non_null(d->cum);
		}
		if (len < 1)
			len = 1;
		d->len[d->n] = len > cap_bytes ? cap_bytes : (uint32_t)len;
		d->total += freq;
		d->cum[d->n++] = d->total;
	}
	fclose(f);
	if (d->n == 0 || d->total <= 0)
		fail_msg("workload %s has no points", path);
}

void tn_dist_free(struct tn_dist *d)
{
	free(d->len);
	free(d->cum);
	memset(d, 0, sizeof(*d));
}

uint32_t tn_dist_sample(const struct tn_dist *d, struct tn_rng *r)
{
	double u = (double)(tn_rng_next(r) >> 11) * (1.0 / 9007199254740992.0) *
		   d->total;
	uint32_t lo = 0, hi = d->n - 1, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (d->cum[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return d->len[lo];
}

double tn_dist_mean(const struct tn_dist *d)
{
	double sum = 0, prev = 0;
	uint32_t i;

	for (i = 0; i < d->n; i++) {
		sum += (d->cum[i] - prev) * d->len[i];
		prev = d->cum[i];
	}
	return sum / d->total;
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
