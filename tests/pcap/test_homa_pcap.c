/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_homa_pcap.c - the capture reader (tools/pcap/homa_pcap.c) on
 * captures built byte by byte (tpcap.c): classic pcap in both byte orders
 * and stamp units, pcapng sections of either byte order, every link type
 * the reader knows, Homa over IP and over UDP; then damaged files, each
 * with the errno it must give, every truncated prefix of a valid file,
 * and every truncated prefix of a frame's headers.
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
#include "tpcap.h"

#define T_MAX_PKTS   16 /* packets one read keeps */
#define T_HOMA_BYTES 60 /* Homa bytes of our packets */
/* Link types (LINKTYPE_* numbers). */
#define T_LINK_ETH   1	 /* Ethernet */
#define T_LINK_RAW   101 /* raw IP */
#define T_LINK_SLL   113 /* Linux cooked v1 */
#define T_LINK_SLL2  276 /* Linux cooked v2 */
#define T_LINK_NULL  0	 /* BSD loopback */
#define T_LINK_IPV4  228 /* raw IPv4 */
#define T_LINK_IPV6  229 /* raw IPv6 */
#define T_LINK_OTHER 147 /* a user link type the reader does not know */

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

static int t_open(struct homa_pcap *r, struct tpcap_file *f, size_t n)
{
	FILE *s = n ? fmemopen(f->d, n, "rb") : fopen("/dev/null", "rb");

	assert_non_null(s);
	return homa_pcap_open_stream(r, s);
}

/* Open f's first n bytes and read them all: homa_pcap_each's return, or
 * the open error. */
static int t_read_n(struct tpcap_file *f, size_t n, unsigned int flags,
		    struct t_seen *s, struct homa_pcap *r)
{
	int ret = t_open(r, f, n);

	if (ret < 0)
		return ret;
	ret = homa_pcap_each(r, flags, t_keep, s);
	homa_pcap_close(r);
	return ret;
}

static int t_read(struct tpcap_file *f, unsigned int flags, struct t_seen *s,
		  struct homa_pcap *r)
{
	return t_read_n(f, f->n, flags, s, r);
}

/* ---- classic pcap ---- */

static void homa_pcap_each__classic_both_orders_and_units(void **state)
{
	static struct tpcap_file f;
	struct homa_pcap r;
	uint8_t p[200];

	(void)state;
	for (int be = 0; be <= 1; be++) {
		for (int ns = 0; ns <= 1; ns++) {
			struct t_seen s = { 0 };
			size_t n = tpcap_eth(p, 0x0800, 0);

			n += tpcap_ipv4(p + n, IPPROTO_HOMA, T_HOMA_BYTES, 0xe0,
					0);
			tpcap_classic(&f, be, ns, T_LINK_ETH);
			tpcap_record(&f, 1700000000, 123456, p, (uint32_t)n);
			tpcap_record(&f, 1700000001, 7, p, (uint32_t)n);
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
	static struct tpcap_file f;
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
				n = tpcap_eth(p, v6 ? 0x86dd : 0x0800, 0);
			} else if (links[i] == T_LINK_SLL) {
				memset(p, 0, 16);
				tpcap_be16(p + 14, v6 ? 0x86dd : 0x0800);
				n = 16;
			} else if (links[i] == T_LINK_SLL2) {
				memset(p, 0, 20);
				tpcap_be16(p, v6 ? 0x86dd : 0x0800);
				n = 20;
			} else if (links[i] == T_LINK_NULL || links[i] == 108) {
				memset(p, 0, 4);
				p[0] = v6 ? 30 : 2;
				n = 4;
			}
			n += v6 ? tpcap_ipv6(p + n, IPPROTO_HOMA, T_HOMA_BYTES,
					     false)
				: tpcap_ipv4(p + n, IPPROTO_HOMA, T_HOMA_BYTES,
					     0, 0);
			tpcap_classic(&f, false, false, links[i]);
			tpcap_record(&f, 1, 0, p, (uint32_t)n);
			assert_int_equal(t_read(&f, 0, &s, &r), 1);
			assert_int_equal(s.pkt[0].homa_bytes, T_HOMA_BYTES);
			assert_int_equal(s.pkt[0].tos, v6 ? 0xa5 : 0);
			assert_int_equal(homa_addr_is_v4(&s.pkt[0].src), !v6);
		}
	}
	{
		struct t_seen s = { 0 };
		size_t n = tpcap_ipv4(p, IPPROTO_HOMA, T_HOMA_BYTES, 0, 0);

		tpcap_classic(&f, false, false, T_LINK_OTHER);
		tpcap_record(&f, 1, 0, p, (uint32_t)n);
		tpcap_record(&f, 1, 0, p, (uint32_t)n);
		assert_int_equal(t_read(&f, 0, &s, &r), 0);
		assert_int_equal(r.frames, 2);
		assert_int_equal(r.skipped[HOMA_PCAP_SKIP_LINK], 2);
	}
}

