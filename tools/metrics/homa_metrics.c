/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * homa_metrics.c - homa-metrics(1): the Homa counters of a running
 * process, like top: rates per second and derived figures, every counter
 * with its description (--all), or one snapshot as JSON (--json).
 *
 *   homa-metrics [--json] [--all] [--interval S] [--count N] PID
 *   homa-metrics --list
 *   homa-metrics --describe
 *
 * It reads the file that libhoma publishes in shared memory
 * (/dev/shm/homa-metrics-PID, layout in src/api/metrics_shm.h); the
 * descriptions come from the table of src/core/metrics.h. Exit status: 0,
 * 1 if the process is gone or publishes nothing, 2 for a usage error.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "homa.h"
#include "metrics.h"
#include "metrics_shm.h"

#define HM_MAX_VALUES 1024 /* entries accepted in a file */

/* One consistent copy of a process's values. */
struct hm_snap {
	uint32_t count;		   /* entries */
	uint32_t num_counters;	   /* counters among them */
	uint64_t update_ns;	   /* refresh time, ns */
	uint64_t updates;	   /* refreshes so far */
	uint64_t v[HM_MAX_VALUES]; /* values */
	char names[HM_MAX_VALUES][HOMA_SHM_NAME_BYTES]; /* their names */
};

/* The mapped file of one process. */
struct hm_proc {
	int pid;			   /* the process */
	char path[64];			   /* its file */
	const struct homa_shm_header *hdr; /* mapped, read-only */
	size_t bytes;			   /* mapped bytes */
};

static const char *hm_usage =
	"usage: homa-metrics [--json] [--all] [--interval S] [--count N] PID\n"
	"       homa-metrics --list | --describe\n";

/* Is the process that wrote hdr still the one running as its pid? */
static bool hm_alive(const struct homa_shm_header *hdr)
{
	uint64_t ticks = homa_shm_start_ticks((int)hdr->pid);

	return ticks != 0 && ticks == hdr->start_ticks;
}

/* Report p's process as gone and remove the file it left; returns 1. */
static int hm_gone(const struct hm_proc *p)
{
	fprintf(stderr,
		"homa-metrics: process %d is gone (it left %s behind: "
		"%s)\n",
		p->pid, p->path,
		unlink(p->path) == 0 ? "removed" : strerror(errno));
	return 1;
}

/* Map pid's file; 0, or 1 after printing why not. */
static int hm_open(struct hm_proc *p, int pid)
{
	struct homa_shm_header h;
	struct stat st;
	char proc[32];
	int fd;

	p->pid = pid;
	snprintf(p->path, sizeof(p->path), HOMA_SHM_PATH_FMT, pid);
	fd = open(p->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		snprintf(proc, sizeof(proc), "/proc/%d", pid);
		if (err == ENOENT && access(proc, F_OK) != 0)
			fprintf(stderr, "homa-metrics: no process %d\n", pid);
		else if (err == ENOENT)
			fprintf(stderr,
				"homa-metrics: process %d publishes no Homa "
				"metrics (not using libhoma yet, or "
				"HOMA_METRICS=0)\n",
				pid);
		else
			fprintf(stderr, "homa-metrics: %s: %s\n", p->path,
				strerror(err));
		return 1;
	}
	if (homa_shm_start_ticks(pid) == 0) {
		/* Killed before its exit handlers ran (maybe even before it
		 * wrote the header): the file is stale. */
		close(fd);
		return hm_gone(p);
	}
	if (fstat(fd, &st) < 0 || (size_t)st.st_size < sizeof(h) ||
	    pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    h.magic != HOMA_SHM_MAGIC || h.version != HOMA_SHM_VERSION ||
	    h.count > HM_MAX_VALUES || h.num_counters > h.count ||
	    (uint64_t)st.st_size < HOMA_SHM_BYTES(h.count)) {
		fprintf(stderr,
			"homa-metrics: %s is not a libhoma metrics file of "
			"this version\n",
			p->path);
		close(fd);
		return 1;
	}
	p->bytes = (size_t)HOMA_SHM_BYTES(h.count);
	p->hdr = mmap(NULL, p->bytes, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p->hdr == MAP_FAILED) {
		fprintf(stderr, "homa-metrics: %s: %s\n", p->path,
			strerror(errno));
		return 1;
	}
	if (!hm_alive(p->hdr)) {
		/* The pid now runs another program. */
		munmap((void *)p->hdr, p->bytes);
		return hm_gone(p);
	}
	return 0;
}

