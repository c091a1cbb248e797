/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kapi_echo.c - an echo server and its client, written only against the
 * Linux Homa module's socket API (see kapi_util.h), run under homa-run.
 *
 *   kapi_echo server 4|6        print the port, answer every request with
 *                               its own bytes (sent from the receive
 *                               region), late or never for requests
 *                               starting with 'D' or 'S'
 *   kapi_echo client 4|6 PORT   the client checks below; "ok NAME" each
 *   kapi_echo bench 4|6 PORT COUNT SIZE
 *                               COUNT sequential RPCs of SIZE bytes, each
 *                               checked; prints P50 and P99 like
 *                               homa-echo-client (whose server it can use)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "kapi_util.h"

#define KAPI_PENDING_MAX 64 /* delayed replies the server holds */

/* A reply the server sends later. */
struct kapi_pending {
	uint64_t id;		  /* server RPC id */
	struct sockaddr_in6 peer; /* client */
	uint8_t *buf;		  /* the request's bytes */
	size_t len;		  /* their number */
	uint64_t due_ms;	  /* when to answer */
};

static socklen_t kapi_addrlen(int family)
{
	return family == AF_INET ? sizeof(struct sockaddr_in)
				 : sizeof(struct sockaddr_in6);
}

/* Answer the request just received from the region itself. */
static void kapi_echo_reply(struct kapi_sock *s, const struct kapi_msg *m)
{
	struct homa_sendmsg_args args = { m->id, 0, 0, 0 };
	struct iovec iov[HOMA_MAX_BPAGES];
	struct msghdr msg = {
		(void *)&m->peer, kapi_addrlen(s->family), iov, 0, &args, 0, 0
	};

	for (size_t off = 0; off < (size_t)m->len; off += HOMA_BPAGE_SIZE) {
		size_t left = (size_t)m->len - off;

		iov[msg.msg_iovlen].iov_base =
			s->region +
			s->args.bpage_offsets[off >> HOMA_BPAGE_SHIFT];
		iov[msg.msg_iovlen++].iov_len =
			left < HOMA_BPAGE_SIZE ? left : HOMA_BPAGE_SIZE;
	}
	if (sendmsg(s->fd, &msg, 0) < 0)
		fprintf(stderr, "server: reply to rpc %llu (%zd bytes): %s\n",
			(unsigned long long)m->id, m->len, strerror(errno));
}

static int kapi_server(int family)
{
	struct kapi_pending pend[KAPI_PENDING_MAX];
	int npend = 0;
	struct kapi_sock s;
	struct kapi_msg m;

	kapi_open(&s, family, false);
	printf("%u\n", kapi_bind_any(&s));
	fflush(stdout);
	for (;;) {
		struct pollfd p = { s.fd, POLLIN, 0 };
		uint64_t now = kapi_ms();
		int timeout = 1000;

		for (int i = 0; i < npend; i++)
			if (pend[i].due_ms <= now + 1000)
				timeout = pend[i].due_ms > now
						  ? (int)(pend[i].due_ms - now)
						  : 0;
		poll(&p, 1, timeout);
		now = kapi_ms();
		for (int i = 0; i < npend; i++) {
			if (pend[i].due_ms > now)
				continue;
			if (kapi_send(&s, &pend[i].peer, kapi_addrlen(family),
				      pend[i].buf, pend[i].len, &pend[i].id, 0,
				      0) < 0)
				fprintf(stderr, "server: late reply: %s\n",
					strerror(errno));
			free(pend[i].buf);
			pend[i--] = pend[--npend];
		}
		if (getppid() == 1)
			return 0; /* the test script is gone */
		if (!(p.revents & POLLIN))
			continue;
		kapi_recv(&s, 0, MSG_DONTWAIT, &m);
		if (m.len < 0) {
			if (m.err == ESHUTDOWN)
				return 0;
			if (m.err != EAGAIN)
				fprintf(stderr, "server: recvmsg: %s\n",
					strerror(m.err));
			continue;
		}
		if (kapi_byte(&s, 0) == KAPI_SILENT)
			continue;
		if (kapi_byte(&s, 0) == KAPI_DELAY &&
		    npend < KAPI_PENDING_MAX) {
			struct kapi_pending *p2 = &pend[npend++];

			p2->id = m.id;
			p2->peer = m.peer;
			p2->len = (size_t)m.len;
			p2->buf = malloc(p2->len);
			for (size_t i = 0; i < p2->len; i++)
				p2->buf[i] = kapi_byte(&s, i);
			p2->due_ms = kapi_ms() + 200;
			continue;
		}
		kapi_echo_reply(&s, &m);
	}
}

