/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sim_workload.c - reading, sampling and summarizing message-size
 * distributions (see sim_workload.h); homa-bench and the test support
 * use it too (library homa_workload).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_workload.h"

struct wl_point {
	uint32_t size; /* bytes */
	double weight; /* relative frequency */
};

static int wl_point_cmp(const void *a, const void *b)
{
	const struct wl_point *x = a, *y = b;

	return x->size < y->size ? -1 : x->size > y->size;
}

/* Build size/cdf from n points (sorted here; duplicates merged). */
static int wl_from_points(struct sim_workload *wl, struct wl_point *pts, int n,
			  char *err)
{
	double total = 0, cum = 0;
	int m = 0;

	qsort(pts, (size_t)n, sizeof(*pts), wl_point_cmp);
	for (int i = 0; i < n; i++) {
		if (m && pts[m - 1].size == pts[i].size)
			pts[m - 1].weight += pts[i].weight;
		else
			pts[m++] = pts[i];
		total += pts[i].weight;
	}
	if (m == 0 || total <= 0) {
		snprintf(err, SIM_WL_ERR_BYTES, "%s: no points", wl->name);
		return -EINVAL;
	}
	wl->size = malloc((size_t)m * sizeof(*wl->size));
	wl->cdf = malloc((size_t)m * sizeof(*wl->cdf));
	if (!wl->size || !wl->cdf) {
		sim_workload_free(wl);
		return -ENOMEM;
	}
	wl->n = m;
	wl->mean_bytes = 0;
	for (int i = 0; i < m; i++) {
		cum += pts[i].weight;
		wl->size[i] = pts[i].size;
		wl->cdf[i] = cum / total;
		wl->mean_bytes += pts[i].weight / total * pts[i].size;
	}
	wl->cdf[m - 1] = 1.0;
	wl->min_bytes = wl->size[0];
	wl->max_bytes = wl->size[m - 1];
	return 0;
}

/* Parse one "length weight" line into pts[*n] (growing pts). */
static int wl_parse_line(const char *line, struct wl_point **pts, int *n,
			 int *cap)
{
	unsigned long long size;
	double w;

	while (*line == ' ' || *line == '\t')
		line++;
	if (*line == '#' || *line == '\n' || *line == '\0')
		return 0;
	if (sscanf(line, "%llu %lf", &size, &w) != 2 || size == 0 ||
	    size > UINT32_MAX || w < 0)
		return -EINVAL;
	if (*n == *cap) {
		int c = *cap ? 2 * *cap : 256;
		struct wl_point *p = realloc(*pts, (size_t)c * sizeof(*p));

		if (!p)
			return -ENOMEM;
		*pts = p;
		*cap = c;
	}
	(*pts)[*n].size = (uint32_t)size;
	(*pts)[*n].weight = w;
	(*n)++;
	return 0;
}

static int wl_read_file(struct sim_workload *wl, const char *path, char *err)
{
	struct wl_point *pts = NULL;
	int n = 0, cap = 0, line_no = 0, ret = 0;
	char line[512];
	FILE *f;

	f = fopen(path, "r");
	if (!f) {
		snprintf(err, SIM_WL_ERR_BYTES, "cannot open %s: %s", path,
			 strerror(errno));
		return -ENOENT;
	}
	while (fgets(line, sizeof(line), f)) {
		line_no++;
		ret = wl_parse_line(line, &pts, &n, &cap);
		if (ret) {
			snprintf(err, SIM_WL_ERR_BYTES,
				 "%s:%d: expected \"length_bytes "
				 "relative_frequency\"",
				 path, line_no);
			break;
		}
	}
	fclose(f);
	if (!ret)
		ret = wl_from_points(wl, pts, n, err);
	free(pts);
	return ret;
}

int sim_workload_load(struct sim_workload *wl, const char *spec,
		      const char *dir, char *err)
{
	char path[1024];
	int ret;

	memset(wl, 0, sizeof(*wl));
	snprintf(wl->name, sizeof(wl->name), "%s", spec);
	if (strncmp(spec, "fixed:", 6) == 0) {
		char *end;
		unsigned long long v = strtoull(spec + 6, &end, 10);
		struct wl_point p;

		if (*end || v == 0 || v > UINT32_MAX) {
			snprintf(err, SIM_WL_ERR_BYTES,
				 "bad fixed size in \"%s\"", spec);
			return -EINVAL;
		}
		p.size = (uint32_t)v;
		p.weight = 1;
		return wl_from_points(wl, &p, 1, err);
	}
	if (spec[0] == 'w' && spec[1] >= '1' && spec[1] <= '5' && !spec[2]) {
		snprintf(path, sizeof(path), "%s/%s.txt", dir, spec);
		return wl_read_file(wl, path, err);
	}
	ret = wl_read_file(wl, spec, err);
	if (ret == -ENOENT && !strchr(spec, '/') && !strchr(spec, '.')) {
		/* Most likely meant as a name, like w9: say which exist. */
		snprintf(err, SIM_WL_ERR_BYTES,
			 "unknown workload '%.60s': the workloads are w1, w2, "
			 "w3, w4, w5, fixed:BYTES, or the path of a file of "
			 "\"length_bytes relative_frequency\" lines",
			 spec);
	}
	return ret;
}

void sim_workload_free(struct sim_workload *wl)
{
	free(wl->size);
	free(wl->cdf);
	wl->size = NULL;
	wl->cdf = NULL;
	wl->n = 0;
}

uint32_t sim_workload_quantile(const struct sim_workload *wl, double u)
{
	int lo = 0, hi = wl->n - 1;

	while (lo < hi) { /* first entry with cdf > u */
		int mid = (lo + hi) / 2;

		if (wl->cdf[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return wl->size[lo];
}

uint32_t sim_workload_sample(const struct sim_workload *wl, struct sim_rng *r)
{
	return sim_workload_quantile(wl, sim_rng_unit(r));
}

void sim_workload_truncate(struct sim_workload *wl, uint32_t max_bytes)
{
	int m = 0;

	if (wl->max_bytes <= max_bytes)
		return;
	while (m < wl->n && wl->size[m] < max_bytes)
		m++;
	/* Everything longer becomes one point at max_bytes. */
	wl->size[m] = max_bytes;
	wl->cdf[m] = 1.0;
	wl->n = m + 1;
	wl->mean_bytes = 0;
	for (int i = 0; i < wl->n; i++)
		wl->mean_bytes += sim_workload_prob(wl, i) * wl->size[i];
	wl->max_bytes = max_bytes;
	if (wl->min_bytes > max_bytes)
		wl->min_bytes = max_bytes;
}

double sim_workload_prob(const struct sim_workload *wl, int i)
{
	return i == 0 ? wl->cdf[0] : wl->cdf[i] - wl->cdf[i - 1];
}

int sim_workload_deciles(const struct sim_workload *wl,
			 uint32_t bounds[SIM_WL_DECILES])
{
	int nb = 0, i = 0;

	for (int k = 1; k <= SIM_WL_DECILES; k++) {
		double q = k / (double)SIM_WL_DECILES - 1e-9;

		while (i < wl->n - 1 && wl->cdf[i] < q)
			i++;
		if (k == SIM_WL_DECILES)
			i = wl->n - 1;
		if (nb == 0 || bounds[nb - 1] != wl->size[i])
			bounds[nb++] = wl->size[i];
	}
	return nb;
}
