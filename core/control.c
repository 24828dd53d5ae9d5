// SPDX-License-Identifier: MIT
/*
 * The control socket (control.h): the engine answers mprds-info on the abstract AF_UNIX
 * socket "\0mprds.<pid>", from the loop thread, with the same snapshots getsockopt
 * RDS_INFO_* gives inside the process (info.c) plus the paths. Nothing here may hold up the
 * loop: every socket is non-blocking, a client gets CONTROL_IDLE_S to ask, and at most
 * CONTROL_MAX_CLIENTS are served at once.
 */
#include <errno.h>
#include <ev.h>
#include <linux/rds.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mprds/control.h"
#include "mprds/engine.h"
#include "mprds/fdreg.h"
#include "mprds/info.h"
#include "mprds/log.h"
#include "mprds/sysio.h"

#define CONTROL_MAX_CLIENTS 16
#define CONTROL_IDLE_S 5.0

struct control_watch {
	ev_io io;
};

struct control_client {
	struct engine *eng;
	int fd;
	ev_io io;
	ev_timer idle;
	uint8_t req[sizeof(struct control_req)];
	size_t req_have;
	uint8_t *out; /* the answer being written, NULL while reading */
	size_t out_len, out_off;
	LIST_ENTRY(control_client) link;
};

static void client_free(struct control_client *c)
{
	LIST_REMOVE(c, link);
	c->eng->control.nclients--;
	sys_close(c->fd);
	free(c->out);
	free(c);
}

static void client_close(struct control_client *c)
{
	ev_io_stop(c->eng->loop, &c->io);
	ev_timer_stop(c->eng->loop, &c->idle);
	client_free(c);
}

/* A whole snapshot of one source: probe its size, then fill (the lock keeps it still). */
static int snapshot(struct engine *e, int optname, uint8_t **data, socklen_t *len)
{
	int ret;

	for (int tries = 0; tries < 2; tries++) {
		free(*data);
		*data = *len ? malloc(*len) : NULL;
		if (*len && !*data)
			return -ENOMEM;
		if (optname == CONTROL_INFO_PATHS)
			ret = info_paths(e, *data, len);
		else if (optname == CONTROL_INFO_PROCESS)
			ret = info_process(e, *data, len);
		else if (optname >= RDS_INFO_FIRST && optname <= RDS_INFO_LAST)
			ret = info_get(e, optname, *data, len);
		else
			ret = -ENOPROTOOPT;
		if (ret != -ENOSPC)
			return ret;
	}
	return -EAGAIN;
}

static int answer(struct control_client *c)
{
	struct control_req req;
	struct control_resp resp = { .magic = CONTROL_MAGIC };
	uint8_t *data = NULL;
	socklen_t len = 0;

	memcpy(&req, c->req, sizeof(req));
	if (req.magic != CONTROL_MAGIC || req.version != CONTROL_VERSION)
		return -EPROTO;
	resp.ret = snapshot(c->eng, req.optname, &data, &len);
	resp.len = resp.ret > 0 ? len : 0;
	c->out = malloc(sizeof(resp) + resp.len);
	if (!c->out) {
		free(data);
		return -ENOMEM;
	}
	memcpy(c->out, &resp, sizeof(resp));
	if (resp.len)
		memcpy(c->out + sizeof(resp), data, resp.len);
	free(data);
	c->out_len = sizeof(resp) + resp.len;
	c->out_off = 0;
	return 0;
}

static void client_rearm(struct control_client *c, int events)
{
	ev_io_stop(c->eng->loop, &c->io);
	ev_io_set(&c->io, c->fd, events);
	ev_io_start(c->eng->loop, &c->io);
	ev_timer_again(c->eng->loop, &c->idle);
}

/* Returns false when the client is gone. */
static bool client_write(struct control_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		if (n <= 0)
			return false;
		c->out_off += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	c->req_have = 0;
	return true;
}

static bool client_read(struct control_client *c)
{
	ssize_t n = sys_recv_nowait(c->fd, c->req + c->req_have, sizeof(c->req) - c->req_have);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	if (n == 0)
		return false;
	c->req_have += (size_t)n;
	if (c->req_have < sizeof(c->req))
		return true;
	if (answer(c))
		return false;
	return client_write(c);
}

static void on_client(struct ev_loop *loop, ev_io *w, int revents)
{
	struct control_client *c = w->data;
	bool ok;

	(void)loop;
	ok = (revents & EV_WRITE) ? client_write(c) : client_read(c);
	if (!ok) {
		client_close(c);
		return;
	}
	client_rearm(c, c->out ? EV_WRITE : EV_READ);
}

static void on_idle(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop, (void)revents;
	client_close(w->data);
}

/* Only our own user and root may look inside this process. */
static bool peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return false;
	return cred.uid == 0 || cred.uid == geteuid();
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct engine *e = w->data;
	struct control_server *srv = &e->control;
	struct control_client *c;
	int fd;

	(void)loop, (void)revents;
	while ((fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (srv->nclients >= CONTROL_MAX_CLIENTS || !peer_allowed(fd) ||
		    !(c = calloc(1, sizeof(*c)))) {
			sys_close(fd);
			continue;
		}
		c->eng = e;
		c->fd = fd;
		fdreg_add(fd); /* an application's closefrom() must not close it */
		ev_io_init(&c->io, on_client, fd, EV_READ);
		ev_init(&c->idle, on_idle);
		c->idle.repeat = CONTROL_IDLE_S;
		c->io.data = c->idle.data = c;
		LIST_INSERT_HEAD(&srv->clients, c, link);
		srv->nclients++;
		ev_io_start(e->loop, &c->io);
		ev_timer_again(e->loop, &c->idle);
	}
}

void control_start(struct engine *e)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd, n;

	n = snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1, CONTROL_NAME_PREFIX "%d",
		     (int)getpid());
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, len) || listen(fd, 16)) {
		/* mprds-info will not see this process; RDS itself is not affected. */
		log_info("no control socket @%s: %s", sun.sun_path + 1, strerror(errno));
		if (fd >= 0)
			sys_close(fd);
		return;
	}
	e->control.watch = calloc(1, sizeof(*e->control.watch));
	if (!e->control.watch) {
		sys_close(fd);
		return;
	}
	e->control.listen_fd = fd;
	fdreg_add(fd);
	ev_io_init(&e->control.watch->io, on_accept, fd, EV_READ);
	e->control.watch->io.data = e;
	ev_io_start(e->loop, &e->control.watch->io);
}

/* In a forked child (stale) the watchers are the parent's loop's: only the fds go. */
void control_stop(struct engine *e)
{
	struct control_server *srv = &e->control;
	bool live = e->loop && !e->stale;

	if (srv->listen_fd >= 0 && live)
		ev_io_stop(e->loop, &srv->watch->io);
	while (!LIST_EMPTY(&srv->clients)) {
		struct control_client *c = LIST_FIRST(&srv->clients);

		if (live) {
			ev_io_stop(e->loop, &c->io);
			ev_timer_stop(e->loop, &c->idle);
		}
		client_free(c);
	}
	if (srv->listen_fd >= 0)
		sys_close(srv->listen_fd);
	srv->listen_fd = -1;
	free(srv->watch);
	srv->watch = NULL;
}
