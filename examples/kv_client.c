/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * homa-kv-client [--raw] [--inflight N] HOST PORT COUNT - exercise a
 * homa-kv-server the way a real client would use Homa: one socket, up to
 * N RPCs in flight at once, epoll to learn when responses are ready, the
 * receive region registered by the application (SO_HOMA_RCVBUF) and
 * responses read in place from it with homa_recvmsg, their bpages given
 * back on the next call. Every RPC carries the index of its slot as its
 * completion cookie, so a response finds its request without a lookup.
 *
 * It PUTs COUNT keys with values of 1 to 3000 bytes, GETs them all back
 * and checks every byte, DELetes the even ones, GETs all again (the even
 * ones must be missing), then asks for the number of keys with a private
 * RPC (homa_recvmsg waits for that id only). A failed RPC (the server
 * gone: ETIMEDOUT, ENOTCONN...) is reported with its key and errno; the
 * client exits 0 only if every check passed, 1 otherwise.
 */
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kv.h"

#define KV_REGION_BYTES (64u << 20) /* receive region, bytes */
#define KV_MAX_INFLIGHT 256	    /* slots */

static const char usage[] =
	"usage: homa-kv-client [--raw] [--inflight N] HOST PORT COUNT\n"
	"  store COUNT keys in the homa-kv-server at HOST, server port PORT\n"
	"  (1-32767), read them back and check them, delete half, check again\n"
	"  --inflight N  RPCs in flight at once, 1-256 (default 16)\n"
	"  --raw      raw IP protocol 146 instead of UDP (needs CAP_NET_RAW;\n"
	"             the server must use the same datapath)\n"
	"  --help     this text;  --version  the version\n"
	"  HOMA_PRINT_METRICS=1: the library prints its counters at exit.\n";

/* One RPC in flight. */
struct slot {
	bool busy;   /* an RPC is in flight */
	uint8_t op;  /* its enum kv_op */
	long key;    /* its key number */
	uint64_t id; /* its RPC id */
};

static struct {
	int fd;			       /* the one Homa socket */
	int epfd;		       /* epoll over fd */
	struct addrinfo *server;       /* where requests go */
	uint8_t *region;	       /* receive region */
	struct homa_recvmsg_args args; /* in: bpages to give back */
	struct slot slots[KV_MAX_INFLIGHT];
	int inflight;	  /* slots in use */
	int max_inflight; /* --inflight */
	int max_seen;	  /* most slots in use at once */
	long failed;	  /* RPCs that failed or mismatched */
	long rpcs;	  /* RPCs completed */
} kv;

static void kv_key(long k, char *key, size_t cap)
{
	snprintf(key, cap, "key-%ld", k);
}

/* The value stored under key k: its length and its bytes. */
static uint32_t kv_value_len(long k)
{
	return (uint32_t)(k * 7919 % 3000) + 1;
}

static uint8_t kv_value_byte(long k, uint32_t i)
{
	return (uint8_t)(k * 31 + i * 17);
}

static const char *kv_errno_hint(int err)
{
	if (err == ETIMEDOUT)
		return " (no answer: is the server running, and on the same "
		       "datapath? a --raw server does not hear a UDP client, "
		       "nor the reverse)";
	if (err == ENOTCONN)
		return " (nothing listens on that port over this datapath)";
	return "";
}

/* Send op on key k in a free slot. Returns 0, or -1 (errno EAGAIN: the
 * socket's outgoing memory is full, wait for responses first). */
