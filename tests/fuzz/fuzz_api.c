/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_api.c - libFuzzer target for the public API (include/homa.h):
 * every call of homa.h with arguments taken from the input, over the
 * whole library (core, API, UDP datapath) in this process.
 *
 * The input is a list of operations: one byte picks the call, the next
 * bytes its arguments. Descriptors are this input's Homa sockets, a
 * server socket bound to this process's port, or a descriptor of the
 * wrong kind (-1, not open, a pipe, a UDP socket). Pointers are NULL or
 * valid buffers, and lengths never exceed the buffer they describe: a
 * pointer to memory that does not exist crashes any library (homa(7)),
 * so only NULL and lengths that do not fit what they describe are fair.
 * Every call passes MSG_DONTWAIT, so nothing waits. Messages go only to
 * this process's own server port on loopback. Everything the input made
 * is closed at its end. A crash, a sanitizer report, or a call that
 * returns -1 without setting errno (checked below) is a finding.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "homa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_FDS	8	       /* Homa sockets per input */
#define FZ_BUF_BYTES	4096	       /* ordinary payload buffer */
#define FZ_REGION_BYTES (4u << 20)     /* receive region for SO_HOMA_RCVBUF */
#define FZ_BIG_BYTES	(1000001 + 16) /* buffer for the largest messages */

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

/* The bytes of one input, read front to back; zeros once used up. */
struct fz_in {
	const uint8_t *p; /* next byte */
	size_t left;	  /* bytes not yet read */
};

static uint64_t fz_bytes(struct fz_in *in, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++) {
		v = v << 8 | (in->left ? *in->p : 0);
		if (in->left) {
			in->p++;
			in->left--;
		}
	}
	return v;
}

#define fz_u8(in)  ((uint8_t)fz_bytes(in, 1))
#define fz_u16(in) ((uint16_t)fz_bytes(in, 2))
#define fz_u32(in) ((uint32_t)fz_bytes(in, 4))
#define fz_u64(in) fz_bytes(in, 8)

/* Process-wide state, made by the first input. */
static struct {
	bool ready;		   /* made */
	uint16_t port;		   /* server port of this process */
	int pipe_r;		   /* a pipe: not a socket */
	int udp;		   /* a UDP socket: not a Homa socket */
	uint8_t *region;	   /* FZ_REGION_BYTES, page-aligned */
	uint8_t *big;		   /* FZ_BIG_BYTES */
	uint8_t buf[FZ_BUF_BYTES]; /* small payloads and outputs */
} fz;

/* This input's Homa sockets. */
static int fz_fds[FZ_MAX_FDS + 1]; /* [0] is the server */
static int fz_nfds;		   /* entries in fz_fds */
static uint64_t fz_ids[8];	   /* RPC ids seen, for replies and aborts */

