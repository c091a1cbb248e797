/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kapi_util.h - helpers of the kernel-API test programs (tests/kapi). They
 * use only the Linux Homa module's socket API: socket(..., IPPROTO_HOMA),
 * setsockopt, sendmsg, recvmsg, ioctl, with the structures of homa.h and
 * never a homa_ call; they are not linked with libhoma and run under
 * homa-run (or on a kernel with the module).
 */
#ifndef KAPI_UTIL_H
#define KAPI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "homa.h"

#define KAPI_REGION_BYTES (64u << 20) /* each socket's receive region */

/* Request bodies starting with these bytes make kapi_echo's server
 * answer 200 ms late, or never. */
#define KAPI_DELAY  'D'
#define KAPI_SILENT 'S'

/* A Homa socket of this family with its own mmap'd receive region. */
struct kapi_sock {
	int fd;		 /* descriptor */
	int family;	 /* AF_INET or AF_INET6 */
	uint8_t *region; /* receive region (KAPI_REGION_BYTES) */
	/* bpages of the last message received, returned by the next recv */
	struct homa_recvmsg_args args;
};

/* A received message: its length and where its bytes are. */
struct kapi_msg {
	ssize_t len;		  /* length, or -1 (errno in err) */
	int err;		  /* errno of a failed recvmsg */
	uint64_t id;		  /* RPC id */
	uint64_t cookie;	  /* completion cookie */
	struct sockaddr_in6 peer; /* sender (sockaddr_in for IPv4) */
};

#define KAPI_FAIL(...)                                                         \
	do {                                                                   \
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);           \
		fprintf(stderr, __VA_ARGS__);                                  \
		fprintf(stderr, "\n");                                         \
		exit(1);                                                       \
	} while (0)

#define KAPI_CHECK(cond, ...)                                                  \
	do {                                                                   \
		if (!(cond))                                                   \
			KAPI_FAIL(__VA_ARGS__);                                \
	} while (0)

/* "4" or "6" to AF_INET / AF_INET6. */
int kapi_family(const char *arg);

/* Open a socket (region registered unless no_region); exits on error. */
void kapi_open(struct kapi_sock *s, int family, bool no_region);

/* Bind to a free random server port; returns it. */
uint16_t kapi_bind_any(struct kapi_sock *s);

/* The loopback address of the family with port. */
socklen_t kapi_loopback(int family, uint16_t port, struct sockaddr_in6 *out);

/* Send a request (id 0) or response: returns 0 or -1 (errno); *id gets a
 * new request's id. */
int kapi_send(struct kapi_sock *s, const void *dst, socklen_t dstlen,
	      const void *buf, size_t len, uint64_t *id, uint64_t cookie,
	      uint32_t flags);

/* Receive (id 0: any shared message), returning the previous message's
 * bpages. */
void kapi_recv(struct kapi_sock *s, uint64_t id, int flags, struct kapi_msg *m);

/* Byte off of the message last received on s. */
uint8_t kapi_byte(const struct kapi_sock *s, size_t off);

/* The pattern of message (seed): byte i. */
static inline uint8_t kapi_pattern(uint32_t seed, size_t i)
{
	return (uint8_t)((i * 131u + seed * 7u + (i >> 8)) & 0xff);
}

/* Fill buf with the pattern of seed; first byte kept if keep_first. */
void kapi_fill(uint8_t *buf, size_t len, uint32_t seed);

/* Check the last message's bytes against the pattern of seed, from byte
 * from on; the index of the first mismatch, or -1. */
long kapi_verify(const struct kapi_sock *s, size_t len, uint32_t seed,
		 size_t from);

/* Milliseconds since an arbitrary start (CLOCK_MONOTONIC). */
uint64_t kapi_ms(void);

#endif /* KAPI_UTIL_H */
