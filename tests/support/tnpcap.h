/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tnpcap.h - a reader of packet captures for the interop tests: classic
 * pcap (either byte order, microsecond or nanosecond stamps) and pcapng
 * (section, interface and enhanced packet blocks), Ethernet (optionally
 * one VLAN tag) or raw IP link types. It hands over each IPv4 or IPv6
 * packet of IP protocol 146 (Homa) with its Homa header and payload.
 * Nothing here knows Homa's header layout: the tests decode with wire.c.
 */
#ifndef TNPCAP_H
#define TNPCAP_H

#include <stddef.h>
#include <stdint.h>

#include "homa_core.h"

/* One Homa packet of a capture. Pointers are valid during the callback. */
struct tn_pcap_pkt {
	uint64_t index;	      /* frame number in the file, from 1 */
	uint64_t ts_ns;	      /* capture time, ns since the epoch */
	struct homa_addr src; /* IP source (IPv4-mapped for IPv4) */
	struct homa_addr dst; /* IP destination */
	const uint8_t *homa;  /* the Homa packet (after the IP header) */
	size_t homa_bytes;    /* its length, as the IP header gives it */
};

/* Return 0 to go on, anything else to stop (tn_pcap_read returns it). */
typedef int (*tn_pcap_fn)(void *arg, const struct tn_pcap_pkt *pkt);

/*
 * tn_pcap_read() - call fn for every Homa packet of the capture at path,
 * in file order. Returns the number of Homa packets, fn's nonzero return,
 * or -errno: -ENOENT and the like from opening, -EINVAL for a file that is
 * neither pcap nor pcapng or is cut short inside a record, -ENOTSUP for a
 * link type other than Ethernet or raw IP. Frames that are not Homa
 * (ARP, other protocols) are skipped without error.
 */
int tn_pcap_read(const char *path, tn_pcap_fn fn, void *arg);

#endif /* TNPCAP_H */
