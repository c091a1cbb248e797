/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics.c - names and descriptions of the core's counters, the
 * library's datapath counters and the gauges, generated from the single
 * lists in metrics.h, and which of them count trouble.
 */
#include <string.h>

#include "metrics.h"

static const char *const homa_metric_names[HOMA_METRIC_ALL] = {
#define HOMA_METRIC_NAME(name, comment) #name,
	HOMA_METRICS_LIST(HOMA_METRIC_NAME)
		HOMA_DP_METRICS_LIST(HOMA_METRIC_NAME)
			HOMA_GAUGES_LIST(HOMA_METRIC_NAME)
#undef HOMA_METRIC_NAME
};

static const char *const homa_metric_comments[HOMA_METRIC_ALL] = {
#define HOMA_METRIC_COMMENT(name, comment) comment,
	HOMA_METRICS_LIST(HOMA_METRIC_COMMENT)
		HOMA_DP_METRICS_LIST(HOMA_METRIC_COMMENT)
			HOMA_GAUGES_LIST(HOMA_METRIC_COMMENT)
#undef HOMA_METRIC_COMMENT
};

/* Counters of trouble that neither start with "drop_" nor name a timeout
 * or a retransmission. */
static const char *const homa_metric_unusual_names[] = {
	"client_restarts", "server_rpc_evictions", "rpc_aborts",
	"icmp_errors",	   "pool_stalls",	   "peer_limit",
	"wmem_blocked",	   "dp_tx_errors",	   "dp_rx_bad_csum",
	"dp_rx_gro_bad",
};

const char *homa_metrics_name(int metric)
{
	if (metric < 0 || metric >= HOMA_METRIC_ALL)
		return 0;
	return homa_metric_names[metric];
}

const char *homa_metrics_comment(int metric)
{
	if (metric < 0 || metric >= HOMA_METRIC_ALL)
		return 0;
	return homa_metric_comments[metric];
}

int homa_metrics_index(const char *name)
{
	for (int i = 0; i < HOMA_METRIC_ALL; i++)
		if (strcmp(homa_metric_names[i], name) == 0)
			return i;
	return -1;
}

int homa_metrics_unusual(int metric)
{
	const char *name = homa_metrics_name(metric);

	if (!name || metric >= HOMA_METRIC_COUNTERS)
		return 0;
	if (strncmp(name, "drop_", 5) == 0 || strstr(name, "timeout") ||
	    strncmp(name, "resen", 5) == 0)
		return 1;
	for (size_t i = 0; i < sizeof(homa_metric_unusual_names) /
				       sizeof(homa_metric_unusual_names[0]);
	     i++)
		if (strcmp(name, homa_metric_unusual_names[i]) == 0)
			return 1;
	return 0;
}
