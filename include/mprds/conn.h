/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_CONN_H
#define MPRDS_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <ev.h>

#include "mprds/addr.h"
#include "mprds/path.h"
#include "mprds/wire.h"

/* One RDS connection: a (local, peer) address pair, its handshake state and its paths. */
struct conn {
	struct addr laddr, faddr;
	bool smaller; /* laddr < faddr: we open every TCP connection (wire.md §1) */
	int npaths; /* 0 = not yet agreed, else 1..8 (wire.md §6) */
	bool probe_pending; /* a probe is out and no handshake reply processed yet */
	uint64_t catchup_seq; /* lanes >= 1 wait until path 0 is past this (wire.md §8) */
	uint32_t peer_gen;
	bool peer_sport_idx;
	uint8_t peer_cong[WIRE_CONG_MAP_BYTES];
	struct path paths[WIRE_MAX_PATHS];
	/*
	 * Messages sent before the handshake: held (counted in their sockets' send buffers)
	 * until npaths is known, then each goes to its socket's own path. Better than the
	 * kernel's "path 0 until then", which puts a whole first burst on one path.
	 */
	struct msg_queue held;
	ev_timer hold_timer;
	bool hold_expired;
	LIST_ENTRY(conn) link;
};

struct conn *conn_find(const struct addr *laddr, const struct addr *faddr);
struct conn *conn_get(const struct addr *laddr, const struct addr *faddr);
/* The path a socket bound to port uses to this peer. */
struct path *conn_pick_path(struct conn *c, uint16_t port);
/* Queues the handshake probe on path 0 if none is out yet and npaths is unknown. */
void conn_probe(struct conn *c);
/* A probe or probe pong arrived with these extensions (wire.md §6). */
void conn_handshake(struct conn *c, const struct wire_exts *ex);
/* Queues a socket's message: held before the handshake, else on its path. */
void conn_send(struct conn *c, struct msg *m);
/* Path 0 came up: a peer that never answers the probe must not hold messages forever. */
void conn_path0_up(struct conn *c);
void conn_fill_exts(struct wire_exts *ex);
/* May lane p transmit, or must it wait for path 0 to catch up (wire.md §8)? */
bool conn_lane_may_send(struct conn *c, const struct path *p);
/* Removes every message of s from every path's queues. */
void conn_forget_sender(struct sock *s);
void conn_log_stats(void);
/* Nothing queued or unacknowledged on any path. */
bool conn_all_idle(void);
int conn_count(void);
/* In a forked child: close our copies of the parent's TCP paths and forget them. */
void conn_after_fork(void);
/* Frees every connection and what is queued on it (paths must not be in the loop). */
void conn_free_all(void);

#endif
