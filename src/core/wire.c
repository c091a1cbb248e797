/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wire.c - encoding and decoding of Homa packet headers.
 *
 * This is the only file in the project that knows header offsets and byte
 * order (spec/protocol.md section 1). Every multi-byte field is moved with
 * explicit big-endian byte shifts through the get_be / put_be helpers below,
 * so the code does not depend on host endianness, alignment or struct
 * packing. The decoder checks every length before it reads a byte and
 * reports why it rejected a packet as an enum homa_wire_reason, which the
 * receive path turns into a drop counter. The encoder writes exactly the
 * header of each type (never the DATA payload) into a caller's buffer.
 * The module is freestanding: no allocation, no I/O, no global state.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wire.h"

/* Offsets (bytes from the start of the packet) of the common header. */
enum {
	OFF_SPORT = HOMA_WIRE_OFF_SPORT,
	OFF_DPORT = HOMA_WIRE_OFF_DPORT,
	OFF_SEQUENCE = HOMA_WIRE_OFF_SEQUENCE,
	OFF_ACK_UNUSED = 8, /* 3 bytes, always 0 */
	OFF_TYPE = HOMA_WIRE_OFF_TYPE,
	OFF_DOFF = HOMA_WIRE_OFF_DOFF,
	OFF_FLAGS = HOMA_WIRE_OFF_FLAGS,
	OFF_WINDOW = 14, /* always 0 */
	OFF_CHECKSUM = HOMA_WIRE_OFF_CHECKSUM,
	OFF_URGENT = HOMA_WIRE_OFF_URGENT,
	OFF_SENDER_ID = HOMA_WIRE_OFF_SENDER_ID,
};

/* Offsets of the per-type bodies. */
enum {
	OFF_DATA_MSG_LEN = HOMA_WIRE_OFF_DATA_MSG_LEN,
	OFF_DATA_INCOMING = HOMA_WIRE_OFF_DATA_INCOMING,
	OFF_DATA_ACK = HOMA_WIRE_OFF_DATA_ACK, /* client_id u64, server_port */
	OFF_DATA_CUTOFF_VER = HOMA_WIRE_OFF_DATA_CUTOFF_VER,
	OFF_DATA_RETRANSMIT = HOMA_WIRE_OFF_DATA_RETRANSMIT,
	OFF_DATA_PAD = 49, /* 3 bytes, always 0 */
	OFF_DATA_SEG_OFFSET = HOMA_WIRE_OFF_DATA_SEG_OFFSET,
	OFF_GRANT_OFFSET = 28,
	OFF_GRANT_PRIO = 32,
	OFF_RESEND_OFFSET = 28,
	OFF_RESEND_LENGTH = 32,
	OFF_RESEND_PRIO = 36,
	OFF_CUTOFFS = 28,
	OFF_CUTOFFS_VERSION = 60,
	OFF_ACK_NUM = 28,
	OFF_ACK_ENTRIES = 30,
	ACK_ENTRY_BYTES = 10,
};

/* Each header ends exactly where its last field ends. */
_Static_assert(OFF_ACK_UNUSED + 3 == OFF_TYPE, "ack[3] precedes type");
_Static_assert(OFF_WINDOW + 2 == OFF_CHECKSUM, "window precedes checksum");
_Static_assert(OFF_SENDER_ID + 8 == HOMA_WIRE_COMMON_BYTES, "common size");
_Static_assert(OFF_DATA_SEG_OFFSET + 4 == HOMA_WIRE_DATA_BYTES, "DATA size");
_Static_assert(OFF_DATA_PAD + 3 == OFF_DATA_SEG_OFFSET, "DATA pad");
/* The wide stores of homa_wire_encode_data (wire.h) group these. */
_Static_assert(OFF_SEQUENCE + 4 == OFF_ACK_UNUSED && OFF_TYPE + 1 == OFF_DOFF &&
		       OFF_DOFF + 1 == OFF_FLAGS &&
		       OFF_FLAGS + 1 == OFF_WINDOW &&
		       OFF_CHECKSUM + 2 == OFF_URGENT &&
		       OFF_URGENT + 2 == OFF_SENDER_ID,
	       "common header groups");
