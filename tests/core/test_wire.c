/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_wire.c - unit tests for src/core/wire.c.
 *
 * The golden vectors below are written byte by byte from the offset tables
 * of spec/protocol.md section 1, independently of wire.c, so they pin the
 * byte order and every offset. Each decodes to known field values and
 * re-encodes to the same bytes. Random round trips, one test per rejection
 * reason, every truncated prefix of every golden packet (in an exact-size
 * heap buffer, so the ASan build catches any over-read) and the encoder's
 * error paths follow.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

#define MAX_MSG 1000000u

/*
 * Golden vectors: hand-laid byte tables, one field per line, so they are
 * kept out of clang-format's reach.
 */
/* clang-format off */
/* DATA, offset taken from sequence (seg.offset = 0xFFFFFFFF), 8 bytes
 * of payload at offset 100000 of a 200000-byte message. */
static const uint8_t data_golden[] = {
	0x12, 0x34, /* sport 0x1234 */
	0x56, 0x78, /* dport 0x5678 */
	0x00, 0x01, 0x86, 0xA0, /* sequence 100000 */
	0x00, 0x00, 0x00, /* ack[3] unused */
	0x10, /* type DATA */
	0xE0, /* doff: 14 words */
	0x06, /* flags */
	0x00, 0x00, /* window */
	0xAB, 0xCD, /* checksum */
	0xB9, 0x7D, /* urgent */
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* sender_id */
	0x00, 0x03, 0x0D, 0x40, /* message_length 200000 */
	0x00, 0x00, 0x9C, 0x40, /* incoming 40000 */
	0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, /* ack.client_id */
	0x21, 0x22, /* ack.server_port */
	0x31, 0x32, /* cutoff_version */
	0x01, /* retransmit */
	0x00, 0x00, 0x00, /* pad */
	0xFF, 0xFF, 0xFF, 0xFF, /* seg.offset: use sequence */
	0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, /* payload */
};
_Static_assert(sizeof(data_golden) == 64, "DATA golden size");

/* DATA of a non-hijacked GSO frame: doff 0xD0, real offset in seg.offset
 * (sequence not advanced), last 4 bytes of a 1000000-byte message. */
static const uint8_t data_gso_golden[] = {
	0x23, 0x45, /* sport 0x2345 */
	0x67, 0x89, /* dport 0x6789 */
	0x00, 0x00, 0x27, 0x10, /* sequence 10000 (stale) */
	0x00, 0x00, 0x00, /* ack[3] unused */
	0x10, /* type DATA */
	0xD0, /* doff: 13 words */
	0x06, /* flags */
	0x00, 0x00, /* window */
	0x13, 0x57, /* checksum */
	0xB9, 0x7D, /* urgent */
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x09, /* sender_id */
	0x00, 0x0F, 0x42, 0x40, /* message_length 1000000 */
	0x00, 0x0F, 0x42, 0x40, /* incoming 1000000 */
	0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x10, /* ack.client_id */
	0x9A, 0xBC, /* ack.server_port */
	0x01, 0x02, /* cutoff_version */
	0x00, /* retransmit */
	0x00, 0x00, 0x00, /* pad */
	0x00, 0x0F, 0x42, 0x3C, /* seg.offset 999996 */
	0xC0, 0xC1, 0xC2, 0xC3, /* payload */
};
_Static_assert(sizeof(data_gso_golden) == 60, "DATA GSO golden size");

static const uint8_t grant_golden[] = {
	0x12, 0x34, /* sport */
	0x56, 0x78, /* dport */
	0x00, 0x00, 0x00, 0x00, /* sequence */
	0x00, 0x00, 0x00, /* ack[3] unused */
	0x11, /* type GRANT */
	0x50, /* doff */
	0x06, /* flags */
	0x00, 0x00, /* window */
	0xAB, 0xCD, /* checksum */
	0xB9, 0x7D, /* urgent */
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* sender_id */
	0x00, 0x01, 0xE2, 0x40, /* offset 123456 */
	0x05, /* priority */
};
_Static_assert(sizeof(grant_golden) == 33, "GRANT golden size");

static const uint8_t resend_golden[] = {
	0x12, 0x34, /* sport */
	0x56, 0x78, /* dport */
	0x00, 0x00, 0x00, 0x00, /* sequence */
	0x00, 0x00, 0x00, /* ack[3] unused */
	0x12, /* type RESEND */
	0x50, /* doff */
	0x06, /* flags */
	0x00, 0x00, /* window */
	0xAB, 0xCD, /* checksum */
	0xB9, 0x7D, /* urgent */
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* sender_id */
	0x00, 0x00, 0xA0, 0x00, /* offset 40960 */
	0xFF, 0xFF, 0xFF, 0xFF, /* length: resend all */
	0x07, /* priority */
};
_Static_assert(sizeof(resend_golden) == 37, "RESEND golden size");

/* Upstream RESEND: no priority byte. */
static const uint8_t resend36_golden[] = {
	0x12, 0x34, /* sport */
	0x56, 0x78, /* dport */
	0x00, 0x00, 0x00, 0x00, /* sequence */
	0x00, 0x00, 0x00, /* ack[3] unused */
	0x12, /* type RESEND */
	0x50, /* doff */
	0x06, /* flags */
	0x00, 0x00, /* window */
	0xAB, 0xCD, /* checksum */
	0xB9, 0x7D, /* urgent */
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* sender_id */
	0x00, 0x00, 0x30, 0x00, /* offset 12288 */
	0x00, 0x00, 0x04, 0x00, /* length 1024 */
};
_Static_assert(sizeof(resend36_golden) == 36, "RESEND36 golden size");

/* The four body-less types share this layout, differing in byte 11. */
#define NOBODY_GOLDEN(type_byte)                                              \
	{                                                                     \
		0x12, 0x34, /* sport */                                       \
		0x56, 0x78, /* dport */                                       \
		0x00, 0x00, 0x00, 0x00, /* sequence */                        \
		0x00, 0x00, 0x00, /* ack[3] unused */                         \
		type_byte, /* type */                                         \
		0x50, /* doff */                                              \
		0x06, /* flags */                                             \
		0x00, 0x00, /* window */                                      \
		0xAB, 0xCD, /* checksum */                                    \
		0xB9, 0x7D, /* urgent */                                      \
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* sender_id */ \
	}
static const uint8_t rpc_unknown_golden[] = NOBODY_GOLDEN(0x13);
static const uint8_t busy_golden[] = NOBODY_GOLDEN(0x14);
static const uint8_t freeze_golden[] = NOBODY_GOLDEN(0x16);
static const uint8_t need_ack_golden[] = NOBODY_GOLDEN(0x17);
_Static_assert(sizeof(busy_golden) == 28, "common golden size");

