// SPDX-License-Identifier: MIT
/*
 * One TCP listener per local address the engine's sockets have bound — or, in a host-wide
 * engine (mprdsd's default instance), one for every address of each family, as the kernel
 * listens on *:16385 and [::]:16385; then each bound address is only recorded, so that the
 * engine knows it serves it (listen_owns). And the accept rules of wire.md §1 and §7: a connection from a larger address is a poke, one from a
 * smaller address becomes the first free path.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mprds/clock.h"
#include "mprds/conn.h"
#include "mprds/engine.h"
#include "mprds/fdreg.h"
#include "mprds/snap.h"
#include "mprds/log.h"
#include "mprds/port_owner.h"
#include "mprds/sysio.h"
#include "mprds/tcp.h"
#include "mprds/tcp_listen.h"
#include "mprds/tcp_path.h"

#define LISTEN_BACKLOG 64
#define ACCEPT_PAUSE_S 0.1 /* out of descriptors: stop accepting this long, not spin */

/* A TCP listener on addr:MPRDS_TCP_PORT (fd -1: an address a wildcard listener covers). */
#define SNAP_MAX_LISTENERS 65536

struct listener {
	struct engine *eng;
	struct addr addr;
	bool any; /* a wildcard: the local address is the accepted connection's own */
	int fd;
	ev_io io;
	ev_timer pause;
	bool warned;
	LIST_ENTRY(listener) link;
};

static struct listener *listen_find(struct engine *e, const struct addr *a)
{
	struct listener *l;

	LIST_FOREACH(l, &e->listeners.list, link)
	if (!l->any && addr_eq(&l->addr, a))
		return l;
	return NULL;
}

static bool covered_by_wildcard(struct engine *e, const struct addr *a)
{
	struct listener *l;

	LIST_FOREACH(l, &e->listeners.list, link)
	if (l->any && addr_is_v4(&l->addr) == addr_is_v4(a))
		return true;
	return false;
}

/* Is a an address of this host? (The kernel's bind checks it; a wildcard listener cannot.) */
static int check_local(const struct addr *a)
{
	int fd = tcp_socket_bound(a, 0, 0);

	if (fd < 0)
		return -EADDRNOTAVAIL;
	sys_close(fd);
	return 0;
}

bool listen_owns(struct engine *e, const struct addr *a)
{
	return listen_find(e, a) != NULL;
}

/*
 * Our RDS/TCP port on a is taken: say by whom, as far as we can see, and what to do. Another
 * mprds engine serving a is the usual case (one engine per address); anything else holds
 * the port for its own purpose, and only another MPRDS_TCP_PORT runs beside it.
 */
static void say_port_taken(struct engine *e, const struct addr *a)
{
	char s[ADDR_STRLEN], holder[128];
	enum port_owner_kind kind = port_owner(a, e->cfg.tcp_port, holder, sizeof(holder));

	addr_str(a, s);
	if (kind == PORT_OWNER_MPRDS)
		log_warn("%s:%u is already served by %s, another mprds engine (one per local "
			 "address): bind fails with EADDRINUSE; give this program another "
			 "address, or let one mprdsd serve both (the same MPRDS_INSTANCE)",
			 s, e->cfg.tcp_port, holder);
	else
		log_warn("%s:%u, the RDS/TCP port, is held by %s%s: bind fails with EADDRINUSE; "
			 "set MPRDS_TCP_PORT to run beside it",
			 s, e->cfg.tcp_port, holder,
			 kind == PORT_OWNER_OTHER ? ", which is not mprds" : "");
}

static int open_listener(struct engine *e, const struct addr *a)
{
	int fd = tcp_socket_bound(a, e->cfg.tcp_port, TCP_BIND_REUSEADDR);

	if (fd == -EADDRINUSE)
		say_port_taken(e, a);
	if (fd < 0)
		return fd == -EADDRINUSE ? fd : -EADDRNOTAVAIL;
	if (listen(fd, LISTEN_BACKLOG) < 0) {
		int err = -errno;

		sys_close(fd);
		return err;
	}
	return fd;
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents);
static void on_pause_end(struct ev_loop *loop, ev_timer *w, int revents);