static int kv_send(uint8_t op, long k)
{
	static uint8_t buf[sizeof(struct kv_hdr) + KV_MAX_KEY + 3000];
	struct homa_sendmsg_args args = { 0, 0, 0, 0 };
	struct kv_hdr h = { op, 0, 0, 0 };
	struct iovec iov;
	struct msghdr msg;
	char key[32];
	int s;

	for (s = 0; kv.slots[s].busy; s++)
		;
	kv_key(k, key, sizeof(key));
	h.key_len = (uint16_t)strlen(key);
	h.value_len = op == KV_PUT ? kv_value_len(k) : 0;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), key, h.key_len);
	for (uint32_t i = 0; i < h.value_len; i++)
		buf[sizeof(h) + h.key_len + i] = kv_value_byte(k, i);
	iov.iov_base = buf;
	iov.iov_len = sizeof(h) + h.key_len + h.value_len;
	memset(&msg, 0, sizeof(msg));
	msg.msg_name = kv.server->ai_addr;
	msg.msg_namelen = kv.server->ai_addrlen;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = &args;
	args.completion_cookie = (uint64_t)s + 1; /* 0 would mean none */
	if (homa_sendmsg(kv.fd, &msg, MSG_DONTWAIT) < 0)
		return -1;
	kv.slots[s] = (struct slot){ true, op, k, args.id };
	kv.inflight++;
	if (kv.inflight > kv.max_seen)
		kv.max_seen = kv.inflight;
	return 0;
}

/* Copy bytes [from, from + n) of the message in the region to out. */
static void kv_copy_out(uint8_t *out, size_t from, size_t n)
{
	while (n) {
		size_t in_page = from & (HOMA_BPAGE_SIZE - 1);
		size_t chunk = HOMA_BPAGE_SIZE - in_page;

		if (chunk > n)
			chunk = n;
		memcpy(out,
		       kv.region +
			       kv.args.bpage_offsets[from >> HOMA_BPAGE_SHIFT] +
			       in_page,
		       chunk);
		out += chunk;
		from += chunk;
		n -= chunk;
	}
}

/* Check one response of len bytes (now in the region) for slot s. */
static void kv_check(struct slot *s, size_t len)
{
	static uint8_t value[3000];
	struct kv_hdr h;
	bool ok;

	if (len < sizeof(h)) {
		fprintf(stderr, "homa-kv-client: key-%ld: short response\n",
			s->key);
		kv.failed++;
		return;
	}
	kv_copy_out((uint8_t *)&h, 0, sizeof(h));
	if (s->op == KV_GET && h.status == KV_OK) {
		ok = h.value_len == kv_value_len(s->key) &&
		     len == sizeof(h) + h.value_len;
		if (ok) {
			kv_copy_out(value, sizeof(h), h.value_len);
			for (uint32_t i = 0; i < h.value_len && ok; i++)
				ok = value[i] == kv_value_byte(s->key, i);
		}
	} else {
		ok = h.status == KV_OK;
	}
	if (!ok) {
		fprintf(stderr,
			"homa-kv-client: key-%ld: %c answered with status %u "
			"(%u value bytes)\n",
			s->key, s->op, h.status, h.value_len);
		kv.failed++;
	}
}

/*
 * Take every response that is ready (MSG_DONTWAIT) and free its slot;
 * waits in epoll first if block. expect_missing: GETs of even keys must
 * answer KV_NOT_FOUND. Returns -1 on an error of the socket itself.
 */
