/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client.c - the client engine of homa-bench, the same for every
 * protocol: a calibration run (one RPC at a time, sizes across the
 * workload) gives the unloaded latency by size; then the measured run
 * sends requests open-loop (Poisson arrivals at --load, from a sender
 * thread) or closed-loop (--outstanding, sent as responses return) to
 * random servers, and records every RPC's latency.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define BENCH_SLOTS 65536 /* RPCs in flight at most */

struct bench_slot {
	uint64_t start_ns; /* send time, 0 = free */
	uint32_t size;	   /* request bytes */
};

struct bench_run {
	const struct bench_opts *o;	/* options */
	const struct bench_workload *w; /* sizes */
	struct bench_client *c;		/* protocol */
	struct bench_slot *slots;	/* by tag */
	pthread_mutex_t lock;		/* slots, rng, results */
	uint64_t rng;			/* xorshift state */
	uint32_t next_slot;		/* slot search cursor */
	struct bench_results res;	/* completed RPCs */
	uint64_t inflight;		/* RPCs outstanding */
	uint64_t measure_start_ns;	/* start of the measured part */
	uint64_t end_ns;		/* when to stop sending */
	uint32_t fixed_size;		/* calibration: this size, else 0 */
	bool record;			/* store results */
	bool sending;			/* open loop: the sender thread runs */
	int fatal;			/* a fatal protocol error */
};

static double bench_uniform(struct bench_run *r)
{
	r->rng ^= r->rng << 13;
	r->rng ^= r->rng >> 7;
	r->rng ^= r->rng << 17;
	return (double)(r->rng >> 11) / 9007199254740992.0;
}

/* Start one RPC (lock held). 0 or -errno. */
static int bench_start(struct bench_run *r)
{
	uint32_t size = r->fixed_size
				? r->fixed_size
				: bench_workload_sample(r->w, bench_uniform(r));
	int s = (int)(bench_uniform(r) * r->o->num_servers);
	uint32_t tag;
	int ret;

	for (uint32_t k = 0;; k++) {
		if (k == BENCH_SLOTS)
			return -ENOBUFS;
		tag = (r->next_slot + k) % BENCH_SLOTS;
		if (!r->slots[tag].start_ns)
			break;
	}
	r->next_slot = tag + 1;
	r->slots[tag].start_ns = bench_now_ns();
	r->slots[tag].size = size;
	r->inflight++;
	pthread_mutex_unlock(&r->lock);
	ret = r->c->send(r->c, s, size, tag);
	pthread_mutex_lock(&r->lock);
	if (ret < 0) {
		r->slots[tag].start_ns = 0;
		r->inflight--;
		r->res.errors++;
		r->res.last_errno = -ret;
	}
	return ret;
}