_Static_assert(OFF_DATA_MSG_LEN + 4 == OFF_DATA_INCOMING &&
		       OFF_DATA_ACK + 10 == OFF_DATA_CUTOFF_VER &&
		       OFF_DATA_CUTOFF_VER + 2 == OFF_DATA_RETRANSMIT &&
		       OFF_DATA_ACK + 16 == OFF_DATA_SEG_OFFSET,
	       "DATA header groups");
_Static_assert(OFF_GRANT_PRIO + 1 == HOMA_WIRE_GRANT_BYTES, "GRANT size");
_Static_assert(OFF_RESEND_PRIO == HOMA_WIRE_RESEND_UPSTREAM_BYTES,
	       "upstream RESEND ends where the priority byte starts");
_Static_assert(OFF_RESEND_PRIO + 1 == HOMA_WIRE_RESEND_BYTES, "RESEND size");
_Static_assert(OFF_CUTOFFS + 4 * HOMA_WIRE_NUM_CUTOFFS == OFF_CUTOFFS_VERSION,
	       "CUTOFFS array");
_Static_assert(OFF_CUTOFFS_VERSION + 2 == HOMA_WIRE_CUTOFFS_BYTES,
	       "CUTOFFS size");
_Static_assert(OFF_ACK_ENTRIES + ACK_ENTRY_BYTES * HOMA_WIRE_MAX_ACKS ==
		       HOMA_WIRE_ACK_BYTES,
	       "ACK size");
_Static_assert(HOMA_WIRE_ACK_BYTES <= HOMA_WIRE_MAX_HEADER_BYTES,
	       "largest header fits HOMA_WIRE_MAX_HEADER_BYTES");
_Static_assert(HOMA_PKT_TYPE_COUNT == 9, "type table below has 9 rows");

/* Big-endian fields at p: wire.h's helpers. */
static uint16_t get_be16(const uint8_t *p)
{
	return homa_wire_peek16(p, 0);
}

static uint32_t get_be32(const uint8_t *p)
{
	return homa_wire_peek32(p, 0);
}

static inline __attribute__((always_inline)) uint64_t get_be64(const uint8_t *p)
{
	return homa_wire_peek64(p, 0);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	homa_wire_poke16(p, 0, v);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	homa_wire_poke32(p, 0, v);
}

static inline __attribute__((always_inline)) void put_be64(uint8_t *p,
							   uint64_t v)
{
	homa_wire_poke64(p, 0, v);
}

/* Per-type facts, indexed by type - HOMA_PKT_TYPE_MIN. */
static const struct {
	const char *name;     /* printable type name */
	uint8_t header_bytes; /* bytes written by encode */
	uint8_t min_bytes;    /* smallest length decode accepts */
} type_info[HOMA_PKT_TYPE_COUNT] = {
	{ "DATA", HOMA_WIRE_DATA_BYTES, HOMA_WIRE_DATA_BYTES },
	{ "GRANT", HOMA_WIRE_GRANT_BYTES, HOMA_WIRE_GRANT_BYTES },
	{ "RESEND", HOMA_WIRE_RESEND_BYTES, HOMA_WIRE_RESEND_UPSTREAM_BYTES },
	{ "RPC_UNKNOWN", HOMA_WIRE_COMMON_BYTES, HOMA_WIRE_COMMON_BYTES },
	{ "BUSY", HOMA_WIRE_COMMON_BYTES, HOMA_WIRE_COMMON_BYTES },
	{ "CUTOFFS", HOMA_WIRE_CUTOFFS_BYTES, HOMA_WIRE_CUTOFFS_BYTES },
	{ "FREEZE", HOMA_WIRE_COMMON_BYTES, HOMA_WIRE_COMMON_BYTES },
	{ "NEED_ACK", HOMA_WIRE_COMMON_BYTES, HOMA_WIRE_COMMON_BYTES },
	{ "ACK", HOMA_WIRE_ACK_BYTES, HOMA_WIRE_ACK_BYTES },
};