static const uint8_t cutoffs_golden[] = {
	0x12, 0x34, /* sport */
	0x56, 0x78, /* dport */
	0x00, 0x00, 0x00, 0x00, /* sequence */
	0x00, 0x00, 0x00, /* ack[3] unused */
	0x15, /* type CUTOFFS */
	0x50, /* doff */
	0x06, /* flags */
	0x00, 0x00, /* window */
	0xAB, 0xCD, /* checksum */
	0xB9, 0x7D, /* urgent */
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* sender_id */
	0x7F, 0xFF, 0xFF, 0xFF, /* unsched_cutoffs[0] */
	0x00, 0x01, 0x00, 0x00, /* [1] 65536 */
	0x00, 0x00, 0x40, 0x00, /* [2] 16384 */
	0x00, 0x00, 0x20, 0x00, /* [3] 8192 */
	0x00, 0x00, 0x10, 0x00, /* [4] 4096 */
	0x00, 0x00, 0x08, 0x00, /* [5] 2048 */
	0x00, 0x00, 0x04, 0x00, /* [6] 1024 */
	0x00, 0x00, 0x02, 0x01, /* [7] 513 */
	0x42, 0x43, /* cutoff_version */
};
_Static_assert(sizeof(cutoffs_golden) == 62, "CUTOFFS golden size");

static const uint8_t ack_golden[] = {
	0x12, 0x34, /* sport */
	0x56, 0x78, /* dport */
	0x00, 0x00, 0x00, 0x00, /* sequence */
	0x00, 0x00, 0x00, /* ack[3] unused */
	0x18, /* type ACK */
	0x50, /* doff */
	0x06, /* flags */
	0x00, 0x00, /* window */
	0xAB, 0xCD, /* checksum */
	0xB9, 0x7D, /* urgent */
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* sender_id */
	0x00, 0x03, /* num_acks */
	0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, /* acks[0].client_id */
	0x31, 0x32, /* acks[0].server_port */
	0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, /* acks[1].client_id */
	0x51, 0x52, /* acks[1].server_port */
	0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, /* acks[2].client_id */
	0x71, 0x72, /* acks[2].server_port */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* acks[3] unused */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* acks[4] unused */
};
_Static_assert(sizeof(ack_golden) == 80, "ACK golden size");

struct golden {
	const char *name;      /* for failure messages */
	const uint8_t *bytes;  /* the packet */
	size_t len;            /* bytes in the packet */
	size_t header_bytes;   /* bytes that re-encode reproduces */
};

#define GOLDEN(g, hdr) { #g, g, sizeof(g), hdr }
static const struct golden goldens[] = {
	GOLDEN(data_golden, 56),     GOLDEN(data_gso_golden, 56),
	GOLDEN(grant_golden, 33),    GOLDEN(resend_golden, 37),
	GOLDEN(resend36_golden, 36), GOLDEN(rpc_unknown_golden, 28),
	GOLDEN(busy_golden, 28),     GOLDEN(cutoffs_golden, 62),
	GOLDEN(freeze_golden, 28),   GOLDEN(need_ack_golden, 28),
	GOLDEN(ack_golden, 80),
};
/* clang-format on */
#define NUM_GOLDENS (sizeof(goldens) / sizeof(goldens[0]))

/* Decode buf[0..len) into *pkt; the decode must succeed. */
static void decode_ok(const uint8_t *buf, size_t len, struct homa_wire_pkt *pkt)
{
	assert_int_equal(homa_wire_decode(buf, len, MAX_MSG, pkt),
			 HOMA_WIRE_OK);
}

/* Check the common fields shared by the control goldens. */
static void check_common(const struct homa_wire_pkt *pkt, uint8_t type)
{
	assert_int_equal(pkt->common.sport, 0x1234);
	assert_int_equal(pkt->common.dport, 0x5678);
	assert_int_equal(pkt->common.sequence, 0);
	assert_int_equal(pkt->common.type, type);
	assert_int_equal(pkt->common.doff, HOMA_WIRE_DOFF_CONTROL);
	assert_int_equal(pkt->common.flags, 0x06);
	assert_int_equal(pkt->common.checksum, 0xABCD);
	assert_int_equal(pkt->common.urgent, 0xB97D);
	assert_true(pkt->common.sender_id == 0x0102030405060708ull);
}

/* Re-encode pkt and compare with the first hdr bytes of want. */
static void check_reencode(const struct homa_wire_pkt *pkt, const uint8_t *want,
			   size_t hdr)
{
	uint8_t buf[128];

	memset(buf, 0xEE, sizeof(buf));
	assert_int_equal(homa_wire_encode(pkt, buf, sizeof(buf)), (int)hdr);
	assert_memory_equal(buf, want, hdr);
	assert_int_equal(buf[hdr], 0xEE); /* nothing written past header */
}

static void homa_wire_decode__data_golden(void **state)
{
	struct homa_wire_pkt pkt;
	const struct homa_wire_data *d = &pkt.u.data;

	(void)state;
	decode_ok(data_golden, sizeof(data_golden), &pkt);
	assert_int_equal(pkt.common.sport, 0x1234);
	assert_int_equal(pkt.common.dport, 0x5678);
	assert_int_equal(pkt.common.sequence, 100000);
	assert_int_equal(pkt.common.type, HOMA_PKT_DATA);
	assert_int_equal(pkt.common.doff, 0xE0);
	assert_int_equal(pkt.common.flags, 0x06);
	assert_int_equal(pkt.common.checksum, 0xABCD);
	assert_int_equal(pkt.common.urgent, 0xB97D);
	assert_true(pkt.common.sender_id == 0x0102030405060708ull);
	assert_int_equal(d->message_length, 200000);
	assert_int_equal(d->incoming, 40000);
	assert_true(d->ack.client_id == 0x1112131415161718ull);
	assert_int_equal(d->ack.server_port, 0x2122);
	assert_int_equal(d->cutoff_version, 0x3132);
	assert_int_equal(d->retransmit, 1);
	assert_int_equal(d->seg_offset, 0xFFFFFFFFu);
	assert_int_equal(d->offset, 100000);
	assert_int_equal(d->payload_bytes, 8);
	assert_ptr_equal(d->payload, data_golden + 56);
	check_reencode(&pkt, data_golden, 56);
}

