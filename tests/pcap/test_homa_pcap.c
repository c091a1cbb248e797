/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_homa_pcap.c - the capture reader (tools/pcap/homa_pcap.c) on
 * captures built here byte by byte: classic pcap in both byte orders and
 * stamp units, pcapng sections of either byte order, every link type the
 * reader knows, Homa over IP and over UDP; then damaged files, each with
 * the errno it must give, every truncated prefix of a valid file, and
 * every truncated prefix of a frame's headers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <netinet/in.h>

#include "homa.h"
#include "homa_pcap.h"

#define T_CAP	     (HOMA_PCAP_MAX_BLOCK + 4096) /* bytes of a test file */
#define T_MAX_PKTS   16				  /* packets one read keeps */
#define T_HOMA_BYTES 60 /* Homa bytes of our packets */
#define T_LINK_ETH   1
#define T_LINK_RAW   101
#define T_LINK_SLL   113
#define T_LINK_SLL2  276
#define T_LINK_NULL  0
#define T_LINK_IPV4  228
#define T_LINK_IPV6  229
#define T_LINK_OTHER 147 /* a user link type the reader does not know */

/* A capture being written. */
struct t_file {
	uint8_t d[T_CAP]; /* its bytes */
	size_t n;	  /* bytes written */
	bool be;	  /* fields big-endian */
};

static void t_put(struct t_file *f, const void *p, size_t n)
{
	assert_true(f->n + n <= sizeof(f->d));
	memcpy(f->d + f->n, p, n);
	f->n += n;
}

static void t_u16(struct t_file *f, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	if (f->be) {
		b[0] = (uint8_t)(v >> 8);
		b[1] = (uint8_t)v;
	}
	t_put(f, b, 2);
}

static void t_u32(struct t_file *f, uint32_t v)
{
	t_u16(f, (uint16_t)(f->be ? v >> 16 : v));
	t_u16(f, (uint16_t)(f->be ? v : v >> 16));
}

/* Patch a 32-bit field at off in the file's byte order. */
static void t_set32(struct t_file *f, size_t off, uint32_t v)
{
	size_t n = f->n;

	f->n = off;
	t_u32(f, v);
	f->n = n;
}

static void t_be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* ---- frames ---- */

/* Homa bytes: 0, 1, 2, ... so that a test sees which ones it got. */
static size_t t_homa(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)i;
	return n;
}

/* An IPv4 packet of protocol proto carrying n bytes after its header. */
static size_t t_ipv4(uint8_t *p, uint8_t proto, size_t n, uint8_t tos,
		     uint16_t frag)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	p[1] = tos;
	t_be16(p + 2, (uint32_t)(20 + n));
	t_be16(p + 6, frag);
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, "\x0a\x4d\x00\x01", 4);
	memcpy(p + 16, "\x0a\x4d\x00\x02", 4);
	return 20 + t_homa(p + 20, n);
}

/* An IPv6 packet; with ext, a hop-by-hop options header first. */
static size_t t_ipv6(uint8_t *p, uint8_t proto, size_t n, bool ext)
{
	size_t hdr = ext ? 48 : 40;

	memset(p, 0, hdr);
	p[0] = 0x6a; /* traffic class 0xa5 */
	p[1] = 0x50;
	t_be16(p + 4, (uint32_t)(hdr - 40 + n));
	p[6] = ext ? 0 : proto;
	p[7] = 64;
	p[8] = 0xfd;
	p[23] = 1;
	p[24] = 0xfd;
	p[39] = 2;
	if (ext)
		p[40] = proto; /* next header; length 0: 8 bytes */
	return hdr + t_homa(p + hdr, n);
}

/* A UDP datagram inside IPv4. */
static size_t t_udp4(uint8_t *p, size_t n)
{
	size_t len = t_ipv4(p, IPPROTO_UDP, 8 + n, 0, 0);

	t_be16(p + 20, 40000);
	t_be16(p + 22, 4000);
	t_be16(p + 24, (uint32_t)(8 + n));
	t_homa(p + 28, n);
	return len;
}

/* An Ethernet header with ntags VLAN tags before the EtherType. */
static size_t t_eth(uint8_t *p, uint16_t type, int ntags)
{
	size_t off = 12;

	memset(p, 0x11, 12);
	for (int i = 0; i < ntags; i++, off += 4) {
		t_be16(p + off, i ? 0x8100 : 0x88a8);
		t_be16(p + off + 2, 7);
	}
	t_be16(p + off, type);
	return off + 2;
}

/* ---- files ---- */

static void t_classic(struct t_file *f, bool be, bool ns, uint32_t link)
{
	f->n = 0;
	f->be = be;
	t_u32(f, ns ? 0xa1b23c4d : 0xa1b2c3d4);
	t_u16(f, 2);
	t_u16(f, 4);
	t_u32(f, 0);
	t_u32(f, 0);
	t_u32(f, 262144);
	t_u32(f, link);
}

