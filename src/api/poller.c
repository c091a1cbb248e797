/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * poller.c - who drives the datapath. At most one thread at a time holds
 * the poller role: it reads packets, feeds them to the core and runs the
 * core's timers. An application thread that must wait takes the role
 * itself when it is free (no hand-off on the common path); otherwise it
 * busy-polls privately for a while, then sleeps (wait.c). The background
 * thread holds the role only while no application thread has wanted it
 * for a linger period, so timers, grants and retransmission always run;
 * otherwise it sleeps until the core's next deadline, without the lock,
 * and runs only the timers nobody else ran. A core with no RPC at all
 * lets everybody sleep HOMA_LIB_IDLE_NS: an idle process makes about one
 * system call per second and thread. The background thread itself is in
 * poller_bg.c; what follows an application's call (send or hold back
 * what it queued, kick the poller) in poller_after.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "lib.h"

#define HOMA_LIB_SHORT_WAIT_NS 100000 /* pacer waits shorter than this spin */
#define HOMA_LIB_IDLE_NS       1000000000ull /* sleep when the core has no RPC */
/*
 * Fairness among threads waiting on one instance: the poller busy-polls
 * (yielding between empty reads) and never sleeps while traffic flows,
 * so on a loaded CPU the scheduler runs it last, after every thread that
 * sleeps and is woken; if it kept the role round after round it would
 * finish a few per cent of the others' RPCs (test_net_threads part 4).
 * So a thread whose round ended while others slept waiting hands the
 * role over: its next wait sleeps (at most HOMA_LIB_HANDOFF_NS), and a
 * woken thread takes the role. The role thus rotates among the waiting
 * threads; a thread alone keeps it.
 */
#define HOMA_LIB_HANDOFF_NS 200000
/*
 * A socket in an epoll set costs every packet delivered to it a pass
 * through the set's wake-up, even when nobody sleeps there: 0.4-0.5 us
 * per send in a spinning UDP ping-pong with libhoma's nested sets
 * (docs/benchmarks.md). After this many poller rounds in a row that read
 * a packet without sleeping, the poller takes the datapath's sockets out
 * of the set; it puts them back before it next sleeps (level-triggered:
 * a packet that came meanwhile ends that sleep at once). Either steady
 * state, spinning or sleeping, makes no epoll_ctl call.
 */
#define HOMA_LIB_SPIN_ROUNDS 16
/* The receive timeout of the poller's lean sleep (wait.c): a safety net
 * only, set once; the background thread wakes it at its deadline. */
#define HOMA_LIB_LEAN_TIMEO_NS (2 * HOMA_LIB_IDLE_NS)
/*
 * A lean sleep reads one datagram per system call. When packets queue up
 * (many clients, many RPCs outstanding) it returns at once, a packet a
 * call, where a read that does not sleep takes a batch (up to 16, and
 * UDP_GRO's runs): 4 clients x 16 outstanding cost the server 2.1-2.6 us
 * of CPU per RPC instead of 0.8-1.0. So a lean sleep that came back with
 * a packet sooner than a sleep and a wake-up take (it did not sleep)
 * makes the next rounds read first (lean_read_first), until a read finds
 * nothing; a ping-pong's lean sleeps all sleep.
 */
#define HOMA_LIB_LEAN_BUSY_NS 1500

/* The poller role is free: hand it to a waiting application thread, or
 * else to the background thread. */
static inline void homa_lib_release(struct homa_lib *lib)
{
	uint64_t one = 1;

	/* An application thread letting go starts the linger: it is likely
	 * to be back soon (homa_lib_linger). */
	if (!lib->bg_polling)
		__atomic_store_n(&lib->app_wait_ns, lib->service_ns,
				 __ATOMIC_RELAXED);
	/* The background thread parks only while the poller waits long (an
	 * idle process): then this wakes it. Sequentially consistent against
	 * homa_lib_bg_sleep: either it sees the role free, or this sees it
	 * parked. Read before it is exchanged: a locked instruction fewer
	 * at the end of every round, where a reply waits to be taken. */
	__atomic_store_n(&lib->poller_busy, false, __ATOMIC_SEQ_CST);
	if (lib->app_waiting) {
		homa_lib_wake_waiters(lib);
	} else if (__atomic_load_n(&lib->bg_parked, __ATOMIC_SEQ_CST) &&
		   __atomic_exchange_n(&lib->bg_parked, false,
				       __ATOMIC_SEQ_CST)) {
		if (write(lib->bg_efd, &one, sizeof(one)) < 0)
			return; /* saturated: it is readable anyway */
	}
}

