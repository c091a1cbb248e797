/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_net_errno_ptr.c - every pointer argument of every call of homa.h,
 * NULL and with a length that does not fit, against the errno homa(7)
 * promises: EFAULT for a NULL pointer the call must read or write, EINVAL
 * for a length too small for what it describes, success where a NULL or
 * a short length is allowed (an optional output, a message cut short).
 * Rows that receive run with a message ready, since that is where a bad
 * pointer would be written to; a message refused for a bad argument must
 * still be there for the next call. The other arguments (descriptors,
 * flags, ids) are in test_net_errno.c and test_net_errno_msg.c. Also
 * here: homa_config_param's messages name the parameter.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "errno_table.h"

static struct sockaddr_in6 srv_sa; /* the fixture's server */
static socklen_t srv_len;	   /* its length */
static uint8_t big[200];	   /* payloads and receive buffers */

/* Length of the request a row's setup makes ready (no other row sends
 * this length, so a stray message is never taken for it). */
#define READY_LEN 12

/* A READY_LEN-byte request from FD_V4 to the server, ready to be received there
 * (waits until the server's descriptor is readable). */
static int ready_request(void)
{
	struct pollfd p = { fx.fd[FD_SERVER], POLLIN, 0 };
	uint64_t id = 0;

	srv_len = nt_addr(&srv_sa, "127.0.0.1", (uint16_t)fx.port);
	if (homa_request(fx.fd[FD_V4], "0123456789ab", READY_LEN,
			 (struct sockaddr *)&srv_sa, srv_len, &id, 0, 0) < 0)
		return -1;
	return poll(&p, 1, 5000) == 1 ? 0 : -1;
}

/* Whether the ready request is still at the server (the refused call
 * did not consume it): receives it. */
static bool request_still_there(struct sockaddr_in6 *client, socklen_t *len,
				uint64_t *id)
{
	ssize_t n;

	do {
		*len = sizeof(*client);
		*id = 0;
		n = homa_receive(fx.fd[FD_SERVER], big, sizeof(big),
				 MSG_DONTWAIT, (struct sockaddr *)client, len,
				 id, NULL);
	} while (n >= 0 && n != READY_LEN);
	return n == READY_LEN;
}

/* ---- one function per row: the call with one argument bad ---- */

static long bind_null(void)
{
	return homa_bind(fx.fd[FD_V4], NULL, sizeof(struct sockaddr_in));
}

static long bind_len0(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };

	return homa_bind(fx.fd[FD_V4], (struct sockaddr *)&sa, 0);
}

static long setopt_server_null(void)
{
	return homa_setsockopt(fx.fd[FD_V4], IPPROTO_HOMA, SO_HOMA_SERVER, NULL,
			       sizeof(int));
}

static long setopt_server_len0(void)
{
	int on = 1;

	return homa_setsockopt(fx.fd[FD_V4], IPPROTO_HOMA, SO_HOMA_SERVER, &on,
			       0);
}

static long setopt_rcvbuf_null(void)
{
	return homa_setsockopt(fx.fd[FD_V4], IPPROTO_HOMA, SO_HOMA_RCVBUF, NULL,
			       sizeof(struct homa_rcvbuf_args));
}

static long setopt_rcvbuf_len0(void)
{
	struct homa_rcvbuf_args a = { 0, 0 };

	return homa_setsockopt(fx.fd[FD_V4], IPPROTO_HOMA, SO_HOMA_RCVBUF, &a,
			       0);
}

static long setopt_rcvtimeo_null(void)
{
	return homa_setsockopt(fx.fd[FD_V4], SOL_SOCKET, SO_RCVTIMEO, NULL,
			       sizeof(struct timeval));
}

static long setopt_rcvtimeo_short(void)
{
	struct timeval tv = { 1, 0 };

	return homa_setsockopt(fx.fd[FD_V4], SOL_SOCKET, SO_RCVTIMEO, &tv, 4);
}

static long getopt_val_null(void)
{
	socklen_t len = sizeof(int);

	return homa_getsockopt(fx.fd[FD_V4], IPPROTO_HOMA, SO_HOMA_SERVER, NULL,
			       &len);
}

