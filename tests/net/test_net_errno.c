/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_net_errno.c - every call of libhoma's API against a table of bad
 * inputs, each with the errno that spec/protocol.md section 9 (and the
 * Linux module it describes) gives: homa_socket, homa_bind,
 * homa_setsockopt/getsockopt, homa_sendmsg, homa_recvmsg, homa_ioctl
 * (HOMAIOCINFO and HOMAIOCABORT with its padding), homa_shutdown and
 * homa_close, including descriptors that are not open (EBADF) and open
 * descriptors that are not Homa sockets (ENOTSOCK). Rows that must
 * succeed are in the tables too, so each table shows the boundary.
 *
 * Each row names the descriptor it uses (enum fd_kind); the fixture makes
 * a fresh set of descriptors for every table.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "net_util.h"

#include "errno_table.h"

static void test_socket__table(void **state)
{
	static const struct {
		const char *what;
		int domain, expect;
	} rows[] = {
		{ "AF_INET", AF_INET, 0 },
		{ "AF_INET6", AF_INET6, 0 },
		{ "AF_UNIX", AF_UNIX, EAFNOSUPPORT },
		{ "AF_PACKET", AF_PACKET, EAFNOSUPPORT },
		{ "-1", -1, EAFNOSUPPORT },
	};
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int fd;

		errno = 0;
		fd = homa_socket(rows[i].domain);
		check(&bad, "homa_socket", rows[i].what, fd, errno,
		      rows[i].expect);
		if (fd >= 0)
			nt_close(fd);
	}
	assert_int_equal(bad, 0);
}

static void test_bind__table(void **state)
{
	static const struct {
		const char *what;
		enum fd_kind fd;
		int family;    /* of the address */
		int port;      /* -1: fx.port (in use) */
		socklen_t len; /* 0: sizeof(sockaddr_in6) */
		bool null;     /* NULL address */
		int expect;
	} rows[] = {
		{ "fd -1", FD_NEG, AF_INET, 1, 0, false, EBADF },
		{ "fd not open", FD_CLOSED, AF_INET, 1, 0, false, EBADF },
		{ "pipe", FD_PIPE, AF_INET, 1, 0, false, ENOTSOCK },
		{ "UDP socket", FD_UDP, AF_INET, 1, 0, false, ENOTSOCK },
		{ "NULL address", FD_V4, AF_INET, 1, 0, true, EFAULT },
		{ "AF_INET6 address, v4 socket", FD_V4, AF_INET6, 1, 0, false,
		  EAFNOSUPPORT },
		{ "AF_INET address, v6 socket", FD_V6, AF_INET, 1, 0, false,
		  EAFNOSUPPORT },
		{ "addrlen 4", FD_V4, AF_INET, 1, 4, false, EINVAL },
		{ "v6 addrlen sizeof(sockaddr_in)", FD_V6, AF_INET6, 1,
		  sizeof(struct sockaddr_in), false, EINVAL },
		{ "port 32768", FD_V4, AF_INET, 32768, 0, false, EINVAL },
		{ "port 65535", FD_V4, AF_INET, 65535, 0, false, EINVAL },
		{ "port in use by another socket", FD_V4, AF_INET, -1, 0, false,
		  EADDRINUSE },
		{ "shut down", FD_SHUT, AF_INET, 1, 0, false, ESHUTDOWN },
		{ "port 0 (no-op)", FD_V4, AF_INET, 0, 0, false, 0 },
		{ "server's own port again", FD_SERVER, AF_INET, -1, 0, false,
		  0 },
	};
	int bad = 0, on = 1;
	socklen_t len = sizeof(on);

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct sockaddr_in6 sa;
		int port = rows[i].port < 0 ? fx.port : rows[i].port, ret;

		memset(&sa, 0, sizeof(sa));
		sa.sin6_family = (sa_family_t)rows[i].family;
		sa.sin6_port = htons((uint16_t)port);
		errno = 0;
		ret = homa_bind(fx.fd[rows[i].fd],
				rows[i].null ? NULL : (struct sockaddr *)&sa,
				rows[i].len ? rows[i].len : sizeof(sa));
		check(&bad, "homa_bind", rows[i].what, ret, errno,
		      rows[i].expect);
	}
	/* Port 0 left the socket a client; a real bind made a server. */
	assert_int_equal(homa_getsockopt(fx.fd[FD_V4], IPPROTO_HOMA,
					 SO_HOMA_SERVER, &on, &len),
			 0);
	assert_int_equal(on, 0);
	assert_int_equal(homa_getsockopt(fx.fd[FD_SERVER], IPPROTO_HOMA,
					 SO_HOMA_SERVER, &on, &len),
			 0);
	assert_int_equal(on, 1);
	assert_int_equal(bad, 0);
}

