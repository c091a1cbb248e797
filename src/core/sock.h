/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sock.h - sockets (sock.c): what the core's other modules use beyond
 * homa_core.h's socket API.
 */
#ifndef HOMA_CORE_SOCK_H
#define HOMA_CORE_SOCK_H

#include <stdint.h>

#include "homa_impl.h"

struct homa_sock *homa_sock_find(struct homa *homa, uint16_t port);

#endif /* HOMA_CORE_SOCK_H */