/* ---- the client ---- */

static int kapi_fam;
static struct sockaddr_in6 kapi_srv;
static socklen_t kapi_srvlen;

/* Send a patterned request of len bytes (first byte: kind if nonzero). */
static uint64_t kapi_request(struct kapi_sock *s, size_t len, uint32_t seed,
			     uint8_t kind, uint64_t cookie, uint32_t flags)
{
	uint8_t *buf = malloc(len);
	uint64_t id = 0;

	KAPI_CHECK(buf, "malloc");
	kapi_fill(buf, len, seed);
	if (kind)
		buf[0] = kind;
	KAPI_CHECK(kapi_send(s, &kapi_srv, kapi_srvlen, buf, len, &id, cookie,
			     flags) == 0,
		   "sendmsg of %zu bytes: %s", len, strerror(errno));
	KAPI_CHECK(id != 0 && (id & 1) == 0, "request id %llu not even",
		   (unsigned long long)id);
	free(buf);
	return id;
}

/* 8 outstanding RPCs of 100 B, 20 kB and 1 MB, every byte checked, for
 * three rounds. */
static void kapi_test_echo8(void)
{
	static const size_t sizes[] = { 100, 20000, 1000000 };
	struct kapi_sock s;
	struct kapi_msg m;

	kapi_open(&s, kapi_fam, false);
	for (int round = 0; round < 3; round++) {
		uint64_t ids[8];
		bool done[8] = { false };

		for (int i = 0; i < 8; i++)
			ids[i] = kapi_request(&s, sizes[(i + round) % 3],
					      (uint32_t)(round * 8 + i), 0,
					      1000 + (uint64_t)i, 0);
		for (int n = 0; n < 8; n++) {
			int i;

			kapi_recv(&s, 0, 0, &m);
			KAPI_CHECK(m.len >= 0, "recvmsg: %s", strerror(m.err));
			for (i = 0; i < 8 && ids[i] != m.id; i++)
				;
			KAPI_CHECK(i < 8 && !done[i], "unexpected id %llu",
				   (unsigned long long)m.id);
			done[i] = true;
			KAPI_CHECK(m.cookie == 1000 + (uint64_t)i,
				   "cookie %llu for rpc %d",
				   (unsigned long long)m.cookie, i);
			KAPI_CHECK((size_t)m.len == sizes[(i + round) % 3],
				   "length %zd, sent %zu", m.len,
				   sizes[(i + round) % 3]);
			KAPI_CHECK(kapi_verify(&s, (size_t)m.len,
					       (uint32_t)(round * 8 + i),
					       0) < 0,
				   "rpc %d: byte %ld differs", i,
				   kapi_verify(&s, (size_t)m.len,
					       (uint32_t)(round * 8 + i), 0));
			KAPI_CHECK(m.peer.sin6_port == kapi_srv.sin6_port &&
					   m.peer.sin6_family == kapi_fam,
				   "response from the wrong address");
		}
	}
	close(s.fd);
	printf("ok echo8\n");
}

