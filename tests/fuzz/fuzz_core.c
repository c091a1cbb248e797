/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_core.c - libFuzzer target feeding arbitrary packet sequences into a
 * live core: one instance with a server socket and a client socket with
 * requests in flight, driven by a script decoded from the input. Any crash,
 * sanitizer report, or memory still allocated after teardown is a finding.
 *
 * Script: a sequence of records [op][arg][len][len bytes]:
 *   op % 6 == 0: deliver the bytes as a packet from host (arg % 4)
 *   op % 6 == 1: the same, but first patch in a plausible header (valid
 *                type, doff and ports, id from a small set) so the input
 *                reaches the handlers behind the decoder
 *   op % 6 == 2: advance the clock by arg * 100 us and poll
 *   op % 6 == 3: client sends a request of (arg * 997) bytes to host 0
 *   op % 6 == 4: server receives and replies; client receives
 *   op % 6 == 5: abort client RPC (arg selects all or one)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "homa_core.h"
#include "wire.h"

#define FZ_REGION (4u << 20)

struct fz {
	uint64_t allocated; /* bytes outstanding through env */
	uint64_t now;	    /* simulated time, ns */
	uint64_t rng;	    /* random state */
};

static void fz_xmit(void *ctx, const struct homa_out_pkt *pkt)
{
	(void)ctx;
	(void)pkt;
}

static uint64_t fz_random(void *ctx)
{
	struct fz *f = ctx;

	f->rng = f->rng * 6364136223846793005ull + 1442695040888963407ull;
	return f->rng >> 11;
}

static void *fz_alloc(void *ctx, size_t bytes)
{
	((struct fz *)ctx)->allocated += bytes;
	return malloc(bytes);
}

static void fz_free(void *ctx, void *p, size_t bytes)
{
	((struct fz *)ctx)->allocated -= bytes;
	free(p);
}

static void fz_addr(struct homa_addr *a, int host)
{
	memset(a, 0, sizeof(*a));
	a->a[10] = 0xff;
	a->a[11] = 0xff;
	a->a[12] = 10;
	a->a[15] = (uint8_t)(host + 1);
}

/* Make the first bytes of pkt a header that passes decoding. */
static void fz_patch(uint8_t *pkt, size_t len, uint8_t arg, uint16_t sport,
		     uint16_t dport)
{
	static const uint8_t types[] = { 0x10, 0x11, 0x12, 0x13,
					 0x14, 0x15, 0x17, 0x18 };
	uint8_t type = types[arg % sizeof(types)];

	if (len < HOMA_WIRE_COMMON_BYTES)
		return;
	pkt[0] = (uint8_t)(sport >> 8);
	pkt[1] = (uint8_t)sport;
	pkt[2] = (uint8_t)(dport >> 8);
	pkt[3] = (uint8_t)dport;
	pkt[11] = type;
	pkt[12] = type == 0x10 ? 0xE0 : 0x50;
	memset(pkt + 20, 0, 7); /* ids 0..255: collide with real RPCs */
	if (type == 0x10 && len >= HOMA_WIRE_DATA_BYTES) {
		/* message_length small, seg.offset from sequence */
		pkt[28] = 0;
		pkt[29] = 0;
		memset(pkt + 52, 0xff, 4);
		memset(pkt + 4, 0, 2);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { 0, 1000000, 1 };
	struct homa_env env = { &f,	  fz_xmit, NULL, fz_random,
				fz_alloc, fz_free, NULL };
	struct homa_config cfg;
	struct homa *h;
	struct homa_sock *srv, *cli;
	static uint8_t *regions;
	static struct homa_recv_args rs, rc; /* server, client */
	uint8_t msg[4096], pkt[2048];
	struct homa_addr self, src;
	size_t i = 0;

	if (!regions && posix_memalign((void **)&regions, 4096, 2 * FZ_REGION))
		return 0;
	homa_config_default(&cfg);
	cfg.max_message_bytes = 100000;
	if (homa_create(&env, &cfg, f.now, &h, NULL) < 0)
		abort();
	fz_addr(&self, 0);
	if (homa_sock_open(h, HOMA_FAMILY_INET, NULL, &srv) ||
	    homa_sock_bind(srv, 99) ||
	    homa_sock_set_rcvbuf(srv, regions, FZ_REGION) ||
	    homa_sock_open(h, HOMA_FAMILY_INET, NULL, &cli) ||
	    homa_sock_set_rcvbuf(cli, regions + FZ_REGION, FZ_REGION))
		abort();
	memset(msg, 0x5a, sizeof(msg));
	rs.num_bpages = 0;
	rc.num_bpages = 0;
	while (i + 3 <= size) {
		uint8_t op = data[i], arg = data[i + 1];
		size_t len = data[i + 2];

		i += 3;
		if (len > size - i)
			len = size - i;
		switch (op % 6) {
		case 0:
		case 1:
			memcpy(pkt, data + i, len);
			if (op % 6 == 1)
				fz_patch(pkt, len, arg, arg & 1 ? 99 : 0x8001,
					 arg & 2 ? 99 : homa_sock_port(cli));
			fz_addr(&src, arg % 4);
			homa_input(h, &src, pkt, len, f.now);
			break;
		case 2:
			f.now += (uint64_t)arg * 100000;
			homa_poll(h, f.now);
			break;
		case 3: {
			struct homa_iov iov = { msg, 1 + (arg *
							  997u) % sizeof(msg) };
			struct homa_send_args sa = { &self, 99, &iov,	1,
						     0,	    7,	arg & 1 };
			homa_send(cli, &sa, f.now);
			break;
		}
		case 4: {
			struct homa_iov iov = { msg, 1 + arg };
			int n;

			/* Pages of the previous message go back with the
			 * next recv on the same socket. */
			rs.id = 0;
			n = homa_recv(srv, &rs, f.now);
			if (n > 0) {
				struct homa_send_args sa = {
					&rs.peer, rs.peer_port, &iov,
					1,	  rs.id,	0,
					0
				};
				homa_send(srv, &sa, f.now);
			}
			rc.id = 0;
			homa_recv(cli, &rc, f.now);
			break;
		}
		case 5:
			homa_abort(cli, arg & 1 ? 0 : (uint64_t)arg * 2,
				   arg & 2 ? 110 : 0, f.now);
			break;
		}
		i += len;
	}
	homa_destroy(h);
	if (f.allocated != 0)
		abort(); /* leak */
	return 0;
}
