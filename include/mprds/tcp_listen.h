/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_TCP_LISTEN_H
#define MPRDS_TCP_LISTEN_H

#include <stdbool.h>

#include "mprds/addr.h"

#include <sys/queue.h>

struct conn;
struct engine;

/* An engine's TCP listeners, one per local address its sockets bound. */
struct listen_table {
	LIST_HEAD(, listener) list;
	/* Peers refused by the allow-list: one log line a while, saying how many more. */
	double refused_logged_at;
	unsigned long refused_unlogged;
};

/*
 * Makes sure the engine listens on a:MPRDS_TCP_PORT (or, under listen_any(), that a is an
 * address of this host); returns 0 or -errno.
 */
int listen_ensure(struct engine *e, const struct addr *a);
/*
 * Listens on every address, *:MPRDS_TCP_PORT and [::]:MPRDS_TCP_PORT, as the kernel does
 * (mprdsd's default instance): connections and pings reach every local address, bound or
 * not. 0 or -errno (-EADDRINUSE: another program holds the port).
 */
int listen_any(struct engine *e);
/* Does the engine own address a (delivered in memory)? */
bool listen_owns(struct engine *e, const struct addr *a);
/* The path an accepted connection from TCP source port port becomes, or NULL (wire.md §7). */
struct path *listen_pick_slot(struct conn *c, uint16_t port);
/* Loop thread: start watching listeners created by application threads. */
void listen_start_pending(struct engine *e);
/* mprdsd --upgrade: the listeners and their fds in a snapshot (snap.h), and back. */
struct snap_in;
struct snap_out;
void listen_save_all(struct snap_out *o, struct engine *e);
void listen_restore_all(struct snap_in *in, struct engine *e);
/* In a forked child: close our copies of the parent's listeners (left as they are). */
void listen_forget_after_fork(struct engine *e);
/* Closes every listener and frees it. */
void listen_free_all(struct engine *e);

#endif