static int kv_collect(bool block, bool expect_missing)
{
	struct epoll_event ev;

	if (block && epoll_wait(kv.epfd, &ev, 1, -1) < 0 && errno != EINTR) {
		perror("homa-kv-client: epoll_wait");
		return -1;
	}
	for (;;) {
		struct msghdr msg;
		struct slot *s;
		ssize_t n;

		memset(&msg, 0, sizeof(msg));
		msg.msg_control = &kv.args;
		msg.msg_controllen = sizeof(kv.args);
		kv.args.id = 0; /* any shared response */
		/* kv.args.num_bpages/bpage_offsets: the previous message's
		 * bpages, given back to the pool by this call. */
		n = homa_recvmsg(kv.fd, &msg, MSG_DONTWAIT);
		if (n < 0 && kv.args.id == 0) {
			if (errno == EAGAIN)
				return 0;
			if (errno == EINTR)
				continue;
			fprintf(stderr, "homa-kv-client: homa_recvmsg: %s\n",
				strerror(errno));
			return -1;
		}
		if (kv.args.completion_cookie == 0 ||
		    kv.args.completion_cookie > KV_MAX_INFLIGHT) {
			fprintf(stderr,
				"homa-kv-client: a response with "
				"cookie %llu\n",
				(unsigned long long)kv.args.completion_cookie);
			kv.failed++;
			continue;
		}
		s = &kv.slots[kv.args.completion_cookie - 1];
		if (n < 0) { /* this RPC failed; the socket is fine */
			fprintf(stderr, "homa-kv-client: key-%ld: %s%s\n",
				s->key, strerror(errno), kv_errno_hint(errno));
			kv.failed++;
		} else if (expect_missing && s->op == KV_GET && !(s->key & 1)) {
			struct kv_hdr h;

			kv_copy_out((uint8_t *)&h, 0, sizeof(h));
			if (h.status != KV_NOT_FOUND) {
				fprintf(stderr,
					"homa-kv-client: key-%ld: still "
					"there after DEL\n",
					s->key);
				kv.failed++;
			}
		} else {
			kv_check(s, (size_t)n);
		}
		s->busy = false;
		kv.inflight--;
		kv.rpcs++;
	}
}

/* Run op on keys first..count-1 (step), max_inflight at a time. */
static int kv_phase(uint8_t op, long count, long step, bool expect_missing)
{
	long next = 0;

	while (next < count || kv.inflight) {
		while (next < count && kv.inflight < kv.max_inflight) {
			if (kv_send(op, next) < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break; /* room comes with responses */
				fprintf(stderr,
					"homa-kv-client: homa_sendmsg: %s\n",
					strerror(errno));
				return -1;
			}
			next += step;
		}
		if (kv.inflight && kv_collect(true, expect_missing) < 0)
			return -1;
	}
	return 0;
}

/* COUNT as a private RPC: the answer is waited for by its id alone. */
static long kv_count(void)
{
	struct kv_hdr h = { KV_COUNT, 0, 0, 0 }, r;
	struct homa_sendmsg_args sargs = { 0, 0, HOMA_SENDMSG_PRIVATE, 0 };
	struct iovec iov = { &h, sizeof(h) };
	struct msghdr msg;
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	msg.msg_name = kv.server->ai_addr;
	msg.msg_namelen = kv.server->ai_addrlen;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = &sargs;
	if (homa_sendmsg(kv.fd, &msg, 0) < 0) {
		perror("homa-kv-client: homa_sendmsg (COUNT)");
		return -1;
	}
	memset(&msg, 0, sizeof(msg));
	msg.msg_control = &kv.args;
	msg.msg_controllen = sizeof(kv.args);
	kv.args.id = sargs.id; /* this RPC only */
	do
		n = homa_recvmsg(kv.fd, &msg, 0);
	while (n < 0 && errno == EINTR);
	if (n < (ssize_t)sizeof(r)) {
		fprintf(stderr, "homa-kv-client: COUNT: %s%s\n",
			n < 0 ? strerror(errno) : "short response",
			n < 0 ? kv_errno_hint(errno) : "");
		return -1;
	}
	kv_copy_out((uint8_t *)&r, 0, sizeof(r));
	return r.value_len;
}

static long parse_num(const char *text, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < lo || v > hi)
		return -1;
	return v;
}

