/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * udp_sleep.c - the UDP datapath's rx_sleep and rx_wake: with one
 * socket, the poller sleeps in its receive, as an application's blocking
 * recv does (src/api/wait.c, "The poller's lean sleep"); another thread
 * ends that sleep with a zero-length datagram from the socket to itself,
 * never a Homa packet: whoever reads one drops it and counts it
 * (rx_wakes).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "udp_impl.h"

/* Send a zero-length datagram to open_fds[0] from itself, ending a
 * sleep in its receive (inside ports_gate, or as its writer). To the
 * IPv4 loopback address: an IPv6 socket takes IPv4 too (IPV6_V6ONLY off,
 * udp_open_bound). */
static void udp_wake_send(struct udp_dp *u)
{
	struct sockaddr_in6 sa;
	struct sockaddr_in *in = (struct sockaddr_in *)&sa;
	socklen_t len = sizeof(*in);
	uint16_t port;

	if (!u->num_ports)
		return;
	port = u->open_ports[0];
	memset(&sa, 0, sizeof(sa));
	if (u->port_family[port] == AF_INET) {
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		sa.sin6_family = AF_INET6;
		sa.sin6_port = htons(port);
		sa.sin6_addr.s6_addr[10] = 0xff;
		sa.sin6_addr.s6_addr[11] = 0xff;
		sa.sin6_addr.s6_addr[12] = 127;
		sa.sin6_addr.s6_addr[15] = 1;
		len = sizeof(sa);
	}
	if (syscall(SYS_sendto, (long)u->open_fds[0], (void *)&sa, 0L,
		    (long)MSG_DONTWAIT, &sa, (long)len) < 0)
		return; /* buffer full: the sleeper has packets to read */
}

/* The gate's writer wakes a sleeping reader (homa_dp_gate_close_wake). */
static void udp_gate_wake(void *arg)
{
	struct udp_dp *u = arg;

	if (__atomic_load_n(&u->sleeping, __ATOMIC_SEQ_CST))
		udp_wake_send(u);
}

/* Close ports_gate (writers: port changes, UDP_GRO), waking a reader
 * asleep in udp_rx_sleep, which leaves the gate only when woken. The
 * sleeper marks itself (sleeping) before it looks at closed, the writer
 * closes before it looks at sleeping: one of them sees the other. */
void udp_gate_close(struct udp_dp *u)
{
	homa_dp_gate_close_wake(&u->ports_gate, udp_gate_wake, u);
}

/* A zero-length datagram was read (inside ports_gate): a wake-up, never
 * a Homa packet. Counted and dropped; if another thread sleeps in
 * udp_rx_sleep and this reader is not it (a thread reading without the
 * poller role took the wake-up meant for it), passed on. */
void udp_wake_read(struct udp_dp *u, bool sleeper)
{
	HOMA_DP_ADD(u->dp.rx_wakes, 1);
	if (!sleeper && __atomic_load_n(&u->sleeping, __ATOMIC_SEQ_CST))
		udp_wake_send(u);
}

/*
 * rx_sleep: the poller's sleep, in the lone socket's own receive (one
 * system call to sleep and read, as an application's blocking recv; the
 * epoll sleep it replaces was four: the signal mask set and restored
 * around it, epoll_pwait2 on the nested sets, then the read). Inside
 * ports_gate the whole time: a writer wakes it (udp_gate_close).
 */
int udp_rx_sleep(struct homa_dp *dp, uint64_t timeout_ns,
		 homa_dp_deliver_fn deliver, homa_dp_icmp_fn icmp, void *arg)
{
	struct udp_dp *u = (struct udp_dp *)dp;
	struct homa_dp_rx_ring *r;
	int n = 0;

	if (__atomic_load_n(&u->conn_icmp_n, __ATOMIC_ACQUIRE)) {
		udp_conn_report_slow(u, icmp, arg); /* no sleep: news */
		return 0;
	}
	udp_gro_start(u);
	homa_dp_gate_enter(&u->ports_gate);
	if (u->num_ports != 1 ||
	    !(r = homa_dp_rx_ring(u->rx_buf_bytes, u->gro_live))) {
		homa_dp_gate_leave(&u->ports_gate);
		return -EOPNOTSUPP;
	}
	if (timeout_ns != u->sleep_timeo_ns) {
		struct timeval tv = { (time_t)(timeout_ns / 1000000000ull),
				      (long)(timeout_ns % 1000000000ull /
					     1000) };

		if (setsockopt(u->open_fds[0], SOL_SOCKET, SO_RCVTIMEO, &tv,
			       sizeof(tv)) == 0)
			u->sleep_timeo_ns = timeout_ns;
	}
	__atomic_store_n(&u->sleeping, 1, __ATOMIC_SEQ_CST);
	/* A writer waiting at the gate saw no sleeper: do not sleep. */
	if (!__atomic_load_n(&u->ports_gate.closed, __ATOMIC_SEQ_CST) &&
	    u->sleep_timeo_ns)
		n = udp_rx_lone_in(u, r, u->open_fds[0], deliver, icmp, arg,
				   0L);
	__atomic_store_n(&u->sleeping, 0, __ATOMIC_SEQ_CST);
	homa_dp_gate_leave(&u->ports_gate);
	if (n == -EINTR)
		return -EINTR;
	return n > 0 ? n : 0;
}

void udp_rx_wake(struct homa_dp *dp)
{
	struct udp_dp *u = (struct udp_dp *)dp;

	homa_dp_gate_enter(&u->ports_gate);
	udp_wake_send(u);
	homa_dp_gate_leave(&u->ports_gate);
}
