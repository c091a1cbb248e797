/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lib.c - the process-wide libhoma instance: creation from the HOMA_*
 * environment, the poller role and the background thread (see lib.h for
 * the threading model), and readiness of the sockets' descriptors.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <linux/futex.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lib.h"
#include "metrics_shm.h"

#define HOMA_LIB_DEFAULT_REGION (64u << 20) /* bytes, when the app gives none */

struct homa_lib *homa_lib_instance; /* see lib.h */
static pthread_mutex_t homa_lib_init_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread char homa_lib_error[200];

/* Library-only settings, beside the core's parameters. */
static int homa_lib_datapath = -1;	    /* -1: from HOMA_DATAPATH */
static struct homa_config homa_lib_pending; /* set before creation */
static bool homa_lib_pending_set;
static bool homa_lib_env_warned; /* unknown HOMA_* variables reported */

void homa_lib_set_error(const char *msg)
{
	snprintf(homa_lib_error, sizeof(homa_lib_error), "%s", msg);
}

const char *homa_last_error(void)
{
	return homa_lib_error;
}

void homa_lib_lock_wait(struct homa_lib *lib)
{
	/* Marked contended (2), so that the holder's unlock wakes one. */
	while (__atomic_exchange_n(&lib->lock, 2, __ATOMIC_ACQUIRE) != 0)
		syscall(SYS_futex, &lib->lock, FUTEX_WAIT_PRIVATE, 2, NULL,
			NULL, 0);
}

