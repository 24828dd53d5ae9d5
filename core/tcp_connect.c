// SPDX-License-Identifier: MIT
/*
 * Opening a path's TCP connection: from one aligned group of source ports when the peer
 * files lanes by port (wire.md §1, 7.0+), the larger side's poke, and the reconnect backoff
 * of wire.md §9.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mprds/conn.h"
#include "mprds/engine.h"
#include "mprds/path_log.h"
#include "mprds/sysio.h"
#include "mprds/tcp.h"
#include "mprds/tcp_path.h"

#define BACKOFF_MIN_S 0.001 /* wire.md §9: reconnect_min_delay_ms */
#define BACKOFF_MAX_S 1.0 /* reconnect_max_delay_ms */
#define SPORT_TRIES 64 /* source-port groups tried per connect (wire.md §1, 7.0+) */

void tcp_path_retry(struct path *p)
{
	struct tcp_path *t = tcp_of(p);
	double delay = 0;

	/* wire.md §9: first attempt at once, then random up to a doubling bound. */
	if (t->backoff > 0)
		delay = t->backoff * ((double)(random() % 1000) / 1000.0);
	t->backoff = t->backoff == 0 ? BACKOFF_MIN_S : t->backoff * 2;
	if (t->backoff > BACKOFF_MAX_S)
		t->backoff = BACKOFF_MAX_S;
	ev_timer_set(&t->retry, delay, 0);
	ev_timer_start(p->conn->eng->loop, &t->retry);
}

void tcp_on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct path *p = w->data;

	(void)loop, (void)revents;
	path_service(p);
}

/*
 * wire.md §1 (7.0+): source port = base + 8 * group + index, so that the acceptor files the
 * connection under this index however the connections race. Groups rotate; one whose port
 * is taken (or whose 4-tuple lingers in TIME_WAIT) is skipped.
 */
static int connect_indexed(struct path *p)
{
	struct tcp_path *t = tcp_of(p);
	struct conn *c = p->conn;
	int fd = -EADDRINUSE;

	for (int i = 0; i < SPORT_TRIES && i < p->conn->eng->cfg.port_groups; i++) {
		unsigned g = t->sport_group++ % p->conn->eng->cfg.port_groups;
		uint16_t port =
			(uint16_t)(p->conn->eng->cfg.port_base + 8 * g + (unsigned)p->index);

		fd = tcp_connect_from(&c->laddr, port, &c->faddr, p->conn->eng->cfg.tcp_port);
		if (fd != -EADDRINUSE && fd != -EADDRNOTAVAIL)
			break;
	}
	return fd;
}

static int connect_any(struct path *p)
{
	struct conn *c = p->conn;
	int fd = tcp_socket_bound(&c->laddr, 0, 0), err;

	if (fd < 0)
		return fd;
	err = tcp_connect(fd, &c->faddr, p->conn->eng->cfg.tcp_port);
	if (err && err != -EINPROGRESS) {
		sys_close(fd);
		return err;
	}
	return fd;
}

void tcp_path_connect(struct path *p)
{
	struct tcp_path *t = tcp_of(p);
	struct conn *c = p->conn;
	int fd;

	p->poke = !c->smaller;
	fd = c->smaller && p->conn->eng->cfg.sport_idx ? connect_indexed(p) : connect_any(p);
	PATH_LOG(LOG_DEBUG, p, "%s", p->poke ? "poking the smaller peer" : "connecting");
	if (fd < 0) {
		/* Each retry's line is debug: the conn says once that the peer is not there. */
		PATH_LOG(LOG_DEBUG, p, "cannot connect: %s", strerror(-fd));
		p->poke = false;
		path_connect_failed(p, -fd);
		return;
	}
	tcp_tune(fd);
	t->fd = fd;
	path_connecting(p);
	ev_io_set(&t->wio, fd, EV_WRITE);
	ev_io_start(p->conn->eng->loop, &t->wio);
}

/* The connect() in progress completed (the socket polled writable). */
void tcp_path_connect_done(struct path *p)
{
	struct tcp_path *t = tcp_of(p);
	int err = tcp_error(t->fd);

	if (err) {
		path_connect_failed(p, -err);
		return;
	}
	ev_io_stop(p->conn->eng->loop, &t->wio);
	if (p->poke) {
		/* wire.md §1: the larger side's connection only tells the smaller to connect. */
		PATH_LOG(LOG_DEBUG, p, "poked; waiting for the smaller peer to connect");
		sys_close(t->fd);
		t->fd = -1;
		path_poked(p);
		tcp_path_retry(p);
		return;
	}
	t->backoff = 0;
	ev_io_set(&t->rio, t->fd, EV_READ);
	ev_io_set(&t->wio, t->fd, EV_WRITE);
	ev_io_start(p->conn->eng->loop, &t->rio);
	PATH_LOG(LOG_INFO, p, "up (tcp fd %d)", t->fd); /* interop helpers read this line */
	path_connected(p);
}