static void t_record(struct t_file *f, uint32_t sec, uint32_t frac,
		     const uint8_t *p, uint32_t caplen)
{
	t_u32(f, sec);
	t_u32(f, frac);
	t_u32(f, caplen);
	t_u32(f, caplen);
	t_put(f, p, caplen);
}

/* A pcapng block: type, length, body (padded), length. */
static void t_block(struct t_file *f, uint32_t type, const void *body, size_t n)
{
	static const uint8_t pad[4];
	uint32_t total = (uint32_t)(12 + ((n + 3) & ~(size_t)3));

	t_u32(f, type);
	t_u32(f, total);
	t_put(f, body, n);
	t_put(f, pad, (4 - n % 4) % 4);
	t_u32(f, total);
}

static void t_shb(struct t_file *f, bool be)
{
	f->be = be;
	t_u32(f, 0x0a0d0d0a);
	t_u32(f, 28);
	t_u32(f, 0x1a2b3c4d);
	t_u16(f, 1);
	t_u16(f, 0);
	t_u32(f, 0xffffffff); /* section length: unknown */
	t_u32(f, 0xffffffff);
	t_u32(f, 28);
}

/* An interface description; tsresol < 0: no if_tsresol option. */
static void t_idb(struct t_file *f, uint16_t link, int tsresol)
{
	size_t start = f->n;

	t_u32(f, 1);
	t_u32(f, 0);
	t_u16(f, link);
	t_u16(f, 0);
	t_u32(f, 262144);
	if (tsresol >= 0) {
		uint8_t v[4] = { (uint8_t)tsresol };

		t_u16(f, 9);
		t_u16(f, 1);
		t_put(f, v, 4);
		t_u16(f, 0); /* opt_endofopt */
		t_u16(f, 0);
	}
	t_u32(f, (uint32_t)(f->n + 4 - start));
	t_set32(f, start + 4, (uint32_t)(f->n - start));
}

static void t_epb(struct t_file *f, uint32_t iface, uint64_t ticks,
		  const uint8_t *p, uint32_t caplen)
{
	static const uint8_t pad[4];
	size_t start = f->n;

	t_u32(f, 6);
	t_u32(f, 0);
	t_u32(f, iface);
	t_u32(f, (uint32_t)(ticks >> 32));
	t_u32(f, (uint32_t)ticks);
	t_u32(f, caplen);
	t_u32(f, caplen);
	t_put(f, p, caplen);
	t_put(f, pad, (4 - caplen % 4) % 4);
	t_u32(f, (uint32_t)(f->n + 4 - start));
	t_set32(f, start + 4, (uint32_t)(f->n - start));
}

/* ---- reading ---- */

/* What a read saw. */
struct t_seen {
	int num;			      /* packets kept */
	struct homa_pcap_pkt pkt[T_MAX_PKTS]; /* them (pointers stale) */
	uint8_t first[T_MAX_PKTS];	      /* each one's first Homa byte */
	int stop_at;			      /* return 99 at this packet */
};

static int t_keep(void *arg, const struct homa_pcap_pkt *p)
{
	struct t_seen *s = arg;

	if (s->num < T_MAX_PKTS) {
		s->pkt[s->num] = *p;
		s->first[s->num] = p->homa_bytes ? p->homa[0] : 0xff;
	}
	s->num++;
	return s->num == s->stop_at ? 99 : 0;
}

static int t_open(struct homa_pcap *r, struct t_file *f, size_t n)
{
	FILE *s = n ? fmemopen(f->d, n, "rb") : fopen("/dev/null", "rb");

	assert_non_null(s);
	return homa_pcap_open_stream(r, s);
}

/* Open f's first n bytes and read them all: homa_pcap_each's return, or
 * the open error. */
static int t_read_n(struct t_file *f, size_t n, unsigned int flags,
		    struct t_seen *s, struct homa_pcap *r)
{
	int ret = t_open(r, f, n);

	if (ret < 0)
		return ret;
	ret = homa_pcap_each(r, flags, t_keep, s);
	homa_pcap_close(r);
	return ret;
}

static int t_read(struct t_file *f, unsigned int flags, struct t_seen *s,
		  struct homa_pcap *r)
{
	return t_read_n(f, f->n, flags, s, r);
}

/* ---- classic pcap ---- */