static long getopt_len_null(void)
{
	int on;

	return homa_getsockopt(fx.fd[FD_V4], IPPROTO_HOMA, SO_HOMA_SERVER, &on,
			       NULL);
}

static long getopt_len0(void)
{
	socklen_t len = 0;
	int on;

	return homa_getsockopt(fx.fd[FD_V4], IPPROTO_HOMA, SO_HOMA_SERVER, &on,
			       &len);
}

static long getopt_rcvbuf_short(void)
{
	struct homa_rcvbuf_args a;
	socklen_t len = sizeof(a) - 1;

	return homa_getsockopt(fx.fd[FD_V4], IPPROTO_HOMA, SO_HOMA_RCVBUF, &a,
			       &len);
}

/* A good sendmsg of a request to the server, with one part changed. */
enum send_bad {
	SB_NONE,
	SB_MSG_NULL,
	SB_CONTROL_NULL,
	SB_NAME_NULL,
	SB_NAMELEN0,
	SB_IOV_NULL,
	SB_BASE_NULL,
	SB_BASE_NULL_EMPTY,
	SB_IOVLEN0,
	SB_IOVLEN_HUGE,
};

static long send_with(enum send_bad bad)
{
	struct homa_sendmsg_args args = { 0, 0, 0, 0 };
	struct iovec iov[2] = { { big, 10 }, { big, 5 } };
	struct msghdr msg;

	memset(&msg, 0, sizeof(msg));
	srv_len = nt_addr(&srv_sa, "127.0.0.1", (uint16_t)fx.port);
	msg.msg_name = &srv_sa;
	msg.msg_namelen = srv_len;
	msg.msg_iov = iov;
	msg.msg_iovlen = 2;
	msg.msg_control = &args;
	if (bad == SB_CONTROL_NULL)
		msg.msg_control = NULL;
	else if (bad == SB_NAME_NULL)
		msg.msg_name = NULL;
	else if (bad == SB_NAMELEN0)
		msg.msg_namelen = 0;
	else if (bad == SB_IOV_NULL)
		msg.msg_iov = NULL;
	else if (bad == SB_BASE_NULL)
		iov[1].iov_base = NULL;
	else if (bad == SB_BASE_NULL_EMPTY) {
		iov[1].iov_base = NULL;
		iov[1].iov_len = 0;
	} else if (bad == SB_IOVLEN0)
		msg.msg_iovlen = 0;
	else if (bad == SB_IOVLEN_HUGE)
		msg.msg_iovlen = 1u << 30;
	return homa_sendmsg(fx.fd[FD_V4], bad == SB_MSG_NULL ? NULL : &msg,
			    MSG_DONTWAIT);
}

static long send_msg_null(void)
{
	return send_with(SB_MSG_NULL);
}
static long send_control_null(void)
{
	return send_with(SB_CONTROL_NULL);
}
static long send_name_null(void)
{
	return send_with(SB_NAME_NULL);
}
static long send_namelen0(void)
{
	return send_with(SB_NAMELEN0);
}
static long send_iov_null(void)
{
	return send_with(SB_IOV_NULL);
}
static long send_base_null(void)
{
	return send_with(SB_BASE_NULL);
}
static long send_base_null_empty(void)
{
	return send_with(SB_BASE_NULL_EMPTY);
}
static long send_iovlen0(void)
{
	return send_with(SB_IOVLEN0);
}
static long send_iovlen_huge(void)
{
	return send_with(SB_IOVLEN_HUGE);
}

/* A recvmsg at the server (a request ready) with one part changed. */
enum recv_bad {
	RB_MSG_NULL,
	RB_CONTROL_NULL,
	RB_CONTROLLEN0,
	RB_CONTROLLEN_SHORT,
	RB_NAME_NULL,
	RB_NAMELEN0,
};

