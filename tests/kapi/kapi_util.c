/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kapi_util.c - helpers of the kernel-API test programs (see kapi_util.h).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "kapi_util.h"

int kapi_family(const char *arg)
{
	if (strcmp(arg, "4") == 0)
		return AF_INET;
	if (strcmp(arg, "6") == 0)
		return AF_INET6;
	KAPI_FAIL("family '%s' is not 4 or 6", arg);
}

void kapi_open(struct kapi_sock *s, int family, bool no_region)
{
	struct homa_rcvbuf_args rb;

	memset(s, 0, sizeof(*s));
	s->family = family;
	s->fd = socket(family, SOCK_DGRAM, IPPROTO_HOMA);
	KAPI_CHECK(s->fd >= 0, "socket(%d, SOCK_DGRAM, IPPROTO_HOMA): %s",
		   family, strerror(errno));
	if (no_region)
		return;
	s->region = mmap(NULL, KAPI_REGION_BYTES, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	KAPI_CHECK(s->region != MAP_FAILED, "mmap: %s", strerror(errno));
	rb.start = (uint64_t)(uintptr_t)s->region;
	rb.length = KAPI_REGION_BYTES;
	KAPI_CHECK(setsockopt(s->fd, IPPROTO_HOMA, SO_HOMA_RCVBUF, &rb,
			      sizeof(rb)) == 0,
		   "SO_HOMA_RCVBUF: %s", strerror(errno));
}

uint16_t kapi_bind_any(struct kapi_sock *s)
{
	struct sockaddr_in6 a;

	for (int tries = 0; tries < 200; tries++) {
		uint16_t port = (uint16_t)(2000 + (getpid() * 7 + tries * 977 +
						   (int)(kapi_ms() % 1000)) %
							  28000);
		socklen_t len = kapi_loopback(s->family, port, &a);

		if (bind(s->fd, (struct sockaddr *)&a, len) == 0)
			return port;
		KAPI_CHECK(errno == EADDRINUSE, "bind %u: %s", port,
			   strerror(errno));
	}
	KAPI_FAIL("no free port");
}

socklen_t kapi_loopback(int family, uint16_t port, struct sockaddr_in6 *out)
{
	memset(out, 0, sizeof(*out));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)out;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(*in);
	}
	out->sin6_family = AF_INET6;
	out->sin6_port = htons(port);
	out->sin6_addr = in6addr_loopback;
	return sizeof(*out);
}

int kapi_send(struct kapi_sock *s, const void *dst, socklen_t dstlen,
	      const void *buf, size_t len, uint64_t *id, uint64_t cookie,
	      uint32_t flags)
{
	struct homa_sendmsg_args args = { id ? *id : 0, cookie, flags, 0 };
	struct iovec iov = { (void *)buf, len };
	struct msghdr msg = { (void *)dst, dstlen, &iov, 1, &args, 0, 0 };

	if (sendmsg(s->fd, &msg, 0) < 0)
		return -1;
	if (id)
		*id = args.id;
	return 0;
}

void kapi_recv(struct kapi_sock *s, uint64_t id, int flags, struct kapi_msg *m)
{
	struct msghdr msg;

	memset(m, 0, sizeof(*m));
	memset(&msg, 0, sizeof(msg));
	msg.msg_name = &m->peer;
	msg.msg_namelen = sizeof(m->peer);
	msg.msg_control = &s->args;
	msg.msg_controllen = sizeof(s->args);
	s->args.id = id;
	s->args.completion_cookie = 0;
	m->len = recvmsg(s->fd, &msg, flags);
	m->err = m->len < 0 ? errno : 0;
	m->id = s->args.id;
	m->cookie = s->args.completion_cookie;
}

uint8_t kapi_byte(const struct kapi_sock *s, size_t off)
{
	return s->region[s->args.bpage_offsets[off >> HOMA_BPAGE_SHIFT] +
			 (off & (HOMA_BPAGE_SIZE - 1))];
}

void kapi_fill(uint8_t *buf, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = kapi_pattern(seed, i);
}

long kapi_verify(const struct kapi_sock *s, size_t len, uint32_t seed,
		 size_t from)
{
	if (s->args.num_bpages != (len + HOMA_BPAGE_SIZE - 1) / HOMA_BPAGE_SIZE)
		return 0;
	for (size_t i = from; i < len; i++)
		if (kapi_byte(s, i) != kapi_pattern(seed, i))
			return (long)i;
	return -1;
}

uint64_t kapi_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
