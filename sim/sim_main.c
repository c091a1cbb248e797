/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sim_main.c - homa-sim's command line: options into a struct sim_config,
 * one run, the reports. The text report goes to stdout, CSV and JSON to
 * the files named; wall-clock figures (time, events per second) go only
 * to stderr so that reports from one seed are byte-identical.
 * Exit status: 0 all checks passed, 1 a check failed, 2 bad usage,
 * 3 the simulation itself failed.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "homa.h"
#include "sim_run.h"

static const char usage[] =
	"usage: homa-sim [options]\n"
	"topology (put --topo first; later options override it):\n"
	"  --topo published|pair|rack:N  published: 144 hosts, 9 racks of 16,\n"
	"                        4 spines, 10/40 Gbit/s, 0.25 us switches,\n"
	"                        0.5 us host delay each way (default);\n"
	"                        pair: 2 hosts in 2 racks; rack:N one rack\n"
	"  --racks N --hosts-per-rack N --spines N\n"
	"  --host-gbps G --fabric-gbps G --switch-ns N --host-delay-ns N\n"
	"  --prop-ns N --mtu N --buffer BYTES|unlimited (per switch port)\n"
	"  --route spray|hash    spine choice per packet or per flow\n"
	"  --nic-fifo            one FIFO NIC queue instead of 8 priorities\n"
	"                        (see docs/simulation.md: the core's pacer\n"
	"                        does not count control packets)\n"
	"workload:\n"
	"  --workload w1..w5|fixed:N|FILE  (default w4)  --workload-dir DIR\n"
	"  --load F              offered load, fraction of host links (0.5)\n"
	"  --resp-bytes N        response length (100)\n"
	"  --seed N --warmup-ms X (2) --window-ms X (10)\n"
	"  --tail-ms X           longest wait for window messages (4 x "
	"window)\n"
	"  --drain-ms X (1000) --max-rpcs N\n"
	"protocol (the core's configuration):\n"
	"  --prio N              num_priorities (8)\n"
	"  --basic               everything unscheduled, one priority\n"
	"  --unsched-bytes N|rtt|core  rtt (default): one round trip of the\n"
	"                        host link; core: the core's default\n"
	"  --grant-window N|rtt|core  granted-unreceived bytes per message;\n"
	"                        rtt (default): one round trip; core: the\n"
	"                        core's dynamic window (max_incoming /\n"
	"                        (active messages + 1))\n"
	"  --no-pacer --cutoffs workload|default\n"
	"  --homa NAME=V[,V...]  any core parameter (repeatable); nudges\n"
	"                        are on (nudge_usecs: two packet times,\n"
	"                        3 us at 10 Gbit/s; nudge_usecs=0: off)\n"
	"  --region-bytes N      server receive region (automatic)\n"
	"faults:\n"
	"  --loss P --dup P --dup-window-us X --reorder P --reorder-window-us "
	"X\n"
	"  --crash HOST:T_US[:RESTART_US]  (repeatable)\n"
	"output:\n"
	"  --csv FILE --json FILE --quiet (no text report) --no-progress\n"
	"  --series-ms X         time-series interval in the JSON (1; 0 off)\n"
	"  --idle-diag-us X      every X us of the window, why idle host\n"
	"                        links are idle (0 = off, default)\n"
	"  --rpc-log FILE        one CSV line per RPC with its fate\n"
	"  --bench-engine        time the event queue alone and exit\n"
	"  --help, --version\n";

