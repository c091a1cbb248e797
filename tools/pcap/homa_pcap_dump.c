/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * homa_pcap_dump.c - homa-pcap-dump: print what the project's wire decoder
 * (homa_wire_decode, src/core/wire.c) reads from every Homa packet of a
 * capture, one line per frame, so that the Wireshark dissector
 * (tools/wireshark/homa.lua) can be checked field by field against it
 * (tests/wireshark/compare.py).
 *
 *   homa-pcap-dump FILE
 *
 * FILE is pcap (either byte order, micro- or nanosecond) or pcapng, with
 * Ethernet, Linux cooked (v1, v2), BSD loopback or raw IP frames. Homa is
 * IP protocol 146, or the payload of any UDP datagram (a capture of the
 * UDP datapath holds nothing else). IP fragments are skipped. Where the
 * capture kept only the start of a packet (snap length), the decoder gets
 * the packet's full length with the bytes not kept as zeros, or, if even
 * the header was cut, the verdict is TRUNCATED.
 *
 * Output: a header line "#" followed by the tab-separated column names,
 * which are the dissector's field names (frame.number, homa.type, ...),
 * then per Homa frame: the frame number, the decoder's verdict (OK or the
 * name of its reason, e.g. BAD_DOFF) and, for OK, every decoded field in
 * tshark's notation (hex for type, doff, flags, checksum and urgent; lists
 * joined by ','). Exit status 0, or 1 with a message if the file cannot be
 * read.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "homa.h"
#include "wire.h"

#define PD_IPPROTO_UDP 17
#define PD_MAX_FRAME   (256 * 1024) /* bytes: larger records are refused */
#define PD_MAX_IFACES  64	    /* pcapng interfaces remembered */

/* The columns, in output order; names are the dissector's fields. */
static const char *const pd_columns[] = {
	"frame.number",
	"verdict",
	"homa.type",
	"homa.sport",
	"homa.dport",
	"homa.seq",
	"homa.doff",
	"homa.flags",
	"homa.checksum",
	"homa.urgent",
	"homa.sender_id",
	"homa.rpc",
	"homa.priority",
	"homa.data.message_length",
	"homa.data.incoming",
	"homa.data.ack_client_id",
	"homa.data.ack_server_port",
	"homa.data.cutoff_version",
	"homa.data.retransmit",
	"homa.data.seg_offset",
	"homa.data.offset",
	"homa.data.payload_length",
	"homa.grant.offset",
	"homa.grant.priority",
	"homa.resend.offset",
	"homa.resend.length",
	"homa.resend.priority",
	"homa.cutoffs.cutoff",
	"homa.cutoffs.version",
	"homa.ack.client_id",
	"homa.ack.server_port",
};
#define PD_NUM_COLUMNS (sizeof(pd_columns) / sizeof(pd_columns[0]))

/* A reader over one capture file. */
struct pd_reader {
	FILE *f;	   /* the file */
	bool ng;	   /* pcapng (else classic pcap) */
	bool swap;	   /* file's byte order differs from ours */
	uint32_t linktype; /* classic pcap: link type of all frames */
	uint32_t ng_links[PD_MAX_IFACES]; /* pcapng: link type per interface */
	uint32_t ng_num_ifaces;		  /* pcapng: interfaces seen */
	uint8_t *buf; /* current record, PD_MAX_FRAME bytes */
};

static uint32_t pd_u32(const struct pd_reader *r, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return r->swap ? __builtin_bswap32(v) : v;
}

static uint16_t pd_u16(const struct pd_reader *r, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return r->swap ? __builtin_bswap16(v) : v;
}

