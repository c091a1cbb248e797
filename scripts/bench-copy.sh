#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# bench-copy.sh [MESSAGES] [CPU] - what the order of a 1 MB message's two
# send-side copies costs on this machine, without Homa: A is the caller's
# buffer (reused for every message, as homa-bench does), B the library's
# retransmission copy (malloc'd per message), C the kernel's destination
# (fresh 1 MB slices of a 16 MB ring, as skb pages would be). Each
# message times every variant once, in a rotating order, pinned to CPU (default 0);
# prints p10 and p50 in microseconds per 1 MB message.
#
#   tcp       A -> C                       (one copy: what TCP's send does)
#   today     A -> B in 64 KB chunks, then B -> C
#   hot       per 64 KB chunk: A -> B, then that chunk B -> C (L1/L2-hot)
#   behind    per 64 KB chunk: A -> C, then A -> B (sent from the caller's
#             buffer, the copy made behind it from the same hot source)
#   nt        A -> B with non-temporal stores, then B -> C
# (docs/benchmarks.md, "1 MB messages: the order of the sender's copies").
set -euo pipefail
n=${1:-400} cpu=${2:-0}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/copy.c" <<'EOF'
#include <emmintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BAR() __asm__ volatile("" ::: "memory")
#define MSG (1u << 20)
#define CHUNK (64u << 10)
#define RING (16u << 20)
#define NV 5
#define EVICT (8u << 20)

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void nt_copy(char *d, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i += 16)
		_mm_stream_si128((__m128i *)(d + i),
				 _mm_loadu_si128((const __m128i *)(s + i)));
	_mm_sfence();
}

int main(int argc, char **argv)
{
	static const char *name[NV] = { "tcp", "today", "hot", "behind",
					"nt" };
	int iters = atoi(argv[1]);
	char *a = aligned_alloc(64, MSG), *c = aligned_alloc(64, RING);
	char *e = aligned_alloc(64, EVICT);
	volatile unsigned long sum = 0;
	double *r[NV];
	size_t pos = 0;

	memset(a, 1, MSG);
	memset(c, 3, RING);
	for (int v = 0; v < NV; v++)
		r[v] = calloc(iters, sizeof(double));
	for (int i = 0; i < iters; i++) {
		for (int k = 0; k < NV; k++) {
			int v = (k + i) % NV; /* no variant always first */
			char *b = malloc(MSG), *d = c + pos;
			double t;

			memset(e, i + k, EVICT);
			for (size_t o = 0; o < MSG; o += 64)
				sum += a[o];
			t = now_ns();

			pos = (pos + MSG) % RING;
			switch (v) {
			case 0:
				memcpy(d, a, MSG);
				break;
			case 1:
				for (size_t o = 0; o < MSG; o += CHUNK)
					memcpy(b + o, a + o, CHUNK);
				BAR();
				for (size_t o = 0; o < MSG; o += CHUNK)
					memcpy(d + o, b + o, CHUNK);
				break;
			case 2:
				for (size_t o = 0; o < MSG; o += CHUNK) {
					memcpy(b + o, a + o, CHUNK);
					BAR();
					memcpy(d + o, b + o, CHUNK);
				}
				break;
			case 3:
				for (size_t o = 0; o < MSG; o += CHUNK) {
					memcpy(d + o, a + o, CHUNK);
					BAR();
					memcpy(b + o, a + o, CHUNK);
				}
				break;
			case 4:
				nt_copy(b, a, MSG);
				BAR();
				memcpy(d, b, MSG);
				break;
			}
			BAR();
			r[v][i] = now_ns() - t;
			free(b);
		}
	}
	for (int v = 0; v < NV; v++) {
		qsort(r[v], iters, sizeof(double), cmp);
		printf("%-7s p10 %6.1f us  p50 %6.1f us\n", name[v],
		       r[v][iters / 10] / 1e3, r[v][iters / 2] / 1e3);
	}
	return 0;
}
EOF
cc -O2 -o "$dir/copy" "$dir/copy.c"
echo "1 MB send-side copies, $n messages, CPU $cpu, load $(cut -d' ' -f1-3 /proc/loadavg)"
taskset -c "$cpu" "$dir/copy" "$n"