static bool type_known(uint8_t type)
{
	return type >= HOMA_PKT_TYPE_MIN && type <= HOMA_PKT_TYPE_MAX;
}

/*
 * homa_wire_header_bytes() - header size that encode writes for @type
 * (37 for RESEND; decode also accepts the 36-byte upstream form).
 * Returns 0 for an unknown type. No side effects.
 */
size_t homa_wire_header_bytes(uint8_t type)
{
	if (!type_known(type))
		return 0;
	return type_info[type - HOMA_PKT_TYPE_MIN].header_bytes;
}

/*
 * homa_wire_type_name() - static printable name of @type, "UNKNOWN" for a
 * code outside 0x10..0x18. The string is owned by this module.
 */
const char *homa_wire_type_name(uint8_t type)
{
	if (!type_known(type))
		return "UNKNOWN";
	return type_info[type - HOMA_PKT_TYPE_MIN].name;
}

/*
 * homa_wire_reason_name() - static printable name of a decode result
 * (enum homa_wire_reason), "UNKNOWN" for any other value.
 */
const char *homa_wire_reason_name(int reason)
{
	static const char *const names[HOMA_WIRE_REASON_COUNT] = {
		[HOMA_WIRE_OK] = "OK",
		[HOMA_WIRE_SHORT] = "SHORT",
		[HOMA_WIRE_BAD_TYPE] = "BAD_TYPE",
		[HOMA_WIRE_SHORT_TYPE] = "SHORT_TYPE",
		[HOMA_WIRE_BAD_MSG_LEN] = "BAD_MSG_LEN",
		[HOMA_WIRE_DATA_RANGE] = "DATA_RANGE",
	};

	if (reason < 0 || reason >= HOMA_WIRE_REASON_COUNT)
		return "UNKNOWN";
	return names[reason];
}

/*
 * decode_body() - decode the body of a type other than DATA from buf[0..len),
 * where len is at least the type's minimum. Bytes past the header are
 * padding and ignored. Fields not on the wire stay as the caller zeroed them.
 */
static void decode_body(const uint8_t *buf, size_t len,
			struct homa_wire_pkt *pkt)
{
	unsigned int i;

	switch (pkt->common.type) {
	case HOMA_PKT_GRANT:
		pkt->u.grant.offset = get_be32(buf + OFF_GRANT_OFFSET);
		pkt->u.grant.priority = buf[OFF_GRANT_PRIO];
		break;
	case HOMA_PKT_RESEND:
		pkt->u.resend.offset = get_be32(buf + OFF_RESEND_OFFSET);
		pkt->u.resend.length = get_be32(buf + OFF_RESEND_LENGTH);
		pkt->u.resend.priority =
			len > OFF_RESEND_PRIO ? buf[OFF_RESEND_PRIO]
					      : HOMA_WIRE_RESEND_UPSTREAM_PRIO;
		break;
	case HOMA_PKT_CUTOFFS:
		for (i = 0; i < HOMA_WIRE_NUM_CUTOFFS; i++)
			pkt->u.cutoffs.unsched_cutoffs[i] =
				get_be32(buf + OFF_CUTOFFS + 4 * i);
		pkt->u.cutoffs.cutoff_version =
			get_be16(buf + OFF_CUTOFFS_VERSION);
		break;
	case HOMA_PKT_ACK:
		pkt->u.ack.num_acks = get_be16(buf + OFF_ACK_NUM);
		if (pkt->u.ack.num_acks > HOMA_WIRE_MAX_ACKS)
			pkt->u.ack.num_acks = HOMA_WIRE_MAX_ACKS;
		/* Entries past num_acks are not decoded: they stay zero. */
		for (i = 0; i < pkt->u.ack.num_acks; i++) {
			const uint8_t *e =
				buf + OFF_ACK_ENTRIES + ACK_ENTRY_BYTES * i;

			pkt->u.ack.acks[i].client_id = get_be64(e);
			pkt->u.ack.acks[i].server_port = get_be16(e + 8);
		}
		break;
	default: /* RPC_UNKNOWN, BUSY, FREEZE, NEED_ACK: no body */
		break;
	}
}