/* VLAN tags (one, two), IPv6 options, UDP only when asked, fragments,
 * other protocols, and a packet the snap length cut. */
static void homa_pcap_homa__what_is_homa(void **state)
{
	static struct tpcap_file f;
	struct t_seen s = { 0 };
	struct homa_pcap r;
	uint8_t p[1100];
	size_t n;

	(void)state;
	tpcap_classic(&f, false, false, T_LINK_ETH);
	n = tpcap_eth(p, 0x0800, 1);
	n += tpcap_ipv4(p + n, IPPROTO_HOMA, T_HOMA_BYTES, 0, 0);
	tpcap_record(&f, 0, 0, p, (uint32_t)n); /* 1: one tag */
	n = tpcap_eth(p, 0x86dd, 2);
	n += tpcap_ipv6(p + n, IPPROTO_HOMA, T_HOMA_BYTES, true);
	tpcap_record(&f, 0, 0, p, (uint32_t)n); /* 2: two tags, hop-by-hop */
	n = tpcap_eth(p, 0x0800, 0);
	n += tpcap_udp4(p + n, T_HOMA_BYTES);
	tpcap_record(&f, 0, 0, p, (uint32_t)n); /* 3: UDP */
	n = tpcap_eth(p, 0x0800, 0);
	n += tpcap_ipv4(p + n, IPPROTO_HOMA, T_HOMA_BYTES, 0, 0x2000);
	tpcap_record(&f, 0, 0, p, (uint32_t)n); /* 4: first fragment (MF) */
	n = tpcap_eth(p, 0x0800, 0);
	n += tpcap_ipv4(p + n, IPPROTO_TCP, T_HOMA_BYTES, 0, 0);
	tpcap_record(&f, 0, 0, p, (uint32_t)n); /* 5: TCP */
	n = tpcap_eth(p, 0x0806, 0);
	memset(p + n, 0, 28);
	tpcap_record(&f, 0, 0, p, (uint32_t)n + 28); /* 6: ARP */
	n = tpcap_eth(p, 0x0800, 0);
	n += tpcap_ipv4(p + n, IPPROTO_HOMA, 1000, 0, 0);
	tpcap_record(&f, 0, 0, p, (uint32_t)(n - 1000 + 40)); /* 7: snap 40 */

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
	static struct tpcap_file f;
	struct t_seen s = { 0 };
	struct homa_pcap r;
	uint8_t p[200], spb[200];
	size_t n = tpcap_ipv4(p, IPPROTO_HOMA, T_HOMA_BYTES, 0, 0);

	(void)state;
	f.n = 0;
	tpcap_shb(&f, false);
	tpcap_idb(&f, T_LINK_ETH, -1);
	tpcap_idb(&f, T_LINK_RAW, 9);
	tpcap_epb(&f, 1, 5000000001ull, p, (uint32_t)n);
	tpcap_shb(&f, true);
	tpcap_idb(&f, T_LINK_RAW, -1);
	tpcap_epb(&f, 0, 7, p, (uint32_t)n);
	tpcap_block(&f, 0x0bad, "custom", 6); /* an unknown block: skipped */
	f.be = true;
	memset(spb, 0, 4);
	spb[3] = (uint8_t)n; /* original length, big-endian */
	memcpy(spb + 4, p, n);
	tpcap_block(&f, 3, spb, 4 + n);
	assert_int_equal(t_read(&f, 0, &s, &r), 3);
	assert_int_equal(s.pkt[0].ts_ns, 5000000001ull);
	assert_int_equal(s.pkt[1].ts_ns, 7000);
	assert_int_equal(s.pkt[2].ts_ns, 0);
	assert_int_equal(s.pkt[2].index, 3);
	assert_int_equal(s.pkt[2].homa_bytes, T_HOMA_BYTES);
	/* The first section's interface 1 is gone in the second. */
	f.n = 0;
	tpcap_shb(&f, false);
	tpcap_idb(&f, T_LINK_RAW, -1);
	tpcap_idb(&f, T_LINK_RAW, -1);
	tpcap_shb(&f, true);
	tpcap_idb(&f, T_LINK_RAW, -1);
	tpcap_epb(&f, 1, 7, p, (uint32_t)n);
	assert_int_equal(t_read(&f, 0, &s, &r), -EBADMSG);
}

