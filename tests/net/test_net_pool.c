/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_net_pool.c - receive pool exhaustion over loopback (spec 8,
 * "stall, not drop"). A server socket registers the smallest region the
 * library accepts (32 bpages, 2 MiB) and receives with homa_recvmsg,
 * keeping every bpage it is handed (it never returns num_bpages). A
 * client thread sends 20 requests of 200,000 bytes (4 bpages each, 80 in
 * all): once the pool is empty the remaining requests stall (counted in
 * pool_stalls, flagged BUF_STALL by HOMAIOCINFO) and nothing more arrives
 * for the hold time, longer than the RPC timeout; no RPC fails. Then the
 * server gives all bpages back and every request arrives, byte-exact, and
 * every client RPC completes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "net_util.h"

#define REQUESTS      20
#define REQ_BYTES     200000
#define REGION_BPAGES 32
#define HOLD_MS	      400 /* > timeout_ticks (100) x tick (1 ms) */
#define MAX_HELD      (REGION_BPAGES + 16)

static struct sockaddr_in6 srv_addr;
static socklen_t srv_len;
static int client_err;
static uint32_t client_done;

static void *client_main(void *arg)
{
	int fd = homa_socket(AF_INET);
	uint8_t *buf = malloc(REQ_BYTES);
	char resp[64];

	(void)arg;
	if (fd < 0 || !buf) {
		client_err = errno;
		return NULL;
	}
	for (uint32_t s = 0; s < REQUESTS; s++) {
		uint64_t id;

		nt_build_request(buf, s, REQ_BYTES, 10);
		if (homa_request(fd, buf, REQ_BYTES,
				 (struct sockaddr *)&srv_addr, srv_len, &id, s,
				 0) < 0) {
			client_err = errno;
			return NULL;
		}
	}
	for (uint32_t s = 0; s < REQUESTS; s++) {
		uint64_t id = 0;

		if (homa_receive(fd, resp, sizeof(resp), 0, NULL, NULL, &id,
				 NULL) != 10) {
			client_err = errno;
			break;
		}
		client_done++;
	}
	free(buf);
	nt_close(fd);
	return NULL;
}

/* The server's bpages not yet given back. */
static uint32_t held[MAX_HELD];
static int num_held;

/* One receive: gives back up to 16 held bpages if give_back, keeps the
 * new message's. Returns its length (checked), 0 if none (MSG_DONTWAIT),
 * exits on error. */
static ssize_t server_recv(int fd, uint8_t *region, bool give_back, int *served)
{
	struct homa_recvmsg_args args;
	struct sockaddr_in6 peer;
	struct msghdr msg;
	struct nt_msg m;
	struct nt_req h;
	uint8_t *copy;
	ssize_t n;

	memset(&args, 0, sizeof(args));
	memset(&msg, 0, sizeof(msg));
	while (give_back && num_held && args.num_bpages < HOMA_MAX_BPAGES)
		args.bpage_offsets[args.num_bpages++] = held[--num_held];
	msg.msg_name = &peer;
	msg.msg_namelen = sizeof(peer);
	msg.msg_control = &args;
	msg.msg_controllen = sizeof(args);
	n = homa_recvmsg(fd, &msg, MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN) {
		usleep(200);
		return 0;
	}
	if (n < 0)
		nt_fail("server recvmsg: %s", strerror(errno));
	if (num_held + (int)args.num_bpages > MAX_HELD)
		nt_fail("more bpages than the region has");
	memcpy(held + num_held, args.bpage_offsets,
	       args.num_bpages * sizeof(uint32_t));
	num_held += (int)args.num_bpages;
	m.region = region;
	m.offsets = args.bpage_offsets;
	m.length = (size_t)n;
	copy = malloc((size_t)n);
	nt_msg_copy(&m, copy, 0, (size_t)n);
	memcpy(&h, copy, sizeof(h));
	if (n != REQ_BYTES || h.magic != NT_MAGIC ||
	    !nt_check(copy + sizeof(h), (uint64_t)h.serial << 1, sizeof(h),
		      (size_t)n))
		nt_fail("request %u: bytes differ", h.serial);
	free(copy);
	if (homa_reply(fd, "0123456789", 10, (struct sockaddr *)&peer,
		       msg.msg_namelen, args.id) < 0)
		nt_fail("reply: %s", strerror(errno));
	(*served)++;
	return n;
}