static uint16_t pd_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Open the file and read its header; 0 or -errno (message printed). */
static int pd_open(struct pd_reader *r, const char *path)
{
	uint8_t h[24];
	uint32_t magic;

	memset(r, 0, sizeof(*r));
	r->f = fopen(path, "rb");
	if (!r->f) {
		fprintf(stderr, "homa-pcap-dump: %s: %s\n", path,
			strerror(errno));
		return -errno;
	}
	r->buf = malloc(PD_MAX_FRAME);
	if (!r->buf || fread(h, 1, sizeof(h), r->f) != sizeof(h))
		goto bad;
	if (memcmp(h, "\x0a\x0d\x0d\x0a", 4) == 0) {
		/* pcapng: the byte-order magic follows the block length. */
		r->ng = true;
		r->swap = pd_u32(r, h + 8) != 0x1a2b3c4d;
		if (pd_u32(r, h + 8) != 0x1a2b3c4d)
			goto bad;
		/* Skip the rest of the section header block. */
		if (fseek(r->f, (long)pd_u32(r, h + 4), SEEK_SET) != 0)
			goto bad;
		return 0;
	}
	memcpy(&magic, h, 4);
	switch (magic) {
	case 0xa1b2c3d4:
	case 0xa1b23c4d:
		r->swap = false;
		break;
	case 0xd4c3b2a1:
	case 0x4d3cb2a1:
		r->swap = true;
		break;
	default:
		goto bad;
	}
	r->linktype = pd_u32(r, h + 20) & 0x0fffffff;
	return 0;

bad:
	fprintf(stderr, "homa-pcap-dump: %s: not a pcap or pcapng file\n",
		path);
	return -EINVAL;
}

/*
 * pd_next() - the next frame: its bytes in r->buf, *len and *link.
 * Returns 1, 0 at the end of the file, or -EINVAL for a damaged file.
 */
static int pd_next(struct pd_reader *r, uint32_t *len, uint32_t *link)
{
	uint8_t h[28];

	if (!r->ng) {
		uint32_t incl;

		if (fread(h, 1, 16, r->f) != 16)
			return 0;
		incl = pd_u32(r, h + 8);
		if (incl > PD_MAX_FRAME || fread(r->buf, 1, incl, r->f) != incl)
			return -EINVAL;
		*len = incl;
		*link = r->linktype;
		return 1;
	}
	for (;;) {
		uint32_t type, total, body;

		if (fread(h, 1, 8, r->f) != 8)
			return 0;
		type = pd_u32(r, h);
		total = pd_u32(r, h + 4);
		if (total < 12 || total % 4 || total - 8 > PD_MAX_FRAME)
			return -EINVAL;
		body = total - 8; /* includes the trailing length word */
		if (fread(r->buf, 1, body, r->f) != body)
			return -EINVAL;
		if (type == 1) { /* interface description */
			if (r->ng_num_ifaces < PD_MAX_IFACES)
				r->ng_links[r->ng_num_ifaces] =
					pd_u16(r, r->buf);
			r->ng_num_ifaces++;
		} else if (type == 6 && body >= 24) { /* enhanced packet */
			uint32_t iface = pd_u32(r, r->buf);
			uint32_t cap = pd_u32(r, r->buf + 12);

			if (iface >= r->ng_num_ifaces ||
			    iface >= PD_MAX_IFACES || cap > body - 24)
				return -EINVAL;
			memmove(r->buf, r->buf + 20, cap);
			*len = cap;
			*link = r->ng_links[iface];
			return 1;
		} else if (type == 3 && body >= 8) { /* simple packet */
			uint32_t orig = pd_u32(r, r->buf);
			uint32_t cap = orig < body - 8 ? orig : body - 8;

			if (r->ng_num_ifaces == 0)
				return -EINVAL;
			memmove(r->buf, r->buf + 4, cap);
			*len = cap;
			*link = r->ng_links[0];
			return 1;
		} else if (type == 0x0a0d0d0a && body >= 8) {
			/* a new section: its byte order may differ */
			r->swap = false;
			r->swap = pd_u32(r, r->buf) != 0x1a2b3c4d;
			r->ng_num_ifaces = 0;
		}
	}
}

/*
 * pd_ip() - find the IP header inside a frame of the given link type:
 * returns its offset, or -1 if the frame carries no IP.
 */