static void homa_pcap_each__classic_both_orders_and_units(void **state)
{
	static struct t_file f;
	struct homa_pcap r;
	uint8_t p[200];

	(void)state;
	for (int be = 0; be <= 1; be++) {
		for (int ns = 0; ns <= 1; ns++) {
			struct t_seen s = { 0 };
			size_t n = t_eth(p, 0x0800, 0);

			n += t_ipv4(p + n, IPPROTO_HOMA, T_HOMA_BYTES, 0xe0, 0);
			t_classic(&f, be, ns, T_LINK_ETH);
			t_record(&f, 1700000000, 123456, p, (uint32_t)n);
			t_record(&f, 1700000001, 7, p, (uint32_t)n);
			assert_int_equal(t_read(&f, 0, &s, &r), 2);
			assert_int_equal(s.num, 2);
			assert_int_equal(s.pkt[0].index, 1);
			assert_int_equal(s.pkt[1].index, 2);
			assert_int_equal(s.pkt[0].ts_ns,
					 1700000000ull * 1000000000ull +
						 123456ull * (ns ? 1 : 1000));
			assert_int_equal(s.pkt[1].ts_ns,
					 1700000001ull * 1000000000ull +
						 7ull * (ns ? 1 : 1000));
			assert_int_equal(s.pkt[0].homa_bytes, T_HOMA_BYTES);
			assert_int_equal(s.pkt[0].wire_bytes, T_HOMA_BYTES);
			assert_int_equal(s.pkt[0].tos, 0xe0);
			assert_false(s.pkt[0].udp);
			assert_int_equal(s.first[0], 0);
			assert_true(homa_addr_is_v4(&s.pkt[0].src));
			assert_int_equal(s.pkt[0].src.a[15], 1);
			assert_int_equal(s.pkt[0].dst.a[15], 2);
			assert_int_equal(r.frames, 2);
			assert_int_equal(r.homa_pkts, 2);
		}
	}
}

/* Every link type the reader knows, IPv4 and IPv6; the ones it does not
 * know are counted, not fatal. */
static void homa_pcap_homa__link_types(void **state)
{
	static struct t_file f;
	static const uint32_t links[] = { T_LINK_ETH,  T_LINK_RAW,  T_LINK_SLL,
					  T_LINK_SLL2, T_LINK_NULL, T_LINK_IPV4,
					  T_LINK_IPV6, 12,	    14,
					  108 };
	struct homa_pcap r;
	uint8_t p[300];

	(void)state;
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		for (int v6 = 0; v6 <= 1; v6++) {
			struct t_seen s = { 0 };
			size_t n = 0;

			if (links[i] == T_LINK_ETH) {
				n = t_eth(p, v6 ? 0x86dd : 0x0800, 0);
			} else if (links[i] == T_LINK_SLL) {
				memset(p, 0, 16);
				t_be16(p + 14, v6 ? 0x86dd : 0x0800);
				n = 16;
			} else if (links[i] == T_LINK_SLL2) {
				memset(p, 0, 20);
				t_be16(p, v6 ? 0x86dd : 0x0800);
				n = 20;
			} else if (links[i] == T_LINK_NULL || links[i] == 108) {
				memset(p, 0, 4);
				p[0] = v6 ? 30 : 2;
				n = 4;
			}
			n += v6 ? t_ipv6(p + n, IPPROTO_HOMA, T_HOMA_BYTES,
					 false)
				: t_ipv4(p + n, IPPROTO_HOMA, T_HOMA_BYTES, 0,
					 0);
			t_classic(&f, false, false, links[i]);
			t_record(&f, 1, 0, p, (uint32_t)n);
			assert_int_equal(t_read(&f, 0, &s, &r), 1);
			assert_int_equal(s.pkt[0].homa_bytes, T_HOMA_BYTES);
			assert_int_equal(s.pkt[0].tos, v6 ? 0xa5 : 0);
			assert_int_equal(homa_addr_is_v4(&s.pkt[0].src), !v6);
		}
	}
	{
		struct t_seen s = { 0 };
		size_t n = t_ipv4(p, IPPROTO_HOMA, T_HOMA_BYTES, 0, 0);

		t_classic(&f, false, false, T_LINK_OTHER);
		t_record(&f, 1, 0, p, (uint32_t)n);
		t_record(&f, 1, 0, p, (uint32_t)n);
		assert_int_equal(t_read(&f, 0, &s, &r), 0);
		assert_int_equal(r.frames, 2);
		assert_int_equal(r.skipped[HOMA_PCAP_SKIP_LINK], 2);
	}
}

/* VLAN tags (one, two), IPv6 options, UDP only when asked, fragments,
 * other protocols, and a packet the snap length cut. */
