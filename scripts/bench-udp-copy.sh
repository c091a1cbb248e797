#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# bench-udp-copy.sh [ROUNDS] [MESSAGES] - what the kernel's send-side
# copy costs for Homa-shaped UDP datagrams on loopback, without Homa:
# one process, a sending thread and a receiving thread (recvmmsg,
# spinning), messages sent one at a time (the next once the last has
# arrived, or after 200 us without progress), each message cut into
# datagrams of a header iovec (HDR bytes) and a payload iovec (PAY bytes
# of a 2 MB source at offset SOFF), BATCH datagrams per sendmmsg. Prints
# the sending thread's CPU time in its sends per message (us per MB),
# the wall time per message, the share of bytes received, send calls per
# MB and, for the zc rows (MSG_ZEROCOPY), error-queue reads per MB and
# how many completions said the kernel copied after all. The TCP row
# sends each message with send() (MSG_DONTWAIT, retried: its CPU
# includes that spin). BENCH_PIN=split puts the sender on CPU 0 and the
# receiver on CPU 1, BENCH_PIN=same both on CPU 0; unset, the scheduler
# places them. Variants rotate within each round (docs/benchmarks.md,
# mb10 under "The ninth round", mb11 under "The tenth round"). Run it
# inside the exclusive CPU lock.
set -euo pipefail
rounds=${1:-2} n=${2:-500}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/probe.c" <<'EOF'
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY 60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY 0x4000000
#endif
#define SRC_BYTES (2u << 20)
#define RX_SLOTS 8
#define RX_SLOT (1u << 17)
#define MAX_BATCH 64

static int rx_fd;
static volatile int rx_stop;
static volatile long rx_bytes;
static int rx_tcp;
static long zc_reads, zc_copied;