void homa_lib_release_poller(struct homa_lib *lib)
{
	homa_lib_release(lib);
}

/* Packets read by one thread, waiting to enter the core. Each reading
 * thread has its own (homa_dp_thread_buf), so waiters can busy-poll while
 * another thread holds the poller role. */
struct homa_lib_batch {
	struct homa_lib_rx rx[HOMA_LIB_RX_MAX];	 /* packets */
	int num_rx;				 /* entries in rx */
	struct homa_lib_icmp icmp[64];		 /* ICMP errors */
	int num_icmp;				 /* entries in icmp */
	struct homa_place place[HOMA_PLACE_MAX]; /* the core's reservation:
						  * where the next packets
						  * may land */
	int num_place;				 /* entries in place */
	uint64_t place_gen; /* the datapath's close_gen when reserved */
	bool peek;	    /* check the reservation against the first packet
		    * waiting before each read (homa_place_peek_wanted) */
};

static struct homa_lib_batch *homa_lib_batch(void)
{
	return homa_dp_thread_buf(1, sizeof(struct homa_lib_batch));
}

static void homa_lib_collect(void *arg, const struct homa_addr *src,
			     const uint8_t *pkt, size_t bytes)
{
	struct homa_lib_batch *b = arg;
	struct homa_lib_rx *r;

	if (b->num_rx == HOMA_LIB_RX_MAX)
		return; /* cannot happen: rx returns fewer */
	r = &b->rx[b->num_rx++];
	r->src = *src;
	r->pkt = pkt;
	r->bytes = bytes;
	r->place = -1;
}

static void homa_lib_collect_placed(void *arg, const struct homa_addr *src,
				    uint8_t *buf, size_t bytes, int place)
{
	struct homa_lib_batch *b = arg;

	homa_lib_collect(arg, src, buf, bytes);
	if (b->num_rx && b->rx[b->num_rx - 1].pkt == buf)
		b->rx[b->num_rx - 1].place = place;
}

static void homa_lib_collect_icmp(void *arg, const struct homa_addr *dst,
				  uint16_t dport, int err)
{
	struct homa_lib_batch *b = arg;

	if (b->num_icmp == 64)
		return;
	b->icmp[b->num_icmp].dst = *dst;
	b->icmp[b->num_icmp].dport = dport;
	b->icmp[b->num_icmp++].err = err;
}

/* Read what has arrived into b (no lock). True if anything came. */
static inline __attribute__((always_inline)) bool
homa_lib_read(struct homa_lib *lib, struct homa_lib_batch *b)
{
	if (b->num_place)
		return lib->dp->ops->rx_place(lib->dp, b->place, b->num_place,
					      b->place_gen, homa_lib_collect,
					      homa_lib_collect_placed,
					      homa_lib_collect_icmp, b) > 0 ||
		       b->num_icmp;
	return lib->dp->ops->rx(lib->dp, homa_lib_collect,
				homa_lib_collect_icmp, b) > 0 ||
	       b->num_icmp;
}

/* When the reservation in b is worth it (b->peek), look at the first
 * packet waiting on its socket: its first bytes into hdr, how many
 * returned (0: none, or not worth it). No lock needed. A sender with
 * several messages sends runs of each in the order its grants came, and
 * a packet nobody reserved (a new message's first) shifts the rest of a
 * read by a slot: every packet read into another's place costs two
 * more copies. */
static int homa_lib_peek_hdr(struct homa_lib *lib, struct homa_lib_batch *b,
			     uint8_t *hdr)
{
	if (!b->num_place || !b->peek)
		return 0;
	return lib->dp->ops->rx_peek(lib->dp, b->place[0].port, b->place_gen,
				     hdr, HOMA_PLACE_HDR, homa_lib_collect_icmp,
				     b);
}

/* Let the core redo b's reservation if it guessed another packet than
 * the n bytes peeked at hdr (lock held). */