/* Time resolutions: powers of ten beyond ns, and powers of two. */
static void homa_pcap_next__tsresol(void **state)
{
	static struct tpcap_file f;
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
	size_t n = tpcap_ipv4(p, IPPROTO_HOMA, 8, 0, 0);

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f.n = 0;
		tpcap_shb(&f, false);
		tpcap_idb(&f, T_LINK_RAW, cases[i].tsresol);
		tpcap_epb(&f, 0, cases[i].ticks, p, (uint32_t)n);
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
	static struct tpcap_file f;
	struct homa_pcap r;

	(void)state;
	assert_int_equal(homa_pcap_open(&r, "/nonexistent/x.pcap"), -ENOENT);
	assert_null(r.f);
	f.n = 0;
	assert_int_equal(t_open(&r, &f, 0), -EINVAL); /* empty */
	tpcap_put(&f, "this is not a capture", 21);
	assert_int_equal(t_open(&r, &f, f.n), -EINVAL);
	assert_int_equal(t_open(&r, &f, 3), -EINVAL);
	tpcap_classic(&f, true, false, T_LINK_ETH);
	assert_int_equal(t_open(&r, &f, 10), -ENODATA);
	assert_int_equal(t_open(&r, &f, 24), 0);
	homa_pcap_close(&r);
	/* pcapng: a wrong byte-order magic, a cut or bad section header. */
	f.n = 0;
	tpcap_shb(&f, false);
	assert_int_equal(t_open(&r, &f, 11), -ENODATA);
	assert_int_equal(t_open(&r, &f, 27), -ENODATA);
	f.d[8] = 0x4e;
	assert_int_equal(t_open(&r, &f, f.n), -EINVAL);
	f.d[8] = 0x4d;
	tpcap_set32(&f, 4, 24); /* shorter than a section header */
	assert_int_equal(t_open(&r, &f, f.n), -EBADMSG);
	tpcap_set32(&f, 4, 30); /* not a multiple of 4 */
	assert_int_equal(t_open(&r, &f, f.n), -EBADMSG);
	tpcap_set32(&f, 4, 0); /* zero */
	assert_int_equal(t_open(&r, &f, f.n), -EBADMSG);
	tpcap_set32(&f, 4, 32); /* the trailer says 28 */
	tpcap_u32(&f, 28);
	assert_int_equal(t_open(&r, &f, f.n), -EBADMSG);
	tpcap_set32(&f, 4, 1u << 30); /* over HOMA_PCAP_MAX_BLOCK */
	assert_int_equal(t_open(&r, &f, f.n), -EMSGSIZE);
}

