// SPDX-License-Identifier: MIT
/*
 * A path's TCP connection in an engine's snapshot (mprdsd --upgrade): the socket itself goes
 * to the new daemon over SCM_RIGHTS, so the peer's TCP sees nothing; the new engine watches
 * it again as the old one did (reads, or the poll of a paused read; writes and acks once the
 * path is kicked).
 */
#include "mprds/engine.h"
#include "mprds/fdreg.h"
#include "mprds/path_log.h"
#include "mprds/snap.h"
#include "mprds/tcp_path.h"

void tcp_path_save(const struct path *p, bool up, struct snap_out *o)
{
	const struct tcp_path *t = tcp_of(p);

	snap_fd(o, up ? t->fd : -1);
	snap_f64(o, t->backoff);
	snap_u16(o, t->sport_group);
	snap_f64(o, t->last_write);
}

void tcp_path_restore(struct path *p, bool up, struct snap_in *in)
{
	struct tcp_path *t = tcp_of(p);
	int fd = snap_get_fd(in);

	t->backoff = snap_get_f64(in);
	t->sport_group = snap_get_u16(in);
	t->last_write = snap_get_f64(in);
	if (up && fd < 0)
		snap_fail(in, "an up path without its connection");
	if (fd < 0 || in->bad)
		return;
	t->fd = fd;
	fdreg_add(fd);
	ev_io_set(&t->rio, fd, EV_READ);
	ev_io_set(&t->wio, fd, EV_WRITE);
	if (path_rx_paused(p))
		tcp_path_pause_rx(p);
	else
		ev_io_start(p->conn->eng->loop, &t->rio);
	PATH_LOG(LOG_DEBUG, p, "taken over (tcp fd %d)", fd);
}
