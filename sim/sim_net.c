/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sim_net.c - ports, switches, routing and faults of the simulated
 * network (see sim_net.h for the model).
 *
 * Nodes are numbered hosts first (0 .. H-1), then ToRs, then spines; a
 * packet in flight carries the node it travels to and one embedded
 * arrival event, so forwarding costs one event per hop. A port needs an
 * event of its own only while packets wait behind the one on the wire.
 * Packets come from a free list refilled in slabs, so steady state does
 * not call malloc.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_net.h"

#define SIM_NET_SLAB_PKTS 256
#define SIM_NET_ERR_BYTES 120
/* 8 Tbit/s in bits per ps: link rates must divide it to be exact. */
#define SIM_BITS_PS_TBPS 8000000000000ull

struct sim_pktq {
	struct sim_pkt *head; /* next to send, NULL if empty */
	struct sim_pkt *tail; /* last queued */
};

struct sim_port {
	struct sim_event done;		  /* end of transmission, if waiting */
	struct sim_net *net;		  /* owning network */
	struct sim_pktq q[SIM_NUM_PRIOS]; /* waiting packets by priority */
	uint32_t nonempty;		  /* bit p set iff q[p] has packets */
	uint32_t peer;			  /* node at the far end */
	uint64_t queued_bytes;		  /* wire bytes waiting, bytes */
	uint64_t limit_bytes;	/* buffer for waiting bytes; 0 = inf */
	uint64_t busy_until_ps; /* end of the current transmission */
	uint64_t ps_per_byte;	/* serialization time, ps per byte */
	uint64_t delay_ps;	/* propagation + far-end delay, ps */
	uint8_t kind;		/* enum sim_port_kind */
	bool fifo;		/* ignore priorities (all in q[0]) */
	uint16_t last_dst;	/* receiving host of the last packet sent */
};

struct sim_slab {
	struct sim_slab *next; /* previous slab */
	uint8_t mem[];	       /* SIM_NET_SLAB_PKTS packets */
};

struct sim_net {
	struct sim_topo topo;	     /* shape and timing */
	struct sim_faults faults;    /* fault model */
	struct sim_event_queue *q;   /* the engine */
	sim_net_deliver_fn deliver;  /* hands packets to hosts */
	void *ctx;		     /* for deliver */
	int num_hosts;		     /* racks x hosts_per_rack */
	uint32_t first_tor;	     /* node number of ToR 0 */
	uint32_t first_spine;	     /* node number of spine 0 */
	struct sim_port *ports;	     /* every port, see port_* below */
	struct sim_rng route_rng;    /* spraying */
	struct sim_rng fault_rng;    /* loss, duplication, reordering */
	struct sim_pkt *free_pkts;   /* free list */
	struct sim_slab *slabs;	     /* all packet memory */
	size_t pkt_bytes;	     /* size of one packet incl. data */
	struct sim_net_counters ctr; /* counters */
};

static void net_pkt_arrive(struct sim_event *ev);
static void net_port_done(struct sim_event *ev);

/* ---- port numbering ---- */

static struct sim_port *port_nic(const struct sim_net *net, int host)
{
	return &net->ports[host];
}

static struct sim_port *port_tor_down(const struct sim_net *net, int rack,
				      int i)
{
	return &net->ports[net->num_hosts + rack * net->topo.hosts_per_rack +
			   i];
}

static struct sim_port *port_tor_up(const struct sim_net *net, int rack, int s)
{
	return &net->ports[2 * net->num_hosts + rack * net->topo.spines + s];
}

static struct sim_port *port_spine_down(const struct sim_net *net, int s,
					int rack)
{
	return &net->ports[2 * net->num_hosts +
			   net->topo.racks * net->topo.spines +
			   s * net->topo.racks + rack];
}

static size_t net_num_ports(const struct sim_topo *t, int hosts)
{
	return 2 * (size_t)hosts + 2 * (size_t)t->racks * (size_t)t->spines;
}

/* ---- packets ---- */

static struct sim_pkt *pkt_alloc(struct sim_net *net)
{
	struct sim_pkt *p = net->free_pkts;

