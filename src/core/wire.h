/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wire.h - the Homa wire format: host-order views of every packet type,
 * encoding into a caller's buffer, and decoding with validation.
 *
 * This is the only module of the project that knows byte order or header
 * offsets (spec/protocol.md section 1). Everything above it works on the
 * host-order structs below. The format is byte-exact with Linux Homa (full
 * build), so packets produced here can be exchanged with the kernel module.
 */
#ifndef HOMA_CORE_WIRE_H
#define HOMA_CORE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Packet type codes (byte 11 of the common header). */
enum homa_pkt_type {
	HOMA_PKT_DATA = 0x10,
	HOMA_PKT_GRANT = 0x11,
	HOMA_PKT_RESEND = 0x12,
	HOMA_PKT_RPC_UNKNOWN = 0x13,
	HOMA_PKT_BUSY = 0x14,
	HOMA_PKT_CUTOFFS = 0x15,
	HOMA_PKT_FREEZE = 0x16,
	HOMA_PKT_NEED_ACK = 0x17,
	HOMA_PKT_ACK = 0x18,
};

#define HOMA_PKT_TYPE_MIN   0x10
#define HOMA_PKT_TYPE_MAX   0x18
#define HOMA_PKT_TYPE_COUNT (HOMA_PKT_TYPE_MAX - HOMA_PKT_TYPE_MIN + 1)

/* Header sizes in bytes, per type (spec 1.2). */
#define HOMA_WIRE_COMMON_BYTES		28
#define HOMA_WIRE_DATA_BYTES		56
#define HOMA_WIRE_GRANT_BYTES		33
#define HOMA_WIRE_RESEND_BYTES		37
#define HOMA_WIRE_RESEND_UPSTREAM_BYTES 36
#define HOMA_WIRE_CUTOFFS_BYTES		62
#define HOMA_WIRE_ACK_BYTES		80
#define HOMA_WIRE_MAX_HEADER_BYTES	90

/* Values of the doff byte (header length in 32-bit words << 4). */
#define HOMA_WIRE_DOFF_CONTROL	0x50
#define HOMA_WIRE_DOFF_DATA	0xE0
#define HOMA_WIRE_DOFF_DATA_GSO 0xD0

/* Full-build markers written into every packet (TCP-hijack signature). */
#define HOMA_WIRE_FLAGS	 0x06
#define HOMA_WIRE_URGENT 0xB97D

/* seg.offset value meaning "the offset is in the sequence field". */
#define HOMA_WIRE_SEG_OFFSET_IN_SEQ 0xFFFFFFFFu

/* RESEND length meaning "nothing received yet: resend all you sent". */
#define HOMA_WIRE_RESEND_ALL 0xFFFFFFFFu

/* Priority assumed for a 36-byte upstream RESEND, which has no priority
 * byte: the lowest level, so it never jumps ahead of scheduled traffic. */
#define HOMA_WIRE_RESEND_UPSTREAM_PRIO 0

#define HOMA_WIRE_MAX_ACKS    5
#define HOMA_WIRE_NUM_CUTOFFS 8

/* Byte offsets of the common-header fields that hosts read or write
 * without decoding the packet (spec 1.2): the datapaths route by the
 * ports, answer by the type and fill in the checksum. wire.c lays the
 * header out with these same values. */
#define HOMA_WIRE_OFF_SPORT    0
#define HOMA_WIRE_OFF_DPORT    2
#define HOMA_WIRE_OFF_TYPE     11
#define HOMA_WIRE_OFF_CHECKSUM 16

/* The rest of the common header and the DATA header, for the inline DATA
 * encoder and decoder below (the fast path's; wire.c lays out the other
 * types): sequence u32, doff, flags u8, urgent u16, sender_id u64;
 * DATA: message_length u32, incoming u32, ack (client_id u64,
 * server_port u16), cutoff_version u16, retransmit u8, 3 bytes pad,
 * seg.offset u32. */
