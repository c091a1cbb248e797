/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kapi_fork.c - process life under the shim, through the kernel API only
 * (see kapi_util.h): a forked child gets EBADF on the Homa sockets it
 * inherited (close releases them) and can open its own; an exec'd image
 * still has the shim (LD_PRELOAD) and starts with no Homa socket (the
 * inherited descriptors are closed); the parent's sockets keep working.
 *
 *   kapi_fork 4|6
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kapi_util.h"

static int kapi_fam;
static struct sockaddr_in6 kapi_dst;
static socklen_t kapi_dstlen;

/* The parent's server: echo every request until shut down. */
static void *kapi_serve(void *arg)
{
	struct kapi_sock *s = arg;
	uint8_t *buf = malloc(HOMA_MAX_MESSAGE_LENGTH);
	struct kapi_msg m;

	KAPI_CHECK(buf, "malloc");
	for (;;) {
		kapi_recv(s, 0, 0, &m);
		if (m.len < 0 && m.err == ESHUTDOWN) {
			free(buf);
			return NULL;
		}
		if (m.len < 0)
			continue;
		for (size_t i = 0; i < (size_t)m.len; i++)
			buf[i] = kapi_byte(s, i);
		if (kapi_send(s, &m.peer, kapi_dstlen, buf, (size_t)m.len,
			      &m.id, 0, 0) < 0)
			fprintf(stderr, "server: reply: %s\n", strerror(errno));
	}
}

/* One RPC of len bytes on s, checked byte for byte. */
static void kapi_rpc(struct kapi_sock *s, size_t len, uint32_t seed,
		     const char *who)
{
	uint8_t *buf = malloc(len);
	struct kapi_msg m;
	uint64_t id = 0;

	kapi_fill(buf, len, seed);
	KAPI_CHECK(kapi_send(s, &kapi_dst, kapi_dstlen, buf, len, &id, 0,
			     HOMA_SENDMSG_PRIVATE) == 0,
		   "%s: sendmsg: %s", who, strerror(errno));
	kapi_recv(s, id, 0, &m);
	KAPI_CHECK((size_t)m.len == len && kapi_verify(s, len, seed, 0) < 0,
		   "%s: rpc: %zd %s", who, m.len, strerror(m.err));
	free(buf);
}

static void kapi_ebadf(const char *name, long ret)
{
	KAPI_CHECK(ret == -1 && errno == EBADF,
		   "child: %s on an inherited socket: %ld %s, want EBADF", name,
		   ret, strerror(errno));
}

/* The forked child: inherited sockets refuse, its own work. */
static int kapi_child(struct kapi_sock *cli, struct kapi_sock *srv)
{
	struct homa_info info;
	struct kapi_sock mine;
	int one = 1;

	memset(&info, 0, sizeof(info));
	errno = 0;
	kapi_ebadf("sendmsg",
		   kapi_send(cli, &kapi_dst, kapi_dstlen, "x", 1, NULL, 0, 0));
	kapi_ebadf(
		"recvmsg",
		recvmsg(cli->fd,
			&(struct msghdr){ .msg_control = &cli->args,
					  .msg_controllen = sizeof(cli->args) },
			0));
	kapi_ebadf("ioctl", ioctl(cli->fd, HOMAIOCINFO, &info));
	kapi_ebadf("setsockopt", setsockopt(srv->fd, IPPROTO_HOMA,
					    SO_HOMA_SERVER, &one, sizeof(one)));
	kapi_ebadf("dup", dup(cli->fd));
	KAPI_CHECK(close(cli->fd) == 0 && close(srv->fd) == 0,
		   "child: close of inherited sockets: %s", strerror(errno));
	kapi_open(&mine, kapi_fam, false);
	kapi_rpc(&mine, 50000, 5, "child");
	kapi_rpc(&mine, 1000000, 6, "child");
	close(mine.fd);
	return 0;
}

/* The exec'd image: the shim is there, the old descriptor is not. */
static int kapi_exec_check(int fd, const char *port)
{
	const char *pre = getenv("LD_PRELOAD");
	struct kapi_sock mine;

	KAPI_CHECK(fcntl(fd, F_GETFD) < 0 && errno == EBADF,
		   "exec: Homa descriptor %d survived exec", fd);
	KAPI_CHECK(pre && strstr(pre, "libhoma-preload"),
		   "exec: LD_PRELOAD lost (%s)", pre ? pre : "unset");
	kapi_dstlen = kapi_loopback(kapi_fam, (uint16_t)atoi(port), &kapi_dst);
	kapi_open(&mine, kapi_fam, false);
	kapi_rpc(&mine, 20000, 7, "exec");
	close(mine.fd);
	return 0;
}

static void kapi_wait(pid_t pid, const char *what)
{
	int status;

	KAPI_CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
	KAPI_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		   "%s failed (status %#x)", what, status);
}

int main(int argc, char **argv)
{
	struct kapi_sock srv, srv2, cli;
	char fdtext[16], porttext[16];
	pthread_t th, th2;
	uint16_t port, port2;
	pid_t pid;

	if (argc == 5 && strcmp(argv[1], "exec-check") == 0) {
		kapi_fam = kapi_family(argv[2]);
		return kapi_exec_check(atoi(argv[3]), argv[4]);
	}
	if (argc != 2) {
		fprintf(stderr, "usage: kapi_fork 4|6\n");
		return 2;
	}
	kapi_fam = kapi_family(argv[1]);
	kapi_open(&srv, kapi_fam, false);
	port = kapi_bind_any(&srv);
	kapi_dstlen = kapi_loopback(kapi_fam, port, &kapi_dst);
	pthread_create(&th, NULL, kapi_serve, &srv);
	/* The exec'd image gets a server socket of its own: a new image
	 * starts libhoma's id sequence afresh (unseeded random()), and a
	 * server keying RPCs by address and id only would take its first
	 * request for the parent's first one (issue 15). */
	kapi_open(&srv2, kapi_fam, false);
	port2 = kapi_bind_any(&srv2);
	pthread_create(&th2, NULL, kapi_serve, &srv2);
	kapi_open(&cli, kapi_fam, false);
	kapi_rpc(&cli, 1000, 1, "parent");

	pid = fork();
	KAPI_CHECK(pid >= 0, "fork");
	if (pid == 0)
		_exit(kapi_child(&cli, &srv));
	kapi_wait(pid, "the forked child");
	printf("ok fork: EBADF on inherited sockets, new ones work\n");
	kapi_rpc(&cli, 30000, 2, "parent after fork");

	snprintf(fdtext, sizeof(fdtext), "%d", cli.fd);
	snprintf(porttext, sizeof(porttext), "%u", port2);
	pid = fork();
	KAPI_CHECK(pid >= 0, "fork");
	if (pid == 0) {
		execl("/proc/self/exe", "kapi_fork", "exec-check", argv[1],
		      fdtext, porttext, (char *)NULL);
		_exit(127);
	}
	kapi_wait(pid, "the exec'd image");
	printf("ok exec: shim kept, Homa descriptors closed, new ones work\n");
	kapi_rpc(&cli, 1000000, 3, "parent after exec");

	shutdown(srv.fd, SHUT_RDWR);
	shutdown(srv2.fd, SHUT_RDWR);
	pthread_join(th, NULL);
	pthread_join(th2, NULL);
	close(srv.fd);
	close(srv2.fd);
	close(cli.fd);
	printf("ok parent: its sockets worked throughout\n");
	return 0;
}
