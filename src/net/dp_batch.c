/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dp_batch.c - the transmit batch shared by the datapaths: packets the
 * core hands over are copied into one contiguous buffer (the core's
 * pointers are valid only during its callback) and sent with as few
 * system calls as possible: sendmmsg over runs of packets for the same
 * socket, and, where allowed, one UDP GSO send (UDP_SEGMENT) for a run of
 * packets with the same destination, priority and size (the last may be
 * shorter). Each GSO segment is a whole Homa packet with its own header.
 * Large payloads need not be copied: the send then gathers each header
 * from the batch and its payload from the core's message (zero_copy),
 * and the library flushes before the core frees such memory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>

#include "datapath.h"

/* Bytes per GSO send: the most an IPv6 datagram carries (65,535 less the
 * 40-byte IPv6 and 8-byte UDP headers; IPv4 allows 20 more). 44 packets
 * of 1,472 bytes (a 1500 MTU) fit: a frame as large as a TCP one. */
#define DP_GSO_MAX_BYTES 65487
#define DP_GSO_MAX_SEGS	 64 /* segments per GSO send */
#define DP_GRANT_ID_END	 28 /* end of the common header, bytes */

static uint32_t dp_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* A GRANT queued in b that p (a GRANT) supersedes: same socket,
 * destination, ports and RPC, and p's offset above its own. Such a
 * GRANT carries nothing p does not (the receiver keeps the largest offset
 * and adopts the latest priority, spec 2), so p takes its place instead
 * of going out as one more packet. A GRANT repeating the offset is a
 * nudge (the receiver waits, idle, for bytes it granted), which the
 * sender tells from a new grant only by seeing both: it is kept. NULL if
 * none. */
static struct homa_dp_pkt *dp_grant_superseded(struct homa_dp_batch *b, int fd,
					       const struct sockaddr_in6 *dst,
					       socklen_t dst_len,
					       const struct homa_out_pkt *p)
{
	if (p->type != HOMA_PKT_GRANT || p->hdr_bytes != HOMA_WIRE_GRANT_BYTES)
		return NULL;
	for (int i = b->num_pkts - 1; i >= 0; i--) {
		struct homa_dp_pkt *q = &b->pkts[i];
		const uint8_t *h = b->tx_buf + q->off;

		if (q->fd != fd || q->bytes != HOMA_WIRE_GRANT_BYTES ||
		    h[HOMA_WIRE_OFF_TYPE] != HOMA_PKT_GRANT ||
		    q->dst_len != dst_len || memcmp(&q->dst, dst, dst_len) != 0)
			continue;
		/* ports, type, and (after the checksum) the RPC id */
		if (memcmp(h, p->hdr, HOMA_WIRE_OFF_CHECKSUM) != 0 ||
		    memcmp(h + HOMA_WIRE_OFF_CHECKSUM + 4,
			   p->hdr + HOMA_WIRE_OFF_CHECKSUM + 4,
			   DP_GRANT_ID_END - HOMA_WIRE_OFF_CHECKSUM - 4) != 0)
			continue;
		if (dp_be32(p->hdr + DP_GRANT_ID_END) <=
		    dp_be32(h + DP_GRANT_ID_END))
			return NULL; /* an older offset, or a nudge: keep both */
		return q;
	}
	return NULL;
}

/* Make p's destination b's last one (last_sa, for a socket of IPv6 or
 * not). */
static void dp_batch_dst(struct homa_dp_batch *b, bool v6_socket,
			 const struct homa_out_pkt *p)
{
	b->last_addr = *p->dst;
	b->last_port = p->dport;
	b->last_v6 = v6_socket;
	if (v6_socket) {
		/* An IPv6 socket reaches IPv4 peers by mapped addresses. */
		memset(&b->last_sa, 0, sizeof(b->last_sa));
		b->last_sa.sin6_family = AF_INET6;
		b->last_sa.sin6_port = htons(p->dport);
		memcpy(&b->last_sa.sin6_addr, p->dst->a, 16);
		b->last_sa_len = sizeof(b->last_sa);
	} else {
		b->last_sa_len = (socklen_t)homa_dp_sa_from_addr(
			p->dst, p->dport, &b->last_sa);
	}
}