/* Regions for SO_HOMA_RCVBUF rows. */
enum region_kind {
	REG_NONE,     /* optval is an int (SO_HOMA_SERVER rows) */
	REG_OK,	      /* a good region */
	REG_MISALIGN, /* start + 8 */
	REG_SMALL,    /* one bpage */
	REG_READONLY, /* PROT_READ mapping */
	REG_NULL,     /* start 0 */
	REG_HUGE,     /* 5 GiB, above the 4 GiB limit */
};

static int rcvbuf_args(enum region_kind k, struct homa_rcvbuf_args *a)
{
	static uint8_t *good, *ro, *huge;
	size_t bytes = 4 << 20;

	if (!good) {
		good = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ro = mmap(NULL, bytes, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);
		huge = mmap(NULL, 5ull << 30, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (good == MAP_FAILED || ro == MAP_FAILED ||
		    huge == MAP_FAILED)
			return -1;
	}
	a->start = (uintptr_t)good;
	a->length = bytes;
	if (k == REG_MISALIGN)
		a->start += 8;
	else if (k == REG_SMALL)
		a->length = HOMA_BPAGE_SIZE;
	else if (k == REG_READONLY)
		a->start = (uintptr_t)ro;
	else if (k == REG_NULL)
		a->start = 0;
	else if (k == REG_HUGE) {
		a->start = (uintptr_t)huge;
		a->length = 5ull << 30;
	}
	return 0;
}

static void test_setsockopt__table(void **state)
{
	static const struct {
		const char *what;
		enum fd_kind fd;
		int level, name;
		enum region_kind region;
		socklen_t len; /* 0: the right size */
		bool null;     /* NULL optval */
		int expect;
	} rows[] = {
		{ "fd -1", FD_NEG, IPPROTO_HOMA, SO_HOMA_SERVER, REG_NONE, 0,
		  false, EBADF },
		{ "fd not open", FD_CLOSED, IPPROTO_HOMA, SO_HOMA_SERVER,
		  REG_NONE, 0, false, EBADF },
		{ "pipe", FD_PIPE, IPPROTO_HOMA, SO_HOMA_SERVER, REG_NONE, 0,
		  false, ENOTSOCK },
		{ "UDP socket", FD_UDP, IPPROTO_HOMA, SO_HOMA_SERVER, REG_NONE,
		  0, false, ENOTSOCK },
		{ "level SOL_SOCKET", FD_V4, SOL_SOCKET, SO_HOMA_SERVER,
		  REG_NONE, 0, false, ENOPROTOOPT },
		{ "level IPPROTO_IP", FD_V4, IPPROTO_IP, SO_HOMA_RCVBUF, REG_OK,
		  0, false, ENOPROTOOPT },
		{ "unknown option 99", FD_V4, IPPROTO_HOMA, 99, REG_NONE, 0,
		  false, ENOPROTOOPT },
		{ "SERVER optlen 2", FD_V4, IPPROTO_HOMA, SO_HOMA_SERVER,
		  REG_NONE, 2, false, EINVAL },
		{ "SERVER optlen 8", FD_V4, IPPROTO_HOMA, SO_HOMA_SERVER,
		  REG_NONE, 8, false, EINVAL },
		{ "SERVER NULL optval", FD_V4, IPPROTO_HOMA, SO_HOMA_SERVER,
		  REG_NONE, 0, true, EFAULT },
		{ "RCVBUF optlen 8", FD_V4, IPPROTO_HOMA, SO_HOMA_RCVBUF,
		  REG_OK, 8, false, EINVAL },
		{ "RCVBUF NULL optval", FD_V4, IPPROTO_HOMA, SO_HOMA_RCVBUF,
		  REG_OK, 0, true, EFAULT },
		{ "RCVBUF start not page-aligned", FD_V4, IPPROTO_HOMA,
		  SO_HOMA_RCVBUF, REG_MISALIGN, 0, false, EINVAL },
		{ "RCVBUF one bpage (too small)", FD_V4, IPPROTO_HOMA,
		  SO_HOMA_RCVBUF, REG_SMALL, 0, false, EINVAL },
		{ "RCVBUF region read-only", FD_V4, IPPROTO_HOMA,
		  SO_HOMA_RCVBUF, REG_READONLY, 0, false, EFAULT },
		{ "RCVBUF start NULL", FD_V4, IPPROTO_HOMA, SO_HOMA_RCVBUF,
		  REG_NULL, 0, false, EFAULT },
		{ "RCVBUF 5 GiB (over 4 GiB)", FD_V4, IPPROTO_HOMA,
		  SO_HOMA_RCVBUF, REG_HUGE, 0, false, EINVAL },
		{ "RCVBUF good region", FD_V4, IPPROTO_HOMA, SO_HOMA_RCVBUF,
		  REG_OK, 0, false, 0 },
		{ "RCVBUF second registration", FD_V4, IPPROTO_HOMA,
		  SO_HOMA_RCVBUF, REG_OK, 0, false, EINVAL },
		{ "SERVER on", FD_V4, IPPROTO_HOMA, SO_HOMA_SERVER, REG_NONE, 0,
		  false, 0 },
		{ "SERVER on a shut-down socket", FD_SHUT, IPPROTO_HOMA,
		  SO_HOMA_SERVER, REG_NONE, 0, false, ESHUTDOWN },
	};
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct homa_rcvbuf_args a;
		int on = 1, ret;
		const void *val = &on;
		socklen_t len = sizeof(on);

		if (rows[i].region != REG_NONE) {
			assert_int_equal(rcvbuf_args(rows[i].region, &a), 0);
			val = &a;
			len = sizeof(a);
		}
		errno = 0;
		ret = homa_setsockopt(fx.fd[rows[i].fd], rows[i].level,
				      rows[i].name, rows[i].null ? NULL : val,
				      rows[i].len ? rows[i].len : len);
		check(&bad, "homa_setsockopt", rows[i].what, ret, errno,
		      rows[i].expect);
	}
	assert_int_equal(bad, 0);
}

