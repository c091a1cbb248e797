/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * peers.c - `homa-bench peers`: the memory-per-peer measure. Opens
 * --count client sockets to one server, completes one 100-byte RPC on
 * each (Homa: one socket and port per peer; TCP: one connection), says
 * so on stdout, then keeps them all open and idle until SIGTERM, while
 * the caller reads the server's memory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

int bench_peers_run(const struct bench_opts *o)
{
	int *fds = calloc((size_t)o->count, sizeof(*fds));
	int n = 0, ret = 0;

	if (!fds)
		return 1;
	for (; n < o->count && !bench_stop; n++) {
		int r = strcmp(o->proto, "homa") == 0 ? bench_homa_peer(o)
						      : bench_tcp_peer(o);

		if (r < 0) {
			fprintf(stderr, "homa-bench peers: peer %d: %s\n", n,
				strerror(-r));
			ret = 1;
			break;
		}
		fds[n] = r;
	}
	printf("peers: %d %s sockets, one RPC each, now idle\n", n, o->proto);
	fflush(stdout);
	while (!bench_stop && !ret)
		pause();
	for (int i = 0; i < n; i++)
		strcmp(o->proto, "homa") == 0 ? bench_homa_peer_close(fds[i])
					      : close(fds[i]);
	free(fds);
	return ret;
}
