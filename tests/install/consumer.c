/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * consumer.c - a program built against an installed libhoma by
 * check_install.sh (once through pkg-config, once through CMake's
 * find_package). It uses only the installed header and library: one RPC
 * over loopback between two sockets of this process, with a registered
 * receive region on the server, then HOMAIOCINFO and the metrics; the
 * library's homa_version() must equal the header's HOMA_VERSION_STRING.
 * Prints "consumer: ok" and exits 0 on success.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <homa.h>

#define REGION_BYTES (4u << 20)

static int fail(const char *what)
{
	fprintf(stderr, "consumer: %s: %s\n", what, strerror(errno));
	return 1;
}

static void count(void *arg, const char *name, uint64_t value)
{
	(void)name;
	(void)value;
	(*(int *)arg)++;
}

int main(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	struct homa_rcvbuf_args rcvbuf;
	struct sockaddr_in6 peer;
	struct sockaddr *peer_sa = (struct sockaddr *)&peer;
	socklen_t peerlen = sizeof(peer);
	struct homa_info info;
	char buf[64];
	uint64_t id = 0, cookie = 0;
	int srv, cli, port, counters = 0;
	void *region;
	ssize_t n;

	if (strcmp(homa_version(), HOMA_VERSION_STRING) != 0) {
		fprintf(stderr, "consumer: header %s, library %s\n",
			HOMA_VERSION_STRING, homa_version());
		return 1;
	}
	if (homa_config_param("no_such_parameter", "1") == 0 ||
	    homa_last_error()[0] == '\0')
		return fail("homa_config_param accepted an unknown name");
	srv = homa_socket(AF_INET);
	cli = homa_socket(AF_INET);
	if (srv < 0 || cli < 0)
		return fail("homa_socket");
	region = mmap(NULL, REGION_BYTES, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED)
		return fail("mmap");
	rcvbuf.start = (uint64_t)(uintptr_t)region;
	rcvbuf.length = REGION_BYTES;
	if (homa_setsockopt(srv, IPPROTO_HOMA, SO_HOMA_RCVBUF, &rcvbuf,
			    sizeof(rcvbuf)) < 0)
		return fail("SO_HOMA_RCVBUF");

	/* A free server port: other tests may hold some. */
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (port = 20000 + getpid() % 10000;; port++) {
		addr.sin_port = htons((uint16_t)port);
		if (homa_bind(srv, (struct sockaddr *)&addr, sizeof(addr)) == 0)
			break;
		if (errno != EADDRINUSE || port > 32000)
			return fail("homa_bind");
	}

	if (homa_request(cli, "ping", 4, (struct sockaddr *)&addr, sizeof(addr),
			 &id, 42, 0) < 0)
		return fail("homa_request");
	id = 0;
	n = homa_receive(srv, buf, sizeof(buf), 0, peer_sa, &peerlen, &id,
			 NULL);
	if (n != 4 || memcmp(buf, "ping", 4) != 0 || !(id & 1))
		return fail("homa_receive (request)");
	if (homa_reply(srv, "pong", 4, peer_sa, peerlen, id) < 0)
		return fail("homa_reply");
	id = 0;
	n = homa_receive(cli, buf, sizeof(buf), 0, NULL, NULL, &id, &cookie);
	if (n != 4 || memcmp(buf, "pong", 4) != 0 || cookie != 42)
		return fail("homa_receive (response)");

	memset(&info, 0, sizeof(info));
	if (homa_ioctl(srv, HOMAIOCINFO, &info) < 0 ||
	    info.port != (uint32_t)port)
		return fail("HOMAIOCINFO");
	if (homa_metrics_read(count, &counters) != counters || counters == 0)
		return fail("homa_metrics_read");
	if (homa_close(cli) < 0 || homa_close(srv) < 0)
		return fail("homa_close");
	munmap(region, REGION_BYTES);
	printf("consumer: ok\n");
	return 0;
}