/* Copy the values under the file's sequence counter; false if the
 * writer never let go (it died while writing). */
static bool hm_read(const struct hm_proc *p, struct hm_snap *s)
{
	const struct homa_shm_header *h = p->hdr;
	const uint64_t *v = (const uint64_t *)(h + 1);
	const char *names = (const char *)(v + h->count);

	s->count = h->count;
	s->num_counters = h->num_counters;
	for (uint32_t i = 0; i < s->count; i++) {
		memcpy(s->names[i], names + i * HOMA_SHM_NAME_BYTES,
		       HOMA_SHM_NAME_BYTES);
		s->names[i][HOMA_SHM_NAME_BYTES - 1] = 0;
	}
	for (int tries = 0; tries < 100000; tries++) {
		uint64_t seq = __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE);

		if (seq & 1)
			continue;
		for (uint32_t i = 0; i < s->count; i++)
			s->v[i] = __atomic_load_n(&v[i], __ATOMIC_ACQUIRE);
		s->update_ns = __atomic_load_n(&h->update_ns, __ATOMIC_ACQUIRE);
		s->updates = __atomic_load_n(&h->updates, __ATOMIC_ACQUIRE);
		if (__atomic_load_n(&h->seq, __ATOMIC_RELAXED) == seq)
			return true;
	}
	return false;
}

/* The value named name in s (0 if the file has no such entry). */
static uint64_t hm_val(const struct hm_snap *s, const char *name)
{
	for (uint32_t i = 0; i < s->count; i++)
		if (strcmp(s->names[i], name) == 0)
			return s->v[i];
	return 0;
}

/* Per-second rate of name between a and b, dt seconds apart. */
static double hm_rate(const struct hm_snap *a, const struct hm_snap *b,
		      const char *name, double dt)
{
	uint64_t va = hm_val(a, name), vb = hm_val(b, name);

	return dt > 0 && vb >= va ? (double)(vb - va) / dt : 0;
}

static void hm_json(const struct hm_snap *s)
{
	printf("{\n");
	for (uint32_t i = 0; i < s->count; i++)
		printf("  \"%s\": %llu%s\n", s->names[i],
		       (unsigned long long)s->v[i],
		       i + 1 < s->count ? "," : "");
	printf("}\n");
}

/* Drops by reason: "12/s: dup_data 10, no_bufs 2" into buf. */
static void hm_drops(const struct hm_snap *a, const struct hm_snap *b,
		     double dt, char *buf, size_t cap)
{
	double total = 0;
	size_t used;
	char list[400] = "";

	used = 0;
	for (uint32_t i = 0; i < b->num_counters; i++) {
		double r;

		if (strncmp(b->names[i], "drop_", 5) != 0)
			continue;
		r = hm_rate(a, b, b->names[i], dt);
		total += r;
		if (r > 0 && used < sizeof(list))
			used += (size_t)snprintf(
				list + used, sizeof(list) - used, "%s%s %.0f",
				used ? ", " : "", b->names[i] + 5, r);
	}
	snprintf(buf, cap, "%.0f/s%s%s", total, used ? ": " : "", list);
}