static void homa_pcap_homa__what_is_homa(void **state)
{
	static struct t_file f;
	struct t_seen s = { 0 };
	struct homa_pcap r;
	uint8_t p[1100];
	size_t n;

	(void)state;
	t_classic(&f, false, false, T_LINK_ETH);
	n = t_eth(p, 0x0800, 1);
	n += t_ipv4(p + n, IPPROTO_HOMA, T_HOMA_BYTES, 0, 0);
	t_record(&f, 0, 0, p, (uint32_t)n); /* 1: one tag */
	n = t_eth(p, 0x86dd, 2);
	n += t_ipv6(p + n, IPPROTO_HOMA, T_HOMA_BYTES, true);
	t_record(&f, 0, 0, p, (uint32_t)n); /* 2: two tags, hop-by-hop */
	n = t_eth(p, 0x0800, 0);
	n += t_udp4(p + n, T_HOMA_BYTES);
	t_record(&f, 0, 0, p, (uint32_t)n); /* 3: UDP */
	n = t_eth(p, 0x0800, 0);
	n += t_ipv4(p + n, IPPROTO_HOMA, T_HOMA_BYTES, 0, 0x2000);
	t_record(&f, 0, 0, p, (uint32_t)n); /* 4: first fragment (MF) */
	n = t_eth(p, 0x0800, 0);
	n += t_ipv4(p + n, IPPROTO_TCP, T_HOMA_BYTES, 0, 0);
	t_record(&f, 0, 0, p, (uint32_t)n); /* 5: TCP */
	n = t_eth(p, 0x0806, 0);
	memset(p + n, 0, 28);
	t_record(&f, 0, 0, p, (uint32_t)n + 28); /* 6: ARP */
	n = t_eth(p, 0x0800, 0);
	n += t_ipv4(p + n, IPPROTO_HOMA, 1000, 0, 0);
	t_record(&f, 0, 0, p, (uint32_t)(n - 1000 + 40)); /* 7: snap 40 */

	assert_int_equal(t_read(&f, 0, &s, &r), 3);
	assert_int_equal(s.pkt[0].index, 1);
	assert_int_equal(s.pkt[1].index, 2);
	assert_false(homa_addr_is_v4(&s.pkt[1].src));
	assert_int_equal(s.pkt[1].src.a[0], 0xfd);
	assert_int_equal(s.pkt[1].dst.a[15], 2);
	assert_int_equal(s.pkt[1].homa_bytes, T_HOMA_BYTES);
	assert_int_equal(s.first[1], 0); /* past the options */
	assert_int_equal(s.pkt[2].index, 7);
	assert_int_equal(s.pkt[2].homa_bytes, 40);
	assert_int_equal(s.pkt[2].wire_bytes, 1000);
	assert_int_equal(r.skipped[HOMA_PCAP_SKIP_NOT_HOMA], 2); /* UDP, TCP */
	assert_int_equal(r.skipped[HOMA_PCAP_SKIP_FRAGMENT], 1);
	assert_int_equal(r.skipped[HOMA_PCAP_SKIP_NOT_IP], 1);

	memset(&s, 0, sizeof(s));
	assert_int_equal(t_read(&f, HOMA_PCAP_UDP, &s, &r), 4);
	assert_int_equal(s.pkt[2].index, 3);
	assert_true(s.pkt[2].udp);
	assert_int_equal(s.pkt[2].homa_bytes, T_HOMA_BYTES);
	assert_int_equal(s.pkt[2].wire_bytes, T_HOMA_BYTES);
	assert_int_equal(s.first[2], 0); /* after the UDP header */

	/* The callback stops the read and its value comes back. */
	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	assert_int_equal(t_read(&f, 0, &s, &r), 99);
	assert_int_equal(r.frames, 2);
}

/* ---- pcapng ---- */

/* Two sections, little- then big-endian; the second's interfaces are its
 * own; if_tsresol in ns and the default us; a simple packet block. */
static void homa_pcap_each__pcapng_sections(void **state)
{
	static struct t_file f;
	struct t_seen s = { 0 };
	struct homa_pcap r;
	uint8_t p[200], spb[200];
	size_t n = t_ipv4(p, IPPROTO_HOMA, T_HOMA_BYTES, 0, 0);

	(void)state;
	f.n = 0;
	t_shb(&f, false);
	t_idb(&f, T_LINK_ETH, -1);
	t_idb(&f, T_LINK_RAW, 9);
	t_epb(&f, 1, 5000000001ull, p, (uint32_t)n);
	t_shb(&f, true);
	t_idb(&f, T_LINK_RAW, -1);
	t_epb(&f, 0, 7, p, (uint32_t)n);
	t_block(&f, 0x0bad, "custom", 6); /* an unknown block: skipped */
	f.be = true;
	memset(spb, 0, 4);
	spb[3] = (uint8_t)n; /* original length, big-endian */
	memcpy(spb + 4, p, n);
	t_block(&f, 3, spb, 4 + n);
	assert_int_equal(t_read(&f, 0, &s, &r), 3);
	assert_int_equal(s.pkt[0].ts_ns, 5000000001ull);
	assert_int_equal(s.pkt[1].ts_ns, 7000);
	assert_int_equal(s.pkt[2].ts_ns, 0);
	assert_int_equal(s.pkt[2].index, 3);
	assert_int_equal(s.pkt[2].homa_bytes, T_HOMA_BYTES);
	/* The first section's interface 1 is gone in the second. */
	f.n = 0;
	t_shb(&f, false);
	t_idb(&f, T_LINK_RAW, -1);
	t_idb(&f, T_LINK_RAW, -1);
	t_shb(&f, true);
	t_idb(&f, T_LINK_RAW, -1);
	t_epb(&f, 1, 7, p, (uint32_t)n);
	assert_int_equal(t_read(&f, 0, &s, &r), -EBADMSG);
}

