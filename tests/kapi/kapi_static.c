/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kapi_static.c - a statically linked program using the kernel API: the
 * preload cannot reach it, and homa-run must refuse to run it.
 */
#include <stdio.h>
#include <sys/socket.h>

int main(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 146);

	printf("static program ran: socket() = %d\n", fd);
	return 0;
}
