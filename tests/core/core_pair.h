/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * core_pair.h - two core instances back to back for the core tests that
 * pass packets between a client and a server in memory (test_core_fast,
 * test_core_place, test_core_rpc, test_core_chunk). Each test keeps its
 * own env callbacks and packet queue; this is the set-up they share.
 * Include after <cmocka.h>.
 */
#ifndef HOMA_TESTS_CORE_PAIR_H
#define HOMA_TESTS_CORE_PAIR_H

#include <stdint.h>
#include <stdlib.h>

#include "homa_core.h"

/* The instances, their addresses and sockets (filled by core_pair_open). */
struct core_pair {
	struct homa **h;	/* [2]: client 0, server 1 */
	struct homa_addr *addr; /* [2]: IPv4-mapped 10.0.0.1 and .2 */
	struct homa_sock **cli; /* client socket, on h[0] */
	struct homa_sock **srv; /* server socket, on h[1] */
	uint8_t **region;	/* 2 x region_bytes, 4096-aligned; the
				      * caller frees it */
	size_t region_bytes;	/* receive region of each socket, bytes */
	uint16_t port;		/* the server socket's port */
};

/*
 * Create both instances with env (its ctx replaced by the instance's
 * index, 0 or 1) and cfg, give them addresses, and open the client socket
 * (first half of the region) and the server socket bound to p->port
 * (second half). Fails the test on any error.
 */
static inline void core_pair_open(const struct core_pair *p,
				  const struct homa_env *env,
				  const struct homa_config *cfg)
{
	for (int i = 0; i < 2; i++) {
		struct homa_env e = *env;

		e.ctx = (void *)(intptr_t)i;
		p->addr[i].a[10] = p->addr[i].a[11] = 0xff;
		p->addr[i].a[12] = 10;
		p->addr[i].a[15] = (uint8_t)(i + 1);
		assert_int_equal(homa_create(&e, cfg, 0, &p->h[i], NULL), 0);
	}
	assert_int_equal(
		posix_memalign((void **)p->region, 4096, 2 * p->region_bytes),
		0);
	assert_int_equal(
		homa_sock_open(p->h[0], HOMA_FAMILY_INET, NULL, p->cli), 0);
	assert_int_equal(
		homa_sock_set_rcvbuf(*p->cli, *p->region, p->region_bytes), 0);
	assert_int_equal(
		homa_sock_open(p->h[1], HOMA_FAMILY_INET, NULL, p->srv), 0);
	assert_int_equal(homa_sock_bind(*p->srv, p->port), 0);
	assert_int_equal(homa_sock_set_rcvbuf(*p->srv,
					      *p->region + p->region_bytes,
					      p->region_bytes),
			 0);
}

#endif /* HOMA_TESTS_CORE_PAIR_H */