static void homa_wire_decode__data_gso_golden(void **state)
{
	struct homa_wire_pkt pkt;
	const struct homa_wire_data *d = &pkt.u.data;

	(void)state;
	decode_ok(data_gso_golden, sizeof(data_gso_golden), &pkt);
	assert_int_equal(pkt.common.sport, 0x2345);
	assert_int_equal(pkt.common.dport, 0x6789);
	assert_int_equal(pkt.common.sequence, 10000);
	assert_int_equal(pkt.common.type, HOMA_PKT_DATA);
	assert_int_equal(pkt.common.doff, 0xD0);
	assert_int_equal(pkt.common.checksum, 0x1357);
	assert_true(pkt.common.sender_id == 0x0102030405060709ull);
	assert_int_equal(d->message_length, 1000000);
	assert_int_equal(d->incoming, 1000000);
	assert_true(d->ack.client_id == 0x8877665544332210ull);
	assert_int_equal(d->ack.server_port, 0x9ABC);
	assert_int_equal(d->cutoff_version, 0x0102);
	assert_int_equal(d->retransmit, 0);
	assert_int_equal(d->seg_offset, 999996);
	assert_int_equal(d->offset, 999996); /* seg.offset wins */
	assert_int_equal(d->payload_bytes, 4);
	assert_ptr_equal(d->payload, data_gso_golden + 56);
	check_reencode(&pkt, data_gso_golden, 56);
}

static void homa_wire_decode__grant_golden(void **state)
{
	struct homa_wire_pkt pkt;

	(void)state;
	decode_ok(grant_golden, sizeof(grant_golden), &pkt);
	check_common(&pkt, HOMA_PKT_GRANT);
	assert_int_equal(pkt.u.grant.offset, 123456);
	assert_int_equal(pkt.u.grant.priority, 5);
	check_reencode(&pkt, grant_golden, sizeof(grant_golden));
}

static void homa_wire_decode__resend_golden(void **state)
{
	struct homa_wire_pkt pkt;

	(void)state;
	decode_ok(resend_golden, sizeof(resend_golden), &pkt);
	check_common(&pkt, HOMA_PKT_RESEND);
	assert_int_equal(pkt.u.resend.offset, 40960);
	assert_int_equal(pkt.u.resend.length, HOMA_WIRE_RESEND_ALL);
	assert_int_equal(pkt.u.resend.priority, 7);
	check_reencode(&pkt, resend_golden, sizeof(resend_golden));
}

static void homa_wire_decode__resend_upstream_golden(void **state)
{
	struct homa_wire_pkt pkt;
	uint8_t want[37];

	(void)state;
	decode_ok(resend36_golden, sizeof(resend36_golden), &pkt);
	check_common(&pkt, HOMA_PKT_RESEND);
	assert_int_equal(pkt.u.resend.offset, 12288);
	assert_int_equal(pkt.u.resend.length, 1024);
	assert_int_equal(pkt.u.resend.priority, HOMA_WIRE_RESEND_UPSTREAM_PRIO);

	/* Re-encoding gives the 37-byte form with the default priority. */
	memcpy(want, resend36_golden, 36);
	want[36] = HOMA_WIRE_RESEND_UPSTREAM_PRIO;
	check_reencode(&pkt, want, 37);
}

/* Golden test of one body-less control type. */
static void check_nobody_golden(const uint8_t *g, uint8_t type)
{
	struct homa_wire_pkt pkt;

	decode_ok(g, 28, &pkt);
	check_common(&pkt, type);
	check_reencode(&pkt, g, 28);
}

static void homa_wire_decode__rpc_unknown_golden(void **state)
{
	(void)state;
	check_nobody_golden(rpc_unknown_golden, HOMA_PKT_RPC_UNKNOWN);
}

static void homa_wire_decode__busy_golden(void **state)
{
	(void)state;
	check_nobody_golden(busy_golden, HOMA_PKT_BUSY);
}

static void homa_wire_decode__freeze_golden(void **state)
{
	(void)state;
	check_nobody_golden(freeze_golden, HOMA_PKT_FREEZE);
}

static void homa_wire_decode__need_ack_golden(void **state)
{
	(void)state;
	check_nobody_golden(need_ack_golden, HOMA_PKT_NEED_ACK);
}

static void homa_wire_decode__cutoffs_golden(void **state)
{
	static const uint32_t want[8] = { 0x7FFFFFFF, 65536, 16384, 8192,
					  4096,	      2048,  1024,  513 };
	struct homa_wire_pkt pkt;
	int i;

	(void)state;
	decode_ok(cutoffs_golden, sizeof(cutoffs_golden), &pkt);
	check_common(&pkt, HOMA_PKT_CUTOFFS);
	for (i = 0; i < 8; i++)
		assert_int_equal(pkt.u.cutoffs.unsched_cutoffs[i], want[i]);
	assert_int_equal(pkt.u.cutoffs.cutoff_version, 0x4243);
	check_reencode(&pkt, cutoffs_golden, sizeof(cutoffs_golden));
}

static void homa_wire_decode__ack_golden(void **state)
{
	struct homa_wire_pkt pkt;
	const struct homa_wire_ackpkt *a = &pkt.u.ack;

	(void)state;
	decode_ok(ack_golden, sizeof(ack_golden), &pkt);
	check_common(&pkt, HOMA_PKT_ACK);
	assert_int_equal(a->num_acks, 3);
	assert_true(a->acks[0].client_id == 0x2122232425262728ull);
	assert_int_equal(a->acks[0].server_port, 0x3132);
	assert_true(a->acks[1].client_id == 0x4142434445464748ull);
	assert_int_equal(a->acks[1].server_port, 0x5152);
	assert_true(a->acks[2].client_id == 0x6162636465666768ull);
	assert_int_equal(a->acks[2].server_port, 0x7172);
	assert_true(a->acks[3].client_id == 0 && a->acks[4].client_id == 0);
	check_reencode(&pkt, ack_golden, sizeof(ack_golden));
}

/* xorshift64*: a small seeded generator so failures reproduce. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd64(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

static uint32_t rnd32(void)
{
	return (uint32_t)(rnd64() >> 32);
}

/* Random number in [lo, hi]. */
static uint32_t rnd_range(uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(rnd64() % ((uint64_t)hi - lo + 1));
}

/* Fill pkt with random valid fields of the given type; payload_bytes of a
 * DATA packet is set to the payload length the caller must append. */