	if (!p) {
		struct sim_slab *s;

		s = malloc(sizeof(*s) + SIM_NET_SLAB_PKTS * net->pkt_bytes);
		if (!s)
			return NULL;
		s->next = net->slabs;
		net->slabs = s;
		for (int i = SIM_NET_SLAB_PKTS - 1; i >= 0; i--) {
			p = (struct sim_pkt *)(s->mem + i * net->pkt_bytes);
			p->ev.place = SIM_EVENT_IDLE;
			p->next = net->free_pkts;
			net->free_pkts = p;
		}
		p = net->free_pkts;
	}
	net->free_pkts = p->next;
	sim_event_init(&p->ev, net_pkt_arrive);
	p->net = net;
	p->next = NULL;
	net->ctr.in_flight++;
	return p;
}

static void pkt_free(struct sim_net *net, struct sim_pkt *p)
{
	p->next = net->free_pkts;
	net->free_pkts = p;
	net->ctr.in_flight--;
	net->ctr.in_flight_bytes -= p->len;
}

uint32_t sim_net_wire_bytes(uint32_t len)
{
	uint32_t w = len + HOMA_WIRE_IPV4_BYTES + HOMA_WIRE_ETH_FRAMING_BYTES;

	return w < SIM_MIN_WIRE_BYTES ? SIM_MIN_WIRE_BYTES : w;
}

/* pkt_duplicate() - a copy of p that arrives at arrive_ps. */
static void pkt_duplicate(struct sim_net *net, const struct sim_pkt *p,
			  uint64_t arrive_ps)
{
	struct sim_pkt *c = pkt_alloc(net);

	if (!c)
		return;
	c->sent_ps = p->sent_ps;
	c->wire_bytes = p->wire_bytes;
	c->node = p->node;
	c->flow = p->flow;
	c->len = p->len;
	c->src = p->src;
	c->dst = p->dst;
	c->prio = p->prio;
	c->type = p->type;
	memcpy(c->data, p->data, p->len);
	net->ctr.in_flight_bytes += p->len;
	net->ctr.dup_pkts++;
	net->ctr.dup_bytes += p->len;
	sim_event_schedule(net->q, &c->ev, arrive_ps);
}

/* ---- ports ---- */

/* Put pkt on port's wire now; it reaches the far end after delay_ps. */
static void port_transmit(struct sim_net *net, struct sim_port *port,
			  struct sim_pkt *p, uint64_t now)
{
	uint64_t arrive;

	if (now - p->enq_ps > net->ctr.max_wait_ps[port->kind])
		net->ctr.max_wait_ps[port->kind] = now - p->enq_ps;
	port->busy_until_ps = now + p->wire_bytes * port->ps_per_byte;
	port->last_dst = p->dst;
	net->ctr.tx_wire_bytes[port->kind] += p->wire_bytes;
	if (p->type == HOMA_PKT_DATA)
		net->ctr.tx_data_wire_bytes[port->kind] += p->wire_bytes;
	p->node = port->peer;
	arrive = port->busy_until_ps + port->delay_ps;
	if (port->kind == SIM_PORT_TOR_DOWN) {
		const struct sim_faults *f = &net->faults;

		if (sim_rng_chance(&net->fault_rng, f->dup_ppb))
			pkt_duplicate(
				net, p,
				arrive + sim_rng_below(&net->fault_rng,
						       f->dup_window_ps + 1));
		if (sim_rng_chance(&net->fault_rng, f->reorder_ppb)) {
			net->ctr.reordered++;
			arrive += sim_rng_below(&net->fault_rng,
						f->reorder_window_ps + 1);
		}
	}
	sim_event_schedule(net->q, &p->ev, arrive);
}

static void port_enqueue(struct sim_net *net, struct sim_port *port,
			 struct sim_pkt *p)
{
	uint64_t now = net->q->now_ps;
	struct sim_pktq *pq;
	int prio;

	p->enq_ps = now;
	if (!port->nonempty && port->busy_until_ps <= now) {
		port_transmit(net, port, p, now);
		return;
	}
	if (port->limit_bytes &&
	    port->queued_bytes + p->wire_bytes > port->limit_bytes) {
		net->ctr.drop_pkts++;
		net->ctr.drop_bytes += p->len;
		net->ctr.drops_by_kind[port->kind]++;
		pkt_free(net, p);
		return;
	}
	prio = port->fifo ? 0 : p->prio;
	pq = &port->q[prio];
	if (pq->tail)
		pq->tail->next = p;
	else
		pq->head = p;
	pq->tail = p;
	port->nonempty |= 1u << prio;
	port->queued_bytes += p->wire_bytes;
	if (port->queued_bytes > net->ctr.max_queue_bytes[port->kind])
		net->ctr.max_queue_bytes[port->kind] = port->queued_bytes;
	if (!sim_event_pending(&port->done))
		sim_event_schedule(net->q, &port->done, port->busy_until_ps);
}

