/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kapi.h - what the preload shim (src/preload) needs from libhoma beyond
 * the public API to give programs written for the kernel module the
 * kernel's behaviour: sockets under the kernel's region rules, several
 * descriptors for one socket (dup), the socket's name, the library's own
 * descriptors (so close_range spares them), and a fresh instance in a
 * forked child. Not installed; all calls set errno and return -1 on
 * failure like the public ones.
 */
#ifndef HOMA_API_KAPI_H
#define HOMA_API_KAPI_H

#include <stdbool.h>
#include <sys/socket.h>

/* homa_kapi_socket() - a Homa socket under the kernel's rules: no receive
 * region unless the application registers one (recvmsg is EINVAL until
 * then, a server without one drops requests). flags: SOCK_NONBLOCK,
 * SOCK_CLOEXEC (the descriptor is close-on-exec whatever flags say). */
int homa_kapi_socket(int domain, int flags);

/* homa_kapi_alias() - newfd (already a duplicate of oldfd, made by the
 * caller) names the same socket. */
int homa_kapi_alias(int oldfd, int newfd);

/* homa_kapi_close() - close one descriptor of a socket; the socket ends
 * with its last descriptor. */
int homa_kapi_close(int fd);

/* homa_kapi_setfl() - fcntl(fd, F_SETFL, flags) on a Homa socket, the
 * O_NONBLOCK it sets recorded, so that the socket's calls know it
 * without reading it back (one fcntl fewer per sleeping call). */
int homa_kapi_setfl(int fd, int flags);

/* homa_kapi_fionbio() - ioctl(fd, FIONBIO, &on) on a Homa socket, the
 * same way. */
int homa_kapi_fionbio(int fd, int on);

/* homa_kapi_untrack() - the file of fd (-1: of every socket) may now be
 * changed by calls the shim does not see (its descriptor was sent to
 * another process or to this one with SCM_RIGHTS; the process forked):
 * its calls read O_NONBLOCK with fcntl again, for good. */
void homa_kapi_untrack(int fd);

/* homa_kapi_getsockname() - family, wildcard address and the port. */
int homa_kapi_getsockname(int fd, struct sockaddr *sa, socklen_t *len);

/* homa_kapi_internal_fds() - the library's own descriptors (datapath
 * sockets, epoll and event descriptors, its ends of the socket pairs):
 * up to max into fds; returns how many (0 without an instance). The
 * eventfds that application threads sleep on are not listed. */
int homa_kapi_internal_fds(int *fds, int max);

/* homa_kapi_fork_child() - in a forked child: the parent's instance is
 * abandoned (no thread of it runs here); new sockets get a new one. */
void homa_kapi_fork_child(void);

#endif /* HOMA_API_KAPI_H */