static void random_pkt(struct homa_wire_pkt *pkt, uint8_t type)
{
	struct homa_wire_data *d = &pkt->u.data;
	int i;

	memset(pkt, 0, sizeof(*pkt));
	pkt->common.sport = (uint16_t)rnd32();
	pkt->common.dport = (uint16_t)rnd32();
	pkt->common.sequence = rnd32();
	pkt->common.type = type;
	pkt->common.doff = HOMA_WIRE_DOFF_CONTROL;
	pkt->common.flags = HOMA_WIRE_FLAGS;
	pkt->common.checksum = (uint16_t)rnd32();
	pkt->common.urgent = HOMA_WIRE_URGENT;
	pkt->common.sender_id = rnd64();

	switch (type) {
	case HOMA_PKT_DATA:
		pkt->common.doff = (rnd32() & 1) ? HOMA_WIRE_DOFF_DATA
						 : HOMA_WIRE_DOFF_DATA_GSO;
		d->message_length = rnd_range(1, MAX_MSG);
		d->payload_bytes = rnd_range(1, 64);
		if (d->payload_bytes > d->message_length)
			d->payload_bytes = d->message_length;
		d->offset = rnd_range(0, d->message_length - d->payload_bytes);
		if (rnd32() & 1) {
			d->seg_offset = HOMA_WIRE_SEG_OFFSET_IN_SEQ;
			pkt->common.sequence = d->offset;
		} else {
			d->seg_offset = d->offset;
		}
		d->incoming = rnd32();
		d->ack.client_id = rnd64();
		d->ack.server_port = (uint16_t)rnd32();
		d->cutoff_version = (uint16_t)rnd32();
		d->retransmit = (uint8_t)rnd32();
		break;
	case HOMA_PKT_GRANT:
		pkt->u.grant.offset = rnd32();
		pkt->u.grant.priority = (uint8_t)rnd32();
		break;
	case HOMA_PKT_RESEND:
		pkt->u.resend.offset = rnd32();
		pkt->u.resend.length = rnd32();
		pkt->u.resend.priority = (uint8_t)rnd32();
		break;
	case HOMA_PKT_CUTOFFS:
		for (i = 0; i < HOMA_WIRE_NUM_CUTOFFS; i++)
			pkt->u.cutoffs.unsched_cutoffs[i] = rnd32();
		pkt->u.cutoffs.cutoff_version = (uint16_t)rnd32();
		break;
	case HOMA_PKT_ACK:
		pkt->u.ack.num_acks = (uint16_t)rnd_range(0, 5);
		for (i = 0; i < pkt->u.ack.num_acks; i++) {
			pkt->u.ack.acks[i].client_id = rnd64();
			pkt->u.ack.acks[i].server_port = (uint16_t)rnd32();
		}
		break;
	default:
		break;
	}
}

/* Field-by-field equality (structs have padding, so no memcmp). */
static void assert_pkt_equal(const struct homa_wire_pkt *a,
			     const struct homa_wire_pkt *b)
{
	int i;

	assert_int_equal(a->common.sport, b->common.sport);
	assert_int_equal(a->common.dport, b->common.dport);
	assert_int_equal(a->common.sequence, b->common.sequence);
	assert_int_equal(a->common.type, b->common.type);
	assert_int_equal(a->common.doff, b->common.doff);
	assert_int_equal(a->common.flags, b->common.flags);
	assert_int_equal(a->common.checksum, b->common.checksum);
	assert_int_equal(a->common.urgent, b->common.urgent);
	assert_true(a->common.sender_id == b->common.sender_id);
	switch (a->common.type) {
	case HOMA_PKT_DATA:
		assert_int_equal(a->u.data.message_length,
				 b->u.data.message_length);
		assert_int_equal(a->u.data.incoming, b->u.data.incoming);
		assert_true(a->u.data.ack.client_id == b->u.data.ack.client_id);
		assert_int_equal(a->u.data.ack.server_port,
				 b->u.data.ack.server_port);
		assert_int_equal(a->u.data.cutoff_version,
				 b->u.data.cutoff_version);
		assert_int_equal(a->u.data.retransmit, b->u.data.retransmit);
		assert_int_equal(a->u.data.seg_offset, b->u.data.seg_offset);
		assert_int_equal(a->u.data.offset, b->u.data.offset);
		assert_int_equal(a->u.data.payload_bytes,
				 b->u.data.payload_bytes);
		break;
	case HOMA_PKT_GRANT:
		assert_int_equal(a->u.grant.offset, b->u.grant.offset);
		assert_int_equal(a->u.grant.priority, b->u.grant.priority);
		break;
	case HOMA_PKT_RESEND:
		assert_int_equal(a->u.resend.offset, b->u.resend.offset);
		assert_int_equal(a->u.resend.length, b->u.resend.length);
		assert_int_equal(a->u.resend.priority, b->u.resend.priority);
		break;
	case HOMA_PKT_CUTOFFS:
		for (i = 0; i < HOMA_WIRE_NUM_CUTOFFS; i++)
			assert_int_equal(a->u.cutoffs.unsched_cutoffs[i],
					 b->u.cutoffs.unsched_cutoffs[i]);
		assert_int_equal(a->u.cutoffs.cutoff_version,
				 b->u.cutoffs.cutoff_version);
		break;
	case HOMA_PKT_ACK:
		assert_int_equal(a->u.ack.num_acks, b->u.ack.num_acks);
		for (i = 0; i < HOMA_WIRE_MAX_ACKS; i++) {
			assert_true(a->u.ack.acks[i].client_id ==
				    b->u.ack.acks[i].client_id);
			assert_int_equal(a->u.ack.acks[i].server_port,
					 b->u.ack.acks[i].server_port);
		}
		break;
	default:
		break;
	}
}

static void homa_wire_encode__round_trip_random(void **state)
{
	uint8_t buf[HOMA_WIRE_MAX_HEADER_BYTES + 64];
	struct homa_wire_pkt in, out;
	size_t len;
	int iter, n;
	uint8_t type;

	(void)state;
	for (iter = 0; iter < 10000; iter++) {
		for (type = HOMA_PKT_TYPE_MIN; type <= HOMA_PKT_TYPE_MAX;
		     type++) {
			random_pkt(&in, type);
			n = homa_wire_encode(&in, buf, sizeof(buf));
			assert_int_equal(n, (int)homa_wire_header_bytes(type));
			len = (size_t)n;
			if (type == HOMA_PKT_DATA) {
				memset(buf + n, (int)iter & 0xFF,
				       in.u.data.payload_bytes);
				len += in.u.data.payload_bytes;
			}
			decode_ok(buf, len, &out);
			assert_pkt_equal(&in, &out);
			if (type == HOMA_PKT_DATA)
				assert_ptr_equal(out.u.data.payload, buf + n);
		}
	}
}

