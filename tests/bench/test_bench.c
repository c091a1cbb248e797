/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_bench.c - homa-bench's arithmetic and argument checking: workload
 * loading and sampling (the mean of samples matches each distribution's
 * mean within 2 %), truncation, decile buckets, percentiles, slowdown
 * interpolation, every argument error, and the samples file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bench.h"

volatile int bench_stop;

uint64_t bench_now_ns(void)
{
	return 0;
}

/* Stand-ins: the argument tests never run a protocol. */
int bench_client_run(const struct bench_opts *o)
{
	(void)o;
	return 0;
}

static const char *wdir(void)
{
	return HOMA_WORKLOAD_DIR;
}

static double sample_mean(const struct bench_workload *w, int n)
{
	uint64_t x = 88172645463325252ull;
	double sum = 0;

	for (int i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		sum += bench_workload_sample(w, (double)(x >> 11) /
							9007199254740992.0);
	}
	return sum / n;
}

/* Mean of the file's distribution, computed independently. */
static double file_mean(const char *name, double max_len)
{
	char path[512], line[256];
	double total = 0, weighted = 0, len, freq;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.txt", wdir(), name);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (line[0] != '#' &&
		    sscanf(line, "%lf %lf", &len, &freq) == 2) {
			total += freq;
			weighted += freq * (len > max_len ? max_len : len);
		}
	fclose(f);
	return weighted / total;
}

static void bench_workload_sample__means_within_2pct(void **state)
{
	static const char *names[] = { "w1", "w2", "w3", "w4", "w5" };
	char err[256];

	(void)state;
	for (int i = 0; i < 5; i++) {
		struct bench_workload w;
		double want = file_mean(names[i], BENCH_MAX_MSG), got;

		assert_int_equal(bench_workload_load(&w, names[i], wdir(),
						     BENCH_MAX_MSG, err,
						     sizeof(err)),
				 0);
		assert_true(w.wl.mean_bytes > want * 0.9999 &&
			    w.wl.mean_bytes < want * 1.0001);
		got = sample_mean(&w, 2000000);
		print_message("%s: mean %.1f, sampled %.1f\n", names[i], want,
			      got);
		assert_true(got > want * 0.98 && got < want * 1.02);
		bench_workload_free(&w);
	}
}

static void bench_workload_load__truncation_and_fixed(void **state)
{
	struct bench_workload w;
	char err[256];

	(void)state;
	assert_int_equal(
		bench_workload_load(&w, "w5", wdir(), 100000, err, sizeof(err)),
		0);
	assert_int_equal(w.wl.size[w.wl.n - 1], 100000);
	for (int i = 1; i < w.wl.n; i++)
		assert_true(w.wl.size[i] > w.wl.size[i - 1]);
	assert_true(w.wl.mean_bytes <= 100000);
	bench_workload_free(&w);
	assert_int_equal(bench_workload_load(&w, "1500", wdir(), 1000000, err,
					     sizeof(err)),
			 0);
	assert_int_equal(bench_workload_sample(&w, 0.7), 1500);
	assert_int_equal(bench_workload_bucket(&w, 1500), 0);
	bench_workload_free(&w);
	assert_int_equal(bench_workload_load(&w, "w9", wdir(), 1000000, err,
					     sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "w9"));
	assert_int_equal(
		bench_workload_load(&w, "0", wdir(), 1000000, err, sizeof(err)),
		-1);
	assert_int_equal(bench_workload_load(&w, "w1", "/nonexistent", 1000000,
					     err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "No such file"));
}