static struct sim_pkt *port_dequeue(struct sim_port *port)
{
	int prio = 31 - __builtin_clz(port->nonempty);
	struct sim_pktq *pq = &port->q[prio];
	struct sim_pkt *p = pq->head;

	pq->head = p->next;
	if (!pq->head) {
		pq->tail = NULL;
		port->nonempty &= ~(1u << prio);
	}
	p->next = NULL;
	port->queued_bytes -= p->wire_bytes;
	return p;
}

static void net_port_done(struct sim_event *ev)
{
	struct sim_port *port = (struct sim_port *)ev;
	struct sim_net *net = port->net;

	if (!port->nonempty)
		return;
	port_transmit(net, port, port_dequeue(port), net->q->now_ps);
	if (port->nonempty)
		sim_event_schedule(net->q, &port->done, port->busy_until_ps);
}

/* ---- forwarding ---- */

static void net_pkt_arrive(struct sim_event *ev)
{
	struct sim_pkt *p = (struct sim_pkt *)ev;
	struct sim_net *net = p->net;
	int hpr = net->topo.hosts_per_rack;
	int dst_rack = p->dst / hpr;
	struct sim_port *port;

	if (p->node < (uint32_t)net->num_hosts) {
		uint64_t lat = net->q->now_ps - p->sent_ps;

		if (lat > net->ctr.max_latency_ps)
			net->ctr.max_latency_ps = lat;
		if (net->deliver(net->ctx, p)) {
			net->ctr.deliver_pkts++;
			net->ctr.deliver_bytes += p->len;
		} else {
			net->ctr.vanish_pkts++;
			net->ctr.vanish_bytes += p->len;
		}
		pkt_free(net, p);
		return;
	}
	if (p->node < net->first_spine) {
		int rack = (int)(p->node - net->first_tor);
		int s;

		if (rack == dst_rack) {
			port = port_tor_down(net, rack, p->dst % hpr);
		} else {
			if (net->topo.route == SIM_ROUTE_HASH)
				s = (int)(p->flow % (uint32_t)net->topo.spines);
			else
				s = (int)sim_rng_below(
					&net->route_rng,
					(uint64_t)net->topo.spines);
			port = port_tor_up(net, rack, s);
		}
	} else {
		port = port_spine_down(net, (int)(p->node - net->first_spine),
				       dst_rack);
	}
	port_enqueue(net, port, p);
}

/* ---- hosts' side ---- */

void sim_net_addr(int host, struct homa_addr *a)
{
	const uint8_t v4[4] = { 10, 0, (uint8_t)(host >> 8), (uint8_t)host };

	homa_addr_set_v4(a, v4);
}

int sim_net_host_of(const struct sim_net *net, const struct homa_addr *a)
{
	static const uint8_t prefix[13] = { 0, 0, 0, 0,	   0,	 0, 0,
					    0, 0, 0, 0xff, 0xff, 10 };
	int host;

	if (memcmp(a->a, prefix, sizeof(prefix)) != 0 || a->a[13] != 0)
		return -1;
	host = a->a[14] << 8 | a->a[15];
	return host < net->num_hosts ? host : -1;
}

static uint32_t net_flow_hash(int src, int dst, uint16_t sport, uint16_t dport)
{
	uint64_t x = (uint64_t)src << 48 | (uint64_t)dst << 32 |
		     (uint64_t)sport << 16 | dport;

	x ^= x >> 33;
	x *= 0xFF51AFD7ED558CCDull;
	x ^= x >> 33;
	x *= 0xC4CEB9FE1A85EC53ull;
	x ^= x >> 33;
	return (uint32_t)x;
}