/* The payloads queued without a copy lie in [zc_lo, zc_hi): add
 * [p, p + bytes). */
static void dp_zc_extend(struct homa_dp_batch *b, const uint8_t *p,
			 uint32_t bytes)
{
	uintptr_t lo = (uintptr_t)p;

	if (b->zc_lo == b->zc_hi) { /* none yet */
		b->zc_lo = lo;
		b->zc_hi = lo + bytes;
		return;
	}
	if (lo < b->zc_lo)
		b->zc_lo = lo;
	if (lo + bytes > b->zc_hi)
		b->zc_hi = lo + bytes;
}

static void dp_batch_flush_full(struct homa_dp *dp, struct homa_dp_batch *b);

/* The rest of homa_dp_batch_add (datapath.h): a dropped packet, a new
 * destination, a GRANT that may replace one queued, a full batch, a
 * payload left in place, or a header and payload apart. */
uint8_t *homa_dp_batch_add_slow(struct homa_dp *dp, struct homa_dp_batch *b,
				int fd, int conn_fd, bool v6_socket,
				bool zero_copy, const struct homa_out_pkt *p)
{
	uint32_t bytes = p->hdr_bytes + p->payload_bytes;
	bool zc = zero_copy && p->payload_bytes >= HOMA_DP_ZC_MIN_BYTES;
	const struct sockaddr_in6 *dst = &b->last_sa;
	struct homa_dp_pkt *q;
	uint8_t *data;

	if (fd < 0 || bytes > HOMA_DP_PKT_MAX) {
		dp->tx_errors++;
		return NULL;
	}
	if (!homa_dp_batch_same_dst(b, v6_socket, p))
		dp_batch_dst(b, v6_socket, p);
	q = dp_grant_superseded(b, fd, dst, b->last_sa_len, p);
	if (q) {
		data = b->tx_buf + q->off;
		memcpy(data, p->hdr, p->hdr_bytes);
		q->tos = (uint8_t)(p->priority << HOMA_WIRE_TOS_PRIO_SHIFT);
		dp->tx_merged++;
		return data;
	}
	if (b->num_pkts == HOMA_DP_BATCH_PKTS)
		dp_batch_flush_full(dp, b);
	q = &b->pkts[b->num_pkts++];
	q->fd = fd;
	q->conn_fd = conn_fd;
	q->dst = *dst;
	q->dst_len = b->last_sa_len;
	q->tos = (uint8_t)(p->priority << HOMA_WIRE_TOS_PRIO_SHIFT);
	q->off = b->tx_used;
	q->bytes = bytes;
	q->payload = zc ? p->payload : NULL;
	q->payload_bytes = zc ? p->payload_bytes : 0;
	data = b->tx_buf + b->tx_used;
	memcpy(data, p->hdr, p->hdr_bytes);
	if (zc) {
		dp_zc_extend(b, p->payload, p->payload_bytes);
	} else if (p->payload_bytes) {
		memcpy(data + p->hdr_bytes, p->payload, p->payload_bytes);
	}
	b->tx_used += bytes - q->payload_bytes;
	return data;
}

void homa_dp_batch_release(struct homa_dp *dp, struct homa_dp_batch *b,
			   const void *p, size_t bytes)
{
	uintptr_t lo = (uintptr_t)p;

	if (b->zc_lo != b->zc_hi && lo < b->zc_hi && lo + bytes > b->zc_lo)
		homa_dp_batch_flush(dp, b);
}

/* Number of packets from i on that can go in one GSO send. */
static int dp_gso_run(const struct homa_dp_batch *b, int i)
{
	const struct homa_dp_pkt *a = &b->pkts[i];
	uint32_t total = a->bytes;
	int n = 1;

	if (!b->gso || b->gso_refused)
		return 1;
	while (i + n < b->num_pkts && n < DP_GSO_MAX_SEGS) {
		const struct homa_dp_pkt *c = &b->pkts[i + n];

		if (c->fd != a->fd || c->conn_fd != a->conn_fd ||
		    c->tos != a->tos || c->dst_len != a->dst_len ||
		    memcmp(&c->dst, &a->dst, a->dst_len) != 0 ||
		    c->bytes > a->bytes || total + c->bytes > DP_GSO_MAX_BYTES)
			break;
		total += c->bytes;
		n++;
		if (c->bytes < a->bytes)
			break; /* only the last segment may be short */
	}
	return n;
}