/* One screen: the derived figures, then (all) every entry. */
static void hm_screen(const struct hm_proc *p, const struct hm_snap *a,
		      const struct hm_snap *b, bool all)
{
	double dt = (double)(b->update_ns - a->update_ns) / 1e9;
	double data = hm_rate(a, b, "sent_data", dt);
	double resent = hm_rate(a, b, "resent_packets", dt);
	uint64_t drops = 0, trouble = 0;
	char buf[512];

	for (uint32_t i = 0; i < b->num_counters; i++) {
		int k = homa_metrics_index(b->names[i]);

		if (strncmp(b->names[i], "drop_", 5) == 0)
			drops += b->v[i];
		if (k >= 0 && homa_metrics_unusual(k) && b->v[i] != 0)
			trouble++;
	}
	printf("homa-metrics: process %d, %s datapath, %.2f s between "
	       "refreshes %llu and %llu\n",
	       p->pid, p->hdr->datapath ? "raw" : "udp", dt,
	       (unsigned long long)a->updates, (unsigned long long)b->updates);
	if (dt <= 0) {
		printf("  (no refresh in the interval: the process is stopped "
		       "or busy; rates unknown)\n");
	}
	printf("  RPCs/s      out %.0f (requests sent)  in %.0f (requests "
	       "served)  done %.0f (responses received)\n",
	       hm_rate(a, b, "client_requests_started", dt),
	       hm_rate(a, b, "server_requests_received", dt),
	       hm_rate(a, b, "client_responses_done", dt));
	printf("  Gbit/s      out %.3f  in %.3f  (message bytes)\n",
	       hm_rate(a, b, "msg_bytes_sent", dt) * 8 / 1e9,
	       hm_rate(a, b, "msg_bytes_received", dt) * 8 / 1e9);
	printf("  packets/s   sent %.0f in %.0f calls  received %.0f in %.0f "
	       "calls\n",
	       hm_rate(a, b, "dp_tx_packets", dt),
	       hm_rate(a, b, "dp_tx_calls", dt),
	       hm_rate(a, b, "dp_rx_packets", dt),
	       hm_rate(a, b, "dp_rx_calls", dt));
	printf("  retransmit  %.0f DATA packets/s (%.1f%% of DATA sent), "
	       "%.3f MB/s  RESENDs sent %.0f/s\n",
	       resent, data > 0 ? 100 * resent / data : 0,
	       hm_rate(a, b, "resent_bytes", dt) / 1e6,
	       hm_rate(a, b, "resend_requests", dt));
	printf("  grants      %.0f/s, %.2f MB/s granted  pacer backlog %llu "
	       "messages, %.0f packets/s paced\n",
	       hm_rate(a, b, "grants_sent", dt) +
		       hm_rate(a, b, "fifo_grants", dt),
	       hm_rate(a, b, "grant_bytes", dt) / 1e6,
	       (unsigned long long)hm_val(b, "throttled"),
	       hm_rate(a, b, "pacer_packets", dt));
	printf("  state       pool %llu of %llu bpages (%.1f%%) in use  rpcs "
	       "%llu  peers %llu  sockets %llu\n",
	       (unsigned long long)hm_val(b, "pool_pages_used"),
	       (unsigned long long)(hm_val(b, "pool_bytes") / HOMA_BPAGE_SIZE),
	       hm_val(b, "pool_bytes")
		       ? 100.0 * (double)hm_val(b, "pool_pages_used") *
				 HOMA_BPAGE_SIZE /
				 (double)hm_val(b, "pool_bytes")
		       : 0,
	       (unsigned long long)hm_val(b, "rpcs"),
	       (unsigned long long)hm_val(b, "peers"),
	       (unsigned long long)hm_val(b, "sockets"));
	hm_drops(a, b, dt, buf, sizeof(buf));
	printf("  drops       %s  (since start: %llu)\n", buf,
	       (unsigned long long)drops);
	printf("  timeouts    %.0f/s  (since start: %llu); trouble "
	       "counters not zero: %llu (--all marks them)\n",
	       hm_rate(a, b, "rpc_timeouts", dt) +
		       hm_rate(a, b, "server_rpc_timeouts", dt) +
		       hm_rate(a, b, "server_ack_timeouts", dt),
	       (unsigned long long)(hm_val(b, "rpc_timeouts") +
				    hm_val(b, "server_rpc_timeouts") +
				    hm_val(b, "server_ack_timeouts")),
	       (unsigned long long)trouble);
	if (!all)
		return;
	printf("  %-26s %14s %12s  %s\n", "counter", "value", "per second",
	       "description ('!': trouble)");
	for (uint32_t i = 0; i < b->count; i++) {
		int k = homa_metrics_index(b->names[i]);
		const char *desc = k >= 0 ? homa_metrics_comment(k)
					  : "(not in this build's table)";
		bool bad = k >= 0 && homa_metrics_unusual(k) && b->v[i] != 0;

		if (i < b->num_counters)
			snprintf(buf, sizeof(buf), "%.0f",
				 hm_rate(a, b, b->names[i], dt));
		else
			snprintf(buf, sizeof(buf), "-");
		printf("%c %-26s %14llu %12s  %s\n", bad ? '!' : ' ',
		       b->names[i], (unsigned long long)b->v[i], buf, desc);
	}
}

