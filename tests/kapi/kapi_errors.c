/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kapi_errors.c - the kernel module's errno for every call on a Homa
 * socket (spec 8 and 9), one table row each, through the kernel API only
 * (see kapi_util.h); the application's own receive region used as the
 * kernel uses it; shutdown waking a blocked recvmsg; other descriptors
 * untouched by the shim.
 *
 *   kapi_errors 4|6
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "kapi_util.h"

static int kapi_failures;

/* One row: the call returned ret with errno err; want 0 = success. */
static void kapi_row(const char *name, int want, long ret, int err)
{
	bool ok = want == 0 ? ret >= 0 : ret == -1 && err == want;

	printf("%s %-48s want %-16s got %ld %s\n", ok ? "ok  " : "FAIL", name,
	       want ? strerrorname_np(want) : "success", ret,
	       ret < 0 ? strerrorname_np(err) : "");
	if (!ok)
		kapi_failures++;
}

#define ROW(name, want, expr)                                                  \
	do {                                                                   \
		long ret_;                                                     \
		errno = 0;                                                     \
		ret_ = (long)(expr);                                           \
		kapi_row(name, want, ret_, errno);                             \
	} while (0)

static int kapi_fam;
static struct sockaddr_in6 kapi_dst;   /* the server socket */
static socklen_t kapi_dstlen;	       /* its length */
static struct sockaddr_in6 kapi_wrong; /* an address of the other family */
static socklen_t kapi_wronglen;	       /* its length */

/* sendmsg with each part given. */
static long kapi_sendmsg(int fd, const void *name, socklen_t namelen,
			 void *control, size_t controllen, const void *buf,
			 size_t len, size_t iovlen)
{
	static struct iovec iov[1100];
	struct msghdr msg = { (void *)name, namelen,	iov, iovlen,
			      control,	    controllen, 0 };

	for (size_t i = 0; i < iovlen; i++) {
		iov[i].iov_base = (void *)buf;
		iov[i].iov_len = i == 0 ? len : 0;
	}
	return sendmsg(fd, &msg, 0);
}

static long kapi_recvmsg(int fd, void *control, size_t controllen, int flags)
{
	struct msghdr msg = { NULL, 0, NULL, 0, control, controllen, 0 };

	return recvmsg(fd, &msg, flags);
}

static long kapi_setbuf(int fd, uint64_t start, size_t length)
{
	struct homa_rcvbuf_args rb = { start, length };

	return setsockopt(fd, IPPROTO_HOMA, SO_HOMA_RCVBUF, &rb, sizeof(rb));
}

static long kapi_getint(int fd, int level, int name, int *out)
{
	socklen_t len = sizeof(*out);

	return getsockopt(fd, level, name, out, &len);
}

static void kapi_rows_socket(void)
{
	int fd;

	ROW("socket SOCK_STREAM, IPPROTO_HOMA", EPROTONOSUPPORT,
	    socket(kapi_fam, SOCK_STREAM, IPPROTO_HOMA));
	ROW("socket AF_UNIX, IPPROTO_HOMA", EPROTONOSUPPORT,
	    socket(AF_UNIX, SOCK_DGRAM, IPPROTO_HOMA));
	fd = socket(kapi_fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    IPPROTO_HOMA);
	KAPI_CHECK(fd >= 0 && (fcntl(fd, F_GETFL) & O_NONBLOCK) &&
			   (fcntl(fd, F_GETFD) & FD_CLOEXEC),
		   "SOCK_NONBLOCK | SOCK_CLOEXEC not applied");
	close(fd);
}

static void kapi_rows_bind(struct kapi_sock *cli, uint16_t port)
{
	struct sockaddr_in6 a;
	socklen_t len = kapi_loopback(kapi_fam, 40000, &a);

	ROW("bind: address of the other family", EAFNOSUPPORT,
	    bind(cli->fd, (struct sockaddr *)&kapi_wrong, kapi_wronglen));
	ROW("bind: address too short", EINVAL,
	    bind(cli->fd, (struct sockaddr *)&a, len - 1));
	ROW("bind: port 40000 (>= 32768)", EINVAL,
	    bind(cli->fd, (struct sockaddr *)&a, len));
	kapi_loopback(kapi_fam, port, &a);
	ROW("bind: port of another socket", EADDRINUSE,
	    bind(cli->fd, (struct sockaddr *)&a, len));
	kapi_loopback(kapi_fam, 0, &a);
	ROW("bind: port 0 (no-op)", 0,
	    bind(cli->fd, (struct sockaddr *)&a, len));
	ROW("getpeername", ENOTCONN,
	    getpeername(cli->fd, (struct sockaddr *)&a, &len));
}