/* Decode a copy of buf with one byte replaced and expect reason. */
static void expect_patched(const uint8_t *g, size_t len, size_t at,
			   uint8_t value, uint32_t max, int reason)
{
	uint8_t buf[128];
	struct homa_wire_pkt pkt;

	assert_true(len <= sizeof(buf));
	memcpy(buf, g, len);
	buf[at] = value;
	assert_int_equal(homa_wire_decode(buf, len, max, &pkt), reason);
}

static void homa_wire_decode__short(void **state)
{
	struct homa_wire_pkt pkt;

	(void)state;
	assert_int_equal(homa_wire_decode(NULL, 0, MAX_MSG, &pkt),
			 HOMA_WIRE_SHORT);
	assert_int_equal(homa_wire_decode(busy_golden, 27, MAX_MSG, &pkt),
			 HOMA_WIRE_SHORT);
	assert_int_equal(homa_wire_decode(busy_golden, 28, MAX_MSG, &pkt),
			 HOMA_WIRE_OK);
}

static void homa_wire_decode__bad_type_below(void **state)
{
	(void)state;
	expect_patched(busy_golden, 28, 11, 0x0F, MAX_MSG, HOMA_WIRE_BAD_TYPE);
	expect_patched(busy_golden, 28, 11, 0x00, MAX_MSG, HOMA_WIRE_BAD_TYPE);
}

static void homa_wire_decode__bad_type_above(void **state)
{
	(void)state;
	expect_patched(busy_golden, 28, 11, 0x19, MAX_MSG, HOMA_WIRE_BAD_TYPE);
	expect_patched(busy_golden, 28, 11, 0xFF, MAX_MSG, HOMA_WIRE_BAD_TYPE);
}

static void homa_wire_decode__short_type(void **state)
{
	uint8_t buf[128];
	struct homa_wire_pkt pkt;
	size_t min;
	uint8_t type;

	(void)state;
	for (type = HOMA_PKT_TYPE_MIN; type <= HOMA_PKT_TYPE_MAX; type++) {
		min = type == HOMA_PKT_RESEND ? 36
					      : homa_wire_header_bytes(type);
		memset(buf, 0, sizeof(buf));
		buf[11] = type;
		buf[12] = type == HOMA_PKT_DATA ? 0xE0 : 0x50;
		if (min > 28)
			assert_int_equal(
				homa_wire_decode(buf, min - 1, MAX_MSG, &pkt),
				HOMA_WIRE_SHORT_TYPE);
		else
			assert_int_equal(
				homa_wire_decode(buf, 27, MAX_MSG, &pkt),
				HOMA_WIRE_SHORT);
	}
}

/* Each type with a body, one byte short of its header. */
static void homa_wire_decode__short_type_each(void **state)
{
	struct homa_wire_pkt pkt;

	(void)state;
	assert_int_equal(homa_wire_decode(data_golden, 55, MAX_MSG, &pkt),
			 HOMA_WIRE_SHORT_TYPE);
	assert_int_equal(homa_wire_decode(grant_golden, 32, MAX_MSG, &pkt),
			 HOMA_WIRE_SHORT_TYPE);
	assert_int_equal(homa_wire_decode(resend_golden, 35, MAX_MSG, &pkt),
			 HOMA_WIRE_SHORT_TYPE);
	assert_int_equal(homa_wire_decode(cutoffs_golden, 61, MAX_MSG, &pkt),
			 HOMA_WIRE_SHORT_TYPE);
	/* ACK needs all 80 bytes even when num_acks is small. */
	assert_int_equal(homa_wire_decode(ack_golden, 79, MAX_MSG, &pkt),
			 HOMA_WIRE_SHORT_TYPE);
	assert_int_equal(homa_wire_decode(ack_golden, 30, MAX_MSG, &pkt),
			 HOMA_WIRE_SHORT_TYPE);
}

/* Linux Homa never reads doff (the kernel of 2025-10 sends RPC_UNKNOWN
 * and ACK with 0x00): any value decodes, is reported as it was, and
 * homa_wire_doff_usual tells the unusual ones apart. */
static void homa_wire_decode__any_doff(void **state)
{
	static const struct {
		const uint8_t *golden;
		size_t len;
		uint8_t doff;
		bool usual;
	} cases[] = {
		{ busy_golden, 28, 0x00, false },
		{ busy_golden, 28, 0xE0, false },
		{ busy_golden, 28, 0x51, false },
		{ busy_golden, 28, 0x50, true },
		{ grant_golden, 33, 0x00, false },
		{ ack_golden, 80, 0x00, false },
		{ data_golden, 64, 0x50, false },
		{ data_golden, 64, 0xE1, false },
		{ data_golden, 64, 0xD8, false },
		{ data_golden, 64, 0xD0, true },
		{ data_golden, 64, 0xE0, true },
	};
	struct homa_wire_pkt pkt, ref;
	uint8_t buf[128];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(buf, cases[i].golden, cases[i].len);
		assert_int_equal(
			homa_wire_decode(buf, cases[i].len, MAX_MSG, &ref),
			HOMA_WIRE_OK);
		buf[12] = cases[i].doff;
		assert_int_equal(
			homa_wire_decode(buf, cases[i].len, MAX_MSG, &pkt),
			HOMA_WIRE_OK);
		assert_int_equal(pkt.common.doff, cases[i].doff);
		assert_int_equal(
			homa_wire_doff_usual(pkt.common.type, pkt.common.doff),
			cases[i].usual);
		/* Nothing else changes. */
		assert_int_equal(pkt.common.sender_id, ref.common.sender_id);
		assert_int_equal(pkt.common.type, ref.common.type);
		if (pkt.common.type == HOMA_PKT_DATA)
			assert_int_equal(pkt.u.data.offset, ref.u.data.offset);
	}
}

static void homa_wire_decode__bad_msg_len_zero(void **state)
{
	uint8_t buf[64];
	struct homa_wire_pkt pkt;

	(void)state;
	memcpy(buf, data_golden, sizeof(buf));
	memset(buf + 28, 0, 4);
	assert_int_equal(homa_wire_decode(buf, sizeof(buf), MAX_MSG, &pkt),
			 HOMA_WIRE_BAD_MSG_LEN);
}

static void homa_wire_decode__bad_msg_len_above_max(void **state)
{
	struct homa_wire_pkt pkt;

	(void)state;
	/* data_golden has message_length 200000. */
	assert_int_equal(homa_wire_decode(data_golden, sizeof(data_golden),
					  199999, &pkt),
			 HOMA_WIRE_BAD_MSG_LEN);
	assert_int_equal(homa_wire_decode(data_golden, sizeof(data_golden),
					  200000, &pkt),
			 HOMA_WIRE_OK);
}

