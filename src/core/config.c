/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * config.c - defaults, validation and setting by name of struct
 * homa_config.
 *
 * One static table describes every parameter: its name (the Linux sysctl
 * name where one exists, spec/protocol.md 10), where it lives in struct
 * homa_config, how many values it has (1, or HOMA_MAX_PRIORITIES for the
 * two per-level arrays), its allowed range and a one-line description.
 * Range checks, set, get and homa_config_name are all driven by that
 * table, so adding a parameter means adding a field and a table row (and
 * its default). A few relations between parameters are checked after the
 * ranges. Error messages are built with a tiny local formatter because
 * the core has no snprintf; they fit HOMA_ERR_BYTES (104) bytes including
 * the terminating NUL and always name the parameter at fault.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config.h"

/* Size of error message buffers, bytes including NUL (HOMA_ERR_BYTES). */
#define CONFIG_ERR_BYTES 104
/* Bytes of IPv6 (the larger IP header) plus a Homa DATA header. */
#define CONFIG_MIN_HEADER_BYTES (40 + 56)

/* One row of the parameter table. */
struct config_param {
	const char *name; /* parameter name, as in homa_config_set */
	size_t offset;	  /* offset of the field in struct homa_config */
	int count;	  /* number of int64_t values: 1 or 8 */
	int64_t min;	  /* smallest allowed value (each entry) */
	int64_t max;	  /* largest allowed value (each entry) */
	const char *desc; /* one-line description with unit */
};

#define P(field, cnt, lo, hi, text)                                            \
	{                                                                      \
#field, offsetof(struct homa_config, field), cnt, lo, hi, text \
	}

#define MSG_LIMIT HOMA_CONFIG_MAX_MESSAGE_LIMIT
#define NPRIO	  HOMA_MAX_PRIORITIES

/*
 * The table. Ranges are generous but keep every product the core forms
 * (bytes x priorities, ticks x tick_us, ...) far from overflow.
 * unsched_cutoffs allows up to INT32_MAX because a normalized vector has
 * INT_MAX in entry 0 and must survive a get/set round trip.
 */
static const struct config_param params[] = {
	P(unsched_bytes, 1, 1, MSG_LIMIT, "bytes a message sends unscheduled"),
	P(window, 1, 0, 1000000000, "grant window, bytes; 0 = dynamic"),
	P(max_incoming, 1, 1, 1000000000, "cap on granted-unreceived bytes"),
	P(max_overcommit, 1, 1, NPRIO, "messages granted at once"),
	P(grant_fifo_fraction, 1, 0, 500, "per mille of grants to oldest"),
	P(fifo_grant_increment, 1, 1, MSG_LIMIT, "bytes per FIFO grant"),
	P(nudge_usecs, 1, 0, 1000000,
	  "idle receiver nudges after, us; 0 = off"),
	P(num_priorities, 1, 1, NPRIO, "priority levels used"),
	P(priority_map, NPRIO, 0, 7, "level -> 3-bit DSCP priority"),
	P(unsched_cutoffs, NPRIO, 0, INT32_MAX,
	  "largest message per unscheduled level, bytes"),
	P(cutoff_period_ms, 1, 0, 3600000, "auto cutoffs period, ms; 0 = off"),
	P(cutoff_min_messages, 1, 0, 1000000000,
	  "messages needed before recomputing cutoffs"),
	P(link_mbps, 1, 1, 10000000, "uplink speed, Mbit/s"),
	P(max_nic_est_backlog_usecs, 1, 0, 1000000,
	  "allowed estimated NIC queue, us"),
	P(defer_min_bytes, 1, 0, MSG_LIMIT, "remainders below bypass pacer"),
	P(pacer_fifo_fraction, 1, 0, 500, "per mille of pacer picks oldest"),
	P(nudge_yield_bytes, 1, 0, MSG_LIMIT,
	  "messages with more left yield to nudged ones"),
	P(flags, 1, 0, 255, "HOMA_FLAG_* bits; unknown bits ignored"),
	P(tick_us, 1, 100, 1000000, "timer period, us"),
	P(resend_ticks, 1, 1, 1000000, "silent ticks before first RESEND"),
	P(resend_interval, 1, 1, 1000000, "ticks between RESENDs"),
	P(timeout_ticks, 1, 1, 1000000, "silent ticks before abort"),
	P(request_ack_ticks, 1, 1, 1000000, "ticks before NEED_ACK"),
	P(overdue_ticks, 1, 0, 1000000000,
	  "ticks in service before a server RPC is overdue; 0 = never"),
	P(reap_limit, 1, 1, 1000000, "dead RPCs freed per reaper call"),
	P(dead_buffs_limit, 1, 1, 1000000000, "dead RPCs before hard reaping"),
	P(wmem_max, 1, 1, 1ll << 40, "per-socket outgoing bytes limit"),
	P(bpage_lease_usecs, 1, 0, 60000000, "core lease on a tail bpage, us"),
	P(max_server_rpcs, 1, 1, 100000000, "incomplete server RPCs"),
	P(peer_gc_threshold, 1, 0, 100000000, "no peer eviction below this"),
	P(peer_idle_secs_min, 1, 0, 86400, "never evict peers idle less, s"),
	P(peer_idle_secs_max, 1, 0, 86400, "evict peers idle this long, s"),
	P(max_peers, 1, 1, 100000000, "hard cap on peer records"),
	P(mtu, 1, HOMA_CONFIG_MTU_MIN, HOMA_CONFIG_MTU_MAX,
	  "link MTU, bytes, IP header included"),
	P(extra_header_bytes, 1, 0, 1024, "datapath bytes below Homa"),
	P(max_message_bytes, 1, 1, MSG_LIMIT, "largest message, bytes"),
	P(poll_usecs, 1, 0, 1000000, "busy-wait before sleeping, us"),
	P(max_gso_size, 1, 0, 1048576, "GSO frame cap, bytes; 0 = off"),
};

