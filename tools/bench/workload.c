/*
 * workload.c - loading, truncating and sampling message-size
 * distributions for homa-bench.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

static int bench_fixed(struct bench_workload *w, const char *spec,
		       uint32_t max_len, char *err, size_t errlen)
{
	char *end;
	unsigned long v = strtoul(spec, &end, 10);

	if (*end || v == 0 || v > max_len) {
		snprintf(err, errlen,
			 "workload '%s': not w1..w5 nor a size in 1..%u", spec,
			 max_len);
		return -1;
	}
	w->sizes = malloc(sizeof(*w->sizes));
	w->cdf = malloc(sizeof(*w->cdf));
	if (!w->sizes || !w->cdf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	w->sizes[0] = (uint32_t)v;
	w->cdf[0] = 1.0;
	w->n = 1;
	w->mean = (double)v;
	return 0;
}

/* Read "length frequency" lines, merging lengths truncated to max_len. */
static int bench_read(struct bench_workload *w, FILE *f, uint32_t max_len,
		      char *err, size_t errlen)
{
	size_t cap = 0;
	double total = 0, weighted = 0;
	char line[256];
	int lineno = 0;

	while (fgets(line, sizeof(line), f)) {
		double len, freq;

		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%lf %lf", &len, &freq) != 2 || len < 1 ||
		    freq < 0) {
			snprintf(err, errlen, "line %d: expected 'length freq'",
				 lineno);
			return -1;
		}
		if (len > max_len)
			len = max_len;
		if (w->n && w->sizes[w->n - 1] >= (uint32_t)len) {
			if (w->sizes[w->n - 1] > (uint32_t)len) {
				snprintf(err, errlen,
					 "line %d: lengths not ascending",
					 lineno);
				return -1;
			}
			w->cdf[w->n - 1] += freq; /* merged by truncation */
		} else {
			if (w->n == cap) {
				cap = cap ? 2 * cap : 256;
				w->sizes = realloc(w->sizes,
						   cap * sizeof(*w->sizes));
				w->cdf = realloc(w->cdf, cap * sizeof(*w->cdf));
				if (!w->sizes || !w->cdf) {
					snprintf(err, errlen, "out of memory");
					return -1;
				}
			}
			w->sizes[w->n] = (uint32_t)len;
			w->cdf[w->n++] = freq;
		}
		total += freq;
		weighted += freq * (uint32_t)len;
	}
	if (!w->n || total <= 0) {
		snprintf(err, errlen, "no sizes in the file");
		return -1;
	}
	for (size_t i = 0; i < w->n; i++)
		w->cdf[i] = (i ? w->cdf[i - 1] : 0) + w->cdf[i] / total;
	w->cdf[w->n - 1] = 1.0;
	w->mean = weighted / total;
	return 0;
}

int bench_workload_load(struct bench_workload *w, const char *spec,
			const char *dir, uint32_t max_len, char *err,
			size_t errlen)
{
	char path[512];
	FILE *f;
	int ret;

	memset(w, 0, sizeof(*w));
	snprintf(w->name, sizeof(w->name), "%s", spec);
	if (!(spec[0] == 'w' && spec[1] >= '1' && spec[1] <= '5' && !spec[2]))
		ret = bench_fixed(w, spec, max_len, err, errlen);
	else {
		snprintf(path, sizeof(path), "%s/%s.txt", dir, spec);
		f = fopen(path, "r");
		if (!f) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		ret = bench_read(w, f, max_len, err, errlen);
		fclose(f);
	}
	if (ret < 0) {
		bench_workload_free(w);
		return -1;
	}
	for (int d = 0; d < 10; d++)
		w->deciles[d] = bench_workload_sample(w, (d + 1) / 10.0 - 1e-9);
	w->deciles[9] = w->sizes[w->n - 1];
	return 0;
}

uint32_t bench_workload_sample(const struct bench_workload *w, double u)
{
	size_t lo = 0, hi = w->n - 1;

	while (lo < hi) { /* first entry with cdf > u */
		size_t mid = (lo + hi) / 2;

		if (w->cdf[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return w->sizes[lo];
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
	free(w->sizes);
	free(w->cdf);
	w->sizes = NULL;
	w->cdf = NULL;
	w->n = 0;
}