#define HOMA_WIRE_OFF_SEQUENCE	      4
#define HOMA_WIRE_OFF_DOFF	      12
#define HOMA_WIRE_OFF_FLAGS	      13
#define HOMA_WIRE_OFF_URGENT	      18
#define HOMA_WIRE_OFF_SENDER_ID	      20
#define HOMA_WIRE_OFF_DATA_MSG_LEN    28
#define HOMA_WIRE_OFF_DATA_INCOMING   32
#define HOMA_WIRE_OFF_DATA_ACK	      36
#define HOMA_WIRE_OFF_DATA_CUTOFF_VER 46
#define HOMA_WIRE_OFF_DATA_RETRANSMIT 48
#define HOMA_WIRE_OFF_DATA_SEG_OFFSET 52

/* What surrounds a Homa packet on the wire, bytes: the IP header by
 * family, the UDP header of the UDP datapath, and Ethernet framing
 * (header 14, 802.1Q tag 4, FCS 4, preamble 8, inter-frame gap 12; spec
 * 1.8). */
#define HOMA_WIRE_IPV4_BYTES	    20
#define HOMA_WIRE_IPV6_BYTES	    40
#define HOMA_WIRE_UDP_BYTES	    8
#define HOMA_WIRE_ETH_FRAMING_BYTES 42

/* The network priority travels in the top three bits of the IPv4 TOS /
 * IPv6 traffic class byte (IP precedence): tos = priority << shift. */
#define HOMA_WIRE_TOS_PRIO_SHIFT 5

/* homa_wire_peek16() - the big-endian 16-bit field at off of buf (the
 * caller checked that off + 2 bytes are there). */
static inline uint16_t homa_wire_peek16(const uint8_t *buf, size_t off)
{
	return (uint16_t)(buf[off] << 8 | buf[off + 1]);
}

/* homa_wire_poke16() - write v big-endian at off of buf. */
static inline void homa_wire_poke16(uint8_t *buf, size_t off, uint16_t v)
{
	buf[off] = (uint8_t)(v >> 8);
	buf[off + 1] = (uint8_t)v;
}

/* homa_wire_peek32(), homa_wire_peek64() - the big-endian field at off of
 * buf (4 or 8 bytes there). Byte shifts, which the compiler turns into
 * one load and a byte swap, whatever the host's byte order. */
static inline uint32_t homa_wire_peek32(const uint8_t *buf, size_t off)
{
	return (uint32_t)buf[off] << 24 | (uint32_t)buf[off + 1] << 16 |
	       (uint32_t)buf[off + 2] << 8 | (uint32_t)buf[off + 3];
}

static inline __attribute__((always_inline)) uint64_t
homa_wire_peek64(const uint8_t *buf, size_t off)
{
	return (uint64_t)homa_wire_peek32(buf, off) << 32 |
	       homa_wire_peek32(buf, off + 4);
}

/* homa_wire_poke32(), homa_wire_poke64() - write v big-endian at off of
 * buf: one byte swap (on a little-endian host) and one store; the
 * compiler does not merge byte stores of composed values this well. */
static inline __attribute__((always_inline)) void
homa_wire_poke32(uint8_t *buf, size_t off, uint32_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	memcpy(buf + off, &v, sizeof(v));
}

static inline __attribute__((always_inline)) void
homa_wire_poke64(uint8_t *buf, size_t off, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	memcpy(buf + off, &v, sizeof(v));
}

/* homa_wire_peek_type() - the type byte of len bytes at buf, 0 if they
 * are too short to hold it. */
static inline uint8_t homa_wire_peek_type(const uint8_t *buf, size_t len)
{
	return len > HOMA_WIRE_OFF_TYPE ? buf[HOMA_WIRE_OFF_TYPE] : 0;
}

