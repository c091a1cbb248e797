/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * homa_run.c - homa-run(1): run a program written for the Linux Homa
 * module's socket API over libhoma, unchanged, by preloading
 * libhoma-preload.so. If the kernel provides Homa itself, the program is
 * left on the kernel unless HOMA_PRELOAD=user. A statically linked
 * program cannot be intercepted: homa-run refuses it rather than let it
 * run over nothing.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "homa.h"

#define HOMA_RUN_LIB_NAME   "libhoma-preload.so"
#define HOMA_RUN_E_USAGE    2	/* exit: bad arguments or settings */
#define HOMA_RUN_E_CANNOT   126 /* exit: found but cannot run it so */
#define HOMA_RUN_E_NOTFOUND 127 /* exit: program or library missing */

static bool homa_run_debug;

static void homa_run_usage(FILE *f)
{
	fprintf(f, "usage: homa-run [--] PROGRAM [ARGS...]\n"
		   "Runs PROGRAM, written for the Linux Homa module, over "
		   "libhoma (LD_PRELOAD).\n"
		   "HOMA_PRELOAD=auto|user|kernel chooses (auto: the kernel's "
		   "Homa if it has one),\n"
		   "HOMA_DEBUG=1 says what is chosen; HOMA_* variables "
		   "configure libhoma (homa(7)).\n");
}

/* The file to execute: prog itself if it has a '/', else from PATH. */
static int homa_run_find(const char *prog, char *out, size_t cap)
{
	const char *path = getenv("PATH"), *p;
	int err = ENOENT;

	if (strchr(prog, '/')) {
		snprintf(out, cap, "%s", prog);
		return access(out, X_OK) == 0 ? 0 : -errno;
	}
	for (p = path ? path : "/usr/local/bin:/usr/bin:/bin"; p;) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		snprintf(out, cap, "%.*s/%s", (int)len, len ? p : ".", prog);
		if (access(out, X_OK) == 0)
			return 0;
		if (errno == EACCES)
			err = EACCES;
		p = end ? end + 1 : NULL;
	}
	return -err;
}

/* 1 if the ELF file at fd has an interpreter (dynamically linked), 0 if
 * not (static, static-pie), -1 if it is not an ELF file we can read. */
static int homa_run_elf_dynamic(int fd)
{
	unsigned char id[EI_NIDENT];
	Elf64_Ehdr e64;
	Elf32_Ehdr e32;
	uint64_t phoff;
	unsigned int phnum, phentsize;

	if (pread(fd, id, sizeof(id), 0) != sizeof(id) ||
	    memcmp(id, ELFMAG, SELFMAG) != 0)
		return -1;
	if (id[EI_CLASS] == ELFCLASS64) {
		if (pread(fd, &e64, sizeof(e64), 0) != sizeof(e64))
			return -1;
		phoff = e64.e_phoff;
		phnum = e64.e_phnum;
		phentsize = e64.e_phentsize;
	} else {
		if (pread(fd, &e32, sizeof(e32), 0) != sizeof(e32))
			return -1;
		phoff = e32.e_phoff;
		phnum = e32.e_phnum;
		phentsize = e32.e_phentsize;
	}
	for (unsigned int i = 0; i < phnum && i < 256; i++) {
		uint32_t type;

		/* p_type is the first word in both classes. */
		if (pread(fd, &type, sizeof(type),
			  (off_t)(phoff + (uint64_t)i * phentsize)) !=
		    sizeof(type))
			return -1;
		if (type == PT_INTERP)
			return 1;
	}
	return 0;
}

/* Whether the preload can reach path's socket calls: 1 yes, 0 no (static),
 * -1 unknown (exec decides). A script is judged by its interpreter. */
static int homa_run_linkage(const char *path, char *bin, size_t cap, int depth)
{
	char head[256], *interp, *end;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;
	ssize_t n;

	snprintf(bin, cap, "%s", path);
	if (fd < 0)
		return -1;
	n = pread(fd, head, sizeof(head) - 1, 0);
	if (n > 2 && head[0] == '#' && head[1] == '!' && depth < 4) {
		close(fd);
		head[n] = 0;
		interp = head + 2 + strspn(head + 2, " \t");
		end = interp + strcspn(interp, " \t\n");
		*end = 0;
		return homa_run_linkage(interp, bin, cap, depth + 1);
	}
	ret = homa_run_elf_dynamic(fd);
	close(fd);
	return ret;
}

/* Whether the running kernel has Homa: a raw system call, so that a
 * preload already in force (homa-run under homa-run) is not asked.
 * HOMA_RUN_ASSUME_NATIVE=1 or 0 pretends (for tests). */
static bool homa_run_native(char *why, size_t cap)
{
	const char *fake = getenv("HOMA_RUN_ASSUME_NATIVE");
	long fd;

	if (fake && *fake) {
		snprintf(why, cap, "HOMA_RUN_ASSUME_NATIVE=%s", fake);
		return strcmp(fake, "1") == 0;
	}
	fd = syscall(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC,
		     IPPROTO_HOMA);
	if (fd < 0) {
		snprintf(why, cap, "socket(AF_INET, SOCK_DGRAM, 146) fails: %s",
			 strerror(errno));
		return false;
	}
	syscall(SYS_close, fd);
	snprintf(why, cap, "socket(AF_INET, SOCK_DGRAM, 146) succeeds");
	return true;
}

/* The shim: $HOMA_PRELOAD_LIB, else next to this program (build tree or
 * installed tree), else the configured library directory. */
