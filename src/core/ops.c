/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ops.c - the socket operations an application performs: send a request
 * or a reply, receive a ready message (returning bpages), abort client
 * RPCs, and describe a socket's RPCs (HOMAIOCINFO).
 */
#include <errno.h>
#include <string.h>

#include "base.h"
#include "msgin.h"
#include "outgoing.h"
#include "peer.h"
#include "rpc.h"

/* Total length of an iov, or -EINVAL if malformed or too long. */
static int64_t homa_iov_length(const struct homa *homa,
			       const struct homa_iov *iov, int count)
{
	int64_t total = 0;

	if (count == 1 && iov) { /* the usual case: one piece */
		if (!iov[0].base || iov[0].bytes == 0 ||
		    iov[0].bytes > (size_t)homa->config.max_message_bytes)
			return -EINVAL;
		return (int64_t)iov[0].bytes;
	}
	if (count < 0 || (count > 0 && !iov))
		return -EINVAL;
	for (int i = 0; i < count; i++) {
		if (iov[i].bytes && !iov[i].base)
			return -EINVAL;
		total += (int64_t)iov[i].bytes;
		if (total > homa->config.max_message_bytes)
			return -EINVAL;
	}
	if (total == 0)
		return -EINVAL;
	return total;
}

/*
 * homa_send_request and homa_send_reply: gift is the host's buffer when
 * the message is given or lent whole (flags HOMA_SEND_GIFT or
 * HOMA_SEND_BORROW), else NULL and flags 0. Each is inlined into the
 * usual send with the constants NULL and 0 (nothing of it is tested
 * there) and into homa_send_whole.
 */
static inline __attribute__((always_inline)) int
homa_send_request(struct homa_sock *hsk, struct homa_send_args *a,
		  size_t length, void *gift, uint32_t flags)
{
	struct homa *homa = hsk->homa;
	struct homa_peer *peer;
	struct homa_rpc *rpc;
	int ret;

	if (a->dport == 0)
		return -EINVAL;
	peer = homa_peer_get(homa, a->dst, true);
	if (!peer)
		return -ENOMEM;
	rpc = homa_rpc_alloc_client(hsk, peer, a->dport);
	if (!rpc)
		return -ENOMEM;
	ret = homa_msgout_init(rpc, length, gift, flags);
	if (ret < 0) {
		homa_rpc_end(rpc);
		return ret;
	}
	rpc->cookie = a->cookie;
	if (a->flags & HOMA_SEND_PRIVATE)
		rpc->flags |= HOMA_RPC_PRIVATE;
	a->id = rpc->id;
	homa->metrics.v[HOMA_M_client_requests_started]++;
	homa_msgout_start(rpc, a->iov, a->iov_count, a->flags);
	return 0;
}

static inline __attribute__((always_inline)) int
homa_send_reply(struct homa_sock *hsk, struct homa_send_args *a, size_t length,
		void *gift, uint32_t flags)
{
	struct homa *homa = hsk->homa;
	struct homa_rpc *rpc;
	int ret;

	if (a->cookie != 0 || !(a->id & 1))
		return -EINVAL;
	rpc = homa_rpc_find_server(homa, hsk, a->dst, a->dport, a->id);
	if (!rpc) {
		/* The client gave up; nothing to do but keep the promise to
		 * free a gift. */
		if (gift)
			homa->env.free(homa->env.ctx, gift, length);
		return 0;
	}
	if (rpc->state != HOMA_RPC_IN_SERVICE)
		return -EINVAL;
	ret = homa_msgout_init(rpc, length, gift, flags);
	if (ret < 0) {
		homa_rpc_end(rpc);
		return ret;
	}
	rpc->state = HOMA_RPC_OUTGOING;
	rpc->silent_ticks = 0;
	homa->metrics.v[HOMA_M_server_responses_started]++;
	homa_msgout_start(rpc, a->iov, a->iov_count, a->flags);
	return 0;
}

/* The rest of a send once the message is checked: the reply, or the
 * request if the socket has room (gift and flags as above). */
static inline __attribute__((always_inline)) int
homa_send_go(struct homa_sock *hsk, struct homa_send_args *a, size_t length,
	     void *gift, uint32_t flags)
{
	if (a->id != 0)
		return homa_send_reply(hsk, a, length, gift, flags);
	if (!homa_sock_room(hsk)) {
		hsk->tx_blocked = true;
		hsk->homa->metrics.v[HOMA_M_wmem_blocked]++;
		return -EAGAIN;
	}
	return homa_send_request(hsk, a, length, gift, flags);
}

/* A GIFT or BORROW message (out of line: the usual send has neither):
 * one piece; BORROW only for a request and alone (the core neither
 * copies nor frees it). */
static __attribute__((noinline)) int
homa_send_whole(struct homa_sock *hsk, struct homa_send_args *a, size_t length)
{
	if (a->iov_count != 1 || a->iov[0].bytes != length)
		return -EINVAL;
	if ((a->flags & HOMA_SEND_BORROW) &&
	    (a->id != 0 || (a->flags & (HOMA_SEND_GIFT | HOMA_SEND_CHUNKED))))
		return -EINVAL;
	return homa_send_go(hsk, a, length, (void *)a->iov[0].base, a->flags);
}

