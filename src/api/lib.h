/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lib.h - libhoma's internal state: one core instance per process shared
 * by all of the process's Homa sockets, its datapath, the threads that
 * drive it, and the table from file descriptors to sockets.
 *
 * Locking (the one rule): lib.lock protects the core, the datapath's
 * transmit side and every homa_lsock field not marked otherwise. Packets
 * are read without the lock, by the thread holding the poller role
 * (lib.poller_busy) and by application threads busy-polling while
 * another holds it (each into its own buffers), and fed to the core with
 * the lock. Nothing blocks while holding the lock.
 *
 * Progress: a thread waiting for a message takes the poller role itself
 * (busy-polling for poll_usecs, then blocking in epoll until the core's
 * next deadline), so a response arriving for it is processed by it, with
 * no thread hand-off. When no application thread is waiting, a background
 * thread holds the role and runs timers, grants, pacing and
 * retransmission. While application threads keep coming back to wait,
 * the background thread stays out: it sleeps until the core's next
 * deadline without the lock and only runs timers nobody else ran. An
 * application thread that wants the role while the background thread has
 * it kicks it out of epoll through wake_efd.
 *
 * The fast path (a thread that finds its message while it spins) makes
 * no system call but its sends and receives: the signal mask is changed
 * and O_NONBLOCK read only when the thread is about to sleep
 * (struct homa_lib_waitctx).
 */
#ifndef HOMA_API_LIB_H
#define HOMA_API_LIB_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "datapath.h"
#include "homa.h"
#include "homa_core.h"

_Static_assert(HOMA_BPAGE_SHIFT == HOMA_CORE_BPAGE_SHIFT,
	       "homa.h and the core disagree on the bpage size");

#define HOMA_LIB_RX_MAX		 1024 /* packets collected per receive round */
#define HOMA_LIB_PRIVATE_WAITERS 16   /* private ids waited on at once */
/* Auto-cork's longest hold by default, us (HOMA_CORK_USECS). */
#define HOMA_LIB_CORK_US 30

/* struct homa_lsock.nb_track: what the library knows of O_NONBLOCK on
 * the application's descriptor without reading it (fcntl). */
#define HOMA_LSOCK_NB_READ  0 /* nothing: read it (native sockets) */
#define HOMA_LSOCK_NB_CLEAR 1 /* the shim set it clear, blocking */
#define HOMA_LSOCK_NB_SET   2 /* the shim set it, non-blocking */

/* One Homa socket as the application sees it. */
struct homa_lsock {
	int fd;			 /* the application's descriptor (end A) */
	int peer_fd;		 /* our end of the socketpair (end B) */
	int family;		 /* AF_INET or AF_INET6 */
	struct homa_sock *hsk;	 /* the core's socket */
	uint16_t port;		 /* port reserved in the datapath */
	bool readable_set;	 /* a byte sits readable on fd */
	bool unwritable;	 /* fd's send buffer is filled on purpose */
	bool closing;		 /* homa_close under way */
	int users;		 /* threads inside a call on this socket */
	uint8_t *own_region;	 /* region the library mapped, or NULL */
	size_t own_region_bytes; /* bytes of own_region */
	uint64_t private_waits[HOMA_LIB_PRIVATE_WAITERS]; /* ids waited on */
	char error_msg[104];	      /* text of the socket's last error */
	bool sync_pending;	      /* on lib.sync_head */
	uint32_t sync_events;	      /* HOMA_WAKE_* bits since it was put
				       * there (homa_lib_sync_pending) */
	struct homa_lsock *sync_next; /* next on lib.sync_head */
	uint64_t rcvtimeo_ns; /* SO_RCVTIMEO: recv gives up after, 0 = never */
	bool blocking_seen;   /* O_NONBLOCK was clear when last read from fd
			     * (false: not read yet, or set) */
	uint8_t nb_track;     /* O_NONBLOCK as the preload shim keeps it
			       * (HOMA_LSOCK_NB_*; atomic): every change of
			       * a kernel-API socket's flag goes through the
			       * shim (homa_kapi_setfl): no call reads it */
	bool kapi;	 /* kernel API rules (preload): no library region */
	bool has_region; /* the core socket has its receive region (set
			  * once, never removed: homa_sock_set_rcvbuf) */
	int nfds;	 /* descriptors naming it (dup; 0 counts as 1) */
	uint64_t syncs;	 /* readiness read from the core (homa_lsock_sync),
			  * count: tests check the fast path skips it */
};

