// SPDX-License-Identifier: MIT
/*
 * Each client call becomes the api_* call the shim makes in-process, on an engine made with
 * never_block: where a call would wait, it returns at once with what it waits for
 * (api_would_wait), and the client waits on its own fd and calls again. The daemon so never
 * blocks for one client, and every errno is the one the in-process engine gives.
 */
#include <errno.h>
#include <linux/rds.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "mprds/api.h"
#include "mprds/clock.h"
#include "mprds/log.h"
#include "rendezvous.h"
#include "serve.h"

static struct ipc_rep *reply(struct client *c, size_t extra)
{
	struct ipc_rep *r = client_reply_room(c, sizeof(*r) + extra);

	if (r)
		*r = (struct ipc_rep){ .len = (uint32_t)(sizeof(*r) + extra) };
	return r;
}

/* A reply that is a return value only. */
static bool reply_ret(struct client *c, long ret)
{
	struct ipc_rep *r = reply(c, 0);

	if (!r)
		return false;
	r->ret = ret;
	r->wait = ret < 0 ? api_would_wait() : 0;
	return true;
}

/* The application's end says what it is (rendezvous_sock_name): see do_attach(). */
static void name_socket(const struct serve_ctx *ctx, int fd, uint32_t id)
{
	struct sockaddr_un sun;
	socklen_t len;

	if (rendezvous_sock_name(ctx->instance, id, &sun, &len) ||
	    bind(fd, (struct sockaddr *)&sun, len) < 0)
		log_warn("mprdsd: socket %u has no name: it cannot be passed between processes",
			 id);
}

static bool do_socket(const struct serve_ctx *ctx, struct client *c, const struct ipc_call *call)
{
	struct api_sock *s;
	struct ipc_rep *r;
	uint32_t id;
	int fd;

	if (c->held.n >= ctx->max_client_sockets)
		return reply_ret(c, -EMFILE);
	fd = api_socket(ctx->eng, call->h.flags, call->h.arg1, &s);
	if (fd < 0)
		return reply_ret(c, fd);
	id = sockets_add(s, fd);
	if (!id || sockets_hold(&c->held, id)) {
		if (id)
			sockets_let_go(&c->held, id);
		else
			api_release(s);
		return reply_ret(c, -ENOBUFS);
	}
	name_socket(ctx, fd, id);
	r = reply(c, 0);
	if (!r)
		return false;
	r->id = id;
	c->pass_fd = fd;
	return true;
}

/*
 * A client attaches a socket it got from another process: only if the fd it sent with the
 * call (SCM_RIGHTS, client.c) is that socket's, so that an id cannot be guessed into someone
 * else's socket. The fd itself is the proof: looking the client's fd up in /proc needs ptrace
 * rights over it, which the host's daemon under a user of its own has over no one else's.
 */
static bool do_attach(struct client *c, const struct ipc_call *call)
{
	int app_fd = sockets_app_fd(call->h.id), given = c->given_fd;
	struct stat ours, theirs;
	bool same;

	c->given_fd = -1;
	same = given >= 0 && app_fd >= 0 && !fstat(app_fd, &ours) && !fstat(given, &theirs) &&
	       ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino;
	if (given >= 0)
		close(given);
	if (!same)
		return reply_ret(c, -EBADF);
	return reply_ret(c, sockets_attach(&c->held, call->h.id));
}

static bool do_adopt(const struct serve_ctx *ctx, struct client *c, const struct ipc_call *call)
{
	struct client *parent;
	uint64_t token;

	if (call->datacount != sizeof(token))
		return false;
	memcpy(&token, call->data, sizeof(token));
	parent = ctx->client_by_token(ctx->arg, token);
	/* a fork shares its parent's sockets; nobody else may claim them */
	if (!parent || parent == c || parent->uid != c->uid)
		return reply_ret(c, -EPERM);
	for (unsigned i = 0; i < parent->held.n; i++)
		if (sockets_hold(&c->held, parent->held.h[i].id))
			return reply_ret(c, -ENOMEM);
	return reply_ret(c, 0);
}

/*
 * A call's name and control, copied out of the frame: its bytes are at any alignment, and the
 * core reads them as a sockaddr and as cmsghdrs.
 */
