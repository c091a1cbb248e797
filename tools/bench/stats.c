/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stats.c - percentiles, slowdown and output for homa-bench.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "stats.h"

double bench_percentile(const double *v, size_t n, double p)
{
	size_t rank;

	if (n == 0)
		return 0;
	/* nearest rank: the smallest value with at least p% at or below */
	rank = (size_t)ceil(p / 100.0 * (double)n);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

double bench_calib_us(const struct bench_calib *c, uint32_t size)
{
	if (c->n == 0)
		return 1;
	if (size <= c->size[0])
		return c->lat_us[0];
	for (int i = 1; i < c->n; i++) {
		if (size <= c->size[i]) {
			double f = (double)(size - c->size[i - 1]) /
				   (double)(c->size[i] - c->size[i - 1]);

			return c->lat_us[i - 1] +
			       f * (c->lat_us[i] - c->lat_us[i - 1]);
		}
	}
	return c->lat_us[c->n - 1] * (double)size / c->size[c->n - 1];
}

double bench_slowdown(const struct bench_calib *c, uint32_t size, double lat_us)
{
	double base = bench_calib_us(c, size);

	return base > 0 ? lat_us / base : 0;
}

void bench_touch(void *p, size_t bytes)
{
	volatile uint8_t *b = p;

	/* A store per page (not memset, which the compiler may fold into
	 * calloc's lazily mapped zero pages). */
	for (size_t i = 0; i < bytes; i += 4096)
		b[i] = b[i];
}

int bench_results_add(struct bench_results *r, uint32_t size, double lat_us,
		      uint64_t start_ns)
{
	size_t i = r->n;

	r->total++;
	r->bytes += size;
	if (r->max && r->n == r->max) {
		/* A uniform sample of max of the total RPCs: the total-th
		 * replaces a kept one with probability max / total, so memory
		 * stays bounded in a run of any length. */
		r->rng ^= r->rng << 13;
		r->rng ^= r->rng >> 7;
		r->rng ^= r->rng << 17;
		i = (size_t)(r->rng % r->total);
		if (i >= r->max)
			return 0;
		r->s[i].size = size;
		r->s[i].lat_us = (float)lat_us;
		r->s[i].start_ns = start_ns;
		return 0;
	}
	if (r->n == r->cap) {
		/* A bounded sample is allocated and written whole at once:
		 * resident from the first RPC, so the process's memory does
		 * not creep up as it fills (scripts/soak.sh judges RSS). */
		size_t cap = r->max ? r->max : r->cap ? 2 * r->cap : 4096;
		struct bench_sample *s = realloc(r->s, cap * sizeof(*s));

		if (!s)
			return -1;
		if (r->max)
			bench_touch(s + r->cap, (cap - r->cap) * sizeof(*s));
		r->s = s;
		r->cap = cap;
	}
	r->s[i].size = size;
	r->s[i].lat_us = (float)lat_us;
	r->s[i].start_ns = start_ns;
	r->n++;
	return 0;
}

void bench_results_free(struct bench_results *r)
{
	free(r->s);
	memset(r, 0, sizeof(*r));
}

static int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct bench_bucket {
	size_t count;	       /* samples */
	double p50, p99, p999; /* latency, us */
	double s50, s99;       /* slowdown */
};

/* Percentiles of bucket d (samples whose size falls in it). */
static void bench_bucket_stats(const struct bench_results *r,
			       const struct bench_workload *w,
			       const struct bench_calib *c, int d,
			       struct bench_bucket *b, double *lat,
			       double *slow)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n; i++) {
		if (bench_workload_bucket(w, r->s[i].size) != d)
			continue;
		lat[n] = r->s[i].lat_us;
		slow[n++] = bench_slowdown(c, r->s[i].size, r->s[i].lat_us);
	}
	qsort(lat, n, sizeof(*lat), bench_cmp);
	qsort(slow, n, sizeof(*slow), bench_cmp);
	b->count = n;
	b->p50 = bench_percentile(lat, n, 50);
	b->p99 = bench_percentile(lat, n, 99);
	b->p999 = bench_percentile(lat, n, 99.9);
	b->s50 = bench_percentile(slow, n, 50);
	b->s99 = bench_percentile(slow, n, 99);
}

