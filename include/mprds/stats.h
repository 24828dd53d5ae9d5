/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_STATS_H
#define MPRDS_STATS_H
/*
 * The events an engine counts for RDS_INFO_COUNTERS (conn_info.c gives them the kernel's
 * names). One set per engine, not per process: mprdsd serves a whole host from one engine,
 * and two engines in one process (tests) are two hosts. Every room bumps its own events
 * where they happen, always under the engine lock, so plain additions are enough. Inline
 * only: counting makes no room depend on another (make rooms). A new count needs its place
 * in conn_info.c's stat_counter[], or it is reported as conn_reset.
 */
#include <stdint.h>

enum stat_id {
	STAT_RECV_DROP_OLD_SEQ, /* rx.c: a retransmitted message we already had */
	STAT_RECV_DROP_NO_SOCK, /* rx.c, send.c: data for a port no socket is bound to */
	STAT_RECV_DELIVERED, /* recv.c: messages recvmsg returned (peeks too, as the kernel) */
	STAT_RECV_QUEUED, /* sock.c: messages queued to a socket */
	STAT_RECV_PING, /* rx.c, send.c: pings and handshake probes received */
	STAT_SEND_QUEUE_EMPTY, /* sock.c: a socket's last unacknowledged byte was acknowledged */
	STAT_SEND_QUEUE_FULL, /* send.c: a send found the send buffer full (EAGAIN or a wait) */
	STAT_SEND_QUEUED, /* send.c, rx.c: messages queued by sendmsg, and pongs */
	STAT_SEND_PONG, /* rx.c, send.c: pongs queued in answer to pings and probes */
	STAT_COPY_TO_USER, /* recv.c: payload bytes recvmsg copied to the application */
	STAT_COPY_FROM_USER, /* send.c: payload bytes sendmsg copied from the application */
	STAT_CONG_UPDATE_QUEUED, /* path.c: our congestion map queued to a peer */
	STAT_CONG_UPDATE_RECEIVED, /* rx.c: a peer's congestion map taken */
	STAT_CONG_SEND_ERROR, /* send.c: a non-blocking send to a congested port (ENOBUFS) */
	STAT_CONG_SEND_BLOCKED, /* send.c: a blocking send waited for a congested port */
	STAT_RECV_BYTES_ADDED_TO_SOCK, /* sock.c: payload bytes queued to sockets */
	STAT_RECV_BYTES_FREED_FROMSOCK, /* sock.c: payload bytes read or freed from them */
	STAT_MPRDS_CATCHUP_TX0_RETRIES, /* path.c: a lane held back until path 0 caught up */
	STAT_TCP_DATA_READY_CALLS, /* tcp_recv.c: reads of a path's socket that brought bytes */
	STAT_TCP_WRITE_SPACE_CALLS, /* tcp_send.c: a full path socket became writable again */
	STAT_TCP_SNDBUF_FULL, /* tcp_send.c: a path write found the socket full (EAGAIN) */
	STAT_TCP_LISTEN_CLOSED_STALE, /* tcp_listen.c: an accepted connection found no free path */
	STAT_COUNT
};

struct stats {
	uint64_t v[STAT_COUNT];
};

static inline void stats_add(struct stats *s, enum stat_id which, uint64_t n)
{
	s->v[which] += n;
}

static inline void stats_inc(struct stats *s, enum stat_id which)
{
	stats_add(s, which, 1);
}

#endif
