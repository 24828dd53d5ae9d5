/* SPDX-License-Identifier: MIT */
#ifndef MPRDS_TCP_PATH_H
#define MPRDS_TCP_PATH_H
/*
 * The TCP transport's state of one path, shared by its rooms only: tcp_path.c (the ops
 * table, life and death of the socket), tcp_connect.c, tcp_send.c, tcp_recv.c, listen.c.
 */
#include <ev.h>
#include <stdint.h>

#include "mprds/path.h"

struct tcp_path {
	int fd;
	ev_io rio, wio;
	ev_timer retry; /* reconnect backoff */
	ev_timer ack_poll; /* while bytes are unacknowledged */
	ev_timer rx_poll; /* while reads are paused: has rx_blocker's queue shrunk? */
	double backoff; /* seconds; wire.md §9 */
	uint16_t sport_group; /* wire.md §1 (7.0+): the next source-port group to try */
	double last_write; /* clock_now() of the last write */
};

static inline struct tcp_path *tcp_of(const struct path *p)
{
	return p->tr_state;
}

/*
 * Loop thread: installs an accepted TCP socket as path p (an old connection is read to its
 * end first). -EBUSY, fd untouched, while the old one must wait for paused reads.
 */
int tcp_path_attach(struct path *p, int fd);
/* Closes the socket and stops its watchers (the path stays). */
void tcp_path_close(struct path *p);

/* tcp_connect.c */
void tcp_path_connect(struct path *p);
void tcp_path_retry(struct path *p);
void tcp_path_connect_done(struct path *p);
void tcp_on_retry(struct ev_loop *loop, ev_timer *w, int revents);
/* tcp_send.c */
void tcp_path_xmit(struct path *p);
bool tcp_path_xmit_direct(struct path *p);
void tcp_on_write(struct ev_loop *loop, ev_io *w, int revents);
void tcp_on_ack_poll(struct ev_loop *loop, ev_timer *w, int revents);
/* tcp_snap.c */
void tcp_path_save(const struct path *p, bool up, struct snap_out *o);
void tcp_path_restore(struct path *p, bool up, struct snap_in *in);
/* tcp_recv.c */
void tcp_path_drain(struct path *p);
void tcp_path_pause_rx(struct path *p);
void tcp_path_hold_for_reads(struct path *p);
void tcp_on_read(struct ev_loop *loop, ev_io *w, int revents);
void tcp_on_rx_poll(struct ev_loop *loop, ev_timer *w, int revents);

#endif