enum {
	OPT_TOPO = 256,
	OPT_RACKS,
	OPT_HPR,
	OPT_SPINES,
	OPT_HOST_GBPS,
	OPT_FABRIC_GBPS,
	OPT_SWITCH_NS,
	OPT_HOST_DELAY_NS,
	OPT_PROP_NS,
	OPT_MTU,
	OPT_BUFFER,
	OPT_ROUTE,
	OPT_NIC_FIFO,
	OPT_WORKLOAD,
	OPT_WORKLOAD_DIR,
	OPT_LOAD,
	OPT_RESP,
	OPT_SEED,
	OPT_WARMUP,
	OPT_WINDOW,
	OPT_TAIL,
	OPT_DRAIN,
	OPT_MAX_RPCS,
	OPT_PRIO,
	OPT_BASIC,
	OPT_UNSCHED,
	OPT_GRANT_WINDOW,
	OPT_NO_PACER,
	OPT_CUTOFFS,
	OPT_HOMA,
	OPT_REGION,
	OPT_LOSS,
	OPT_DUP,
	OPT_DUP_WINDOW,
	OPT_REORDER,
	OPT_REORDER_WINDOW,
	OPT_CRASH,
	OPT_CSV,
	OPT_JSON,
	OPT_SERIES,
	OPT_IDLE_DIAG,
	OPT_RPC_LOG,
	OPT_BENCH,
	OPT_QUIET,
	OPT_NO_PROGRESS,
	OPT_HELP,
	OPT_VERSION,
};

static const struct option options[] = {
	{ "topo", 1, 0, OPT_TOPO },
	{ "racks", 1, 0, OPT_RACKS },
	{ "hosts-per-rack", 1, 0, OPT_HPR },
	{ "spines", 1, 0, OPT_SPINES },
	{ "host-gbps", 1, 0, OPT_HOST_GBPS },
	{ "fabric-gbps", 1, 0, OPT_FABRIC_GBPS },
	{ "switch-ns", 1, 0, OPT_SWITCH_NS },
	{ "host-delay-ns", 1, 0, OPT_HOST_DELAY_NS },
	{ "prop-ns", 1, 0, OPT_PROP_NS },
	{ "mtu", 1, 0, OPT_MTU },
	{ "buffer", 1, 0, OPT_BUFFER },
	{ "route", 1, 0, OPT_ROUTE },
	{ "nic-fifo", 0, 0, OPT_NIC_FIFO },
	{ "workload", 1, 0, OPT_WORKLOAD },
	{ "workload-dir", 1, 0, OPT_WORKLOAD_DIR },
	{ "load", 1, 0, OPT_LOAD },
	{ "resp-bytes", 1, 0, OPT_RESP },
	{ "seed", 1, 0, OPT_SEED },
	{ "warmup-ms", 1, 0, OPT_WARMUP },
	{ "window-ms", 1, 0, OPT_WINDOW },
	{ "duration-ms", 1, 0, OPT_WINDOW },
	{ "tail-ms", 1, 0, OPT_TAIL },
	{ "drain-ms", 1, 0, OPT_DRAIN },
	{ "max-rpcs", 1, 0, OPT_MAX_RPCS },
	{ "prio", 1, 0, OPT_PRIO },
	{ "basic", 0, 0, OPT_BASIC },
	{ "unsched-bytes", 1, 0, OPT_UNSCHED },
	{ "grant-window", 1, 0, OPT_GRANT_WINDOW },
	{ "no-pacer", 0, 0, OPT_NO_PACER },
	{ "cutoffs", 1, 0, OPT_CUTOFFS },
	{ "homa", 1, 0, OPT_HOMA },
	{ "region-bytes", 1, 0, OPT_REGION },
	{ "loss", 1, 0, OPT_LOSS },
	{ "dup", 1, 0, OPT_DUP },
	{ "dup-window-us", 1, 0, OPT_DUP_WINDOW },
	{ "reorder", 1, 0, OPT_REORDER },
	{ "reorder-window-us", 1, 0, OPT_REORDER_WINDOW },
	{ "crash", 1, 0, OPT_CRASH },
	{ "csv", 1, 0, OPT_CSV },
	{ "json", 1, 0, OPT_JSON },
	{ "series-ms", 1, 0, OPT_SERIES },
	{ "idle-diag-us", 1, 0, OPT_IDLE_DIAG },
	{ "rpc-log", 1, 0, OPT_RPC_LOG },
	{ "bench-engine", 0, 0, OPT_BENCH },
	{ "quiet", 0, 0, OPT_QUIET },
	{ "no-progress", 0, 0, OPT_NO_PROGRESS },
	{ "help", 0, 0, OPT_HELP },
	{ "version", 0, 0, OPT_VERSION },
	{ 0, 0, 0, 0 },
};

