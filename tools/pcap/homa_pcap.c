/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * homa_pcap.c - reading pcap and pcapng captures (see homa_pcap.h). One
 * record or block is in memory at a time (r->buf); every length is checked
 * against what was read before a byte is used.
 */
#include <errno.h>
#include <limits.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "homa.h"
#include "homa_pcap.h"
#include "wire.h"

#define HP_MAGIC_US	 0xa1b2c3d4u /* classic pcap, microsecond stamps */
#define HP_MAGIC_NS	 0xa1b23c4du /* classic pcap, nanosecond stamps */
#define HP_CLASSIC_BYTES 24	     /* classic pcap file header */
#define HP_RECORD_BYTES	 16	     /* classic pcap record header */
#define HP_LINK_MASK	 0x0fffffffu /* link type bits of the header */
#define HP_SHB		 0x0a0d0d0au /* pcapng section header block */
#define HP_IDB		 1u	     /* interface description block */
#define HP_SPB		 3u	     /* simple packet block */
#define HP_EPB		 6u	     /* enhanced packet block */
#define HP_BOM		 0x1a2b3c4du /* pcapng byte-order magic */
#define HP_SHB_MIN	 28	     /* bytes of the smallest SHB */
#define HP_IDB_MIN	 20	     /* ... IDB */
#define HP_SPB_MIN	 16	     /* ... SPB */
#define HP_EPB_MIN	 32	     /* ... EPB */
#define HP_BLOCK_MIN	 12	     /* ... block of any type */
#define HP_OPT_TSRESOL	 9	     /* IDB option if_tsresol */
#define HP_TSRESOL_US	 6	     /* if_tsresol's default: 10^-6 s */
#define HP_NS_PER_S	 1000000000ull

/* Link types (LINKTYPE_* numbers of the pcap registry). */
#define HP_LINK_NULL	  0	 /* BSD loopback */
#define HP_LINK_ETHERNET  1	 /* Ethernet */
#define HP_LINK_RAW_OLD1  12	 /* raw IP, as some systems number it */
#define HP_LINK_RAW_OLD2  14	 /* raw IP, likewise */
#define HP_LINK_LOOP	  108	 /* OpenBSD loopback */
#define HP_LINK_RAW	  101	 /* raw IP */
#define HP_LINK_SLL	  113	 /* Linux cooked v1 */
#define HP_LINK_IPV4	  228	 /* raw IPv4 */
#define HP_LINK_IPV6	  229	 /* raw IPv6 */
#define HP_LINK_SLL2	  276	 /* Linux cooked v2 */
#define HP_LOOP_BYTES	  4	 /* BSD loopback: the address family */
#define HP_SLL_BYTES	  16	 /* Linux cooked v1 header */
#define HP_SLL_PROTO	  14	 /* ... offset of its protocol */
#define HP_SLL2_BYTES	  20	 /* Linux cooked v2 header */
#define HP_VLAN_TAG_BYTES 4	 /* one 802.1Q/802.1ad tag */
#define HP_ETH_TYPE	  12	 /* offset of the (first) EtherType */
#define HP_UNKNOWN_LINK	  (-2)	 /* hp_ip_offset: link type unknown */
#define HP_IPV6_EXT_UNIT  8	 /* IPv6 extension header length unit */
#define HP_IPV4_FRAG_MASK 0x3fff /* IPv4 MF flag and fragment offset */

static uint32_t hp_u32(const struct homa_pcap *r, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return r->swap ? __builtin_bswap32(v) : v;
}

static uint16_t hp_u16(const struct homa_pcap *r, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return r->swap ? __builtin_bswap16(v) : v;
}

static uint16_t hp_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Read exactly n bytes: 0, -ENODATA (the file ended first) or -EIO. */
static int hp_read(struct homa_pcap *r, void *p, size_t n)
{
	if (fread(p, 1, n, r->f) == n)
		return 0;
	return ferror(r->f) ? -EIO : -ENODATA;
}

/* The start of a record or block: 1 if read, 0 at a clean end of file
 * (nothing read), -ENODATA if the file ends inside it, -EIO. */
static int hp_read_start(struct homa_pcap *r, void *p, size_t n)
{
	size_t got = fread(p, 1, n, r->f);

	if (got == n)
		return 1;
	if (ferror(r->f))
		return -EIO;
	return got == 0 ? 0 : -ENODATA;
}

