/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * net_util.c - the network tests' shared helpers (see net_util.h): the
 * byte pattern, size mixes, the recording RPC server, the windowed client
 * and process utilities. The server and client read messages in place
 * from the socket's receive region through homa_recvmsg and give the
 * bpages back on their next call, as a zero-copy application would.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "net_util.h"

static uint64_t nt_mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Byte i of the stream of seed. */
static inline uint8_t nt_byte(uint64_t seed, size_t i, uint64_t *word,
			      size_t *word_idx)
{
	if (*word_idx != i / 8) {
		*word_idx = i / 8;
		*word = nt_mix64(seed * 0x100000001b3ull + *word_idx);
	}
	return (uint8_t)(*word >> ((i % 8) * 8));
}

void nt_fill(uint8_t *buf, uint64_t seed, size_t from, size_t to)
{
	uint64_t word = 0;
	size_t idx = (size_t)-1;

	for (size_t i = from; i < to; i++)
		buf[i - from] = nt_byte(seed, i, &word, &idx);
}

bool nt_check(const uint8_t *buf, uint64_t seed, size_t from, size_t to)
{
	uint64_t word = 0;
	size_t idx = (size_t)-1;

	for (size_t i = from; i < to; i++)
		if (buf[i - from] != nt_byte(seed, i, &word, &idx))
			return false;
	return true;
}

/* A length in [lo, hi] drawn from h. */
static uint32_t nt_range(uint64_t h, uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(h % ((uint64_t)hi - lo + 1));
}

static uint32_t nt_one_size(enum nt_mix mix, uint64_t h)
{
	uint32_t u = (uint32_t)(h % 1000);

	h >>= 10;
	switch (mix) {
	case NT_MIX_LOOPBACK:
		if (u < 20)
			return nt_range(h, 100001, HOMA_MAX_MESSAGE_LENGTH);
		if (u < 100)
			return nt_range(h, 1001, 100000);
		return nt_range(h, 1, 1000);
	case NT_MIX_LOSS:
		if (u < 10)
			return nt_range(h, 65537, HOMA_MAX_MESSAGE_LENGTH);
		if (u < 100)
			return nt_range(h, 1001, 65536);
		return nt_range(h, 16, 1000);
	case NT_MIX_LARGE:
		return nt_range(h, 100000, HOMA_MAX_MESSAGE_LENGTH);
	default:
		return nt_range(h, 16, 2000);
	}
}

void nt_sizes(enum nt_mix mix, uint32_t serial, uint32_t *req_len,
	      uint32_t *resp_len)
{
	/* The first serials pin the extremes of the range. */
	static const uint32_t pinned[4][2] = {
		{ 1, 1 },
		{ HOMA_MAX_MESSAGE_LENGTH, HOMA_MAX_MESSAGE_LENGTH },
		{ 16, HOMA_MAX_MESSAGE_LENGTH },
		{ HOMA_MAX_MESSAGE_LENGTH, 1 },
	};

	if (mix == NT_MIX_LOOPBACK && serial < 4) {
		*req_len = pinned[serial][0];
		*resp_len = pinned[serial][1];
		return;
	}
	*req_len = nt_one_size(mix, nt_mix64(serial * 2ull));
	*resp_len = nt_one_size(mix, nt_mix64(serial * 2ull + 1));
	if (mix != NT_MIX_LOOPBACK && *req_len < sizeof(struct nt_req))
		*req_len = sizeof(struct nt_req);
}

void nt_build_request(uint8_t *buf, uint32_t serial, uint32_t req_len,
		      uint32_t resp_len)
{
	struct nt_req h = { NT_MAGIC, serial, resp_len, req_len };

	if (req_len < sizeof(h)) {
		nt_fill(buf, (uint64_t)serial << 1, 0, req_len);
		return;
	}
	memcpy(buf, &h, sizeof(h));
	nt_fill(buf + sizeof(h), (uint64_t)serial << 1, sizeof(h), req_len);
}

void nt_msg_copy(const struct nt_msg *m, uint8_t *dst, size_t from, size_t to)
{
	while (from < to) {
		size_t in_page = from & (HOMA_BPAGE_SIZE - 1);
		size_t n = HOMA_BPAGE_SIZE - in_page;

		if (n > to - from)
			n = to - from;
		memcpy(dst,
		       m->region + m->offsets[from >> HOMA_BPAGE_SHIFT] +
			       in_page,
		       n);
		dst += n;
		from += n;
	}
}