static void homa_lib_peek_apply(struct homa_lib *lib, struct homa_lib_batch *b,
				const uint8_t *hdr, int n, uint64_t now)
{
	b->num_place = homa_place_peeked(lib->homa, hdr, (size_t)n, b->place,
					 HOMA_PLACE_MAX, now);
	if (!b->num_place) {
		b->peek = false;
		__atomic_store_n(&lib->dp->placing_port, -1, __ATOMIC_RELAXED);
	}
}

/* Before a read made with the lock held. */
static void homa_lib_peek_locked(struct homa_lib *lib, struct homa_lib_batch *b,
				 uint64_t now)
{
	uint8_t hdr[HOMA_PLACE_HDR];
	int n = homa_lib_peek_hdr(lib, b, hdr);

	if (n > 0)
		homa_lib_peek_apply(lib, b, hdr, n, now);
}

/* homa_lib_peek_unlocked when the reservation is worth a peek. */
static void homa_lib_peek_unlocked_slow(struct homa_lib *lib,
					struct homa_lib_batch *b)
{
	uint8_t hdr[HOMA_PLACE_HDR];
	int n = homa_lib_peek_hdr(lib, b, hdr);

	if (n > 0) {
		homa_lib_lock(lib);
		homa_lib_peek_apply(lib, b, hdr, n, homa_lib_now());
		homa_lib_unlock(lib);
	}
}

/* Before a read of the poller's, which runs without the lock: peek, and
 * take the lock only if a packet waits. Always true (the read follows).
 * The test inline: most reads have no reservation (a ping-pong's). */
static inline bool homa_lib_peek_unlocked(struct homa_lib *lib,
					  struct homa_lib_batch *b)
{
	if (b->num_place && b->peek)
		homa_lib_peek_unlocked_slow(lib, b);
	return true;
}

/* End this thread's reservation, if any (lock held). */
static void homa_lib_unplace(struct homa_lib *lib, struct homa_lib_batch *b)
{
	if (!b || !b->num_place)
		return;
	homa_place_release(lib->homa);
	b->num_place = 0;
	__atomic_store_n(&lib->dp->placing_port, -1, __ATOMIC_RELAXED);
}

/* Let the next packets read by this thread (the poller) land straight in
 * the pool where the core expects them (lock held). */
static inline __attribute__((always_inline)) void
homa_lib_place(struct homa_lib *lib, struct homa_lib_batch *b, uint64_t now)
{
	if (!b)
		return;
	b->num_place = 0;
	if (!lib->dp->ops->rx_place)
		return;
	b->num_place =
		homa_place_reserve(lib->homa, b->place, HOMA_PLACE_MAX, now);
	b->place_gen = lib->dp->close_gen;
	if (!b->num_place)
		return;
	__atomic_store_n(&lib->dp->placing_port, b->place[0].port,
			 __ATOMIC_SEQ_CST);
	/* A thread in homa_lib_spin that began its read before this store
	 * may be reading packets reserved here, and would feed them while
	 * the reservation lasts: the core would drop them (drop_placing).
	 * Both sides sequentially consistent: either it sees placing_port
	 * (and leaves the socket alone) or this sees it reading (and gives
	 * the reservation up). */
	if (__atomic_load_n(&lib->spin_reading, __ATOMIC_SEQ_CST)) {
		homa_lib_unplace(lib, b);
		return;
	}
	b->peek = lib->dp->ops->rx_peek && homa_place_peek_wanted(lib->homa);
}

/* Hand the packets read into places to the core: those it expected are
 * taken where they lie; the others are made whole in their buffer, to be
 * fed as usual once the reservation is released (lock held). */
static void homa_lib_feed_placed(struct homa_lib *lib, struct homa_lib_batch *b,
				 uint64_t now)
{
	for (int i = 0; i < b->num_rx; i++) {
		struct homa_lib_rx *r = &b->rx[i];
		size_t hdr =
			r->bytes < HOMA_PLACE_HDR ? r->bytes : HOMA_PLACE_HDR;

		if (r->place < 0)
			continue;
		if (homa_input_placed(lib->homa, &r->src, r->pkt, hdr,
				      r->bytes - hdr, &b->place[r->place],
				      now) == 0) {
			r->place = -2; /* taken where it lies */
			continue;
		}
		homa_place_gather((uint8_t *)r->pkt, r->bytes,
				  &b->place[r->place]);
		r->place = -1;
	}
	homa_lib_unplace(lib, b);
}