static int homa_run_lib(char *out, size_t cap)
{
	const char *env = getenv("HOMA_PRELOAD_LIB");
	const char *rel[] = { "../lib", HOMA_RUN_LIB_REL };
	char exe[PATH_MAX], *slash;
	ssize_t n;

	if (env && *env) {
		snprintf(out, cap, "%s", env);
		return access(out, R_OK) == 0 ? 0 : -errno;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		slash = strrchr(exe, '/');
		if (slash)
			*slash = 0;
		for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			char cand[PATH_MAX + 64];

			snprintf(cand, sizeof(cand), "%s/%s/%s", exe, rel[i],
				 HOMA_RUN_LIB_NAME);
			if (access(cand, R_OK) == 0 && realpath(cand, out))
				return 0;
		}
	}
	snprintf(out, cap, "%s/%s", HOMA_RUN_LIBDIR, HOMA_RUN_LIB_NAME);
	return access(out, R_OK) == 0 ? 0 : -errno;
}

/* LD_PRELOAD with lib first (once); in a sanitizer build, the sanitizer
 * runtime the shim needs before it (HOMA_RUN_SAN_RT). */
static int homa_run_set_preload(const char *lib)
{
	const char *old = getenv("LD_PRELOAD"), *rt = HOMA_RUN_SAN_RT;
	char *val;
	int ret;

	if (old && strstr(old, lib))
		return 0;
	ret = asprintf(&val, "%s%s%s%s%s", rt, *rt ? ":" : "", lib,
		       old && *old ? ":" : "", old ? old : "");
	if (ret < 0)
		return -1;
	ret = setenv("LD_PRELOAD", val, 1);
	free(val);
	return ret;
}

static int homa_run_exec(const char *path, char **argv)
{
	execv(path, argv);
	fprintf(stderr, "homa-run: cannot run %s: %s\n", path, strerror(errno));
	return errno == ENOENT ? HOMA_RUN_E_NOTFOUND : HOMA_RUN_E_CANNOT;
}

int main(int argc, char **argv)
{
	const char *mode = getenv("HOMA_PRELOAD"), *dbg = getenv("HOMA_DEBUG");
	char path[PATH_MAX], lib[PATH_MAX], bin[PATH_MAX], why[160];
	struct stat st;
	int i = 1, ret;

	homa_run_debug = dbg && *dbg && strcmp(dbg, "0") != 0;
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	else if (i < argc &&
		 (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))) {
		homa_run_usage(stdout);
		return 0;
	} else if (i < argc && !strcmp(argv[i], "--version")) {
		printf("homa-run %s\n", HOMA_TOOL_VERSION);
		return 0;
	}
	if (i >= argc) {
		homa_run_usage(stderr);
		return HOMA_RUN_E_USAGE;
	}
	if (!mode || !*mode)
		mode = "auto";
	if (strcmp(mode, "auto") && strcmp(mode, "user") &&
	    strcmp(mode, "kernel")) {
		fprintf(stderr,
			"homa-run: HOMA_PRELOAD=%s: not auto, user or "
			"kernel\n",
			mode);
		return HOMA_RUN_E_USAGE;
	}
	ret = homa_run_find(argv[i], path, sizeof(path));
	if (ret < 0) {
		fprintf(stderr, "homa-run: %s: %s\n", argv[i], strerror(-ret));
		return ret == -ENOENT ? HOMA_RUN_E_NOTFOUND : HOMA_RUN_E_CANNOT;
	}
	if (strcmp(mode, "kernel") == 0 ||
	    (strcmp(mode, "auto") == 0 && homa_run_native(why, sizeof(why)))) {
		if (homa_run_debug)
			fprintf(stderr,
				"homa-run: %s runs on the kernel's Homa "
				"(HOMA_PRELOAD=%s%s%s%s)\n",
				path, mode, *mode == 'a' ? ": " : "",
				*mode == 'a' ? why : "",
				*mode == 'a' ? "; HOMA_PRELOAD=user for "
					       "libhoma"
					     : "");
		return homa_run_exec(path, argv + i);
	}
	if (strcmp(mode, "auto") == 0)
		homa_run_native(why, sizeof(why));
	else
		snprintf(why, sizeof(why), "HOMA_PRELOAD=user");
	if (homa_run_linkage(path, bin, sizeof(bin), 0) == 0) {
		fprintf(stderr,
			"homa-run: %s is statically linked: LD_PRELOAD cannot "
			"reach its socket calls, so it would run without "
			"Homa. Link it dynamically (or with libhoma).\n",
			bin);
		return HOMA_RUN_E_CANNOT;
	}
	if (stat(path, &st) == 0 && (st.st_mode & (S_ISUID | S_ISGID)) &&
	    getuid() != 0) {
		fprintf(stderr,
			"homa-run: %s is set-user-ID or set-group-ID: the "
			"loader ignores LD_PRELOAD for it\n",
			path);
		return HOMA_RUN_E_CANNOT;
	}
	ret = homa_run_lib(lib, sizeof(lib));
	if (ret < 0) {
		fprintf(stderr,
			"homa-run: cannot find %s (%s: %s); set "
			"HOMA_PRELOAD_LIB to its path\n",
			HOMA_RUN_LIB_NAME, lib, strerror(-ret));
		return HOMA_RUN_E_NOTFOUND;
	}
	if (homa_run_set_preload(lib) < 0) {
		fprintf(stderr, "homa-run: cannot set LD_PRELOAD: %s\n",
			strerror(errno));
		return HOMA_RUN_E_CANNOT;
	}
	if (homa_run_debug)
		fprintf(stderr,
			"homa-run: %s runs on libhoma (%s), datapath %s, "
			"LD_PRELOAD=%s\n",
			path, why,
			getenv("HOMA_DATAPATH") ? getenv("HOMA_DATAPATH")
						: "udp",
			getenv("LD_PRELOAD"));
	return homa_run_exec(path, argv + i);
}