/* Why decode rejected a packet; each reason has its own drop counter. */
enum homa_wire_reason {
	HOMA_WIRE_OK = 0,
	HOMA_WIRE_SHORT = 1,	   /* shorter than the 28-byte common header */
	HOMA_WIRE_BAD_TYPE = 2,	   /* type outside 0x10..0x18 */
	HOMA_WIRE_SHORT_TYPE = 3,  /* shorter than its type's header */
	HOMA_WIRE_BAD_MSG_LEN = 4, /* DATA message_length 0 or above max */
	HOMA_WIRE_DATA_RANGE = 5,  /* DATA offset/payload beyond message */
	HOMA_WIRE_REASON_COUNT = 6,
};

/* The 28-byte common header, host order. Unused fields (ack[3], window)
 * are written as 0 and ignored on decode. */
struct homa_wire_common {
	uint16_t sport;	    /* sending socket's port */
	uint16_t dport;	    /* receiving socket's port */
	uint32_t sequence;  /* DATA: offset of first payload byte; else 0 */
	uint8_t type;	    /* enum homa_pkt_type */
	uint8_t doff;	    /* raw doff byte (any value on decode) */
	uint8_t flags;	    /* raw flags byte; 0x06 in the full build */
	uint16_t checksum;  /* raw checksum field, host order */
	uint16_t urgent;    /* raw urgent field; 0xB97D in the full build */
	uint64_t sender_id; /* RPC id as known by the sender */
};

/* One acknowledgement: the client's (even) id and the server's port. */
struct homa_wire_ack {
	uint64_t client_id;   /* 0 = no ack */
	uint16_t server_port; /* port of the server socket */
};

/* DATA: header fields plus a view of the payload inside the decoded
 * buffer (decode) or the payload length that follows the header (encode). */
struct homa_wire_data {
	uint32_t message_length;  /* bytes in the whole message */
	uint32_t incoming;	  /* bytes receiver may expect without grants */
	struct homa_wire_ack ack; /* piggybacked ack */
	uint16_t cutoff_version;  /* sender's copy of receiver's version */
	uint8_t retransmit;	  /* 1 if sent for RESEND/RPC_UNKNOWN */
	uint32_t seg_offset;	  /* raw seg.offset; 0xFFFFFFFF = use seq */
	uint32_t offset;	  /* decode: resolved message offset */
	const uint8_t *payload;	  /* decode: payload bytes inside the buffer */
	uint32_t payload_bytes;	  /* decode: bytes of payload */
};

struct homa_wire_grant {
	uint32_t offset;  /* sender may send all bytes below this */
	uint8_t priority; /* level for scheduled data from now on */
};

struct homa_wire_resend {
	uint32_t offset;  /* first byte to resend */
	uint32_t length;  /* bytes; HOMA_WIRE_RESEND_ALL = everything sent */
	uint8_t priority; /* level for the retransmitted data */
};

struct homa_wire_cutoffs {
	uint32_t unsched_cutoffs[HOMA_WIRE_NUM_CUTOFFS]; /* bytes per level */
	uint16_t cutoff_version; /* receiver's version */
};

struct homa_wire_ackpkt {
	uint16_t num_acks; /* valid entries in acks (clamped to 5 on decode) */
	struct homa_wire_ack acks[HOMA_WIRE_MAX_ACKS]; /* acknowledged RPCs */
};

/* A whole packet, host order. Which union member is valid follows
 * common.type; RPC_UNKNOWN, BUSY, FREEZE and NEED_ACK have no body. */
struct homa_wire_pkt {
	struct homa_wire_common common; /* every packet */
	union {
		struct homa_wire_data data;
		struct homa_wire_grant grant;
		struct homa_wire_resend resend;
		struct homa_wire_cutoffs cutoffs;
		struct homa_wire_ackpkt ack;
	} u; /* per-type body */
};

/*
 * homa_wire_decode() - validate and decode the packet in buf[0..len).
 * @max_message_bytes: largest message_length accepted in DATA.
 * Returns HOMA_WIRE_OK (0) and fills *out, or a positive enum
 * homa_wire_reason; *out is then unspecified. Never reads past buf+len.
 * DATA payload pointers point into buf. A 36-byte RESEND decodes with
 * priority HOMA_WIRE_RESEND_UPSTREAM_PRIO; num_acks is clamped to 5.
 */