struct aligned_args {
	struct sockaddr_storage name;
	uint64_t control[IPC_MAX_CONTROL / sizeof(uint64_t)];
};

static const struct sockaddr *name_of(const struct ipc_call *call, struct aligned_args *a)
{
	memcpy(&a->name, call->name, call->h.namelen);
	return (const struct sockaddr *)&a->name;
}

/* The message a send call carries, as a msghdr over the frame's data and a's copies. */
static void message_of(const struct ipc_call *call, struct msghdr *m, struct iovec *iov,
		       struct aligned_args *a)
{
	static uint8_t nothing[1];

	*iov = (struct iovec){ (void *)call->data, call->datacount };
	/* too long to carry: the core refuses it by its length before it reads a byte */
	if (call->datacount < call->h.datalen)
		*iov = (struct iovec){ nothing, call->h.datalen };
	*m = (struct msghdr){ .msg_iov = iov, .msg_iovlen = 1 };
	if (call->h.namelen) {
		m->msg_name = (void *)name_of(call, a);
		m->msg_namelen = call->h.namelen;
	}
	if (call->h.ctllen) {
		memcpy(a->control, call->control, call->h.ctllen);
		m->msg_control = a->control;
		m->msg_controllen = call->h.ctllen;
	}
}

/* What c's sockets hold queued and may still send unasked, counted socket by socket. */
static size_t client_queued(struct client *c)
{
	size_t sum = 0;

	for (unsigned i = 0; i < c->held.n; i++) {
		struct api_sock *s = sockets_find(&c->held, c->held.h[i].id);

		if (s)
			sum += api_send_queued_bytes(s) + c->held.h[i].credit;
	}
	return sum;
}

/* The bytes c may still queue under MPRDS_CLIENT_MIB (counted again only when near it). */
static size_t client_room(const struct serve_ctx *ctx, struct client *c, size_t want)
{
	if (c->queued_bound + want > ctx->max_client_bytes)
		c->queued_bound = client_queued(c);
	return c->queued_bound < ctx->max_client_bytes ? ctx->max_client_bytes - c->queued_bound :
							 0;
}

/*
 * A sent message's reply tells the room left, which the client may spend without asking (it
 * replaces the room the last reply gave): the socket's, and no more than what is left of the
 * client's own under MPRDS_CLIENT_MIB, which counts the room given as queued. A client past
 * that gets ENOBUFS, as for a congested destination, until acknowledgements free room.
 */
static bool do_sendmsg(const struct serve_ctx *ctx, struct client *c, struct api_sock *s,
		       const struct ipc_call *call)
{
	struct hold *h = sockets_hold_of(&c->held, call->h.id);
	struct aligned_args a;
	struct iovec iov;
	struct msghdr m;
	ssize_t ret;
	size_t room;

	c->queued_bound -= h->credit < c->queued_bound ? h->credit : c->queued_bound;
	h->credit = 0;
	if (client_room(ctx, c, call->h.datalen) < call->h.datalen)
		return reply_ret(c, -ENOBUFS);
	message_of(call, &m, &iov, &a);
	ret = api_sendmsg(s, &m, call->h.flags);
	if (ret > 0)
		c->queued_bound += (size_t)ret;
	if (!reply_ret(c, ret))
		return false;
	if (ret >= 0) {
		room = client_room(ctx, c, 0);
		if ((long)room > api_send_room(s))
			room = (size_t)api_send_room(s);
		h->credit = room;
		c->queued_bound += room;
		((struct ipc_rep *)c->out)->optlen = (uint32_t)room;
	}
	return true;
}

