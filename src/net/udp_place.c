/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * udp_place.c - the UDP datapath's rx_place, and its reads of several
 * slots or sockets: each socket reads with recvmmsg into the slots the
 * sockets before it left free, and on the socket the core reserved
 * places for, a packet's payload lands straight in the pool (the header
 * in the slot's buffer, the rest after it, for homa_place_gather if the
 * guess was wrong). Once that socket's packets came coalesced, a read
 * lays one buffer out for a run of segments of that size
 * (udp_gro_layout). The usual one-slot read is udp_rx_lone_in
 * (udp_impl.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "udp_impl.h"

/* The iovecs of one packet read into place pl, its header at hdr:
 * returns how many were written at v (at most 1 + HOMA_PLACE_SPANS). */
static int udp_place_iov(struct iovec *v, uint8_t *hdr,
			 const struct homa_place *pl)
{
	int k = 0;

	v[k++] = (struct iovec){ hdr, HOMA_PLACE_HDR };
	for (int j = 0; j < HOMA_PLACE_SPANS; j++)
		if (pl->span_bytes[j])
			v[k++] = (struct iovec){ pl->span[j],
						 pl->span_bytes[j] };
	return k;
}

/* Point the first n slots of msgs (buffers of buf_bytes at bufs) at the
 * places pl: header into the slot's buffer, payload into the spans, the
 * rest after room left in the buffer for homa_place_gather. */
static int udp_place_slots(struct mmsghdr *msgs, struct iovec *piovs,
			   uint8_t *bufs, size_t buf_bytes,
			   const struct homa_place *pl, int n)
{
	for (int i = 0; i < n; i++) {
		struct iovec *v = &piovs[i * (HOMA_PLACE_SPANS + 2)];
		uint8_t *buf = bufs + (size_t)i * buf_bytes;
		size_t used = HOMA_PLACE_HDR + pl[i].bytes;
		int k;

		if (used >= buf_bytes)
			return i; /* no room to gather it: read as usual */
		k = udp_place_iov(v, buf, &pl[i]);
		v[k++] = (struct iovec){ buf + used, buf_bytes - used };
		msgs[i].msg_hdr.msg_iov = v;
		msgs[i].msg_hdr.msg_iovlen = (size_t)k;
	}
	return n;
}

/* Segment size of the coalesced buffers this thread last read from the
 * socket it places into (0: none arrived coalesced): the next read into
 * places expects one such buffer (udp_gro_layout). */
static __thread size_t udp_gro_last;

/* Note message i of a read from the placing socket (udp_gro_last: the
 * largest segment size of the read's coalesced buffers, 0 if none). */
static void udp_gro_note(struct msghdr *m, size_t len, int i)
{
	int gro = udp_gro_seg(m);

	if (i == 0)
		udp_gro_last = 0;
	if (gro > 0 && (size_t)gro < len && (size_t)gro > udp_gro_last)
		udp_gro_last = (size_t)gro;
}

/* How many of the places pl[0..n) one coalesced buffer of segments of
 * seg bytes can fill, from the first: each must take a whole segment's
 * payload (seg - HOMA_PLACE_HDR bytes), and their headers with room to
 * gather them must fit buf_bytes (the slot reads at most buf_bytes in
 * all however many segments are placed). */
static int udp_gro_places(const struct homa_place *pl, int n, size_t seg,
			  size_t buf_bytes)
{
	int k = 0;

	if (seg <= HOMA_PLACE_HDR)
		return 0;
	while (k < n && (size_t)(k + 1) * seg <= buf_bytes) {
		size_t bytes = 0;

		for (int j = 0; j < HOMA_PLACE_SPANS; j++)
			bytes += pl[k].span_bytes[j];
		if (pl[k].bytes != seg - HOMA_PLACE_HDR || bytes != pl[k].bytes)
			break;
		k++;
	}
	return k;
}

/* Point slot m (buffer buf) at the places pl[0..k) for a buffer coalesced
 * from segments of seg bytes: segment j's header at buf + j * seg (the
 * rest of those seg bytes is room for homa_place_gather), its payload
 * in pl[j]'s spans; the segments after the k-th at buf + k * seg. */
static void udp_gro_layout(struct msghdr *m, struct iovec *v, uint8_t *buf,
			   size_t buf_bytes, const struct homa_place *pl, int k,
			   size_t seg)
{
	int n = 0;

	for (int j = 0; j < k; j++)
		n += udp_place_iov(v + n, buf + (size_t)j * seg, &pl[j]);
	v[n++] = (struct iovec){ buf + (size_t)k * seg,
				 buf_bytes - (size_t)k * seg };
	m->msg_iov = v;
	m->msg_iovlen = (size_t)n;
}

/* Whether the headers of the first k segments (seg bytes each, len in
 * all) at buf + j * seg are Homa packets of the first one's port pair
 * (homa_dp_gro_split checks the rest). */
static bool udp_gro_heads_ok(const uint8_t *buf, size_t len, size_t seg, int k)
{
	for (int j = 0; j < k && (size_t)j * seg < len; j++) {
		const uint8_t *h = buf + (size_t)j * seg;
		size_t bytes = len - (size_t)j * seg;

		if (bytes > seg)
			bytes = seg;
		if (bytes < HOMA_WIRE_COMMON_BYTES ||
		    (h[HOMA_WIRE_OFF_TYPE] == HOMA_PKT_DATA &&
		     bytes < HOMA_WIRE_DATA_BYTES) ||
		    memcmp(h, buf, HOMA_WIRE_OFF_DPORT + 2) != 0)
			return false;
	}
	return true;
}

/*
 * Deliver what slot m read with udp_gro_layout(k places, segments of seg
 * bytes at buf): the segments in places through placed, the others
 * through deliver. A buffer that does not fit the layout (another segment
 * size, a single longer packet) is copied back into one piece first and
 * split as usual. Returns the packets delivered.
 */
static int udp_gro_deliver(struct homa_dp *dp, struct msghdr *m, size_t len,
			   uint8_t *buf, int k, size_t seg,
			   homa_dp_deliver_fn deliver, homa_dp_placed_fn placed,
			   void *arg)
{
	int gro = udp_gro_seg(m), pkts = 0;
	size_t s = gro > 0 && (size_t)gro < len ? (size_t)gro : len, tail, t;
	struct homa_addr src;

	if (gro == 0 || (s != seg && !(s < seg && s == len))) {
		uint8_t *flat = homa_dp_thread_buf(2, UDP_RX_BUF);
		struct iovec fv = { flat, len };
		size_t off = 0;

		if (!flat)
			return 0;
		for (size_t i = 0; i < m->msg_iovlen && off < len; i++) {
			size_t n = m->msg_iov[i].iov_len < len - off
					   ? m->msg_iov[i].iov_len
					   : len - off;

			memcpy(flat + off, m->msg_iov[i].iov_base, n);
			off += n;
		}
		m->msg_iov = &fv;
		m->msg_iovlen = 1;
		return udp_deliver_buf(dp, m, len, deliver, arg);
	}
	tail = (size_t)k * s;
	if (s < len) { /* coalesced: check every segment's header */
		if (!udp_gro_heads_ok(buf, len, s, k) ||
		    (tail < len &&
		     (homa_dp_gro_split(buf + tail, len - tail, (int)s, &t) ==
			      0 ||
		      memcmp(buf + tail, buf, HOMA_WIRE_OFF_DPORT + 2) != 0))) {
			HOMA_DP_ADD(dp->rx_gro_bad, 1);
			return 0;
		}
		HOMA_DP_ADD(dp->rx_gro_bufs, 1);
	}
	homa_dp_addr_from_sa(&src, m->msg_name);
	for (int j = 0; j < k && (size_t)j * s < len; j++, pkts++)
		placed(arg, &src, buf + (size_t)j * s,
		       len - (size_t)j * s < s ? len - (size_t)j * s : s, j);
	for (size_t off = tail; off < len; off += s, pkts++)
		deliver(arg, &src, buf + off, len - off < s ? len - off : s);
	return pkts;
}

int udp_rx_place(struct homa_dp *dp, const struct homa_place *pl, int num_pl,
		 uint64_t gen, homa_dp_deliver_fn deliver,
		 homa_dp_placed_fn placed, homa_dp_icmp_fn icmp, void *arg)
{
	struct udp_dp *u = (struct udp_dp *)dp;
	struct homa_dp_rx_ring *r;
	struct iovec piovs[HOMA_PLACE_MAX * (HOMA_PLACE_SPANS + 2)];
	int total = 0, calls = 0, pkts = 0, want = udp_rx_want, place_fd = -1;
	int skip_fd = -1, gro_k = 0;
	size_t gro_seg = udp_gro_last;
	int skip_port = __atomic_load_n(&dp->placing_port, __ATOMIC_SEQ_CST);
	unsigned start;

	if (num_pl > 0 && !__atomic_load_n(&u->gro_live, __ATOMIC_RELAXED))
		/* places: a message of several packets is coming */
		__atomic_store_n(&u->gro_wanted, 1, __ATOMIC_RELAXED);
	udp_conn_report(u, icmp, arg);
	udp_gro_start(u);
	/* Readers pass ports_gate: a socket is not closed (and its number
	 * reused) while some thread may still read from it. */
	homa_dp_gate_enter(&u->ports_gate);
	if (num_pl > HOMA_PLACE_MAX)
		num_pl = HOMA_PLACE_MAX;
	/* Places belong to a socket's pool: not if a port closed since. */
	if (num_pl > 0 && dp->close_gen == gen)
		place_fd = u->port_fd[pl[0].port];
	else if (num_pl == 0 && skip_port >= 0)
		skip_fd = u->port_fd[skip_port]; /* the poller reads it */
	r = homa_dp_rx_ring(u->rx_buf_bytes, u->gro_live);
	if (!r || (skip_fd >= 0 && u->num_ports == 1)) {
		/* Nothing to read for this thread: the poller reads the
		 * only socket. */
		homa_dp_gate_leave(&u->ports_gate);
		return 0;
	}
	/* Each socket reads into the slots the previous ones left free:
	 * the packets delivered so far point into their buffers until the
	 * caller has fed them to the core. The first socket rotates
	 * (fairness). */
	start = __atomic_fetch_add(&u->rx_rotor, 1, __ATOMIC_RELAXED);
	for (int k = 0; k < u->num_ports && total < UDP_RX_MSGS; k++) {
		int fd = u->open_fds[(start + (unsigned)k) %
				     (unsigned)u->num_ports],
		    n, room = UDP_RX_MSGS - total, np = 0, cap, moved;
		struct mmsghdr *msgs = &r->msgs[total];
		struct iovec *iovs = &r->iovs[total];
		uint8_t *b = r->bufs + (size_t)total * u->rx_buf_bytes;

		if (fd == skip_fd)
			continue;
		gro_k = 0;
		/* A read into places offers a slot for each place. */
		cap = fd == place_fd && num_pl > want ? num_pl : want;
		if (room > cap)
			room = cap;
		if (fd == place_fd && gro_seg)
			gro_k = udp_gro_places(pl, num_pl, gro_seg,
					       u->rx_buf_bytes);
		if (gro_k > 0) /* one coalesced buffer expected: slot 0 */
			udp_gro_layout(&msgs[0].msg_hdr, piovs, b,
				       u->rx_buf_bytes, pl, gro_k, gro_seg);
		else if (fd == place_fd)
			np = udp_place_slots(msgs, piovs, b, u->rx_buf_bytes,
					     pl, num_pl < room ? num_pl : room);
		/* Slots pointed at places (or, below, elsewhere): put back
		 * after this read. */
		moved = gro_k > 0 ? 1 : np;
		n = homa_dp_recvmmsg(fd, msgs, (unsigned)room);
		calls++;
		if (n < 0) {
			want = udp_rx_next(want, room, n);
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				homa_dp_rx_reuse(r, total, 1);
				homa_dp_errqueue(fd, NULL, icmp, arg);
			}
			for (int i = 0; i < moved; i++)
				homa_dp_rx_restore(r, total + i);
			continue;
		}
		udp_burst_note(u, msgs, n);
		for (int i = 0; i < n; i++) {
			struct msghdr *m = &msgs[i].msg_hdr;
			size_t len = msgs[i].msg_len;
			struct homa_addr src;
			int seg;

			if (!len) {
				udp_wake_read(u, false);
				continue;
			}
			if (fd == place_fd)
				udp_gro_note(m, len, i);
			if (i == 0 && gro_k > 0) {
				pkts += udp_gro_deliver(dp, m, len, b, gro_k,
							gro_seg, deliver,
							placed, arg);
				gro_k = -1; /* done: the places are used */
				continue;
			}
			if (i >= np) {
				pkts += udp_deliver_buf(dp, m, len, deliver,
							arg);
				continue;
			}
			m->msg_iov = &iovs[i]; /* the slot's own buffer */
			m->msg_iovlen = 1;
			seg = udp_gro_seg(m);
			if (seg >= 0 && (size_t)seg < len) {
				/* Several packets coalesced: not one
				 * placed packet. Split them as usual. */
				homa_place_gather(iovs[i].iov_base, len,
						  &pl[i]);
				pkts += udp_deliver_buf(dp, m, len, deliver,
							arg);
				continue;
			}
			homa_dp_addr_from_sa(&src, m->msg_name);
			placed(arg, &src, iovs[i].iov_base, len, i);
			pkts++;
		}
		for (int i = 0; i < moved; i++)
			homa_dp_rx_restore(r, total + i);
		homa_dp_rx_reuse(r, total, n);
		total += n;
		want = udp_rx_next(want, room, n); /* udp_rx_want */
	}
	udp_rx_want = want;
	homa_dp_gate_leave(&u->ports_gate);
	HOMA_DP_ADD(dp->rx_calls, calls);
	if (pkts)
		HOMA_DP_ADD(dp->rx_pkts, pkts);
	return total;
}