/* Compare bytes [from, to) of message m with the pattern of seed. */
static bool nt_msg_check(const struct nt_msg *m, uint64_t seed, size_t from,
			 size_t to)
{
	while (from < to) {
		size_t in_page = from & (HOMA_BPAGE_SIZE - 1);
		size_t n = HOMA_BPAGE_SIZE - in_page;

		if (n > to - from)
			n = to - from;
		if (!nt_check(m->region + m->offsets[from >> HOMA_BPAGE_SHIFT] +
				      in_page,
			      seed, from, from + n))
			return false;
		from += n;
	}
	return true;
}

static uint8_t *nt_region(int fd)
{
	struct homa_rcvbuf_args a;
	socklen_t len = sizeof(a);

	if (homa_getsockopt(fd, IPPROTO_HOMA, SO_HOMA_RCVBUF, &a, &len) < 0)
		return NULL;
	return (uint8_t *)(uintptr_t)a.start;
}

/* One receive that first gives back the bpages in *held. */
static ssize_t nt_recv(int fd, struct homa_recvmsg_args *args,
		       struct homa_recvmsg_args *held, uint64_t id, int flags,
		       struct sockaddr_in6 *peer, socklen_t *peer_len)
{
	struct msghdr msg;
	ssize_t n;

	memset(args, 0, sizeof(*args));
	args->id = id;
	args->num_bpages = held->num_bpages;
	memcpy(args->bpage_offsets, held->bpage_offsets,
	       sizeof(args->bpage_offsets));
	memset(&msg, 0, sizeof(msg));
	msg.msg_name = peer;
	msg.msg_namelen = peer ? sizeof(*peer) : 0;
	msg.msg_control = args;
	msg.msg_controllen = sizeof(*args);
	n = homa_recvmsg(fd, &msg, flags);
	held->num_bpages = 0;
	if (n >= 0) {
		held->num_bpages = args->num_bpages;
		memcpy(held->bpage_offsets, args->bpage_offsets,
		       sizeof(held->bpage_offsets));
	}
	if (peer_len)
		*peer_len = msg.msg_namelen;
	return n;
}

int nt_server_init(struct nt_server *s, int fd)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->seen = calloc(NT_MAX_SERIAL / 8, 1);
	return s->seen ? 0 : -1;
}

void nt_server_free(struct nt_server *s)
{
	free(s->seen);
	s->seen = NULL;
}

/* Handle one request; fills resp and returns its length. */
static size_t nt_handle(struct nt_server *s, const struct nt_msg *m,
			uint8_t *resp, pthread_mutex_t *lock)
{
	struct nt_req h;
	bool dup = false, ok;

	if (m->length < sizeof(h)) {
		nt_msg_copy(m, resp, 0, m->length);
		if (lock)
			pthread_mutex_lock(lock);
		s->rep.tiny++;
		if (lock)
			pthread_mutex_unlock(lock);
		return m->length;
	}
	nt_msg_copy(m, (uint8_t *)&h, 0, sizeof(h));
	if (h.magic != NT_MAGIC || h.req_len != m->length || h.resp_len == 0 ||
	    h.resp_len > HOMA_MAX_MESSAGE_LENGTH ||
	    (h.serial >= NT_MAX_SERIAL && h.serial != NT_REPORT_SERIAL)) {
		if (lock)
			pthread_mutex_lock(lock);
		s->rep.garbage++;
		if (lock)
			pthread_mutex_unlock(lock);
		resp[0] = 0;
		return 1;
	}
	if (lock)
		pthread_mutex_lock(lock);
	if (h.serial == NT_REPORT_SERIAL) {
		memcpy(resp, &s->rep, sizeof(s->rep));
		if (lock)
			pthread_mutex_unlock(lock);
		return sizeof(s->rep);
	}
	if (s->on_request)
		s->on_request(s, h.serial);
	s->rep.delivered++;
	if (s->seen[h.serial / 8] & (1u << (h.serial % 8))) {
		s->rep.dups++;
		dup = true;
	} else {
		s->seen[h.serial / 8] |= (uint8_t)(1u << (h.serial % 8));
		s->rep.distinct++;
	}
	if (lock)
		pthread_mutex_unlock(lock);
	ok = nt_msg_check(m, (uint64_t)h.serial << 1, sizeof(h), m->length);
	if (!ok || dup) {
		fprintf(stderr, "server: request %u %s\n", h.serial,
			dup ? "delivered twice" : "corrupt");
		if (!ok) {
			if (lock)
				pthread_mutex_lock(lock);
			s->rep.corrupt++;
			if (lock)
				pthread_mutex_unlock(lock);
		}
	}
	nt_fill(resp, ((uint64_t)h.serial << 1) | 1, 0, h.resp_len);
	return h.resp_len;
}