int homa_send(struct homa_sock *hsk, struct homa_send_args *a, uint64_t now_ns)
{
	struct homa *homa = hsk->homa;
	int64_t length;

	homa->now_ns = now_ns;
	if (hsk->shutdown)
		return -ESHUTDOWN;
	if (!a || !a->dst)
		return -EINVAL;
	if (a->flags & ~(uint32_t)(HOMA_SEND_PRIVATE | HOMA_SEND_GIFT |
				   HOMA_SEND_CHUNKED | HOMA_SEND_BORROW))
		return -EINVAL;
	/* An INET6 socket also reaches IPv4 peers, by their mapped
	 * addresses: the datapaths deliver both families to it by port, so
	 * it receives their requests and must be able to answer them. */
	if (hsk->family == HOMA_FAMILY_INET && !homa_addr_is_v4(a->dst))
		return -EAFNOSUPPORT;
	length = homa_iov_length(homa, a->iov, a->iov_count);
	if (length < 0)
		return (int)length;
	if (a->flags & (HOMA_SEND_GIFT | HOMA_SEND_BORROW))
		return homa_send_whole(hsk, a, (size_t)length);
	return homa_send_go(hsk, a, (size_t)length, NULL, 0);
}

int homa_send_copy(struct homa_sock *hsk, const struct homa_send_args *a,
		   size_t bytes, uint64_t now_ns)
{
	struct homa *homa = hsk->homa;
	struct homa_rpc *rpc;

	homa->now_ns = now_ns;
	/* Found again by id: a packet fed since may have ended it. */
	if (a->id & 1)
		rpc = homa_rpc_find_server(homa, hsk, a->dst, a->dport, a->id);
	else
		rpc = homa_rpc_find_client(homa, hsk, a->id);
	if (!rpc || rpc->out.src != a->iov)
		return 0;
	/* Its bytes are never sent again once the RPC failed or the
	 * client sees a response (a request is resent only while
	 * OUTGOING): the rest of the copy would be wasted. */
	if (rpc->state != HOMA_RPC_OUTGOING || rpc->error) {
		homa->metrics.v[HOMA_M_tx_copy_skipped_bytes] +=
			(uint64_t)rpc->out.length - rpc->out.copied;
		rpc->out.src = NULL;
		rpc->out.src_count = 0;
		return 0;
	}
	return homa_msgout_copy_step(rpc, bytes);
}

/* Hand a ready RPC to the application (spec 9.3 step 5-6). */
static inline __attribute__((always_inline)) int
homa_deliver(struct homa_sock *hsk, struct homa_rpc *rpc,
	     struct homa_recv_args *a)
{
	struct homa *homa = hsk->homa;
	int ret;

	homa_list_del(&rpc->ready_link);
	rpc->flags &= ~HOMA_RPC_READY;
	a->id = rpc->id;
	a->cookie = rpc->cookie;
	a->peer = rpc->peer->addr;
	a->peer_port = rpc->dport;
	a->is_request = rpc->id & 1;
	a->num_bpages = 0;
	if (rpc->error) {
		ret = -rpc->error;
		homa_rpc_end(rpc);
		return ret;
	}
	ret = rpc->in.length;
	a->num_bpages = rpc->in.num_bpages;
	if (rpc->in.num_bpages == 1) /* the usual small message */
		a->bpage_offsets[0] = rpc->in.bpages[0];
	else
		memcpy(a->bpage_offsets, rpc->in.bpages,
		       rpc->in.num_bpages * sizeof(uint32_t));
	rpc->in.num_bpages = 0; /* the pages belong to the app now */
	if (rpc->id & 1) {
		homa->metrics.v[HOMA_M_server_requests_received]++;
		return ret;
	}
	homa->metrics.v[HOMA_M_client_responses_done]++;
	homa_peer_add_ack(homa, rpc->peer, hsk->port, rpc->id, rpc->dport);
	homa_rpc_end(rpc);
	return ret;
}

/* Deliver, then reclaim the RPC it ended (and a few more) at once: a
 * single RPC is cheap to free, and it spares the host a pass through
 * homa_poll just to reap it. */
static inline __attribute__((always_inline)) int
homa_deliver_reap(struct homa_sock *hsk, struct homa_rpc *rpc,
		  struct homa_recv_args *a)
{
	int ret = homa_deliver(hsk, rpc, a);

	if (hsk->homa->num_dead)
		homa_rpc_reap(hsk->homa, (int)hsk->homa->config.reap_limit);
	return ret;
}

int homa_release(struct homa_sock *hsk, const uint32_t *offsets, uint32_t count)
{
	int ret;

	if (!hsk->pool.region)
		return -EINVAL;
	ret = homa_pool_release(&hsk->pool, offsets, count);
	if (ret == 0 && !homa_list_empty(&hsk->stalled))
		homa_msgin_check_stalled(hsk);
	return ret;
}