/* Time resolutions: powers of ten beyond ns, and powers of two. */
static void homa_pcap_next__tsresol(void **state)
{
	static struct t_file f;
	static const struct {
		int tsresol;	/* option value */
		uint64_t ticks; /* stamp */
		uint64_t ns;	/* what it means */
	} cases[] = {
		{ 3, 5, 5000000 },
		{ 9, 5, 5 },
		{ 12, 5000, 5 },
		{ 0x80, 3, 3000000000ull },
		{ 0x8a, 1024, 1000000000ull },
		{ 127, 5, 0 },
	};
	struct homa_pcap_frame fr;
	struct homa_pcap r;
	uint8_t p[100];
	size_t n = t_ipv4(p, IPPROTO_HOMA, 8, 0, 0);

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f.n = 0;
		t_shb(&f, false);
		t_idb(&f, T_LINK_RAW, cases[i].tsresol);
		t_epb(&f, 0, cases[i].ticks, p, (uint32_t)n);
		assert_int_equal(t_open(&r, &f, f.n), 0);
		assert_int_equal(homa_pcap_next(&r, &fr), 1);
		assert_int_equal(fr.ts_ns, cases[i].ns);
		assert_int_equal(fr.link, T_LINK_RAW);
		assert_int_equal(fr.caplen, n);
		assert_int_equal(homa_pcap_next(&r, &fr), 0);
		homa_pcap_close(&r);
	}
}

/* ---- damaged files ---- */

/* What is not a capture, or a file cut inside its header. */
static void homa_pcap_open__bad_files(void **state)
{
	static struct t_file f;
	struct homa_pcap r;

	(void)state;
	assert_int_equal(homa_pcap_open(&r, "/nonexistent/x.pcap"), -ENOENT);
	assert_null(r.f);
	f.n = 0;
	assert_int_equal(t_open(&r, &f, 0), -EINVAL); /* empty */
	t_put(&f, "this is not a capture", 21);
	assert_int_equal(t_open(&r, &f, f.n), -EINVAL);
	assert_int_equal(t_open(&r, &f, 3), -EINVAL);
	t_classic(&f, true, false, T_LINK_ETH);
	assert_int_equal(t_open(&r, &f, 10), -ENODATA);
	assert_int_equal(t_open(&r, &f, 24), 0);
	homa_pcap_close(&r);
	/* pcapng: a wrong byte-order magic, a cut or bad section header. */
	f.n = 0;
	t_shb(&f, false);
	assert_int_equal(t_open(&r, &f, 11), -ENODATA);
	assert_int_equal(t_open(&r, &f, 27), -ENODATA);
	f.d[8] = 0x4e;
	assert_int_equal(t_open(&r, &f, f.n), -EINVAL);
	f.d[8] = 0x4d;
	t_set32(&f, 4, 24); /* shorter than a section header */
	assert_int_equal(t_open(&r, &f, f.n), -EBADMSG);
	t_set32(&f, 4, 30); /* not a multiple of 4 */
	assert_int_equal(t_open(&r, &f, f.n), -EBADMSG);
	t_set32(&f, 4, 0); /* zero */
	assert_int_equal(t_open(&r, &f, f.n), -EBADMSG);
	t_set32(&f, 4, 32); /* the trailer says 28 */
	t_u32(&f, 28);
	assert_int_equal(t_open(&r, &f, f.n), -EBADMSG);
	t_set32(&f, 4, 1u << 30); /* over HOMA_PCAP_MAX_BLOCK */
	assert_int_equal(t_open(&r, &f, f.n), -EMSGSIZE);
}

/* homa_pcap_read() on a file by its path, and on a missing one. */
static void homa_pcap_read__path(void **state)
{
	static struct t_file f;
	struct t_seen s = { 0 };
	char path[64];
	uint8_t p[100];
	size_t n = t_ipv4(p, IPPROTO_HOMA, 8, 0, 0);
	FILE *out;

	(void)state;
	t_classic(&f, false, false, T_LINK_RAW);
	t_record(&f, 0, 0, p, (uint32_t)n);
	t_record(&f, 0, 0, p, (uint32_t)n);
	snprintf(path, sizeof(path), "/tmp/test_homa_pcap_%d.pcap",
		 (int)getpid());
	out = fopen(path, "wb");
	assert_non_null(out);
	assert_int_equal(fwrite(f.d, 1, f.n, out), f.n);
	assert_int_equal(fclose(out), 0);
	assert_int_equal(homa_pcap_read(path, 0, t_keep, &s), 2);
	assert_int_equal(s.num, 2);
	remove(path);
	assert_int_equal(homa_pcap_read(path, 0, t_keep, &s), -ENOENT);
}