static int add_listener(struct engine *e, const struct addr *a, int fd, bool any)
{
	struct listener *l = calloc(1, sizeof(*l));

	if (!l) {
		if (fd >= 0)
			sys_close(fd);
		return -ENOMEM;
	}
	l->eng = e;
	l->addr = *a;
	l->any = any;
	l->fd = fd;
	ev_io_init(&l->io, on_accept, fd, EV_READ);
	ev_init(&l->pause, on_pause_end);
	l->io.data = l->pause.data = l;
	LIST_INSERT_HEAD(&e->listeners.list, l, link);
	if (fd >= 0)
		kick_path(&e->kicks, NULL);
	return 0;
}

int listen_ensure(struct engine *e, const struct addr *a)
{
	int fd;

	if (listen_find(e, a))
		return 0;
	if (covered_by_wildcard(e, a))
		fd = check_local(a) ?: -1;
	else
		fd = open_listener(e, a);
	if (fd < -1)
		return fd;
	return add_listener(e, a, fd, false);
}

int listen_any(struct engine *e)
{
	struct addr v4 = { .ip.s6_addr[10] = 0xff, .ip.s6_addr[11] = 0xff }, v6 = { 0 };
	int fd4 = tcp_socket_bound(&v4, e->cfg.tcp_port, TCP_BIND_REUSEADDR), fd6, err;

	if (fd4 < 0)
		return fd4;
	fd6 = tcp_socket_bound(&v6, e->cfg.tcp_port, TCP_BIND_REUSEADDR | TCP_BIND_V6ONLY);
	if (fd6 < 0 || listen(fd4, LISTEN_BACKLOG) < 0 || listen(fd6, LISTEN_BACKLOG) < 0) {
		err = fd6 < 0 ? fd6 : -errno;
		sys_close(fd4);
		if (fd6 >= 0)
			sys_close(fd6);
		return err;
	}
	err = add_listener(e, &v4, fd4, true);
	return err ? err : add_listener(e, &v6, fd6, true);
}

void listen_save_all(struct snap_out *o, struct engine *e)
{
	struct listener *l;
	uint32_t n = 0;

	LIST_FOREACH(l, &e->listeners.list, link)
	n++;
	snap_u32(o, n);
	LIST_FOREACH(l, &e->listeners.list, link)
	{
		snap_addr(o, &l->addr);
		snap_u8(o, l->any);
		snap_fd(o, l->fd);
	}
}

void listen_restore_all(struct snap_in *in, struct engine *e)
{
	uint32_t n = snap_get_count(in, SNAP_MAX_LISTENERS);
	struct addr a;
	bool any;
	int fd;

	for (uint32_t i = 0; i < n && !in->bad; i++) {
		snap_get_addr(in, &a);
		any = snap_get_bool(in);
		fd = snap_get_fd(in);
		if (fd >= 0)
			fdreg_add(fd);
		if (!in->bad && add_listener(e, &a, fd, any) < 0)
			snap_fail(in, "out of memory");
	}
}

void listen_forget_after_fork(struct engine *e)
{
	struct listener *l;

	LIST_FOREACH(l, &e->listeners.list, link)
	if (l->fd >= 0)
		sys_close(l->fd);
}

void listen_free_all(struct engine *e)
{
	struct listener *l;

	while ((l = LIST_FIRST(&e->listeners.list))) {
		LIST_REMOVE(l, link);
		if (e->loop) {
			ev_io_stop(e->loop, &l->io);
			ev_timer_stop(e->loop, &l->pause);
		}
		if (l->fd >= 0)
			sys_close(l->fd);
		free(l);
	}
}

void listen_start_pending(struct engine *e)
{
	struct listener *l;

	LIST_FOREACH(l, &e->listeners.list, link)
	if (l->fd >= 0 && !ev_is_active(&l->io) && !ev_is_active(&l->pause))
		ev_io_start(e->loop, &l->io);
}

static void on_pause_end(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct listener *l = w->data;

	(void)revents;
	ev_io_start(loop, &l->io);
}

/*
 * wire.md §7. A peer that encodes the index in its source port (SPORT_IDX, 7.0+) gets that
 * slot, taking over from a connection it gave up on; otherwise (≤6.19) the first path in
 * 0..max(1, npaths)-1 without a TCP connection: path 0 alone until the handshake.
 */
struct path *listen_pick_slot(struct conn *c, uint16_t port)
{
	int limit = c->npaths > 1 ? c->npaths : 1;