static long pd_ip(const uint8_t *p, uint32_t len, uint32_t link)
{
	uint32_t off;
	uint16_t ethertype;

	switch (link) {
	case 1: /* Ethernet, with up to two VLAN tags */
		if (len < 14)
			return -1;
		off = 12;
		ethertype = pd_be16(p + off);
		while ((ethertype == 0x8100 || ethertype == 0x88a8) &&
		       off + 6 <= len) {
			off += 4;
			ethertype = pd_be16(p + off);
		}
		off += 2;
		break;
	case 113: /* Linux cooked v1 */
		if (len < 16)
			return -1;
		ethertype = pd_be16(p + 14);
		off = 16;
		break;
	case 276: /* Linux cooked v2 */
		if (len < 20)
			return -1;
		ethertype = pd_be16(p);
		off = 20;
		break;
	case 0:
	case 108: /* BSD loopback: a 4-byte address family */
		return len >= 4 ? 4 : -1;
	case 101:
	case 12:
	case 14:
	case 228:
	case 229: /* raw IP */
		return 0;
	default:
		return -1;
	}
	if (ethertype != 0x0800 && ethertype != 0x86dd)
		return -1;
	return off < len ? (long)off : -1;
}

/*
 * pd_homa() - the Homa packet inside the IP packet at p[0..len): sets
 * *start, *bytes and *tos (IPv4 TOS or IPv6 traffic class); false if the
 * packet is neither IP protocol 146 nor UDP, or is a fragment.
 */
static bool pd_homa(const uint8_t *p, uint32_t len, uint32_t *start,
		    uint32_t *bytes, uint32_t *captured, uint8_t *tos)
{
	uint32_t off, end, cap_end;
	uint8_t proto;

	if (len < 1)
		return false;
	if (p[0] >> 4 == 4) {
		if (len < HOMA_WIRE_IPV4_BYTES ||
		    (p[0] & 0xf) * 4 < HOMA_WIRE_IPV4_BYTES)
			return false;
		off = (uint32_t)(p[0] & 0xf) * 4;
		end = pd_be16(p + 2);
		if ((pd_be16(p + 6) & 0x3fff) != 0) /* MF or offset */
			return false;
		proto = p[9];
		*tos = p[1];
	} else if (p[0] >> 4 == 6) {
		if (len < HOMA_WIRE_IPV6_BYTES)
			return false;
		off = HOMA_WIRE_IPV6_BYTES;
		end = HOMA_WIRE_IPV6_BYTES + pd_be16(p + 4);
		proto = p[6];
		*tos = (uint8_t)((p[0] & 0xf) << 4 | p[1] >> 4);
		/* hop-by-hop, routing and destination options */
		while ((proto == 0 || proto == 43 || proto == 60) &&
		       off + 8 <= len) {
			proto = p[off];
			off += 8u * (p[off + 1] + 1u);
		}
	} else {
		return false;
	}
	/* A capture may keep fewer bytes than the IP header declares. */
	cap_end = end < len ? end : len;
	if (off > cap_end)
		return false;
	if (proto == PD_IPPROTO_UDP) {
		if (cap_end - off < HOMA_WIRE_UDP_BYTES ||
		    off + pd_be16(p + off + 4) > end ||
		    pd_be16(p + off + 4) < HOMA_WIRE_UDP_BYTES)
			return false;
		end = off + pd_be16(p + off + 4);
		if (cap_end > end)
			cap_end = end;
		off += HOMA_WIRE_UDP_BYTES;
	} else if (proto != IPPROTO_HOMA) {
		return false;
	}
	*start = off;
	*bytes = end - off;
	*captured = cap_end - off;
	return true;
}