/* Output choices that are not part of the simulation. */
struct main_out {
	const char *csv;     /* CSV file or NULL */
	const char *json;    /* JSON file or NULL */
	const char *rpc_log; /* per-RPC CSV file or NULL */
	bool quiet;	     /* no text report */
	bool tail_set;	     /* --tail-ms given */
};

static const char *opt_name(int opt)
{
	for (const struct option *o = options; o->name; o++)
		if (o->val == opt)
			return o->name;
	return "?";
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v >= lo && v <= hi))
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (end == s || *end || errno || v < lo || v > hi || s[0] == '-')
		return -EINVAL;
	*out = v;
	return 0;
}

static uint64_t ps_of(double v, double unit_ps)
{
	return (uint64_t)llround(v * unit_ps);
}

static uint64_t ppb_of(double p)
{
	return (uint64_t)llround(p * 1e9);
}

static int opt_topo_preset(struct sim_topo *t, const char *arg)
{
	uint64_t n;

	sim_topo_published(t);
	if (strcmp(arg, "published") == 0)
		return 0;
	if (strcmp(arg, "pair") == 0) {
		t->racks = 2;
		t->hosts_per_rack = 1;
		t->spines = 1;
		return 0;
	}
	if (strncmp(arg, "rack:", 5) == 0 &&
	    parse_u64(arg + 5, 2, 65535, &n) == 0) {
		t->racks = 1;
		t->hosts_per_rack = (int)n;
		t->spines = 0;
		return 0;
	}
	return -EINVAL;
}

/* Topology options; 1 if opt is not one of them. */
static int opt_topology(struct sim_topo *t, int opt, const char *arg)
{
	uint64_t u = 0;
	double d = 0;
	int ret = 0;

	switch (opt) {
	case OPT_TOPO:
		return opt_topo_preset(t, arg);
	case OPT_RACKS:
		ret = parse_u64(arg, 1, 65535, &u);
		t->racks = (int)u;
		return ret;
	case OPT_HPR:
		ret = parse_u64(arg, 1, 65535, &u);
		t->hosts_per_rack = (int)u;
		return ret;
	case OPT_SPINES:
		ret = parse_u64(arg, 0, 1024, &u);
		t->spines = (int)u;
		return ret;
	case OPT_HOST_GBPS:
	case OPT_FABRIC_GBPS:
		ret = parse_double(arg, 0.001, 8000, &d);
		*(opt == OPT_HOST_GBPS ? &t->host_bps : &t->fabric_bps) =
			(uint64_t)llround(d * 1e9);
		return ret;
	case OPT_SWITCH_NS:
		ret = parse_double(arg, 0, 1e9, &d);
		t->switch_ps = ps_of(d, SIM_PS_PER_NS);
		return ret;
	case OPT_HOST_DELAY_NS:
		ret = parse_double(arg, 0, 1e9, &d);
		t->host_tx_ps = t->host_rx_ps = ps_of(d, SIM_PS_PER_NS);
		return ret;
	case OPT_PROP_NS:
		ret = parse_double(arg, 0, 1e9, &d);
		t->prop_ps = ps_of(d, SIM_PS_PER_NS);
		return ret;
	case OPT_MTU:
		ret = parse_u64(arg, 576, 9000, &u);
		t->mtu = (uint32_t)u;
		return ret;
	case OPT_BUFFER:
		if (strcmp(arg, "unlimited") == 0) {
			t->buffer_bytes = 0;
			return 0;
		}
		return parse_u64(arg, 1, UINT64_MAX, &t->buffer_bytes);
	case OPT_ROUTE:
		if (strcmp(arg, "spray") && strcmp(arg, "hash"))
			return -EINVAL;
		t->route =
			strcmp(arg, "hash") ? SIM_ROUTE_SPRAY : SIM_ROUTE_HASH;
		return 0;
	case OPT_NIC_FIFO:
		t->nic_fifo = true;
		return 0;
	}
	return 1;
}

