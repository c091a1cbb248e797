/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tpcap.h - writing captures byte by byte in memory for test_homa_pcap:
 * classic pcap and pcapng in either byte order, and the frames in them
 * (Ethernet with VLAN tags, IPv4, IPv6 with an options header, UDP).
 * Homa bytes are 0, 1, 2, ... so that a test sees which ones it got.
 */
#ifndef TPCAP_H
#define TPCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TPCAP_FILE_BYTES (64 * 1024) /* bytes of a test capture, at most */

/* A capture being written. */
struct tpcap_file {
	uint8_t d[TPCAP_FILE_BYTES]; /* its bytes */
	size_t n;		     /* bytes written */
	bool be;		     /* fields big-endian */
};

/* Bytes appended in the file's byte order (put: as they are); set32
 * overwrites the 32-bit field at off. A full file fails the test. */
void tpcap_put(struct tpcap_file *f, const void *p, size_t n);
void tpcap_u16(struct tpcap_file *f, uint16_t v);
void tpcap_u32(struct tpcap_file *f, uint32_t v);
void tpcap_set32(struct tpcap_file *f, size_t off, uint32_t v);

/* A 16-bit field in network byte order at p. */
void tpcap_be16(uint8_t *p, uint32_t v);

/* Frames written at p; each returns its length in bytes. n Homa bytes
 * (0, 1, 2, ...) follow the headers: tpcap_homa writes just them. IPv4:
 * 10.77.0.1 to 10.77.0.2, flags and fragment offset frag. IPv6:
 * fd00::1 to fd00::2, traffic class 0xa5, with ext an 8-byte hop-by-hop
 * header first. tpcap_udp4: a UDP datagram in IPv4, ports 40000, 4000.
 * tpcap_eth: an Ethernet header with ntags 802.1ad/802.1Q tags. */
size_t tpcap_homa(uint8_t *p, size_t n);
size_t tpcap_ipv4(uint8_t *p, uint8_t proto, size_t n, uint8_t tos,
		  uint16_t frag);
size_t tpcap_ipv6(uint8_t *p, uint8_t proto, size_t n, bool ext);
size_t tpcap_udp4(uint8_t *p, size_t n);
size_t tpcap_eth(uint8_t *p, uint16_t type, int ntags);

/* Classic pcap: a new file's header (us or ns stamps), then records. */
void tpcap_classic(struct tpcap_file *f, bool be, bool ns, uint32_t link);
void tpcap_record(struct tpcap_file *f, uint32_t sec, uint32_t frac,
		  const uint8_t *p, uint32_t caplen);

/* pcapng blocks appended: any block (its body padded), a section header
 * (which sets the byte order of what follows), an interface (tsresol < 0:
 * no if_tsresol option), an enhanced packet. */
void tpcap_block(struct tpcap_file *f, uint32_t type, const void *body,
		 size_t n);
void tpcap_shb(struct tpcap_file *f, bool be);
void tpcap_idb(struct tpcap_file *f, uint16_t link, int tsresol);
void tpcap_epb(struct tpcap_file *f, uint32_t iface, uint64_t ticks,
	       const uint8_t *p, uint32_t caplen);

#endif /* TPCAP_H */