/* Private RPCs: never on a shared recvmsg or in poll; received by id. */
static void kapi_test_private(void)
{
	struct kapi_sock s;
	struct kapi_msg m;
	uint64_t ids[4];
	struct pollfd p;

	kapi_open(&s, kapi_fam, false);
	for (int i = 0; i < 4; i++)
		ids[i] = kapi_request(&s, 3000 + (size_t)i * 10000,
				      (uint32_t)(40 + i), 0, 7,
				      HOMA_SENDMSG_PRIVATE);
	usleep(100000); /* the responses are in */
	p = (struct pollfd){ s.fd, POLLIN, 0 };
	KAPI_CHECK(poll(&p, 1, 0) == 0 || !(p.revents & POLLIN),
		   "poll reports a private response");
	kapi_recv(&s, 0, MSG_DONTWAIT, &m);
	KAPI_CHECK(m.len < 0 && m.err == EAGAIN,
		   "shared recvmsg got %zd (%s), not EAGAIN", m.len,
		   strerror(m.err));
	for (int i = 3; i >= 0; i--) {
		kapi_recv(&s, ids[i], 0, &m);
		KAPI_CHECK(m.len == 3000 + i * 10000 && m.id == ids[i],
			   "private rpc %d: %zd (%s)", i, m.len,
			   strerror(m.err));
		KAPI_CHECK(kapi_verify(&s, (size_t)m.len, (uint32_t)(40 + i),
				       0) < 0,
			   "private rpc %d: bytes differ", i);
	}
	close(s.fd);
	printf("ok private\n");
}

/* poll, select and epoll: readable exactly when a response waits. */
static void kapi_test_readiness(void)
{
	struct epoll_event ev = { .events = EPOLLIN }, out;
	struct kapi_sock s;
	struct kapi_msg m;
	struct pollfd p;
	struct timeval tv = { 0, 0 };
	fd_set rd;
	int ep, n;

	kapi_open(&s, kapi_fam, false);
	ep = epoll_create1(EPOLL_CLOEXEC);
	KAPI_CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, s.fd, &ev) == 0, "epoll_ctl");
	p = (struct pollfd){ s.fd, POLLIN | POLLOUT, 0 };
	KAPI_CHECK(poll(&p, 1, 0) == 1 && p.revents == POLLOUT,
		   "idle socket: revents 0x%x, want POLLOUT", p.revents);
	/* poll */
	kapi_request(&s, 500, 50, KAPI_DELAY, 0, 0);
	p = (struct pollfd){ s.fd, POLLIN, 0 };
	KAPI_CHECK(poll(&p, 1, 50) == 0, "readable before the reply");
	KAPI_CHECK(poll(&p, 1, 3000) == 1 && (p.revents & POLLIN),
		   "not readable after the reply");
	kapi_recv(&s, 0, MSG_DONTWAIT, &m);
	KAPI_CHECK(m.len == 500, "recvmsg after poll: %zd %s", m.len,
		   strerror(m.err));
	KAPI_CHECK(poll(&p, 1, 0) == 0, "still readable once received");
	/* epoll */
	kapi_request(&s, 20000, 51, KAPI_DELAY, 0, 0);
	KAPI_CHECK(epoll_wait(ep, &out, 1, 50) == 0, "epoll: ready early");
	n = epoll_wait(ep, &out, 1, 3000);
	KAPI_CHECK(n == 1 && (out.events & EPOLLIN), "epoll: not ready");
	kapi_recv(&s, 0, MSG_DONTWAIT, &m);
	KAPI_CHECK(m.len == 20000 && kapi_verify(&s, 20000, 51, 1) < 0,
		   "recvmsg after epoll: %zd %s", m.len, strerror(m.err));
	/* select */
	kapi_request(&s, 100, 52, KAPI_DELAY, 0, 0);
	FD_ZERO(&rd);
	FD_SET(s.fd, &rd);
	KAPI_CHECK(select(s.fd + 1, &rd, NULL, NULL, &tv) == 0,
		   "select: ready early");
	tv.tv_sec = 3;
	FD_SET(s.fd, &rd);
	KAPI_CHECK(select(s.fd + 1, &rd, NULL, NULL, &tv) == 1,
		   "select: not ready");
	kapi_recv(&s, 0, 0, &m);
	KAPI_CHECK(m.len == 100, "recvmsg after select");
	close(ep);
	close(s.fd);
	printf("ok readiness\n");
}

