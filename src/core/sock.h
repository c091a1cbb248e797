/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sock.h - sockets (sock.c): what the core's other modules use beyond
 * homa_core.h's socket API.
 */
#ifndef HOMA_CORE_SOCK_H
#define HOMA_CORE_SOCK_H

#include <stdint.h>

#include "homa_impl.h"

/* homa_port_bucket() - the hash bucket of sockets bound to port. */
static inline struct homa_list *homa_port_bucket(struct homa *homa,
						 uint16_t port)
{
	return &homa->port_buckets[port & (HOMA_PORT_BUCKETS - 1)];
}

/* homa_sock_find() - the open socket bound to port, NULL if none
 * (inline: every packet received looks its socket up). */
static inline struct homa_sock *homa_sock_find(struct homa *homa, uint16_t port)
{
	struct homa_list *pos;

	homa_list_for_each(pos, homa_port_bucket(homa, port))
	{
		struct homa_sock *hsk =
			homa_container_of(pos, struct homa_sock, port_link);
		if (hsk->port == port)
			return hsk;
	}
	return NULL;
}

#endif /* HOMA_CORE_SOCK_H */
