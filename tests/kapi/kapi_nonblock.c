/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kapi_nonblock.c - O_NONBLOCK under the shim, through the kernel API
 * only (see kapi_util.h). The shim records the flag whenever the program
 * sets it (fcntl F_SETFL, ioctl FIONBIO) so that libhoma's calls never
 * read it back; these checks fail if a change is missed:
 *
 * 1. toggles: a request the server answers 200 ms late is outstanding;
 *    O_NONBLOCK set (by fcntl, by FIONBIO, by another thread) makes
 *    recvmsg fail with EAGAIN at once, and cleared again makes it sleep
 *    until the late reply; a plain RPC between rounds sleeps and sets
 *    the library's idea of the flag to "blocking".
 * 2. fork: a child that sets O_NONBLOCK on the file it inherited (the
 *    shim sees no call of the parent) still makes the parent's recvmsg
 *    fail with EAGAIN.
 * 3. SCM_RIGHTS: the descriptor sent to this process over a Unix socket
 *    is a second descriptor of the same file, unknown to the shim; the
 *    flag set through it is honoured too.
 *
 *   kapi_nonblock 4|6 PORT      (kapi_echo's server on PORT)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kapi_util.h"

/* A call that must not sleep returns within this, ms (the late reply
 * comes after KAPI_LATE_MS: a call that slept would wait for it). */
#define KAPI_PROMPT_MS 100
#define KAPI_LATE_MS   200 /* kapi_echo's delay for a KAPI_DELAY request */

static int kapi_fam;
static struct sockaddr_in6 kapi_srv;
static socklen_t kapi_srvlen;

/* Send a 100-byte request, answered late if kind is KAPI_DELAY. */
static void kapi_nb_request(struct kapi_sock *s, uint8_t kind)
{
	uint8_t buf[100];
	uint64_t id = 0;

	kapi_fill(buf, sizeof(buf), 7);
	buf[0] = kind;
	KAPI_CHECK(kapi_send(s, &kapi_srv, kapi_srvlen, buf, sizeof(buf), &id,
			     0, 0) == 0,
		   "sendmsg: %s", strerror(errno));
}

/* O_NONBLOCK on or off: 0 = fcntl, 1 = ioctl FIONBIO. */
static void kapi_nb_set(int fd, bool on, int how)
{
	int fl = fcntl(fd, F_GETFL), v = on;

	KAPI_CHECK(fl >= 0, "F_GETFL: %s", strerror(errno));
	if (how == 0)
		KAPI_CHECK(fcntl(fd, F_SETFL,
				 on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK) == 0,
			   "F_SETFL: %s", strerror(errno));
	else
		KAPI_CHECK(ioctl(fd, FIONBIO, &v) == 0, "FIONBIO: %s",
			   strerror(errno));
	KAPI_CHECK(!!(fcntl(fd, F_GETFL) & O_NONBLOCK) == on,
		   "O_NONBLOCK not %s", on ? "set" : "clear");
}

/* recvmsg with a late reply outstanding: EAGAIN at once. */
static void kapi_nb_expect_eagain(struct kapi_sock *s, const char *what)
{
	uint64_t t0 = kapi_ms();
	struct kapi_msg m;

	kapi_recv(s, 0, 0, &m);
	KAPI_CHECK(m.len < 0 && m.err == EAGAIN,
		   "%s: recvmsg gave %zd (%s), not EAGAIN", what, m.len,
		   m.len < 0 ? strerror(m.err) : "a message");
	KAPI_CHECK(kapi_ms() - t0 < KAPI_PROMPT_MS,
		   "%s: EAGAIN after %llu ms, not at once", what,
		   (unsigned long long)(kapi_ms() - t0));
}

/* recvmsg blocking: it sleeps until the reply (the late one: it took at
 * least a good part of its delay). */
static void kapi_nb_expect_reply(struct kapi_sock *s, bool late,
				 const char *what)
{
	uint64_t t0 = kapi_ms();
	struct kapi_msg m;

	kapi_recv(s, 0, 0, &m);
	KAPI_CHECK(m.len == 100, "%s: recvmsg gave %zd (%s)", what, m.len,
		   m.len < 0 ? strerror(m.err) : "a message");
	KAPI_CHECK(!late || kapi_ms() - t0 >= KAPI_LATE_MS / 4,
		   "%s: the late reply came after %llu ms", what,
		   (unsigned long long)(kapi_ms() - t0));
}

struct kapi_nb_arg {
	int fd;	 /* descriptor */
	bool on; /* O_NONBLOCK wanted */
};

static void *kapi_nb_thread(void *p)
{
	struct kapi_nb_arg *a = p;

	kapi_nb_set(a->fd, a->on, 0);
	return NULL;
}

/* 1. Set and cleared between calls, each way, three times. */
static void kapi_test_toggles(void)
{
	struct kapi_sock s;
	pthread_t t;

	kapi_open(&s, kapi_fam, false);
	for (int round = 0; round < 3; round++) {
		struct kapi_nb_arg a = { s.fd, true };

		kapi_nb_request(&s, 'x'); /* a plain RPC: sleeps, blocking */
		kapi_nb_expect_reply(&s, false, "plain");
		kapi_nb_request(&s, KAPI_DELAY);
		if (round < 2) {
			kapi_nb_set(s.fd, true, round);
		} else {
			KAPI_CHECK(pthread_create(&t, NULL, kapi_nb_thread,
						  &a) == 0,
				   "pthread_create");
			pthread_join(t, NULL);
		}
		kapi_nb_expect_eagain(&s, "set");
		kapi_nb_expect_eagain(&s, "set, second call");
		kapi_nb_set(s.fd, false, round == 1);
		kapi_nb_expect_reply(&s, true, "cleared");
	}
	close(s.fd);
	printf("ok toggles\n");
}

/* 2. The file's flag set by a forked child. */
static void kapi_test_fork(void)
{
	struct kapi_sock s;
	int status;
	pid_t pid;

	kapi_open(&s, kapi_fam, false);
	kapi_nb_request(&s, 'x');
	kapi_nb_expect_reply(&s, false, "before fork");
	pid = fork();
	KAPI_CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		int fl = fcntl(s.fd, F_GETFL);

		_exit(fl >= 0 && fcntl(s.fd, F_SETFL, fl | O_NONBLOCK) == 0
			      ? 0
			      : 1);
	}
	KAPI_CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
			   WEXITSTATUS(status) == 0,
		   "the child could not set O_NONBLOCK");
	kapi_nb_request(&s, KAPI_DELAY);
	kapi_nb_expect_eagain(&s, "set by a forked child");
	kapi_nb_set(s.fd, false, 0);
	kapi_nb_expect_reply(&s, true, "cleared after fork");
	close(s.fd);
	printf("ok fork\n");
}