static void fz_setup(void)
{
	int p[2];

	if (fz.ready)
		return;
	CHECK(pipe(p) == 0);
	fz.pipe_r = p[0];
	fz.udp = socket(AF_INET, SOCK_DGRAM, 0);
	fz.region = mmap(NULL, FZ_REGION_BYTES, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fz.big = malloc(FZ_BIG_BYTES);
	CHECK(fz.udp >= 0 && fz.region != MAP_FAILED && fz.big);
	memset(fz.big, 'x', FZ_BIG_BYTES);
	fz.port = (uint16_t)(20000 + getpid() % 10000);
	fz.ready = true;
}

/* A server socket on this process's port (another if it is taken). */
static int fz_server(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = homa_socket(AF_INET);

	CHECK(fd >= 0);
	for (int tries = 0; tries < 100; tries++) {
		sa.sin_port = htons(fz.port);
		if (homa_bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		CHECK(errno == EADDRINUSE);
		fz.port = (uint16_t)(20000 + (fz.port + 7919) % 10000);
	}
	abort();
}

static int fz_fd(struct fz_in *in)
{
	uint8_t k = fz_u8(in);

	switch (k % 12) {
	case 8:
		return -1;
	case 9:
		return 1000000;
	case 10:
		return fz.pipe_r;
	case 11:
		return fz.udp;
	default:
		return fz_fds[k % fz_nfds];
	}
}

/* NULL one time in 8 (by the input), else buf. */
static void *fz_ptr(struct fz_in *in, void *buf)
{
	return fz_u8(in) % 8 == 0 ? NULL : buf;
}

/* A length in 0..cap, biased to the edges. */
static size_t fz_len(struct fz_in *in, size_t cap)
{
	uint32_t v = fz_u32(in);

	switch (v % 4) {
	case 0:
		return 0;
	case 1:
		return cap;
	default:
		return (v >> 2) % (cap + 1);
	}
}

/* An address of loopback at this process's server port (or a wrong
 * family); *len gets a length in 0..sizeof(*sa). */
static void fz_addr(struct fz_in *in, struct sockaddr_in6 *sa, socklen_t *len)
{
	uint8_t k = fz_u8(in);

	memset(sa, 0, sizeof(*sa));
	if (k % 3 == 0) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)sa;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(fz.port);
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else if (k % 3 == 1) {
		sa->sin6_family = AF_INET6;
		sa->sin6_port = htons(fz.port);
		sa->sin6_addr = in6addr_loopback;
	} else {
		sa->sin6_family = (sa_family_t)fz_u16(in); /* any family */
		sa->sin6_port = htons(fz.port);
	}
	*len = (socklen_t)((k >> 2) % 4 == 0 ? fz_len(in, sizeof(*sa))
			   : sa->sin6_family == AF_INET
				   ? sizeof(struct sockaddr_in)
				   : sizeof(*sa));
}

static uint64_t fz_id(struct fz_in *in)
{
	uint8_t k = fz_u8(in);

	return k < 200 ? fz_ids[k % 8] : fz_u64(in);
}

static void fz_note_id(uint64_t id)
{
	static unsigned next;

	if (id)
		fz_ids[next++ % 8] = id;
}

/* A result: -1 must come with errno set (the caller zeroes it). */
static void fz_result(long ret)
{
	CHECK(ret >= -1);
	CHECK(ret != -1 || errno != 0);
}

static void fz_count(void *arg, const char *name, uint64_t value)
{
	CHECK(name && name[0]);
	(void)value;
	if (arg)
		(*(int *)arg)++;
}

static const char *const fz_names[] = {
	"unsched_bytes",  "window",	     "max_incoming",
	"wmem_max",	  "datapath",	     "mtu",
	"poll_usecs",	  "unsched_cutoffs", "priority_map",
	"num_priorities", "no_such_name",    "",
};

/* A NUL-terminated string of up to 23 input bytes. */
static void fz_string(struct fz_in *in, char *out)
{
	size_t n = fz_u8(in) % 24;

	for (size_t i = 0; i < n; i++)
		out[i] = (char)fz_u8(in);
	out[n] = '\0';
}

static void fz_sendmsg(struct fz_in *in, int fd)
{
	struct homa_sendmsg_args args;
	struct sockaddr_in6 sa;
	struct iovec iov[3];
	struct msghdr msg;
	uint8_t k = fz_u8(in);

	memset(&msg, 0, sizeof(msg));
	fz_addr(in, &sa, &msg.msg_namelen);
	msg.msg_name = fz_ptr(in, &sa);
	msg.msg_iovlen = fz_u8(in) % 4;
	msg.msg_iov = fz_ptr(in, iov);
	for (size_t i = 0; i < msg.msg_iovlen; i++) {
		bool big = fz_u8(in) % 16 == 0;

		iov[i].iov_base = fz_ptr(in, big ? fz.big : fz.buf);
		iov[i].iov_len = fz_len(in, big ? FZ_BIG_BYTES : FZ_BUF_BYTES);
	}
	args.id = fz_u8(in) % 2 ? fz_id(in) : 0;
	args.completion_cookie = fz_u64(in);
	args.flags = fz_u8(in) % 4 ? fz_u8(in) % 2 : fz_u32(in);
	args.reserved = fz_u8(in) % 8 ? 0 : fz_u32(in);
	msg.msg_control = fz_ptr(in, &args);
	msg.msg_controllen = k % 8 ? 0 : fz_u8(in);
	errno = 0;
	fz_result(homa_sendmsg(fd, fz_u8(in) % 16 ? &msg : NULL, MSG_DONTWAIT));
	fz_note_id(args.id);
}

static void fz_recvmsg(struct fz_in *in, int fd)
{
	struct homa_recvmsg_args args;
	struct sockaddr_in6 sa;
	struct msghdr msg;
	long ret;

	memset(&args, 0, sizeof(args));
	memset(&msg, 0, sizeof(msg));
	args.id = fz_u8(in) % 2 ? fz_id(in) : 0;
	args.num_bpages = fz_u8(in) % 4 ? 0 : fz_u8(in) % 20;
	for (int i = 0; i < HOMA_MAX_BPAGES; i++)
		args.bpage_offsets[i] =
			fz_u8(in) % 2 ? (uint32_t)fz_u8(in) << HOMA_BPAGE_SHIFT
				      : fz_u32(in);
	args.reserved = fz_u8(in) % 8 ? 0 : 1;
	msg.msg_name = fz_ptr(in, &sa);
	msg.msg_namelen = (socklen_t)fz_len(in, sizeof(sa));
	msg.msg_control = fz_ptr(in, &args);
	msg.msg_controllen = fz_u8(in) % 4
				     ? sizeof(args)
				     : (socklen_t)fz_len(in, sizeof(args));
	errno = 0;
	ret = homa_recvmsg(fd, fz_u8(in) % 16 ? &msg : NULL, MSG_DONTWAIT);
	fz_result(ret);
	if (ret >= 0) {
		CHECK(args.num_bpages <= HOMA_MAX_BPAGES);
		fz_note_id(args.id);
	}
}

static void fz_ioctl(struct fz_in *in, int fd)
{
	static struct homa_rpc_info recs[4];
	struct homa_abort_args ab;
	struct homa_info info;
	unsigned long req;
	uint8_t k = fz_u8(in);
	void *arg;

	req = k % 4 == 0   ? HOMAIOCINFO
	      : k % 4 == 1 ? HOMAIOCABORT
	      : k % 4 == 2 ? HOMAIOCFREEZE
			   : fz_u32(in);
	memset(&info, 0, sizeof(info));
	info.rpc_info = (uintptr_t)fz_ptr(in, recs);
	info.rpc_info_length = fz_len(in, sizeof(recs));
	ab.id = fz_id(in);
	ab.error = fz_u8(in) % 2 ? 0 : fz_u8(in) % 140;
	ab._pad1 = fz_u8(in) % 8 ? 0 : 1;
	ab._pad2[0] = 0;
	ab._pad2[1] = fz_u8(in) % 8 ? 0 : 1;
	arg = req == HOMAIOCABORT ? (void *)&ab : (void *)&info;
	errno = 0;
	fz_result(homa_ioctl(fd, req, fz_ptr(in, arg)));
}

static void fz_setsockopt(struct fz_in *in, int fd)
{
	struct homa_rcvbuf_args rb;
	uint8_t opt[64];
	uint8_t k = fz_u8(in);
	int level = k % 4 == 3	 ? (int)fz_u32(in)
		    : k % 4 == 2 ? SOL_SOCKET
				 : IPPROTO_HOMA;
	int name = fz_u8(in) % 5;
	void *val = opt;

	name = name == 0   ? SO_HOMA_RCVBUF
	       : name == 1 ? SO_HOMA_SERVER
	       : name == 2 ? SO_RCVTIMEO
			   : (int)fz_u32(in);
	for (size_t i = 0; i < sizeof(opt); i++)
		opt[i] = fz_u8(in);
	if (name == SO_HOMA_RCVBUF) {
		/* The region must exist (homa(7)); start and length within
		 * it, possibly misaligned or too small. Each socket keeps
		 * its own: one region per input is enough, as the sockets
		 * die at the input's end. */
		rb.start = fz_u8(in) % 8 ? (uintptr_t)fz.region
					 : (uintptr_t)fz.region + fz_u8(in);
		rb.length = fz_len(in, FZ_REGION_BYTES - 256);
		if (fz_u8(in) % 16 == 0)
			rb.start = 0;
		val = &rb;
	}
	errno = 0;
	fz_result(homa_setsockopt(
		fd, level, name, fz_ptr(in, val),
		(socklen_t)fz_len(in, name == SO_HOMA_RCVBUF ? sizeof(rb)
							     : sizeof(opt))));
}

static void fz_getsockopt(struct fz_in *in, int fd)
{
	uint8_t opt[64];
	socklen_t len = (socklen_t)fz_len(in, sizeof(opt));
	int name = fz_u8(in) % 3;

	name = name == 0   ? SO_HOMA_RCVBUF
	       : name == 1 ? SO_HOMA_SERVER
			   : (int)fz_u32(in);
	errno = 0;
	fz_result(homa_getsockopt(fd, fz_u8(in) % 4 ? IPPROTO_HOMA : SOL_SOCKET,
				  name, fz_ptr(in, opt), fz_ptr(in, &len)));
	CHECK(len <= sizeof(opt));
}

static void fz_bind(struct fz_in *in, int fd)
{
	struct sockaddr_in6 sa;
	socklen_t len;
	uint8_t k;

	fz_addr(in, &sa, &len);
	k = fz_u8(in);
	/* Only this process's port, 0, or a client port (refused): never
	 * a port another program may be using. */
	sa.sin6_port = k % 3 == 0 ? htons(fz.port)
		       : k % 3 == 1
			       ? 0
			       : htons((uint16_t)(32768 + fz_u16(in) % 32768));
	errno = 0;
	fz_result(homa_bind(fd, fz_ptr(in, &sa), len));
}

static void fz_convenience(struct fz_in *in, int fd, uint8_t op)
{
	struct sockaddr_in6 sa;
	socklen_t len, srclen;
	uint64_t id = 0, cookie = 0;
	bool big = fz_u8(in) % 16 == 0;
	uint8_t *buf = big ? fz.big : fz.buf;
	size_t n = fz_len(in, big ? FZ_BIG_BYTES : FZ_BUF_BYTES);
	long ret;

	fz_addr(in, &sa, &len);
	errno = 0;
	if (op == 0) {
		ret = homa_request(fd, fz_ptr(in, buf), n, fz_ptr(in, &sa), len,
				   fz_ptr(in, &id), fz_u64(in),
				   fz_u8(in) % 4 ? fz_u8(in) % 2 : fz_u32(in));
		fz_result(ret);
		fz_note_id(id);
	} else if (op == 1) {
		ret = homa_reply(fd, fz_ptr(in, buf), n, fz_ptr(in, &sa), len,
				 fz_id(in));
		fz_result(ret);
	} else {
		srclen = (socklen_t)fz_len(in, sizeof(sa));
		id = fz_u8(in) % 2 ? fz_id(in) : 0;
		ret = homa_receive(fd, fz_ptr(in, buf), n, MSG_DONTWAIT,
				   fz_ptr(in, &sa), fz_ptr(in, &srclen),
				   fz_ptr(in, &id), fz_ptr(in, &cookie));
		fz_result(ret);
		if (ret >= 0)
			fz_note_id(id);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	char name[24], value[24];
	int ops = 0, counters = 0;

	fz_setup();
	fz_fds[0] = fz_server();
	fz_fds[1] = homa_socket(AF_INET);
	fz_fds[2] = homa_socket(AF_INET6);
	CHECK(fz_fds[1] >= 0 && fz_fds[2] >= 0);
	fz_nfds = 3;
	while (in.left && ops++ < 64) {
		uint8_t op = fz_u8(&in);
		int fd = fz_fd(&in), ret;

		switch (op % 16) {
		case 0: {
			int domain = fz_u8(&in) % 3;

			errno = 0;
			ret = homa_socket(domain == 0	? AF_INET
					  : domain == 1 ? AF_INET6
							: (int)fz_u32(&in));
			fz_result(ret);
			if (ret >= 0 && fz_nfds <= FZ_MAX_FDS)
				fz_fds[fz_nfds++] = ret;
			else if (ret >= 0)
				homa_close(ret);
			break;
		}
		case 1:
			fz_bind(&in, fd);
			break;
		case 2:
			fz_setsockopt(&in, fd);
			break;
		case 3:
			fz_getsockopt(&in, fd);
			break;
		case 4:
		case 5:
			fz_sendmsg(&in, fd);
			break;
		case 6:
		case 7:
			fz_recvmsg(&in, fd);
			break;
		case 8:
			fz_ioctl(&in, fd);
			break;
		case 9:
			errno = 0;
			fz_result(homa_shutdown(fd, fz_u8(&in) % 3));
			break;
		case 10:
			/* Only this input's sockets: a pipe or UDP socket of
			 * the fixture would be refused anyway (ENOTSOCK). */
			errno = 0;
			fz_result(homa_close(fd));
			break;
		case 11:
		case 12:
		case 13:
			fz_convenience(&in, fd, (uint8_t)(op % 16 - 11));
			break;
		case 14: {
			uint8_t k = fz_u8(&in);

			if (k % 2)
				snprintf(name, sizeof(name), "%s",
					 fz_names[k / 2 %
						  (sizeof(fz_names) /
						   sizeof(*fz_names))]);
			else
				fz_string(&in, name);
			fz_string(&in, value);
			/* Not the limits that would make the library refuse
			 * every later message: the point is the parsing. */
			if (strcmp(name, "wmem_max") == 0 ||
			    strcmp(name, "max_incoming") == 0)
				break;
			errno = 0;
			fz_result(homa_config_param(
				fz_u8(&in) % 16 ? name : NULL,
				fz_u8(&in) % 16 ? value : NULL));
			CHECK(homa_last_error() != NULL);
			break;
		}
		default:
			errno = 0;
			ret = homa_metrics_read(
				fz_u8(&in) % 8 ? fz_count : NULL, &counters);
			fz_result(ret);
			CHECK(homa_version() && homa_last_error());
			break;
		}
	}
	for (int i = 0; i < fz_nfds; i++)
		homa_close(fz_fds[i]); /* EBADF if the input closed it */
	return 0;
}