/* homa_pcap_read() on a file by its path, and on a missing one. */
static void homa_pcap_read__path(void **state)
{
	static struct tpcap_file f;
	struct t_seen s = { 0 };
	char path[64];
	uint8_t p[100];
	size_t n = tpcap_ipv4(p, IPPROTO_HOMA, 8, 0, 0);
	FILE *out;

	(void)state;
	tpcap_classic(&f, false, false, T_LINK_RAW);
	tpcap_record(&f, 0, 0, p, (uint32_t)n);
	tpcap_record(&f, 0, 0, p, (uint32_t)n);
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
	static struct tpcap_file f;
	struct homa_pcap_frame fr;
	struct t_seen s = { 0 };
	struct homa_pcap r;
	uint8_t p[100];
	size_t n = tpcap_ipv4(p, IPPROTO_HOMA, 8, 0, 0), end;

	(void)state;
	tpcap_classic(&f, false, false, T_LINK_RAW);
	tpcap_record(&f, 0, 0, p, (uint32_t)n);
	end = f.n;
	tpcap_record(&f, 0, 0, p, (uint32_t)n);
	assert_int_equal(t_read_n(&f, end + 7, 0, &s, &r), -ENODATA);
	assert_int_equal(r.frames, 1);
	assert_int_equal(s.num, 1);
	assert_int_equal(t_read_n(&f, f.n - 1, 0, &s, &r), -ENODATA);
	tpcap_set32(&f, end + 8, 1000); /* caplen beyond the file */
	assert_int_equal(t_read(&f, 0, &s, &r), -ENODATA);
	tpcap_set32(&f, end + 8, HOMA_PCAP_MAX_FRAME + 1);
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
	static struct tpcap_file f;
	struct t_seen s = { 0 };
	struct homa_pcap r;
	uint8_t p[100];
	size_t n = tpcap_ipv4(p, IPPROTO_HOMA, 8, 0, 0), epb;

	(void)state;
	f.n = 0;
	tpcap_shb(&f, false);
	tpcap_idb(&f, T_LINK_RAW, -1);
	epb = f.n;
	tpcap_epb(&f, 0, 1, p, (uint32_t)n);
	assert_int_equal(t_read(&f, 0, &s, &r), 1);

	tpcap_set32(&f, epb + 4, 0); /* zero-length block */
	assert_int_equal(t_read(&f, 0, &s, &r), -EBADMSG);
	tpcap_set32(&f, epb + 4, 30); /* not a multiple of 4 */
	assert_int_equal(t_read(&f, 0, &s, &r), -EBADMSG);
	tpcap_set32(&f, epb + 4, 28); /* below an EPB's fields */
	assert_int_equal(t_read(&f, 0, &s, &r), -EBADMSG);
	tpcap_set32(&f, epb + 4,
		    (uint32_t)(f.n - epb + 4)); /* beyond the file */
	assert_int_equal(t_read(&f, 0, &s, &r), -ENODATA);
	tpcap_set32(&f, epb + 4, HOMA_PCAP_MAX_BLOCK + 4);
	assert_int_equal(t_read(&f, 0, &s, &r), -EMSGSIZE);
	tpcap_set32(&f, epb + 4, (uint32_t)(f.n - epb));
	tpcap_set32(&f, f.n - 4, 64); /* the trailer differs */
	assert_int_equal(t_read(&f, 0, &s, &r), -EBADMSG);
	tpcap_set32(&f, f.n - 4, (uint32_t)(f.n - epb));
	tpcap_set32(&f, epb + 20, 100); /* caplen beyond its block */
	assert_int_equal(t_read(&f, 0, &s, &r), -EBADMSG);
	tpcap_set32(&f, epb + 20, (uint32_t)n);
	tpcap_set32(&f, epb + 8, 1); /* an interface not described */
	assert_int_equal(t_read(&f, 0, &s, &r), -EBADMSG);
	tpcap_set32(&f, epb + 8, 0);
	assert_int_equal(t_read(&f, 0, &s, &r), 1);
	assert_int_equal(t_read_n(&f, f.n + 0 - 2, 0, &s, &r), -ENODATA);
	assert_int_equal(t_read_n(&f, epb + 4, 0, &s, &r), -ENODATA);

	/* An IDB shorter than its fields; a packet block before any IDB. */
	f.n = 0;
	tpcap_shb(&f, false);
	tpcap_block(&f, 1, "\x01\x00\x00\x00", 4);
	assert_int_equal(t_read(&f, 0, &s, &r), -EBADMSG);
	f.n = 0;
	tpcap_shb(&f, false);
	tpcap_block(&f, 3, p, n);
	assert_int_equal(t_read(&f, 0, &s, &r), -EBADMSG);
	/* A later section with a wrong byte-order magic. */
	f.n = 0;
	tpcap_shb(&f, false);
	tpcap_shb(&f, false);
	f.d[28 + 8] = 0;
	assert_int_equal(t_read(&f, 0, &s, &r), -EINVAL);
	/* More interfaces than the reader keeps: a packet of the last. */
	f.n = 0;
	tpcap_shb(&f, false);
	for (int i = 0; i <= HOMA_PCAP_MAX_IFACES; i++)
		tpcap_idb(&f, T_LINK_RAW, -1);
	tpcap_epb(&f, HOMA_PCAP_MAX_IFACES - 1, 1, p, (uint32_t)n);
	tpcap_epb(&f, HOMA_PCAP_MAX_IFACES, 1, p, (uint32_t)n);
	assert_int_equal(t_read(&f, 0, &s, &r), -ENOTSUP);
	assert_int_equal(r.frames, 1);
}

/* Every prefix of a valid file: the packets of the whole records it holds,
 * then the end (at a record's end) or -ENODATA (inside one). */