/*
 * A server socket without a receive region drops every request (spec 13
 * item 11). When a request was dropped so, give each server socket whose
 * application registered no region the library's own (as sendmsg and
 * recvmsg do for clients); the client's RESEND brings the request back.
 * Doing it only then leaves SO_HOMA_RCVBUF free for applications that
 * register after bind. Lock held.
 */
static void homa_lib_server_regions(struct homa_lib *lib)
{
	for (int fd = 0; fd < lib->socks_len; fd++) {
		struct homa_lsock *ls = lib->socks[fd];

		if (ls && !ls->closing && homa_sock_is_server(ls->hsk) &&
		    !homa_sock_is_shutdown(ls->hsk))
			homa_lsock_ensure_region(lib, ls);
	}
}

/* Feed what a thread collected to the core at now, ns (lock held). */
static void homa_lib_feed_all(struct homa_lib *lib, struct homa_lib_batch *b,
			      uint64_t now)
{
	unsigned int verdicts = 0;

	if (b->num_place)
		homa_lib_feed_placed(lib, b, now);
	for (int i = 0; i < b->num_rx; i++) {
		unsigned int v;

		if (b->rx[i].place == -2)
			continue; /* taken where it lies */
		v = homa_input(lib->homa, &b->rx[i].src, b->rx[i].pkt,
			       b->rx[i].bytes, now);
		verdicts |= v;
		/* A request to a socket not in server mode: port
		 * unreachable, as Linux answers (spec 2; dp_icmp.c). */
		if (v & HOMA_VERDICT_NOT_SERVER)
			lib->dp->ops->unreachable(lib->dp, &b->rx[i].src,
						  b->rx[i].pkt, b->rx[i].bytes);
	}
	for (int i = 0; i < b->num_icmp; i++)
		homa_input_icmp(lib->homa, &b->icmp[i].dst, b->icmp[i].dport,
				b->icmp[i].err, now);
	b->num_rx = 0;
	b->num_icmp = 0;
	if (verdicts & HOMA_VERDICT_NO_REGION)
		homa_lib_server_regions(lib);
}

/* homa_lib_feed_all with the usual batch of a ping-pong inline: one
 * packet, not placed, no ICMP error, taken as it is. */
static inline void homa_lib_feed(struct homa_lib *lib, struct homa_lib_batch *b,
				 uint64_t now)
{
	if (__builtin_expect(b->num_rx == 1 && !b->num_place && !b->num_icmp,
			     1)) {
		struct homa_lib_rx *r = &b->rx[0];
		unsigned int v =
			homa_input(lib->homa, &r->src, r->pkt, r->bytes, now);

		b->num_rx = 0;
		if (__builtin_expect(!v, 1))
			return;
		/* As homa_lib_feed_all does. */
		if (v & HOMA_VERDICT_NOT_SERVER)
			lib->dp->ops->unreachable(lib->dp, &r->src, r->pkt,
						  r->bytes);
		if (v & HOMA_VERDICT_NO_REGION)
			homa_lib_server_regions(lib);
		return;
	}
	homa_lib_feed_all(lib, b, now);
}

/* Run work due at now (ns, just read) and send; returns when the core
 * next needs the CPU: its own deadline, or HOMA_LIB_IDLE_NS on when it has
 * no RPC at all (its timer then only ages pools and peers), or sooner if
 * packets are held back (homa_lib_after_msg) and must leave then. Lock
 * held. */