/* HOMAIOCINFO with RPC records, then HOMAIOCABORT of those RPCs. */
static void kapi_test_info_abort(void)
{
	struct homa_rpc_info recs[4];
	struct homa_info info;
	struct homa_abort_args ab;
	struct sockaddr_in6 self;
	socklen_t selflen = sizeof(self);
	struct kapi_sock s;
	struct kapi_msg m;
	uint64_t id, id2, id3;
	int k;

	kapi_open(&s, kapi_fam, false);
	KAPI_CHECK(getsockname(s.fd, (struct sockaddr *)&self, &selflen) == 0,
		   "getsockname: %s", strerror(errno));
	KAPI_CHECK(self.sin6_family == kapi_fam &&
			   ntohs(self.sin6_port) >= HOMA_MIN_DEFAULT_PORT,
		   "getsockname: family %d port %u", self.sin6_family,
		   ntohs(self.sin6_port));
	id = kapi_request(&s, 5000, 60, KAPI_SILENT, 77, 0);
	usleep(50000);
	memset(&info, 0, sizeof(info));
	info.rpc_info = (uint64_t)(uintptr_t)recs;
	info.rpc_info_length = sizeof(recs);
	KAPI_CHECK(ioctl(s.fd, HOMAIOCINFO, &info) == 0, "HOMAIOCINFO: %s",
		   strerror(errno));
	KAPI_CHECK(info.num_rpcs == 1, "num_rpcs %u", info.num_rpcs);
	KAPI_CHECK(info.port == ntohs(self.sin6_port), "port %u, socket %u",
		   info.port, ntohs(self.sin6_port));
	KAPI_CHECK(info.bpool_avail_bytes == KAPI_REGION_BYTES,
		   "bpool_avail_bytes %llu of %u",
		   (unsigned long long)info.bpool_avail_bytes,
		   KAPI_REGION_BYTES);
	KAPI_CHECK(recs[0].id == id && recs[0].completion_cookie == 77 &&
			   recs[0].tx_length == 5000 &&
			   recs[0].peer.in6.sin6_port == kapi_srv.sin6_port &&
			   recs[0].peer.in6.sin6_family == kapi_fam,
		   "record: id %llu cookie %llu tx_length %d",
		   (unsigned long long)recs[0].id,
		   (unsigned long long)recs[0].completion_cookie,
		   recs[0].tx_length);
	/* Abort it with an errno: recvmsg reports it with id and cookie. */
	memset(&ab, 0, sizeof(ab));
	ab.id = id;
	ab.error = ECANCELED;
	KAPI_CHECK(ioctl(s.fd, HOMAIOCABORT, &ab) == 0, "HOMAIOCABORT: %s",
		   strerror(errno));
	kapi_recv(&s, 0, 0, &m);
	KAPI_CHECK(m.len < 0 && m.err == ECANCELED && m.id == id &&
			   m.cookie == 77,
		   "aborted rpc: %zd %s id %llu cookie %llu", m.len,
		   strerror(m.err), (unsigned long long)m.id,
		   (unsigned long long)m.cookie);
	/* error 0: discarded silently; then the id is unknown. */
	id2 = kapi_request(&s, 100, 61, KAPI_SILENT, 0, HOMA_SENDMSG_PRIVATE);
	ab.id = id2;
	ab.error = 0;
	KAPI_CHECK(ioctl(s.fd, HOMAIOCABORT, &ab) == 0, "abort silently");
	kapi_recv(&s, id2, MSG_DONTWAIT, &m);
	KAPI_CHECK(m.len < 0 && m.err == EINVAL, "discarded rpc: %zd %s", m.len,
		   strerror(m.err));
	KAPI_CHECK(ioctl(s.fd, HOMAIOCABORT, &ab) < 0 && errno == EINVAL,
		   "abort of an unknown id: %s", strerror(errno));
	/* id 0: every client RPC. */
	id2 = kapi_request(&s, 100, 62, KAPI_SILENT, 0, 0);
	id3 = kapi_request(&s, 100, 63, KAPI_SILENT, 0, 0);
	ab.id = 0;
	ab.error = ETIMEDOUT;
	KAPI_CHECK(ioctl(s.fd, HOMAIOCABORT, &ab) == 0, "abort all");
	for (k = 0; k < 2; k++) {
		kapi_recv(&s, 0, 0, &m);
		KAPI_CHECK(m.len < 0 && m.err == ETIMEDOUT &&
				   (m.id == id2 || m.id == id3),
			   "abort all: %zd %s", m.len, strerror(m.err));
	}
	info.rpc_info_length = 0;
	KAPI_CHECK(ioctl(s.fd, HOMAIOCINFO, &info) == 0 && info.num_rpcs == 0,
		   "RPCs left after abort: %u", info.num_rpcs);
	close(s.fd);
	printf("ok info_abort\n");
}

