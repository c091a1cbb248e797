/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sample.c - HOMA_SAMPLE_FILE: once a second the background thread
 * appends one line to that file describing the process's RPCs, so that a
 * soak (scripts/soak.sh) or an operator sees from outside whether any RPC
 * waits too long: the live client and server RPCs, the age of the oldest
 * of each, the server RPCs overdue (in service over overdue_ticks) and
 * the counters of RPCs started, finished and failed. The format is in
 * homa(7).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib.h"

#define HOMA_LIB_SAMPLE_NS 1000000000ull /* sampling period, ns */

int homa_lib_sample_open(struct homa_lib *lib)
{
	const char *path = getenv("HOMA_SAMPLE_FILE");
	char err[128];

	lib->sample_fd = -1;
	if (!path || !path[0])
		return 0;
	lib->sample_fd =
		open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (lib->sample_fd < 0) {
		int ret = -errno;

		snprintf(err, sizeof(err), "HOMA_SAMPLE_FILE: %s: %s", path,
			 strerror(errno));
		homa_lib_set_error(err);
		return ret;
	}
	lib->sample_start_ns = homa_lib_now();
	lib->sample_next_ns = lib->sample_start_ns + HOMA_LIB_SAMPLE_NS;
	return 0;
}

/* Age in ms of something that began at start_ns (0 = nothing). */
static unsigned long long homa_lib_age_ms(uint64_t now, uint64_t start_ns,
					  uint64_t count)
{
	if (!count || start_ns > now)
		return 0;
	return (unsigned long long)((now - start_ns) / 1000000);
}

/* Resident kB of the sockets' receive regions (mincore): the part of the
 * process's RSS that the pool's pages account for (lock held). */
static unsigned long long homa_lib_region_kb(struct homa_lib *lib)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned long long kb = 0;

	for (int fd = 0; page > 0 && fd < lib->socks_len; fd++) {
		struct homa_lsock *ls = lib->socks[fd];
		unsigned char *vec;
		uint8_t *region;
		uint64_t bytes;
		size_t pages;

		if (!ls || !ls->hsk)
			continue;
		homa_sock_get_rcvbuf(ls->hsk, &region, &bytes);
		if (!region || !bytes || (uintptr_t)region % (size_t)page)
			continue;
		pages = (size_t)((bytes + (uint64_t)page - 1) / (uint64_t)page);
		vec = malloc(pages);
		if (!vec)
			continue;
		if (mincore(region, (size_t)bytes, vec) == 0)
			for (size_t i = 0; i < pages; i++)
				kb += (vec[i] & 1)
					      ? (unsigned long long)page / 1024
					      : 0;
		free(vec);
	}
	return kb;
}

void homa_lib_sample(struct homa_lib *lib)
{
	const struct homa_metrics *m;
	struct homa_rpc_ages a;
	struct homa_usage u;
	char line[768];
	uint64_t now;
	int n;

	if (lib->sample_fd < 0)
		return;
	now = homa_lib_now();
	if (now < lib->sample_next_ns)
		return;
	lib->sample_next_ns = now + HOMA_LIB_SAMPLE_NS;
	homa_rpc_get_ages(lib->homa, &a);
	homa_get_usage(lib->homa, &u);
	m = homa_get_metrics(lib->homa);
	n = snprintf(
		line, sizeof(line),
		"t_ms=%llu client_rpcs=%llu oldest_client_ms=%llu "
		"server_rpcs=%llu in_service=%llu oldest_service_ms=%llu "
		"overdue=%llu overdue_total=%llu requests=%llu "
		"responses=%llu served=%llu timeouts=%llu aborts=%llu "
		"icmp_errors=%llu alloc_bytes=%llu pool_kb=%llu "
		"region_kb=%llu alloc_max_bytes=%llu tx_bytes=%llu "
		"rx_buf_kb=%llu\n",
		(unsigned long long)((now - lib->sample_start_ns) / 1000000),
		(unsigned long long)a.client_rpcs,
		homa_lib_age_ms(now, a.oldest_client_ns, a.client_rpcs),
		(unsigned long long)a.server_rpcs,
		(unsigned long long)a.in_service,
		homa_lib_age_ms(now, a.oldest_service_ns, a.in_service),
		(unsigned long long)a.overdue,
		(unsigned long long)m->v[HOMA_M_server_rpcs_overdue],
		(unsigned long long)m->v[HOMA_M_client_requests_started],
		(unsigned long long)m->v[HOMA_M_client_responses_done],
		(unsigned long long)m->v[HOMA_M_server_responses_started],
		(unsigned long long)m->v[HOMA_M_rpc_timeouts],
		(unsigned long long)m->v[HOMA_M_rpc_aborts],
		(unsigned long long)m->v[HOMA_M_icmp_errors],
		(unsigned long long)u.alloc_bytes,
		(unsigned long long)(u.pool_pages_touched * HOMA_BPAGE_SIZE /
				     1024),
		homa_lib_region_kb(lib), (unsigned long long)lib->env_max,
		(unsigned long long)u.tx_bytes,
		(unsigned long long)(homa_dp_thread_buf_bytes() / 1024));
	lib->env_max = lib->env_bytes; /* the next line: its own second */
	/* One short append a second; the lock is not held across it. */
	homa_lib_unlock(lib);
	if (n > 0 && write(lib->sample_fd, line, (size_t)n) < 0)
		n = 0; /* a full disk must not stop the transport */
	homa_lib_lock(lib);
}