uint64_t homa_lib_service_at(struct homa_lib *lib, uint64_t now)
{
	uint64_t next = homa_poll(lib->homa, now);
	uint64_t cork_end = lib->cork_ns + lib->cork_hold_ns;
	unsigned int act;

	lib->services++;
	lib->service_ns = now;
	if (!lib->cork_ns || now >= cork_end)
		homa_lib_flush(lib);
	act = homa_activity(lib->homa);
	lib->pacing = (act & HOMA_ACTIVE_THROTTLED) != 0;
	__atomic_store_n(
		&lib->bg_may_watch,
		!(act & (HOMA_ACTIVE_THROTTLED | HOMA_ACTIVE_GRANTABLE)),
		__ATOMIC_RELAXED);
	lib->core_idle = !(act & (HOMA_ACTIVE_RPCS | HOMA_ACTIVE_THROTTLED |
				  HOMA_ACTIVE_GRANTABLE));
	if (lib->core_idle && next < now + HOMA_LIB_IDLE_NS)
		next = now + HOMA_LIB_IDLE_NS;
	if (lib->cork_ns && cork_end < next)
		next = cork_end;
	__atomic_store_n(&lib->next_deadline, next, __ATOMIC_RELAXED);
	return next;
}

/*
 * homa_lib_service_at for the poller's round, at its start and end
 * (lock held): the last service's result stands if it still holds, and
 * the core is not called. It holds while the deadline has not passed
 * and the core owes nothing but its tick: RPCs under way (an idle core's
 * deadline is the long sleep), nothing paced, granted or dead, nothing
 * held back. homa_poll would then run nothing and return its next tick,
 * which the last service recorded (or an earlier time), and every flag
 * it sets would stay as it is. A ping-pong's rounds all go so.
 */
static inline uint64_t homa_lib_service_round(struct homa_lib *lib,
					      uint64_t now)
{
	if (__builtin_expect(now < lib->next_deadline && !lib->core_idle &&
				     !lib->cork_ns,
			     1) &&
	    homa_activity(lib->homa) == HOMA_ACTIVE_RPCS) {
		if (lib->tx_queued)
			homa_lib_flush(lib);
		lib->service_ns = now;
		lib->pacing = false;
		__atomic_store_n(&lib->bg_may_watch, true, __ATOMIC_RELAXED);
		return lib->next_deadline;
	}
	return homa_lib_service_at(lib, now);
}

uint64_t homa_lib_service(struct homa_lib *lib)
{
	return homa_lib_service_at(lib, homa_lib_now());
}

/* epoll_pwait2 is missing (ENOSYS: kernels before 5.11, valgrind 3.19):
 * set once, read without the lock. */
static bool homa_lib_no_pwait2;

void homa_lib_epoll_fallback(void)
{
	__atomic_store_n(&homa_lib_no_pwait2, true, __ATOMIC_RELAXED);
}

/*
 * epoll_pwait2, or where the system lacks it epoll_pwait with the timeout
 * rounded up to whole milliseconds (signal mask just as atomic). Without
 * the fallback the poller would spin through every sleep at full CPU.
 */
static int homa_lib_epoll(int epfd, struct epoll_event *ev, int max,
			  const struct timespec *ts, const sigset_t *sigmask)
{
	uint64_t ms;
	int n;

	if (!__atomic_load_n(&homa_lib_no_pwait2, __ATOMIC_RELAXED)) {
		n = epoll_pwait2(epfd, ev, max, ts, sigmask);
		if (n >= 0 || errno != ENOSYS)
			return n;
		__atomic_store_n(&homa_lib_no_pwait2, true, __ATOMIC_RELAXED);
	}
	ms = (uint64_t)ts->tv_sec * 1000 +
	     ((uint64_t)ts->tv_nsec + 999999) / 1000000;
	return epoll_pwait(epfd, ev, max, ms > INT32_MAX ? INT32_MAX : (int)ms,
			   sigmask);
}

/* The poller's lean sleep (wait.c) until next, ns: packets read into b
 * (> 0), 0 when woken without one, -EINTR; inline (every blocking round). */
static inline __attribute__((always_inline)) int
homa_lib_sleep_lean(struct homa_lib *lib, struct homa_lib_batch *b,
		    uint64_t next)
{
	int n;

	/* Out of the epoll set: nobody sleeps there now (put back before
	 * the next epoll sleep, as after spinning). */
	if (!lib->dp_out && lib->dp->ops->arm) {
		lib->dp->ops->arm(lib->dp, false);
		lib->dp_out = true;
	}
	__atomic_store_n(&lib->lean_mode, true, __ATOMIC_RELAXED);
	__atomic_store_n(&lib->lean_until, next, __ATOMIC_SEQ_CST);
	n = lib->dp->ops->rx_sleep(lib->dp, HOMA_LIB_LEAN_TIMEO_NS,
				   homa_lib_collect, homa_lib_collect_icmp, b);
	__atomic_store_n(&lib->lean_until, 0, __ATOMIC_SEQ_CST);
	return n < 0 ? n : n + b->num_icmp;
}