/* Count this socket's RPCs flagged BUF_STALL. */
static int stalled_rpcs(int fd, uint64_t *avail)
{
	struct homa_rpc_info recs[REQUESTS];
	struct homa_info info;
	int n = 0;

	memset(&info, 0, sizeof(info));
	info.rpc_info = (uintptr_t)recs;
	info.rpc_info_length = sizeof(recs);
	if (homa_ioctl(fd, HOMAIOCINFO, &info) < 0)
		nt_fail("HOMAIOCINFO: %s", strerror(errno));
	for (uint32_t i = 0; i < info.num_rpcs && i < REQUESTS; i++)
		n += !!(recs[i].flags & HOMA_RPC_BUF_STALL);
	*avail = info.bpool_avail_bytes;
	return n;
}

int main(void)
{
	size_t bytes = (size_t)REGION_BPAGES * HOMA_BPAGE_SIZE;
	uint8_t *region = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct homa_rcvbuf_args rb = { (uintptr_t)region, bytes };
	int fd = homa_socket(AF_INET), served = 0, during, stalled;
	uint64_t t0, avail;
	pthread_t t;

	alarm(60);
	if (fd < 0 || region == MAP_FAILED ||
	    homa_setsockopt(fd, IPPROTO_HOMA, SO_HOMA_RCVBUF, &rb, sizeof(rb)) <
		    0)
		nt_fail("server socket: %s", strerror(errno));
	srv_len = nt_addr(&srv_addr, "127.0.0.1",
			  (uint16_t)nt_bind_any(fd, AF_INET, 20000, 30000));
	pthread_create(&t, NULL, client_main, NULL);

	/* Take messages, keeping their bpages, until none came for the
	 * hold time: the pool is empty and the rest stall. */
	t0 = nt_now_ns();
	while (nt_now_ns() - t0 < HOLD_MS * 1000000ull)
		if (server_recv(fd, region, false, &served) > 0)
			t0 = nt_now_ns();
	during = served;
	stalled = stalled_rpcs(fd, &avail);
	printf("pool empty: %d of %d requests in, %d bpages held, %d RPCs "
	       "BUF_STALL, %llu bytes free, pool_stalls %llu; nothing for "
	       "%d ms\n",
	       during, REQUESTS, num_held, stalled, (unsigned long long)avail,
	       (unsigned long long)nt_metric("pool_stalls"), HOLD_MS);
	if (during >= REQUESTS || stalled == 0 || nt_metric("pool_stalls") == 0)
		nt_fail("the pool never ran out (or stalls were not seen)");
	if (client_err)
		nt_fail("a client RPC failed while stalled: %s",
			strerror(client_err));

	/* Give everything back: the stalled messages resume. */
	t0 = nt_now_ns();
	while (served < REQUESTS || num_held) {
		server_recv(fd, region, true, &served);
		if (nt_now_ns() - t0 > 20000000000ull)
			nt_fail("only %d of %d requests after returning the "
				"bpages",
				served, REQUESTS);
	}
	pthread_join(t, NULL);
	if (client_err || client_done != REQUESTS)
		nt_fail("client: %u of %d responses (%s)", client_done,
			REQUESTS, strerror(client_err));
	printf("ok: after the bpages came back all %d requests arrived "
	       "byte-exact in %.0f ms (pool_resumes %llu), all %d RPCs "
	       "completed\n",
	       REQUESTS, (double)(nt_now_ns() - t0) / 1e6,
	       (unsigned long long)nt_metric("pool_resumes"), REQUESTS);
	nt_close(fd);
	return 0;
}