/*
 * hp_block_rest() - the rest of a pcapng block whose first `done` bytes
 * were read: checks its total length (at least min_total, a multiple of
 * 4, at most HOMA_PCAP_MAX_BLOCK), reads the rest into r->buf and checks
 * that the block ends with its length again.
 */
static int hp_block_rest(struct homa_pcap *r, uint32_t total,
			 uint32_t min_total, uint32_t done)
{
	int ret;

	if (total < min_total || total % 4)
		return -EBADMSG;
	if (total > HOMA_PCAP_MAX_BLOCK)
		return -EMSGSIZE;
	ret = hp_read(r, r->buf, total - done);
	if (ret < 0)
		return ret;
	if (hp_u32(r, r->buf + total - done - 4) != total)
		return -EBADMSG;
	return 0;
}

/* A section header block whose type and length are in h[0..8): reads its
 * byte-order magic (which sets r->swap) and the rest of the block. */
static int hp_shb(struct homa_pcap *r, uint8_t h[12])
{
	uint32_t bom;
	int ret;

	ret = hp_read(r, h + 8, 4);
	if (ret < 0)
		return ret;
	memcpy(&bom, h + 8, 4);
	if (bom == HP_BOM)
		r->swap = false;
	else if (__builtin_bswap32(bom) == HP_BOM)
		r->swap = true;
	else
		return -EINVAL;
	r->ng_num_ifaces = 0;
	return hp_block_rest(r, hp_u32(r, h + 4), HP_SHB_MIN, 12);
}

int homa_pcap_open_stream(struct homa_pcap *r, FILE *f)
{
	uint8_t h[HP_CLASSIC_BYTES];
	uint32_t magic;
	int ret;

	memset(r, 0, sizeof(*r));
	r->f = f;
	r->buf = malloc(HOMA_PCAP_MAX_BLOCK);
	if (!r->buf) {
		ret = -ENOMEM;
		goto fail;
	}
	/* A file too short for a magic number is no capture either. */
	ret = hp_read(r, h, 4);
	if (ret == -ENODATA)
		ret = -EINVAL;
	if (ret < 0)
		goto fail;
	memcpy(&magic, h, 4);
	if (magic == HP_SHB) {
		r->ng = true;
		ret = hp_read(r, h + 4, 4);
		if (ret == 0)
			ret = hp_shb(r, h);
		if (ret < 0)
			goto fail;
		return 0;
	}
	if (magic == HP_MAGIC_US || magic == HP_MAGIC_NS) {
		r->swap = false;
	} else if (__builtin_bswap32(magic) == HP_MAGIC_US ||
		   __builtin_bswap32(magic) == HP_MAGIC_NS) {
		r->swap = true;
	} else {
		ret = -EINVAL;
		goto fail;
	}
	r->classic_ns = hp_u32(r, h) == HP_MAGIC_NS;
	ret = hp_read(r, h + 4, HP_CLASSIC_BYTES - 4);
	if (ret < 0)
		goto fail;
	r->link = hp_u32(r, h + 20) & HP_LINK_MASK;
	return 0;

fail:
	homa_pcap_close(r);
	return ret;
}

int homa_pcap_open(struct homa_pcap *r, const char *path)
{
	FILE *f = fopen(path, "rb");

	if (!f) {
		memset(r, 0, sizeof(*r));
		return -errno;
	}
	return homa_pcap_open_stream(r, f);
}

void homa_pcap_close(struct homa_pcap *r)
{
	if (r->f)
		fclose(r->f);
	free(r->buf);
	r->f = NULL;
	r->buf = NULL;
}

/* ticks of 10^-n s (or 2^-n s if bit 7 of tsresol is set) in ns. */
static uint64_t hp_ticks_ns(uint64_t ticks, uint8_t tsresol)
{
	unsigned int n = tsresol & 0x7f;
	uint64_t scale = 1;

	if (tsresol & 0x80)
		return (uint64_t)((unsigned __int128)ticks * HP_NS_PER_S >> n);
	if (n <= 9) {
		for (unsigned int i = n; i < 9; i++)
			scale *= 10;
		return ticks * scale;
	}
	if (n - 9 > 19) /* 10^20 exceeds any tick count */
		return 0;
	for (unsigned int i = 9; i < n; i++)
		scale *= 10;
	return ticks / scale;
}

