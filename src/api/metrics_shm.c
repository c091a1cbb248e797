/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics_shm.c - the process's Homa counters for people: published live
 * in a shared-memory file for homa-metrics(1) (layout in metrics_shm.h),
 * and printed at exit with HOMA_PRINT_METRICS=1.
 *
 * Nothing here runs on the fast path: the counters stay where the core
 * and the datapath increment them; a thread of this file copies them into
 * the file every HOMA_SHM_INTERVAL_NS, holding the library lock only for
 * the copy of about a hundred integers (what homa_metrics_read does).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib.h"
#include "metrics_shm.h"

/* The publication of this process (one instance per process). */
static struct {
	struct homa_lib *lib;	     /* the instance */
	struct homa_shm_header *hdr; /* the mapped file, NULL if none */
	uint64_t *values;	     /* inside the file: HOMA_METRIC_ALL */
	char path[64];		     /* the file's name */
	int pid;		     /* the process that created it */
	bool print;		     /* HOMA_PRINT_METRICS=1 */
	uint64_t start_ns;	     /* instance creation, CLOCK_MONOTONIC */
} homa_shm;

uint64_t homa_shm_start_ticks(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ticks;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* The command name may hold spaces and ')': fields restart after
	 * the last ')', with field 3 (state). */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
		return 0; /* a zombie has run its last */
	for (int field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &ticks) != 1)
		return 0;
	return ticks;
}

void homa_lib_metrics_snapshot(struct homa_lib *lib, uint64_t *out)
{
	struct homa_usage u;
	struct homa_dp *dp = lib->dp;

	homa_lib_lock(lib);
	memcpy(out, homa_get_metrics(lib->homa)->v,
	       sizeof(uint64_t) * HOMA_METRIC_COUNT);
	/* tx counters change under the lock, rx ones atomically */
	out[HOMA_MA_dp_tx_packets] = dp->tx_pkts;
	out[HOMA_MA_dp_tx_calls] = dp->tx_calls;
	out[HOMA_MA_dp_tx_errors] = dp->tx_errors;
	out[HOMA_MA_dp_rx_packets] = HOMA_DP_READ(dp->rx_pkts);
	out[HOMA_MA_dp_rx_calls] = HOMA_DP_READ(dp->rx_calls);
	out[HOMA_MA_dp_rx_filtered] = HOMA_DP_READ(dp->rx_filtered);
	out[HOMA_MA_dp_rx_bad_csum] = HOMA_DP_READ(dp->rx_bad_csum);
	out[HOMA_MA_dp_tx_merged] = dp->tx_merged;
	out[HOMA_MA_dp_rx_gro_bufs] = HOMA_DP_READ(dp->rx_gro_bufs);
	out[HOMA_MA_dp_rx_gro_bad] = HOMA_DP_READ(dp->rx_gro_bad);
	out[HOMA_MA_dp_rx_wakes] = HOMA_DP_READ(dp->rx_wakes);
	homa_get_usage(lib->homa, &u);
	out[HOMA_MA_pool_bytes] = 0;
	for (int fd = 0; fd < lib->socks_len; fd++) {
		uint8_t *region;
		uint64_t bytes;

		if (!lib->socks[fd])
			continue;
		homa_sock_get_rcvbuf(lib->socks[fd]->hsk, &region, &bytes);
		if (region)
			out[HOMA_MA_pool_bytes] += bytes;
	}
	homa_lib_unlock(lib);
	out[HOMA_MA_sockets] = u.sockets;
	out[HOMA_MA_rpcs] = u.rpcs;
	out[HOMA_MA_peers] = u.peers;
	out[HOMA_MA_pool_pages_used] = u.pool_pages_used;
	out[HOMA_MA_tx_bytes] = u.tx_bytes;
	out[HOMA_MA_alloc_bytes] = u.alloc_bytes;
	out[HOMA_MA_grantable] = u.grantable;
	out[HOMA_MA_throttled] = u.throttled;
}

