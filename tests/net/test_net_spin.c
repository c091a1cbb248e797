/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_net_spin.c - a thread that busy-polls in homa_recvmsg does not
 * hold back signals (issue 14): with poll_usecs of a second the waiting
 * thread spins the whole time, and a signal sent to it must run its
 * handler at once (the library no longer blocks every signal for the
 * whole wait; it does so only right before the thread sleeps, so a
 * signal arriving during a sleep still ends the call with EINTR). The
 * previous library kept the signal pending as long as the thread spun,
 * which with core deadlines shorter than the spin was forever (a SIGTERM
 * could not stop such a server). Then homa_shutdown ends the call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net_util.h"

static uint64_t handled_ns; /* when the handler ran, 0 = not yet */

static void spin_handler(int sig)
{
	(void)sig;
	__atomic_store_n(&handled_ns, nt_now_ns(), __ATOMIC_RELAXED);
}

struct spinner {
	int fd;		  /* server socket it receives on */
	volatile bool in; /* about to call homa_receive */
	int err;	  /* errno the call ended with */
};

static void *spinner_main(void *arg)
{
	struct spinner *s = arg;
	uint64_t id = 0;
	char buf[16];

	s->in = true;
	if (homa_receive(s->fd, buf, sizeof(buf), 0, NULL, NULL, &id, NULL) < 0)
		s->err = errno;
	return NULL;
}

int main(void)
{
	struct spinner s = { -1, false, 0 };
	struct sigaction sa;
	struct sockaddr_in6 addr;
	pthread_t t;
	uint64_t t0, ran;

	alarm(30);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = spin_handler;
	if (sigaction(SIGUSR1, &sa, NULL) < 0)
		nt_fail("sigaction: %s", strerror(errno));
	if (homa_config_param("poll_usecs", "1000000") < 0)
		nt_fail("poll_usecs: %s", homa_last_error());
	s.fd = homa_socket(AF_INET);
	if (s.fd < 0)
		nt_fail("homa_socket: %s", strerror(errno));
	nt_addr(&addr, "127.0.0.1",
		(uint16_t)nt_bind_any(s.fd, AF_INET, 20000, 30000));
	pthread_create(&t, NULL, spinner_main, &s);
	while (!s.in)
		usleep(1000);
	usleep(100000); /* well inside its second of spinning */
	t0 = nt_now_ns();
	pthread_kill(t, SIGUSR1);
	while (!__atomic_load_n(&handled_ns, __ATOMIC_RELAXED) &&
	       nt_now_ns() - t0 < 2000000000ull)
		usleep(1000);
	ran = __atomic_load_n(&handled_ns, __ATOMIC_RELAXED);
	if (!ran || ran - t0 > 200000000ull)
		nt_fail("the handler of a signal sent to a thread spinning in "
			"homa_recvmsg %s",
			ran ? "ran late" : "did not run within 2 s");
	printf("ok: the handler ran %.1f ms after the signal, while the "
	       "thread spun\n",
	       (double)(ran - t0) / 1e6);
	homa_shutdown(s.fd, SHUT_RDWR);
	pthread_join(t, NULL);
	if (s.err != ESHUTDOWN)
		nt_fail("the spinning receive ended with %s, not ESHUTDOWN",
			strerror(s.err));
	printf("ok: homa_shutdown then ended the receive (ESHUTDOWN)\n");
	homa_close(s.fd);
	return 0;
}