	if (c->npaths > 1 && c->peer_sport_idx) {
		int i = port % WIRE_MAX_PATHS;

		return i < c->npaths ? &c->paths[i] : NULL;
	}
	for (int i = 0; i < limit; i++) {
		struct path *p = &c->paths[i];

		if (p->state == PATH_DOWN || (p->state == PATH_CONNECTING && p->poke))
			return p;
	}
	return NULL;
}

static void accept_from_larger(struct conn *c, int fd)
{
	char f[ADDR_STRLEN];

	/* wire.md §1: a poke. Refuse it and connect path 0 ourselves. */
	tcp_reset(fd);
	log_debug("poked by %s: connecting path 0", addr_str(&c->faddr, f));
	kick_path(&c->eng->kicks, &c->paths[0]);
}

static void accept_from_smaller(struct conn *c, int fd, uint16_t port)
{
	char f[ADDR_STRLEN];
	struct path *p = listen_pick_slot(c, port);

	if (!p) {
		/* the kernel's name for an accepted connection its path did not need */
		stats_inc(&c->eng->stats, STAT_TCP_LISTEN_CLOSED_STALE);
		log_debug("no free path for a connection from %s port %u: reset",
			  addr_str(&c->faddr, f), port);
		tcp_reset(fd);
		conn_path_down(c);
		return;
	}
	/* Its old connection still has bytes to read and reads are paused: try again later. */
	if (tcp_path_attach(p, fd) < 0) {
		log_debug("path %d to %s is still being read: connection reset", p->index,
			  addr_str(&c->faddr, f));
		tcp_reset(fd);
		return;
	}
	path_accepted(p, port);
	/* wire.md §6: path 0 up probes (conn_path0_up), on this side too. */
}

/* The local address a wildcard listener's connection came to: 0 or -1. */
static int local_of(int fd, struct addr *local)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	uint16_t port;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	return addr_parse((struct sockaddr *)&ss, len, local, &port) == ADDR_OK ? 0 : -1;
}

#define REFUSED_LOG_EVERY_S 10.0

/* A peer outside the allow-list: reset, and one log line a while for all of them. */
static void refuse_peer(struct engine *e, int fd, const struct addr *peer)
{
	struct listen_table *t = &e->listeners;
	double now = clock_now();
	char f[ADDR_STRLEN];

	tcp_reset(fd);
	if (t->refused_logged_at && now - t->refused_logged_at < REFUSED_LOG_EVERY_S) {
		t->refused_unlogged++;
		return;
	}
	if (t->refused_unlogged)
		log_warn("refused an RDS/TCP connection from %s: not in the allow-list "
			 "(MPRDS_ALLOW); %lu more refused since the last such line",
			 addr_str(peer, f), t->refused_unlogged);
	else
		log_warn("refused an RDS/TCP connection from %s: not in the allow-list "
			 "(MPRDS_ALLOW)",
			 addr_str(peer, f));
	t->refused_logged_at = now;
	t->refused_unlogged = 0;
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct listener *l = w->data;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct addr peer, local = l->addr;
	uint16_t port;
	struct conn *c;
	int fd;

	(void)revents;
	fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		/* The backlog stays readable: without a pause this would spin. */
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			if (!l->warned)
				log_warn(
					"cannot accept RDS/TCP connections: %s; pausing the listener",
					strerror(errno));
			l->warned = true;
			ev_io_stop(loop, &l->io);
			ev_timer_set(&l->pause, ACCEPT_PAUSE_S, 0);
			ev_timer_start(loop, &l->pause);
		}
		return;
	}
	fdreg_add(fd);
	if (addr_parse((struct sockaddr *)&ss, len, &peer, &port) != ADDR_OK) {
		tcp_reset(fd);
		return;
	}
	if (!allow_permits(&l->eng->cfg.allow, &peer)) {
		refuse_peer(l->eng, fd, &peer);
		return;
	}
	if ((l->any && local_of(fd, &local)) || addr_eq(&peer, &local) ||
	    !(c = conn_accept_get(l->eng, &local, &peer))) {
		tcp_reset(fd);
		return;
	}
	if (c->smaller)
		accept_from_larger(c, fd);
	else
		accept_from_smaller(c, fd, port);
}
