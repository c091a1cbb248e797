/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tnpcap.c - reading pcap and pcapng captures for the interop tests (see
 * tnpcap.h). The whole file is read into memory (captures of tests are a
 * few megabytes); every length is checked before a byte is read.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "homa.h"
#include "tnpcap.h"
#include "wire.h"

#define PCAP_MAGIC_US  0xa1b2c3d4u /* classic, microsecond stamps */
#define PCAP_MAGIC_NS  0xa1b23c4du /* classic, nanosecond stamps */
#define PCAPNG_SHB     0x0a0d0d0au /* section header block */
#define PCAPNG_IDB     1u	   /* interface description block */
#define PCAPNG_SPB     3u	   /* simple packet block */
#define PCAPNG_EPB     6u	   /* enhanced packet block */
#define PCAPNG_BOM     0x1a2b3c4du /* byte-order magic */
#define PCAPNG_MAX_IFS 16	   /* interfaces we keep track of */
#define LINK_ETHERNET  1
#define LINK_RAW       101
#define LINK_IPV4      228
#define LINK_IPV6      229
#define ETH_P_IPV4     0x0800
#define ETH_P_IPV6     0x86dd
#define ETH_P_VLAN     0x8100

/* A file in memory and its byte order. */
struct pcap_buf {
	const uint8_t *p; /* file contents */
	size_t len;	  /* bytes at p */
	bool swap;	  /* fields are big-endian */
};

static uint32_t rd32(const struct pcap_buf *b, size_t off)
{
	const uint8_t *q = b->p + off;

	if (b->swap)
		return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 |
		       (uint32_t)q[2] << 8 | q[3];
	return (uint32_t)q[3] << 24 | (uint32_t)q[2] << 16 |
	       (uint32_t)q[1] << 8 | q[0];
}

static uint16_t rd16(const struct pcap_buf *b, size_t off)
{
	const uint8_t *q = b->p + off;

	return b->swap ? (uint16_t)(q[0] << 8 | q[1])
		       : (uint16_t)(q[1] << 8 | q[0]);
}

static uint16_t be16(const uint8_t *q)
{
	return (uint16_t)(q[0] << 8 | q[1]);
}

/* Hand one frame of link type link to fn if it is Homa over IP: returns 1
 * if it was (fn's return in *ret), 0 if the frame was skipped. */
static int pcap_frame(int link, const uint8_t *f, size_t n,
		      struct tn_pcap_pkt *pkt, tn_pcap_fn fn, void *arg,
		      int *ret)
{
	size_t ip_bytes, hdr;
	uint16_t ethertype;

	if (link == LINK_ETHERNET) {
		if (n < 14)
			return 0;
		ethertype = be16(f + 12);
		f += 14;
		n -= 14;
		if (ethertype == ETH_P_VLAN) {
			if (n < 4)
				return 0;
			ethertype = be16(f + 2);
			f += 4;
			n -= 4;
		}
		if (ethertype != ETH_P_IPV4 && ethertype != ETH_P_IPV6)
			return 0;
	}
	if (n < 1)
		return 0;
	memset(&pkt->src, 0, sizeof(pkt->src));
	memset(&pkt->dst, 0, sizeof(pkt->dst));
	if ((f[0] >> 4) == 4) {
		hdr = (size_t)(f[0] & 0xf) * 4;
		if (n < HOMA_WIRE_IPV4_BYTES || hdr < HOMA_WIRE_IPV4_BYTES ||
		    n < hdr || f[9] != IPPROTO_HOMA)
			return 0;
		ip_bytes = be16(f + 2);
		homa_addr_set_v4(&pkt->src, f + 12);
		homa_addr_set_v4(&pkt->dst, f + 16);
	} else if ((f[0] >> 4) == 6) {
		hdr = HOMA_WIRE_IPV6_BYTES;
		if (n < hdr || f[6] != IPPROTO_HOMA)
			return 0;
		ip_bytes = hdr + be16(f + 4);
		memcpy(pkt->src.a, f + 8, 16);
		memcpy(pkt->dst.a, f + 24, 16);
	} else {
		return 0;
	}
	if (ip_bytes < hdr)
		return 0;
	if (ip_bytes > n) /* cut by the snap length */
		ip_bytes = n;
	pkt->homa = f + hdr;
	pkt->homa_bytes = ip_bytes - hdr;
	*ret = fn(arg, pkt);
	return 1;
}

static int pcap_classic(const struct pcap_buf *b, bool ns, tn_pcap_fn fn,
			void *arg)
{
	struct tn_pcap_pkt pkt;
	size_t off = 24;
	int link, count = 0, ret = 0;

	if (b->len < 24)
		return -EINVAL;
	link = (int)(rd32(b, 20) & 0xffff);
	if (link != LINK_ETHERNET && link != LINK_RAW && link != LINK_IPV4 &&
	    link != LINK_IPV6)
		return -ENOTSUP;
	for (uint64_t index = 1; off < b->len; index++) {
		uint32_t caplen;

		if (b->len - off < 16)
			return -EINVAL;
		caplen = rd32(b, off + 8);
		if (b->len - off - 16 < caplen)
			return -EINVAL;
		pkt.index = index;
		pkt.ts_ns = (uint64_t)rd32(b, off) * 1000000000ull +
			    (uint64_t)rd32(b, off + 4) * (ns ? 1 : 1000);
		count += pcap_frame(link, b->p + off + 16, caplen, &pkt, fn,
				    arg, &ret);
		if (ret)
			return ret;
		off += 16 + (size_t)caplen;
	}
	return count;
}