/* 3. The file's flag set through a descriptor received with SCM_RIGHTS. */
static void kapi_test_rights(void)
{
	char cbuf[CMSG_SPACE(sizeof(int))], byte = 'r';
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { 0 };
	struct cmsghdr *c;
	struct kapi_sock s;
	int u[2], fd2;

	kapi_open(&s, kapi_fam, false);
	kapi_nb_request(&s, 'x');
	kapi_nb_expect_reply(&s, false, "before SCM_RIGHTS");
	KAPI_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, u) == 0,
		   "socketpair: %s", strerror(errno));
	memset(cbuf, 0, sizeof(cbuf));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &s.fd, sizeof(int));
	KAPI_CHECK(sendmsg(u[0], &msg, 0) == 1, "sendmsg SCM_RIGHTS: %s",
		   strerror(errno));
	memset(cbuf, 0, sizeof(cbuf));
	KAPI_CHECK(recvmsg(u[1], &msg, 0) == 1, "recvmsg SCM_RIGHTS: %s",
		   strerror(errno));
	c = CMSG_FIRSTHDR(&msg);
	KAPI_CHECK(c && c->cmsg_type == SCM_RIGHTS, "no descriptor received");
	memcpy(&fd2, CMSG_DATA(c), sizeof(int));
	kapi_nb_request(&s, KAPI_DELAY);
	kapi_nb_set(fd2, true, 0); /* the same file, through fd2 */
	kapi_nb_expect_eagain(&s, "set through a received descriptor");
	kapi_nb_set(fd2, false, 1);
	kapi_nb_expect_reply(&s, true, "cleared through it");
	close(fd2);
	close(u[0]);
	close(u[1]);
	close(s.fd);
	printf("ok scm_rights\n");
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: kapi_nonblock 4|6 PORT\n");
		return 2;
	}
	kapi_fam = kapi_family(argv[1]);
	kapi_srvlen =
		kapi_loopback(kapi_fam, (uint16_t)atoi(argv[2]), &kapi_srv);
	kapi_test_toggles();
	kapi_test_fork();
	kapi_test_rights();
	return 0;
}
