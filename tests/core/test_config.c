/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_config.c - unit tests for src/core/config.c.
 *
 * The defaults are checked field by field against spec/protocol.md 10 and
 * the project's own additions. The allowed range of every parameter is
 * written out again below, independently of config.c's table, and each
 * bound is probed: min - 1 and max + 1 are rejected with a message naming
 * the parameter, min and max accepted (unless a relation forbids it, in
 * which case the relation's message is checked). Then the set/get round
 * trip of every parameter, the table covering every field exactly once,
 * unknown names, wrong counts, the relation checks, message formatting
 * and truncation, and that a failed set leaves the config unchanged.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

#define ERR_BYTES 104

/* The expected ranges, one row per parameter in table order. */
struct range {
	const char *name;
	int count;
	int64_t min, max;
};

static const struct range ranges[] = {
	{ "unsched_bytes", 1, 1, HOMA_CONFIG_MAX_MESSAGE_LIMIT },
	{ "window", 1, 0, 1000000000 },
	{ "max_incoming", 1, 1, 1000000000 },
	{ "max_overcommit", 1, 1, 8 },
	{ "grant_fifo_fraction", 1, 0, 500 },
	{ "fifo_grant_increment", 1, 1, HOMA_CONFIG_MAX_MESSAGE_LIMIT },
	{ "nudge_usecs", 1, 0, 1000000 },
	{ "num_priorities", 1, 1, 8 },
	{ "priority_map", 8, 0, 7 },
	{ "unsched_cutoffs", 8, 0, INT32_MAX },
	{ "cutoff_period_ms", 1, 0, 3600000 },
	{ "cutoff_min_messages", 1, 0, 1000000000 },
	{ "link_mbps", 1, 1, 10000000 },
	{ "max_nic_est_backlog_usecs", 1, 0, 1000000 },
	{ "defer_min_bytes", 1, 0, HOMA_CONFIG_MAX_MESSAGE_LIMIT },
	{ "pacer_fifo_fraction", 1, 0, 500 },
	{ "nudge_yield_bytes", 1, 0, HOMA_CONFIG_MAX_MESSAGE_LIMIT },
	{ "flags", 1, 0, 255 },
	{ "tick_us", 1, 100, 1000000 },
	{ "resend_ticks", 1, 1, 1000000 },
	{ "resend_interval", 1, 1, 1000000 },
	{ "timeout_ticks", 1, 1, 1000000 },
	{ "request_ack_ticks", 1, 1, 1000000 },
	{ "overdue_ticks", 1, 0, 1000000000 },
	{ "reap_limit", 1, 1, 1000000 },
	{ "dead_buffs_limit", 1, 1, 1000000000 },
	{ "wmem_max", 1, 1, 1ll << 40 },
	{ "bpage_lease_usecs", 1, 0, 60000000 },
	{ "max_server_rpcs", 1, 1, 100000000 },
	{ "peer_gc_threshold", 1, 0, 100000000 },
	{ "peer_idle_secs_min", 1, 0, 86400 },
	{ "peer_idle_secs_max", 1, 0, 86400 },
	{ "max_peers", 1, 1, 100000000 },
	{ "mtu", 1, 576, 65535 },
	{ "extra_header_bytes", 1, 0, 1024 },
	{ "max_message_bytes", 1, 1, HOMA_CONFIG_MAX_MESSAGE_LIMIT },
	{ "poll_usecs", 1, 0, 1000000 },
	{ "max_gso_size", 1, 0, 1048576 },
};

#define NUM_RANGES ((int)(sizeof(ranges) / sizeof(ranges[0])))

/* Bounds that are in range but break a relation with the defaults:
 * name, value, and the parameter the message starts with. */
struct relation_case {
	const char *name;
	int64_t value;
	const char *blamed;
};

static const struct relation_case relation_cases[] = {
	{ "timeout_ticks", 1, "timeout_ticks" },
	{ "resend_ticks", 1000000, "timeout_ticks" },
	{ "peer_idle_secs_min", 86400, "peer_idle_secs_min" },
	{ "peer_idle_secs_max", 0, "peer_idle_secs_min" },
	{ "max_peers", 1, "peer_gc_threshold" },
	{ "peer_gc_threshold", 100000000, "peer_gc_threshold" },
};

/* relation_blames() - the parameter a relation error for setting name to
 * v should name, or NULL if the value should be accepted. */
static const char *relation_blames(const char *name, int64_t v)
{
	size_t i;

	for (i = 0; i < sizeof(relation_cases) / sizeof(relation_cases[0]); i++)
		if (strcmp(relation_cases[i].name, name) == 0 &&
		    relation_cases[i].value == v)
			return relation_cases[i].blamed;
	return NULL;
}

static void assert_prefix(const char *s, const char *prefix)
{
	if (strncmp(s, prefix, strlen(prefix)) != 0)
		fail_msg("'%s' does not start with '%s'", s, prefix);
}

static void homa_config_default__spec_values(void **state)
{
	static const int64_t cutoffs[8] = { 0,	     0,	    0,	  0,
					    1000000, 15000, 2800, 200 };
	struct homa_config c;
	int i;

	(void)state;
	memset(&c, 0xAB, sizeof(c));
	homa_config_default(&c);
	assert_int_equal(c.unsched_bytes, 40000);
	assert_int_equal(c.window, 0);
	assert_int_equal(c.max_incoming, 400000);
	assert_int_equal(c.max_overcommit, 8);
	assert_int_equal(c.grant_fifo_fraction, 50);
	assert_int_equal(c.fifo_grant_increment, 50000);
	assert_int_equal(c.num_priorities, 8);
	for (i = 0; i < 8; i++) {
		assert_int_equal(c.priority_map[i], i);
		assert_int_equal(c.unsched_cutoffs[i], cutoffs[i]);
	}
	assert_int_equal(c.cutoff_period_ms, 1000);
	assert_int_equal(c.cutoff_min_messages, 10000);
	assert_int_equal(c.link_mbps, 25000);
	assert_int_equal(c.max_nic_est_backlog_usecs, 5);
	assert_int_equal(c.defer_min_bytes, 1000);
	assert_int_equal(c.pacer_fifo_fraction, 50);
	assert_int_equal(c.flags, 0);
	assert_int_equal(c.tick_us, 1000);
	assert_int_equal(c.resend_ticks, 5);
	assert_int_equal(c.resend_interval, 5);
	assert_int_equal(c.timeout_ticks, 100);
	assert_int_equal(c.request_ack_ticks, 2);
	assert_int_equal(c.overdue_ticks, 1000);
	assert_int_equal(c.reap_limit, 10);
	assert_int_equal(c.dead_buffs_limit, 5000);
	assert_int_equal(c.wmem_max, 100000000);
	assert_int_equal(c.bpage_lease_usecs, 10000);
	assert_int_equal(c.max_server_rpcs, 10000);
	assert_int_equal(c.peer_gc_threshold, 5000);
	assert_int_equal(c.peer_idle_secs_min, 10);
	assert_int_equal(c.peer_idle_secs_max, 120);
	assert_int_equal(c.max_peers, 100000);
	assert_int_equal(c.mtu, 1500);
	assert_int_equal(c.extra_header_bytes, 0);
	assert_int_equal(c.max_message_bytes, 1000000);
	assert_int_equal(c.poll_usecs, 50);
	assert_int_equal(c.max_gso_size, 0);
}

static void homa_config_validate__defaults_ok(void **state)
{
	struct homa_config c;
	char err[ERR_BYTES];

	(void)state;
	homa_config_default(&c);
	strcpy(err, "junk");
	assert_int_equal(homa_config_validate(&c, err), 0);
	assert_string_equal(err, "");
	assert_int_equal(homa_config_validate(&c, NULL), 0);
}

static void homa_config_name__covers_every_field(void **state)
{
	struct homa_config c;
	int64_t *words = (int64_t *)&c;
	size_t nwords = sizeof(c) / sizeof(int64_t), w;
	int seen[sizeof(struct homa_config) / sizeof(int64_t)] = { 0 };
	int64_t values[8];
	int i, j, total = 0;

	(void)state;
	/* Word w of the struct holds w: get then reveals which words each
	 * parameter reads. */
	for (w = 0; w < nwords; w++)
		words[w] = (int64_t)w;
	for (i = 0; homa_config_name(i); i++) {
		const char *name = homa_config_name(i);
		int n = homa_config_get(&c, name, values, 8);

		assert_true(i < NUM_RANGES);
		assert_string_equal(name, ranges[i].name);
		assert_int_equal(n, ranges[i].count);
		for (j = 0; j < n; j++) {
			assert_true(values[j] >= 0);
			assert_true((size_t)values[j] < nwords);
			assert_int_equal(values[j], values[0] + j);
			seen[values[j]]++;
		}
		total += n;
	}
	assert_int_equal(i, NUM_RANGES);
	assert_null(homa_config_name(-1));
	assert_null(homa_config_name(NUM_RANGES));
	/* Every word belongs to exactly one parameter. */
	assert_int_equal((size_t)total, nwords);
	for (w = 0; w < nwords; w++)
		assert_int_equal(seen[w], 1);
	/* Named fields sit where their names say. */
	assert_int_equal(homa_config_get(&c, "mtu", values, 1), 1);
	assert_int_equal(values[0], offsetof(struct homa_config, mtu) / 8);
	assert_int_equal(homa_config_get(&c, "unsched_cutoffs", values, 8), 8);
	assert_int_equal(values[0],
			 offsetof(struct homa_config, unsched_cutoffs) / 8);
}

static void homa_config_set__bounds(void **state)
{
	struct homa_config c, before;
	char err[ERR_BYTES], want[ERR_BYTES];
	int64_t values[8];
	int i, j, k;

	(void)state;
	for (i = 0; i < NUM_RANGES; i++) {
		const struct range *r = &ranges[i];
		int64_t bad[2] = { r->min - 1, r->max + 1 };
		int64_t good[2] = { r->min, r->max };

		for (k = 0; k < 2; k++) {
			/* Rejected, in each array position. */
			for (j = 0; j < r->count; j++) {
				homa_config_default(&c);
				homa_config_get(&c, r->name, values, 8);
				values[j] = bad[k];
				before = c;
				assert_int_equal(homa_config_set(&c, r->name,
								 values,
								 r->count, err),
						 -EINVAL);
				assert_memory_equal(&c, &before, sizeof(c));
				if (r->count == 1)
					snprintf(want, sizeof(want),
						 "%s: %lld is out of range "
						 "%lld..%lld",
						 r->name, (long long)bad[k],
						 (long long)r->min,
						 (long long)r->max);
				else
					snprintf(want, sizeof(want),
						 "%s[%d]: %lld is out of range "
						 "%lld..%lld",
						 r->name, j, (long long)bad[k],
						 (long long)r->min,
						 (long long)r->max);
				assert_string_equal(err, want);
			}
			/* Accepted at the bound (or a relation objects). */
			homa_config_default(&c);
			for (j = 0; j < r->count; j++)
				values[j] = good[k];
			if (relation_blames(r->name, good[k])) {
				before = c;
				assert_int_equal(homa_config_set(&c, r->name,
								 values,
								 r->count, err),
						 -EINVAL);
				assert_prefix(
					err, relation_blames(r->name, good[k]));
				assert_memory_equal(&c, &before, sizeof(c));
				continue;
			}
			assert_int_equal(homa_config_set(&c, r->name, values,
							 r->count, err),
					 0);
			assert_string_equal(err, "");
			assert_int_equal(homa_config_validate(&c, NULL), 0);
		}
	}
}

static void homa_config_validate__range_message(void **state)
{
	struct homa_config c;
	char err[ERR_BYTES];

	(void)state;
	homa_config_default(&c);
	c.timeout_ticks = 0;
	assert_int_equal(homa_config_validate(&c, err), -EINVAL);
	assert_string_equal(err, "timeout_ticks: 0 is out of range 1..1000000");
	assert_int_equal(homa_config_validate(&c, NULL), -EINVAL);
	homa_config_default(&c);
	c.unsched_cutoffs[3] = -1;
	assert_int_equal(homa_config_validate(&c, err), -EINVAL);
	assert_string_equal(err, "unsched_cutoffs[3]: -1 is out of range "
				 "0..2147483647");
	homa_config_default(&c);
	c.link_mbps = INT64_MIN;
	assert_int_equal(homa_config_validate(&c, err), -EINVAL);
	assert_string_equal(err, "link_mbps: -9223372036854775808 is out of "
				 "range 1..10000000");
	homa_config_default(&c);
	c.max_gso_size = INT64_MAX;
	assert_int_equal(homa_config_validate(&c, err), -EINVAL);
	assert_string_equal(err, "max_gso_size: 9223372036854775807 is out of "
				 "range 0..1048576");
}

static void homa_config_validate__relations(void **state)
{
	struct homa_config c;
	char err[ERR_BYTES];

	(void)state;
	homa_config_default(&c);
	c.timeout_ticks = 5;
	assert_int_equal(homa_config_validate(&c, err), -EINVAL);
	assert_string_equal(err,
			    "timeout_ticks: 5 must exceed resend_ticks (5)");
	c.timeout_ticks = 6;
	assert_int_equal(homa_config_validate(&c, err), 0);

	c.peer_idle_secs_min = 121;
	assert_int_equal(homa_config_validate(&c, err), -EINVAL);
	assert_string_equal(err, "peer_idle_secs_min: 121 exceeds "
				 "peer_idle_secs_max (120)");
	c.peer_idle_secs_min = 120;
	assert_int_equal(homa_config_validate(&c, err), 0);

	c.peer_gc_threshold = 100001;
	assert_int_equal(homa_config_validate(&c, err), -EINVAL);
	assert_string_equal(err, "peer_gc_threshold: 100001 exceeds "
				 "max_peers (100000)");
	c.peer_gc_threshold = 100000;
	assert_int_equal(homa_config_validate(&c, err), 0);

	/* 576 - 40 - 56 = 480 bytes left for extra headers and payload. */
	c.mtu = 576;
	c.extra_header_bytes = 480;
	assert_int_equal(homa_config_validate(&c, err), -EINVAL);
	assert_prefix(err, "mtu: 576 ");
	assert_non_null(strstr(err, "extra_header_bytes (480)"));
	assert_true(strlen(err) < ERR_BYTES);
	c.extra_header_bytes = 479;
	assert_int_equal(homa_config_validate(&c, err), 0);
	/* Through set, the config stays as it was. */
	{
		struct homa_config before = c;
		int64_t v = 480;

		assert_int_equal(
			homa_config_set(&c, "extra_header_bytes", &v, 1, err),
			-EINVAL);
		assert_prefix(err, "mtu: 576 ");
		assert_memory_equal(&c, &before, sizeof(c));
	}

	/* A nudge wait within one packet time: 1500-byte packets at 10
	 * Gbit/s take 1.2 us each, so 2 us is the least. */
	homa_config_default(&c);
	c.link_mbps = 10000;
	c.nudge_usecs = 1;
	assert_int_equal(homa_config_validate(&c, err), -EINVAL);
	assert_string_equal(err, "nudge_usecs: 1 is not above one mtu packet "
				 "time at link_mbps (10000)");
	c.nudge_usecs = 2;
	assert_int_equal(homa_config_validate(&c, err), 0);
}

static void homa_config_set__get_round_trip(void **state)
{
	struct homa_config c, before;
	int64_t in[8], out[8], other[8], other_before[8];
	char err[ERR_BYTES];
	int i, j, k, n;

	(void)state;
	homa_config_default(&c);
	for (i = 0; i < NUM_RANGES; i++) {
		const struct range *r = &ranges[i];

		/* A value inside the range, different from the current one
		 * and clear of the relations. */
		assert_int_equal(homa_config_get(&c, r->name, out, 8),
				 r->count);
		for (j = 0; j < r->count; j++) {
			in[j] = r->count > 1 ? r->max - j : r->min + 1;
			if (in[j] == out[j])
				in[j]++;
		}
		if (strcmp(r->name, "timeout_ticks") == 0)
			in[0] = 1000;
		if (strcmp(r->name, "peer_idle_secs_max") == 0)
			in[0] = 300;
		/* nudges on stay above a packet time when the link changes */
		if (strcmp(r->name, "nudge_usecs") == 0)
			in[0] = 100;
		if (strcmp(r->name, "link_mbps") == 0)
			in[0] = 10000;
		before = c;
		assert_int_equal(
			homa_config_set(&c, r->name, in, r->count, err), 0);
		assert_string_equal(err, "");
		assert_int_equal(homa_config_get(&c, r->name, out, 8),
				 r->count);
		assert_memory_equal(in, out, r->count * sizeof(int64_t));
		assert_memory_not_equal(&c, &before, sizeof(c));
		/* No other parameter changed. */
		for (k = 0; k < NUM_RANGES; k++) {
			if (k == i)
				continue;
			n = homa_config_get(&c, ranges[k].name, other, 8);
			assert_int_equal(homa_config_get(&before,
							 ranges[k].name,
							 other_before, 8),
					 n);
			assert_memory_equal(other, other_before,
					    n * sizeof(int64_t));
		}
	}
	assert_int_equal(homa_config_validate(&c, NULL), 0);
}

static void homa_config_set__unknown_name(void **state)
{
	struct homa_config c, before;
	char err[ERR_BYTES], long_name[300];
	int64_t v = 1;

	(void)state;
	homa_config_default(&c);
	before = c;
	assert_int_equal(homa_config_set(&c, "foo", &v, 1, err), -EINVAL);
	assert_string_equal(err, "unknown parameter 'foo'");
	assert_int_equal(homa_config_set(&c, "", &v, 1, err), -EINVAL);
	assert_string_equal(err, "unknown parameter ''");
	assert_int_equal(homa_config_set(&c, "MTU", &v, 1, err), -EINVAL);
	assert_int_equal(homa_config_set(&c, NULL, &v, 1, err), -EINVAL);
	assert_int_equal(homa_config_set(&c, "foo", &v, 1, NULL), -EINVAL);
	/* A long name is cut to fit the buffer. */
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	memset(err + 0, 'Z', sizeof(err));
	assert_int_equal(homa_config_set(&c, long_name, &v, 1, err), -EINVAL);
	assert_int_equal(strlen(err), ERR_BYTES - 1);
	assert_prefix(err, "unknown parameter 'xxx");
	assert_memory_equal(&c, &before, sizeof(c));
	assert_int_equal(homa_config_get(&c, "foo", &v, 1), -EINVAL);
	assert_int_equal(homa_config_get(&c, NULL, &v, 1), -EINVAL);
}

static void homa_config_set__wrong_count(void **state)
{
	struct homa_config c, before;
	char err[ERR_BYTES];
	int64_t v[8] = { 1, 1, 1, 1, 1, 1, 1, 1 };

	(void)state;
	homa_config_default(&c);
	before = c;
	assert_int_equal(homa_config_set(&c, "mtu", v, 8, err), -EINVAL);
	assert_string_equal(err, "mtu: takes 1 value, got 8");
	assert_int_equal(homa_config_set(&c, "mtu", v, 0, err), -EINVAL);
	assert_int_equal(homa_config_set(&c, "priority_map", v, 1, err),
			 -EINVAL);
	assert_string_equal(err, "priority_map: takes 8 values, got 1");
	assert_int_equal(homa_config_set(&c, "unsched_cutoffs", v, 7, err),
			 -EINVAL);
	assert_int_equal(homa_config_set(&c, "unsched_cutoffs", v, -1, err),
			 -EINVAL);
	assert_int_equal(homa_config_set(&c, "unsched_cutoffs", NULL, 8, err),
			 -EINVAL);
	assert_memory_equal(&c, &before, sizeof(c));
}

static void homa_config_get__short_buffer(void **state)
{
	struct homa_config c;
	int64_t out[8];

	(void)state;
	homa_config_default(&c);
	memset(out, 0xFF, sizeof(out));
	assert_int_equal(homa_config_get(&c, "unsched_cutoffs", out, 5), 8);
	assert_int_equal(out[4], 1000000);
	assert_int_equal(out[5], -1); /* not written */
	assert_int_equal(homa_config_get(&c, "mtu", out, 0), 1);
	assert_int_equal(out[0], 0); /* not written */
	assert_int_equal(homa_config_get(&c, "mtu", out, 1), 1);
	assert_int_equal(out[0], 1500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(homa_config_default__spec_values),
		cmocka_unit_test(homa_config_validate__defaults_ok),
		cmocka_unit_test(homa_config_name__covers_every_field),
		cmocka_unit_test(homa_config_set__bounds),
		cmocka_unit_test(homa_config_validate__range_message),
		cmocka_unit_test(homa_config_validate__relations),
		cmocka_unit_test(homa_config_set__get_round_trip),
		cmocka_unit_test(homa_config_set__unknown_name),
		cmocka_unit_test(homa_config_set__wrong_count),
		cmocka_unit_test(homa_config_get__short_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