/* A DATA packet with the given message length, seg.offset and payload. */
static int decode_data_with(uint32_t msg_len, uint32_t seg_offset,
			    size_t payload, uint32_t max)
{
	uint8_t buf[56 + 16];
	struct homa_wire_pkt pkt;

	assert_true(payload <= 16);
	memcpy(buf, data_golden, 56);
	memset(buf + 56, 0x5A, 16);
	buf[28] = (uint8_t)(msg_len >> 24);
	buf[29] = (uint8_t)(msg_len >> 16);
	buf[30] = (uint8_t)(msg_len >> 8);
	buf[31] = (uint8_t)msg_len;
	buf[52] = (uint8_t)(seg_offset >> 24);
	buf[53] = (uint8_t)(seg_offset >> 16);
	buf[54] = (uint8_t)(seg_offset >> 8);
	buf[55] = (uint8_t)seg_offset;
	return homa_wire_decode(buf, 56 + payload, max, &pkt);
}

static void homa_wire_decode__data_range_offset_equals_length(void **state)
{
	(void)state;
	assert_int_equal(decode_data_with(1000, 1000, 1, MAX_MSG),
			 HOMA_WIRE_DATA_RANGE);
	/* Same through sequence: data_golden's sequence is 100000. */
	assert_int_equal(decode_data_with(100000, 0xFFFFFFFF, 1, MAX_MSG),
			 HOMA_WIRE_DATA_RANGE);
	assert_int_equal(decode_data_with(100001, 0xFFFFFFFF, 1, MAX_MSG),
			 HOMA_WIRE_OK);
}

static void homa_wire_decode__data_range_past_end(void **state)
{
	(void)state;
	assert_int_equal(decode_data_with(1000, 990, 11, MAX_MSG),
			 HOMA_WIRE_DATA_RANGE);
	assert_int_equal(decode_data_with(1000, 990, 10, MAX_MSG),
			 HOMA_WIRE_OK);
	/* offset + payload would wrap in 32 bits. */
	assert_int_equal(
		decode_data_with(0xFFFFFFFF, 0xFFFFFFFE, 16, 0xFFFFFFFF),
		HOMA_WIRE_DATA_RANGE);
}

static void homa_wire_decode__data_range_zero_payload(void **state)
{
	(void)state;
	assert_int_equal(decode_data_with(1000, 0, 0, MAX_MSG),
			 HOMA_WIRE_DATA_RANGE);
}

static void homa_wire_decode__error_leaves_out_untouched(void **state)
{
	struct homa_wire_pkt pkt, before;

	(void)state;
	memset(&pkt, 0x77, sizeof(pkt));
	before = pkt;
	assert_int_equal(homa_wire_decode(busy_golden, 27, MAX_MSG, &pkt),
			 HOMA_WIRE_SHORT);
	assert_int_equal(homa_wire_decode(data_golden, 56, MAX_MSG, &pkt),
			 HOMA_WIRE_DATA_RANGE);
	assert_int_equal(
		homa_wire_decode(data_golden, sizeof(data_golden), 5, &pkt),
		HOMA_WIRE_BAD_MSG_LEN);
	assert_memory_equal(&pkt, &before, sizeof(pkt));
}

/* Every prefix of every golden packet, each in an exact-size heap buffer. */
static void homa_wire_decode__truncated_prefixes(void **state)
{
	struct homa_wire_pkt pkt;
	const struct golden *g;
	size_t i, len, min;
	uint8_t *buf;
	int want, got;

	(void)state;
	for (i = 0; i < NUM_GOLDENS; i++) {
		g = &goldens[i];
		min = g->bytes[11] == HOMA_PKT_RESEND
			      ? 36
			      : homa_wire_header_bytes(g->bytes[11]);
		for (len = 0; len < g->len; len++) {
			buf = malloc(len ? len : 1);
			assert_non_null(buf);
			memcpy(buf, g->bytes, len);
			got = homa_wire_decode(buf, len, MAX_MSG, &pkt);
			if (len < 28)
				want = HOMA_WIRE_SHORT;
			else if (len < min)
				want = HOMA_WIRE_SHORT_TYPE;
			else if (len == 56 && g->bytes[11] == HOMA_PKT_DATA)
				want = HOMA_WIRE_DATA_RANGE;
			else
				want = HOMA_WIRE_OK; /* shorter payload or
						      * upstream RESEND */
			if (got != want)
				fail_msg("%s prefix %zu: got %s, want %s",
					 g->name, len,
					 homa_wire_reason_name(got),
					 homa_wire_reason_name(want));
			if (got == HOMA_WIRE_OK &&
			    g->bytes[11] == HOMA_PKT_DATA)
				assert_int_equal(pkt.u.data.payload_bytes,
						 len - 56);
			if (got == HOMA_WIRE_OK &&
			    g->bytes[11] == HOMA_PKT_RESEND)
				assert_int_equal(
					pkt.u.resend.priority,
					HOMA_WIRE_RESEND_UPSTREAM_PRIO);
			free(buf);
		}
	}
}

static void homa_wire_decode__ack_num_acks_clamped(void **state)
{
	uint8_t buf[80], enc[80];
	struct homa_wire_pkt pkt;
	int i;

	(void)state;
	memcpy(buf, ack_golden, sizeof(buf));
	/* Fill entries 3 and 4, and set num_acks to 0x1234. */
	for (i = 60; i < 80; i++)
		buf[i] = (uint8_t)(0x80 + i);
	buf[28] = 0x12;
	buf[29] = 0x34;
	decode_ok(buf, sizeof(buf), &pkt);
	assert_int_equal(pkt.u.ack.num_acks, HOMA_WIRE_MAX_ACKS);
	assert_true(pkt.u.ack.acks[3].client_id == 0xBCBDBEBFC0C1C2C3ull);
	assert_int_equal(pkt.u.ack.acks[3].server_port, 0xC4C5);
	assert_true(pkt.u.ack.acks[4].client_id == 0xC6C7C8C9CACBCCCDull);
	assert_int_equal(pkt.u.ack.acks[4].server_port, 0xCECF);
	assert_int_equal(homa_wire_encode(&pkt, enc, sizeof(enc)), 80);
	assert_int_equal(enc[28], 0);
	assert_int_equal(enc[29], 5);
	assert_memory_equal(enc + 30, buf + 30, 50);
}

