/*
 * homa-echo-server [--raw] [--ipv6] PORT - serve Homa requests until
 * killed, answering each with the same bytes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "homa.h"

int main(int argc, char **argv)
{
	int family = AF_INET, i = 1, fd;
	static char buf[HOMA_MAX_MESSAGE_LENGTH];
	struct sockaddr_in6 addr = { 0 };

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--raw") == 0)
			homa_config_param("datapath", "raw");
		else if (strcmp(argv[i], "--ipv6") == 0)
			family = AF_INET6;
		else
			break;
	}
	if (i != argc - 1 || atoi(argv[i]) <= 0 || atoi(argv[i]) >= 32768) {
		fprintf(stderr, "usage: homa-echo-server [--raw] [--ipv6] "
				"PORT (1-32767)\n");
		return 2;
	}
	fd = homa_socket(family);
	if (fd < 0) {
		perror("homa_socket");
		return 1;
	}
	addr.sin6_family = (sa_family_t)family; /* port at the same offset */
	addr.sin6_port = htons((uint16_t)atoi(argv[i]));
	if (homa_bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		perror("homa_bind");
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
			perror("homa_receive");
			return 1;
		}
		if (homa_reply(fd, buf, (size_t)n, (struct sockaddr *)&src,
			       srclen, id) < 0)
			perror("homa_reply");
	}
}