void sim_net_send(struct sim_net *net, int src, const struct homa_out_pkt *o)
{
	uint32_t len = o->hdr_bytes + o->payload_bytes;
	int dst = sim_net_host_of(net, o->dst);
	struct sim_pkt *p;

	net->ctr.sent_pkts++;
	net->ctr.sent_bytes += len;
	if (o->type >= HOMA_PKT_TYPE_MIN && o->type <= HOMA_PKT_TYPE_MAX)
		net->ctr.sent_by_type[o->type - HOMA_PKT_TYPE_MIN]++;
	net->ctr.sent_by_prio[o->priority & (SIM_NUM_PRIOS - 1)]++;
	if (dst < 0 || len > net->topo.mtu - HOMA_WIRE_IPV4_BYTES) {
		net->ctr.unroutable++;
		return;
	}
	if (sim_rng_chance(&net->fault_rng, net->faults.loss_ppb)) {
		net->ctr.lost_pkts++;
		net->ctr.lost_bytes += len;
		return;
	}
	p = pkt_alloc(net);
	if (!p) {
		net->q->error = -ENOMEM;
		return;
	}
	p->sent_ps = net->q->now_ps;
	p->wire_bytes = sim_net_wire_bytes(len);
	p->flow = net_flow_hash(src, dst, o->sport, o->dport);
	p->len = (uint16_t)len;
	net->ctr.in_flight_bytes += len;
	p->src = (uint16_t)src;
	p->dst = (uint16_t)dst;
	p->prio = o->priority & 7;
	p->type = o->type;
	memcpy(p->data, o->hdr, o->hdr_bytes);
	if (o->payload_bytes)
		memcpy(p->data + o->hdr_bytes, o->payload, o->payload_bytes);
	port_enqueue(net, port_nic(net, src), p);
}

void sim_net_flush_nic(struct sim_net *net, int host)
{
	struct sim_port *port = port_nic(net, host);

	while (port->nonempty) {
		struct sim_pkt *p = port_dequeue(port);

		net->ctr.flush_pkts++;
		net->ctr.flush_bytes += p->len;
		pkt_free(net, p);
	}
	sim_event_cancel(net->q, &port->done);
}

/* ---- set-up ---- */

static int topo_check(const struct sim_topo *t, char *err)
{
	const char *why = NULL;
	uint64_t hosts = (uint64_t)t->racks * (uint64_t)t->hosts_per_rack;

	if (t->racks < 1 || t->hosts_per_rack < 1 || t->spines < 0)
		why = "racks and hosts per rack must be >= 1, spines >= 0";
	else if (hosts < 2 || hosts > 65535)
		why = "the network needs 2..65535 hosts";
	else if (t->racks > 1 && t->spines < 1)
		why = "more than one rack needs at least one spine";
	else if (!t->host_bps || SIM_BITS_PS_TBPS % t->host_bps ||
		 (t->racks > 1 &&
		  (!t->fabric_bps || SIM_BITS_PS_TBPS % t->fabric_bps)))
		why = "link rates must divide 8 Tbit/s (e.g. 1, 10, 25, 40, "
		      "100 Gbit/s)";
	else if (t->mtu < 576 || t->mtu > 65535)
		why = "mtu must be 576..65535";
	if (why && err)
		snprintf(err, SIM_NET_ERR_BYTES, "%s", why);
	return why ? -EINVAL : 0;
}

static void port_setup(struct sim_net *net, struct sim_port *port, int kind,
		       uint32_t peer, uint64_t bps, uint64_t far_delay_ps)
{
	const struct sim_topo *t = &net->topo;

	sim_event_init(&port->done, net_port_done);
	port->net = net;
	port->kind = (uint8_t)kind;
	port->peer = peer;
	port->ps_per_byte = SIM_BITS_PS_TBPS / bps;
	port->delay_ps = t->prop_ps + far_delay_ps;
	port->limit_bytes = kind == SIM_PORT_NIC ? 0 : t->buffer_bytes;
	port->fifo = kind == SIM_PORT_NIC && t->nic_fifo;
}

static void net_build(struct sim_net *net)
{
	const struct sim_topo *t = &net->topo;
	int h, r, s;

	for (h = 0; h < net->num_hosts; h++)
		port_setup(net, port_nic(net, h), SIM_PORT_NIC,
			   net->first_tor + (uint32_t)(h / t->hosts_per_rack),
			   t->host_bps, t->host_tx_ps + t->switch_ps);
	for (r = 0; r < t->racks; r++) {
		for (h = 0; h < t->hosts_per_rack; h++)
			port_setup(net, port_tor_down(net, r, h),
				   SIM_PORT_TOR_DOWN,
				   (uint32_t)(r * t->hosts_per_rack + h),
				   t->host_bps, t->host_rx_ps);
		for (s = 0; s < t->spines; s++) {
			port_setup(net, port_tor_up(net, r, s), SIM_PORT_TOR_UP,
				   net->first_spine + (uint32_t)s,
				   t->fabric_bps, t->switch_ps);
			port_setup(net, port_spine_down(net, s, r),
				   SIM_PORT_SPINE_DOWN,
				   net->first_tor + (uint32_t)r, t->fabric_bps,
				   t->switch_ps);
		}
	}
}