void homa_dp_batch_sock_tos(struct homa_dp_batch *b, int fd, int family)
{
	int tos = HOMA_DP_SOCK_PRIO << HOMA_WIRE_TOS_PRIO_SHIFT;

	if (family != AF_INET)
		return;
	if (setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos)) < 0)
		b->sock_tos_set = false; /* control messages for all */
}

union dp_cmsg {
	char buf[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(uint16_t))];
	struct cmsghdr align;
};

/* Whether q needs an IP_TOS / IPV6_TCLASS control message. A packet with
 * its socket's own TOS needs none: the kernel parses one per send (most
 * round trips need none). */
static bool dp_tos_cmsg(const struct homa_dp_batch *b,
			const struct homa_dp_pkt *q)
{
	return !(b->sock_tos_set && q->dst.sin6_family == AF_INET &&
		 q->tos == b->sock_tos);
}

/* Fill m for packets [i, i+n) of b, gathering their bytes into iov (at
 * most 2n entries): runs of copied bytes, which lie contiguous in tx_buf,
 * and payloads left in place. Returns the entries used. */
static int dp_fill_msg(struct homa_dp_batch *b, int i, int n, struct msghdr *m,
		       struct iovec *iov, union dp_cmsg *c)
{
	struct homa_dp_pkt *q = &b->pkts[i];
	struct cmsghdr *cm;
	int tos = q->tos, niov = 0;
	bool tos_cmsg;

	for (int k = 0; k < n; k++) {
		const struct homa_dp_pkt *e = &b->pkts[i + k];
		uint8_t *copied = b->tx_buf + e->off;
		size_t len = e->bytes - e->payload_bytes;

		if (niov &&
		    (uint8_t *)iov[niov - 1].iov_base + iov[niov - 1].iov_len ==
			    copied)
			iov[niov - 1].iov_len += len;
		else
			iov[niov++] = (struct iovec){ copied, len };
		if (e->payload)
			iov[niov++] = (struct iovec){ (void *)e->payload,
						      e->payload_bytes };
	}
	memset(m, 0, sizeof(*m));
	if (q->conn_fd < 0) { /* a connected socket's send takes no name */
		m->msg_name = &q->dst;
		m->msg_namelen = q->dst_len;
	}
	m->msg_iov = iov;
	m->msg_iovlen = (size_t)niov;
	tos_cmsg = dp_tos_cmsg(b, q);
	if (tos_cmsg)
		m->msg_controllen = CMSG_SPACE(sizeof(int));
	if (n > 1)
		m->msg_controllen += CMSG_SPACE(sizeof(uint16_t));
	if (!m->msg_controllen)
		return niov;
	memset(c, 0, sizeof(*c));
	m->msg_control = c->buf;
	cm = CMSG_FIRSTHDR(m);
	if (tos_cmsg) {
		cm->cmsg_level = q->dst.sin6_family == AF_INET ? IPPROTO_IP
							       : IPPROTO_IPV6;
		cm->cmsg_type =
			q->dst.sin6_family == AF_INET ? IP_TOS : IPV6_TCLASS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &tos, sizeof(int));
		cm = CMSG_NXTHDR(m, cm);
	}
	if (n > 1) {
		uint16_t seg = (uint16_t)q->bytes;

		cm->cmsg_level = SOL_UDP;
		cm->cmsg_type = UDP_SEGMENT;
		cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
		memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
	}
	return niov;
}

/* Reset b once its packets are handed over (or counted lost). */
static void dp_batch_reset(struct homa_dp_batch *b)
{
	b->num_pkts = 0;
	b->tx_used = 0;
	b->zc_lo = b->zc_hi = 0;
}

/* A send from conn_fd failed with err: true if the datapath took that
 * socket out of use (b->conn_err), so that the packets are to go again
 * from the port's socket. A full socket buffer is not the connection's
 * fault: such packets are lost as from any socket. */