#define NUM_PARAMS ((int)(sizeof(params) / sizeof(params[0])))

/* ---- a tiny bounded string builder for error messages ---- */

struct msg {
	char *buf;  /* destination (NULL = discard) */
	size_t len; /* characters written so far, excluding NUL */
};

/* msg_str() - append s, truncating at CONFIG_ERR_BYTES - 1 characters. */
static void msg_str(struct msg *m, const char *s)
{
	if (!m->buf)
		return;
	while (*s && m->len + 1 < CONFIG_ERR_BYTES)
		m->buf[m->len++] = *s++;
	m->buf[m->len] = '\0';
}

/* msg_int() - append v in decimal. */
static void msg_int(struct msg *m, int64_t v)
{
	char digits[24];
	char *p = digits + sizeof(digits) - 1;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	*p = '\0';
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	msg_str(m, p);
}

/* msg_start() - begin a message in err (which may be NULL). */
static struct msg msg_start(char *err)
{
	struct msg m = { err, 0 };

	if (err)
		err[0] = '\0';
	return m;
}

/* ---- table helpers ---- */

/* The struct is a plain sequence of int64_t, so a parameter is found by
 * indexing it as an array (no byte-pointer casts). */
_Static_assert(sizeof(struct homa_config) % sizeof(int64_t) == 0,
	       "homa_config holds only int64_t fields");

/* field() - the first value of parameter p in config. */
static int64_t *field(struct homa_config *config, const struct config_param *p)
{
	return (int64_t *)(void *)config + p->offset / sizeof(int64_t);
}

/* cfield() - the first value of parameter p in a read-only config. */
static const int64_t *cfield(const struct homa_config *config,
			     const struct config_param *p)
{
	return (const int64_t *)(const void *)config +
	       p->offset / sizeof(int64_t);
}

/* find() - the table row called name, NULL if none. */
static const struct config_param *find(const char *name)
{
	int i;

	if (!name)
		return NULL;
	for (i = 0; i < NUM_PARAMS; i++)
		if (strcmp(params[i].name, name) == 0)
			return &params[i];
	return NULL;
}

/*
 * check_values() - range check count values for p. On failure writes
 * "name: v is out of range min..max" (name[i] for arrays) to err.
 */
static int check_values(const struct config_param *p, const int64_t *values,
			char *err)
{
	struct msg m;
	int i;

	for (i = 0; i < p->count; i++) {
		if (values[i] >= p->min && values[i] <= p->max)
			continue;
		m = msg_start(err);
		msg_str(&m, p->name);
		if (p->count > 1) {
			msg_str(&m, "[");
			msg_int(&m, i);
			msg_str(&m, "]");
		}
		msg_str(&m, ": ");
		msg_int(&m, values[i]);
		msg_str(&m, " is out of range ");
		msg_int(&m, p->min);
		msg_str(&m, "..");
		msg_int(&m, p->max);
		return -EINVAL;
	}
	return 0;
}

/* relation_err() - write "a: va <what> b (vb)" to err; returns -EINVAL. */
static int relation_err(char *err, const char *a, int64_t va, const char *what,
			const char *b, int64_t vb)
{
	struct msg m = msg_start(err);

	msg_str(&m, a);
	msg_str(&m, ": ");
	msg_int(&m, va);
	msg_str(&m, what);
	msg_str(&m, b);
	msg_str(&m, " (");
	msg_int(&m, vb);
	msg_str(&m, ")");
	return -EINVAL;
}