int sim_net_create(const struct sim_topo *topo, struct sim_event_queue *q,
		   uint64_t seed, sim_net_deliver_fn deliver, void *ctx,
		   struct sim_net **out, char *err)
{
	struct sim_net *net;
	int ret;

	ret = topo_check(topo, err);
	if (ret)
		return ret;
	net = calloc(1, sizeof(*net));
	if (!net)
		return -ENOMEM;
	net->topo = *topo;
	if (topo->racks == 1)
		net->topo.spines = 0;
	net->q = q;
	net->deliver = deliver;
	net->ctx = ctx;
	net->num_hosts = topo->racks * topo->hosts_per_rack;
	net->first_tor = (uint32_t)net->num_hosts;
	net->first_spine = net->first_tor + (uint32_t)topo->racks;
	net->pkt_bytes = (sizeof(struct sim_pkt) + topo->mtu + 7) & ~(size_t)7;
	net->ports = calloc(net_num_ports(&net->topo, net->num_hosts),
			    sizeof(*net->ports));
	if (!net->ports) {
		free(net);
		return -ENOMEM;
	}
	sim_rng_seed(&net->route_rng, seed, 1);
	sim_rng_seed(&net->fault_rng, seed, 2);
	net_build(net);
	*out = net;
	return 0;
}

void sim_net_destroy(struct sim_net *net)
{
	if (!net)
		return;
	for (size_t i = 0; i < net_num_ports(&net->topo, net->num_hosts); i++)
		sim_event_cancel(net->q, &net->ports[i].done);
	while (net->slabs) {
		struct sim_slab *s = net->slabs;

		/* Packets still scheduled must leave the engine's heap. */
		for (int i = 0; i < SIM_NET_SLAB_PKTS; i++) {
			struct sim_pkt *p =
				(struct sim_pkt *)(s->mem + i * net->pkt_bytes);

			if (sim_event_pending(&p->ev))
				sim_event_cancel(net->q, &p->ev);
		}
		net->slabs = s->next;
		free(s);
	}
	free(net->ports);
	free(net);
}

void sim_net_set_faults(struct sim_net *net, const struct sim_faults *f)
{
	net->faults = *f;
}

int sim_net_num_hosts(const struct sim_net *net)
{
	return net->num_hosts;
}

const struct sim_topo *sim_net_topo(const struct sim_net *net)
{
	return &net->topo;
}

const struct sim_net_counters *sim_net_counters(const struct sim_net *net)
{
	return &net->ctr;
}

void sim_net_path(const struct sim_net *net, struct sim_path *path)
{
	const struct sim_net *m = net;
	const struct sim_port *hop[SIM_PATH_MAX_HOPS];
	int k = 0;

	hop[k++] = port_nic(m, 0);
	if (net->topo.racks > 1) {
		hop[k++] = port_tor_up(m, 0, 0);
		hop[k++] = port_spine_down(m, 0, 1);
		hop[k++] = port_tor_down(m, 1, 0);
	} else {
		hop[k++] = port_tor_down(m, 0, 1);
	}
	path->hops = k;
	for (int i = 0; i < k; i++) {
		path->ps_per_byte[i] = hop[i]->ps_per_byte;
		path->delay_ps[i] = hop[i]->delay_ps;
	}
}

/* port_down_of() - the ToR port toward host. */
static const struct sim_port *port_down_of(const struct sim_net *net, int host)
{
	return port_tor_down(net, host / net->topo.hosts_per_rack,
			     host % net->topo.hosts_per_rack);
}

void sim_net_host_ports(const struct sim_net *net, int host, bool *up_busy,
			bool *down_busy)
{
	uint64_t now = net->q->now_ps;
	const struct sim_port *up = port_nic(net, host);
	const struct sim_port *down = port_down_of(net, host);

	*up_busy = up->nonempty || up->busy_until_ps > now;
	*down_busy = down->nonempty || down->busy_until_ps > now;
}

int sim_net_nic_last_dst(const struct sim_net *net, int host)
{
	return port_nic(net, host)->last_dst;
}

uint64_t sim_net_down_queued(const struct sim_net *net, int host)
{
	return port_down_of(net, host)->queued_bytes;
}
