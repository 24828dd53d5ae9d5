// SPDX-License-Identifier: MIT
/*
 * A client's channel: reading its requests whole, writing its one reply (client.h). Every
 * read and write is non-blocking; a client that sends more than one frame at a time or stops
 * reading only waits for itself.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "mprds/log.h"
#include "rendezvous.h"
#include "serve.h"

#define IN_START 4096

struct client *client_new(int fd, uid_t uid, pid_t pid, uint64_t token)
{
	struct client *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->fd = fd;
	c->uid = uid;
	c->pid = pid;
	c->token = token;
	c->pass_fd = -1;
	return c;
}

void client_free(struct client *c)
{
	sockets_let_go_all(&c->held);
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

void *client_reply_room(struct client *c, size_t size)
{
	void *out = realloc(c->out, size);

	if (!out)
		return NULL;
	c->out = out;
	c->out_len = size;
	c->out_off = 0;
	return out;
}

static bool in_room(struct client *c, size_t want)
{
	uint8_t *in;

	if (c->in_cap >= want)
		return true;
	in = realloc(c->in, want);
	if (!in)
		return false;
	c->in = in;
	c->in_cap = want;
	return true;
}

/* How many bytes the frame being read needs in all: the hello, or a request's header. */
static size_t frame_need(const struct client *c)
{
	if (!c->welcomed)
		return sizeof(struct rendezvous_hello);
	if (c->in_len < sizeof(struct ipc_req))
		return sizeof(struct ipc_req);
	return ipc_frame_len(c->in, c->in_len);
}

static bool answer_hello(struct client *c, unsigned nclients, unsigned gen_num)
{
	struct rendezvous_welcome *w;

	if (!rendezvous_hello_ok(c->in, sizeof(struct rendezvous_hello)))
		return false;
	w = client_reply_room(c, sizeof(*w));
	if (!w)
		return false;
	*w = (struct rendezvous_welcome){ .magic = RENDEZVOUS_MAGIC,
					  .version = RENDEZVOUS_VERSION,
					  .pid = (int)getpid(),
					  .gen_num = gen_num,
					  .clients = nclients,
					  .token = c->token };
	c->welcomed = true;
	return true;
}

/* The whole frame in c->in: serve it. */
static bool client_serve_frame(struct client *c, const struct serve_ctx *ctx, unsigned nclients,
			       unsigned gen_num)
{
	struct ipc_call call;
	bool ok;

	if (!c->welcomed)
		ok = answer_hello(c, nclients, gen_num);
	else
		ok = !ipc_call_parse(c->in, c->in_len, &call) && serve_call(ctx, c, &call);
	if (!ok)
		log_warn("mprdsd: client %d (pid %d) sent what no client of ours sends: dropped",
			 c->fd, (int)c->pid);
	c->in_len = 0;
	return ok;
}

bool client_read(struct client *c, const struct serve_ctx *ctx, unsigned nclients, unsigned gen_num)
{
	for (;;) {
		size_t need = frame_need(c);
		ssize_t n;

		if (!need || !in_room(c, need < IN_START ? IN_START : need))
			return false;
		if (c->in_len == need) {
			if (!client_serve_frame(c, ctx, nclients, gen_num))
				return false;
			return true; /* one reply at a time: the next request waits for its write */
		}
		n = recv(c->fd, c->in + c->in_len, need - c->in_len, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		if (n <= 0)
			return false;
		c->in_len += (size_t)n;
	}
}

static ssize_t send_first(struct client *c)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { c->out, c->out_len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	m.msg_control = cbuf;
	m.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &c->pass_fd, sizeof(int));
	return sendmsg(c->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
}

bool client_write(struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = c->pass_fd >= 0 ?
				    send_first(c) :
				    send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
					 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		if (n <= 0)
			return false;
		c->pass_fd = -1; /* the daemon keeps its own copy (sockets.c) */
		c->out_off += (size_t)n;
	}
	c->out_len = c->out_off = 0;
	return true;
}

bool client_has_output(const struct client *c)
{
	return c->out_off < c->out_len;
}
