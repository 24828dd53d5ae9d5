// SPDX-License-Identifier: MIT
/*
 * The TCP transport's ops table and the life of one path's socket: made with the path,
 * installed when connected or accepted, closed, forgotten after fork, described for
 * RDS_INFO. Connecting, writing and reading are in tcp_connect.c, tcp_send.c, tcp_recv.c.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mprds/engine.h"
#include "mprds/path_log.h"
#include "mprds/sysio.h"
#include "mprds/tcp.h"
#include "mprds/tcp_path.h"

static int tcp_path_init(struct path *p)
{
	struct tcp_path *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->fd = -1;
	ev_io_init(&t->rio, tcp_on_read, -1, EV_READ);
	ev_io_init(&t->wio, tcp_on_write, -1, EV_WRITE);
	ev_init(&t->retry, tcp_on_retry);
	ev_init(&t->ack_poll, tcp_on_ack_poll);
	ev_init(&t->rx_poll, tcp_on_rx_poll);
	t->rio.data = t->wio.data = t->retry.data = t->ack_poll.data = t->rx_poll.data = p;
	t->sport_group = (uint16_t)random();
	/* Path 0 first: data written there before a fan-out must be parsed first (§8). */
	ev_set_priority(&t->rio, p->index == 0 ? EV_MAXPRI : 0);
	p->tr_state = t;
	return 0;
}

void tcp_path_close(struct path *p)
{
	struct tcp_path *t = tcp_of(p);

	ev_io_stop(p->conn->eng->loop, &t->rio);
	ev_io_stop(p->conn->eng->loop, &t->wio);
	ev_timer_stop(p->conn->eng->loop, &t->ack_poll);
	ev_timer_stop(p->conn->eng->loop, &t->rx_poll);
	sys_close(t->fd);
	t->fd = -1;
}

static void tcp_path_forget(struct path *p)
{
	struct tcp_path *t = tcp_of(p);

	if (t && t->fd >= 0) {
		sys_close(t->fd);
		t->fd = -1;
	}
}

static void tcp_path_fini(struct path *p)
{
	struct tcp_path *t = tcp_of(p);

	if (!t)
		return;
	if (p->conn->eng->loop) {
		if (t->fd >= 0)
			tcp_path_close(p);
		ev_timer_stop(p->conn->eng->loop, &t->retry);
		ev_timer_stop(p->conn->eng->loop, &t->ack_poll);
		ev_timer_stop(p->conn->eng->loop, &t->rx_poll);
	} else {
		tcp_path_forget(p);
	}
	free(t);
	p->tr_state = NULL;
}

int tcp_path_attach(struct path *p, int fd)
{
	struct tcp_path *t = tcp_of(p);

	if (!path_make_room(p))
		return -EBUSY;
	ev_timer_stop(p->conn->eng->loop, &t->retry);
	t->fd = fd;
	tcp_tune(fd);
	t->backoff = 0;
	ev_io_set(&t->rio, fd, EV_READ);
	ev_io_set(&t->wio, fd, EV_WRITE);
	ev_io_start(p->conn->eng->loop, &t->rio);
	PATH_LOG(LOG_INFO, p, "up (tcp fd %d)", fd); /* interop helpers read this line */
	path_connected(p);
	return 0;
}

static bool tcp_path_is_open(const struct path *p)
{
	return tcp_of(p) && tcp_of(p)->fd >= 0;
}

static bool tcp_path_retry_pending(const struct path *p)
{
	return ev_is_active(&tcp_of(p)->retry);
}

static long tcp_path_unacked(const struct path *p)
{
	return sys_tcp_unacked(tcp_of(p)->fd);
}

/* A TCP endpoint as an RDS address (IPv4 v4-mapped) and a host-order port. */
static void tcp_end(int fd, bool peer, struct addr *a, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int err;

	memset(a, 0, sizeof(*a));
	*port = 0;
	err = peer ? getpeername(fd, (struct sockaddr *)&ss, &len) :
		     getsockname(fd, (struct sockaddr *)&ss, &len);
	if (err)
		return;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;

		a->ip.s6_addr[10] = a->ip.s6_addr[11] = 0xff;
		memcpy(&a->ip.s6_addr[12], &sin->sin_addr, 4);
		*port = ntohs(sin->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;

		a->ip = sin6->sin6_addr;
		*port = ntohs(sin6->sin6_port);
	}
}

static void tcp_path_info(const struct path *p, struct transport_info *out)
{
	const struct tcp_path *t = tcp_of(p);
	struct tcp_info ti;
	socklen_t tlen = sizeof(ti);

	memset(out, 0, sizeof(*out));
	out->unacked = -1;
	if (!t || t->fd < 0)
		return;
	out->sending = p->state == PATH_UP && ev_is_active(&t->wio);
	tcp_end(t->fd, false, &out->laddr, &out->lport);
	tcp_end(t->fd, true, &out->faddr, &out->fport);
	out->unacked = sys_tcp_unacked(t->fd);
	if (!getsockopt(t->fd, IPPROTO_TCP, TCP_INFO, &ti, &tlen)) {
		out->rtt_us = ti.tcpi_rtt;
		out->rttvar_us = ti.tcpi_rttvar;
	}
}

const struct transport tcp_transport = {
	.name = "tcp",
	.path_init = tcp_path_init,
	.path_fini = tcp_path_fini,
	.connect = tcp_path_connect,
	.retry = tcp_path_retry,
	.retry_pending = tcp_path_retry_pending,
	.xmit = tcp_path_xmit,
	.xmit_direct = tcp_path_xmit_direct,
	.drain = tcp_path_drain,
	.hold_for_reads = tcp_path_hold_for_reads,
	.close = tcp_path_close,
	.forget = tcp_path_forget,
	.is_open = tcp_path_is_open,
	.unacked_bytes = tcp_path_unacked,
	.info = tcp_path_info,
	.save = tcp_path_save,
	.restore = tcp_path_restore,
};