/* Copy a snapshot into the file under its sequence counter. */
static void homa_shm_publish(const uint64_t *v)
{
	struct homa_shm_header *h = homa_shm.hdr;
	/* Odd first: the read-modify-write keeps the stores below after it
	 * (acquire), the last store keeps them before it (release). */
	uint64_t seq = __atomic_fetch_add(&h->seq, 1, __ATOMIC_ACQ_REL);

	for (int i = 0; i < HOMA_METRIC_ALL; i++)
		__atomic_store_n(&homa_shm.values[i], v[i], __ATOMIC_RELAXED);
	__atomic_store_n(&h->update_ns, homa_lib_now(), __ATOMIC_RELAXED);
	__atomic_store_n(&h->updates, h->updates + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&h->seq, seq + 2, __ATOMIC_RELEASE);
}

static void *homa_shm_main(void *arg)
{
	uint64_t v[HOMA_METRIC_ALL];
	struct timespec ts = { 0, (long)HOMA_SHM_INTERVAL_NS };

	(void)arg;
	for (;;) {
		homa_lib_metrics_snapshot(homa_shm.lib, v);
		homa_shm_publish(v);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/*
 * homa_shm_sweep() - remove the files of this user's processes that were
 * killed before their exit handlers ran (the pid no longer runs, or runs
 * another program since), so that /dev/shm holds at most the files of
 * processes killed since the last libhoma process started.
 */
static void homa_shm_sweep(void)
{
	DIR *d = opendir("/dev/shm");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		struct homa_shm_header h;
		char path[300];
		struct stat st;
		uint64_t ticks;
		int fd, pid;

		if (sscanf(e->d_name, "homa-metrics-%d", &pid) != 1 ||
		    pid == homa_shm.pid)
			continue;
		snprintf(path, sizeof(path), "/dev/shm/%s", e->d_name);
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		/* No such process (its file may even lack a header: killed
		 * while creating it), or the pid now runs another process. */
		ticks = homa_shm_start_ticks(pid);
		if (fstat(fd, &st) == 0 && st.st_uid == geteuid() &&
		    (ticks == 0 ||
		     (pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
		      h.magic == HOMA_SHM_MAGIC && h.start_ticks != ticks)))
			unlink(path);
		close(fd);
	}
	closedir(d);
}

/* Create and map the file; 0 or -errno. */
static int homa_shm_create(void)
{
	size_t bytes = HOMA_SHM_BYTES(HOMA_METRIC_ALL);
	struct homa_shm_header *h;
	char *names;
	int fd, ret;

	snprintf(homa_shm.path, sizeof(homa_shm.path), HOMA_SHM_PATH_FMT,
		 homa_shm.pid);
	/* A file left by a dead process with our pid: ours to replace. In
	 * the sticky /dev/shm, another user's file cannot be unlinked, and
	 * O_EXCL | O_NOFOLLOW then refuse it (and any symlink). */
	unlink(homa_shm.path);
	fd = open(homa_shm.path,
		  O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)bytes) < 0)
		goto fail;
	h = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED)
		goto fail;
	close(fd);
	h->version = HOMA_SHM_VERSION;
	h->count = HOMA_METRIC_ALL;
	h->num_counters = HOMA_METRIC_COUNTERS;
	h->datapath = (uint32_t)homa_shm.lib->datapath;
	h->pid = (uint64_t)homa_shm.pid;
	h->start_ticks = homa_shm_start_ticks(homa_shm.pid);
	h->interval_ns = HOMA_SHM_INTERVAL_NS;
	homa_shm.values = (uint64_t *)(h + 1);
	names = (char *)(homa_shm.values + HOMA_METRIC_ALL);
	for (int i = 0; i < HOMA_METRIC_ALL; i++)
		snprintf(names + i * HOMA_SHM_NAME_BYTES, HOMA_SHM_NAME_BYTES,
			 "%s", homa_metrics_name(i));
	/* Readers trust the file once the magic is there. */
	__atomic_store_n(&h->magic, HOMA_SHM_MAGIC, __ATOMIC_RELEASE);
	homa_shm.hdr = h;
	return 0;

