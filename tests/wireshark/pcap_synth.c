/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pcap_synth.c - write a capture (pcap, raw IP link type) of hand-made
 * Homa packets for the dissector tests: one valid packet of every type
 * and variant (FREEZE, the 36-byte RESEND, a GSO DATA frame, an ACK whose
 * num_acks exceeds 5, padded control packets), then malformed ones: every
 * truncated prefix of DATA, GRANT, RESEND and ACK, unknown types, wrong
 * doff, bad message lengths and payload ranges, packets cut by the
 * capture's snap length. Each packet goes out over
 * IPv4 and IPv6 as IP protocol 146 and inside UDP (ports = Homa ports).
 * Headers come from homa_wire_encode; the malformations are made by
 * editing its bytes.
 *
 *   pcap_synth FILE
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "wire.h"

#define SYN_PORT_CLIENT 40000 /* client's Homa (and UDP) port */
#define SYN_PORT_SERVER 4000  /* server's port */
#define SYN_MAX		2048  /* bytes of one Homa packet, at most */

static FILE *syn_out;
static unsigned int syn_frames;

static void syn_put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void syn_put32(uint8_t *p, uint32_t v)
{
	syn_put16(p, v >> 16);
	syn_put16(p + 2, v & 0xffff);
}

/* Write one record of a len-byte frame of which the capture kept the
 * first keep bytes. */
static void syn_record_cut(const uint8_t *frame, uint32_t len, uint32_t keep)
{
	uint32_t h[4] = { syn_frames, 0, keep, len };

	fwrite(h, sizeof(h), 1, syn_out);
	fwrite(frame, 1, keep, syn_out);
	syn_frames++;
}

/* Write one record holding frame[0..len). */
static void syn_record(const uint8_t *frame, uint32_t len)
{
	syn_record_cut(frame, len, len);
}

/*
 * syn_emit() - the Homa packet pkt[0..len) in three frames: IPv4, IPv6
 * (protocol 146), and IPv4 + UDP. prio goes into the DSCP (prio << 5).
 */
static void syn_emit(const uint8_t *pkt, uint32_t len, uint8_t prio)
{
	uint8_t f[SYN_MAX + 48];

	/* IPv4, protocol 146 */
	memset(f, 0, 20);
	f[0] = 0x45;
	f[1] = (uint8_t)(prio << 5);
	syn_put16(f + 2, 20 + len);
	f[8] = 64;
	f[9] = 146;
	syn_put32(f + 12, 0x0a000001);
	syn_put32(f + 16, 0x0a000002);
	memcpy(f + 20, pkt, len);
	syn_record(f, 20 + len);

	/* IPv6, next header 146 */
	memset(f, 0, 40);
	f[0] = (uint8_t)(0x60 | prio >> 3);
	f[1] = (uint8_t)(prio << 5);
	syn_put16(f + 4, len);
	f[6] = 146;
	f[7] = 64;
	f[8] = 0xfd;
	f[23] = 1;
	f[24] = 0xfd;
	f[39] = 2;
	memcpy(f + 40, pkt, len);
	syn_record(f, 40 + len);

	/* IPv4 + UDP, the UDP ports equal to the Homa ports if present */
	memset(f, 0, 28);
	f[0] = 0x45;
	f[1] = (uint8_t)(prio << 5);
	syn_put16(f + 2, 28 + len);
	f[8] = 64;
	f[9] = 17;
	syn_put32(f + 12, 0x0a000001);
	syn_put32(f + 16, 0x0a000002);
	syn_put16(f + 20, len >= 2 ? (uint32_t)(pkt[0] << 8 | pkt[1])
				   : SYN_PORT_CLIENT);
	syn_put16(f + 22, len >= 4 ? (uint32_t)(pkt[2] << 8 | pkt[3])
				   : SYN_PORT_SERVER);
	syn_put16(f + 24, 8 + len);
	memcpy(f + 28, pkt, len);
	syn_record(f, 28 + len);
}

/* The IPv4 frame of pkt[0..len) as a capture with a snap length keeps
 * it: its first 20 + keep bytes. */
static void syn_emit_cut(const uint8_t *pkt, uint32_t len, uint32_t keep)
{
	uint8_t f[SYN_MAX + 20];

	memset(f, 0, 20);
	f[0] = 0x45;
	syn_put16(f + 2, 20 + len);
	f[8] = 64;
	f[9] = 146;
	syn_put32(f + 12, 0x0a000001);
	syn_put32(f + 16, 0x0a000002);
	memcpy(f + 20, pkt, len);
	syn_record_cut(f, 20 + len, 20 + keep);
}