static void bench_workload_bucket__deciles(void **state)
{
	struct bench_workload w;
	char err[256];
	int counts[10] = { 0 };
	uint64_t x = 1;

	(void)state;
	assert_int_equal(bench_workload_load(&w, "w3", wdir(), BENCH_MAX_MSG,
					     err, sizeof(err)),
			 0);
	for (int d = 1; d < 10; d++)
		assert_true(w.deciles[d] >= w.deciles[d - 1]);
	assert_int_equal(w.deciles[9], w.wl.size[w.wl.n - 1]);
	for (int i = 0; i < 100000; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		counts[bench_workload_bucket(
			&w,
			bench_workload_sample(
				&w, (double)(x >> 11) / 9007199254740992.0))]++;
	}
	/* Each bucket holds at least its tenth (ties merge into lower). */
	for (int d = 0, cum = 0; d < 10; d++) {
		cum += counts[d];
		assert_true(cum >= (d + 1) * 10000 - 1500);
	}
	bench_workload_free(&w);
}

static void bench_percentile__nearest_rank(void **state)
{
	double v[100];

	(void)state;
	for (int i = 0; i < 100; i++)
		v[i] = i + 1;
	assert_true(bench_percentile(v, 100, 50) == 50);
	assert_true(bench_percentile(v, 100, 99) == 99);
	assert_true(bench_percentile(v, 100, 99.9) == 100);
	assert_true(bench_percentile(v, 100, 0) == 1);
	assert_true(bench_percentile(v, 1, 99) == 1);
	assert_true(bench_percentile(v, 0, 50) == 0);
	assert_true(bench_percentile(v, 3, 50) == 2);
}

static void bench_slowdown__interpolation(void **state)
{
	struct bench_calib c = { { 100, 1000, 10000 }, { 10, 20, 110 }, 3 };

	(void)state;
	assert_true(bench_calib_us(&c, 50) == 10); /* clamped low */
	assert_true(bench_calib_us(&c, 100) == 10);
	assert_true(bench_calib_us(&c, 550) == 15); /* halfway */
	assert_true(bench_calib_us(&c, 5500) == 65);
	assert_true(bench_calib_us(&c, 20000) == 220); /* scaled up */
	assert_true(bench_slowdown(&c, 550, 45) == 3);
	c.n = 0;
	assert_true(bench_calib_us(&c, 5) == 1);
}

/* Parse a command line given as one string. */
static int parse(const char *cmd, struct bench_opts *o)
{
	static char buf[512]; /* options point into it after return */
	char *argv[32];
	int argc = 0;

	snprintf(buf, sizeof(buf), "homa-bench %s", cmd);
	for (char *t = strtok(buf, " "); t && argc < 31; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	return bench_parse(argc, argv, o);
}

static void bench_parse__errors(void **state)
{
	static const char *bad[] = {
		"",
		"serve --proto homa --port 1",
		"server --port 5",
		"server --proto sctp --port 5",
		"server --proto homa",
		"server --proto homa --port 0",
		"server --proto homa --port 70000",
		"server --proto tcp --raw --port 5",
		"server --proto homa --port",
		"client --proto homa --workload w4 --load 10 --seconds 1",
		"client --proto homa --server 127.0.0.1 --workload w4 --load 1 "
		"--seconds 1",
		"client --proto homa --server 127.0.0.1:0 --workload w4 --load "
		"1 "
		"--seconds 1",
		"client --proto homa --server 127.0.0.1:9 --load 1 --seconds 1",
		"client --proto homa --server 127.0.0.1:9 --workload w4 "
		"--seconds 1",
		"client --proto homa --server 127.0.0.1:9 --workload w4 --load "
		"1 "
		"--outstanding 2 --seconds 1",
		"client --proto homa --server 127.0.0.1:9 --workload w4 --load "
		"1",
		"client --proto homa --server 127.0.0.1:9 --workload w4 --load "
		"x "
		"--seconds 1",
		"client --proto homa --server 127.0.0.1:9 --workload w4 --load "
		"-1 "
		"--seconds 1",
		"client --proto homa --server 127.0.0.1:9 --workload w4 --load "
		"1 "
		"--seconds 1 --bogus 3",
		"report --workload w4 --seconds 1",
		"client --proto homa --server 127.0.0.1:9 --workload w4 --load "
		"1 --seconds 1 --max-samples 0",
	};
	struct bench_opts o;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("bad: %s\n", bad[i]);
		assert_int_equal(parse(bad[i], &o), -1);
	}
	assert_int_equal(parse("server --proto homa --raw --port 4000", &o), 0);
	assert_true(o.server && o.raw && o.port == 4000);
	assert_int_equal(parse("client --proto tcp --server 127.0.0.1:9 "
			       "--server [::1]:10 --workload w4 --load 80.5 "
			       "--seconds 2 --json x.json",
			       &o),
			 0);
	assert_int_equal(o.num_servers, 2);
	assert_true(o.load_mbps == 80.5 && o.seconds == 2);
	assert_string_equal(o.json, "x.json");
	assert_int_equal(o.max_samples, 0);
	assert_int_equal(parse("client --proto homa --server 127.0.0.1:9 "
			       "--workload w4 --load 1 --seconds 1 "
			       "--max-samples 500",
			       &o),
			 0);
	assert_int_equal(o.max_samples, 500);
}

