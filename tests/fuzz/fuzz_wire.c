/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_wire.c - libFuzzer target for the wire module (src/core/wire.c).
 *
 * Decodes arbitrary bytes with two message-size limits. Whenever a decode
 * succeeds, the packet is re-encoded (payload appended for DATA), decoded
 * again and compared field by field; the second encoding must also be
 * byte-identical to the first. Any mismatch calls abort(); out-of-bounds
 * reads are left to ASan and UBSan.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

/* Fields that survive a re-encode; flags, urgent and an unusual doff are
 * forced by encode, and an upstream RESEND's priority is a default, so
 * those are skipped. */
static void check_same(const struct homa_wire_pkt *a,
		       const struct homa_wire_pkt *b, int upstream_resend)
{
	int i;

	CHECK(a->common.sport == b->common.sport);
	CHECK(a->common.dport == b->common.dport);
	CHECK(a->common.sequence == b->common.sequence);
	CHECK(a->common.type == b->common.type);
	/* Any doff decodes; encode writes the usual one. */
	CHECK(homa_wire_doff_usual(b->common.type, b->common.doff));
	CHECK(!homa_wire_doff_usual(a->common.type, a->common.doff) ||
	      a->common.doff == b->common.doff);
	CHECK(a->common.checksum == b->common.checksum);
	CHECK(a->common.sender_id == b->common.sender_id);
	CHECK(b->common.flags == HOMA_WIRE_FLAGS);
	CHECK(b->common.urgent == HOMA_WIRE_URGENT);
	switch (a->common.type) {
	case HOMA_PKT_DATA:
		CHECK(a->u.data.message_length == b->u.data.message_length);
		CHECK(a->u.data.incoming == b->u.data.incoming);
		CHECK(a->u.data.ack.client_id == b->u.data.ack.client_id);
		CHECK(a->u.data.ack.server_port == b->u.data.ack.server_port);
		CHECK(a->u.data.cutoff_version == b->u.data.cutoff_version);
		CHECK(a->u.data.retransmit == b->u.data.retransmit);
		CHECK(a->u.data.seg_offset == b->u.data.seg_offset);
		CHECK(a->u.data.offset == b->u.data.offset);
		CHECK(a->u.data.payload_bytes == b->u.data.payload_bytes);
		CHECK(memcmp(a->u.data.payload, b->u.data.payload,
			     a->u.data.payload_bytes) == 0);
		break;
	case HOMA_PKT_GRANT:
		CHECK(a->u.grant.offset == b->u.grant.offset);
		CHECK(a->u.grant.priority == b->u.grant.priority);
		break;
	case HOMA_PKT_RESEND:
		CHECK(a->u.resend.offset == b->u.resend.offset);
		CHECK(a->u.resend.length == b->u.resend.length);
		if (!upstream_resend)
			CHECK(a->u.resend.priority == b->u.resend.priority);
		break;
	case HOMA_PKT_CUTOFFS:
		for (i = 0; i < HOMA_WIRE_NUM_CUTOFFS; i++)
			CHECK(a->u.cutoffs.unsched_cutoffs[i] ==
			      b->u.cutoffs.unsched_cutoffs[i]);
		CHECK(a->u.cutoffs.cutoff_version ==
		      b->u.cutoffs.cutoff_version);
		break;
	case HOMA_PKT_ACK:
		CHECK(a->u.ack.num_acks == b->u.ack.num_acks);
		for (i = 0; i < a->u.ack.num_acks; i++) {
			CHECK(a->u.ack.acks[i].client_id ==
			      b->u.ack.acks[i].client_id);
			CHECK(a->u.ack.acks[i].server_port ==
			      b->u.ack.acks[i].server_port);
		}
		break;
	default:
		break;
	}
}

/* Decode with one limit; on success re-encode, re-decode and compare. */
static void round_trip(const uint8_t *data, size_t size, uint32_t max)
{
	struct homa_wire_pkt first, second;
	uint8_t hdr[HOMA_WIRE_MAX_HEADER_BYTES];
	uint8_t *buf;
	size_t payload = 0, len;
	int reason, n;

	reason = homa_wire_decode(data, size, max, &first);
	CHECK(homa_wire_reason_name(reason) != NULL);
	if (reason != HOMA_WIRE_OK) {
		CHECK(reason > HOMA_WIRE_OK && reason < HOMA_WIRE_REASON_COUNT);
		return;
	}
	if (first.common.type == HOMA_PKT_DATA) {
		payload = first.u.data.payload_bytes;
		CHECK(first.u.data.payload == data + HOMA_WIRE_DATA_BYTES);
		CHECK(payload == size - HOMA_WIRE_DATA_BYTES);
	}
	if (first.common.type == HOMA_PKT_ACK)
		CHECK(first.u.ack.num_acks <= HOMA_WIRE_MAX_ACKS);
	if (first.common.type == HOMA_PKT_RESEND &&
	    size == HOMA_WIRE_RESEND_UPSTREAM_BYTES)
		CHECK(first.u.resend.priority ==
		      HOMA_WIRE_RESEND_UPSTREAM_PRIO);

	n = homa_wire_encode(&first, hdr, sizeof(hdr));
	CHECK(n > 0 && (size_t)n == homa_wire_header_bytes(first.common.type));
	len = (size_t)n + payload;
	buf = malloc(len);
	CHECK(buf != NULL);
	memcpy(buf, hdr, (size_t)n);
	if (payload)
		memcpy(buf + n, first.u.data.payload, payload);

	CHECK(homa_wire_decode(buf, len, max, &second) == HOMA_WIRE_OK);
	check_same(&first, &second,
		   first.common.type == HOMA_PKT_RESEND &&
			   size == HOMA_WIRE_RESEND_UPSTREAM_BYTES);

	/* Encoding is a fixed point after one round. */
	CHECK(homa_wire_encode(&second, hdr, sizeof(hdr)) == n);
	CHECK(memcmp(hdr, buf, (size_t)n) == 0);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct homa_wire_pkt big, small;
	int r_big, r_small;

	round_trip(data, size, 1000000);
	round_trip(data, size, 100000);

	/* A smaller limit can only turn acceptance into BAD_MSG_LEN. */
	r_big = homa_wire_decode(data, size, 1000000, &big);
	r_small = homa_wire_decode(data, size, 100000, &small);
	if (r_small == HOMA_WIRE_OK)
		CHECK(r_big == HOMA_WIRE_OK);
	if (r_big != r_small)
		CHECK(r_small == HOMA_WIRE_BAD_MSG_LEN);
	return 0;
}
