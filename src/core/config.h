/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * config.h - the configuration of one Homa instance: every parameter of
 * spec/protocol.md section 10 that applies outside the kernel, with the
 * same names and defaults, plus the few that user space adds (tick length,
 * MTU, maximum message length, the automatic cutoff period, bounds on
 * memory under attack). Validation and setting by name live in config.c.
 */
#ifndef HOMA_CORE_CONFIG_H
#define HOMA_CORE_CONFIG_H

#include <stdint.h>

#define HOMA_MAX_PRIORITIES	 8
#define HOMA_DEFAULT_MAX_MESSAGE 1000000
/* Largest max_message_bytes accepted: the simulator runs the published
 * workloads untruncated (about 30 MB); bpage offsets must fit 1025. */
#define HOMA_CONFIG_MAX_MESSAGE_LIMIT (64 * 1024 * 1024)
#define HOMA_FLAG_DONT_THROTTLE	      0x2

/* Range of config.mtu and of route MTUs the host reports, bytes. */
#define HOMA_CONFIG_MTU_MIN 576
#define HOMA_CONFIG_MTU_MAX 65535

struct homa_config {
	/* -- grants (spec 4) -- */
	int64_t unsched_bytes;	      /* bytes a message sends unscheduled */
	int64_t window;		      /* grant window bytes; 0 = dynamic */
	int64_t max_incoming;	      /* cap on granted-unreceived bytes */
	int64_t max_overcommit;	      /* messages granted at once, 1..8 */
	int64_t grant_fifo_fraction;  /* per mille of grants to oldest, <=500 */
	int64_t fifo_grant_increment; /* bytes per FIFO grant */
	int64_t nudge_usecs; /* receiver idle this long nudges; us, 0 = off */
	/* -- priorities (spec 7) -- */
	int64_t num_priorities;			   /* levels used, 1..8 */
	int64_t priority_map[HOMA_MAX_PRIORITIES]; /* level -> DSCP prio 0..7 */
	int64_t unsched_cutoffs[HOMA_MAX_PRIORITIES]; /* bytes per level */
	int64_t cutoff_period_ms;    /* auto cutoffs period; 0 = never */
	int64_t cutoff_min_messages; /* messages needed before recompute */
	/* -- pacer (spec 5) -- */
	int64_t link_mbps;		   /* uplink speed, Mbit/s */
	int64_t max_nic_est_backlog_usecs; /* allowed estimated NIC queue, us */
	int64_t defer_min_bytes;     /* remainders below this bypass pacer */
	int64_t pacer_fifo_fraction; /* per mille of pacer picks oldest */
	int64_t nudge_yield_bytes;   /* messages with more left yield to nudged
				      * ones, bytes */
	int64_t flags;		     /* HOMA_FLAG_* bit mask */
	/* -- timers (spec 6) -- */
	int64_t tick_us;	   /* timer period, us (1000) */
	int64_t resend_ticks;	   /* silent ticks before first RESEND */
	int64_t resend_interval;   /* ticks between RESENDs */
	int64_t timeout_ticks;	   /* silent ticks before abort */
	int64_t request_ack_ticks; /* ticks after response before NEED_ACK */
	int64_t overdue_ticks;	   /* server RPC in service this long counts as
				* overdue (metric, HOMAIOCINFO); 0 = never */
	/* -- memory -- */
	int64_t reap_limit;	   /* dead RPCs freed per reaper call */
	int64_t dead_buffs_limit;  /* dead RPCs before aggressive reaping */
	int64_t wmem_max;	   /* per-socket outgoing bytes limit */
	int64_t bpage_lease_usecs; /* core lease on a tail bpage, us */
	int64_t max_server_rpcs;   /* incomplete server RPCs per instance */
	/* -- peers (spec 12) -- */
	int64_t peer_gc_threshold;  /* no eviction below this many peers */
	int64_t peer_idle_secs_min; /* never evict peers idle less, s */
	int64_t peer_idle_secs_max; /* evict peers idle this long, s */
	int64_t max_peers;	    /* hard cap on peer records */
	/* -- packets -- */
	int64_t mtu;		    /* link MTU, bytes (IP header included) */
	int64_t extra_header_bytes; /* datapath bytes below Homa (UDP: 8) */
	int64_t max_message_bytes;  /* largest message, bytes */
	/* -- library only (kept here so one table validates all) -- */
	int64_t poll_usecs;   /* busy-wait before sleeping, us */
	int64_t max_gso_size; /* GSO frame cap, bytes; 0 = off */
};

/* homa_config_default() - every parameter at its default. */
void homa_config_default(struct homa_config *config);

/*
 * homa_config_validate() - check every parameter's range and the relations
 * between them (e.g. peer_idle_secs_min <= peer_idle_secs_max).
 * Returns 0 or -EINVAL with a message in err (if non-NULL, up to 104
 * bytes, naming the parameter and its allowed range).
 */
int homa_config_validate(const struct homa_config *config, char *err);

/*
 * homa_config_set() - set the parameter called name from count values
 * (arrays take 8; scalars 1). Validates the new value and the whole
 * config; on error config is unchanged. Errors: -EINVAL (unknown name,
 * wrong count, out of range) with a message in err.
 */
int homa_config_set(struct homa_config *config, const char *name,
		    const int64_t *values, int count, char *err);

/*
 * homa_config_get() - copy out the values of name (up to max).
 * Returns the number of values, or -EINVAL for an unknown name.
 */
int homa_config_get(const struct homa_config *config, const char *name,
		    int64_t *values, int max);

/* homa_config_name() - name of parameter i (0..), NULL past the last. */
const char *homa_config_name(int i);

/* homa_config_high_prio() - the "high priority" level of spec 1.10, for
 * FIFO grants and buffer-wakeup RESENDs: num_priorities - 2, or 0 with 2
 * levels or fewer. */
static inline int homa_config_high_prio(const struct homa_config *config)
{
	if (config->num_priorities <= 2)
		return 0;
	if (config->num_priorities > HOMA_MAX_PRIORITIES)
		return HOMA_MAX_PRIORITIES - 2;
	return (int)config->num_priorities - 2;
}

#endif /* HOMA_CORE_CONFIG_H */