int homa_recv(struct homa_sock *hsk, struct homa_recv_args *a, uint64_t now_ns)
{
	struct homa *homa = hsk->homa;
	struct homa_rpc *rpc;
	int ret;

	homa->now_ns = now_ns;
	if (!a || a->num_bpages > HOMA_CORE_MAX_BPAGES)
		return -EINVAL;
	if (!hsk->pool.region)
		return -EINVAL;
	if (a->num_bpages) {
		ret = homa_release(hsk, a->bpage_offsets, a->num_bpages);
		a->num_bpages = 0;
		if (ret < 0)
			return ret;
	}
	if (homa->num_dead)
		homa_rpc_reap(homa, (int)homa->config.reap_limit);
	if (hsk->shutdown) {
		a->id = 0;
		return -ESHUTDOWN;
	}
	if (a->id) {
		rpc = homa_rpc_find_client(homa, hsk, a->id);
		if (!rpc || !(rpc->flags & HOMA_RPC_PRIVATE))
			return -EINVAL;
		if (!(rpc->flags & HOMA_RPC_READY))
			return hsk->shutdown ? -ESHUTDOWN : -EAGAIN;
		return homa_deliver_reap(hsk, rpc, a);
	}
	if (homa_list_empty(&hsk->ready)) {
		/* Nothing to deliver: a reply to the request that acked
		 * an RPC has left by now (homa_end_acked). */
		homa_rpc_end_acked(homa);
		a->id = 0;
		return hsk->shutdown ? -ESHUTDOWN : -EAGAIN;
	}
	rpc = homa_container_of(hsk->ready.next, struct homa_rpc, ready_link);
	return homa_deliver_reap(hsk, rpc, a);
}

void homa_end_acked(struct homa *homa, uint64_t now_ns)
{
	if (homa->acked) {
		homa->now_ns = now_ns;
		homa_rpc_end(homa->acked);
	}
}

/* End one client RPC for homa_abort: silently, or with error for recv. */
static void homa_abort_one(struct homa_rpc *rpc, int error)
{
	rpc->hsk->homa->metrics.v[HOMA_M_rpc_aborts]++;
	if (error)
		homa_rpc_fail(rpc, error);
	else
		homa_rpc_end(rpc);
}

int homa_abort(struct homa_sock *hsk, uint64_t id, int error, uint64_t now_ns)
{
	struct homa *homa = hsk->homa;
	struct homa_list *pos, *tmp;
	struct homa_rpc *rpc;

	homa->now_ns = now_ns;
	if (hsk->shutdown)
		return -ESHUTDOWN;
	if (error < 0 || (id & 1))
		return -EINVAL;
	if (id == 0) {
		homa_list_for_each_safe(pos, tmp, &hsk->rpcs)
		{
			rpc = homa_container_of(pos, struct homa_rpc,
						sock_link);
			if (!(rpc->id & 1))
				homa_abort_one(rpc, error);
		}
		return 0;
	}
	rpc = homa_rpc_find_client(homa, hsk, id);
	if (!rpc)
		return -EINVAL;
	homa_abort_one(rpc, error);
	return 0;
}

static void homa_rpc_view(const struct homa_rpc *rpc, struct homa_rpc_view *v)
{
	const struct homa_msgin *in = &rpc->in;

	memset(v, 0, sizeof(*v));
	v->id = rpc->id;
	v->peer = rpc->peer->addr;
	v->peer_port = rpc->dport;
	v->cookie = rpc->cookie;
	v->tx_length = rpc->out.buf ? rpc->out.length : -1;
	v->tx_sent = rpc->out.next_xmit;
	v->tx_granted = rpc->out.granted;
	v->tx_prio = rpc->out.sched_prio;
	v->rx_length = in->length;
	if (in->length >= 0) {
		v->rx_remaining = in->reasm.bytes_remaining;
		v->rx_gaps = in->reasm.num_gaps;
		v->rx_gap_bytes = homa_reasm_gap_bytes(&in->reasm);
		v->rx_granted = in->grant.granted;
		if (!in->num_bpages && rpc->state == HOMA_RPC_INCOMING)
			v->flags |= HOMA_VIEW_BUF_STALL;
	}
	if (rpc->flags & HOMA_RPC_PRIVATE)
		v->flags |= HOMA_VIEW_PRIVATE;
	if (rpc->flags & HOMA_RPC_READY)
		v->flags |= HOMA_VIEW_RX_READY;
	if (rpc->flags & HOMA_RPC_OVERDUE)
		v->flags |= HOMA_VIEW_OVERDUE;
}

int homa_sock_info(const struct homa_sock *hsk, struct homa_rpc_view *views,
		   int max, uint64_t *avail_bytes)
{
	const struct homa_list *pos;
	int n = 0;

	if (hsk->shutdown)
		return -ESHUTDOWN;
	homa_list_for_each(pos, &hsk->rpcs)
	{
		if (n < max && views)
			homa_rpc_view(homa_container_of(pos, struct homa_rpc,
							sock_link),
				      &views[n]);
		n++;
	}
	if (avail_bytes)
		*avail_bytes = hsk->pool.region
				       ? homa_pool_avail_bytes(&hsk->pool)
				       : 0;
	return n;
}
