/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * view.c - read-only views of an instance's schedulers for diagnostics
 * (homa_core.h): the grant scheduler's active set, the pacer's list, the
 * messages being sent, one server RPC's request. Hosts read these instead
 * of the core's structures; nothing here changes state.
 */
#include <errno.h>
#include <string.h>

#include "rpc.h"
#include "sock.h"

static void homa_view_in(const struct homa_rpc *rpc, struct homa_in_view *v)
{
	memset(v, 0, sizeof(*v));
	v->id = rpc->id;
	v->peer = rpc->peer->addr;
	v->peer_port = rpc->dport;
	v->port = rpc->hsk->port;
	v->length = rpc->in.grant.length;
	v->granted = rpc->in.grant.granted;
	v->received = rpc->in.grant.received;
	v->managed = rpc->in.grant.managed;
	v->active = rpc->in.grant.active_ix >= 0;
}

static void homa_view_out(const struct homa_rpc *rpc, struct homa_out_view *v)
{
	memset(v, 0, sizeof(*v));
	v->id = rpc->id;
	v->peer = rpc->peer->addr;
	v->peer_port = rpc->dport;
	v->port = rpc->hsk->port;
	v->length = (uint32_t)rpc->out.length;
	v->sent = rpc->out.next_xmit;
	v->granted = rpc->out.granted;
	v->unscheduled = rpc->out.unscheduled;
}

void homa_view_granting(const struct homa *homa, homa_in_view_fn fn, void *arg)
{
	struct homa_in_view v;

	for (int k = 0; k < HOMA_GRANT_MAX_ACTIVE; k++) {
		const struct homa_grant_msg *m = homa->grant.active[k];

		if (!m)
			continue;
		homa_view_in(homa_container_of(m, struct homa_rpc, in.grant),
			     &v);
		if (!fn(arg, &v))
			return;
	}
}

void homa_view_pacer(const struct homa *homa, homa_out_view_fn fn, void *arg)
{
	const struct homa_list *pos;
	struct homa_out_view v;

	homa_list_for_each(pos, &homa->throttled)
	{
		homa_view_out(homa_container_of(pos, struct homa_rpc,
						out.throttled_link),
			      &v);
		if (!fn(arg, &v))
			return;
	}
}

void homa_view_sending(const struct homa *homa, homa_out_view_fn fn, void *arg)
{
	const struct homa_list *sp, *rp;
	struct homa_out_view v;

	homa_list_for_each(sp, &homa->socks)
	{
		const struct homa_sock *hsk =
			homa_container_of(sp, struct homa_sock, link);

		homa_list_for_each(rp, &hsk->rpcs)
		{
			const struct homa_rpc *r = homa_container_of(
				rp, struct homa_rpc, sock_link);

			if (r->state != HOMA_RPC_OUTGOING || !r->out.buf)
				continue;
			homa_view_out(r, &v);
			if (!fn(arg, &v))
				return;
		}
	}
}

int homa_view_request(const struct homa *homa, uint16_t port,
		      const struct homa_addr *client, uint16_t client_port,
		      uint64_t id, struct homa_in_view *v)
{
	/* The lookups change nothing; they take the instance unqualified. */
	struct homa *h = (struct homa *)homa;
	struct homa_sock *hsk = homa_sock_find(h, port);
	struct homa_rpc *rpc;

	if (!hsk)
		return -ENOENT;
	rpc = homa_rpc_find_server(h, hsk, client, client_port, id);
	if (!rpc)
		return -ENOENT;
	homa_view_in(rpc, v);
	return 0;
}
