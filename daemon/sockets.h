/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_DAEMON_SOCKETS_H
#define MPRDS_DAEMON_SOCKETS_H
/*
 * The RDS sockets the daemon serves, host-wide, by id, and who holds each: a socket lives
 * while one client holds it (a process and, through IPC_ADOPT, its forked children share it,
 * as a forked child shares a kernel socket), and is released when the last one lets go or
 * dies.
 */
#include <stdbool.h>
#include <stdint.h>

#include "mprds/api.h"

#define SOCKETS_MAX 65536

/* One socket a client holds, and the messages lent to its cache (api_recv_lend). */
struct hold {
	uint32_t id;
	unsigned lent;
	size_t lent_bytes;
	size_t credit; /* the room the last send's reply gave: sends the client makes unasked */
};

struct held {
	struct hold *h;
	unsigned n, cap;
};

/* A new socket for a holder: its id (> 0), or 0 when the table is full. */
uint32_t sockets_add(struct api_sock *s, int app_fd);
/* The socket id names, if holder holds it; else NULL. */
struct api_sock *sockets_find(const struct held *holder, uint32_t id);
/* holder holds id too: 0, -ENOMEM. */
int sockets_hold(struct held *holder, uint32_t id);
/* holder lets go of id (IPC_RELEASE); the last holder's let-go releases the socket. */
void sockets_let_go(struct held *holder, uint32_t id);
/* The application's end of socket id, whose name tells it is an RDS fd: -1 if no socket. */
int sockets_app_fd(uint32_t id);
/* id is being passed between processes: it lives until an attach, or until `until`. */
void sockets_passing(uint32_t id, double until);
/* holder attaches id it was passed (taking over a passing hold, if there is one). */
int sockets_attach(struct held *holder, uint32_t id);
/* Passing holds whose time is up are dropped (the fd never arrived anywhere). */
void sockets_expire_passing(double now);
/* holder's entry for id, if it holds it. */
struct hold *sockets_hold_of(struct held *holder, uint32_t id);
/* The lent messages holder's application took: returned to the socket's accounting. */
void sockets_returned(struct held *holder, uint32_t id, unsigned n, size_t bytes);
/* holder lets go of everything (a client that left or died). */
void sockets_let_go_all(struct held *holder);
/* The number of sockets alive. */
unsigned sockets_count(void);

/* mprdsd --upgrade: the table in a snapshot (snap.h), after the engine's; and back. */
struct snap_in;
struct snap_out;
void sockets_save(struct snap_out *o);
void sockets_restore(struct snap_in *in);
/* A client's holds (after the table: a hold names a socket of it). */
void held_save(struct snap_out *o, const struct held *h);
void held_load(struct snap_in *in, struct held *h);

#endif
