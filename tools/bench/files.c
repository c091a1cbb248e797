/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * files.c - homa-bench's files: the calibration table (so every client of
 * a cluster run uses one unloaded baseline), raw samples (size, latency
 * and start time of every RPC), and `homa-bench report`, which merges the
 * samples of several clients into one table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

int bench_calib_save(const char *path, const struct bench_calib *c)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "# size_bytes unloaded_latency_us\n");
	for (int i = 0; i < c->n; i++)
		fprintf(f, "%u %.3f\n", c->size[i], c->lat_us[i]);
	return fclose(f) == 0 ? 0 : -1;
}

int bench_calib_load(const char *path, struct bench_calib *c)
{
	FILE *f = fopen(path, "r");
	char line[128];

	if (!f)
		return -1;
	c->n = 0;
	while (fgets(line, sizeof(line), f) && c->n < BENCH_CAL_POINTS) {
		unsigned size;
		double lat;

		if (line[0] == '#')
			continue;
		if (sscanf(line, "%u %lf", &size, &lat) != 2 || lat <= 0 ||
		    (c->n && size <= c->size[c->n - 1])) {
			fclose(f);
			return -1;
		}
		c->size[c->n] = size;
		c->lat_us[c->n++] = lat;
	}
	fclose(f);
	return c->n ? 0 : -1;
}

int bench_samples_save(const char *path, const struct bench_results *r)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "# errors %llu\n", (unsigned long long)r->errors);
	for (size_t i = 0; i < r->n; i++)
		fprintf(f, "%u %.2f %.3f\n", r->s[i].size, r->s[i].lat_us,
			(double)r->s[i].start_ns / 1000.0);
	return fclose(f) == 0 ? 0 : -1;
}

static int bench_samples_load(const char *path, struct bench_results *r)
{
	FILE *f = fopen(path, "r");
	char line[128];

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long errors;
		double lat, start_us = 0;
		unsigned size;

		if (sscanf(line, "# errors %llu", &errors) == 1)
			r->errors += errors;
		else if (sscanf(line, "%u %lf %lf", &size, &lat, &start_us) >=
			 2)
			bench_results_add(r, size, lat,
					  (uint64_t)(start_us * 1000.0));
	}
	fclose(f);
	return 0;
}

int bench_report_run(const struct bench_opts *o)
{
	struct bench_results res = { 0 };
	struct bench_workload w;
	struct bench_calib cal;
	char err[256];
	int ret = 0;

	if (bench_workload_load(&w, o->workload, o->workload_dir, BENCH_MAX_MSG,
				err, sizeof(err)) < 0) {
		fprintf(stderr, "homa-bench: %s\n", err);
		return 2;
	}
	if (bench_calib_load(o->load_calib, &cal) < 0) {
		fprintf(stderr, "homa-bench: cannot read calibration %s\n",
			o->load_calib);
		bench_workload_free(&w);
		return 2;
	}
	for (int i = 0; i < o->num_sample_files; i++) {
		if (bench_samples_load(o->sample_files[i], &res) < 0) {
			fprintf(stderr, "homa-bench: cannot read %s\n",
				o->sample_files[i]);
			ret = 2;
		}
	}
	res.seconds = o->seconds;
	if (!ret && bench_report(&res, &w, &cal, o->label ? o->label : o->proto,
				 o->spin_us, stdout, o->json) < 0)
		ret = 1;
	bench_results_free(&res);
	bench_workload_free(&w);
	return ret;
}
