#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# bench-wake.sh [SECONDS] [ROUNDS] - which of the things libhoma does
# around a blocking wait decides where a wake-up lands on this machine
# (issue 14, point 1 with --wait block). A plain blocking UDP ping-pong in
# C (one process a side, loopback, 100 bytes), and the same with one of
# libhoma's additions on both sides:
#
#   fcntl       an fcntl(F_GETFL) between the send and the sleep (O_NONBLOCK)
#   busy=NS     NS of user work between the send and the sleep
#   pre=NS      NS of user work before the send instead
#   mmsg        sendmmsg / recvmmsg instead of sendto / recvfrom
#   thr=US      a second thread sleeping in ppoll with a US timer and half
#               of it as timer slack (as the background thread does)
#   thr=US self the same, sending a zero-length datagram to its own socket
#               at each timer (the lean sleep's wake-up)
#   futex       a second thread asleep in a futex for good
#
# and homa-bench's UDP and Homa with --wait block, in the same rounds.
# Each run starts its two processes on given vCPUs and lets every thread
# use both after 0.3 s: "apart" (server on 0, client on 1), "together"
# (both on 1), "free" (never pinned). Whether the pair then finds one
# vCPU (a few us) or stays on two (an IPI to a halted vCPU per wake-up,
# 50-70 us here) is what is measured: P50 of the client's round trips
# after 0.7 s, its context switches and migrations (perf stat), and the
# busiest other processes half-way (a loaded machine changes placement).
# Run it under the exclusive lock: flock -x /work/cpu.lock scripts/bench-wake.sh
# (docs/benchmarks.md, "Blocking waits: the machine decides").
set -euo pipefail
cd "$(dirname "$0")/.."
S=${1:-2} ROUNDS=${2:-1}
B=${BENCH_WAKE_BIN:-$PWD/build/bin/homa-bench}
VARIANTS=${BENCH_WAKE_VARIANTS:-"plain fcntl busy=1000 busy=1500 pre=1500 mmsg thr=1000 thr=1000,self futex"}
PLACES=${BENCH_WAKE_PLACES:-"apart together"}
[ -x "$B" ] || { echo "bench-wake.sh: build first (make)" >&2; exit 2; }
command -v perf >/dev/null || { echo "bench-wake.sh: perf missing" >&2; exit 2; }
dir=$(mktemp -d)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cat >"$dir/wake.c" <<'EOF'
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_RTTS 4000000

static int o_fcntl, o_mmsg, o_thr_us, o_futex, o_self, fd;
static long o_busy_ns, o_pre_ns;
static struct sockaddr_in self_sa, peer;
static char buf[2048];

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void work(long ns)
{
	uint64_t end = now_ns() + (uint64_t)ns;

	while (ns > 0 && now_ns() < end)
		;
}

static void *second(void *arg)
{
	int efd = eventfd(0, 0), word = 0;
	struct pollfd p = { efd, POLLIN, 0 };

	(void)arg;
	for (;;) {
		struct timespec ts = { 0, (long)o_thr_us * 500 };

		if (o_futex) {
			syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, NULL);
			continue;
		}
		prctl(PR_SET_TIMERSLACK, (unsigned long)o_thr_us * 500, 0, 0, 0);
		ppoll(&p, 1, &ts, NULL);
		if (o_self)
			sendto(fd, buf, 0, MSG_DONTWAIT,
			       (struct sockaddr *)&self_sa, sizeof(self_sa));
	}
	return NULL;
}