/* A packet of type with the usual ports and id, encoded into buf. */
static int syn_encode(struct homa_wire_pkt *p, uint8_t *buf)
{
	p->common.sport = SYN_PORT_CLIENT;
	p->common.dport = SYN_PORT_SERVER;
	p->common.sender_id = 1234;
	return homa_wire_encode(p, buf, SYN_MAX);
}

/* DATA of msg_len bytes carrying payload bytes at offset. */
static int syn_data(uint8_t *buf, uint32_t msg_len, uint32_t offset,
		    uint32_t payload)
{
	struct homa_wire_pkt p;
	int n;

	memset(&p, 0, sizeof(p));
	p.common.type = HOMA_PKT_DATA;
	p.common.sequence = offset;
	p.u.data.message_length = msg_len;
	p.u.data.incoming = msg_len < 10000 ? msg_len : 10000;
	p.u.data.ack.client_id = 42;
	p.u.data.ack.server_port = 99;
	p.u.data.cutoff_version = 3;
	p.u.data.retransmit = 1;
	p.u.data.seg_offset = HOMA_WIRE_SEG_OFFSET_IN_SEQ;
	n = syn_encode(&p, buf);
	for (uint32_t i = 0; i < payload; i++)
		buf[n + i] = (uint8_t)i;
	return n + (int)payload;
}

/* Every prefix shorter than buf[0..full) (the malformed truncations),
 * but the empty one: Wireshark hands an IP packet with no payload to no
 * protocol dissector. */
static void syn_prefixes(const uint8_t *buf, int full)
{
	for (int len = 1; len < full; len++)
		syn_emit(buf, (uint32_t)len, 7);
}

static void syn_valid(void)
{
	struct homa_wire_pkt p;
	uint8_t buf[SYN_MAX];
	int n;

	n = syn_data(buf, 1000, 200, 100);
	syn_emit(buf, (uint32_t)n, 5);
	/* A segment of a GSO frame: doff 0xD0, real offset in seg.offset. */
	memset(&p, 0, sizeof(p));
	p.common.type = HOMA_PKT_DATA;
	p.common.doff = HOMA_WIRE_DOFF_DATA_GSO;
	p.common.sport = SYN_PORT_SERVER;
	p.common.dport = SYN_PORT_CLIENT;
	p.common.sender_id = 1235;
	p.u.data.message_length = 5000;
	p.u.data.seg_offset = 1424;
	n = homa_wire_encode(&p, buf, SYN_MAX);
	memset(buf + n, 0xab, 1424);
	syn_emit(buf, (uint32_t)n + 1424, 0);

	memset(&p, 0, sizeof(p));
	p.common.type = HOMA_PKT_GRANT;
	p.u.grant.offset = 50000;
	p.u.grant.priority = 3;
	syn_emit(buf, (uint32_t)syn_encode(&p, buf), 7);

	memset(&p, 0, sizeof(p));
	p.common.type = HOMA_PKT_RESEND;
	p.u.resend.offset = 0;
	p.u.resend.length = HOMA_WIRE_RESEND_ALL;
	p.u.resend.priority = 6;
	n = syn_encode(&p, buf);
	syn_emit(buf, (uint32_t)n, 7);
	syn_emit(buf, HOMA_WIRE_RESEND_UPSTREAM_BYTES, 7); /* upstream form */

	for (uint8_t t = HOMA_PKT_RPC_UNKNOWN; t <= HOMA_PKT_NEED_ACK; t++) {
		if (t == HOMA_PKT_CUTOFFS)
			continue;
		memset(&p, 0, sizeof(p));
		p.common.type = t;
		n = syn_encode(&p, buf);
		syn_emit(buf, (uint32_t)n, 7);
		memset(buf + n, 0, 20); /* zero padding after the header */
		syn_emit(buf, (uint32_t)n + 20, 7);
	}

	memset(&p, 0, sizeof(p));
	p.common.type = HOMA_PKT_CUTOFFS;
	for (int i = 0; i < HOMA_WIRE_NUM_CUTOFFS; i++)
		p.u.cutoffs.unsched_cutoffs[i] = 100000u >> i;
	p.u.cutoffs.cutoff_version = 9;
	syn_emit(buf, (uint32_t)syn_encode(&p, buf), 7);

	memset(&p, 0, sizeof(p));
	p.common.type = HOMA_PKT_ACK;
	p.u.ack.num_acks = 3;
	for (int i = 0; i < 5; i++) {
		p.u.ack.acks[i].client_id = 1000 + 2u * (unsigned)i;
		p.u.ack.acks[i].server_port = (uint16_t)(4000 + i);
	}
	syn_emit(buf, (uint32_t)syn_encode(&p, buf), 7);
	p.u.ack.num_acks = 5;
	n = syn_encode(&p, buf);
	syn_put16(buf + 28, 7); /* receivers clamp num_acks to 5 */
	syn_emit(buf, (uint32_t)n, 7);
}