static void homa_pcap_each__every_truncated_file(void **state)
{
	static struct tpcap_file f;
	struct homa_pcap r;
	uint8_t p[200];
	size_t n = tpcap_ipv4(p, IPPROTO_HOMA, 30, 0, 0);
	size_t ends[8]; /* where a whole record or block ends */
	int counts[8];	/* Homa packets before it */
	int num_ends;

	(void)state;
	for (int ng = 0; ng <= 1; ng++) {
		num_ends = 0;
		if (ng) {
			f.n = 0;
			tpcap_shb(&f, true);
			ends[num_ends] = f.n;
			counts[num_ends++] = 0;
			tpcap_idb(&f, T_LINK_RAW, 9);
		} else {
			tpcap_classic(&f, true, true, T_LINK_RAW);
		}
		ends[num_ends] = f.n;
		counts[num_ends++] = 0;
		for (int i = 0; i < 3; i++) {
			if (ng)
				tpcap_epb(&f, 0, (uint64_t)i, p,
					  (uint32_t)n - (uint32_t)i);
			else
				tpcap_record(&f, 0, (uint32_t)i, p,
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
				n = tpcap_eth(p, kind == 1 ? 0x86dd : 0x0800,
					      2);
			else if (links[l] == T_LINK_SLL)
				tpcap_be16(p + 14, kind == 1 ? 0x86dd : 0x0800);
			else if (links[l] == T_LINK_SLL2)
				tpcap_be16(p, kind == 1 ? 0x86dd : 0x0800);
			if (links[l] == T_LINK_SLL)
				n = 16;
			else if (links[l] == T_LINK_SLL2)
				n = 20;
			else if (links[l] == T_LINK_NULL)
				n = 4;
			hdr = n + (kind == 0 ? 20 : kind == 1 ? 48 : 28);
			if (kind == 0)
				n += tpcap_ipv4(p + n, IPPROTO_HOMA, 40, 0, 0);
			else if (kind == 1)
				n += tpcap_ipv6(p + n, IPPROTO_HOMA, 40, true);
			else
				n += tpcap_udp4(p + n, 40);
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
	n = tpcap_ipv4(p, IPPROTO_HOMA, 40, 0, 0);
	fr.caplen = (uint32_t)n;
	assert_int_equal(homa_pcap_homa(&fr, 0, &pkt), HOMA_PCAP_IS_HOMA);
	p[0] = 0x44; /* IHL 16 bytes */
	assert_int_equal(homa_pcap_homa(&fr, 0, &pkt), HOMA_PCAP_SKIP_NOT_IP);
	p[0] = 0x4f; /* IHL 60 bytes: fine, inside the packet */
	assert_int_equal(homa_pcap_homa(&fr, 0, &pkt), HOMA_PCAP_IS_HOMA);
	assert_int_equal(pkt.homa_bytes, n - 60);
	p[0] = 0x45;
	tpcap_be16(p + 2, 12); /* total length below the header */
	assert_int_equal(homa_pcap_homa(&fr, 0, &pkt), HOMA_PCAP_SKIP_NOT_HOMA);
	p[0] = 0x35; /* IP version 3 */
	assert_int_equal(homa_pcap_homa(&fr, 0, &pkt), HOMA_PCAP_SKIP_NOT_IP);

	n = tpcap_udp4(p, 40);
	fr.caplen = (uint32_t)n;
	tpcap_be16(p + 24, 49); /* beyond the IP packet */
	assert_int_equal(homa_pcap_homa(&fr, HOMA_PCAP_UDP, &pkt),
			 HOMA_PCAP_SKIP_NOT_HOMA);
	tpcap_be16(p + 24, 7); /* below the UDP header */
	assert_int_equal(homa_pcap_homa(&fr, HOMA_PCAP_UDP, &pkt),
			 HOMA_PCAP_SKIP_NOT_HOMA);
	tpcap_be16(p + 24, 20); /* shorter than IP says: UDP's length counts */
	assert_int_equal(homa_pcap_homa(&fr, HOMA_PCAP_UDP, &pkt),
			 HOMA_PCAP_IS_HOMA);
	assert_int_equal(pkt.homa_bytes, 12);
	assert_int_equal(pkt.wire_bytes, 12);

	/* IPv6 options running past the packet. */
	n = tpcap_ipv6(p, IPPROTO_HOMA, 40, true);
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