/* A datagram of at least one byte (zero-length ones are wake-ups). */
static ssize_t rx(void)
{
	for (;;) {
		socklen_t pl = sizeof(peer);
		ssize_t r;

		if (o_fcntl)
			fcntl(fd, F_GETFL);
		work(o_busy_ns);
		if (o_mmsg) {
			struct iovec iov = { buf, sizeof(buf) };
			struct mmsghdr m = { .msg_hdr = { .msg_name = &peer,
							  .msg_namelen = pl,
							  .msg_iov = &iov,
							  .msg_iovlen = 1 } };

			r = recvmmsg(fd, &m, 1, MSG_WAITFORONE, NULL);
			if (r == 1)
				r = m.msg_len;
		} else {
			r = recvfrom(fd, buf, sizeof(buf), 0,
				     (struct sockaddr *)&peer, &pl);
		}
		if (r > 0)
			return r;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

static void tx(const struct sockaddr_in *to, size_t n)
{
	work(o_pre_ns);
	if (o_mmsg) {
		struct iovec iov = { buf, n };
		struct mmsghdr m = { .msg_hdr = { .msg_name = (void *)to,
						  .msg_namelen = sizeof(*to),
						  .msg_iov = &iov,
						  .msg_iovlen = 1 } };

		sendmmsg(fd, &m, 1, 0);
	} else {
		sendto(fd, buf, n, 0, (const struct sockaddr *)to,
		       sizeof(*to));
	}
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* wake server PORT VARIANT | wake client PORT SECONDS VARIANT */
int main(int argc, char **argv)
{
	int server = argc == 4 && !strcmp(argv[1], "server");
	char *v = strdup(argv[argc - 1]), *tok, *save = NULL;
	struct sockaddr_in srv = { .sin_family = AF_INET };
	socklen_t al = sizeof(self_sa);
	static double rtt[MAX_RTTS];
	uint64_t start, end;
	size_t n = 0;

	if (argc != (server ? 4 : 5))
		return 2;
	for (tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "fcntl"))
			o_fcntl = 1;
		else if (!strncmp(tok, "busy=", 5))
			o_busy_ns = atol(tok + 5);
		else if (!strncmp(tok, "pre=", 4))
			o_pre_ns = atol(tok + 4);
		else if (!strcmp(tok, "mmsg"))
			o_mmsg = 1;
		else if (!strncmp(tok, "thr=", 4))
			o_thr_us = atoi(tok + 4);
		else if (!strcmp(tok, "self"))
			o_self = 1;
		else if (!strcmp(tok, "futex"))
			o_futex = 1;
		else if (strcmp(tok, "plain"))
			return 2;
	}
	srv.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv.sin_port = htons((uint16_t)atoi(argv[2]));
	self_sa = (struct sockaddr_in){ .sin_family = AF_INET };
	self_sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (server)
		self_sa.sin_port = srv.sin_port;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&self_sa, sizeof(self_sa)) ||
	    getsockname(fd, (struct sockaddr *)&self_sa, &al))
		return 1;
	if (o_thr_us || o_futex) {
		pthread_t t;

		if (pthread_create(&t, NULL, second, NULL))
			return 1;
	}
	if (server) {
		for (;;) {
			ssize_t r = rx();

			if (r < 0)
				return 0;
			tx(&peer, (size_t)r);
		}
	}
	start = now_ns();
	end = start + (uint64_t)(atof(argv[3]) * 1e9);
	while (n < MAX_RTTS) {
		uint64_t t0 = now_ns();

		if (t0 >= end)
			break;
		tx(&srv, 100);
		if (rx() < 0)
			return 1;
		if (t0 > start + 700000000ull)
			rtt[n++] = (double)(now_ns() - t0) / 1e3;
	}
	if (!n)
		return 1;
	qsort(rtt, n, sizeof(*rtt), cmp);
	printf("%zu %.1f %.1f\n", n, rtt[n / 2], rtt[(size_t)((double)n * 0.99)]);
	return 0;
}
EOF
cc -O2 -o "$dir/wake" "$dir/wake.c" -lpthread

port() { echo $((20000 + RANDOM % 10000)); }
# Pin command for the server and the client of a placement.
pins() {
	case $1 in
	apart) echo "taskset -c 0|taskset -c 1" ;;
	together) echo "taskset -c 1|taskset -c 1" ;;
	*) echo "|" ;;
	esac
}
# The busiest processes half-way through the run (its own two among them).
others() {
	sleep "$(awk -v s="$S" 'BEGIN { print s / 2 + 0.3 }')"
	top -bn1 | awk 'NR > 7 && NR < 12 && $9 > 5 { printf "%s:%s ", $12, $9 }' >"$dir/others"
}
# run PLACE NAME SERVER-CMD... -- CLIENT-CMD...: one run, one line.
run() {
	local place=$1 name=$2 sc=() cc=() p0 p1 sp cp t
	shift 2
	while [ "$1" != -- ]; do sc+=("$1"); shift; done
	shift
	cc=("$@")
	IFS='|' read -r p0 p1 <<<"$(pins "$place")"
	others &
	$p0 "${sc[@]}" >/dev/null 2>&1 &
	sp=$!
	PIDS+=("$sp")
	sleep 0.3
	$p1 perf stat -x, -e context-switches,cpu-migrations -o "$dir/perf" \
		"${cc[@]}" >"$dir/out" 2>"$dir/err" &
	cp=$!
	if [ "$place" != free ]; then
		sleep 0.3
		for t in /proc/"$sp"/task/* /proc/"$cp"/task/* \
			$(for c in $(pgrep -P "$cp"); do echo /proc/"$c"/task/*; done); do
			if [ -e "$t" ]; then
				taskset -p -c 0,1 "$(basename "$t")" >/dev/null 2>&1 || true
			fi
		done
	fi
	wait $cp || true
	kill $sp 2>/dev/null || true
	wait $sp 2>/dev/null || true
	wait
	printf "  %-9s %-16s %s  cs %s migr %s  others: %s\n" "$place" "$name" \
		"$(awk '/^ +100 / { p50 = $3; p99 = $4 }
			NF == 3 && $1 ~ /^[0-9]+$/ { p50 = $2; p99 = $3 }
			END { printf "p50 %6s p99 %6s", p50, p99 }' "$dir/out")" \
		"$(awk -F, '/context-sw/ { print $1 }' "$dir/perf")" \
		"$(awk -F, '/migrations/ { print $1 }' "$dir/perf")" "$(cat "$dir/others")"
}

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg), $S s per run, P50/P99 in us"
for _ in $(seq "$ROUNDS"); do
	for place in $PLACES; do
		for v in $VARIANTS; do
			p=$(port)
			run "$place" "$v" "$dir/wake" server "$p" "$v" -- \
				"$dir/wake" client "$p" "$S" "$v"
		done
		for proto in udp homa; do
			p=$(port)
			run "$place" "homa-bench-$proto" "$B" server --proto $proto \
				--port "$p" --resp-size 100 --wait block -- \
				"$B" client --proto $proto --server 127.0.0.1:"$p" \
				--calibrate 0 --seconds "$S" --wait block \
				--workload 100 --outstanding 1
		done
	done
done
