/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * homa-kv-server [--raw] [--ipv6] PORT - a key-value store over Homa (the
 * messages are in kv.h): GET, PUT, DEL and COUNT requests from any
 * number of clients on one server socket, answered in arrival order,
 * until killed. A malformed request is answered with KV_BAD; a request
 * that cannot be answered (its client gave up) is reported and skipped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv.h"

#define KV_BUCKETS 4096 /* hash chains */

static const char usage[] =
	"usage: homa-kv-server [--raw] [--ipv6] PORT\n"
	"  serve GET/PUT/DEL/COUNT requests (examples/kv.h) on server port\n"
	"  PORT (1-32767) until killed\n"
	"  --raw      raw IP protocol 146 instead of UDP (needs CAP_NET_RAW;\n"
	"             clients must use the same datapath)\n"
	"  --ipv6     an IPv6 socket\n"
	"  --help     this text;  --version  the version\n";

/* One stored pair. */
struct kv_entry {
	struct kv_entry *next; /* next in its bucket */
	uint16_t key_len;      /* bytes of key */
	uint32_t value_len;    /* bytes of value */
	uint8_t data[];	       /* key, then value */
};

static struct kv_entry *buckets[KV_BUCKETS];
static uint32_t num_keys;

static uint32_t kv_hash(const uint8_t *key, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ key[i]) * 16777619u;
	return h % KV_BUCKETS;
}

/* The link that points at key's entry (or at the NULL ending its chain). */
static struct kv_entry **kv_find(const uint8_t *key, size_t len)
{
	struct kv_entry **e = &buckets[kv_hash(key, len)];

	while (*e && ((*e)->key_len != len || memcmp((*e)->data, key, len)))
		e = &(*e)->next;
	return e;
}

/* Execute one request of n bytes; the response goes to out, its length
 * to *out_len (the header, then a value for GET). */
static void kv_execute(const uint8_t *req, size_t n, uint8_t *out,
		       size_t *out_len)
{
	struct kv_hdr h, *r = (struct kv_hdr *)out;
	const uint8_t *key = req + sizeof(h);
	struct kv_entry **e, *ne;

	memset(r, 0, sizeof(*r));
	*out_len = sizeof(*r);
	if (n < sizeof(h)) {
		r->status = KV_BAD;
		return;
	}
	memcpy(&h, req, sizeof(h));
	r->op = h.op;
	if (h.op == KV_COUNT) {
		r->value_len = num_keys;
		return;
	}
	if (h.key_len == 0 || h.key_len > KV_MAX_KEY ||
	    n != sizeof(h) + h.key_len + (h.op == KV_PUT ? h.value_len : 0)) {
		r->status = KV_BAD;
		return;
	}
	e = kv_find(key, h.key_len);
	switch (h.op) {
	case KV_GET:
		if (!*e) {
			r->status = KV_NOT_FOUND;
			return;
		}
		r->value_len = (*e)->value_len;
		memcpy(out + sizeof(*r), (*e)->data + h.key_len, r->value_len);
		*out_len += r->value_len;
		return;
	case KV_PUT:
		ne = malloc(sizeof(*ne) + h.key_len + h.value_len);
		if (!ne) {
			r->status = KV_NOMEM;
			return;
		}
		ne->key_len = h.key_len;
		ne->value_len = h.value_len;
		memcpy(ne->data, key, h.key_len + (size_t)h.value_len);
		if (*e) { /* replace */
			ne->next = (*e)->next;
			free(*e);
		} else {
			ne->next = NULL;
			num_keys++;
		}
		*e = ne;
		return;
	case KV_DEL:
		if (!*e) {
			r->status = KV_NOT_FOUND;
			return;
		}
		ne = *e;
		*e = ne->next;
		free(ne);
		num_keys--;
		return;
	default:
		r->status = KV_BAD;
	}
}

static void report(const char *call, int err)
{
	fprintf(stderr, "homa-kv-server: %s: %s%s\n", call, strerror(err),
		err == EADDRINUSE ? " (another program has that port)"
		: err == EPERM	  ? " (--raw needs CAP_NET_RAW: run as root)"
				  : "");
}

int main(int argc, char **argv)
{
	static uint8_t req[HOMA_MAX_MESSAGE_LENGTH],
		resp[HOMA_MAX_MESSAGE_LENGTH];
	struct sockaddr_in6 addr = { 0 };
	int family = AF_INET, i = 1, fd;
	char *end;
	long port;

	for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("homa-kv-server %s (libhoma %s)\n",
			       HOMA_VERSION_STRING, homa_version());
			return 0;
		} else if (strcmp(argv[i], "--raw") == 0) {
			if (homa_config_param("datapath", "raw") < 0) {
				fprintf(stderr, "homa-kv-server: %s\n",
					homa_last_error());
				return 2;
			}
		} else if (strcmp(argv[i], "--ipv6") == 0) {
			family = AF_INET6;
		} else {
			fprintf(stderr, "homa-kv-server: unknown option %s\n",
				argv[i]);
			fputs(usage, stderr);
			return 2;
		}
	}
	if (i != argc - 1) {
		fputs(usage, stderr);
		return 2;
	}
	port = strtol(argv[i], &end, 10);
	if (end == argv[i] || *end || port <= 0 || port >= 32768) {
		fprintf(stderr,
			"homa-kv-server: bad PORT '%s': a server port is a "
			"number from 1 to 32767\n",
			argv[i]);
		return 2;
	}
	fd = homa_socket(family);
	if (fd < 0) {
		report("homa_socket", errno);
		return 1;
	}
	addr.sin6_family = (sa_family_t)family; /* port at the same offset */
	addr.sin6_port = htons((uint16_t)port);
	if (homa_bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		report("homa_bind", errno);
		homa_close(fd);
		return 1;
	}
	for (;;) {
		struct sockaddr_in6 src;
		socklen_t srclen = sizeof(src);
		uint64_t id = 0;
		size_t out_len;
		ssize_t n;

		n = homa_receive(fd, req, sizeof(req), 0,
				 (struct sockaddr *)&src, &srclen, &id, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			report("homa_receive", errno);
			homa_close(fd);
			return 1;
		}
		kv_execute(req, (size_t)n, resp, &out_len);
		if (homa_reply(fd, resp, out_len, (struct sockaddr *)&src,
			       srclen, id) < 0)
			report("homa_reply", errno);
	}
}
