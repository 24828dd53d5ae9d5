/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_PATH_H
#define MPRDS_PATH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/uio.h>

#include "mprds/msg.h"
#include "mprds/transport.h"
#include "mprds/wire.h"

struct conn;
struct sock;

enum path_state { PATH_DOWN, PATH_CONNECTING, PATH_UP };

/*
 * What a path asks of, and tells, the connection that owns it: conn.c gives these to
 * path_init, as the kernel's rds_connection owns its rds_conn_path array. A path never
 * calls its conn by name, so the rooms depend one way (conn on path).
 */
struct path_owner_ops {
	/* Some path of c, or c itself, holds an application message. */
	bool (*has_app_data)(const struct conn *c);
	/* May lane p transmit, or must it wait for path 0 to catch up (wire.md §8)? */
	bool (*lane_may_send)(struct conn *c, const struct path *p);
	/* The path our congestion map goes on (wire.md §10). */
	struct path *(*map_path)(struct conn *c);
	/* Path 0 came up / went down (wire.md §6: every path-0 connection handshakes). */
	void (*path0_up)(struct conn *c);
	void (*path0_down)(struct conn *c);
	/* A path of c went down. */
	void (*path_down)(struct conn *c);
	/* Our map must go out to c (a path came up: wire.md §9). */
	void (*want_cong_map)(struct conn *c);
	/* Our connect to c's peer failed (errno err), or a path of c came up: the peer answers. */
	void (*unreachable)(struct conn *c, int err);
	void (*reached)(struct conn *c);
};

/*
 * One path: the protocol state of one connection of a conn, its queues and sequence numbers.
 * The connection itself (a TCP socket, its watchers and timers) is the transport's
 * (transport.h); the life cycle is written down at the top of path.c.
 */
struct path {
	struct conn *conn;
	int index;
	enum path_state state;
	const struct transport *tr;
	const struct path_owner_ops *owner;
	void *tr_state; /* the transport's own per-path state */
	bool poke; /* our connect from the larger address: dropped once established (§1) */
	bool dropping; /* inside path_drop: what it calls must not drop this path again */
	bool tx_dead; /* the connection failed while reads were paused: closed when they resume */
	unsigned epoch; /* bumped by every close */
	uint8_t warned; /* PATH_WARN_* already logged for this connection */
	bool kicked;
	TAILQ_ENTRY(path) kick_link;
	struct sock *rx_blocker; /* reads paused: this socket holds more than its bound */
	/* When the bytes of the last read arrived (sys_read_stamped), and those of the read
	 * where the message being parsed began; 0: unknown (rx.c, for the peer's maps). */
	uint64_t rx_stamp_ns, msg_began_ns;
	unsigned pongs; /* pongs queued or unacknowledged: bounded (rx.c) */
	char bad[48]; /* why the stream was refused, for its one log line */
	struct msg_queue sendq, unacked;
	size_t head_off; /* bytes of the first sendq message already written */
	uint64_t next_tx_seq, next_rx_seq;
	uint16_t peer_port; /* source port of the peer's connection we accepted; 0: ours or none */
	uint64_t rx_seq_at_accept; /* next_rx_seq when that connection was filed here */
	uint64_t tx_offset; /* bytes written to this connection */
	uint64_t flush_upto; /* wire.md §13: unacked messages ending here or before are not */
	bool flush_armed; /* resent (written before the peer's restart was noticed) */
	struct wire_parser parser;
	uint64_t msgs_tx, msgs_rx, bytes_tx, bytes_rx, retransmits, dups, connects;
	uint64_t flushed; /* messages for a restarted peer's old incarnation, not resent */
	uint64_t rx_pauses; /* times reads stopped for a socket over its bound */
};

/* 0, or -ENOMEM when the transport's state cannot be had. */
int path_init(struct path *p, struct conn *c, int index, const struct transport *tr,
	      const struct path_owner_ops *owner);
/* Assigns the next sequence number and queues m; kicks the loop. */
void path_enqueue(struct path *p, struct msg *m);
/* The same without the kick. */
void path_queue(struct path *p, struct msg *m);
/* Application thread: writes p's only queued message now if the path is idle; false = kick. */
bool path_write_direct(struct path *p);
/* Loop thread: connect if we should, write what is queued. */
void path_service(struct path *p);

/* The transport reports upward through these. */

/* Our connect() is in progress (DOWN -> CONNECTING). */
void path_connecting(struct path *p);
/* Our poke of the smaller peer connected and is closed: it will connect (wire.md §1). */
void path_poked(struct path *p);
/*
 * Our connect (or poke) failed with errno err before the connection was established: the
 * owner hears of it (its peer may not be there), then as path_drop.
 */
void path_connect_failed(struct path *p, int err);
/* The connection is established (connected by us, or accepted: §7); fresh stream state. */
void path_connected(struct path *p);
/*
 * mprdsd --upgrade: p was read from a snapshot (path_snap.c), in a new engine; up: its
 * connection came with it, else it is down (its unacknowledged messages to be resent).
 */
void path_restored(struct path *p, bool up);
/* path_snap.c: p's state in a snapshot (snap.h), and back. */
struct snap_in;
struct snap_out;
void path_save(const struct path *p, struct snap_out *o);
void path_restore(struct path *p, struct snap_in *in);
/* The connection just attached to p is the peer's, from TCP source port peer_port. */
void path_accepted(struct path *p, uint16_t peer_port);
/* A new connection from the peer replaces p's: false while the old one must be read first. */
bool path_make_room(struct path *p);
/* The peer's TCP acknowledged the stream up to acked bytes: frees those messages (true if any). */
bool path_drop_acked(struct path *p, uint64_t acked);
/* May p write now (the congestion map first, lanes after path 0's catch-up, wire.md §8, §10)? */
bool path_may_send(struct path *p);
/* The next batch to write: up to max iovecs (2 per message) from the send queue; their count. */
int path_tx_iov(struct path *p, struct iovec *iov, int max);
/* n bytes of that batch were written. */
void path_tx_written(struct path *p, size_t n);
/* The connection ended in the middle of a message: the one line that says where. */
void path_note_truncated(struct path *p);
/* Reads paused for rx_blocker may resume (it was released or drained below half its bound). */
bool path_rx_may_resume(struct path *p);
/* Parses bytes read from the TCP connection; a malformed stream drops the path (-errno). */
int path_receive(struct path *p, const uint8_t *buf, size_t n);
/*
 * The connection failed: what its peer's TCP acknowledged is still read, then it is closed,
 * unacknowledged messages go back to the front of the queue, and the smaller side
 * reconnects. While reads are paused the close waits for them (tx_dead).
 */
void path_drop(struct path *p, const char *why);
/* Closes at once without reading what is buffered (malformed stream, eviction). */
void path_abort(struct path *p, const char *why);
/* Stops every watcher, closes the connection, frees the queues: the conn is going away. */
void path_release(struct path *p);
/* wire.md §13: the peer restarted: sequence numbers anew, stale retransmissions dropped. */
void path_peer_restarted(struct path *p);
/* No application message queued or unacknowledged. */
bool path_idle(const struct path *p);
bool path_should_connect(const struct path *p);
/* Reads are paused because a socket fed by this path holds more than its bound. */
bool path_rx_paused(const struct path *p);

#endif