/* An interface description block in r->buf (total bytes in all): records
 * its link type and time resolution (option if_tsresol). */
static void hp_idb(struct homa_pcap *r, uint32_t total)
{
	struct homa_pcap_iface *ifc;
	size_t opt = 8, end = total - 12; /* options: after link, snaplen */

	if (r->ng_num_ifaces >= HOMA_PCAP_MAX_IFACES) {
		if (r->ng_num_ifaces < UINT32_MAX)
			r->ng_num_ifaces++;
		return;
	}
	ifc = &r->ng_ifaces[r->ng_num_ifaces++];
	ifc->link = hp_u16(r, r->buf);
	ifc->tsresol = HP_TSRESOL_US;
	while (end - opt >= 4) {
		uint16_t code = hp_u16(r, r->buf + opt);
		uint16_t len = hp_u16(r, r->buf + opt + 2);

		if (code == 0 || end - opt - 4 < len)
			break; /* end of options, or a damaged one: ignored */
		if (code == HP_OPT_TSRESOL && len >= 1)
			ifc->tsresol = r->buf[opt + 4];
		opt += 4 + (((size_t)len + 3) & ~(size_t)3);
		if (opt > end)
			break;
	}
}

/* The interface of a packet block: its index, or -errno. */
static int hp_iface(const struct homa_pcap *r, uint32_t iface)
{
	if (iface >= r->ng_num_ifaces)
		return -EBADMSG;
	if (iface >= HOMA_PCAP_MAX_IFACES)
		return -ENOTSUP;
	return (int)iface;
}

/* The next packet block of a pcapng file: 1, 0 at the end, or -errno. */
static int hp_next_ng(struct homa_pcap *r, struct homa_pcap_frame *fr)
{
	for (;;) {
		uint8_t h[12];
		uint32_t type, total, body, cap;
		int ret, ifc;

		ret = hp_read_start(r, h, 8);
		if (ret <= 0)
			return ret;
		memcpy(&type, h, 4); /* SHB's type reads the same both ways */
		if (type == HP_SHB) {
			ret = hp_shb(r, h);
			if (ret < 0)
				return ret;
			continue;
		}
		type = hp_u32(r, h);
		total = hp_u32(r, h + 4);
		switch (type) {
		case HP_IDB:
			ret = hp_block_rest(r, total, HP_IDB_MIN, 8);
			if (ret < 0)
				return ret;
			hp_idb(r, total);
			continue;
		case HP_EPB:
			ret = hp_block_rest(r, total, HP_EPB_MIN, 8);
			if (ret < 0)
				return ret;
			body = total - 12; /* without type, length, trailer */
			ifc = hp_iface(r, hp_u32(r, r->buf));
			if (ifc < 0)
				return ifc;
			cap = hp_u32(r, r->buf + 12);
			if (cap > body - 20)
				return -EBADMSG;
			fr->ts_ns = hp_ticks_ns((uint64_t)hp_u32(r, r->buf + 4)
								<< 32 |
							hp_u32(r, r->buf + 8),
						r->ng_ifaces[ifc].tsresol);
			fr->data = r->buf + 20;
			break;
		case HP_SPB:
			ret = hp_block_rest(r, total, HP_SPB_MIN, 8);
			if (ret < 0)
				return ret;
			body = total - 12;
			ifc = hp_iface(r, 0);
			if (ifc < 0)
				return ifc;
			cap = hp_u32(r, r->buf); /* the packet's length */
			if (cap > body - 4)	 /* cut by the snap length */
				cap = body - 4;
			fr->ts_ns = 0;
			fr->data = r->buf + 4;
			break;
		default:
			ret = hp_block_rest(r, total, HP_BLOCK_MIN, 8);
			if (ret < 0)
				return ret;
			continue;
		}
		fr->link = r->ng_ifaces[ifc].link;
		fr->caplen = cap;
		return 1;
	}
}

