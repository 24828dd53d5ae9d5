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
#include "handover.h"
#include "mprds/api.h"
#include "mprds/log.h"
#include "mprds/snap.h"
#include "rendezvous.h"
#include "serve.h"

#define IN_CHUNK 65536 /* read as much at once: many queued sends in one recv */
#define READS_PER_TURN 16
/*
 * Queued sends served under one hold of the engine (api_batch_begin): few enough that the
 * loop thread, which writes them to TCP, is not kept waiting long.
 */
#define BATCH_MAX 64

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
	c->given_fd = -1;
	return c;
}

void client_free(struct client *c)
{
	sockets_let_go_all(&c->held);
	if (c->given_fd >= 0)
		close(c->given_fd);
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

	if (c->in_cap - c->in_len >= want)
		return true;
	in = realloc(c->in, c->in_len + want);
	if (!in)
		return false;
	c->in = in;
	c->in_cap = c->in_len + want;
	return true;
}

/* How many bytes the frame at the front of c->in needs in all: the hello, or a request. */
static size_t frame_need(const struct client *c)
{
	size_t have = c->in_len - c->in_off;

	if (!c->welcomed)
		return sizeof(struct rendezvous_hello);
	if (have < sizeof(struct ipc_req))
		return sizeof(struct ipc_req);
	return ipc_frame_len(c->in + c->in_off, have);
}

