/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * homa_pcap.h - the project's one reader of packet captures, used by
 * homa-pcap-dump (tools/pcap/homa_pcap_dump.c) and by the interop tests
 * (tests/core/test_interop.c). It reads classic pcap (either byte order,
 * micro- or nanosecond stamps) and pcapng (section header, interface
 * description, enhanced and simple packet blocks; each section in its own
 * byte order), streaming: one block in memory at a time, never the whole
 * file. Frames may be Ethernet (any number of 802.1Q/802.1ad tags), Linux
 * cooked (v1, v2), BSD loopback or raw IP (IPv4/IPv6 link types too).
 * It hands over each Homa packet: IP protocol 146, or, when asked
 * (HOMA_PCAP_UDP), the payload of any UDP datagram. IP fragments are
 * skipped. Every length is checked before a byte is read. Nothing here
 * knows Homa's header layout: callers decode with wire.c.
 */
#ifndef HOMA_PCAP_H
#define HOMA_PCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "homa_core.h"

/* Bytes of one frame, at most (tcpdump's default snap length); a larger
 * classic pcap record is refused (-EMSGSIZE). */
#define HOMA_PCAP_MAX_FRAME (256 * 1024)

/* Bytes of one pcapng block, at most: a frame of HOMA_PCAP_MAX_FRAME, the
 * block's fields and room for options; a larger block is refused
 * (-EMSGSIZE). The reader's buffer is this big. */
#define HOMA_PCAP_MAX_BLOCK (HOMA_PCAP_MAX_FRAME + 4096)

/* Interfaces of one pcapng section the reader keeps; a packet of a later
 * one is refused (-ENOTSUP). */
#define HOMA_PCAP_MAX_IFACES 64

/* homa_pcap_homa() flag: the payload of every UDP datagram is Homa too (a
 * capture of the UDP datapath holds nothing else). */
#define HOMA_PCAP_UDP 0x1u

/* Why a frame was not handed over as Homa (index of skipped[]). */
enum homa_pcap_skip {
	HOMA_PCAP_IS_HOMA = 0,	 /* not skipped: a Homa packet */
	HOMA_PCAP_SKIP_LINK,	 /* link type the reader does not know */
	HOMA_PCAP_SKIP_NOT_IP,	 /* no IPv4/IPv6 packet in the frame */
	HOMA_PCAP_SKIP_FRAGMENT, /* an IPv4 fragment */
	HOMA_PCAP_SKIP_NOT_HOMA, /* another protocol, or a bad IP/UDP length */
	HOMA_PCAP_SKIP_COUNT,	 /* number of entries */
};

/* One pcapng interface. */
struct homa_pcap_iface {
	uint32_t link;	 /* link type (LINKTYPE_* number) */
	uint8_t tsresol; /* if_tsresol: 10^-n s, or 2^-n s if bit 7 is set */
};

/* A capture being read. Fields are the reader's; callers read the
 * counters. */
struct homa_pcap {
	FILE *f;	 /* the file */
	bool ng;	 /* pcapng (else classic pcap) */
	bool swap;	 /* the section's byte order differs from ours */
	bool classic_ns; /* classic pcap: stamps in ns (else us) */
	uint32_t link;	 /* classic pcap: link type of every frame */
	uint8_t *buf;	 /* the current record, HOMA_PCAP_MAX_BLOCK bytes */
	int err;	 /* the error that spent the reader, or 0 */
	uint32_t ng_num_ifaces; /* pcapng: interfaces of the section */
	struct homa_pcap_iface ng_ifaces[HOMA_PCAP_MAX_IFACES]; /* them */
	uint64_t frames;    /* frames (packet records) read so far */
	uint64_t homa_pkts; /* Homa packets handed to a callback */
	uint64_t skipped[HOMA_PCAP_SKIP_COUNT]; /* frames skipped, by reason */
};

/* One frame of a capture. The bytes are valid until the next call on the
 * reader. */
struct homa_pcap_frame {
	uint64_t index;	     /* frame number in the file, from 1 */
	uint64_t ts_ns;	     /* capture time, ns since the epoch (0 in a
			      * pcapng simple packet block) */
	uint32_t link;	     /* link type (LINKTYPE_* number) */
	const uint8_t *data; /* the bytes captured */
	uint32_t caplen;     /* bytes at data */
};