int main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICSERV };
	struct homa_rcvbuf_args rcvbuf;
	struct epoll_event ev = { .events = EPOLLIN };
	struct timespec t0, t1;
	long count, stored;
	int i = 1, gai, rc = 1;

	kv.max_inflight = 16;
	for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("homa-kv-client %s (libhoma %s)\n",
			       HOMA_VERSION_STRING, homa_version());
			return 0;
		} else if (strcmp(argv[i], "--raw") == 0) {
			if (homa_config_param("datapath", "raw") < 0) {
				fprintf(stderr, "homa-kv-client: %s\n",
					homa_last_error());
				return 2;
			}
		} else if (strcmp(argv[i], "--inflight") == 0 && i + 1 < argc) {
			kv.max_inflight =
				(int)parse_num(argv[++i], 1, KV_MAX_INFLIGHT);
			if (kv.max_inflight < 0) {
				fprintf(stderr,
					"homa-kv-client: bad --inflight "
					"'%s': 1 to 256\n",
					argv[i]);
				return 2;
			}
		} else {
			fprintf(stderr, "homa-kv-client: unknown option %s\n",
				argv[i]);
			fputs(usage, stderr);
			return 2;
		}
	}
	if (argc - i != 3) {
		fputs(usage, stderr);
		return 2;
	}
	if (parse_num(argv[i + 1], 1, 32767) < 0) {
		fprintf(stderr,
			"homa-kv-client: bad PORT '%s': a server port is a "
			"number from 1 to 32767\n",
			argv[i + 1]);
		return 2;
	}
	count = parse_num(argv[i + 2], 1, 10000000);
	if (count < 0) {
		fprintf(stderr,
			"homa-kv-client: bad COUNT '%s': a number of keys, 1 "
			"or more\n",
			argv[i + 2]);
		return 2;
	}
	gai = getaddrinfo(argv[i], argv[i + 1], &hints, &kv.server);
	if (gai != 0) {
		fprintf(stderr,
			"homa-kv-client: cannot resolve host '%s': %s\n",
			argv[i], gai_strerror(gai));
		return 2;
	}

	/* One socket, with a receive region of our own. */
	kv.fd = homa_socket(kv.server->ai_family);
	if (kv.fd < 0) {
		perror("homa-kv-client: homa_socket");
		goto out_addr;
	}
	kv.region = mmap(NULL, KV_REGION_BYTES, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (kv.region == MAP_FAILED) {
		perror("homa-kv-client: mmap");
		goto out_fd;
	}
	rcvbuf.start = (uintptr_t)kv.region;
	rcvbuf.length = KV_REGION_BYTES;
	if (homa_setsockopt(kv.fd, IPPROTO_HOMA, SO_HOMA_RCVBUF, &rcvbuf,
			    sizeof(rcvbuf)) < 0) {
		perror("homa-kv-client: SO_HOMA_RCVBUF");
		goto out_region;
	}
	kv.epfd = epoll_create1(0);
	if (kv.epfd < 0 || epoll_ctl(kv.epfd, EPOLL_CTL_ADD, kv.fd, &ev) < 0) {
		perror("homa-kv-client: epoll");
		goto out_region;
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (kv_phase(KV_PUT, count, 1, false) < 0 ||
	    kv_phase(KV_GET, count, 1, false) < 0 ||
	    kv_phase(KV_DEL, count, 2, false) < 0 ||
	    kv_phase(KV_GET, count, 1, true) < 0)
		goto out_epoll;
	stored = kv_count();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (stored >= 0 && stored != count / 2) {
		fprintf(stderr,
			"homa-kv-client: COUNT says %ld keys, wanted "
			"%ld (another client using the server?)\n",
			stored, count / 2);
		kv.failed++;
	}
	if (stored < 0 || kv.failed) {
		printf("FAILED %ld of %ld RPCs\n", kv.failed + (stored < 0),
		       kv.rpcs + 1);
	} else {
		printf("ok %ld keys, %ld RPCs, up to %d in flight, %.1f ms\n",
		       count, kv.rpcs + 1, kv.max_seen,
		       (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
			       (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
		rc = 0;
	}
out_epoll:
	close(kv.epfd);
out_region:
	/* The region must outlive the socket that uses it. */
	if (homa_close(kv.fd) < 0)
		perror("homa-kv-client: homa_close");
	munmap(kv.region, KV_REGION_BYTES);
	freeaddrinfo(kv.server);
	return rc;
out_fd:
	homa_close(kv.fd);
out_addr:
	freeaddrinfo(kv.server);
	return rc;
}