/* Classic pcap: a record header cut, a captured length beyond the file
 * or over the largest frame. The reader is spent after the error. */
static void homa_pcap_next__classic_damaged(void **state)
{
	static struct t_file f;
	struct homa_pcap_frame fr;
	struct t_seen s = { 0 };
	struct homa_pcap r;
	uint8_t p[100];
	size_t n = t_ipv4(p, IPPROTO_HOMA, 8, 0, 0), end;

	(void)state;
	t_classic(&f, false, false, T_LINK_RAW);
	t_record(&f, 0, 0, p, (uint32_t)n);
	end = f.n;
	t_record(&f, 0, 0, p, (uint32_t)n);
	assert_int_equal(t_read_n(&f, end + 7, 0, &s, &r), -ENODATA);
	assert_int_equal(r.frames, 1);
	assert_int_equal(s.num, 1);
	assert_int_equal(t_read_n(&f, f.n - 1, 0, &s, &r), -ENODATA);
	t_set32(&f, end + 8, 1000); /* caplen beyond the file */
	assert_int_equal(t_read(&f, 0, &s, &r), -ENODATA);
	t_set32(&f, end + 8, HOMA_PCAP_MAX_FRAME + 1);
	assert_int_equal(t_read(&f, 0, &s, &r), -EMSGSIZE);
	assert_int_equal(t_open(&r, &f, f.n), 0);
	assert_int_equal(homa_pcap_next(&r, &fr), 1);
	assert_int_equal(homa_pcap_next(&r, &fr), -EMSGSIZE);
	assert_int_equal(homa_pcap_next(&r, &fr), -EMSGSIZE);
	assert_int_equal(r.frames, 1);
	homa_pcap_close(&r);
}

/* pcapng: each bad block with its errno. */
static void homa_pcap_next__pcapng_damaged(void **state)
{
	static struct t_file f;
	struct t_seen s = { 0 };
	struct homa_pcap r;
	uint8_t p[100];
	size_t n = t_ipv4(p, IPPROTO_HOMA, 8, 0, 0), epb;

	(void)state;
	f.n = 0;
	t_shb(&f, false);
	t_idb(&f, T_LINK_RAW, -1);
	epb = f.n;
	t_epb(&f, 0, 1, p, (uint32_t)n);
	assert_int_equal(t_read(&f, 0, &s, &r), 1);

	t_set32(&f, epb + 4, 0); /* zero-length block */
	assert_int_equal(t_read(&f, 0, &s, &r), -EBADMSG);
	t_set32(&f, epb + 4, 30); /* not a multiple of 4 */
	assert_int_equal(t_read(&f, 0, &s, &r), -EBADMSG);
	t_set32(&f, epb + 4, 28); /* below an EPB's fields */
	assert_int_equal(t_read(&f, 0, &s, &r), -EBADMSG);
	t_set32(&f, epb + 4, (uint32_t)(f.n - epb + 4)); /* beyond the file */
	assert_int_equal(t_read(&f, 0, &s, &r), -ENODATA);
	t_set32(&f, epb + 4, HOMA_PCAP_MAX_BLOCK + 4);
	assert_int_equal(t_read(&f, 0, &s, &r), -EMSGSIZE);
	t_set32(&f, epb + 4, (uint32_t)(f.n - epb));
	t_set32(&f, f.n - 4, 64); /* the trailer differs */
	assert_int_equal(t_read(&f, 0, &s, &r), -EBADMSG);
	t_set32(&f, f.n - 4, (uint32_t)(f.n - epb));
	t_set32(&f, epb + 20, 100); /* caplen beyond its block */
	assert_int_equal(t_read(&f, 0, &s, &r), -EBADMSG);
	t_set32(&f, epb + 20, (uint32_t)n);
	t_set32(&f, epb + 8, 1); /* an interface not described */
	assert_int_equal(t_read(&f, 0, &s, &r), -EBADMSG);
	t_set32(&f, epb + 8, 0);
	assert_int_equal(t_read(&f, 0, &s, &r), 1);
	assert_int_equal(t_read_n(&f, f.n + 0 - 2, 0, &s, &r), -ENODATA);
	assert_int_equal(t_read_n(&f, epb + 4, 0, &s, &r), -ENODATA);

	/* An IDB shorter than its fields; a packet block before any IDB. */
	f.n = 0;
	t_shb(&f, false);
	t_block(&f, 1, "\x01\x00\x00\x00", 4);
	assert_int_equal(t_read(&f, 0, &s, &r), -EBADMSG);
	f.n = 0;
	t_shb(&f, false);
	t_block(&f, 3, p, n);
	assert_int_equal(t_read(&f, 0, &s, &r), -EBADMSG);
	/* A later section with a wrong byte-order magic. */
	f.n = 0;
	t_shb(&f, false);
	t_shb(&f, false);
	f.d[28 + 8] = 0;
	assert_int_equal(t_read(&f, 0, &s, &r), -EINVAL);
	/* More interfaces than the reader keeps: a packet of the last. */
	f.n = 0;
	t_shb(&f, false);
	for (int i = 0; i <= HOMA_PCAP_MAX_IFACES; i++)
		t_idb(&f, T_LINK_RAW, -1);
	t_epb(&f, HOMA_PCAP_MAX_IFACES - 1, 1, p, (uint32_t)n);
	t_epb(&f, HOMA_PCAP_MAX_IFACES, 1, p, (uint32_t)n);
	assert_int_equal(t_read(&f, 0, &s, &r), -ENOTSUP);
	assert_int_equal(r.frames, 1);
}