/* Several threads on one socket (private RPCs, shared bpage returns). */
static struct kapi_sock kapi_shared;
static pthread_mutex_t kapi_shared_lock = PTHREAD_MUTEX_INITIALIZER;

static void *kapi_thread(void *arg)
{
	int t = (int)(intptr_t)arg;
	/* Each thread has its own recvmsg args (bpages it returns). */
	struct kapi_sock mine;

	pthread_mutex_lock(&kapi_shared_lock);
	mine = kapi_shared;
	pthread_mutex_unlock(&kapi_shared_lock);
	memset(&mine.args, 0, sizeof(mine.args));
	for (int i = 0; i < 30; i++) {
		size_t len = 100 + (size_t)((t * 7919 + i * 104729) % 30000);
		uint32_t seed = (uint32_t)(t * 1000 + i);
		uint64_t id = kapi_request(&mine, len, seed, 0, 0,
					   HOMA_SENDMSG_PRIVATE);
		struct kapi_msg m;

		kapi_recv(&mine, id, 0, &m);
		KAPI_CHECK((size_t)m.len == len && m.id == id,
			   "thread %d rpc %d: %zd %s", t, i, m.len,
			   strerror(m.err));
		KAPI_CHECK(kapi_verify(&mine, len, seed, 0) < 0,
			   "thread %d rpc %d: bytes differ", t, i);
	}
	/* Give the last pages back. */
	{
		struct kapi_msg m;

		kapi_recv(&mine, 0, MSG_DONTWAIT, &m);
	}
	return NULL;
}

static void kapi_test_threads(void)
{
	pthread_t th[4];

	kapi_open(&kapi_shared, kapi_fam, false);
	for (int t = 0; t < 4; t++)
		pthread_create(&th[t], NULL, kapi_thread, (void *)(intptr_t)t);
	for (int t = 0; t < 4; t++)
		pthread_join(th[t], NULL);
	close(kapi_shared.fd);
	printf("ok threads\n");
}