/* Workload and timing options; 1 if opt is not one of them. */
static int opt_workload(struct sim_config *c, struct main_out *o, int opt,
			const char *arg)
{
	uint64_t u = 0;
	double d = 0;
	int ret;

	switch (opt) {
	case OPT_WORKLOAD:
		snprintf(c->workload, sizeof(c->workload), "%s", arg);
		return 0;
	case OPT_WORKLOAD_DIR:
		snprintf(c->workload_dir, sizeof(c->workload_dir), "%s", arg);
		return 0;
	case OPT_LOAD:
		return parse_double(arg, 0.0001, 10, &c->load);
	case OPT_RESP:
		ret = parse_u64(arg, 1, HOMA_CONFIG_MAX_MESSAGE_LIMIT, &u);
		c->resp_bytes = (uint32_t)u;
		return ret;
	case OPT_SEED:
		return parse_u64(arg, 0, UINT64_MAX, &c->seed);
	case OPT_WARMUP:
	case OPT_WINDOW:
	case OPT_TAIL:
	case OPT_DRAIN:
		ret = parse_double(arg, 0, 1e7, &d);
		*(opt == OPT_WARMUP   ? &c->warmup_ps
		  : opt == OPT_WINDOW ? &c->window_ps
		  : opt == OPT_TAIL   ? &c->tail_ps
				      : &c->drain_ps) = ps_of(d, SIM_PS_PER_MS);
		o->tail_set |= opt == OPT_TAIL;
		return ret;
	case OPT_MAX_RPCS:
		return parse_u64(arg, 1, UINT64_MAX, &c->max_rpcs);
	}
	return 1;
}

/* "name=v1,v2,..." for --homa. */
static int opt_homa_param(struct sim_config *c, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct sim_param *p;
	const char *s;

	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(p->name) ||
	    c->num_params >= SIM_MAX_PARAMS)
		return -EINVAL;
	p = &c->params[c->num_params];
	memset(p, 0, sizeof(*p));
	memcpy(p->name, arg, (size_t)(eq - arg));
	for (s = eq + 1; p->count < 8;) {
		char *end;

		p->values[p->count++] = strtoll(s, &end, 0);
		if (end == s)
			return -EINVAL;
		if (*end == '\0')
			break;
		if (*end != ',')
			return -EINVAL;
		s = end + 1;
	}
	c->num_params++;
	return 0;
}

/* Protocol options; 1 if opt is not one of them. */
static int opt_protocol(struct sim_config *c, int opt, const char *arg)
{
	uint64_t u = 0;
	int ret;

	switch (opt) {
	case OPT_PRIO:
		ret = parse_u64(arg, 1, 8, &u);
		c->num_priorities = (int)u;
		return ret;
	case OPT_BASIC:
		c->basic = true;
		return 0;
	case OPT_UNSCHED:
		if (strcmp(arg, "rtt") == 0 || strcmp(arg, "core") == 0) {
			c->unsched_bytes = strcmp(arg, "rtt") ? 0 : -1;
			return 0;
		}
		ret = parse_u64(arg, 1, HOMA_CONFIG_MAX_MESSAGE_LIMIT, &u);
		c->unsched_bytes = (int64_t)u;
		return ret;
	case OPT_GRANT_WINDOW:
		if (strcmp(arg, "rtt") == 0 || strcmp(arg, "core") == 0) {
			c->grant_window = strcmp(arg, "rtt") ? 0 : -1;
			return 0;
		}
		ret = parse_u64(arg, 1, 1000000000, &u);
		c->grant_window = (int64_t)u;
		return ret;
	case OPT_NO_PACER:
		c->no_pacer = true;
		return 0;
	case OPT_CUTOFFS:
		if (strcmp(arg, "workload") && strcmp(arg, "default"))
			return -EINVAL;
		c->cutoffs = strcmp(arg, "default") ? SIM_CUTOFFS_WORKLOAD
						    : SIM_CUTOFFS_DEFAULT;
		return 0;
	case OPT_HOMA:
		return opt_homa_param(c, arg);
	case OPT_REGION:
		return parse_u64(arg, 65536, 1ull << 32,
				 &c->server_region_bytes);
	}
	return 1;
}