int nt_serve(struct nt_server *s, uint64_t max_requests, void *lock)
{
	struct homa_recvmsg_args args, held = { 0 };
	uint8_t *resp = malloc(HOMA_MAX_MESSAGE_LENGTH), *region = NULL;
	uint64_t handled = 0;
	int err = 0;

	if (!resp)
		return ENOMEM;
	while (!max_requests || handled < max_requests) {
		struct sockaddr_in6 peer;
		socklen_t peer_len;
		struct nt_msg m;
		size_t rlen;
		ssize_t n =
			nt_recv(s->fd, &args, &held, 0, 0, &peer, &peer_len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			break;
		}
		if (!region)
			region = nt_region(s->fd);
		m.region = region;
		m.offsets = held.bpage_offsets;
		m.length = (size_t)n;
		rlen = nt_handle(s, &m, resp, lock);
		if (homa_reply(s->fd, resp, rlen, (struct sockaddr *)&peer,
			       peer_len, args.id) < 0 &&
		    errno != ESHUTDOWN)
			fprintf(stderr, "server: homa_reply: %s\n",
				strerror(errno));
		handled++;
	}
	free(resp);
	return err;
}

/* One outstanding client RPC. */
struct nt_slot {
	uint64_t id;	   /* RPC id, 0 = free */
	uint32_t serial;   /* request serial */
	uint32_t req_len;  /* request bytes */
	uint32_t resp_len; /* expected response bytes */
};

static int nt_client_fail(struct nt_client *c, int err, const char *fmt, ...)
{
	va_list ap;

	c->error = err ? err : EIO;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return -1;
}

static int nt_client_send(struct nt_client *c, struct nt_slot *slot, int index,
			  uint8_t *buf, uint32_t serial)
{
	uint32_t req_len, resp_len;

	nt_sizes(c->mix, serial, &req_len, &resp_len);
	if (req_len < sizeof(struct nt_req))
		resp_len = req_len;
	nt_build_request(buf, serial, req_len, resp_len);
	slot->serial = serial;
	slot->req_len = req_len;
	slot->resp_len = resp_len;
	if (homa_request(c->fd, buf, req_len, (struct sockaddr *)&c->server,
			 c->server_len, &slot->id, (uint64_t)index + 1,
			 c->use_private ? HOMA_SENDMSG_PRIVATE : 0) < 0)
		return nt_client_fail(c, errno, "request %u: %s", serial,
				      strerror(errno));
	return 0;
}

/* Check the response in args/held against its slot. */
static int nt_client_check(struct nt_client *c, struct nt_slot *slot,
			   const struct nt_msg *m)
{
	uint64_t seed = ((uint64_t)slot->serial << 1) |
			(slot->req_len < sizeof(struct nt_req) ? 0 : 1);

	if (m->length != slot->resp_len)
		return nt_client_fail(c, EIO, "response %u: %zu bytes, not %u",
				      slot->serial, m->length, slot->resp_len);
	if (!nt_msg_check(m, seed, 0, m->length))
		return nt_client_fail(c, EIO, "response %u: bytes differ",
				      slot->serial);
	c->done++;
	c->tiny += slot->req_len < sizeof(struct nt_req);
	c->bytes += slot->req_len + m->length;
	if (slot->req_len > c->max_req)
		c->max_req = slot->req_len;
	if (slot->resp_len > c->max_resp)
		c->max_resp = slot->resp_len;
	if (!c->min_req || slot->req_len < c->min_req)
		c->min_req = slot->req_len;
	if (!c->min_resp || slot->resp_len < c->min_resp)
		c->min_resp = slot->resp_len;
	slot->id = 0;
	return 0;
}

/* Receive one response (any, or slot `want` when private). */
static int nt_client_recv(struct nt_client *c, struct nt_slot *slots, int want,
			  struct homa_recvmsg_args *held, uint8_t **region)
{
	struct homa_recvmsg_args args;
	struct nt_msg m;
	ssize_t n;
	int k;

	n = nt_recv(c->fd, &args, held, want >= 0 ? slots[want].id : 0, 0, NULL,
		    NULL);
	if (n < 0)
		return nt_client_fail(c, errno, "recv (id %llu): %s",
				      (unsigned long long)args.id,
				      strerror(errno));
	k = (int)args.completion_cookie - 1;
	if (k < 0 || k >= c->window || slots[k].id != args.id)
		return nt_client_fail(
			c, EIO,
			"response id %llu cookie %llu "
			"matches no request",
			(unsigned long long)args.id,
			(unsigned long long)args.completion_cookie);
	if (!*region)
		*region = nt_region(c->fd);
	m.region = *region;
	m.offsets = held->bpage_offsets;
	m.length = (size_t)n;
	return nt_client_check(c, &slots[k], &m);
}