/*
 * The poller's round: called with the lock held and the poller role
 * taken. Reads packets without the lock: spins until w->spin_end, then
 * blocks until the core's deadline (or deadline_ns, or a kick): in the
 * datapath's socket if it can (lean, wait.c), else in epoll.
 * Returns with the lock held once something happened: 0, -EINTR if a
 * signal interrupted the sleep, -EAGAIN if O_NONBLOCK forbade it (w: see
 * homa_lib_wait; NULL for the background thread, which never spins).
 */
static inline __attribute__((always_inline)) int
homa_lib_poll_round_in(struct homa_lib *lib, uint64_t deadline_ns,
		       struct homa_lib_waitctx *w)
{
	/* An application thread's call just read the clock (w->now). */
	uint64_t now = w ? w->now : homa_lib_now();
	uint64_t next = homa_lib_service_round(lib, now);
	uint64_t spin_end = w ? w->spin_end : 0, gen = lib->wake_gen;
	struct homa_lib_batch *b = homa_lib_batch();
	bool got = false, slept = false, pacing = lib->pacing, lean;
	bool read_empty = false; /* a read of this round found nothing */
	/* now predates the last read: an empty first read (a few hundred
	 * instructions after the caller's clock) keeps it; later ones do not */
	bool stale = false;
	uint64_t lean_t0 = 0;  /* when its lean sleep began, ns */
	uint64_t tx_calls = 0; /* the datapath's send calls before the feed */
	/* Spin over: sleep first, the wait is level-triggered (a packet
	 * already there ends it at once), so an empty read is saved. */
	bool sleep_first = now >= spin_end && !pacing && !lib->lean_read_first;
	int ret = 0;

	if (deadline_ns && deadline_ns < next)
		next = deadline_ns;
	lib->poller_deadline = next;
	homa_lib_place(lib, b, now);
	lean = b && homa_lib_lean_ok(lib, w, deadline_ns, next, b->num_place);
	lib->poller_lean = lean; /* how homa_lib_kick wakes this round */
	homa_lib_unlock(lib);
	for (;;) {
		const sigset_t *sigmask;
		struct epoll_event ev[4];
		struct timespec ts;
		uint64_t wait;
		int n;

		if (sleep_first) {
			sleep_first = false;
		} else if (b && homa_lib_peek_unlocked(lib, b) &&
			   homa_lib_read(lib, b)) {
			got = true;
			break;
		} else {
			read_empty = true;
			if (stale)
				now = homa_lib_now();
			stale = true;
		}
		if (now >= next)
			break;
		/* Another thread woke a socket (shutdown, a message it
		 * fed): let the caller look. */
		if (__atomic_load_n(&lib->wake_gen, __ATOMIC_SEQ_CST) != gen)
			break;
		/* Spin rather than sleep for short pacer waits: a sleep
		 * costs tens of microseconds of timer slack and wake-up. */
		if (now < spin_end ||
		    (pacing && next - now < HOMA_LIB_SHORT_WAIT_NS)) {
			/* A runnable thread here goes first: it may be the
			 * peer we wait for (few CPUs). */
			sched_yield();
			continue;
		}
		ret = lean ? homa_lib_wait_nonblock(w)
			   : homa_lib_wait_sleepy(w, &sigmask);
		if (ret < 0)
			break;
		/* Sequentially consistent against homa_lib_kick_sleeper:
		 * either it sees the flag, or this sees the new wake_gen. */
		__atomic_store_n(&lib->poller_asleep, true, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&lib->wake_gen, __ATOMIC_SEQ_CST) != gen) {
			__atomic_store_n(&lib->poller_asleep, false,
					 __ATOMIC_SEQ_CST);
			break;
		}
		slept = true;
		stale = true;
		if (lean) {
			/* A kick while it spun was read as a packet would
			 * be: a deadline moved sooner shows here. */
			if (__atomic_load_n(&lib->next_deadline,
					    __ATOMIC_RELAXED) < next) {
				__atomic_store_n(&lib->poller_asleep, false,
						 __ATOMIC_SEQ_CST);
				goto kicked;
			}
			lean_t0 = homa_lib_now();
			n = homa_lib_sleep_lean(lib, b, next);
			__atomic_store_n(&lib->poller_asleep, false,
					 __ATOMIC_SEQ_CST);
			if (n == -EOPNOTSUPP) {
				/* The datapath cannot sleep in its socket
				 * now (a port opened since the round began,
				 * no receive ring): sleep in epoll. */
				lean = false;
				lean_t0 = 0;
				slept = false;
				continue;
			}
			if (n < 0) {
				ret = n; /* -EINTR */
				break;
			}
			got = n > 0;
			/* Or woken, or a timeout: let the caller look. */
			goto kicked;
		}
		if (lib->dp_out) {
			lib->dp->ops->arm(lib->dp, true);
			lib->dp_out = false;
		}
		wait = next - now; /* the lean sleep has no timeout */
		ts.tv_sec = (time_t)(wait / 1000000000ull);
		ts.tv_nsec = (long)(wait % 1000000000ull);
		n = homa_lib_epoll(lib->epfd, ev, 4, &ts, sigmask);
		__atomic_store_n(&lib->poller_asleep, false, __ATOMIC_SEQ_CST);
		if (n < 0 && errno == EINTR && sigmask) {
			ret = -EINTR;
			break;
		}
		for (int i = 0; i < n; i++) {
			if (ev[i].data.u32 == 1) {
				uint64_t v;

				if (read(lib->wake_efd, &v, sizeof(v)) < 0)
					v = 0;
				goto kicked;
			}
		}
		if (n <= 0 && homa_lib_now() >= next)
			break;
	}