/* "HOST:T_US[:RESTART_US]" for --crash. */
static int opt_crash(struct sim_config *c, const char *arg)
{
	struct sim_crash *k;
	double at, restart = -1;
	int host, n;
	char extra;

	if (c->num_crashes >= SIM_MAX_CRASHES)
		return -EINVAL;
	n = sscanf(arg, "%d:%lf:%lf%c", &host, &at, &restart, &extra);
	if (n < 2 || n > 3 || host < 0 || at < 0 || (n == 3 && restart <= at))
		return -EINVAL;
	k = &c->crashes[c->num_crashes++];
	k->host = host;
	k->at_ps = ps_of(at, SIM_PS_PER_US);
	k->restart_ps = n == 3 ? ps_of(restart, SIM_PS_PER_US) : SIM_TIME_NEVER;
	return 0;
}

/* Fault and output options; 1 if opt is not one of them. */
static int opt_faults(struct sim_config *c, struct main_out *o, int opt,
		      const char *arg)
{
	struct sim_faults *f = &c->faults;
	double d = 0;
	int ret;

	switch (opt) {
	case OPT_LOSS:
	case OPT_DUP:
	case OPT_REORDER:
		ret = parse_double(arg, 0, 1, &d);
		*(opt == OPT_LOSS  ? &f->loss_ppb
		  : opt == OPT_DUP ? &f->dup_ppb
				   : &f->reorder_ppb) = ppb_of(d);
		return ret;
	case OPT_DUP_WINDOW:
	case OPT_REORDER_WINDOW:
		ret = parse_double(arg, 0, 1e7, &d);
		*(opt == OPT_DUP_WINDOW ? &f->dup_window_ps
					: &f->reorder_window_ps) =
			ps_of(d, SIM_PS_PER_US);
		return ret;
	case OPT_CRASH:
		return opt_crash(c, arg);
	case OPT_CSV:
		o->csv = arg;
		return 0;
	case OPT_JSON:
		o->json = arg;
		return 0;
	case OPT_RPC_LOG:
		o->rpc_log = arg;
		return 0;
	case OPT_SERIES:
		ret = parse_double(arg, 0, 1e6, &d);
		c->series_ps = ps_of(d, SIM_PS_PER_MS);
		return ret;
	case OPT_IDLE_DIAG:
		ret = parse_double(arg, 0, 1e6, &d);
		c->idle_diag_ps = ps_of(d, SIM_PS_PER_US);
		return ret;
	case OPT_QUIET:
		o->quiet = true;
		return 0;
	case OPT_NO_PROGRESS:
		c->progress = false;
		return 0;
	}
	return 1;
}

/* One event of the engine benchmark: reschedules itself. */
struct bench_ev {
	struct sim_event ev;	   /* first member */
	struct sim_event_queue *q; /* the queue */
	struct sim_rng *rng;	   /* delays */
};

static void bench_fire(struct sim_event *ev)
{
	struct bench_ev *b = (struct bench_ev *)ev;

	/* Delays like the network's: 0..2 us, in ps. */
	sim_event_schedule(b->q, ev,
			   b->q->now_ps + sim_rng_below(b->rng, 2000000));
}

/* The hold model: 2000 pending events (about what the published topology
 * keeps pending), 50 million executed. */
