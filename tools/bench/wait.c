/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wait.c - homa-bench's waiting policy (--wait), the same for every
 * protocol: "spin[=USECS]" polls without blocking for a budget (default
 * 50 us, Homa's poll_usecs) each time a receiver waits, yielding the
 * CPU between polls as libhoma does, then blocks;
 * "block" never spins. Homa gets the budget as its poll_usecs.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench.h"

uint64_t bench_served;
uint64_t bench_spin_polls;

void bench_rusage(double *cpu_us, uint64_t *ctx_switches)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	*cpu_us = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
		  (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	*ctx_switches = (uint64_t)(ru.ru_nvcsw + ru.ru_nivcsw);
}

int bench_wait_parse(const char *v, uint32_t *spin_us)
{
	char *end;
	unsigned long us;

	if (!v)
		return -1;
	if (strcmp(v, "block") == 0) {
		*spin_us = 0;
		return 0;
	}
	if (strcmp(v, "spin") == 0) {
		*spin_us = BENCH_SPIN_DEFAULT_US;
		return 0;
	}
	if (strncmp(v, "spin=", 5) != 0 || v[5] < '0' || v[5] > '9')
		return -1;
	us = strtoul(v + 5, &end, 10);
	if (*end || us < 1 || us > BENCH_SPIN_MAX_US)
		return -1;
	*spin_us = (uint32_t)us;
	return 0;
}

const char *bench_wait_name(uint32_t spin_us, char *buf, size_t len)
{
	if (spin_us)
		snprintf(buf, len, "spin=%u", spin_us);
	else
		snprintf(buf, len, "block");
	return buf;
}

int bench_spin(int (*poll_once)(void *arg), void *arg, uint32_t budget_us,
	       uint64_t (*now_ns)(void))
{
	uint64_t end;

	if (!budget_us)
		return 0;
	end = now_ns() + (uint64_t)budget_us * 1000;
	for (;;) {
		int r = poll_once(arg);

		bench_spin_polls++;
		if (r != 0)
			return r;
		if (now_ns() >= end || bench_stop)
			return 0;
		/* As libhoma's spin: let a runnable thread on this CPU go
		 * first, the peer we wait for may be one (few CPUs). */
		sched_yield();
	}
}