int bench_report(const struct bench_results *r, const struct bench_workload *w,
		 const struct bench_calib *c, const char *label,
		 uint32_t spin_us, FILE *f, const char *json_path)
{
	double *lat = malloc((r->n + 1) * sizeof(double));
	double *slow = malloc((r->n + 1) * sizeof(double));
	double mbps =
		r->seconds > 0 ? (double)r->bytes * 8 / r->seconds / 1e6 : 0;
	struct bench_bucket b[10];
	char wname[32];
	FILE *j = NULL;
	int ret = 0;

	if (!lat || !slow) {
		free(lat);
		free(slow);
		return -1;
	}
	for (int d = 0; d < 10; d++)
		bench_bucket_stats(r, w, c, d, &b[d], lat, slow);
	fprintf(f,
		"%s workload %s wait %s: %zu rpcs, %llu errors, %.1f "
		"Mbit/s\n",
		label, w->name, bench_wait_name(spin_us, wname, sizeof(wname)),
		(size_t)r->total, (unsigned long long)r->errors, mbps);
	if (r->n < r->total)
		fprintf(f,
			"(percentiles and counts below: a uniform sample of "
			"%zu of the %llu RPCs, --max-samples)\n",
			r->n, (unsigned long long)r->total);
	fprintf(f, "%10s %8s %10s %10s %10s %8s %8s\n", "max_size", "count",
		"p50_us", "p99_us", "p999_us", "p50_sd", "p99_sd");
	for (int d = 0; d < 10; d++) {
		if (!b[d].count)
			continue;
		fprintf(f, "%10u %8zu %10.1f %10.1f %10.1f %8.2f %8.2f\n",
			w->deciles[d], b[d].count, b[d].p50, b[d].p99,
			b[d].p999, b[d].s50, b[d].s99);
	}
	if (json_path) {
		j = fopen(json_path, "w");
		if (!j) {
			ret = -1;
			goto out;
		}
		fprintf(j,
			"{\"label\": \"%s\", \"workload\": \"%s\", "
			"\"wait\": {\"policy\": \"%s\", \"spin_us\": %u}, "
			"\"throughput_mbps\": %.3f, \"rpcs\": %zu, "
			"\"errors\": %llu, \"seconds\": %.3f, ",
			label, w->name, spin_us ? "spin" : "block", spin_us,
			mbps, (size_t)r->total, (unsigned long long)r->errors,
			r->seconds);
		if (r->cpu_us > 0 && r->total)
			fprintf(j,
				"\"client_cpu_us_per_rpc\": %.3f, "
				"\"client_ctx_switches_per_rpc\": %.3f, ",
				r->cpu_us / (double)r->total,
				(double)r->ctx_switches / (double)r->total);
		fprintf(j, "\"buckets\": [");
		for (int d = 0, first = 1; d < 10; d++) {
			if (!b[d].count)
				continue;
			fprintf(j,
				"%s\n  {\"max_size\": %u, \"count\": %zu, "
				"\"p50_us\": %.2f, \"p99_us\": %.2f, "
				"\"p999_us\": %.2f, \"p50_slowdown\": %.3f, "
				"\"p99_slowdown\": %.3f}",
				first ? "" : ",", w->deciles[d], b[d].count,
				b[d].p50, b[d].p99, b[d].p999, b[d].s50,
				b[d].s99);
			first = 0;
		}
		fprintf(j, "\n]}\n");
		if (fclose(j) != 0)
			ret = -1;
	}
out:
	free(lat);
	free(slow);
	return ret;
}