int homa_wire_decode(const uint8_t *buf, size_t len, uint32_t max_message_bytes,
		     struct homa_wire_pkt *out);

/*
 * homa_wire_decode_data() - homa_wire_decode of a packet the caller found
 * to be DATA (type byte 0x10) and at least HOMA_WIRE_DATA_BYTES long: the
 * same checks and result, inline for the receive path, except that the
 * raw flags, checksum and urgent fields of out->common, which the core
 * never reads, are left as they were (homa_wire_decode fills them).
 */
static inline __attribute__((always_inline)) int
homa_wire_decode_data(const uint8_t *buf, size_t len,
		      uint32_t max_message_bytes, struct homa_wire_pkt *out)
{
	struct homa_wire_data *d = &out->u.data;
	uint64_t lens = homa_wire_peek64(buf, HOMA_WIRE_OFF_DATA_MSG_LEN);
	uint32_t message_length = (uint32_t)(lens >> 32);
	uint32_t sequence = homa_wire_peek32(buf, HOMA_WIRE_OFF_SEQUENCE);
	uint32_t seg_offset =
		homa_wire_peek32(buf, HOMA_WIRE_OFF_DATA_SEG_OFFSET);
	uint32_t off = seg_offset != HOMA_WIRE_SEG_OFFSET_IN_SEQ ? seg_offset
								 : sequence;
	size_t payload_bytes = len - HOMA_WIRE_DATA_BYTES;

	if (message_length == 0 || message_length > max_message_bytes)
		return HOMA_WIRE_BAD_MSG_LEN;
	/* Written so that nothing can overflow: off < message_length. */
	if (off >= message_length || payload_bytes == 0 ||
	    payload_bytes > (size_t)(message_length - off))
		return HOMA_WIRE_DATA_RANGE;
	out->common.sport = homa_wire_peek16(buf, HOMA_WIRE_OFF_SPORT);
	out->common.dport = homa_wire_peek16(buf, HOMA_WIRE_OFF_DPORT);
	out->common.sequence = sequence;
	out->common.type = HOMA_PKT_DATA;
	out->common.doff = buf[HOMA_WIRE_OFF_DOFF];
	out->common.sender_id = homa_wire_peek64(buf, HOMA_WIRE_OFF_SENDER_ID);
	d->message_length = message_length;
	d->incoming = (uint32_t)lens;
	d->ack.client_id = homa_wire_peek64(buf, HOMA_WIRE_OFF_DATA_ACK);
	d->ack.server_port = homa_wire_peek16(buf, HOMA_WIRE_OFF_DATA_ACK + 8);
	d->cutoff_version =
		homa_wire_peek16(buf, HOMA_WIRE_OFF_DATA_CUTOFF_VER);
	d->retransmit = buf[HOMA_WIRE_OFF_DATA_RETRANSMIT];
	d->seg_offset = seg_offset;
	d->offset = off;
	d->payload = buf + HOMA_WIRE_DATA_BYTES;
	d->payload_bytes = (uint32_t)payload_bytes;
	return HOMA_WIRE_OK;
}

/*
 * homa_wire_decode_split() - decode a DATA packet whose 56-byte header is
 * hdr[0..hdr_len) (hdr_len >= 56; bytes past 56 are ignored) and whose
 * payload_len bytes of payload were stored elsewhere: the same checks and
 * result as homa_wire_decode on the whole packet, except that
 * out->u.data.payload is NULL. Reads only hdr[0..56). HOMA_WIRE_BAD_TYPE
 * for any other type, HOMA_WIRE_SHORT_TYPE if hdr_len < 56.
 */
int homa_wire_decode_split(const uint8_t *hdr, size_t hdr_len,
			   size_t payload_len, uint32_t max_message_bytes,
			   struct homa_wire_pkt *out);

