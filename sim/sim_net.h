/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sim_net.h - the simulated network of homa-sim: hosts' NICs, links and
 * output-queued switches in a leaf-spine topology, with faults.
 *
 * Every link direction is an output port: a NIC (host to ToR), a ToR down
 * port (ToR to host), a ToR up port (ToR to spine) or a spine down port
 * (spine to ToR). A port serializes one packet at a time at its link's
 * rate and holds waiting packets in 8 strict-priority FIFO queues chosen
 * by the packet's Homa priority (7 is served first); a switch port drops
 * a packet that would push its waiting bytes over the buffer size. ToRs
 * forward to a spine chosen per packet at random (spraying) or by a hash
 * of the flow. Store and forward: a packet reaches the next node after
 * its serialization, the propagation delay and a fixed per-hop delay
 * (switch latency, or the host's software delay at the ends). Those fixed
 * delays are added to the arrival time rather than modelled as events:
 * a constant delay in front of a queue only shifts its timeline.
 *
 * Faults: loss is drawn once per packet as it enters the sender's NIC;
 * duplication and reordering act on the last hop (a copy, or an extra
 * delay, before the receiving host sees the packet). Packets for a host
 * that is down vanish on arrival; a crash flushes the host's NIC queue.
 */
#ifndef SIM_NET_H
#define SIM_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "homa_core.h"
#include "sim_event.h"
#include "sim_rng.h"
#include "wire.h"

/* One switch queue per network priority. */
#define SIM_NUM_PRIOS HOMA_MAX_PRIORITIES
/* Bytes on the wire besides the Homa bytes: the IPv4 header and Ethernet
 * framing (wire.h: HOMA_WIRE_IPV4_BYTES + HOMA_WIRE_ETH_FRAMING_BYTES, 62
 * in all; the 802.1Q tag carries the priority), as the core's NIC model
 * charges. A 64-byte minimum frame plus preamble and gap: */
#define SIM_MIN_WIRE_BYTES 84

enum sim_route {
	SIM_ROUTE_SPRAY = 0, /* each packet to a random spine */
	SIM_ROUTE_HASH = 1,  /* each flow (addresses, ports) to one spine */
};

enum sim_port_kind {
	SIM_PORT_NIC = 0,	 /* host -> ToR */
	SIM_PORT_TOR_DOWN = 1,	 /* ToR -> host */
	SIM_PORT_TOR_UP = 2,	 /* ToR -> spine */
	SIM_PORT_SPINE_DOWN = 3, /* spine -> ToR */
	SIM_PORT_KINDS = 4,
};

/* The shape and timing of the network. */
struct sim_topo {
	int racks;	       /* ToR switches, >= 1 */
	int hosts_per_rack;    /* hosts under each ToR, >= 1 */
	int spines;	       /* spine switches; 0 allowed with 1 rack */
	uint64_t host_bps;     /* host <-> ToR link rate, bit/s */
	uint64_t fabric_bps;   /* ToR <-> spine link rate, bit/s */
	uint64_t prop_ps;      /* propagation delay of every link, ps */
	uint64_t switch_ps;    /* forwarding latency of each switch, ps */
	uint64_t host_tx_ps;   /* sender software delay before the NIC, ps */
	uint64_t host_rx_ps;   /* receiver software delay after the NIC, ps */
	uint64_t buffer_bytes; /* switch port buffer, bytes; 0 = unlimited */
	int route;	       /* enum sim_route */
	bool nic_fifo;	       /* NIC: one FIFO instead of 8 priorities */
	uint32_t mtu;	       /* IP MTU, bytes (the core's config.mtu) */
};

/* The fault model. Probabilities in parts per billion. */
struct sim_faults {
	uint64_t loss_ppb;	    /* packets lost at the sender's NIC */
	uint64_t dup_ppb;	    /* packets delivered twice */
	uint64_t dup_window_ps;	    /* the copy lags by 0..window, ps */
	uint64_t reorder_ppb;	    /* packets given an extra delay */
	uint64_t reorder_window_ps; /* that delay is 0..window, ps */
};

/* One packet in the network. */
struct sim_pkt {
	struct sim_event ev;  /* arrival at node */
	struct sim_net *net;  /* owning network */
	struct sim_pkt *next; /* link in a port queue or the free list */
	uint64_t sent_ps;     /* when the core handed it to the NIC, ps */
	uint64_t enq_ps;      /* when it entered its current port, ps */
	uint32_t wire_bytes;  /* bytes it occupies on a link */
	uint32_t node;	      /* node it is travelling to */
	uint32_t flow;	      /* flow hash (SIM_ROUTE_HASH) */
	uint16_t len;	      /* Homa bytes at data */
	uint16_t src;	      /* sending host */
	uint16_t dst;	      /* receiving host */
	uint8_t prio;	      /* network priority, 0..7, 7 served first */
	uint8_t type;	      /* Homa packet type byte */
	uint8_t data[];	      /* Homa header and payload */
};

/* Packet and byte counters (bytes are Homa bytes, as the cores see). */
struct sim_net_counters {
	uint64_t sent_pkts;	  /* handed to the network by cores */
	uint64_t sent_bytes;	  /* their Homa bytes */
	uint64_t lost_pkts;	  /* dropped by the loss model */
	uint64_t lost_bytes;	  /* their bytes */
	uint64_t dup_pkts;	  /* copies created by the dup model */
	uint64_t dup_bytes;	  /* their bytes */
	uint64_t reordered;	  /* packets given an extra delay */
	uint64_t drop_pkts;	  /* dropped by full switch buffers */
	uint64_t drop_bytes;	  /* their bytes */
	uint64_t vanish_pkts;	  /* arrived at a host that is down */
	uint64_t vanish_bytes;	  /* their bytes */
	uint64_t flush_pkts;	  /* flushed from a crashed host's NIC */
	uint64_t flush_bytes;	  /* their bytes */
	uint64_t unroutable;	  /* addressed to no host (never expected) */
	uint64_t deliver_pkts;	  /* passed to a host's core */
	uint64_t deliver_bytes;	  /* their bytes */
	uint64_t in_flight;	  /* packets allocated right now */
	uint64_t in_flight_bytes; /* their Homa bytes */
	uint64_t max_latency_ps;  /* longest NIC-to-host trip, ps */
	uint64_t sent_by_type[HOMA_PKT_TYPE_COUNT]; /* by type - 0x10 */
	uint64_t sent_by_prio[SIM_NUM_PRIOS];	    /* by network priority */
	uint64_t tx_wire_bytes[SIM_PORT_KINDS]; /* wire bytes sent, by port */
	uint64_t tx_data_wire_bytes[SIM_PORT_KINDS]; /* DATA only, bytes */
	uint64_t drops_by_kind[SIM_PORT_KINDS];	     /* buffer drops, by port */
	uint64_t max_queue_bytes[SIM_PORT_KINDS];    /* deepest queue seen */
	uint64_t max_wait_ps[SIM_PORT_KINDS];	     /* longest queueing, ps */
};

/* The fixed path between two hosts in different racks (or, with one
 * rack, in the same rack), for the best-case time. */
#define SIM_PATH_MAX_HOPS 4
struct sim_path {
	int hops;				 /* links on the path */
	uint64_t ps_per_byte[SIM_PATH_MAX_HOPS]; /* serialization, ps/byte */
	uint64_t delay_ps[SIM_PATH_MAX_HOPS];	 /* fixed delay after it, ps */
};

/* Deliver pkt to its destination host's core; false if the host is down
 * (the network then counts it as vanished). Must not keep pkt. */
typedef bool (*sim_net_deliver_fn)(void *ctx, const struct sim_pkt *pkt);

struct sim_net;

/*
 * sim_net_create() - the network described by topo, on queue q, with
 * random streams derived from seed. Errors: -EINVAL (bad topology: the
 * message in err, 120 bytes), -ENOMEM.
 */
int sim_net_create(const struct sim_topo *topo, struct sim_event_queue *q,
		   uint64_t seed, sim_net_deliver_fn deliver, void *ctx,
		   struct sim_net **out, char *err);
/* sim_net_destroy() - free everything, including packets in flight. */
void sim_net_destroy(struct sim_net *net);

void sim_net_set_faults(struct sim_net *net, const struct sim_faults *f);
int sim_net_num_hosts(const struct sim_net *net);
const struct sim_topo *sim_net_topo(const struct sim_net *net);
const struct sim_net_counters *sim_net_counters(const struct sim_net *net);

/* sim_net_addr() - the address of host (::ffff:10.0.h.h). */
void sim_net_addr(int host, struct homa_addr *a);
/* sim_net_host_of() - host index of address a, or -1. */
int sim_net_host_of(const struct sim_net *net, const struct homa_addr *a);

/* sim_net_send() - host src's core transmits pkt (from its xmit
 * callback). Copies the bytes; never calls into a core. */
void sim_net_send(struct sim_net *net, int src, const struct homa_out_pkt *p);
/* sim_net_flush_nic() - drop the packets waiting in host's NIC. */
void sim_net_flush_nic(struct sim_net *net, int host);

/* sim_net_wire_bytes() - link bytes of a packet with len Homa bytes. */
uint32_t sim_net_wire_bytes(uint32_t len);
/* sim_net_path() - the longest host-to-host path of the topology. */
void sim_net_path(const struct sim_net *net, struct sim_path *path);

/* For the idle diagnostic (sim_diag): sim_net_host_ports() - whether
 * host's NIC and its ToR's port toward it are busy (transmitting or
 * holding packets) now; sim_net_nic_last_dst() - the receiving host of
 * the last packet host's NIC put on the wire (0 if none yet);
 * sim_net_down_queued() - the wire bytes waiting in the ToR's port
 * toward host (returned). */
void sim_net_host_ports(const struct sim_net *net, int host, bool *up_busy,
			bool *down_busy);
int sim_net_nic_last_dst(const struct sim_net *net, int host);
uint64_t sim_net_down_queued(const struct sim_net *net, int host);

#endif /* SIM_NET_H */