static int bench_engine(void)
{
	enum { N = 2000 };
	static struct bench_ev evs[N];
	struct sim_event_queue q;
	struct sim_rng rng;
	struct timespec t0, t1;
	double secs;

	if (sim_event_queue_init(&q))
		return 1;
	sim_rng_seed(&rng, 1, 0);
	for (int i = 0; i < N; i++) {
		evs[i].q = &q;
		evs[i].rng = &rng;
		sim_event_init(&evs[i].ev, bench_fire);
		sim_event_schedule(&q, &evs[i].ev,
				   sim_rng_below(&rng, 2000000));
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	while (q.executed < 50000000)
		sim_event_run_until(&q, q.now_ps + 1000000000, NULL);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("engine: %llu events in %.3f s CPU: %.2f M events/s\n",
	       (unsigned long long)q.executed, secs,
	       (double)q.executed / secs / 1e6);
	sim_event_queue_free(&q);
	return 0;
}

static int parse_args(int argc, char **argv, struct sim_config *c,
		      struct main_out *o)
{
	int opt;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		int ret;

		if (opt == OPT_HELP || opt == 'h') {
			fputs(usage, stdout);
			exit(0);
		}
		if (opt == OPT_VERSION) {
			printf("homa-sim %s\n", HOMA_VERSION_STRING);
			exit(0);
		}
		if (opt == '?')
			return -EINVAL;
		if (opt == OPT_BENCH)
			exit(bench_engine());
		ret = opt_topology(&c->topo, opt, optarg);
		if (ret == 1)
			ret = opt_workload(c, o, opt, optarg);
		if (ret == 1)
			ret = opt_protocol(c, opt, optarg);
		if (ret == 1)
			ret = opt_faults(c, o, opt, optarg);
		if (ret) {
			fprintf(stderr, "homa-sim: bad value for --%s: %s\n",
				opt_name(opt), optarg ? optarg : "");
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "homa-sim: unexpected argument %s\n",
			argv[optind]);
		return -EINVAL;
	}
	if (!o->tail_set) {
		c->tail_ps = 4 * c->window_ps;
		if (c->tail_ps < 20 * SIM_PS_PER_MS)
			c->tail_ps = 20 * SIM_PS_PER_MS;
	}
	return 0;
}

static int write_file(struct sim_run *run, const char *path,
		      int (*fn)(struct sim_run *run, FILE *f))
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f) {
		fprintf(stderr, "homa-sim: cannot write %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	ret = fn(run, f);
	if (fclose(f) || ret) {
		fprintf(stderr, "homa-sim: error writing %s\n", path);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct main_out out = { 0 };
	char err[SIM_ERR_BYTES] = "";
	struct sim_config cfg;
	struct sim_run *run;
	int ret, status;

	/* The cores' copies of outgoing messages (up to tens of MB) come
	 * from the heap and stay there when freed: mapping and faulting
	 * them in afresh for every message would double the run time. */
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	sim_config_default(&cfg);
	cfg.progress = true;
	if (parse_args(argc, argv, &cfg, &out)) {
		fputs(usage, stderr);
		return 2;
	}
	ret = sim_run_create(&cfg, &run, err);
	if (ret) {
		fprintf(stderr, "homa-sim: %s\n",
			err[0] ? err : strerror(-ret));
		return 2;
	}
	ret = sim_run_execute(run);
	if (!out.quiet)
		sim_report_text(run, stdout);
	fflush(stdout);
	status = ret ? 3 : run->num_checks ? 1 : 0;
	if (out.csv && write_file(run, out.csv, sim_report_csv))
		status = 3;
	if (out.json && write_file(run, out.json, sim_report_json))
		status = 3;
	if (out.rpc_log && write_file(run, out.rpc_log, sim_report_rpcs))
		status = 3;
	fprintf(stderr,
		"homa-sim: %.2f s wall, %.2f s CPU, %llu events, %.2f M "
		"events/s (wall), %.2f M events/s (CPU), %.3f ms simulated\n",
		run->wall_s, run->cpu_s, (unsigned long long)run->q.executed,
		(double)run->q.executed / 1e6 / (run->wall_s + 1e-9),
		(double)run->q.executed / 1e6 / (run->cpu_s + 1e-9),
		(double)run->end_ps / SIM_PS_PER_MS);
	sim_run_destroy(run);
	return status;
}