/* if_tsresol of an interface description block's options (default us):
 * nanoseconds per tick. */
static uint64_t pcapng_tick_ns(const struct pcap_buf *b, size_t opt, size_t end)
{
	while (end - opt >= 4) {
		uint16_t code = rd16(b, opt), len = rd16(b, opt + 2);

		if (code == 0 || end - opt - 4 < len)
			break;
		if (code == 9 && len >= 1) {
			uint8_t r = b->p[opt + 4];
			uint64_t t = 1000000000ull;

			if (r & 0x80) /* power of two: not in our captures */
				return 1000;
			for (int i = 0; i < r && t > 1; i++)
				t /= 10;
			return t ? t : 1;
		}
		opt += 4 + (((size_t)len + 3) & ~(size_t)3);
	}
	return 1000;
}

static int pcapng(struct pcap_buf *b, tn_pcap_fn fn, void *arg)
{
	int links[PCAPNG_MAX_IFS], num_ifs = 0, count = 0, ret = 0;
	uint64_t ticks[PCAPNG_MAX_IFS], index = 0;
	struct tn_pcap_pkt pkt;
	size_t off = 0;

	while (off < b->len) {
		uint32_t type, total;

		if (b->len - off < 12)
			return -EINVAL;
		if (rd32(b, off) == PCAPNG_SHB) {
			uint32_t bom = rd32(b, off + 8);

			if (bom != PCAPNG_BOM) {
				b->swap = !b->swap;
				if (rd32(b, off + 8) != PCAPNG_BOM)
					return -EINVAL;
			}
			num_ifs = 0;
		}
		type = rd32(b, off);
		total = rd32(b, off + 4);
		if (total < 12 || total % 4 || b->len - off < total)
			return -EINVAL;
		if (type == PCAPNG_IDB && total >= 20 &&
		    num_ifs < PCAPNG_MAX_IFS) {
			links[num_ifs] = rd16(b, off + 8);
			ticks[num_ifs++] =
				pcapng_tick_ns(b, off + 16, off + total - 4);
		} else if (type == PCAPNG_EPB || type == PCAPNG_SPB) {
			size_t data = off + (type == PCAPNG_EPB ? 28 : 12);
			uint32_t ifc =
				type == PCAPNG_EPB ? rd32(b, off + 8) : 0;
			uint32_t caplen;
			int link;

			if (data > off + total - 4 || ifc >= (uint32_t)num_ifs)
				return -EINVAL;
			caplen = type == PCAPNG_EPB ? rd32(b, off + 20)
						    : (uint32_t)(total - 16);
			if (caplen > off + total - 4 - data)
				return -EINVAL;
			link = links[ifc];
			if (link != LINK_ETHERNET && link != LINK_RAW &&
			    link != LINK_IPV4 && link != LINK_IPV6)
				return -ENOTSUP;
			pkt.index = ++index;
			pkt.ts_ns =
				type == PCAPNG_EPB
					? ((uint64_t)rd32(b, off + 12) << 32 |
					   rd32(b, off + 16)) *
						  ticks[ifc]
					: 0;
			count += pcap_frame(link, b->p + data, caplen, &pkt, fn,
					    arg, &ret);
			if (ret)
				return ret;
		}
		off += total;
	}
	return count;
}

int tn_pcap_read(const char *path, tn_pcap_fn fn, void *arg)
{
	struct pcap_buf b = { NULL, 0, false };
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	uint32_t magic;
	long size;
	int ret;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) < 0) {
		ret = -EIO;
		goto out;
	}
	data = malloc((size_t)size + 1);
	if (!data) {
		ret = -ENOMEM;
		goto out;
	}
	if (fread(data, 1, (size_t)size, f) != (size_t)size) {
		ret = -EIO;
		goto out;
	}
	b.p = data;
	b.len = (size_t)size;
	if (b.len < 4) {
		ret = -EINVAL;
		goto out;
	}
	magic = rd32(&b, 0);
	if (magic == PCAPNG_SHB) {
		ret = pcapng(&b, fn, arg);
		goto out;
	}
	if (magic != PCAP_MAGIC_US && magic != PCAP_MAGIC_NS) {
		b.swap = true;
		magic = rd32(&b, 0);
	}
	if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS)
		ret = pcap_classic(&b, magic == PCAP_MAGIC_NS, fn, arg);
	else
		ret = -EINVAL;
out:
	free(data);
	fclose(f);
	return ret;
}
