/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * preload.h - libhoma-preload.so: the kernel's Homa socket API for
 * unmodified programs (LD_PRELOAD, see homa-run(1) and homa(7)). The shim
 * interposes the socket calls; on Homa descriptors they go to libhoma
 * (linked into the shim, its symbols hidden), on every other descriptor
 * to the next definition (libc), untouched.
 *
 * libhoma's own calls (socket, close, fcntl, read/write on its eventfds,
 * send/recv on its socket pairs...) never reach the shim: its copy of
 * libhoma calls homa_pre_libc_NAME instead (libc.c).
 */
#ifndef HOMA_PRELOAD_H
#define HOMA_PRELOAD_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

#define HOMA_PRE_MAX_FDS (1 << 20) /* descriptors the table covers */

/* What a descriptor is to the shim. */
enum homa_pre_kind {
	HOMA_PRE_NONE = 0,  /* not Homa: libc */
	HOMA_PRE_SOCK = 1,  /* a Homa socket of this process */
	HOMA_PRE_STALE = 2, /* inherited from the parent across fork */
};

/* Kind of each descriptor (enum homa_pre_kind; atomic byte access). */
extern uint8_t homa_pre_fds[HOMA_PRE_MAX_FDS];

/* HOMA_DEBUG is set: say what happens on stderr. */
extern bool homa_pre_debug;

static inline int homa_pre_kind(int fd)
{
	if (fd < 0 || fd >= HOMA_PRE_MAX_FDS)
		return HOMA_PRE_NONE;
	return __atomic_load_n(&homa_pre_fds[fd], __ATOMIC_RELAXED);
}

/* Set fd's kind; homa_pre_top is the highest descriptor ever marked
 * (bounds the scans; atomic). */
void homa_pre_mark(int fd, enum homa_pre_kind kind);
extern int homa_pre_top;

/* The next definition of name (libc's), resolved once. */
void *homa_pre_next(const char *name);
#define HOMA_PRE_REAL(var, type, name)                                         \
	static __typeof__(type) var;                                           \
	if (!var)                                                              \
		var = (type)homa_pre_next(#name);

/* The optional argument of a variadic call (ioctl, fcntl, fcntl64: one
 * pointer-sized value at most) into var (void *); last is the call's last
 * named parameter. For the variadic functions' own bodies only. */
#define HOMA_PRE_VA_ARG(var, last)                                             \
	do {                                                                   \
		va_list homa_pre_ap;                                           \
		va_start(homa_pre_ap, last);                                   \
		(var) = va_arg(homa_pre_ap, void *);                           \
		va_end(homa_pre_ap);                                           \
	} while (0)

/* A call on a descriptor inherited across fork: EBADF, said on stderr
 * under HOMA_DEBUG. Returns -1. */
int homa_pre_stale(const char *call, int fd);

/* A message sent on a descriptor that is not Homa's: Homa sockets it
 * passes with SCM_RIGHTS leave the shim's sight (homa_kapi_untrack).
 * Before the send: the receiver may use them at once. */
void homa_pre_scan_rights(const struct msghdr *msg);

#endif /* HOMA_PRELOAD_H */