static double clock_s(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static void pin(pthread_t t, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(t, sizeof(set), &set);
}

static void *rx_main(void *arg)
{
	uint8_t *buf = aligned_alloc(4096, RX_SLOTS * RX_SLOT);
	struct mmsghdr mm[RX_SLOTS];
	struct iovec iov[RX_SLOTS];

	(void)arg;
	memset(mm, 0, sizeof(mm));
	for (int i = 0; i < RX_SLOTS; i++) {
		iov[i] = (struct iovec){ buf + i * RX_SLOT, RX_SLOT };
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	while (!rx_stop) {
		if (rx_tcp) {
			long r = recv(rx_fd, buf, RX_SLOTS * RX_SLOT,
				      MSG_DONTWAIT);

			if (r > 0)
				rx_bytes += r;
			continue;
		}
		int k = recvmmsg(rx_fd, mm, RX_SLOTS, MSG_DONTWAIT, NULL);

		for (int i = 0; i < k; i++)
			rx_bytes += mm[i].msg_len;
	}
	free(buf);
	return NULL;
}

/* MSG_ZEROCOPY completions: one error-queue read each (counted). */
static void zc_drain(int fd)
{
	char ctl[256];

	for (;;) {
		struct msghdr m = { .msg_control = ctl,
				    .msg_controllen = sizeof(ctl) };
		struct cmsghdr *c;

		if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
		zc_reads++;
		c = CMSG_FIRSTHDR(&m);
		if (c && ((struct sock_extended_err *)CMSG_DATA(c))->ee_code &
				 SO_EE_CODE_ZEROCOPY_COPIED)
			zc_copied++;
	}
}

/* probe tcp MSG N | probe udp|zc MSG N HDR PAY SOFF [BATCH] */
int main(int argc, char **argv)
{
	long msg = atol(argv[2]), sent = 0, calls = 0;
	int n = atoi(argv[3]), hdr = 0, pay = 0, soff = 0, batch = 1;
	int big = 8 << 20, zc = strcmp(argv[1], "zc") == 0, fd;
	struct sockaddr_in a = { .sin_family = AF_INET };
	uint8_t *src = aligned_alloc(4096, SRC_BYTES), h[128];
	const char *pinning = getenv("BENCH_PIN");
	socklen_t alen = sizeof(a);
	double cpu = 0, t0;
	pthread_t th;

	rx_tcp = strcmp(argv[1], "tcp") == 0;
	if (!rx_tcp) {
		hdr = atoi(argv[4]);
		pay = atoi(argv[5]);
		soff = atoi(argv[6]);
		batch = argc > 7 ? atoi(argv[7]) : 1;
		if (batch < 1 || batch > MAX_BATCH)
			batch = 1;
	}
	memset(src, 3, SRC_BYTES);
	memset(h, 1, sizeof(h));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, rx_tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	if (rx_tcp) {
		int l = socket(AF_INET, SOCK_STREAM, 0);

		bind(l, (void *)&a, sizeof(a));
		listen(l, 1);
		getsockname(l, (void *)&a, &alen);
		connect(fd, (void *)&a, sizeof(a));
		rx_fd = accept(l, NULL, NULL);
	} else {
		int one = 1;

		rx_fd = socket(AF_INET, SOCK_DGRAM, 0);
		setsockopt(rx_fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
		setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
		bind(rx_fd, (void *)&a, sizeof(a));
		getsockname(rx_fd, (void *)&a, &alen);
		connect(fd, (void *)&a, sizeof(a));
		if (zc && setsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &one,
				     sizeof(one)) < 0) {
			perror("SO_ZEROCOPY");
			return 1;
		}
	}
	pthread_create(&th, NULL, rx_main, NULL);
	if (pinning) {
		pin(pthread_self(), 0);
		pin(th, strcmp(pinning, "same") == 0 ? 0 : 1);
	}
	t0 = clock_s(CLOCK_MONOTONIC);
	for (int m = 0; m < n; m++) {
		double c = clock_s(CLOCK_THREAD_CPUTIME_ID), idle;
		long base = rx_bytes, last;

		for (long off = 0; off < msg;) {
			struct iovec v[MAX_BATCH][2];
			struct mmsghdr mm[MAX_BATCH];
			int k = 0;

			if (rx_tcp) {
				long r = send(fd, src + off, msg - off,
					      MSG_DONTWAIT);

				off += r > 0 ? r : 0;
				calls++;
				continue;
			}
			for (; k < batch && off < msg; k++) {
				long len = msg - off < pay ? msg - off : pay;

				v[k][0] = (struct iovec){ h, hdr };
				v[k][1] = (struct iovec){ src + soff + off, len };
				memset(&mm[k], 0, sizeof(mm[k]));
				mm[k].msg_hdr.msg_iov = hdr ? v[k] : v[k] + 1;
				mm[k].msg_hdr.msg_iovlen = hdr ? 2 : 1;
				off += len;
			}
			calls++;
			if (sendmmsg(fd, mm, k,
				     MSG_DONTWAIT | (zc ? MSG_ZEROCOPY : 0)) < k) {
				perror("sendmmsg");
				return 1;
			}
		}
		if (zc)
			zc_drain(fd);
		sent += msg;
		cpu += clock_s(CLOCK_THREAD_CPUTIME_ID) - c;
		idle = clock_s(CLOCK_MONOTONIC);
		last = rx_bytes;
		while (rx_bytes < base + msg) {
			if (rx_bytes != last) {
				last = rx_bytes;
				idle = clock_s(CLOCK_MONOTONIC);
			} else if (clock_s(CLOCK_MONOTONIC) - idle > 200e-6) {
				break; /* datagrams lost: go on */
			}
		}
	}
	t0 = clock_s(CLOCK_MONOTONIC) - t0;
	rx_stop = 1;
	pthread_join(th, NULL);
	if (zc)
		zc_drain(fd);
	printf("%-4s hdr %2d pay %5d soff %4d msg %7ld batch %2d pin %-5s: "
	       "send CPU %6.1f us/MB, wall %6.1f us/MB, received %.3f, "
	       "calls/MB %4.1f, errqueue reads/MB %3.1f (copied %ld)\n",
	       argv[1], hdr, pay, soff, msg, batch, pinning ? pinning : "-",
	       cpu / n * 1e6 * 1e6 / msg, t0 / n * 1e6 * 1e6 / msg,
	       (double)rx_bytes / sent, calls * 1e6 / sent,
	       zc_reads * 1e6 / sent, zc_copied);
	return 0;
}
EOF
cc -O2 -Wall -pthread -o "$dir/probe" "$dir/probe.c"
variants=(
	"tcp 1000000 $n"
	"udp 1000000 $n 56 65451 0"    # Homa's loopback DATA packets today
	"udp 1000000 $n 0 65507 0"     # one iovec, the same bytes
	"udp 1000000 $n 64 65443 0"    # a header of one cache line
	"udp 1000000 $n 56 61440 0"    # payloads of 15 pages
	"udp 1000000 $n 56 32768 0"    # half-size datagrams
	"udp 983040 $n 0 61440 4032"   # page-multiple datagrams and messages:
	"udp 983040 $n 0 61440 0"      # the destination's offset stays put,
	"udp 983040 $n 0 61440 4088"   # so only the source's offset varies
	"udp 1000000 $n 56 65451 0 16" # 16 datagrams per sendmmsg
	"zc 1000000 $n 56 61440 0"     # MSG_ZEROCOPY (at most 17 frags: 15 pages)
	"zc 1000000 $n 56 61440 0 16"  # the same, 16 per sendmmsg
)
for r in $(seq "$rounds"); do
	for k in "${!variants[@]}"; do
		i=$(((k + r) % ${#variants[@]}))
		# shellcheck disable=SC2086
		"$dir/probe" ${variants[$i]}
	done
done