/* Open loop: Poisson arrivals at the offered load. */
static void *bench_sender(void *arg)
{
	struct bench_run *r = arg;
	double rate =
		r->o->load_mbps * 1e6 / 8 / r->w->wl.mean_bytes; /* RPCs/s */
	uint64_t next = bench_now_ns();

	pthread_mutex_lock(&r->lock);
	while (!bench_stop && !r->fatal && next < r->end_ns) {
		uint64_t now = bench_now_ns();

		if (now < next) {
			struct timespec ts = { 0, (long)(next - now) };

			pthread_mutex_unlock(&r->lock);
			if (next - now > 20000)
				nanosleep(&ts, NULL);
			pthread_mutex_lock(&r->lock);
			continue;
		}
		bench_start(r);
		next += (uint64_t)(-log(1 - bench_uniform(r)) / rate * 1e9);
	}
	__atomic_store_n(&r->sending, false, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

static void bench_progress(struct bench_run *r, uint64_t now)
{
	double el = (double)(now - r->measure_start_ns) / 1e9;

	fprintf(stderr, "\r%6.1fs  %8zu rpcs  %8.1f Mbit/s  %6llu outstanding ",
		el, (size_t)r->res.total,
		el > 0 ? (double)r->res.bytes * 8 / el / 1e6 : 0,
		(unsigned long long)r->inflight);
}

/* Collect responses until the end time and nothing is outstanding (or a
 * grace period passes), and in any case while the open-loop sender runs:
 * a send may be waiting for room (the socket holds wmem_max bytes of
 * requests), which only responses collected here free; a receiver gone
 * would leave it waiting forever. Closed loop refills here. */
static void bench_receive(struct bench_run *r, bool closed)
{
	uint64_t last_progress = 0, grace = 2000000000ull;
	bool tty = isatty(2) && r->record;

	for (;;) {
		uint64_t tag, now = bench_now_ns();
		int ret;

		if (tty && now - last_progress > 500000000ull) {
			bench_progress(r, now);
			last_progress = now;
		}
		if (now >= r->end_ns &&
		    !__atomic_load_n(&r->sending, __ATOMIC_RELAXED) &&
		    (r->inflight == 0 || now >= r->end_ns + grace ||
		     bench_stop))
			break;
		ret = r->c->recv(r->c, &tag, 50);
		if (ret == 0)
			continue;
		if (ret < 0 && tag == UINT64_MAX) {
			r->fatal = ret;
			break;
		}
		pthread_mutex_lock(&r->lock);
		if (tag < BENCH_SLOTS && r->slots[tag].start_ns) {
			struct bench_slot *s = &r->slots[tag];

			now = bench_now_ns();
			if (ret < 0) {
				r->res.errors++;
				r->res.last_errno = -ret;
			} else if (r->record)
				bench_results_add(&r->res, s->size,
						  (double)(now - s->start_ns) /
							  1000.0,
						  s->start_ns);
			s->start_ns = 0;
			r->inflight--;
			if (closed && now < r->end_ns && !bench_stop)
				bench_start(r);
		}
		pthread_mutex_unlock(&r->lock);
	}
	if (tty)
		fprintf(stderr, "\n");
}

/* One phase: closed loop with n outstanding, or open loop. */
static void bench_phase(struct bench_run *r, double seconds, int closed_n)
{
	pthread_t sender;

	r->measure_start_ns = bench_now_ns();
	r->end_ns = r->measure_start_ns + (uint64_t)(seconds * 1e9);
	if (closed_n) {
		pthread_mutex_lock(&r->lock);
		for (int i = 0; i < closed_n; i++)
			bench_start(r);
		pthread_mutex_unlock(&r->lock);
		bench_receive(r, true);
		return;
	}
	r->sending = true;
	if (pthread_create(&sender, NULL, bench_sender, r) != 0) {
		r->sending = false;
		r->fatal = -EAGAIN;
		return;
	}
	bench_receive(r, false);
	pthread_join(sender, NULL);
}

static int bench_cmp_f(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Unloaded latency at sizes spread over the workload. */
static void bench_calibrate(struct bench_run *r, struct bench_calib *cal)
{
	double per = r->o->cal_seconds / BENCH_CAL_POINTS;

	cal->n = 0;
	for (int i = 0; i < BENCH_CAL_POINTS && !bench_stop; i++) {
		uint32_t size = i == 0 ? r->w->wl.size[0]
				       : r->w->deciles[(i - 1) * 10 /
						       (BENCH_CAL_POINTS - 1)];
		double *lat;

		if (i == BENCH_CAL_POINTS - 1)
			size = r->w->wl.max_bytes;
		if (cal->n && size <= cal->size[cal->n - 1])
			continue;
		bench_results_free(&r->res);
		r->fixed_size = size;
		r->record = true;
		bench_phase(r, per, 1);
		if (!r->res.n)
			continue;
		lat = malloc(r->res.n * sizeof(*lat));
		for (size_t k = 0; k < r->res.n; k++)
			lat[k] = r->res.s[k].lat_us;
		qsort(lat, r->res.n, sizeof(*lat), bench_cmp_f);
		cal->size[cal->n] = size;
		cal->lat_us[cal->n++] = bench_percentile(lat, r->res.n, 50);
		free(lat);
	}
	r->fixed_size = 0;
	bench_results_free(&r->res);
}

int bench_client_run(const struct bench_opts *o)
{
	struct bench_workload w;
	struct bench_calib cal = { .n = 0 };
	struct bench_run r;
	char err[256], label[64];
	uint64_t ctx0;
	double cpu0;
	int ret = 0;

	if (bench_workload_load(&w, o->workload, o->workload_dir, BENCH_MAX_MSG,
				err, sizeof(err)) < 0) {
		fprintf(stderr, "homa-bench: %s\n", err);
		return 2;
	}
	memset(&r, 0, sizeof(r));
	r.o = o;
	r.w = &w;
	r.rng = o->seed * 2654435761u + 88172645463325252ull;
	/* Written whole now (1 MB): the slots are used in turn, so the
	 * table would otherwise become resident page by page over the first
	 * 65,536 RPCs, minutes of an open-loop run (scripts/soak.sh judges
	 * RSS). */
	r.slots = calloc(BENCH_SLOTS, sizeof(*r.slots));
	if (r.slots)
		bench_touch(r.slots, BENCH_SLOTS * sizeof(*r.slots));
	pthread_mutex_init(&r.lock, NULL);
	if (strcmp(o->proto, "homa") == 0)
		r.c = bench_homa_client(o);
	else if (strcmp(o->proto, "udp") == 0)
		r.c = bench_udp_client(o);
	else
		r.c = bench_tcp_client(o);
	if (!r.c || !r.slots) {
		if (r.c)
			r.c->close(r.c);
		free(r.slots);
		bench_workload_free(&w);
		return 1;
	}
	if (o->load_calib) {
		if (bench_calib_load(o->load_calib, &cal) < 0) {
			fprintf(stderr,
				"homa-bench: cannot read calibration "
				"%s\n",
				o->load_calib);
			ret = 2;
			goto out;
		}
	} else if (o->cal_seconds > 0) {
		bench_calibrate(&r, &cal);
	}
	if (o->save_calib && bench_calib_save(o->save_calib, &cal) < 0) {
		fprintf(stderr, "homa-bench: cannot write %s\n", o->save_calib);
		ret = 1;
	}
	r.record = true;
	r.res.max = o->max_samples;
	r.res.rng = r.rng | 1;
	bench_rusage(&cpu0, &ctx0);
	bench_phase(&r, o->seconds, o->outstanding);
	bench_rusage(&r.res.cpu_us, &r.res.ctx_switches);
	r.res.cpu_us -= cpu0;
	r.res.ctx_switches -= ctx0;
	r.res.seconds = o->seconds;
	snprintf(label, sizeof(label), "%s%s", o->label ? o->label : o->proto,
		 o->raw && !o->label ? "(raw)" : "");
	if (o->samples && bench_samples_save(o->samples, &r.res) < 0) {
		fprintf(stderr, "homa-bench: cannot write %s\n", o->samples);
		ret = 1;
	}
	if (r.fatal) {
		fprintf(stderr, "homa-bench: %s\n", strerror(-r.fatal));
		ret = 1;
	}
	if (bench_report(&r.res, &w, &cal, label, o->spin_us, stdout, o->json) <
	    0) {
		fprintf(stderr, "homa-bench: cannot write %s\n", o->json);
		ret = 1;
	}
	if (r.res.total)
		fprintf(stderr,
			"homa-bench client: CPU %.2f us and %.2f context "
			"switches per RPC\n",
			r.res.cpu_us / (double)r.res.total,
			(double)r.res.ctx_switches / (double)r.res.total);
	if (r.res.errors) {
		fprintf(stderr,
			"homa-bench: %llu RPCs failed, the last with: %s%s\n",
			(unsigned long long)r.res.errors,
			strerror(r.res.last_errno),
			r.res.last_errno == ETIMEDOUT &&
					strcmp(o->proto, "homa") == 0
				? " (is the server running, with the same "
				  "datapath: --raw on both sides or neither?)"
				: "");
		if (!r.res.total)
			ret = 1; /* all the work failed */
	} else if (!r.res.total && !r.fatal && !bench_stop) {
		fprintf(stderr,
			"homa-bench: no RPC completed in %.1f s: is a "
			"server running there, with the same --proto%s?\n",
			o->seconds, o->raw ? " and --raw" : "");
		ret = 1;
	}
out:
	r.c->close(r.c);
	bench_results_free(&r.res);
	bench_workload_free(&w);
	free(r.slots);
	return ret;
}