static long recv_with(enum recv_bad bad)
{
	struct homa_recvmsg_args args;
	struct sockaddr_in6 peer;
	struct msghdr msg;
	long ret;

	memset(&args, 0, sizeof(args));
	memset(&msg, 0, sizeof(msg));
	msg.msg_name = &peer;
	msg.msg_namelen = sizeof(peer);
	msg.msg_control = &args;
	msg.msg_controllen = sizeof(args);
	if (bad == RB_CONTROL_NULL)
		msg.msg_control = NULL;
	else if (bad == RB_CONTROLLEN0)
		msg.msg_controllen = 0;
	else if (bad == RB_CONTROLLEN_SHORT)
		msg.msg_controllen = sizeof(args) - 4;
	else if (bad == RB_NAME_NULL)
		msg.msg_name = NULL;
	else if (bad == RB_NAMELEN0)
		msg.msg_namelen = 0;
	ret = homa_recvmsg(fx.fd[FD_SERVER], bad == RB_MSG_NULL ? NULL : &msg,
			   MSG_DONTWAIT);
	if (ret == READY_LEN && bad == RB_NAMELEN0 &&
	    msg.msg_namelen != sizeof(struct sockaddr_in))
		return -1000; /* the full length must be reported */
	return ret;
}

static long recv_msg_null(void)
{
	return recv_with(RB_MSG_NULL);
}
static long recv_control_null(void)
{
	return recv_with(RB_CONTROL_NULL);
}
static long recv_controllen0(void)
{
	return recv_with(RB_CONTROLLEN0);
}
static long recv_controllen_short(void)
{
	return recv_with(RB_CONTROLLEN_SHORT);
}
static long recv_name_null(void)
{
	return recv_with(RB_NAME_NULL);
}
static long recv_namelen0(void)
{
	return recv_with(RB_NAMELEN0);
}

static long ioctl_info_null(void)
{
	return homa_ioctl(fx.fd[FD_V4], HOMAIOCINFO, NULL);
}

static long ioctl_abort_null(void)
{
	return homa_ioctl(fx.fd[FD_V4], HOMAIOCABORT, NULL);
}

static long ioctl_info_buf_null(void)
{
	struct homa_info info = { 0 };

	info.rpc_info_length = 10 * sizeof(struct homa_rpc_info);
	return homa_ioctl(fx.fd[FD_V4], HOMAIOCINFO, &info);
}

static long ioctl_info_buf_short(void)
{
	struct homa_info info = { 0 };

	/* Less than one record: none is written, NULL is fine. */
	info.rpc_info_length = sizeof(struct homa_rpc_info) - 1;
	return homa_ioctl(fx.fd[FD_V4], HOMAIOCINFO, &info);
}

static long request_buf_null(void)
{
	srv_len = nt_addr(&srv_sa, "127.0.0.1", (uint16_t)fx.port);
	return homa_request(fx.fd[FD_V4], NULL, 10, (struct sockaddr *)&srv_sa,
			    srv_len, NULL, 0, 0);
}

static long request_buf_null_len0(void)
{
	srv_len = nt_addr(&srv_sa, "127.0.0.1", (uint16_t)fx.port);
	return homa_request(fx.fd[FD_V4], NULL, 0, (struct sockaddr *)&srv_sa,
			    srv_len, NULL, 0, 0);
}

static long request_dest_null(void)
{
	return homa_request(fx.fd[FD_V4], big, 10, NULL, sizeof(srv_sa), NULL,
			    0, 0);
}

static long request_destlen0(void)
{
	nt_addr(&srv_sa, "127.0.0.1", (uint16_t)fx.port);
	return homa_request(fx.fd[FD_V4], big, 10, (struct sockaddr *)&srv_sa,
			    0, NULL, 0, 0);
}

static long request_id_null(void)
{
	srv_len = nt_addr(&srv_sa, "127.0.0.1", (uint16_t)fx.port);
	return homa_request(fx.fd[FD_V4], big, 10, (struct sockaddr *)&srv_sa,
			    srv_len, NULL, 0, 0);
}

/* A reply to the request the row's setup made ready. */
enum reply_bad { PB_BUF_NULL, PB_SRC_NULL, PB_SRCLEN0 };

