/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kv.h - the messages of the key-value example (homa-kv-server,
 * homa-kv-client). A request is a struct kv_hdr, then key_len bytes of
 * key, then value_len bytes of value (PUT only); a response is a struct
 * kv_hdr whose status says how it went, then value_len bytes of value
 * (GET only). Fields are in host byte order: client and server run on
 * machines of the same kind (a real protocol would fix the order).
 */
#ifndef HOMA_EXAMPLES_KV_H
#define HOMA_EXAMPLES_KV_H

#include <stdint.h>

#include "homa.h"

enum kv_op {
	KV_GET = 'G',	/* value of key */
	KV_PUT = 'P',	/* set key to value */
	KV_DEL = 'D',	/* remove key */
	KV_COUNT = 'C', /* number of keys stored (value_len holds it) */
};

enum kv_status {
	KV_OK = 0,	  /* done */
	KV_NOT_FOUND = 1, /* GET or DEL of a key not stored */
	KV_BAD = 2,	  /* malformed request */
	KV_NOMEM = 3,	  /* the server could not store it */
};

struct kv_hdr {
	uint8_t op;	    /* enum kv_op (requests) */
	uint8_t status;	    /* enum kv_status (responses) */
	uint16_t key_len;   /* bytes of key after the header, 1..KV_MAX_KEY */
	uint32_t value_len; /* bytes of value after the key */
};

#define KV_MAX_KEY 256 /* bytes */
#define KV_MAX_VALUE                                                           \
	(HOMA_MAX_MESSAGE_LENGTH - (int)sizeof(struct kv_hdr) - KV_MAX_KEY)

#endif /* HOMA_EXAMPLES_KV_H */