kicked:
	homa_lib_lock(lib);
	lib->poller_lean = false;
	now = homa_lib_now();
	if (lean_t0)
		lib->lean_read_first =
			got && now - lean_t0 < HOMA_LIB_LEAN_BUSY_NS;
	else if (read_empty)
		lib->lean_read_first = false;
	if (got) {
		tx_calls = lib->dp->tx_calls;
		homa_lib_feed(lib, b, now);
		/* Traffic: more may follow, spin again before sleeping. */
		if (w)
			w->spin_end =
				now + (uint64_t)lib->config.poll_usecs * 1000;
	}
	homa_lib_unplace(lib, b);
	homa_lib_service_round(lib, now);
	/* What was fed made this round send (a GRANT: tens of us of
	 * sendmmsg): the spin counts from its end, or the thread would
	 * sleep just before the reply comes. */
	if (got && w && lib->dp->tx_calls != tx_calls) {
		now = homa_lib_now();
		w->spin_end = now + (uint64_t)lib->config.poll_usecs * 1000;
	}
	/* The background thread watches again once a round read without
	 * sleeping (spinning) or slept in epoll. */
	if ((slept && !lean) || (got && !slept))
		__atomic_store_n(&lib->lean_mode, false, __ATOMIC_RELAXED);
	if (slept) {
		lib->spin_rounds = 0;
	} else if (got && ++lib->spin_rounds >= HOMA_LIB_SPIN_ROUNDS &&
		   !lib->dp_out && lib->dp->ops->arm) {
		lib->dp->ops->arm(lib->dp, false);
		lib->dp_out = true;
	}
	if (w)
		w->now = now;
	return ret;
}

/* The background thread's round (homa_lib_wait has its own copy). */
int homa_lib_poll_round(struct homa_lib *lib, uint64_t deadline_ns,
			struct homa_lib_waitctx *w)
{
	return homa_lib_poll_round_in(lib, deadline_ns, w);
}

uint64_t homa_lib_send_chunks(struct homa_lib *lib, struct homa_lsock *ls,
			      const struct homa_send_args *sa, uint64_t now)
{
	struct homa_lib_batch *b = homa_lib_batch();

	for (;;) {
		/* What the last step queued leaves first: the receiver
		 * works on it while this thread copies. */
		homa_lib_flush(lib);
		if (!homa_send_copy(ls->hsk, sa, HOMA_LIB_CHUNK_BYTES, now))
			break;
		if (!b)
			continue;
		/* Incoming DATA lands in place as the poller's would
		 * (no reservation if another thread holds one). */
		homa_lib_place(lib, b, now);
		homa_lib_peek_locked(lib, b, now);
		if (homa_lib_read(lib, b)) {
			now = homa_lib_now();
			homa_lib_feed(lib, b, now);
		}
		homa_lib_unplace(lib, b);
	}
	homa_lib_flush(lib);
	return now;
}

