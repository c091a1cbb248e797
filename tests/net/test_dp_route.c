/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_dp_route.c - which destinations homa_dp_path_mtu (dp_route.c)
 * calls on this host: in a network namespace of its own (root; skipped
 * otherwise), with a veth pair (10.91.1.1/24 and fd91:1::1/64 on one
 * end, MTU 1400), a bridge device (10.91.2.1/24; its driver is not veth)
 * and routes to 10.91.3.0/24 and fd91:3::/64 through a gateway on the
 * veth's subnet:
 *   127.0.0.1 and 10.91.1.1 (our own)        on this host
 *   10.91.1.2, fd91:1::2 (on-link, veth)     on this host, unless the
 *                                            caller says veth_local false
 *   10.91.3.7, fd91:3::7 (gateway, veth)     not on this host (paced)
 *   10.91.4.2 (on-link, veth with a qdisc)   not on this host (paced)
 *   10.91.2.2 (on-link, bridge device)       not on this host (paced)
 *   10.91.9.9 (no route)                     not on this host, MTU 0
 * and each reports its device's MTU.
 * No packet is sent. Exit 0 on success, 1 on failure, 77 if skipped.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "datapath.h"

/* expect()'s want_mtu for a route whose MTU is any nonzero value
 * (loopback's is 65536 or 65535, by kernel). */
#define ANY_MTU 1

static int failures; /* checks that failed */

/* An IPv4 address in the core's form. */
static struct homa_addr addr4(const char *text)
{
	struct homa_addr a;
	struct in_addr in;

	memset(&a, 0, sizeof(a));
	inet_pton(AF_INET, text, &in);
	a.a[10] = 0xff;
	a.a[11] = 0xff;
	memcpy(a.a + 12, &in, 4);
	return a;
}

/* An IPv6 address in the core's form. */
static struct homa_addr addr6(const char *text)
{
	struct homa_addr a;

	memset(&a, 0, sizeof(a));
	inet_pton(AF_INET6, text, a.a);
	return a;
}

static void expect(const char *dst, bool veth_local, bool want_local,
		   uint32_t want_mtu)
{
	struct homa_addr a = strchr(dst, ':') ? addr6(dst) : addr4(dst);
	bool local = !want_local;
	uint32_t mtu = homa_dp_path_mtu(&a, veth_local, &local);

	if (local != want_local ||
	    (want_mtu == ANY_MTU ? !mtu : mtu != want_mtu)) {
		printf("FAIL: %s (veth_local %d): local %d mtu %u, want "
		       "local %d mtu %u\n",
		       dst, veth_local, local, mtu, want_local, want_mtu);
		failures++;
	}
}

/* Run one ip(8) command; false if it failed. */
static bool ip(const char *args)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "ip %s >/dev/null 2>&1", args);
	return system(cmd) == 0;
}

static int child(void)
{
	if (unshare(CLONE_NEWNET) < 0) {
		printf("SKIP: cannot make a network namespace\n");
		return 77;
	}
	if (!ip("link set lo up") ||
	    !ip("link add trv0 type veth peer name trv1") ||
	    !ip("link add trd0 type bridge")) {
		printf("SKIP: ip(8) cannot make veth and bridge devices\n");
		return 77;
	}
	if (!ip("link set trv0 mtu 1400") ||
	    !ip("addr add 10.91.1.1/24 dev trv0") ||
	    !ip("addr add 10.91.2.1/24 dev trd0") || !ip("link set trv0 up") ||
	    !ip("link set trv1 up") || !ip("link set trd0 up") ||
	    !ip("route add 10.91.3.0/24 via 10.91.1.254 dev trv0") ||
	    !ip("-6 addr add fd91:1::1/64 dev trv0 nodad") ||
	    !ip("-6 route add fd91:3::/64 via fd91:1::fe dev trv0")) {
		printf("FAIL: cannot set up the devices\n");
		return 1;
	}
	expect("127.0.0.1", true, true, ANY_MTU);
	expect("10.91.1.1", true, true, ANY_MTU);
	expect("10.91.1.2", true, true, 1400);
	expect("10.91.1.2", false, false, 1400);
	expect("10.91.3.7", true, false, 1400);
	expect("10.91.2.2", true, false, 1500);
	expect("10.91.9.9", true, false, 0);
	expect("fd91:1::2", true, true, 1400);
	/* A veth with a queueing discipline (the emulated rack shapes its
	 * veths): a queue the pacer must keep short. */
	if (!ip("link add trq0 type veth peer name trq1") ||
	    !ip("addr add 10.91.4.1/24 dev trq0") || !ip("link set trq0 up") ||
	    !ip("link set trq1 up")) {
		printf("FAIL: cannot set up the second veth\n");
		return 1;
	}
	expect("10.91.4.2", true, true, 1500);
	if (system("tc qdisc add dev trq0 root pfifo limit 100 "
		   ">/dev/null 2>&1") == 0)
		expect("10.91.4.2", true, false, 1500);
	else
		printf("note: tc(8) cannot add a qdisc: that check skipped\n");
	expect("fd91:1::2", false, false, 1400);
	expect("fd91:3::7", true, false, 1400);
	if (failures)
		return 1;
	printf("ok: own addresses and on-link veth peers on this host, "
	       "gateways and other devices not\n");
	return 0;
}

int main(void)
{
	int status;
	pid_t pid;

	if (geteuid() != 0) {
		printf("SKIP: network namespaces need root\n");
		return 77;
	}
	if (system("ip -V >/dev/null 2>&1") != 0) {
		printf("SKIP: ip (iproute2) is not installed\n");
		return 77;
	}
	/* The namespace is the child's: it goes away when the child exits. */
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		status = child();
		fflush(stdout);
		_exit(status);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return 1;
	return WEXITSTATUS(status);
}
