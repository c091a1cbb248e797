/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sock.c - Homa sockets: ports (server ports by bind, client ports
 * allocated from 32768 up), server mode, the receive region, shutdown and
 * close, readability (writability and wake-ups are base.c's; delivering
 * a message to recv is ops.c's).
 */
#include <errno.h>
#include <string.h>

#include "base.h"
#include "place.h"
#include "rpc.h"
#include "sock.h"

static int homa_sock_new(struct homa *homa, int family, uint16_t port,
			 void *sock_ctx, struct homa_sock **out)
{
	struct homa_sock *hsk = homa_alloc(homa, sizeof(*hsk));

	if (!hsk)
		return -ENOMEM;
	memset(hsk, 0, sizeof(*hsk));
	hsk->homa = homa;
	hsk->ctx = sock_ctx;
	hsk->family = family;
	hsk->port = port;
	hsk->seg_bytes = homa_seg_bytes(homa, homa->config.mtu,
					family == HOMA_FAMILY_INET);
	homa_list_init(&hsk->rpcs);
	homa_list_init(&hsk->ready);
	homa_list_init(&hsk->stalled);
	hsk->pool.tail_page = -1;
	homa_list_add_tail(&homa->socks, &hsk->link);
	homa_list_add_tail(homa_port_bucket(homa, port), &hsk->port_link);
	homa->num_socks++;
	*out = hsk;
	return 0;
}

int homa_sock_open(struct homa *homa, int family, void *sock_ctx,
		   struct homa_sock **out)
{
	uint32_t port = homa->prev_client_port, tries;

	if (family != HOMA_FAMILY_INET && family != HOMA_FAMILY_INET6)
		return -EAFNOSUPPORT;
	for (tries = 0; tries < 0x10000 - HOMA_MIN_CLIENT_PORT; tries++) {
		port = homa_next_client_port(port);
		if (!homa_sock_find(homa, (uint16_t)port))
			break;
	}
	if (tries == 0x10000 - HOMA_MIN_CLIENT_PORT)
		return -EADDRNOTAVAIL;
	homa->prev_client_port = (uint16_t)port;
	return homa_sock_new(homa, family, (uint16_t)port, sock_ctx, out);
}

int homa_sock_open_at(struct homa *homa, int family, uint16_t port,
		      void *sock_ctx, struct homa_sock **out)
{
	if (family != HOMA_FAMILY_INET && family != HOMA_FAMILY_INET6)
		return -EAFNOSUPPORT;
	if (port < HOMA_MIN_CLIENT_PORT)
		return -EINVAL;
	if (homa_sock_find(homa, port))
		return -EADDRINUSE;
	return homa_sock_new(homa, family, port, sock_ctx, out);
}

int homa_sock_bind(struct homa_sock *hsk, uint16_t port)
{
	struct homa *homa = hsk->homa;
	struct homa_sock *owner;

	if (hsk->shutdown)
		return -ESHUTDOWN;
	if (port == 0)
		return 0;
	if (port >= HOMA_MIN_CLIENT_PORT)
		return -EINVAL;
	if (port == hsk->port)
		return 0;
	owner = homa_sock_find(homa, port);
	if (owner)
		return -EADDRINUSE;
	homa_list_del(&hsk->port_link);
	hsk->port = port;
	homa_list_add_tail(homa_port_bucket(homa, port), &hsk->port_link);
	hsk->server = true;
	return 0;
}

int homa_sock_set_server(struct homa_sock *hsk, bool on)
{
	if (hsk->shutdown)
		return -ESHUTDOWN;
	hsk->server = on;
	return 0;
}

bool homa_sock_is_server(const struct homa_sock *hsk)
{
	return hsk->server;
}

uint16_t homa_sock_port(const struct homa_sock *hsk)
{
	return hsk->port;
}

int homa_sock_family(const struct homa_sock *hsk)
{
	return hsk->family;
}

bool homa_sock_is_shutdown(const struct homa_sock *hsk)
{
	return hsk->shutdown;
}

int homa_sock_set_rcvbuf(struct homa_sock *hsk, uint8_t *region, uint64_t bytes)
{
	struct homa *homa = hsk->homa;
	uint64_t min =
		HOMA_BPAGE_BYTES + 2 * (uint64_t)homa->config.max_message_bytes;
	int ret;

	if (hsk->shutdown)
		return -ESHUTDOWN;
	if (hsk->pool.region)
		return -EINVAL;
	ret = homa_pool_init(&hsk->pool, &homa->menv, region, bytes, min,
			     (uint64_t)homa->config.bpage_lease_usecs *
				     HOMA_NS_PER_US);
	if (ret == 0)
		hsk->pool.sum = &homa->pool_sum;
	return ret;
}

void homa_sock_get_rcvbuf(const struct homa_sock *hsk, uint8_t **region,
			  uint64_t *bytes)
{
	*region = hsk->pool.region;
	*bytes = hsk->pool.region
			 ? (uint64_t)hsk->pool.num_bpages * HOMA_BPAGE_BYTES
			 : 0;
}

void homa_sock_shutdown(struct homa_sock *hsk, uint64_t now_ns)
{
	struct homa *homa = hsk->homa;
	struct homa_list *pos, *tmp;

	if (hsk->shutdown)
		return;
	homa->now_ns = now_ns;
	hsk->shutdown = true;
	homa_list_del(&hsk->port_link);
	homa_list_for_each_safe(pos, tmp, &hsk->rpcs)
	{
		homa_rpc_end(
			homa_container_of(pos, struct homa_rpc, sock_link));
	}
	homa_sock_wake(hsk, HOMA_WAKE_SHUTDOWN | HOMA_WAKE_READABLE, 0);
}

void homa_sock_close(struct homa_sock *hsk, uint64_t now_ns)
{
	struct homa *homa = hsk->homa;

	homa_sock_shutdown(hsk, now_ns);
	/* Dead RPCs may still point at the socket: reap them now. */
	homa_rpc_reap(homa, -1);
	homa_place_sock_gone(hsk);
	if (hsk->pool.region)
		homa_pool_destroy(&hsk->pool, &homa->menv);
	homa_list_del(&hsk->link);
	homa->num_socks--;
	homa_free(homa, hsk, sizeof(*hsk));
}

bool homa_sock_readable(const struct homa_sock *hsk)
{
	return hsk->shutdown || !homa_list_empty(&hsk->ready);
}

unsigned int homa_sock_ready(const struct homa_sock *hsk)
{
	return (hsk->shutdown || !homa_list_empty(&hsk->ready)
			? HOMA_SOCK_READABLE
			: 0) |
	       (homa_sock_room(hsk) ? HOMA_SOCK_WRITABLE : 0);
}