/* The next record of a classic pcap file: 1, 0 at the end, or -errno. */
static int hp_next_classic(struct homa_pcap *r, struct homa_pcap_frame *fr)
{
	uint8_t h[HP_RECORD_BYTES];
	uint32_t incl;
	int ret;

	ret = hp_read_start(r, h, sizeof(h));
	if (ret <= 0)
		return ret;
	incl = hp_u32(r, h + 8);
	if (incl > HOMA_PCAP_MAX_FRAME)
		return -EMSGSIZE;
	ret = hp_read(r, r->buf, incl);
	if (ret < 0)
		return ret;
	fr->ts_ns = (uint64_t)hp_u32(r, h) * HP_NS_PER_S +
		    (uint64_t)hp_u32(r, h + 4) * (r->classic_ns ? 1 : 1000);
	fr->link = r->link;
	fr->data = r->buf;
	fr->caplen = incl;
	return 1;
}

int homa_pcap_next(struct homa_pcap *r, struct homa_pcap_frame *fr)
{
	int ret;

	if (r->err)
		return r->err;
	ret = r->ng ? hp_next_ng(r, fr) : hp_next_classic(r, fr);
	if (ret < 0) {
		r->err = ret;
		return ret;
	}
	if (ret == 1)
		fr->index = ++r->frames;
	return ret;
}

/*
 * hp_ip_offset() - where the IP header starts in a frame of the given
 * link type: its offset, -1 if the frame carries no IP, HP_UNKNOWN_LINK.
 */
static long hp_ip_offset(const uint8_t *p, uint32_t len, uint32_t link)
{
	uint32_t off;
	uint16_t ethertype;

	switch (link) {
	case HP_LINK_ETHERNET: /* with any number of VLAN tags */
		if (len < ETH_HLEN)
			return -1;
		off = HP_ETH_TYPE;
		ethertype = hp_be16(p + off);
		while ((ethertype == ETH_P_8021Q ||
			ethertype == ETH_P_8021AD) &&
		       off + HP_VLAN_TAG_BYTES + 2 <= len) {
			off += HP_VLAN_TAG_BYTES;
			ethertype = hp_be16(p + off);
		}
		off += 2;
		break;
	case HP_LINK_SLL:
		if (len < HP_SLL_BYTES)
			return -1;
		ethertype = hp_be16(p + HP_SLL_PROTO);
		off = HP_SLL_BYTES;
		break;
	case HP_LINK_SLL2:
		if (len < HP_SLL2_BYTES)
			return -1;
		ethertype = hp_be16(p);
		off = HP_SLL2_BYTES;
		break;
	case HP_LINK_NULL:
	case HP_LINK_LOOP:
		return len >= HP_LOOP_BYTES ? HP_LOOP_BYTES : -1;
	case HP_LINK_RAW:
	case HP_LINK_RAW_OLD1:
	case HP_LINK_RAW_OLD2:
	case HP_LINK_IPV4:
	case HP_LINK_IPV6:
		return 0;
	default:
		return HP_UNKNOWN_LINK;
	}
	if (ethertype != ETH_P_IP && ethertype != ETH_P_IPV6)
		return -1;
	return off < len ? (long)off : -1;
}

/* The IPv4 header at p[0..len): sets *off (its length), *end (the IP
 * total length), the addresses and TOS; 0 or a skip reason. */
static int hp_ipv4(const uint8_t *p, uint32_t len, uint32_t *off, uint32_t *end,
		   uint8_t *proto, struct homa_pcap_pkt *pkt)
{
	if (len < HOMA_WIRE_IPV4_BYTES ||
	    (p[0] & 0xf) * 4 < HOMA_WIRE_IPV4_BYTES)
		return HOMA_PCAP_SKIP_NOT_IP;
	if ((hp_be16(p + 6) & HP_IPV4_FRAG_MASK) != 0)
		return HOMA_PCAP_SKIP_FRAGMENT;
	*off = (uint32_t)(p[0] & 0xf) * 4;
	*end = hp_be16(p + 2);
	*proto = p[9];
	pkt->tos = p[1];
	homa_addr_set_v4(&pkt->src, p + 12);
	homa_addr_set_v4(&pkt->dst, p + 16);
	return 0;
}