static bool dp_conn_failed(struct homa_dp *dp, struct homa_dp_batch *b,
			   int conn_fd, int err)
{
	if (!b->conn_err || err == EAGAIN || err == EWOULDBLOCK ||
	    err == ENOBUFS)
		return false;
	b->conn_err(dp, conn_fd, err);
	return true;
}

/*
 * The lone packet homa_dp_batch_flush_one does not send with sendto (a
 * payload left in place, a control message, or again after its connected
 * socket failed): one sendmsg, without the arrays sized for a full batch.
 */
static __attribute__((noinline)) void dp_flush_msg(struct homa_dp *dp,
						   struct homa_dp_batch *b)
{
	struct homa_dp_pkt *q = &b->pkts[0];
	struct iovec iov[2];
	union dp_cmsg cm;
	struct msghdr m;
	long r;

	for (;;) {
		int fd = q->conn_fd >= 0 ? q->conn_fd : q->fd;

		dp_fill_msg(b, 0, 1, &m, iov, &cm);
		r = homa_dp_syscall(SYS_sendmsg, (long)fd, (long)&m,
				    (long)MSG_DONTWAIT, 0, 0, 0);
		dp->tx_calls++;
		if (r >= 0 || q->conn_fd < 0 ||
		    !dp_conn_failed(dp, b, fd, errno))
			break;
		q->conn_fd = -1; /* again, from the port's socket */
	}
	if (r >= 0)
		dp->tx_pkts++;
	else
		dp->tx_errors++;
	dp_batch_reset(b);
}

/*
 * The flush of a batch of one packet (a small round trip's usual case).
 * A packet copied whole that needs no control message goes out with
 * sendto: the kernel then copies in no msghdr and imports no iovec
 * (copy_msghdr_from_user and import_iovec were 9 % of the kernel time of
 * a 100-byte Homa sendmsg on loopback, perf), and nothing here builds
 * them; any other, dp_flush_msg. Both without glibc's wrappers, which are
 * cancellation points: the library lock is held here. Every send passes
 * MSG_DONTWAIT: the UDP datapath's sockets are blocking (its rx_sleep
 * sleeps in them).
 */
void homa_dp_batch_flush_one(struct homa_dp *dp, struct homa_dp_batch *b)
{
	struct homa_dp_pkt *q = &b->pkts[0];
	long r;

	if (q->payload || dp_tos_cmsg(b, q)) {
		dp_flush_msg(dp, b);
		return;
	}
	if (q->conn_fd >= 0) /* a connected socket's send takes no name */
		r = homa_dp_syscall(SYS_sendto, (long)q->conn_fd,
				    (long)(b->tx_buf + q->off), (long)q->bytes,
				    (long)MSG_DONTWAIT, 0L, 0L);
	else
		r = homa_dp_syscall(SYS_sendto, (long)q->fd,
				    (long)(b->tx_buf + q->off), (long)q->bytes,
				    (long)MSG_DONTWAIT, (long)&q->dst,
				    (long)q->dst_len);
	dp->tx_calls++;
	if (__builtin_expect(r < 0, 0)) {
		/* A connected socket's error: out of use, and the packet
		 * goes again from the port's socket. */
		if (q->conn_fd >= 0 &&
		    dp_conn_failed(dp, b, q->conn_fd, errno)) {
			q->conn_fd = -1;
			dp_flush_msg(dp, b);
			return;
		}
		dp->tx_errors++;
	} else {
		dp->tx_pkts++;
	}
	dp_batch_reset(b);
}

/* Send packets [0, count) of b (count: the start of a GSO run, or all),
 * several in one system call. */
