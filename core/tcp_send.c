// SPDX-License-Identifier: MIT
/*
 * Writing a path's send queue to its TCP socket: many messages per writev, from the loop
 * thread or (when the path is idle) directly from the sending application thread; and
 * acknowledgement, which TCP does not signal: SIOCOUTQ is polled while bytes are in flight.
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "mprds/clock.h"
#include "mprds/conn.h"
#include "mprds/engine.h"
#include "mprds/sysio.h"
#include "mprds/tcp_path.h"

#define WRITE_BATCH 64 /* messages per writev */
#define ACK_POLL_S 0.001 /* TCP gives no ack event: poll SIOCOUTQ while bytes are in flight */
#define ACK_POLL_LINGER_S 0.05 /* keep polling a little after the last write (see below) */

/* Frees what the peer's TCP acknowledged; true if anything was. */
static bool free_acked(struct path *p)
{
	long outq = sys_tcp_unacked(tcp_of(p)->fd);

	/* More outstanding than written: not TCP (a unit test's socketpair counts skb sizes). */
	if (outq < 0 || (uint64_t)outq > p->tx_offset)
		return false;
	return path_drop_acked(p, p->tx_offset - (uint64_t)outq);
}

static void check_acks(struct path *p)
{
	struct tcp_path *t = tcp_of(p);

	free_acked(p);
	/* kept running a while after the last write, so that path_write_direct() finds it on */
	if (TAILQ_EMPTY(&p->unacked) && clock_now() - t->last_write > ACK_POLL_LINGER_S)
		ev_timer_stop(p->conn->eng->loop, &t->ack_poll);
	else if (!ev_is_active(&t->ack_poll) && !TAILQ_EMPTY(&p->unacked)) {
		ev_timer_set(&t->ack_poll, ACK_POLL_S, ACK_POLL_S);
		ev_timer_start(p->conn->eng->loop, &t->ack_poll);
	}
}

void tcp_on_ack_poll(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct path *p = w->data;

	(void)loop, (void)revents;
	if (p->state == PATH_UP)
		check_acks(p);
}

/*
 * DESIGN.md, Speed: like the kernel's rds_send_xmit() in the sender's context, an application
 * thread writes a message itself when its path is idle: no eventfd, no wake-up of the loop
 * thread. It holds the engine lock, so the loop thread is not running. Only when nothing is
 * in flight (a burst is better batched by the loop thread: one TCP segment per message
 * measured 5x fewer messages/s at depth 32), and only while the ack timer runs (watchers are
 * the loop thread's to start). Otherwise false: the caller kicks the loop.
 */
bool tcp_path_xmit_direct(struct path *p)
{
	struct tcp_path *t = tcp_of(p);
	struct iovec iov[2 * WRITE_BATCH];
	struct msg *m = TAILQ_FIRST(&p->sendq);

	if (p->state != PATH_UP || p->tx_dead || p->kicked || ev_is_active(&t->wio) ||
	    !ev_is_active(&t->ack_poll) || p->conn->cong_pending || !m || TAILQ_NEXT(m, link) ||
	    !conn_lane_may_send(p->conn, p))
		return false;
	if (!TAILQ_EMPTY(&p->unacked)) {
		free_acked(p);
		if (!TAILQ_EMPTY(&p->unacked))
			return false;
	}
	int n = path_tx_iov(p, iov, 2 * WRITE_BATCH);
	ssize_t w = writev(t->fd, iov, n);

	if (w < 0)
		return false; /* the loop writes again, and counts a full socket (tcp_sndbuf_full) */
	path_tx_written(p, (size_t)w);
	t->last_write = clock_now();
	return TAILQ_EMPTY(&p->sendq);
}

void tcp_path_xmit(struct path *p)
{
	struct tcp_path *t = tcp_of(p);
	struct iovec iov[2 * WRITE_BATCH];

	if (p->tx_dead)
		return;
	while (path_may_send(p)) {
		int n = path_tx_iov(p, iov, 2 * WRITE_BATCH);
		ssize_t w = writev(t->fd, iov, n);

		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (errno == EAGAIN)
				stats_inc(&p->conn->eng->stats, STAT_TCP_SNDBUF_FULL);
			ev_io_start(p->conn->eng->loop, &t->wio);
			return;
		}
		if (w < 0) {
			path_drop(p, strerror(errno));
			return;
		}
		path_tx_written(p, (size_t)w);
		t->last_write = clock_now();
	}
	ev_io_stop(p->conn->eng->loop, &t->wio);
	check_acks(p);
}

void tcp_on_write(struct ev_loop *loop, ev_io *w, int revents)
{
	struct path *p = w->data;

	(void)loop, (void)revents;
	if (p->state == PATH_CONNECTING) {
		tcp_path_connect_done(p);
	} else if (p->state == PATH_UP) {
		/* wio runs on an up path only after a write found the socket full */
		stats_inc(&p->conn->eng->stats, STAT_TCP_WRITE_SPACE_CALLS);
		tcp_path_xmit(p);
	}
}