static void test_getsockopt__table(void **state)
{
	static const struct {
		const char *what;
		enum fd_kind fd;
		int level, name;
		socklen_t len;
		bool null_val, null_len;
		int expect;
	} rows[] = {
		{ "fd -1", FD_NEG, IPPROTO_HOMA, SO_HOMA_SERVER, 4, false,
		  false, EBADF },
		{ "fd not open", FD_CLOSED, IPPROTO_HOMA, SO_HOMA_SERVER, 4,
		  false, false, EBADF },
		{ "pipe", FD_PIPE, IPPROTO_HOMA, SO_HOMA_SERVER, 4, false,
		  false, ENOTSOCK },
		{ "UDP socket", FD_UDP, IPPROTO_HOMA, SO_HOMA_SERVER, 4, false,
		  false, ENOTSOCK },
		{ "level SOL_SOCKET", FD_V4, SOL_SOCKET, SO_HOMA_SERVER, 4,
		  false, false, ENOPROTOOPT },
		{ "unknown option 99", FD_V4, IPPROTO_HOMA, 99, 4, false, false,
		  ENOPROTOOPT },
		{ "SERVER optlen 2", FD_V4, IPPROTO_HOMA, SO_HOMA_SERVER, 2,
		  false, false, EINVAL },
		{ "RCVBUF optlen 8", FD_V4, IPPROTO_HOMA, SO_HOMA_RCVBUF, 8,
		  false, false, EINVAL },
		{ "NULL optval", FD_V4, IPPROTO_HOMA, SO_HOMA_SERVER, 4, true,
		  false, EFAULT },
		{ "NULL optlen", FD_V4, IPPROTO_HOMA, SO_HOMA_SERVER, 4, false,
		  true, EFAULT },
		{ "SERVER", FD_SERVER, IPPROTO_HOMA, SO_HOMA_SERVER, 4, false,
		  false, 0 },
		{ "RCVBUF", FD_V4, IPPROTO_HOMA, SO_HOMA_RCVBUF, 16, false,
		  false, 0 },
	};
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct homa_rcvbuf_args val;
		socklen_t len = rows[i].len;
		int ret;

		errno = 0;
		ret = homa_getsockopt(fx.fd[rows[i].fd], rows[i].level,
				      rows[i].name,
				      rows[i].null_val ? NULL : &val,
				      rows[i].null_len ? NULL : &len);
		check(&bad, "homa_getsockopt", rows[i].what, ret, errno,
		      rows[i].expect);
	}
	assert_int_equal(bad, 0);
}

/* A registered region of fd reads back as {start, length}. */
static void test_getsockopt__rcvbuf_roundtrip(void **state)
{
	struct homa_rcvbuf_args a, b;
	socklen_t len = sizeof(b);
	int fd = homa_socket(AF_INET);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(rcvbuf_args(REG_OK, &a), 0);
	assert_int_equal(homa_setsockopt(fd, IPPROTO_HOMA, SO_HOMA_RCVBUF, &a,
					 sizeof(a)),
			 0);
	assert_int_equal(
		homa_getsockopt(fd, IPPROTO_HOMA, SO_HOMA_RCVBUF, &b, &len), 0);
	assert_int_equal(len, sizeof(b));
	assert_int_equal(b.start, a.start);
	assert_int_equal(b.length,
			 a.length / HOMA_BPAGE_SIZE * HOMA_BPAGE_SIZE);
	nt_close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socket__table),
		cmocka_unit_test_setup_teardown(test_bind__table, fixture_up,
						fixture_down),
		cmocka_unit_test_setup_teardown(test_setsockopt__table,
						fixture_up, fixture_down),
		cmocka_unit_test_setup_teardown(test_getsockopt__table,
						fixture_up, fixture_down),
		cmocka_unit_test(test_getsockopt__rcvbuf_roundtrip),
	};

	alarm(120);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