/* One Homa packet of a capture. Pointers are valid during the callback
 * (or until the next call on the reader). */
struct homa_pcap_pkt {
	uint64_t index;	      /* frame number in the file, from 1 */
	uint64_t ts_ns;	      /* capture time, ns since the epoch */
	struct homa_addr src; /* IP source (IPv4-mapped for IPv4) */
	struct homa_addr dst; /* IP destination */
	uint8_t tos;	      /* IPv4 TOS or IPv6 traffic class */
	bool udp;	      /* carried in UDP (else IP protocol 146) */
	const uint8_t *homa;  /* the Homa packet, from its first byte */
	size_t homa_bytes;    /* bytes captured at homa */
	size_t wire_bytes;    /* its length as the IP (or UDP) header gives
			       * it: more than homa_bytes when the capture
			       * kept only the start (snap length) */
};

/*
 * homa_pcap_open() - open the capture at path and read its file header
 * (classic) or first section header block (pcapng). On success the
 * reader owns the file and a buffer until homa_pcap_close(). Errors:
 * -errno of fopen (-ENOENT, -EACCES...), -EINVAL (not a pcap or pcapng
 * file: unknown magic or byte-order magic), -ENODATA (the file ends
 * inside its header), -EBADMSG or -EMSGSIZE (a first section header
 * block of a bad length, as for homa_pcap_next), -EIO, -ENOMEM. On
 * failure nothing is left open.
 */
int homa_pcap_open(struct homa_pcap *r, const char *path);

/* homa_pcap_open_stream() - the same over an open stream (a pipe, or
 * fmemopen in tests); the reader owns f from now on, also on failure. */
int homa_pcap_open_stream(struct homa_pcap *r, FILE *f);

/*
 * homa_pcap_next() - the next frame, of any protocol. Returns 1 (frame
 * in *fr), 0 at the end of the file, or a negative errno for a damaged
 * file: -ENODATA (the file ends inside a record or block: a truncated
 * header, or a captured length beyond the end of the file), -EBADMSG (a
 * block length that is below its minimum, not a multiple of 4, or not
 * repeated at the block's end; a captured length beyond its block; a
 * packet of an interface not described), -EMSGSIZE (a record over
 * HOMA_PCAP_MAX_FRAME, a block over HOMA_PCAP_MAX_BLOCK), -ENOTSUP (a packet of an interface beyond
 * HOMA_PCAP_MAX_IFACES), -EINVAL (a later section's byte-order magic is
 * wrong), -EIO (a read error). After an error the reader is spent: every
 * later call returns the same error.
 */
int homa_pcap_next(struct homa_pcap *r, struct homa_pcap_frame *fr);

/*
 * homa_pcap_homa() - find the Homa packet in a frame. Returns
 * HOMA_PCAP_IS_HOMA (0) with *pkt filled in (its pointers into the
 * frame's bytes), or the reason it is not one (enum homa_pcap_skip).
 * flags: HOMA_PCAP_UDP or 0. Pure: reads only fr's bytes.
 */
int homa_pcap_homa(const struct homa_pcap_frame *fr, unsigned int flags,
		   struct homa_pcap_pkt *pkt);

/* Return 0 to go on, anything else to stop (homa_pcap_each returns it). */
typedef int (*homa_pcap_fn)(void *arg, const struct homa_pcap_pkt *pkt);

/*
 * homa_pcap_each() - call fn for every Homa packet of the rest of the
 * capture, in file order, counting the others in r->skipped. Returns the
 * number of Homa packets handed to fn, fn's nonzero return, or
 * homa_pcap_next()'s error (r->frames then counts the frames read).
 */
int homa_pcap_each(struct homa_pcap *r, unsigned int flags, homa_pcap_fn fn,
		   void *arg);

/* homa_pcap_close() - close the file and free the buffer. */
void homa_pcap_close(struct homa_pcap *r);

/* homa_pcap_read() - open, each, close: the errors of both. */
int homa_pcap_read(const char *path, unsigned int flags, homa_pcap_fn fn,
		   void *arg);

#endif /* HOMA_PCAP_H */
