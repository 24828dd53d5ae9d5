/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_CONN_H
#define MPRDS_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "mprds/addr.h"
#include "mprds/path.h"
#include "mprds/timer.h"
#include "mprds/wire.h"

struct engine;

/* An engine's connections, and the count of provisional ones evicted (conn.c). */
struct conn_table {
	LIST_HEAD(, conn) list;
	unsigned evicted;
	double evict_logged;
};

/* One RDS connection: a (local, peer) address pair, its handshake state and its paths. */
struct conn {
	struct engine *eng;
	struct addr laddr, faddr;
	bool smaller; /* laddr < faddr: we open every TCP connection (wire.md §1) */
	bool loopback; /* faddr is ours too: served in memory, never over TCP */
	int npaths; /* 0 = not yet agreed, else 1..8 (wire.md §6) */
	bool probe_pending; /* a probe is out and no handshake reply processed yet */
	/*
	 * The smaller side opens lanes >= 1 only after a handshake on the current path 0
	 * (wire.md §7, 7.0+): a restarted acceptor then knows npaths and SPORT_IDX before
	 * any lane arrives. A peer that never answers gets them after HS_TIMEOUT_S anyway.
	 */
	bool lanes_ok;
	struct timer hs_timer;
	/*
	 * Made by an accepted TCP connection, and nothing heard on it yet nor sent to it by a
	 * local socket: a peer opening connections by the thousand, from many addresses, gets
	 * a bounded number of these; the oldest goes first, and one whose connections are all
	 * gone is freed (conn.c).
	 */
	bool provisional;
	struct timer reap;
	uint64_t catchup_seq; /* lanes >= 1 wait until path 0 is past this (wire.md §8) */
	uint32_t peer_gen;
	bool peer_sport_idx;
	uint8_t peer_cong[WIRE_CONG_MAP_BYTES];
	uint64_t peer_cong_at; /* when the map in peer_cong arrived (monotonic ns; 0: unknown) */
	struct path paths[WIRE_MAX_PATHS];
	/*
	 * Messages sent before the handshake: held (counted in their sockets' send buffers)
	 * until npaths is known, then each goes to its socket's own path. Better than the
	 * kernel's "path 0 until then", which puts a whole first burst on one path.
	 */
	struct msg_queue held;
	struct timer hold_timer;
	bool hold_expired;
	bool cong_pending; /* our map must go out before the next message (wire.md §10) */
	/* Our last connect failed and that was logged: the next failure is not, a path up is. */
	bool unreachable_said;
	LIST_ENTRY(conn) link;
};

struct conn *conn_find(struct engine *e, const struct addr *laddr, const struct addr *faddr);
/* The connection a local socket sends on (made if needed; never provisional). */
struct conn *conn_get(struct engine *e, const struct addr *laddr, const struct addr *faddr);
/* The connection for an accepted TCP connection; NULL if none can be had. */
struct conn *conn_accept_get(struct engine *e, const struct addr *laddr, const struct addr *faddr);
/* A well-formed message arrived on one of c's paths. */
void conn_heard(struct conn *c);
/* Some path of c holds an application message (queued or unacknowledged), or c holds one. */
bool conn_has_app_data(const struct conn *c);
/* The path a socket bound to port uses to this peer. */
struct path *conn_pick_path(struct conn *c, uint16_t port);
/* Queues the handshake probe on path 0 if none is out yet and npaths is unknown. */
void conn_probe(struct conn *c);
/* A probe or probe pong arrived with these extensions (wire.md §6). */
void conn_handshake(struct conn *c, const struct wire_exts *ex);
/* Queues a socket's message: held before the handshake (NULL), else on the path returned,
 * which the caller kicks. */
struct path *conn_send(struct conn *c, struct msg *m);
/*
 * Path 0 came up: probe again (7.0+: every path-0 reconnect re-handshakes, wire.md §6), and
 * a peer that never answers must not hold messages forever.
 */
void conn_path0_up(struct conn *c);
void conn_path0_down(struct conn *c);
/* A path of c went down: a provisional conn with no connection left is freed soon. */
void conn_path_down(struct conn *c);
/* Our map must go out to c (path up, or a change): on conn_map_path(). */
void conn_want_cong_map(struct conn *c);
struct path *conn_map_path(struct conn *c);
/* The local map of laddr changed: every connection from laddr sends it. */
void conn_cong_changed(struct engine *e, const struct addr *laddr);
/* Our handshake extensions (NPATHS, GEN_NUM, SPORT_IDX) toward c's peer. */
void conn_fill_exts(const struct conn *c, struct wire_exts *ex);
/* May lane p transmit, or must it wait for path 0 to catch up (wire.md §8)? */
bool conn_lane_may_send(struct conn *c, const struct path *p);
/* RDS_CANCEL_SENT_TO: drops s's queued and unacknowledged messages to (dst, port). */
void conn_cancel(struct sock *s, const struct addr *dst, uint16_t port);
/* The socket is closed: its messages go on without it (see conn.c for why). */
void conn_forget_sender(struct sock *s);
void conn_log_stats(struct engine *e);
/* Nothing queued or unacknowledged on any path. */
bool conn_all_idle(struct engine *e);
int conn_count(struct engine *e);
/* Calls fn for every connection (fn must not add or remove connections). */
void conn_foreach(struct engine *e, void (*fn)(struct conn *c, void *arg), void *arg);
/* In a forked child: close our copies of the parent's TCP paths (the conns are left). */
void conn_forget_after_fork(struct engine *e);
/* conn_snap.c: every connection and its paths in a snapshot (mprdsd --upgrade), and back. */
struct snap_in;
struct snap_out;
void conn_save_all(struct snap_out *o, struct engine *e);
void conn_restore_all(struct snap_in *in, struct engine *e);
/* Frees every connection and what is queued on it. */
void conn_free_all(struct engine *e);

#endif
