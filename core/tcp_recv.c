// SPDX-License-Identifier: MIT
/*
 * Reading a path's TCP socket in large chunks into the parser (rx.c), pausing reads while a
 * socket fed by the path holds more than its bound (TCP then pushes back on the peer), and
 * reading a failed connection to its end before it is closed.
 */
#include <errno.h>
#include <string.h>

#include "mprds/engine.h"
#include "mprds/path_log.h"
#include "mprds/sysio.h"
#include "mprds/tcp_path.h"

#define RX_POLL_S 0.005 /* while reads are paused, how often the blocking socket is looked at */
#define DRAIN_READS 64 /* at most this many reads of a failed connection's buffered bytes */

void tcp_path_pause_rx(struct path *p)
{
	struct tcp_path *t = tcp_of(p);

	ev_io_stop(p->conn->eng->loop, &t->rio);
	if (!ev_is_active(&t->rx_poll)) {
		ev_timer_set(&t->rx_poll, RX_POLL_S, RX_POLL_S);
		ev_timer_start(p->conn->eng->loop, &t->rx_poll);
	}
}

void tcp_path_hold_for_reads(struct path *p)
{
	struct tcp_path *t = tcp_of(p);

	ev_io_stop(p->conn->eng->loop, &t->wio);
	ev_timer_stop(p->conn->eng->loop, &t->ack_poll);
	tcp_path_pause_rx(p);
}

void tcp_on_rx_poll(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct path *p = w->data;
	struct tcp_path *t = tcp_of(p);

	(void)revents;
	if (!path_rx_may_resume(p))
		return;
	ev_timer_stop(loop, &t->rx_poll);
	if (t->fd >= 0 && p->state == PATH_UP) {
		PATH_LOG(LOG_DEBUG, p, "reading again");
		ev_io_start(loop, &t->rio);
	}
}

/*
 * What the peer's TCP acknowledged is the peer's promise kept: a failed connection is read
 * to its end before it is closed (7.0+ does so at shutdown, wire.md §8). Stops where a
 * socket reaches its bound (the caller keeps the connection then) or on a malformed stream.
 */
void tcp_path_drain(struct path *p)
{
	struct tcp_path *t = tcp_of(p);

	for (int i = 0; i < DRAIN_READS && !p->rx_blocker; i++) {
		ssize_t n = sys_read_stamped(t->fd, p->conn->eng->rxbuf,
					     sizeof(p->conn->eng->rxbuf), &p->rx_stamp_ns);

		if (n <= 0)
			return;
		stats_inc(&p->conn->eng->stats, STAT_TCP_DATA_READY_CALLS);
		if (path_receive(p, p->conn->eng->rxbuf, (size_t)n) != 0)
			return;
	}
}

static void read_once(struct path *p, bool *more)
{
	ssize_t n = sys_read_stamped(tcp_of(p)->fd, p->conn->eng->rxbuf,
				     sizeof(p->conn->eng->rxbuf), &p->rx_stamp_ns);

	*more = false;
	if (n == 0) {
		path_note_truncated(p);
		path_drop(p, "peer closed the connection");
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			path_drop(p, strerror(errno));
		return;
	}
	/* the kernel counts its data_ready callbacks; the nearest we have: reads that brought bytes */
	stats_inc(&p->conn->eng->stats, STAT_TCP_DATA_READY_CALLS);
	if (path_receive(p, p->conn->eng->rxbuf, (size_t)n) < 0)
		return;
	*more = (size_t)n == sizeof(p->conn->eng->rxbuf) && !p->rx_blocker;
}

void tcp_on_read(struct ev_loop *loop, ev_io *w, int revents)
{
	struct path *p = w->data;
	bool more = true;

	(void)loop, (void)revents;
	if (p->rx_blocker) {
		tcp_path_pause_rx(p);
		return;
	}
	/* Path 0 is drained first so that pre-fan-out data is parsed before lane data. */
	for (int i = 0; more && i < (p->index == 0 ? 16 : 1) && p->state == PATH_UP; i++)
		read_once(p, &more);
	if (tcp_of(p)->fd >= 0 && p->rx_blocker)
		tcp_path_pause_rx(p);
	if (p->state == PATH_UP && !TAILQ_EMPTY(&p->sendq))
		tcp_path_xmit(p);
}