/* The same for IPv6, past hop-by-hop, routing and destination options. */
static int hp_ipv6(const uint8_t *p, uint32_t len, uint32_t *off, uint32_t *end,
		   uint8_t *proto, struct homa_pcap_pkt *pkt)
{
	if (len < HOMA_WIRE_IPV6_BYTES)
		return HOMA_PCAP_SKIP_NOT_IP;
	*off = HOMA_WIRE_IPV6_BYTES;
	*end = HOMA_WIRE_IPV6_BYTES + hp_be16(p + 4);
	*proto = p[6];
	pkt->tos = (uint8_t)((p[0] & 0xf) << 4 | p[1] >> 4);
	memcpy(pkt->src.a, p + 8, 16);
	memcpy(pkt->dst.a, p + 24, 16);
	while ((*proto == IPPROTO_HOPOPTS || *proto == IPPROTO_ROUTING ||
		*proto == IPPROTO_DSTOPTS) &&
	       *off + HP_IPV6_EXT_UNIT <= len) {
		*proto = p[*off];
		*off += HP_IPV6_EXT_UNIT * (p[*off + 1] + 1u);
	}
	return 0;
}

int homa_pcap_homa(const struct homa_pcap_frame *fr, unsigned int flags,
		   struct homa_pcap_pkt *pkt)
{
	uint32_t len, off, end, cap_end, udp_bytes;
	const uint8_t *p;
	uint8_t proto;
	long ip;
	int ret;

	ip = hp_ip_offset(fr->data, fr->caplen, fr->link);
	if (ip == HP_UNKNOWN_LINK)
		return HOMA_PCAP_SKIP_LINK;
	if (ip < 0)
		return HOMA_PCAP_SKIP_NOT_IP;
	p = fr->data + ip;
	len = fr->caplen - (uint32_t)ip;
	memset(pkt, 0, sizeof(*pkt));
	if (len >= 1 && p[0] >> 4 == 4)
		ret = hp_ipv4(p, len, &off, &end, &proto, pkt);
	else if (len >= 1 && p[0] >> 4 == 6)
		ret = hp_ipv6(p, len, &off, &end, &proto, pkt);
	else
		ret = HOMA_PCAP_SKIP_NOT_IP;
	if (ret)
		return ret;
	/* A capture may keep fewer bytes than the IP header declares. */
	cap_end = end < len ? end : len;
	if (off > cap_end)
		return HOMA_PCAP_SKIP_NOT_HOMA;
	if (proto == IPPROTO_UDP && (flags & HOMA_PCAP_UDP)) {
		if (cap_end - off < HOMA_WIRE_UDP_BYTES)
			return HOMA_PCAP_SKIP_NOT_HOMA;
		udp_bytes = hp_be16(p + off + 4);
		if (off + udp_bytes > end || udp_bytes < HOMA_WIRE_UDP_BYTES)
			return HOMA_PCAP_SKIP_NOT_HOMA;
		end = off + udp_bytes;
		if (cap_end > end)
			cap_end = end;
		off += HOMA_WIRE_UDP_BYTES;
		pkt->udp = true;
	} else if (proto != IPPROTO_HOMA) {
		return HOMA_PCAP_SKIP_NOT_HOMA;
	}
	pkt->index = fr->index;
	pkt->ts_ns = fr->ts_ns;
	pkt->homa = p + off;
	pkt->homa_bytes = cap_end - off;
	pkt->wire_bytes = end - off;
	return HOMA_PCAP_IS_HOMA;
}

int homa_pcap_each(struct homa_pcap *r, unsigned int flags, homa_pcap_fn fn,
		   void *arg)
{
	struct homa_pcap_frame fr;
	struct homa_pcap_pkt pkt;
	int ret, skip, count = 0;

	while ((ret = homa_pcap_next(r, &fr)) == 1) {
		skip = homa_pcap_homa(&fr, flags, &pkt);
		if (skip != HOMA_PCAP_IS_HOMA) {
			r->skipped[skip]++;
			continue;
		}
		r->homa_pkts++;
		if (count < INT_MAX)
			count++;
		ret = fn(arg, &pkt);
		if (ret)
			return ret;
	}
	return ret < 0 ? ret : count;
}

int homa_pcap_read(const char *path, unsigned int flags, homa_pcap_fn fn,
		   void *arg)
{
	struct homa_pcap r;
	int ret;

	ret = homa_pcap_open(&r, path);
	if (ret < 0)
		return ret;
	ret = homa_pcap_each(&r, flags, fn, arg);
	homa_pcap_close(&r);
	return ret;
}