static long reply_with(enum reply_bad bad)
{
	struct sockaddr_in6 client;
	socklen_t len;
	uint64_t id;

	if (!request_still_there(&client, &len, &id))
		return -2000;
	if (bad == PB_BUF_NULL)
		return homa_reply(fx.fd[FD_SERVER], NULL, 10,
				  (struct sockaddr *)&client, len, id);
	if (bad == PB_SRC_NULL)
		return homa_reply(fx.fd[FD_SERVER], big, 10, NULL, len, id);
	return homa_reply(fx.fd[FD_SERVER], big, 10, (struct sockaddr *)&client,
			  0, id);
}

static long reply_buf_null(void)
{
	return reply_with(PB_BUF_NULL);
}
static long reply_src_null(void)
{
	return reply_with(PB_SRC_NULL);
}
static long reply_srclen0(void)
{
	return reply_with(PB_SRCLEN0);
}

static long receive_buf_null(void)
{
	uint64_t id = 0;

	return homa_receive(fx.fd[FD_SERVER], NULL, 100, MSG_DONTWAIT, NULL,
			    NULL, &id, NULL);
}

static long receive_buf_null_len0(void)
{
	uint64_t id = 0;

	/* Length 0: the message is taken and dropped; its length returned. */
	return homa_receive(fx.fd[FD_SERVER], NULL, 0, MSG_DONTWAIT, NULL, NULL,
			    &id, NULL);
}

static long receive_srclen_null(void)
{
	struct sockaddr_in6 src;
	uint64_t id = 0;

	return homa_receive(fx.fd[FD_SERVER], big, sizeof(big), MSG_DONTWAIT,
			    (struct sockaddr *)&src, NULL, &id, NULL);
}

static long receive_src_null(void)
{
	socklen_t len = sizeof(struct sockaddr_in6);
	uint64_t id = 0;

	return homa_receive(fx.fd[FD_SERVER], big, sizeof(big), MSG_DONTWAIT,
			    NULL, &len, &id, NULL);
}

static long receive_srclen0(void)
{
	struct sockaddr_in6 src;
	socklen_t len = 0;
	uint64_t id = 0;
	long ret;

	memset(&src, 0xab, sizeof(src));
	ret = homa_receive(fx.fd[FD_SERVER], big, sizeof(big), MSG_DONTWAIT,
			   (struct sockaddr *)&src, &len, &id, NULL);
	/* Nothing written, the full length reported. */
	if (ret == READY_LEN &&
	    (len != sizeof(struct sockaddr_in) || ((uint8_t *)&src)[0] != 0xab))
		return -1000;
	return ret;
}

static long receive_len1(void)
{
	uint64_t id = 0;

	/* The message is cut to the buffer; its full length returned. */
	big[1] = 0xee;
	if (homa_receive(fx.fd[FD_SERVER], big, 1, MSG_DONTWAIT, NULL, NULL,
			 &id, NULL) != READY_LEN ||
	    big[0] != '0' || big[1] != 0xee)
		return -1000;
	return 0;
}

static long receive_id_cookie_null(void)
{
	return homa_receive(fx.fd[FD_SERVER], big, sizeof(big), MSG_DONTWAIT,
			    NULL, NULL, NULL, NULL);
}

static long config_name_null(void)
{
	return homa_config_param(NULL, "1");
}

static long config_value_null(void)
{
	return homa_config_param("unsched_bytes", NULL);
}

static long metrics_fn_null(void)
{
	return homa_metrics_read(NULL, NULL);
}

static void count_metric(void *arg, const char *name, uint64_t value)
{
	(void)name;
	(void)value;
	if (arg)
		(*(int *)arg)++;
}

static long metrics_arg_null(void)
{
	return homa_metrics_read(count_metric, NULL);
}

static long strings_not_null(void)
{
	return homa_last_error() && homa_version() ? 0 : -1000;
}

/* What a row needs before its call. */
enum setup { S_NONE, S_READY };

/* What must hold after a refused call at the server. */
enum after { A_NONE, A_KEPT };