/* A packet collected by the poller, waiting to enter the core. */
struct homa_lib_rx {
	struct homa_addr src; /* sender */
	const uint8_t *pkt;   /* bytes (in the datapath's buffers) */
	size_t bytes;	      /* length */
	int place;	      /* reserved place it was read into, -1 none */
};

struct homa_lib_icmp {
	struct homa_addr dst; /* unreachable host */
	uint16_t dport;	      /* port, 0 = any */
	int err;	      /* errno for its RPCs */
};

/* An application thread sleeping in homa_lib_wait without the poller
 * role. It sleeps in ppoll on its own eventfd rather than on a condition
 * variable, so that a signal interrupts the sleep (EINTR, spec 9.3). */
struct homa_lib_waiter {
	int efd;		      /* the thread's eventfd */
	bool woken;		      /* efd was written (lock held) */
	struct homa_lib_waiter *next; /* next on lib.waiters */
};

struct homa_lib {
	uint32_t lock; /* see above: homa_lib_lock (0 free, 1 held, 2 held
			* with sleepers; atomic) */
	struct homa_lib_waiter *waiters; /* application threads asleep */
	int bg_efd; /* eventfd the background thread sleeps on */
	struct homa_lsock *sync_head; /* sockets whose readiness changed */
	uint64_t wake_gen;	   /* bumped by every wake-up from the core */
	uint64_t app_wait_ns;	   /* last time an application thread waited,
			       * ns (atomic: read without the lock) */
	uint64_t service_ns;	   /* time of the last homa_lib_service, ns */
	struct homa *homa;	   /* the process's core instance */
	struct homa_dp *dp;	   /* the datapath */
	struct homa_config config; /* configuration in force */
	int datapath;		   /* 0 = UDP, 1 = raw IP 146 */
	int epfd;		   /* epoll over dp->epfd and wake_efd */
	int wake_efd;		   /* eventfd: interrupts the poller */
	bool poller_busy;	   /* some thread holds the poller role */
	bool bg_polling;	   /* ...and it is the background thread */
	bool bg_parked;		   /* background thread sleeps until woken
				    * (up to 1 ms): releasing the role must
				    * write bg_efd (atomic) */
	int app_waiting;	   /* application threads waiting to poll */
	int spin_reading; /* threads in homa_lib_spin between the start of
			   * a read and the feeding of what it read: no
			   * reservation for in-place receive while one is
			   * (homa_lib_place; atomic) */
	uint64_t poller_deadline;  /* when the blocked poller will wake, ns */
	bool dp_out;		   /* the datapath's sockets are out of its
				    * epoll set (homa_lib_poll_round) */
	uint32_t spin_rounds;	   /* poller rounds in a row that read a
				    * packet without sleeping */
	bool poller_asleep;	   /* the poller is in epoll: a wake-up from
				    * another thread kicks it (atomic) */
	bool poller_lean;	   /* this round's poller sleeps in the
				    * datapath's socket (rx_sleep), so a
				    * kick is the datapath's rx_wake, not
				    * wake_efd (wait.c) */
	uint64_t lean_until;	   /* the poller asleep in rx_sleep must be
				    * woken by then, ns; 0 = none (atomic:
				    * the background thread wakes it) */
	bool lean_mode;		   /* the poller's last sleep was in
				    * rx_sleep: the background thread does
				    * not only watch (atomic) */
	bool lean_read_first;	   /* the last lean sleep came back with a
				    * packet too soon to have slept: packets
				    * wait, so rounds read before they sleep
				    * until a read finds none */
	uint64_t next_deadline;	   /* when the core next needs the CPU, ns,
				    * as of the last homa_poll (atomic) */
	bool core_idle;		   /* the core had no RPC at the last poll:
				    * sleepers may sleep HOMA_LIB_IDLE_NS */
	bool pacing;		   /* messages wait for the pacer */
	bool tx_queued;		   /* the core queued packets in the datapath
				    * since its last flush (homa_lib_xmit):
				    * a flush without is skipped */
	bool bg_may_watch;	   /* the core owes nothing but timers (no
				    * pacer, nothing to grant): the
				    * background thread may leave it to the
				    * application threads (atomic) */
	bool veth_local;	   /* peers reached without a gateway
				    * through a veth are on this host: not
				    * paced (HOMA_VETH_LOCAL; fixed) */
	uint64_t cork_hold_ns;	   /* auto-cork holds packets at most this
				    * long, ns (HOMA_CORK_USECS; fixed) */
	uint64_t cork_ns;	   /* when a flush of the datapath was first
				    * held back (homa_lib_after_msg), ns; 0 =
				    * nothing held (atomic: the background
				    * thread reads it without the lock) */
	bool stopping;		   /* background thread must exit */
	pthread_t bg;		   /* background thread */
	int sample_fd;		   /* HOMA_SAMPLE_FILE, -1 = not sampling */
	uint64_t sample_start_ns;  /* when sampling began, ns */
	uint64_t sample_next_ns;   /* time of the next sample, ns */
	uint64_t env_bytes;	   /* bytes the core holds from homa_lib_alloc
			     * (its messages and state), lock held */
	uint64_t env_max;	   /* the most env_bytes reached since the last
			     * sample line, bytes */
	uint64_t services;	   /* homa_lib_service_at calls (the core's
				    * homa_poll), count: tests check the fast
				    * path skips them (lock held) */
	struct homa_lsock **socks; /* fd -> socket, NULL if not Homa */
	int socks_len;		   /* entries in socks */
};