int nt_client_run(struct nt_client *c)
{
	struct nt_slot slots[NT_MAX_WINDOW] = { 0 };
	struct homa_recvmsg_args held = { 0 }, args;
	uint8_t *buf = malloc(HOMA_MAX_MESSAGE_LENGTH), *region = NULL;
	uint32_t next = 0, outstanding = 0;
	int ret = 0, oldest = 0;

	if (!buf || c->window < 1 || c->window > NT_MAX_WINDOW)
		return nt_client_fail(c, EINVAL, "bad client parameters");
	while (ret == 0 && (next < c->count || outstanding)) {
		for (int k = 0; next < c->count && k < c->window; k++) {
			if (slots[k].id)
				continue;
			ret = nt_client_send(c, &slots[k], k, buf,
					     c->first_serial + next);
			if (ret < 0)
				break;
			next++;
			outstanding++;
		}
		if (ret < 0)
			break;
		if (c->use_private) {
			while (!slots[oldest].id)
				oldest = (oldest + 1) % c->window;
		}
		ret = nt_client_recv(c, slots, c->use_private ? oldest : -1,
				     &held, &region);
		outstanding--;
		if (!c->quiet && c->done && c->done % 2000 == 0)
			printf("  %u rpcs done\n", c->done);
	}
	if (held.num_bpages) /* give the last bpages back */
		nt_recv(c->fd, &args, &held, 0, MSG_DONTWAIT, NULL, NULL);
	free(buf);
	return ret;
}

int nt_report_get(struct nt_client *c, struct nt_report *rep)
{
	struct nt_req h = { NT_MAGIC, NT_REPORT_SERIAL, sizeof(*rep),
			    sizeof(h) };
	uint64_t id = 0;
	ssize_t n;

	if (homa_request(c->fd, &h, sizeof(h), (struct sockaddr *)&c->server,
			 c->server_len, &id, 0, HOMA_SENDMSG_PRIVATE) < 0)
		return -1;
	n = homa_receive(c->fd, rep, sizeof(*rep), 0, NULL, NULL, &id, NULL);
	if (n != (ssize_t)sizeof(*rep)) {
		if (n >= 0)
			errno = EIO;
		return -1;
	}
	return 0;
}

socklen_t nt_addr(struct sockaddr_in6 *sa, const char *host, uint16_t port)
{
	struct sockaddr_in *in = (struct sockaddr_in *)sa;

	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		return sizeof(*in);
	}
	if (inet_pton(AF_INET6, host, &sa->sin6_addr) == 1) {
		sa->sin6_family = AF_INET6;
		sa->sin6_port = htons(port);
		return sizeof(*sa);
	}
	return 0;
}

int nt_bind_any(int fd, int family, int lo, int hi)
{
	struct sockaddr_in6 sa;
	int port = lo + (int)((unsigned)getpid() * 7919u % (unsigned)(hi - lo));

	for (int tries = 0; tries < 500; tries++) {
		port = port + 1 >= hi ? lo : port + 1;
		memset(&sa, 0, sizeof(sa));
		sa.sin6_family = (sa_family_t)family;
		sa.sin6_port = htons((uint16_t)port);
		if (homa_bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return port;
		if (errno != EADDRINUSE)
			return -1;
	}
	return -1;
}

uint64_t nt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t nt_run_delay_ns(int pid)
{
	char dir[64];
	struct dirent *e;
	uint64_t sum = 0;
	DIR *d;

	if (pid)
		snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
	else
		snprintf(dir, sizeof(dir), "/proc/self/task");
	d = opendir(dir);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		unsigned long long run, wait;
		char path[400];
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/schedstat", dir, e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue; /* the thread is gone, or no schedstat */
		if (fscanf(f, "%llu %llu", &run, &wait) == 2)
			sum += wait;
		fclose(f);
	}
	closedir(d);
	return sum;
}

double nt_waited_ms(uint64_t since_ns)
{
	uint64_t now_ns = nt_run_delay_ns(0);

	return now_ns > since_ns ? (double)(now_ns - since_ns) / 1e6 : 0;
}

/* Whether thread tid of this process sleeps in a system call that is
 * not a futex wait (field 3 of its stat is S; its syscall file starts
 * with the call's number, or "running"). */
