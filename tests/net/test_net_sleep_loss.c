/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_net_sleep_loss.c - the poller's lean sleep when wake datagrams are
 * lost (src/api/wait.c, homa_lib_lean_watch; src/net/udp_sleep.c). A
 * thread blocked in homa_receive sleeps in its UDP socket's receive; the
 * background thread wakes it at each of the core's deadlines with a
 * zero-length datagram from the socket to itself. One such datagram can
 * be lost (a firewall rule on the port, a full socket buffer): the
 * background thread must then send it again, a tick later, until the
 * poller wakes, or the core's timers wait for the socket's 2 s receive
 * timeout (CI at 22c94ad: net_churn_udp_icmp, whose 1 % loss on the
 * server's port once held its timers so; fixed by 5a8b4f1).
 *
 * In a network namespace of its own (root; nft), an nftables rule drops
 * every second zero-length UDP datagram (UDP length 8: only the wakes;
 * no Homa packet is that short), the first one included. The client
 * (this process, one socket over UDP, poll_usecs 0: every wait sleeps)
 * sends requests, one at a time, to a plain UDP socket that never
 * answers, until LOSS_RPCS of them waited in a lean sleep (LOSS_MIN_WAKES
 * wake-ups read or more: between two RPCs the background thread may take
 * the poller role and sleep in epoll, where no wake datagram is sent;
 * LOSS_TRIES RPCs at most); each RPC must end with ETIMEDOUT after
 * timeout_ticks
 * ticks of silence: not before LOSS_TIMEOUT_MS - 10 ms (the timeout is
 * honoured), and well before the socket's 2 s receive timeout
 * (LOSS_TIMEOUT_MS + LOSS_SLACK_MS, plus the time the process waited for
 * a CPU meanwhile, nt_run_delay_ns: a starved host stretches every tick;
 * never up to the 2 s that a lost wake-up adds). With the wake sent
 * once per sleep, every second timer pass waits 2 s for the socket's
 * receive timeout, and the timeout counts passes: the RPC would end
 * after minutes, and fails after LOSS_STUCK_S (SIGALRM). The rule must have dropped wakes and the poller must have read
 * some (dp_rx_wakes), else the test did not test the lean sleep.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "homa.h"
#include "net_util.h"

#define LOSS_RPCS	  3    /* RPCs timed out in a lean sleep, at least */
#define LOSS_TRIES	  8    /* RPCs timed out, one at a time, at most */
#define LOSS_MIN_WAKES	  10   /* wake-ups read in an RPC that slept so */
#define LOSS_TIMEOUT_MS	  100  /* timeout_ticks x tick_us (1 ms) */
#define LOSS_LOST_HOLD_MS 2000 /* a lost wake-up: the socket's timeout */
#ifdef __SANITIZE_ADDRESS__
#define LOSS_SLACK_MS 600 /* ASan runs slower */
#else
#define LOSS_SLACK_MS 400
#endif
#define LOSS_STUCK_S 10 /* an RPC still waiting then: held */
_Static_assert(LOSS_TIMEOUT_MS + LOSS_SLACK_MS < LOSS_LOST_HOLD_MS,
	       "the bound must tell a lost wake-up from a slow tick");

static volatile sig_atomic_t loss_rpc; /* the RPC waited for (1...) */

/* SIGALRM: an RPC still waits after LOSS_STUCK_S. Without the repeated
 * wake-up each lost one holds a timer pass 2 s, and the timeout counts
 * passes: it would come after minutes. */
static void loss_stuck(int sig)
{
	char msg[160];
	int n = snprintf(msg, sizeof(msg),
			 "FAIL: RPC %d still waits after %d s: lost wake-ups "
			 "held the core's timers (each for the socket's 2 s "
			 "receive timeout)\n",
			 (int)loss_rpc, LOSS_STUCK_S);

	(void)sig;
	if (write(1, msg, (size_t)n) < 0)
		_exit(1);
	_exit(1);
}

/* Run cmd through sh; fail the test if it fails. */
static void loss_sh(const char *cmd)
{
	int st = system(cmd);

	if (st != 0)
		nt_fail("'%s' failed (status %d)", cmd, st);
}

/* The packets counted by the rule with comment tag (nft's counter). */
static long loss_nft_packets(const char *tag)
{
	char line[512];
	long n = -1;
	FILE *f = popen("nft list chain inet homa_sleep_loss out", "r");

	if (!f)
		nt_fail("popen nft: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "packets ");

		if (p && strstr(line, tag))
			n = atol(p + 8);
	}
	pclose(f);
	if (n < 0)
		nt_fail("no counter %s in the nft rules", tag);
	return n;
}

int main(void)
{
	struct sockaddr_in6 sink_sa;
	struct sockaddr_in bound;
	socklen_t sink_len, blen = sizeof(bound);
	uint64_t wakes0;
	long dropped, passed;
	int sink, fd, failed = 0, lean = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, loss_stuck);
	alarm(60);
	nt_private_net();
	if (system("nft --version >/dev/null 2>&1") != 0)
		nt_skip("nft (nftables) is not installed (scripts/deps.sh "
			"net)");
	/* Only this process lives in the namespace: the rule sees its wakes
	 * alone. numgen counts only the packets that reach it (length 8). */
	loss_sh("nft -f - <<'END'\n"
		"table inet homa_sleep_loss {\n"
		"  chain out {\n"
		"    type filter hook output priority 0; policy accept;\n"
		"    udp length 8 numgen inc mod 2 0 counter drop "
		"comment \"wake_dropped\"\n"
		"    udp length 8 counter comment \"wake_passed\"\n"
		"  }\n"
		"}\n"
		"END");

	/* The silent server: a plain UDP socket that never reads (so no
	 * ICMP port unreachable either). */
	sink = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&bound, 0, sizeof(bound));
	bound.sin_family = AF_INET;
	bound.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (sink < 0 || bind(sink, (struct sockaddr *)&bound, sizeof(bound)) ||
	    getsockname(sink, (struct sockaddr *)&bound, &blen))
		nt_fail("the sink socket: %s", strerror(errno));
	sink_len = nt_addr(&sink_sa, "127.0.0.1", ntohs(bound.sin_port));

	nt_use_datapath("udp");
	if (homa_config_param("tick_us", "1000") < 0 ||
	    homa_config_param("resend_ticks", "5") < 0 ||
	    homa_config_param("timeout_ticks", "100") < 0 ||
	    homa_config_param("poll_usecs", "0") < 0)
		nt_fail("config: %s", homa_last_error());
	fd = homa_socket(AF_INET);
	if (fd < 0)
		nt_fail("homa_socket: %s", strerror(errno));

	wakes0 = nt_metric("dp_rx_wakes");
	for (int i = 0; i < LOSS_TRIES && lean < LOSS_RPCS; i++) {
		uint8_t req[100], resp[200];
		uint64_t id = 0, t0, delay0, waited_ms, hi_ms, wk;
		double ms;
		ssize_t n;
		int err;

		memset(req, 'L', sizeof(req));
		wk = nt_metric("dp_rx_wakes");
		if (homa_request(fd, req, sizeof(req),
				 (struct sockaddr *)&sink_sa, sink_len, &id, 0,
				 0) < 0)
			nt_fail("homa_request: %s", strerror(errno));
		id = 0; /* the only RPC outstanding (not private) */
		loss_rpc = i + 1;
		alarm(LOSS_STUCK_S);
		t0 = nt_now_ns();
		delay0 = nt_run_delay_ns(0);
		n = homa_receive(fd, resp, sizeof(resp), 0, NULL, NULL, &id,
				 NULL);
		err = n < 0 ? errno : 0;
		ms = (double)(nt_now_ns() - t0) / 1e6;
		alarm(60);
		waited_ms = (uint64_t)nt_waited_ms(delay0);
		wk = nt_metric("dp_rx_wakes") - wk;
		/* The upper bound grows with the time the process waited
		 * for a CPU, never to a lost wake-up's hold. */
		hi_ms = LOSS_TIMEOUT_MS + LOSS_SLACK_MS + waited_ms;
		if (hi_ms > LOSS_LOST_HOLD_MS - 200)
			hi_ms = LOSS_LOST_HOLD_MS - 200;
		printf("RPC %d: %s after %.1f ms (bounds [%d, %llu] ms; "
		       "threads waited %llu ms for a CPU), %llu wake-ups "
		       "read%s\n",
		       i + 1, n < 0 ? strerror(err) : "a response", ms,
		       LOSS_TIMEOUT_MS - 10, (unsigned long long)hi_ms,
		       (unsigned long long)waited_ms, (unsigned long long)wk,
		       wk < LOSS_MIN_WAKES ? " (no lean sleep: the background "
					     "thread held the poller role; "
					     "not counted)"
					   : "");
		if (n >= 0 || err != ETIMEDOUT)
			nt_fail("wanted ETIMEDOUT");
		if (ms < LOSS_TIMEOUT_MS - 10 || ms > (double)hi_ms) {
			printf("  FAIL: out of bounds: a lost wake-up held "
			       "the timers?\n");
			failed++;
		}
		lean += wk >= LOSS_MIN_WAKES;
	}
	dropped = loss_nft_packets("wake_dropped");
	passed = loss_nft_packets("wake_passed");
	printf("%llu wakes read by the poller (dp_rx_wakes), %ld dropped, "
	       "%ld passed\n",
	       (unsigned long long)(nt_metric("dp_rx_wakes") - wakes0), dropped,
	       passed);
	if (failed)
		nt_fail("%d RPCs timed out outside their bounds", failed);
	if (lean < LOSS_RPCS || dropped < LOSS_RPCS)
		nt_fail("%d of %d RPCs slept in the socket (%d wanted), %ld "
			"wake-ups dropped: the test tested too little",
			lean, LOSS_TRIES, LOSS_RPCS, dropped);
	nt_close(fd);
	close(sink);
	printf("ok\n");
	return 0;
}