/* Print one Homa packet's line. */
static void pd_print(unsigned long frame, const uint8_t *pkt, uint32_t bytes,
		     uint8_t tos)
{
	struct homa_wire_pkt w;
	const struct homa_wire_common *c = &w.common;
	int reason = homa_wire_decode(pkt, bytes, HOMA_MAX_MESSAGE_LENGTH, &w);

	printf("%lu\t%s", frame, homa_wire_reason_name(reason));
	if (reason != HOMA_WIRE_OK) {
		printf("\n");
		return;
	}
	printf("\t0x%02x\t%u\t%u\t%" PRIu32 "\t0x%02x\t0x%02x\t0x%04x\t0x%04x",
	       c->type, c->sport, c->dport, c->sequence, c->doff, c->flags,
	       c->checksum, c->urgent);
	printf("\t%" PRIu64 "\t%" PRIu64 "\t%u", c->sender_id,
	       c->sender_id & ~(uint64_t)1, tos >> HOMA_WIRE_TOS_PRIO_SHIFT);
	if (c->type == HOMA_PKT_DATA) {
		const struct homa_wire_data *d = &w.u.data;

		printf("\t%" PRIu32 "\t%" PRIu32 "\t%" PRIu64 "\t%u\t%u\t%u"
		       "\t%" PRIu32 "\t%" PRIu32 "\t%" PRIu32,
		       d->message_length, d->incoming, d->ack.client_id,
		       d->ack.server_port, d->cutoff_version, d->retransmit,
		       d->seg_offset, d->offset, d->payload_bytes);
	} else {
		printf("\t\t\t\t\t\t\t\t\t");
	}
	if (c->type == HOMA_PKT_GRANT)
		printf("\t%" PRIu32 "\t%u", w.u.grant.offset,
		       w.u.grant.priority);
	else
		printf("\t\t");
	/* A 36-byte RESEND has no priority byte: the dissector shows none. */
	if (c->type == HOMA_PKT_RESEND &&
	    bytes > HOMA_WIRE_RESEND_UPSTREAM_BYTES)
		printf("\t%" PRIu32 "\t%" PRIu32 "\t%u", w.u.resend.offset,
		       w.u.resend.length, w.u.resend.priority);
	else if (c->type == HOMA_PKT_RESEND)
		printf("\t%" PRIu32 "\t%" PRIu32 "\t", w.u.resend.offset,
		       w.u.resend.length);
	else
		printf("\t\t\t");
	if (c->type == HOMA_PKT_CUTOFFS) {
		for (int i = 0; i < HOMA_WIRE_NUM_CUTOFFS; i++)
			printf("%c%" PRIu32, i ? ',' : '\t',
			       w.u.cutoffs.unsched_cutoffs[i]);
		printf("\t%u", w.u.cutoffs.cutoff_version);
	} else {
		printf("\t\t");
	}
	if (c->type == HOMA_PKT_ACK) {
		printf("\t");
		for (int i = 0; i < w.u.ack.num_acks; i++)
			printf("%s%" PRIu64, i ? "," : "",
			       w.u.ack.acks[i].client_id);
		printf("\t");
		for (int i = 0; i < w.u.ack.num_acks; i++)
			printf("%s%u", i ? "," : "",
			       w.u.ack.acks[i].server_port);
	} else {
		printf("\t\t");
	}
	printf("\n");
}

int main(int argc, char **argv)
{
	struct pd_reader r;
	unsigned long frame = 0;
	static uint8_t pkt[PD_MAX_FRAME];
	uint32_t len, link;
	int ret;

	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		printf("usage: homa-pcap-dump FILE\n"
		       "  print what the project's wire decoder reads from "
		       "each "
		       "Homa packet\n  of a pcap or pcapng capture (IP 146 or "
		       "Homa in UDP)\n");
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("homa-pcap-dump %s\n", HOMA_TOOL_VERSION);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: homa-pcap-dump FILE\n");
		return 2;
	}
	if (pd_open(&r, argv[1]) < 0)
		return 1;
	printf("#");
	for (size_t i = 0; i < PD_NUM_COLUMNS; i++)
		printf("%s%s", i ? "\t" : "", pd_columns[i]);
	printf("\n");
	while ((ret = pd_next(&r, &len, &link)) == 1) {
		uint32_t start, bytes, captured;
		uint8_t tos = 0;
		long ip;

		frame++;
		ip = pd_ip(r.buf, len, link);
		if (ip < 0 || !pd_homa(r.buf + ip, len - (uint32_t)ip, &start,
				       &bytes, &captured, &tos))
			continue;
		/* The capture cut the packet short: the decoder reads the
		 * bytes kept, the rest (payload) as zeros. */
		memset(pkt, 0, bytes);
		memcpy(pkt, r.buf + ip + start, captured);
		if (captured < bytes &&
		    (captured < HOMA_WIRE_COMMON_BYTES ||
		     captured < homa_wire_header_bytes(
					homa_wire_peek_type(pkt, captured)))) {
			printf("%lu\tTRUNCATED\n", frame);
			continue;
		}
		pd_print(frame, pkt, bytes, tos);
	}
	fclose(r.f);
	free(r.buf);
	if (ret < 0) {
		fprintf(stderr, "homa-pcap-dump: %s: damaged after frame %lu\n",
			argv[1], frame);
		return 1;
	}
	return 0;
}