/* --max-samples: memory stays at max samples however many RPCs complete;
 * counts and bytes cover them all; the kept ones are a uniform sample
 * (their mean is the mean of all, within 5 %); no max keeps every one. */
static void bench_results_add__reservoir(void **state)
{
	struct bench_results r = { .max = 1000, .rng = 12345 };
	double sum = 0;

	(void)state;
	for (uint32_t i = 1; i <= 100000; i++)
		assert_int_equal(bench_results_add(&r, i, i, i * 1000ull), 0);
	assert_int_equal(r.n, 1000);
	assert_true(r.cap <= 1000);
	assert_int_equal(r.total, 100000);
	assert_int_equal(r.bytes, 100000ull * 100001 / 2);
	for (size_t i = 0; i < r.n; i++) {
		assert_true(r.s[i].lat_us == (float)r.s[i].size);
		assert_true(r.s[i].start_ns == r.s[i].size * 1000ull);
		sum += r.s[i].size;
	}
	print_message("mean of the kept sample %.0f (all: 50000)\n", sum / r.n);
	assert_true(sum / r.n > 47500 && sum / r.n < 52500);
	bench_results_free(&r);
	for (uint32_t i = 1; i <= 5000; i++)
		assert_int_equal(bench_results_add(&r, i, i, 0), 0);
	assert_int_equal(r.n, 5000);
	assert_int_equal(r.total, 5000);
	bench_results_free(&r);
}

/* --samples: one line per RPC, its size, latency (us) and start time (us
 * of CLOCK_MONOTONIC, to line slow RPCs up with a trace), in order. */
static void bench_samples_save__start_times(void **state)
{
	struct bench_results r = { 0 };
	char path[] = "/tmp/test_bench_samples_XXXXXX", text[256];
	FILE *f;
	size_t n;
	int fd;

	(void)state;
	assert_int_equal(bench_results_add(&r, 100, 12.5, 61157376648679ull),
			 0);
	assert_int_equal(bench_results_add(&r, 200, 4398.25, 5000), 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(bench_samples_save(path, &r), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = 0;
	fclose(f);
	unlink(path);
	assert_string_equal(text, "# errors 0\n"
				  "100 12.50 61157376648.679\n"
				  "200 4398.25 5.000\n");
	bench_results_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bench_workload_sample__means_within_2pct),
		cmocka_unit_test(bench_workload_load__truncation_and_fixed),
		cmocka_unit_test(bench_workload_bucket__deciles),
		cmocka_unit_test(bench_percentile__nearest_rank),
		cmocka_unit_test(bench_slowdown__interpolation),
		cmocka_unit_test(bench_parse__errors),
		cmocka_unit_test(bench_results_add__reservoir),
		cmocka_unit_test(bench_samples_save__start_times),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