/*
 * homa_wire_decode() - validate and decode the packet in buf[0..len).
 * @max_message_bytes: largest DATA message_length accepted.
 * Checks, in order: len >= 28 (else HOMA_WIRE_SHORT); type in 0x10..0x18
 * (HOMA_WIRE_BAD_TYPE); len >= the type's header size, 36 for RESEND
 * (HOMA_WIRE_SHORT_TYPE); DATA message_length in 1..max
 * (HOMA_WIRE_BAD_MSG_LEN); DATA payload non-empty and inside the message
 * (HOMA_WIRE_DATA_RANGE). The doff byte is not checked: Linux Homa never
 * reads it, and the kernel of 2025-10 sends RPC_UNKNOWN and ACK with doff
 * 0 (homa_wire_doff_usual tells a caller that wants to count them).
 * Returns HOMA_WIRE_OK and fills *out, or a positive reason and leaves *out
 * untouched. Never reads outside buf[0..len); buf may be NULL if len is 0.
 * out->u.data.payload points into buf, so buf must outlive its use. Fields
 * of *out not carried by the packet are zero (for DATA, whose member's
 * fields are all carried, the other members' bytes are left as they
 * were). Safe from any context.
 */
int homa_wire_decode(const uint8_t *buf, size_t len, uint32_t max_message_bytes,
		     struct homa_wire_pkt *out)
{
	uint8_t type;
	int reason;

	if (len < HOMA_WIRE_COMMON_BYTES)
		return HOMA_WIRE_SHORT;
	type = buf[OFF_TYPE];
	if (!type_known(type))
		return HOMA_WIRE_BAD_TYPE;
	if (len < type_info[type - HOMA_PKT_TYPE_MIN].min_bytes)
		return HOMA_WIRE_SHORT_TYPE;
	/* Every check is made before *out is written (one pass, no copy). */
	if (type == HOMA_PKT_DATA) {
		/* Sets every field of its member and all of the common
		 * header but the raw fields below. */
		reason =
			homa_wire_decode_data(buf, len, max_message_bytes, out);
		if (reason != HOMA_WIRE_OK)
			return reason;
	} else {
		/* The other types leave fields they do not carry as 0. */
		memset(out, 0, sizeof(*out));
		out->common.sport = get_be16(buf + OFF_SPORT);
		out->common.dport = get_be16(buf + OFF_DPORT);
		out->common.sequence = get_be32(buf + OFF_SEQUENCE);
		out->common.type = type;
		out->common.doff = buf[OFF_DOFF];
		out->common.sender_id = get_be64(buf + OFF_SENDER_ID);
		decode_body(buf, len, out);
	}
	out->common.flags = buf[OFF_FLAGS];
	out->common.checksum = get_be16(buf + OFF_CHECKSUM);
	out->common.urgent = get_be16(buf + OFF_URGENT);
	return HOMA_WIRE_OK;
}

int homa_wire_decode_split(const uint8_t *hdr, size_t hdr_len,
			   size_t payload_len, uint32_t max_message_bytes,
			   struct homa_wire_pkt *out)
{
	int reason;

	if (hdr_len < HOMA_WIRE_COMMON_BYTES)
		return HOMA_WIRE_SHORT;
	if (hdr[OFF_TYPE] != HOMA_PKT_DATA)
		return HOMA_WIRE_BAD_TYPE;
	if (hdr_len < HOMA_WIRE_DATA_BYTES)
		return HOMA_WIRE_SHORT_TYPE;
	if (payload_len > UINT32_MAX)
		return HOMA_WIRE_DATA_RANGE;
	/* A DATA packet is decoded from its first 56 bytes alone; the
	 * length only sizes the payload, which is never read. */
	reason = homa_wire_decode(hdr, HOMA_WIRE_DATA_BYTES + payload_len,
				  max_message_bytes, out);
	if (reason == HOMA_WIRE_OK)
		out->u.data.payload = NULL;
	return reason;
}