void homa_lib_unlock_wake(struct homa_lib *lib)
{
	syscall(SYS_futex, &lib->lock, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Parse "v" or "v1 v2 ..." (spaces or commas) into vals; count or -1. */
static int homa_lib_parse(const char *text, int64_t *vals, int max)
{
	int n = 0;

	while (*text) {
		char *end;
		long long v;

		while (*text == ' ' || *text == ',' || *text == '\t')
			text++;
		if (!*text)
			break;
		errno = 0;
		v = strtoll(text, &end, 0);
		if (end == text || errno || n == max)
			return -1;
		vals[n++] = v;
		text = end;
	}
	return n;
}

/* Apply "name=value" to config (core parameters or library ones). */
static int homa_lib_apply(struct homa_config *config, int *datapath,
			  const char *name, const char *value)
{
	char err[HOMA_ERR_BYTES + 64];
	int64_t vals[HOMA_MAX_PRIORITIES];
	int n;

	if (strcmp(name, "datapath") == 0) {
		if (strcmp(value, "udp") == 0 || strcmp(value, "0") == 0)
			*datapath = 0;
		else if (strcmp(value, "raw") == 0 || strcmp(value, "1") == 0)
			*datapath = 1;
		else {
			snprintf(err, sizeof(err),
				 "datapath: '%s' is not udp or raw", value);
			homa_lib_set_error(err);
			return -EINVAL;
		}
		return 0;
	}
	n = homa_lib_parse(value, vals, HOMA_MAX_PRIORITIES);
	if (n < 0) {
		snprintf(err, sizeof(err), "%s: '%s' is not a number list",
			 name, value);
		homa_lib_set_error(err);
		return -EINVAL;
	}
	if (homa_config_set(config, name, vals, n, err) < 0) {
		homa_lib_set_error(err);
		return -EINVAL;
	}
	return 0;
}

/* Read HOMA_<NAME> for every parameter, plus HOMA_DATAPATH and
 * HOMA_LINK_MBPS-style names; the first bad one is reported. */
static int homa_lib_env(struct homa_config *config, int *datapath)
{
	char var[64], why[sizeof(homa_lib_error)];
	const char *name = "datapath", *value;

	for (int i = -1; i < 0 || (name = homa_config_name(i)); i++) {
		size_t k;

		snprintf(var, sizeof(var), "HOMA_%s", name);
		for (k = 5; var[k]; k++)
			var[k] = (char)toupper((unsigned char)var[k]);
		value = getenv(var);
		if (value && homa_lib_apply(config, datapath, name, value) < 0)
			goto bad;
	}
	return 0;

bad:
	/* Name the variable, not just the parameter. */
	snprintf(why, sizeof(why), "%s", homa_lib_error);
	snprintf(homa_lib_error, sizeof(homa_lib_error), "%.40s=%.24s: %.120s",
		 var, value, why);
	return -EINVAL;
}

static int homa_lib_check(const struct homa_config *c);

int homa_config_param(const char *name, const char *value)
{
	struct homa_lib *lib;
	int ret;

	if (!name || !value) {
		homa_lib_set_error("homa_config_param: name or value is NULL");
		errno = EFAULT;
		return -1;
	}
	pthread_mutex_lock(&homa_lib_init_lock);
	lib = homa_lib_instance;
	if (!lib) {
		if (!homa_lib_pending_set) {
			homa_config_default(&homa_lib_pending);
			homa_lib_pending_set = true;
		}
		ret = homa_lib_apply(&homa_lib_pending, &homa_lib_datapath,
				     name, value);
		pthread_mutex_unlock(&homa_lib_init_lock);
		if (ret < 0) {
			errno = -ret;
			return -1;
		}
		return 0;
	}
	pthread_mutex_unlock(&homa_lib_init_lock);
	if (strcmp(name, "datapath") == 0 || strcmp(name, "tick_us") == 0 ||
	    strcmp(name, "mtu") == 0 ||
	    strcmp(name, "extra_header_bytes") == 0) {
		char fixed[96];

		snprintf(fixed, sizeof(fixed),
			 "%s: fixed once a socket exists (set it before the "
			 "first socket)",
			 name);
		homa_lib_set_error(fixed);
		errno = EINVAL;
		return -1;
	}
	int64_t vals[HOMA_MAX_PRIORITIES];
	char err[HOMA_ERR_BYTES];
	int n = homa_lib_parse(value, vals, HOMA_MAX_PRIORITIES);

	homa_lib_lock(lib);
	struct homa_config check = lib->config;

	if (n >= 0 && homa_config_set(&check, name, vals, n, err) == 0 &&
	    homa_lib_check(&check) < 0) {
		homa_lib_unlock(lib);
		errno = EINVAL;
		return -1;
	}
	ret = n < 0 ? -EINVAL : homa_set_param(lib->homa, name, vals, n, err);
	if (ret == 0)
		lib->config = *homa_get_config(lib->homa);
	homa_lib_unlock(lib);
	if (ret < 0) {
		if (n < 0)
			snprintf(err, sizeof(err),
				 "%.32s: '%.32s' is not a number list", name,
				 value);
		homa_lib_set_error(err);
		errno = -ret;
		return -1;
	}
	return 0;
}

/* ---- callbacks from the core (lock held) ---- */

static void homa_lib_xmit(void *ctx, const struct homa_out_pkt *pkt)
{
	struct homa_lib *lib = ctx;

	lib->tx_queued = true;
	lib->dp->ops->xmit(lib->dp, pkt);
}

/* Packets of a large message leave before the core copies its rest. */
static void homa_lib_push(void *ctx)
{
	struct homa_lib *lib = ctx;

	homa_lib_flush(lib);
}

static void homa_lib_wake(void *ctx, void *sock_ctx, uint32_t events,
			  uint64_t id)
{
	struct homa_lib *lib = ctx;
	struct homa_lsock *ls = sock_ctx;

	(void)id;
	/* Descriptor readiness is brought up to date when the current
	 * library call ends (homa_lib_sync_pending): by then the waiting
	 * thread has usually taken the message, and no system call is
	 * needed at all. */
	if (ls && !ls->sync_pending) {
		ls->sync_pending = true;
		ls->sync_next = lib->sync_head;
		lib->sync_head = ls;
	}
	if (ls)
		ls->sync_events |= events;
	__atomic_add_fetch(&lib->wake_gen, 1, __ATOMIC_SEQ_CST);
	if (lib->waiters)
		homa_lib_wake_waiters(lib);
	homa_lib_kick_sleeper(lib);
}

void homa_lib_sync_pending(struct homa_lib *lib)
{
	while (lib->sync_head)
		homa_lib_sync_next(lib);
}

static uint32_t homa_lib_path_mtu(void *ctx, const struct homa_addr *dst,
				  bool *local)
{
	struct homa_lib *lib = ctx;
	uint32_t mtu = homa_dp_path_mtu(dst, lib->veth_local, local);

	/* Loopback says 65536; a Homa packet must fit the 16-bit IPv4
	 * length and the datapath's buffers. */
	return mtu > HOMA_DP_PKT_MAX ? HOMA_DP_PKT_MAX : mtu;
}

static int homa_lib_flag(const char *var, bool *flag);

/* HOMA_TEST_FIRST_ID (tests only): every random draw returns this value,
 * so the process's first RPC id is it (made even); 0 = unset. */
static uint64_t homa_lib_test_random;

/*
 * The core's random numbers (its first RPC id): from the kernel's
 * generator, so no two processes start alike and the application's own
 * srand()/random() changes nothing. Should getrandom fail (no entropy
 * source in a container, say), the time and pid still tell processes
 * apart.
 */
static uint64_t homa_lib_random(void *ctx)
{
	uint64_t v;
	ssize_t n;

	(void)ctx;
	if (homa_lib_test_random)
		return homa_lib_test_random;
	do
		n = getrandom(&v, sizeof(v), 0);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(v))
		return v;
	v = homa_lib_now() ^ (uint64_t)getpid() << 40;
	return v * 0x9E3779B97F4A7C15ull;
}

/* Read HOMA_TEST_FIRST_ID into homa_lib_test_random (0 if unset). */
static int homa_lib_test_hooks(void)
{
	const char *v = getenv("HOMA_TEST_FIRST_ID");
	bool no_pwait2 = false;
	char *end;

	/* HOMA_TEST_NO_PWAIT2=1: the poller's fallback for systems without
	 * epoll_pwait2, tested on any. */
	if (homa_lib_flag("HOMA_TEST_NO_PWAIT2", &no_pwait2) < 0)
		return -EINVAL;
	if (no_pwait2)
		homa_lib_epoll_fallback();

	homa_lib_test_random = 0;
	if (!v)
		return 0;
	errno = 0;
	homa_lib_test_random = strtoull(v, &end, 0);
	if (errno || end == v || *end || homa_lib_test_random < 2) {
		homa_lib_test_random = 0;
		homa_lib_set_error("HOMA_TEST_FIRST_ID: not a number >= 2");
		return -EINVAL;
	}
	return 0;
}

/* The core's memory (under the lock, or before the threads start): its
 * bytes and their high-water mark are counted for HOMA_SAMPLE_FILE, which
 * samples once a second and would miss a peak between two samples. */
static void *homa_lib_alloc(void *ctx, size_t bytes)
{
	struct homa_lib *lib = ctx;
	void *p = malloc(bytes);

	if (p) {
		lib->env_bytes += bytes;
		if (lib->env_bytes > lib->env_max)
			lib->env_max = lib->env_bytes;
	}
	return p;
}

static void homa_lib_free(void *ctx, void *p, size_t bytes)
{
	struct homa_lib *lib = ctx;

	/* Queued packets may still point into it (zero-copy payloads). */
	if (lib->dp->ops->release)
		lib->dp->ops->release(lib->dp, p, bytes);
	if (p)
		lib->env_bytes -=
			bytes < lib->env_bytes ? bytes : lib->env_bytes;
	free(p);
}

/* env.lent_done: a request sent with HOMA_SENDMSG_NOCOPY ended; queued
 * packets may still point into the caller's bytes, which the caller may
 * reuse as soon as this call returns. */
static void homa_lib_lent_done(void *ctx, const void *p, size_t bytes)
{
	struct homa_lib *lib = ctx;

	if (lib->dp->ops->release)
		lib->dp->ops->release(lib->dp, p, bytes);
}

/* A 0/1 environment variable into *flag (unchanged if unset). */
static int homa_lib_flag(const char *var, bool *flag)
{
	const char *v = getenv(var);
	char err[96];

	if (!v)
		return 0;
	if (strcmp(v, "0") && strcmp(v, "1")) {
		snprintf(err, sizeof(err), "%s: '%s' is not 0 or 1", var, v);
		homa_lib_set_error(err);
		return -EINVAL;
	}
	*flag = v[0] == '1';
	return 0;
}

/* HOMA_CORK_USECS (0 to 1,000,000; default HOMA_LIB_CORK_US) into
 * lib.cork_hold_ns: how long auto-cork may hold packets back. */
static int homa_lib_cork_env(struct homa_lib *lib)
{
	const char *v = getenv("HOMA_CORK_USECS");
	unsigned long long us;
	char *end;

	lib->cork_hold_ns = HOMA_LIB_CORK_US * 1000ull;
	if (!v)
		return 0;
	errno = 0;
	us = strtoull(v, &end, 10);
	if (errno || end == v || *end || *v == '-' || us > 1000000) {
		homa_lib_set_error("HOMA_CORK_USECS: not a number of "
				   "microseconds from 0 to 1000000");
		return -EINVAL;
	}
	lib->cork_hold_ns = us * 1000;
	return 0;
}

/* Limits of the library on top of the core's own validation: messages
 * must fit the 16 bpage offsets of homa_recvmsg_args, and packets the
 * datapath's buffers. */
static int homa_lib_check(const struct homa_config *c)
{
	char err[128];

	if (c->max_message_bytes > HOMA_MAX_MESSAGE_LENGTH) {
		snprintf(err, sizeof(err),
			 "max_message_bytes: %lld is above the API's limit "
			 "%d (16 bpages)",
			 (long long)c->max_message_bytes,
			 HOMA_MAX_MESSAGE_LENGTH);
		homa_lib_set_error(err);
		return -EINVAL;
	}
	if (c->mtu > HOMA_DP_PKT_MAX) {
		snprintf(err, sizeof(err),
			 "mtu: %lld is above the datapath's limit %d",
			 (long long)c->mtu, HOMA_DP_PKT_MAX);
		homa_lib_set_error(err);
		return -EINVAL;
	}
	return 0;
}

static int homa_lib_create(struct homa_lib **out)
{
	struct homa_dp_opts opts = { .gso = true,
				     .gro = true,
				     .connect = true };
	struct homa_env env = { 0 };
	bool path_mtu = true;
	char err[HOMA_ERR_BYTES];
	struct homa_lib *lib;
	struct epoll_event ev;
	sigset_t all, saved;
	int datapath = homa_lib_datapath < 0 ? 0 : homa_lib_datapath, ret;

	lib = calloc(1, sizeof(*lib));
	if (!lib)
		return -ENOMEM;
	lib->sample_fd = -1;
	lib->veth_local = true;
	if (homa_lib_pending_set)
		lib->config = homa_lib_pending;
	else
		homa_config_default(&lib->config);
	/* The UDP datapath's header, until told otherwise. */
	lib->config.extra_header_bytes = HOMA_WIRE_UDP_BYTES;
	ret = homa_lib_env(&lib->config, &datapath);
	if (ret < 0)
		goto fail;
	if (!homa_lib_env_warned) { /* once, though creation may be retried */
		homa_lib_env_warned = true;
		homa_lib_env_warn(stderr);
	}
	ret = homa_lib_sample_open(lib);
	if (ret < 0)
		goto fail;
	lib->datapath = datapath;
	if (datapath == 1)
		lib->config.extra_header_bytes = 0;
	ret = homa_lib_check(&lib->config);
	if (ret < 0)
		goto fail;
	if (homa_lib_flag("HOMA_VERIFY_CSUM", &opts.verify_csum) < 0 ||
	    homa_lib_flag("HOMA_GSO", &opts.gso) < 0 ||
	    homa_lib_flag("HOMA_GRO", &opts.gro) < 0 ||
	    homa_lib_flag("HOMA_UDP_CONNECT", &opts.connect) < 0 ||
	    homa_lib_flag("HOMA_PATH_MTU", &path_mtu) < 0 ||
	    homa_lib_flag("HOMA_VETH_LOCAL", &lib->veth_local) < 0 ||
	    homa_lib_cork_env(lib) < 0 || homa_lib_test_hooks() < 0) {
		ret = -EINVAL;
		goto fail;
	}
	opts.rcvbuf_bytes = 4 << 20;
	ret = datapath ? homa_dp_raw_create(&opts, &lib->dp)
		       : homa_dp_udp_create(&opts, &lib->dp);
	if (ret < 0) {
		homa_lib_set_error(ret == -EPERM
					   ? "raw datapath needs CAP_NET_RAW"
					   : "cannot create the datapath");
		goto fail;
	}
	env.ctx = lib;
	env.xmit = homa_lib_xmit;
	env.wake = homa_lib_wake;
	env.random = homa_lib_random;
	env.alloc = homa_lib_alloc;
	env.free = homa_lib_free;
	env.push = homa_lib_push;
	env.lent_done = homa_lib_lent_done;
	if (path_mtu)
		env.path_mtu = homa_lib_path_mtu;
	ret = homa_create(&env, &lib->config, homa_lib_now(), &lib->homa, err);
	if (ret < 0) {
		homa_lib_set_error(err);
		goto fail_dp;
	}
	lib->lock = 0; /* free */
	lib->bg_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	lib->wake_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	lib->epfd = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN;
	ev.data.u32 = 1;
	epoll_ctl(lib->epfd, EPOLL_CTL_ADD, lib->wake_efd, &ev);
	ev.data.u32 = 2;
	epoll_ctl(lib->epfd, EPOLL_CTL_ADD, lib->dp->epfd, &ev);
	/* The background thread takes no signals: they go to application
	 * threads, whose waits they interrupt (EINTR). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &saved);
	ret = pthread_create(&lib->bg, NULL, homa_lib_bg_main, lib);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (ret != 0) {
		ret = -EAGAIN;
		goto fail_homa;
	}
	/* Named for ps, perf and the tests that count its wake-ups. */
	pthread_setname_np(lib->bg, "homa-bg");
	homa_lib_metrics_start(lib); /* live metrics, HOMA_PRINT_METRICS */
	*out = lib;
	return 0;

fail_homa:
	close(lib->epfd);
	close(lib->wake_efd);
	close(lib->bg_efd);
	homa_destroy(lib->homa);
fail_dp:
	lib->dp->ops->destroy(lib->dp);
fail:
	if (lib->sample_fd >= 0)
		close(lib->sample_fd);
	free(lib);
	return ret;
}

struct homa_lib *homa_lib_get(void)
{
	struct homa_lib *lib;
	int ret = 0;

	lib = __atomic_load_n(&homa_lib_instance, __ATOMIC_ACQUIRE);
	if (lib)
		return lib;
	pthread_mutex_lock(&homa_lib_init_lock);
	if (!homa_lib_instance) {
		ret = homa_lib_create(&lib);
		if (ret == 0)
			__atomic_store_n(&homa_lib_instance, lib,
					 __ATOMIC_RELEASE);
		else
			fprintf(stderr, "libhoma: %s\n", homa_lib_error);
	}
	lib = homa_lib_instance;
	pthread_mutex_unlock(&homa_lib_init_lock);
	if (!lib)
		errno = -ret;
	return lib;
}

void homa_lib_abandon(void)
{
	__atomic_store_n(&homa_lib_instance, NULL, __ATOMIC_RELEASE);
}

/* ---- sockets ---- */

struct homa_lsock *homa_lsock_get(struct homa_lib *lib, int fd)
{
	struct homa_lsock *ls;

	if (fd < 0 || fd >= lib->socks_len || !lib->socks[fd]) {
		/* Not ours: a descriptor that is not open is EBADF, any
		 * other (pipe, TCP or UDP socket...) ENOTSOCK. */
		errno = fd < 0 || fcntl(fd, F_GETFD) < 0 ? EBADF : ENOTSOCK;
		return NULL;
	}
	ls = lib->socks[fd];
	if (ls->closing) {
		errno = EBADF;
		return NULL;
	}
	ls->users++;
	return ls;
}

struct homa_lsock *homa_lsock_enter_slow(struct homa_lib **libp, int fd)
{
	struct homa_lib *lib = homa_lib_get();
	struct homa_lsock *ls;

	*libp = lib;
	if (!lib)
		return NULL;
	homa_lib_lock(lib);
	ls = homa_lsock_get(lib, fd);
	if (!ls)
		homa_lib_unlock(lib);
	return ls;
}

void homa_lib_sync_forget(struct homa_lib *lib, struct homa_lsock *ls)
{
	struct homa_lsock **pp = &lib->sync_head;

	if (!ls->sync_pending)
		return;
	while (*pp && *pp != ls)
		pp = &(*pp)->sync_next;
	if (*pp)
		*pp = ls->sync_next;
	ls->sync_pending = false;
	ls->sync_events = 0;
}

/* The descriptor's readiness changes: its byte and its send buffer. */
static void homa_lsock_resync(struct homa_lsock *ls, bool readable,
			      bool writable)
{
	char buf[4096];

	if (readable && !ls->readable_set) {
		if (send(ls->peer_fd, "r", 1, MSG_DONTWAIT) == 1)
			ls->readable_set = true;
	} else if (!readable && ls->readable_set) {
		if (recv(ls->fd, buf, 1, MSG_DONTWAIT) == 1)
			ls->readable_set = false;
	}
	if (!writable && !ls->unwritable) {
		memset(buf, 0, sizeof(buf));
		while (send(ls->fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;
		ls->unwritable = true;
	} else if (writable && ls->unwritable) {
		while (recv(ls->peer_fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;
		ls->unwritable = false;
	}
}

void homa_lsock_sync(struct homa_lsock *ls)
{
	unsigned int ready = homa_sock_ready(ls->hsk);
	bool readable = ready & HOMA_SOCK_READABLE;
	bool writable = ready & HOMA_SOCK_WRITABLE;

	ls->syncs++;
	/* Most calls change nothing. */
	if (readable != ls->readable_set || writable == ls->unwritable)
		homa_lsock_resync(ls, readable, writable);
}

int homa_lsock_ensure_region(struct homa_lib *lib, struct homa_lsock *ls)
{
	uint8_t *region;
	uint64_t bytes;
	size_t want;
	int ret;

	if (ls->has_region)
		return 0;
	homa_sock_get_rcvbuf(ls->hsk, &region, &bytes);
	ls->has_region = region != NULL;
	if (region || ls->kapi)
		return 0; /* kernel rules: only the application's region */
	/* Room for many concurrent large messages (a pool that is too small
	 * stalls senders); the mapping reserves no memory until touched. */
	want = (size_t)lib->config.max_message_bytes * 4 + (1u << 20);
	if (want < HOMA_LIB_DEFAULT_REGION)
		want = HOMA_LIB_DEFAULT_REGION;
	want = (want + HOMA_BPAGE_SIZE - 1) & ~(size_t)(HOMA_BPAGE_SIZE - 1);
	region = mmap(NULL, want, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (region == MAP_FAILED)
		return -ENOMEM;
	ret = homa_sock_set_rcvbuf(ls->hsk, region, want);
	if (ret < 0) {
		munmap(region, want);
		return ret;
	}
	ls->own_region = region;
	ls->own_region_bytes = want;
	ls->has_region = true;
	return 0;
}

void homa_lsock_error(struct homa_lsock *ls, const char *msg)
{
	snprintf(ls->error_msg, sizeof(ls->error_msg), "%s", msg);
}