/* check_relations() - the cross-parameter rules, after ranges. */
static int check_relations(const struct homa_config *c, char *err)
{
	if (c->timeout_ticks <= c->resend_ticks)
		return relation_err(err, "timeout_ticks", c->timeout_ticks,
				    " must exceed ", "resend_ticks",
				    c->resend_ticks);
	if (c->peer_idle_secs_min > c->peer_idle_secs_max)
		return relation_err(err, "peer_idle_secs_min",
				    c->peer_idle_secs_min, " exceeds ",
				    "peer_idle_secs_max",
				    c->peer_idle_secs_max);
	if (c->peer_gc_threshold > c->max_peers)
		return relation_err(err, "peer_gc_threshold",
				    c->peer_gc_threshold, " exceeds ",
				    "max_peers", c->max_peers);
	if (c->mtu - CONFIG_MIN_HEADER_BYTES - c->extra_header_bytes <= 0)
		return relation_err(err, "mtu", c->mtu,
				    " leaves no payload after 96 header "
				    "bytes and ",
				    "extra_header_bytes",
				    c->extra_header_bytes);
	/* Within one packet time, gaps between packets would count as
	 * idle and nudges would flood the senders' downlinks (at 1 us and
	 * 10 Gbit/s, 45 times as many as at 3 us in the simulator). */
	if (c->nudge_usecs && c->nudge_usecs * c->link_mbps <= c->mtu * 8)
		return relation_err(err, "nudge_usecs", c->nudge_usecs,
				    " is not above one mtu packet time at ",
				    "link_mbps", c->link_mbps);
	return 0;
}

/* ---- public ---- */

void homa_config_default(struct homa_config *config)
{
	static const int64_t cutoffs[NPRIO] = { 0,	 0,	0,    0,
						1000000, 15000, 2800, 200 };
	int i;

	memset(config, 0, sizeof(*config));
	config->unsched_bytes = 40000;
	config->window = 0;
	config->max_incoming = 400000;
	config->max_overcommit = 8;
	config->grant_fifo_fraction = 50;
	config->fifo_grant_increment = 50000;
	config->num_priorities = 8;
	for (i = 0; i < NPRIO; i++) {
		config->priority_map[i] = i;
		config->unsched_cutoffs[i] = cutoffs[i];
	}
	config->cutoff_period_ms = 1000;
	config->cutoff_min_messages = 10000;
	config->link_mbps = 25000;
	config->max_nic_est_backlog_usecs = 5;
	config->defer_min_bytes = 1000;
	config->pacer_fifo_fraction = 50;
	config->nudge_yield_bytes = 1000000;
	config->flags = 0;
	config->tick_us = 1000;
	config->resend_ticks = 5;
	config->resend_interval = 5;
	config->timeout_ticks = 100;
	config->request_ack_ticks = 2;
	config->overdue_ticks = 1000;
	config->reap_limit = 10;
	config->dead_buffs_limit = 5000;
	config->wmem_max = 100000000;
	config->bpage_lease_usecs = 10000;
	config->max_server_rpcs = 10000;
	config->peer_gc_threshold = 5000;
	config->peer_idle_secs_min = 10;
	config->peer_idle_secs_max = 120;
	config->max_peers = 100000;
	config->mtu = 1500;
	config->extra_header_bytes = 0;
	config->max_message_bytes = HOMA_DEFAULT_MAX_MESSAGE;
	config->poll_usecs = 50;
	config->max_gso_size = 0;
}

int homa_config_validate(const struct homa_config *config, char *err)
{
	int i, ret;

	for (i = 0; i < NUM_PARAMS; i++) {
		ret = check_values(&params[i], cfield(config, &params[i]), err);
		if (ret)
			return ret;
	}
	ret = check_relations(config, err);
	if (ret == 0 && err)
		err[0] = '\0';
	return ret;
}

int homa_config_set(struct homa_config *config, const char *name,
		    const int64_t *values, int count, char *err)
{
	const struct config_param *p = find(name);
	struct homa_config tmp;
	struct msg m;
	int ret;

	if (!p) {
		m = msg_start(err);
		msg_str(&m, "unknown parameter '");
		msg_str(&m, name ? name : "(null)");
		msg_str(&m, "'");
		return -EINVAL;
	}
	if (count != p->count || !values) {
		m = msg_start(err);
		msg_str(&m, p->name);
		msg_str(&m, ": takes ");
		msg_int(&m, p->count);
		msg_str(&m, p->count == 1 ? " value, got " : " values, got ");
		msg_int(&m, count);
		return -EINVAL;
	}
	ret = check_values(p, values, err);
	if (ret)
		return ret;
	tmp = *config;
	memcpy(field(&tmp, p), values, (size_t)p->count * sizeof(*values));
	ret = homa_config_validate(&tmp, err);
	if (ret)
		return ret;
	*config = tmp;
	return 0;
}

/*
 * Copies min(count, max) values; returns the parameter's count, so a
 * result above max means the copy was cut short.
 */
int homa_config_get(const struct homa_config *config, const char *name,
		    int64_t *values, int max)
{
	const struct config_param *p = find(name);
	int n;

	if (!p)
		return -EINVAL;
	n = max < p->count ? max : p->count;
	if (n > 0)
		memcpy(values, cfield(config, p), (size_t)n * sizeof(*values));
	return p->count;
}

const char *homa_config_name(int i)
{
	if (i < 0 || i >= NUM_PARAMS)
		return NULL;
	return params[i].name;
}