static void dp_batch_send(struct homa_dp *dp, struct homa_dp_batch *b,
			  int count)
{
	struct mmsghdr msgs[HOMA_DP_BATCH_PKTS];
	struct iovec iovs[2 * HOMA_DP_BATCH_PKTS];
	union dp_cmsg cms[HOMA_DP_BATCH_PKTS];
	int counts[HOMA_DP_BATCH_PKTS], fds[HOMA_DP_BATCH_PKTS];
	int firsts[HOMA_DP_BATCH_PKTS];
	int nmsg = 0, niov = 0;

	for (int i = 0; i < count;) {
		int n = dp_gso_run(b, i);

		const struct homa_dp_pkt *q = &b->pkts[i];

		fds[nmsg] = q->conn_fd >= 0 ? q->conn_fd : q->fd;
		firsts[nmsg] = i;
		niov += dp_fill_msg(b, i, n, &msgs[nmsg].msg_hdr, &iovs[niov],
				    &cms[nmsg]);
		counts[nmsg++] = n;
		i += n;
	}
	/* sendmmsg takes one socket: send each run of messages per fd. */
	for (int m = 0; m < nmsg;) {
		int end = m + 1, sent;

		while (end < nmsg && fds[end] == fds[m])
			end++;
		sent = sendmmsg(fds[m], &msgs[m], (unsigned)(end - m),
				MSG_DONTWAIT);
		dp->tx_calls++;
		if (sent < 0 && b->pkts[firsts[m]].conn_fd == fds[m] &&
		    dp_conn_failed(dp, b, fds[m], errno)) {
			/* again, from the port's socket, with names (and
			 * so the packets kept for the next flush) */
			for (int k = count; k < b->num_pkts; k++)
				if (b->pkts[k].conn_fd == fds[m])
					b->pkts[k].conn_fd = -1;
			for (int k = m; k < end; k++) {
				struct homa_dp_pkt *q = &b->pkts[firsts[k]];

				msgs[k].msg_hdr.msg_name = &q->dst;
				msgs[k].msg_hdr.msg_namelen = q->dst_len;
			}
			sent = sendmmsg(b->pkts[firsts[m]].fd, &msgs[m],
					(unsigned)(end - m), MSG_DONTWAIT);
			dp->tx_calls++;
		}
		if (sent < 0 && errno == EIO && b->gso)
			b->gso_refused = true; /* no GSO on this path */
		for (int k = m; k < end; k++) {
			if (sent >= 0 && k - m < sent)
				dp->tx_pkts += (uint64_t)counts[k];
			else
				dp->tx_errors += (uint64_t)counts[k];
		}
		m = end;
	}
}

void homa_dp_batch_flush_many(struct homa_dp *dp, struct homa_dp_batch *b)
{
	dp_batch_send(dp, b, b->num_pkts);
	dp_batch_reset(b);
}

/*
 * The flush of a full batch, with more packets coming: every GSO run but
 * the last goes, and the last stays, moved to the front, if it could
 * still grow (it ends at the batch's end, below both GSO limits, every
 * segment of its size). So the packets of a long message leave in whole
 * frames, DP_GSO_MAX_BYTES each, not a whole one and the batch's rest
 * (64 packets of 1,472 bytes were a frame of 43 and one of 21: 24 frames
 * per MB over a veth where TCP sends 16). The kept packets leave with
 * those queued after them, at the library's next flush.
 */
static void dp_batch_flush_full(struct homa_dp *dp, struct homa_dp_batch *b)
{
	int last = 0, keep, n = 0;
	uint32_t total = 0, from;

	for (int i = 0; i < b->num_pkts; i += n) {
		last = i;
		n = dp_gso_run(b, i);
	}
	for (int i = last; i < b->num_pkts; i++)
		total += b->pkts[i].bytes;
	keep = b->num_pkts - last;
	if (!last || !b->gso || b->gso_refused || keep >= DP_GSO_MAX_SEGS ||
	    b->pkts[b->num_pkts - 1].bytes != b->pkts[last].bytes ||
	    total + b->pkts[last].bytes > DP_GSO_MAX_BYTES) {
		homa_dp_batch_flush(dp, b);
		return;
	}
	dp_batch_send(dp, b, last);
	from = b->pkts[last].off;
	memmove(b->tx_buf, b->tx_buf + from, b->tx_used - from);
	memmove(b->pkts, b->pkts + last, (size_t)keep * sizeof(b->pkts[0]));
	b->num_pkts = keep;
	b->tx_used -= from;
	b->zc_lo = b->zc_hi = 0;
	for (int i = 0; i < keep; i++) {
		b->pkts[i].off -= from;
		if (b->pkts[i].payload)
			dp_zc_extend(b, b->pkts[i].payload,
				     b->pkts[i].payload_bytes);
	}
}