static bool answer_hello(struct client *c, const uint8_t *hello, unsigned nclients,
			 unsigned gen_num)
{
	struct rendezvous_welcome *w;

	if (handover_hello_is(hello, sizeof(struct rendezvous_hello))) {
		c->handover = true; /* no welcome: the daemon hands its state over (mprdsd.c) */
		return true;
	}
	if (!rendezvous_hello_ok(hello, sizeof(struct rendezvous_hello)))
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

/* Serves the whole frame of n bytes at the front of c->in and consumes it. */
static bool client_serve_frame(struct client *c, size_t n, const struct serve_ctx *ctx,
			       unsigned nclients, unsigned gen_num)
{
	const uint8_t *frame = c->in + c->in_off;
	struct ipc_call call;
	bool ok;

	if (!c->welcomed)
		ok = answer_hello(c, frame, nclients, gen_num);
	else
		ok = !ipc_call_parse(frame, n, &call) && serve_call(ctx, c, &call);
	if (!ok)
		log_warn("mprdsd: client %d (pid %d) sent what no client of ours sends: dropped",
			 c->fd, (int)c->pid);
	c->in_off += n;
	return ok;
}

/* Room for need more bytes after what c->in holds, unserved bytes moved to the front. */
static bool make_room(struct client *c, size_t need)
{
	size_t have = c->in_len - c->in_off;

	if (have)
		memmove(c->in, c->in + c->in_off, have);
	c->in_len = have;
	c->in_off = 0;
	return in_room(c, need > IN_CHUNK ? need : IN_CHUNK);
}

/*
 * Keeps the fd that came with a client's bytes (IPC_ATTACH's proof) in c->given_fd: one a
 * recv, the newest; an fd the client sent for nothing is closed by the next, or with it.
 */
static void keep_given_fd(struct client *c, struct msghdr *m)
{
	struct cmsghdr *cm;

	for (cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR(m, cm)) {
		size_t n;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			if (c->given_fd >= 0)
				close(c->given_fd);
			memcpy(&c->given_fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
		}
	}
}

/* recv() of what c sent, keeping an fd that came with it. */
static ssize_t recv_from_client(struct client *c)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { c->in + c->in_len, c->in_cap - c->in_len };
	struct msghdr m = { .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	ssize_t n = recvmsg(c->fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	if (n > 0 && m.msg_controllen)
		keep_given_fd(c, &m);
	return n;
}

/* Is the frame at the front of c->in a queued send? (It is whole: the caller checked.) */
static bool frame_is_queued_send(const struct client *c)
{
	struct ipc_req h;

	if (!c->welcomed)
		return false;
	memcpy(&h, c->in + c->in_off, sizeof(h));
	return h.op == IPC_SEND_QUEUED;
}

/*
 * Before serving the frame at the front of c->in: a run of queued sends holds the engine
 * once (api_batch_begin), up to BATCH_MAX of them; any other call is served outside it.
 * Returns the queued sends served in the current hold.
 */
static unsigned batch_step(const struct client *c, const struct serve_ctx *ctx, unsigned held)
{
	if (!frame_is_queued_send(c) || held >= BATCH_MAX) {
		api_batch_end(ctx->eng);
		held = 0;
	}
	if (!frame_is_queued_send(c))
		return 0;
	api_batch_begin(ctx->eng);
	return held + 1;
}

static bool read_and_serve(struct client *c, const struct serve_ctx *ctx, unsigned nclients,
			   unsigned gen_num)
{
	unsigned held = 0;

	for (int reads = 0;; reads++) {
		size_t need = frame_need(c);
		ssize_t n;

		if (!need)
			return false;
		/* Queued sends need no reply: serve all that came; a call's reply goes first. */
		if (c->in_len - c->in_off >= need) {
			held = batch_step(c, ctx, held);
			if (!client_serve_frame(c, need, ctx, nclients, gen_num))
				return false;
			if (client_has_output(c) || c->handover)
				return true;
			continue;
		}
		api_batch_end(ctx->eng); /* not across a system call */
		held = 0;
		/* one client may not hold the daemon for long: the others' turn comes */
		if (reads >= READS_PER_TURN || !make_room(c, need))
			return reads < READS_PER_TURN ? false : true;
		n = recv_from_client(c);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		if (n <= 0)
			return false;
		c->in_len += (size_t)n;
	}
}

bool client_read(struct client *c, const struct serve_ctx *ctx, unsigned nclients, unsigned gen_num)
{
	bool ok = read_and_serve(c, ctx, nclients, gen_num);

	api_batch_end(ctx->eng); /* before a client that is dropped lets go of its sockets */
	return ok;
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

void client_save(struct snap_out *o, const struct client *c)
{
	snap_fd(o, c->fd);
	snap_u32(o, c->uid);
	snap_u32(o, (uint32_t)c->pid);
	snap_u64(o, c->token);
	snap_u8(o, c->welcomed);
	snap_blob(o, c->in + c->in_off, (uint32_t)(c->in_len - c->in_off));
	snap_blob(o, c->out + c->out_off, (uint32_t)(c->out_len - c->out_off));
	snap_fd(o, c->pass_fd);
	snap_fd(o, c->given_fd);
	held_save(o, &c->held);
	snap_u64(o, c->queued_bound);
}

static bool copy_blob(struct snap_in *in, uint8_t **buf, size_t *len)
{
	const uint8_t *p;
	uint32_t n = snap_get_blob(in, &p, 4 * IPC_MAX_FRAME);

	*len = n;
	if (!n)
		return !in->bad;
	*buf = malloc(n);
	if (!*buf) {
		snap_fail(in, "out of memory");
		return false;
	}
	memcpy(*buf, p, n);
	return true;
}

struct client *client_load(struct snap_in *in)
{
	int fd = snap_get_fd(in);
	uid_t uid = snap_get_u32(in);
	pid_t pid = (pid_t)snap_get_u32(in);
	uint64_t token = snap_get_u64(in);
	struct client *c = fd >= 0 ? client_new(fd, uid, pid, token) : NULL;

	if (!c) {
		snap_fail(in, "a client without its channel, or out of memory");
		return NULL;
	}
	c->welcomed = snap_get_bool(in);
	if (copy_blob(in, &c->in, &c->in_len))
		c->in_cap = c->in_len;
	copy_blob(in, &c->out, &c->out_len);
	c->pass_fd = snap_get_fd(in);
	c->given_fd = snap_get_fd(in);
	held_load(in, &c->held);
	c->queued_bound = snap_get_u64(in);
	return c;
}
