/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sim_run.h - one simulation run: the configuration (everything the
 * command line can set), building the network, hosts and application,
 * running the phases (warm-up, measurement window, tail, drain), the
 * faults scheduled in time (host crashes and restarts), and the end-of-run
 * checks (conservation of packets, the fate of every RPC, at-most-once
 * delivery, no leaks in any core). Reports are written by sim_report.c.
 */
#ifndef SIM_RUN_H
#define SIM_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "homa_core.h"
#include "sim_app.h"
#include "sim_diag.h"
#include "sim_event.h"
#include "sim_host.h"
#include "sim_net.h"
#include "sim_stats.h"
#include "sim_workload.h"

#define SIM_MAX_CRASHES 16
#define SIM_MAX_PARAMS	32
#define SIM_MAX_CHECKS	16
#define SIM_ERR_BYTES	256
#define SIM_CHECK_BYTES 200

/* One host crash, and optionally its restart. */
struct sim_crash {
	int host;	     /* host number */
	uint64_t at_ps;	     /* crash time, ps */
	uint64_t restart_ps; /* restart time, ps; SIM_TIME_NEVER = never */
};

/* A core parameter set by name (homa_config_set). */
struct sim_param {
	char name[40];	   /* parameter name */
	int64_t values[8]; /* its values */
	int count;	   /* number of values */
};

enum sim_cutoffs_mode {
	SIM_CUTOFFS_WORKLOAD = 0, /* computed by the core's algorithm from
				   * the workload's distribution */
	SIM_CUTOFFS_DEFAULT = 1,  /* the core's defaults, top level scaled
				   * to max_message_bytes */
};

struct sim_config {
	struct sim_topo topo;	      /* network */
	struct sim_faults faults;     /* loss, duplication, reordering */
	char workload[256];	      /* "w1".."w5", "fixed:N" or a path */
	char workload_dir[512];	      /* where w1..w5 live */
	double load;		      /* offered load, fraction of link */
	uint32_t resp_bytes;	      /* response length, bytes */
	uint64_t seed;		      /* the run's seed */
	uint64_t warmup_ps;	      /* excluded from statistics, ps */
	uint64_t window_ps;	      /* measurement window, ps */
	uint64_t tail_ps;	      /* longest wait for window messages */
	uint64_t drain_ps;	      /* longest drain after arrivals stop */
	uint64_t max_rpcs;	      /* requests in all; 0 = no limit */
	int num_priorities;	      /* core num_priorities, 1..8 */
	bool basic;		      /* everything unscheduled, 1 priority */
	int64_t unsched_bytes;	      /* core unsched_bytes; 0 = default,
					* -1 = RTTbytes of the topology */
	int64_t grant_window;	      /* core window, bytes; 0 = the core's
					* dynamic default, -1 = RTTbytes */
	bool no_pacer;		      /* HOMA_FLAG_DONT_THROTTLE */
	int cutoffs;		      /* enum sim_cutoffs_mode */
	uint64_t server_region_bytes; /* 0 = automatic */
	struct sim_param params[SIM_MAX_PARAMS];   /* --homa overrides */
	int num_params;				   /* entries in params */
	struct sim_crash crashes[SIM_MAX_CRASHES]; /* host crashes */
	int num_crashes;			   /* entries in crashes */
	uint64_t series_ps;    /* time-series interval; 0 = none */
	uint64_t idle_diag_ps; /* idle diagnostic period, ps; 0 = off */
	bool progress;	       /* progress line on stderr */
};

/* The network counters at the edges of the measurement window. */
struct sim_snapshot {
	uint64_t time_ps;			     /* when taken */
	uint64_t tx_wire_bytes[SIM_PORT_KINDS];	     /* by port kind */
	uint64_t tx_data_wire_bytes[SIM_PORT_KINDS]; /* DATA only */
	uint64_t msg_bytes; /* app message bytes seen */
};

/* One point of the time series (every series_ps of simulated time). */
struct sim_sample {
	uint64_t time_ps; /* end of the interval, ps */
	float down_util;  /* host downlink utilization in the interval */
	float down_data;  /* the part of it carrying DATA packets */
	float up_util;	  /* host uplink utilization in the interval */
	uint64_t pending; /* RPCs without a fate at the end */
	uint64_t backlog; /* outgoing message bytes held by the cores */
};

struct sim_run;

/* One scheduled crash or restart. */
struct sim_crash_event {
	struct sim_event ev; /* when (first member) */
	struct sim_run *run; /* owner */
	int host;	     /* which host */
	bool restart;	     /* restart, else crash */
};

struct sim_run {
	struct sim_config cfg;	     /* as given */
	struct homa_config homa_cfg; /* every host's core configuration */
	struct sim_event_queue q;    /* engine */
	struct sim_workload wl;	     /* request sizes */
	struct sim_net *net;	     /* network */
	struct sim_host *hosts;	     /* hosts */
	int num_hosts;		     /* hosts */
	struct sim_app *app;	     /* application */
	struct sim_stats stats;	     /* slowdowns */
	struct sim_crash_event crash_ev[2 * SIM_MAX_CRASHES]; /* faults */
	struct sim_snapshot snap[2];	 /* window start and end */
	struct sim_event series_ev;	 /* next time-series sample */
	struct sim_snapshot series_last; /* counters at the last sample */
	struct sim_sample *series;	 /* the samples */
	struct sim_diag diag;		 /* idle-link diagnostic */
	size_t num_series;		 /* samples taken */
	size_t cap_series;		 /* samples allocated */
	uint64_t end_ps;		 /* clock when the run ended */
	uint64_t drained_ps;		 /* clock when arrivals stopped */
	bool drained;			 /* everything settled in the drain */
	double wall_s;			 /* wall-clock seconds of the run */
	double cpu_s;			 /* CPU seconds of the run (process) */
	uint64_t core_mem_peak;		 /* largest host allocation, bytes */
	struct homa_metrics metrics;	 /* core counters summed over hosts
					* and incarnations */
	uint64_t polls;			 /* homa_poll calls, all hosts */
	char checks[SIM_MAX_CHECKS][SIM_CHECK_BYTES]; /* failed checks */
	int num_checks;				      /* entries */
	char notes[SIM_MAX_CHECKS][SIM_CHECK_BYTES];  /* expected oddities */
	int num_notes;				      /* entries */
};

/* sim_config_default() - the published topology, W4 at 50%, seed 1,
 * unsched_bytes and the grant window = RTTbytes of the topology. */
void sim_config_default(struct sim_config *cfg);
/* sim_topo_published() - 144 hosts, 9 racks, 4 spines, 10/40 Gbit/s. */
void sim_topo_published(struct sim_topo *t);

/*
 * sim_run_create() - build everything for cfg. Errors: -EINVAL (message
 * in err, SIM_ERR_BYTES), -ENOENT (workload file), -ENOMEM.
 */
int sim_run_create(const struct sim_config *cfg, struct sim_run **out,
		   char *err);
/* sim_run_execute() - run all phases and the checks. 0, or -errno if the
 * simulation itself failed (out of memory); failed checks are in
 * run->checks. */
int sim_run_execute(struct sim_run *run);
void sim_run_destroy(struct sim_run *run);

/* ---- sim_report.c ---- */
void sim_report_text(struct sim_run *run, FILE *f);
int sim_report_csv(struct sim_run *run, FILE *f);
int sim_report_json(struct sim_run *run, FILE *f);
int sim_report_rpcs(struct sim_run *run, FILE *f);

#endif /* SIM_RUN_H */