/* dup, dup2, fcntl(F_DUPFD): one socket, several descriptors. */
static void kapi_test_dup(void)
{
	struct kapi_sock s, d;
	struct kapi_msg m;
	int fd2, fd3, fd4;

	kapi_open(&s, kapi_fam, false);
	fd2 = dup(s.fd);
	KAPI_CHECK(fd2 >= 0, "dup: %s", strerror(errno));
	fd3 = fcntl(s.fd, F_DUPFD_CLOEXEC, 100);
	KAPI_CHECK(fd3 >= 100, "F_DUPFD_CLOEXEC: %s", strerror(errno));
	fd4 = dup2(fd2, 200);
	KAPI_CHECK(fd4 == 200, "dup2: %s", strerror(errno));
	KAPI_CHECK(close(s.fd) == 0, "close of the first descriptor");
	d = s;
	for (int i = 0; i < 3; i++) {
		uint64_t id;

		d.fd = i == 0 ? fd2 : i == 1 ? fd3 : fd4;
		id = kapi_request(&d, 30000, (uint32_t)(70 + i), 0, 0, 0);
		kapi_recv(&d, 0, 0, &m);
		KAPI_CHECK(m.len == 30000 && m.id == id &&
				   kapi_verify(&d, 30000, (uint32_t)(70 + i),
					       0) < 0,
			   "rpc on duplicate %d: %zd %s", d.fd, m.len,
			   strerror(m.err));
	}
	KAPI_CHECK(close(fd2) == 0 && close(fd3) == 0, "close duplicates");
	kapi_recv(&d, 0, MSG_DONTWAIT, &m);
	KAPI_CHECK(m.len < 0 && m.err == EAGAIN,
		   "the last descriptor still works: %s", strerror(m.err));
	KAPI_CHECK(close(fd4) == 0, "close the last");
	KAPI_CHECK(fcntl(fd4, F_GETFD) < 0 && errno == EBADF,
		   "descriptor open after the last close");
	printf("ok dup\n");
}

/* sendmmsg and recvmmsg: one sendmsg/recvmsg per entry. */
static void kapi_test_mmsg(void)
{
	static uint8_t bufs[3][5000];
	struct homa_sendmsg_args sargs[3];
	struct homa_recvmsg_args rargs[3];
	struct mmsghdr v[3];
	struct iovec iov[3];
	struct sockaddr_in6 peers[3];
	struct kapi_sock s;
	int got = 0, n;

	kapi_open(&s, kapi_fam, false);
	memset(v, 0, sizeof(v));
	for (int i = 0; i < 3; i++) {
		kapi_fill(bufs[i], sizeof(bufs[i]), (uint32_t)(90 + i));
		sargs[i] = (struct homa_sendmsg_args){ 0, 500 + (uint64_t)i, 0,
						       0 };
		iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		v[i].msg_hdr =
			(struct msghdr){ &kapi_srv, kapi_srvlen, &iov[i], 1,
					 &sargs[i], 0,		 0 };
	}
	n = sendmmsg(s.fd, v, 3, 0);
	KAPI_CHECK(n == 3, "sendmmsg: %d %s", n, strerror(errno));
	for (int i = 0; i < 3; i++)
		KAPI_CHECK(sargs[i].id && !(sargs[i].id & 1),
			   "sendmmsg entry %d: id %llu", i,
			   (unsigned long long)sargs[i].id);
	memset(rargs, 0, sizeof(rargs));
	while (got < 3) {
		memset(v, 0, sizeof(v));
		for (int i = 0; i < 3; i++) {
			rargs[i].id = 0;
			v[i].msg_hdr = (struct msghdr){
				&peers[i], sizeof(peers[i]), NULL, 0,
				&rargs[i], sizeof(rargs[i]), 0
			};
		}
		n = recvmmsg(s.fd, v, 3, 0, NULL);
		KAPI_CHECK(n >= 1, "recvmmsg: %d %s", n, strerror(errno));
		for (int i = 0; i < n; i++) {
			int k = (int)(rargs[i].completion_cookie - 500);

			KAPI_CHECK(
				k >= 0 && k < 3 && v[i].msg_len == 5000 &&
					rargs[i].id == sargs[k].id,
				"recvmmsg entry %d: cookie %llu len %u", i,
				(unsigned long long)rargs[i].completion_cookie,
				v[i].msg_len);
			s.args = rargs[i];
			KAPI_CHECK(kapi_verify(&s, 5000, (uint32_t)(90 + k),
					       0) < 0,
				   "recvmmsg entry %d: bytes differ", i);
		}
		got += n;
	}
	close(s.fd);
	printf("ok mmsg\n");
}

