/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_MSG_H
#define MPRDS_MSG_H

#include <stdint.h>
#include <sys/queue.h>
#include <time.h>

#include "mprds/addr.h"
#include "mprds/wire.h"

struct engine;
struct sock;

/* One RDS message: on a path's send or unacked queue, or on a socket's receive queue. */
struct msg {
	TAILQ_ENTRY(msg) link;
	struct wire_header h;
	uint8_t *data; /* h.len bytes, malloc'd; NULL when empty */
	struct engine *eng; /* whose caches it returns to */
	struct sock *sender; /* credited when TCP acknowledges the message; NULL for control */
	uint64_t end_offset; /* path byte offset just past the message, once written */
	struct addr src; /* receive side: the peer address it came from */
	uint8_t retransmit; /* sent before: resend with RDS_FLAG_RETRANSMITTED */
	uint8_t orphan; /* its socket was closed after queueing it: still delivered */
	uint8_t zcopy; /* MSG_ZEROCOPY: zcookie is reported to the sender once TCP-acked */
	uint32_t zcookie;
	uint8_t wire[WIRE_HDR_LEN]; /* the header as encoded for the write in progress */
	struct timespec rx_time; /* CLOCK_REALTIME when queued to the socket (SO_TIMESTAMP) */
	uint64_t rx_stamp_ns[2]; /* CLOCK_MONOTONIC: parsed, queued (RXPATH_LATENCY) */
};

TAILQ_HEAD(msg_queue, msg);

struct msg *msg_new(struct engine *e, uint16_t sport, uint16_t dport, uint8_t *data, uint32_t len);
void msg_free(struct msg *m);
void msg_queue_free(struct msg_queue *q);

#endif