static void kapi_rows_sockopt(struct kapi_sock *cli, struct kapi_sock *srv)
{
	struct homa_rcvbuf_args rb;
	socklen_t len;
	int one = 1, v = -1, fresh = socket(kapi_fam, SOCK_DGRAM, IPPROTO_HOMA);
	size_t min = (size_t)sysconf(_SC_NPROCESSORS_CONF) * HOMA_BPAGE_SIZE +
		     2 * HOMA_MAX_MESSAGE_LENGTH;
	uint8_t *gone = mmap(NULL, 1 << 22, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *area = mmap(NULL, 16 << 20, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	munmap(gone, 1 << 22);
	ROW("setsockopt: unknown option 99", ENOPROTOOPT,
	    setsockopt(fresh, IPPROTO_HOMA, 99, &one, sizeof(one)));
	ROW("setsockopt SO_HOMA_SERVER: optlen 2", EINVAL,
	    setsockopt(fresh, IPPROTO_HOMA, SO_HOMA_SERVER, &one, 2));
	ROW("setsockopt SO_HOMA_SERVER: optval NULL", EFAULT,
	    setsockopt(fresh, IPPROTO_HOMA, SO_HOMA_SERVER, NULL, 4));
	ROW("setsockopt SO_HOMA_RCVBUF: optlen 8", EINVAL,
	    setsockopt(fresh, IPPROTO_HOMA, SO_HOMA_RCVBUF, &rb, 8));
	ROW("SO_HOMA_RCVBUF: start NULL", EFAULT,
	    kapi_setbuf(fresh, 0, 8 << 20));
	ROW("SO_HOMA_RCVBUF: start unmapped", EFAULT,
	    kapi_setbuf(fresh, (uintptr_t)gone, 8 << 20));
	ROW("SO_HOMA_RCVBUF: start not page-aligned", EINVAL,
	    kapi_setbuf(fresh, (uintptr_t)area + 8, (8 << 20) - 4096));
	ROW("SO_HOMA_RCVBUF: 1 MB (too small)", EINVAL,
	    kapi_setbuf(fresh, (uintptr_t)area, 1 << 20));
	ROW("SO_HOMA_RCVBUF: a second region", EINVAL,
	    kapi_setbuf(cli->fd, (uintptr_t)area, 8 << 20));
	/* The kernel's minimum: a bpage per CPU and two largest messages. */
	ROW("SO_HOMA_RCVBUF: 1 byte under the minimum", EINVAL,
	    kapi_setbuf(fresh, (uintptr_t)area, min - 1));
	/* Mapped at the start only: the kernel would take it and fail each
	 * message written past the hole (EFAULT); the shim refuses it. */
	munmap(area + (12 << 20), 4096);
	ROW("SO_HOMA_RCVBUF: a hole in the region (shim)", EFAULT,
	    kapi_setbuf(fresh, (uintptr_t)area, 16 << 20));
	ROW("SO_HOMA_RCVBUF: exactly the minimum", 0,
	    kapi_setbuf(fresh, (uintptr_t)area, min));
	ROW("getsockopt: unknown option 99", ENOPROTOOPT,
	    kapi_getint(cli->fd, IPPROTO_HOMA, 99, &v));
	len = 8;
	ROW("getsockopt SO_HOMA_RCVBUF: optlen 8", EINVAL,
	    getsockopt(cli->fd, IPPROTO_HOMA, SO_HOMA_RCVBUF, &rb, &len));
	len = sizeof(rb);
	ROW("getsockopt SO_HOMA_RCVBUF", 0,
	    getsockopt(cli->fd, IPPROTO_HOMA, SO_HOMA_RCVBUF, &rb, &len));
	KAPI_CHECK(len == sizeof(rb) && rb.start == (uintptr_t)cli->region &&
			   rb.length == KAPI_REGION_BYTES,
		   "SO_HOMA_RCVBUF gives %#llx %zu, registered %p %u",
		   (unsigned long long)rb.start, rb.length, cli->region,
		   KAPI_REGION_BYTES);
	KAPI_CHECK(kapi_getint(srv->fd, IPPROTO_HOMA, SO_HOMA_SERVER, &v) ==
				   0 &&
			   v == 1,
		   "a bound socket is a server (%d)", v);
	KAPI_CHECK(kapi_getint(cli->fd, IPPROTO_HOMA, SO_HOMA_SERVER, &v) ==
				   0 &&
			   v == 0,
		   "a client socket is no server (%d)", v);
	KAPI_CHECK(kapi_getint(cli->fd, SOL_SOCKET, SO_TYPE, &v) == 0 &&
			   v == SOCK_DGRAM,
		   "SO_TYPE %d", v);
	KAPI_CHECK(kapi_getint(cli->fd, SOL_SOCKET, SO_PROTOCOL, &v) == 0 &&
			   v == IPPROTO_HOMA,
		   "SO_PROTOCOL %d", v);
	KAPI_CHECK(kapi_getint(cli->fd, SOL_SOCKET, SO_DOMAIN, &v) == 0 &&
			   v == kapi_fam,
		   "SO_DOMAIN %d", v);
	close(fresh);
	munmap(area, 16 << 20);
}

static void kapi_rows_send(struct kapi_sock *cli)
{
	static uint8_t big[HOMA_MAX_MESSAGE_LENGTH + 1];
	struct homa_sendmsg_args a = { 0, 0, 0, 0 };
	int fd = cli->fd;

	ROW("sendmsg: no msg_name", EINVAL,
	    kapi_sendmsg(fd, NULL, 0, &a, 0, big, 100, 1));
	ROW("sendmsg: msg_controllen 24", EINVAL,
	    kapi_sendmsg(fd, &kapi_dst, kapi_dstlen, &a, sizeof(a), big, 100,
			 1));
	ROW("sendmsg: msg_control NULL", EFAULT,
	    kapi_sendmsg(fd, &kapi_dst, kapi_dstlen, NULL, 0, big, 100, 1));
	a.flags = 2;
	ROW("sendmsg: unknown flag 2", EINVAL,
	    kapi_sendmsg(fd, &kapi_dst, kapi_dstlen, &a, 0, big, 100, 1));
	a.flags = 0;
	a.reserved = 1;
	ROW("sendmsg: reserved 1", EINVAL,
	    kapi_sendmsg(fd, &kapi_dst, kapi_dstlen, &a, 0, big, 100, 1));
	a.reserved = 0;
	ROW("sendmsg: destination of the other family", EAFNOSUPPORT,
	    kapi_sendmsg(fd, &kapi_wrong, kapi_wronglen, &a, 0, big, 100, 1));
	ROW("sendmsg: msg_namelen too short", EINVAL,
	    kapi_sendmsg(fd, &kapi_dst, kapi_dstlen - 4, &a, 0, big, 100, 1));
	ROW("sendmsg: message of 0 bytes", EINVAL,
	    kapi_sendmsg(fd, &kapi_dst, kapi_dstlen, &a, 0, big, 0, 1));
	ROW("sendmsg: message of 1000001 bytes", EINVAL,
	    kapi_sendmsg(fd, &kapi_dst, kapi_dstlen, &a, 0, big, sizeof(big),
			 1));
	ROW("sendmsg: 1025 iovecs", EMSGSIZE,
	    kapi_sendmsg(fd, &kapi_dst, kapi_dstlen, &a, 0, big, 100, 1025));
	a.id = 12345;
	a.completion_cookie = 5;
	ROW("sendmsg: response with a cookie", EINVAL,
	    kapi_sendmsg(fd, &kapi_dst, kapi_dstlen, &a, 0, big, 100, 1));
	a.completion_cookie = 0;
	ROW("sendmsg: response to an unknown RPC (silent)", 0,
	    kapi_sendmsg(fd, &kapi_dst, kapi_dstlen, &a, 0, big, 100, 1));
	ROW("sendto (no homa_sendmsg_args)", EINVAL,
	    sendto(fd, big, 100, 0, (struct sockaddr *)&kapi_dst, kapi_dstlen));
	ROW("send", EINVAL, send(fd, big, 100, 0));
	ROW("write", EINVAL, write(fd, big, 100));
}

static void kapi_rows_recv(struct kapi_sock *cli, struct kapi_sock *noreg)
{
	struct homa_recvmsg_args a;
	char buf[16];
	int fd = cli->fd, fl;

	memset(&a, 0, sizeof(a));
	ROW("recvmsg: msg_control NULL", EINVAL, kapi_recvmsg(fd, NULL, 88, 0));
	ROW("recvmsg: msg_controllen 87", EINVAL, kapi_recvmsg(fd, &a, 87, 0));
	a.num_bpages = 17;
	ROW("recvmsg: num_bpages 17", EINVAL,
	    kapi_recvmsg(fd, &a, sizeof(a), 0));
	a.num_bpages = 0;
	a.reserved = 1;
	ROW("recvmsg: reserved 1", EINVAL, kapi_recvmsg(fd, &a, sizeof(a), 0));
	a.reserved = 0;
	ROW("recvmsg: no receive region", EINVAL,
	    kapi_recvmsg(noreg->fd, &a, sizeof(a), MSG_DONTWAIT));
	a.num_bpages = 1;
	a.bpage_offsets[0] = KAPI_REGION_BYTES + HOMA_BPAGE_SIZE;
	ROW("recvmsg: bpage outside the region", EINVAL,
	    kapi_recvmsg(fd, &a, sizeof(a), MSG_DONTWAIT));
	a.num_bpages = 1;
	a.bpage_offsets[0] = 5 * HOMA_BPAGE_SIZE;
	ROW("recvmsg: bpage that is free", EINVAL,
	    kapi_recvmsg(fd, &a, sizeof(a), MSG_DONTWAIT));
	memset(&a, 0, sizeof(a));
	a.id = 2;
	ROW("recvmsg: unknown private id", EINVAL,
	    kapi_recvmsg(fd, &a, sizeof(a), 0));
	a.id = 0;
	ROW("recvmsg: nothing ready, MSG_DONTWAIT", EAGAIN,
	    kapi_recvmsg(fd, &a, sizeof(a), MSG_DONTWAIT));
	fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	ROW("recvmsg: nothing ready, O_NONBLOCK", EAGAIN,
	    kapi_recvmsg(fd, &a, sizeof(a), 0));
	fcntl(fd, F_SETFL, fl);
	ROW("recv", EINVAL, recv(fd, buf, sizeof(buf), 0));
	ROW("recvfrom", EINVAL, recvfrom(fd, buf, sizeof(buf), 0, NULL, NULL));
	ROW("read", EINVAL, read(fd, buf, sizeof(buf)));
}

static void kapi_rows_ioctl(struct kapi_sock *cli)
{
	struct homa_abort_args ab;
	int n;

	memset(&ab, 0, sizeof(ab));
	ROW("ioctl: unknown request _IO('h', 0x99)", EINVAL,
	    ioctl(cli->fd, _IO('h', 0x99), NULL));
	ROW("ioctl: FIONREAD", EINVAL, ioctl(cli->fd, FIONREAD, &n));
	ROW("HOMAIOCINFO: argument NULL", EFAULT,
	    ioctl(cli->fd, HOMAIOCINFO, NULL));
	ab._pad1 = 1;
	ROW("HOMAIOCABORT: _pad1 1", EINVAL, ioctl(cli->fd, HOMAIOCABORT, &ab));
	ab._pad1 = 0;
	ab.id = 4242;
	ROW("HOMAIOCABORT: unknown id", EINVAL,
	    ioctl(cli->fd, HOMAIOCABORT, &ab));
}

/* A thread blocked in recvmsg until the socket is shut down. */
static void *kapi_blocked(void *arg)
{
	struct kapi_sock *s = arg;
	struct kapi_msg *m = malloc(sizeof(*m));

	kapi_recv(s, 0, 0, m);
	return m;
}

static void kapi_rows_shutdown(void)
{
	struct kapi_sock s;
	struct homa_sendmsg_args a = { 0, 0, 0, 0 };
	struct homa_info info;
	struct pollfd p;
	struct sockaddr_in6 any;
	socklen_t anylen = kapi_loopback(kapi_fam, 0, &any);
	struct kapi_msg *m;
	pthread_t th;
	uint64_t t0;
	uint8_t byte = 1;

	kapi_open(&s, kapi_fam, false);
	pthread_create(&th, NULL, kapi_blocked, &s);
	usleep(100000);
	t0 = kapi_ms();
	ROW("shutdown", 0, shutdown(s.fd, SHUT_RDWR));
	pthread_join(th, (void **)&m);
	printf("     (the blocked recvmsg returned after %llu ms)\n",
	       (unsigned long long)(kapi_ms() - t0));
	kapi_row("recvmsg blocked before shutdown", ESHUTDOWN, m->len, m->err);
	free(m);
	ROW("sendmsg after shutdown", ESHUTDOWN,
	    kapi_sendmsg(s.fd, &kapi_dst, kapi_dstlen, &a, 0, &byte, 1, 1));
	ROW("recvmsg after shutdown", ESHUTDOWN,
	    kapi_recvmsg(s.fd, &s.args, sizeof(s.args), 0));
	ROW("bind after shutdown", ESHUTDOWN,
	    bind(s.fd, (struct sockaddr *)&any, anylen));
	memset(&info, 0, sizeof(info));
	ROW("HOMAIOCINFO after shutdown", ESHUTDOWN,
	    ioctl(s.fd, HOMAIOCINFO, &info));
	p = (struct pollfd){ s.fd, POLLIN, 0 };
	KAPI_CHECK(poll(&p, 1, 0) == 1 && (p.revents & POLLIN),
		   "poll after shutdown: 0x%x, want POLLIN", p.revents);
	ROW("close", 0, close(s.fd));
	ROW("sendmsg on a closed descriptor", EBADF,
	    kapi_sendmsg(s.fd, &kapi_dst, kapi_dstlen, &a, 0, &byte, 1, 1));
	munmap(s.region, KAPI_REGION_BYTES);
}

/* The application's region, as the kernel uses it: a request of 200000
 * bytes lands in 3 whole bpages and a tail; HOMAIOCINFO's
 * bpool_avail_bytes counts what is lent out; returned pages come back. */
static void kapi_region(struct kapi_sock *cli, struct kapi_sock *srv)
{
	static uint8_t req[200000];
	struct homa_info info;
	struct kapi_msg m;
	uint64_t id = 0, before, held;

	memset(&info, 0, sizeof(info));
	KAPI_CHECK(ioctl(srv->fd, HOMAIOCINFO, &info) == 0, "HOMAIOCINFO");
	before = info.bpool_avail_bytes;
	KAPI_CHECK(before == KAPI_REGION_BYTES,
		   "bpool_avail_bytes %llu of a fresh %u-byte region",
		   (unsigned long long)before, KAPI_REGION_BYTES);
	kapi_fill(req, sizeof(req), 99);
	KAPI_CHECK(kapi_send(cli, &kapi_dst, kapi_dstlen, req, sizeof(req), &id,
			     0, 0) == 0,
		   "request: %s", strerror(errno));
	kapi_recv(srv, 0, 0, &m);
	KAPI_CHECK(m.len == sizeof(req), "request received: %zd %s", m.len,
		   strerror(m.err));
	KAPI_CHECK(srv->args.num_bpages == 4, "num_bpages %u, want 4",
		   srv->args.num_bpages);
	for (int i = 0; i < 4; i++)
		KAPI_CHECK(srv->args.bpage_offsets[i] < KAPI_REGION_BYTES &&
				   (i == 3 || srv->args.bpage_offsets[i] %
							      HOMA_BPAGE_SIZE ==
						      0),
			   "bpage %d at offset %u", i,
			   srv->args.bpage_offsets[i]);
	KAPI_CHECK(kapi_verify(srv, sizeof(req), 99, 0) < 0,
		   "the request's bytes in the region differ");
	ioctl(srv->fd, HOMAIOCINFO, &info);
	held = before - info.bpool_avail_bytes;
	printf("     (a 200000-byte message holds %llu bytes of the pool)\n",
	       (unsigned long long)held);
	/* 3 free bpages and 3392 bytes of the tail page the pool owns
	 * (spec 8); the whole tail page once its 10 ms lease has run out
	 * (a slow machine), as in the kernel. */
	KAPI_CHECK(held == sizeof(req) || held == 4 * HOMA_BPAGE_SIZE,
		   "bpool_avail_bytes fell by %llu for 200000 bytes",
		   (unsigned long long)held);
	/* Answer (the response is not read), then give the pages back. */
	KAPI_CHECK(kapi_send(srv, &m.peer, kapi_dstlen, req, 10, &m.id, 0, 0) ==
			   0,
		   "reply: %s", strerror(errno));
	kapi_recv(srv, 0, MSG_DONTWAIT, &m);
	KAPI_CHECK(m.len < 0 && m.err == EAGAIN && srv->args.num_bpages == 0,
		   "returning the pages: %zd %s", m.len, strerror(m.err));
	ioctl(srv->fd, HOMAIOCINFO, &info);
	KAPI_CHECK(info.bpool_avail_bytes == before,
		   "bpool_avail_bytes %llu after the return, %llu before",
		   (unsigned long long)info.bpool_avail_bytes,
		   (unsigned long long)before);
	kapi_recv(cli, 0, 0, &m);
	KAPI_CHECK(m.len == 10 && m.id == id, "response: %zd %s", m.len,
		   strerror(m.err));
	printf("ok   region: bpages, offsets, bpool_avail_bytes, return\n");
}

/* Descriptors that are not Homa go to libc untouched. */
static void kapi_passthrough(void)
{
	int p[2], u = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	char buf[8];

	KAPI_CHECK(pipe(p) == 0 && write(p[1], "abc", 3) == 3 &&
			   read(p[0], buf, sizeof(buf)) == 3,
		   "pipe read/write");
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	KAPI_CHECK(u >= 0 && bind(u, (struct sockaddr *)&a, sizeof(a)) == 0 &&
			   getsockname(u, (struct sockaddr *)&a, &len) == 0,
		   "udp socket");
	KAPI_CHECK(sendto(u, "xyz", 3, 0, (struct sockaddr *)&a, len) == 3 &&
			   recv(u, buf, sizeof(buf), 0) == 3,
		   "udp sendto/recv to itself: %s", strerror(errno));
	close(p[0]);
	close(p[1]);
	close(u);
	printf("ok   pipes and UDP sockets untouched\n");
}

int main(int argc, char **argv)
{
	struct kapi_sock srv, cli, noreg;
	uint16_t port;

	if (argc != 2) {
		fprintf(stderr, "usage: kapi_errors 4|6\n");
		return 2;
	}
	kapi_fam = kapi_family(argv[1]);
	kapi_open(&srv, kapi_fam, false);
	port = kapi_bind_any(&srv);
	kapi_open(&cli, kapi_fam, false);
	kapi_open(&noreg, kapi_fam, true);
	kapi_dstlen = kapi_loopback(kapi_fam, port, &kapi_dst);
	kapi_wronglen = kapi_loopback(kapi_fam == AF_INET ? AF_INET6 : AF_INET,
				      port, &kapi_wrong);
	kapi_rows_socket();
	kapi_rows_bind(&cli, port);
	kapi_rows_sockopt(&cli, &srv);
	kapi_rows_send(&cli);
	kapi_rows_recv(&cli, &noreg);
	kapi_rows_ioctl(&cli);
	kapi_rows_shutdown();
	kapi_region(&cli, &srv);
	kapi_passthrough();
	if (kapi_failures) {
		printf("%d rows failed\n", kapi_failures);
		return 1;
	}
	printf("ok   every row\n");
	return 0;
}