/* Every prefix of a valid file: the packets of the whole records it holds,
 * then the end (at a record's end) or -ENODATA (inside one). */
static void homa_pcap_each__every_truncated_file(void **state)
{
	static struct t_file f;
	struct homa_pcap r;
	uint8_t p[200];
	size_t n = t_ipv4(p, IPPROTO_HOMA, 30, 0, 0);
	size_t ends[8]; /* where a whole record or block ends */
	int counts[8];	/* Homa packets before it */
	int num_ends;

	(void)state;
	for (int ng = 0; ng <= 1; ng++) {
		num_ends = 0;
		if (ng) {
			f.n = 0;
			t_shb(&f, true);
			ends[num_ends] = f.n;
			counts[num_ends++] = 0;
			t_idb(&f, T_LINK_RAW, 9);
		} else {
			t_classic(&f, true, true, T_LINK_RAW);
		}
		ends[num_ends] = f.n;
		counts[num_ends++] = 0;
		for (int i = 0; i < 3; i++) {
			if (ng)
				t_epb(&f, 0, (uint64_t)i, p,
				      (uint32_t)n - (uint32_t)i);
			else
				t_record(&f, 0, (uint32_t)i, p,
					 (uint32_t)n - (uint32_t)i);
			ends[num_ends] = f.n;
			counts[num_ends++] = i + 1;
		}
		for (size_t len = 0; len <= f.n; len++) {
			struct t_seen s = { 0 };
			int ret = t_read_n(&f, len, 0, &s, &r), whole = -1;

			for (int i = 0; i < num_ends; i++)
				if (ends[i] == len)
					whole = counts[i];
			if (whole >= 0) {
				assert_int_equal(ret, whole);
				assert_int_equal(s.num, whole);
			} else if (len < 4) {
				assert_int_equal(ret, -EINVAL);
			} else {
				assert_int_equal(ret, -ENODATA);
			}
			assert_true(s.num <= 3);
		}
	}
}

/* Every prefix of a frame's headers (Ethernet, VLAN, IPv6 options, UDP):
 * never a Homa packet reaching past the bytes captured. */
static void homa_pcap_homa__every_truncated_frame(void **state)
{
	static const uint32_t links[] = { T_LINK_ETH, T_LINK_SLL, T_LINK_SLL2,
					  T_LINK_NULL };
	uint8_t p[300];

	(void)state;
	for (size_t l = 0; l < sizeof(links) / sizeof(links[0]); l++) {
		for (int kind = 0; kind < 3; kind++) {
			size_t n = 0, hdr;

			memset(p, 0, sizeof(p));
			if (links[l] == T_LINK_ETH)
				n = t_eth(p, kind == 1 ? 0x86dd : 0x0800, 2);
			else if (links[l] == T_LINK_SLL)
				t_be16(p + 14, kind == 1 ? 0x86dd : 0x0800);
			else if (links[l] == T_LINK_SLL2)
				t_be16(p, kind == 1 ? 0x86dd : 0x0800);
			if (links[l] == T_LINK_SLL)
				n = 16;
			else if (links[l] == T_LINK_SLL2)
				n = 20;
			else if (links[l] == T_LINK_NULL)
				n = 4;
			hdr = n + (kind == 0 ? 20 : kind == 1 ? 48 : 28);
			if (kind == 0)
				n += t_ipv4(p + n, IPPROTO_HOMA, 40, 0, 0);
			else if (kind == 1)
				n += t_ipv6(p + n, IPPROTO_HOMA, 40, true);
			else
				n += t_udp4(p + n, 40);
			for (size_t cap = 0; cap <= n; cap++) {
				/* A copy of exactly cap bytes: ASan sees
				 * any read beyond it. */
				uint8_t *copy = malloc(cap ? cap : 1);
				struct homa_pcap_frame fr = {
					.index = 1,
					.link = links[l],
					.data = copy,
					.caplen = (uint32_t)cap,
				};
				struct homa_pcap_pkt pkt;
				int ret;

				assert_non_null(copy);
				memcpy(copy, p, cap);
				ret = homa_pcap_homa(&fr, HOMA_PCAP_UDP, &pkt);
				if (cap < hdr) {
					assert_int_not_equal(ret,
							     HOMA_PCAP_IS_HOMA);
				} else {
					assert_int_equal(ret,
							 HOMA_PCAP_IS_HOMA);
					assert_ptr_equal(pkt.homa, copy + hdr);
					assert_int_equal(pkt.homa_bytes,
							 cap - hdr);
					assert_int_equal(pkt.wire_bytes, 40);
				}
				free(copy);
			}
		}
	}
}