/* Read packets without the poller role until end (lock held on entry
 * and exit). True if packets arrived and were fed to the core, or the
 * poller role became free. */
static bool homa_lib_spin(struct homa_lib *lib, uint64_t end, uint64_t gen)
{
	struct homa_lib_batch *b = homa_lib_batch();
	bool got = false;

	if (!b || homa_lib_now() >= end)
		return false;
	homa_lib_unlock(lib);
	while (homa_lib_now() < end) {
		/* Counted until fed (homa_lib_place), the read included. */
		__atomic_fetch_add(&lib->spin_reading, 1, __ATOMIC_SEQ_CST);
		if (homa_lib_read(lib, b)) {
			got = true;
			break;
		}
		__atomic_fetch_sub(&lib->spin_reading, 1, __ATOMIC_RELEASE);
		if (!__atomic_load_n(&lib->poller_busy, __ATOMIC_RELAXED) ||
		    __atomic_load_n(&lib->wake_gen, __ATOMIC_ACQUIRE) != gen)
			break; /* the role is free, or the poller woke us */
	}
	homa_lib_lock(lib);
	if (got) {
		uint64_t now = homa_lib_now();

		homa_lib_feed(lib, b, now);
		__atomic_fetch_sub(&lib->spin_reading, 1, __ATOMIC_RELEASE);
		homa_lib_service_at(lib, now);
	}
	return got || !lib->poller_busy || lib->wake_gen != gen;
}

/* homa_lib_wait for a thread that does not take the poller role. */
static int homa_lib_wait_other(struct homa_lib *lib, uint64_t deadline_ns,
			       struct homa_lib_waitctx *w)
{
	uint64_t gen = lib->wake_gen;

	if (!lib->poller_busy) {
		/* This thread polled last while others slept: let one of
		 * them (woken by the release) poll this round. */
		uint64_t end = w->now + HOMA_LIB_HANDOFF_NS;

		__atomic_store_n(&lib->app_wait_ns, w->now, __ATOMIC_RELAXED);
		w->handoff = false;
		return homa_lib_sleep(
			lib,
			deadline_ns && deadline_ns < end ? deadline_ns : end,
			w);
	}
	__atomic_store_n(&lib->app_wait_ns, w->now, __ATOMIC_RELAXED);
	/* Another thread polls. The background thread gives the role up
	 * when kicked (and then stays away while application threads keep
	 * waiting, see homa_lib_bg_main); meanwhile busy-poll privately, so
	 * a reply that comes soon is handled here with no hand-off. */
	if (lib->bg_polling)
		homa_lib_kick(lib);
	if (homa_lib_spin(lib, w->spin_end, gen))
		return 0;
	if (lib->wake_gen != gen || !lib->poller_busy)
		return 0; /* changed while the lock was free */
	return homa_lib_sleep(lib, deadline_ns, w);
}

int homa_lib_wait(struct homa_lib *lib, uint64_t deadline_ns,
		  struct homa_lib_waitctx *w)
{
	int ret;

	if (lib->cork_ns)
		homa_lib_flush(lib); /* nothing held back while waiting */
	/* As poller, the role keeps the background thread out and its
	 * release records the time (homa_lib_release_poller). A thread
	 * that polled last while others slept hands the role on. */
	if (!lib->poller_busy && !(w->handoff && lib->app_waiting)) {
		__atomic_store_n(&lib->poller_busy, true, __ATOMIC_RELAXED);
		ret = homa_lib_poll_round_in(lib, deadline_ns, w);
		w->handoff = lib->app_waiting > 0;
		homa_lib_release(lib);
		return ret; /* w->now: read at the end of the round */
	}
	ret = homa_lib_wait_other(lib, deadline_ns, w);
	w->now = homa_lib_now();
	return ret;
}
