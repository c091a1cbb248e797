/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * homa-echo-server [--raw] [--ipv6] PORT - serve Homa requests until
 * killed, answering each with the same bytes. A request that cannot be
 * answered is reported with its errno and the server goes on; a server
 * that cannot start (port taken, no privilege) exits 1 and says why.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "homa.h"

static const char usage[] =
	"usage: homa-echo-server [--raw] [--ipv6] PORT\n"
	"  answer every request on server port PORT (1-32767) with its own\n"
	"  bytes, until killed\n"
	"  --raw      raw IP protocol 146 instead of UDP (needs CAP_NET_RAW;\n"
	"             clients must use the same datapath)\n"
	"  --ipv6     an IPv6 socket (clients connect to ::1 or another IPv6 "
	"address)\n"
	"  --help     this text;  --version  the version\n";

static void report(const char *call, int err)
{
	const char *hint = "";

	if (err == EADDRINUSE)
		hint = " (another program has that port)";
	else if (err == EPERM)
		hint = " (--raw needs CAP_NET_RAW: run as root)";
	fprintf(stderr, "homa-echo-server: %s: %s%s\n", call, strerror(err),
		hint);
}

int main(int argc, char **argv)
{
	int family = AF_INET, i = 1, fd;
	static char buf[HOMA_MAX_MESSAGE_LENGTH];
	struct sockaddr_in6 addr = { 0 };
	char *end;
	long port;

	for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("homa-echo-server %s (libhoma %s)\n",
			       HOMA_VERSION_STRING, homa_version());
			return 0;
		} else if (strcmp(argv[i], "--raw") == 0) {
			if (homa_config_param("datapath", "raw") < 0) {
				fprintf(stderr, "homa-echo-server: %s\n",
					homa_last_error());
				return 2;
			}
		} else if (strcmp(argv[i], "--ipv6") == 0) {
			family = AF_INET6;
		} else {
			fprintf(stderr, "homa-echo-server: unknown option %s\n",
				argv[i]);
			fputs(usage, stderr);
			return 2;
		}
	}
	if (i != argc - 1) {
		fputs(usage, stderr);
		return 2;
	}
	port = strtol(argv[i], &end, 10);
	if (end == argv[i] || *end || port <= 0 || port >= 32768) {
		fprintf(stderr,
			"homa-echo-server: bad PORT '%s': a server port is a "
			"number from 1 to 32767\n",
			argv[i]);
		return 2;
	}
	fd = homa_socket(family);
	if (fd < 0) {
		report("homa_socket", errno);
		return 1;
	}
	addr.sin6_family = (sa_family_t)family; /* port at the same offset */
	addr.sin6_port = htons((uint16_t)port);
	if (homa_bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		report("homa_bind", errno);
		homa_close(fd);
		return 1;
	}
	for (;;) {
		struct sockaddr_in6 src;
		socklen_t srclen = sizeof(src);
		uint64_t id = 0;
		ssize_t n = homa_receive(fd, buf, sizeof(buf), 0,
					 (struct sockaddr *)&src, &srclen, &id,
					 NULL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			report("homa_receive", errno);
			homa_close(fd);
			return 1;
		}
		if (homa_reply(fd, buf, (size_t)n, (struct sockaddr *)&src,
			       srclen, id) < 0)
			report("homa_reply", errno);
	}
}