/* Headers that lie: a short IHL, an IP length below its header, a UDP
 * length beyond the IP packet or below its own header. */
static void homa_pcap_homa__lying_lengths(void **state)
{
	struct homa_pcap_frame fr = { .index = 1, .link = T_LINK_RAW };
	struct homa_pcap_pkt pkt;
	uint8_t p[200];
	size_t n;

	(void)state;
	fr.data = p;
	n = t_ipv4(p, IPPROTO_HOMA, 40, 0, 0);
	fr.caplen = (uint32_t)n;
	assert_int_equal(homa_pcap_homa(&fr, 0, &pkt), HOMA_PCAP_IS_HOMA);
	p[0] = 0x44; /* IHL 16 bytes */
	assert_int_equal(homa_pcap_homa(&fr, 0, &pkt), HOMA_PCAP_SKIP_NOT_IP);
	p[0] = 0x4f; /* IHL 60 bytes: fine, inside the packet */
	assert_int_equal(homa_pcap_homa(&fr, 0, &pkt), HOMA_PCAP_IS_HOMA);
	assert_int_equal(pkt.homa_bytes, n - 60);
	p[0] = 0x45;
	t_be16(p + 2, 12); /* total length below the header */
	assert_int_equal(homa_pcap_homa(&fr, 0, &pkt), HOMA_PCAP_SKIP_NOT_HOMA);
	p[0] = 0x35; /* IP version 3 */
	assert_int_equal(homa_pcap_homa(&fr, 0, &pkt), HOMA_PCAP_SKIP_NOT_IP);

	n = t_udp4(p, 40);
	fr.caplen = (uint32_t)n;
	t_be16(p + 24, 49); /* beyond the IP packet */
	assert_int_equal(homa_pcap_homa(&fr, HOMA_PCAP_UDP, &pkt),
			 HOMA_PCAP_SKIP_NOT_HOMA);
	t_be16(p + 24, 7); /* below the UDP header */
	assert_int_equal(homa_pcap_homa(&fr, HOMA_PCAP_UDP, &pkt),
			 HOMA_PCAP_SKIP_NOT_HOMA);
	t_be16(p + 24, 20); /* shorter than IP says: UDP's length counts */
	assert_int_equal(homa_pcap_homa(&fr, HOMA_PCAP_UDP, &pkt),
			 HOMA_PCAP_IS_HOMA);
	assert_int_equal(pkt.homa_bytes, 12);
	assert_int_equal(pkt.wire_bytes, 12);

	/* IPv6 options running past the packet. */
	n = t_ipv6(p, IPPROTO_HOMA, 40, true);
	fr.caplen = (uint32_t)n;
	p[41] = 200; /* 1608 bytes of options */
	assert_int_equal(homa_pcap_homa(&fr, 0, &pkt), HOMA_PCAP_SKIP_NOT_HOMA);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(homa_pcap_each__classic_both_orders_and_units),
		cmocka_unit_test(homa_pcap_homa__link_types),
		cmocka_unit_test(homa_pcap_homa__what_is_homa),
		cmocka_unit_test(homa_pcap_each__pcapng_sections),
		cmocka_unit_test(homa_pcap_next__tsresol),
		cmocka_unit_test(homa_pcap_open__bad_files),
		cmocka_unit_test(homa_pcap_read__path),
		cmocka_unit_test(homa_pcap_next__classic_damaged),
		cmocka_unit_test(homa_pcap_next__pcapng_damaged),
		cmocka_unit_test(homa_pcap_each__every_truncated_file),
		cmocka_unit_test(homa_pcap_homa__every_truncated_frame),
		cmocka_unit_test(homa_pcap_homa__lying_lengths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