static void syn_malformed(void)
{
	struct homa_wire_pkt p;
	uint8_t buf[SYN_MAX];
	int n;

	n = syn_data(buf, 1000, 0, 100);
	syn_prefixes(buf, HOMA_WIRE_DATA_BYTES + 1);
	memset(&p, 0, sizeof(p));
	p.common.type = HOMA_PKT_GRANT;
	syn_prefixes(buf, syn_encode(&p, buf));
	p.common.type = HOMA_PKT_RESEND;
	syn_prefixes(buf, HOMA_WIRE_RESEND_UPSTREAM_BYTES);
	p.common.type = HOMA_PKT_ACK;
	p.u.ack.num_acks = 1;
	syn_prefixes(buf, syn_encode(&p, buf));

	/* Unknown types. */
	n = syn_data(buf, 1000, 0, 100);
	buf[11] = 0x0f;
	syn_emit(buf, (uint32_t)n, 7);
	buf[11] = 0x19;
	syn_emit(buf, (uint32_t)n, 7);
	buf[11] = 0;
	syn_emit(buf, (uint32_t)n, 7);

	/* doff wrong for the type, both ways. */
	n = syn_data(buf, 1000, 0, 100);
	buf[12] = HOMA_WIRE_DOFF_CONTROL;
	syn_emit(buf, (uint32_t)n, 7);
	memset(&p, 0, sizeof(p));
	p.common.type = HOMA_PKT_GRANT;
	n = syn_encode(&p, buf);
	buf[12] = HOMA_WIRE_DOFF_DATA;
	syn_emit(buf, (uint32_t)n, 7);
	buf[12] = 0; /* what an older kernel sends */
	syn_emit(buf, (uint32_t)n, 7);

	/* Message lengths and payload ranges. */
	syn_emit(buf, (uint32_t)syn_data(buf, 0, 0, 10), 7);
	syn_emit(buf, (uint32_t)syn_data(buf, 2000000, 0, 10), 7);
	syn_emit(buf, (uint32_t)syn_data(buf, 1000, 1000, 10), 7);
	syn_emit(buf, (uint32_t)syn_data(buf, 1000, 995, 10), 7);
	syn_emit(buf, (uint32_t)syn_data(buf, 1000, 0, 0), 7);
	n = syn_data(buf, 1000, 0, 10);
	syn_put32(buf + 52, 0xfffffff0); /* seg.offset far beyond */
	syn_emit(buf, (uint32_t)n, 7);

	/* Cut by the capture's snap length: the payload only (decodable),
	 * or into the header. */
	n = syn_data(buf, 1000, 0, 500);
	syn_emit_cut(buf, (uint32_t)n, 100);
	syn_emit_cut(buf, (uint32_t)n, 40);
	memset(&p, 0, sizeof(p));
	p.common.type = HOMA_PKT_RESEND;
	p.u.resend.length = 10;
	n = syn_encode(&p, buf);
	syn_emit_cut(buf, (uint32_t)n, HOMA_WIRE_RESEND_UPSTREAM_BYTES);
	syn_emit_cut(buf, (uint32_t)n, 20);
}

int main(int argc, char **argv)
{
	const uint32_t hdr[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 101 };

	if (argc != 2) {
		fprintf(stderr, "usage: pcap_synth FILE\n");
		return 2;
	}
	syn_out = fopen(argv[1], "wb");
	if (!syn_out) {
		perror(argv[1]);
		return 1;
	}
	fwrite(hdr, sizeof(hdr), 1, syn_out);
	syn_valid();
	syn_malformed();
	if (fclose(syn_out) != 0) {
		perror(argv[1]);
		return 1;
	}
	printf("%u frames\n", syn_frames);
	return 0;
}