/* --list: every process with a file, and whether it still runs. */
static int hm_list(void)
{
	DIR *d = opendir("/dev/shm");
	struct dirent *e;
	int n = 0;

	if (!d) {
		perror("homa-metrics: /dev/shm");
		return 1;
	}
	while ((e = readdir(d))) {
		struct homa_shm_header h;
		char path[300];
		int fd, pid;

		if (sscanf(e->d_name, "homa-metrics-%d", &pid) != 1)
			continue;
		snprintf(path, sizeof(path), "/dev/shm/%s", e->d_name);
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			printf("%8d  (unreadable: %s)\n", pid, strerror(errno));
			continue;
		}
		if (pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
		    h.magic == HOMA_SHM_MAGIC)
			printf("%8d  %s  %s datapath  %llu refreshes\n", pid,
			       hm_alive(&h) ? "running" : "gone   ",
			       h.datapath ? "raw" : "udp",
			       (unsigned long long)h.updates);
		close(fd);
		n++;
	}
	closedir(d);
	if (n == 0)
		printf("no process publishes Homa metrics\n");
	return 0;
}

/* --describe: docs/metrics.md, generated from the table. */
static void hm_describe(void)
{
	printf("# libhoma's counters\n\n"
	       "Generated by `homa-metrics --describe` from the table in "
	       "`src/core/metrics.h`\n"
	       "(the test `metrics_doc` checks that this file matches it). "
	       "`homa_metrics_read(3)`\n"
	       "reports the counters, `homa-metrics(1)` shows them live with "
	       "the gauges, and\n"
	       "`HOMA_PRINT_METRICS=1` prints the nonzero ones at exit. "
	       "Trouble (marked `!` by both)\n"
	       "is every `drop_` counter, timeouts, retransmissions and "
	       "refusals.\n\n"
	       "| name | kind | description |\n|---|---|---|\n");
	for (int i = 0; i < HOMA_METRIC_ALL; i++)
		printf("| `%s` | %s | %s |\n", homa_metrics_name(i),
		       i >= HOMA_METRIC_COUNTERS ? "gauge"
		       : homa_metrics_unusual(i) ? "counter, trouble"
						 : "counter",
		       homa_metrics_comment(i));
}

static void hm_sleep(double s)
{
	struct timespec ts = { (time_t)s,
			       (long)((s - (double)(time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int main(int argc, char **argv)
{
	bool json = false, all = false;
	double interval = 1;
	long count = -1, pid = -1;
	static struct hm_snap snaps[2];
	struct hm_proc p;
	char *end;
	int cur = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			fputs(hm_usage, stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("homa-metrics %s\n", HOMA_TOOL_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--all") == 0) {
			all = true;
		} else if (strcmp(argv[i], "--list") == 0) {
			return hm_list();
		} else if (strcmp(argv[i], "--describe") == 0) {
			hm_describe();
			return 0;
		} else if (strcmp(argv[i], "--interval") == 0 && i + 1 < argc) {
			interval = strtod(argv[++i], &end);
			if (*end || !(interval >= 0.05 && interval <= 3600)) {
				fprintf(stderr,
					"homa-metrics: --interval: '%s' is "
					"not 0.05 to 3600 seconds\n",
					argv[i]);
				return 2;
			}
		} else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
			count = strtol(argv[++i], &end, 10);
			if (*end || count < 1) {
				fprintf(stderr,
					"homa-metrics: --count: '%s' is not "
					"a positive number\n",
					argv[i]);
				return 2;
			}
		} else if (argv[i][0] != '-' && pid < 0) {
			pid = strtol(argv[i], &end, 10);
			if (*end || pid <= 0 || pid > 0x3fffffff) {
				fprintf(stderr,
					"homa-metrics: '%s' is not a process "
					"id\n",
					argv[i]);
				return 2;
			}
		} else {
			fputs(hm_usage, stderr);
			return 2;
		}
	}
	if (pid < 0) {
		fputs(hm_usage, stderr);
		return 2;
	}
	if (hm_open(&p, (int)pid) != 0)
		return 1;
	if (!hm_read(&p, &snaps[cur])) {
		fprintf(stderr,
			"homa-metrics: process %ld never finished a "
			"refresh\n",
			pid);
		return 1;
	}
	if (json) {
		hm_json(&snaps[cur]);
		return 0;
	}
	for (long n = 0; count < 0 || n < count; n++) {
		hm_sleep(interval);
		/* A process that exits removes its file (our mapping stays
		 * valid); one that was killed leaves it with no one to
		 * refresh it. */
		if (access(p.path, F_OK) != 0 || !hm_alive(p.hdr)) {
			printf("homa-metrics: process %ld is gone\n", pid);
			return 0;
		}
		if (!hm_read(&p, &snaps[!cur]))
			continue;
		if (isatty(STDOUT_FILENO))
			printf("\033[H\033[J");
		hm_screen(&p, &snaps[cur], &snaps[!cur], all);
		fflush(stdout);
		cur = !cur;
	}
	return 0;
}
