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

enum path_state { PATH_DOWN, PATH_CONNECTING, PATH_UP };

/* One path: one TCP connection of a conn, with its queues and sequence numbers. */
struct path {
	struct conn *conn;
	int index;
	int fd;
	enum path_state state;
	bool poke; /* our connect from the larger address: dropped once established (§1) */
	bool kicked;
	TAILQ_ENTRY(path) kick_link;
	ev_io rio, wio;
	ev_timer retry; /* reconnect backoff */
	ev_timer ack_poll; /* while bytes are unacknowledged */
	double backoff; /* seconds; wire.md §9 */
	struct msg_queue sendq, unacked;
	size_t head_off; /* bytes of the first sendq message already written */
	uint64_t next_tx_seq, next_rx_seq;
	uint64_t tx_offset; /* bytes written to this TCP connection */
	struct wire_parser parser;
	uint64_t msgs_tx, msgs_rx, bytes_tx, bytes_rx, retransmits, dups, connects;
};

void path_init(struct path *p, struct conn *c, int index);
/* Assigns the next sequence number and queues m; kicks the loop. */
void path_enqueue(struct path *p, struct msg *m);
/* Loop thread: connect if we should, write what is queued. */
void path_service(struct path *p);
/* Loop thread: install an accepted TCP socket as this path. */
void path_attach(struct path *p, int fd);
/* Parses bytes read from the TCP connection; a malformed stream drops the path (-errno). */
int path_receive(struct path *p, const uint8_t *buf, size_t n);
void path_drop(struct path *p, const char *why);
/* No application message queued or unacknowledged. */
bool path_idle(const struct path *p);
bool path_should_connect(const struct path *p);

#endif
