/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_metrics.c - the table of counters and gauges (src/core/metrics.c):
 * every entry named once with a description, index and name agree, and
 * the trouble flag covers drops, timeouts and retransmissions only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

static void homa_metrics_name__every_entry_once_with_description(void **state)
{
	(void)state;
	for (int i = 0; i < HOMA_METRIC_ALL; i++) {
		const char *name = homa_metrics_name(i);

		assert_non_null(name);
		assert_true(strlen(name) > 0 && strlen(name) < 32);
		assert_non_null(homa_metrics_comment(i));
		assert_true(strlen(homa_metrics_comment(i)) > 5);
		assert_int_equal(homa_metrics_index(name), i);
	}
	assert_null(homa_metrics_name(-1));
	assert_null(homa_metrics_name(HOMA_METRIC_ALL));
	assert_null(homa_metrics_comment(HOMA_METRIC_ALL));
	assert_int_equal(homa_metrics_index("no_such_counter"), -1);
}

static void homa_metrics_index__sections_in_order(void **state)
{
	(void)state;
	assert_int_equal(homa_metrics_index("sent_data"), HOMA_M_sent_data);
	assert_int_equal(homa_metrics_index("dp_tx_packets"),
			 HOMA_METRIC_COUNT);
	assert_int_equal(homa_metrics_index("dp_rx_wakes"),
			 HOMA_METRIC_COUNTERS - 1);
	assert_int_equal(homa_metrics_index("sockets"), HOMA_METRIC_COUNTERS);
	assert_int_equal(homa_metrics_index("throttled"), HOMA_METRIC_ALL - 1);
}

static void homa_metrics_unusual__trouble_only(void **state)
{
	static const char *const bad[] = {
		"drop_short",	       "drop_dup_data",	 "rpc_timeouts",
		"server_ack_timeouts", "resent_packets", "resend_requests",
		"icmp_errors",	       "dp_tx_errors",	 "client_restarts",
	};
	static const char *const good[] = {
		"sent_data",	 "recv_resend",
		"sent_resend",	 "client_responses_done",
		"dp_tx_packets", "grants_sent",
		"throttled",	 "rpcs",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_true(homa_metrics_unusual(homa_metrics_index(bad[i])));
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_false(homa_metrics_unusual(homa_metrics_index(good[i])));
	assert_false(homa_metrics_unusual(-1));
	/* every drop counter is trouble */
	for (int i = 0; i < HOMA_METRIC_ALL; i++)
		if (strncmp(homa_metrics_name(i), "drop_", 5) == 0)
			assert_true(homa_metrics_unusual(i));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			homa_metrics_name__every_entry_once_with_description),
		cmocka_unit_test(homa_metrics_index__sections_in_order),
		cmocka_unit_test(homa_metrics_unusual__trouble_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
