/*
 * metrics.c - names and descriptions of the core's counters, generated
 * from the single list in metrics.h.
 */
#include "metrics.h"

static const char *const homa_metric_names[HOMA_METRIC_COUNT] = {
#define HOMA_METRIC_NAME(name, comment) #name,
	HOMA_METRICS_LIST(HOMA_METRIC_NAME)
#undef HOMA_METRIC_NAME
};

static const char *const homa_metric_comments[HOMA_METRIC_COUNT] = {
#define HOMA_METRIC_COMMENT(name, comment) comment,
	HOMA_METRICS_LIST(HOMA_METRIC_COMMENT)
#undef HOMA_METRIC_COMMENT
};

const char *homa_metrics_name(int metric)
{
	if (metric < 0 || metric >= HOMA_METRIC_COUNT)
		return 0;
	return homa_metric_names[metric];
}

const char *homa_metrics_comment(int metric)
{
	if (metric < 0 || metric >= HOMA_METRIC_COUNT)
		return 0;
	return homa_metric_comments[metric];
}