static bool do_send_queued(struct client *c, struct api_sock *s, const struct ipc_call *call)
{
	struct hold *h = sockets_hold_of(&c->held, call->h.id);
	struct aligned_args a;
	struct iovec iov;
	struct msghdr m;
	ssize_t ret;

	message_of(call, &m, &iov, &a);
	ret = api_sendmsg_queued(s, &m, call->h.flags);
	/* the credit it was sent on is queued bytes now (the bound counted both already) */
	if (h)
		h->credit -= call->h.datalen < h->credit ? call->h.datalen : h->credit;
	if (ret < 0)
		log_warn("mprdsd: a message client pid %d counted as sent was refused: %s",
			 (int)c->pid, strerror((int)-ret));
	return true;
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

#define RECV_FLAGS_LENDABLE (MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC)

/* After a plain receive, what waits behind it goes to the client's cache (api_recv_lend). */
static void lend_to_cache(struct client *c, struct api_sock *s, const struct ipc_call *call,
			  struct ipc_rep *r, uint8_t *at)
{
	size_t room = min_size((unsigned)call->h.arg2, IPC_MAX_LEND), payload;
	struct hold *e = sockets_hold_of(&c->held, call->h.id);

	if (!room || (call->h.flags & ~RECV_FLAGS_LENDABLE) || !e)
		return;
	r->lentlen = (uint32_t)api_recv_lend(s, at, room, &r->lent, &payload);
	e->lent += r->lent;
	e->lent_bytes += payload;
}

static bool do_recvmsg(struct client *c, struct api_sock *s, const struct ipc_call *call)
{
	size_t room = min_size(call->h.datalen, IPC_MAX_DATA), names;
	uint8_t control[IPC_MAX_CONTROL];
	struct sockaddr_storage ss;
	struct ipc_rep *r = reply(c, room + sizeof(ss) + sizeof(control) + IPC_MAX_LEND);
	struct iovec iov;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	uint8_t *at;
	ssize_t ret;

	if (!r)
		return false;
	iov = (struct iovec){ r + 1, room };
	if (call->h.arg1) {
		m.msg_name = &ss;
		m.msg_namelen = sizeof(ss);
	}
	m.msg_control = call->h.ctlroom ? control : NULL;
	m.msg_controllen = call->h.ctlroom;
	ret = api_recvmsg(s, &m, call->h.flags);
	r->ret = ret;
	r->wait = ret < 0 ? api_would_wait() : 0;
	if (ret < 0) {
		r->len = sizeof(*r);
		c->out_len = r->len;
		return true;
	}
	r->datacount = (uint32_t)min_size((size_t)ret, room);
	r->msg_flags = m.msg_flags;
	r->namelen = m.msg_name ? m.msg_namelen : 0;
	names = min_size(r->namelen, min_size((unsigned)call->h.arg1, sizeof(ss)));
	r->ctllen = (uint32_t)min_size(m.msg_controllen, sizeof(control));
	at = (uint8_t *)(r + 1) + r->datacount;
	memcpy(at, &ss, names);
	memcpy(at + names, control, r->ctllen);
	lend_to_cache(c, s, call, r, at + names + r->ctllen);
	r->len = (uint32_t)(sizeof(*r) + r->datacount + names + r->ctllen + r->lentlen);
	c->out_len = r->len;
	return true;
}

static bool do_getname(struct client *c, struct api_sock *s, const struct ipc_call *call)
{
	struct sockaddr_storage ss;
	socklen_t len = (socklen_t)min_size((size_t)(unsigned)call->h.arg1, sizeof(ss));
	int ret = call->h.op == IPC_GETSOCKNAME ? api_getsockname(s, (struct sockaddr *)&ss, &len) :
						  api_getpeername(s, (struct sockaddr *)&ss, &len);
	size_t names = ret ? 0 : min_size(min_size(len, sizeof(ss)), (unsigned)call->h.arg1);
	struct ipc_rep *r = reply(c, names);

	if (!r)
		return false;
	r->ret = ret;
	r->namelen = ret ? 0 : len;
	memcpy(r + 1, &ss, names);
	return true;
}

/* RDS_INFO_* answer a positive count; a negative optlen is the core's to refuse. */
static bool do_getsockopt(struct client *c, struct api_sock *s, const struct ipc_call *call)
{
	socklen_t len = (socklen_t)call->h.datalen;
	size_t room = min_size(len, IPC_MAX_DATA);
	struct ipc_rep *r = reply(c, room);
	int ret;

	if (!r)
		return false;
	if ((int)len >= 0)
		len = (socklen_t)room;
	memcpy(r + 1, call->data, min_size(call->datacount, room));
	ret = api_getsockopt(s, call->h.arg1, call->h.arg2, call->h.flags ? NULL : r + 1, &len);
	r->ret = ret;
	r->optlen = len;
	r->datacount = ret < 0 ? 0 : (uint32_t)min_size(len, room);
	r->len = (uint32_t)(sizeof(*r) + r->datacount);
	c->out_len = r->len;
	return true;
}

static bool do_ioctl(struct client *c, struct api_sock *s, const struct ipc_call *call)
{
	uint8_t arg[IPC_IOCTL_ARG] = { 0 };
	unsigned long request = (unsigned)call->h.arg1;
	int ret;
	struct ipc_rep *r;

	memcpy(arg, call->data, min_size(call->datacount, sizeof(arg)));
	ret = api_ioctl(s, request, call->h.flags ? NULL : arg);
	r = reply(c, sizeof(arg));
	if (!r)
		return false;
	r->ret = ret;
	/* the one request that writes its argument back: SIOCRDSGETTOS, one byte */
	r->datacount = !ret && request == SIOCRDSGETTOS ? sizeof(arg) : 0;
	r->len = (uint32_t)(sizeof(*r) + r->datacount);
	c->out_len = r->len;
	memcpy(r + 1, arg, r->datacount);
	return true;
}

/* An option's value, copied out of the frame to memory the core may read as any type. */
static bool do_setsockopt(struct client *c, struct api_sock *s, const struct ipc_call *call)
{
	void *val = NULL;
	int ret;

	if (!call->h.flags) {
		val = malloc(call->datacount ? call->datacount : 1);
		if (!val)
			return reply_ret(c, -ENOMEM);
		memcpy(val, call->data, call->datacount);
	}
	ret = api_setsockopt(s, call->h.arg1, call->h.arg2, val,
			     (socklen_t)(val ? call->datacount : call->h.datalen));
	free(val);
	return reply_ret(c, ret);
}

static bool do_socket_call(const struct serve_ctx *ctx, struct client *c, struct api_sock *s,
			   const struct ipc_call *call)
{
	struct aligned_args a;

	switch (call->h.op) {
	case IPC_RELEASE:
		sockets_let_go(&c->held, call->h.id);
		return reply_ret(c, 0);
	case IPC_BIND:
		return reply_ret(c, api_bind(s, name_of(call, &a), call->h.namelen));
	case IPC_CONNECT:
		return reply_ret(c, api_connect(s, name_of(call, &a), call->h.namelen));
	case IPC_SENDMSG:
		return do_sendmsg(ctx, c, s, call);
	case IPC_SEND_QUEUED:
		return do_send_queued(c, s, call);
	case IPC_RECV_TAKEN:
		sockets_returned(&c->held, call->h.id, (unsigned)call->h.arg1, call->h.datalen);
		return true;
	case IPC_RECVMSG:
		return do_recvmsg(c, s, call);
	case IPC_GETSOCKNAME:
	case IPC_GETPEERNAME:
		return do_getname(c, s, call);
	case IPC_GETSOCKOPT:
		return do_getsockopt(c, s, call);
	case IPC_SETSOCKOPT:
		return do_setsockopt(c, s, call);
	case IPC_IOCTL:
		return do_ioctl(c, s, call);
	}
	return false;
}

bool serve_call(const struct serve_ctx *ctx, struct client *c, const struct ipc_call *call)
{
	struct api_sock *s;

	if (call->h.op == IPC_SOCKET)
		return do_socket(ctx, c, call);
	if (call->h.op == IPC_ADOPT)
		return do_adopt(ctx, c, call);
	if (call->h.op == IPC_ATTACH)
		return do_attach(c, call);
	if (call->h.op == IPC_PASSING) {
		if (sockets_find(&c->held, call->h.id))
			sockets_passing(call->h.id, clock_now() + IPC_PASSING_S);
		return true;
	}
	s = sockets_find(&c->held, call->h.id);
	if (!s && (call->h.op == IPC_SEND_QUEUED || call->h.op == IPC_RECV_TAKEN))
		return true; /* closed by another thread of the client meanwhile: as after close */
	if (!s)
		return reply_ret(c, -EBADF);
	return do_socket_call(ctx, c, s, call);
}
