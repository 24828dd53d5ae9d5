/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_PATH_H
#define MPRDS_PATH_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "mprds/msg.h"
#include "mprds/wire.h"

struct conn;
struct sock;

enum path_state { PATH_DOWN, PATH_CONNECTING, PATH_UP };

/* One path: one TCP connection of a conn, with its queues and sequence numbers. */
struct path {
	struct conn *conn;
	int index;
	int fd;
	enum path_state state;
	bool poke; /* our connect from the larger address: dropped once established (§1) */
	bool dropping; /* inside path_drop: what it calls must not drop this path again */
	bool tx_dead; /* the connection failed while reads were paused: closed when they resume */
	unsigned epoch; /* bumped by every close */
	uint8_t warned; /* PATH_WARN_* already logged for this TCP connection */
	bool kicked;
	TAILQ_ENTRY(path) kick_link;
	ev_io rio, wio;
	ev_timer retry; /* reconnect backoff */
	ev_timer ack_poll; /* while bytes are unacknowledged */
	ev_timer rx_poll; /* while reads are paused: has rx_blocker's queue shrunk? */
	struct sock *rx_blocker; /* reads paused: this socket holds more than its bound */
	unsigned pongs; /* pongs queued or unacknowledged: bounded (path.c) */
	uint16_t sport_group; /* wire.md §1 (7.0+): the next source-port group to try */
	char bad[48]; /* why the stream was refused, for its one log line */
	double backoff; /* seconds; wire.md §9 */
	struct msg_queue sendq, unacked;
	size_t head_off; /* bytes of the first sendq message already written */
	uint64_t next_tx_seq, next_rx_seq;
	uint64_t tx_offset; /* bytes written to this TCP connection */
	double last_write; /* engine_now() of the last write */
	uint64_t flush_upto; /* wire.md §13: unacked messages ending here or before are not */
	bool flush_armed; /* resent (written before the peer's restart was noticed) */
	struct wire_parser parser;
	uint64_t msgs_tx, msgs_rx, bytes_tx, bytes_rx, retransmits, dups, connects;
	uint64_t flushed; /* messages for a restarted peer's old incarnation, not resent */
	uint64_t rx_pauses; /* times reads stopped for a socket over its bound */
};

void path_init(struct path *p, struct conn *c, int index);
/* Assigns the next sequence number and queues m; kicks the loop. */
void path_enqueue(struct path *p, struct msg *m);
/* The same without the kick. */
void path_queue(struct path *p, struct msg *m);
/* Application thread: writes p's only queued message now if the path is idle; false = kick. */
bool path_write_direct(struct path *p);
/* Loop thread: connect if we should, write what is queued. */
void path_service(struct path *p);
/*
 * Loop thread: install an accepted TCP socket as this path (an old connection is read to
 * its end first). -EBUSY, fd untouched, while the old one must wait for paused reads.
 */
int path_attach(struct path *p, int fd);
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
/* A socket may hold this many unread bytes before the paths feeding it stop reading. */
size_t path_rx_bound(const struct sock *s);

#endif
