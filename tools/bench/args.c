/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * args.c - command-line parsing for homa-bench, with a clear message for
 * every mistake.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef HOMA_WORKLOAD_DIR
#define HOMA_WORKLOAD_DIR "data/workloads"
#endif

#include "bench.h"

void bench_usage(FILE *f)
{
	fprintf(f,
		"usage: homa-bench server --proto homa|tcp|udp [--raw] --port "
		"N\n"
		"                  [--resp-size B] [--wait "
		"spin[=USECS]|block]\n"
		"       homa-bench client --proto homa|tcp|udp [--raw] "
		"--server "
		"HOST:PORT [--server ...]\n"
		"                  --workload w1..w5|SIZE (--load MBPS | "
		"--outstanding N) --seconds S\n"
		"                  [--wait spin[=USECS]|block] [--calibrate S "
		"| "
		"--load-calib F]\n"
		"                  [--save-calib F] [--samples F] [--json "
		"FILE] "
		"[--label L]\n"
		"                  [--workload-dir DIR] [--seed N] "
		"[--max-samples N] [--nocopy]\n"
		"       homa-bench report --workload W --load-calib F "
		"--seconds S --samples F [--samples F ...]\n"
		"                  [--json FILE] [--label L] [--wait POLICY]\n"
		"       homa-bench peers --proto homa|tcp --server HOST:PORT "
		"--count N\n"
		"                  (N idle client sockets after one RPC each, "
		"until SIGTERM)\n"
		"       homa-bench --help | --version\n"
		"--wait: how every receiver waits, the same for every "
		"protocol: "
		"spin polls\n"
		"without blocking for USECS (default %d, Homa's poll_usecs) "
		"before it blocks;\n"
		"block never spins (Homa's poll_usecs = 0). Default: spin.\n"
		"--max-samples N: keep a uniform sample of N latencies "
		"(16 bytes each, allocated\n"
		"at the first RPC: memory bounded and flat in long runs); "
		"counts and\nthroughput still cover every RPC.\n"
		"--samples F: one line per RPC kept: request bytes, latency "
		"in us and its\nstart time in us of CLOCK_MONOTONIC (to line "
		"slow RPCs up with a trace).\n"
		"--nocopy: requests leave without the sender's copy: Homa "
		"with\nHOMA_SENDMSG_NOCOPY, TCP with MSG_ZEROCOPY (not "
		"for UDP).\n",
		BENCH_SPIN_DEFAULT_US);
}

