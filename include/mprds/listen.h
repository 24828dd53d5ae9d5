/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_LISTEN_H
#define MPRDS_LISTEN_H

#include <stdbool.h>

#include "mprds/addr.h"

/* Makes sure this process listens on a:MPRDS_TCP_PORT; returns 0 or -errno. */
int listen_ensure(const struct addr *a);
/* Does this process own address a (same-process delivery)? */
bool listen_owns(const struct addr *a);
struct conn;
/* The path an accepted connection from TCP source port port becomes, or NULL (wire.md §7). */
struct path *listen_pick_slot(struct conn *c, uint16_t port);
/* Loop thread: start watching listeners created by application threads. */
void listen_start_pending(void);
/* In a forked child: close our copies of the parent's listeners and forget them. */
void listen_after_fork(void);

#endif