/* encode_body() - write the body of a non-DATA packet into buf (zeroed). */
static void encode_body(const struct homa_wire_pkt *pkt, uint8_t *buf)
{
	unsigned int i, n;

	switch (pkt->common.type) {
	case HOMA_PKT_GRANT:
		put_be32(buf + OFF_GRANT_OFFSET, pkt->u.grant.offset);
		buf[OFF_GRANT_PRIO] = pkt->u.grant.priority;
		break;
	case HOMA_PKT_RESEND:
		put_be32(buf + OFF_RESEND_OFFSET, pkt->u.resend.offset);
		put_be32(buf + OFF_RESEND_LENGTH, pkt->u.resend.length);
		buf[OFF_RESEND_PRIO] = pkt->u.resend.priority;
		break;
	case HOMA_PKT_CUTOFFS:
		for (i = 0; i < HOMA_WIRE_NUM_CUTOFFS; i++)
			put_be32(buf + OFF_CUTOFFS + 4 * i,
				 pkt->u.cutoffs.unsched_cutoffs[i]);
		put_be16(buf + OFF_CUTOFFS_VERSION,
			 pkt->u.cutoffs.cutoff_version);
		break;
	case HOMA_PKT_ACK:
		n = pkt->u.ack.num_acks;
		if (n > HOMA_WIRE_MAX_ACKS)
			n = HOMA_WIRE_MAX_ACKS;
		put_be16(buf + OFF_ACK_NUM, (uint16_t)n);
		/* Entries from n on stay as zeroed by the caller. */
		for (i = 0; i < n; i++) {
			uint8_t *e =
				buf + OFF_ACK_ENTRIES + ACK_ENTRY_BYTES * i;

			put_be64(e, pkt->u.ack.acks[i].client_id);
			put_be16(e + 8, pkt->u.ack.acks[i].server_port);
		}
		break;
	default: /* RPC_UNKNOWN, BUSY, FREEZE, NEED_ACK: no body */
		break;
	}
}

/*
 * homa_wire_encode() - write the header of @pkt into buf[0..cap).
 * All fields go out big-endian. ack[3], window and the DATA pad are 0;
 * doff is 0x50 for control packets and 0xE0 for DATA unless
 * pkt->common.doff is 0xD0; flags are 0x06 and urgent 0xB97D whatever
 * pkt->common holds; checksum comes from pkt->common.checksum. DATA writes
 * the 56-byte header only (the caller appends the payload), RESEND the
 * 37-byte form, ACK min(num_acks, 5) and all five entries (unused ones 0).
 * Returns the header bytes written (homa_wire_header_bytes() of the type),
 * -EINVAL for an unknown type or -ENOSPC if cap is smaller than the header;
 * on error buf is untouched. Safe from any context.
 */
int homa_wire_encode(const struct homa_wire_pkt *pkt, uint8_t *buf, size_t cap)
{
	const struct homa_wire_common *c = &pkt->common;
	size_t n = homa_wire_header_bytes(c->type);

	if (n == 0)
		return -EINVAL;
	if (cap < n)
		return -ENOSPC;
	if (c->type == HOMA_PKT_DATA) {
		homa_wire_encode_data(buf, c, &pkt->u.data);
		return (int)n;
	}

	memset(buf, 0, n);
	put_be16(buf + OFF_SPORT, c->sport);
	put_be16(buf + OFF_DPORT, c->dport);
	put_be32(buf + OFF_SEQUENCE, c->sequence);
	buf[OFF_TYPE] = c->type;
	buf[OFF_DOFF] = HOMA_WIRE_DOFF_CONTROL;
	buf[OFF_FLAGS] = HOMA_WIRE_FLAGS;
	put_be16(buf + OFF_CHECKSUM, c->checksum);
	put_be16(buf + OFF_URGENT, HOMA_WIRE_URGENT);
	put_be64(buf + OFF_SENDER_ID, c->sender_id);
	encode_body(pkt, buf);
	return (int)n;
}