static int bench_err(const char *fmt, const char *arg)
{
	fprintf(stderr, "homa-bench: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	bench_usage(stderr);
	return -1;
}

/* HOST:PORT (IPv6 as [addr]:port) into o->servers. */
static int bench_add_server(struct bench_opts *o, const char *spec)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai;
	char host[256];
	const char *colon = strrchr(spec, ':');
	size_t hl;

	if (o->num_servers == BENCH_MAX_SERVERS)
		return bench_err("too many --server (at most 16): %s", spec);
	if (!colon || colon == spec || !colon[1])
		return bench_err("--server wants HOST:PORT, got '%s'", spec);
	hl = (size_t)(colon - spec);
	if (spec[0] == '[' && hl > 2 && spec[hl - 1] == ']') {
		spec++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return bench_err("host name too long: %s", spec);
	memcpy(host, spec, hl);
	host[hl] = 0;
	if (atoi(colon + 1) <= 0 || atoi(colon + 1) > 65535)
		return bench_err("bad port in '%s'", spec);
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
		return bench_err("cannot resolve host '%s'", host);
	memcpy(&o->servers[o->num_servers], ai->ai_addr, ai->ai_addrlen);
	o->server_len[o->num_servers++] = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static int bench_number(const char *opt, const char *v, double min, double max,
			double *out)
{
	char *end;
	double d;

	if (!v)
		return bench_err("%s needs a value", opt);
	d = strtod(v, &end);
	if (*end || end == v || d < min || d > max) {
		fprintf(stderr,
			"homa-bench: %s: '%s' is not a number in "
			"%g..%g\n",
			opt, v, min, max);
		return -1;
	}
	*out = d;
	return 0;
}

static int bench_check(struct bench_opts *o)
{
	if (o->report) {
		if (!o->workload || !o->load_calib || !o->num_sample_files ||
		    o->seconds <= 0)
			return bench_err(
				"%s", "report needs --workload, "
				      "--load-calib, --seconds and --samples");
		if (!o->proto)
			o->proto = "homa";
		return 0;
	}
	if (!o->proto)
		return bench_err("%s", "--proto homa|tcp|udp is required");
	if (strcmp(o->proto, "homa") && strcmp(o->proto, "tcp") &&
	    strcmp(o->proto, "udp"))
		return bench_err("--proto must be homa, tcp or udp, not '%s'",
				 o->proto);
	if (o->raw && strcmp(o->proto, "homa"))
		return bench_err("%s", "--raw applies to --proto homa only");
	if (o->nocopy && !strcmp(o->proto, "udp"))
		return bench_err("%s", "--nocopy applies to homa and tcp");
	if (o->server)
		return o->port > 0 ? 0 : bench_err("%s", "--port is required");
	if (o->peers)
		return o->num_servers && o->count > 0 && strcmp(o->proto, "udp")
			       ? 0
			       : bench_err("%s",
					   "peers needs --proto homa|tcp, "
					   "--server and --count");
	if (!o->num_servers)
		return bench_err("%s", "--server HOST:PORT is required");
	if (!o->workload)
		return bench_err("%s", "--workload is required");
	if ((o->load_mbps > 0) == (o->outstanding > 0))
		return bench_err(
			"%s", "give exactly one of --load and --outstanding");
	if (o->seconds <= 0)
		return bench_err("%s", "--seconds is required");
	return 0;
}

int bench_parse(int argc, char **argv, struct bench_opts *o)
{
	double d;

	memset(o, 0, sizeof(*o));
	o->workload_dir = getenv("HOMA_WORKLOAD_DIR")
				  ? getenv("HOMA_WORKLOAD_DIR")
				  : HOMA_WORKLOAD_DIR;
	o->resp_size = 100;
	o->cal_seconds = 2;
	o->seed = 1;
	o->spin_us = BENCH_SPIN_DEFAULT_US;
	if (argc < 2) {
		bench_usage(stderr);
		return -1;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		o->help = true;
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		o->version = true;
		return 0;
	}
	if (strcmp(argv[1], "server") == 0)
		o->server = true;
	else if (strcmp(argv[1], "report") == 0)
		o->report = true;
	else if (strcmp(argv[1], "peers") == 0)
		o->peers = true;
	else if (strcmp(argv[1], "client") != 0)
		return bench_err("first argument must be server, client or "
				 "report, not '%s'",
				 argv[1]);
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--raw") == 0) {
			o->raw = true;
			continue;
		}
		if (strcmp(a, "--nocopy") == 0) {
			o->nocopy = true;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			o->help = true;
			return 0;
		}
		if (!v)
			return bench_err("%s needs a value", a);
		i++;
		if (strcmp(a, "--proto") == 0)
			o->proto = v;
		else if (strcmp(a, "--port") == 0) {
			if (bench_number(a, v, 1, 65535, &d))
				return -1;
			o->port = (int)d;
		} else if (strcmp(a, "--server") == 0) {
			if (bench_add_server(o, v))
				return -1;
		} else if (strcmp(a, "--workload") == 0)
			o->workload = v;
		else if (strcmp(a, "--workload-dir") == 0)
			o->workload_dir = v;
		else if (strcmp(a, "--load") == 0) {
			if (bench_number(a, v, 0.001, 1e6, &o->load_mbps))
				return -1;
		} else if (strcmp(a, "--outstanding") == 0) {
			if (bench_number(a, v, 1, 10000, &d))
				return -1;
			o->outstanding = (int)d;
		} else if (strcmp(a, "--seconds") == 0) {
			if (bench_number(a, v, 0.1, 86400, &o->seconds))
				return -1;
		} else if (strcmp(a, "--calibrate") == 0) {
			if (bench_number(a, v, 0, 600, &o->cal_seconds))
				return -1;
		} else if (strcmp(a, "--resp-size") == 0) {
			if (bench_number(a, v, 1, BENCH_MAX_MSG, &d))
				return -1;
			o->resp_size = (uint32_t)d;
		} else if (strcmp(a, "--json") == 0)
			o->json = v;
		else if (strcmp(a, "--wait") == 0) {
			if (bench_wait_parse(v, &o->spin_us) < 0)
				return bench_err(
					"--wait wants spin, spin=USECS (1.."
					"1000000) or block, not '%s'",
					v);
		} else if (strcmp(a, "--label") == 0)
			o->label = v;
		else if (strcmp(a, "--save-calib") == 0)
			o->save_calib = v;
		else if (strcmp(a, "--load-calib") == 0)
			o->load_calib = v;
		else if (strcmp(a, "--samples") == 0) {
			if (o->num_sample_files == BENCH_MAX_SERVERS)
				return bench_err("too many --samples: %s", v);
			o->samples = v;
			o->sample_files[o->num_sample_files++] = v;
		} else if (strcmp(a, "--max-samples") == 0) {
			if (bench_number(a, v, 1, 1e9, &d))
				return -1;
			o->max_samples = (size_t)d;
		} else if (strcmp(a, "--count") == 0) {
			if (bench_number(a, v, 1, 100000, &d))
				return -1;
			o->count = (int)d;
		} else if (strcmp(a, "--seed") == 0) {
			if (bench_number(a, v, 0, 1e18, &d))
				return -1;
			o->seed = (uint64_t)d;
		} else
			return bench_err("unknown option '%s'", a);
	}
	return bench_check(o);
}