/* close_range over Homa sockets and other descriptors: all closed, and
 * Homa keeps working for new sockets. */
static void kapi_test_close_range(void)
{
	struct kapi_sock a, b, c;
	struct kapi_msg m;
	int p[2];
	uint64_t id;

	kapi_open(&a, kapi_fam, false);
	KAPI_CHECK(pipe(p) == 0, "pipe");
	kapi_open(&b, kapi_fam, false);
	kapi_request(&b, 100, 80, 0, 0, 0); /* b's traffic is under way */
	KAPI_CHECK(close_range((unsigned int)a.fd, ~0u, 0) == 0,
		   "close_range: %s", strerror(errno));
	KAPI_CHECK(fcntl(a.fd, F_GETFD) < 0 && fcntl(b.fd, F_GETFD) < 0 &&
			   fcntl(p[0], F_GETFD) < 0 && fcntl(p[1], F_GETFD) < 0,
		   "close_range left descriptors open");
	kapi_open(&c, kapi_fam, false);
	id = kapi_request(&c, 20000, 81, 0, 0, 0);
	kapi_recv(&c, 0, 0, &m);
	KAPI_CHECK(m.len == 20000 && m.id == id &&
			   kapi_verify(&c, 20000, 81, 0) < 0,
		   "rpc after close_range: %zd %s", m.len, strerror(m.err));
	close(c.fd);
	printf("ok close_range\n");
}

static int kapi_u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int kapi_bench(long count, size_t size)
{
	uint64_t *lat = malloc((size_t)count * sizeof(*lat));
	struct kapi_sock s;
	struct kapi_msg m;
	struct timespec t0, t1;

	KAPI_CHECK(lat && count > 0 && size > 0 &&
			   size <= HOMA_MAX_MESSAGE_LENGTH,
		   "bench: bad count or size");
	kapi_open(&s, kapi_fam, false);
	for (long n = 0; n < count; n++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		kapi_request(&s, size, (uint32_t)n, 0, 0, 0);
		kapi_recv(&s, 0, 0, &m);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		KAPI_CHECK((size_t)m.len == size &&
				   kapi_verify(&s, size, (uint32_t)n, 0) < 0,
			   "bench rpc %ld: %zd %s", n, m.len, strerror(m.err));
		lat[n] = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000ull +
			 (uint64_t)t1.tv_nsec - (uint64_t)t0.tv_nsec;
	}
	qsort(lat, (size_t)count, sizeof(*lat), kapi_u64_cmp);
	printf("ok %ld rpcs, p50 %.1f us, p99 %.1f us\n", count,
	       (double)lat[count / 2] / 1000.0,
	       (double)lat[(count * 99) / 100] / 1000.0);
	free(lat);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "bench") == 0) {
		kapi_fam = kapi_family(argv[2]);
		kapi_srvlen = kapi_loopback(kapi_fam, (uint16_t)atoi(argv[3]),
					    &kapi_srv);
		return kapi_bench(atol(argv[4]), (size_t)atol(argv[5]));
	}
	if (argc == 3 && strcmp(argv[1], "server") == 0)
		return kapi_server(kapi_family(argv[2]));
	if (argc != 4 || strcmp(argv[1], "client") != 0) {
		fprintf(stderr, "usage: kapi_echo server 4|6 | client 4|6 "
				"PORT | bench 4|6 PORT COUNT SIZE\n");
		return 2;
	}
	kapi_fam = kapi_family(argv[2]);
	kapi_srvlen =
		kapi_loopback(kapi_fam, (uint16_t)atoi(argv[3]), &kapi_srv);
	kapi_test_echo8();
	kapi_test_private();
	kapi_test_readiness();
	kapi_test_info_abort();
	kapi_test_threads();
	kapi_test_dup();
	kapi_test_mmsg();
	kapi_test_close_range();
	return 0;
}
