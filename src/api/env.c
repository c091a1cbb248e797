/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * env.c - the names of every HOMA_* environment variable libhoma and its
 * tools read, and a warning for any other: a misspelt HOMA_LNK_MBPS would
 * otherwise be ignored without a word. The names of the protocol's
 * parameters come from the core's table (HOMA_<NAME> for each); the rest
 * are listed here, in one place: add a name here when a new variable is
 * read anywhere in the project.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib.h"

/* HOMA_* variables that are not parameters of the core's table. */
static const char *const homa_env_known[] = {
	/* libhoma (homa(7), CONFIGURATION) */
	"HOMA_DATAPATH",
	"HOMA_GSO",
	"HOMA_GRO",
	"HOMA_UDP_CONNECT",
	"HOMA_VERIFY_CSUM",
	"HOMA_PATH_MTU",
	"HOMA_VETH_LOCAL",
	"HOMA_CORK_USECS",
	"HOMA_PRINT_METRICS",
	"HOMA_METRICS",
	"HOMA_DEBUG",
	"HOMA_PRELOAD",
	"HOMA_PRELOAD_LIB",
	"HOMA_RUN_ASSUME_NATIVE",
	"HOMA_SAMPLE_FILE",
	"HOMA_TEST_FIRST_ID",
	"HOMA_TEST_NO_PWAIT2",
	/* the tools and scripts (homa-bench, sim/run_published.sh) */
	"HOMA_WORKLOAD_DIR",
	"HOMA_SIM",
	/* the build and the test suite (Makefile, .ci/run, tests/) */
	"HOMA_WERROR",
	"HOMA_REQUIRE_ROOT",
	"HOMA_FUZZ_SECONDS",
	"HOMA_TEST_DATA",
	"HOMA_CLUSTER_PREFIX",
	"HOMA_BIN",
};

#define HOMA_ENV_NAME_MAX 64 /* bytes of a name we compare */

/* Whether var ("HOMA_X", without "=value") is a name libhoma reads. */
static bool homa_env_is_known(const char *var)
{
	char name[HOMA_ENV_NAME_MAX];
	const char *p;

	for (size_t i = 0; i < sizeof(homa_env_known) / sizeof(*homa_env_known);
	     i++)
		if (strcmp(var, homa_env_known[i]) == 0)
			return true;
	for (int i = 0; (p = homa_config_name(i)); i++) {
		size_t k;

		snprintf(name, sizeof(name), "HOMA_%s", p);
		for (k = 5; name[k]; k++)
			name[k] = (char)toupper((unsigned char)name[k]);
		if (strcmp(var, name) == 0)
			return true;
	}
	return false;
}

/* Edit distance of a and b (both under HOMA_ENV_NAME_MAX bytes). */
static size_t homa_env_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[HOMA_ENV_NAME_MAX + 1];

	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j],
			       best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/* The known name closest to var, if it is within 2 edits and at most a
 * third of the letters after "HOMA_" differ; else NULL. */
static const char *homa_env_suggest(const char *var, char *buf, size_t cap)
{
	size_t tail = strlen(var) - 5, best = tail / 3 < 2 ? tail / 3 : 2;

	best++; /* a candidate must be strictly closer than this */
	bool found = false;
	const char *p;

	for (size_t i = 0; i < sizeof(homa_env_known) / sizeof(*homa_env_known);
	     i++) {
		size_t d = homa_env_distance(var, homa_env_known[i]);

		if (d < best) {
			best = d;
			snprintf(buf, cap, "%s", homa_env_known[i]);
			found = true;
		}
	}
	for (int i = 0; (p = homa_config_name(i)); i++) {
		char name[HOMA_ENV_NAME_MAX];
		size_t d;

		snprintf(name, sizeof(name), "HOMA_%s", p);
		for (size_t k = 5; name[k]; k++)
			name[k] = (char)toupper((unsigned char)name[k]);
		d = homa_env_distance(var, name);
		if (d < best) {
			best = d;
			snprintf(buf, cap, "%s", name);
			found = true;
		}
	}
	return found ? buf : NULL;
}

int homa_lib_env_warn(FILE *out)
{
	int unknown = 0;

	for (char **e = environ; e && *e; e++) {
		char var[HOMA_ENV_NAME_MAX], hint[HOMA_ENV_NAME_MAX];
		const char *eq = strchr(*e, '='), *near;
		size_t len = eq ? (size_t)(eq - *e) : strlen(*e);

		if (strncmp(*e, "HOMA_", 5) != 0)
			continue;
		if (len >= sizeof(var))
			len = sizeof(var) - 1;
		memcpy(var, *e, len);
		var[len] = '\0';
		if (homa_env_is_known(var))
			continue;
		unknown++;
		near = homa_env_suggest(var, hint, sizeof(hint));
		fprintf(out,
			"libhoma: warning: %s is not a libhoma variable and is "
			"ignored (%s%s%ssee homa(7), CONFIGURATION)\n",
			var, near ? "did you mean " : "", near ? near : "",
			near ? "? " : "");
	}
	return unknown;
}