fail:
	ret = -errno;
	close(fd);
	unlink(homa_shm.path);
	return ret;
}

/*
 * homa_lib_metrics_print() - the HOMA_PRINT_METRICS report on stderr: a
 * header, every nonzero counter with its description ('!' in front of
 * those that count trouble), the nonzero gauges, and a summary of the
 * trouble.
 */
static void homa_lib_metrics_print(void)
{
	uint64_t v[HOMA_METRIC_ALL];
	char trouble[512] = "";
	size_t used = 0;
	int nonzero = 0;

	homa_lib_metrics_snapshot(homa_shm.lib, v);
	for (int i = 0; i < HOMA_METRIC_COUNTERS; i++)
		nonzero += v[i] != 0;
	fprintf(stderr,
		"libhoma metrics of process %d (%s datapath, %.3f s): "
		"%d of %d counters nonzero, '!' marks trouble\n",
		homa_shm.pid, homa_shm.lib->datapath ? "raw" : "udp",
		(double)(homa_lib_now() - homa_shm.start_ns) / 1e9, nonzero,
		HOMA_METRIC_COUNTERS);
	for (int i = 0; i < HOMA_METRIC_ALL; i++) {
		bool bad = homa_metrics_unusual(i);

		if (v[i] == 0)
			continue;
		fprintf(stderr, "%c %-26s %14llu  %s\n", bad ? '!' : ' ',
			homa_metrics_name(i), (unsigned long long)v[i],
			homa_metrics_comment(i));
		if (bad && used < sizeof(trouble))
			used += (size_t)snprintf(
				trouble + used, sizeof(trouble) - used,
				"%s%s %llu", used ? ", " : "",
				homa_metrics_name(i), (unsigned long long)v[i]);
	}
	fprintf(stderr, "libhoma: %s%s\n",
		used ? "trouble: "
		     : "no drops, "
		       "timeouts or retransmissions",
		trouble);
}

static void homa_shm_exit(void)
{
	if (getpid() != homa_shm.pid)
		return; /* a forked child: the file is its parent's */
	if (homa_shm.print)
		homa_lib_metrics_print();
	if (homa_shm.hdr)
		unlink(homa_shm.path);
}

/* HOMA_METRICS / HOMA_PRINT_METRICS: 0 or 1, else a warning. */
static bool homa_shm_flag(const char *var, bool dflt)
{
	const char *v = getenv(var);

	if (!v)
		return dflt;
	if (strcmp(v, "0") && strcmp(v, "1")) {
		fprintf(stderr, "libhoma: %s='%s' is not 0 or 1; using %d\n",
			var, v, dflt);
		return dflt;
	}
	return v[0] == '1';
}

void homa_lib_metrics_start(struct homa_lib *lib)
{
	sigset_t all, saved;
	pthread_attr_t attr;
	pthread_t t;
	int ret;

	homa_shm.lib = lib;
	homa_shm.pid = getpid();
	homa_shm.start_ns = homa_lib_now();
	homa_shm.print = homa_shm_flag("HOMA_PRINT_METRICS", false);
	if (homa_shm_flag("HOMA_METRICS", true)) {
		homa_shm_sweep();
		ret = homa_shm_create();
		if (ret < 0)
			fprintf(stderr,
				"libhoma: cannot publish metrics in %s: %s\n",
				homa_shm.path, strerror(-ret));
	}
	atexit(homa_shm_exit);
	if (!homa_shm.hdr)
		return;
	/* The thread takes no signals (like the background thread). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &saved);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ret = pthread_create(&t, &attr, homa_shm_main, NULL);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (ret != 0) {
		fprintf(stderr, "libhoma: no thread to publish metrics: %s\n",
			strerror(ret));
		unlink(homa_shm.path);
		munmap(homa_shm.hdr, HOMA_SHM_BYTES(HOMA_METRIC_ALL));
		homa_shm.hdr = NULL;
	}
}