static void homa_wire_decode__ack_entries_past_num_acks_ignored(void **state)
{
	uint8_t buf[80];
	struct homa_wire_pkt pkt;

	(void)state;
	memcpy(buf, ack_golden, sizeof(buf));
	memset(buf + 60, 0x99, 20);
	decode_ok(buf, sizeof(buf), &pkt);
	assert_int_equal(pkt.u.ack.num_acks, 3);
	assert_true(pkt.u.ack.acks[3].client_id == 0);
	assert_int_equal(pkt.u.ack.acks[4].server_port, 0);
}

static void homa_wire_decode__control_trailing_bytes_ignored(void **state)
{
	uint8_t buf[128];
	struct homa_wire_pkt plain, padded;
	const struct golden *g;
	size_t i;

	(void)state;
	for (i = 0; i < NUM_GOLDENS; i++) {
		g = &goldens[i];
		/* DATA has a payload; 36+pad would be a 37-byte RESEND. */
		if (g->bytes[11] == HOMA_PKT_DATA || g->len == 36)
			continue;
		memcpy(buf, g->bytes, g->len);
		memset(buf + g->len, 0xCC, 20);
		decode_ok(g->bytes, g->len, &plain);
		decode_ok(buf, g->len + 20, &padded);
		assert_pkt_equal(&plain, &padded);
	}
}

static void homa_wire_decode__upstream_markers_kept_raw(void **state)
{
	uint8_t buf[37], enc[37];
	struct homa_wire_pkt pkt;

	(void)state;
	memcpy(buf, resend_golden, sizeof(buf));
	buf[13] = 0; /* upstream: flags, checksum and urgent all 0 */
	memset(buf + 16, 0, 4);
	decode_ok(buf, sizeof(buf), &pkt);
	assert_int_equal(pkt.common.flags, 0);
	assert_int_equal(pkt.common.urgent, 0);
	assert_int_equal(pkt.common.checksum, 0);
	assert_int_equal(homa_wire_encode(&pkt, enc, sizeof(enc)), 37);
	assert_int_equal(enc[13], 0x06);
	assert_int_equal(enc[18], 0xB9);
	assert_int_equal(enc[19], 0x7D);
}

static void homa_wire_encode__enospc(void **state)
{
	uint8_t buf[128];
	struct homa_wire_pkt pkt;
	size_t hdr, i;
	uint8_t type;

	(void)state;
	for (type = HOMA_PKT_TYPE_MIN; type <= HOMA_PKT_TYPE_MAX; type++) {
		random_pkt(&pkt, type);
		hdr = homa_wire_header_bytes(type);
		memset(buf, 0xEE, sizeof(buf));
		assert_int_equal(homa_wire_encode(&pkt, buf, hdr - 1), -ENOSPC);
		assert_int_equal(homa_wire_encode(&pkt, buf, 0), -ENOSPC);
		for (i = 0; i < sizeof(buf); i++)
			assert_int_equal(buf[i], 0xEE);
		assert_int_equal(homa_wire_encode(&pkt, buf, hdr), (int)hdr);
	}
}

static void homa_wire_encode__einval(void **state)
{
	uint8_t buf[128];
	struct homa_wire_pkt pkt;

	(void)state;
	random_pkt(&pkt, 0x0F);
	assert_int_equal(homa_wire_encode(&pkt, buf, sizeof(buf)), -EINVAL);
	pkt.common.type = 0x19;
	assert_int_equal(homa_wire_encode(&pkt, buf, sizeof(buf)), -EINVAL);
	pkt.common.type = 0;
	assert_int_equal(homa_wire_encode(&pkt, buf, 0), -EINVAL);
}

static void homa_wire_encode__fixed_fields(void **state)
{
	uint8_t buf[128];
	struct homa_wire_pkt pkt;

	(void)state;
	random_pkt(&pkt, HOMA_PKT_DATA);
	pkt.common.doff = 0x12;
	pkt.common.flags = 0;
	pkt.common.urgent = 0x1111;
	memset(buf, 0xEE, sizeof(buf));
	assert_int_equal(homa_wire_encode(&pkt, buf, sizeof(buf)), 56);
	assert_int_equal(buf[8] | buf[9] | buf[10], 0); /* ack[3] */
	assert_int_equal(buf[12], 0xE0);
	assert_int_equal(buf[13], 0x06);
	assert_int_equal(buf[14] | buf[15], 0); /* window */
	assert_int_equal(buf[18], 0xB9);
	assert_int_equal(buf[19], 0x7D);
	assert_int_equal(buf[49] | buf[50] | buf[51], 0); /* pad */

	pkt.common.doff = 0xD0;
	assert_int_equal(homa_wire_encode(&pkt, buf, sizeof(buf)), 56);
	assert_int_equal(buf[12], 0xD0);

	random_pkt(&pkt, HOMA_PKT_GRANT);
	pkt.common.doff = 0xE0;
	assert_int_equal(homa_wire_encode(&pkt, buf, sizeof(buf)), 33);
	assert_int_equal(buf[12], 0x50);
}

/* The transmit path's DATA encoder writes all 56 bytes, the same as
 * homa_wire_encode, whatever the buffer held before. */
static void homa_wire_encode_data__same_bytes_as_encode(void **state)
{
	uint8_t a[HOMA_WIRE_DATA_BYTES], b[HOMA_WIRE_DATA_BYTES];
	struct homa_wire_pkt pkt;

	(void)state;
	for (int i = 0; i < 200; i++) {
		random_pkt(&pkt, HOMA_PKT_DATA);
		if (i & 1)
			pkt.common.doff = HOMA_WIRE_DOFF_DATA_GSO;
		memset(a, 0x00, sizeof(a));
		memset(b, 0xFF, sizeof(b));
		assert_int_equal(homa_wire_encode(&pkt, a, sizeof(a)), 56);
		homa_wire_encode_data(b, &pkt.common, &pkt.u.data);
		assert_memory_equal(a, b, sizeof(a));
	}
}

static void homa_wire_encode__ack_unused_entries_zero(void **state)
{
	uint8_t buf[80];
	struct homa_wire_pkt pkt;
	int i;

	(void)state;
	random_pkt(&pkt, HOMA_PKT_ACK);
	for (i = 0; i < HOMA_WIRE_MAX_ACKS; i++) {
		pkt.u.ack.acks[i].client_id = rnd64() | 1;
		pkt.u.ack.acks[i].server_port = 0xFFFF;
	}
	pkt.u.ack.num_acks = 2;
	memset(buf, 0xEE, sizeof(buf));
	assert_int_equal(homa_wire_encode(&pkt, buf, sizeof(buf)), 80);
	assert_int_equal(buf[29], 2);
	for (i = 50; i < 80; i++)
		assert_int_equal(buf[i], 0);

	pkt.u.ack.num_acks = 9; /* clamped on encode too */
	assert_int_equal(homa_wire_encode(&pkt, buf, sizeof(buf)), 80);
	assert_int_equal(buf[28], 0);
	assert_int_equal(buf[29], 5);
	assert_int_equal(buf[78], 0xFF);
}

