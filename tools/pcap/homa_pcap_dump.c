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
 * Ethernet, Linux cooked (v1, v2), BSD loopback or raw IP frames, read by
 * the project's capture reader (homa_pcap.c, streaming). Homa is
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
#include "homa_pcap.h"
#include "wire.h"

/* Bytes of one Homa packet handed to the decoder, at most: what an IP
 * header can declare (IPv6: its header and a 16-bit payload length). */
#define PD_MAX_PKT (HOMA_WIRE_IPV6_BYTES + UINT16_MAX)

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

/* homa_pcap_each's callback: one Homa packet's line. */
static int pd_pkt(void *arg, const struct homa_pcap_pkt *p)
{
	static uint8_t pkt[PD_MAX_PKT];

	(void)arg;
	if (p->wire_bytes > sizeof(pkt)) /* no IP header declares it */
		return -EMSGSIZE;
	/* The capture cut the packet short: the decoder reads the bytes
	 * kept, the rest (payload) as zeros. */
	memset(pkt, 0, p->wire_bytes);
	memcpy(pkt, p->homa, p->homa_bytes);
	if (p->homa_bytes < p->wire_bytes &&
	    (p->homa_bytes < HOMA_WIRE_COMMON_BYTES ||
	     p->homa_bytes < homa_wire_header_bytes(homa_wire_peek_type(
				     pkt, p->homa_bytes)))) {
		printf("%lu\tTRUNCATED\n", (unsigned long)p->index);
		return 0;
	}
	pd_print((unsigned long)p->index, pkt, (uint32_t)p->wire_bytes, p->tos);
	return 0;
}

int main(int argc, char **argv)
{
	struct homa_pcap r;
	FILE *f;
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
	f = fopen(argv[1], "rb");
	if (!f) {
		fprintf(stderr, "homa-pcap-dump: %s: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	ret = homa_pcap_open_stream(&r, f);
	if (ret < 0) {
		fprintf(stderr, "homa-pcap-dump: %s: %s\n", argv[1],
			ret == -ENOMEM ? strerror(ENOMEM)
				       : "not a pcap or pcapng file");
		return 1;
	}
	printf("#");
	for (size_t i = 0; i < PD_NUM_COLUMNS; i++)
		printf("%s%s", i ? "\t" : "", pd_columns[i]);
	printf("\n");
	ret = homa_pcap_each(&r, HOMA_PCAP_UDP, pd_pkt, NULL);
	homa_pcap_close(&r);
	if (ret < 0) {
		fprintf(stderr, "homa-pcap-dump: %s: damaged after frame %lu\n",
			argv[1], (unsigned long)r.frames);
		return 1;
	}
	return 0;
}