/*
 * homa_wire_encode() - encode the header of pkt into buf (capacity cap).
 * Fills doff, flags (0x06) and urgent (0xB97D) from the type regardless of
 * what pkt->common holds (doff 0xE0 for DATA unless common.doff is 0xD0);
 * the checksum field is written from common.checksum. For DATA only the
 * 56-byte header is written; the caller appends the payload.
 * Returns the number of header bytes written, or -ENOSPC if cap is too
 * small, or -EINVAL for an unknown type.
 */
int homa_wire_encode(const struct homa_wire_pkt *pkt, uint8_t *buf, size_t cap);

/*
 * homa_wire_encode_data() - what homa_wire_encode writes for a DATA packet
 * with common header c and body d: the 56-byte header, every byte of it,
 * into buf (at least HOMA_WIRE_DATA_BYTES). c->type is not read. For the
 * transmit path, which need not build a whole struct homa_wire_pkt:
 * inline (the compiler keeps c and d in registers) and written as eight
 * wide stores, neighbouring fields and the fixed bytes (ack[3], type,
 * flags, window, urgent, pad) combined.
 */
static inline __attribute__((always_inline)) void
homa_wire_encode_data(uint8_t *buf, const struct homa_wire_common *c,
		      const struct homa_wire_data *d)
{
	uint64_t doff = c->doff == HOMA_WIRE_DOFF_DATA_GSO
				? HOMA_WIRE_DOFF_DATA_GSO
				: HOMA_WIRE_DOFF_DATA;

	/* sport, dport, sequence */
	homa_wire_poke64(buf, HOMA_WIRE_OFF_SPORT,
			 (uint64_t)c->sport << 48 | (uint64_t)c->dport << 32 |
				 c->sequence);
	/* ack[3] (0), type, doff, flags, window (0) */
	homa_wire_poke64(buf, HOMA_WIRE_OFF_SEQUENCE + 4,
			 (uint64_t)HOMA_PKT_DATA << 32 | doff << 24 |
				 (uint64_t)HOMA_WIRE_FLAGS << 16);
	/* checksum, urgent */
	homa_wire_poke32(buf, HOMA_WIRE_OFF_CHECKSUM,
			 (uint32_t)c->checksum << 16 | HOMA_WIRE_URGENT);
	homa_wire_poke64(buf, HOMA_WIRE_OFF_SENDER_ID, c->sender_id);
	/* message_length, incoming */
	homa_wire_poke64(buf, HOMA_WIRE_OFF_DATA_MSG_LEN,
			 (uint64_t)d->message_length << 32 | d->incoming);
	homa_wire_poke64(buf, HOMA_WIRE_OFF_DATA_ACK, d->ack.client_id);
	/* ack server_port, cutoff_version, retransmit, pad[3] (0) */
	homa_wire_poke64(buf, HOMA_WIRE_OFF_DATA_ACK + 8,
			 (uint64_t)d->ack.server_port << 48 |
				 (uint64_t)d->cutoff_version << 32 |
				 (uint64_t)d->retransmit << 24);
	homa_wire_poke32(buf, HOMA_WIRE_OFF_DATA_SEG_OFFSET, d->seg_offset);
}

/* homa_wire_doff_usual() - is doff the byte Linux Homa of 2026 writes for
 * type (0x50 control, 0xE0 or 0xD0 DATA)? Decode accepts any doff.
 * Inline: homa_input asks it of every packet. */
static inline bool homa_wire_doff_usual(uint8_t type, uint8_t doff)
{
	if (type == HOMA_PKT_DATA)
		return doff == HOMA_WIRE_DOFF_DATA ||
		       doff == HOMA_WIRE_DOFF_DATA_GSO;
	return doff == HOMA_WIRE_DOFF_CONTROL;
}

/* homa_wire_header_bytes() - header size of a type, 0 if unknown. */
size_t homa_wire_header_bytes(uint8_t type);

/* homa_wire_type_name() - "DATA", "GRANT", ...; "UNKNOWN" otherwise. */
const char *homa_wire_type_name(uint8_t type);

/* homa_wire_reason_name() - short name of a decode reason. */
const char *homa_wire_reason_name(int reason);

#endif /* HOMA_CORE_WIRE_H */