static void homa_wire_header_bytes__all_types(void **state)
{
	(void)state;
	assert_int_equal(homa_wire_header_bytes(HOMA_PKT_DATA), 56);
	assert_int_equal(homa_wire_header_bytes(HOMA_PKT_GRANT), 33);
	assert_int_equal(homa_wire_header_bytes(HOMA_PKT_RESEND), 37);
	assert_int_equal(homa_wire_header_bytes(HOMA_PKT_RPC_UNKNOWN), 28);
	assert_int_equal(homa_wire_header_bytes(HOMA_PKT_BUSY), 28);
	assert_int_equal(homa_wire_header_bytes(HOMA_PKT_CUTOFFS), 62);
	assert_int_equal(homa_wire_header_bytes(HOMA_PKT_FREEZE), 28);
	assert_int_equal(homa_wire_header_bytes(HOMA_PKT_NEED_ACK), 28);
	assert_int_equal(homa_wire_header_bytes(HOMA_PKT_ACK), 80);
	assert_int_equal(homa_wire_header_bytes(0x00), 0);
	assert_int_equal(homa_wire_header_bytes(0x0F), 0);
	assert_int_equal(homa_wire_header_bytes(0x19), 0);
	assert_int_equal(homa_wire_header_bytes(0xFF), 0);
}

static void homa_wire_type_name__all_types(void **state)
{
	(void)state;
	assert_string_equal(homa_wire_type_name(0x10), "DATA");
	assert_string_equal(homa_wire_type_name(0x11), "GRANT");
	assert_string_equal(homa_wire_type_name(0x12), "RESEND");
	assert_string_equal(homa_wire_type_name(0x13), "RPC_UNKNOWN");
	assert_string_equal(homa_wire_type_name(0x14), "BUSY");
	assert_string_equal(homa_wire_type_name(0x15), "CUTOFFS");
	assert_string_equal(homa_wire_type_name(0x16), "FREEZE");
	assert_string_equal(homa_wire_type_name(0x17), "NEED_ACK");
	assert_string_equal(homa_wire_type_name(0x18), "ACK");
	assert_string_equal(homa_wire_type_name(0x0F), "UNKNOWN");
	assert_string_equal(homa_wire_type_name(0x19), "UNKNOWN");
}

static void homa_wire_reason_name__all_reasons(void **state)
{
	(void)state;
	assert_string_equal(homa_wire_reason_name(HOMA_WIRE_OK), "OK");
	assert_string_equal(homa_wire_reason_name(HOMA_WIRE_SHORT), "SHORT");
	assert_string_equal(homa_wire_reason_name(HOMA_WIRE_BAD_TYPE),
			    "BAD_TYPE");
	assert_string_equal(homa_wire_reason_name(HOMA_WIRE_SHORT_TYPE),
			    "SHORT_TYPE");
	assert_string_equal(homa_wire_reason_name(HOMA_WIRE_BAD_MSG_LEN),
			    "BAD_MSG_LEN");
	assert_string_equal(homa_wire_reason_name(HOMA_WIRE_DATA_RANGE),
			    "DATA_RANGE");
	assert_string_equal(homa_wire_reason_name(-1), "UNKNOWN");
	assert_string_equal(homa_wire_reason_name(HOMA_WIRE_REASON_COUNT),
			    "UNKNOWN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(homa_wire_decode__data_golden),
		cmocka_unit_test(homa_wire_decode__data_gso_golden),
		cmocka_unit_test(homa_wire_decode__grant_golden),
		cmocka_unit_test(homa_wire_decode__resend_golden),
		cmocka_unit_test(homa_wire_decode__resend_upstream_golden),
		cmocka_unit_test(homa_wire_decode__rpc_unknown_golden),
		cmocka_unit_test(homa_wire_decode__busy_golden),
		cmocka_unit_test(homa_wire_decode__freeze_golden),
		cmocka_unit_test(homa_wire_decode__need_ack_golden),
		cmocka_unit_test(homa_wire_decode__cutoffs_golden),
		cmocka_unit_test(homa_wire_decode__ack_golden),
		cmocka_unit_test(homa_wire_encode__round_trip_random),
		cmocka_unit_test(homa_wire_decode__short),
		cmocka_unit_test(homa_wire_decode__bad_type_below),
		cmocka_unit_test(homa_wire_decode__bad_type_above),
		cmocka_unit_test(homa_wire_decode__short_type),
		cmocka_unit_test(homa_wire_decode__short_type_each),
		cmocka_unit_test(homa_wire_decode__any_doff),
		cmocka_unit_test(homa_wire_decode__bad_msg_len_zero),
		cmocka_unit_test(homa_wire_decode__bad_msg_len_above_max),
		cmocka_unit_test(
			homa_wire_decode__data_range_offset_equals_length),
		cmocka_unit_test(homa_wire_decode__data_range_past_end),
		cmocka_unit_test(homa_wire_decode__data_range_zero_payload),
		cmocka_unit_test(homa_wire_decode__error_leaves_out_untouched),
		cmocka_unit_test(homa_wire_decode__truncated_prefixes),
		cmocka_unit_test(homa_wire_decode__ack_num_acks_clamped),
		cmocka_unit_test(
			homa_wire_decode__ack_entries_past_num_acks_ignored),
		cmocka_unit_test(
			homa_wire_decode__control_trailing_bytes_ignored),
		cmocka_unit_test(homa_wire_decode__upstream_markers_kept_raw),
		cmocka_unit_test(homa_wire_encode__enospc),
		cmocka_unit_test(homa_wire_encode_data__same_bytes_as_encode),
		cmocka_unit_test(homa_wire_encode__einval),
		cmocka_unit_test(homa_wire_encode__fixed_fields),
		cmocka_unit_test(homa_wire_encode__ack_unused_entries_zero),
		cmocka_unit_test(homa_wire_header_bytes__all_types),
		cmocka_unit_test(homa_wire_type_name__all_types),
		cmocka_unit_test(homa_wire_reason_name__all_reasons),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