static void test_pointers__table(void **state)
{
	static const struct {
		const char *call, *what;
		long (*fn)(void);
		enum setup setup;
		enum after after;
		int expect;
	} rows[] = {
		{ "homa_bind", "addr NULL", bind_null, S_NONE, A_NONE, EFAULT },
		{ "homa_bind", "addrlen 0", bind_len0, S_NONE, A_NONE, EINVAL },
		{ "homa_setsockopt", "SERVER optval NULL", setopt_server_null,
		  S_NONE, A_NONE, EFAULT },
		{ "homa_setsockopt", "SERVER optlen 0", setopt_server_len0,
		  S_NONE, A_NONE, EINVAL },
		{ "homa_setsockopt", "RCVBUF optval NULL", setopt_rcvbuf_null,
		  S_NONE, A_NONE, EFAULT },
		{ "homa_setsockopt", "RCVBUF optlen 0", setopt_rcvbuf_len0,
		  S_NONE, A_NONE, EINVAL },
		{ "homa_setsockopt", "SO_RCVTIMEO optval NULL",
		  setopt_rcvtimeo_null, S_NONE, A_NONE, EFAULT },
		{ "homa_setsockopt", "SO_RCVTIMEO optlen 4",
		  setopt_rcvtimeo_short, S_NONE, A_NONE, EINVAL },
		{ "homa_getsockopt", "optval NULL", getopt_val_null, S_NONE,
		  A_NONE, EFAULT },
		{ "homa_getsockopt", "optlen NULL", getopt_len_null, S_NONE,
		  A_NONE, EFAULT },
		{ "homa_getsockopt", "*optlen 0", getopt_len0, S_NONE, A_NONE,
		  EINVAL },
		{ "homa_getsockopt", "RCVBUF *optlen 15", getopt_rcvbuf_short,
		  S_NONE, A_NONE, EINVAL },
		{ "homa_sendmsg", "msg NULL", send_msg_null, S_NONE, A_NONE,
		  EFAULT },
		{ "homa_sendmsg", "msg_control NULL", send_control_null, S_NONE,
		  A_NONE, EFAULT },
		{ "homa_sendmsg", "msg_name NULL", send_name_null, S_NONE,
		  A_NONE, EINVAL },
		{ "homa_sendmsg", "msg_namelen 0", send_namelen0, S_NONE,
		  A_NONE, EINVAL },
		{ "homa_sendmsg", "msg_iov NULL, msg_iovlen 2", send_iov_null,
		  S_NONE, A_NONE, EFAULT },
		{ "homa_sendmsg", "iov_base NULL, iov_len 5", send_base_null,
		  S_NONE, A_NONE, EFAULT },
		{ "homa_sendmsg", "iov_base NULL, iov_len 0",
		  send_base_null_empty, S_NONE, A_NONE, 0 },
		{ "homa_sendmsg", "msg_iovlen 0 (empty message)", send_iovlen0,
		  S_NONE, A_NONE, EINVAL },
		{ "homa_sendmsg", "msg_iovlen 2^30", send_iovlen_huge, S_NONE,
		  A_NONE, EINVAL },
		{ "homa_recvmsg", "msg NULL", recv_msg_null, S_READY, A_KEPT,
		  EFAULT },
		{ "homa_recvmsg", "msg_control NULL", recv_control_null,
		  S_READY, A_KEPT, EINVAL },
		{ "homa_recvmsg", "msg_controllen 0", recv_controllen0, S_READY,
		  A_KEPT, EINVAL },
		{ "homa_recvmsg", "msg_controllen 4 short",
		  recv_controllen_short, S_READY, A_KEPT, EINVAL },
		{ "homa_recvmsg", "msg_name NULL (no address)", recv_name_null,
		  S_READY, A_NONE, 0 },
		{ "homa_recvmsg", "msg_namelen 0 (full length)", recv_namelen0,
		  S_READY, A_NONE, 0 },
		{ "homa_ioctl", "INFO arg NULL", ioctl_info_null, S_NONE,
		  A_NONE, EFAULT },
		{ "homa_ioctl", "ABORT arg NULL", ioctl_abort_null, S_NONE,
		  A_NONE, EFAULT },
		{ "homa_ioctl", "INFO rpc_info NULL, 10 records",
		  ioctl_info_buf_null, S_NONE, A_NONE, EFAULT },
		{ "homa_ioctl", "INFO rpc_info NULL, under 1 record",
		  ioctl_info_buf_short, S_NONE, A_NONE, 0 },
		{ "homa_request", "buf NULL, length 10", request_buf_null,
		  S_NONE, A_NONE, EFAULT },
		{ "homa_request", "buf NULL, length 0", request_buf_null_len0,
		  S_NONE, A_NONE, EINVAL },
		{ "homa_request", "dest NULL", request_dest_null, S_NONE,
		  A_NONE, EFAULT },
		{ "homa_request", "destlen 0", request_destlen0, S_NONE, A_NONE,
		  EINVAL },
		{ "homa_request", "id NULL (not wanted)", request_id_null,
		  S_NONE, A_NONE, 0 },
		{ "homa_reply", "buf NULL, length 10", reply_buf_null, S_READY,
		  A_NONE, EFAULT },
		{ "homa_reply", "src NULL", reply_src_null, S_READY, A_NONE,
		  EFAULT },
		{ "homa_reply", "srclen 0", reply_srclen0, S_READY, A_NONE,
		  EINVAL },
		{ "homa_receive", "buf NULL, length 100", receive_buf_null,
		  S_READY, A_KEPT, EFAULT },
		{ "homa_receive", "buf NULL, length 0 (drop)",
		  receive_buf_null_len0, S_READY, A_NONE, 0 },
		{ "homa_receive", "src given, srclen NULL", receive_srclen_null,
		  S_READY, A_KEPT, EFAULT },
		{ "homa_receive", "src NULL, srclen given", receive_src_null,
		  S_READY, A_NONE, 0 },
		{ "homa_receive", "*srclen 0 (full length)", receive_srclen0,
		  S_READY, A_NONE, 0 },
		{ "homa_receive", "length 1 (cut short)", receive_len1, S_READY,
		  A_NONE, 0 },
		{ "homa_receive", "id and cookie NULL", receive_id_cookie_null,
		  S_READY, A_NONE, 0 },
		{ "homa_config_param", "name NULL", config_name_null, S_NONE,
		  A_NONE, EFAULT },
		{ "homa_config_param", "value NULL", config_value_null, S_NONE,
		  A_NONE, EFAULT },
		{ "homa_metrics_read", "fn NULL", metrics_fn_null, S_NONE,
		  A_NONE, EFAULT },
		{ "homa_metrics_read", "arg NULL", metrics_arg_null, S_NONE,
		  A_NONE, 0 },
		{ "homa_last_error", "homa_version: not NULL", strings_not_null,
		  S_NONE, A_NONE, 0 },
	};
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct sockaddr_in6 client;
		socklen_t len;
		uint64_t id;
		long ret;
		int err;

		if (rows[i].setup == S_READY)
			assert_int_equal(ready_request(), 0);
		errno = 0;
		ret = rows[i].fn();
		err = errno;
		if (ret <= -1000) {
			printf("  BAD  %-17s %s: wrong outputs\n", rows[i].call,
			       rows[i].what);
			bad++;
			continue;
		}
		check(&bad, rows[i].call, rows[i].what, ret, err,
		      rows[i].expect);
		if (rows[i].after == A_KEPT &&
		    !request_still_there(&client, &len, &id)) {
			printf("       the ready request was lost\n");
			bad++;
		}
		/* Nothing left over for the next row (a request a row sent
		 * arrives within microseconds on loopback). */
		usleep(20000);
		while (homa_receive(fx.fd[FD_SERVER], big, sizeof(big),
				    MSG_DONTWAIT, NULL, NULL, NULL, NULL) >= 0)
			;
	}
	assert_int_equal(bad, 0);
}