static bool nt_blocked(pid_t tid)
{
	char path[64], buf[512], *p;
	bool sleeping = false;
	long nr = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		sleeping = p[1] == ' ' && p[2] == 'S';
	fclose(f);
	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	f = fopen(path, "r");
	if (!f)
		return sleeping; /* no syscall file: the state must do */
	if (fscanf(f, "%ld", &nr) != 1)
		nr = -1; /* "running" */
	fclose(f);
	return sleeping && nr >= 0 && nr != SYS_futex;
}

bool nt_await_blocked(pid_t tid, int max_ms)
{
	for (int i = 0; i < max_ms; i++) {
		if (nt_blocked(tid) && (usleep(2000), nt_blocked(tid)))
			return true;
		usleep(1000);
	}
	return false;
}

void nt_skip(const char *fmt, ...)
{
	const char *req = getenv("HOMA_REQUIRE_ROOT");
	bool must = req && strcmp(req, "1") == 0;
	va_list ap;

	printf(must ? "FAIL: cannot run, but HOMA_REQUIRE_ROOT=1: " : "SKIP: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(must ? 1 : NT_SKIP);
}

void nt_need_root(const char *what)
{
	if (geteuid() != 0)
		nt_skip("%s needs root (CAP_NET_RAW / CAP_NET_ADMIN)", what);
}

void nt_private_net(void)
{
	struct ifreq ifr;
	int fd;

	if (geteuid() != 0)
		nt_skip("raw sockets and a network namespace need root");
	if (unshare(CLONE_NEWNET) < 0)
		nt_skip("cannot make a network namespace: %s", strerror(errno));
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		nt_fail("socket: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		nt_fail("SIOCGIFFLAGS lo: %s", strerror(errno));
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		nt_fail("SIOCSIFFLAGS lo: %s", strerror(errno));
	close(fd);
}

void nt_use_datapath(const char *name)
{
	if (homa_config_param("datapath", name) < 0) {
		fprintf(stderr, "unknown datapath %s: %s\n", name,
			homa_last_error());
		exit(2);
	}
}

void nt_patient_timeouts(void)
{
	setenv("HOMA_TIMEOUT_TICKS", "1000", 1);
}

long nt_rss_kb(int pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/status", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

struct nt_metric_find {
	const char *name;   /* wanted */
	const char *prefix; /* for printing */
	uint64_t value;	    /* found */
};

static void nt_metric_cb(void *arg, const char *name, uint64_t value)
{
	struct nt_metric_find *f = arg;

	if (f->name && strcmp(f->name, name) == 0)
		f->value = value;
	if (!f->name && value &&
	    (!f->prefix || strncmp(name, f->prefix, strlen(f->prefix)) == 0))
		printf("  %-28s %llu\n", name, (unsigned long long)value);
}

uint64_t nt_metric(const char *name)
{
	struct nt_metric_find f = { name, NULL, 0 };

	homa_metrics_read(nt_metric_cb, &f);
	return f.value;
}

void nt_print_metrics(const char *prefix)
{
	struct nt_metric_find f = { NULL, prefix, 0 };

	homa_metrics_read(nt_metric_cb, &f);
}

void nt_fail(const char *fmt, ...)
{
	va_list ap;

	printf("FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(1);
}

void nt_close(int fd)
{
	if (homa_close(fd) < 0)
		nt_fail("homa_close(%d): %s", fd, strerror(errno));
}

void nt_shutdown(int fd)
{
	if (homa_shutdown(fd, SHUT_RDWR) < 0)
		nt_fail("homa_shutdown(%d): %s", fd, strerror(errno));
}

pid_t nt_fork_server(int (*serve)(int fd), int *port)
{
	int pfd[2];
	pid_t child;

	if (pipe(pfd) < 0)
		nt_fail("pipe: %s", strerror(errno));
	child = fork();
	if (child < 0)
		nt_fail("fork: %s", strerror(errno));
	if (child == 0) {
		int fd, p;

		prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed test ends it */
		fd = homa_socket(AF_INET);
		p = fd < 0 ? -1 : nt_bind_any(fd, AF_INET, 20000, 30000);
		if (write(pfd[1], &p, sizeof(p)) != sizeof(p) || p < 0)
			_exit(2);
		_exit(serve(fd));
	}
	close(pfd[1]);
	if (read(pfd[0], port, sizeof(*port)) != sizeof(*port) || *port < 0)
		nt_fail("the server process could not bind");
	close(pfd[0]);
	return child;
}
