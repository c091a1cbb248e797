/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tpcap.c - writing test captures in memory (see tpcap.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <netinet/in.h>

#include "tpcap.h"

void tpcap_put(struct tpcap_file *f, const void *p, size_t n)
{
	assert_true(f->n + n <= sizeof(f->d));
	memcpy(f->d + f->n, p, n);
	f->n += n;
}

void tpcap_u16(struct tpcap_file *f, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	if (f->be) {
		b[0] = (uint8_t)(v >> 8);
		b[1] = (uint8_t)v;
	}
	tpcap_put(f, b, 2);
}

void tpcap_u32(struct tpcap_file *f, uint32_t v)
{
	tpcap_u16(f, (uint16_t)(f->be ? v >> 16 : v));
	tpcap_u16(f, (uint16_t)(f->be ? v : v >> 16));
}

/* Patch a 32-bit field at off in the file's byte order. */
void tpcap_set32(struct tpcap_file *f, size_t off, uint32_t v)
{
	size_t n = f->n;

	f->n = off;
	tpcap_u32(f, v);
	f->n = n;
}

void tpcap_be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* ---- frames ---- */

/* Homa bytes: 0, 1, 2, ... so that a test sees which ones it got. */
size_t tpcap_homa(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)i;
	return n;
}

/* An IPv4 packet of protocol proto carrying n bytes after its header. */
size_t tpcap_ipv4(uint8_t *p, uint8_t proto, size_t n, uint8_t tos,
		  uint16_t frag)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	p[1] = tos;
	tpcap_be16(p + 2, (uint32_t)(20 + n));
	tpcap_be16(p + 6, frag);
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, "\x0a\x4d\x00\x01", 4);
	memcpy(p + 16, "\x0a\x4d\x00\x02", 4);
	return 20 + tpcap_homa(p + 20, n);
}

/* An IPv6 packet; with ext, a hop-by-hop options header first. */
size_t tpcap_ipv6(uint8_t *p, uint8_t proto, size_t n, bool ext)
{
	size_t hdr = ext ? 48 : 40;

	memset(p, 0, hdr);
	p[0] = 0x6a; /* traffic class 0xa5 */
	p[1] = 0x50;
	tpcap_be16(p + 4, (uint32_t)(hdr - 40 + n));
	p[6] = ext ? 0 : proto;
	p[7] = 64;
	p[8] = 0xfd;
	p[23] = 1;
	p[24] = 0xfd;
	p[39] = 2;
	if (ext)
		p[40] = proto; /* next header; length 0: 8 bytes */
	return hdr + tpcap_homa(p + hdr, n);
}

/* A UDP datagram inside IPv4. */
size_t tpcap_udp4(uint8_t *p, size_t n)
{
	size_t len = tpcap_ipv4(p, IPPROTO_UDP, 8 + n, 0, 0);

	tpcap_be16(p + 20, 40000);
	tpcap_be16(p + 22, 4000);
	tpcap_be16(p + 24, (uint32_t)(8 + n));
	tpcap_homa(p + 28, n);
	return len;
}

/* An Ethernet header with ntags VLAN tags before the EtherType. */
size_t tpcap_eth(uint8_t *p, uint16_t type, int ntags)
{
	size_t off = 12;

	memset(p, 0x11, 12);
	for (int i = 0; i < ntags; i++, off += 4) {
		tpcap_be16(p + off, i ? 0x8100 : 0x88a8);
		tpcap_be16(p + off + 2, 7);
	}
	tpcap_be16(p + off, type);
	return off + 2;
}

/* ---- files ---- */

void tpcap_classic(struct tpcap_file *f, bool be, bool ns, uint32_t link)
{
	f->n = 0;
	f->be = be;
	tpcap_u32(f, ns ? 0xa1b23c4d : 0xa1b2c3d4);
	tpcap_u16(f, 2);
	tpcap_u16(f, 4);
	tpcap_u32(f, 0);
	tpcap_u32(f, 0);
	tpcap_u32(f, 262144);
	tpcap_u32(f, link);
}

void tpcap_record(struct tpcap_file *f, uint32_t sec, uint32_t frac,
		  const uint8_t *p, uint32_t caplen)
{
	tpcap_u32(f, sec);
	tpcap_u32(f, frac);
	tpcap_u32(f, caplen);
	tpcap_u32(f, caplen);
	tpcap_put(f, p, caplen);
}

/* A pcapng block: type, length, body (padded), length. */
void tpcap_block(struct tpcap_file *f, uint32_t type, const void *body,
		 size_t n)
{
	static const uint8_t pad[4];
	uint32_t total = (uint32_t)(12 + ((n + 3) & ~(size_t)3));

	tpcap_u32(f, type);
	tpcap_u32(f, total);
	tpcap_put(f, body, n);
	tpcap_put(f, pad, (4 - n % 4) % 4);
	tpcap_u32(f, total);
}

void tpcap_shb(struct tpcap_file *f, bool be)
{
	f->be = be;
	tpcap_u32(f, 0x0a0d0d0a);
	tpcap_u32(f, 28);
	tpcap_u32(f, 0x1a2b3c4d);
	tpcap_u16(f, 1);
	tpcap_u16(f, 0);
	tpcap_u32(f, 0xffffffff); /* section length: unknown */
	tpcap_u32(f, 0xffffffff);
	tpcap_u32(f, 28);
}

/* An interface description; tsresol < 0: no if_tsresol option. */
void tpcap_idb(struct tpcap_file *f, uint16_t link, int tsresol)
{
	size_t start = f->n;

	tpcap_u32(f, 1);
	tpcap_u32(f, 0);
	tpcap_u16(f, link);
	tpcap_u16(f, 0);
	tpcap_u32(f, 262144);
	if (tsresol >= 0) {
		uint8_t v[4] = { (uint8_t)tsresol };

		tpcap_u16(f, 9);
		tpcap_u16(f, 1);
		tpcap_put(f, v, 4);
		tpcap_u16(f, 0); /* opt_endofopt */
		tpcap_u16(f, 0);
	}
	tpcap_u32(f, (uint32_t)(f->n + 4 - start));
	tpcap_set32(f, start + 4, (uint32_t)(f->n - start));
}

void tpcap_epb(struct tpcap_file *f, uint32_t iface, uint64_t ticks,
	       const uint8_t *p, uint32_t caplen)
{
	static const uint8_t pad[4];
	size_t start = f->n;

	tpcap_u32(f, 6);
	tpcap_u32(f, 0);
	tpcap_u32(f, iface);
	tpcap_u32(f, (uint32_t)(ticks >> 32));
	tpcap_u32(f, (uint32_t)ticks);
	tpcap_u32(f, caplen);
	tpcap_u32(f, caplen);
	tpcap_put(f, p, caplen);
	tpcap_put(f, pad, (4 - caplen % 4) % 4);
	tpcap_u32(f, (uint32_t)(f->n + 4 - start));
	tpcap_set32(f, start + 4, (uint32_t)(f->n - start));
}