/* homa_config_param's message names the parameter and the value, before
 * the first socket (first test of this program: no instance yet) and
 * after it. */
static void config_rows(const char *when)
{
	static const struct {
		const char *name, *value, *want1, *want2;
	} rows[] = {
		{ "unsched_bytes", "abc", "unsched_bytes", "abc" },
		{ "unsched_bytes", "-5", "unsched_bytes", "-5" },
		{ "no_such_param", "1", "no_such_param", "" },
		{ "datapath", "tcp", "datapath", "" },
	};
	int bad = 0;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *msg;

		errno = 0;
		if (homa_config_param(rows[i].name, rows[i].value) == 0 ||
		    errno != EINVAL) {
			printf("  BAD  %s %s=%s: not EINVAL\n", when,
			       rows[i].name, rows[i].value);
			bad++;
			continue;
		}
		msg = homa_last_error();
		printf("  %-4s %s %s=%s -> \"%s\"\n",
		       strstr(msg, rows[i].want1) && strstr(msg, rows[i].want2)
			       ? "ok"
			       : "BAD",
		       when, rows[i].name, rows[i].value, msg);
		if (!strstr(msg, rows[i].want1) || !strstr(msg, rows[i].want2))
			bad++;
	}
	assert_int_equal(bad, 0);
}