/*
 * The process lock (lib.lock), a futex word. A pthread mutex cost about
 * 55 instructions a lock and unlock (type checks, owner, user counts),
 * three times per call on each side of a round trip; this takes one
 * atomic each way while nobody waits. Acquire and release order the
 * state it protects (TSan sees them as it sees a mutex). Not recursive;
 * sleepers wait in the kernel (homa_lib_lock_wait), none spins.
 */
void homa_lib_lock_wait(struct homa_lib *lib);
void homa_lib_unlock_wake(struct homa_lib *lib);

static inline void homa_lib_lock(struct homa_lib *lib)
{
	uint32_t free_word = 0;

	if (!__atomic_compare_exchange_n(&lib->lock, &free_word, 1, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		homa_lib_lock_wait(lib);
}

static inline void homa_lib_unlock(struct homa_lib *lib)
{
	if (__atomic_exchange_n(&lib->lock, 0, __ATOMIC_RELEASE) == 2)
		homa_lib_unlock_wake(lib);
}

/* homa_lib_bg_main() - the background thread (poller_bg.c). */
void *homa_lib_bg_main(void *arg);

/* homa_lib_get() - the process's instance, created on first use.
 * NULL with errno set (EINVAL for bad HOMA_* settings, EPERM for raw
 * without privilege). */
struct homa_lib *homa_lib_get(void);

/* O_NONBLOCK of descriptor fd: 1 set, 0 clear, -1 unreadable
 * (fcntl F_GETFL). The system call inline: glibc's fcntl is variadic, 35
 * instructions around it, and a blocking call reads the flag before it
 * sleeps (homa_lib_wait_nonblock), once per round trip and side. */
static inline int homa_lib_fd_nonblock(int fd)
{
	long fl = homa_dp_syscall(SYS_fcntl, fd, F_GETFL, 0, 0, 0, 0);

	return fl < 0 ? -1 : (fl & O_NONBLOCK) != 0;
}

/* Current time for the core, ns (CLOCK_MONOTONIC); inline, as the fast
 * path reads it a few times per call. */
static inline uint64_t homa_lib_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * One library call's waiting (homa_lib_wait_init, one or more
 * homa_lib_wait, homa_lib_wait_done).
 *
 * Spinning: the thread busy-polls until spin_end (poll_usecs after the
 * call began or after packets last arrived), then sleeps.
 *
 * Signals: while the thread spins, its own mask is in force, so a handler
 * may run then; that is the same as a signal arriving just before the
 * call. Before its first sleep (homa_lib_wait_sleepy) the thread blocks
 * every signal, keeping its mask in saved; every sleep then unblocks
 * exactly that mask atomically (epoll_pwait2, ppoll), so a signal that
 * arrives from then on interrupts the sleep (EINTR): none is missed, and
 * a call that never sleeps changes no mask.
 *
 * The poller's lean sleep in the datapath's socket (wait.c) cannot
 * unblock a mask atomically: it sleeps with the thread's own mask, and
 * a signal that arrives while the thread runs (not asleep) runs its
 * handler without ending the call, as during the spin.
 *
 * O_NONBLOCK: before each sleep, the shim's record if nb_track points
 * to one that it keeps (a kernel-API socket: no system call), else read
 * (fcntl) before the first sleep if nonblock_fd >= 0; if set,
 * homa_lib_wait returns -EAGAIN instead of sleeping.
 */
struct homa_lib_waitctx {
	uint64_t now;	   /* the call's last clock read, ns: set by the
			    * caller before homa_lib_wait, which sets it
			    * again to a time read after its wait (one
			    * read serves the wait and the next attempt) */
	uint64_t spin_end; /* busy-poll until this time, ns */
	int nonblock_fd;   /* descriptor whose O_NONBLOCK forbids sleeping */
	int nonblock;	   /* O_NONBLOCK as read: 1, 0, -1 = not read */
	const uint8_t *nb_track; /* the socket's homa_lsock.nb_track, or
				  * NULL (set by the caller after init) */
	bool masked;	/* all signals blocked, the thread's mask in saved */
	bool handoff;	/* hand the poller role on (homa_lib_wait) */
	sigset_t saved; /* the thread's own mask while masked */
};

/* homa_lib_wait_init() - start waiting for a call at now (ns, just
 * read; no system call); nonblock_fd as above (-1 = none); nb_track as
 * above. Inline, as homa_lib_wait_done: once per waiting call. */
static inline void homa_lib_wait_init(struct homa_lib *lib,
				      struct homa_lib_waitctx *w,
				      int nonblock_fd, const uint8_t *nb_track,
				      uint64_t now)
{
	w->now = now;
	w->spin_end = now + (uint64_t)lib->config.poll_usecs * 1000;
	w->nonblock_fd = nonblock_fd;
	w->nonblock = -1;
	w->nb_track = nb_track;
	w->masked = false;
	w->handoff = false;
}
/* homa_lib_wait_unmask() - the thread's own signal mask back (w->masked;
 * wait.c). */
void homa_lib_wait_unmask(struct homa_lib_waitctx *w);
/* homa_lib_wait_done() - end of the call's waiting: the thread's own
 * signal mask back if it was changed. */
static inline void homa_lib_wait_done(struct homa_lib_waitctx *w)
{
	if (w->masked)
		homa_lib_wait_unmask(w);
}
/* homa_lib_wait_sleepy() - the thread is about to sleep: -EAGAIN if
 * O_NONBLOCK forbids it, else 0 with *mask the mask to sleep with (NULL
 * for w NULL: the background thread keeps its mask). */
int homa_lib_wait_sleepy(struct homa_lib_waitctx *w, const sigset_t **mask);
/* homa_lib_wait_nonblock() - -EAGAIN if O_NONBLOCK forbids w's thread to
 * sleep (read once per call), else 0. Inline: before every sleep. */
static inline int homa_lib_wait_nonblock(struct homa_lib_waitctx *w)
{
	uint8_t nb = w->nb_track
			     ? __atomic_load_n(w->nb_track, __ATOMIC_RELAXED)
			     : HOMA_LSOCK_NB_READ;

	if (nb != HOMA_LSOCK_NB_READ) /* the shim's record: no fcntl */
		w->nonblock = nb == HOMA_LSOCK_NB_SET;
	else if (w->nonblock_fd >= 0 && w->nonblock < 0)
		w->nonblock = homa_lib_fd_nonblock(w->nonblock_fd) == 1;
	return w->nonblock > 0 ? -EAGAIN : 0;
}
/* homa_lib_lean_ok() - whether this poller round (w: its caller's wait;
 * deadline_ns: the caller's, 0 = none; next: the round's wake-up, ns;
 * places: packets reserved a place) may sleep in the datapath's socket.
 * Lock held. Inline: every poller round asks. */
static inline bool homa_lib_lean_ok(const struct homa_lib *lib,
				    const struct homa_lib_waitctx *w,
				    uint64_t deadline_ns, uint64_t next,
				    int places)
{
	/* The rules: wait.c, "The poller's lean sleep". */
	return w && !w->masked && lib->dp->sleepable &&
	       lib->dp->ops->rx_sleep && !lib->pacing && !places &&
	       (!deadline_ns || deadline_ns > next);
}
/* homa_lib_lean_watch() - the background thread at now (ns), about to
 * sleep until until (ns): wakes a poller asleep in the datapath's socket
 * whose deadline passed HOMA_LIB_LEAN_GRACE_NS ago (wait.c); returns when
 * to wake next (until if no poller sleeps so, else that poller's
 * deadline plus the grace, or a tick, ns, after the time it woke it
 * for). No lock. */
uint64_t homa_lib_lean_watch(struct homa_lib *lib, uint64_t now, uint64_t until,
			     uint64_t tick);

/*
 * homa_lib_wait() - called with the lock held by a thread that must wait
 * for the core: drives the datapath if nobody else does, else sleeps
 * until something changes. Returns with the lock held after progress or
 * at the latest when deadline_ns passes (0 = no deadline): 0, -EINTR if
 * a signal handler ran while the thread was asleep, or -EAGAIN if it
 * would have slept with O_NONBLOCK set (see struct homa_lib_waitctx).
 */
int homa_lib_wait(struct homa_lib *lib, uint64_t deadline_ns,
		  struct homa_lib_waitctx *w);

/* homa_lib_poll_round() - one round of the thread holding the poller
 * role (lock held, role taken; w NULL for the background thread): see
 * poller.c. 0, -EINTR or -EAGAIN. */
int homa_lib_poll_round(struct homa_lib *lib, uint64_t deadline_ns,
			struct homa_lib_waitctx *w);
/* homa_lib_release_poller() - the poller role is free: hand it to a
 * waiting application thread or the background thread (lock held). */
void homa_lib_release_poller(struct homa_lib *lib);
/* homa_lib_service() - run the core's work due now and send; returns
 * when the core next needs the CPU, ns (lock held). */
uint64_t homa_lib_service(struct homa_lib *lib);
/* homa_lib_service_at() - homa_lib_service at now, ns, just read (lock
 * held; poller.c). */
uint64_t homa_lib_service_at(struct homa_lib *lib, uint64_t now);

/* homa_lib_sleep() - the part of homa_lib_wait for a thread that
 * cannot poll: sleep until homa_lib_wake_waiters, deadline_ns (0 = none)
 * or a signal (lock held on entry and exit). 0, -EINTR or -EAGAIN. */
int homa_lib_sleep(struct homa_lib *lib, uint64_t deadline_ns,
		   struct homa_lib_waitctx *w);

/* homa_lib_wake_waiters() - wake every application thread asleep in
 * homa_lib_wait (lock held). */
void homa_lib_wake_waiters(struct homa_lib *lib);

/* homa_lib_kick() - write lib.wake_efd: the poller leaves epoll. */
void homa_lib_kick(struct homa_lib *lib);

/* homa_lib_kick_sleeper() - the core woke a socket from a thread that
 * is not the poller (lock held): kick the poller out of epoll, once,
 * so it sees the change (shutdown, a message another thread fed): the
 * background thread in epoll, or anybody after an idle period. An
 * application thread that polls in a ping-pong costs nothing here (one
 * load, inline). */
static inline void homa_lib_kick_sleeper(struct homa_lib *lib)
{
	if (__atomic_load_n(&lib->poller_asleep, __ATOMIC_SEQ_CST) &&
	    __atomic_exchange_n(&lib->poller_asleep, false, __ATOMIC_SEQ_CST))
		homa_lib_kick(lib);
}

/* homa_lib_after_op() - after a core call under the lock: flush the
 * datapath and wake the poller if the core now needs it sooner. */
void homa_lib_after_op(struct homa_lib *lib);

/*
 * homa_lib_after_msg() - homa_lib_after_op for a send (sent) or receive
 * on ls that succeeded or not (ok). Auto-cork: a send that leaves more
 * ready messages on ls comes from a thread draining a batch (a server
 * answering requests that came together, a client refilling its
 * outstanding RPCs), which will be back at once: the packets it queued
 * stay in the datapath's batch (lib.cork_ns) and leave together with the
 * next ones, one sendmmsg and one GSO send per peer. A receive keeps them
 * held (the thread takes the next message of the batch, then answers
 * it). They leave with the first send that finds no other message ready,
 * a failed call, any wait or poll (homa_lib_wait), the first call after
 * lib.cork_hold_ns, and at the latest when the background thread next
 * wakes (at most a tick, or HOMA_LIB_WATCH_TICKS while the application
 * threads spin) if the application stays away. A lone request
 * or reply (nothing else ready) is never held back.
 */
void homa_lib_after_msg_slow(struct homa_lib *lib, struct homa_lsock *ls,
			     bool ok, bool sent, uint64_t now);

/* homa_lib_flush() - send everything the datapath holds (lock held).
 * Only xmit queues packets in the datapath: most flushes of a round
 * trip (after each call, each service of the core) find none, and skip
 * the datapath's call. */
static inline void homa_lib_flush(struct homa_lib *lib)
{
	if (lib->tx_queued) {
		lib->tx_queued = false;
		lib->dp->ops->flush(lib->dp);
	}
	__atomic_store_n(&lib->cork_ns, 0, __ATOMIC_RELAXED);
}

/* The usual case inline, every call of a round trip: nothing held back,
 * the core busy and driven by an application thread, nothing to hold
 * (a receive, or a send with no other message ready): send what the
 * call queued, and that is all homa_lib_after_msg_slow would do. */
static inline void homa_lib_after_msg(struct homa_lib *lib,
				      struct homa_lsock *ls, bool ok, bool sent,
				      uint64_t now)
{
	if (__builtin_expect(
		    !lib->cork_ns && !lib->core_idle && !lib->bg_polling, 1) &&
	    !(sent && ok && homa_sock_readable(ls->hsk))) {
		if (lib->tx_queued)
			homa_lib_flush(lib);
		return;
	}
	homa_lib_after_msg_slow(lib, ls, ok, sent, now);
}

/* homa_lib_epoll_fallback() - the poller sleeps in epoll_pwait from now
 * on, as where epoll_pwait2 is missing (HOMA_TEST_NO_PWAIT2=1: tests). */
void homa_lib_epoll_fallback(void);

/* Large messages (at least HOMA_LIB_CHUNK_MIN bytes) are copied into the
 * core HOMA_LIB_CHUNK_BYTES at a time, packets read between chunks
 * (homa_lib_send_chunks). */
#define HOMA_LIB_CHUNK_MIN   (128u << 10)
#define HOMA_LIB_CHUNK_BYTES (64u << 10)

/*
 * homa_lib_send_chunks() - after homa_send with HOMA_SEND_CHUNKED
 * succeeded on ls (lock held): copy the message into the core chunk by
 * chunk, reading and feeding packets between chunks so that GRANTs are
 * answered from the caller's buffer while the copy goes on; returns
 * once the core no longer reads sa's pieces and every packet that
 * pointed into them has left. Returns the last clock read, ns.
 */
uint64_t homa_lib_send_chunks(struct homa_lib *lib, struct homa_lsock *ls,
			      const struct homa_send_args *sa, uint64_t now);

/* Socket lookup with a reference (users++); NULL and errno EBADF or
 * ENOTSOCK. Release with homa_lsock_put. Both under the lock. */
struct homa_lsock *homa_lsock_get(struct homa_lib *lib, int fd);

/* The process's instance once created (lib.c; atomic: read without
 * homa_lib_init_lock). */
extern struct homa_lib *homa_lib_instance;

/* Make the descriptor's readiness match the core's state. */
void homa_lsock_sync(struct homa_lsock *ls);

/* Bring the first socket on lib.sync_head up to date and take it off
 * (lock held, list not empty). */
static inline void homa_lib_sync_next(struct homa_lib *lib)
{
	struct homa_lsock *ls = lib->sync_head;
	uint32_t events = ls->sync_events;

	lib->sync_head = ls->sync_next;
	ls->sync_pending = false;
	ls->sync_events = 0;
	/* A message came, and the call that woke it took it (a ping-pong):
	 * the descriptor was not readable and is not to be; room was not
	 * lost, or the call that took it looked (homa_leave). */
	if (events == HOMA_WAKE_READABLE && !ls->readable_set &&
	    !homa_sock_readable(ls->hsk))
		return;
	homa_lsock_sync(ls);
}

/* Bring every socket whose state changed up to date (lock held). */
void homa_lib_sync_pending(struct homa_lib *lib);

/* homa_lsock_enter for every case but the usual one (lib.c): creates
 * the instance, sets errno for a descriptor that is not ours. */
struct homa_lsock *homa_lsock_enter_slow(struct homa_lib **libp, int fd);

/*
 * The start and end of every socket call: the instance, the lock, the
 * socket with a reference (NULL with errno set, lock not held). Inline:
 * two of them on each side of every RPC.
 */
static inline struct homa_lsock *homa_lsock_enter(struct homa_lib **libp,
						  int fd)
{
	struct homa_lib *lib =
		__atomic_load_n(&homa_lib_instance, __ATOMIC_ACQUIRE);
	struct homa_lsock *ls;

	if (__builtin_expect(lib != NULL, 1)) {
		homa_lib_lock(lib);
		/* The usual case: a socket of ours, open. */
		if ((unsigned int)fd < (unsigned int)lib->socks_len) {
			ls = lib->socks[fd];
			if (ls && !ls->closing) {
				ls->users++;
				*libp = lib;
				return ls;
			}
		}
		homa_lib_unlock(lib);
	}
	return homa_lsock_enter_slow(libp, fd);
}

/* Release a reference of homa_lsock_get (lock held). */
static inline void homa_lsock_put(struct homa_lib *lib, struct homa_lsock *ls)
{
	/* Usually one socket, woken by the message this call took. */
	if (lib->sync_head && !lib->sync_head->sync_next)
		homa_lib_sync_next(lib);
	else if (lib->sync_head)
		homa_lib_sync_pending(lib);
	ls->users--; /* a closing socket's homa_close looks (50 us) */
}

static inline void homa_lsock_leave(struct homa_lib *lib, struct homa_lsock *ls)
{
	homa_lsock_put(lib, ls);
	homa_lib_unlock(lib);
}

/* Grow lib.socks to hold fd (lock held). 0 or -ENOMEM. */
int homa_lib_table(struct homa_lib *lib, int fd);

/* homa_lib_sync_forget() - take ls off that list without bringing it up
 * to date (its core socket is gone; lock held). */
void homa_lib_sync_forget(struct homa_lib *lib, struct homa_lsock *ls);

/* Give the socket a receive region if the application registered none
 * (Linux never delivers to a socket without one, spec 13 item 11). */
int homa_lsock_ensure_region(struct homa_lib *lib, struct homa_lsock *ls);

/* Record the socket's last error text (for HOMAIOCINFO). */
void homa_lsock_error(struct homa_lsock *ls, const char *msg);

/* Convert an address; -EAFNOSUPPORT / -EINVAL on mismatch or length.
 * Inline: every send converts one. */
static inline int homa_lib_addr_in(const struct homa_lsock *ls,
				   const struct sockaddr *sa, socklen_t len,
				   struct homa_addr *out, uint16_t *port)
{
	if (!sa)
		return -EINVAL;
	if (sa->sa_family != ls->family)
		return -EAFNOSUPPORT;
	if (ls->family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		if (len < sizeof(*in))
			return -EINVAL;
		homa_addr_set_v4(out, &in->sin_addr);
	} else {
		const struct sockaddr_in6 *in6 =
			(const struct sockaddr_in6 *)sa;

		if (len < sizeof(*in6))
			return -EINVAL;
		memcpy(out->a, &in6->sin6_addr, 16);
	}
	*port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	return 0;
}

/* homa_lib_addr_out for every case but the usual one (socket.c). */
socklen_t homa_lib_addr_out_slow(const struct homa_lsock *ls,
				 const struct homa_addr *a, uint16_t port,
				 void *sa, socklen_t cap);

/* An address out into sa (cap bytes; NULL: only the length); returns
 * its whole length. The usual case inline, on every message received:
 * an IPv4 socket, the whole address fits, written at once. */
static inline socklen_t homa_lib_addr_out(const struct homa_lsock *ls,
					  const struct homa_addr *a,
					  uint16_t port, void *sa,
					  socklen_t cap)
{
	if (ls->family == AF_INET && sa && cap >= sizeof(struct sockaddr_in) &&
	    homa_addr_is_v4(a)) {
		struct sockaddr_in in = { 0 };

		in.sin_family = AF_INET;
		in.sin_port = htons(port);
		memcpy(&in.sin_addr, &a->a[12], 4);
		memcpy(sa, &in, sizeof(in));
		return sizeof(in);
	}
	return homa_lib_addr_out_slow(ls, a, port, sa, cap);
}

/* homa_lib_env_warn() - print a warning to out for every HOMA_*
 * variable of the environment that no part of libhoma reads (env.c
 * lists the names); once per name, as each appears once in environ.
 * Returns how many. */
int homa_lib_env_warn(FILE *out);

/* homa_lib_abandon() - forget the instance without touching it (a forked
 * child: its threads and lock state are the parent's); the next socket
 * creates a new one. */
void homa_lib_abandon(void);

/* homa_lib_sample_open() - open HOMA_SAMPLE_FILE if set (sample.c);
 * 0 or -errno with the error text set. */
int homa_lib_sample_open(struct homa_lib *lib);

/* homa_lib_sample() - append the once-a-second line to HOMA_SAMPLE_FILE
 * when it is due (lock held; dropped across the write). */
void homa_lib_sample(struct homa_lib *lib);

/* Thread-local text of the last configuration error. */
void homa_lib_set_error(const char *msg);

#endif /* HOMA_API_LIB_H */