static void test_config__names_the_parameter(void **state)
{
	int fd;

	(void)state;
	config_rows("before the first socket:");
	fd = homa_socket(AF_INET);
	assert_true(fd >= 0);
	config_rows("with a socket:");
	errno = 0;
	assert_int_equal(homa_config_param("mtu", "9000"), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(homa_last_error(), "mtu"));
	homa_close(fd);
}

/* lib.h (src/api): warn about unknown HOMA_* variables. */
int homa_lib_env_warn(FILE *out);

/* Every variable the project reads is known; a misspelt one is warned
 * about once, with the closest real name when one is near. */
static void test_env__warns_only_unknown(void **state)
{
	static const char *const lib_vars[] = {
		"HOMA_DATAPATH",     "HOMA_GSO",	  "HOMA_GRO",
		"HOMA_VERIFY_CSUM",  "HOMA_PATH_MTU",	  "HOMA_PRINT_METRICS",
		"HOMA_WORKLOAD_DIR", "HOMA_REQUIRE_ROOT", "HOMA_WERROR",
		"HOMA_FUZZ_SECONDS", "HOMA_UDP_CONNECT",
	};
	char var[64], *text = NULL;
	const char *name;
	size_t bytes = 0;
	FILE *out;
	int n;

	(void)state;
	for (int i = 0; (name = homa_config_name(i)); i++) {
		snprintf(var, sizeof(var), "HOMA_%s", name);
		for (size_t k = 5; var[k]; k++)
			var[k] = (char)(var[k] >= 'a' && var[k] <= 'z'
						? var[k] - 'a' + 'A'
						: var[k]);
		setenv(var, "1", 1);
	}
	for (size_t i = 0; i < sizeof(lib_vars) / sizeof(*lib_vars); i++)
		setenv(lib_vars[i], "1", 1);
	setenv("HOMA_LNK_MBPS", "100", 1);
	setenv("HOMA_XYZZY", "1", 1);
	out = open_memstream(&text, &bytes);
	assert_non_null(out);
	n = homa_lib_env_warn(out);
	fclose(out);
	printf("%s", text);
	assert_int_equal(n, 2);
	assert_non_null(
		strstr(text, "HOMA_LNK_MBPS is not a libhoma variable"));
	assert_null(strstr(strstr(text, "HOMA_LNK_MBPS is") + 1,
			   "HOMA_LNK_MBPS is"));
	assert_non_null(strstr(text, "did you mean HOMA_LINK_MBPS?"));
	assert_non_null(strstr(text, "HOMA_XYZZY is not a libhoma variable "
				     "and is ignored (see"));
	free(text);
	unsetenv("HOMA_LNK_MBPS");
	unsetenv("HOMA_XYZZY");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config__names_the_parameter),
		cmocka_unit_test(test_env__warns_only_unknown),
		cmocka_unit_test_setup_teardown(test_pointers__table,
						fixture_up, fixture_down),
	};

	setvbuf(stdout, NULL, _IONBF, 0); /* rows show before a crash */
	alarm(120);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
